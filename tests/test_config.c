/*
 * test_config.c — the config loader: every error class (exit code, FILE:LINE,
 * key, suggestion), hostile inputs (random bytes, bad UTF-8, deep nesting,
 * alias bombs, huge files), --set for every type, exact write/load round
 * trips, the hash's choice of keys, and the shipped configs (*.yaml).
 * Run from the repository root.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/core/config_internal.h"
#include "harness.h"
#include "metagrid/config.h"
#include "metagrid/rng.h"

static char g_path[64];

/* Write len bytes to a fresh temporary file (path in g_path). */
static void write_tmp(const char *text, size_t len)
{
    snprintf(g_path, sizeof g_path, "/tmp/mgcfgXXXXXX");
    int fd = mkstemp(g_path);
    if (fd < 0) { perror("mkstemp"); exit(1); }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w <= 0) { perror("write"); exit(1); }
        off += (size_t)w;
    }
    close(fd);
}

static int load_text(const char *text, size_t len, Config *c, MgErr *e)
{
    write_tmp(text, len);
    memset(e, 0, sizeof *e);
    int rc = config_load(c, g_path, NULL, 0, e);
    unlink(g_path);
    return rc;
}

/* Load text, expect MG_EUSAGE with "PATH:LINE: " (line > 0), the key and
 * the fragment frag in the one message. */
#define EXPECT_ERR(text, line, key, frag) expect_err(text, line, key, frag, __LINE__)
static void expect_err(const char *text, int line, const char *key, const char *frag, int at)
{
    Config c;
    MgErr e;
    int rc = load_text(text, strlen(text), &c, &e);
    char loc[96];
    if (line > 0) snprintf(loc, sizeof loc, "%s:%d: ", g_path, line);
    else snprintf(loc, sizeof loc, "%s", g_path);
    int ok = rc == MG_EUSAGE && e.code == MG_EUSAGE && strncmp(e.msg, loc, strlen(loc)) == 0 &&
             (!key || strstr(e.msg, key)) && (!frag || strstr(e.msg, frag)) &&
             strncmp(e.msg, "metagrid:", 9) != 0 && !strchr(e.msg, '\n');
    CHECK_MSG(ok, "(line %d) rc %d msg [%s] want [%s] key [%s] frag [%s]", at, rc, e.msg, loc,
              key ? key : "", frag ? frag : "");
}

/* Load garbage: MG_EUSAGE, quickly. */
static void expect_refused(const char *what, const char *text, size_t len)
{
    Config c;
    MgErr e;
    double t0 = mg_now();
    int rc = load_text(text, len, &c, &e);
    double dt = mg_now() - t0;
    CHECK_MSG(rc == MG_EUSAGE && e.msg[0] && dt < 2.0, "%s: rc %d in %.3fs: %s", what, rc, dt, e.msg);
}

/* config_set: expect MG_EUSAGE with message prefix and fragment. */
static void expect_set_err(const char *key, const char *value, const char *prefix, const char *frag)
{
    Config c;
    MgErr e = {0};
    config_defaults(&c);
    int rc = config_set(&c, key, value, "--set", &e);
    CHECK_MSG(rc == MG_EUSAGE && !strncmp(e.msg, prefix, strlen(prefix)) && strstr(e.msg, frag),
              "set %s=%s: rc %d [%s]", key, value, rc, e.msg);
}

static int same_config(const Config *a, const Config *b)
{
    Config x = *a, y = *b;
    memset(x.source, 0, sizeof x.source);
    memset(y.source, 0, sizeof y.source);
    return memcmp(&x, &y, sizeof x) == 0;
}

/* write -> load_buffer -> identical struct */
static int round_trip(const Config *c)
{
    char *text = config_to_string(c);
    Config d;
    MgErr e = {0};
    int rc = config_load_buffer(&d, text, strlen(text), "rt", &e);
    int ok = rc == MG_OK && same_config(c, &d);
    if (!ok) fprintf(stderr, "round trip: rc %d %s\n%s", rc, e.msg, text);
    free(text);
    return ok;
}

static void test_errors(void)
{
    /* unknown keys, with the nearest key suggested */
    EXPECT_ERR("train:\n  iteratons: 5\n", 2, "train.iteratons", "did you mean 'train.iterations'?");
    EXPECT_ERR("seed: 1\niterations: 5\n", 2, "iterations", "did you mean 'train.iterations'?");
    EXPECT_ERR("tsk:\n  family: region\n", 1, "tsk", "did you mean 'task'?");
    EXPECT_ERR("eval:\n  k_suport: 3\n", 2, "eval.k_suport", "did you mean 'eval.k_support'?");
    EXPECT_ERR("task:\n  k_suport: 3\n", 2, "task.k_suport", "did you mean 'task.k_support'?");
    EXPECT_ERR("algo:\n  gate:\n    bse: adam\n", 3, "algo.gate.bse", "'algo.gate.base'");
    EXPECT_ERR("gate: {base: adam}\n", 1, "gate", "'algo.gate'");
    EXPECT_ERR("model:\n  hidden: [4]\n  activaton: tanh\n", 3, "model.activaton",
               "'model.activation'");
    /* wrong type */
    EXPECT_ERR("seed: abc\n", 1, "seed", "expected an integer, got 'abc'");
    EXPECT_ERR("train:\n  meta_batch: 1.5\n", 2, "train.meta_batch", "expected an integer, got '1.5'");
    EXPECT_ERR("train:\n  meta_lr: fast\n", 2, "train.meta_lr", "expected a number, got 'fast'");
    EXPECT_ERR("task:\n  warm_start: maybe\n", 2, "task.warm_start", "true or false");
    EXPECT_ERR("\nalgo:\n  name: reptile\n", 3, "algo.name",
               "one of maml, fomaml, metasgd, gated, pretrain, got 'reptile'");
    EXPECT_ERR("task: {family: grids}\n", 1, "task.family", "uniform, region, sinusoid, grid");
    EXPECT_ERR("task: {family: grid}\n", 1, "task.case", "needs a case file");
    EXPECT_ERR("task:\n  case: \"a\\tb.m\"\n", 2, "task.case", "control character");
    EXPECT_ERR("model:\n  hidden: [40, x]\n", 2, "model.hidden", "expected an integer, got 'x'");
    EXPECT_ERR("model:\n  hidden: 40\n", 2, "model.hidden", "a list of integers");
    EXPECT_ERR("seed:\n", 1, "seed", "missing value");
    /* out of range */
    EXPECT_ERR("task:\n  rho: 0.5\n", 2, "task.rho", "out of range (must be >= 1");
    EXPECT_ERR("train:\n  meta_batch: 0\n", 2, "train.meta_batch", "1 .. 100000");
    EXPECT_ERR("algo:\n  inner_lr: 0\n", 2, "algo.inner_lr", "must be > 0");
    EXPECT_ERR("algo:\n  inner_lr: -0.1\n", 2, "algo.inner_lr", "out of range");
    EXPECT_ERR("model:\n  hidden: [40, 0]\n", 2, "model.hidden", "1 .. 4096");
    EXPECT_ERR("model:\n  hidden: [1, 2, 3, 4, 5, 6, 7, 8, 9]\n", 2, "model.hidden", "at most 8");
    EXPECT_ERR("seed: -1\n", 1, "seed", "out of range");
    EXPECT_ERR("seed: 99999999999999999999\n", 1, "seed", "out of range");
    EXPECT_ERR("train: {iterations: -5}\n", 1, "train.iterations", "out of range");
    /* cross-key checks name the key and its line */
    EXPECT_ERR("task:\n  n_demand: 200\n  n_supply: 100\n", 3, "task.n_supply", "10000");
    EXPECT_ERR("algo:\n  inner_steps: 0\n", 2, "algo.inner_steps", ">= 1 for algo.name maml");
    /* xent needs the allocation head: reported at model.loss's line, or at
     * task.family's when model.loss is not in the file */
    EXPECT_ERR("task: {family: sinusoid}\nmodel:\n  loss: xent\n", 3, "model.loss",
               "xent needs an LP family (allocation head)");
    EXPECT_ERR("model.loss: cross_entropy\n", 1, "model.loss", "one of mse");
    /* the price head: LP families only; each loss with its head */
    EXPECT_ERR("task: {family: sinusoid}\nmodel:\n  head: prices\n", 3, "model.head",
               "prices needs an LP family");
    EXPECT_ERR("task: {family: sinusoid}\nmodel: {head: alloc}\n", 2, "model.head",
               "alloc needs an LP family");
    EXPECT_ERR("model:\n  head: prices\n  loss: xent\n", 3, "model.loss",
               "xent is a loss of the alloc head");
    EXPECT_ERR("model:\n  loss: lagrangian\n", 2, "model.loss",
               "lagrangian is a loss of the prices head; model.head is alloc");
    EXPECT_ERR("model:\n  head: linear\n", 2, "model.head", "one of auto");
    EXPECT_ERR("model:\n  temperature: -0.1\n", 2, "model.temperature", ">= 0");
    EXPECT_ERR("model:\n  inner_loss: xent\n", 2, "model.inner_loss", "one of same");
    EXPECT_ERR("model:\n  anchor: nearest\n", 2, "model.anchor",
               "an anchor needs the prices head; model.head is alloc");
    EXPECT_ERR("model:\n  head: prices\n  anchor: closest\n", 3, "model.anchor", "one of none");
    EXPECT_ERR("task:\n  k_support: 1\nmodel:\n  head: prices\n  anchor: nearest\n", 2,
               "task.k_support", "needs at least 2 support hours");
    EXPECT_ERR("eval:\n  k_support: 1\nmodel:\n  head: prices\n  anchor: nearest\n", 2,
               "eval.k_support", "needs at least 2 support hours");
    /* NaN and infinity */
    EXPECT_ERR("algo:\n  inner_lr: .nan\n", 2, "algo.inner_lr", "NaN or infinity");
    EXPECT_ERR("algo:\n  inner_lr: .inf\n", 2, "algo.inner_lr", "NaN or infinity");
    EXPECT_ERR("train:\n  meta_lr: -.Inf\n", 2, "train.meta_lr", "NaN or infinity");
    EXPECT_ERR("train:\n  clip: 1e999\n", 2, "train.clip", "NaN or infinity");
    EXPECT_ERR("train:\n  meta_batch: .NaN\n", 2, "train.meta_batch", "NaN or infinity");
    /* duplicate keys */
    EXPECT_ERR("seed: 1\nseed: 2\n", 2, "seed", "duplicate key (first set on line 1)");
    EXPECT_ERR("task: {n_demand: 3}\ntask: {n_supply: 2}\n", 2, "task", "duplicate key");
    EXPECT_ERR("task:\n  family: region\ntask.family: uniform\n", 3, "task.family", "duplicate");
    /* YAML syntax errors: libyaml's problem, with line and column */
    EXPECT_ERR("task:\n  family: region\n n_supply: 2\n", 3, "task.family", "YAML syntax error");
    EXPECT_ERR("seed: 1\n\tx: 2\n", 2, NULL, "column");
    EXPECT_ERR("task:\n  family: \"region\n", 3, NULL, "YAML syntax error");
    /* a sequence where a mapping belongs, and the other shape mismatches */
    EXPECT_ERR("task:\n  - family\n", 2, "task", "expected a mapping of keys (family, n_demand");
    EXPECT_ERR("task: region\n", 1, "task", "expected a mapping");
    EXPECT_ERR("seed: {a: 1}\n", 1, "seed", "expected an integer, got a mapping");
    EXPECT_ERR("seed: [1]\n", 1, "seed", "got a sequence");
    EXPECT_ERR("model:\n  hidden: [40, [2]]\n", 2, "model.hidden", "got a sequence inside");
    EXPECT_ERR("? [a]\n: 1\n", 1, NULL, "mapping key must be a name");
    /* not a mapping at the top, several documents, empty */
    EXPECT_ERR("- a\n- b\n", 1, NULL, "top level must be a mapping");
    EXPECT_ERR("hello\n", 1, NULL, "top level must be a mapping");
    EXPECT_ERR("seed: 1\n---\nseed: 2\n", 2, NULL, "more than one YAML document");
    EXPECT_ERR("", 1, NULL, "empty config");
    EXPECT_ERR("# only a comment\n\n", 1, NULL, "empty config");
    EXPECT_ERR("---\n", 1, NULL, "empty config");
    /* anchors, aliases, tags */
    EXPECT_ERR("seed: &a 1\n", 1, "seed", "anchors");
    EXPECT_ERR("model:\n  hidden: &x [1]\n", 2, "model.hidden", "not supported");
    EXPECT_ERR("seed: *a\n", 1, "seed", "aliases");
    EXPECT_ERR("seed: !!binary abc\n", 1, "seed", "tag");
    EXPECT_ERR("seed: \"1\\n2\"\n", 1, "seed", "got the string '1?2'");
    /* numbers and booleans as strings (issue 13): quoted or !!str-tagged */
    EXPECT_ERR("seed: \"1\"\n", 1, "seed", "expected an integer, got the string '1' (write it without quotes");
    EXPECT_ERR("seed: '1'\n", 1, "seed", "the string '1'");
    EXPECT_ERR("seed: !!str 1\n", 1, "seed", "the string '1'");
    EXPECT_ERR("seed: ! 1\n", 1, "seed", "the string '1'");
    EXPECT_ERR("train:\n  meta_lr: \"0.1\"\n", 2, "train.meta_lr", "expected a number, got the string '0.1'");
    EXPECT_ERR("task: {warm_start: \"true\"}\n", 1, "task.warm_start", "got the string 'true'");
    EXPECT_ERR("model: {hidden: [8, \"4\"]}\n", 1, "model.hidden", "the string '4'");
    EXPECT_ERR("model: {hidden: [8, !!str 4]}\n", 1, "model.hidden", "the string '4'");
    EXPECT_ERR("algo: {name: mamll}\n", 1, "algo.name", "did you mean 'maml'?");
    EXPECT_ERR("\"se\\ted\": 1\n", 1, "se?ed", "unknown key");
    EXPECT_ERR("seed: !custom 1\n", 1, "seed", "tag");
    /* invalid UTF-8 and control characters: libyaml's reader */
    EXPECT_ERR("seed: 1\ntask:\n  family: re\xc3gion\n", 3, NULL, "not a text file");
    EXPECT_ERR("seed: \xff\xfe\n", 1, NULL, "not a text file");
    EXPECT_ERR("seed: 1\x01\n", 1, NULL, "not a text file");
    {
        Config c;
        MgErr e;
        int rc = load_text("seed: 1\n\0\n", 10, &c, &e);
        CHECK_MSG(rc == MG_EUSAGE && strstr(e.msg, ":2: "), "NUL byte: %s", e.msg);
    }
    /* a missing file */
    {
        Config c;
        MgErr e = {0};
        CHECK(config_load(&c, "/nonexistent/x.yaml", NULL, 0, &e) == MG_EUSAGE &&
              strstr(e.msg, "/nonexistent/x.yaml"));
    }
}

static void test_garbage(void)
{
    /* random bytes */
    size_t n = 4096;
    char *buf = mg_malloc(n);
    for (int s = 0; s < 20; s++) {
        RngStream r;
        rng_stream_init(&r, (uint64_t)s, RNG_TEST, 0, 0, 0);
        for (size_t i = 0; i < n; i++) buf[i] = (char)rng_below(&r, 256);
        expect_refused("random bytes", buf, n);
        /* random printable ASCII: YAML-ish noise */
        for (size_t i = 0; i < n; i++) buf[i] = (char)(rng_below(&r, 20) == 0 ? '\n' : 32 + rng_below(&r, 95));
        expect_refused("random ASCII", buf, n);
    }
    free(buf);

    /* mutations of a valid config: every outcome is MG_OK or one clean
     * message that starts with the name (and, under ASan, no bad access) */
    Config base;
    config_defaults(&base);
    char *good = config_to_string(&base);
    size_t glen = strlen(good);
    static const char alpha[] = "[]{}:,-&*!#'\"?|>% \n\t0.9ae_~";
    int clean = 1, n_ok = 0;
    for (int t = 0; t < 2000; t++) {
        RngStream r;
        rng_stream_init(&r, 77, RNG_TEST, 2, (uint64_t)t, 0);
        char m[4096];
        size_t ml = glen;
        memcpy(m, good, glen);
        int edits = 1 + (int)rng_below(&r, 4);
        for (int j = 0; j < edits; j++) {
            size_t at = (size_t)rng_below(&r, ml ? ml : 1);
            char ch = alpha[rng_below(&r, sizeof alpha - 1)];
            switch (rng_below(&r, 4)) {
            case 0: m[at] = ch; break;                                      /* replace */
            case 1: if (ml < sizeof m - 1) { memmove(m + at + 1, m + at, ml - at); m[at] = ch; ml++; } break;
            case 2: if (ml) { memmove(m + at, m + at + 1, ml - at - 1); ml--; } break; /* delete */
            case 3: ml = at; break;                                         /* truncate */
            }
        }
        Config c;
        MgErr e = {0};
        int rc = config_load_buffer(&c, m, ml, "mut", &e);
        n_ok += rc == MG_OK;
        if (!((rc == MG_OK && !e.msg[0]) ||
              (rc == MG_EUSAGE && !strncmp(e.msg, "mut", 3) && !strchr(e.msg, '\n')))) {
            clean = 0;
            fprintf(stderr, "mutation %d: rc %d [%s]\n", t, rc, e.msg);
        }
    }
    CHECK_MSG(clean && n_ok > 0 && n_ok < 2000, "n_ok %d", n_ok);
    free(good);

    /* 100k-deep nesting, at the top and under a key */
    size_t deep = 100000;
    char *d = mg_malloc(deep + 64);
    memset(d, '[', deep);
    expect_refused("deep [", d, deep);
    memset(d, '{', deep);
    expect_refused("deep {", d, deep);
    int h = snprintf(d, 64, "model:\n  hidden: ");
    memset(d + h, '[', deep);
    expect_refused("deep [ under a key", d, h + deep);
    /* deep block nesting: "a:\n  a:\n    a: ..." */
    char *blk = mg_malloc(2u << 20);
    size_t used = 0;
    for (int i = 0; i < 3000 && used < (2u << 20) - 8000; i++) {
        memset(blk + used, ' ', (size_t)i);
        used += (size_t)i;
        memcpy(blk + used, "task:\n", 6);
        used += 6;
    }
    expect_refused("deep block nesting", blk, used);
    free(d);

    /* the billion laughs, and the same bomb under a known key */
    const char *bomb =
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
        "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
        "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
    expect_refused("billion laughs", bomb, strlen(bomb));
    const char *bomb2 = "model:\n  hidden: &a [1, 2]\n  x: [*a, *a, *a]\n";
    EXPECT_ERR(bomb2, 2, "model.hidden", "anchors");

    /* a 2 MiB file (valid YAML comments) */
    size_t big = 2u << 20;
    memset(blk, '#', big);
    for (size_t i = 80; i < big; i += 81) blk[i] = '\n';
    Config c;
    MgErr e;
    int rc = load_text(blk, big, &c, &e);
    CHECK_MSG(rc == MG_EUSAGE && strstr(e.msg, g_path) && strstr(e.msg, "larger"), "2 MiB: %s", e.msg);
    memset(&e, 0, sizeof e);
    CHECK(config_load_buffer(&c, blk, big, "ckpt", &e) == MG_EUSAGE && strstr(e.msg, "1 MiB"));
    free(blk);
}

static void test_values(void)
{
    Config c, d;
    MgErr e;
    /* defaults as documented */
    config_defaults(&c);
    CHECK(c.seed == 1 && c.task.family == FAMILY_UNIFORM && c.task.n_demand == 3 && c.task.n_supply == 2);
    CHECK(c.task.k_support == 10 && c.task.k_query == 10 && c.task.rho == 1.2 && c.task.warm_start == 1);
    CHECK(c.model.n_hidden == 2 && c.model.hidden[0] == 40 && c.model.hidden[1] == 40);
    CHECK(c.algo.name == ALGO_MAML && c.algo.inner_lr == 0.01 && c.algo.inner_steps == 1);
    CHECK(c.algo.gate.base == GATE_SGD && c.algo.gate.hidden == 16);
    CHECK(c.model.loss == LOSS_MSE && !strcmp(config_loss_name(LOSS_MSE), "mse") &&
          !strcmp(config_loss_name(LOSS_XENT), "xent"));
    CHECK(c.train.iterations == 100 && c.train.meta_batch == 8 && c.train.meta_lr == 1e-3);
    CHECK(c.train.clip == 0 && c.train.log_every == 10 && c.train.val_tasks == 16);
    CHECK(c.eval.tasks == 128 && c.eval.k_support == 10 && c.eval.steps == 10 && c.eval.query == 20);
    CHECK(c.eval.polish == 0 && c.eval.tolerance == 0.001 && c.eval.horizon == 720);
    CHECK(c.source[0] == '\0');
    MgErr e0 = {0};
    CHECK(config_check(&c, "defaults", &e0) == MG_OK);

    /* YAML forms: dotted keys, quotes, block lists, bool spellings, 1_000, 1e3 */
    const char *t =
        "task.family: sinusoid\n"
        "seed: !!int 42\n"
        "model:\n  hidden:\n    - 8\n    - 4\n  activation: tanh\n"
        "task:\n  warm_start: No\n  noise: 0\n"
        "train:\n  iterations: 1_000\n  meta_batch: 1e3\n  meta_lr: .5e-3\n  checkpoint_every: 2.0\n"
        "algo:\n  name: \"gated\"\n  gate: {base: adam, hidden: 3}\n";
    int rc = load_text(t, strlen(t), &c, &e);
    CHECK_MSG(rc == MG_OK, "%s", e.msg);
    CHECK(c.task.family == FAMILY_SINUSOID && c.seed == 42 && c.model.n_hidden == 2 &&
          c.model.hidden[0] == 8 && c.model.hidden[1] == 4 && c.model.activation == ACT_TANH);
    CHECK(c.task.warm_start == 0 && c.train.iterations == 1000 && c.train.meta_batch == 1000 &&
          c.train.meta_lr == 0.5e-3 && c.train.checkpoint_every == 2);
    CHECK(c.algo.name == ALGO_GATED && c.algo.gate.base == GATE_ADAM && c.algo.gate.hidden == 3);
    CHECK(strcmp(c.source, g_path) == 0);
    /* sinusoid ignores n_demand x n_supply */
    rc = load_text("task: {family: sinusoid, n_demand: 10000, n_supply: 10000}\n", 58, &c, &e);
    CHECK_MSG(rc == MG_OK, "%s", e.msg);
    /* pretrain allows inner_steps 0; a linear model */
    rc = load_text("algo: {name: pretrain, inner_steps: 0}\nmodel: {hidden: []}\n", 58, &c, &e);
    CHECK_MSG(rc == MG_OK && c.model.n_hidden == 0, "%s", e.msg);

    /* --set for every type, in order, last wins */
    const char *sets[] = {"train.iterations=50", "model.hidden=[64, 32]", "algo.name=metasgd",
                          "task.warm_start=off", "train.meta_lr=2.5e-4", "seed=123456789012",
                          "task.family = region", "model.hidden=[ 7 ]", "algo.gate.base=adam",
                          "task.rho=1"};
    memset(&e, 0, sizeof e);
    rc = config_load(&c, "configs/seed.yaml", sets, 10, &e);
    CHECK_MSG(rc == MG_OK, "%s", e.msg);
    CHECK(c.train.iterations == 50 && c.model.n_hidden == 1 && c.model.hidden[0] == 7 &&
          c.model.hidden[1] == 0 && c.algo.name == ALGO_METASGD && c.task.warm_start == 0 &&
          c.train.meta_lr == 2.5e-4 && c.seed == 123456789012LL && c.task.family == FAMILY_REGION &&
          c.algo.gate.base == GATE_ADAM && c.task.rho == 1.0);
    config_defaults(&d);
    memset(&e, 0, sizeof e);
    CHECK(config_set(&d, "model.hidden", "[]", "--set", &e) == MG_OK && d.model.n_hidden == 0);
    char buf[64];
    CHECK(config_get(&c, "model.hidden", buf, sizeof buf) == MG_OK && !strcmp(buf, "[7]"));
    CHECK(config_get(&c, "train.meta_lr", buf, sizeof buf) == MG_OK && !strcmp(buf, "0.00025"));
    CHECK(config_get(&c, "nope", buf, sizeof buf) == MG_EUSAGE);
    CHECK(config_get(&c, "model.loss", buf, sizeof buf) == MG_OK && !strcmp(buf, "mse"));
    /* model.loss: xent for an LP family; refused for sinusoid (file, --set, check) */
    const char *xs[] = {"model.loss=xent", "model.head=alloc"};
    memset(&e, 0, sizeof e);
    rc = config_load(&c, "configs/default.yaml", xs, 2, &e);
    CHECK_MSG(rc == MG_OK && c.model.loss == LOSS_XENT, "%s", e.msg);
    CHECK(config_get(&c, "model.loss", buf, sizeof buf) == MG_OK && !strcmp(buf, "xent"));
    t = "task: {family: region}\nmodel: {loss: xent}\n";
    rc = load_text(t, strlen(t), &c, &e);
    CHECK_MSG(rc == MG_OK && c.model.loss == LOSS_XENT, "%s", e.msg);
    memset(&e, 0, sizeof e);
    rc = config_load(&c, "configs/sinusoid.yaml", xs, 1, &e);
    CHECK_MSG(rc == MG_EUSAGE && !strcmp(e.msg, "--set: model.loss: xent needs an LP family "
                                                "(allocation head); task.family is sinusoid"),
              "%s", e.msg);
    config_defaults(&c);
    c.model.loss = LOSS_XENT;
    memset(&e, 0, sizeof e);
    CHECK(config_check(&c, "here", &e) == MG_OK);
    c.task.family = FAMILY_SINUSOID;
    CHECK(config_check(&c, "here", &e) == MG_EUSAGE && !strncmp(e.msg, "here: model.loss: xent", 22));

    /* --set errors */
    expect_set_err("train.iteratons", "5", "--set: train.iteratons: unknown key",
                   "(did you mean 'train.iterations'?)");
    expect_set_err("seed", "abc", "--set: seed: ", "expected an integer, got 'abc'");
    expect_set_err("seed", "\"1\"", "--set: seed: ", "got the string '1'");
    expect_set_err("seed", "!!str 1", "--set: seed: ", "got the string '1'");
    expect_set_err("algo.inner_lr", "'0.5'", "--set: algo.inner_lr: ", "got the string '0.5'");
    expect_set_err("seed", "", "--set: seed: ", "missing value");
    expect_set_err("seed", "~", "--set: seed: ", "missing value");
    expect_set_err("model.hidden", "40,40", "--set: model.hidden: ", "list of integers");
    expect_set_err("model.hidden", "[1, [2]]", "--set: model.hidden: ", "inside the list");
    expect_set_err("algo.inner_lr", ".inf", "--set: algo.inner_lr: ", "NaN or infinity");
    expect_set_err("algo.name", "MAML", "--set: algo.name: ", "one of maml");
    expect_set_err("task", "{family: region}", "--set: task: ", "group of keys");
    expect_set_err("seed", "1\n---\n2", "--set: seed: ", "several YAML documents");
    expect_set_err("seed", "'1", "--set: seed: ", "YAML syntax error");
    expect_set_err("seed", "a: 1", "--set: seed: ", "got a mapping");
    expect_set_err("seed", "&x 1", "--set: seed: ", "anchors");
    config_defaults(&c);
    memset(&e, 0, sizeof e);
    rc = config_set(&c, "algo.name", "reptile", "sweep.yaml:12", &e);
    CHECK_MSG(rc == MG_EUSAGE && !strncmp(e.msg, "sweep.yaml:12: algo.name: ", 26), "%s", e.msg);
    const char *noeq[] = {"train.iterations"};
    memset(&e, 0, sizeof e);
    CHECK(config_load(&c, NULL, noeq, 1, &e) == MG_EUSAGE && strstr(e.msg, "KEY=VALUE"));
    const char *zero[] = {"algo.inner_steps=0"};
    memset(&e, 0, sizeof e);
    rc = config_load(&c, "configs/seed.yaml", zero, 1, &e);
    CHECK_MSG(rc == MG_EUSAGE && !strncmp(e.msg, "--set: algo.inner_steps: ", 25), "%s", e.msg);
    c.algo.inner_steps = 0;
    memset(&e, 0, sizeof e);
    CHECK(config_check(&c, "here", &e) == MG_EUSAGE && !strncmp(e.msg, "here: algo.inner_steps:", 23));
}

/* A different valid value for key k, as text, read from c. */
static void other_value(const Config *c, int k, char *buf, size_t n)
{
    const CfgKey *K = &cfg_keys[k];
    const char *f = (const char *)c + K->off;
    switch (K->type) {
    case KT_INT: { int v = *(const int *)f; snprintf(buf, n, "%d", v < K->ihi ? v + 1 : v - 1); break; }
    case KT_INT64: { int64_t v = *(const int64_t *)f; snprintf(buf, n, "%lld", (long long)(v < K->ihi ? v + 1 : v - 1)); break; }
    case KT_FLOAT: snprintf(buf, n, "%.17g", 0.5 * (*(const double *)f + K->fhi)); break;
    case KT_BOOL: snprintf(buf, n, "%s", *(const int *)f ? "false" : "true"); break;
    case KT_ENUM: snprintf(buf, n, "%s", K->names[*(const int *)f == 0]); break;
    case KT_INTLIST: snprintf(buf, n, "[3, 5, 7]"); break;
    case KT_PATH: snprintf(buf, n, "/data/it's a case.m"); break;
    default: snprintf(buf, n, "x"); break;
    }
}

static void test_round_trip_and_hash(void)
{
    Config c;
    MgErr e;
    config_defaults(&c);
    CHECK(round_trip(&c));
    /* every key changed once: round trip, and the hash moves iff the key is hashed */
    uint32_t h0 = config_hash(&c);
    int nhashed = 0, nrun = 0;
    for (int k = 0; k < config_key_count(); k++) {
        Config d = c;
        char v[64];
        other_value(&c, k, v, sizeof v);
        memset(&e, 0, sizeof e);
        int rc = config_set(&d, config_key_name(k), v, "test", &e);
        CHECK_MSG(rc == MG_OK && !same_config(&c, &d), "%s=%s: %s", config_key_name(k), v, e.msg);
        if (!strcmp(config_key_name(k), "model.anchor")) d.model.head = HEAD_PRICES; /* its rule */
        CHECK_MSG(round_trip(&d), "%s", config_key_name(k));
        int moved = config_hash(&d) != h0;
        CHECK_MSG(moved == config_key_hashed(k), "%s: hash moved %d", config_key_name(k), moved);
        nhashed += config_key_hashed(k);
        nrun += !config_key_hashed(k);
    }
    CHECK(nhashed >= 20 && nrun >= 9);
    const char *runctl[] = {"train.iterations", "train.checkpoint_every", "train.log_every",
                            "train.val_every", "train.sync_check", "eval.tasks", "eval.k_support",
                            "eval.steps", "eval.query", "eval.scratch_steps"};
    for (int i = 0; i < 10; i++) CHECK_MSG(!config_key_hashed(cfg_find(runctl[i])), "%s", runctl[i]);
    CHECK(config_key_hashed(cfg_find("seed")) && config_key_hashed(cfg_find("algo.inner_lr")));

    /* random configs: every key drawn in its range, exact round trip */
    RngStream r;
    rng_stream_init(&r, 5, RNG_TEST, 1, 0, 0);
    int ok = 1;
    for (int t = 0; t < 200; t++) {
        config_defaults(&c);
        for (int k = 0; k < cfg_nkeys; k++) {
            const CfgKey *K = &cfg_keys[k];
            char *f = (char *)&c + K->off;
            switch (K->type) {
            case KT_INT: *(int *)f = (int)(K->ilo + (int64_t)rng_below(&r, (uint64_t)MG_MIN(K->ihi - K->ilo, 1000000) + 1)); break;
            case KT_INT64: *(int64_t *)f = K->ilo + (int64_t)rng_below(&r, (uint64_t)MG_MIN(K->ihi - K->ilo, INT64_MAX - 1) + 1); break;
            case KT_FLOAT: {
                double u = rng_uniform(&r);
                *(double *)f = t % 2 ? K->flo + u * (K->fhi - K->flo) : K->flo + (K->fhi - K->flo) * u * u * u * 1e-3;
                if (*(double *)f <= K->flo) *(double *)f = K->fhi;
                break;
            }
            case KT_BOOL: *(int *)f = (int)rng_below(&r, 2); break;
            case KT_ENUM: { int m = 0; while (K->names[m]) m++; *(int *)f = (int)rng_below(&r, (uint64_t)m); break; }
            case KT_INTLIST: {
                int v[CONFIG_MAX_HIDDEN], m = (int)rng_below(&r, CONFIG_MAX_HIDDEN + 1);
                for (int i = 0; i < m; i++) v[i] = 1 + (int)rng_below(&r, 4096);
                schema_store_list(K, &c, v, m);
                break;
            }
            case KT_PATH: snprintf(f, CONFIG_PATH_MAX, "/cases/%d'%d.m", t, k); break;
            default: break;
            }
        }
        c.task.n_demand = 1 + (int)rng_below(&r, 100);
        c.task.n_supply = 1 + (int)rng_below(&r, 100);
        if (c.algo.inner_steps == 0) c.algo.inner_steps = 1;
        if (c.task.family == FAMILY_SINUSOID) c.model.loss = LOSS_MSE, c.model.head = HEAD_AUTO;
        if (c.model.head == HEAD_PRICES && c.model.loss == LOSS_XENT) c.model.loss = LOSS_LAGRANGIAN;
        if (c.model.head != HEAD_PRICES && c.model.loss == LOSS_LAGRANGIAN) c.model.loss = LOSS_MSE;
        if (c.model.head != HEAD_PRICES) c.model.anchor = ANCHOR_NONE;
        if (c.task.family == FAMILY_SINUSOID) c.train.pool_tasks = 0;
        if (c.train.pool_hours < c.task.k_support + c.task.k_query)
            c.train.pool_hours = c.task.k_support + c.task.k_query;
        ok &= round_trip(&c);
    }
    CHECK(ok);

    /* config_write to a file and config_load from it */
    config_defaults(&c);
    c.train.meta_lr = 0.1 + 0.2;
    c.task.noise = 1e-300;
    write_tmp("", 0);
    FILE *f = fopen(g_path, "w");
    config_write(&c, f);
    fclose(f);
    Config d;
    memset(&e, 0, sizeof e);
    int rc = config_load(&d, g_path, NULL, 0, &e);
    unlink(g_path);
    CHECK_MSG(rc == MG_OK && same_config(&c, &d), "%s", e.msg);

    /* the reference: a header, a rule, one row per key */
    char *ref = NULL;
    size_t len = 0;
    f = open_memstream(&ref, &len);
    config_write_reference(f);
    fclose(f);
    int lines = 0;
    for (size_t i = 0; i < len; i++) lines += ref[i] == '\n';
    CHECK(lines == cfg_nkeys + 2);
    for (int k = 0; k < cfg_nkeys; k++) {
        char needle[64];
        snprintf(needle, sizeof needle, "| `%s` |", cfg_keys[k].name);
        CHECK_MSG(strstr(ref, needle), "%s", needle);
    }
    free(ref);
}

static void test_shipped(void)
{
    const char *files[] = {"configs/seed.yaml", "configs/default.yaml", "configs/sinusoid.yaml"};
    Config c;
    for (int i = 0; i < 3; i++) {
        MgErr e = {0};
        int rc = config_load(&c, files[i], NULL, 0, &e);
        CHECK_MSG(rc == MG_OK, "%s: %s", files[i], e.msg);
        CHECK(round_trip(&c));
    }
    MgErr e = {0};
    config_load(&c, "configs/seed.yaml", NULL, 0, &e);
    CHECK(c.task.family == FAMILY_UNIFORM && c.task.n_demand == 3 && c.task.n_supply == 2 &&
          c.algo.name == ALGO_FOMAML && c.algo.inner_steps == 5 && c.model.n_hidden == 1 &&
          c.model.hidden[0] == 64);
    config_load(&c, "configs/sinusoid.yaml", NULL, 0, &e);
    CHECK(c.task.family == FAMILY_SINUSOID && c.train.meta_batch == 25 && c.eval.query == 100 &&
          c.model.n_hidden == 2 && c.model.hidden[1] == 40 && c.algo.name == ALGO_MAML);
    config_load(&c, "configs/default.yaml", NULL, 0, &e);
    CHECK(c.task.family == FAMILY_REGION && c.task.n_demand == 30 && c.task.n_supply == 10 &&
          c.model.n_hidden >= 1 && c.algo.name == ALGO_MAML && c.eval.tasks == 128);
    CHECK(e.code == 0);
}

/* task.observe_costs: default true (so a config text without it, such as
 * the one embedded in an older checkpoint, keeps the cost features), bool
 * spellings, --set, refused values, and it is part of the config hash. */
static void test_observe_costs(void)
{
    Config c, d;
    MgErr e;
    config_defaults(&c);
    CHECK(c.task.observe_costs == 1);
    const char *t = "task:\n  family: region\n  n_demand: 5\n";
    CHECK(load_text(t, strlen(t), &c, &e) == MG_OK && c.task.observe_costs == 1);
    t = "task:\n  observe_costs: false\n";
    CHECK_MSG(load_text(t, strlen(t), &c, &e) == MG_OK && c.task.observe_costs == 0, "%s", e.msg);
    t = "task: {observe_costs: yes}\n";
    CHECK(load_text(t, strlen(t), &c, &e) == MG_OK && c.task.observe_costs == 1);
    EXPECT_ERR("task:\n  observe_costs: partly\n", 2, "task.observe_costs", "true or false");
    EXPECT_ERR("task:\n  observe_cost: false\n", 2, "task.observe_cost",
               "did you mean 'task.observe_costs'?");
    config_defaults(&c);
    d = c;
    memset(&e, 0, sizeof e);
    CHECK(config_set(&d, "task.observe_costs", "false", "--set", &e) == MG_OK &&
          d.task.observe_costs == 0);
    CHECK(config_hash(&d) != config_hash(&c));
    CHECK(config_key_hashed(cfg_find("task.observe_costs")));
    char buf[16];
    CHECK(config_get(&d, "task.observe_costs", buf, sizeof buf) == MG_OK && !strcmp(buf, "false"));
    CHECK(round_trip(&d));
    memset(&e, 0, sizeof e);
    CHECK(config_set(&d, "task.observe_costs", "2", "--set", &e) == MG_EUSAGE &&
          strstr(e.msg, "task.observe_costs"));
}

int main(void)
{
    test_errors();
    test_garbage();
    test_values();
    test_round_trip_and_hash();
    test_observe_costs();
    test_shipped();
    return TEST_REPORT();
}
