#!/usr/bin/env bash
# e2e_prices.sh — the price head end to end: a tiny region run with each loss
# trains (meta-loss falls), `bench policy` prints its lines with finite
# fields, certificates never above the optimum and every transportation
# simplex exact; the anchored head trains, evaluates and benches; the bad-input
# rules: a non-prices checkpoint for bench policy, and eval of a checkpoint
# whose head differs from the config's (exit 2 naming model.head).
cd "$(dirname "$0")/.." && source tests/lib.sh

TINY=(--set task.family=region --set task.n_demand=8 --set task.n_supply=4
      --set model.hidden=[16] --set model.head=prices --set algo.inner_lr=0.1
      --set task.k_support=4 --set task.k_query=4 --set train.meta_batch=4
      --set train.iterations=60 --set train.log_every=5 --set train.meta_lr=0.003)
falls() { python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
first = sum(r["meta_loss"] for r in rows[:3]) / 3
last = sum(r["meta_loss"] for r in rows[-3:]) / 3
assert last < first, (first, last)' "$1"; }
for loss in mse lagrangian; do
    check "train prices $loss" "$METAGRID" train configs/seed.yaml "${TINY[@]}" \
        --set model.loss=$loss --out "$TMP/$loss" >/dev/null
    check "prices $loss: meta-loss falls" falls "$TMP/$loss/metrics.jsonl"
done
bench() { "$METAGRID" bench policy "$TMP/lagrangian/checkpoint.bin" --tasks 3 --hours 5 >"$TMP/bench.out"; }
check "bench policy" bench
check "bench policy: nine methods, finite, gaps >= 0, certified_frac in [0, 1], every simplex exact" python3 -c '
import json, math, sys
rows = {r["method"]: r for r in map(json.loads, open(sys.argv[1]))}
simplex = {"prices_simplex", "simplex_warm", "simplex_support_duals", "simplex_nearest", "simplex_cold"}
assert set(rows) == {"prices", "prices_fallback", "support_duals", "solver_warm"} | simplex, rows
for k in simplex:   # every solve optimal at GLPK s cost and certified (bench_simplex)
    assert rows[k]["not_optimal"] == 0 and rows[k]["pivots_mean"] >= 0, rows[k]
    assert math.isfinite(rows[k]["us_median"]) and rows[k]["us_median"] > 0, rows[k]
p = rows["prices"]
for k in ("us_median", "us_mean", "speedup_median", "gap_median", "gap_p95", "cert_gap_median", "cert_gap_p95"):
    assert math.isfinite(p[k]) and p[k] >= -1e-12, (k, p[k])
assert p["cert_gap_p95"] >= p["gap_p95"] - 1e-9   # a certificate never claims more than the truth
assert 0 <= p["certified_frac"] <= 1 and p["hours"] == 5 and p["tasks"] == 3
assert rows["prices_fallback"]["us_mean"] >= p["us_mean"] * 0.999' "$TMP/bench.out"

# the anchored head (model.anchor: nearest): trains, and eval and bench policy
# run it (policy_set_support); a zero-adapted anchor must not be worse than
# nonsense: every returned allocation within the tolerance after fallback
check "train prices anchored" "$METAGRID" train configs/seed.yaml "${TINY[@]}" \
    --set model.anchor=nearest --out "$TMP/anchor" >/dev/null
# it starts from the nearest support hour's GLPK prices: a far lower loss
# than the plain head's start (same seed, same tasks)
check "anchored: starts below the plain head" python3 -c '
import json, sys
first = lambda f: sum(json.loads(l)["meta_loss"] for l in list(open(f))[:3]) / 3
assert first(sys.argv[1]) < 0.5 * first(sys.argv[2]), (first(sys.argv[1]), first(sys.argv[2]))' \
    "$TMP/anchor/metrics.jsonl" "$TMP/mse/metrics.jsonl"
check "anchored: eval" "$METAGRID" eval "$TMP/anchor/config.yaml" --set eval.tasks=3 \
    --checkpoint "$TMP/anchor/checkpoint.bin" --out "$TMP/anchor_ev" >/dev/null
check "anchored: eval.json, every hour within tolerance after fallback" python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["methods"]
lp = [v for v in m.values() if "gap_max_after_fallback" in v]
assert len(lp) >= 8 and all(v["gap_max_after_fallback"] <= 1e-3 + 1e-12 for v in lp), m
assert all(v["feasible_frac"] == 1.0 for v in lp), m' "$TMP/anchor_ev/eval.json"
bench_anchor() { "$METAGRID" bench policy "$TMP/anchor/checkpoint.bin" --tasks 2 --hours 3 \
    >"$TMP/bench_anchor.out"; }
check "anchored: bench policy" bench_anchor
check "anchored: bench policy, nine lines" test "$(wc -l <"$TMP/bench_anchor.out")" = 9

# bad input
check "train alloc" "$METAGRID" train configs/seed.yaml "${TINY[@]}" --set model.head=alloc \
    --set train.iterations=2 --out "$TMP/alloc" >/dev/null
check_rc 2 "bench policy refuses an alloc checkpoint" "$METAGRID" bench policy \
    "$TMP/alloc/checkpoint.bin" 2>"$TMP/err"
check "bench policy message names model.head" grep -q 'model.head' "$TMP/err"
sed -e 's/^  head: prices/  head: alloc/' -e 's/^  loss: lagrangian/  loss: mse/' \
    "$TMP/lagrangian/config.yaml" >"$TMP/alloc.yaml"
check "alloc config written" grep -q '^  head: alloc' "$TMP/alloc.yaml"
check_rc 2 "eval: prices checkpoint, alloc config" "$METAGRID" eval "$TMP/alloc.yaml" \
    --set eval.tasks=2 --checkpoint "$TMP/lagrangian/checkpoint.bin" --out "$TMP/ev1" 2>"$TMP/err"
check "eval head mismatch names model.head" grep -q 'model.head: trained with model.head=prices' "$TMP/err"
check "eval head mismatch writes nothing" test ! -e "$TMP/ev1/eval.json"
check_rc 2 "bench policy without a checkpoint" "$METAGRID" bench policy 2>/dev/null
check_rc 2 "bench policy --hours 0" "$METAGRID" bench policy "$TMP/lagrangian/checkpoint.bin" \
    --hours 0 2>/dev/null
report
