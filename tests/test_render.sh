#!/usr/bin/env bash
# hotpatch-render plays the README's demo script: every commit is primed
# and swapped (and says so), the WAV holds 11 s of sound, and a script
# error names its line.
set -euo pipefail
src=${HP_SRC:?run through ./waf test}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

out=$(./tools/hotpatch-render --bundle "$HP_BUNDLE" --spectrogram "$work/demo.png" \
      "$src/examples/demo.hps" "$work/demo.wav")
primed=$(grep -c "primed generation" <<<"$out" || true)
swapped=$(grep -c "swapped to generation" <<<"$out" || true)
if [ "$primed" -ne 5 ] || [ "$swapped" -ne 5 ] || grep -q error <<<"$out"; then
    echo "$out"; echo "expected 5 primes and 5 swaps, no error"; exit 1
fi
[ -s "$work/demo.png" ]
stats=$(sox "$work/demo.wav" -n stat 2>&1)
length=$(awk '/Length \(seconds\)/ {print $3}' <<<"$stats")
rms=$(awk '/RMS     amplitude/ {print $3}' <<<"$stats")
peak=$(awk '/Maximum amplitude/ {print $3}' <<<"$stats")
python3 - "$length" "$rms" "$peak" <<'PY'
import sys
length, rms, peak = map(float, sys.argv[1:])
assert abs(length - 11.0) < 0.01, "length %s s" % length
assert rms > 0.05, "rms %s" % rms
assert peak < 1.0, "peak %s" % peak
PY
echo "# hotpatch-render: demo script, 5 commits primed and swapped, 11 s WAV at RMS $rms, peak $peak, spectrogram drawn"

# The seed's lines work verbatim; a bad line is refused with its number.
printf '0.0 /patch/clear\n/patch/create osc1 simple_sine\n/patch/commit\n0.5 /patch/bogus x\n' >"$work/bad.hps"
if ./tools/hotpatch-render --bundle "$HP_BUNDLE" "$work/bad.hps" "$work/bad.wav" 2>"$work/err"; then
    echo "a bad script was accepted"; exit 1
fi
grep -q "bad.hps:4: column 1: unknown command '/patch/bogus'" "$work/err" || { cat "$work/err"; exit 1; }
echo "# hotpatch-render: a bad script line is refused with file:line"

# Which bundle: the one built with it, not one found on LV2_PATH (here a
# broken copy, which would fail to load), named on stderr; --bundle
# overrides.
mkdir -p "$work/decoy"
cp -r "$HP_BUNDLE" "$work/decoy/"
: >"$work/decoy/hotpatch.lv2/hotpatch.so"
printf '0.0 /patch/clear\n/patch/create osc1 sine\n/patch/commit\n0.1 /end\n' >"$work/short.hps"
if ! env -u HP_BUNDLE LV2_PATH="$work/decoy" ./tools/hotpatch-render --quiet \
     "$work/short.hps" "$work/short.wav" 2>"$work/err"; then
    cat "$work/err"; echo "the default bundle did not load"; exit 1
fi
want="hotpatch-render: bundle $(realpath "$HP_BUNDLE")"
[ "$(cat "$work/err")" = "$want" ] || {
    cat "$work/err"; echo "expected exactly: $want"; exit 1; }
if ./tools/hotpatch-render --quiet --bundle "$work/decoy/hotpatch.lv2" \
   "$work/short.hps" "$work/short.wav" 2>"$work/err"; then
    echo "--bundle did not load the (broken) bundle it names"; exit 1
fi
grep -qx "hotpatch-render: bundle $work/decoy/hotpatch.lv2" "$work/err" || {
    cat "$work/err"; exit 1; }
echo "# hotpatch-render: loads its own bundle, not LV2_PATH's, and says which; --bundle overrides"

# The output format follows the extension; --format picks the sample format.
printf '0.0 /patch/clear\n/patch/create osc1 sine\n/patch/set osc1 gain 0.2\n/patch/commit\n2.0 /end\n' >"$work/tone.hps"
for spec in "tone.wav::wav:32:Floating Point PCM" "tone.flac::flac:24:FLAC" \
            "tone16.wav:pcm16:wav:16:Signed Integer PCM" \
            "tone24.flac:pcm24:flac:24:FLAC" "tone.ogg::vorbis:-:Vorbis"; do
    IFS=: read -r file format type bits encoding <<<"$spec"
    ./tools/hotpatch-render --sync --quiet ${format:+--format $format} \
        "$work/tone.hps" "$work/$file" 2>/dev/null
    got="$(soxi -t "$work/$file"):$(soxi -b "$work/$file" | sed 's/^0$/-/'):$(soxi -e "$work/$file")"
    [ "$got" = "$type:$bits:$encoding" ] || { echo "$file: $got, expected $type:$bits:$encoding"; exit 1; }
    rms=$(sox "$work/$file" -n trim 0.1 1.8 stat 2>&1 | awk '/RMS     amplitude/ {print $3}')
    python3 -c "import sys; r = float(sys.argv[1]); assert abs(r - 0.2 / 2 ** 0.5) < 0.002, r" "$rms" || {
        echo "$file: RMS $rms, expected 0.1414"; exit 1; }
    echo "# hotpatch-render: $file${format:+ (--format $format)}: $got, RMS $rms"
done
if ./tools/hotpatch-render --format float "$work/tone.hps" "$work/tone.flac" 2>"$work/err"; then
    echo "FLAC accepted 32-bit float"; exit 1
fi
grep -q "flac cannot hold 32-bit float" "$work/err" || { cat "$work/err"; exit 1; }
