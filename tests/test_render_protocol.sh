#!/usr/bin/env bash
# Every text form of the README's protocol table ("| text form | atom |
# effect |"), and /control, played through hotpatch-render in one script;
# each line must be accepted, and each form's effect is measured on what it
# wrote (pitch, RMS, per channel, in a window after the line's time):
# require_signal refuses a silent warm-up and passes a primed one, set moves
# the pitch live, gate releases and retriggers, a macro moves a cutoff with
# the macro control, out:left reaches only the left channel and delete takes
# it away, abort drops a staged delete, clear replaces the patch, voices
# let two held notes sound at once, and a control takes effect at its own
# time, not before.
set -euo pipefail
src=${HP_SRC:?run through ./waf test}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The table's text forms, each checked below: a new README row without a
# check fails here.
forms=$(awk -F'|' '/^\| text form \| atom \| effect \|/ {t = 1; next}
                   t && /^\|---/ {next}
                   t && /^\|/ {gsub(/^[ `]+|[ `]+$/, "", $2); if ($2 != "") print $2; next}
                   t {exit}' "$src/README.md")
checked="/patch/create osc1 simple_sine
/patch/delete osc1
/patch/connect osc1 env1
/patch/disconnect osc1 env1
/patch/set osc1 freq 440
/patch/gate env1 1
/patch/prime env1 gate 1
/patch/commit warmup=8 crossfade=20 require_signal
/patch/abort
/patch/clear
/patch/macro 1 filt1:cutoff 200 8000 exp
/patch/voices 8
/patch/revert 1 quant=bar
/patch/history"
if [ "$forms" != "$checked" ]; then
    echo "the README's protocol table has these text forms:"; echo "$forms"
    echo "this test checks:"; echo "$checked"; exit 1
fi

cat >"$work/protocol.hps" <<'EOF'
# require_signal: a warm-up with the envelope's gate closed is silent: refused.
0.0  /patch/clear
     /patch/create osc1 simple_sine
     /patch/create env1 adsr
     /patch/connect osc1 env1
     /patch/commit require_signal
# The same with the gate primed open: accepted; 440 Hz.
0.1  /patch/clear
     /patch/create osc1 simple_sine
     /patch/set osc1 freq 440
     /patch/set osc1 gain 0.3
     /patch/create env1 adsr
     /patch/connect osc1 env1
     /patch/prime env1 gate 1
     /patch/commit warmup=8 crossfade=20 require_signal
# Live set: 660 Hz.
1.0  /patch/set osc1 freq 660
# Gate off (release 300 ms), then on again.
2.0  /patch/gate env1 0
3.0  /patch/gate env1 1
# A filter between them, its cutoff on macro 1 (200..8000 Hz), to the sink.
4.0  /patch/create filt1 biquad
     /patch/disconnect osc1 env1
     /patch/connect osc1:out filt1:in
     /patch/connect filt1 env1:in
     /patch/connect env1 out
     /patch/macro 1 filt1:cutoff 200 8000 exp
     /patch/commit crossfade=20
4.0  /control macro1 0
5.0  /control macro1 1
# A 1 kHz sine into the left channel only; then deleted.
6.0  /patch/create osc2 sine
     /patch/set osc2 freq 1000
     /patch/set osc2 gain 0.3
     /patch/connect osc2 out:left
     /patch/commit
7.0  /patch/delete osc2
     /patch/commit
# A staged delete of osc1, aborted: the next commit keeps osc1.
8.0  /patch/delete osc1
     /patch/abort
8.5  /patch/create spare sine
     /patch/set spare gain 0
     /patch/commit
# Clear: a new patch, 220 Hz; and eight voices of a sine on the notes:
# two notes held at once, A4 and E5, both sound.
9.0  /patch/clear
     /patch/voices 8
     /patch/create n1 sine
     /patch/set n1 freq 220
     /patch/set n1 gain 0.3
     /patch/create midi midi
     /patch/create v sine
     /patch/set v gain 0.2
     /patch/connect midi:freq v:freq
     /patch/commit
9.05 /midi/on 69 100
9.05 /midi/on 76 100
# The gain control at frame 480048 (48 frames into a block of 256), and
# only from then.
10.001 /control gain -90
11.0 /end
EOF
# The reference: the same without the gain line.
grep -v "^10.001 /control gain" "$work/protocol.hps" >"$work/reference.hps"

if ! out=$(./tools/hotpatch-render --sync --bundle "$HP_BUNDLE" \
           "$work/protocol.hps" "$work/protocol.wav" 2>"$work/err"); then
    cat "$work/err"; echo "$out"; echo "the script was refused"; exit 1
fi
errors=$(grep -c " error (message" <<<"$out" || true)
if [ "$errors" -ne 1 ] || ! grep -q "error (message 5): warm-up was silent" <<<"$out"; then
    echo "$out"; echo "expected one error: the silent warm-up of message 5"; exit 1
fi
./tools/hotpatch-render --sync --quiet --bundle "$HP_BUNDLE" \
    "$work/reference.hps" "$work/reference.wav" 2>/dev/null >/dev/null
sox "$work/protocol.wav" -t f32 -c 1 "$work/left.f32" remix 1
sox "$work/protocol.wav" -t f32 -c 1 "$work/right.f32" remix 2
sox "$work/reference.wav" -t f32 -c 1 "$work/reference.f32" remix 1

python3 - "$work/left.f32" "$work/right.f32" "$work/reference.f32" <<'PY'
import array, math, sys

RATE = 48000


def load(path):
    a = array.array("f")
    with open(path, "rb") as f:
        a.frombytes(f.read())
    return a


left, right, reference = map(load, sys.argv[1:4])
assert len(left) == 11 * RATE, "length %d frames" % len(left)


def rms(x, t0, t1):
    w = x[round(t0 * RATE):round(t1 * RATE)]
    return math.sqrt(sum(v * v for v in w) / len(w))


def pitch(x, t0, t1):
    w = x[round(t0 * RATE):round(t1 * RATE)]
    ups = [i + w[i] / (w[i] - w[i + 1])
           for i in range(len(w) - 1) if w[i] < 0 <= w[i + 1]]
    return (len(ups) - 1) * RATE / (ups[-1] - ups[0]) if len(ups) > 1 else 0.0


failed = []


def check(what, ok, figure):
    print("# %-58s %s" % (what, figure))
    if not ok:
        failed.append(what)


def near(x, want, tol):
    return abs(x - want) <= tol


def db(a, b):
    return 20 * math.log10(max(a, 1e-12) / max(b, 1e-12))


def level(x, t0, t1, f):
    """Hann-windowed Goertzel: the amplitude of the component at f."""
    w = x[round(t0 * RATE):round(t1 * RATE)]
    n, c = len(w), 2 * math.cos(2 * math.pi * f / RATE)
    s1 = s2 = wsum = 0.0
    for i, v in enumerate(w):
        h = 0.5 - 0.5 * math.cos(2 * math.pi * i / (n - 1))
        s1, s2 = v * h + c * s1 - s2, s1
        wsum += h
    return 2 * math.sqrt(max(s1 * s1 + s2 * s2 - c * s1 * s2, 0.0)) / wsum


r = rms(left, 0.3, 0.9)
p = pitch(left, 0.3, 0.9)
check("require_signal commit (primed gate): 440 Hz plays",
      near(p, 440, 0.5) and r > 0.1, "%.2f Hz, RMS %.4f" % (p, r))
p = pitch(left, 1.1, 1.9)
check("live set freq 660", near(p, 660, 0.5), "%.2f Hz" % p)
r_off, r_on = rms(left, 2.5, 2.95), rms(left, 3.2, 3.9)
check("gate 0 releases (300 ms), gate 1 plays again",
      r_off < 1e-4 and r_on > 0.1, "RMS %.6f then %.4f" % (r_off, r_on))
lo, hi = rms(left, 4.3, 4.95), rms(left, 5.3, 5.95)
check("macro 1 at 0 then 1: cutoff 200 Hz then 8 kHz on 660 Hz",
      db(hi, lo) > 15, "RMS %.4f then %.4f: %+.1f dB" % (lo, hi, db(hi, lo)))
pl, pr = pitch(left, 6.2, 6.9), pitch(right, 6.2, 6.9)
dl = db(rms(left, 6.2, 6.9), rms(left, 5.3, 5.95))
check("osc2 into out:left: left only", dl > 1.0 and near(pr, 660, 0.5),
      "left %+.1f dB (%.0f Hz crossings), right %.2f Hz" % (dl, pl, pr))
dl = db(rms(left, 7.2, 7.9), rms(right, 7.2, 7.9))
check("delete osc2: left equals right again", abs(dl) < 0.01,
      "left - right %+.3f dB" % dl)
r = rms(left, 8.6, 8.95)
p = pitch(left, 8.6, 8.95)
check("abort dropped the staged delete: osc1 plays on",
      r > 0.1 and near(p, 660, 0.5), "%.2f Hz, RMS %.4f" % (p, r))
a = [level(left, 9.2, 9.9, f) for f in (220, 440, 659.26)]
check("clear and a new patch: 220 Hz", near(a[0], 0.3, 0.01), "amplitude %.3f" % a[0])
check("voices 8: A4 and E5 held at once both sound",
      near(a[1], 0.2, 0.01) and near(a[2], 0.2, 0.01),
      "amplitudes %.3f and %.3f" % (a[1], a[2]))
before, after = rms(left, 9.2, 10.0), rms(left, 10.3, 10.95)
check("/control gain -90 at 10.001 s: sound until then, silence from 10.3 s",
      before > 0.1 and db(after, before) < -80,
      "RMS %.4f, then %+.1f dB" % (before, db(after, before)))
# Its frame: the first where the output leaves the reference render's.
at = round(10.001 * RATE)
moved = next((i for i in range(9 * RATE, len(left))
              if abs(left[i] - reference[i]) > 1e-3 * abs(reference[i]) + 1e-7),
             None)
check("... from its own frame (%d), not its block's" % at,
      moved is not None and at <= moved <= at + 1, "frame %s" % moved)
sys.exit(1 if failed else 0)
PY
# Revert and history: A (440 Hz), B (660 Hz), revert (with quant=bar but
# no tempo: at once) to A, revert again to B; the history printed lists
# B, A, B, A and the default patch.
cat >"$work/revert.hps" <<'EOF'
0.0  /patch/clear
     /patch/create a sine
     /patch/set a freq 440
     /patch/set a gain 0.3
     /patch/connect a out
     /patch/commit crossfade=0
0.5  /patch/delete a
     /patch/create b sine
     /patch/set b freq 660
     /patch/set b gain 0.3
     /patch/connect b out
     /patch/commit crossfade=0
1.0  /patch/revert 1 quant=bar crossfade=0
1.5  /patch/revert crossfade=0
     /patch/history
2.0  /end
EOF
if ! out=$(./tools/hotpatch-render --sync --bundle "$HP_BUNDLE" \
           "$work/revert.hps" "$work/revert.wav" 2>"$work/err"); then
    cat "$work/err"; echo "$out"; echo "the revert script was refused"; exit 1
fi
# The history printed: B (the last commit), A, B, A, then the default patch.
heads=$(sed -n '/ s  history:$/,/^commit /p' <<<"$out" | grep -c '^# [0-9]')
if [ "$heads" -ne 5 ] || ! grep -q '^# 0 (the last commit)$' <<<"$out"; then
    echo "$out"; echo "the history printed $heads patches, want 5"; exit 1
fi
sox "$work/revert.wav" -t f32 -c 1 "$work/revert.f32" remix 1
python3 - "$work/revert.f32" <<'PY'
import array, sys
RATE = 48000
x = array.array("f")
with open(sys.argv[1], "rb") as f:
    x.frombytes(f.read())


def pitch(t0, t1):
    w = x[round(t0 * RATE):round(t1 * RATE)]
    ups = [i + w[i] / (w[i] - w[i + 1])
           for i in range(len(w) - 1) if w[i] < 0 <= w[i + 1]]
    return (len(ups) - 1) * RATE / (ups[-1] - ups[0]) if len(ups) > 1 else 0.0


got = [pitch(t, t + 0.4) for t in (0.05, 0.55, 1.05, 1.55)]
print("# revert: A, B, revert 1 quant=bar (no tempo: at once), revert: "
      + ", ".join("%.2f Hz" % p for p in got))
sys.exit(0 if all(abs(p - w) < 0.5 for p, w in zip(got, (440, 660, 440, 660)))
         else 1)
PY
echo "# hotpatch-render: every text form of the README's protocol table accepted and measured"
