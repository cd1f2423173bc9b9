/*
 * test_pool.c — the solved-task pool: rows drawn from the pool equal, bit
 * for bit, the rows tasks_draw builds for the same pool task and hours (both
 * heads); the disk cache round-trips, is shared by a second pool, survives a
 * corrupted or truncated file (re-solved), and its key moves with every
 * setting that changes the targets but not with k_support / observe_costs;
 * with model.anchor the anchors follow anchor.h (leave one out on support).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "metagrid/anchor.h"
#include "metagrid/pool.h"
#include "metagrid/rng.h"

static int anchored; /* model.anchor: the last m inputs are compared by check_anchors */

static int same_row(const TaskData *a, int ra, const TaskData *b, int rb)
{
    int n = a->n, m = a->m, nm = n * m, nx = a->in_dim - (anchored ? m : 0);
    return !memcmp(a->x + (size_t)ra * a->in_dim, b->x + (size_t)rb * b->in_dim,
                   sizeof(double) * nx) &&
           !memcmp(a->y + (size_t)ra * a->y_dim, b->y + (size_t)rb * b->y_dim,
                   sizeof(double) * a->y_dim) &&
           !memcmp(a->d + (size_t)ra * n, b->d + (size_t)rb * n, sizeof(double) * n) &&
           !memcmp(a->s + (size_t)ra * m, b->s + (size_t)rb * m, sizeof(double) * m) &&
           !memcmp(a->c + (size_t)ra * nm, b->c + (size_t)rb * nm, sizeof(double) * nm) &&
           !memcmp(a->xopt + (size_t)ra * nm, b->xopt + (size_t)rb * nm, sizeof(double) * nm) &&
           !memcmp(a->lambda + (size_t)ra * m, b->lambda + (size_t)rb * m, sizeof(double) * m) &&
           a->obj[ra] == b->obj[rb];
}

/* Anchored head: every row's anchor block is anchor.h's definition on the
 * drawn support set — a support row's from the nearest OTHER support row
 * (leave one out: never its own prices), a query row's from the nearest. */
static int check_anchors(const TaskData *sup, const TaskData *qry)
{
    int m = sup->m, ok = 1;
    size_t nm = (size_t)sup->n * m;
    double a[64];
    for (int part = 0; part < 2; part++) {
        const TaskData *td = part ? qry : sup;
        for (int r = 0; r < td->k; r++) {
            const double *x = td->x + (size_t)r * td->in_dim;
            int skip = part ? -1 : r, near = anchor_nearest(sup, x, skip);
            anchor_of(sup, x, td->c + r * nm, skip, a);
            ok &= near >= 0 && near != skip &&
                  !memcmp(a, x + td->in_dim - m, sizeof(double) * m);
        }
    }
    return ok;
}

/* Every row of pool draw (iter, task) is some hour of some pool task, bit for bit. */
static void check_exact(const Config *cfg, const char *dir, int expect_loaded)
{
    MgErr e = {0};
    TaskSampler *ts = NULL;
    TaskPool *p = NULL;
    TaskSetup task_setup = tasks_setup_from(cfg);
    CHECK_MSG(tasks_new(&ts, &task_setup, &e) == MG_OK, "%s", e.msg);
    CHECK_MSG(pool_open(&p, ts, &cfg->train, dir, &e) == MG_OK, "%s", e.msg);
    if (!p) { tasks_destroy(ts); return; }
    TaskData sup, qry, ref;
    memset(&sup, 0, sizeof sup);
    memset(&qry, 0, sizeof qry);
    memset(&ref, 0, sizeof ref);
    int ok = 1, H = cfg->train.pool_hours;
    for (uint64_t it = 0; it < 6; it++) {
        CHECK_MSG(pool_make(p, it, 1, &sup, &qry, &e) == MG_OK, "%s", e.msg);
        if (anchored) ok &= check_anchors(&sup, &qry);
        /* find which pool task: the one whose hour set contains row 0 */
        int found = 0;
        for (int w = 0; w < cfg->train.pool_tasks && !found; w++) {
            TaskRequest rq = {STREAM_TRAIN, 0, (uint64_t)w, H, 0, 0};
            CHECK(tasks_draw(ts, &rq, &ref, NULL, &e) == MG_OK);
            for (int h = 0; h < H && !found; h++)
                if (same_row(&sup, 0, &ref, h)) found = 1;
            if (!found) continue;
            for (int r = 0; r < sup.k; r++) {
                int any = 0;
                for (int h = 0; h < H; h++) any |= same_row(&sup, r, &ref, h);
                ok &= any;
            }
            for (int r = 0; r < qry.k; r++) {
                int any = 0;
                for (int h = 0; h < H; h++) any |= same_row(&qry, r, &ref, h);
                ok &= any;
            }
        }
        ok &= found;
    }
    CHECK(ok);
    long loaded, solved;
    pool_counts(p, &loaded, &solved);
    if (expect_loaded) CHECK_MSG(loaded > 0 && solved == 0, "%ld %ld", loaded, solved);
    else CHECK_MSG(solved > 0, "%ld %ld", loaded, solved);
    taskdata_free(&sup);
    taskdata_free(&qry);
    taskdata_free(&ref);
    pool_close(p);
    tasks_destroy(ts);
}

static uint32_t key_of(const char *const *sets, int nsets)
{
    Config cfg;
    MgErr e = {0};
    const char *base[16] = {"task.family=region", "task.n_demand=4", "task.n_supply=3",
                            "task.k_support=3", "task.k_query=2", "train.pool_tasks=3",
                            "train.pool_hours=8"};
    int nb = 7;
    for (int i = 0; i < nsets; i++) base[nb++] = sets[i];
    CHECK(config_load(&cfg, NULL, base, nb, &e) == MG_OK);
    TaskSampler *ts = NULL;
    TaskPool *p = NULL;
    TaskSetup task_setup = tasks_setup_from(&cfg);
    CHECK(tasks_new(&ts, &task_setup, &e) == MG_OK);
    CHECK(pool_open(&p, ts, &cfg.train, NULL, &e) == MG_OK);
    uint32_t k = p ? pool_key(p) : 0;
    pool_close(p);
    tasks_destroy(ts);
    return k;
}

int main(void)
{
    char dir[] = "/tmp/metagrid-pool.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    Config cfg;
    MgErr e = {0};
    const char *sets[] = {"task.family=region", "task.n_demand=4", "task.n_supply=3",
                          "task.k_support=3", "task.k_query=2", "train.pool_tasks=3",
                          "train.pool_hours=8"};
    CHECK(config_load(&cfg, NULL, sets, 7, &e) == MG_OK);
    check_exact(&cfg, NULL, 0); /* memory only */
    check_exact(&cfg, dir, 0);  /* solves and writes */
    check_exact(&cfg, dir, 1);  /* a second pool reads the files */
    /* corrupt and truncate every file: re-solved, same rows */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "for f in %s/*/task-*.bin; do printf 'X' | dd of=$f bs=1 seek=100 "
             "conv=notrunc 2>/dev/null; done; f=$(ls %s/*/task-0.bin); truncate -s 50 $f", dir, dir);
    CHECK(system(cmd) == 0);
    check_exact(&cfg, dir, 0);
    check_exact(&cfg, dir, 1);
    /* the price head: its own key, exact rows */
    const char *psets[] = {"task.family=region", "task.n_demand=4", "task.n_supply=3",
                           "task.k_support=3", "task.k_query=2", "train.pool_tasks=3",
                           "train.pool_hours=8", "model.head=prices", "model.loss=mse"};
    Config pc;
    if (config_load(&pc, NULL, psets, 9, &e) == MG_OK) check_exact(&pc, dir, 0);
    else CHECK_MSG(0, "%s", e.msg);
    /* the anchored price head: the same rows, anchors per anchor.h on the drawn support */
    pc.model.anchor = ANCHOR_NEAREST;
    anchored = 1;
    check_exact(&pc, dir, 1);
    anchored = 0;
    /* grid: the case's bytes are in the key */
    const char *gsets[] = {"task.family=grid", "task.case=data/grids/pglib_opf_case14_ieee.m",
                           "task.k_support=2", "task.k_query=2", "train.pool_tasks=2",
                           "train.pool_hours=6"};
    Config gc;
    CHECK(config_load(&gc, NULL, gsets, 6, &e) == MG_OK);
    CHECK(tasks_config_resolve(&gc.task, &e) == MG_OK);
    check_exact(&gc, dir, 0);
    /* keys */
    uint32_t k0 = key_of(NULL, 0);
    const char *a[] = {"task.noise=0.07"}, *b[] = {"seed=2"}, *c[] = {"train.pool_hours=9"},
               *d[] = {"task.warm_start=false"}, *f[] = {"task.k_support=4"},
               *g[] = {"task.observe_costs=false"}, *h[] = {"algo.inner_lr=0.5"};
    CHECK(key_of(a, 1) != k0 && key_of(b, 1) != k0 && key_of(c, 1) != k0 && key_of(d, 1) != k0);
    CHECK(key_of(f, 1) == k0 && key_of(g, 1) == k0 && key_of(h, 1) == k0);
    /* a pool needs hours for a support and a query set */
    const char *small[] = {"task.family=region", "task.k_support=45", "train.pool_tasks=3"};
    CHECK(config_load(&cfg, NULL, small, 3, &e) == MG_EUSAGE && strstr(e.msg, "pool_hours"));
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    return TEST_REPORT();
}
