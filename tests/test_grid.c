/*
 * test_grid.c — the grid task family: scenarios of case118 are
 * deterministic, every hour is feasible with the margin, renewables cost
 * only transmission, outages and fuel multipliers act as documented, and the
 * tasks layer solves grid instances (targets rows sum to 1).
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "metagrid/case.h"
#include "metagrid/config.h"
#include "metagrid/grid.h"
#include "metagrid/task.h"

static void test_scenarios(void)
{
    GridCase gc;
    GridModel gm;
    MgErr e = {0};
    CHECK(case_load(&gc, "data/grids/pglib_opf_case118_ieee.m", &e) == MG_OK);
    CHECK(case_build(&gm, &gc, 20.0, "case118", &e) == MG_OK);
    int n = gm.n, m = gm.m, worst_margin_ok = 1, renew_ok = 1, out_seen = 0, renew_seen = 0;
    double *d = calloc((size_t)n, sizeof(double)), *s = calloc((size_t)m, sizeof(double));
    double *d2 = calloc((size_t)n, sizeof(double)), *s2 = calloc((size_t)m, sizeof(double));
    GridKnobs kn = {1.1, 0.3, 0.1, 0.1, 20.0};
    for (int task = 0; task < 40; task++) {
        RngStream r;
        rng_stream_init(&r, 7, RNG_TEST, 0, (uint64_t)task, 0);
        GridTask gt, gt2;
        grid_task_draw(&gt, &gm, &kn, &r);
        rng_stream_init(&r, 7, RNG_TEST, 0, (uint64_t)task, 0);
        grid_task_draw(&gt2, &gm, &kn, &r);
        CHECK(memcmp(gt.c, gt2.c, sizeof(double) * n * m) == 0);
        for (int j = 0; j < m; j++) {
            out_seen += gt.cap[j] == 0.0;
            if (gt.kind[j] != GRID_THERMAL) {
                renew_seen++;
                for (int i = 0; i < n; i++)
                    renew_ok &= fabs(gt.c[i * m + j] - 20.0 * gm.dist[i * m + j]) < 1e-12;
            } else if (gt.cap[j] > 0) {
                /* thermal cost within the documented multipliers (6 sigma) */
                double g = gt.c[j] - 20.0 * gm.dist[j];
                double f = g / gm.mc[j];
                renew_ok &= f > exp(-6 * 0.27) && f < exp(6 * 0.27);
            }
        }
        for (uint64_t k = 0; k < 30; k++) {
            grid_instance(&gt, 7, RNG_TEST, 0, (uint64_t)task, k, d, s);
            grid_instance(&gt2, 7, RNG_TEST, 0, (uint64_t)task, k, d2, s2);
            CHECK(!memcmp(d, d2, sizeof(double) * n) && !memcmp(s, s2, sizeof(double) * m));
            double sd = 0, ss = 0;
            for (int i = 0; i < n; i++) { sd += d[i]; worst_margin_ok &= d[i] >= 0; }
            for (int j = 0; j < m; j++) {
                ss += s[j];
                worst_margin_ok &= s[j] >= 0 && s[j] <= 1.2 * gm.pmax[j] + 1e-9;
            }
            worst_margin_ok &= ss >= 1.1 * sd * (1 - 1e-9) && sd > 0;
        }
        grid_task_free(&gt);
        grid_task_free(&gt2);
    }
    CHECK(worst_margin_ok);
    CHECK(renew_ok);
    CHECK_MSG(out_seen > 20 && out_seen < 150, "outages %d of %d", out_seen, 40 * m);
    CHECK_MSG(renew_seen >= 40 * 5, "renewables %d", renew_seen);
    free(d); free(s); free(d2); free(s2);
    case_model_free(&gm);
    case_free(&gc);
}

static void test_tasks_layer(void)
{
    Config cfg;
    MgErr e = {0};
    const char *sets[] = {"task.family=grid", "task.case=data/grids/pglib_opf_case30_ieee.m",
                          "task.k_support=3", "task.k_query=2"};
    CHECK_MSG(config_load(&cfg, NULL, sets, 4, &e) == MG_OK, "%s", e.msg);
    CHECK(cfg.task.case_path[0] == '/');
    CHECK_MSG(tasks_config_resolve(&cfg.task, &e) == MG_OK, "%s", e.msg);
    CHECK(cfg.task.n_demand == 21 && cfg.task.n_supply == 2);
    TaskSampler *ts = NULL;
    TaskSetup task_setup = tasks_setup_from(&cfg);
    CHECK_MSG(tasks_new(&ts, &task_setup, &e) == MG_OK, "%s", e.msg);
    if (!ts) return;
    CHECK(tasks_grid_model(ts) && tasks_grid_model(ts)->n == 21);
    TaskData sup, qry;
    memset(&sup, 0, sizeof sup);
    memset(&qry, 0, sizeof qry);
    CHECK_MSG(tasks_draw(ts, &(TaskRequest){STREAM_TRAIN, 3, 1, 3, 2, 0}, &sup, &qry, &e) == MG_OK,
              "%s", e.msg);
    int ok = 1;
    for (int q = 0; q < 3; q++)
        for (int i = 0; i < 21; i++) {
            double row = 0;
            for (int j = 0; j < 2; j++) row += sup.y[(q * 21 + i) * 2 + j];
            ok &= fabs(row - 1) < 1e-9;
        }
    CHECK(ok);
    taskdata_free(&sup);
    taskdata_free(&qry);
    tasks_destroy(ts);
    /* grid without a case, and a missing case file */
    const char *s2[] = {"task.family=grid"};
    CHECK(config_load(&cfg, NULL, s2, 1, &e) == MG_EUSAGE && strstr(e.msg, "task.case"));
    MgErr e2 = {0};
    const char *s3[] = {"task.family=grid", "task.case=/nonexistent/x.m"};
    CHECK(config_load(&cfg, NULL, s3, 2, &e2) == MG_OK);
    CHECK(tasks_config_resolve(&cfg.task, &e2) == MG_EUSAGE && strstr(e2.msg, "/nonexistent/x.m"));
}

int main(void)
{
    test_scenarios();
    test_tasks_layer();
    return TEST_REPORT();
}
