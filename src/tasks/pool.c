/*
 * pool.c — the pool of solved training tasks, in memory and on disk (see
 * pool.h).
 *
 * File DIR/KEY/task-P.bin (native byte order; a cache, not an archive):
 *   "MGPOOL02", u32 key, i32 n, m, H, prices, i64 nnz,
 *   c (n*m), d (H*n), s (H*m), obj (H)            doubles
 *   start (H+1), idx (nnz)                         int32: non-zeros of hour h
 *   val (nnz), lambda (H*m), lam (H*m, prices only) doubles
 *   u32 CRC32 of everything before it.
 */
#define _POSIX_C_SOURCE 200809L
#include "metagrid/pool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "metagrid/anchor.h"
#include "metagrid/rng.h"

typedef struct {
    int ready;
    double *c;      /* (n*m) the task's costs */
    double *d;      /* (H*n) */
    double *s;      /* (H*m) */
    double *obj;    /* (H) */
    int32_t *start; /* (H+1) hour h's non-zeros are [start[h], start[h+1]) */
    int32_t *idx;   /* (nnz) i*m + j */
    double *val;    /* (nnz) */
    double *lambda; /* (H*m) GLPK's capacity prices (TaskData.lambda) */
    double *lam;    /* (H*m) price head: scaled prices (first m targets), else NULL */
    int64_t nnz;
} PoolTask;

struct TaskPool {
    TaskSampler *ts;
    const TaskSetup *setup;         /* the sampler's */
    int P, H, n, m, in_dim, out_dim, y_dim, prices;
    uint32_t key;
    char dir[CONFIG_PATH_MAX + 16]; /* DIR/KEY, "" = memory only */
    PoolTask *tasks;                /* (P) */
    TaskData gen;                   /* H rows while solving a pool task */
    int *perm;                      /* (H) */
    double *vzero;                  /* (m) */
    long loaded, solved;
};

/* The CRC32 of everything that determines a pool task's stored data. */
static int pool_compute_key(const TaskSetup *setup, int H, uint32_t *key, MgErr *e)
{
    Config cfg; /* the seed and task section, for config_get's schema loop */
    config_defaults(&cfg);
    cfg.seed = setup->seed;
    cfg.task = setup->task;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    MG_ASSERT(f != NULL);
    fprintf(f, "metagrid pool MGPOOL02\n");
    for (int k = 0; k < config_key_count(); k++) {
        const char *name = config_key_name(k);
        if (strcmp(name, "seed") && strncmp(name, "task.", 5)) continue;
        if (!strcmp(name, "task.k_support") || !strcmp(name, "task.k_query") ||
            !strcmp(name, "task.observe_costs") || !strcmp(name, "task.case"))
            continue; /* not in the stored data; the case enters by its bytes */
        char val[2 * CONFIG_PATH_MAX + 8];
        config_get(&cfg, name, val, sizeof val);
        fprintf(f, "%s=%s\n", name, val);
    }
    fprintf(f, "head=%s\nhours=%d\n", config_head_name(setup->head), H);
    int rc = MG_OK;
    if (setup->task.family == FAMILY_GRID) {
        size_t clen = 0;
        char *bytes = mg_read_file(setup->task.case_path, 64u << 20, &clen, e);
        if (!bytes) rc = e->code ? e->code : MG_EUSAGE;
        else fprintf(f, "case_crc=%08lx\n", crc32(0L, (const Bytef *)bytes, (uInt)clen));
        free(bytes);
    }
    MG_ASSERT(fclose(f) == 0);
    *key = (uint32_t)crc32(0L, (const Bytef *)text, (uInt)len);
    free(text);
    return rc;
}

int pool_open(TaskPool **out, TaskSampler *ts, const TrainConfig *train, const char *dir,
              MgErr *e)
{
    *out = NULL;
    const TaskSetup *setup = tasks_sampler_setup(ts);
    const TaskConfig *task = &setup->task;
    int ks = task->k_support, kq = task->k_query, H = train->pool_hours;
    if (tasks_head_group(ts) == 0)
        return mg_fail(e, MG_EUSAGE, "train.pool_tasks: the pool is for the LP families "
                       "(task.family is %s)", config_family_name(task->family));
    if (H < ks + kq)
        return mg_fail(e, MG_EUSAGE, "train.pool_hours: %d is below task.k_support + "
                       "task.k_query = %d (a pool task must hold a support and a query set)",
                       H, ks + kq);
    TaskPool *p = mg_calloc(1, sizeof *p);
    p->ts = ts;
    p->setup = setup;
    p->P = train->pool_tasks;
    p->H = H;
    p->in_dim = tasks_in_dim(ts);
    p->out_dim = tasks_out_dim(ts);
    p->y_dim = tasks_y_dim(ts);
    p->prices = setup->head == HEAD_PRICES;
    const GridModel *gm = tasks_grid_model(ts);
    p->n = gm ? gm->n : task->n_demand;
    p->m = gm ? gm->m : task->n_supply;
    p->vzero = mg_calloc((size_t)p->m, sizeof(double));
    int rc = pool_compute_key(setup, H, &p->key, e);
    if (rc != MG_OK) {
        free(p->vzero);
        free(p);
        return rc;
    }
    if (dir && dir[0]) snprintf(p->dir, sizeof p->dir, "%s/%08x", dir, p->key);
    p->tasks = mg_calloc((size_t)p->P, sizeof *p->tasks);
    MG_ASSERT(p->n > 0 && p->m > 0);
    p->perm = mg_calloc((size_t)H, sizeof(int));
    *out = p;
    return MG_OK;
}

static void pool_task_free(PoolTask *t)
{
    free(t->c);
    free(t->d);
    free(t->s);
    free(t->obj);
    free(t->start);
    free(t->idx);
    free(t->val);
    free(t->lam);
    free(t->lambda);
    memset(t, 0, sizeof *t);
}

void pool_close(TaskPool *p)
{
    if (!p) return;
    for (int i = 0; i < p->P; i++) pool_task_free(&p->tasks[i]);
    free(p->tasks);
    free(p->perm);
    free(p->vzero);
    taskdata_free(&p->gen);
    free(p);
}

uint32_t pool_key(const TaskPool *p) { return p->key; }
void pool_counts(const TaskPool *p, long *loaded, long *solved)
{
    *loaded = p->loaded;
    *solved = p->solved;
}

static void pool_task_alloc(PoolTask *t, int n, int m, int H, int64_t nnz, int prices)
{
    t->c = mg_calloc((size_t)n * m, sizeof(double));
    t->d = mg_calloc((size_t)H * n, sizeof(double));
    t->s = mg_calloc((size_t)H * m, sizeof(double));
    t->obj = mg_calloc((size_t)H, sizeof(double));
    t->start = mg_calloc((size_t)H + 1, sizeof(int32_t));
    t->idx = mg_calloc((size_t)nnz + 1, sizeof(int32_t));
    t->val = mg_calloc((size_t)nnz + 1, sizeof(double));
    t->lambda = mg_calloc((size_t)H * m, sizeof(double));
    t->lam = prices ? mg_calloc((size_t)H * m, sizeof(double)) : NULL;
    t->nnz = nnz;
}

/* Solve pool task `which` (training task iter 0, task which; hours 0..H-1)
 * and keep it compact. */
static int pool_solve(TaskPool *p, int which, TaskData *acct, MgErr *e)
{
    TaskData *g = &p->gen;
    TaskRequest rq = {.stream = STREAM_TRAIN, .iter = 0, .task = (uint64_t)which,
                      .k_support = p->H};
    int rc = tasks_draw(p->ts, &rq, g, NULL, e);
    if (rc != MG_OK) return rc;
    int n = g->n, m = g->m, H = p->H;
    size_t nm = (size_t)n * m;
    int64_t nnz = 0;
    for (size_t k = 0; k < (size_t)H * nm; k++) nnz += g->xopt[k] != 0.0;
    PoolTask *t = &p->tasks[which];
    pool_task_alloc(t, n, m, H, nnz, p->prices);
    memcpy(t->c, g->c, nm * sizeof(double)); /* the costs are fixed for a task */
    memcpy(t->d, g->d, (size_t)H * n * sizeof(double));
    memcpy(t->s, g->s, (size_t)H * m * sizeof(double));
    memcpy(t->obj, g->obj, (size_t)H * sizeof(double));
    memcpy(t->lambda, g->lambda, (size_t)H * m * sizeof(double));
    int64_t q = 0;
    for (int h = 0; h < H; h++) {
        t->start[h] = (int32_t)q;
        const double *x = g->xopt + (size_t)h * nm;
        for (size_t k = 0; k < nm; k++)
            if (x[k] != 0.0) {
                t->idx[q] = (int32_t)k;
                t->val[q++] = x[k];
            }
        if (p->prices) memcpy(t->lam + (size_t)h * m, g->y + (size_t)h * g->y_dim,
                              (size_t)m * sizeof(double));
    }
    t->start[H] = (int32_t)q;
    t->ready = 1;
    acct->lp_iters += g->lp_iters;
    acct->solve_s += g->solve_s;
    p->solved++;
    return MG_OK;
}

/* ---- the file of one pool task ---- */

typedef struct {
    char magic[8];
    uint32_t key;
    int32_t n, m, H, prices;
    int64_t nnz;
} PoolHeader;

static void pool_path(const TaskPool *p, int which, char *buf, size_t len)
{
    snprintf(buf, len, "%s/task-%d.bin", p->dir, which);
}

/* Write a block and fold it into the CRC; 0 or -1. */
static int put(FILE *f, const void *a, size_t size, size_t cnt, uLong *crc)
{
    if (cnt == 0) return 0;
    *crc = crc32(*crc, (const Bytef *)a, (uInt)(size * cnt));
    return fwrite(a, size, cnt, f) == cnt ? 0 : -1;
}

/* Best effort: the pool is a cache, a failed write only costs a re-solve. */
static void pool_write(const TaskPool *p, int which)
{
    if (!p->dir[0] || mg_mkdir_p(p->dir) != 0) return;
    const PoolTask *t = &p->tasks[which];
    char path[CONFIG_PATH_MAX + 64], tmp[CONFIG_PATH_MAX + 96];
    pool_path(p, which, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) return;
    PoolHeader h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, "MGPOOL02", 8);
    h.key = p->key;
    h.n = p->n;
    h.m = p->m;
    h.H = p->H;
    h.prices = p->prices;
    h.nnz = t->nnz;
    size_t nm = (size_t)p->n * p->m, H = (size_t)p->H;
    uLong crc = crc32(0L, Z_NULL, 0);
    int bad = put(f, &h, sizeof h, 1, &crc) || put(f, t->c, sizeof(double), nm, &crc) ||
              put(f, t->d, sizeof(double), H * p->n, &crc) ||
              put(f, t->s, sizeof(double), H * p->m, &crc) ||
              put(f, t->obj, sizeof(double), H, &crc) ||
              put(f, t->start, sizeof(int32_t), H + 1, &crc) ||
              put(f, t->idx, sizeof(int32_t), (size_t)t->nnz, &crc) ||
              put(f, t->val, sizeof(double), (size_t)t->nnz, &crc) ||
              put(f, t->lambda, sizeof(double), H * p->m, &crc) ||
              (p->prices && put(f, t->lam, sizeof(double), H * p->m, &crc));
    uint32_t c32 = (uint32_t)crc;
    bad |= fwrite(&c32, sizeof c32, 1, f) != 1;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) unlink(tmp);
}

static int get(FILE *f, void *a, size_t size, size_t cnt, uLong *crc)
{
    if (cnt == 0) return 0;
    if (fread(a, size, cnt, f) != cnt) return -1;
    *crc = crc32(*crc, (const Bytef *)a, (uInt)(size * cnt));
    return 0;
}

/* Load pool task `which` from its file; 0, or -1 (missing, other key,
 * truncated, corrupted, inconsistent: the caller re-solves it). */
static int pool_read(TaskPool *p, int which)
{
    if (!p->dir[0]) return -1;
    char path[CONFIG_PATH_MAX + 64];
    pool_path(p, which, path, sizeof path);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    PoolHeader h;
    uLong crc = crc32(0L, Z_NULL, 0);
    size_t nm = (size_t)p->n * p->m, H = (size_t)p->H;
    int bad = get(f, &h, sizeof h, 1, &crc) || memcmp(h.magic, "MGPOOL02", 8) ||
              h.key != p->key || h.n != p->n || h.m != p->m || h.H != p->H ||
              h.prices != p->prices || h.nnz < 0 || h.nnz > (int64_t)(H * nm);
    PoolTask *t = &p->tasks[which];
    if (!bad) {
        pool_task_alloc(t, p->n, p->m, p->H, h.nnz, p->prices);
        bad = get(f, t->c, sizeof(double), nm, &crc) ||
              get(f, t->d, sizeof(double), H * p->n, &crc) ||
              get(f, t->s, sizeof(double), H * p->m, &crc) ||
              get(f, t->obj, sizeof(double), H, &crc) ||
              get(f, t->start, sizeof(int32_t), H + 1, &crc) ||
              get(f, t->idx, sizeof(int32_t), (size_t)h.nnz, &crc) ||
              get(f, t->val, sizeof(double), (size_t)h.nnz, &crc) ||
              get(f, t->lambda, sizeof(double), H * p->m, &crc) ||
              (p->prices && get(f, t->lam, sizeof(double), H * p->m, &crc));
    }
    uint32_t c32 = 0;
    char extra;
    if (!bad) bad = fread(&c32, sizeof c32, 1, f) != 1 || c32 != (uint32_t)crc ||
                    fread(&extra, 1, 1, f) == 1;
    for (size_t hr = 0; !bad && hr < H; hr++)
        bad = t->start[hr] < 0 || t->start[hr] > t->start[hr + 1];
    if (!bad) bad = t->start[0] != 0 || t->start[H] != h.nnz;
    for (int64_t q = 0; !bad && q < h.nnz; q++)
        bad = t->idx[q] < 0 || (size_t)t->idx[q] >= nm;
    fclose(f);
    if (bad) {
        pool_task_free(t);
        return -1;
    }
    t->ready = 1;
    p->loaded++;
    return 0;
}

/* ---- drawing a training task from the pool ---- */

/* Row r of td from hour h of pool task t: the instance data, features and
 * targets exactly as tasks_draw builds them. */
static void pool_fill_row(const TaskPool *p, const PoolTask *t, int h, TaskData *td, int r)
{
    int n = p->n, m = p->m;
    size_t nm = (size_t)n * m;
    double *d = td->d + (size_t)r * n, *s = td->s + (size_t)r * m;
    double *c = td->c + (size_t)r * nm, *x = td->xopt + (size_t)r * nm;
    double *y = td->y + (size_t)r * p->y_dim;
    memcpy(d, t->d + (size_t)h * n, (size_t)n * sizeof(double));
    memcpy(s, t->s + (size_t)h * m, (size_t)m * sizeof(double));
    memcpy(c, t->c, nm * sizeof(double));
    memset(x, 0, nm * sizeof(double));
    for (int32_t q = t->start[h]; q < t->start[h + 1]; q++) x[t->idx[q]] = t->val[q];
    td->obj[r] = t->obj[h];
    memcpy(td->lambda + (size_t)r * m, t->lambda + (size_t)h * m, (size_t)m * sizeof(double));
    if (p->setup->task.observe_costs) task_features(n, m, d, s, c, td->x + (size_t)r * p->in_dim);
    else task_features_ds(n, m, d, s, td->x + (size_t)r * p->in_dim);
    if (p->prices) {
        task_price_targets(n, m, d, s, c, p->vzero, t->obj[h], y);
        memcpy(y, t->lam + (size_t)h * m, (size_t)m * sizeof(double));
    } else {
        task_targets(n, m, s, c, x, y);
    }
}

int pool_make(TaskPool *p, uint64_t iter, uint64_t task, TaskData *sup, TaskData *qry,
              MgErr *e)
{
    int ks = p->setup->task.k_support, kq = p->setup->task.k_query, H = p->H;
    taskdata_reserve(sup, ks, p->in_dim, p->out_dim, p->y_dim, p->n, p->m);
    taskdata_reserve(qry, kq, p->in_dim, p->out_dim, p->y_dim, p->n, p->m);
    RngStream r;
    rng_stream_init(&r, (uint64_t)p->setup->seed, RNG_POOL, iter, task, 0);
    int which = (int)rng_below(&r, (uint64_t)p->P);
    PoolTask *t = &p->tasks[which];
    if (!t->ready && pool_read(p, which) != 0) {
        double t0 = mg_now();
        int rc = pool_solve(p, which, sup, e);
        if (rc != MG_OK) return rc;
        pool_write(p, which);
        sup->solve_s = mg_now() - t0;
    }
    /* k_support + k_query distinct hours: a partial Fisher-Yates shuffle */
    for (int h = 0; h < H; h++) p->perm[h] = h;
    for (int k = 0; k < ks + kq; k++) {
        int j = k + (int)rng_below(&r, (uint64_t)(H - k));
        int tmp = p->perm[k];
        p->perm[k] = p->perm[j];
        p->perm[j] = tmp;
    }
    for (int k = 0; k < ks; k++) pool_fill_row(p, t, p->perm[k], sup, k);
    for (int k = 0; k < kq; k++) pool_fill_row(p, t, p->perm[ks + k], qry, k);
    if (p->prices && p->setup->anchor != ANCHOR_NONE) anchor_fill(sup, qry);
    return MG_OK;
}
