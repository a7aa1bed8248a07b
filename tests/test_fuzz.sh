#!/usr/bin/env bash
# plain build only: the fuzzers carry ASan and UBSan themselves; the plain build runs them
# Runs each libFuzzer target (tests/fuzz/fuzz_*.c: the atom decoder, the
# text protocol, the patch document reader, state restore; built with
# clang, ASan and UBSan) for HP_FUZZ_SECONDS (default 20) over a copy of
# its seed corpus, and fails on any crash, leak, timeout or UB.  Prints
# per target: executions, time, findings, corpus growth, coverage.
#
#   HP_FUZZ_SECONDS=N   seconds per target ('./waf fuzz' sets 600)
#   HP_FUZZ_TARGETS=... a subset, e.g. "text doc"
#   HP_FUZZ_CORPUS=DIR  keep the grown corpora in DIR/<target> (default:
#                       a temporary copy, thrown away)
#   HP_FUZZ_TIMEOUT=N   seconds one input may take (default 10)
#
# Findings are copied to tests/fuzz/findings/ in the build folder, with the
# command that replays them.  Nothing is written into the source tree.
set -uo pipefail
src=${HP_SRC:?run through ./waf test}
secs=${HP_FUZZ_SECONDS:-20}
targets=${HP_FUZZ_TARGETS:-atoms text doc state}
timeout=${HP_FUZZ_TIMEOUT:-10}
bld=$PWD

missing=()
for t in $targets; do
    [ -x "$bld/tests/fuzz/fuzz_$t" ] || missing+=("fuzz_$t")
done
if [ ${#missing[@]} -gt 0 ]; then
    if ! command -v clang >/dev/null; then
        echo "fuzz: clang is not installed, so the fuzzers (${missing[*]}) were not built."
    else
        echo "fuzz: ${missing[*]} not built: clang cannot link -fsanitize=fuzzer here"
        echo "      (libFuzzer's runtime is in libclang-rt-14-dev), or the build"
        echo "      was configured before clang was installed."
    fi
    echo "fuzz: install clang and libclang-rt-14-dev (./setup does), then ./waf configure"
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
findings_dir="$bld/tests/fuzz/findings"
failed=0

for t in $targets; do
    if [ -n "${HP_FUZZ_CORPUS:-}" ]; then
        corpus="$HP_FUZZ_CORPUS/$t"
    else
        corpus="$work/corpus/$t"
    fi
    mkdir -p "$corpus" "$work/artifacts"
    cp -n "$src/tests/fuzz/corpus/$t"/* "$corpus"/
    before=$(find "$corpus" -type f | wc -l)
    opts=()
    case $t in
        # 65 prime tuples, the most a commit takes, need ~4.2 KB.
        atoms) opts=(-max_len=8192) ;;
        text) opts=(-dict="$src/tests/fuzz/fuzz_text.dict") ;;
        doc|state) opts=(-dict="$src/tests/fuzz/fuzz_doc.dict") ;;
    esac
    log="$work/$t.log"
    start=$(date +%s.%N)
    "$bld/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout="$timeout" \
        -print_final_stats=1 -artifact_prefix="$work/artifacts/$t-" \
        "${opts[@]}" "$corpus" >"$log" 2>&1
    rc=$?
    end=$(date +%s.%N)
    after=$(find "$corpus" -type f | wc -l)
    execs=$(awk '/^stat::number_of_executed_units:/ {print $2}' "$log")
    rate=$(awk '/^stat::average_exec_per_sec:/ {print $2}' "$log")
    rss=$(awk '/^stat::peak_rss_mb:/ {print $2}' "$log")
    slowest=$(awk '/^stat::slowest_unit_time_sec:/ {print $2}' "$log")
    # The last status line: "#N DONE cov: C ft: F corp: ..."
    cov=$(grep -a -E '^#[0-9]+' "$log" | tail -n 1 | sed -nE 's/.* cov: ([0-9]+) ft: ([0-9]+).*/\1 edges, \2 features/p')
    artifacts=("$work/artifacts/$t-"*)
    [ -e "${artifacts[0]}" ] || artifacts=()
    n_findings=${#artifacts[@]}
    if [ "$rc" -ne 0 ] && [ "$n_findings" -eq 0 ]; then
        n_findings=1 # a crash the fuzzer could not save (e.g. in a callback)
    fi
    elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.0f", b - a}')
    echo "# fuzz_$t: ${execs:-0} executions in $elapsed s (${rate:-0}/s), $n_findings findings, corpus grew from $before to $after (${cov:-no coverage line}; peak RSS ${rss:-?} MB, slowest input ${slowest:-?} s)"
    if [ "$n_findings" -ne 0 ]; then
        failed=1
        mkdir -p "$findings_dir"
        echo "fuzz_$t: exit $rc; the end of its log:"
        grep -a -v -E '^#[0-9]+ ' "$log" | tail -n 60
        for a in "${artifacts[@]}"; do
            cp "$a" "$findings_dir/"
            echo "fuzz_$t: finding saved as $findings_dir/$(basename "$a"); replay with"
            echo "    $bld/tests/fuzz/fuzz_$t $findings_dir/$(basename "$a")"
        done
    fi
done
exit $failed
