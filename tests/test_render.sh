#!/usr/bin/env bash
# hotpatch-render plays the README's demo script: every commit is primed
# and swapped (and says so), the WAV holds 11 s of sound, the chord held
# through a swap sounds on in a new timbre, and a script error names its
# line.
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

# The demo's eight-voice part: the C major chord (C4 E4 G4) held across
# hot swap 4 (8.0 s: square to saw in every voice) sounds on through it,
# its three pitches at one level before and after, with no dropout; and
# the swap is heard as a new timbre: the even harmonics a square lacks
# (C5 and E5, the second of C4 and E4) appear with the saw.
sox "$work/demo.wav" -t f32 -c 1 "$work/demo.f32" remix 1
report=$(python3 - "$work/demo.f32" <<'PY'
import array, math, sys

rate = 48000
x = array.array("f", open(sys.argv[1], "rb").read())

def db(t, f, n=9600):
    """Hann-windowed Goertzel level at f over n frames from t s (dBFS sine)."""
    s = x[int(t * rate):int(t * rate) + n]
    c = 2 * math.cos(2 * math.pi * f / rate)
    s1 = s2 = wsum = 0.0
    for i, v in enumerate(s):
        w = 0.5 - 0.5 * math.cos(2 * math.pi * i / (n - 1))
        s1, s2 = v * w + c * s1 - s2, s1
        wsum += w
    p = max(s1 * s1 + s2 * s2 - c * s1 * s2, 0.0)
    return 20 * math.log10(max(2 * math.sqrt(p) / wsum, 1e-9))

chord = {"C4": 261.63, "E4": 329.63, "G4": 392.0}
even = {"C5": 523.25, "E5": 659.26}
before = {k: db(7.75, f) for k, f in list(chord.items()) + list(even.items())}
after = {k: db(8.15, f) for k, f in list(chord.items()) + list(even.items())}
win = rate // 50
span = x[int(7.6 * rate):int(8.9 * rate)]
rms = [math.sqrt(sum(v * v for v in span[i:i + win]) / win) for i in range(0, len(span) - win + 1, win)]
mean = sum(rms) / len(rms)
fail = []
for k in chord:
    if not (before[k] > -30 and after[k] > -30 and abs(after[k] - before[k]) < 3):
        fail.append("%s at %.1f dB before the swap, %.1f after" % (k, before[k], after[k]))
for k in even:
    if not (before[k] < -60 and after[k] > -40):
        fail.append("%s (an even harmonic) at %.1f dB before the swap, %.1f after" % (k, before[k], after[k]))
if min(rms) < 0.5 * mean:
    fail.append("a 20 ms window at RMS %.3f around the swap (mean %.3f)" % (min(rms), mean))
print("chord %s dB before the swap, %s after; even harmonics %s -> %s dB; quietest 20 ms from 7.6 to 8.9 s at RMS %.3f (mean %.3f)" % (
    "/".join("%.1f" % before[k] for k in chord), "/".join("%.1f" % after[k] for k in chord),
    "/".join("%.0f" % before[k] for k in even), "/".join("%.0f" % after[k] for k in even), min(rms), mean))
for f in fail:
    print("FAIL " + f)
PY
)
if grep -q '^FAIL' <<<"$report"; then
    echo "$report"; echo "the demo's chord does not sound on through the swap as it should"; exit 1
fi
echo "# hotpatch-render: demo, C4/E4/G4 held through hot swap 4: $report"

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

# --input plays the effect on a file: a 50 ms burst of 1 kHz through a
# 250 ms delay of feedback 0.5, mix 0.5: the burst at half its level, then
# echoes at half and a quarter, 250 ms apart.  A file at another rate is
# refused with the way out.
sox -n -r 48000 -c 2 -b 32 -e float "$work/burst.wav" synth 0.05 sine 1000 pad 0 0.95
printf '0.0 /patch/clear\n/patch/create in input\n/patch/create d delay\n/patch/set d time 250\n/patch/set d feedback 0.5\n/patch/set d mix 0.5\n/patch/connect in d\n/patch/commit crossfade=0\n' >"$work/echo.hps"
./tools/hotpatch-render --sync --quiet --input "$work/burst.wav" "$work/echo.hps" "$work/echo.wav" 2>/dev/null
levels=$(for t in 0 0.25 0.5 0.1; do
    sox "$work/echo.wav" -n trim $t 0.05 stat 2>&1 | awk '/RMS     amplitude/ {print $3}'; done | tr '\n' ' ')
python3 - $levels <<'PY' || { echo "--input echo: RMS $levels"; exit 1; }
import sys
dry, e1, e2, gap = map(float, sys.argv[1:])
s = 2 ** -0.5  # a full-scale sine's RMS
assert abs(dry - 0.5 * s) < 1e-3 and abs(e1 - 0.5 * s) < 1e-3, (dry, e1)
assert abs(e2 - 0.25 * s) < 1e-3 and gap < 1e-6, (e2, gap)
PY
sox "$work/burst.wav" -r 44100 "$work/burst44.wav"
if ./tools/hotpatch-render --quiet --input "$work/burst44.wav" "$work/echo.hps" "$work/x.wav" 2>"$work/err"; then
    echo "--input at 44100 Hz accepted at 48000"; exit 1
fi
grep -q "is at 44100 Hz: render at its rate (--rate 44100)" "$work/err" || { cat "$work/err"; exit 1; }
echo "# hotpatch-render --input: the effect's echoes of a file at RMS $levels(dry, 250 ms, 500 ms, between); a file at another rate refused"
