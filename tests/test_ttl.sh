#!/usr/bin/env bash
# The bundle's Turtle validates against the installed LV2 schemas
# (lv2_validate from lv2-dev runs sord_validate with all of them), and
# lilv sees the plugin with the ports and features the README lists.
set -euo pipefail
bundle=${HP_BUNDLE:?run through ./waf test}
cd "$bundle"
files=(manifest.ttl hotpatch.ttl hp.ttl modules.ttl presets/*.ttl)
files=("${files[@]/#/$bundle/}")
existing=()
for f in "${files[@]}"; do [ -e "$f" ] && existing+=("$f"); done
out=$(lv2_validate "${existing[@]}" 2>&1) || { echo "$out"; exit 1; }
# sord_validate may exit 0 with errors or warnings reported: require none.
if ! grep -q '^Found 0 errors' <<<"$out" || grep -Ei 'warning|^error' <<<"$out"; then
    echo "$out" | grep -v '^Skipping'
    exit 1
fi
echo "# lv2_validate: ${#existing[@]} files clean"

# A folder holding only our bundle, beside the system's LV2 schemas.
lv2dir=$(mktemp -d)
trap 'rm -rf "$lv2dir"' EXIT
ln -s "$bundle" "$lv2dir/"
info=$(LV2_PATH="$lv2dir:/usr/lib/lv2" lv2info urn:hotpatch:synth 2>&1)
for want in "Class:             Instrument Plugin" "urn:hotpatch:synth" \
            "http://lv2plug.in/ns/ext/urid#map" "http://lv2plug.in/ns/ext/worker#schedule" \
            "http://lv2plug.in/ns/ext/worker#interface" \
            "Symbol:      control" "Symbol:      notify" "Symbol:      out_l" \
            "Symbol:      out_r" "Symbol:      gain" "Symbol:      crossfade" \
            "Symbol:      scene" "Symbol:      macro8" "Symbol:      swaps"; do
    grep -qF -- "$want" <<<"$info" || { echo "lv2info lacks: $want"; echo "$info"; exit 1; }
done
# Both ways hosts find the control port.
grep -q 'lv2:designation lv2:control' "$bundle/hotpatch.ttl"
grep -q 'atom:supports midi:MidiEvent , patch:Message' "$bundle/hotpatch.ttl"
# Only lv2_descriptor is exported.
exports=$(nm -D --defined-only "$bundle/hotpatch.so" | awk '$2 ~ /[TDBR]/ {print $3}')
[ "$exports" = "lv2_descriptor" ] || { echo "exported: $exports"; exit 1; }
echo "# lv2info: instrument with 18 ports; only lv2_descriptor exported"
