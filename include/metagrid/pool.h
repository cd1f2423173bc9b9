/*
 * pool.h — a pool of solved training tasks (src/tasks/pool.c), so that target
 * generation (GLPK) does not dominate training when instances are costly
 * (the grid family).
 *
 * With train.pool_tasks = P > 0, training task (iter, t) is not drawn fresh:
 * a stream (seed, RNG_POOL, iter, t) picks pool task p ~ U{0..P-1} and
 * k_support + k_query distinct hours of its train.pool_hours = H solved
 * hours (support first). Pool task p is training task (iter 0, task p) of
 * the family with instances 0..H-1 (tasks_draw), solved once per process
 * and kept compact in memory: its costs once, and per hour d, s, the
 * optimum, GLPK's capacity prices, the optimal allocation's non-zeros (and
 * the price head's scaled prices); features and targets are rebuilt from
 * them exactly. The H hours are the task's support hours (task_hours with
 * k_support = H: distinct hours of its 28-day history).
 *
 * On disk (dir non-NULL) each pool task is one file DIR/KEY/task-P.bin,
 * written atomically (temporary file + rename), where KEY is a CRC32 of
 * everything that determines the targets: the seed, every task.* key but
 * k_support / k_query, model.head (resolved), pool_hours, the bytes of the
 * case file (grid), and the format version. A changed config therefore
 * never reuses stale targets, and every run and sweep trial with the same
 * targets shares them. A file that is unreadable, truncated or of another
 * key is regenerated (and rewritten). The pool only changes which tasks
 * training sees; validation and evaluation draw fresh held-out tasks.
 */
#ifndef METAGRID_POOL_H
#define METAGRID_POOL_H

#include <stdint.h>

#include "metagrid/common.h"
#include "metagrid/config.h"
#include "metagrid/task.h"

typedef struct TaskPool TaskPool;

/* Open the pool of train->pool_tasks (> 0) tasks of train->pool_hours hours
 * over sampler ts (not owned; its TaskSetup gives the task section, seed and
 * head). dir: the cache directory (created when first written), or NULL for
 * a pool kept in memory only. MG_EUSAGE when pool_hours < k_support + k_query. */
int pool_open(TaskPool **pool, TaskSampler *ts, const TrainConfig *train, const char *dir,
              MgErr *e);
void pool_close(TaskPool *pool);

/* Training task (iter, task) from the pool: support (k_support rows) and
 * query (k_query rows), like tasks_draw. lp_iters / solve_s of support
 * count the solves this call made (0 when the pool task was ready). */
int pool_make(TaskPool *pool, uint64_t iter, uint64_t task, TaskData *support, TaskData *query,
              MgErr *e);

/* The cache key (CRC32) and the pool tasks loaded from disk / solved so far. */
uint32_t pool_key(const TaskPool *pool);
void pool_counts(const TaskPool *pool, long *loaded, long *solved);

#endif
