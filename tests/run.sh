#!/usr/bin/env bash
# tests/run.sh BUILD [SAN_BUILD] — run every test and print the total.
#
# Each unit test binary (BUILD/tests/test_*, and again the sanitized build)
# and each end-to-end script (tests/e2e_*.sh) ends with a line
# "N passed, N failed[, N skipped]". A program that crashes, times out or
# prints no such line counts as one failure. The last line of this script is
# the sum, and its exit status is 1 if anything failed.
# TESTS=pattern runs only the matching tests.
set -u
build=${1:-build}
san=${2:-}
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
export METAGRID="$PWD/$build/metagrid"
export MG_SAN_BUILD="${san:-build-san}"
logdir=$(mktemp -d /tmp/metagrid-tests.XXXXXX)
total_p=0 total_f=0 total_s=0

run_one() { # name timeout cmd...
    local name=$1 to=$2; shift 2
    case "$name" in *${TESTS:-}*) ;; *) return ;; esac
    local log="$logdir/$(echo "$name" | tr '/ ' '__').log" t0=$SECONDS
    timeout -k 10 "$to" "$@" >"$log" 2>&1
    local rc=$?
    local line p=0 f=0 s=0
    line=$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    if [ -n "$line" ]; then
        p=$(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
        f=$(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
        s=$(echo "$line" | grep -oE '[0-9]+ skipped' | grep -oE '[0-9]+' || echo 0)
        [ -n "$s" ] || s=0
    fi
    if [ -z "$line" ] || { [ "$rc" != 0 ] && [ "$f" = 0 ]; }; then
        f=$((f + 1))
        echo "FAIL $name: exit $rc$([ "$rc" = 124 ] && echo ' (timeout)'), no clean report"
    fi
    total_p=$((total_p + p)); total_f=$((total_f + f)); total_s=$((total_s + s))
    printf '%-34s %4d passed %3d failed %3d skipped  %4ds\n' "$name" "$p" "$f" "$s" $((SECONDS - t0))
    if [ "$f" != 0 ]; then
        echo "---- $name (last 40 lines of $log)"; tail -n 40 "$log"; echo "----"
    fi
}

for t in "$build"/tests/test_*; do
    [ -x "$t" ] && run_one "unit/$(basename "$t")" 600 "$t"
done
if [ -n "$san" ]; then
    export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    for t in "$san"/tests/test_*; do
        [ -x "$t" ] && run_one "asan/$(basename "$t")" 900 "$t"
    done
    unset ASAN_OPTIONS UBSAN_OPTIONS
fi
for t in tests/e2e_*.sh; do
    [ -f "$t" ] && run_one "e2e/$(basename "$t" .sh)" 900 bash "$t"
done
rm -rf "$logdir"
if [ "$total_s" != 0 ]; then
    echo "$total_p passed, $total_f failed, $total_s skipped"
else
    echo "$total_p passed, $total_f failed"
fi
[ "$total_f" = 0 ]
