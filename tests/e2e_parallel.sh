#!/usr/bin/env bash
# e2e_parallel.sh — the MPI layer (tests/mpi_parallel.c) at np = 1, 2 and 4.
cd "$(dirname "$0")/.." && source tests/lib.sh
bin=$(dirname "$METAGRID")/tests/mpi_parallel
for np in 1 2 4; do
    check "mpi_parallel np=$np" $MPIRUN -np $np "$bin"
done
check "mpi_parallel singleton" "$bin"
report
