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
iters=${BENCH_SCALE_ITERS:-60}
reps=${BENCH_SCALE_REPS:-3}
echo "== bench scale (configs/default.yaml, $iters iterations, $reps alternating rounds)"
# Each round: one rank alone; two independent single-rank processes at once
# (the machine's own ceiling for two busy processes: shared caches, memory,
# host scheduling); and mpirun -np 2. Ratios are taken within the round.
for r in $(seq "$reps"); do
    s1=$("$bin" bench scale --iterations "$iters")
    "$bin" bench scale --iterations "$iters" >/tmp/mg-bench-a.$$ &
    "$bin" bench scale --iterations "$iters" >/tmp/mg-bench-b.$$; wait
    s2=$($mpirun -np 2 "$bin" bench scale --iterations "$iters")
    echo "$s1"; echo "$s2"
    python3 - "$s1" "$s2" /tmp/mg-bench-a.$$ /tmp/mg-bench-b.$$ <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
two = sum(json.load(open(f))["tasks_per_s"] for f in sys.argv[3:5])
print(f"round: np=1 {a['tasks_per_s']:.1f} tasks/s, np=2 {b['tasks_per_s']:.1f} tasks/s -> "
      f"{b['tasks_per_s']/a['tasks_per_s']:.3f}x; two independent processes {two/a['tasks_per_s']:.3f}x "
      f"(ceiling); bare communication {b['comm_us']:.0f} us for {b['comm_bytes']} bytes")
PY
done
rm -f /tmp/mg-bench-a.$$ /tmp/mg-bench-b.$$
