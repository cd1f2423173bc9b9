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

# -- resume with a changed config names the keys and the fix ----------------------
T=(configs/seed.yaml --set train.iterations=6 --set train.log_every=0)
d=$TMP/changed
"$METAGRID" train "${T[@]}" --out "$d" >/dev/null 2>&1
cp "$d/config.yaml" "$TMP/changed.config.yaml"; sum=$(sha1sum <"$d/checkpoint.bin")
"$METAGRID" train "${T[@]}" --set model.hidden=[32] --set algo.inner_lr=0.5 --out "$d" --resume >/dev/null 2>"$TMP/changed.err"; rc=$?
check "resume, changed config: exit 2 (got $rc)" test "$rc" = 2
check "  ... one message naming each differing key with both values" \
    bash -c "[ \$(wc -l <'$TMP/changed.err') = 1 ] && grep -q 'model.hidden is \[64\] there, \[32\] here; algo.inner_lr is 0.01 there, 0.5 here' '$TMP/changed.err'"
check "  ... and the fix (the checkpoint's config.yaml, or another --out)" \
    grep -q "its config is $d/config.yaml.*another --out" "$TMP/changed.err"
check "  ... checkpoint and config.yaml untouched" \
    bash -c "[ \"\$(sha1sum <'$d/checkpoint.bin')\" = '$sum' ] && cmp -s '$d/config.yaml' '$TMP/changed.config.yaml'"
check "resume with more iterations (run control) still works" \
    bash -c "'$METAGRID' train ${T[*]} --set train.iterations=8 --out '$d' --resume >/dev/null"

# -- eval: the step size is an eval key; algo.* overrides are never ignored ---------
E=(configs/seed.yaml --checkpoint "$d/checkpoint.bin" --set eval.tasks=3 --set eval.query=4 --no-plot)
"$METAGRID" eval "${E[@]}" --set algo.inner_lr=0.5 --out "$TMP/ev1" >/dev/null 2>"$TMP/ev1.err"; rc=$?
check "eval --set algo.inner_lr=0.5: refused, exit 2 (got $rc)" test "$rc" = 2
check "  ... pointing to eval.inner_lr" grep -q "use --set eval.inner_lr=0.5" "$TMP/ev1.err"
check "  ... nothing written" test ! -e "$TMP/ev1"
check "eval --set algo.inner_steps: points to eval.steps" \
    bash -c "'$METAGRID' eval ${E[*]} --set algo.inner_steps=3 --out '$TMP/ev0' 2>&1 | grep -q 'use --set eval.steps=3'"
check "eval --set model.hidden: refused" \
    bash -c "! '$METAGRID' eval ${E[*]} --set model.hidden=[8] --out '$TMP/ev0' 2>/dev/null"
check "eval --set algo.inner_lr equal to the checkpoint's (as sweeps pass it): accepted" \
    "$METAGRID" eval "${E[@]}" --set algo.inner_lr=0.01 --out "$TMP/ev2" >/dev/null 2>&1
check "eval --set eval.inner_lr=0.5 runs" "$METAGRID" eval "${E[@]}" --set eval.inner_lr=0.5 --out "$TMP/ev3" >/dev/null 2>&1
mse() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["methods"]["fomaml"]["mse"])' "$1/eval.json"; }
check "  ... and changes the adapted result" test "$(mse "$TMP/ev2")" != "$(mse "$TMP/ev3")"
check "  ... recorded in eval_config.yaml" bash -c "sed -n '/^eval:/,\$p' '$TMP/ev3/eval_config.yaml' | grep -q 'inner_lr: 0.5'"

# -- help for every topic, each with an example ------------------------------------
for t in train eval sweep inspect gradcheck bench; do
    check "help $t: exit 0, same as $t --help, with an example" \
        bash -c "'$METAGRID' help $t >'$TMP/h1' && '$METAGRID' $t --help >'$TMP/h2' && cmp -s '$TMP/h1' '$TMP/h2' && grep -q '^Example' '$TMP/h1'"
done
check "help config: the key table" bash -c "'$METAGRID' help config | grep -q '^| \`eval.inner_lr\` |'"
check "help sweep: lists the sweep-file keys" \
    bash -c "h=\$('$METAGRID' help sweep); for k in name base method num_samples seed ranks metric parameters slurm; do echo \"\$h\" | grep -q \"^  \$k \" || exit 1; done"
check_rc 2 "help of an unknown topic: exit 2" bash -c "'$METAGRID' help nope 2>'$TMP/h3'"
check "  ... listing the topics" grep -q "topics: config and every subcommand" "$TMP/h3"
check "metagrid --help: an example" bash -c "'$METAGRID' --help | grep -q '^Example'"
check "gradcheck --help: no broken line" bash -c "! '$METAGRID' gradcheck --help | grep -qx '[a-z ]\{1,12\}\.'"
check "configs point to the README section that exists" \
    bash -c "! grep -rn 'Config reference' configs/ && grep -q '^## Configuration' README.md"

# -- what-where-fix messages ---------------------------------------------------------
msg() { "$@" >/dev/null 2>"$TMP/msg"; echo $? >"$TMP/rc"; }
msg "$METAGRID" train configs/
check "train configs/ (a directory): exit 2 saying so, listing its YAML files" \
    bash -c "[ \$(cat '$TMP/rc') = 2 ] && grep -q '^metagrid: train: configs/ is a directory; CONFIG is a YAML file (there: .*default.yaml' '$TMP/msg'"
msg "$METAGRID" eval "$d/checkpoint.bin" --checkpoint "$d/checkpoint.bin"
check "eval CKPT --checkpoint CKPT: CONFIG comes first, with the command" \
    bash -c "[ \$(cat '$TMP/rc') = 2 ] && grep -qF 'is a checkpoint, but the first argument is CONFIG (a YAML file): metagrid eval $d/config.yaml --checkpoint $d/checkpoint.bin' '$TMP/msg'"
msg "$METAGRID" train "$d/checkpoint.bin"
check "train CKPT: says how to continue its run" \
    bash -c "[ \$(cat '$TMP/rc') = 2 ] && grep -qF 'to continue its run: metagrid train $d/config.yaml --out $d --resume' '$TMP/msg'"
d0=$TMP/zero
"$METAGRID" train configs/seed.yaml --set train.iterations=0 --out "$d0" >"$TMP/zero.out" 2>&1
check "--set train.iterations=0 writes a checkpoint (the initialisation)" \
    bash -c "'$METAGRID' inspect '$d0/checkpoint.bin' | grep -q '\"iter\": 0' && test -e '$d0/done'"
q=$(sed -n 's/^#   metagrid train configs\/sinusoid.yaml \(.*--set train.iterations=[0-9]*.*\) --out .*/\1/p' configs/sinusoid.yaml)
"$METAGRID" train configs/sinusoid.yaml $q --set model.hidden=[8] --out "$TMP/quick" >/dev/null 2>&1
check "sinusoid quick look ($q) logs more than 2 points" test "$(cat "$TMP/quick/metrics.jsonl" 2>/dev/null | wc -l)" -gt 2

# -- read-only folders (as user nobody; root may write anywhere) --------------------
# (the checkout must be readable by nobody: not so under /root, mode 700, a
# minimal root's natural place for it — then this part is skipped)
NB=(setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp)
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && "${NB[@]}" test -x "$METAGRID" &&
   "${NB[@]}" test -r configs/seed.yaml; then
    ro=$TMP/ro; mkdir -p "$ro"
    "$METAGRID" train configs/seed.yaml --set train.iterations=6 --set train.log_every=0 --out "$ro/run" >/dev/null 2>&1
    chmod a+rx "$TMP"; chmod -R a+rX "$ro"; chmod -R a-w "$ro"
    snap=$(cd "$ro/run" && ls -l --time-style=+%s.%N && sha1sum *)
    "${NB[@]}" "$METAGRID" eval configs/seed.yaml --checkpoint "$ro/run/checkpoint.bin" --set eval.tasks=2 --no-plot >/dev/null 2>"$TMP/ro.err"; rc=$?
    check "eval into a read-only folder: exit 2 before evaluating (got $rc)" test "$rc" = 2
    check "  ... suggests --out" grep -q "cannot write there (Permission denied) (the default output folder is the first checkpoint's); write the results elsewhere with --out DIR" "$TMP/ro.err"
    "${NB[@]}" "$METAGRID" train configs/seed.yaml --set train.iterations=6 --set train.log_every=0 --out "$ro/run" --resume >"$TMP/ro2.out" 2>&1; rc=$?
    check "no-op resume in a read-only folder: exit 0 (got $rc)" test "$rc" = 0
    check "  ... says there is nothing to do" grep -q "nothing to do, already at iteration 6 of 6" "$TMP/ro2.out"
    check "  ... and touched no file" test "$snap" = "$(cd "$ro/run" && ls -l --time-style=+%s.%N && sha1sum *)"
    chmod -R u+w "$ro"
else
    skip "read-only folders" "needs root, setpriv and a checkout user nobody can read"
fi

report
