/*
 * bench.h — the benchmarks behind `metagrid bench`.
 *
 * Each takes the arguments after "bench NAME" (argv[0] = NAME), prints JSON
 * lines on stdout (root rank only) and returns an exit status.
 */
#ifndef METAGRID_BENCH_H
#define METAGRID_BENCH_H

#include "metagrid/config.h"

int bench_lp(int argc, char **argv);    /* src/exp/bench_lp.c */
int bench_meta(int argc, char **argv);  /* src/exp/bench_meta.c */
int bench_scale(int argc, char **argv); /* src/exp/bench_scale.c */
int bench_policy(int argc, char **argv); /* src/exp/bench_policy.c */

/*
 * Options shared by `bench meta` and `bench scale`: [CONFIG] [--iterations N]
 * [--set KEY=VALUE]... and --help. Loads CONFIG (default: the shipped
 * configs/DEFAULT_CONFIG) with the overrides into cfg and returns MG_OK,
 * -1 after printing usage (root only), or MG_EUSAGE with e filled. *iters
 * keeps its default unless --iterations is given (>= spec->min_iters).
 */
typedef struct {
    const char *name;           /* "meta", "scale" */
    const char *usage;          /* the --help text */
    const char *default_config; /* a shipped config file name */
    long min_iters;             /* the least --iterations accepted */
} BenchSpec;
int bench_parse_config(int argc, char **argv, const BenchSpec *spec, long *iters, Config *cfg,
                       char *path, size_t path_size, MgErr *e);

#endif
