#!/usr/bin/env bash
# tests/e2e_sweep.sh — `metagrid sweep`: --dry-run determinism, grid order and
# counts, bad sweep files (exit 2, FILE:LINE and the key), --local N on a tiny
# sweep (trial folders, status, summary best first), skipping finished trials,
# and resuming a sweep interrupted by Ctrl-C to the parameters of an
# uninterrupted run.
cd "$(dirname "$0")/.."
. tests/lib.sh
ROOT=$PWD
[ -x "$METAGRID" ] || { echo "FAIL no binary $METAGRID"; echo "0 passed, 1 failed"; exit 1; }
export METAGRID_MPIRUN="$MPIRUN"  # lib.sh: yields when idle (trials share the cores)
CFG=$ROOT/configs/sinusoid.yaml
cd "$TMP"

# -- dry run ----------------------------------------------------------------
cat >grid.yaml <<EOF
name: g
base: $CFG
method: grid
num_samples: 2
seed: 4
parameters:
  algo.name: {values: [maml, fomaml, metasgd]}
  algo.inner_lr: {values: [0.01, 0.1]}
  train.meta_lr: {distribution: log_uniform_values, min: 1.0e-4, max: 1.0e-2}
  algo.inner_steps: {distribution: int_uniform, min: 1, max: 3}
  seed: {value: 3}
EOF
"$METAGRID" sweep grid.yaml --dry-run >d1.txt 2>err.txt
check "dry-run writes trials" test -s d1.txt
"$METAGRID" sweep grid.yaml --dry-run >d2.txt 2>/dev/null
check "dry-run is deterministic" cmp -s d1.txt d2.txt
check "trial count = 3 x 2 values x 2 samples" test "$(wc -l <d1.txt)" = 12
check "trials numbered 0..11 in order" \
    bash -c "[ \"\$(grep -o '\"trial\": [0-9]*' d1.txt | awk '{print \$2}' | tr '\n' ' ')\" = '0 1 2 3 4 5 6 7 8 9 10 11 ' ]"
# last key fastest; samples innermost: inner_lr flips every 2 trials, algo every 4
order=$(grep -o '"algo.name": "[a-z]*", "algo.inner_lr": [0-9.]*' d1.txt | sed 's/"algo.name": //; s/, "algo.inner_lr": / /; s/"//g' | tr '\n' ';')
check "grid order: last key fastest" test "$order" = \
    "maml 0.01;maml 0.01;maml 0.1;maml 0.1;fomaml 0.01;fomaml 0.01;fomaml 0.1;fomaml 0.1;metasgd 0.01;metasgd 0.01;metasgd 0.1;metasgd 0.1;"
check "draws within [min, max]" bash -c "grep -o '\"train.meta_lr\": [0-9.e-]*' d1.txt | awk '{ if (\$2 < 1e-4 || \$2 > 1e-2) bad=1 } END { exit bad }'"
check "int_uniform draws are integers in [1, 3]" bash -c "! grep -o '\"algo.inner_steps\": [^,}]*' d1.txt | grep -vqE ': [123]$'"
check "num_samples draws differ" bash -c "[ \$(grep -o '\"train.meta_lr\": [0-9.e-]*' d1.txt | sort -u | wc -l) -gt 6 ]"
sed 's/seed: 4/seed: 5/' grid.yaml >grid5.yaml
"$METAGRID" sweep grid5.yaml --dry-run >d3.txt 2>/dev/null
check "another seed, other draws" bash -c "! cmp -s d1.txt d3.txt"
sed 's/method: grid/method: random/; s/num_samples: 2/num_samples: 7/' grid.yaml >rnd.yaml
"$METAGRID" sweep rnd.yaml --dry-run >d4.txt 2>/dev/null
check "random: num_samples trials" test "$(wc -l <d4.txt)" = 7

# -- bad sweep files: exit 2, FILE:LINE: KEY --------------------------------
bad() { # name line-to-append expected-substring
    { sed '/^parameters:/q' grid.yaml; echo "$2"; } >bad.yaml
    "$METAGRID" sweep bad.yaml --dry-run >/dev/null 2>bad.err
    local rc=$?
    check "bad sweep ($1) exits 2 (got $rc)" test $rc = 2
    [ $rc = 2 ] || return
    check "bad sweep ($1) names FILE:LINE and the key" \
        bash -c "grep -q '^metagrid: ' bad.err && grep -qF 'bad.yaml:$3' bad.err"
}
bad "unknown config key" "  algo.nmae: {values: [maml]}" "7: algo.nmae"
bad "value out of the schema" "  algo.name: {values: [maml, reptile]}" "7: algo.name"
bad "min > max" "  algo.inner_lr: {distribution: uniform, min: 1, max: 0.5}" "7: algo.inner_lr"
bad "bad distribution" "  algo.inner_lr: {distribution: normal, min: 0, max: 1}" "7: algo.inner_lr"
bad "int key, float draws" "  train.meta_batch: {distribution: uniform, min: 1, max: 4}" "7: train.meta_batch"
bad "cross-key check of a trial" "  algo.inner_steps: {values: [0]}" "7: trial 0: algo.inner_steps"
{ echo "bogus: 1"; cat grid.yaml; } >bad2.yaml
"$METAGRID" sweep bad2.yaml --dry-run >/dev/null 2>bad.err
rc=$?; check "unknown sweep key exits 2 (got $rc)" test $rc = 2
check "unknown sweep key named with its line" grep -qF 'bad2.yaml:1: bogus' bad.err
printf 'base: %s\nmetric: {name: meta_loss, goal: lowest}\nparameters:\n  seed: {value: 1}\n' "$CFG" >bad3.yaml
"$METAGRID" sweep bad3.yaml --dry-run >/dev/null 2>bad.err
rc=$?; check "bad metric goal exits 2 (got $rc)" test $rc = 2
check "bad metric goal named" grep -qF 'bad3.yaml:2: metric.goal' bad.err
"$METAGRID" sweep bad.yaml --local 2 --out "$TMP/nothing" >/dev/null 2>&1
check "a bad sweep runs nothing" test ! -e "$TMP/nothing"

# -- jobs/train.sbatch adds --out only when the train arguments have none -----
# (a fake srun records the step's command line; no SLURM needed)
mkdir -p fakebin
printf '#!/bin/sh\nshift\nprintf "%%s\\n" "$@" >"$SRUN_LOG"\n' >fakebin/srun
chmod +x fakebin/srun
sbatch_out() { # train arguments... -> "added" or "kept" (the script's own --out runs/j-9 or not)
    rm -f "$TMP/srun.log"
    SRUN_LOG=$TMP/srun.log PATH=$TMP/fakebin:$PATH METAGRID=mg SLURM_JOB_NAME=j SLURM_JOB_ID=9 \
        SLURM_JOB_NODELIST=n SLURM_NTASKS=1 bash "$ROOT/jobs/train.sbatch" cfg.yaml "$@" >/dev/null 2>&1
    [ "$(tail -n 1 "$TMP/srun.log" 2>/dev/null)" = --resume ] || { echo "no step"; return; }
    if grep -qx 'runs/j-9' "$TMP/srun.log"; then echo added; else echo kept; fi
}
for args in "--out D" "--out=D" "-o D" "-oD" "-ro D" "--ou D" "--set seed=2 -o D --resume"; do
    # shellcheck disable=SC2086
    check "train.sbatch: '$args' keeps its folder (no second --out)" test "$(sbatch_out $args)" = kept
done
for args in "" "--set seed=2" "-s -o" "--set out=x" "-c -oD" "--checkpoint=x -r"; do
    # shellcheck disable=SC2086
    check "train.sbatch: '$args' gets --out runs/JOB-ID" test "$(sbatch_out $args)" = added
done

# -- the default launcher: mpirun with mpi_yield_when_idle; a warning when ----
# N x ranks exceeds the cores (a fake mpirun writes its arguments to train.log)
printf '#!/bin/sh\necho "$@"\n' >fakebin/mpirun
chmod +x fakebin/mpirun
cores=$(getconf _NPROCESSORS_ONLN)
printf 'base: %s\nranks: %d\nparameters:\n  seed: {values: [1, 2]}\n' "$CFG" "$cores" >busy.yaml
env -u METAGRID_MPIRUN PATH=$TMP/fakebin:$PATH "$METAGRID" sweep busy.yaml --local 2 >/dev/null 2>busy.err
check "default launcher: mpirun --mca mpi_yield_when_idle 1 -np RANKS" \
    grep -q -- "^--oversubscribe --bind-to none --mca mpi_yield_when_idle 1 -np $cores .* train " runs/busy/trial-001/train.log
check "--local 2 x $cores ranks on $cores cores: one warning line" \
    test "$(grep -c '^metagrid: sweep: warning: 2 trials at once x' busy.err)" = 1
env -u METAGRID_MPIRUN PATH=$TMP/fakebin:$PATH "$METAGRID" sweep busy.yaml --local 1 >/dev/null 2>busy.err
check "--local 1: no warning" bash -c "! grep -q warning busy.err"

# -- --local 2 on a tiny sweep ----------------------------------------------
cp "$CFG" base.yaml
cat >tiny.yaml <<EOF
name: tiny
base: base.yaml
method: grid
ranks: 2
metric: {name: meta_loss, goal: minimize}
parameters:
  algo.name: {values: [maml, fomaml]}
  seed: {values: [1, 2]}
  train.iterations: {value: 30}
  model.hidden: {value: [8]}
  train.meta_batch: {value: 4}
  train.log_every: {value: 10}
EOF
"$METAGRID" sweep tiny.yaml --local 2 >local1.txt 2>&1
rc=$?; check "sweep --local 2 exits 0 (got $rc)" test $rc = 0
D=$TMP/runs/tiny
for t in 000 001 002 003; do
    check "trial-$t: done, status 0, config, overrides, metrics" \
        bash -c "test -e $D/trial-$t/done && [ \"\$(cat $D/trial-$t/status)\" = 0 ] && test -s $D/trial-$t/config.yaml \
                 && test -s $D/trial-$t/overrides.json && test -s $D/trial-$t/metrics.jsonl && test -s $D/trial-$t/checkpoint.bin"
done
check "trial-002 ran fomaml seed 1" bash -c "grep -q '\"algo.name\": \"fomaml\", \"seed\": 1' $D/trial-002/overrides.json && grep -Eq 'name: *fomaml' $D/trial-002/config.yaml"
check "summary.csv and summary.md written" test -s "$D/summary.csv" -a -s "$D/summary.md"
check "summary.csv: header + 4 rows" test "$(wc -l <"$D/summary.csv")" = 5
# best first: recompute each trial's last meta_loss and compare the order
want=$(for t in 0 1 2 3; do printf '%s %d\n' "$(tail -n 1 $D/trial-00$t/metrics.jsonl | grep -o '"meta_loss":[^,]*' | cut -d: -f2)" $t; done | sort -g | awk '{print $2}' | tr '\n' ' ')
have=$(tail -n +2 "$D/summary.csv" | cut -d, -f1 | tr '\n' ' ')
check "summary sorted best first (minimize meta_loss)" test "$want" = "$have"
cp "$D/trial-001/metrics.jsonl" m1.before
"$METAGRID" sweep tiny.yaml --local 2 >local2.txt 2>&1
rc=$?; check "second --local exits 0 (got $rc)" test $rc = 0
check "second --local skips the 4 finished trials" grep -q "4 finished trials skipped" local2.txt
check "finished trials untouched" cmp -s m1.before "$D/trial-001/metrics.jsonl"
rm -f "$D/summary.csv" "$D/summary.md"
"$METAGRID" sweep tiny.yaml --summary >sum.txt 2>&1
check "--summary recollects" test -s "$D/summary.csv" -a -s "$D/summary.md"
check "--summary prints the table" grep -q "| trial | algo.name | seed |" sum.txt
check "--summary: mean +- sd per algorithm over seeds" grep -q "Mean +- sd of meta_loss over seeds" sum.txt
check "trials train from the sweep's copy of the base config" cmp -s base.yaml "$D/base.yaml"
echo "# edited" >>base.yaml
"$METAGRID" sweep tiny.yaml --local 2 >/dev/null 2>edit.err
rc=$?; check "edited base config refused (exit 2, got $rc)" test $rc = 2
check "edited base config: message names the sweep file" grep -q "^metagrid: tiny.yaml: base config changed" edit.err
# a failed trial is marked and sorted last
echo 1 >"$D/trial-000/status"; rm -f "$D/trial-000/done"
"$METAGRID" sweep tiny.yaml --summary >/dev/null 2>&1
check "failed trial marked and last" bash -c "tail -n 1 $D/summary.csv | grep -q '^0,.*,failed$'"

# -- a metric from eval.json: each trial is evaluated after training ---------
cat >ev.yaml <<EOF
name: ev
base: $CFG
ranks: 1
metric: {name: "methods.{algo}.mse", goal: minimize}
parameters:
  algo.name: {values: [maml, fomaml]}
  train.iterations: {value: 20}
  model.hidden: {value: [8]}
  train.meta_batch: {value: 4}
  eval.tasks: {value: 4}
  eval.steps: {value: 2}
EOF
"$METAGRID" sweep ev.yaml --local 2 >ev.txt 2>&1
rc=$?; check "eval-metric sweep exits 0 (got $rc)" test $rc = 0
check "trials evaluated (eval.json)" test -s runs/ev/trial-000/eval.json -a -s runs/ev/trial-001/eval.json
m1=$(tr -d ' \n' <runs/ev/trial-001/eval.json | grep -o '"fomaml":{[^}]*' | grep -o '"mse":[^,}]*' | cut -d: -f2)
m1=$(printf %.6g "${m1:-x}" 2>/dev/null)
check "summary metric = methods.fomaml.mse of trial 1's eval.json ($m1)" \
    grep -q "^1,fomaml,.*,$m1,done\$" runs/ev/summary.csv

# -- Ctrl-C: trials checkpoint (exit 75), the sweep exits 75, a rerun resumes --
# (30000 iterations: several seconds on an idle machine, so the Ctrl-C lands
# mid-run; with 3000 the trial could finish before the signal)
cat >long.yaml <<EOF
name: long
base: $CFG
ranks: 2
parameters:
  train.iterations: {value: 30000}
  model.hidden: {value: [20, 20]}
  train.meta_batch: {value: 8}
  train.log_every: {value: 50}
  train.checkpoint_every: {value: 0}
EOF
"$METAGRID" sweep long.yaml --local 1 >long1.txt 2>&1 &
sp=$!
for _ in $(seq 1 150); do [ -s runs/long/trial-000/metrics.jsonl ] && break; sleep 0.2; done
kill -INT $sp
wait $sp
rc=$?
check "interrupted sweep exits 75 (got $rc)" test $rc = 75
if [ $rc = 75 ]; then
    cond="[ \"\$(cat runs/long/trial-000/status)\" = 75 ] && test -s runs/long/trial-000/checkpoint.bin && grep -q ',unfinished$' runs/long/summary.csv"
    if ! bash -c "$cond"; then # seen once in a full make test, not reproduced since
        echo "  status: $(cat runs/long/trial-000/status 2>&1)"; ls -l runs/long/trial-000/
        cat runs/long/summary.csv 2>&1; tail -n 5 runs/long/trial-000/train.log long1.txt 2>&1
    fi
    check "interrupted trial: status 75, checkpoint, unfinished" bash -c "$cond"
fi
"$METAGRID" sweep long.yaml --local 1 >long2.txt 2>&1
rc=$?; check "rerun resumes and finishes (got $rc)" test $rc = 0
check "resumed trial done" test -e runs/long/trial-000/done
$MPIRUN -np 2 "$METAGRID" train "$CFG" --set train.iterations=30000 --set model.hidden=[20,20] \
    --set train.meta_batch=8 --set train.log_every=50 --set train.checkpoint_every=0 --out ref >/dev/null 2>&1
"$METAGRID" inspect runs/long/trial-000/checkpoint.bin --params 2>/dev/null | sed 's/"wall_s": [^,}]*//' >a.json
"$METAGRID" inspect ref/checkpoint.bin --params 2>/dev/null | sed 's/"wall_s": [^,}]*//' >b.json
check "resumed sweep trial = uninterrupted run (inspect --params)" bash -c "grep -q '\"params\"' a.json && cmp -s a.json b.json"

cd "$ROOT"
report
