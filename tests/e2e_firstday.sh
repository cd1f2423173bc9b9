#!/usr/bin/env bash
# e2e_firstday.sh — a new user's first day: `make run` never deletes a run,
# every error for a user mistake says what, where and how to fix it, help
# for every topic.
cd "$(dirname "$0")/.." && source tests/lib.sh
ROOT=$PWD

# -- make run (tools/run_default.sh) writes a fresh folder, deletes nothing ------
# A copy of the repository's script runs in a scratch tree (it writes runs/
# next to its tools/ folder), with a tiny config.
R=$TMP/repo
mkdir -p "$R/tools" "$R/configs" "$R/runs/default" "$R/runs/default-pretrain" "$R/runs/default-eval"
cp tools/run_default.sh "$R/tools/"
cat >"$R/configs/tiny.yaml" <<EOF
task: {family: uniform, n_demand: 3, n_supply: 2, k_support: 4, k_query: 4}
model: {hidden: [8]}
train: {iterations: 20, meta_batch: 4}
eval: {tasks: 4, query: 4, steps: 2}
EOF
for d in default default-pretrain default-eval; do echo mine >"$R/runs/$d/notes.txt"; done
# folders named like the ones it makes, for this second and the next few
now=$(date +%s)
for i in 0 1 2 3 4 5; do
    d="$R/runs/default-$(date -d "@$((now + i))" +%Y%m%d-%H%M%S)"
    mkdir -p "$d" && echo mine >"$d/notes.txt"
done
before=$(cd "$R/runs" && find . -type f | sort | xargs sha1sum)
run_default() { (cd "$R" && CONFIG=configs/tiny.yaml SKIP_PRETRAIN=${SKIP:-0} bash tools/run_default.sh "$METAGRID"); }
run_default >"$TMP/run1.out" 2>&1; rc=$?
check "make run script: exit 0 beside existing run folders (got $rc)" test "$rc" = 0
after=$(cd "$R/runs" && find . -type f -name notes.txt | sort | xargs sha1sum)
check "make run script: every file that was there is still there, unchanged" test "$before" = "$after"
new=$(sed -n 's/^== done in [0-9]* s: \(.*\)\/eval\/report.md$/\1/p' "$TMP/run1.out")
check "make run script: names its own new folder ($new)" test -n "$new" -a -s "$R/$new/eval/report.md"
check "  ... with both checkpoints" test -s "$R/$new/maml/checkpoint.bin" -a -s "$R/$new/pretrain/checkpoint.bin"
SKIP=1 run_default >"$TMP/run2.out" 2>&1
new2=$(sed -n 's/^== done in [0-9]* s: \(.*\)\/eval\/report.md$/\1/p' "$TMP/run2.out")
check "make run script: a second run gets another folder ($new2)" test -n "$new2" -a "$new2" != "$new" -a -s "$R/$new2/eval/report.md"
check "  ... and the first run is untouched" test -s "$R/$new/pretrain/checkpoint.bin"
mkdir -p "$R/mine" && echo mine >"$R/mine/notes.txt"
(cd "$R" && OUT=mine CONFIG=configs/tiny.yaml bash tools/run_default.sh "$METAGRID") >"$TMP/run3.out" 2>&1; rc=$?
check "make run script: OUT= a non-empty folder is refused (exit $rc)" test "$rc" = 2
check "  ... saying which OUT to use" grep -q "OUT=.*already exists and is not empty; nothing was changed. Choose a new folder" "$TMP/run3.out"
check "  ... and leaves it as it was" test "$(ls -A "$R/mine")" = notes.txt
# make clean removes the build folders it makes, not a folder that only looks like one
M=$TMP/mk
mkdir -p "$M/build/obj/core" "$M/build-san/obj" "$M/build-notes" "$M/runs/a"
echo x >"$M/build/metagrid"; echo mine >"$M/build-notes/notes.txt"; echo mine >"$M/runs/a/notes.txt"
make -s -C "$M" -f "$ROOT/Makefile" clean >/dev/null 2>&1
check "make clean: build folders removed" test ! -e "$M/build" -a ! -e "$M/build-san"
check "make clean: build-notes (no obj/) and runs/ kept" test -s "$M/build-notes/notes.txt" -a -s "$M/runs/a/notes.txt"

report
