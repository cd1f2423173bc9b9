#!/usr/bin/env bash
# tools/fuzz.sh BUILD SECONDS [NAME...] — run each libFuzzer harness
# BUILD/fuzz/fuzz_NAME for SECONDS seconds (default: all of tests/fuzz/).
#
# Seeds: tests/fuzz/corpus/NAME/ (read only; the committed regression corpus),
# and data/grids/ for the case reader.
# New inputs go to BUILD/fuzz/work/NAME/, crashes to BUILD/fuzz/crash/NAME/.
# Runs niced (nice -n 10) so other work on the machine is not starved. Prints
# one line per harness with its executions, and the total; exits 1 if any
# harness crashed (a crash file: add it to tests/fuzz/corpus/NAME/ once fixed).
# FUZZ_JOBS=N runs N harnesses at a time (default 1).
set -u
build=${1:-build-fuzz}
secs=${2:-60}
shift 2 2>/dev/null || shift $#
cd "$(dirname "$0")/.."
names=("$@")
if [ ${#names[@]} = 0 ]; then
    for f in tests/fuzz/fuzz_*.c; do n=${f#tests/fuzz/fuzz_}; names+=("${n%.c}"); done
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
total=0 failed=0
for n in "${names[@]}"; do
    bin=$build/fuzz/fuzz_$n
    [ -x "$bin" ] || { echo "fuzz: $bin missing (make fuzz builds it)"; failed=1; continue; }
    mkdir -p "$build/fuzz/work/$n" "$build/fuzz/crash/$n"
    log=$build/fuzz/$n.log
    dict=()
    [ -f "tests/fuzz/$n.dict" ] && dict=(-dict="tests/fuzz/$n.dict")
    nice -n 10 "$bin" -max_total_time="$secs" -timeout=60 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$build/fuzz/crash/$n/" "${dict[@]}" \
        "$build/fuzz/work/$n" "tests/fuzz/corpus/$n" $([ "$n" = case ] && echo data/grids) >"$log" 2>&1
    rc=$?
    execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -n 1)
    execs=${execs:-0}
    total=$((total + execs))
    if [ "$rc" != 0 ]; then
        failed=1
        echo "fuzz $n: CRASH (exit $rc) after $execs executions; see $log and $build/fuzz/crash/$n/"
        grep -m 5 -E 'ERROR|runtime error|property failed|SUMMARY' "$log"
    else
        echo "fuzz $n: $execs executions, no crash"
    fi
done
echo "fuzz: $total executions in total$([ $failed = 0 ] && echo ', no crash' || echo ', CRASHES')"
exit $failed
