#!/usr/bin/env bash
# e2e_predict.sh — the operator workflow end to end on case5: train a small
# grid checkpoint, `metagrid predict` on the shipped example CSVs writes
# allocations that meet every demand and capacity of the CSV, hours.csv and
# summary.json consistent with them; every kind of bad input exits 2 with
# one `metagrid: FILE:LINE: problem` and leaves DIR absent.
cd "$(dirname "$0")/.." && source tests/lib.sh

CASE=data/grids/pglib_opf_case5_pjm.m
HIST=data/grids/examples/case5_history.csv
HOURS=data/grids/examples/case5_hours.csv
one_error() { # pattern cmd...: exit 2, one "metagrid:" line matching pattern, $TMP/bad absent
    local pat=$1; shift
    "$@" >"$TMP/out" 2>"$TMP/err"; local rc=$?
    [ "$rc" = 2 ] && [ "$(grep -c '^metagrid:' "$TMP/err")" = 1 ] && grep -q -- "$pat" "$TMP/err" &&
        [ ! -e "$TMP/bad" ] || { echo "rc=$rc"; cat "$TMP/err"; return 1; }
}
predict_bad() { # pattern hist hours [args...]
    local pat=$1 h=$2 o=$3; shift 3
    one_error "$pat" "$METAGRID" predict "$TMP/run/checkpoint.bin" --case $CASE --history "$h" --hours "$o" --out "$TMP/bad" "$@"
}

check "train a case5 grid checkpoint" "$METAGRID" train configs/grid5.yaml --set train.iterations=40 --out "$TMP/run"
check "predict --help" sh -c "\"$METAGRID\" predict --help > /dev/null"
check "predict on the example" "$METAGRID" predict "$TMP/run/checkpoint.bin" --case $CASE --history $HIST --hours $HOURS --out "$TMP/p"
valid_out() { python3 - "$1" $HOURS "$METAGRID" <<'PY'
import csv, json, math, sys
out, hours = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(hours)))
alloc = list(csv.DictReader(open(out + "/allocations.csv")))
hrs = list(csv.DictReader(open(out + "/hours.csv")))
summ = json.load(open(out + "/summary.json"))
assert [h["hour"] for h in hrs] == [r["hour"] for r in rows]
assert list(hrs[0].keys()) == ["hour", "cost", "lower_bound", "cert_gap", "fallback"], hrs[0].keys()
assert list(alloc[0].keys()) == ["hour", "demand_id", "supply_id", "mw"]
import subprocess
cj = json.loads(subprocess.check_output([sys.argv[3], "case", "data/grids/pglib_opf_case5_pjm.m", "--set", "task.transmission_cost=20"]))
nfb = 0
for r, h in zip(rows, hrs):
    got = {}
    for a in alloc:
        if a["hour"] == r["hour"]:
            assert float(a["mw"]) > 0
            got[(a["demand_id"], a["supply_id"])] = float(a["mw"])
    for i in cj["demand_ids"]:
        tot = sum(v for (di, sj), v in got.items() if di == i)
        assert abs(tot - float(r[i])) <= 1e-6 * max(1, float(r[i])), (r["hour"], i, tot, r[i])
    for j in cj["supply_ids"]:
        tot = sum(v for (di, sj), v in got.items() if sj == j)
        assert tot <= float(r[j]) * (1 + 1e-9) + 1e-9, (r["hour"], j, tot, r[j])
    cost, lb, gap, fb = float(h["cost"]), float(h["lower_bound"]), float(h["cert_gap"]), int(h["fallback"])
    assert lb <= cost * (1 + 1e-9) and fb in (0, 1)
    assert gap <= summ["tolerance"] * (1 + 1e-9) + 1e-12, (h, summ["tolerance"])  # + rounding of a bound
    nfb += fb
assert summ["n_hours"] == len(rows) == 24 and summ["n_history"] == 8 and summ["n_fallback"] == nfb
assert abs(summ["total_cost"] - sum(float(h["cost"]) for h in hrs)) < 1e-6 * summ["total_cost"]
PY
}
check "allocations meet every demand and capacity; hours.csv and summary agree" valid_out "$TMP/p"
# the anchored price head: the history hours' prices are its anchors (anchor.h)
check "train an anchored price-head checkpoint" "$METAGRID" train configs/grid5.yaml \
    --set train.iterations=40 --set model.head=prices --set model.loss=mse \
    --set model.anchor=nearest --out "$TMP/runa"
check "predict with the anchored head" "$METAGRID" predict "$TMP/runa/checkpoint.bin" --case $CASE \
    --history $HIST --hours $HOURS --out "$TMP/pa"
check "anchored: allocations meet every demand and capacity" valid_out "$TMP/pa"
check "tolerance 0: every hour certified optimal or solved" sh -c "\"$METAGRID\" predict '$TMP/run/checkpoint.bin' --case $CASE --history $HIST --hours $HOURS --out '$TMP/p0' --set eval.tolerance=0 >/dev/null && awk -F, 'NR>1 && \$4 > 1e-12 {bad=1} END {exit bad}' '$TMP/p0/hours.csv'"

# eval.fallback: simplex — the same hours re-solved to the same optima, certified
check "tolerance 0, simplex fallback" "$METAGRID" predict "$TMP/run/checkpoint.bin" --case $CASE \
    --history $HIST --hours $HOURS --out "$TMP/p0s" --set eval.tolerance=0 --set eval.fallback=simplex
check "simplex fallback: valid allocations" valid_out "$TMP/p0s"
check "simplex fallback: the same costs and fallbacks as GLPK's, certified" python3 - "$TMP/p0" "$TMP/p0s" <<'PY'
import csv, sys
a = list(csv.DictReader(open(sys.argv[1] + "/hours.csv")))
b = list(csv.DictReader(open(sys.argv[2] + "/hours.csv")))
assert len(a) == len(b) == 24 and sum(int(r["fallback"]) for r in b) > 0
for x, y in zip(a, b):
    assert x["fallback"] == y["fallback"], (x, y)
    assert abs(float(x["cost"]) - float(y["cost"])) <= 1e-9 * float(x["cost"]), (x, y)
    assert float(y["cert_gap"]) <= 1e-12 and float(y["lower_bound"]) <= float(y["cost"]) * (1 + 1e-12), y
PY

# bad CSV input: FILE:LINE, nothing written
H=hour,bus2,bus3,bus4,gen1,gen2,gen3,gen4,gen5
printf '%s\nh1,100,100,100,40,170,520,200,300\n' "hour,bus2,bus3,gen1,gen2,gen3,gen4,gen5" > "$TMP/miss.csv"
check "missing id column" predict_bad "miss.csv:1: missing column 'bus4'" "$TMP/miss.csv" $HOURS
printf '%s,bus9\nh1,1,1,1,40,170,520,200,300,1\n' "$H" > "$TMP/unk.csv"
check "unknown id" predict_bad "unk.csv:1: unknown id 'bus9'" $HIST "$TMP/unk.csv"
printf '%s,bus2\n' "$H" > "$TMP/dup.csv"
check "duplicate column" predict_bad "dup.csv:1: duplicate column 'bus2'" "$TMP/dup.csv" $HOURS
printf '%s\nh1,1,1,1,40,170,520,200,300\nh2,1,1\n' "$H" > "$TMP/ragged.csv"
check "ragged row" predict_bad "ragged.csv:3: fewer fields" $HIST "$TMP/ragged.csv"
printf '%s\nh1,1,1,abc,40,170,520,200,300\n' "$H" > "$TMP/nan.csv"
check "non-number" predict_bad "nan.csv:2: bus4: not a number: 'abc'" $HIST "$TMP/nan.csv"
printf '%s\nh1,1,1,1,40,-170,520,200,300\n' "$H" > "$TMP/neg.csv"
check "negative value" predict_bad "neg.csv:2: gen2: negative value" "$TMP/neg.csv" $HOURS
printf '%s\nh1,500,500,500,40,170,520,200,300\n' "$H" > "$TMP/infeas.csv"
check "infeasible hour" predict_bad "infeas.csv:2: hour 'h1': capacities (1230 MW) cannot meet the demands (1500 MW)" $HIST "$TMP/infeas.csv"
printf '%s\n' "$H" > "$TMP/empty.csv"
check "no hours" predict_bad "empty.csv:1: no hours" $HIST "$TMP/empty.csv"
check "missing CSV file" predict_bad "nosuch.csv" $HIST "$TMP/nosuch.csv"
check "bad --set" predict_bad "eval.tolerance" $HIST $HOURS --set eval.tolerance=-1
check "case of another size" one_error "has 11 loads x 2 generators, but" "$METAGRID" predict "$TMP/run/checkpoint.bin" --case data/grids/pglib_opf_case14_ieee.m --history $HIST --hours $HOURS --out "$TMP/bad"
check "corrupt checkpoint" sh -c "head -c 100 '$TMP/run/checkpoint.bin' > '$TMP/trunc.bin'"
check "truncated checkpoint" one_error "trunc.bin" "$METAGRID" predict "$TMP/trunc.bin" --case $CASE --history $HIST --hours $HOURS --out "$TMP/bad"
check "missing --out" one_error "--out is required" "$METAGRID" predict "$TMP/run/checkpoint.bin" --case $CASE --history $HIST --hours $HOURS
report
