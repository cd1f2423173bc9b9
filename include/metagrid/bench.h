/*
 * bench.h — the benchmarks behind `metagrid bench`.
 *
 * Each takes the arguments after "bench NAME" (argv[0] = NAME), prints JSON
 * lines on stdout (root rank only) and returns an exit status.
 */
#ifndef METAGRID_BENCH_H
#define METAGRID_BENCH_H

#include "metagrid/config.h"
#include "metagrid/learner.h"
#include "metagrid/task.h"

int bench_lp(int argc, char **argv);    /* src/exp/bench_lp.c */
int bench_meta(int argc, char **argv);  /* src/exp/bench_meta.c */
int bench_scale(int argc, char **argv); /* src/exp/bench_scale.c */
int bench_policy(int argc, char **argv); /* src/exp/bench_policy.c */

/*
 * Options shared by `bench meta` and `bench scale`: [CONFIG] [--iterations N]
 * [--set KEY=VALUE]... and --help. Loads CONFIG (default: the shipped
 * configs/DEFAULT_CONFIG) with the overrides into args->cfg and returns
 * MG_OK, -1 after printing usage (root only), or MG_EUSAGE with e filled.
 * args->iters is spec->default_iters unless --iterations is given
 * (>= spec->min_iters).
 */
typedef struct {
    const char *name;           /* "meta", "scale" */
    const char *usage;          /* the --help text */
    const char *default_config; /* a shipped config file name */
    long default_iters;         /* --iterations when not given */
    long min_iters;             /* the least --iterations accepted */
} BenchSpec;
typedef struct {
    char path[4200]; /* CONFIG as given, or the shipped default's path */
    Config cfg;      /* loaded, --set applied, task sizes resolved */
    long iters;      /* --iterations */
} BenchArgs;
int bench_parse_config(int argc, char **argv, const BenchSpec *spec, BenchArgs *args, MgErr *e);

/* The task sampler and learner of cfg, created on every rank, with the error
 * (one already in e included) agreed over ranks (par_agree_error): MG_OK, or
 * the agreed code with *ts and *L NULL. */
int bench_open_learner(const Config *cfg, TaskSampler **ts, Learner **L, MgErr *e);

#endif
