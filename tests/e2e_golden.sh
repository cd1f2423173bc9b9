#!/usr/bin/env bash
# e2e_golden.sh — restructurings change no numbers: short training runs of
# configs/default.yaml, configs/sinusoid.yaml and of every algorithm on a tiny
# uniform config (configs/seed.yaml), plus `metagrid gradcheck` on small
# networks, must reproduce the files in tests/golden/ bit for bit (every
# meta-parameter as `inspect --params` prints it, 17 significant digits).
#
# The golden files hold the numbers of the code at the time they were made.
# A change that is MEANT to change the numbers (a new default, a different
# sampling, a new term in a loss) regenerates them and says so in its commit:
#
#   GOLDEN_UPDATE=1 bash tests/e2e_golden.sh      # rewrites tests/golden/*
#
# A restructuring (moving code, splitting functions, renaming) must not.
cd "$(dirname "$0")/.." && source tests/lib.sh
GOLD=tests/golden

# name -> config and overrides (each run takes a fraction of a second)
TINY="--set task.family=uniform --set task.n_demand=3 --set task.n_supply=2 --set model.hidden=[8]
 --set algo.inner_steps=2 --set task.k_support=4 --set task.k_query=4 --set train.meta_batch=5
 --set train.iterations=6 --set train.log_every=0 --set algo.inner_lr=0.05"
declare -A RUNS=(
  [default]="configs/default.yaml --set train.iterations=4 --set train.meta_batch=4 --set train.val_every=2 --set train.val_tasks=3"
  [sinusoid]="configs/sinusoid.yaml --set train.iterations=40 --set train.clip=0.5"
  [maml]="configs/seed.yaml $TINY --set algo.name=maml"
  [fomaml]="configs/seed.yaml $TINY --set algo.name=fomaml"
  [metasgd]="configs/seed.yaml $TINY --set algo.name=metasgd"
  [gated_sgd]="configs/seed.yaml $TINY --set algo.name=gated --set algo.gate.base=sgd"
  [gated_adam]="configs/seed.yaml $TINY --set algo.name=gated --set algo.gate.base=adam"
  [pretrain]="configs/seed.yaml $TINY --set algo.name=pretrain"
)
# iteration count, Adam step and every parameter, one per line
params() { "$METAGRID" inspect --params "$1/checkpoint.bin" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("iter", d["iter"], "adam_t", d["adam_t"], "n_params", d["n_params"])
for p in d["params"]: print(repr(p) if p is not None else "null")'; }
compare() { # name file
    if [ "${GOLDEN_UPDATE:-0}" = 1 ]; then cp "$2" "$GOLD/$1.txt"; return 0; fi
    cmp -s "$2" "$GOLD/$1.txt" || { diff "$GOLD/$1.txt" "$2" | head -5; return 1; }
}
mkdir -p "$GOLD"
for name in default sinusoid maml fomaml metasgd gated_sgd gated_adam pretrain; do
    # shellcheck disable=SC2086
    "$METAGRID" train ${RUNS[$name]} --out "$TMP/$name" >/dev/null &&
        params "$TMP/$name" >"$TMP/$name.txt"
    check "train $name: parameters identical to $GOLD/train_$name.txt" compare "train_$name" "$TMP/$name.txt"
done
# The sharded update on 2 ranks gives the same parameters as one rank.
$MPIRUN -np 2 "$METAGRID" train ${RUNS[default]} --out "$TMP/default_np2" >/dev/null &&
    params "$TMP/default_np2" >"$TMP/default_np2.txt"
check "train default np=2: parameters identical to the golden np=1" \
    cmp -s "$TMP/default_np2.txt" "$GOLD/train_default.txt"

# gradcheck: meta-losses and finite-difference errors of every algorithm
gc_small="--set model.hidden=[6,5] --set algo.inner_steps=3 --set task.k_support=5 --set task.k_query=6"
# shellcheck disable=SC2086
"$METAGRID" gradcheck configs/sinusoid.yaml $gc_small >"$TMP/gc_sin.txt"
check "gradcheck sinusoid identical" compare gradcheck_sinusoid "$TMP/gc_sin.txt"
# shellcheck disable=SC2086
"$METAGRID" gradcheck configs/seed.yaml $gc_small --set model.activation=tanh >"$TMP/gc_uni.txt"
check "gradcheck uniform tanh identical" compare gradcheck_uniform "$TMP/gc_uni.txt"
report
