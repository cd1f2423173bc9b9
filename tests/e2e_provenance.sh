#!/usr/bin/env bash
# e2e_provenance.sh — runs record what made them: `metagrid --version`
# prints "metagrid X.Y.Z" (the version of include/metagrid/version.h) and then
# the build (git, compiler, flags, MPI, BLAS, kernels); config.yaml carries
# the same as YAML comments and still loads back to the same config (same
# hash, same parameters); eval.json has a "provenance" object.
cd "$(dirname "$0")/.." && source tests/lib.sh
want=$(sed -n 's/^#define MG_VERSION "\(.*\)"/\1/p' include/metagrid/version.h)
"$METAGRID" --version >"$TMP/v"; rc=$?
check "--version exits 0" test "$rc" = 0
check "first line is 'metagrid $want'" test "$(head -n 1 "$TMP/v")" = "metagrid $want"
check "version is X.Y.Z" grep -Eq '^metagrid [0-9]+\.[0-9]+\.[0-9]+$' <(head -n 1 "$TMP/v")
for k in git compiler flags mpi blas kernels; do
    check "--version names $k" grep -Eq "^$k .+" "$TMP/v"
done
check "--version names the MPI library" grep -Eq '^mpi .*(Open MPI|MPICH|MPI)' "$TMP/v"
check "--version names the BLAS library" grep -Eq '^blas .*OpenBLAS' "$TMP/v"

TINY=(--set task.family=sinusoid --set model.hidden=[8] --set algo.name=maml
      --set algo.inner_steps=1 --set task.k_support=4 --set task.k_query=4
      --set train.meta_batch=4 --set train.iterations=3 --set train.log_every=0
      --set eval.tasks=3 --set eval.k_support=4 --set eval.steps=1 --set eval.query=5)
check "train np=2" $MPIRUN -np 2 "$METAGRID" train configs/seed.yaml "${TINY[@]}" --out "$TMP/r" >/dev/null
c="$TMP/r/config.yaml"
for k in version git compiler flags mpi blas kernels ranks; do
    check "config.yaml records $k" grep -Eq "^#   $k: .+" "$c"
done
check "config.yaml: version $want, 2 ranks, the MPI in use" \
    bash -c "grep -q '^#   version: $want\$' '$c' && grep -q '^#   ranks: 2\$' '$c' && ! grep -q 'compiled against' '$c'"
check "config.yaml loads back" "$METAGRID" train "$c" --out "$TMP/r2" >/dev/null
hash() { "$METAGRID" inspect "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["config_hash"], d["param_l2"])'; }
check "same config hash and parameters from the reloaded config.yaml" \
    test -n "$(hash "$TMP/r/checkpoint.bin")" -a "$(hash "$TMP/r/checkpoint.bin")" = "$(hash "$TMP/r2/checkpoint.bin")"
check "eval" "$METAGRID" eval configs/seed.yaml "${TINY[@]}" --no-plot \
    --checkpoint "$TMP/r/checkpoint.bin" --out "$TMP/e" >/dev/null
check "eval.json has the provenance" python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))["provenance"]
assert p["version"] == sys.argv[2], p
for k in ("git", "compiler", "flags", "mpi", "blas", "kernels"): assert p[k], k
assert p["ranks"] == 1, p
' "$TMP/e/eval.json" "$want"
report
