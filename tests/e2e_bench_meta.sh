#!/usr/bin/env bash
# e2e_bench_meta.sh — `metagrid bench meta`: one JSON line with the timing,
# the achieved rate and kernel-vs-dgemm rates; options and usage errors.
# (A benchmark, not a timed test: no speed is asserted here.)
. "$(dirname "$0")/lib.sh"

out=$TMP/bench_meta.json
check "bench meta runs" bash -c "OPENBLAS_NUM_THREADS=1 '$METAGRID' bench meta --iterations 10 >$out"
check "one JSON line" bash -c "[ \$(wc -l <$out) -eq 1 ] && python3 -c 'import json,sys; json.loads(open(sys.argv[1]).read())' $out"
for key in ms_per_iter gflops kernels kern_gflops_nt_10x40x40 dgemm_gflops_nt_10x40x40 \
           kern_gflops_tn_40x40x10 dgemm_gflops_tn_40x40x10 kern_gflops_nn_10x40x40 \
           dgemm_gflops_nn_10x40x40 dgemm_gflops_nt_250x40x40 last_meta_loss; do
    check "key $key" grep -q "\"$key\":" "$out"
done
check "positive rates" python3 -c "
import json,sys
d = json.loads(open('$out').read())
assert d['ms_per_iter'] > 0 and d['gflops'] > 0 and d['iterations'] == 10
assert all(v > 0 for k, v in d.items() if 'gflops' in k)
assert d['algo'] == 'maml' and d['hidden'] == [40, 40] and d['meta_batch'] == 25"
check "--set" bash -c "'$METAGRID' bench meta --iterations 5 --set algo.name=fomaml | grep -q '\"algo\":\"fomaml\"'"
check "--help" bash -c "'$METAGRID' bench meta --help | grep -q kern_gflops"
check_rc 2 "bad --iterations" "$METAGRID" bench meta --iterations 2
check_rc 2 "unknown option" "$METAGRID" bench meta --frobnicate
report
