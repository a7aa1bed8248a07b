#!/usr/bin/env bash
# plain build only: a plugin built with sanitizers cannot load into an uninstrumented host; the sanitizer runs cover the plugin through our own host
# A real host: jalv 1.6.6 on jackd2's dummy driver.  Starts a private JACK
# server, runs console jalv with the built bundle, loads a preset (the
# seed-chain preset when jalv lists it, HP_JALV_PRESET to choose another,
# else the default patch), plays notes from jack_midiseq, records both
# outputs with jack_rec and checks the sound: there, bounded, gated by the
# notes, and at the pitch of each note.  Then the Scene control against
# presets and reloads (jalv -l): control and sound agree, and Bass (one
# scene) logs nothing with the control on 1; and a chord on the
# eight-voice preset Keys: all three pitches sound at once, at one level.
# Then the effect (urn:hotpatch:fx) between jack_simple_client's two tones
# and jack_rec: its default patch passes them through sample for sample,
# its preset Tremolo swings their level.
#
#   HP_JALV_PRESET=URI  load this preset instead ("none": the default patch);
#                       it must play the notes' pitch (not drone, seed-sine,
#                       scenes: they ignore the note; pluck starts with noise)
#   HP_JALV_KEEP=1      keep the work folder (recording, logs) and say where
#
# jalv 1.6.6's console does not print control outputs as they change (-p
# needs its update loop, which the stdin prompt never runs): the test asks
# with the `monitors` command.  jalv sends time:Position to every atom
# input; the plugin must ignore it quietly: anything it logs fails the test.
set -euo pipefail
# The whole test is bounded: run again under timeout, which signals this
# script (and, as a last resort, what it started) when time is up.  It
# takes 30 s alone (8 of them the effect's); 180 s leaves room for a
# loaded 2-core machine (60 s was hit once with three builds beside it).
if [ -z "${HP_JALV_TIMED:-}" ]; then
    HP_JALV_TIMED=1 exec timeout -k 10 180 bash "$0" "$@"
fi

bundle=${HP_BUNDLE:?run through ./waf test}
rate=48000
notes=(69 57)              # A4 then A3, each for 0.625 s of a 2 s loop
hz=(440.0 220.0)           # their pitch, A4 = 440 Hz
seconds=4                  # recorded: at least one whole note of each

fail() { echo "test_jalv: $*" >&2; exit 1; }

for tool in jackd jalv jack_midiseq jack_rec jack_lsp jack_connect jack_wait \
            jack_simple_client sox python3 stdbuf timeout; do
    command -v "$tool" >/dev/null || fail "$tool is not installed: run ./setup"
done
[ -f "$bundle/manifest.ttl" ] || fail "no bundle at $bundle: run ./waf build"

work=$(mktemp -d "${TMPDIR:-/tmp}/hp-jalv.XXXXXX")
# A name no other server or test run uses; clients must not start servers.
export JACK_DEFAULT_SERVER="hotpatch-test-$$-$RANDOM"
export JACK_NO_START_SERVER=1
client="hp$$"
seq="hpseq$$"
jackd_pid="" jalv_pid="" seq_pid="" rec_pid="" tone_pid=""

# Alive and not a zombie (our children stay zombies until reaped).
alive() {
    local st
    [ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
    st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Stops one process we started: TERM, up to $2 tenths of a second, KILL.
stop() {
    local pid=$1 tenths=${2:-30} i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < tenths; i++)); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
        echo "test_jalv: process $pid ignored SIGTERM; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$? i
    trap - EXIT TERM INT HUP
    set +e                             # clean up whatever fails here
    exec 3>&- 2>/dev/null || true      # jalv quits at the end of its input
    if [ -n "$jalv_pid" ]; then
        for ((i = 0; i < 20; i++)); do alive "$jalv_pid" || break; sleep 0.1; done
    fi
    stop "$rec_pid"
    stop "$tone_pid"
    stop "$seq_pid"
    stop "$jalv_pid"
    stop "$jackd_pid" 50               # clients first, the server last
    if [ "$rc" -ne 0 ]; then
        for log in jackd.log jalv.out jalv.err reload.out reload.err bass.out \
                   bass.err fx.out fx.err tone.log seq.log connect.log rec.log; do
            [ -s "$work/$log" ] || continue
            echo "--- $log (last lines)"
            tail -n 25 "$work/$log"
        done
    fi
    if [ -n "${HP_JALV_KEEP:-}" ]; then
        echo "test_jalv: kept $work"
    else
        rm -rf "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'echo "test_jalv: interrupted (time limit?)" >&2; exit 124' TERM INT HUP
# A write to a jalv that died must fail the test with a message, not kill it.
trap '' PIPE

# Polls "$@" every 0.1 s for up to $1 seconds while process $2 lives.
wait_for() {
    local secs=$1 pid=$2 i
    shift 2
    for ((i = 0; i < secs * 10; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        alive "$pid" || return 1
        sleep 0.1
    done
    return 1
}

# --- the JACK server --------------------------------------------------------
# No real-time scheduling (containers and users may not have it);
# synchronous, so every client's output of a cycle is in that cycle.
jackd --name "$JACK_DEFAULT_SERVER" --no-realtime --sync -d dummy -r "$rate" -p 256 \
    </dev/null >"$work/jackd.log" 2>&1 &
jackd_pid=$!
# jack_wait -c and jack_lsp exit 0 either way: read what they print.
server_up() { jack_wait -c 2>/dev/null | grep '^running' >/dev/null; }
port_up() { jack_lsp "$1" 2>/dev/null | grep -xF "$1" >/dev/null; }
wait_for 10 "$jackd_pid" server_up \
    || fail "jackd (dummy driver) did not come up within 10 s"

# --- jalv with our bundle only ----------------------------------------------
mkdir "$work/lv2"
ln -s "$bundle" "$work/lv2/"

# Starts a jalv of plugin $uri whose files are $work/$1.in, .out, .err and
# whose client is $client$1 (the rest: jalv options); commands go to fd 3.
uri=urn:hotpatch:synth
start_jalv() {
    tag=$1
    shift
    mkfifo "$work/$tag.in"
    # stdbuf: line-buffered stdout, so its answers can be read while it runs.
    LV2_PATH="$work/lv2:/usr/lib/lv2" stdbuf -oL \
        jalv -x -n "$client$tag" "$@" "$uri" \
        <"$work/$tag.in" >"$work/$tag.out" 2>"$work/$tag.err" &
    jalv_pid=$!
    exec 3>"$work/$tag.in"
    wait_for 15 "$jalv_pid" port_up "$client$tag:out_r" \
        || fail "jalv ($tag) did not show its ports within 15 s"
}

# Ends the running jalv: it quits at the end of its input.
stop_jalv() {
    local i
    exec 3>&-
    for ((i = 0; i < 20; i++)); do alive "$jalv_pid" || break; sleep 0.1; done
    stop "$jalv_pid"
    jalv_pid=""
}

start_jalv jalv

# Sends console commands to jalv.
send() {
    alive "$jalv_pid" || fail "jalv has exited"
    printf '%s\n' "$@" >&3 || fail "cannot write to jalv's input"
}

# jalv's output since line $1, without its "> " prompts.
since() { tail -n "+$(($1 + 1))" "$work/$tag.out" | sed 's/^\(> \)*//'; }

# Sends commands, then `monitors`, and waits until jalv has answered all
# of them; prints what they printed.  An invalid command marks the end: its
# complaint goes to stderr after everything before it is on stdout.
ask() {
    local out_lines err_marks i
    out_lines=$(wc -l <"$work/$tag.out")
    err_marks=$(grep -c 'invalid command' "$work/$tag.err" || true)
    send "$@" monitors "#end"
    for ((i = 0; i < 50; i++)); do
        [ "$(grep -c 'invalid command' "$work/$tag.err" || true)" -gt "$err_marks" ] && break
        alive "$jalv_pid" || fail "jalv exited while answering: $*"
        sleep 0.1
    done
    [ "$i" -lt 50 ] || fail "jalv did not answer within 5 s: $*"
    since "$out_lines"
}

# The value of a control (input with `controls`, output) in an `ask` answer.
monitor() { awk -v s="$1" '$1 == s && $2 == "=" { v = $3 + 0 } END { print v }'; }

# Waits up to 5 s for the swaps output to pass $1; prints the last answer.
wait_swap() {
    local answer swaps i
    answer=$(ask)
    for ((i = 0; i < 50; i++)); do
        swaps=$(monitor swaps <<<"$answer")
        awk -v a="$swaps" -v b="$1" 'BEGIN { exit !(a > b) }' && break
        sleep 0.1
        answer=$(ask)
    done
    [ "$i" -lt 50 ] || return 1
    printf '%s\n' "$answer"
}

# Loads preset $1 and waits for its swap (restoring hands the new patch
# over through a standby); prints the answer that shows it.
load_preset() {
    local before
    before=$(monitor swaps <<<"$(ask)")
    ask "preset $1" >/dev/null
    if grep -q 'Failed to find preset' "$work/$tag.err"; then
        fail "jalv: $(grep 'Failed to find preset' "$work/$tag.err")"
    fi
    wait_swap "$before" || fail "loading $1 swapped nothing within 5 s"
}

# The pitch of the left output over the second half of a 1 s recording
# (file $work/$1.wav), in Hz: the median period between zero crossings.
drone_pitch() {
    local i
    jack_rec -f "$work/$1.wav" -d 1 -b 32 "$client$tag:out_l" \
        </dev/null >"$work/rec.log" 2>&1 &
    rec_pid=$!
    for ((i = 0; i < 100; i++)); do alive "$rec_pid" || break; sleep 0.1; done
    alive "$rec_pid" && fail "jack_rec did not finish its 1 s recording of $1 in 10 s"
    wait "$rec_pid" || fail "jack_rec failed: $(cat "$work/rec.log")"
    rec_pid=""
    sox "$work/$1.wav" -b 16 "$work/$1-16.wav" remix 1 || fail "sox could not read $1.wav"
    python3 - "$work/$1-16.wav" <<'EOF'
import array, statistics, sys, wave

with wave.open(sys.argv[1]) as w:
    rate = w.getframerate()
    x = array.array("h", w.readframes(w.getnframes()))
if sys.byteorder == "big":
    x.byteswap()
x = x[len(x) // 2:]
ups = [i + x[i] / (x[i] - x[i + 1]) for i in range(len(x) - 1) if x[i] < 0 <= x[i + 1]]
periods = [b - a for a, b in zip(ups, ups[1:])]
print("%.2f" % (rate / statistics.median(periods)) if periods else "0")
EOF
}

# The control outputs read 0 until the plugin has run a few cycles.
answer=$(ask presets)
presets=$answer
for ((i = 0; i < 50; i++)); do
    modules0=$(monitor modules <<<"$answer")
    swaps0=$(monitor swaps <<<"$answer")
    [ -n "$modules0" ] && [ -n "$swaps0" ] \
        || fail "jalv's monitors lack the modules and swaps outputs: $answer"
    [ "$modules0" != 0 ] && break
    sleep 0.1
    answer=$(ask)
done
[ "$modules0" = 4 ] \
    || fail "a new instance should play the default patch (4 modules), jalv shows $modules0"

# Which preset: chosen by HP_JALV_PRESET, else seed-chain if jalv lists it.
listed=$(grep -o '^urn:hotpatch:preset:[^ ]*' <<<"$presets" | sort | xargs || true)
preset=${HP_JALV_PRESET:-}
if [ -z "$preset" ]; then
    if grep -qx 'urn:hotpatch:preset:seed-chain' <<<"$(xargs -n1 <<<"$listed")"; then
        preset=urn:hotpatch:preset:seed-chain
    else
        preset=none
    fi
fi
if [ "$preset" = none ]; then
    if [ -n "${HP_JALV_PRESET:-}" ]; then
        echo "# jalv: playing the default patch (HP_JALV_PRESET=none)"
    else
        echo "# jalv: playing the default patch (jalv lists no seed-chain preset; presets: ${listed:-none})"
    fi
    label="default patch"
else
    grep -qxF "$preset" <<<"$(xargs -n1 <<<"$listed")" || fail "jalv does not list preset $preset (it lists: ${listed:-none})"
    answer=$(load_preset "$preset")
    echo "# jalv: loaded preset $preset: swaps $swaps0 -> $(monitor swaps <<<"$answer"), modules $modules0 -> $(monitor modules <<<"$answer")"
    label=${preset##*:}
fi

# --- notes, recording -------------------------------------------------------
loop=$((2 * rate))
len=$((rate * 5 / 8))
jack_midiseq "$seq" "$loop" 0 "${notes[0]}" "$len" "$rate" "${notes[1]}" "$len" \
    </dev/null >"$work/seq.log" 2>&1 &
seq_pid=$!
wait_for 10 "$seq_pid" port_up "$seq:out" || fail "jack_midiseq did not show its port"
jack_connect "$seq:out" "$client$tag:control" >"$work/connect.log" 2>&1 \
    || fail "cannot connect $seq:out to $client$tag:control (jalv's ports: $(jack_lsp "$client$tag" | tr '\n' ' '))"

start=$(date +%s%N)
jack_rec -f "$work/rec.wav" -d "$seconds" -b 32 "$client$tag:out_l" "$client$tag:out_r" \
    </dev/null >"$work/rec.log" 2>&1 &
rec_pid=$!
for ((i = 0; i < (seconds + 10) * 10; i++)); do alive "$rec_pid" || break; sleep 0.1; done
alive "$rec_pid" && fail "jack_rec did not finish a ${seconds} s recording in $((seconds + 10)) s"
wait "$rec_pid" || fail "jack_rec failed (exit $?): $(cat "$work/rec.log")"
rec_pid=""
took=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
answer=$(ask)
echo "# jalv: control outputs after playing: $(grep -E '^[a-z_0-9]+ += ' <<<"$answer" | awk '{printf "%s%s %s", sep, $1, $3 + 0; sep = ", "}')"

# --- the sound --------------------------------------------------------------
[ -s "$work/rec.wav" ] || fail "jack_rec wrote nothing"
got=$(soxi -D "$work/rec.wav" | awk '{ printf "%.2f", $1 }')
awk -v g="$got" -v s="$seconds" 'BEGIN { exit !(g >= s - 0.05) }' \
    || fail "recorded $got s, wanted $seconds s"

# Per channel with sox: RMS and peak.  jack_rec writes integer PCM, where a
# NaN, an infinity or an overload reads as full scale: the peak bounds them.
declare -A rms peak
for ch in 1 2; do
    stat=$(sox "$work/rec.wav" -n remix "$ch" stat 2>&1) || fail "sox stat: $stat"
    rms[$ch]=$(awk -F: '/^RMS +amplitude/ { print $2 + 0 }' <<<"$stat")
    peak[$ch]=$(awk -F: '/^Maximum amplitude/ { a = $2 + 0 } /^Minimum amplitude/ { b = -$2 }
                         END { print (a > b ? a : b) }' <<<"$stat")
    name=$([ "$ch" = 1 ] && echo out_l || echo out_r)
    awk -v r="${rms[$ch]}" 'BEGIN { exit !(r > 0.01) }' \
        || fail "$name is silent or nearly: RMS ${rms[$ch]} (want > 0.01)"
    awk -v p="${peak[$ch]}" 'BEGIN { exit !(p < 0.99) }' \
        || fail "$name reaches full scale (peak ${peak[$ch]}): NaN, infinity or overload"
done

# Pitch, per 20 ms window, from zero crossings of the left channel made
# nearly sinusoidal by sox (two 600 Hz low-passes tame the harmonics).
sox "$work/rec.wav" -b 16 "$work/left.wav" remix 1 lowpass 600 lowpass 600 \
    || fail "sox could not filter the recording"
report=$(python3 - "$work/left.wav" "${hz[@]}" <<'EOF'
import array, math, statistics, sys, wave

path, want = sys.argv[1], [float(f) for f in sys.argv[2:]]
with wave.open(path) as w:
    assert w.getsampwidth() == 2 and w.getnchannels() == 1
    rate = w.getframerate()
    x = array.array("h", w.readframes(w.getnframes()))
if sys.byteorder == "big":
    x.byteswap()
x = [v / 32768.0 for v in x]
win = rate // 50
wins = [x[i:i + win] for i in range(0, len(x) - win + 1, win)]
level = [math.sqrt(sum(v * v for v in s) / win) for s in wins]
loud = max(level)
if loud < 1e-3:
    print("FAIL the filtered recording is silent")
    sys.exit(0)

def pitch(s):
    """Frequency from the positive-going zero crossings, interpolated."""
    ups = [i + s[i] / (s[i] - s[i + 1]) for i in range(len(s) - 1)
           if s[i] < 0.0 <= s[i + 1]]
    if len(ups) < 3:
        return None
    return rate / statistics.median(b - a for a, b in zip(ups, ups[1:]))

# Windows at least half as loud as the loudest: the notes' sustain.
found = [p for p, l, s in zip(map(pitch, wins), level, wins) if l >= 0.5 * loud and p]
near = {f: [p for p in found if abs(p / f - 1.0) < 0.01] for f in want}
stray = [p for p in found if not any(abs(p / f - 1.0) < 0.01 for f in want)]
quiet = min(level) / loud
print("windows %d loud %d stray %d quietest %.1f dB" % (
    len(level), len(found), len(stray), 20 * math.log10(max(quiet, 1e-9))))
for f in want:
    if near[f]:
        print("pitch %g %.2f %d" % (f, statistics.median(near[f]), len(near[f])))
    else:
        print("FAIL no loud window at %g Hz (loud windows: %s)" % (
            f, " ".join("%.1f" % p for p in found[:40])))
if len(stray) > 0.1 * max(len(found), 1):
    print("FAIL %d of %d loud windows at neither note's pitch: %s" % (
        len(stray), len(found), " ".join("%.1f" % p for p in stray[:20])))
# Between notes the envelope must close: the notes gate the sound.
if quiet > 0.01:
    print("FAIL the sound never falls 40 dB below its loudest (%.1f dB): "
          "the notes do not gate it" % (20 * math.log10(quiet)))
EOF
) || fail "the pitch analysis failed: $report"
if grep -q '^FAIL' <<<"$report"; then
    fail "$(grep '^FAIL' <<<"$report" | sed 's/^FAIL //')"
fi
summary=$(awk '/^pitch/ { printf "%s%.2f Hz (note at %g Hz, %d windows)", sep, $3, $2, $4; sep = ", " }' <<<"$report")
quietest=$(awk '/^windows/ { print $8 }' <<<"$report")
db() { awk -v a="$1" 'BEGIN { printf "%.1f", 20 * log(a) / log(10) }'; }
echo "# jalv: $label, notes ${notes[*]} from jack_midiseq, ${got} s recorded in ${took} s:" \
     "RMS L $(db "${rms[1]}") dBFS, R $(db "${rms[2]}") dBFS, peak $(db "${peak[1]}") dBFS"
echo "# jalv: pitch $summary; quietest 20 ms between notes at $quietest dB of the loudest"

# The notes end here: jack_midiseq stopped mid-note leaves that note held
# (no note-off comes), and hotpatch carries held notes into the next
# patch, a preset load included, as a player holding a key expects.
# Seed: single oscillator plays no notes, so loading it lets them go and
# the drones below sound alone.
stop "$seq_pid"
seq_pid=""
load_preset urn:hotpatch:preset:seed-sine >/dev/null

# --- the Scene control, presets and reloads ---------------------------------
# The drone each scene of the preset Scenes plays.
scene_hz=(220 330 440)
# True when $1 Hz is scene $2's drone.
is_scene() { awk -v f="$1" -v w="${scene_hz[$2]:-0}" 'BEGIN { exit !(f > w - 0.5 && f < w + 0.5) }'; }

# The Scene control on 1, then the preset Scenes.  Control and sound must
# agree.  jalv 1.6.6's console drops a preset's port values while it runs
# (jalv_apply_ui_events() returns at once without a UI), so the control
# stays on 1 and the plugin plays Scenes' scene 2 (330 Hz): a control that
# disagrees with a restored bank wins.
send "set scene 1"
answer=$(load_preset urn:hotpatch:preset:scenes)
scene=$(monitor scene <<<"$(ask controls)")
hz=$(drone_pitch scenes)
is_scene "$hz" "$scene" \
    || fail "Scene control on 1, preset Scenes: the control reads $scene but $hz Hz plays (scene 1..3: ${scene_hz[*]} Hz)"
# Then Bass, one scene, with the control where it is: Bass plays, nothing
# is logged (checked last).
answer=$(load_preset urn:hotpatch:preset:bass)
bass_modules=$(monitor modules <<<"$answer")
[ "$bass_modules" = 7 ] || fail "preset Bass with the Scene control on $scene: $bass_modules modules play (want Bass's 7)"
echo "# jalv: Scene control on 1, preset Scenes: the control reads $scene, $hz Hz plays (its scene $((scene + 1))); preset Bass: $bass_modules modules"

# --- a chord on an eight-voice preset -----------------------------------------
# Keys (eight voices), an A major chord from jack_midiseq: A3, C#4 and E4
# struck together and held 1.5 s of a 2 s loop.  All three pitches must
# sound at once: the three loudest spectral peaks from an octave below the
# chord to a fourth above it, at one level (equal velocities), each
# standing well out of the spectrum around it.  Last in this jalv: the
# chord stays held when its sequencer stops.
chord=(57 61 64)
chord_hz=(220.00 277.18 329.63)
answer=$(load_preset urn:hotpatch:preset:keys)
echo "# jalv: loaded preset Keys: swaps $(monitor swaps <<<"$answer"), modules $(monitor modules <<<"$answer")"
hold=$((rate * 3 / 2))
jack_midiseq "${seq}c" "$loop" 0 "${chord[0]}" "$hold" 0 "${chord[1]}" "$hold" 0 "${chord[2]}" "$hold" \
    </dev/null >"$work/seq.log" 2>&1 &
seq_pid=$!
wait_for 10 "$seq_pid" port_up "${seq}c:out" || fail "jack_midiseq (chord) did not show its port"
jack_connect "${seq}c:out" "$client$tag:control" >"$work/connect.log" 2>&1 \
    || fail "cannot connect ${seq}c:out to $client$tag:control"
jack_rec -f "$work/chord.wav" -d "$seconds" -b 32 "$client$tag:out_l" \
    </dev/null >"$work/rec.log" 2>&1 &
rec_pid=$!
for ((i = 0; i < (seconds + 10) * 10; i++)); do alive "$rec_pid" || break; sleep 0.1; done
alive "$rec_pid" && fail "jack_rec did not finish the chord's ${seconds} s recording in $((seconds + 10)) s"
wait "$rec_pid" || fail "jack_rec failed (exit $?): $(cat "$work/rec.log")"
rec_pid=""
stop "$seq_pid"
seq_pid=""
# At 4 kHz (sox's rate conversion filters what is above 2 kHz), so that a
# 1 s spectrum takes Python a moment.
sox "$work/chord.wav" -t f32 -c 1 -r 4000 "$work/chord.f32" remix 1 \
    || fail "sox could not read the chord's recording"
report=$(python3 - "${HP_SRC:?run through ./waf test}/tests/ardour" "$work/chord.f32" "${chord_hz[@]}" <<'EOF'
import array, math, sys

sys.path.insert(0, sys.argv.pop(1))
from analyze import chord_peaks, fft  # the Ardour test's analysis

rate = 4000
x = array.array("f", open(sys.argv[1], "rb").read())
want = [float(f) for f in sys.argv[2:]]
# The longest loud stretch (50 ms windows at least a quarter of the
# loudest): a held chord.
w = rate // 20
level = [math.sqrt(sum(v * v for v in x[i:i + w]) / w) for i in range(0, len(x) - w + 1, w)]
loud = max(level)
best, run = (0, 0), 0
for i, l in enumerate(level):
    run = run + 1 if l >= 0.25 * loud else 0
    if run > best[1]:
        best = (i - run + 1, run)
n = 4096                          # 1.02 s, bins of 0.98 Hz
start = (best[0] + 5) * w         # past the strike's first 250 ms
if loud < 1e-3 or start + n > (best[0] + best[1]) * w:
    print("FAIL no chord held long enough: the longest loud stretch is %.2f s (loudest RMS %.4f)"
          % (best[1] * w / float(rate), loud))
    sys.exit(0)
hann = [0.5 - 0.5 * math.cos(2 * math.pi * i / (n - 1)) for i in range(n)]
a = fft([complex(v * h) for v, h in zip(x[start:start + n], hann)])
bin_hz = rate / float(n)
db = [20 * math.log10(max(2 * abs(c) / sum(hann), 1e-12)) for c in a[:n // 2]]
found, levels, stand, other, failed = chord_peaks(db, bin_hz, want, 1.5)
print("chord peaks %s Hz at %s dBFS, standing %s dB out; loudest other peak %.1f dB; held %.2f s" % (
    " / ".join("%.2f" % pk[0] for pk in found), " / ".join("%.1f" % l for l in levels),
    " / ".join("%.0f" % s for s in stand), other, best[1] * w / float(rate)))
for why in failed:
    print("FAIL " + why)
EOF
) || fail "the chord analysis failed: $report"
if grep -q '^FAIL' <<<"$report"; then
    fail "chord ${chord[*]} on Keys: $(grep '^FAIL' <<<"$report" | sed 's/^FAIL //' | tr '\n' ';')"
fi
echo "# jalv: Keys, chord ${chord[*]} held from jack_midiseq: $(head -n 1 <<<"$report")"
stop_jalv

# Reloads with the control as saved (jalv -l applies a state's port values
# before it runs; -c after them).  jalv 1.6.6's console cannot save, and a
# save after a preset holds the preset's bank and the control, so each
# preset file, made a state of its own (subject <>), stands for it: Scenes
# with the control on 1, as above, and Bass with the control on 1.
for name in scenes bass; do
    mkdir "$work/$name-state"
    sed "s|^<urn:hotpatch:preset:$name>|<>|" "$bundle/presets/$name.ttl" \
        >"$work/$name-state/state.ttl"
done
start_jalv reload -l "$work/scenes-state" -c scene=1
wait_swap 0 >/dev/null || fail "jalv -l (Scenes) swapped nothing within 5 s"
scene=$(monitor scene <<<"$(ask controls)")
hz=$(drone_pitch reload)
[ "$scene" = 1 ] && is_scene "$hz" 1 \
    || fail "Scenes reloaded with the control on 1: the control reads $scene and $hz Hz plays (want 1 and 330 Hz)"
stop_jalv
start_jalv bass -l "$work/bass-state" -c scene=1
answer=$(wait_swap 0) || fail "jalv -l (Bass) swapped nothing within 5 s"
bass_modules=$(monitor modules <<<"$answer")
[ "$bass_modules" = 7 ] || fail "Bass reloaded with the control on 1: $bass_modules modules play (want 7)"
echo "# jalv: reloaded Scenes with the control on $scene: $hz Hz; Bass with the control on 1: $bass_modules modules"
stop_jalv

# --- the effect ---------------------------------------------------------------
# jack_simple_client plays a sine of amplitude 0.2 at 240 Hz on its first
# output and at 720 Hz on its second; they go into the effect's in_l and
# in_r.  jack_rec records the tones and the effect's outputs in the same
# cycles (jackd --sync orders the graph), so the two compare sample for
# sample.
uri=urn:hotpatch:fx
start_jalv fx
# jalv loads the presets it lists (and only those may then be applied).
answer=$(ask presets)
grep -qx 'urn:hotpatch:preset:fx-tremolo.*' <<<"$answer" \
    || fail "jalv does not list Tremolo for the effect: $(grep '^urn:hotpatch:preset' <<<"$answer" | xargs)"
grep -q '^urn:hotpatch:preset:keys' <<<"$answer" \
    && fail "jalv lists the instrument's presets for the effect"
for ((i = 0; i < 50; i++)); do
    fx_modules=$(monitor modules <<<"$answer")
    [ "$fx_modules" != 0 ] && break
    sleep 0.1
    answer=$(ask)
done
[ "$fx_modules" = 1 ] || fail "a new effect should play its default patch (1 module), jalv shows $fx_modules"
jack_simple_client "${client}tone" </dev/null >"$work/tone.log" 2>&1 &
tone_pid=$!
wait_for 10 "$tone_pid" port_up "${client}tone:output2" || fail "jack_simple_client did not show its ports"
for side in l r; do
    out=$([ "$side" = l ] && echo output1 || echo output2)
    jack_connect "${client}tone:$out" "${client}fx:in_$side" >"$work/connect.log" 2>&1 \
        || fail "cannot connect ${client}tone:$out to ${client}fx:in_$side (the effect's ports: $(jack_lsp "${client}fx" | tr '\n' ' '))"
done

# Records 1 s of the tones and the effect's outputs into $work/$1.wav.
record_fx() {
    jack_rec -f "$work/$1.wav" -d 1 -b 32 "${client}tone:output1" "${client}tone:output2" \
        "${client}fx:out_l" "${client}fx:out_r" </dev/null >"$work/rec.log" 2>&1 &
    rec_pid=$!
    for ((i = 0; i < 100; i++)); do alive "$rec_pid" || break; sleep 0.1; done
    alive "$rec_pid" && fail "jack_rec did not finish its 1 s recording of $1 in 10 s"
    wait "$rec_pid" || fail "jack_rec failed: $(cat "$work/rec.log")"
    rec_pid=""
}

# The effect against its input in $work/$1.wav, a line per side: the
# frames that differ, the tone's pitch, and the effect's gain (its RMS
# over the tone's) in 10 ms windows: lowest, highest, and how often it
# rises through its middle.
fx_report() {
    python3 - "$work/$1.wav" <<'EOF'
import array, math, sys, wave

with wave.open(sys.argv[1]) as w:
    assert w.getsampwidth() == 4 and w.getnchannels() == 4
    rate = w.getframerate()
    x = array.array("i", w.readframes(w.getnframes()))
if sys.byteorder == "big":
    x.byteswap()
for side, name in ((0, "left"), (1, "right")):
    tone, fx = x[side::4], x[side + 2::4]
    differ = sum(1 for a, b in zip(tone, fx) if a != b)
    ups = [i for i in range(1, len(tone)) if tone[i - 1] < 0 <= tone[i]]
    hz = (len(ups) - 1) * rate / float(ups[-1] - ups[0]) if len(ups) > 1 else 0.0
    win = rate // 100
    gain = []
    for i in range(0, len(tone) - win + 1, win):
        t = math.sqrt(sum(float(v) * v for v in tone[i:i + win]))
        f = math.sqrt(sum(float(v) * v for v in fx[i:i + win]))
        gain.append(f / t if t else 0.0)
    mid = (max(gain) + min(gain)) / 2.0
    rises = sum(1 for a, b in zip(gain, gain[1:]) if a < mid <= b)
    print("%s %d %.2f %.4f %.4f %d" % (name, differ, hz, min(gain), max(gain), rises))
EOF
}

record_fx fx-through
report=$(fx_report fx-through) || fail "the effect's analysis failed: $report"
while read -r side differ hz low high rises; do
    want=$([ "$side" = left ] && echo 240 || echo 720)
    [ "$differ" = 0 ] || fail "the effect's default patch changed $differ frames of the $side tone"
    awk -v f="$hz" -v w="$want" 'BEGIN { exit !(f > w - 1 && f < w + 1) }' \
        || fail "the $side tone through the effect is at $hz Hz, want $want"
done <<<"$report"
echo "# jalv: effect, default patch: jack_simple_client's tones ($(awk '{ printf "%s%s %s Hz", sep, $1, $3; sep = ", " }' <<<"$report")) pass through, all 48000 frames the same"

load_preset urn:hotpatch:preset:fx-tremolo >/dev/null
record_fx fx-tremolo
report=$(fx_report fx-tremolo) || fail "the effect's analysis failed: $report"
while read -r side differ hz low high rises; do
    # Tremolo's macros at their defaults: gain 0.5 .. 1 at 5 Hz.
    awk -v l="$low" -v h="$high" -v c="$rises" \
        'BEGIN { exit !(l > 0.45 && l < 0.56 && h > 0.95 && h < 1.01 && c >= 4 && c <= 6) }' \
        || fail "Tremolo on the $side tone: gain $low .. $high rising through its middle $rises times in 1 s (want 0.5 .. 1, 5 times)"
done <<<"$report"
echo "# jalv: effect, preset Tremolo: gain $(awk '{ printf "%s%s %.3f .. %.3f, %d cycles in 1 s", sep, $1, $4, $5, $6; sep = "; " }' <<<"$report")"
stop "$tone_pid"
tone_pid=""
stop_jalv

# What the plugin logged through jalv (jalv prints log errors as "error: ...").
logged=$(cat "$work"/*.err | grep -v 'invalid command' | grep -E '^(error|warning): ' | sort | uniq -c || true)
if [ -n "$logged" ]; then
    while read -r count line; do
        echo "jalv: the plugin logged ${count}x: $line"
    done <<<"$logged"
    exit 1
fi
echo "# jalv: nothing logged by the plugin"
