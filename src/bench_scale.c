/*
 * bench_scale.c — `metagrid bench scale`: fixed-work training throughput at
 * the current rank count, split into compute and communication, for the
 * scaling figures and the 1..1024-rank model in the README.
 *
 * Runs train_run without files for --iterations meta-iterations of CONFIG
 * (default configs/default.yaml), then times the bare int64 allreduce of the
 * same size as training's (after a barrier, so waiting is excluded).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metagrid/bench.h"
#include "metagrid/common.h"
#include "metagrid/config.h"
#include "metagrid/learner.h"
#include "metagrid/parallel.h"
#include "metagrid/task.h"
#include "metagrid/train.h"
#include "metagrid/xsum.h"

static const char scale_usage[] =
    "usage: metagrid bench scale [CONFIG] [--iterations N] [--set KEY=VALUE]...\n"
    "\n"
    "Trains CONFIG (default configs/default.yaml) for N meta-iterations (default\n"
    "20) without writing files and prints one JSON line: ranks, tasks_per_s, the\n"
    "per-phase seconds (mean over ranks) and allreduce_us, the time of one bare\n"
    "meta-gradient allreduce. Run it under mpirun -np 1 and -np 2 (tools/bench.sh\n"
    "does, and computes the speedup).\n";

int bench_scale(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"iterations", required_argument, 0, 'n'},
        {"set", required_argument, 0, 's'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *sets[64];
    int nsets = 0;
    long iters = 20;
    MgErr e = {0};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "n:s:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            if (par_is_root()) fputs(scale_usage, stdout);
            return MG_OK;
        } else if (c == 'n') {
            iters = strtol(optarg, NULL, 10);
        } else if (c == 's' && nsets < 64) {
            sets[nsets++] = optarg;
        } else {
            mg_fail(&e, MG_EUSAGE, "bench scale: bad option (see --help)");
        }
    }
    char defpath[4200];
    const char *path = optind < argc ? argv[optind] : mg_default_config("default.yaml", defpath, sizeof defpath);
    Config cfg;
    if (!e.code && iters < 1) mg_fail(&e, MG_EUSAGE, "bench scale: --iterations must be >= 1");
    if (!e.code) config_load(&cfg, path, sets, nsets, &e);
    if (par_agree_error(&e)) {
        par_report_err(&e);
        return e.code;
    }
    cfg.train.iterations = iters;
    cfg.train.val_every = 0;
    cfg.train.log_every = 0;
    cfg.train.checkpoint_every = 0;

    TrainOpts opt = {.out_dir = "", .resume = 0, .quiet = 1, .write_files = 0};
    TrainStats st;
    if (train_run(&cfg, &opt, &st, &e) != MG_OK) {
        par_report_err(&e);
        return e.code;
    }

    /* The bare allreduce of training's buffer size. */
    TaskSampler *ts = NULL;
    Learner *L = NULL;
    tasks_create(&ts, &cfg, &e);
    learner_create(&L, &cfg, tasks_in_dim(ts), tasks_out_dim(ts), tasks_head_group(ts), &e);
    size_t nacc = (learner_n_meta(L) + 1) * XSUM_STRIDE + 2;
    int64_t *buf = mg_calloc(nacc, sizeof(int64_t));
    const int reps = 50;
    double best = 1e30, sum = 0;
    for (int r = 0; r < reps; r++) {
        par_barrier();
        double t0 = mg_now();
        par_allreduce_sum_i64(buf, nacc);
        double dt = mg_now() - t0;
        par_allreduce_max_d(&dt, 1);
        sum += dt;
        best = dt < best ? dt : best;
    }
    if (par_is_root()) {
        printf("{\"bench\":\"scale\",\"config\":\"%s\",\"ranks\":%d,\"iterations\":%ld,"
               "\"meta_batch\":%d,\"n_meta\":%zu,\"allreduce_bytes\":%zu,\"wall_s\":%.4f,"
               "\"tasks_per_s\":%.4g,\"iter_ms\":%.4g,\"allreduce_us\":%.4g,\"allreduce_us_min\":%.4g",
               path, par_size(), iters, cfg.train.meta_batch, learner_n_meta(L),
               nacc * sizeof(int64_t), st.wall_s, st.tasks_per_s, 1e3 * st.wall_s / iters,
               1e6 * sum / reps, 1e6 * best);
        for (int i = 0; i < TM_COUNT; i++)
            printf(",\"%s_s\":%.4g", timer_name((TimerId)i), st.timers.mean[i]);
        printf("}\n");
    }
    free(buf);
    learner_destroy(L);
    tasks_destroy(ts);
    return MG_OK;
}
