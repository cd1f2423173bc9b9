/*
 * eval_internal.h — what eval.c (the run: set-up, the walk over tasks, the
 * rank-independent reduction) and eval_methods.c (the methods and the
 * per-hour pipeline) share: one rank's context and a method's columns.
 * Private to src/exp; the public interface is include/metagrid/eval.h.
 */
#ifndef METAGRID_EVAL_INTERNAL_H
#define METAGRID_EVAL_INTERNAL_H

#include "metagrid/ckpt.h"
#include "metagrid/eval.h"
#include "metagrid/learner.h"
#include "metagrid/lp.h"
#include "metagrid/policy.h"
#include "metagrid/task.h"
#include "metagrid/transport.h"

/* Columns of one method (pointers into the shared buffer). */
typedef struct {
    double *mse;   /* (T*Q) per-hour squared error (mean over outputs) */
    double *gap;   /* (T*Q) relative gap of the final allocation, before fallback */
    double *gap0;  /* (T*Q) relative gap after repair, before polish */
    double *vraw;  /* (T*Q) largest relative violation before repair */
    double *viol;  /* (T*Q) after repair */
    double *feas;  /* (T*Q) 1 if feasible after repair */
    double *lat;   /* (T*Q) seconds for the hour, certificate and fallback included */
    double *latp;  /* (T*Q) seconds of it spent in alloc_polish */
    double *prop;  /* (T*Q) seconds before the certificate (propose + repair + polish) */
    double *cost;  /* (T*Q) cost returned, after any fallback */
    double *lb;    /* (T*Q) the certificate's lower bound */
    double *cg;    /* (T*Q) certified gap before fallback */
    double *fb;    /* (T*Q) 1 if re-solved by the warm solver */
    double *adapt; /* (T) seconds of adaptation */
    double *steps; /* (T*n_by_step) query loss by adaptation step */
} Cols;
#define EVAL_HOUR_COLS 13

/* Everything one rank needs while it walks its tasks. */
typedef struct {
    const Config *cfg;
    int T, Q, K, lp, n, m, in_dim, out_dim;
    Learner *L[EVAL_MAX_CKPT];
    Config ckcfg[EVAL_MAX_CKPT];
    Checkpoint ck[EVAL_MAX_CKPT];
    int prices[EVAL_MAX_CKPT];    /* the checkpoint's network has the price head */
    double *theta[EVAL_MAX_CKPT]; /* (n_theta) adapted parameters */
    Policy *pol[EVAL_MAX_CKPT];   /* LP: inference form of each checkpoint's network */
    double *theta0;               /* (n_theta of L[0]) scratch init */
    double *p, *xr, *y, *work, *xg, *yt; /* per-hour scratch (nm each; p: out_dim + nm) */
    double *lam, *v;              /* (m) prices, GLPK duals */
    double *feat;                 /* (n+m) an hour's (d, s) features */
    double *mean;                 /* (nm) support_mean's split */
    void *pwork, *cwork;          /* alloc_polish and cert_decode workspaces */
    LpSolver *solver, *warm, *fb; /* cold, solver_warm, fallback */
    TransportSolver *tr;          /* simplex_warm, simplex_nearest */
    Cols col[EVAL_MAX_METHODS];
    double *suplam;               /* (K*m) simplex_nearest: the support hours' own prices */
    double *opt, *supsolve, *prime, *sprime, *nprime; /* shared: (T*Q), (T) x 4 */
} Ctx;

/* One method on one task: the task's rows and the method's columns. */
typedef struct {
    const TaskData *sd; /* support hours (the history) */
    const TaskData *qd; /* query hours */
    int t;              /* task index */
    const Cols *c;      /* the method's columns */
} MethodTask;

/* The methods on one task (eval_methods.c); each fills its columns' rows
 * of task mt->t and returns MG_OK or an error. */
int eval_learned(Ctx *x, const MethodTask *mt, int ckpt, const double *theta, double loss,
                 MgErr *e);
int eval_baseline(Ctx *x, int kind, const MethodTask *mt, MgErr *e);
int eval_solver(Ctx *x, int warm, const MethodTask *mt, MgErr *e);
int eval_simplex(Ctx *x, int warm, const MethodTask *mt, MgErr *e);
/* Adapt checkpoint ckpt's network (from init, or its θ0 when NULL). */
void eval_adapt(Ctx *x, const MethodTask *mt, int ckpt, const double *init, int steps);

#endif
