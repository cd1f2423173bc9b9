/*
 * train.h — distributed meta-training (one run).
 *
 * The protocol of one meta-iteration (collective over all ranks):
 *   1. the train.meta_batch tasks of iteration `it` are numbered globally
 *      0..B-1 and split over the ranks in balanced contiguous blocks;
 *   2. each rank draws its tasks (counter-based RNG: a pure function of
 *      seed, iteration and global task index), solves their LP instances for
 *      the targets, runs the inner loop and computes each task's
 *      meta-gradient;
 *   3. the per-task gradients and losses are added exactly (xsum.h) and one
 *      int64 allreduce sums them over ranks, together with two control words
 *      (an error flag and the stop-signal flag);
 *   4. every rank decodes the same integers into the same doubles and applies
 *      the same Adam update, so the ranks stay bit-identical and the result
 *      does not depend on the rank count.
 * The root broadcasts the meta-parameters at the start (fresh or resumed).
 */
#ifndef METAGRID_TRAIN_H
#define METAGRID_TRAIN_H

#include "metagrid/common.h"
#include "metagrid/config.h"
#include "metagrid/timer.h"

typedef struct {
    const char *out_dir;  /* run directory (created if missing) */
    int resume;           /* continue from out_dir/checkpoint.bin if present */
    int quiet;            /* no progress output (benchmarks) */
    int write_files;      /* 0: no config.yaml / metrics / checkpoints (bench) */
} TrainOpts;

typedef struct {
    long iters_done;      /* iterations run by this call */
    double wall_s;        /* wall time of this call's iterations */
    double tasks_per_s;
    double final_loss;
    TimerStats timers;    /* over this call, min/mean/max over ranks */
} TrainStats;

/*
 * Run (or resume) training. Collective; every rank returns the same status:
 * MG_OK when train.iterations are done, MG_ESTOP after a signal-triggered
 * checkpoint, MG_EUSAGE for bad input (e.g. a checkpoint of another config),
 * MG_EFAIL for failures (divergence, solver, I/O). e holds the agreed message.
 */
int train_run(const Config *cfg, const TrainOpts *opt, TrainStats *stats, MgErr *e);

#endif
