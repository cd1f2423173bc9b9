#!/usr/bin/env bash
# e2e_bench_lp.sh — `metagrid bench lp`: JSON lines per (size, method),
# both families, options and usage errors, under mpirun too; the
# transportation simplex rows are exact (gap against GLPK below 1e-9).
cd "$(dirname "$0")/.." && source tests/lib.sh

out=$TMP/bench.jsonl
check "bench lp small" bash -c "'$METAGRID' bench lp --sizes 3x2,10x5 --tasks 3 --instances 6 >$out"
check "20 JSON lines (2 sizes x 10 methods)" test "$(wc -l <$out)" = 20
for m in primal_cold dual_cold targets greedy repair solver solver_warm cert_decode simplex_cold simplex_warm; do
    check "method $m for both sizes" test "$(grep -c "\"method\": \"$m\"" $out)" = 2
done
check "fields" bash -c "grep -q '\"size\": \"10x5\", \"family\": \"uniform\", \"method\": \"targets\", \"us_median\": [0-9.]*, \"iters_mean\": [0-9.]*' $out"
check "valid JSON" python3 -c "
import json,sys
for l in open('$out'):
    o=json.loads(l); assert o['us_median']>0 or o['method'] in ('greedy','repair','cert_decode'); assert o['iters_mean']>=0
    if o['method'].startswith('simplex'): assert o['gap_mean'] < 1e-9, o   # exact
"
check "region family" bash -c "'$METAGRID' bench lp --family region --sizes 10x5 --tasks 2 --instances 12 | grep -c '\"family\": \"region\"' | grep -qx 10"
check "--help" bash -c "'$METAGRID' bench lp --help | grep -q -- '--sizes'"
check_rc 2 "bad --sizes" "$METAGRID" bench lp --sizes 3y2
check_rc 2 "bad --family" "$METAGRID" bench lp --family nope
check_rc 2 "bad --tasks" "$METAGRID" bench lp --tasks 0
check_rc 2 "unknown option" "$METAGRID" bench lp --frobnicate
check "usage error names the option" bash -c "'$METAGRID' bench lp --sizes 3y2 2>&1 | grep -q '^metagrid: bench lp: --sizes'"
if command -v mpirun >/dev/null; then
    check "under mpirun -np 2: root prints once" bash -c \
        "$MPIRUN -np 2 '$METAGRID' bench lp --sizes 3x2 --tasks 2 --instances 4 2>/dev/null | wc -l | grep -qx 10"
else
    skip "mpirun" "not installed"
fi
report
