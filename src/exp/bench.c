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

int bench_parse_config(int argc, char **argv, const BenchSpec *spec, BenchArgs *args, MgErr *e)
{
    const char *name = spec->name;
    long *iters = &args->iters;
    *iters = spec->default_iters;
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
    if (optind < argc) snprintf(args->path, sizeof args->path, "%s", argv[optind]);
    else mg_default_config(spec->default_config, args->path, sizeof args->path);
    int rc = config_load(&args->cfg, args->path, sets, nsets, e);
    return rc == MG_OK ? tasks_config_resolve(&args->cfg.task, e) : rc;
}

int bench_open_learner(const Config *cfg, TaskSampler **ts, Learner **L, MgErr *e)
{
    *ts = NULL;
    *L = NULL;
    TaskSetup task_setup = tasks_setup_from(cfg);
    LearnerSetup learner_setup = learner_setup_from(cfg);
    if (!e->code) tasks_new(ts, &task_setup, e);
    if (!e->code)
        learner_new(L, &learner_setup, tasks_in_dim(*ts), tasks_out_dim(*ts),
                    tasks_head_group(*ts), e);
    if (par_agree_error(e)) {
        learner_destroy(*L);
        tasks_destroy(*ts);
        *L = NULL;
        *ts = NULL;
        return e->code;
    }
    return MG_OK;
}
