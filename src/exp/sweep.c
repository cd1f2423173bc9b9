/*
 * sweep.c — the sweep file (libyaml), its deterministic trial list and the
 * validation of every override against the config schema. The JSON helpers
 * and the summary are in sweep_summary.c. See sweep.h for the rules.
 */
#define _POSIX_C_SOURCE 200809L
#include "metagrid/sweep.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>

#include "metagrid/results.h"
#include "metagrid/rng.h"
#include "metagrid/schema.h"

void sweep_free(Sweep *s)
{
    if (!s) return;
    for (int i = 0; i < s->n_params; i++) {
        SweepParam *p = &s->params[i];
        for (int k = 0; k < p->n_values; k++) free(p->values[k]);
        free(p->values);
        free(p->key);
    }
    free(s->params);
    free(s->slurm);
    memset(s, 0, sizeof *s);
}

/* ---- the sweep file: a schema table (schema.h) ------------------------- */

/* One parameter's spec while it is read; sweep_param_entry turns it into a
 * SweepParam. */
typedef struct {
    char value[SWEEP_VALUE_MAX];
    char **values;
    int n_values;
    int dist;          /* index into dist_names */
    double min, max;
} ParamSpec;

static const char *const dist_names[] = {"uniform", "log_uniform_values", "int_uniform", NULL};
static const char *const method_names[] = {"grid", "random", NULL};
static const char *const goal_names[] = {"minimize", "maximize", NULL};

static int name_ok(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.') return 0;
    return 1;
}

static int check_name(const char *s, char *prob, size_t n)
{
    if (name_ok(s)) return 0;
    snprintf(prob, n, "expected a short name of letters, digits, '-', '_', '.'");
    return -1;
}

static int check_nonempty(const char *s, char *prob, size_t n)
{
    if (*s) return 0;
    snprintf(prob, n, "must not be empty");
    return -1;
}

#define SOFF(f) offsetof(ParamSpec, f)
static const CfgKey spec_keys[] = {
    {"value", KT_TEXT, SOFF(value), 0, 0, SWEEP_VALUE_MAX, 0, 0, 0, NULL, NULL, 0,
     "a fixed value: a scalar or a flow list such as [40, 40]", NULL, NULL},
    {"values", KT_TEXTLIST, SOFF(values), SOFF(n_values), 0, SWEEP_VALUE_MAX, 0, 0, 0, NULL, NULL, 0,
     "a list of values: a grid axis (grid) or a uniform choice (random)", NULL, NULL},
    {"distribution", KT_ENUM, SOFF(dist), 0, 0, 0, 0, 0, 0, dist_names, NULL, 0,
     "draw between min and max", NULL, NULL},
    {"min", KT_FLOAT, SOFF(min), 0, 0, 0, -1e300, 1e300, 0, NULL, NULL, 0, "lower bound", NULL, NULL},
    {"max", KT_FLOAT, SOFF(max), 0, 0, 0, -1e300, 1e300, 0, NULL, NULL, 0, "upper bound", NULL, NULL},
};
static const CfgSchema spec_schema = {spec_keys, 5, "sweep file"};
enum { SP_VALUE, SP_VALUES, SP_DIST, SP_MIN, SP_MAX };

static int sweep_param_entry(SchemaWalk *w, void *obj, const char *key, int line);
static int sweep_slurm_entry(SchemaWalk *w, void *obj, const char *key, int line);

#define WOFF(f) offsetof(Sweep, f)
static const CfgKey sweep_keys[] = {
    {"name", KT_STR, WOFF(name), 0, 0, sizeof(((Sweep *)0)->name), 0, 0, 0, NULL, NULL, 0,
     "the sweep's name (default: the file name); DIR defaults to runs/NAME", check_name, NULL},
    {"base", KT_STR, WOFF(base), 0, 0, sizeof(((Sweep *)0)->base), 0, 0, 0, NULL, NULL, 0,
     "the config file to sweep over, relative to the sweep file (required)", check_nonempty, NULL},
    {"method", KT_ENUM, WOFF(method), 0, 0, 0, 0, 0, 0, method_names, NULL, 0,
     "grid: cartesian product of the values keys x num_samples; random: num_samples draws", NULL, NULL},
    {"num_samples", KT_INT, WOFF(num_samples), 0, 1, SWEEP_MAX_TRIALS, 0, 0, 0, NULL, NULL, 0,
     "grid: draws per grid point; random: trials (default 1)", NULL, NULL},
    {"seed", KT_INT64, WOFF(seed), 0, 0, 0x7fffffff, 0, 0, 0, NULL, NULL, 0,
     "drives the draws: the same file gives the same trials", NULL, NULL},
    {"ranks", KT_INT, WOFF(ranks), 0, 1, 4096, 0, 0, 0, NULL, NULL, 0,
     "MPI ranks per trial (default 1)", NULL, NULL},
    {"metric.name", KT_STR, WOFF(metric), 0, 0, sizeof(((Sweep *)0)->metric), 0, 0, 0, NULL, NULL, 0,
     "a key of the last metrics.jsonl line or methods.LABEL.FIELD of eval.json ({algo}: the "
     "trial's algo.name)", check_nonempty, NULL},
    {"metric.goal", KT_ENUM, WOFF(maximize), 0, 0, 0, 0, 0, 0, goal_names, NULL, 0,
     "minimize (default) or maximize", NULL, NULL},
    {"parameters", KT_MAP, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, 0,
     "dotted config keys, each {value: X}, {values: [...]} or {distribution: D, min: A, max: B}",
     NULL, sweep_param_entry},
    {"slurm", KT_MAP, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, 0,
     "sbatch long options for the array script (time: \"01:00:00\")", NULL, sweep_slurm_entry},
};
static const CfgSchema sweep_schema = {sweep_keys, (int)(sizeof sweep_keys / sizeof sweep_keys[0]),
                                       "sweep file"};
enum { SW_NAME, SW_BASE, SW_METHOD, SW_NUM_SAMPLES, SW_SEED, SW_RANKS, SW_METRIC_NAME,
       SW_METRIC_GOAL, SW_PARAMETERS, SW_SLURM };

static void spec_free(ParamSpec *sp)
{
    for (int i = 0; i < sp->n_values; i++) free(sp->values[i]);
    free(sp->values);
    sp->values = NULL;
    sp->n_values = 0;
}

/* The kind, values and range of a parameter from its spec (fields set on
 * the lines in kl). */
static int param_from_spec(SchemaWalk *w, const char *key, int line, ParamSpec *sp, const int *kl,
                           SweepParam *p)
{
    int given = !!kl[SP_VALUE] + !!kl[SP_VALUES] + !!kl[SP_DIST];
    if (given != 1)
        return schema_walk_fail(w, line, key, "give one of value, values or distribution "
                                "({value: X}, {values: [A, B]}, {distribution: uniform, min: A, max: B})");
    if (kl[SP_VALUE] || kl[SP_VALUES]) {
        if (kl[SP_MIN] || kl[SP_MAX])
            return schema_walk_fail(w, kl[SP_MIN] ? kl[SP_MIN] : kl[SP_MAX], key,
                                    "min/max need a distribution");
        p->kind = kl[SP_VALUE] ? SWEEP_VALUE : SWEEP_VALUES;
        if (kl[SP_VALUE]) {
            p->values = mg_calloc(1, sizeof *p->values);
            p->values[0] = mg_strdup(sp->value);
            p->n_values = 1;
        } else {
            p->values = sp->values;
            p->n_values = sp->n_values;
            sp->values = NULL;
            sp->n_values = 0;
        }
        return MG_OK;
    }
    p->kind = SWEEP_UNIFORM + sp->dist;
    if (!kl[SP_MIN] || !kl[SP_MAX])
        return schema_walk_fail(w, kl[SP_DIST], key, "distribution needs min and max");
    p->min = sp->min;
    p->max = sp->max;
    if (p->min > p->max) return schema_walk_fail(w, kl[SP_MIN], key, "min > max");
    if (p->kind == SWEEP_LOG_UNIFORM && p->min <= 0)
        return schema_walk_fail(w, kl[SP_MIN], key, "log_uniform_values needs min > 0");
    if (p->kind == SWEEP_INT_UNIFORM &&
        (p->min != floor(p->min) || p->max != floor(p->max) || fabs(p->min) > 1e15 || fabs(p->max) > 1e15))
        return schema_walk_fail(w, kl[SP_MIN], key, "int_uniform needs integer min and max");
    /* min and max, as override texts, go through config_set in sweep_validate */
    p->values = mg_calloc(2, sizeof *p->values);
    char t[64];
    snprintf(t, sizeof t, "%.17g", p->min);
    p->values[p->n_values++] = mg_strdup(t);
    snprintf(t, sizeof t, "%.17g", p->max);
    p->values[p->n_values++] = mg_strdup(t);
    return MG_OK;
}

/* One entry of `parameters:`: a config key (checked now, with a suggestion)
 * and its spec. */
static int sweep_param_entry(SchemaWalk *w, void *obj, const char *key, int line)
{
    Sweep *s = obj;
    if (config_key_index(key) < 0)
        return schema_walk_fail(w, line, key, "not a config key (did you mean '%s'?)",
                                config_key_suggest(key));
    for (int j = 0; j < s->n_params; j++)
        if (!strcmp(s->params[j].key, key))
            return schema_walk_fail(w, line, key, "parameter given twice (first on line %d)",
                                    s->params[j].line);
    if (s->n_params == s->cap_params) {
        s->cap_params = s->cap_params ? 2 * s->cap_params : 8;
        SweepParam *np = mg_calloc((size_t)s->cap_params, sizeof *np);
        if (s->n_params) memcpy(np, s->params, sizeof *np * (size_t)s->n_params);
        free(s->params);
        s->params = np;
    }
    SweepParam *p = &s->params[s->n_params++];
    p->key = mg_strdup(key);
    p->line = line;
    p->kind = -1;
    ParamSpec *sp = mg_calloc(1, sizeof *sp);
    int kl[CFG_MAX_KEYS] = {0};
    int rc = schema_walk_mapping(w, &spec_schema, sp, key, kl);
    if (rc == MG_OK) rc = param_from_spec(w, key, line, sp, kl, p);
    spec_free(sp);
    free(sp);
    return rc;
}

/* sbatch's long options (Slurm 22.05, sbatch(1)); `slurm:` keys are checked
 * against them ('_' for '-' allowed) so a typo is caught before submission. */
static const char *const sbatch_options[] = {
    "account", "acctg-freq", "array", "batch", "bb", "bbf", "begin", "chdir",
    "cluster-constraint", "clusters", "comment", "constraint", "container", "contiguous",
    "core-spec", "cores-per-socket", "cpu-freq", "cpus-per-gpu", "cpus-per-task", "deadline",
    "delay-boot", "dependency", "distribution", "error", "exclude", "exclusive", "export",
    "export-file", "extra-node-info", "get-user-env", "gid", "gpu-bind", "gpu-freq", "gpus",
    "gpus-per-node", "gpus-per-socket", "gpus-per-task", "gres", "gres-flags", "hint", "hold",
    "ignore-pbs", "input", "job-name", "kill-on-invalid-dep", "licenses", "mail-type",
    "mail-user", "mcs-label", "mem", "mem-bind", "mem-per-cpu", "mem-per-gpu", "mincpus",
    "network", "nice", "no-kill", "no-requeue", "nodefile", "nodelist", "nodes", "ntasks",
    "ntasks-per-core", "ntasks-per-gpu", "ntasks-per-node", "ntasks-per-socket", "open-mode",
    "output", "overcommit", "oversubscribe", "partition", "power", "prefer", "priority",
    "profile", "propagate", "qos", "quiet", "reboot", "requeue", "reservation", "signal",
    "sockets-per-node", "spread-job", "switches", "thread-spec", "threads-per-core", "time",
    "time-min", "tmp", "uid", "use-min-nodes", "verbose", "wait-all-nodes", "wckey", NULL};

/* One entry of `slurm:`: an sbatch long option and its value. */
static int sweep_slurm_entry(SchemaWalk *w, void *obj, const char *key, int line)
{
    Sweep *s = obj;
    char val[512], full[96];
    snprintf(full, sizeof full, "slurm.%.80s", key);
    int rc = schema_walk_scalar(w, full, val, sizeof val);
    if (rc) return rc;
    if (!name_ok(key) || strlen(key) >= sizeof s->slurm[0].key || strlen(val) >= sizeof s->slurm[0].value ||
        strpbrk(val, "\n\r'\"`$\\"))
        return schema_walk_fail(w, line, full, "expected 'option: value' (sbatch long options, "
                                "a plain value without quotes, $, ` or \\)");
    char opt[64];
    snprintf(opt, sizeof opt, "%s", key);
    for (char *u = opt; *u; u++)
        if (*u == '_') *u = '-';
    int known = 0;
    for (int i = 0; sbatch_options[i] && !known; i++) known = !strcmp(opt, sbatch_options[i]);
    if (!known) {
        const char *near = schema_nearest(opt, sbatch_options, -1);
        if (near)
            return schema_walk_fail(w, line, full, "not an sbatch option (did you mean '%s'?)", near);
        return schema_walk_fail(w, line, full, "not an sbatch option (sbatch --help lists them; "
                                "e.g. time, partition, account, mem, qos)");
    }
    for (int i = 0; i < s->n_slurm; i++)
        if (!strcmp(s->slurm[i].key, opt))
            return schema_walk_fail(w, line, full, "given twice");
    if (s->n_slurm == s->cap_slurm) {
        s->cap_slurm = s->cap_slurm ? 2 * s->cap_slurm : 8;
        SweepSlurmOpt *no = mg_calloc((size_t)s->cap_slurm, sizeof *no);
        if (s->n_slurm) memcpy(no, s->slurm, sizeof *no * (size_t)s->n_slurm);
        free(s->slurm);
        s->slurm = no;
    }
    SweepSlurmOpt *o = &s->slurm[s->n_slurm++];
    snprintf(o->key, sizeof o->key, "%s", key);
    for (char *u = o->key; *u; u++)
        if (*u == '_') *u = '-';
    snprintf(o->value, sizeof o->value, "%s", val);
    return MG_OK;
}

/* After the walk: base resolved against the sweep file, required keys, the
 * trial count. */
static int sweep_finish(Sweep *s, const char *path, const int *kl, MgErr *e)
{
    if (!kl[SW_BASE])
        return mg_fail(e, MG_EUSAGE, "%s:1: base: missing (the config to sweep over, e.g. "
                       "base: ../default.yaml)", path);
    s->base_line = kl[SW_BASE];
    s->metric_line = kl[SW_METRIC_NAME] ? kl[SW_METRIC_NAME] : kl[SW_METRIC_GOAL];
    if (s->base[0] != '/') {
        const char *slash = strrchr(path, '/');
        int dlen = slash ? (int)(slash - path) + 1 : 0;
        char rel[sizeof s->base];
        memcpy(rel, s->base, sizeof rel);
        if ((size_t)dlen + strlen(rel) >= sizeof s->base)
            return mg_fail(e, MG_EUSAGE, "%s:%d: base: path too long", path, s->base_line);
        snprintf(s->base, sizeof s->base, "%.*s%s", dlen, path, rel);
    }
    if (s->n_params == 0)
        return mg_fail(e, MG_EUSAGE, "%s:%d: parameters: missing or empty (e.g. parameters: "
                       "{algo.name: {values: [maml, fomaml]}})", path,
                       kl[SW_PARAMETERS] ? kl[SW_PARAMETERS] : 1);
    long n = 1;
    if (s->method == SWEEP_GRID) {
        for (int i = 0; i < s->n_params; i++) {
            if (s->params[i].kind != SWEEP_VALUES) continue;
            n *= s->params[i].n_values;
            if (n > SWEEP_MAX_TRIALS) break;
        }
        n *= s->num_samples;
    } else {
        n = s->num_samples;
    }
    if (n > SWEEP_MAX_TRIALS)
        return mg_fail(e, MG_EUSAGE, "%s:%d: parameters: more than %d trials", path,
                       kl[SW_PARAMETERS], SWEEP_MAX_TRIALS);
    s->n_trials = n;
    return MG_OK;
}

int sweep_load_buffer(Sweep *s, const char *text, size_t len, const char *path, MgErr *e)
{
    memset(s, 0, sizeof *s);
    snprintf(s->path, sizeof s->path, "%s", path);
    s->num_samples = 1;
    s->seed = 0;
    s->ranks = 1;
    snprintf(s->metric, sizeof s->metric, "meta_loss");
    /* default name: basename without extension */
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(s->name, sizeof s->name, "%.*s", (int)strcspn(b, "."), b);
    if (!name_ok(s->name)) snprintf(s->name, sizeof s->name, "sweep");
    if (len > SWEEP_MAX_FILE)
        return mg_fail(e, MG_EUSAGE, "%s: sweep file larger than 1 MiB (%zu bytes)", path, len);
    int kl[CFG_MAX_KEYS] = {0};
    int rc = schema_load(&sweep_schema, s, text, len, path, kl, e);
    if (rc != MG_OK) return rc;
    return sweep_finish(s, path, kl, e);
}

static int sweep_parse_text(void *s, const char *text, size_t len, const char *name, MgErr *e)
{
    return sweep_load_buffer(s, text, len, name, e);
}

int sweep_load(Sweep *s, const char *path, MgErr *e)
{
    memset(s, 0, sizeof *s);
    return mg_load_file(path, SWEEP_MAX_FILE, sweep_parse_text, s, e);
}

/* ---- trials ------------------------------------------------------------- */

static void draw(const Sweep *s, const SweepParam *p, long t, int j, char *out)
{
    RngStream r;
    rng_stream_init(&r, s->seed, RNG_SWEEP, (uint64_t)t, (uint64_t)j, 0);
    switch (p->kind) {
    case SWEEP_VALUE:
        snprintf(out, SWEEP_VALUE_MAX, "%s", p->values[0]);
        break;
    case SWEEP_VALUES:
        snprintf(out, SWEEP_VALUE_MAX, "%s", p->values[rng_below(&r, (uint64_t)p->n_values)]);
        break;
    case SWEEP_UNIFORM:
        snprintf(out, SWEEP_VALUE_MAX, "%.6g", p->min + (p->max - p->min) * rng_uniform(&r));
        break;
    case SWEEP_LOG_UNIFORM: {
        double a = log(p->min), b = log(p->max);
        double v = exp(a + (b - a) * rng_uniform(&r));
        snprintf(out, SWEEP_VALUE_MAX, "%.6g", fmin(fmax(v, p->min), p->max));
        break;
    }
    case SWEEP_INT_UNIFORM: {
        long long lo = (long long)p->min, hi = (long long)p->max;
        snprintf(out, SWEEP_VALUE_MAX, "%lld", lo + (long long)rng_below(&r, (uint64_t)(hi - lo) + 1));
        break;
    }
    }
}

void sweep_trial_values(const Sweep *s, long t, char (*vals)[SWEEP_VALUE_MAX])
{
    MG_ASSERT(t >= 0 && t < s->n_trials);
    if (s->method == SWEEP_RANDOM) {
        for (int j = 0; j < s->n_params; j++) draw(s, &s->params[j], t, j, vals[j]);
        return;
    }
    /* grid: t = point * num_samples + sample; the last `values` key is fastest */
    long point = t / s->num_samples;
    for (int j = s->n_params - 1; j >= 0; j--) {
        const SweepParam *p = &s->params[j];
        if (p->kind == SWEEP_VALUES) {
            snprintf(vals[j], SWEEP_VALUE_MAX, "%s", p->values[point % p->n_values]);
            point /= p->n_values;
        } else {
            draw(s, p, t, j, vals[j]);
        }
    }
}

/* c = base with trial overrides vals applied, except parameter skip (-1: none). */
static int apply_trial(const Sweep *s, const Config *base, char (*vals)[SWEEP_VALUE_MAX], int skip,
                       Config *c, MgErr *e)
{
    char where[CONFIG_PATH_MAX + 32];
    *c = *base;
    for (int j = 0; j < s->n_params; j++) {
        if (j == skip) continue;
        snprintf(where, sizeof where, "%s:%d", s->path, s->params[j].line);
        if (config_set(c, s->params[j].key, vals[j], where, e)) return MG_EUSAGE;
    }
    return MG_OK;
}

/* The metric of trial t (config c) names something train or eval writes
 * for it (results.h). */
static int check_metric(const Sweep *s, const Config *c, char (*vals)[SWEEP_VALUE_MAX], long t,
                        MgErr *e)
{
    char metric[512], prob[512];
    sweep_metric_name(s, vals, metric, sizeof metric);
    if (results_check_metric(metric, c, prob, sizeof prob) == 0) return MG_OK;
    char tr[48] = "";
    if (s->n_trials > 1) snprintf(tr, sizeof tr, "trial %ld: ", t);
    return mg_fail(e, MG_EUSAGE, "%s:%d: metric.name: %s%s", s->path, s->metric_line ? s->metric_line : 1,
                   tr, prob);
}

/*
 * Cross-key check of trial t (config_check). Its message names one key; the
 * error points at the sweep line of that key's parameter, else at the first
 * parameter involved (varying ones first): one whose removal from the trial
 * (its key back to the base value) makes the problem go away or change.
 */
static int check_trial(const Sweep *s, const Config *base, char (*vals)[SWEEP_VALUE_MAX], long t,
                       MgErr *e)
{
    Config c;
    MgErr first = {0};
    if (apply_trial(s, base, vals, -1, &c, e)) return MG_EUSAGE;
    if (config_check(&c, "", &first) == MG_OK) return check_metric(s, &c, vals, t, e);
    /* first.msg is ": KEY: problem" */
    const char *what = first.msg + strspn(first.msg, ": ");
    size_t klen = strcspn(what, ":");
    int line = 0;
    for (int j = 0; j < s->n_params && !line; j++)
        if (strlen(s->params[j].key) == klen && !strncmp(s->params[j].key, what, klen))
            line = s->params[j].line;
    for (int pass = 0; pass < 2 && !line; pass++) {
        for (int j = 0; j < s->n_params && !line; j++) {
            if ((s->params[j].kind == SWEEP_VALUE) != pass) continue;
            MgErr other = {0};
            if (apply_trial(s, base, vals, j, &c, &other) == MG_OK && config_check(&c, "", &other) == MG_OK)
                line = s->params[j].line;
            else if (strcmp(other.msg, first.msg) != 0)
                line = s->params[j].line;
        }
    }
    if (!line) line = s->params[0].line; /* not reached: the base config passed the check */
    return mg_fail(e, MG_EUSAGE, "%s:%d: trial %ld: %s", s->path, line, t, what);
}

int sweep_validate(Sweep *s, MgErr *e)
{
    Config base, c;
    if (config_load(&base, s->base, NULL, 0, e)) {
        /* name the sweep line that points at the base config, then the cause */
        MgErr inner = *e;
        e->code = 0;
        return mg_fail(e, MG_EUSAGE, "%s:%d: base: %s", s->path, s->base_line, inner.msg);
    }
    snprintf(s->base_algo, sizeof s->base_algo, "%s", config_algo_name(base.algo.name));
    char where[CONFIG_PATH_MAX + 32];
    /* Each parameter's every possible text (values, or min and max) alone. */
    for (int j = 0; j < s->n_params; j++) {
        const SweepParam *p = &s->params[j];
        snprintf(where, sizeof where, "%s:%d", s->path, p->line);
        for (int k = 0; k < p->n_values; k++) {
            c = base;
            if (config_set(&c, p->key, p->values[k], where, e)) return MG_EUSAGE;
        }
    }
    /* Every trial as a whole. */
    char (*vals)[SWEEP_VALUE_MAX] = mg_calloc((size_t)s->n_params, SWEEP_VALUE_MAX);
    int rc = MG_OK;
    for (long t = 0; t < s->n_trials && rc == MG_OK; t++) {
        sweep_trial_values(s, t, vals);
        rc = check_trial(s, &base, vals, t, e);
    }
    free(vals);
    return rc;
}

void sweep_metric_name(const Sweep *s, char (*vals)[SWEEP_VALUE_MAX], char *out, size_t n)
{
    const char *algo = s->base_algo[0] ? s->base_algo : "maml";
    for (int j = 0; j < s->n_params; j++)
        if (!strcmp(s->params[j].key, "algo.name")) algo = vals[j];
    const char *m = s->metric, *ph = strstr(m, "{algo}");
    if (ph) snprintf(out, n, "%.*s%s%s", (int)(ph - m), m, algo, ph + 6);
    else snprintf(out, n, "%s", m);
}

int sweep_metric_from_eval(const Sweep *s) { return strchr(s->metric, '.') != NULL; }

void sweep_trial_dir(char *out, size_t n, const char *dir, long t)
{
    snprintf(out, n, "%s/trial-%03ld", dir, t);
}
