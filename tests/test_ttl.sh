#!/usr/bin/env bash
# The bundle's Turtle validates against the installed LV2 schemas
# (lv2_validate from lv2-dev runs sord_validate with all of them), and
# lilv sees both plugins with the ports, features and presets the README
# lists.
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
# Both plugins: the ports and features they share, the effect's audio
# inputs, and each one's presets (the effect's Tremolo is its own alone).
shared=("http://lv2plug.in/ns/ext/urid#map" "http://lv2plug.in/ns/ext/worker#schedule"
        "http://lv2plug.in/ns/ext/worker#interface" "Author:            hotpatch developers"
        "Symbol:      control" "Symbol:      notify" "Symbol:      out_l"
        "Symbol:      out_r" "Symbol:      gain" "Symbol:      crossfade"
        "Symbol:      scene" "Symbol:      macro8" "Symbol:      swaps")
declare -A want=(
    [urn:hotpatch:synth]="Class:             Instrument Plugin|Name:              hotpatch|Keys"
    [urn:hotpatch:fx]="Class:             Plugin|Name:              hotpatch fx|Tremolo|Symbol:      in_l|Symbol:      in_r")
declare -A ports=([urn:hotpatch:synth]=19 [urn:hotpatch:fx]=21)
for uri in urn:hotpatch:synth urn:hotpatch:fx; do
    info=$(LV2_PATH="$lv2dir:/usr/lib/lv2" lv2info "$uri" 2>&1)
    IFS='|' read -r -a own <<<"${want[$uri]}"
    for w in "${shared[@]}" "${own[@]}"; do
        grep -qF -- "$w" <<<"$info" || { echo "lv2info $uri lacks: $w"; echo "$info"; exit 1; }
    done
    n=$(grep -c '^	Port [0-9]*:$' <<<"$info")
    [ "$n" = "${ports[$uri]}" ] || { echo "lv2info $uri: $n ports, want ${ports[$uri]}"; exit 1; }
done
info=$(LV2_PATH="$lv2dir:/usr/lib/lv2" lv2info urn:hotpatch:synth 2>&1)
if grep -qE 'Tremolo|Symbol:      in_' <<<"$info"; then
    echo "lv2info urn:hotpatch:synth shows the effect's inputs or preset"; exit 1
fi
# Both ways hosts find the control port, and the host's transport on it;
# the shared description is in both plugins' entries.
# (lv2:control designates control and notify).
for w in 'lv2:designation lv2:control|4' 'atom:supports midi:MidiEvent , patch:Message , time:Position|2'; do
    n=$(grep -cF -- "${w%|*}" "$bundle/hotpatch.ttl")
    [ "$n" = "${w#*|}" ] || { echo "hotpatch.ttl has '${w%|*}' $n times, want ${w#*|}"; exit 1; }
done
# Only lv2_descriptor is exported.
exports=$(nm -D --defined-only "$bundle/hotpatch.so" | awk '$2 ~ /[TDBR]/ {print $3}')
[ "$exports" = "lv2_descriptor" ] || { echo "exported: $exports"; exit 1; }
echo "# lv2info: the instrument with 19 ports, the effect with 21 (in_l, in_r) and its preset Tremolo; only lv2_descriptor exported"
