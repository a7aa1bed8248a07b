#!/usr/bin/env bash
# plain build only: an instrumented build is not what users run: it measures nothing
# The benchmark report runs end to end (hotpatch, the hand loop, Pd and
# scsynth, every output checked for 440 Hz and its level; the voices too,
# 16 of them beside 16 scsynth synths and Pd's [clone 16], every note's
# pitch and level checked; the delay and reverb beside scsynth's CombC,
# DelayC and FreeVerb2, their outputs and impulse responses measured) and
# its instruction-count targets hold (README, "Performance": callgrind
# counts do not depend on the machine's load; times are printed, not
# judged here -- `./waf bench` judges them, and those against scsynth
# when it is not installed are not judged).  An instrumented build
# measures nothing.
set -euo pipefail
src=${HP_SRC:?run through ./waf test}
build=$PWD # ./waf test runs scripts in the build folder
report=$(python3 "$src/tests/bench/report.py" --build "$build" \
         --judge-counts-only --whole-process hotpatch \
         --out "$build/bench-test.md" 2>&1) || {
    echo "$report"; exit 1; }
grep -E "^- (met|\*\*missed)" <<<"$report" | sed 's/^- /# /'
