#!/usr/bin/env bash
# tests/e2e_slurm.sh — metagrid on a real one-node SLURM (tools/slurm_local.sh):
# jobs/train.sbatch with a warning signal mid-run (checkpoint -> exit 75 ->
# requeue -> resume) ending with the same parameters as an uninterrupted run,
# and a sweep as an array job (with one array task signalled and requeued).
# Skipped (never passed) when not root, SLURM is not installed or won't start.
cd "$(dirname "$0")/.."
. tests/lib.sh
ROOT=$PWD

if [ "$(id -u)" != 0 ]; then skip slurm "not root"; report; exit; fi
for b in sbatch srun scontrol squeue sinfo scancel; do
    command -v $b >/dev/null 2>&1 || { skip slurm "$b not installed (make deps)"; report; exit; }
done
for b in munged slurmctld slurmd; do
    command -v $b >/dev/null 2>&1 || [ -x /usr/sbin/$b ] || { skip slurm "$b not installed (make deps)"; report; exit; }
done
[ -x "$METAGRID" ] || { echo "FAIL no binary $METAGRID"; echo "0 passed, 1 failed"; exit 1; }

# Our own cluster: own state dir and ports, so it never meets another one.
export MG_SLURM_DIR=$TMP/slurm MG_SLURM_PORT=$((7100 + RANDOM % 800))
export SLURM_CONF=$MG_SLURM_DIR/slurm.conf
trap 'tools/slurm_local.sh stop >/dev/null 2>&1; rm -rf "$TMP"' EXIT
if ! tools/slurm_local.sh start; then
    skip slurm "SLURM failed to start here (see above)"; report; exit
fi
# jobs inherit this environment (sbatch --export=ALL): shared memory, no CMA.
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
export METAGRID

state() { squeue -h -j "$1" -o %T 2>/dev/null | head -n 1; }
# wait_gone JOB SECONDS: until the job has left the queue
wait_gone() { local t=0; while [ -n "$(state "$1")" ]; do sleep 1; t=$((t+1)); [ $t -ge "$2" ] && return 1; done; return 0; }
# wait_file FILE SECONDS: until FILE is non-empty
wait_file() { local t=0; while [ ! -s "$1" ]; do sleep 0.2; t=$((t+1)); [ $t -ge $(($2*5)) ] && return 1; done; return 0; }
# wait_requeued JOB SECONDS: until the job is pending again after a restart,
# then lift SLURM's fixed two-minute BeginTime delay of requeued jobs.
wait_requeued() {
    local t=0
    while :; do
        if scontrol show job "$1" 2>/dev/null | grep -q 'Restarts=[1-9]' && [ "$(state "$1")" = PENDING ]; then
            # let the node finish cleaning up the previous run first: starting
            # at once can meet its revoked credential and kill the restart
            local u=0
            while [ -n "$(sinfo -h -o %T | grep -v '^idle$')" ] && [ $u -lt 20 ]; do sleep 0.5; u=$((u+1)); done
            sleep 1
            scontrol update jobid="$1" starttime=now >/dev/null 2>&1; return 0
        fi
        sleep 0.5; t=$((t+1)); [ $t -ge $(($2*2)) ] && return 1
    done
}

# A tiny sinusoid run: long enough (several seconds on 2 ranks: ~15k
# iterations/s on an idle 2-core machine) to signal mid-run.
SETS=(--set train.iterations=60000 --set model.hidden=[20,20] --set train.meta_batch=8
      --set train.log_every=20 --set train.checkpoint_every=0)
CFG=$ROOT/configs/sinusoid.yaml
cd "$TMP"

# -- 1. jobs/train.sbatch, USR1 to the job steps mid-run -----------------------
job=$(sbatch --parsable --job-name=mgt -n 2 "$ROOT/jobs/train.sbatch" "$CFG" "${SETS[@]}")
check "sbatch jobs/train.sbatch submits" test -n "$job"
run=$TMP/runs/mgt-$job
if wait_file "$run/metrics.jsonl" 60; then
    scancel --signal=USR1 "$job"
    check "signalled job is requeued" wait_requeued "$job" 60
else
    check "train.sbatch job starts training" false
fi
check "requeued job finishes" wait_gone "$job" 120
out=$TMP/mgt-$job.out
check "job log (%x-%j.out, appended) shows exit 75 then requeue" \
    grep -q "train exit 75" "$out"
check "second start is restart 1 and resumes" \
    grep -q "restart 1:" "$out"
check "resumed run finished" test -e "$run/done"
# the uninterrupted reference, same config, not under SLURM
$MPIRUN -np 2 "$METAGRID" train "$CFG" "${SETS[@]}" --out "$TMP/ref" >/dev/null 2>&1
check "reference run finished" test -e "$TMP/ref/done"
"$METAGRID" inspect "$run/checkpoint.bin" --params >"$TMP/a.json" 2>/dev/null
"$METAGRID" inspect "$TMP/ref/checkpoint.bin" --params >"$TMP/b.json" 2>/dev/null
check "interrupted+requeued run ends with the parameters of an uninterrupted one" \
    bash -c "grep -q '\"params\"' '$TMP/a.json' && diff <(sed 's/\"wall_s\": [^,}]*//' '$TMP/a.json') <(sed 's/\"wall_s\": [^,}]*//' '$TMP/b.json')"
check "the run stopped mid-way (a restart from a checkpoint < 60000)" \
    bash -c "grep -q 'stopped by signal after iteration' '$out' && ! grep -q 'stopped by signal after iteration 60000' '$out'"

# -- 2. a sweep as an array job; one array task signalled and requeued ---------
cat >"$TMP/arr.yaml" <<EOF
name: arr
base: $CFG
method: grid
ranks: 2
metric: {name: "methods.{algo}.mse", goal: minimize}
parameters:
  algo.name: {values: [maml, fomaml]}
  eval.tasks: {value: 10}
  train.iterations: {value: 20000}
  model.hidden: {value: [20, 20]}
  train.meta_batch: {value: 8}
  train.log_every: {value: 20}
EOF
ajob=$("$METAGRID" sweep "$TMP/arr.yaml" --slurm --out "$TMP/arr" 2>"$TMP/sweep.err")
check "sweep --slurm prints the array job id" bash -c "[[ '$ajob' =~ ^[0-9]+$ ]]"
check "sweep --slurm writes DIR/sweep.sbatch with the SLURM conventions" \
    bash -c "grep -q '^#SBATCH --array=0-1' '$TMP/arr/sweep.sbatch' && grep -q '^#SBATCH --requeue' '$TMP/arr/sweep.sbatch' \
             && grep -q '^#SBATCH --signal=USR1@' '$TMP/arr/sweep.sbatch' && grep -q 'slurm-%A_%a.out' '$TMP/arr/sweep.sbatch' \
             && grep -q 'srun --mpi=pmix' '$TMP/arr/sweep.sbatch' && grep -q '^#SBATCH --ntasks=2' '$TMP/arr/sweep.sbatch'"
if wait_file "$TMP/arr/trial-000/metrics.jsonl" 60; then
    scancel --signal=USR1 "${ajob}_0"
    check "signalled array task is requeued" wait_requeued "${ajob}_0" 60
fi
check "array job finishes" wait_gone "$ajob" 150
check "array task 0 log shows the requeue" grep -q "requeue" "$TMP/arr/slurm-${ajob}_0.out"
"$METAGRID" sweep "$TMP/arr.yaml" --summary --out "$TMP/arr" >/dev/null 2>&1
check "summary: both trials done" bash -c "[ \$(grep -c ',done$' '$TMP/arr/summary.csv') = 2 ]"
check "array tasks evaluated (eval.json) and the summary holds the metric" \
    bash -c "test -s '$TMP/arr/trial-000/eval.json' && test -s '$TMP/arr/trial-001/eval.json' && \
             [ \$(grep -cE ',[0-9][0-9.e+-]*,done$' '$TMP/arr/summary.csv') = 2 ]"
check "trial status files hold 0" bash -c "[ \"\$(cat '$TMP/arr/trial-000/status' '$TMP/arr/trial-001/status' | tr -d '\\n')\" = 00 ]"
again=$("$METAGRID" sweep "$TMP/arr.yaml" --slurm --out "$TMP/arr" 2>&1)
check "resubmitting a finished sweep submits nothing" bash -c "echo '$again' | grep -q 'nothing to submit'"

cd "$ROOT"
report
