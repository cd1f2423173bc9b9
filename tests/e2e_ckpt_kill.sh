#!/usr/bin/env bash
# e2e_ckpt_kill.sh — kill -9 a training run (a checkpoint every iteration) at
# random moments: checkpoint.bin always loads (inspect), its iteration never
# goes back, and --resume then finishes with parameters bit-identical to an
# uninterrupted run (issue 5, point 5, at the level of the whole program).
cd "$(dirname "$0")/.." && source tests/lib.sh

RUN=(--set task.family=uniform --set task.n_demand=3 --set task.n_supply=2
     --set model.hidden=[32,32] --set algo.name=maml --set algo.inner_steps=1
     --set task.k_support=4 --set task.k_query=4 --set train.meta_batch=4
     --set train.iterations=300 --set train.checkpoint_every=1 --set train.log_every=10)
params() { "$METAGRID" inspect --params "$1/checkpoint.bin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["params"])'; }
iter_of() { "$METAGRID" inspect "$1/checkpoint.bin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["iter"])'; }
now_ms() { date +%s%3N; }

t0=$(now_ms)
check "uninterrupted run" "$METAGRID" train configs/seed.yaml "${RUN[@]}" --out "$TMP/ref"
ms=$(( $(now_ms) - t0 ))
echo "uninterrupted run: ${ms} ms"
ref=$(params "$TMP/ref")

# Each round: start (or resume) the run, wait until it has written a new
# checkpoint (checkpoint.bin's inode changes at each rename), then kill -9 it
# after a random 0-40 ms, i.e. during one of the next iterations or writes.
d=$TMP/killed
inode() { stat -c %i "$d/checkpoint.bin" 2>/dev/null || echo none; }
last=0 kills=0 bad=0 back=0 rounds=6
for round in $(seq $rounds); do
    ino=$(inode)
    "$METAGRID" train configs/seed.yaml "${RUN[@]}" --out "$d" --resume >/dev/null 2>"$TMP/err" &
    pid=$!
    for _ in $(seq 2000); do [ "$(inode)" != "$ino" ] || ! kill -0 "$pid" 2>/dev/null && break; sleep 0.005; done
    delay=$((RANDOM % 40))
    sleep "0.$(printf '%03d' $delay)"
    if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
    wait "$pid" 2>/dev/null
    it=$(iter_of "$d" 2>"$TMP/ierr") || { bad=$((bad + 1)); cat "$TMP/ierr"; continue; }
    echo "round $round: killed ${delay} ms after a checkpoint; checkpoint iter $it$([ -e "$d/checkpoint.bin.tmp" ] && echo ', temporary present')"
    [ "$it" -ge "$last" ] || back=$((back + 1))
    last=$it
done
check "most runs were killed mid-way" test "$kills" -ge $((rounds - 1))
check "checkpoint.bin loadable after every kill" test "$bad" = 0
check "the checkpoint never went back" test "$back" = 0
check "resume after the kills finishes" "$METAGRID" train configs/seed.yaml "${RUN[@]}" --out "$d" --resume
check "final parameters bit-identical to the uninterrupted run" test "$(params "$d")" = "$ref"
report
