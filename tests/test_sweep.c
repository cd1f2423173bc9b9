/*
 * test_sweep.c — sweep files: parsing errors (FILE:LINE: KEY), the grid order
 * and count, deterministic and well-distributed draws, override validation
 * through the config schema, the JSON helpers and the summary's ordering.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "metagrid/sweep.h"

static char tmpdir[256];

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); exit(1); }
    fputs(text, f);
    fclose(f);
}

/* Load text as TMP/NAME.yaml (base.yaml sits next to it); returns the status. */
static int load(Sweep *s, const char *text, MgErr *e, int validate)
{
    char path[512];
    snprintf(path, sizeof path, "%s/sw.yaml", tmpdir);
    write_text(path, text);
    memset(e, 0, sizeof *e);
    int rc = sweep_load(s, path, e);
    if (rc == MG_OK && validate) rc = sweep_validate(s, e);
    return rc;
}

static void test_grid(void)
{
    Sweep s;
    MgErr e;
    int rc = load(&s,
                  "name: g1\nbase: base.yaml\nmethod: grid\nnum_samples: 2\nseed: 5\nranks: 2\n"
                  "metric: {name: meta_loss, goal: minimize}\n"
                  "parameters:\n"
                  "  algo.name: {values: [maml, fomaml, metasgd]}\n"
                  "  train.meta_lr: {distribution: log_uniform_values, min: 1.0e-4, max: 1.0e-2}\n"
                  "  model.hidden: {values: [[8, 8], [16]]}\n"
                  "  seed: {value: 3}\n",
                  &e, 1);
    CHECK_MSG(rc == MG_OK, "%s", e.msg);
    CHECK(s.n_trials == 3 * 2 * 2);
    CHECK(s.ranks == 2 && s.n_params == 4 && !strcmp(s.name, "g1"));
    char base[512];
    snprintf(base, sizeof base, "%s/base.yaml", tmpdir);
    CHECK(!strcmp(s.base, base));
    char v[4][SWEEP_VALUE_MAX], w[4][SWEEP_VALUE_MAX];
    /* order: point = t / num_samples; model.hidden (last values key) fastest */
    static const char *algo[] = {"maml", "maml", "fomaml", "fomaml", "metasgd", "metasgd"};
    for (long t = 0; t < s.n_trials; t++) {
        sweep_trial_values(&s, t, v);
        long point = t / 2;
        CHECK_MSG(!strcmp(v[0], algo[point]), "trial %ld algo %s", t, v[0]);
        CHECK_MSG(!strcmp(v[2], point % 2 ? "[16]" : "[8, 8]"), "trial %ld hidden %s", t, v[2]);
        CHECK(!strcmp(v[3], "3"));
        double lr = atof(v[1]);
        CHECK_MSG(lr >= 1e-4 && lr <= 1e-2, "lr %s", v[1]);
        sweep_trial_values(&s, t, w);
        CHECK(!memcmp(v, w, sizeof v));
    }
    /* the two samples of one grid point draw different learning rates */
    sweep_trial_values(&s, 0, v);
    sweep_trial_values(&s, 1, w);
    CHECK(strcmp(v[1], w[1]) != 0);
    /* JSON of one trial */
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    sweep_trial_values(&s, 3, v);
    sweep_json_overrides(m, &s, v);
    fclose(m);
    char want[512];
    snprintf(want, sizeof want, "{\"algo.name\": \"maml\", \"train.meta_lr\": %s, "
                                "\"model.hidden\": [16], \"seed\": 3}", v[1]);
    CHECK_MSG(!strcmp(buf, want), "%s", buf);
    free(buf);
    sweep_free(&s);

    /* the same file gives the same trials; another seed other draws */
    Sweep a, b;
    const char *txt = "base: base.yaml\nmethod: random\nnum_samples: 5\nseed: 9\nparameters:\n"
                      "  algo.inner_lr: {distribution: uniform, min: 0.001, max: 0.5}\n";
    CHECK(load(&a, txt, &e, 1) == MG_OK);
    CHECK(load(&b, txt, &e, 1) == MG_OK);
    CHECK(!strcmp(a.name, "sw") && a.n_trials == 5);
    for (long t = 0; t < 5; t++) {
        sweep_trial_values(&a, t, v);
        sweep_trial_values(&b, t, w);
        CHECK(!strcmp(v[0], w[0]));
    }
    b.seed = 10;
    sweep_trial_values(&a, 0, v);
    sweep_trial_values(&b, 0, w);
    CHECK(strcmp(v[0], w[0]) != 0);
    sweep_free(&a);
    sweep_free(&b);
}

static void test_random_stats(void)
{
    Sweep s;
    MgErr e;
    int rc = load(&s,
                  "base: base.yaml\nmethod: random\nnum_samples: 4000\nseed: 1\nparameters:\n"
                  "  algo.inner_lr: {distribution: uniform, min: 0.0, max: 1.0}\n"
                  "  train.meta_lr: {distribution: log_uniform_values, min: 1.0e-4, max: 1.0e-2}\n"
                  "  algo.inner_steps: {distribution: int_uniform, min: 1, max: 3}\n"
                  "  algo.name: {values: [maml, fomaml]}\n",
                  &e, 0);
    CHECK_MSG(rc == MG_OK, "%s", e.msg);
    double sum = 0, below = 0;
    int cnt[5] = {0}, maml = 0;
    char v[4][SWEEP_VALUE_MAX];
    for (long t = 0; t < s.n_trials; t++) {
        sweep_trial_values(&s, t, v);
        double u = atof(v[0]), lr = atof(v[1]);
        int k = atoi(v[2]);
        CHECK_MSG(u >= 0 && u <= 1 && lr >= 1e-4 && lr <= 1e-2 && k >= 1 && k <= 3, "%s %s %s", v[0], v[1], v[2]);
        sum += u;
        below += lr < 1e-3; /* log-uniform: half the mass below the geometric mean */
        if (k >= 1 && k <= 3) cnt[k]++;
        maml += !strcmp(v[3], "maml");
    }
    double n = (double)s.n_trials;
    CHECK_NEAR(sum / n, 0.5, 0.03);
    CHECK_NEAR(below / n, 0.5, 0.04);
    for (int k = 1; k <= 3; k++) CHECK_NEAR(cnt[k] / n, 1.0 / 3.0, 0.04);
    CHECK_NEAR(maml / n, 0.5, 0.04);
    sweep_free(&s);
}

/* rc, and the message holds every needle */
static void expect_error(const char *text, int validate, const char *n1, const char *n2)
{
    Sweep s;
    MgErr e;
    int rc = load(&s, text, &e, validate);
    CHECK_MSG(rc == MG_EUSAGE, "rc %d for:\n%s", rc, text);
    CHECK_MSG(strstr(e.msg, n1) != NULL, "'%s' not in '%s'", n1, e.msg);
    CHECK_MSG(!n2 || strstr(e.msg, n2) != NULL, "'%s' not in '%s'", n2, e.msg);
    sweep_free(&s);
}

static void test_errors(void)
{
    const char *P = "base: base.yaml\nparameters:\n";
    char t[1024];
    expect_error("base: base.yaml\nmethd: grid\nparameters:\n  seed: {value: 1}\n", 0, "sw.yaml:2: methd:",
                 "did you mean 'method'?");
    snprintf(t, sizeof t, "%s  algo.inner_lr: {distribution: gaussian, min: 0, max: 1}\n", P);
    expect_error(t, 0, "sw.yaml:3: algo.inner_lr.distribution:", "gaussian");
    snprintf(t, sizeof t, "%s  algo.inner_lr:\n    distribution: uniform\n    min: 2\n    max: 1\n", P);
    expect_error(t, 0, "sw.yaml:5: algo.inner_lr:", "min > max");
    snprintf(t, sizeof t, "%s  train.meta_lr: {distribution: log_uniform_values, min: 0, max: 1}\n", P);
    expect_error(t, 0, "sw.yaml:3: train.meta_lr:", "min > 0");
    snprintf(t, sizeof t, "%s  algo.inner_steps: {distribution: int_uniform, min: 1.5, max: 3}\n", P);
    expect_error(t, 0, "sw.yaml:3: algo.inner_steps:", "integer");
    expect_error("base: base.yaml\nmetric: {name: x, goal: best}\nparameters:\n  seed: {value: 1}\n", 0,
                 "sw.yaml:2: metric.goal:", "best");
    expect_error("base: base.yaml\nmethod: bayes\nparameters:\n  seed: {value: 1}\n", 0, "sw.yaml:2: method:",
                 "bayes");
    expect_error("parameters:\n  seed: {value: 1}\n", 0, "base: missing", NULL);
    expect_error("base: base.yaml\nparameters: {}\n", 0, "parameters", "empty");
    snprintf(t, sizeof t, "%s  seed: {value: 1, values: [1, 2]}\n", P);
    expect_error(t, 0, "sw.yaml:3: seed:", "one of");
    snprintf(t, sizeof t, "%s  seed: {vals: [1, 2]}\n", P);
    expect_error(t, 0, "sw.yaml:3: seed.vals:", "did you mean 'value");
    snprintf(t, sizeof t, "%s  seed: {values: [1]}\n  seed: {values: [2]}\n", P);
    expect_error(t, 0, "sw.yaml:4: seed:", "twice");
    expect_error("base: base.yaml\nparameters:\n  seed: {value: [1\n", 0, "sw.yaml:", "YAML");
    /* through the config schema: the sweep file's line and the key */
    snprintf(t, sizeof t, "%s  seed: {value: 1}\n  algo.nam: {values: [maml]}\n", P);
    expect_error(t, 1, "sw.yaml:4: algo.nam", "algo.name");
    snprintf(t, sizeof t, "%s  algo.name: {values: [maml, reptile]}\n", P);
    expect_error(t, 1, "sw.yaml:3: algo.name:", NULL);
    snprintf(t, sizeof t, "%s  train.iterations: {distribution: uniform, min: 1, max: 5}\n", P);
    expect_error(t, 1, "sw.yaml:3: train.iterations:", NULL);
    snprintf(t, sizeof t, "%s  train.meta_batch: {distribution: int_uniform, min: -3, max: 5}\n", P);
    expect_error(t, 1, "sw.yaml:3: train.meta_batch:", NULL);
    expect_error("base: nowhere.yaml\nparameters:\n  seed: {value: 1}\n", 1, "sw.yaml:1: base:", "nowhere.yaml");
    /* cross-key checks of a whole trial (config_check): FILE:LINE of the key
     * the problem names, else of the first parameter involved (varying first) */
    snprintf(t, sizeof t, "%s  task.family: {value: uniform}\n  task.n_demand: {values: [1000]}\n"
             "  task.n_supply: {values: [1000]}\n", P);
    expect_error(t, 1, "sw.yaml:5: trial 0: task.n_supply:", "10000");
    snprintf(t, sizeof t, "%s  task.family: {value: uniform}\n  seed: {values: [1, 2]}\n"
             "  task.n_demand: {values: [10, 6000]}\n", P);
    expect_error(t, 1, "sw.yaml:5: trial 1: task.n_supply:", "6000 x 2");
    snprintf(t, sizeof t, "%s  seed: {values: [1, 2]}\n  task.family: {value: uniform}\n"
             "  task.n_demand: {value: 6000}\n", P);
    expect_error(t, 1, "sw.yaml:4: trial 0: task.n_supply:", NULL);
    snprintf(t, sizeof t, "%s  algo.name: {values: [pretrain, maml]}\n  algo.inner_steps: {values: [0]}\n", P);
    expect_error(t, 1, "sw.yaml:4: trial 1: algo.inner_steps:", "pretrain");
    snprintf(t, sizeof t, "%s  algo.name: {values: [maml]}\n  model.loss: {values: [mse, xent]}\n", P);
    expect_error(t, 1, "sw.yaml:4: trial 1: model.loss:", "sinusoid");
    /* a valid trial list with the same keys passes */
    Sweep s;
    MgErr e;
    snprintf(t, sizeof t, "%s  task.family: {value: uniform}\n  task.n_demand: {values: [10, 5000]}\n"
             "  algo.name: {values: [pretrain, maml]}\n  algo.inner_steps: {values: [1]}\n", P);
    CHECK_MSG(load(&s, t, &e, 1) == MG_OK, "%s", e.msg);
    sweep_free(&s);
}

/* Issue 13: the config loader's strictness for sweep files; issue 15: every
 * name a sweep refers to (the metric included) is checked before anything
 * runs, with the nearest valid name. */
static void test_strict(void)
{
    const char *P = "base: base.yaml\nparameters:\n";
    char t[1024];
    /* two parameters: mappings (used to crash), duplicate keys */
    expect_error("base: base.yaml\nparameters:\n  seed: {value: 1}\nparameters:\n  seed: {value: 2}\n",
                 0, "sw.yaml:4: parameters:", "duplicate key (first set on line 2)");
    expect_error("base: base.yaml\nparameters:\n  seed: {value: 1}\n  algo.name: {value: maml}\n"
                 "parameters:\n  train.meta_lr: {value: 0.1}\n", 0, "sw.yaml:5: parameters:", "duplicate");
    expect_error("base: base.yaml\nranks: 2\nparameters:\n  seed: {value: 1}\nranks: 3\n", 0,
                 "sw.yaml:5: ranks:", "duplicate key");
    expect_error("base: base.yaml\nmetric: {name: meta_loss}\nmetric: {goal: maximize}\nparameters:\n"
                 "  seed: {value: 1}\n", 0, "sw.yaml:3: metric:", "duplicate");
    snprintf(t, sizeof t, "%s  seed: {value: 1, value: 2}\n", P);
    expect_error(t, 0, "sw.yaml:3: seed.value:", "duplicate");
    snprintf(t, sizeof t, "%s  seed: {value: 1}\nslurm: {time: 1, time: 2}\n", P);
    expect_error(t, 0, "sw.yaml:4: slurm.time:", "twice");
    /* unknown keys, with a suggestion */
    expect_error("base: base.yaml\nnum_sample: 3\nparameters:\n  seed: {value: 1}\n", 0,
                 "sw.yaml:2: num_sample:", "did you mean 'num_samples'?");
    expect_error("base: base.yaml\nmetric: {nmae: meta_loss}\nparameters:\n  seed: {value: 1}\n", 0,
                 "sw.yaml:2: metric.nmae:", "did you mean 'metric.name'?");
    snprintf(t, sizeof t, "%s  train.iteratons: {value: 1}\n", P);
    expect_error(t, 0, "sw.yaml:3: train.iteratons:", "did you mean 'train.iterations'?");
    snprintf(t, sizeof t, "%s  seed: {distribution: unifrom, min: 1, max: 2}\n", P);
    expect_error(t, 0, "sw.yaml:3: seed.distribution:", "did you mean 'uniform'?");
    /* wrong types */
    expect_error("base: base.yaml\nranks: two\nparameters:\n  seed: {value: 1}\n", 0, "sw.yaml:2: ranks:",
                 "expected an integer, got 'two'");
    expect_error("base: base.yaml\nranks: 0\nparameters:\n  seed: {value: 1}\n", 0, "sw.yaml:2: ranks:",
                 "out of range");
    expect_error("base: [a]\nparameters:\n  seed: {value: 1}\n", 0, "sw.yaml:1: base:", "expected a string");
    expect_error("base: base.yaml\nparameters: [seed]\n", 0, "sw.yaml:2: parameters:", "expected a mapping");
    expect_error("base: base.yaml\nmetric: meta_loss\nparameters:\n  seed: {value: 1}\n", 0,
                 "sw.yaml:2: metric:", "expected a mapping of keys (name, goal)");
    snprintf(t, sizeof t, "%s  seed: 3\n", P);
    expect_error(t, 0, "sw.yaml:3: seed:", "expected a mapping (value, values, distribution, min, max)");
    snprintf(t, sizeof t, "%s  seed: {values: 3}\n", P);
    expect_error(t, 0, "sw.yaml:3: seed.values:", "expected a list of values");
    snprintf(t, sizeof t, "%s  seed: {values: []}\n", P);
    expect_error(t, 0, "sw.yaml:3: seed.values:", "empty list");
    snprintf(t, sizeof t, "%s  algo.inner_lr: {distribution: uniform, min: low, max: 1}\n", P);
    expect_error(t, 0, "sw.yaml:3: algo.inner_lr.min:", "expected a number");
    /* numbers as strings: the sweep's own keys, min / max, and values of numeric config keys */
    expect_error("base: base.yaml\nseed: \"1\"\nparameters:\n  seed: {value: 1}\n", 0, "sw.yaml:2: seed:",
                 "the string '1'");
    expect_error("base: base.yaml\nnum_samples: !!str 2\nparameters:\n  seed: {value: 1}\n", 0,
                 "sw.yaml:2: num_samples:", "the string '2'");
    snprintf(t, sizeof t, "%s  algo.inner_lr: {distribution: uniform, min: \"0.1\", max: 1}\n", P);
    expect_error(t, 0, "sw.yaml:3: algo.inner_lr.min:", "the string '0.1'");
    snprintf(t, sizeof t, "%s  seed: {values: [1, \"2\"]}\n", P);
    expect_error(t, 1, "sw.yaml:3: seed:", "the string '2'");
    snprintf(t, sizeof t, "%s  seed: {value: !!str 7}\n", P);
    expect_error(t, 1, "sw.yaml:3: seed:", "the string '7'");
    snprintf(t, sizeof t, "%s  model.hidden: {value: [8, \"8\"]}\n", P);
    expect_error(t, 1, "sw.yaml:3: model.hidden:", "the string '8'");
    /* anchors, aliases, several documents, tags */
    expect_error("base: &b base.yaml\nparameters:\n  seed: {value: 1}\n", 0, "sw.yaml:1: base:", "anchors");
    snprintf(t, sizeof t, "%s  seed: {value: 1}\n  algo.inner_lr: *x\n", P);
    expect_error(t, 0, "sw.yaml:4: algo.inner_lr:", "aliases");
    expect_error("base: base.yaml\nparameters:\n  seed: {value: 1}\n---\nbase: x.yaml\n", 0, "sw.yaml:4:",
                 "more than one YAML document");
    expect_error("base: !!binary eA==\nparameters:\n  seed: {value: 1}\n", 0, "sw.yaml:1: base:", "tag");
    expect_error("", 0, "sw.yaml:1:", "empty sweep file");
    /* quoted strings stay strings: enum values may be quoted */
    Sweep s;
    MgErr e;
    snprintf(t, sizeof t, "%s  algo.name: {values: [\"maml\", 'fomaml']}\n", P);
    CHECK_MSG(load(&s, t, &e, 1) == MG_OK, "%s", e.msg);
    char v[1][SWEEP_VALUE_MAX];
    if (s.n_trials == 2) {
        sweep_trial_values(&s, 1, v);
        CHECK_MSG(!strcmp(v[0], "fomaml"), "%s", v[0]);
    }
    sweep_free(&s);

    /* the metric: metrics.jsonl keys, eval.json paths, with the nearest valid name */
    snprintf(t, sizeof t, "base: base.yaml\nmetric: {name: meta_los}\nparameters:\n  seed: {value: 1}\n");
    expect_error(t, 1, "sw.yaml:2: metric.name:", "did you mean 'meta_loss'?");
    snprintf(t, sizeof t, "base: base.yaml\nmetric: {name: val_loss}\nparameters:\n  seed: {value: 1}\n");
    expect_error(t, 1, "sw.yaml:2: metric.name:", "train.val_every > 0");
    snprintf(t, sizeof t, "base: base.yaml\nmetric: {name: val_loss}\nparameters:\n"
             "  train.val_every: {value: 5}\n");
    CHECK_MSG(load(&s, t, &e, 1) == MG_OK, "%s", e.msg);
    sweep_free(&s);
    snprintf(t, sizeof t, "base: base_lp.yaml\nmetric: {name: \"methods.maml.gap_meen\"}\nparameters:\n"
             "  seed: {values: [1, 2]}\n");
    expect_error(t, 1, "sw.yaml:2: metric.name:", "did you mean 'methods.maml.gap_mean'?");
    snprintf(t, sizeof t, "base: base_lp.yaml\nmetric: {name: \"methods.{algo}.gap_mean\"}\nparameters:\n"
             "  algo.name: {values: [maml, fomaml]}\n");
    CHECK_MSG(load(&s, t, &e, 1) == MG_OK, "%s", e.msg);
    sweep_free(&s);
    snprintf(t, sizeof t, "base: base_lp.yaml\nmetric: {name: \"methods.maml.gap_mean\"}\nparameters:\n"
             "  algo.name: {values: [maml, fomaml]}\n");
    expect_error(t, 1, "sw.yaml:2: metric.name: trial 1:", "methods.{algo}.gap_mean");
    snprintf(t, sizeof t, "base: base_lp.yaml\nmetric: {name: \"methods.greedy.gap_p95\"}\nparameters:\n"
             "  seed: {value: 1}\n");
    CHECK_MSG(load(&s, t, &e, 1) == MG_OK, "%s", e.msg);
    sweep_free(&s);
    snprintf(t, sizeof t, "base: base_lp.yaml\nmetric: {name: \"methods.gredy.gap_p95\"}\nparameters:\n"
             "  seed: {value: 1}\n");
    expect_error(t, 1, "sw.yaml:2: metric.name:", "did you mean 'methods.greedy.gap_p95'?");
    snprintf(t, sizeof t, "base: base.yaml\nmetric: {name: \"methods.{algo}.gap_mean\"}\nparameters:\n"
             "  seed: {value: 1}\n");
    expect_error(t, 1, "sw.yaml:2: metric.name:", "LP families only, not for sinusoid");
    snprintf(t, sizeof t, "base: base.yaml\nmetric: {name: \"methods.scratch_long.mse\"}\nparameters:\n"
             "  seed: {value: 1}\n");
    expect_error(t, 1, "sw.yaml:2: metric.name:", "eval.scratch_steps > 0");
    snprintf(t, sizeof t, "base: base.yaml\nmetric: {name: \"methods.{algo}.mse\", goal: minimize}\n"
             "parameters:\n  seed: {value: 1}\n");
    CHECK_MSG(load(&s, t, &e, 1) == MG_OK, "%s", e.msg);
    sweep_free(&s);
}

static void test_json(void)
{
    const char *j = "{\"name\": \"a,}{\\\"b\", \"list\": [1, {\"x\": 2}, \"]\"], \"iter\": 7,"
                    " \"methods\": {\"maml\": {\"mse\": 0.5, \"gap_mean\": 1.25e-3},"
                    " \"no_adapt\": {\"gap_mean\": nan}}, \"neg\": -2.5e+2, \"t\": true}";
    double v = 0;
    CHECK(sweep_json_number(j, "iter", &v) == 0 && v == 7);
    CHECK(sweep_json_number(j, "methods.maml.gap_mean", &v) == 0 && v == 1.25e-3);
    CHECK(sweep_json_number(j, "methods.maml.mse", &v) == 0 && v == 0.5);
    CHECK(sweep_json_number(j, "methods.no_adapt.gap_mean", &v) == 0 && isnan(v));
    CHECK(sweep_json_number(j, "neg", &v) == 0 && v == -250);
    CHECK(sweep_json_number(j, "name", &v) == -1);
    CHECK(sweep_json_number(j, "methods.maml", &v) == -1);
    CHECK(sweep_json_number(j, "methods.fomaml.mse", &v) == -1);
    CHECK(sweep_json_number(j, "t", &v) == -1);
    CHECK(sweep_json_number("{\"a\": 1", "b", &v) == -1);
    CHECK(sweep_json_number("", "a", &v) == -1);
    CHECK(sweep_json_number("{\"a\": {\"b\": [1, 2}}", "c", &v) == -1);

    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    sweep_json_value(m, "[40, 40]");
    fputc(' ', m);
    sweep_json_value(m, "maml");
    fputc(' ', m);
    sweep_json_value(m, "1.0e-4");
    fputc(' ', m);
    sweep_json_value(m, ".5");
    fputc(' ', m);
    sweep_json_value(m, "a\"b");
    fputc(' ', m);
    sweep_json_value(m, "true");
    fputc(' ', m);
    sweep_json_value(m, "[]");
    fclose(m);
    CHECK_MSG(!strcmp(buf, "[40, 40] \"maml\" 1.0e-4 \".5\" \"a\\\"b\" true []"), "%s", buf);
    free(buf);
}

static void put(const char *tdir, const char *name, const char *text)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", tdir, name);
    write_text(p, text);
}

static void test_summary(void)
{
    Sweep s;
    MgErr e;
    int rc = load(&s,
                  "name: sum\nbase: base.yaml\nmetric: {name: meta_loss, goal: minimize}\nparameters:\n"
                  "  algo.name: {values: [maml, fomaml]}\n  seed: {values: [1, 2, 3]}\n",
                  &e, 1);
    CHECK_MSG(rc == MG_OK, "%s", e.msg);
    char dir[512], td[600];
    snprintf(dir, sizeof dir, "%s/sumdir", tmpdir);
    mkdir(dir, 0777);
    /* trial: 0 done 0.5, 1 done 0.2, 2 failed, 3 unfinished, 4 done 0.9, 5 missing */
    static const char *metrics[] = {"0.5", "0.2", NULL, NULL, "0.9", NULL};
    for (int t = 0; t < 5; t++) {
        sweep_trial_dir(td, sizeof td, dir, t);
        mkdir(td, 0777);
        char line[256];
        snprintf(line, sizeof line, "{\"iter\": 0, \"meta_loss\": 9}\n{\"iter\": 10, \"meta_loss\": %s, "
                                    "\"wall_s\": 1}\n\n", metrics[t] ? metrics[t] : "3");
        put(td, "metrics.jsonl", line);
        if (metrics[t]) put(td, "done", "");
        put(td, "status", t == 2 ? "1\n" : t == 3 ? "75\n" : "0\n");
    }
    sweep_trial_dir(td, sizeof td, dir, 2);
    CHECK(sweep_trial_state(td, 0) == TRIAL_FAILED);
    sweep_trial_dir(td, sizeof td, dir, 3);
    CHECK(sweep_trial_state(td, 0) == TRIAL_UNFINISHED);
    sweep_trial_dir(td, sizeof td, dir, 5);
    CHECK(sweep_trial_state(td, 0) == TRIAL_MISSING);
    sweep_trial_dir(td, sizeof td, dir, 1);
    CHECK(sweep_trial_state(td, 0) == TRIAL_DONE);
    CHECK(sweep_trial_state(td, 1) == TRIAL_UNFINISHED); /* eval.json missing */

    CHECK(sweep_summary(&s, dir, NULL, &e) == MG_OK);
    char p[600];
    snprintf(p, sizeof p, "%s/summary.csv", dir);
    char *csv = mg_read_file(p, 1 << 20, NULL, &e);
    CHECK(csv != NULL);
    const char *want = "trial,algo.name,seed,meta_loss,status\n"
                       "1,maml,2,0.2,done\n0,maml,1,0.5,done\n4,fomaml,2,0.9,done\n"
                       "3,fomaml,1,,unfinished\n2,maml,3,,failed\n5,fomaml,3,,missing\n";
    CHECK_MSG(csv && !strcmp(csv, want), "%s", csv ? csv : "(null)");
    free(csv);
    snprintf(p, sizeof p, "%s/summary.md", dir);
    char *md = mg_read_file(p, 1 << 20, NULL, &e);
    CHECK(md && strstr(md, "| 1 | maml | 2 | 0.2 | done |"));
    CHECK(md && strstr(md, "**failed**"));
    /* maml: 0.2, 0.5 -> mean 0.35, sd 0.212 */
    CHECK_MSG(md && strstr(md, "| maml | 2 | 0.35 | 0.212 |"), "%s", md ? md : "");
    CHECK_MSG(md && strstr(md, "| fomaml | 1 | 0.9 | 0 |"), "%s", md ? md : "");
    /* groups sorted by mean: maml (0.35) before fomaml (0.9) */
    const char *grp = md ? strstr(md, "over seeds") : NULL;
    CHECK(grp && strstr(grp, "| maml | 2 |") && strstr(grp, "| maml | 2 |") < strstr(grp, "| fomaml | 1 |"));
    free(md);
    /* maximize flips the finished rows only */
    s.maximize = 1;
    CHECK(sweep_summary(&s, dir, NULL, &e) == MG_OK);
    snprintf(p, sizeof p, "%s/summary.csv", dir);
    csv = mg_read_file(p, 1 << 20, NULL, &e);
    CHECK(csv && strstr(csv, "status\n4,fomaml,2,0.9,done\n0,maml,1,0.5,done\n1,maml,2,0.2,done\n3,"));
    free(csv);
    snprintf(p, sizeof p, "%s/summary.md", dir);
    md = mg_read_file(p, 1 << 20, NULL, &e);
    grp = md ? strstr(md, "over seeds") : NULL;
    CHECK(grp && strstr(grp, "| fomaml | 1 | 0.9 |") && strstr(grp, "| fomaml | 1 |") < strstr(grp, "| maml | 2 |"));
    free(md);
    /* {algo} in an eval metric */
    char v[2][SWEEP_VALUE_MAX], name[128];
    snprintf(s.metric, sizeof s.metric, "methods.{algo}.gap_mean");
    sweep_trial_values(&s, 4, v);
    sweep_metric_name(&s, v, name, sizeof name);
    CHECK(!strcmp(name, "methods.fomaml.gap_mean") && sweep_metric_from_eval(&s));
    /* a gap (a fraction in eval.json) is shown in % in summary.md, kept as a
     * fraction in summary.csv */
    s.maximize = 0;
    static const char *gaps[] = {"0.0757", "0.0512", NULL, NULL, "0.1"};
    for (int t = 0; t < 5; t++) {
        if (!gaps[t]) continue;
        sweep_trial_dir(td, sizeof td, dir, t);
        char js[256];
        snprintf(js, sizeof js, "{\"methods\": {\"%s\": {\"gap_mean\": %s}}}\n",
                 t == 4 ? "fomaml" : "maml", gaps[t]);
        put(td, "eval.json", js);
    }
    CHECK(sweep_summary(&s, dir, NULL, &e) == MG_OK);
    snprintf(p, sizeof p, "%s/summary.csv", dir);
    csv = mg_read_file(p, 1 << 20, NULL, &e);
    CHECK_MSG(csv && strstr(csv, "1,maml,2,0.0512,done\n"), "%s", csv ? csv : "(null)");
    free(csv);
    snprintf(p, sizeof p, "%s/summary.md", dir);
    md = mg_read_file(p, 1 << 20, NULL, &e);
    CHECK_MSG(md && strstr(md, "| methods.{algo}.gap_mean (%) | status |") &&
                  strstr(md, "| 1 | maml | 2 | 5.12 % | done |") &&
                  strstr(md, "in % here (eval.json and summary.csv hold fractions)"),
              "%s", md ? md : "(null)");
    /* maml: 5.12, 7.57 -> mean 6.345 %, sd 1.73 % */
    CHECK_MSG(md && strstr(md, "| maml | 2 | 6.345 % | 1.73 % |"), "%s", md ? md : "(null)");
    free(md);
    sweep_free(&s);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/metagrid-test-sweep.XXXXXX");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    char base[512];
    snprintf(base, sizeof base, "%s/base.yaml", tmpdir);
    write_text(base, "seed: 1\ntask:\n  family: sinusoid\nmodel:\n  hidden: [8]\n");
    test_grid();
    test_random_stats();
    test_errors();
    snprintf(base, sizeof base, "%s/base_lp.yaml", tmpdir);
    write_text(base, "task: {family: uniform, n_demand: 3, n_supply: 2}\nmodel: {hidden: [8]}\n");
    test_strict();
    test_json();
    test_summary();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", tmpdir);
    return TEST_REPORT();
}
