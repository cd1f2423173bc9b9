#!/usr/bin/env bash
# tools/run_default.sh BIN — the default experiment (`make run`).
#
# Every invocation writes into a folder of its own, never into or over an
# existing one: runs/default-YYYYmmdd-HHMMSS (or OUT=DIR, which must not exist
# yet or be empty), claimed with mkdir before anything runs:
# 1. meta-trains configs/default.yaml on 2 MPI ranks into RUN/maml
# 2. trains the pretrain comparison (same config, algo.name=pretrain) into
#    RUN/pretrain
# 3. evaluates both checkpoints together on held-out regions (2 ranks) into
#    RUN/eval: eval.json, report.md, PNG plots; prints the table.
# Nothing is deleted. Set NP to change the rank count, CONFIG to use another
# config, SKIP_PRETRAIN=1 to skip step 2, OUT to choose the folder.
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

# Claim a fresh folder: mkdir fails if it exists, so two runs started in the
# same second get -2, -3, ...
if [ -n "${OUT:-}" ]; then
    run=$OUT
    if [ -e "$run" ] && [ -n "$(ls -A "$run" 2>/dev/null)" ]; then
        echo "run_default.sh: OUT=$run already exists and is not empty; nothing was changed." \
             "Choose a new folder (OUT=runs/mine-2) or leave OUT unset for runs/default-DATE-TIME" >&2
        exit 2
    fi
    mkdir -p "$run"
else
    mkdir -p runs
    base=runs/default-$(date +%Y%m%d-%H%M%S)
    run=$base n=1
    until mkdir "$run" 2>/dev/null; do
        n=$((n + 1)); run=$base-$n
        [ "$n" -lt 100 ] || { echo "run_default.sh: cannot create $base-N under runs/" >&2; exit 1; }
    done
fi
echo "== train $cfg on $np ranks -> $run/maml"
"${mpirun[@]}" "$bin" train "$cfg" --out "$run/maml"
ckpts=(--checkpoint "$run/maml/checkpoint.bin")
if [ "${SKIP_PRETRAIN:-0}" != 1 ]; then
    echo "== train the pretrain comparison -> $run/pretrain"
    "${mpirun[@]}" "$bin" train "$cfg" --set algo.name=pretrain --out "$run/pretrain"
    ckpts+=(--checkpoint "$run/pretrain/checkpoint.bin")
fi
echo "== evaluate on held-out regions -> $run/eval"
"${mpirun[@]}" "$bin" eval "$cfg" "${ckpts[@]}" --out "$run/eval"
echo "== done in $((SECONDS - t0)) s: $run/eval/report.md"
