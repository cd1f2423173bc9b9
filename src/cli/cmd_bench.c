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

int bench_parse_config(int argc, char **argv, const char *name, const char *usage,
                       const char *default_config, long min_iters, long *iters, Config *cfg,
                       char *path, size_t path_size, MgErr *e)
{
    static const struct option longopts[] = {
        {"iterations", required_argument, 0, 'n'},
        {"set", required_argument, 0, 's'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *sets[CMD_MAX_SETS];
    int nsets = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "n:s:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            if (par_is_root()) fputs(usage, stdout);
            return -1;
        } else if (c == 'n') {
            char *end;
            *iters = strtol(optarg, &end, 10);
            if (*end || *iters < min_iters)
                return mg_fail(e, MG_EUSAGE, "bench %s: --iterations must be an integer >= %ld",
                               name, min_iters);
        } else if (c == 's' && nsets < CMD_MAX_SETS) {
            sets[nsets++] = optarg;
        } else {
            return mg_fail(e, MG_EUSAGE, "bench %s: bad option (see --help)", name);
        }
    }
    if (optind < argc) snprintf(path, path_size, "%s", argv[optind]);
    else mg_default_config(default_config, path, path_size);
    int rc = config_load(cfg, path, sets, nsets, e);
    return rc == MG_OK ? tasks_config_resolve(cfg, e) : rc;
}
