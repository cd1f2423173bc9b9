#!/usr/bin/env bash
# e2e_signals.sh — Ctrl-C never loses training.
#
# SIGINT is handled like SIGTERM: the run writes a checkpoint at the next
# iteration boundary, prints one line naming the exact command that continues
# it, and exits 75; running that command finishes bit-identical to an
# uninterrupted run. A second SIGINT stops at once (exit by SIGINT, the last
# checkpoint kept). Under mpirun, Ctrl-C (SIGINT to mpirun's process group)
# makes mpirun SIGTERM the ranks: they checkpoint and print the same line,
# and mpirun itself exits 1 (Open MPI cannot forward SIGINT); SIGINT delivered
# to the ranks (what srun does on a double Ctrl-C) gives exit 75.
cd "$(dirname "$0")/.." && source tests/lib.sh
# Job control: background jobs get their own process group (as a terminal's
# foreground job does) and do not start with SIGINT ignored.
set -m

CFG=(configs/seed.yaml --set model.hidden=[16] --set train.log_every=500)
iter_of() { "$METAGRID" inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["iter"])'; }
params() { "$METAGRID" inspect --params "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["params"])'; }
# Wait until process $1 catches SIGINT (bit 1 of SigCgt), i.e. training has
# installed its handler.
wait_caught() {
    local _
    for _ in $(seq 400); do
        local m; m=$(sed -n 's/^SigCgt:\t//p' "/proc/$1/status" 2>/dev/null)
        [ -n "$m" ] && [ $(( 0x$m & 2 )) != 0 ] && return 0
        sleep 0.02
    done
    return 1
}
wait_metrics() { local _; for _ in $(seq 400); do [ -s "$1/metrics.jsonl" ] && return 0; sleep 0.02; done; return 1; }

# -- 1. alone: one Ctrl-C -------------------------------------------------------
d=$TMP/alone
"$METAGRID" train "${CFG[@]}" --set train.iterations=6000 --out "$d" >"$d.out" 2>"$d.err" &
pid=$!
wait_caught $pid && wait_metrics "$d"
sleep 0.3
kill -INT $pid
wait $pid; rc=$?
check "SIGINT alone: exit 75 (got $rc)" test "$rc" = 75
check "SIGINT alone: checkpoint written" test -s "$d/checkpoint.bin"
k=$(iter_of "$d/checkpoint.bin" 2>/dev/null || echo 0)
check "SIGINT alone: stopped mid-run (iteration $k)" test "$k" -gt 0 -a "$k" -lt 6000
check "SIGINT alone: exactly one line on stderr" test "$(wc -l <"$d.err")" = 1
check "SIGINT alone: it says checkpoint and how to continue" \
    grep -q "^metagrid: stopped by signal after iteration $k of 6000 (SIGINT); checkpoint written to $d/checkpoint.bin; continue with: $METAGRID train configs/seed.yaml --set 'model.hidden=\[16\]' --set train.log_every=500 --set train.iterations=6000 --out $d --resume\$" "$d.err"
cmd=$(sed -n 's/.*; continue with: //p' "$d.err")
check "the printed command continues the run" bash -c "$cmd >/dev/null 2>&1"
check "  ... to the end" test "$(iter_of "$d/checkpoint.bin")" = 6000
"$METAGRID" train "${CFG[@]}" --set train.iterations=6000 --out "$d-ref" >/dev/null 2>&1
check "  ... bit-identical to an uninterrupted run" test "$(params "$d/checkpoint.bin")" = "$(params "$d-ref/checkpoint.bin")"

# -- 2. alone: a second Ctrl-C stops at once --------------------------------------
d=$TMP/twice
METAGRID_INJECT=slow@0 "$METAGRID" train "${CFG[@]}" --set train.iterations=5 --out "$d" >"$d.out" 2>"$d.err" &
pid=$!   # (its first task takes 3 s)
for _ in $(seq 400); do [ -e "$d/metrics.jsonl" ] && break; sleep 0.02; done
kill -INT $pid; sleep 0.5; kill -INT $pid
wait $pid; rc=$?
check "second SIGINT: killed by SIGINT at once (exit $rc = 128 + 2)" test "$rc" = 130
check "second SIGINT: no checkpoint half-written" test ! -e "$d/checkpoint.bin"
check "second SIGINT: says so" grep -q "interrupted again: stopping at once" "$d.err"

# -- 3. a SIGINT ignored at the start (nohup, a script's background job) stays ignored
d=$TMP/ignored
bash -c 'trap "" INT; exec "$@"' _ "$METAGRID" train "${CFG[@]}" --set train.iterations=2000 --out "$d" >"$d.out" 2>&1 &
pid=$!
wait_metrics "$d"; kill -INT $pid 2>/dev/null
wait $pid; rc=$?
check "SIGINT ignored at start: the run finishes (exit $rc)" test "$rc" = 0

# -- 4. mpirun: Ctrl-C on the terminal (SIGINT to mpirun's process group) ----------
d=$TMP/mpirun
$MPIRUN -np 2 "$METAGRID" train "${CFG[@]}" --set train.iterations=1000000 --out "$d" >"$d.out" 2>"$d.err" &
pid=$!
wait_metrics "$d"; sleep 0.3
kill -INT -- -$pid
wait $pid; rc=$?
check "mpirun Ctrl-C: mpirun exits 1, as documented (Open MPI aborts on SIGINT; got $rc)" test "$rc" = 1
check "mpirun Ctrl-C: checkpoint written" test -s "$d/checkpoint.bin"
check "mpirun Ctrl-C: one metagrid line with the mpirun command that continues" \
    bash -c "[ \$(grep -c '^metagrid:' '$d.err') = 1 ] && grep -q '^metagrid: stopped by signal after iteration [0-9]* of 1000000 (SIGTERM); .*; continue with: mpirun -np 2 $METAGRID train configs/seed.yaml .* --out $d --resume\$' '$d.err'"

# -- 5. SIGINT delivered to every rank (srun forwards a double Ctrl-C so) ----------
d=$TMP/ranks
$MPIRUN -np 2 "$METAGRID" train "${CFG[@]}" --set train.iterations=1000000 --out "$d" >"$d.out" 2>"$d.err" &
pid=$!
wait_metrics "$d"; sleep 0.3
ranks=$(pgrep -f "^$METAGRID train .*--out $d\$")
for r in $ranks; do wait_caught "$r"; done
kill -INT $ranks
wait $pid; rc=$?
check "SIGINT to the ranks: exit 75 through mpirun (got $rc)" test "$rc" = 75
check "SIGINT to the ranks: checkpoint written" test -s "$d/checkpoint.bin"
check "SIGINT to the ranks: one metagrid line" test "$(grep -c '^metagrid:' "$d.err")" = 1

# -- 6. documented -----------------------------------------------------------------
check "train --help documents Ctrl-C" bash -c "'$METAGRID' train --help | grep -q 'Ctrl-C (SIGINT)'"
report
