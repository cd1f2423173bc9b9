#!/usr/bin/env bash
# e2e_eval.sh — metagrid eval end to end on a tiny uniform and a tiny sinusoid
# config: eval.json identical at np=1 and np=2 (timings aside), every required
# key for every method, report.md / TSV files, two checkpoints with the same
# algorithm, and usage errors (bad --checkpoint, mismatched family) exiting 2
# with one message.
cd "$(dirname "$0")/.." && source tests/lib.sh

UNI=(--set task.family=uniform --set task.n_demand=5 --set task.n_supply=3
     --set model.hidden=[12] --set algo.inner_steps=1 --set task.k_support=4
     --set task.k_query=4 --set train.meta_batch=4 --set train.iterations=6
     --set train.log_every=2 --set eval.tasks=5 --set eval.k_support=4
     --set eval.steps=3 --set eval.query=6 --set eval.scratch_steps=7)
SIN=(--set task.family=sinusoid --set model.hidden=[12] --set algo.inner_steps=1
     --set task.k_support=5 --set task.k_query=5 --set train.meta_batch=4
     --set train.iterations=6 --set train.log_every=2 --set eval.tasks=5
     --set eval.k_support=5 --set eval.steps=4 --set eval.query=25)
CFG=configs/seed.yaml

check "train uniform maml" "$METAGRID" train $CFG "${UNI[@]}" --set algo.name=maml --out "$TMP/u" >/dev/null
check "train uniform metasgd" "$METAGRID" train $CFG "${UNI[@]}" --set algo.name=metasgd --out "$TMP/u2" >/dev/null
check "train sinusoid" "$METAGRID" train $CFG "${SIN[@]}" --set algo.name=maml --out "$TMP/s" >/dev/null

for np in 1 2; do
    check "eval uniform np=$np" $MPIRUN -np $np "$METAGRID" eval $CFG "${UNI[@]}" --no-plot \
        --checkpoint "$TMP/u/checkpoint.bin" --checkpoint "$TMP/u2/checkpoint.bin" \
        --checkpoint "$TMP/u/checkpoint.bin" --out "$TMP/eu$np"
    check "eval sinusoid np=$np" $MPIRUN -np $np "$METAGRID" eval $CFG "${SIN[@]}" --no-plot \
        --checkpoint "$TMP/s/checkpoint.bin" --out "$TMP/es$np"
done

# Timing fields (and the rank count) removed, the rest must be identical.
strip() { sed -E 's/"(latency_us|latency_mean_us|propose_us|polish_us|speedup_vs_solver|speedup_vs_solver_warm|adapt_ms|setup_ms|cost_per_hour_us|break_even_hours|wall_s|ranks)": [^,}]*//g' "$1"; }
check "uniform eval.json identical at np=1 and np=2" test "$(strip "$TMP/eu1/eval.json")" = "$(strip "$TMP/eu2/eval.json")"
check "sinusoid eval.json identical at np=1 and np=2" test "$(strip "$TMP/es1/eval.json")" = "$(strip "$TMP/es2/eval.json")"
check "gaps.tsv identical at np=1 and np=2" cmp -s "$TMP/eu1/gaps.tsv" "$TMP/eu2/gaps.tsv"
hstrip() { cut -f1-8,10- "$1"; } # latency_us aside
check "hours.tsv identical at np=1 and np=2 (latency aside)" test "$(hstrip "$TMP/eu1/hours.tsv")" = "$(hstrip "$TMP/eu2/hours.tsv")"

check "uniform: every method and key" python3 - "$TMP/eu2/eval.json" <<'EOF'
import json, sys, math
j = json.load(open(sys.argv[1]))
m = j["methods"]
assert list(m) == ["maml", "metasgd", "maml-2", "no_adapt", "scratch", "scratch_long", "support_mean", "greedy", "nearest", "support_duals", "solver", "solver_warm", "simplex_warm", "simplex_nearest"], list(m)
need = ["mse", "gap_mean", "gap_median", "gap_p95", "gap_max", "viol_max_raw", "viol_max", "feasible_frac", "latency_us", "gap_median_unpolished", "gap_p95_unpolished",
        "cert_gap_median", "cert_gap_p95", "cert_gap_max", "certified_frac", "fallback_frac", "gap_max_after_fallback", "latency_mean_us", "cost_per_hour_us"]
for k, v in m.items():
    for key in need:
        assert key in v and v[key] is not None, (k, key)
    assert v["gap_median"] <= v["gap_p95"] <= v["gap_max"] + 1e-12, (k, v)
    assert v["feasible_frac"] == 1.0, (k, v["feasible_frac"])   # after repair
    assert v["viol_max"] <= 1e-9, (k, v["viol_max"])
    assert v["latency_us"] > 0, k
    assert "break_even_hours" in v, k
    assert v["gap_max_after_fallback"] <= 0.001 + 1e-9 and v["invalid_bounds"] == 0, (k, v)
    assert v["gap_median"] == v["gap_median_unpolished"], k      # eval.polish = 0 by default
for k in ("maml", "metasgd", "scratch", "no_adapt"):
    s = m[k]["mse_by_step"]
    assert abs(s[-1] - m[k]["mse"]) <= 1e-9 * max(1, m[k]["mse"]), (k, s[-1], m[k]["mse"])
assert len(m["maml"]["mse_by_step"]) == 4 and len(m["scratch_long"]["mse_by_step"]) == 8
# scratch_long is scratch continued: the same curve for the first steps
assert m["scratch_long"]["mse_by_step"][:4] == m["scratch"]["mse_by_step"]
for k in ("solver", "solver_warm", "simplex_warm", "simplex_nearest"):   # exact, certified
    assert abs(m[k]["gap_max"]) < 1e-9 and m[k]["fallback_frac"] == 0, (k, m[k])
    assert m[k]["certified_frac"] == 1.0 and m[k]["cert_gap_max"] < 1e-9, (k, m[k])
timing = ("latency_us", "latency_mean_us", "propose_us", "polish_us", "speedup_vs_solver", "speedup_vs_solver_warm",
          "adapt_ms", "setup_ms", "cost_per_hour_us", "break_even_hours", "checkpoint")
assert {k: v for k, v in m["maml"].items() if k not in timing} == \
       {k: v for k, v in m["maml-2"].items() if k not in timing}
assert m["solver"]["mse"] == 0 and abs(m["solver"]["gap_max"]) < 1e-6, m["solver"]
assert abs(m["no_adapt"]["mse"] - m["maml"]["mse_by_step"][0]) <= 1e-12
assert j["config"] == {"family": "uniform", "n_demand": 5, "n_supply": 3, "tasks": 5, "k_support": 4,
                       "steps": 3, "query": 6, "scratch_steps": 7, "seed": j["config"]["seed"],
                       "polish": 0, "tolerance": 0.001, "horizon": 720, "ascent_steps": 5,
                       "fallback": "solver"}, j["config"]
base = ["support_mean", "greedy", "nearest", "support_duals", "solver", "solver_warm", "simplex_warm",
        "simplex_nearest"]
pairs = [(p["a"], p["b"]) for p in j["paired"]]
assert pairs == [(a, b) for a in ("maml", "metasgd", "maml-2") for b in base], pairs
for p in j["paired"]:
    assert p["metric"] == "gap_mean" and p["n_tasks"] == 5 and p["ci95"][0] <= p["mean_diff"] <= p["ci95"][1], p
assert j["ranks"] == 2 and len(j["checkpoints"]) == 3
assert [c["label"] for c in j["checkpoints"]] == ["maml", "metasgd", "maml-2"]
EOF
check "sinusoid: every method has mse and mse_by_step, no LP keys" python3 - "$TMP/es1/eval.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))["methods"]
assert list(m) == ["maml", "no_adapt", "scratch"], list(m)
for k, v in m.items():
    assert v["mse"] > 0 and v["mse_by_step"], k
    assert "gap_mean" not in v, k
assert len(m["maml"]["mse_by_step"]) == 5
EOF
check "gaps.tsv: a header and tasks*query rows" test "$(wc -l <"$TMP/eu1/gaps.tsv")" = 31
check "mse_by_step.tsv written" test -s "$TMP/es1/mse_by_step.tsv"
check "report.md has the table and the goals" grep -q "| greedy" "$TMP/eu1/report.md"
check "report.md says which goals are met" grep -q "unpolished median gap ≤ 0.2 %" "$TMP/eu1/report.md"
check "report.md: paired comparisons in words" grep -qE "no significant difference|significantly (lower|higher)" "$TMP/eu1/report.md"
check "report.md: no second table without polish" sh -c "! grep -q 'Second table' '$TMP/eu1/report.md'"
check "report.md: plurals (3 adaptation steps)" sh -c "grep -q '3 adaptation steps' '$TMP/eu1/report.md'"
check "hours.tsv: a header and methods*tasks*query rows" test "$(wc -l <"$TMP/eu1/hours.tsv")" = $((14 * 5 * 6 + 1))
check "hours.tsv: every bound <= the optimum, every returned cost within tolerance" python3 - "$TMP/eu1/hours.tsv" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
assert rows and set(rows[0]) >= {"method", "task", "hour", "cost", "opt", "lower_bound", "cert_gap", "fallback", "latency_us"}
for r in rows:
    opt, lb, cost = float(r["opt"]), float(r["lower_bound"]), float(r["cost"])
    assert lb <= opt * (1 + 1e-9), r
    assert cost <= opt * (1 + 0.001 + 1e-9), r
EOF
check "eval.polish=2: a second, labelled table" "$METAGRID" eval $CFG "${UNI[@]}" --no-plot --set eval.polish=2 \
    --checkpoint "$TMP/u/checkpoint.bin" --out "$TMP/ep"
check "  ... in report.md" grep -q "Second table: gaps after 2 polish passes" "$TMP/ep/report.md"
check "  ... paired also before the polish" grep -q '"metric": "gap_mean_unpolished"' "$TMP/ep/eval.json"
check "eval.steps=1: singular" "$METAGRID" eval $CFG "${UNI[@]}" --no-plot --set eval.steps=1 \
    --checkpoint "$TMP/u/checkpoint.bin" --out "$TMP/e1"
check "  ... 1 adaptation step" grep -q "1 adaptation step," "$TMP/e1/report.md"
check "sinusoid report.md" grep -q "| scratch" "$TMP/es1/report.md"
check "default --out is the first checkpoint's directory" "$METAGRID" eval $CFG "${SIN[@]}" \
    --no-plot --checkpoint "$TMP/s/checkpoint.bin"
check "  ... which now holds eval.json" test -s "$TMP/s/eval.json"
check "  ... and kept the training config.yaml" grep -q "iterations: 6" "$TMP/s/config.yaml"

# Plots, when gnuplot is there.
if command -v gnuplot >/dev/null 2>&1; then
    check "tools/plot.sh makes the three PNGs" bash tools/plot.sh "$TMP/eu1" "$TMP/u" "$TMP/u2"
    for p in learning_curves gaps; do
        check "  $p.png is a PNG" sh -c "file '$TMP/eu1/$p.png' | grep -q 'PNG image'"
    done
    check "  mse_by_step.png is a PNG" sh -c "file '$TMP/eu1/mse_by_step.png' | grep -q 'PNG image'"
else
    skip "plots" "gnuplot not installed"
fi

# Errors: exit 2, one line starting with "metagrid:", on every rank count.
one_error() { # want_rc cmd...
    local want=$1; shift
    "$@" >"$TMP/out" 2>"$TMP/err"; local rc=$?
    [ "$rc" = "$want" ] && [ "$(grep -c '^metagrid:' "$TMP/err")" = 1 ] || { echo "rc=$rc"; cat "$TMP/err"; return 1; }
}
check "bad --checkpoint path exits 2" one_error 2 "$METAGRID" eval $CFG "${UNI[@]}" --checkpoint "$TMP/nope.bin" --out "$TMP/x"
check "  ... naming the file" grep -q "nope.bin" "$TMP/err"
check "bad --checkpoint path at np=2: one message" one_error 2 $MPIRUN -np 2 "$METAGRID" eval $CFG "${UNI[@]}" --checkpoint "$TMP/nope.bin" --out "$TMP/x"
check "mismatched family exits 2" one_error 2 "$METAGRID" eval $CFG "${UNI[@]}" --checkpoint "$TMP/s/checkpoint.bin" --out "$TMP/x"
check "  ... naming the file and the family" grep -q "s/checkpoint.bin.*sinusoid" "$TMP/err"
check "mismatched sizes at np=2 exit 2" one_error 2 $MPIRUN -np 2 "$METAGRID" eval $CFG "${UNI[@]}" --set task.n_supply=4 --checkpoint "$TMP/u/checkpoint.bin" --out "$TMP/x"
head -c 100 "$TMP/u/checkpoint.bin" >"$TMP/trunc.bin"
check "truncated checkpoint exits 2" one_error 2 "$METAGRID" eval $CFG "${UNI[@]}" --checkpoint "$TMP/trunc.bin" --out "$TMP/x"
check "no --checkpoint exits 2" one_error 2 "$METAGRID" eval $CFG "${UNI[@]}"
check "missing CONFIG exits 2" one_error 2 "$METAGRID" eval --checkpoint "$TMP/u/checkpoint.bin"
check "unknown option exits 2" one_error 2 "$METAGRID" eval $CFG --bogus --checkpoint "$TMP/u/checkpoint.bin"
check "--set without = exits 2" one_error 2 "$METAGRID" eval $CFG --set eval.tasks --checkpoint "$TMP/u/checkpoint.bin"
check "unknown key exits 2" one_error 2 "$METAGRID" eval $CFG --set eval.taks=3 --checkpoint "$TMP/u/checkpoint.bin"
for kv in "polish: -1" "tolerance: -0.5" "tolerance: .nan" "tolerance: .inf" "horizon: 0"; do
    key=${kv%%:*}
    printf 'seed: 1\neval:\n  %s\n' "$kv" >"$TMP/bad_$key.yaml"
    check "eval.$kv exits 2" one_error 2 "$METAGRID" eval "$TMP/bad_$key.yaml" --checkpoint "$TMP/u/checkpoint.bin" --out "$TMP/x"
    check "  ... naming FILE:LINE and eval.$key" grep -q "bad_$key.yaml:3.*eval.$key" "$TMP/err"
done
check "no output dir written on errors" test ! -e "$TMP/x"
check "--help exits 0" sh -c "'$METAGRID' eval --help | grep -q -- --checkpoint"
report
