#!/usr/bin/env bash
# e2e_oversized.sh — oversized inputs fail cleanly (issue 13): exit 2 and one
# message, never an abort, an out-of-memory kill or an MPI error. A model or
# checkpoint too large for the machine (METAGRID_MEM_LIMIT stands in for a
# small machine), a checkpoint header claiming billions of parameters, files
# over the size limits, a sweep of a million trials, a case with more buses
# than the reader takes.
source "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 1
cat >tiny.yaml <<'YAML'
task: {family: uniform, n_demand: 3, n_supply: 2, k_support: 4, k_query: 4}
model: {hidden: [4]}
train: {iterations: 2, meta_batch: 2}
eval: {tasks: 2, k_support: 2, query: 2, steps: 1}
YAML
one_msg() { test "$(grep -c '^metagrid: ' "$1")" = 1 && grep -q "$2" "$1"; }

# a model too large for the machine: before any allocation, before the run folder
METAGRID_MEM_LIMIT=100000000 "$METAGRID" train tiny.yaml --set model.hidden=[2000,2000] --out big1 >/dev/null 2>err1
check_rc 0 "model too large (inner loop): exit 2" test $? = 2
check "  one message naming the fix" one_msg err1 "network parameters x 1 inner steps) needs about .* GiB per rank.*reduce model.hidden"
check "  no run folder" test ! -e big1
METAGRID_MEM_LIMIT=100000000 $MPIRUN -x METAGRID_MEM_LIMIT -np 2 "$METAGRID" train tiny.yaml --set model.hidden=[2000,2000] --out big2 >/dev/null 2>err2
check_rc 0 "model too large under mpirun -np 2: exit 2" test $? = 2
check "  one message" one_msg err2 "GiB per rank"
"$METAGRID" train tiny.yaml --set model.hidden=[4096,4096,4096,4096,4096,4096,4096,4096] --set algo.inner_steps=500 --out big3 >/dev/null 2>err3
check_rc 0 "hidden 8 x 4096, 500 inner steps on this machine: exit 2" test $? = 2
check "  one message" one_msg err3 "more than this machine's"

# checkpoints: a header claiming billions of parameters; a genuine huge (sparse) file
"$METAGRID" train tiny.yaml --out run >/dev/null 2>&1
check "tiny run" test -s run/checkpoint.bin
python3 - run/checkpoint.bin <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
cl = struct.unpack_from('<Q', b, 56)[0]
struct.pack_into('<Q', b, 32, 5000000000)
open('claims5e9.bin', 'wb').write(b)
h = bytearray(b[:64]); struct.pack_into('<Q', h, 32, 100000000)
f = open('sparse1e8.bin', 'wb'); f.write(h); f.truncate(64 + cl + 24 * 100000000 + 4); f.close()
PY
"$METAGRID" inspect claims5e9.bin >/dev/null 2>err4
check_rc 0 "checkpoint claiming 5e9 parameters: exit 2" test $? = 2
check "  one message" one_msg err4 "claims 5000000000 parameters"
METAGRID_MEM_LIMIT=1e9 "$METAGRID" inspect sparse1e8.bin >/dev/null 2>err5
check_rc 0 "a 2.4 GB checkpoint on a 1 GB machine: exit 2" test $? = 2
check "  one message" one_msg err5 "reading 100000000 parameters needs about 2.2 GiB"
"$METAGRID" eval tiny.yaml --checkpoint claims5e9.bin --out ev >/dev/null 2>err6
check_rc 0 "eval of it: exit 2" test $? = 2
rm -f sparse1e8.bin

# files over the size limits
{ echo "seed: 1"; head -c 1100000 /dev/zero | tr '\0' '#'; echo; } >huge.yaml
"$METAGRID" train huge.yaml --out h >/dev/null 2>err7
check_rc 0 "a 1.1 MB config: exit 2" test $? = 2
check "  one message" one_msg err7 "larger than"
{ printf 'base: tiny.yaml\nparameters:\n  seed: {value: 1}\n'; head -c 1100000 /dev/zero | tr '\0' '#'; echo; } >huge_sweep.yaml
"$METAGRID" sweep huge_sweep.yaml --dry-run >/dev/null 2>err8
check_rc 0 "a 1.1 MB sweep file: exit 2" test $? = 2
printf 'base: tiny.yaml\nparameters:\n  seed: {values: [%s]}\n  train.iterations: {values: [%s]}\n' \
    "$(seq -s, 1 1000)" "$(seq -s, 1 1000)" >million.yaml
"$METAGRID" sweep million.yaml --dry-run >/dev/null 2>err9
check_rc 0 "a sweep of 10^6 trials: exit 2" test $? = 2
check "  one message" one_msg err9 "more than 100000 trials"

# a case with more buses than the reader takes
python3 - <<'PY'
with open('big.m', 'w') as f:
    f.write("function mpc = big\nmpc.version = '2';\nmpc.baseMVA = 100.0;\nmpc.bus = [\n")
    for i in range(1, 150001): f.write("%d 1 1 0 0 0 1 1 0 230 1 1.1 0.9;\n" % i)
    f.write("];\n")
PY
"$METAGRID" case big.m >/dev/null 2>err10
check_rc 0 "a case with 150000 buses: exit 2" test $? = 2
check "  one message FILE:LINE" one_msg err10 "big.m:[0-9]*: mpc.bus: more than"
report
