#!/usr/bin/env bash
# tools/compare_k.sh [BIN] — the README's comparison table (Results): a K sweep
# over several training seeds, every method evaluated on the same held-out
# regions with the honest protocol (eval.polish 0, certificates, fallback).
#
#   SEEDS="1 2 3"        training seeds (each: maml and pretrain on CONFIG)
#   KS="1 3 5 10 20"     support hours at evaluation (eval.k_support)
#   CONFIG=configs/default.yaml
#   ITERS=               train.iterations override (empty: the config's)
#   TASKS=128            eval.tasks (held-out regions; the same for every seed)
#   EXTRA="--set k=v"    more overrides for train and eval (e.g. model.head=prices)
#   NP=2                 MPI ranks; OUT=runs/compare-DATE (claimed, never reused)
#
# Writes OUT/seedS/{maml,pretrain} (training runs), OUT/seedS/evalK (one eval
# per seed and K), and OUT/summary.md: per K, every method's mean over seeds
# (± the spread across seeds) of the unpolished mean gap, median, p95,
# certified and fallback shares, median latency and break-even, then the
# paired per-task comparisons of maml against each baseline for every seed.
# Nothing is deleted; an existing OUT is refused.
set -eu
bin=${1:-build/metagrid}
cd "$(dirname "$0")/.."
[ -x "$bin" ] || { echo "compare_k.sh: $bin not built (make)" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
seeds=${SEEDS:-1 2 3}
ks=${KS:-1 3 5 10 20}
cfg=${CONFIG:-configs/default.yaml}
tasks=${TASKS:-128}
np=${NP:-2}
read -r -a extra <<<"${EXTRA:-}"
iters=()
[ -n "${ITERS:-}" ] && iters=(--set "train.iterations=$ITERS")
mpirun=(mpirun --oversubscribe --bind-to none -np "$np"
        --mca btl self,vader --mca btl_vader_single_copy_mechanism none)
out=${OUT:-runs/compare-$(date +%Y%m%d-%H%M%S)}
if [ -e "$out" ]; then echo "compare_k.sh: $out exists; choose a new OUT" >&2; exit 2; fi
mkdir -p "$out"
t0=$SECONDS
for s in $seeds; do
    for algo in maml pretrain; do
        echo "== seed $s: train $algo -> $out/seed$s/$algo"
        "${mpirun[@]}" "$bin" train "$cfg" --set seed="$s" --set algo.name=$algo "${iters[@]}" \
            "${extra[@]}" --out "$out/seed$s/$algo" >"$out/seed$s-$algo.log"
    done
    for k in $ks; do
        echo "== seed $s: eval K=$k -> $out/seed$s/eval$k"
        # the held-out regions do not depend on the training seed (eval seed 1)
        "${mpirun[@]}" "$bin" eval "$cfg" --set seed=1 --set eval.k_support="$k" \
            --set eval.tasks="$tasks" "${extra[@]}" --no-plot \
            --checkpoint "$out/seed$s/maml/checkpoint.bin" \
            --checkpoint "$out/seed$s/pretrain/checkpoint.bin" \
            --out "$out/seed$s/eval$k" >"$out/seed$s-eval$k.log"
    done
done
python3 tools/compare_k_summary.py "$out" "$seeds" "$ks" "$cfg" "$tasks" "${ITERS:-config}" "${EXTRA:-}" \
    >"$out/summary.md"
echo "== done in $((SECONDS - t0)) s: $out/summary.md"
