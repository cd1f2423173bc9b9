/*
 * cmd_bench.c — `metagrid bench NAME`: dispatch to the benchmarks (bench.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metagrid/bench.h"
#include "metagrid/cmd.h"
#include "metagrid/common.h"
#include "metagrid/parallel.h"
#include "metagrid/task.h"

static const char bench_usage[] =
    "usage: metagrid bench NAME [OPTIONS]\n"
    "\n"
    "Benchmarks; each prints one JSON object per line on stdout.\n"
    "  lp    [--sizes NxM,...] [--family uniform|region] [--instances K]\n"
    "        the LP layer: primal_cold, dual_cold, targets (warm), greedy, repair\n"
    "  meta  [CONFIG] [--iterations N]\n"
    "        meta-iterations of configs/sinusoid.yaml on one rank, with GFLOP/s\n"
    "        beside a dgemm measured in the same run\n"
    "  scale [CONFIG] [--iterations N]\n"
    "        fixed-work training throughput at the current rank count, with\n"
    "        compute and allreduce times (run under mpirun -np 1 and -np 2)\n"
    "  policy CHECKPOINT [--tasks T] [--hours H] [--tolerance X] [--set K=V]\n"
    "        the price head's fast path (forward, decode, certificate) against\n"
    "        the warm-started solver, per hour, in the same run\n"
    "\n"
    "Example:\n"
    "  OPENBLAS_NUM_THREADS=1 metagrid bench meta --iterations 300\n"
    "  mpirun -np 2 metagrid bench scale configs/default.yaml --iterations 60\n"
    "\n"
    "metagrid bench NAME --help for the options of one benchmark.\n";

int cmd_bench(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(bench_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? MG_EUSAGE : MG_OK;
    }
    if (!strcmp(argv[1], "lp")) return bench_lp(argc - 1, argv + 1);
    if (!strcmp(argv[1], "meta")) return bench_meta(argc - 1, argv + 1);
    if (!strcmp(argv[1], "scale")) return bench_scale(argc - 1, argv + 1);
    if (!strcmp(argv[1], "policy")) return bench_policy(argc - 1, argv + 1);
    fprintf(stderr, "metagrid: bench: unknown benchmark '%s' (lp, meta, scale, policy)\n", argv[1]);
    return MG_EUSAGE;
}
