#!/usr/bin/env bash
# e2e_train.sh — metagrid train end to end: files, the same parameters at
# np = 1, 2, 3, 4 (bit-identical), usage errors, a bad config never touching
# an existing run directory, and resume refusals.
cd "$(dirname "$0")/.." && source tests/lib.sh

TINY=(--set task.family=uniform --set task.n_demand=3 --set task.n_supply=2
      --set model.hidden=[8] --set algo.name=maml --set algo.inner_steps=2
      --set task.k_support=4 --set task.k_query=4 --set train.meta_batch=6
      --set train.iterations=20 --set train.log_every=5 --set train.sync_check=1)
params() { "$METAGRID" inspect --params "$1/checkpoint.bin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["params"])'; }

# Singleton and np = 1..4, meta_batch 6 (not divisible by 4) and 3 (< 4 ranks).
check "train singleton" "$METAGRID" train configs/seed.yaml "${TINY[@]}" --out "$TMP/np0"
for np in 1 2 3 4; do
    check "train np=$np" $MPIRUN -np $np "$METAGRID" train configs/seed.yaml "${TINY[@]}" --out "$TMP/np$np"
done
for f in config.yaml metrics.jsonl checkpoint.bin done; do
    check "writes $f" test -s "$TMP/np2/$f" -o "$f" = done -a -e "$TMP/np2/$f"
done
check "metrics lines have iter, meta_loss, wall_s, tasks_per_s" python3 -c '
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
assert [r["iter"] for r in rows]==[5,10,15,20], rows
for r in rows:
    for k in ("iter","meta_loss","wall_s","tasks_per_s","t_allreduce"): assert k in r, k
' "$TMP/np2/metrics.jsonl"
p1=$(params "$TMP/np1")
check "parameters are finite and non-trivial" test -n "$p1"
for np in 0 2 3 4; do
    check "np=$np parameters bit-identical to np=1" test "$(params "$TMP/np$np")" = "$p1"
done
for np in 1 4; do
    $MPIRUN -np $np "$METAGRID" train configs/seed.yaml "${TINY[@]}" --set train.meta_batch=3 --out "$TMP/small$np" >/dev/null
done
check "more ranks than tasks: np=4 equals np=1" test "$(params "$TMP/small4")" = "$(params "$TMP/small1")"
check "the resolved config.yaml loads back" "$METAGRID" train "$TMP/np1/config.yaml" --out "$TMP/reload"
check "reloaded config gives the same parameters" test "$(params "$TMP/reload")" = "$p1"

# Usage errors: exit 2, one line starting with "metagrid:".
one_error() { # want_rc cmd...
    local want=$1; shift
    "$@" >"$TMP/out" 2>"$TMP/err"; local rc=$?
    [ "$rc" = "$want" ] && [ "$(grep -c '^metagrid:' "$TMP/err")" = 1 ] || { echo "rc=$rc"; cat "$TMP/err"; return 1; }
}
check "missing CONFIG" one_error 2 "$METAGRID" train
check "unknown option" one_error 2 "$METAGRID" train configs/seed.yaml --bogus
check "--set without =" one_error 2 "$METAGRID" train configs/seed.yaml --set train.iterations
check "unknown key via --set (np=2, one message)" one_error 2 $MPIRUN -np 2 "$METAGRID" train configs/seed.yaml --set train.iteratons=3 --out "$TMP/x"
check "suggests the nearest key" grep -q "train.iterations" "$TMP/err"
check "--help exits 0" "$METAGRID" train --help

# A bad config never creates, changes or deletes anything in a run directory.
snap() { (cd "$1" && find . -type f -exec sha1sum {} + | sort); }
before=$(snap "$TMP/np1")
printf 'train:\n  iterations: -4\n' > "$TMP/bad.yaml"
check "bad config exits 2" one_error 2 "$METAGRID" train "$TMP/bad.yaml" --out "$TMP/np1" --resume
check "bad config names FILE:LINE and the key" grep -q "bad.yaml:2.*train.iterations" "$TMP/err"
check "run dir untouched by a bad config" test "$before" = "$(snap "$TMP/np1")"
check "no run dir created by a bad config" one_error 2 "$METAGRID" train "$TMP/bad.yaml" --out "$TMP/never"
check "  (absent)" test ! -e "$TMP/never"
check "existing checkpoint without --resume is refused" one_error 2 "$METAGRID" train configs/seed.yaml "${TINY[@]}" --out "$TMP/np1"
check "checkpoint of another config is refused" one_error 2 "$METAGRID" train configs/seed.yaml "${TINY[@]}" --set seed=9 --out "$TMP/np1" --resume
check "run dir untouched by refusals" test "$before" = "$(snap "$TMP/np1")"
check "resume of a finished run is a no-op success" "$METAGRID" train configs/seed.yaml "${TINY[@]}" --out "$TMP/np1" --resume
check "  same parameters" test "$(params "$TMP/np1")" = "$p1"
report
