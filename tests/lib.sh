# tests/lib.sh — the shell side of the test harness (sourced by e2e_*.sh).
#
#   check NAME CMD...       passes when CMD exits 0
#   check_rc RC NAME CMD... passes when CMD exits RC
#   skip NAME WHY           counts a skip (never a pass)
#   report                  prints "N passed, N failed, N skipped"; exit 1 on failure
# $METAGRID is the binary under test; $TMP a scratch dir removed at exit.
set -u
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
METAGRID=${METAGRID:-$PWD/build/metagrid}
MPIRUN="mpirun --oversubscribe --bind-to none --mca mpi_yield_when_idle 1 --mca btl self,vader --mca btl_vader_single_copy_mechanism none"
TMP=$(mktemp -d /tmp/metagrid-e2e.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# A script stopped by run.sh's timeout (TERM) or Ctrl-C still runs its EXIT
# trap, so nothing it started (a test SLURM cluster) outlives it.
trap 'exit 143' TERM; trap 'exit 130' INT
_p=0 _f=0 _s=0
check() { local n=$1; shift; if "$@"; then _p=$((_p+1)); echo "ok   $n"; else _f=$((_f+1)); echo "FAIL $n"; fi; }
check_rc() { local want=$1 n=$2; shift 2; "$@"; local rc=$?
    if [ "$rc" = "$want" ]; then _p=$((_p+1)); echo "ok   $n"; else _f=$((_f+1)); echo "FAIL $n (exit $rc, want $want)"; fi; }
skip() { _s=$((_s+1)); echo "skip $1: $2"; }
report() { echo "$_p passed, $_f failed, $_s skipped"; [ "$_f" = 0 ]; }
