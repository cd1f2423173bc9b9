/*
 * cmd_predict.c — `metagrid predict CHECKPOINT --case CASE.m --history
 * HIST.csv --hours HOURS.csv --out DIR [--set KEY=VALUE]...`: the operator
 * workflow (predict.h). Prints one summary line; exit 2 with one
 * `metagrid: FILE:LINE: problem` line on bad input (nothing written).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "metagrid/cmd.h"
#include "metagrid/common.h"
#include "metagrid/predict.h"

static const char predict_usage[] =
    "usage: metagrid predict CHECKPOINT --case CASE.m --history HIST.csv --hours HOURS.csv\n"
    "                        --out DIR [--set KEY=VALUE]... [--compare]\n"
    "\n"
    "Adapts a checkpoint trained on a grid (task.family: grid) to the operator's history\n"
    "hours (HIST.csv, solved with GLPK), then dispatches every hour of HOURS.csv with the\n"
    "learned allocation, a certified lower bound, and the warm-started solver for any hour\n"
    "whose certified gap exceeds eval.tolerance. Every allocation is checked (demands met,\n"
    "capacities respected) before DIR/allocations.csv (hour,demand_id,supply_id,mw),\n"
    "DIR/hours.csv (hour,cost,lower_bound,cert_gap,fallback) and DIR/summary.json are\n"
    "written.\n"
    "\n"
    "CSV files: a header `hour,` then every demand id and supply id of `metagrid case\n"
    "CASE.m` (any order); one row per hour: a label, the demands and the available\n"
    "capacities in MW. See the README (Grids) for a worked example.\n"
    "\n"
    "  --set KEY=VALUE   override the checkpoint's config (eval.steps, eval.tolerance,\n"
    "                    task.transmission_cost)\n"
    "  --compare         also solve every hour with GLPK, warm-started from the previous\n"
    "                    hour and cold, and report the true gaps and the latency ratios\n"
    "                    in summary.json (\"compare\")\n"
    "\n"
    "Example (README: Grids; train configs/grid5.yaml --out runs/grid5 first):\n"
    "  metagrid predict runs/grid5/checkpoint.bin --case data/grids/pglib_opf_case5_pjm.m \\\n"
    "      --history data/grids/examples/case5_history.csv \\\n"
    "      --hours data/grids/examples/case5_hours.csv --out runs/grid5/dispatch\n"
    "\n"
    "Exit status: 0 done, 2 bad input (nothing written), 1 solver or I/O failure.\n";

int cmd_predict(int argc, char **argv)
{
    static const struct option opts[] = {
        {"case", required_argument, 0, 'c'},  {"history", required_argument, 0, 'H'},
        {"hours", required_argument, 0, 'r'}, {"out", required_argument, 0, 'o'},
        {"set", required_argument, 0, 's'},   {"help", no_argument, 0, 'h'},
        {"compare", no_argument, 0, 'C'},
        {0, 0, 0, 0}};
    const char *sets[CMD_MAX_SETS];
    PredictOpts o;
    memset(&o, 0, sizeof o);
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "c:H:r:o:s:hC", opts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(predict_usage, stdout); return MG_OK;
        case 'c': o.case_path = optarg; break;
        case 'H': o.history = optarg; break;
        case 'r': o.hours = optarg; break;
        case 'o': o.out_dir = optarg; break;
        case 'C': o.compare = 1; break;
        case 's':
            if (o.nsets < CMD_MAX_SETS) {
                sets[o.nsets++] = optarg;
                break;
            }
            /* fall through */
        default:
            fprintf(stderr, "metagrid: predict: bad option '%s' (see metagrid predict --help)\n",
                    argv[optind - 1]);
            return MG_EUSAGE;
        }
    }
    const char *missing = !o.case_path ? "--case" : !o.history ? "--history"
                        : !o.hours ? "--hours" : !o.out_dir ? "--out" : NULL;
    if (optind != argc - 1 || missing) {
        fprintf(stderr, "metagrid: predict: %s%s is required (see metagrid predict --help)\n",
                missing ? missing : "one CHECKPOINT", missing ? "" : "");
        return MG_EUSAGE;
    }
    o.checkpoint = argv[optind];
    o.sets = sets;
    PredictSummary sum;
    MgErr e = {0};
    int rc = predict_run(&o, &sum, &e);
    if (rc != MG_OK) {
        mg_print_err(&e);
        return rc;
    }
    printf("metagrid predict: %d hours (%d history hours solved in %.3f s, adapted in %.3f s); "
           "%d fell back to the solver (cert_gap > %g); median %.1f us per hour -> %s\n",
           sum.n_hours, sum.n_history, sum.label_s, sum.adapt_s, sum.n_fallback, sum.tolerance,
           sum.latency_us_median, o.out_dir);
    if (o.compare)
        printf("metagrid predict: compare: gap mean %.3g%% max %.3g%%; per hour median / mean: "
               "%.1f / %.1f us vs solver_warm %.1f / %.1f us (%.1fx / %.1fx), solver %.1f / "
               "%.1f us\n", 100 * sum.gap_mean, 100 * sum.gap_max, sum.latency_us_median,
               sum.latency_us_mean, sum.warm_us_median, sum.warm_us_mean,
               sum.warm_us_median / sum.latency_us_median, sum.warm_us_mean / sum.latency_us_mean,
               sum.cold_us_median, sum.cold_us_mean);
    return MG_OK;
}
