#!/usr/bin/env bash
# tools/memcheck.sh BINARY — `make memcheck`: a tiny `mpirun -np 2` train and
# eval, every rank under valgrind memcheck (--leak-check=full; definite leaks
# count as errors), with suppressions only for Open MPI / PMIx internals
# (tools/valgrind-mpi.supp, documented there). Prints the error count of each
# rank and exits 1 if any error is left or a run failed; the logs stay in
# MEMCHECK_DIR (default: a temporary folder, removed on success).
set -u
bin=$(readlink -f "${1:-build/metagrid}")
root=$(cd "$(dirname "$0")/.." && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
dir=${MEMCHECK_DIR:-$(mktemp -d /tmp/metagrid-memcheck.XXXXXX)}
mkdir -p "$dir" && cd "$dir" || exit 2
cat >tiny.yaml <<'YAML'
# make memcheck: the smallest run that goes through every phase
task: {family: uniform, n_demand: 3, n_supply: 2, k_support: 4, k_query: 4}
model: {hidden: [4]}
train: {iterations: 3, meta_batch: 2, log_every: 1, checkpoint_every: 2}
eval: {tasks: 2, k_support: 2, query: 2, steps: 1}
YAML
vg=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite
    --errors-for-leak-kinds=definite --num-callers=40 --track-origins=yes
    --suppressions="$root/tools/valgrind-mpi.supp" --error-exitcode=99)
mpi=(mpirun --oversubscribe --bind-to none --mca btl self,vader
     --mca btl_vader_single_copy_mechanism none -np 2)
status=0
run() { # name args...
    local name=$1; shift
    "${mpi[@]}" "${vg[@]}" --log-file="$dir/$name.%p.vg" "$bin" "$@" >"$dir/$name.out" 2>&1
    local rc=$?
    local errs=0 ranks=0 n
    for f in "$dir/$name".*.vg; do
        # a log without a summary is a fork that exec'ed (the plot helper)
        n=$(grep -oE 'ERROR SUMMARY: [0-9]+' "$f" | grep -oE '[0-9]+$') || continue
        errs=$((errs + n)); ranks=$((ranks + 1))
    done
    echo "memcheck $name: exit $rc, $errs errors over $ranks ranks (logs: $dir/$name.*.vg)"
    if [ "$rc" != 0 ] || [ "$errs" != 0 ] || [ "$ranks" != 2 ]; then status=1; fi
}
run train train tiny.yaml --out run
run eval eval tiny.yaml --checkpoint run/checkpoint.bin --out ev
if [ $status = 0 ]; then
    echo "memcheck: 0 errors in train and eval (mpirun -np 2)"
    [ -z "${MEMCHECK_DIR:-}" ] && rm -rf "$dir"
else
    echo "memcheck: errors (see the logs above)"
fi
exit $status
