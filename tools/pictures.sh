#!/usr/bin/env bash
# The README's pictures of patches ("Pictures of a patch"): the
# instrument's default patch and two presets, drawn by hotpatch-render
# --graph (Graphviz's dot makes the SVG).  './waf pictures' draws them into
# docs/pictures/; tests/test_graph.sh draws them elsewhere and compares.
#   tools/pictures.sh HOTPATCH-RENDER DIR
set -euo pipefail
render=$1
dir=$2
presets="$(cd "$(dirname "$0")/.." && pwd)/presets"
mkdir -p "$dir"
"$render" --quiet --graph "$dir/default.svg"
for preset in acid dreampad; do
    "$render" --quiet --graph "$dir/$preset.svg" "$presets/$preset.hps"
done
