/*
 * timer.h — named phase timers with min / mean / max over ranks.
 *
 * A Timers struct accumulates seconds per phase (an enum of handles plus
 * names, as in CoMD's performanceTimers). timers_reduce is collective.
 */
#ifndef METAGRID_TIMER_H
#define METAGRID_TIMER_H

#include <stdio.h>

typedef enum {
    TM_SAMPLE = 0, /* drawing tasks and solving their LPs for targets */
    TM_LEARN,      /* inner loop + meta-gradient (learner_task_grad) */
    TM_ENCODE,     /* exact fixed-point encoding of the task gradients (xsum_add) */
    TM_ALLREDUCE,  /* the meta-gradient allreduce (includes waiting) */
    TM_UPDATE,     /* decode, clip, Adam */
    TM_CKPT,       /* checkpoint writes */
    TM_VAL,        /* periodic validation */
    TM_COUNT
} TimerId;

typedef struct {
    double total[TM_COUNT]; /* seconds accumulated on this rank */
    double start[TM_COUNT];
} Timers;

typedef struct {
    double min[TM_COUNT], mean[TM_COUNT], max[TM_COUNT];
} TimerStats;

const char *timer_name(TimerId id);
void timer_start(Timers *t, TimerId id);
void timer_stop(Timers *t, TimerId id);
/* Collective: statistics of t->total over ranks. */
void timers_reduce(const Timers *t, TimerStats *out);
/* JSON fragment: "t_sample":{"min":..,"mean":..,"max":..},... (no braces). */
void timers_write_json(const TimerStats *s, FILE *f);

#endif
