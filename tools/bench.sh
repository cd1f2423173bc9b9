#!/usr/bin/env bash
# tools/bench.sh BIN — the benchmarks behind `make bench`:
#   bench lp (uniform and region), bench meta, and bench scale at np = 1 and 2
#   with the speedup (ratios from runs in this same script).
# Output: JSON lines, then a summary. BENCH_SCALE_ITERS sets the scale work.
set -euo pipefail
bin=${1:-build/metagrid}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
mpirun="mpirun --oversubscribe --bind-to none --mca btl self,vader --mca btl_vader_single_copy_mechanism none"
echo "== bench lp (uniform)"; "$bin" bench lp --family uniform
echo "== bench lp (region)";  "$bin" bench lp --family region --sizes 10x5,30x10,50x20
echo "== bench meta";          "$bin" bench meta
iters=${BENCH_SCALE_ITERS:-30}
echo "== bench scale (configs/default.yaml, $iters iterations)"
s1=$($mpirun -np 1 "$bin" bench scale --iterations "$iters")
s2=$($mpirun -np 2 "$bin" bench scale --iterations "$iters")
echo "$s1"; echo "$s2"
python3 - "$s1" "$s2" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"scaling np=1 -> np=2: {b['tasks_per_s']/a['tasks_per_s']:.3f}x throughput "
      f"({a['tasks_per_s']:.1f} -> {b['tasks_per_s']:.1f} tasks/s); "
      f"bare allreduce {b['allreduce_us']:.1f} us for {b['allreduce_bytes']} bytes; "
      f"iteration {b['iter_ms']:.2f} ms at np=2")
PY
