/*
 * bench.h — the benchmarks behind `metagrid bench`.
 *
 * Each takes the arguments after "bench NAME" (argv[0] = NAME), prints JSON
 * lines on stdout (root rank only) and returns an exit status.
 */
#ifndef METAGRID_BENCH_H
#define METAGRID_BENCH_H

int bench_lp(int argc, char **argv);    /* src/bench_lp.c */
int bench_meta(int argc, char **argv);  /* src/bench_meta.c */
int bench_scale(int argc, char **argv); /* src/bench_scale.c */

#endif
