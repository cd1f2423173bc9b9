#!/usr/bin/env bash
# e2e_grid.sh — real grids end to end: `metagrid case` on the eight shipped
# PGLib cases agrees with data/grids/README.md; malformed cases exit 2 with
# one `metagrid: FILE:LINE: problem`; a grid config (relative task.case)
# trains on 2 ranks and records the case's sizes and absolute path.
cd "$(dirname "$0")/.." && source tests/lib.sh

one_error() { # want_rc pattern cmd...: exits want_rc, one "metagrid:" line matching pattern
    local want=$1 pat=$2; shift 2
    "$@" >"$TMP/out" 2>"$TMP/err"; local rc=$?
    [ "$rc" = "$want" ] && [ "$(grep -c '^metagrid:' "$TMP/err")" = 1 ] &&
        grep -q -- "$pat" "$TMP/err" || { echo "rc=$rc"; cat "$TMP/err"; return 1; }
}

for f in data/grids/*.m; do
    check "case $(basename "$f")" sh -c "\"$METAGRID\" case '$f' > '$TMP/$(basename "$f").json'"
done
check "case JSON agrees with data/grids/README.md" python3 - "$TMP" <<'PY'
import json, os, re, sys
rows = [l for l in open("data/grids/README.md") if l.startswith("| pglib")]
assert len(rows) == 8, rows
for r in rows:
    f, n, m, pd, pmax = [c.strip() for c in r.strip().strip("|").split("|")]
    j = json.load(open(os.path.join(sys.argv[1], f + ".json")))
    assert j["n_demand"] == int(n) and j["n_supply"] == int(m), (f, j["n_demand"], j["n_supply"])
    assert abs(j["total_demand"] - float(pd)) < 1 and abs(j["total_capacity"] - float(pmax)) < 1, f
    ids = j["demand_ids"] + j["supply_ids"]
    assert len(ids) == len(set(ids)) == int(n) + int(m), f
    assert all(re.fullmatch(r"(bus|gen)[0-9]+", i) for i in ids), f
    assert 0 <= j["cost_min"] <= j["cost_max"], f
PY
check "case --help" sh -c "\"$METAGRID\" case --help > /dev/null"
check "transmission_cost raises cost_max" python3 - "$METAGRID" <<'PY'
import json, subprocess, sys
run = lambda *a: json.loads(subprocess.check_output([sys.argv[1], "case", "data/grids/pglib_opf_case30_ieee.m", *a]))
a, b = run(), run("--set", "task.transmission_cost=100")
assert b["cost_max"] > a["cost_max"] + 1 and b["transmission_cost"] == 100, (a, b)
PY

# malformed cases: exit 2, FILE:LINE and the problem
good=data/grids/pglib_opf_case5_pjm.m
sed '40s/300.0/NaN/' $good > "$TMP/nan.m"
check "NaN Pd: FILE:LINE" one_error 2 "nan.m:40: NaN or infinity" "$METAGRID" case "$TMP/nan.m"
sed '50s/ 1	 170.0/ 1	 -170.0/' $good > "$TMP/negpmax.m"
check "negative Pmax" one_error 2 "negpmax.m:50: mpc.gen: negative Pmax" "$METAGRID" case "$TMP/negpmax.m"
sed '70s/^	1	 4/	1	 44/' $good > "$TMP/badbr.m"
check "branch to an unknown bus" one_error 2 "badbr.m:70: mpc.branch: branch to unknown bus 44" "$METAGRID" case "$TMP/badbr.m"
sed '51s/ 0.0;$/;/' $good > "$TMP/ragged.m"
check "ragged gen row" one_error 2 "ragged.m:51: mpc.gen: row has 9 columns" "$METAGRID" case "$TMP/ragged.m"
sed '58,64d' $good > "$TMP/nocost.m"
check "no gencost" one_error 2 "nocost.m: mpc.gencost is missing" "$METAGRID" case "$TMP/nocost.m"
sed 's/ 300.0	 98.61/ 3000.0	 98.61/' $good > "$TMP/short.m"
check "capacity below demand" one_error 2 "short.m: total capacity 1530 MW is below total demand" "$METAGRID" case "$TMP/short.m"
check "missing file" one_error 2 "nosuch.m" "$METAGRID" case "$TMP/nosuch.m"
head -c 100 /dev/urandom > "$TMP/junk.m"
check "binary junk" one_error 2 "junk.m:" "$METAGRID" case "$TMP/junk.m"
check "bad --set" one_error 2 "task.transmission_cost" "$METAGRID" case $good --set task.transmission_cost=-1
check "no CASE" one_error 2 "expected one CASE.m" "$METAGRID" case

# a grid run: relative task.case resolved from the config's directory
mkdir -p "$TMP/cfg"
cat > "$TMP/cfg/g.yaml" <<YAML
task: {family: grid, case: $PWD/data/grids/pglib_opf_case14_ieee.m, k_support: 3, k_query: 3}
model: {hidden: [8]}
train: {iterations: 3, meta_batch: 2, log_every: 1}
YAML
cp data/grids/pglib_opf_case30_ieee.m "$TMP/cfg/c30.m"
sed 's#case: .*\.m,#case: c30.m,#' "$TMP/cfg/g.yaml" > "$TMP/cfg/rel.yaml"
check "grid train on 2 ranks (relative case path)" $MPIRUN -np 2 "$METAGRID" train "$TMP/cfg/rel.yaml" --out "$TMP/run"
check "config.yaml records the sizes and the absolute case" sh -c "grep -q 'n_demand: 21' '$TMP/run/config.yaml' && grep -q \"case: '$TMP/cfg/c30.m'\" '$TMP/run/config.yaml'"
check "grid train: 3 iterations logged" test "$(wc -l < "$TMP/run/metrics.jsonl")" = 3
check "grid without a case is refused" one_error 2 "task.case" "$METAGRID" train "$TMP/cfg/g.yaml" --set task.case= --out "$TMP/r2"
report
