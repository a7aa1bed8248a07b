#!/usr/bin/env bash
# plain build only: the model does not depend on the build: the plain build runs it
# The lock-free handoff between the worker and run() (src/worker.c and src/audio_thread.c), as
# modelled in tests/model/handoff.pml, checked exhaustively by spin:
# - safety (assertions p0-p8 and deadlock) for every order of 3 commits,
#   aborts and live sets, for 6 (more graphs than the memory bound, so the
#   bound is tested, not just the number of commits), with a retired ring
#   of 2, and with room for 3 fades at once (swaps during crossfades,
#   nested fades, the oldest cut);
# - the memory bound is tight: one graph less is exceeded;
# - liveness (p7, LTL under weak fairness): every run reaches quiescence;
# - coverage: every statement of the model is reached;
# - tail commits (at most 2 tails in the model, 3 in C; their owners parked
#   when retired first) in every run, and with rings of 4 and 5 for room
#   enough for tails, fades and parked owners together;
# - the deliberately broken variants (-DBROKEN=1..6) must fail, or the
#   model would have no teeth.
# spin and pan run in a temporary directory, never in the source tree.
set -euo pipefail
# Independent of how the plugin is built: the plain build's run covers it.
src=${HP_SRC:?run through ./waf test}
model="$src/tests/model/handoff.pml"
command -v spin >/dev/null || { echo "spin is not installed: run ./setup"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$model" "$work/handoff.pml"
cd "$work"

total_states=0
max_depth=0

# pan_run NAME PAN_CFLAGS PAN_ARGS SPIN_DEFINES...: build and run one
# verifier; its report goes to NAME.out.
pan_run() {
    local name=$1 cflags=$2 args=$3
    shift 3
    rm -f pan pan.* ./*.trail
    spin -a "$@" handoff.pml >"$name.spin" 2>&1 || { cat "$name.spin"; exit 1; }
    # shellcheck disable=SC2086
    gcc -w -O2 $cflags -o pan pan.c
    # shellcheck disable=SC2086
    ./pan $args >"$name.out" 2>&1 || true
}

errors_of() { sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$1"; }

# A run that must pass: no error, search complete, figures summed up.
must_pass() {
    local name=$1
    shift
    pan_run "$name" "$@"
    local errors states depth
    errors=$(errors_of "$name.out")
    if [ "$errors" != 0 ] || grep -q -e "max search depth too small" \
            -e "out of memory" "$name.out"; then
        cat "$name.out"
        echo "model check '$name' failed (spin -a ${*:3}): replay with spin -t -p"
        exit 1
    fi
    states=$(awk '/states, stored/ {print $1; exit}' "$name.out")
    depth=$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' "$name.out")
    total_states=$((total_states + states))
    [ "$depth" -gt "$max_depth" ] && max_depth=$depth
    echo "$name: $states states, depth $depth, 0 errors"
}

# A run that must fail: prints which property broke.
must_fail() {
    local name=$1
    shift
    pan_run "$name" "$@"
    local errors which
    errors=$(errors_of "$name.out")
    if [ -z "$errors" ] || [ "$errors" = 0 ]; then
        cat "$name.out"
        echo "model check '$name' found no violation: the model has no teeth"
        exit 1
    fi
    which=$(grep -o -m1 -e 'p[0-9]_[a-z_0-9]*' -e 'acceptance cycle' "$name.out" || true)
    [ -n "$which" ] || { cat "$name.out"; echo "'$name' failed for no named property"; exit 1; }
    echo "$which"
}

SAFETY="-DSAFETY -DNOCLAIM -DCOLLAPSE"
# Small runs: gcc -O0 compiles pan.c in 1 s, not 7, and they run in 1 s.
QUICK="$SAFETY -O0"
start=$(date +%s)

must_pass ops3 "$QUICK" "-m100000" -DNOPS=3 -DRCAP=1
must_pass nest "$QUICK" "-m100000" -DNOPS=4 -DRCAP=4 -DMAXF=3
must_pass tails "$QUICK" "-m100000" -DNOPS=4 -DRCAP=4 -DMAXF=1
# Coverage: only the implicit ends of the endless loops may be unreached by
# both (nest has the deeper fades, tails cuts a fading owner of a tail).
unreached() {
    awk '/^unreached in/ {u = 1; next} /^\t\(/ {u = 0}
         u && /handoff.pml:/ && !/"-end-"/' "$1" | sort
}
missed=$(comm -12 <(unreached nest.out) <(unreached tails.out))
if [ -n "$missed" ]; then
    echo "$missed"
    echo "parts of the model are never reached"
    exit 1
fi
must_pass tails5 "$SAFETY" "-m100000" -DNOPS=5 -DRCAP=5 -DMAXF=2
must_pass ops6 "$SAFETY" "-m100000" -DNOPS=6 -DRCAP=1
must_pass ring2 "$SAFETY" "-m100000" -DNOPS=5 -DRCAP=2
must_pass live "-DCOLLAPSE" "-a -f -m100000" -DNOPS=4 -DRCAP=1
must_pass live_nest "-DCOLLAPSE" "-a -f -m100000" -DNOPS=4 -DRCAP=3

tight1=$(must_fail tight1 "$QUICK" "-m100000" -DNOPS=6 -DRCAP=1 -DBOUND=3)
tight2=$(must_fail tight2 "$QUICK" "-m100000" -DNOPS=6 -DRCAP=2 -DBOUND=4)
for t in "$tight1" "$tight2"; do
    [ "$t" = p5_memory_bounded ] || { echo "a bound one graph too small broke $t, not p5"; exit 1; }
done

broken1=$(must_fail broken1 "$QUICK" "-m100000" -DBROKEN=1)
broken2=$(must_fail broken2 "$QUICK" "-m100000" -DBROKEN=2)
broken3=$(must_fail broken3 "$QUICK" "-m100000" -DBROKEN=3)
broken4=$(must_fail broken4 "$QUICK" "-m100000" -DBROKEN=4)
broken5=$(must_fail broken5 "$QUICK" "-m100000" -DBROKEN=5 -DRCAP=2)
[ "$broken5" = p1_no_free_in_use ] || { echo "an owner retired at once broke $broken5, not p1"; exit 1; }
broken6=$(must_fail broken6 "$QUICK" "-m100000" -DBROKEN=6 -DRCAP=2)
[ "$broken6" = p1_no_free_in_use ] || { echo "a tail commit that leaves the fades playing broke $broken6, not p1"; exit 1; }
secs=$(( $(date +%s) - start ))

echo "# model: $total_states states explored (3 to 6 ops, ring of 1 to 5, nested fades, tails, liveness), depth $max_depth, 0 errors, in $secs s"
echo "# model: memory bound retired ring + 3 graphs (19 with the ring of 16) reached, one less exceeded"
echo "# model: broken variants: violation found: poll load+store -> $broken1; reclaim load+store -> $broken2; stale base -> $broken3; a failing commit takes the earlier standby back -> $broken4; a tail's owner retired, not parked -> $broken5; a tail commit leaving the fades playing -> $broken6"
