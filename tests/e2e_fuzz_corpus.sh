#!/usr/bin/env bash
# e2e_fuzz_corpus.sh — replays every fuzz corpus (tests/fuzz/corpus/NAME/:
# seeds and every input a campaign ever crashed on) through its harness
# built with ASan + UBSan by gcc (BUILD/fuzz/replay_NAME, `make unit`), so a
# regression of a fixed finding fails `make test` within seconds, without
# clang. `make fuzz` is the campaign itself (README: Fuzzing).
source "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
san=${MG_SAN_BUILD:-$root/build-san}
case "$san" in /*) ;; *) san=$root/$san ;; esac
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for f in "$root"/tests/fuzz/fuzz_*.c; do
    n=$(basename "$f" .c); n=${n#fuzz_}
    bin=$san/fuzz/replay_$n
    if [ ! -x "$bin" ]; then
        make -C "$root" --no-print-directory "$bin" BUILD="$san" SANITIZE=address,undefined >/dev/null 2>&1
    fi
    dir=$root/tests/fuzz/corpus/$n
    # the case reader's seeds also include the shipped grids (not copied)
    extra=(); [ "$n" = case ] && extra=("$root/data/grids")
    count=$(find "$dir" "${extra[@]}" -type f | wc -l)
    check "corpus $n has inputs ($count)" test "$count" -gt 0
    if "$bin" "$dir" "${extra[@]}" >"$TMP/$n.log" 2>&1; then
        check "replay $n: $count inputs, no crash, no leak" true
    else
        tail -n 20 "$TMP/$n.log"
        check "replay $n: $count inputs, no crash, no leak" false
    fi
done
report
