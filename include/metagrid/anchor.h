/*
 * anchor.h — the price head's anchor features (model.anchor: nearest;
 * src/tasks/anchor.c; tasks layer).
 *
 * The anchor of an instance is the GLPK capacity prices of the support hour
 * most similar to it — the smallest squared distance between their demand /
 * capacity features (task_features_ds, the first n + m inputs) — divided by
 * the instance's mean cost (the price head's units, mlp.h). A support row's
 * own anchor comes from the nearest *other* support hour (leave one out: its
 * own prices are its target); with no other hour it is 0. They fill the last
 * m inputs of every row, and the network corrects them (mlp.h: anchor).
 */
#ifndef METAGRID_ANCHOR_H
#define METAGRID_ANCHOR_H

#include "metagrid/task.h"

/* The support row nearest to the features f (n + m) among sup's rows,
 * skipping row `skip` (-1: none); -1 when there is no candidate. */
int anchor_nearest(const TaskData *sup, const double *f, int skip);

/* The anchor (m) of one instance with features f (n + m) and costs c (n*m). */
void anchor_of(const TaskData *sup, const double *f, const double *c, int skip, double *a);

/* Fill the anchor block (the last m of in_dim columns) of every row of sup
 * (leave one out) and of qry (may be NULL) from sup's solved hours. */
void anchor_fill(TaskData *sup, TaskData *qry);
/* Zero the anchor block of every row of td (NULL: nothing): a draw of
 * support or query alone (the pool's generation of H hours, bench lp) gets
 * no anchors — filling H support rows would cost O(H^2 (n + m)) for
 * nothing; the pool fills them when it draws a task. */
void anchor_clear(TaskData *td);

#endif
