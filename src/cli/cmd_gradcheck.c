/*
 * cmd_gradcheck.c — `metagrid gradcheck CONFIG [--set KEY=VALUE]... [--dump FILE]`:
 * the exact meta-gradient of every algorithm against central finite
 * differences, in double precision, on one training task of the config.
 *
 * For each algorithm (maml, fomaml, metasgd, gated with the sgd base, gated
 * with the adam base, pretrain) on the config's network and task family:
 * draw task (train stream, iteration 0, task 0), initialise the
 * meta-parameters from the config's seed, compute learner_task_grad and
 * compare it with 4-point central differences (step h) of
 * learner_meta_loss along each checked coordinate. fomaml is checked
 * against its own first-order definition: the gradient of the query loss
 * at the adapted theta_T with respect to theta_T.
 *   rel_err_i = |g_i - fd_i| / max(|g_i|, |fd_i|, 1e-3 max_j |fd_j|, 1e-12)
 * A coordinate whose finite difference is itself unresolved at the
 * tolerance (the 2-point estimates with steps h and 2h differ by more than
 * tol times the denominator: a relu kink inside the stencil, or roundoff on
 * a large network) is counted in n_unresolved instead of judged.
 * One JSON line per algorithm; exit 1 if any max_rel_err exceeds --tol or
 * more than half of the checked coordinates are unresolved.
 * Runs without MPI.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metagrid/json.h"
#include "metagrid/cmd.h"
#include "metagrid/common.h"
#include "metagrid/config.h"
#include "metagrid/learner.h"
#include "metagrid/task.h"

static const char gradcheck_usage[] =
    "usage: metagrid gradcheck CONFIG [--set KEY=VALUE]... [--dump FILE]\n"
    "\n"
    "Compare the exact meta-gradient of every algorithm (maml, fomaml, metasgd,\n"
    "gated with the sgd and the adam base, pretrain) on CONFIG's network and one\n"
    "training task with central finite differences (double precision). Prints one\n"
    "JSON line per algorithm:\n"
    "  {\"algo\": NAME, [\"base\": B,] \"check\": \"exact\"|\"first_order\",\n"
    "   \"max_rel_err\": X, \"n_checked\": N, \"n_meta\": N, \"meta_loss\": X,\n"
    "   \"n_unresolved\": N, \"tol\": X, \"ok\": BOOL}\n"
    "rel_err = |g - fd| / max(|g|, |fd|, 1e-3 max|fd|); fd = 4-point central\n"
    "differences. Coordinates where the 2-point differences with steps h and 2h\n"
    "disagree by more than the tolerance (a relu kink inside the stencil, roundoff\n"
    "on large networks) are counted as unresolved instead of judged. fomaml is\n"
    "checked against its own first-order definition (grad of the query loss at the\n"
    "adapted parameters). Finite differences are most telling on small networks:\n"
    "--set model.hidden=[8,8]. The xent loss (model.loss) is larger than the mse,\n"
    "and so is the roundoff of its differences: on large networks use --step 3e-5.\n"
    "\n"
    "  -s, --set KEY=VALUE   override a config key (repeatable)\n"
    "  -d, --dump FILE       write, for the config's algo.name, a JSON object with\n"
    "                        everything another framework needs to recompute the\n"
    "                        meta-gradient (layers, activation, loss, params, ...)\n"
    "  -n, --max-params N    check at most N coordinates per algorithm, evenly\n"
    "                        strided over the meta-parameters (default 1000, 0 = all)\n"
    "  -t, --tol X           tolerance on max_rel_err (default 1e-6)\n"
    "  -e, --step H          finite-difference step (default 1e-5)\n"
    "  -h, --help            this help\n"
    "\n"
    "Example:\n"
    "  metagrid gradcheck configs/sinusoid.yaml --max-params 200\n"
    "  metagrid gradcheck configs/seed.yaml --set algo.name=maml --dump grad.json\n"
    "\n"
    "Exit status: 0 all within tolerance, 1 above tolerance (or more than half\n"
    "unresolved) or failure, 2 bad usage or config.\n";

static double GC_H = 1e-5; /* finite-difference step (--step) */

typedef struct {
    double max_rel_err, meta_loss;
    size_t n_checked, n_unresolved;
} GcResult;

/* Central differences of f(meta) along coordinate i from f at -2h, -h, h, 2h:
 * d1 = 2-point with h, d2 = 2-point with 2h; returns the 4-point estimate
 * (4 d1 - d2) / 3 and in *spread |d1 - d2|, which bounds its error when f
 * is smooth there (a relu kink inside the stencil or roundoff makes it large). */
static double gc_fd(Learner *L, double *meta, size_t i, const TaskData *s, const TaskData *q,
                    int on_theta, double *spread)
{
    double keep = meta[i], f[4], off[4] = {-2 * GC_H, -GC_H, GC_H, 2 * GC_H};
    for (int j = 0; j < 4; j++) {
        meta[i] = keep + off[j];
        f[j] = on_theta ? learner_loss(L, meta, q) : learner_meta_loss(L, meta, s, q);
    }
    meta[i] = keep;
    double d1 = (f[2] - f[1]) / (2 * GC_H), d2 = (f[3] - f[0]) / (4 * GC_H);
    *spread = fabs(d1 - d2);
    return (4 * d1 - d2) / 3;
}

/* Check one learner: exact gradient at meta vs finite differences. */
static GcResult gc_check(Learner *L, double *meta, const TaskData *s, const TaskData *q,
                         size_t max_params, double tol)
{
    GcResult res = {0, 0, 0, 0};
    size_t nm = learner_n_meta(L), nt = learner_n_theta(L);
    double *g = mg_malloc(nm * sizeof(double));
    res.meta_loss = learner_task_grad(L, meta, s, q, g);
    int fo = learner_algo(L) == ALGO_FOMAML;
    double *x = meta;
    size_t n = nm;
    if (fo) { /* first-order definition: d L_q(theta_T) / d theta_T */
        x = mg_malloc(nt * sizeof(double));
        learner_adapt(L, meta, NULL, s, learner_inner_steps(L), x, NULL, NULL);
        n = nt;
    }
    size_t stride = (max_params && n > max_params) ? (n + max_params - 1) / max_params : 1;
    size_t cnt = (n + stride - 1) / stride;
    double *fd = mg_malloc(2 * cnt * sizeof(double)), *spread = fd + cnt, fmx = 0;
    for (size_t c = 0; c < cnt; c++) {
        fd[c] = gc_fd(L, x, c * stride, s, q, fo, &spread[c]);
        fmx = fmax(fmx, fabs(fd[c]));
    }
    for (size_t c = 0; c < cnt; c++) {
        double gi = g[c * stride];
        double den = fmax(fmax(fabs(gi), fabs(fd[c])), fmax(1e-3 * fmx, 1e-12));
        if (spread[c] > 0.1 * tol * den) { /* the finite difference itself is unresolved */
            res.n_unresolved++;
            continue;
        }
        double err = fabs(gi - fd[c]) / den;
        if (!(err <= res.max_rel_err)) res.max_rel_err = err; /* NaN propagates */
    }
    res.n_checked = cnt;
    if (fo) free(x);
    free(fd);
    free(g);
    return res;
}

static void json_rows(FILE *f, const double *x, int k, int d)
{
    fputc('[', f);
    for (int r = 0; r < k; r++) {
        if (r) fputc(',', f);
        json_vec(f, x + (size_t)r * d, d);
    }
    fputc(']', f);
}

/* The --dump object for cfg's own algorithm. */
static int gc_dump(const char *path, const Config *cfg, Learner *L, const double *meta,
                   const TaskData *s, const TaskData *q, MgErr *e)
{
    FILE *f = mg_open_out(path, "w", e);
    if (!f) return e->code;
    size_t nm = learner_n_meta(L), nt = learner_n_theta(L);
    double *g = mg_malloc(nm * sizeof(double));
    double loss = learner_task_grad(L, meta, s, q, g);
    const MlpLayout *lay = learner_layout(L);
    int algo = learner_algo(L);
    fprintf(f, "{\"algo\":\"%s\",\"layers\":[", config_algo_name(algo));
    for (int l = 0; l <= lay->n_layers; l++) fprintf(f, "%s%d", l ? "," : "", lay->sizes[l]);
    fprintf(f, "],\"activation\":\"%s\",", config_activation_name(lay->act));
    if (lay->prices)
        fprintf(f, "\"loss\":\"%s\",\"head\":\"prices\",\"n_demand\":%d,\"n_supply\":%d,"
                   "\"temperature\":%.17g,\"loss_definition\":\"lam = softplus(out); y rows "
                   "= [lam* (m), opt (1), a (n), b (m), c (n*m)]; mse: mean over points and "
                   "outputs of (lam - lam*)^2; lagrangian: mean over points of opt - "
                   "(sum_i a_i smin_j(c_ij + lam_j) - sum_j b_j lam_j), smin(v) = -t log sum_j "
                   "exp(-v_j / t)\",",
                config_loss_name(lay->loss), lay->n_demand, lay->sizes[lay->n_layers], lay->temp);
    else if (lay->group > 0 && lay->loss == MLP_LOSS_XENT)
        fprintf(f, "\"loss\":\"xent\",\"head\":\"allocation\",\"group\":%d,"
                   "\"loss_definition\":\"p = softmax over consecutive groups of %d "
                   "outputs; mean over points and groups of -sum_j y_j log p_j\",",
                lay->group, lay->group);
    else if (lay->group > 0)
        fprintf(f, "\"loss\":\"mse\",\"head\":\"allocation\",\"group\":%d,"
                   "\"loss_definition\":\"p = softmax over consecutive groups of %d "
                   "outputs; mean over points and outputs of (p - y)^2\",",
                lay->group, lay->group);
    else
        fprintf(f, "\"loss\":\"mse\",\"head\":\"linear\",\"loss_definition\":\"mean over "
                   "points and outputs of "
                   "(out - y)^2\",");
    if (cfg->model.inner_loss == INNER_LOSS_MSE)
        fputs("\"inner_loss\":\"mse\",", f); /* the inner loop's loss (else \"loss\") */
    fputs("\"params\":", f);
    json_vec(f, meta, nt);
    if (algo == ALGO_METASGD) {
        fputs(",\"inner_lrs\":", f);
        json_vec(f, meta + nt, nt);
    } else {
        fputs(",\"inner_lr\":", f);
        json_num(f, cfg->algo.inner_lr);
    }
    fprintf(f, ",\"inner_steps\":%d", algo == ALGO_PRETRAIN ? 0 : cfg->algo.inner_steps);
    if (algo == ALGO_PRETRAIN)
        fputs(",\"meta_loss_definition\":\"loss at params on support and query rows together "
              "(mean over all points and outputs)\"", f);
    else if (algo == ALGO_FOMAML)
        fputs(",\"meta_grad_definition\":\"first order: gradient of the query loss at the "
              "adapted parameters\"", f);
    if (algo == ALGO_GATED) {
        fprintf(f, ",\"gate\":{\"base\":\"%s\",\"hidden\":%d,\"adam_beta1\":%g,"
                   "\"adam_beta2\":%g,\"adam_eps\":%g,\"params\":",
                config_gate_base_name(cfg->algo.gate.base), cfg->algo.gate.hidden,
                LEARNER_ADAM_BETA1, LEARNER_ADAM_BETA2, LEARNER_ADAM_EPS);
        json_vec(f, meta + nt, nm - nt);
        fputs(",\"definition\":\"see include/metagrid/gate.h\"}", f);
    }
    fputs(",\"support_x\":", f);
    json_rows(f, s->x, s->k, s->in_dim);
    fputs(",\"support_y\":", f);
    json_rows(f, s->y, s->k, s->y_dim);
    fputs(",\"query_x\":", f);
    json_rows(f, q->x, q->k, q->in_dim);
    fputs(",\"query_y\":", f);
    json_rows(f, q->y, q->k, q->y_dim);
    fputs(",\"meta_loss\":", f);
    json_num(f, loss);
    fputs(",\"meta_grad\":", f);
    json_vec(f, g, nm);
    fputs("}\n", f);
    free(g);
    if (mg_close_out(f, path, e) != MG_OK) return e->code;
    return MG_OK;
}

/* The command line of gradcheck. */
typedef struct {
    const char *config;
    const char *sets[CMD_MAX_SETS];
    int nsets;
    const char *dump;
    long max_params;
    double tol;
} GcArgs;

/* Parses into a (and the step GC_H); returns MG_OK, -1 after --help, or
 * MG_EUSAGE after printing the error. */
static int gc_parse_args(int argc, char **argv, GcArgs *a)
{
    static const struct option opts[] = {
        {"set", required_argument, NULL, 's'},    {"dump", required_argument, NULL, 'd'},
        {"max-params", required_argument, NULL, 'n'}, {"tol", required_argument, NULL, 't'}, {"step", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    a->max_params = 1000;
    a->tol = 1e-6;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":s:d:n:t:e:h", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 's':
            if (a->nsets == CMD_MAX_SETS) {
                fprintf(stderr, "metagrid: gradcheck: too many --set\n");
                return MG_EUSAGE;
            }
            a->sets[a->nsets++] = optarg;
            break;
        case 'd': a->dump = optarg; break;
        case 'n':
            a->max_params = strtol(optarg, &end, 10);
            if (*optarg == 0 || *end || a->max_params < 0) {
                fprintf(stderr, "metagrid: gradcheck: --max-params: bad value '%s'\n", optarg);
                return MG_EUSAGE;
            }
            break;
        case 't':
            a->tol = strtod(optarg, &end);
            if (*optarg == 0 || *end || !(a->tol > 0)) {
                fprintf(stderr, "metagrid: gradcheck: --tol: bad value '%s'\n", optarg);
                return MG_EUSAGE;
            }
            break;
        case 'e':
            GC_H = strtod(optarg, &end);
            if (*optarg == 0 || *end || !(GC_H > 0)) {
                fprintf(stderr, "metagrid: gradcheck: --step: bad value '%s'\n", optarg);
                return MG_EUSAGE;
            }
            break;
        case 'h': fputs(gradcheck_usage, stdout); return -1;
        case ':':
            fprintf(stderr, "metagrid: gradcheck: option '%s' needs a value\n", argv[optind - 1]);
            return MG_EUSAGE;
        default:
            fprintf(stderr, "metagrid: gradcheck: unknown option '%s'\n\n%s", argv[optind - 1],
                    gradcheck_usage);
            return MG_EUSAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "metagrid: gradcheck: expected one CONFIG\n\n%s", gradcheck_usage);
        return MG_EUSAGE;
    }
    a->config = argv[optind];
    return MG_OK;
}

/* Check the algorithm of cfg (algo.name, algo.gate.base) on one task of ts
 * and print its JSON line; *ok = within tolerance. */
static int gc_run_one(const Config *cfg, const TaskSampler *ts, const TaskData *sup,
                      const TaskData *qry, const GcArgs *a, int *ok, MgErr *e)
{
    int algo = cfg->algo.name, base = cfg->algo.gate.base;
    Learner *L = NULL;
    LearnerSetup setup = learner_setup_from(cfg);
    int rc = learner_new(&L, &setup, tasks_in_dim(ts), tasks_out_dim(ts), tasks_head_group(ts), e);
    if (rc != MG_OK) return rc;
    double *meta = mg_malloc(learner_n_meta(L) * sizeof(double));
    learner_init_meta(L, meta, (uint64_t)cfg->seed);
    GcResult res = gc_check(L, meta, sup, qry, (size_t)a->max_params, a->tol);
    *ok = res.max_rel_err <= a->tol && 2 * res.n_unresolved <= res.n_checked;
    printf("{\"algo\":\"%s\"", config_algo_name(algo));
    if (algo == ALGO_GATED) printf(",\"base\":\"%s\"", config_gate_base_name(base));
    printf(",\"check\":\"%s\",\"max_rel_err\":", algo == ALGO_FOMAML ? "first_order" : "exact");
    json_num(stdout, res.max_rel_err);
    printf(",\"n_checked\":%zu,\"n_meta\":%zu,\"meta_loss\":", res.n_checked,
           learner_n_meta(L));
    json_num(stdout, res.meta_loss);
    printf(",\"n_unresolved\":%zu,\"tol\":%g,\"ok\":%s}\n", res.n_unresolved, a->tol,
           *ok ? "true" : "false");
    fflush(stdout);
    free(meta);
    learner_destroy(L);
    return MG_OK;
}

int cmd_gradcheck(int argc, char **argv)
{
    GcArgs a = {0};
    int prc = gc_parse_args(argc, argv, &a);
    if (prc != MG_OK) return prc < 0 ? MG_OK : prc;
    MgErr e = {0};
    Config cfg;
    if (cmd_check_config_path("gradcheck", a.config, NULL, &e) != MG_OK ||
        config_load(&cfg, a.config, a.sets, a.nsets, &e) != MG_OK ||
        tasks_config_resolve(&cfg.task, &e) != MG_OK) {
        mg_print_err(&e);
        return MG_EUSAGE;
    }
    TaskSampler *ts = NULL;
    TaskData sup, qry;
    memset(&sup, 0, sizeof sup);
    memset(&qry, 0, sizeof qry);
    TaskSetup task_setup = tasks_setup_from(&cfg);
    TaskRequest rq = {.stream = STREAM_TRAIN, .iter = 0, .task = 0,
                      .k_support = cfg.task.k_support, .k_query = cfg.task.k_query};
    int rc = tasks_new(&ts, &task_setup, &e);
    if (rc == MG_OK) rc = tasks_draw(ts, &rq, &sup, &qry, &e);
    if (rc != MG_OK) {
        mg_print_err(&e);
        tasks_destroy(ts);
        taskdata_free(&sup);
        taskdata_free(&qry);
        return rc;
    }
    int in = tasks_in_dim(ts), out = tasks_out_dim(ts), group = tasks_head_group(ts);
    static const struct {
        int algo, base;
    } runs[] = {{ALGO_MAML, 0},         {ALGO_FOMAML, 0}, {ALGO_METASGD, 0},
                {ALGO_GATED, GATE_SGD}, {ALGO_GATED, GATE_ADAM}, {ALGO_PRETRAIN, 0}};
    int worst = MG_OK;
    for (size_t r = 0; r < sizeof runs / sizeof runs[0] && rc == MG_OK; r++) {
        Config c2 = cfg;
        c2.algo.name = runs[r].algo;
        if (runs[r].algo == ALGO_GATED) c2.algo.gate.base = runs[r].base;
        if (c2.algo.inner_steps < 1 && runs[r].algo != ALGO_PRETRAIN) c2.algo.inner_steps = 1;
        int ok = 0;
        rc = gc_run_one(&c2, ts, &sup, &qry, &a, &ok, &e);
        if (rc == MG_OK && !ok) worst = MG_EFAIL;
    }
    if (rc == MG_OK && a.dump) {
        Learner *L = NULL;
        LearnerSetup setup = learner_setup_from(&cfg);
        rc = learner_new(&L, &setup, in, out, group, &e);
        if (rc == MG_OK) {
            double *meta = mg_malloc(learner_n_meta(L) * sizeof(double));
            learner_init_meta(L, meta, (uint64_t)cfg.seed);
            rc = gc_dump(a.dump, &cfg, L, meta, &sup, &qry, &e);
            free(meta);
        }
        learner_destroy(L);
    }
    if (rc != MG_OK) mg_print_err(&e);
    tasks_destroy(ts);
    taskdata_free(&sup);
    taskdata_free(&qry);
    return rc != MG_OK ? rc : worst;
}
