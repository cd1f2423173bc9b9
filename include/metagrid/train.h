/*
 * train.h — distributed meta-training (one run).
 *
 * The protocol of one meta-iteration (collective over all ranks; the phase
 * functions of train.c in brackets):
 *   1. the train.meta_batch tasks of iteration `it` are numbered globally
 *      0..B-1 and split over the ranks in balanced contiguous blocks
 *      (par_block);
 *   2. each rank draws its tasks (counter-based RNG: a pure function of
 *      seed, iteration and global task index), solves their LP instances for
 *      the targets, runs the inner loop, computes each task's meta-gradient
 *      and adds it exactly into int64 digits (xsum.h) [train_task_grads];
 *   3. a tiny allreduce sums the loss digits with three control words (an
 *      error flag, the stop-signal flag, the LP iterations), and a
 *      reduce-scatter gives each rank the exact sum of its own block of the
 *      parameters (par_blocks) [train_reduce];
 *   4. each rank decodes its block, adds its squares exactly into the global
 *      gradient norm (one more tiny allreduce: the divergence guard), clips,
 *      applies Adam to its block (Adam's moments are sharded the same way),
 *      and an allgather completes the parameters on every rank; decoding is
 *      exact, so the ranks stay bit-identical and the result does not depend
 *      on the rank count [train_update];
 *   5. validation when due [train_validate]; the root appends metrics and
 *      prints progress; checkpoints when due (Adam's moments are gathered
 *      for them) [train_log_checkpoint].
 * The root broadcasts the meta-parameters and Adam's moments at the start
 * (fresh or resumed).
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
