/*
 * bench_meta.c — `metagrid bench meta`: the speed of meta-learning on one
 * core. Times meta-iterations of CONFIG (default configs/sinusoid.yaml: maml,
 * 40-40 relu, K = 10, meta-batch 25): per iteration, meta_batch x
 * learner_task_grad, the sum of the task gradients and one Adam step (adam.h).
 * Task data are drawn beforehand (per iteration, outside the timed region;
 * their time is reported separately). The flop count is that of the matrix
 * products (learner_task_flops). Beside it, in the same run, the three
 * product shapes of the widest layer at the support batch are timed both
 * with the network's kernels (kernels.h) and with cblas_dgemm, plus dgemm on
 * the meta-batch stacked and on a large square, so the achieved rate can be
 * judged against what BLAS reaches on matrices this small. Every rank runs
 * the benchmark; the root prints.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metagrid/adam.h"
#include "metagrid/bench.h"
#include "metagrid/common.h"
#include "metagrid/config.h"
#include "metagrid/kernels.h"
#include "metagrid/learner.h"
#include "metagrid/parallel.h"
#include "metagrid/rng.h"
#include "metagrid/task.h"

static const char meta_usage[] =
    "usage: metagrid bench meta [CONFIG] [--iterations N] [--set KEY=VALUE]...\n"
    "\n"
    "Times N meta-iterations (default 1000) of CONFIG (default\n"
    "configs/sinusoid.yaml) on one rank: per iteration, train.meta_batch task\n"
    "meta-gradients (learner_task_grad), their sum and one Adam step. Task data are\n"
    "drawn outside the timed region. Prints one JSON line:\n"
    "  ms_per_iter       compute time per meta-iteration (median of 5 blocks)\n"
    "  data_ms_per_iter  time to draw the tasks (not included above)\n"
    "  gflops            matrix-product flops per second achieved\n"
    "  kernels           the kernel implementation in use (avx2+fma | portable)\n"
    "  kern_gflops_S_MxNxK, dgemm_gflops_S_MxNxK\n"
    "                    the network's kernels and cblas_dgemm measured now on the\n"
    "                    widest layer's products, S = nt (C = A B^T), tn (C = A^T B),\n"
    "                    nn (C = A B), C (M,N), depth K; then dgemm on the\n"
    "                    meta-batch stacked and on 256x256x256\n";

/* The three product shapes of the network, C (m,n) from depth p:
 *   NT  C = A (m,p) B^T (n,p)   forward
 *   TN  C = A^T (p,m) B (p,n)   weight gradient
 *   NN  C = A (m,p) B (p,n)     input gradient */
enum { SHAPE_NT, SHAPE_TN, SHAPE_NN };
static const char *const shape_name[] = {"nt", "tn", "nn"};

/* Best of 3 GFLOP/s of one product repeated, by cblas_dgemm (blas = 1) or
 * by the network's own kernels (kernels.h). */
static double product_rate(int blas, int shape, int m, int n, int p)
{
    size_t na = (size_t)m * p, nb = (size_t)n * p;
    double *A = mg_calloc(na, sizeof(double)), *B = mg_calloc(nb, sizeof(double));
    double *C = mg_calloc((size_t)m * n, sizeof(double));
    for (size_t i = 0; i < na; i++) A[i] = 0.001 * (double)(i % 97);
    for (size_t i = 0; i < nb; i++) B[i] = 0.002 * (double)(i % 89);
    double flops = 2.0 * m * n * p, best = 0;
    long reps = (long)(2e7 / flops) + 1;
    for (int trial = 0; trial < 3; trial++) {
        double t0 = mg_now();
        for (long r = 0; r < reps; r++) {
            if (blas && shape == SHAPE_NT)
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, p, 1.0, A, p, B, p,
                            0.0, C, n);
            else if (blas && shape == SHAPE_TN)
                cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, n, p, 1.0, A, m, B, n,
                            0.0, C, n);
            else if (blas)
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, p, 1.0, A, p, B, n,
                            0.0, C, n);
            else if (shape == SHAPE_NT)
                kern_nt(C, NULL, A, B, NULL, NULL, m, n, p, KERN_EPI_NONE, NULL);
            else if (shape == SHAPE_TN)
                kern_tn(C, A, B, NULL, NULL, m, n, p, 1.0, 0);
            else
                kern_nn(C, NULL, A, B, NULL, NULL, m, n, p, KERN_EPI_NONE, NULL);
        }
        double rate = flops * reps / (mg_now() - t0) / 1e9;
        best = rate > best ? rate : best;
    }
    free(A), free(B), free(C);
    return best;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Timed meta-iterations (sampling, every task's meta-gradient, the mean,
 * clipping, Adam) in 5 blocks of per_block: block_ms[b] the compute
 * milliseconds per iteration of block b, *data_s the seconds spent
 * sampling, *loss the sum of the last iteration's task losses. */
static void bench_meta_time(TaskSampler *ts, Learner *L, const Config *cfg, long per_block,
                            double block_ms[5], double *data_s, double *loss, MgErr *e)
{
    int B = cfg->train.meta_batch, ks = cfg->task.k_support, kq = cfg->task.k_query;
    size_t n = learner_n_meta(L);
    double *meta = mg_malloc(n * sizeof(double)), *grad = mg_malloc(n * sizeof(double));
    double *sum = mg_malloc(n * sizeof(double)), *am = mg_calloc(n, sizeof(double));
    double *av = mg_calloc(n, sizeof(double));
    uint64_t adam_t = 0;
    learner_init_meta(L, meta, (uint64_t)cfg->seed);
    TaskData *sup = mg_calloc(B, sizeof(TaskData)), *qry = mg_calloc(B, sizeof(TaskData));
    for (int blk = 0; blk < 5 && !e->code; blk++) {
        double comp = 0;
        for (long it = 0; it < per_block && !e->code; it++) {
            uint64_t iter = (uint64_t)(blk * per_block + it);
            double t0 = mg_now();
            for (int b = 0; b < B && !e->code; b++) {
                TaskRequest rq = {.stream = STREAM_TRAIN, .iter = iter, .task = (uint64_t)b,
                                  .k_support = ks, .k_query = kq};
                tasks_draw(ts, &rq, &sup[b], &qry[b], e);
            }
            double t1 = mg_now();
            *loss = 0;
            for (int b = 0; b < B; b++) {
                *loss += learner_task_grad(L, meta, &sup[b], &qry[b], b ? grad : sum);
                if (b) kern_axpy(sum, sum, 1.0, grad, n);
            }
            for (size_t i = 0; i < n; i++) sum[i] /= B;
            adam_clip(sum, n, cfg->train.clip);
            adam_step(meta, sum, am, av, n, cfg->train.meta_lr, &adam_t);
            double t2 = mg_now();
            *data_s += t1 - t0;
            comp += t2 - t1;
        }
        block_ms[blk] = 1e3 * comp / per_block;
    }
    for (int b = 0; b < B; b++) {
        taskdata_free(&sup[b]);
        taskdata_free(&qry[b]);
    }
    free(sup), free(qry), free(meta), free(grad), free(sum), free(am), free(av);
}

int bench_meta(int argc, char **argv)
{
    MgErr e = {0};
    BenchArgs a;
    BenchSpec spec = {"meta", meta_usage, "sinusoid.yaml", 1000, 5};
    if (bench_parse_config(argc, argv, &spec, &a, &e) < 0) return MG_OK;
    const Config *cfg = &a.cfg;
    TaskSampler *ts;
    Learner *L;
    if (bench_open_learner(cfg, &ts, &L, &e) != MG_OK) {
        par_report_err(&e);
        return e.code;
    }
    int B = cfg->train.meta_batch, ks = cfg->task.k_support, kq = cfg->task.k_query;
    size_t n = learner_n_meta(L);
    /* 5 blocks; the median block's time per iteration is reported */
    long per_block = a.iters / 5;
    double block_ms[5], data_s = 0, loss = 0;
    bench_meta_time(ts, L, cfg, per_block, block_ms, &data_s, &loss, &e);
    if (!e.code) {
        double sorted[5];
        memcpy(sorted, block_ms, sizeof sorted);
        qsort(sorted, 5, sizeof(double), cmp_double);
        double ms = sorted[2];
        double flops = B * learner_task_flops(L, ks, kq);
        const MlpLayout *lay = learner_layout(L);
        int w = lay->max_width;
        /* the widest layer's three products at the support batch (m or p = ks),
         * by the kernels in use and by cblas_dgemm; then dgemm on the whole
         * meta-batch stacked (what batching tasks into BLAS would get) and on
         * a large square (what BLAS reaches at all) */
        int dims[3][3] = {{ks, w, w}, {w, w, ks}, {ks, w, w}};
        double r_kern[3], r_blas[3];
        for (int sh = 0; sh < 3; sh++) {
            r_kern[sh] = product_rate(0, sh, dims[sh][0], dims[sh][1], dims[sh][2]);
            r_blas[sh] = product_rate(1, sh, dims[sh][0], dims[sh][1], dims[sh][2]);
        }
        double r_big = product_rate(1, SHAPE_NT, B * ks, w, w);
        double r_large = product_rate(1, SHAPE_NT, 256, 256, 256);
        if (par_is_root()) {
            printf("{\"bench\":\"meta\",\"config\":\"%s\",\"algo\":\"%s\",\"inner_steps\":%d,"
                   "\"hidden\":[",
                   a.path, config_algo_name(cfg->algo.name), cfg->algo.inner_steps);
            for (int i = 0; i < cfg->model.n_hidden; i++)
                printf("%s%d", i ? "," : "", cfg->model.hidden[i]);
            printf("],\"activation\":\"%s\",\"k_support\":%d,\"k_query\":%d,\"meta_batch\":%d,"
                   "\"n_meta\":%zu,\"iterations\":%ld,\"kernels\":\"%s\",\"ms_per_iter\":%.4f,"
                   "\"ms_per_iter_min\":%.4f,\"data_ms_per_iter\":%.4f,\"mflop_per_iter\":%.3f,"
                   "\"gflops\":%.2f",
                   config_activation_name(cfg->model.activation), ks, kq, B, n, per_block * 5,
                   kern_simd() ? "avx2+fma" : "portable", ms, sorted[0],
                   1e3 * data_s / (per_block * 5), flops / 1e6, flops / (ms * 1e-3) / 1e9);
            for (int sh = 0; sh < 3; sh++)
                printf(",\"kern_gflops_%s_%dx%dx%d\":%.2f,\"dgemm_gflops_%s_%dx%dx%d\":%.2f",
                       shape_name[sh], dims[sh][0], dims[sh][1], dims[sh][2], r_kern[sh],
                       shape_name[sh], dims[sh][0], dims[sh][1], dims[sh][2], r_blas[sh]);
            printf(",\"dgemm_gflops_nt_%dx%dx%d\":%.2f,\"dgemm_gflops_nt_256x256x256\":%.2f,"
                   "\"last_meta_loss\":%.6g}\n",
                   B * ks, w, w, r_big, r_large, loss / B);
        }
    }
    learner_destroy(L);
    tasks_destroy(ts);
    if (e.code) {
        par_report_err(&e);
        return e.code;
    }
    return MG_OK;
}
