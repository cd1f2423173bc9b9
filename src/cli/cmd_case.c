/*
 * cmd_case.c — `metagrid case CASE.m [--set KEY=VALUE]...`: read a MATPOWER /
 * PGLib-OPF case and print its transportation instance as one JSON object
 * (CONTRACT.md: n_demand, n_supply, demand_ids, supply_ids, total_demand,
 * total_capacity, cost_min, cost_max; plus the case's sizes, the fuels and
 * the settings that shape the costs).
 */
#include <getopt.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "metagrid/case.h"
#include "metagrid/cmd.h"
#include "metagrid/common.h"
#include "metagrid/config.h"
#include "metagrid/grid.h"
#include "metagrid/json.h"

static const char case_usage[] =
    "usage: metagrid case CASE.m [--set KEY=VALUE]... [--hours N [--first H] [--task T]]\n"
    "\n"
    "Reads a MATPOWER / PGLib-OPF case file and prints the transportation instance the\n"
    "grid family and `metagrid predict` derive from it, as one JSON object:\n"
    "n_demand, n_supply, demand_ids (buses with Pd > 0: busN), supply_ids (in-service\n"
    "generators with Pmax > 0: genK), total_demand, total_capacity (MW), cost_min,\n"
    "cost_max (unit costs c_ij = mc_j + task.transmission_cost * dist_ij, $/MWh), and\n"
    "demand_mw (Pd per demand id), capacity_mw (Pmax per supply id), marginal_cost\n"
    "(mc per supply id), n_bus, n_gen, n_branch, fuels, transmission_cost.\n"
    "\n"
    "  --set KEY=VALUE   a config key (task.transmission_cost shapes the costs; seed and\n"
    "                    the task.* scenario knobs shape --hours)\n"
    "  --hours N         instead, print N hours (from hour --first H, default 0) of the grid\n"
    "                    family's held-out scenario --task T (default 0) as an hourly CSV\n"
    "                    for metagrid predict (demands and available capacities, MW)\n"
    "\n"
    "Example:\n"
    "  metagrid case data/grids/pglib_opf_case118_ieee.m\n"
    "  metagrid case data/grids/pglib_opf_case5_pjm.m --set seed=2 --hours 24 > hours.csv\n"
    "\n"
    "Exit status 2 with `metagrid: FILE:LINE: problem` on a malformed case.\n";

static void print_ids(const char *key, char (*ids)[24], int k)
{
    printf(", \"%s\": [", key);
    for (int i = 0; i < k; i++) {
        if (i) printf(", ");
        json_str(stdout, ids[i]);
    }
    printf("]");
}

static void print_num(const char *key, double v)
{
    printf(", \"%s\": ", key);
    json_num(stdout, v);
}

static void print_vec(const char *key, const double *v, int k)
{
    printf(", \"%s\": ", key);
    json_vec(stdout, v, (size_t)k);
}

static void print_model(const GridCase *gc, const GridModel *gm, double tc)
{
    printf("{\"n_demand\": %d, \"n_supply\": %d", gm->n, gm->m);
    print_ids("demand_ids", gm->demand_id, gm->n);
    print_ids("supply_ids", gm->supply_id, gm->m);
    print_vec("demand_mw", gm->pd, gm->n);
    print_vec("capacity_mw", gm->pmax, gm->m);
    print_vec("marginal_cost", gm->mc, gm->m);
    print_num("total_demand", gm->total_demand);
    print_num("total_capacity", gm->total_capacity);
    print_num("cost_min", gm->cost_min);
    print_num("cost_max", gm->cost_max);
    printf(", \"n_bus\": %d, \"n_gen\": %d, \"n_branch\": %d", gc->n_bus, gc->n_gen,
           gc->n_branch);
    print_num("transmission_cost", tc);
    printf(", \"fuels\": {");
    for (int f = 0; f < gm->n_fuel; f++) {
        int cnt = 0;
        double cap = 0.0;
        for (int j = 0; j < gm->m; j++)
            if (gm->fuel[j] == f) {
                cnt++;
                cap += gm->pmax[j];
            }
        if (f) printf(", ");
        json_str(stdout, gm->fuel_names[f]);
        printf(": {\"n\": %d, \"capacity\": ", cnt);
        json_num(stdout, cap);
        printf("}");
    }
    printf("}}\n");
}

/* --hours N: hours first .. first + N - 1 of the grid family's held-out
 * (eval-stream) scenario `task` as an hourly CSV (README: the hourly CSV
 * files). */
static void print_hours(const GridModel *gm, const Config *cfg, long first, long count,
                        long task)
{
    GridKnobs kn = {cfg->task.rho, cfg->task.renewable_frac, cfg->task.outage_rate,
                    cfg->task.noise, cfg->task.transmission_cost};
    RngStream r;
    uint64_t seed = (uint64_t)cfg->seed;
    rng_stream_init(&r, seed, RNG_EVAL_TASK, 0, (uint64_t)task, 0);
    GridTask gt;
    grid_task_draw(&gt, gm, &kn, &r);
    double *d = mg_calloc((size_t)gm->n, sizeof(double)), *s = mg_calloc((size_t)gm->m, sizeof(double));
    printf("hour");
    for (int i = 0; i < gm->n; i++) printf(",%s", gm->demand_id[i]);
    for (int j = 0; j < gm->m; j++) printf(",%s", gm->supply_id[j]);
    printf("\n");
    for (long h = first; h < first + count; h++) {
        grid_instance(&gt, seed, RNG_EVAL_INST, 0, (uint64_t)task, (uint64_t)h, d, s);
        printf("h%ld", h);
        /* 10 significant digits, rounded down for capacities so that a
         * feasible hour stays feasible */
        for (int i = 0; i < gm->n; i++) printf(",%.10g", d[i]);
        for (int j = 0; j < gm->m; j++) {
            char buf[32];
            snprintf(buf, sizeof buf, "%.10g", s[j]);
            if (strtod(buf, NULL) > s[j]) snprintf(buf, sizeof buf, "%.10g", s[j] * (1 - 1e-9));
            printf(",%s", buf);
        }
        printf("\n");
    }
    free(d);
    free(s);
    grid_task_free(&gt);
}

int cmd_case(int argc, char **argv)
{
    static const struct option opts[] = {
        {"set", required_argument, 0, 's'}, {"hours", required_argument, 0, 'H'},
        {"first", required_argument, 0, 'f'}, {"task", required_argument, 0, 't'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *sets[CMD_MAX_SETS];
    int nsets = 0, c;
    long hours = 0, first = 0, task = 0;
    MgErr e = {0};
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "s:H:f:t:h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(case_usage, stdout);
            return MG_OK;
        }
        if (c == 's' && nsets < CMD_MAX_SETS) {
            sets[nsets++] = optarg;
            continue;
        }
        if (c == 'H' || c == 'f' || c == 't') {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || end == optarg || v < 0 || v > 1000000 || (c == 'H' && v < 1)) {
                fprintf(stderr, "metagrid: case: --%s: expected an integer in %d..1000000, "
                        "got '%s'\n", c == 'H' ? "hours" : c == 'f' ? "first" : "task",
                        c == 'H', optarg);
                return MG_EUSAGE;
            }
            *(c == 'H' ? &hours : c == 'f' ? &first : &task) = v;
            continue;
        }
        fprintf(stderr, "metagrid: case: bad option (%s)\n\n%s",
                c == 's' ? "too many --set" : argv[optind - 1], case_usage);
        return MG_EUSAGE;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "metagrid: case: expected one CASE.m\n\n%s", case_usage);
        return MG_EUSAGE;
    }
    Config cfg;
    GridCase gc;
    GridModel gm;
    memset(&gc, 0, sizeof gc);
    memset(&gm, 0, sizeof gm);
    int rc = config_load(&cfg, NULL, sets, nsets, &e);
    if (rc == MG_OK) rc = case_load(&gc, argv[optind], &e);
    if (rc == MG_OK) rc = case_build(&gm, &gc, cfg.task.transmission_cost, argv[optind], &e);
    if (rc == MG_OK && hours > 0) print_hours(&gm, &cfg, first, hours, task);
    else if (rc == MG_OK) print_model(&gc, &gm, cfg.task.transmission_cost);
    else mg_print_err(&e);
    case_model_free(&gm);
    case_free(&gc);
    return rc;
}
