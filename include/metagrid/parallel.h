/*
 * parallel.h — the only window onto MPI.
 *
 * src/dist/parallel.c is the only file that includes <mpi.h>. Built with
 * -DMG_SERIAL it becomes a one-rank implementation with the same API, so the
 * unit tests and tools build and run without mpirun.
 *
 * All functions here are collective unless marked "local".
 */
#ifndef METAGRID_PARALLEL_H
#define METAGRID_PARALLEL_H

#include <stddef.h>
#include <stdint.h>

#include "metagrid/common.h"

/* Initialise MPI (singleton or under mpirun/srun). Safe to call once. */
void par_init(int *argc, char ***argv);
/* Finalise MPI and exit every rank with status; never returns. */
_Noreturn void par_exit(int status);
void par_finalize(void);

int par_rank(void);             /* local */
int par_size(void);             /* local */
int par_is_root(void);          /* local: rank 0 */
/* Local: the MPI library in use ("Open MPI v4.1.4"), before par_init the one
 * compiled against, or "serial" (the -DMG_SERIAL build). */
const char *par_library(void);

void par_barrier(void);
void par_bcast(void *buf, size_t bytes, int root);
/* Element-wise sums over ranks, in place. */
void par_allreduce_sum_d(double *buf, size_t n);
void par_allreduce_sum_i64(int64_t *buf, size_t n);
/* Element-wise min / max over ranks, in place. */
void par_allreduce_min_d(double *buf, size_t n);
void par_allreduce_max_d(double *buf, size_t n);
/* Largest value of an int over ranks. */
int par_max_int(int v);
/* Gather one double per rank on every rank: out has par_size() entries. */
void par_allgather_d(double v, double *out);

/* The one block decomposition of the project (tasks of an iteration,
 * validation and evaluation tasks, parameter shards): rank r of P owns
 * items [lo, hi) of n, balanced (the first n % P ranks one more) and
 * contiguous; ranks beyond n own nothing. Local. */
void par_block_of(size_t n, int rank, int size, size_t *lo, size_t *hi);
/* This rank's block of n items. */
void par_block(size_t n, size_t *lo, size_t *hi);
/* Every rank's block, as used by the sharded collectives below: rank r owns
 * elements [off[r], off[r] + cnt[r]). off and cnt have par_size() entries. */
void par_blocks(size_t n, size_t *off, size_t *cnt);

/* Reduce-scatter (sum) of int64: every rank passes the full vector send
 * (n_total = sum of counts*stride entries) and receives in recv the sum over
 * ranks of its own block [off[r]*stride, (off[r]+cnt[r])*stride). */
void par_reduce_scatter_sum_i64(const int64_t *send, int64_t *recv, const size_t *off,
                                const size_t *cnt, size_t stride);

/* MPI counts are int: MG_OK if a collective of `count` elements fits, else
 * MG_EUSAGE "WHAT: COUNT elements, more than MPI's int counts (2^31 - 1):
 * FIX". Checked before the collectives, which refuse larger counts. */
int par_check_count(uint64_t count, const char *what, const char *fix, MgErr *e);

/* Allgather of doubles in place: each rank's block [off[r], off[r]+cnt[r])
 * of buf is sent to every rank, so afterwards buf is complete everywhere. */
void par_allgatherv_d(double *buf, const size_t *off, const size_t *cnt);

/*
 * Error agreement. Every rank passes its own record (code 0 = fine). Returns
 * the largest code over ranks; on every rank, e is replaced by the record of
 * the lowest rank holding that code, so exactly one message (printed by the
 * root alone via par_report_err) describes the failure and all ranks can
 * leave with the same status.
 */
int par_agree_error(MgErr *e);
/* Root prints the (agreed) error; other ranks stay quiet. */
void par_report_err(const MgErr *e);

/* Root-only stdout printing helper: printf that does nothing off the root. */
void par_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
