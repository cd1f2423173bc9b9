#!/usr/bin/env bash
# e2e_faults.sh — surviving faults: SIGUSR1/SIGTERM at a random iteration
# (through mpirun and straight to the ranks) checkpoint and exit 75, and
# --resume finishes bit-identical to an uninterrupted run; divergence stops
# with exit 1 naming the iteration and keeps the last good checkpoint; an
# error on one rank makes every rank exit 1 with one message.
cd "$(dirname "$0")/.." && source tests/lib.sh

CFG=(configs/seed.yaml --set task.family=uniform --set model.hidden=[16] --set algo.name=maml
     --set algo.inner_steps=2 --set task.k_support=5 --set task.k_query=5 --set train.meta_batch=4
     --set train.log_every=50)
params() { "$METAGRID" inspect --params "$1/checkpoint.bin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["params"])'; }
iter_of() { "$METAGRID" inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["iter"])'; }

# Interrupt a long run after a random delay; returns the run's exit status.
interrupt() { # dir how np
    local dir=$1 how=$2 np=$3 delay
    delay=$(python3 -c 'import random; print(round(random.uniform(0.4, 1.2), 2))')
    $MPIRUN -np "$np" "$METAGRID" train "${CFG[@]}" --set train.iterations=1000000 --out "$dir" >"$dir.log" 2>&1 &
    local pid=$! _
    # the random delay counts from the start of training (metrics.jsonl is
    # created once every rank handles the signals), not from mpirun's start
    for _ in $(seq 3000); do [ -e "$dir/metrics.jsonl" ] && break; sleep 0.02; done  # up to 60 s (loaded machines)
    sleep "$delay"
    case $how in
        mpirun-usr1) kill -USR1 $pid ;;
        rank-term)   pkill -TERM -f "^$METAGRID train .*--out $dir\$" ;;
        rank1-usr1)  kill -USR1 "$(pgrep -f "^$METAGRID train .*--out $dir\$" | sed -n 2p)" ;;
    esac
    wait $pid
}

for how in mpirun-usr1 rank-term rank1-usr1; do
    d="$TMP/$how"
    interrupt "$d" $how 2; rc=$?
    check "$how: exit 75" test "$rc" = 75
    check "$how: checkpoint written" test -s "$d/checkpoint.bin"
    k=$(iter_of "$d/checkpoint.bin" 2>/dev/null || echo 0)
    check "$how: stopped mid-run (iter $k)" test "$k" -gt 0
    n=$((k + 17))
    check "$how: --resume finishes" $MPIRUN -np 2 "$METAGRID" train "${CFG[@]}" --set train.iterations=$n --out "$d" --resume
    check "$how: uninterrupted reference" $MPIRUN -np 2 "$METAGRID" train "${CFG[@]}" --set train.iterations=$n --out "$d-ref"
    check "$how: resumed parameters bit-identical" test "$(params "$d")" = "$(params "$d-ref")"
    check "$how: metrics.jsonl continues without duplicates" python3 -c '
import json,sys
it=[json.loads(l)["iter"] for l in open(sys.argv[1])]
assert it==sorted(set(it)), it
' "$d/metrics.jsonl"
done

# Divergence: a non-finite meta-gradient at iteration 7 (0-based 6).
d="$TMP/diverge"
METAGRID_INJECT=nan@6 $MPIRUN -np 2 "$METAGRID" train "${CFG[@]}" --set train.iterations=20 \
    --set train.checkpoint_every=4 --out "$d" >"$d.out" 2>"$d.err"; rc=$?
check "divergence: exit 1" test "$rc" = 1
check "divergence: names iteration 7" grep -q "iteration 7" "$d.err"
check "divergence: one message" test "$(grep -c '^metagrid:' "$d.err")" = 1
check "divergence: last good checkpoint (iter 4) kept" test "$(iter_of "$d/checkpoint.bin")" = 4
check "divergence: no done marker" test ! -e "$d/done"

# An error on rank 1 only.
d="$TMP/fail"
METAGRID_INJECT=fail@3:1 $MPIRUN -np 2 "$METAGRID" train "${CFG[@]}" --set train.iterations=20 --out "$d" >"$d.out" 2>"$d.err"; rc=$?
check "one-rank failure: exit 1" test "$rc" = 1
check "one-rank failure: one message" test "$(grep -c '^metagrid:' "$d.err")" = 1
check "one-rank failure: names the rank" grep -q "rank 1" "$d.err"
check "one-rank failure: no MPI abort noise" bash -c "! grep -qi 'MPI_ABORT\|orterun\|prterun' '$d.err'"
# A full disk under metrics.jsonl: exit 1 with one message naming the file.
d="$TMP/full"; mkdir -p "$d"; ln -s /dev/full "$d/metrics.jsonl"
$MPIRUN -np 2 "$METAGRID" train "${CFG[@]}" --set train.iterations=20 --set train.log_every=5 \
    --out "$d" --resume >"$d.out" 2>"$d.err"; rc=$?
check "full disk: exit 1" test "$rc" = 1
check "full disk: one message naming metrics.jsonl" bash -c "[ \$(grep -c '^metagrid:' '$d.err') = 1 ] && grep -q 'metrics.jsonl' '$d.err'"
report
