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

# The report: a line per commit after the notifications.  With the worker
# synchronous, the commits at 1.0 s and 2.5 s swap at exactly frames
# 48000 and 120000; their warm-up RMS is the patch's (one sine at 0.2,
# then two); a commit with nothing staged fails with its reason.  The
# spectrogram marks each swap: a green line through the plot, on the
# column where sox puts that time's tick (58 - 1 + t / 4 s x 1200).
cat >"$work/report.hps" <<'HPS'
0.0 /patch/clear
    /patch/create osc1 sine
    /patch/set osc1 gain 0.2
    /patch/commit crossfade=0
1.0 /patch/create osc2 sine
    /patch/set osc2 freq 660
    /patch/set osc2 gain 0.2
    /patch/commit
2.5 /patch/delete osc2
    /patch/commit crossfade=20
3.0 /patch/commit
4.0 /end
HPS
out=$(./tools/hotpatch-render --sync --spectrogram "$work/report.png" \
      "$work/report.hps" "$work/report.wav" 2>/dev/null)
python3 - "$work/report.png" <<PY || { echo "$out"; exit 1; }
import re, struct, sys, zlib

lines = [l for l in """$out""".splitlines() if l.startswith("commit ")]
pattern = r"commit (\d+): primed in ([0-9.]+) ms, warm-up RMS ([0-9.]+), swapped at frame (\d+) \(([0-9.]+) s\)$"
want = [(0, "0.000", 0.2 / 2 ** 0.5), (48000, "1.000", 0.2), (120000, "2.500", 0.2 / 2 ** 0.5)]
assert len(lines) == 4, lines
gens = []
for line, (frame, secs, rms) in zip(lines, want):
    m = re.match(pattern, line)
    assert m, line
    gens.append(int(m.group(1)))
    assert int(m.group(4)) == frame and m.group(5) == secs, line
    assert 0 < float(m.group(2)) < 50, line
    assert abs(float(m.group(3)) - rms) < 0.01, "%s: RMS %.4f expected" % (line, rms)
assert gens == list(range(gens[0], gens[0] + 3)), gens
assert lines[3] == "commit at 3.000 s (line 11): failed: nothing staged to commit: create, delete, connect, disconnect or clear first, or give prime ops", lines[3]

def read_png(path):
    """An 8-bit RGB PNG (as libpng writes it) as rows of bytes."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + size]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert (depth, colour, interlace) == (8, 2, 0), (depth, colour, interlace)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + size
    raw, stride, rows, prev = zlib.decompress(idat), 3 * width, [], bytearray(3 * width)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 3] if i >= 3 else 0
            b, c = prev[i], prev[i - 3] if i >= 3 else 0
            p = a + b - c
            pred = [0, a, b, (a + b) // 2,
                    a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else b if abs(p - b) <= abs(p - c) else c][f]
            line[i] = (line[i] + pred) & 255
        rows.append(line)
        prev = line
    return width, height, rows

width, height, rows = read_png(sys.argv[1])
green = {}
for y, row in enumerate(rows):
    for x in range(width):
        if row[3 * x:3 * x + 3] == b"\x00\xff\x00":
            green[x] = green.get(x, 0) + 1
expected = [58 - 1 + round(t / 4.0 * (width - 144)) for t in (0.0, 1.0, 2.5)]
assert sorted(green) == expected, "marks at columns %s, expected %s" % (sorted(green), expected)
plot = height - 50 - 48
assert all(n == plot for n in green.values()), "mark heights %s, the plot %d rows" % (green, plot)
print("# hotpatch-render report: commits %s swapped at frames 0, 48000, 120000 (0, 1.000, 2.500 s), warm-up RMS %s; a commit with nothing staged reported failed; spectrogram %dx%d, swap marks at columns %s, %d rows each (the plot's)" % (
    gens, [re.match(pattern, l).group(3) for l in lines[:3]], width, height, sorted(green), plot))
PY

# The host's transport: a seq of 8 steps (values 0.1 .. 0.8, played
# straight into the output), division 1: with /tempo 120 from 0.25 s it
# steps every 24000 frames (0.5 s) from there; /transport stop at 2.1 s
# (beat 3.7) holds step 4 until /transport start at 3.0 s, from which the
# next beat comes 0.3 beats (7200 frames) later.  At /tempo 97.3 7 (from
# 0.5 s), 7 steps of one beat make a bar: step 1 comes back every bar,
# 7 x 60 / 97.3 s apart.
seq_script() { # tempo line, transport lines, steps
    printf '0.0 /patch/clear\n/patch/create seq seq\n/patch/set seq rate 0.01\n'
    printf '/patch/set seq division 1\n/patch/set seq steps %s\n' "$3"
    for k in $(seq 1 "$3"); do printf '/patch/set seq step%s 0.%s\n' "$k" "$k"; done
    printf '/patch/connect seq out\n/patch/commit crossfade=0\n%s\n%s\n10.0 /end\n' "$1" "$2"
}
seq_script "0.25 /tempo 120" $'2.1 /transport stop\n3.0 /transport start' 8 >"$work/tempo.hps"
seq_script "0.5 /tempo 97.3 7" "" 7 >"$work/bar.hps"
for name in tempo bar; do
    ./tools/hotpatch-render --sync --quiet "$work/$name.hps" "$work/$name.wav" 2>/dev/null
    sox "$work/$name.wav" -t f32 -c 1 "$work/$name.f32" remix 1
done
python3 - "$work/tempo.f32" "$work/bar.f32" <<'PY'
import array, math, sys

def steps(path):
    """(frame, value) at each change of the output."""
    x = array.array("f", open(path, "rb").read())
    return [(i, round(x[i], 4)) for i in range(1, len(x)) if abs(x[i] - x[i - 1]) > 1e-6]

got = steps(sys.argv[1])
want = [(36000, 0.2), (60000, 0.3), (84000, 0.4), (151200, 0.5), (175200, 0.6),
        (199200, 0.7), (223200, 0.8), (247200, 0.1)]
got = got[:len(want)]
assert len(got) == len(want) and all(abs(g[0] - w[0]) <= 1 and g[1] == w[1] for g, w in zip(got, want)), \
    "120 BPM steps at %s, expected %s" % (got, want)
print("# hotpatch-render /tempo 120: steps at frames %s (every 24000 from 0.25 s; held from /transport stop at 2.1 s to /transport start at 3.0 s, beat 3.7, so the next step 7200 frames later)" % [g[0] for g in got])

got = steps(sys.argv[2])
beat = 60 * 48000 / 97.3
want = [(24000 + math.ceil(k * beat), round(((k % 7) + 1) / 10, 4)) for k in range(1, 15)]
got = got[:len(want)]
assert len(got) == len(want) and all(abs(g[0] - w[0]) <= 1 and g[1] == w[1] for g, w in zip(got, want)), \
    "97.3 BPM steps at %s, expected %s" % (got, want)
bars = [f for f, v in got if v == 0.1]
print("# hotpatch-render /tempo 97.3 7: a step every %.2f frames (expected %.2f); step 1 again at frames %s: bars of %.5f s (7 x 60 / 97.3 = %.5f s)" % (
    (got[-1][0] - got[0][0]) / (len(got) - 1), beat, bars, (bars[1] - bars[0]) / 48000, 7 * 60 / 97.3))
PY

# Script lines of the transport refuse what they cannot do, with the line.
printf '1.0 /tempo 120\n0.5 /transport stop\n' >"$work/order.hps"
printf '0.0 /tempo 0\n' >"$work/slow.hps"
printf '0.0 /transport pause\n' >"$work/pause.hps"
for spec in "order.hps:2: /tempo and /transport lines come in time order" \
            "slow.hps:1: usage: /tempo BPM" "pause.hps:1: usage: /transport start|stop"; do
    if ./tools/hotpatch-render --quiet "$work/${spec%%:*}" "$work/x.wav" 2>"$work/err"; then
        echo "accepted: $(cat "$work/${spec%%:*}")"; exit 1
    fi
    grep -qF "$spec" "$work/err" || { cat "$work/err"; echo "expected: $spec"; exit 1; }
done
echo "# hotpatch-render: /tempo and /transport lines out of order or out of range refused with file:line"
