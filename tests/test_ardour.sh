#!/usr/bin/env bash
# plain build only: a plugin built with sanitizers cannot load into an uninstrumented host; the sanitizer runs cover the plugin through our own host
# A real host: Ardour 7.3 headless (ardour7-lua, the "None (Dummy)" audio
# backend).  One ardour7-lua process (tests/ardour/create.lua) makes a
# 48 kHz session at 200 bpm (a bar every 1.2 s) with three MIDI tracks
# playing hotpatch -- "scenes" with the Scenes preset and its Scene control
# automated 0, 1, 2, 0 (a second each), "macro" with the Pluck preset
# (eight voices), a chord every 250 ms from a Lua DSP processor before it
# (tests/ardour/notes.lua) and Macro 1 automated as a ramp, "quant" with
# the Scenes preset, Scene quantize at Bar, no crossfade and its Scene
# lane stepping 0.3 s after each bar line -- rolls it in real time, saves
# it and exports it twice: scenes and macro (panned left and right), then
# quant alone.  A second process (tests/ardour/check.lua; reopening in the
# same process hangs) reopens the session, reports what came back, rolls
# it, saves a snapshot and exports again.  Each export writes, in one
# pass, the 16-bit WAV a user would export and the same sound as 32-bit
# float (tests/ardour/export.preset, float.format): the raw values, to
# tell a fault in the sound from one in Ardour's conversion.
# tests/ardour/analyze.py then checks the presets, control values, the
# tempo, automation, the plugin's saved state, its output controls
# (Modules, Swaps) and the exports: there, unclipped, the 16-bit file
# true to the float one, the scenes track's sound changing where its
# Scene lane switches (measured to the frame), the quant track's at the
# bar line after each of its lane's steps, within 4 frames, following the
# macro ramp, the chord's three pitches as spectral peaks at one level,
# and the same after reopening.
# Then the effect, in a session of its own: a stereo file made with sox
# (tone bursts left, noise bursts right) is imported into an audio track
# (tests/ardour/fx_session.lua makes the session; Ardour 7.3's Lua cannot
# import, so analyze.py fx-import does what Ardour's import does), and
# tests/ardour/fx.lua inserts hotpatch fx there with the Echo preset,
# automates Macro 2 (mix) as a step and exports.  analyze.py fx-check
# measures the export against the file: each echo exactly 250 ms after
# its sound, the dry sound and echoes at the levels mix and feedback say,
# before and after the step (and when the step is heard), the damping's
# response (echo 2 over echo 1 on noise) against the analytic one, and
# each side alone.
#
#   HP_ARDOUR_SCENES_PRESET=LABEL  preset of the "scenes" track (Scenes)
#   HP_ARDOUR_MACRO_PRESET=LABEL   preset of the "macro" track (Pluck); it
#                                  must play chords and have a brightness
#                                  macro 1 (Pad's attack is too slow)
#   HP_ARDOUR_KEEP=1               keep the work folder and say where
#   HP_ARDOUR_INJECT_FAULT=1       write Ardour's export fault (below) into
#                                  the first export, to see the retry work
set -euo pipefail
# The whole test is bounded: run again under timeout, which signals this
# script (and so the Ardour process it waits for) when time is up.
if [ -z "${HP_ARDOUR_TIMED:-}" ]; then
    HP_ARDOUR_TIMED=1 exec timeout -k 10 170 bash "$0" "$@"
fi

bundle=${HP_BUNDLE:?run through ./waf test}
src=${HP_SRC:?run through ./waf test}
here="$src/tests/ardour"
scenes_preset=${HP_ARDOUR_SCENES_PRESET:-Scenes}
macro_preset=${HP_ARDOUR_MACRO_PRESET:-Pluck}
seconds=4       # the timeline of tests/ardour/common.lua
fx_seconds=3.5  # the effect's: common.lua's FX_LEN

work=""
# Failures are said again after the logs, which waf shows the end of.
fail() {
    echo "test_ardour: $*" >&2
    [ -z "$work" ] || echo "test_ardour: $*" >>"$work/failures.txt"
    exit 1
}

for tool in ardour7-lua lv2info sordi python3 sox timeout; do
    command -v "$tool" >/dev/null || fail "$tool is not installed: run ./setup"
done
[ -f "$bundle/manifest.ttl" ] || fail "no bundle at $bundle: run ./waf build"

work=$(mktemp -d "${TMPDIR:-/tmp}/hp-ardour.XXXXXX")
ardour_pid=""

# The processes whose parent is $1 (from /proc: procps may be missing).
children() {
    local d st state ppid
    for d in /proc/[0-9]*; do
        st=$(cat "$d/stat" 2>/dev/null) || continue
        read -r state ppid _ <<<"${st##*) }"
        [ "$ppid" = "$1" ] && echo "${d#/proc/}"
    done
    return 0
}

cleanup() {
    local rc=$?
    trap - EXIT TERM INT HUP
    # Only the Ardour process this script started (timeout and its child),
    # if it is still there: TERM (timeout passes it on), then KILL.
    if [ -n "$ardour_pid" ] && kill -0 "$ardour_pid" 2>/dev/null; then
        local pids i
        pids="$ardour_pid $(children "$ardour_pid")"
        kill -TERM "$ardour_pid" 2>/dev/null || true
        for ((i = 0; i < 30; i++)); do
            kill -0 $pids 2>/dev/null || break   # true while any is alive
            sleep 0.1
        done
        for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
        wait "$ardour_pid" 2>/dev/null || true
    fi
    if [ "$rc" -ne 0 ]; then
        for log in create.log check.log fx_session.log fx.log create.txt check.txt fx_session.txt fx.txt; do
            [ -s "$work/$log" ] || continue
            echo "--- $log (last lines)"
            grep -v '^\(result: \)\?trace ' "$work/$log" | tail -n 20
        done
        [ ! -s "$work/failures.txt" ] || { echo "--- failures"; cat "$work/failures.txt"; }
    fi
    if [ -n "${HP_ARDOUR_KEEP:-}" ]; then
        echo "test_ardour: work folder kept: $work" >&2
    else
        rm -rf "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

python3 "$here/analyze.py" selftest || fail "analyze.py does not tell Ardour's export fault from other clipping"

# LV2_PATH: only our bundle, beside the system's LV2 specifications.
mkdir -p "$work/lv2" "$work/home" "$work/config/ardour7/scripts" \
    "$work/config/ardour7/export" "$work/cache"
ln -s "$bundle" "$work/lv2/hotpatch.lv2"
export LV2_PATH="$work/lv2:/usr/lib/lv2"
# A fresh Ardour configuration (nothing of the user's), holding the note
# generator where Ardour looks for Lua scripts.
export HOME="$work/home" XDG_CONFIG_HOME="$work/config" XDG_CACHE_HOME="$work/cache"
cp "$here/notes.lua" "$work/config/ardour7/scripts/hotpatch_test_notes.lua"
# ... and the export preset of common.lua where Ardour looks for presets.
cp "$here/export.preset" "$here/float.format" "$work/config/ardour7/export/"

# The presets must be there for Ardour as for lilv.
presets_of() {
    lv2info "$1" 2>/dev/null | sed -n '/^\s*Presets:/,/^\s*$/p' | sed 's/^\s*//' || true
}
presets=$(presets_of urn:hotpatch:synth)
for label in "$scenes_preset" "$macro_preset"; do
    grep -qxF -- "$label" <<<"$presets" || fail "lv2info lists no preset '$label'"
done
grep -qxF Echo <<<"$(presets_of urn:hotpatch:fx)" || fail "lv2info lists no preset Echo of urn:hotpatch:fx"

# Runs one Lua script in ardour7-lua, bounded; it ends its results with
# "exporter_freed" (or, with no export, "done").  Ardour 7.3 sometimes
# aborts with heap corruption while freeing its exporter after the file is
# written (it happens without any plugin too): that exit is
# accepted only between the script's "freeing_exporter" and
# "exporter_freed" markers, with glibc's heap message, and the WAV is
# checked to be complete by analyze.py.
# glibc's words when it finds the heap corrupt (then it aborts).
heap_msg='corrupt|double free|free\(\)|malloc\(\)|realloc\(\)|munmap_chunk'
run_ardour() {
    local name=$1 script=$2 rc=0
    shift 2
    local start=$SECONDS
    timeout -k 5 60 ardour7-lua "$here/$script" "$here" "$work" "$@" \
        </dev/null >"$work/$name.log" 2>&1 &
    ardour_pid=$!
    wait "$ardour_pid" || rc=$?
    ardour_pid=""
    local results="$work/$name.txt"
    [ -f "$results" ] || fail "$name: ardour7-lua wrote no results (exit $rc)"
    if grep -q '^fail ' "$results"; then
        fail "$name: $(grep '^fail ' "$results" | head -n 1)"
    fi
    [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || fail "$name: ardour7-lua timed out"
    if grep -qxE 'exporter_freed|done' "$results"; then
        [ "$rc" -eq 0 ] || fail "$name: ardour7-lua exited $rc after its work was done"
    elif grep -qx 'freeing_exporter' "$results" && [ "$rc" -eq 134 ] &&
         grep -qE "$heap_msg" "$work/$name.log"; then
        echo "# ardour: $name: ardour7-lua aborted freeing its exporter (\"$(grep -m 1 -E "$heap_msg" "$work/$name.log")\"), a known Ardour 7.3 fault; its work was done"
    else
        fail "$name: ardour7-lua exited $rc before finishing"
    fi
    echo "# ardour: $name: ardour7-lua $script ran $((SECONDS - start)) s"
}

# Runs a step that ends in exports (run_ardour; EXPORTS: their paths in
# $work, in one folder), then looks at each for Ardour's intermittent
# export fault (analyze.py fault): that step runs again, once, and says
# so.  Ardour 7.3 also aborts now and then with glibc's heap message in
# the middle of its export (about once in 20 runs, twice in a row once in
# ~40): the create step is tried again from scratch then, and the fx step
# (which saves nothing) from its session, up to three times in all, and
# each retry is reported.
# valgrind and ASan runs of the plugin in our own host find nothing in
# hotpatch.
export_step() {
    local name=$1 script=$2 exports=($3) heap_tries=1 fault_tried="" rc export
    shift 3
    while :; do
        if (run_ardour "$name" "$script" "$@"); then
            if [ -n "${HP_ARDOUR_INJECT_FAULT:-}" ] && [ "$name" = create ] && [ -z "$fault_tried" ]; then
                python3 "$here/analyze.py" inject "$work/${exports[0]}" "$work/$name.txt"
            fi
            rc=0
            for export in "${exports[@]}"; do
                python3 "$here/analyze.py" fault "$work/$export" "$work/$name.txt" || rc=$?
                [ "$rc" -eq 0 ] || break
            done
            [ "$rc" -eq 0 ] && return 0
            [ "$rc" -eq 3 ] || fail "$name: analyze.py fault exited $rc"
            # Once only: a second time, analyze.py check fails on it.
            [ -z "$fault_tried" ] || return 0
            echo "# ardour: $name: that is the intermittent export fault (tests/ardour/analyze.py says why it is taken for Ardour's): running $name again, once"
            fault_tried=1
        elif { [ "$name" = create ] || [ "$name" = fx ]; } && [ "$heap_tries" -lt 3 ] &&
             [ -f "$work/$name.log" ] && grep -qE "$heap_msg" "$work/$name.log" &&
             ! grep -qx 'freeing_exporter' "$work/$name.txt" 2>/dev/null; then
            echo "# ardour: $name: ardour7-lua aborted (\"$(grep -m 1 -E "$heap_msg" "$work/$name.log")\") before it finished; a known Ardour 7.3 heap fault: trying again"
            heap_tries=$((heap_tries + 1))
        else
            exit 1
        fi
        rm -rf "$work/${exports[0]%%/*}" "$work/$name.txt" "$work/$name.log"
        [ "$name" != create ] || rm -rf "$work/session"
    done
}

export_step create create.lua "export1/first export1/first_quant" "$scenes_preset" "$macro_preset"
python3 "$here/analyze.py" session-range "$work/session/hotpatch.ardour" "$seconds"
export_step check check.lua "export2/second export2/second_quant"
python3 "$here/analyze.py" check "$work" "$bundle" "$scenes_preset" "$macro_preset" \
    "$work/failures.txt"

# The effect.  The file to import, made with sox: on the left 1 kHz tone
# bursts (5 ms half-sine fades), 30 ms at 0.25 s and 2.375 s and 100 ms
# across the Macro 2 switch at 2 s (common.lua's FX_SWITCH); on the right
# 100 ms of white noise at 0.3 s and 2.425 s.  The echoes of the bursts
# measured fall clear of the other bursts on their side.
# make_input DIR: that file, DIR/input.wav (32-bit float).
make_input() {
    local d=$1 spec left=() right=()
    mono() { sox -R -n -r 48000 -c 1 -b 32 -e floating-point "$d/$1" "${@:2}"; }
    mono silence.wav trim 0 "$fx_seconds" &&
        mono tone30.wav synth 0.03 sine 1000 fade h 0.005 0.03 0.005 vol 0.5 &&
        mono tone100.wav synth 0.1 sine 1000 fade h 0.005 0.1 0.005 vol 0.5 &&
        mono noise.wav synth 0.1 whitenoise vol 0.25 || return 1
    # Each burst delayed to its time; -v 1: mixed unscaled.
    for spec in tone30@0.25 tone100@1.95 tone30@2.375 noise@0.3 noise@2.425; do
        sox "$d/${spec%@*}.wav" "$d/$spec.wav" pad "${spec#*@}" || return 1
        case $spec in
        tone*) left+=(-v 1 "$d/$spec.wav") ;;
        *) right+=(-v 1 "$d/$spec.wav") ;;
        esac
    done
    sox -m -v 1 "$d/silence.wav" "${left[@]}" "$d/left.wav" &&
        sox -m -v 1 "$d/silence.wav" "${right[@]}" "$d/right.wav" &&
        sox -M "$d/left.wav" "$d/right.wav" "$d/input.wav"
}
mkdir -p "$work/input"
make_input "$work/input" || fail "sox could not make the file to import"
run_ardour fx_session fx_session.lua
# What Ardour's import makes of a file (32-bit float, the session's
# format, one file a channel), then the session's sources and regions.
audiofiles="$work/fx/interchange/fx/audiofiles"
[ -d "$audiofiles" ] || fail "fx_session: no $audiofiles"
sox "$work/input/input.wav" -b 32 -e floating-point "$audiofiles/input%L.wav" remix 1
sox "$work/input/input.wav" -b 32 -e floating-point "$audiofiles/input%R.wav" remix 2
python3 "$here/analyze.py" fx-import "$work/fx" fx "$work/input/input.wav" \
    "$audiofiles/input%L.wav" "$audiofiles/input%R.wav"
export_step fx fx.lua export3/fx Echo
python3 "$here/analyze.py" fx-check "$work" "$work/input/input.wav" "$work/failures.txt"
