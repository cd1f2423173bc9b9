/*
 * config.h — the validated run configuration (libyaml).
 *
 * One schema table (src/core/config.c) lists every key: its dotted name, type,
 * default, range or enum values, and whether it defines the training problem
 * (and so enters config_hash). Loading, --set overrides, the resolved
 * config.yaml writer, the hash and the sweep validator are loops over it.
 *
 * Errors are MG_EUSAGE with one message (no "metagrid:" prefix) of the form
 *   "FILE:LINE: KEY: problem"            (from a file)
 *   "WHERE: KEY: problem"                (config_set; WHERE is "--set" for
 *                                         the command line, "FILE:LINE" for sweeps)
 * Keys are nested YAML mappings (task: {family: region}); a dotted key
 * (task.family: region) is accepted too. Values: integers (1_000, 1e3 when
 * integral), floats (finite only), booleans (true/false/yes/no/on/off), enum
 * names, flow or block lists of integers. Anchors, aliases, custom tags,
 * several documents and files over 1 MiB are refused.
 */
#ifndef METAGRID_CONFIG_H
#define METAGRID_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "metagrid/common.h"

#define CONFIG_MAX_HIDDEN 8
#define CONFIG_PATH_MAX 1024

typedef enum {
    FAMILY_UNIFORM = 0,
    FAMILY_REGION = 1,
    FAMILY_SINUSOID = 2,
    FAMILY_GRID = 3
} TaskFamily;
typedef enum { ACT_RELU = 0, ACT_TANH = 1 } Activation;
typedef enum {
    ALGO_MAML = 0,
    ALGO_FOMAML = 1,
    ALGO_METASGD = 2,
    ALGO_GATED = 3,
    ALGO_PRETRAIN = 4
} AlgoName;
typedef enum { GATE_SGD = 0, GATE_ADAM = 1 } GateBase;
/* Training loss (mlp.h): squared error (both heads), per-demand-row softmax
 * cross-entropy (alloc head), or the relative gap of the (soft) Lagrangian
 * bound (prices head). */
typedef enum { LOSS_MSE = 0, LOSS_XENT = 1, LOSS_LAGRANGIAN = 2 } LossName;
/* Output head (model.head; mlp.h): HEAD_AUTO resolves (config_head) to
 * HEAD_LINEAR for sinusoid and HEAD_ALLOC for the LP families. HEAD_LINEAR is
 * never written in a config. */
/* The inner loop's loss (model.inner_loss): model.loss itself, or the squared
 * error of the head (the query / meta-loss stays model.loss). */
typedef enum { INNER_LOSS_SAME = 0, INNER_LOSS_MSE = 1 } InnerLoss;
typedef enum { HEAD_AUTO = 0, HEAD_ALLOC = 1, HEAD_PRICES = 2, HEAD_LINEAR = 3 } HeadName;
/* Price-head anchor (model.anchor): none, or the GLPK prices of the support
 * hour nearest to the instance (anchor.h) as m extra inputs and as the
 * offset of the output logits (mlp.h: mlp_layout_set_anchor). */
typedef enum { ANCHOR_NONE = 0, ANCHOR_NEAREST = 1 } AnchorName;
/* eval.fallback: the hour above tolerance is re-solved by GLPK warm-started
 * (solver), or by the transportation simplex (transport.h) from the prices
 * the certificate ended with (simplex). Both exact. */
typedef enum { FALLBACK_SOLVER = 0, FALLBACK_SIMPLEX = 1 } FallbackName;

/* The config's sections, one struct each: lower layers take the section they
 * need (tasks_new a TaskSetup, the learner a LearnerSetup, the pool the
 * TrainConfig) rather than the whole Config. */
typedef struct {
    int family;            /* TaskFamily */
    int n_demand, n_supply;
    int k_support, k_query;
    double rho;            /* capacity margin: sum(s) = rho * sum(d), >= 1 */
    double renewable_frac; /* region: share of generators that are renewable */
    double transmission_cost; /* region: cost per unit distance */
    double noise;          /* region: relative demand noise */
    int warm_start;        /* reuse the GLPK basis inside a task (bool) */
    int observe_costs;     /* LP families: cost features are inputs (bool) */
    char case_path[CONFIG_PATH_MAX]; /* grid: the MATPOWER case (absolute once loaded) */
    double outage_rate;    /* grid: probability that a generator is out for a task */
} TaskConfig;

typedef struct {
    int hidden[CONFIG_MAX_HIDDEN];
    int n_hidden;
    int activation;        /* Activation */
    int head;              /* HeadName as configured (auto, alloc, prices) */
    int loss;              /* LossName (xent: alloc head only; lagrangian: prices only) */
    int inner_loss;        /* InnerLoss: the inner loop's loss (same as loss, or mse) */
    double temperature;    /* lagrangian: soft-min temperature (scaled cost units) */
    int anchor;            /* AnchorName: price head input/offset from the support hours */
} ModelConfig;

typedef struct {
    int name;              /* AlgoName */
    double inner_lr;
    int inner_steps;
    struct {
        int base;          /* GateBase */
        int hidden;        /* width of the gating network's hidden layer */
    } gate;
} AlgoConfig;

typedef struct {
    int64_t iterations;
    int meta_batch;
    double meta_lr;
    double clip;           /* meta-gradient L2-norm clip, 0 = off */
    int64_t checkpoint_every;
    int64_t log_every;
    int64_t val_every;
    int val_tasks;
    int sync_check;        /* every N iterations verify ranks agree (0 = off) */
    int pool_tasks;        /* solved-task pool size (0 = fresh tasks; pool.h) */
    int pool_hours;        /* solved hours per pool task */
} TrainConfig;

typedef struct {
    int tasks;
    int k_support;
    int steps;
    int query;
    int scratch_steps;     /* extra long-training scratch baseline (0 = off) */
    int polish;            /* alloc_polish passes after repair (0 = none) */
    double tolerance;      /* certified gap above which the warm solver re-solves */
    int horizon;           /* hours dispatched per adaptation (amortisation) */
    double inner_lr;       /* adaptation step size at evaluation (0 = the checkpoint's) */
    int fallback;          /* FallbackName: what re-solves an hour above tolerance */
} EvalConfig;

typedef struct {
    int64_t seed;
    TaskConfig task;
    ModelConfig model;
    AlgoConfig algo;
    TrainConfig train;
    EvalConfig eval;
    char source[CONFIG_PATH_MAX]; /* file it was loaded from ("" = defaults) */
} Config;

/* Fill c with every default. */
void config_defaults(Config *c);

/*
 * Load a config: defaults, then the YAML file at path (NULL: none), then the
 * --set overrides sets[0..nsets) of the form "KEY=VALUE", then the cross-key
 * checks. Returns MG_OK or MG_EUSAGE with e filled; c is undefined on error.
 */
int config_load(Config *c, const char *path, const char *const *sets, int nsets, MgErr *e);

/* Same, from a YAML text already in memory (name is used in messages). */
int config_load_buffer(Config *c, const char *text, size_t len, const char *name, MgErr *e);

/*
 * Set one key from a YAML scalar or flow sequence given as text ("0.01",
 * "[40, 40]", "maml"). where names the origin for messages, e.g. "--set" or
 * "sweep.yaml:12". Range-checked; MG_EUSAGE on any problem.
 */
int config_set(Config *c, const char *key, const char *value, const char *where, MgErr *e);

/* Cross-key checks (e.g. meta_batch >= 1, family-specific sizes). */
int config_check(const Config *c, const char *where, MgErr *e);

/* Write every key with its value as YAML (the resolved config.yaml). */
void config_write(const Config *c, FILE *f);
/* Same into a malloc'ed string (caller frees). */
char *config_to_string(const Config *c);

/* Hash (CRC32 of the canonical text) of the keys that define the training
 * problem; run-control keys (iterations, log/checkpoint/val cadence, eval.*)
 * are excluded so a run can be resumed with more iterations. */
uint32_t config_hash(const Config *c);

/* Names for enums. */
const char *config_family_name(int family);
const char *config_algo_name(int algo);
const char *config_activation_name(int act);
const char *config_gate_base_name(int base);
const char *config_loss_name(int loss);
const char *config_head_name(int head);
/* The resolved head: model.head, or for auto HEAD_LINEAR (sinusoid) /
 * HEAD_ALLOC (LP families). */
int config_head(const Config *c);

/* Number of schema keys and the i-th dotted name (for help and suggestions);
 * whether key i enters config_hash. */
int config_key_count(void);
/* Index of the key with this dotted name, or -1; the nearest key or group
 * to an unknown name (for "did you mean"). */
int config_key_index(const char *key);
const char *config_key_suggest(const char *name);
const char *config_key_name(int i);
int config_key_hashed(int i);

/* The value of one key as YAML text ("0.01", "[40, 40]", "maml") into buf;
 * MG_OK, or MG_EUSAGE for an unknown key (buf untouched). */
int config_get(const Config *c, const char *key, char *buf, size_t n);

/* A markdown table of every key: key, type, default, range / values,
 * description (the README's config reference). */
void config_write_reference(FILE *f);

#endif
