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
#include <yaml.h>

#include "metagrid/rng.h"

static const char *const kind_names[] = {"value", "values", "uniform",
                                         "log_uniform_values", "int_uniform"};

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

/* ---- small YAML helpers ------------------------------------------------- */

typedef struct {
    yaml_document_t *doc;
    const char *file;
    MgErr *e;
} Ctx;

static int line_of(const yaml_node_t *n) { return (int)n->start_mark.line + 1; }

static int bad(Ctx *c, const yaml_node_t *n, const char *key, const char *fmt, const char *arg)
{
    char what[512];
    snprintf(what, sizeof what, fmt, arg ? arg : "");
    return mg_fail(c->e, MG_EUSAGE, "%s:%d: %s: %s", c->file, n ? line_of(n) : 0, key, what);
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A scalar or a flow sequence of scalars as override text ("[40, 40]"). */
static int node_text(Ctx *c, yaml_node_t *n, const char *key, char *out, size_t cap)
{
    if (n->type == YAML_SCALAR_NODE) {
        if (strlen(scalar(n)) >= cap) return bad(c, n, key, "value too long", NULL);
        snprintf(out, cap, "%s", scalar(n));
        return MG_OK;
    }
    if (n->type != YAML_SEQUENCE_NODE) return bad(c, n, key, "expected a scalar or a list", NULL);
    size_t len = 0;
    out[len++] = '[';
    int first = 1;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        const char *v = scalar(yaml_document_get_node(c->doc, *it));
        if (!v) return bad(c, n, key, "nested lists are not supported", NULL);
        size_t need = strlen(v) + (first ? 0 : 2);
        if (len + need + 2 >= cap) return bad(c, n, key, "value too long", NULL);
        len += (size_t)snprintf(out + len, cap - len, "%s%s", first ? "" : ", ", v);
        first = 0;
    }
    out[len++] = ']';
    out[len] = '\0';
    return MG_OK;
}

static int get_int(Ctx *c, yaml_node_t *n, const char *key, long lo, long hi, long *out)
{
    const char *v = scalar(n);
    char *end;
    errno = 0;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || !*v || *end || errno) return bad(c, n, key, "expected an integer", NULL);
    if (x < lo || x > hi) {
        char msg[96];
        snprintf(msg, sizeof msg, "%ld out of range [%ld, %ld]", x, lo, hi);
        return bad(c, n, key, "%s", msg);
    }
    *out = x;
    return MG_OK;
}

static int get_double(Ctx *c, yaml_node_t *n, const char *key, double *out)
{
    const char *v = scalar(n);
    char *end;
    double x = v ? strtod(v, &end) : 0;
    if (!v || !*v || *end || !isfinite(x)) return bad(c, n, key, "expected a number", NULL);
    *out = x;
    return MG_OK;
}

static int name_ok(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.') return 0;
    return 1;
}

/* ---- parameters --------------------------------------------------------- */

static int parse_param(Ctx *c, const char *key, yaml_node_t *spec, SweepParam *p)
{
    p->key = mg_strdup(key);
    p->line = line_of(spec);
    p->kind = -1;
    if (spec->type != YAML_MAPPING_NODE)
        return bad(c, spec, key, "expected {value: X}, {values: [...]} or "
                                 "{distribution: D, min: A, max: B}", NULL);
    yaml_node_t *vmin = NULL, *vmax = NULL, *dist = NULL;
    char buf[SWEEP_VALUE_MAX];
    for (yaml_node_pair_t *pr = spec->data.mapping.pairs.start; pr < spec->data.mapping.pairs.top; pr++) {
        yaml_node_t *kn = yaml_document_get_node(c->doc, pr->key);
        yaml_node_t *vn = yaml_document_get_node(c->doc, pr->value);
        const char *k = scalar(kn);
        if (!k) return bad(c, kn, key, "parameter fields must be plain names", NULL);
        if (!strcmp(k, "value")) {
            if (p->kind >= 0) return bad(c, kn, key, "give one of value, values or distribution", NULL);
            p->kind = SWEEP_VALUE;
            if (node_text(c, vn, key, buf, sizeof buf)) return MG_EUSAGE;
            p->values = mg_calloc(1, sizeof *p->values);
            p->values[p->n_values++] = mg_strdup(buf);
        } else if (!strcmp(k, "values")) {
            if (p->kind >= 0) return bad(c, kn, key, "give one of value, values or distribution", NULL);
            p->kind = SWEEP_VALUES;
            if (vn->type != YAML_SEQUENCE_NODE) return bad(c, vn, key, "values: expected a list", NULL);
            int n = (int)(vn->data.sequence.items.top - vn->data.sequence.items.start);
            if (n == 0) return bad(c, vn, key, "values: empty list", NULL);
            p->values = mg_calloc((size_t)n, sizeof *p->values);
            for (int i = 0; i < n; i++) {
                yaml_node_t *item = yaml_document_get_node(c->doc, vn->data.sequence.items.start[i]);
                if (node_text(c, item, key, buf, sizeof buf)) return MG_EUSAGE;
                p->values[p->n_values++] = mg_strdup(buf);
            }
        } else if (!strcmp(k, "distribution")) {
            if (p->kind >= 0) return bad(c, kn, key, "give one of value, values or distribution", NULL);
            dist = vn;
            const char *d = scalar(vn);
            for (int i = SWEEP_UNIFORM; d && i <= SWEEP_INT_UNIFORM; i++)
                if (!strcmp(d, kind_names[i])) p->kind = i;
            if (p->kind < 0)
                return bad(c, vn, key, "distribution '%s' unknown (uniform, log_uniform_values, int_uniform)",
                           d ? d : "?");
        } else if (!strcmp(k, "min")) {
            vmin = vn;
        } else if (!strcmp(k, "max")) {
            vmax = vn;
        } else {
            return bad(c, kn, key, "unknown parameter field '%s' (value, values, distribution, min, max)", k);
        }
    }
    if (p->kind < 0) return bad(c, spec, key, "give one of value, values or distribution", NULL);
    if (!dist) {
        if (vmin || vmax) return bad(c, vmin ? vmin : vmax, key, "min/max need a distribution", NULL);
        return MG_OK;
    }
    if (!vmin || !vmax) return bad(c, dist, key, "distribution needs min and max", NULL);
    if (get_double(c, vmin, key, &p->min) || get_double(c, vmax, key, &p->max)) return MG_EUSAGE;
    if (p->min > p->max) return bad(c, vmin, key, "min > max", NULL);
    if (p->kind == SWEEP_LOG_UNIFORM && p->min <= 0)
        return bad(c, vmin, key, "log_uniform_values needs min > 0", NULL);
    if (p->kind == SWEEP_INT_UNIFORM &&
        (p->min != floor(p->min) || p->max != floor(p->max) || fabs(p->min) > 1e15 || fabs(p->max) > 1e15))
        return bad(c, vmin, key, "int_uniform needs integer min and max", NULL);
    /* min and max, as override texts, go through config_set in sweep_validate. */
    p->values = mg_calloc(2, sizeof *p->values);
    p->values[p->n_values++] = mg_strdup(scalar(vmin));
    p->values[p->n_values++] = mg_strdup(scalar(vmax));
    return MG_OK;
}

/* ---- the file ----------------------------------------------------------- */

static const char *const top_keys = "name, base, method, num_samples, seed, ranks, metric, parameters, slurm";

static int parse_doc(Ctx *c, Sweep *s, yaml_node_t *root)
{
    if (!root || root->type != YAML_MAPPING_NODE)
        return mg_fail(c->e, MG_EUSAGE, "%s:%d: sweep: expected a mapping (%s)", c->file,
                       root ? line_of(root) : 1, top_keys);
    long x;
    int have_params = 0;
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
        yaml_node_t *kn = yaml_document_get_node(c->doc, pr->key);
        yaml_node_t *vn = yaml_document_get_node(c->doc, pr->value);
        const char *k = scalar(kn);
        if (!k) return bad(c, kn, "?", "keys must be plain names", NULL);
        if (!strcmp(k, "name")) {
            const char *v = scalar(vn);
            if (!v || !name_ok(v) || strlen(v) >= sizeof s->name)
                return bad(c, vn, k, "expected a short name of letters, digits, '-', '_', '.'", NULL);
            snprintf(s->name, sizeof s->name, "%s", v);
        } else if (!strcmp(k, "base")) {
            const char *v = scalar(vn);
            if (!v || !*v) return bad(c, vn, k, "expected a config file path", NULL);
            const char *slash = strrchr(c->file, '/');
            int dlen = slash ? (int)(slash - c->file) + 1 : 0;
            if (v[0] == '/') dlen = 0;
            if ((size_t)dlen + strlen(v) >= sizeof s->base) return bad(c, vn, k, "path too long", NULL);
            snprintf(s->base, sizeof s->base, "%.*s%s", dlen, c->file, v);
            s->base_line = line_of(vn);
        } else if (!strcmp(k, "method")) {
            const char *v = scalar(vn);
            if (v && !strcmp(v, "grid")) s->method = SWEEP_GRID;
            else if (v && !strcmp(v, "random")) s->method = SWEEP_RANDOM;
            else return bad(c, vn, k, "'%s' unknown (grid, random)", v ? v : "?");
        } else if (!strcmp(k, "num_samples")) {
            if (get_int(c, vn, k, 1, SWEEP_MAX_TRIALS, &x)) return MG_EUSAGE;
            s->num_samples = (int)x;
        } else if (!strcmp(k, "seed")) {
            if (get_int(c, vn, k, 0, 0x7fffffffL, &x)) return MG_EUSAGE;
            s->seed = (uint64_t)x;
        } else if (!strcmp(k, "ranks")) {
            if (get_int(c, vn, k, 1, 4096, &x)) return MG_EUSAGE;
            s->ranks = (int)x;
        } else if (!strcmp(k, "metric")) {
            const char *name = scalar(vn), *goal = NULL;
            yaml_node_t *goal_node = vn;
            if (vn->type == YAML_MAPPING_NODE) {
                for (yaml_node_pair_t *q = vn->data.mapping.pairs.start; q < vn->data.mapping.pairs.top; q++) {
                    yaml_node_t *qk = yaml_document_get_node(c->doc, q->key);
                    yaml_node_t *qv = yaml_document_get_node(c->doc, q->value);
                    const char *f = scalar(qk);
                    if (f && !strcmp(f, "name")) name = scalar(qv);
                    else if (f && !strcmp(f, "goal")) goal = scalar(qv), goal_node = qv;
                    else return bad(c, qk, "metric", "unknown field '%s' (name, goal)", f ? f : "?");
                }
            }
            if (!name || !*name || strlen(name) >= sizeof s->metric)
                return bad(c, vn, "metric", "expected {name: KEY, goal: minimize|maximize}", NULL);
            snprintf(s->metric, sizeof s->metric, "%s", name);
            if (!goal || !strcmp(goal, "minimize")) s->maximize = 0;
            else if (!strcmp(goal, "maximize")) s->maximize = 1;
            else return bad(c, goal_node, "metric.goal", "'%s' unknown (minimize, maximize)", goal);
        } else if (!strcmp(k, "parameters")) {
            if (vn->type != YAML_MAPPING_NODE)
                return bad(c, vn, k, "expected a mapping of dotted config keys", NULL);
            int n = (int)(vn->data.mapping.pairs.top - vn->data.mapping.pairs.start);
            s->params = mg_calloc((size_t)(n ? n : 1), sizeof *s->params);
            for (int i = 0; i < n; i++) {
                yaml_node_pair_t *q = &vn->data.mapping.pairs.start[i];
                yaml_node_t *qk = yaml_document_get_node(c->doc, q->key);
                const char *pk = scalar(qk);
                if (!pk || !*pk) return bad(c, qk, "parameters", "keys must be dotted config keys", NULL);
                for (int j = 0; j < s->n_params; j++)
                    if (!strcmp(s->params[j].key, pk)) return bad(c, qk, pk, "parameter given twice", NULL);
                SweepParam *p = &s->params[s->n_params++];
                if (parse_param(c, pk, yaml_document_get_node(c->doc, q->value), p)) return MG_EUSAGE;
            }
            have_params = 1;
        } else if (!strcmp(k, "slurm")) {
            if (vn->type != YAML_MAPPING_NODE)
                return bad(c, vn, k, "expected a mapping of sbatch options (time: 01:00:00)", NULL);
            int n = (int)(vn->data.mapping.pairs.top - vn->data.mapping.pairs.start);
            s->slurm = mg_calloc((size_t)(n ? n : 1), sizeof *s->slurm);
            for (int i = 0; i < n; i++) {
                yaml_node_pair_t *q = &vn->data.mapping.pairs.start[i];
                const char *ok = scalar(yaml_document_get_node(c->doc, q->key));
                yaml_node_t *ov = yaml_document_get_node(c->doc, q->value);
                const char *val = scalar(ov);
                if (!ok || !val || !name_ok(ok) || strlen(ok) >= 64 || strlen(val) >= 256 ||
                    strpbrk(val, "\n\r'\"`$\\"))
                    return bad(c, ov, "slurm", "expected 'option: value' (sbatch long options)", NULL);
                SweepSlurmOpt *o = &s->slurm[s->n_slurm++];
                snprintf(o->key, sizeof o->key, "%s", ok);
                for (char *u = o->key; *u; u++)
                    if (*u == '_') *u = '-';
                snprintf(o->value, sizeof o->value, "%s", val);
            }
        } else {
            return bad(c, kn, k, "unknown sweep key (%s)", top_keys);
        }
    }
    if (!s->base[0]) return mg_fail(c->e, MG_EUSAGE, "%s:%d: base: missing (the config to sweep over)",
                                    c->file, line_of(root));
    if (!have_params || s->n_params == 0)
        return mg_fail(c->e, MG_EUSAGE, "%s:%d: parameters: missing or empty", c->file, line_of(root));
    /* Trial count. */
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
        return mg_fail(c->e, MG_EUSAGE, "%s:%d: parameters: more than %d trials", c->file,
                       line_of(root), SWEEP_MAX_TRIALS);
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

    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) return mg_fail(e, MG_EFAIL, "%s: libyaml init failed", path);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        int rc = mg_fail(e, MG_EUSAGE, "%s:%d: sweep: YAML error: %s", path,
                         (int)parser.problem_mark.line + 1,
                         parser.problem ? parser.problem : "unknown");
        yaml_parser_delete(&parser);
        return rc;
    }
    Ctx c = {&doc, path, e};
    int rc = parse_doc(&c, s, yaml_document_get_root_node(&doc));
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

int sweep_load(Sweep *s, const char *path, MgErr *e)
{
    size_t len;
    char *text = mg_read_file(path, 1 << 20, &len, e);
    if (!text) {
        memset(s, 0, sizeof *s);
        return MG_EUSAGE;
    }
    int rc = sweep_load_buffer(s, text, len, path, e);
    free(text);
    return rc;
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
    if (config_check(&c, "", &first) == MG_OK) return MG_OK;
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
