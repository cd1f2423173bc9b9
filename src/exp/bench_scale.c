/*
 * bench_scale.c — `metagrid bench scale`: fixed-work training throughput at
 * the current rank count, split into compute and communication, for the
 * scaling figures and the 1..1024-rank model in the README.
 *
 * Runs train_run without files for --iterations meta-iterations of CONFIG
 * (default configs/default.yaml), then times the bare communication of one
 * iteration (reduce-scatter of the gradient digits + allgather of the
 * parameters, after a barrier, so waiting is excluded).
 */
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
    "per-phase seconds (mean over ranks) and comm_us, the time of one iteration's\n"
    "bare communication (reduce-scatter of the gradient digits + allgather of the\n"
    "parameters). Run it under mpirun -np 1 and -np 2 (tools/bench.sh\n"
    "does, and computes the speedup).\n";

int bench_scale(int argc, char **argv)
{
    MgErr e = {0};
    BenchArgs a;
    BenchSpec spec = {"scale", scale_usage, "default.yaml", 20, 1};
    if (bench_parse_config(argc, argv, &spec, &a, &e) < 0) return MG_OK;
    Config *cfg = &a.cfg;
    if (par_agree_error(&e)) {
        par_report_err(&e);
        return e.code;
    }
    cfg->train.iterations = a.iters;
    cfg->train.val_every = 0;
    cfg->train.log_every = 0;
    cfg->train.checkpoint_every = 0;

    TrainOpts opt = {.out_dir = "", .resume = 0, .quiet = 1, .write_files = 0};
    TrainStats st;
    if (train_run(cfg, &opt, &st, &e) != MG_OK) {
        par_report_err(&e);
        return e.code;
    }

    /* The bare communication of one iteration, as training does it: the
     * reduce-scatter of the gradient digits and the allgather of the
     * parameters (the two tiny allreduces are left out). */
    TaskSampler *ts;
    Learner *L;
    if (bench_open_learner(cfg, &ts, &L, &e) != MG_OK) {
        par_report_err(&e);
        return e.code;
    }
    size_t n = learner_n_meta(L), P = (size_t)par_size();
    size_t *off = mg_calloc(P, sizeof(size_t)), *cnt = mg_calloc(P, sizeof(size_t));
    par_blocks(n, off, cnt);
    int64_t *buf = mg_calloc(n * XSUM_STRIDE, sizeof(int64_t));
    int64_t *shard = mg_calloc(cnt[par_rank()] * XSUM_STRIDE + 1, sizeof(int64_t));
    double *params = mg_calloc(n, sizeof(double));
    size_t nacc = n * XSUM_STRIDE * sizeof(int64_t) + n * sizeof(double); /* bytes */
    const int reps = 50;
    double best = 1e30, sum = 0;
    for (int r = 0; r < reps; r++) {
        par_barrier();
        double t0 = mg_now();
        par_reduce_scatter_sum_i64(buf, shard, off, cnt, XSUM_STRIDE);
        par_allgatherv_d(params, off, cnt);
        double dt = mg_now() - t0;
        par_allreduce_max_d(&dt, 1);
        sum += dt;
        best = dt < best ? dt : best;
    }
    if (par_is_root()) {
        printf("{\"bench\":\"scale\",\"config\":\"%s\",\"ranks\":%d,\"iterations\":%ld,"
               "\"meta_batch\":%d,\"n_meta\":%zu,\"comm_bytes\":%zu,\"wall_s\":%.4f,"
               "\"tasks_per_s\":%.4g,\"iter_ms\":%.4g,\"comm_us\":%.4g,\"comm_us_min\":%.4g",
               a.path, par_size(), a.iters, cfg->train.meta_batch, learner_n_meta(L),
               nacc, st.wall_s, st.tasks_per_s, 1e3 * st.wall_s / a.iters,
               1e6 * sum / reps, 1e6 * best);
        for (int i = 0; i < TM_COUNT; i++)
            printf(",\"%s_s\":%.4g", timer_name((TimerId)i), st.timers.mean[i]);
        printf("}\n");
    }
    free(buf);
    free(shard);
    free(params);
    free(off);
    free(cnt);
    learner_destroy(L);
    tasks_destroy(ts);
    return MG_OK;
}
