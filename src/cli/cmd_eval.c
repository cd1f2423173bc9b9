/*
 * cmd_eval.c — `metagrid eval CONFIG --checkpoint FILE... [--set K=V]... [--out DIR]`.
 *
 * Parses the command line, loads the evaluation config, runs eval_run (all
 * ranks), and on the root writes DIR/eval.json, DIR/report.md, gaps.tsv,
 * mse_by_step.tsv, eval_config.yaml, the PNG plots (tools/plot.sh, when
 * gnuplot is there) and prints the table. Every rank returns the same status.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metagrid/ckpt.h"
#include "metagrid/cmd.h"
#include "metagrid/common.h"
#include "metagrid/config.h"
#include "metagrid/eval.h"
#include "metagrid/parallel.h"
#include "metagrid/task.h"

static const char eval_usage[] =
    "usage: metagrid eval CONFIG --checkpoint FILE [--checkpoint FILE]...\n"
    "                     [--set KEY=VALUE]... [--out DIR] [--no-plot]\n"
    "\n"
    "K-shot evaluation on held-out tasks (a random stream disjoint from training).\n"
    "CONFIG and --set give the evaluation settings (eval.tasks, eval.k_support,\n"
    "eval.steps, eval.query, eval.scratch_steps, the task family and sizes, seed);\n"
    "each checkpoint brings its own model and algorithm. Per task: eval.k_support\n"
    "support instances solved by GLPK, eval.steps adaptation steps with the\n"
    "checkpoint's own algorithm, eval.query query instances. Tasks are spread over\n"
    "the ranks; results do not depend on the rank count.\n"
    "\n"
    "Methods: every checkpoint (label = its algo.name), no_adapt, scratch\n"
    "(scratch_long if eval.scratch_steps > 0), and for LP families support_mean,\n"
    "greedy, nearest, support_duals, solver (GLPK cold) and solver_warm (GLPK\n"
    "from the previous basis). Every heuristic allocation is repaired, polished\n"
    "eval.polish passes (default 0), certified by a Lagrangian lower bound and\n"
    "re-solved by the warm solver when its certified gap exceeds eval.tolerance;\n"
    "costs are amortised over eval.horizon hours.\n"
    "\n"
    "options:\n"
    "  -c, --checkpoint FILE  checkpoint to evaluate (repeatable, at least one)\n"
    "  -s, --set KEY=VALUE    override a config key (repeatable)\n"
    "  -o, --out DIR          output directory (default: the first checkpoint's)\n"
    "      --no-plot          do not run tools/plot.sh\n"
    "  -h, --help             this help\n"
    "\n"
    "Writes DIR/eval.json, DIR/report.md, DIR/gaps.tsv and DIR/hours.tsv (LP),\n"
    "DIR/mse_by_step.tsv,\n"
    "DIR/eval_config.yaml and, when gnuplot is installed, PNG plots.\n"
    "\n"
    "The adaptation step size at evaluation is eval.inner_lr (0 = each\n"
    "checkpoint's own algo.inner_lr); a --set of algo.*, model.* or train.* that\n"
    "differs from a checkpoint's own value is refused (it could not apply).\n"
    "\n"
    "Example (CONFIG first, then the checkpoints):\n"
    "  mpirun -np 2 metagrid eval configs/default.yaml --checkpoint runs/default/checkpoint.bin \\\n"
    "      --set eval.steps=3 --set eval.inner_lr=1 --out runs/default-eval-3steps\n"
    "\n"
    "Exit status: 0 done, 2 bad usage/config/checkpoint, 1 other failure.\n";

/* --set keys that evaluation does not use: each checkpoint brings its own
 * model and algorithm (the config stored in it), and train.* is training's.
 * Such a --set is refused, with the key that does what the user wants, when
 * its value differs from a checkpoint's own (sweeps pass a trial's overrides
 * to eval unchanged: those agree). Root only; the caller agrees the error. */
static int eval_check_sets(const Config *cfg, const char *const *sets, int nsets,
                           const char *const *ck, int nck, MgErr *e)
{
    for (int c = 0; c < nck && !e->code; c++) {
        Checkpoint k;
        Config kc;
        if (ckpt_read(ck[c], &k, e) != MG_OK) break;
        int ok = config_load_buffer(&kc, k.config_text, strlen(k.config_text), ck[c], e) == MG_OK;
        ckpt_free(&k);
        for (int i = 0; ok && i < nsets && !e->code; i++) {
            const char *kv = sets[i];
            size_t klen = strcspn(kv, "=");
            char key[128], mine[160], theirs[160];
            snprintf(key, sizeof key, "%.*s", (int)MG_MIN(klen, sizeof key - 1), kv);
            int model = !strncmp(key, "model.", 6) && strcmp(key, "model.head") != 0;
            if (strncmp(key, "algo.", 5) && strncmp(key, "train.", 6) && !model) continue;
            if (config_get(cfg, key, mine, sizeof mine) != MG_OK ||
                config_get(&kc, key, theirs, sizeof theirs) != MG_OK || !strcmp(mine, theirs))
                continue;
            if (!strcmp(key, "algo.inner_lr"))
                mg_fail(e, MG_EUSAGE, "eval: --set %s: %s adapts with its own algo.inner_lr (%s); "
                        "to change the step size at evaluation use --set eval.inner_lr=%s "
                        "(0 = each checkpoint's own)", kv, ck[c], theirs, mine);
            else if (!strcmp(key, "algo.inner_steps"))
                mg_fail(e, MG_EUSAGE, "eval: --set %s: the adaptation steps at evaluation are "
                        "eval.steps: use --set eval.steps=%s", kv, mine);
            else if (!strncmp(key, "train.", 6))
                mg_fail(e, MG_EUSAGE, "eval: --set %s: train.* keys have no effect at "
                        "evaluation; the evaluation settings are the eval.* keys (metagrid help "
                        "config)", kv);
            else
                mg_fail(e, MG_EUSAGE, "eval: --set %s: %s was trained with %s=%s and brings its "
                        "own model and algorithm, so %s cannot change at evaluation; train a "
                        "checkpoint with it, or vary the eval.* keys (metagrid help config)",
                        kv, ck[c], key, theirs, key);
        }
    }
    return e->code;
}

/* Root, before evaluating: DIR (or, if it does not exist yet, its nearest
 * existing parent) must be writable, so a read-only folder is reported at
 * once, with the fix, rather than after the evaluation. */
static int eval_check_out(const char *dir, int out_given, MgErr *e)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", dir);
    while (access(p, F_OK) != 0) {
        char *slash = strrchr(p, '/');
        if (!slash) {
            snprintf(p, sizeof p, ".");
            break;
        }
        if (slash == p) slash[1] = '\0';
        else *slash = '\0';
    }
    if (access(p, W_OK) == 0) return MG_OK;
    return mg_fail(e, MG_EUSAGE, "eval: %s: cannot write there (%s)%s; write the results "
                   "elsewhere with --out DIR", p, strerror(errno),
                   out_given ? "" : " (the default output folder is the first checkpoint's)");
}

/* Directory part of path (into out). */
static void dir_of(char *out, size_t n, const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    snprintf(out, n, "%s", dirname(tmp));
}

/* tools/plot.sh next to the binary (BIN/../tools/plot.sh), or $METAGRID_PLOT. */
static int find_plot_script(char *out, size_t n)
{
    const char *env = getenv("METAGRID_PLOT");
    if (env && env[0]) {
        snprintf(out, n, "%s", env);
        return access(out, R_OK) == 0;
    }
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) return 0;
    exe[len] = '\0';
    char dir[PATH_MAX];
    dir_of(dir, sizeof dir, exe);
    int w = snprintf(out, n, "%s/../tools/plot.sh", dir);
    if (w > 0 && (size_t)w < n && access(out, R_OK) == 0) return 1;
    w = snprintf(out, n, "%s/../share/metagrid/tools/plot.sh", dir);
    return w > 0 && (size_t)w < n && access(out, R_OK) == 0;
}

/* Append " 'arg'" to cmd if arg has no single quote. */
static int append_quoted(char *cmd, size_t n, const char *arg)
{
    if (strchr(arg, '\'')) return 0;
    size_t len = strlen(cmd);
    int w = snprintf(cmd + len, n - len, " '%s'", arg);
    return w > 0 && (size_t)w < n - len;
}

/* Run tools/plot.sh DIR RUNDIR... (root); fill `plots` with the markdown
 * list of what exists afterwards. */
static void make_plots(const char *out, const char *const *ck, int nck, int lp, char *plots,
                       size_t n)
{
    plots[0] = '\0';
    char script[PATH_MAX], cmd[8192];
    if (system("command -v gnuplot >/dev/null 2>&1") != 0 || !find_plot_script(script, sizeof script))
        return;
    snprintf(cmd, sizeof cmd, "bash");
    int ok = append_quoted(cmd, sizeof cmd, script) && append_quoted(cmd, sizeof cmd, out);
    for (int i = 0; ok && i < nck; i++) {
        char d[PATH_MAX];
        dir_of(d, sizeof d, ck[i]);
        ok = append_quoted(cmd, sizeof cmd, d);
    }
    if (!ok || strlen(cmd) + 32 >= sizeof cmd) return;
    strcat(cmd, " >/dev/null 2>&1");
    fflush(stdout);
    if (system(cmd) != 0) return;
    static const struct { const char *file, *what; int lp_only; } pngs[] = {
        {"learning_curves.png", "meta-training loss against meta-iteration (metrics.jsonl)", 0},
        {"gaps.png", "distribution of the per-instance optimality gap per method", 1},
        {"mse_by_step.png", "query error against adaptation steps", 0},
    };
    size_t len = 0;
    for (size_t i = 0; i < sizeof pngs / sizeof pngs[0]; i++) {
        char p[PATH_MAX];
        mg_path_join(p, sizeof p, out, pngs[i].file);
        if ((pngs[i].lp_only && !lp) || access(p, R_OK) != 0) continue;
        len += (size_t)snprintf(plots + len, n - len, "- [`%s`](%s): %s\n", pngs[i].file,
                                pngs[i].file, pngs[i].what);
        if (len >= n) break;
    }
}

/* Root: every output file and the table. */
static int write_outputs(const EvalResult *r, const char *out, const char *const *ck, int nck,
                         int plot, MgErr *e)
{
    if (mg_mkdir_p(out) != 0)
        return mg_fail(e, MG_EFAIL, "%s: cannot create directory: %s", out, strerror(errno));
    char path[PATH_MAX];
    mg_path_join(path, sizeof path, out, "eval.json");
    if (eval_write_json(r, path, e) != MG_OK) return e->code;
    if (eval_write_tsv(r, out, e) != MG_OK) return e->code;
    mg_path_join(path, sizeof path, out, "eval_config.yaml");
    FILE *f = mg_open_out(path, "w", e);
    if (!f) return e->code;
    config_write(&r->cfg, f);
    if (mg_close_out(f, path, e) != MG_OK) return e->code;
    char plots[2048] = "";
    if (plot) make_plots(out, ck, nck, r->lp, plots, sizeof plots);
    mg_path_join(path, sizeof path, out, "report.md");
    if (eval_write_report(r, path, plot ? plots : "Not made (--no-plot).\n", e) != MG_OK)
        return e->code;
    eval_print_table(r, stdout);
    printf("\n");
    eval_write_goals(r, stdout);
    printf("wrote %s/eval.json and %s/report.md\n", out, out);
    fflush(stdout);
    return MG_OK;
}

int cmd_eval(int argc, char **argv)
{
    static const struct option opts[] = {
        {"checkpoint", required_argument, NULL, 'c'},
        {"set", required_argument, NULL, 's'},
        {"out", required_argument, NULL, 'o'},
        {"no-plot", no_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *ck[EVAL_MAX_CKPT], *sets[CMD_MAX_SETS];
    int nck = 0, nsets = 0, plot = 1, help = 0;
    const char *out = NULL, *config_path = NULL;
    MgErr e = {0};

    optind = 0; /* reset: glibc re-initialises getopt */
    opterr = 0;
    int ch;
    while (e.code == 0 && (ch = getopt_long(argc, argv, ":c:s:o:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            if (nck == EVAL_MAX_CKPT) mg_fail(&e, MG_EUSAGE, "eval: at most %d checkpoints", EVAL_MAX_CKPT);
            else ck[nck++] = optarg;
            break;
        case 's':
            if (nsets == CMD_MAX_SETS) mg_fail(&e, MG_EUSAGE, "eval: too many --set options");
            else if (!strchr(optarg, '='))
                mg_fail(&e, MG_EUSAGE, "eval: --set %s: expected KEY=VALUE", optarg);
            else sets[nsets++] = optarg;
            break;
        case 'o': out = optarg; break;
        case 'P': plot = 0; break;
        case 'h': help = 1; break;
        case ':':
            mg_fail(&e, MG_EUSAGE, "eval: option %s needs a value (see metagrid eval --help)",
                    argv[optind - 1]);
            break;
        default:
            mg_fail(&e, MG_EUSAGE, "eval: unknown option '%s' (see metagrid eval --help)",
                    argv[optind - 1]);
        }
    }
    if (help) {
        par_printf("%s", eval_usage);
        return MG_OK;
    }
    if (e.code == 0) {
        if (optind + 1 != argc)
            mg_fail(&e, MG_EUSAGE, "eval: expected one CONFIG argument, got %d (see metagrid eval --help)",
                    argc - optind);
        else if (nck == 0)
            mg_fail(&e, MG_EUSAGE, "eval: at least one --checkpoint FILE is needed");
        else config_path = argv[optind];
    }
    for (int i = 0; e.code == 0 && i < nck; i++)
        if (access(ck[i], R_OK) != 0)
            mg_fail(&e, MG_EUSAGE, "%s: cannot open checkpoint: %s", ck[i], strerror(errno));

    if (e.code == 0) cmd_check_config_path("eval", config_path, ck[0], &e);
    Config cfg;
    if (e.code == 0 && config_load(&cfg, config_path, sets, nsets, &e) == MG_OK)
        tasks_config_resolve(&cfg.task, &e);
    if (e.code == 0 && par_is_root()) eval_check_sets(&cfg, sets, nsets, ck, nck, &e);
    if (par_agree_error(&e) != 0) {
        par_report_err(&e);
        return e.code;
    }

    char outdir[PATH_MAX];
    if (out) snprintf(outdir, sizeof outdir, "%s", out);
    else dir_of(outdir, sizeof outdir, ck[0]);

    if (par_is_root()) eval_check_out(outdir, out != NULL, &e);
    if (par_agree_error(&e) != 0) {
        par_report_err(&e);
        return e.code;
    }
    EvalResult r;
    if (eval_run(&cfg, ck, nck, &r, &e) == MG_OK && par_is_root() &&
        write_outputs(&r, outdir, ck, nck, plot, &e) != MG_OK && e.code == MG_EFAIL) {
        size_t used = strlen(e.msg);
        snprintf(e.msg + used, sizeof e.msg - used, "; write the results elsewhere with --out DIR%s",
                 out ? "" : " (the default is the first checkpoint's folder)");
    }
    par_agree_error(&e);
    par_report_err(&e);
    eval_result_free(&r);
    return e.code;
}
