/*
 * sweep.h — experiment sweeps: the sweep file, its trial list and the summary.
 *
 * A sweep file (YAML, see CONTRACT.md "Sweeps") names a base config and a set
 * of parameters, each a dotted config key with a fixed `value`, a list of
 * `values`, or a `distribution` (uniform, log_uniform_values, int_uniform)
 * between `min` and `max`. The trial list is a pure function of the file:
 *
 *   grid:   the cartesian product of the `values` parameters (file order,
 *           last key fastest) x num_samples draws of the distributions;
 *           trial t = point * num_samples + sample.
 *   random: num_samples trials; each draws every parameter (`values`: a
 *           uniform choice).
 *
 * Draw j of trial t comes from rng stream (seed, RNG_SWEEP, iter = t,
 * task = j), so a trial's values do not depend on any other trial and adding
 * a parameter does not change the draws of the others.
 *
 * Each trial is a list of overrides, one YAML text per parameter ("maml",
 * "0.01", "[40, 40]"): exactly what `metagrid train --set KEY=VALUE` takes.
 * Every override of every trial is validated against the config schema
 * (config_set on a copy of the base config, then config_check) before
 * anything runs; errors are MG_EUSAGE "FILE:LINE: KEY: problem", and for a
 * cross-key problem of a whole trial "FILE:LINE: trial T: KEY: problem" with
 * the line of the parameter of KEY, else of the first parameter involved.
 *
 * This module does not run anything: cmd_sweep.c launches trials (mpirun,
 * sbatch); sweep_summary collects what the trial folders hold.
 */
#ifndef METAGRID_SWEEP_H
#define METAGRID_SWEEP_H

#include <stdint.h>
#include <stdio.h>

#include "metagrid/common.h"
#include "metagrid/config.h"

#define SWEEP_VALUE_MAX 256   /* longest override text */
#define SWEEP_MAX_TRIALS 100000
#define SWEEP_MAX_FILE (1u << 20) /* sweep files larger than 1 MiB are refused */

typedef enum { SWEEP_GRID = 0, SWEEP_RANDOM = 1 } SweepMethod;

typedef enum {
    SWEEP_VALUE = 0,       /* value: X                 (fixed) */
    SWEEP_VALUES = 1,      /* values: [A, B, ...]      (grid axis / random choice) */
    SWEEP_UNIFORM = 2,     /* distribution: uniform, min, max */
    SWEEP_LOG_UNIFORM = 3, /* distribution: log_uniform_values, min > 0, max */
    SWEEP_INT_UNIFORM = 4  /* distribution: int_uniform, min..max inclusive */
} SweepKind;

typedef struct {
    char *key;          /* dotted config key */
    int kind;           /* SweepKind */
    char **values;      /* (n_values) YAML text of each choice (value: one) */
    int n_values;
    double min, max;    /* distributions */
    int line;           /* 1-based line of the parameter in the sweep file */
} SweepParam;

typedef struct {
    char key[64];       /* sbatch long option without "--" ("time", "partition") */
    char value[256];
} SweepSlurmOpt;

typedef struct {
    char path[CONFIG_PATH_MAX];   /* the sweep file as given */
    char name[128];               /* default: the file's basename without .yaml */
    char base[CONFIG_PATH_MAX];   /* base config, resolved against the sweep file's dir */
    int base_line;
    int method;                   /* SweepMethod */
    int num_samples;              /* >= 1 */
    int64_t seed;                 /* 0 .. 2^31-1 */
    int ranks;                    /* MPI ranks per trial, >= 1 */
    char metric[256];             /* metrics.jsonl key, or dotted path into eval.json */
    int metric_line;              /* its line in the file (0: the default) */
    int maximize;                 /* metric goal */
    SweepParam *params;           /* (n_params) in file order */
    int n_params, cap_params;
    SweepSlurmOpt *slurm;         /* (n_slurm) extra "#SBATCH --key=value" lines */
    int n_slurm, cap_slurm;
    long n_trials;
    char base_algo[32];           /* algo.name of the base config (sweep_validate) */
} Sweep;

/*
 * Parse a sweep file (sweep_load) or text already in memory whose name (for
 * messages and for resolving `base`) is path (sweep_load_buffer). Checks the
 * sweep's own keys only; sweep_validate checks the overrides against the
 * config schema. Returns MG_OK or MG_EUSAGE with "FILE:LINE: KEY: problem".
 * s is zeroed first; release with sweep_free (also after an error).
 */
int sweep_load(Sweep *s, const char *path, MgErr *e);
int sweep_load_buffer(Sweep *s, const char *text, size_t len, const char *path, MgErr *e);
void sweep_free(Sweep *s);

/*
 * Load the base config and apply every trial's overrides to a copy of it
 * (config_set with where = "SWEEPFILE:LINE" of the parameter, then
 * config_check): MG_OK when every trial is a valid config. A config_check
 * error names the line of the parameter whose key it names, else of the first
 * parameter (varying ones first) whose removal from the trial changes it.
 */
int sweep_validate(Sweep *s, MgErr *e);

/* Fill vals[0..n_params) with trial t's override texts, 0 <= t < n_trials. */
void sweep_trial_values(const Sweep *s, long t, char (*vals)[SWEEP_VALUE_MAX]);

/* The metric's path for a trial: "{algo}" in the metric name is replaced by
 * the trial's algo.name (its override, else the base config's). */
void sweep_metric_name(const Sweep *s, char (*vals)[SWEEP_VALUE_MAX], char *out, size_t n);
/* Whether the metric is read from eval.json (a dotted path) rather than from
 * the last line of metrics.jsonl. */
int sweep_metric_from_eval(const Sweep *s);

/* JSON. sweep_json_value writes a YAML override text as JSON (numbers, true /
 * false / null, flow sequences as arrays, anything else as a string). */
void sweep_json_value(FILE *f, const char *yaml_text);
/* {"KEY": VALUE, ...} for a trial (no newline). */
void sweep_json_overrides(FILE *f, const Sweep *s, char (*vals)[SWEEP_VALUE_MAX]);
/*
 * The number at a dotted path ("meta_loss", "methods.maml.gap_mean") in the
 * JSON text json: 0 and *out set, or -1 when the path is missing, the text is
 * malformed or the value is not a number (nan / inf literals are accepted).
 */
int sweep_json_number(const char *json, const char *path, double *out);

/* Trial folder states, as written by train / eval / the sweep runner. */
typedef enum {
    TRIAL_DONE = 0,        /* DIR/done exists (and eval.json when the metric needs it) */
    TRIAL_UNFINISHED = 1,  /* started (checkpoint, metrics or status 75), not done */
    TRIAL_FAILED = 2,      /* DIR/status holds an exit status other than 0 / 75 */
    TRIAL_MISSING = 3      /* nothing there yet */
} TrialState;

const char *sweep_state_name(int state);
/* State of trial folder tdir; need_eval: done also requires eval.json. */
int sweep_trial_state(const char *tdir, int need_eval);
/* "DIR/trial-007" */
void sweep_trial_dir(char *out, size_t n, const char *dir, long t);

/*
 * Collect every trial of s from its folder under dir into dir/summary.csv and
 * dir/summary.md: one row per trial (trial, each override, metric, status),
 * finished trials best first per the metric goal, then finished trials
 * without the metric, unfinished, failed and missing ones. summary.md adds,
 * when a parameter named `seed` varies, the mean +- sd of the metric per
 * setting of the other parameters. If echo is non-NULL summary.md is also
 * written there. MG_EFAIL on I/O errors.
 */
int sweep_summary(const Sweep *s, const char *dir, FILE *echo, MgErr *e);

#endif
