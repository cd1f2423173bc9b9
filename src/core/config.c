/*
 * config.c — the run configuration: one schema table of every key, value
 * conversion with range checks, defaults, cross-key checks, the resolved
 * config.yaml writer, the hash and the config reference.
 *
 * Everything that touches "all keys" is a loop over cfg_keys[]: defaults
 * (each default is YAML text parsed by the same rules as a file), loading,
 * --set, writing, hashing, the README reference. Adding a key means adding
 * a field to Config and one row here. The table machinery (lookup,
 * suggestions, value conversion) is schema.c, the YAML event walker
 * schema_yaml.c; sweep files use the same machinery with their own table.
 */
#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700 /* realpath */
#include "metagrid/config.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zlib.h>

#include "config_internal.h"

static const char *const family_names[] = {"uniform", "region", "sinusoid", "grid", NULL};
static const char *const act_names[] = {"relu", "tanh", NULL};
static const char *const algo_names[] = {"maml", "fomaml", "metasgd", "gated", "pretrain", NULL};
static const char *const gate_names[] = {"sgd", "adam", NULL};
static const char *const loss_names[] = {"mse", "xent", "lagrangian", NULL};
static const char *const head_names[] = {"auto", "alloc", "prices", NULL};
static const char *const anchor_names[] = {"none", "nearest", NULL};
static const char *const fallback_names[] = {"solver", "simplex", NULL};
static const char *const inner_loss_names[] = {"same", "mse", NULL};

#define OFF(f) offsetof(Config, f)
#define KINT(n, f, lo, hi, d, h, s) {n, KT_INT, OFF(f), 0, lo, hi, 0, 0, 0, NULL, d, h, s, NULL, NULL}
#define KI64(n, f, lo, hi, d, h, s) {n, KT_INT64, OFF(f), 0, lo, hi, 0, 0, 0, NULL, d, h, s, NULL, NULL}
#define KFLT(n, f, lo, open, hi, d, h, s) {n, KT_FLOAT, OFF(f), 0, 0, 0, lo, hi, open, NULL, d, h, s, NULL, NULL}
#define KBOOL(n, f, d, h, s) {n, KT_BOOL, OFF(f), 0, 0, 1, 0, 0, 0, NULL, d, h, s, NULL, NULL}
#define KENUM(n, f, names, d, h, s) {n, KT_ENUM, OFF(f), 0, 0, 0, 0, 0, 0, names, d, h, s, NULL, NULL}
#define KLIST(n, f, cnt, lo, hi, d, h, s) {n, KT_INTLIST, OFF(f), OFF(cnt), lo, hi, 0, 0, 0, NULL, d, h, s, NULL, NULL}
#define KPATH(n, f, d, h, s) {n, KT_PATH, OFF(f), 0, 0, CONFIG_PATH_MAX, 0, 0, 0, NULL, d, h, s, NULL, NULL}

/* The schema. Keys of one group must be contiguous (the writer relies on
 * it; the round-trip test checks it). hashed = 1: the key defines the
 * training problem; run control (iterations, cadences, validation, eval.*)
 * does not, so a run can be resumed with more iterations. */
const CfgKey cfg_keys[] = {
    KI64("seed", seed, 0, INT64_MAX, "1", 1,
         "master seed of every random draw (tasks, instances, initialisation)"),
    KENUM("task.family", task.family, family_names, "uniform", 1,
          "task distribution: random transportation LPs, region-structured grids, sinusoid "
          "regression, or operating scenarios of a real grid case (grid)"),
    KINT("task.n_demand", task.n_demand, 1, 10000, "3", 1,
         "demand points per LP instance (LP families; ignored for sinusoid)"),
    KINT("task.n_supply", task.n_supply, 1, 10000, "2", 1,
         "supply points per LP instance (LP families; ignored for sinusoid)"),
    KINT("task.k_support", task.k_support, 1, 100000, "10", 1,
         "support instances (sinusoid: points) per task, for the inner loop"),
    KINT("task.k_query", task.k_query, 1, 100000, "10", 1,
         "query instances (sinusoid: points) per task, for the outer (meta) loss"),
    KFLT("task.rho", task.rho, 1.0, 0, 100.0, "1.2", 1,
         "capacity margin: total supply = rho x total demand"),
    KFLT("task.renewable_frac", task.renewable_frac, 0.0, 0, 1.0, "0.3", 1,
         "region: share of generators that are solar; grid: share that are solar or wind"),
    KFLT("task.transmission_cost", task.transmission_cost, 0.0, 0, 1e6, "0.5", 1,
         "region: transmission cost per unit distance, in units of the task's generation cost "
         "level; grid: $/MWh per p.u. of electrical distance (sum of abs(x) along the shortest path)"),
    KFLT("task.noise", task.noise, 0.0, 0, 1.0, "0.05", 1,
         "region, grid: relative noise of hourly demand and renewable availability"),
    KBOOL("task.warm_start", task.warm_start, "true", 1,
          "reuse the GLPK basis between the instances of a task"),
    KBOOL("task.observe_costs", task.observe_costs, "true", 1,
          "LP families: the unit costs c are network inputs (false: only d and s are, in_dim = "
          "n + m, and a task's costs must be inferred from its solved support instances)"),
    KPATH("task.case", task.case_path, "''", 1,
          "grid: the MATPOWER / PGLib-OPF case file (relative to the config file that names it; "
          "from --set, to the current directory)"),
    KFLT("task.outage_rate", task.outage_rate, 0.0, 0, 0.5, "0.05", 1,
         "grid: probability that a generator is out for a whole task (scenario)"),
    KLIST("model.hidden", model.hidden, model.n_hidden, 1, 4096, "[40, 40]", 1,
          "hidden layer widths of the MLP, at most 8 ([] = linear model)"),
    KENUM("model.activation", model.activation, act_names, "relu", 1,
          "hidden-layer activation"),
    KENUM("model.head", model.head, head_names, "auto", 1,
          "output head: auto (linear for sinusoid, alloc for LP families), alloc (per-demand "
          "split of every demand), prices (one capacity price per supply point; LP families only)"),
    KENUM("model.loss", model.loss, loss_names, "mse", 1,
          "training loss: mse (alloc: squared error of the fractions; prices: of the scaled GLPK "
          "capacity duals), xent (alloc only: per-demand-row softmax cross-entropy against the "
          "optimal split), lagrangian (prices only: relative gap of the soft Lagrangian bound)"),
    KENUM("model.inner_loss", model.inner_loss, inner_loss_names, "same", 1,
          "loss of the inner loop (adaptation on the support rows): same (model.loss) or mse "
          "(the head's squared error: fractions or scaled capacity duals); the query (meta) "
          "loss is always model.loss"),
    KFLT("model.temperature", model.temperature, 0.0, 0, 10.0, "0.01", 1,
         "lagrangian loss: soft-min temperature in units of the instance's mean cost (0 = exact "
         "min; the soft bound stays a valid lower bound)"),
    KENUM("model.anchor", model.anchor, anchor_names, "none", 1,
          "prices head: none, or nearest (the GLPK prices of the most similar support hour are "
          "m extra inputs and the network's output corrects them: lambda = cbar softplus(z + "
          "softplus^-1(anchor)))"),
    KENUM("algo.name", algo.name, algo_names, "maml", 1,
          "meta-learning algorithm"),
    KFLT("algo.inner_lr", algo.inner_lr, 0.0, 1, 1e3, "0.01", 1,
         "inner-loop (adaptation) step size; metasgd: initial per-parameter step size"),
    KINT("algo.inner_steps", algo.inner_steps, 0, 1000, "1", 1,
         "inner-loop gradient steps in meta-training (>= 1 unless algo.name is pretrain)"),
    KENUM("algo.gate.base", algo.gate.base, gate_names, "sgd", 1,
          "gated: the base update that the gate modulates"),
    KINT("algo.gate.hidden", algo.gate.hidden, 1, 4096, "16", 1,
         "gated: width of the gating network's hidden layer"),
    KI64("train.iterations", train.iterations, 0, 1000000000000LL, "100", 0,
         "meta-iterations (may be raised when resuming)"),
    KINT("train.meta_batch", train.meta_batch, 1, 100000, "8", 1,
         "tasks per meta-iteration, all ranks together"),
    KFLT("train.meta_lr", train.meta_lr, 0.0, 1, 10.0, "1e-3", 1,
         "Adam step size of the meta-update"),
    KFLT("train.clip", train.clip, 0.0, 0, 1e12, "0", 1,
         "clip the meta-gradient to this L2 norm (0 = off)"),
    KI64("train.checkpoint_every", train.checkpoint_every, 0, INT64_MAX, "0", 0,
         "write checkpoint.bin every N iterations (0 = only at the end and on signals)"),
    KI64("train.log_every", train.log_every, 0, INT64_MAX, "10", 0,
         "append a metrics.jsonl line every N iterations and at the last (0 = only the last)"),
    KI64("train.val_every", train.val_every, 0, INT64_MAX, "0", 0,
         "validate on train.val_tasks held-out tasks every N iterations (0 = off)"),
    KINT("train.val_tasks", train.val_tasks, 1, 100000, "16", 0,
         "tasks per periodic validation"),
    KINT("train.sync_check", train.sync_check, 0, INT_MAX, "0", 0,
         "every N iterations verify that all ranks hold identical parameters (0 = off)"),
    KINT("train.pool_tasks", train.pool_tasks, 0, 1000000, "0", 1,
         "LP families: draw training tasks from a pool of this many tasks solved once and "
         "cached on disk next to the run directory (0 = a fresh task every time; README: "
         "target pool)"),
    KINT("train.pool_hours", train.pool_hours, 1, 200000, "48", 1,
         "solved instances (hours) per pool task; each use takes k_support + k_query of them "
         "at random (must be >= k_support + k_query)"),
    KINT("eval.tasks", eval.tasks, 1, 1000000, "128", 0,
         "held-out tasks at evaluation"),
    KINT("eval.k_support", eval.k_support, 1, 100000, "10", 0,
         "support instances (points) per held-out task for adaptation"),
    KINT("eval.steps", eval.steps, 0, 100000, "10", 0,
         "adaptation steps at evaluation (0 = no adaptation)"),
    KINT("eval.query", eval.query, 1, 1000000, "20", 0,
         "query instances (points) per held-out task"),
    KINT("eval.scratch_steps", eval.scratch_steps, 0, 10000000, "0", 0,
         "extra baseline: train from scratch this many steps per task (0 = off)"),
    KINT("eval.polish", eval.polish, 0, 1000000, "0", 0,
         "cost-polish passes after repair, for every heuristic method (0 = the proposal as is)"),
    KFLT("eval.tolerance", eval.tolerance, 0.0, 0, 1e6, "0.001", 0,
         "certified relative gap (cost - lower bound) / abs(lower bound) above which an hour "
         "falls back to the warm-started solver (predict; eval)"),
    KINT("eval.horizon", eval.horizon, 1, INT_MAX, "720", 0,
         "hours a region is dispatched after adapting (amortises support solves and adaptation)"),
    KFLT("eval.inner_lr", eval.inner_lr, 0.0, 0, 1e3, "0", 0,
         "adaptation step size at evaluation for every checkpoint and the scratch baselines "
         "(0 = each checkpoint's own algo.inner_lr; not for metasgd, which adapts with its "
         "learned step sizes)"),
    KENUM("eval.fallback", eval.fallback, fallback_names, "solver", 0,
          "what re-solves an hour whose certificate is above eval.tolerance (eval, predict): "
          "solver (GLPK warm-started from the last solved hour) or simplex (metagrid's "
          "transportation simplex from the prices the certificate ended with; exact, faster)"),
};
const int cfg_nkeys = (int)(sizeof cfg_keys / sizeof cfg_keys[0]);
const CfgSchema cfg_schema = {cfg_keys, (int)(sizeof cfg_keys / sizeof cfg_keys[0]), "config"};
_Static_assert(CONFIG_MAX_HIDDEN == CFG_LIST_MAX, "model.hidden is a schema list");

/* ---- names and lookup ---- */

static const char *enum_name(const char *const *names, int v)
{
    for (int i = 0; names[i]; i++)
        if (i == v) return names[i];
    return "?";
}
const char *config_family_name(int family) { return enum_name(family_names, family); }
const char *config_algo_name(int algo) { return enum_name(algo_names, algo); }
const char *config_activation_name(int act) { return enum_name(act_names, act); }
const char *config_gate_base_name(int base) { return enum_name(gate_names, base); }
const char *config_loss_name(int loss) { return enum_name(loss_names, loss); }
const char *config_head_name(int head) { return enum_name(head_names, head); }

int config_head(const Config *c)
{
    if (c->model.head != HEAD_AUTO) return c->model.head;
    return c->task.family == FAMILY_SINUSOID ? HEAD_LINEAR : HEAD_ALLOC;
}

int config_key_count(void) { return cfg_nkeys; }
const char *config_key_name(int i) { return i >= 0 && i < cfg_nkeys ? cfg_keys[i].name : NULL; }
int config_key_hashed(int i) { return i >= 0 && i < cfg_nkeys ? cfg_keys[i].hashed : 0; }

int cfg_find(const char *name) { return schema_find(&cfg_schema, name); }
int config_key_index(const char *key) { return cfg_find(key); }
const char *config_key_suggest(const char *name) { return schema_suggest(&cfg_schema, name); }

static int cfg_yaml_set(Config *c, int k, const char *value, const char *where, MgErr *e)
{
    return schema_set(&cfg_schema, c, k, value, where, e);
}


/* ---- defaults, set, load, checks ---- */

/* The defaults are parsed once (each is YAML text) and then copied. */
void config_defaults(Config *c)
{
    static Config def;
    static int ready;
    if (!ready) {
        memset(&def, 0, sizeof def); /* also the padding: configs compare with memcmp */
        MgErr e = {0};
        for (int k = 0; k < cfg_nkeys; k++) {
            int rc = cfg_yaml_set(&def, k, cfg_keys[k].def, "default", &e);
            MG_ASSERT(rc == MG_OK);
        }
        ready = 1;
    }
    memcpy(c, &def, sizeof *c);
}

int config_set(Config *c, const char *key, const char *value, const char *where, MgErr *e)
{
    int k = cfg_find(key);
    if (k < 0) {
        if (schema_is_group(&cfg_schema, key)) {
            char ch[256];
            schema_group_children(&cfg_schema, key, ch, sizeof ch);
            return schema_fail(e, "%s: %.80s: is a group of keys (%s); set one of them, e.g. %s.%.*s",
                           where, key, ch, key, (int)strcspn(ch, ","), ch);
        }
        return schema_fail(e, "%s: %.80s: unknown key (did you mean '%s'?)", where, key,
                       schema_suggest(&cfg_schema, key));
    }
    return cfg_yaml_set(c, k, value, where, e);
}

/* The cross-key rules. Returns -1 if c is consistent, else the index of the
 * offending key, with *other the related key (or -1) and the problem. */
static int check_rules(const Config *c, int *other, char *prob, size_t n)
{
    *other = -1;
    if (c->train.pool_tasks > 0 && c->task.family == FAMILY_SINUSOID) {
        *other = cfg_find("task.family");
        snprintf(prob, n, "the solved-task pool is for the LP families, not sinusoid");
        return cfg_find("train.pool_tasks");
    }
    if (c->train.pool_tasks > 0 &&
        c->train.pool_hours < c->task.k_support + c->task.k_query) {
        *other = cfg_find("task.k_support");
        snprintf(prob, n, "%d is below task.k_support + task.k_query = %d", c->train.pool_hours,
                 c->task.k_support + c->task.k_query);
        return cfg_find("train.pool_hours");
    }
    if (c->task.family == FAMILY_GRID && !c->task.case_path[0]) {
        *other = cfg_find("task.family");
        snprintf(prob, n, "task.family grid needs a case file (task.case: PATH.m)");
        return cfg_find("task.case");
    }
    if (c->task.family != FAMILY_SINUSOID && c->task.family != FAMILY_GRID &&
        (int64_t)c->task.n_demand * c->task.n_supply > 10000) {
        *other = cfg_find("task.n_demand");
        snprintf(prob, n, "n_demand x n_supply = %d x %d is above the limit of 10000 routes",
                 c->task.n_demand, c->task.n_supply);
        return cfg_find("task.n_supply");
    }
    if (c->algo.name != ALGO_PRETRAIN && c->algo.inner_steps < 1) {
        *other = cfg_find("algo.name");
        snprintf(prob, n, "must be >= 1 for algo.name %s (0 is only meaningful for pretrain)",
                 config_algo_name(c->algo.name));
        return cfg_find("algo.inner_steps");
    }
    if (c->model.loss == LOSS_XENT && c->task.family == FAMILY_SINUSOID) {
        *other = cfg_find("task.family");
        snprintf(prob, n, "xent needs an LP family (allocation head); task.family is sinusoid");
        return cfg_find("model.loss");
    }
    if (c->model.head != HEAD_AUTO && c->task.family == FAMILY_SINUSOID) {
        *other = cfg_find("task.family");
        snprintf(prob, n, "%s needs an LP family (%s); task.family is sinusoid (use auto)",
                 config_head_name(c->model.head),
                 c->model.head == HEAD_PRICES ? "capacity prices" : "allocations");
        return cfg_find("model.head");
    }
    int head = config_head(c);
    if (c->model.loss == LOSS_XENT && head == HEAD_PRICES) {
        *other = cfg_find("model.head");
        snprintf(prob, n, "xent is a loss of the alloc head; model.head is prices (use mse or "
                          "lagrangian)");
        return cfg_find("model.loss");
    }
    if (c->model.anchor != ANCHOR_NONE && head == HEAD_PRICES &&
        (c->task.k_support < 2 || c->eval.k_support < 2)) {
        int ev = c->task.k_support >= 2;
        *other = cfg_find("model.anchor");
        snprintf(prob, n, "%d: model.anchor nearest needs at least 2 support hours (a support "
                 "hour's anchor comes from another one)", ev ? c->eval.k_support : c->task.k_support);
        return cfg_find(ev ? "eval.k_support" : "task.k_support");
    }
    if (c->model.anchor != ANCHOR_NONE && head != HEAD_PRICES) {
        *other = cfg_find("model.head");
        snprintf(prob, n, "an anchor needs the prices head; model.head is %s",
                 head == HEAD_LINEAR ? "linear (sinusoid)" : "alloc");
        return cfg_find("model.anchor");
    }
    if (c->model.loss == LOSS_LAGRANGIAN && head != HEAD_PRICES) {
        *other = cfg_find("model.head");
        snprintf(prob, n, "lagrangian is a loss of the prices head; model.head is %s",
                 head == HEAD_LINEAR ? "linear (sinusoid)" : "alloc");
        return cfg_find("model.loss");
    }
    return -1;
}

int config_check(const Config *c, const char *where, MgErr *e)
{
    char prob[256];
    int other, k = check_rules(c, &other, prob, sizeof prob);
    if (k < 0) return MG_OK;
    return schema_fail(e, "%s: %s: %s", where, cfg_keys[k].name, prob);
}

/* Cross-key checks with the location of the key: origin[k] is the line it
 * was set on in the file (> 0), -1 for --set, 0 for a default. */
static int check_located(const Config *c, const char *name, const int *origin, MgErr *e)
{
    char prob[256];
    int other, k = check_rules(c, &other, prob, sizeof prob);
    if (k < 0) return MG_OK;
    int o = origin[k] ? origin[k] : other >= 0 ? origin[other] : 0;
    if (o > 0) return schema_fail(e, "%s:%d: %s: %s", name, o, cfg_keys[k].name, prob);
    if (o < 0) return schema_fail(e, "--set: %s: %s", cfg_keys[k].name, prob);
    return schema_fail(e, "%s: %s: %s", name, cfg_keys[k].name, prob);
}

/* task.case: a relative path is relative to the directory of the config
 * file that set it (from_file), else to the current directory; it is made
 * absolute (canonical when the file exists) so that the resolved config.yaml
 * of a run names the same file from anywhere. */
static int resolve_case_path(Config *c, const char *file, int from_file, MgErr *e)
{
    char *p = c->task.case_path, joined[2 * CONFIG_PATH_MAX + 2], cwd[CONFIG_PATH_MAX];
    if (!p[0]) return MG_OK;
    if (p[0] == '/') {
        snprintf(joined, sizeof joined, "%s", p);
    } else {
        char dir[CONFIG_PATH_MAX] = ".";
        if (from_file && file && strrchr(file, '/'))
            snprintf(dir, sizeof dir, "%.*s", (int)(strrchr(file, '/') - file), file);
        if (from_file && file && file[0] == '/' && dir[0] == '\0') snprintf(dir, sizeof dir, "/");
        if (dir[0] != '/') {
            if (!getcwd(cwd, sizeof cwd))
                return schema_fail(e, "task.case: cannot resolve '%.200s' (current directory "
                                "unknown)", p);
            char d2[2 * CONFIG_PATH_MAX + 2];
            snprintf(d2, sizeof d2, "%s/%s", cwd, dir);
            snprintf(dir, sizeof dir, "%.*s", (int)sizeof dir - 1, d2);
        }
        snprintf(joined, sizeof joined, "%s/%s", dir, p);
    }
    char real[PATH_MAX];
    const char *out = realpath(joined, real) ? real : joined;
    if (strlen(out) >= CONFIG_PATH_MAX)
        return schema_fail(e, "task.case: resolved path longer than %d bytes", CONFIG_PATH_MAX - 1);
    memset(p, 0, CONFIG_PATH_MAX);
    memcpy(p, out, strlen(out));
    return MG_OK;
}

int config_load_buffer(Config *c, const char *text, size_t len, const char *name, MgErr *e)
{
    int origin[CFG_MAX_KEYS] = {0};
    config_defaults(c);
    snprintf(c->source, sizeof c->source, "%s", name);
    if (len > CFG_MAX_FILE)
        return schema_fail(e, "%s: config larger than 1 MiB (%zu bytes)", name, len);
    int rc = schema_load(&cfg_schema, c, text, len, name, origin, e);
    if (rc == MG_OK) rc = resolve_case_path(c, name, 1, e);
    if (rc != MG_OK) return rc;
    return check_located(c, name, origin, e);
}

int config_load(Config *c, const char *path, const char *const *sets, int nsets, MgErr *e)
{
    int origin[CFG_MAX_KEYS] = {0};
    const char *name = path ? path : "config";
    config_defaults(c);
    if (path) {
        size_t len = 0;
        char *text = mg_read_file(path, CFG_MAX_FILE, &len, e);
        if (!text) return e ? e->code : MG_EUSAGE;
        snprintf(c->source, sizeof c->source, "%s", path);
        int rc = schema_load(&cfg_schema, c, text, len, path, origin, e);
        free(text);
        if (rc == MG_OK) rc = resolve_case_path(c, path, 1, e);
        if (rc != MG_OK) return rc;
    }
    for (int i = 0; i < nsets; i++) {
        const char *eq = strchr(sets[i], '=');
        if (!eq)
            return schema_fail(e, "--set: %.80s: expected KEY=VALUE (e.g. train.iterations=50)",
                           sets[i]);
        char key[128];
        size_t kl = (size_t)(eq - sets[i]);
        while (kl && (sets[i][kl - 1] == ' ' || sets[i][kl - 1] == '\t')) kl--;
        snprintf(key, sizeof key, "%.*s", (int)kl, sets[i]);
        int rc = config_set(c, key, eq + 1, "--set", e);
        if (rc == MG_OK && !strcmp(key, "task.case")) rc = resolve_case_path(c, NULL, 0, e);
        if (rc != MG_OK) return rc;
        origin[cfg_find(key)] = -1;
    }
    return check_located(c, name, origin, e);
}

/* ---- writing, hashing, reference ---- */

static void format_value(const Config *c, int k, char *buf, size_t n)
{
    const CfgKey *K = &cfg_keys[k];
    const char *field = (const char *)c + K->off;
    switch (K->type) {
    case KT_INT: snprintf(buf, n, "%d", *(const int *)field); break;
    case KT_INT64: snprintf(buf, n, "%" PRId64, *(const int64_t *)field); break;
    case KT_BOOL: snprintf(buf, n, "%s", *(const int *)field ? "true" : "false"); break;
    case KT_ENUM: snprintf(buf, n, "%s", enum_name(K->names, *(const int *)field)); break;
    case KT_FLOAT: {
        /* the shortest %g form that reads back to the same double */
        double v = *(const double *)field;
        for (int p = 1; p <= 17; p++) {
            snprintf(buf, n, "%.*g", p, v);
            if (strtod(buf, NULL) == v) break;
        }
        break;
    }
    case KT_PATH: { /* single-quoted YAML: quotes doubled */
        size_t used = 0;
        if (n < 3) break;
        buf[used++] = '\'';
        for (const char *p = field; *p && used + 3 < n; p++) {
            if (*p == '\'') buf[used++] = '\'';
            buf[used++] = *p;
        }
        buf[used++] = '\'';
        buf[used] = '\0';
        break;
    }
    case KT_INTLIST: {
        const int *a = (const int *)field;
        int cnt = *(const int *)((const char *)c + K->count_off);
        size_t used = (size_t)snprintf(buf, n, "[");
        for (int i = 0; i < cnt && i < CONFIG_MAX_HIDDEN && used < n; i++)
            used += (size_t)snprintf(buf + used, n - used, "%s%d", i ? ", " : "", a[i]);
        if (used < n) snprintf(buf + used, n - used, "]");
        break;
    }
    default: buf[0] = '\0'; break; /* no config key has the other types yet */
    }
}

int config_get(const Config *c, const char *key, char *buf, size_t n)
{
    int k = cfg_find(key);
    if (k < 0) return MG_EUSAGE;
    format_value(c, k, buf, n);
    return MG_OK;
}

/* Write the keys (all, or the hashed ones) as nested YAML, two-space
 * indentation, groups opened when the key's prefix changes. */
static void write_keys(const Config *c, FILE *f, int hashed_only)
{
    char open[4][48];
    int nopen = 0;
    for (int k = 0; k < cfg_nkeys; k++) {
        if (hashed_only && !cfg_keys[k].hashed) continue;
        char comp[4][48];
        int m = 0;
        for (const char *s = cfg_keys[k].name; m < 4;) {
            size_t l = strcspn(s, ".");
            snprintf(comp[m++], sizeof comp[0], "%.*s", (int)l, s);
            if (!s[l]) break;
            s += l + 1;
        }
        int i = 0;
        while (i < nopen && i < m - 1 && !strcmp(open[i], comp[i])) i++;
        for (; i < m - 1; i++) {
            fprintf(f, "%*s%s:\n", 2 * i, "", comp[i]);
            memcpy(open[i], comp[i], sizeof open[i]);
        }
        nopen = m - 1;
        char val[2 * CONFIG_PATH_MAX + 8];
        format_value(c, k, val, sizeof val);
        fprintf(f, "%*s%s: %s\n", 2 * (m - 1), "", comp[m - 1], val);
    }
}

void config_write(const Config *c, FILE *f)
{
    fprintf(f, "# metagrid resolved config: every key with its value (README: Configuration; metagrid help config)\n");
    write_keys(c, f, 0);
}

char *config_to_string(const Config *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    MG_ASSERT(f != NULL);
    config_write(c, f);
    MG_ASSERT(fclose(f) == 0);
    return buf;
}

uint32_t config_hash(const Config *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    MG_ASSERT(f != NULL);
    write_keys(c, f, 1);
    MG_ASSERT(fclose(f) == 0);
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, (const Bytef *)buf, (uInt)len);
    free(buf);
    return (uint32_t)crc;
}

void config_write_reference(FILE *f)
{
    static const char *const tname[] = {"int", "int", "float", "bool", "enum", "list of int",
                                        "path", "string", "value", "list", "mapping"};
    fprintf(f, "| key | type | default | range / values | description |\n");
    fprintf(f, "|---|---|---|---|---|\n");
    for (int k = 0; k < cfg_nkeys; k++) {
        const CfgKey *K = &cfg_keys[k];
        char rt[128];
        schema_range_text(K, rt, sizeof rt);
        fprintf(f, "| `%s` | %s | `%s` | %s | %s%s |\n", K->name, tname[K->type], K->def, rt,
                K->desc, K->hashed ? "" : " *(run control: not in the config hash)*");
    }
}
