#!/usr/bin/env bash
# e2e_sweep_names.sh — every name a sweep refers to is checked before anything
# runs (issues 13 and 15): a misspelt metric exits 2 with the nearest valid
# name and runs nothing; two `parameters:` mappings are an error, not a
# crash; and every number a real eval.json holds for a method is a metric
# the sweep accepts (results.h lists them all).
source "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 1
cat >base.yaml <<'YAML'
task: {family: uniform, n_demand: 3, n_supply: 2, k_support: 4, k_query: 4}
model: {hidden: [4]}
train: {iterations: 2, meta_batch: 2, log_every: 1}
eval: {tasks: 2, k_support: 2, query: 2, steps: 1}
YAML
sweep() { # file: --dry-run, stderr to err.txt; echo the exit status
    "$METAGRID" sweep "$1" --dry-run --out "$TMP/never" >out.txt 2>err.txt
    echo $?
}
printf 'base: base.yaml\nmetric: {name: "methods.maml.gap_meen"}\nparameters:\n  seed: {values: [1, 2]}\n' >typo.yaml
check "misspelt metric: exit 2" test "$(sweep typo.yaml)" = 2
check "misspelt metric: FILE:LINE: metric.name and the nearest name" \
    grep -qF "metagrid: typo.yaml:2: metric.name: trial 0: 'methods.maml.gap_meen' is not an eval.json field (did you mean 'methods.maml.gap_mean'?)" err.txt
"$METAGRID" sweep typo.yaml --local 1 --out "$TMP/never" >/dev/null 2>&1
check "misspelt metric: --local runs nothing" test ! -e "$TMP/never"
printf 'base: base.yaml\nparameters:\n  seed: {value: 1}\nparameters:\n  seed: {value: 2}\n' >twice.yaml
check "two parameters: mappings: exit 2, no crash" test "$(sweep twice.yaml)" = 2
check "two parameters: mappings: the second one's line" grep -qF "twice.yaml:4: parameters: duplicate key" err.txt
printf 'base: base.yaml\nparameters:\n  seed: {values: [1, "2"]}\n' >quoted.yaml
check "a quoted number for an int key: exit 2" test "$(sweep quoted.yaml)" = 2
check "a quoted number: named" grep -qF "quoted.yaml:3: seed: expected an integer, got the string '2'" err.txt

# every numeric field of every method in a real eval.json is a valid metric
"$METAGRID" train base.yaml --out run >train.log 2>&1
check "tiny train" test -s run/checkpoint.bin
"$METAGRID" eval base.yaml --checkpoint run/checkpoint.bin --out ev >eval.log 2>&1
check "tiny eval" test -s ev/eval.json
python3 - ev/eval.json >names.txt <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for label, m in d["methods"].items():
    for k, v in m.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool) or v is None:
            if k != "checkpoint":
                print("methods.%s.%s" % (label, k))
PY
check "eval.json has method fields" test "$(wc -l <names.txt)" -gt 20
bad=0
while read -r name; do
    printf 'base: base.yaml\nmetric: {name: "%s"}\nparameters:\n  seed: {value: 1}\n' "$name" >m.yaml
    if [ "$(sweep m.yaml)" != 0 ]; then echo "refused: $name: $(cat err.txt)"; bad=1; fi
done <names.txt
check "every eval.json method field is a valid sweep metric (results.h)" test $bad = 0
for k in iter meta_loss wall_s tasks_per_s grad_norm lp_iters; do
    grep -q "\"$k\":" run/metrics.jsonl || echo "metrics.jsonl lacks $k"
    printf 'base: base.yaml\nmetric: {name: %s}\nparameters:\n  seed: {value: 1}\n' "$k" >m.yaml
    [ "$(sweep m.yaml)" = 0 ] || { echo "refused: $k"; bad=1; }
done
check "metrics.jsonl keys are valid sweep metrics" test $bad = 0
report
