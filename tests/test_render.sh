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
