/*
 * bench.c — what the benchmarks of `metagrid bench` share (bench.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metagrid/bench.h"
#include "metagrid/common.h"
#include "metagrid/parallel.h"
#include "metagrid/task.h"

#define BENCH_MAX_SETS 256

int bench_parse_config(int argc, char **argv, const BenchSpec *spec, long *iters, Config *cfg,
                       char *path, size_t path_size, MgErr *e)
{
    const char *name = spec->name;
    static const struct option longopts[] = {
        {"iterations", required_argument, 0, 'n'},
        {"set", required_argument, 0, 's'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *sets[BENCH_MAX_SETS];
    int nsets = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "n:s:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            if (par_is_root()) fputs(spec->usage, stdout);
            return -1;
        } else if (c == 'n') {
            char *end;
            *iters = strtol(optarg, &end, 10);
            if (*end || *iters < spec->min_iters)
                return mg_fail(e, MG_EUSAGE, "bench %s: --iterations must be an integer >= %ld",
                               name, spec->min_iters);
        } else if (c == 's' && nsets < BENCH_MAX_SETS) {
            sets[nsets++] = optarg;
        } else {
            return mg_fail(e, MG_EUSAGE, "bench %s: bad option (see --help)", name);
        }
    }
    if (optind < argc) snprintf(path, path_size, "%s", argv[optind]);
    else mg_default_config(spec->default_config, path, path_size);
    int rc = config_load(cfg, path, sets, nsets, e);
    return rc == MG_OK ? tasks_config_resolve(&cfg->task, e) : rc;
}
