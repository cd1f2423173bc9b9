/*
 * timer.c — phase timers (see timer.h).
 */
#include "metagrid/timer.h"

#include "metagrid/common.h"
#include "metagrid/parallel.h"

static const char *const timer_names[TM_COUNT] = {
    "sample", "learn", "encode", "allreduce", "update", "ckpt", "val",
};

const char *timer_name(TimerId id) { return timer_names[id]; }

void timer_start(Timers *t, TimerId id) { t->start[id] = mg_now(); }

void timer_stop(Timers *t, TimerId id) { t->total[id] += mg_now() - t->start[id]; }

void timers_reduce(const Timers *t, TimerStats *out)
{
    for (int i = 0; i < TM_COUNT; i++)
        out->min[i] = out->max[i] = out->mean[i] = t->total[i];
    par_allreduce_min_d(out->min, TM_COUNT);
    par_allreduce_max_d(out->max, TM_COUNT);
    par_allreduce_sum_d(out->mean, TM_COUNT);
    for (int i = 0; i < TM_COUNT; i++) out->mean[i] /= par_size();
}

void timers_write_json(const TimerStats *s, FILE *f)
{
    for (int i = 0; i < TM_COUNT; i++)
        fprintf(f, "%s\"t_%s\":{\"min\":%.6g,\"mean\":%.6g,\"max\":%.6g}", i ? "," : "",
                timer_names[i], s->min[i], s->mean[i], s->max[i]);
}
