#!/usr/bin/env bash
# tools/run_default.sh BIN — the default experiment (`make run`).
#
# 1. meta-trains configs/default.yaml on 2 MPI ranks into runs/default
# 2. trains the pretrain comparison (same config, algo.name=pretrain) into
#    runs/default-pretrain
# 3. evaluates both checkpoints together on held-out regions (2 ranks) into
#    runs/default-eval: eval.json, report.md, PNG plots; prints the table.
# Earlier runs/default* directories are replaced. Set NP to change the rank
# count, CONFIG to use another config, SKIP_PRETRAIN=1 to skip step 2.
set -eu
bin=${1:-build/metagrid}
cd "$(dirname "$0")/.."
[ -x "$bin" ] || { echo "run_default.sh: $bin not built (make)" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
np=${NP:-2}
cfg=${CONFIG:-configs/default.yaml}
mpirun=(mpirun --oversubscribe --bind-to none -np "$np"
        --mca btl self,vader --mca btl_vader_single_copy_mechanism none)
t0=$SECONDS

rm -rf runs/default runs/default-pretrain runs/default-eval
echo "== train $cfg on $np ranks -> runs/default"
"${mpirun[@]}" "$bin" train "$cfg" --out runs/default
ckpts=(--checkpoint runs/default/checkpoint.bin)
if [ "${SKIP_PRETRAIN:-0}" != 1 ]; then
    echo "== train the pretrain comparison -> runs/default-pretrain"
    "${mpirun[@]}" "$bin" train "$cfg" --set algo.name=pretrain --out runs/default-pretrain
    ckpts+=(--checkpoint runs/default-pretrain/checkpoint.bin)
fi
echo "== evaluate on held-out regions -> runs/default-eval"
"${mpirun[@]}" "$bin" eval "$cfg" "${ckpts[@]}" --out runs/default-eval
echo "== done in $((SECONDS - t0)) s: runs/default-eval/report.md"
