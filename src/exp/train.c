/*
 * train.c — distributed meta-training: the iteration protocol (train.h),
 * checkpoint-and-exit on signals, exact resume, the divergence guard,
 * metrics.jsonl and progress output.
 *
 * Testing hook: METAGRID_INJECT=KIND@ITER[:RANK] makes rank RANK (default 0)
 * misbehave at 0-based iteration ITER (reported as iteration ITER + 1): KIND "nan" poisons its meta-gradient, "fail"
 * raises an error as a failed solve would, "slow" makes its first task take
 * 3 s more (signals do not cut it short). Used by tests/e2e_faults.sh and
 * tests/e2e_signals.sh.
 */
#define _POSIX_C_SOURCE 200809L
#include "metagrid/train.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "metagrid/adam.h"
#include "metagrid/ckpt.h"
#include "metagrid/learner.h"
#include "metagrid/parallel.h"
#include "metagrid/provenance.h"
#include "metagrid/pool.h"
#include "metagrid/task.h"
#include "metagrid/xsum.h"

/* The one piece of global state: set by the signal handler, read at
 * iteration boundaries. */
static volatile sig_atomic_t g_stop_signal = 0;

/* SIGTERM, SIGUSR1 and SIGINT (Ctrl-C) ask for a stop with a checkpoint
 * (phase 1 skips the remaining tasks, phase 2 agrees on the stop). A SIGINT
 * after a stop was already asked for stops at once: the default action
 * (killed by SIGINT, exit 130 in a shell); the last checkpoint written stays
 * valid (checkpoints are written atomically). */
static void train_on_signal(int sig)
{
    if (sig == SIGINT && g_stop_signal != 0) {
        static const char msg[] = "\nmetagrid: interrupted again: stopping at once; the last "
                                  "checkpoint written (if any) is kept\n";
        ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)w;
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        sigaction(SIGINT, &dfl, NULL);
        raise(SIGINT);
        return;
    }
    g_stop_signal = sig;
}

/* Install the flag-setting handlers for SIGTERM, SIGUSR1 and SIGINT, keeping
 * the previous ones in old[3] for train_restore_signals. A SIGINT ignored
 * when the run starts (a background job of a script, nohup) stays ignored. */
static void train_install_signals(struct sigaction *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = train_on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    g_stop_signal = 0;
    sigaction(SIGTERM, &sa, &old[0]);
    sigaction(SIGUSR1, &sa, &old[1]);
    sigaction(SIGINT, NULL, &old[2]);
    if (old[2].sa_handler != SIG_IGN) sigaction(SIGINT, &sa, NULL);
}

static void train_restore_signals(const struct sigaction *old)
{
    sigaction(SIGTERM, &old[0], NULL);
    sigaction(SIGUSR1, &old[1], NULL);
    sigaction(SIGINT, &old[2], NULL);
}

/* The name of the stop signal this rank received ("" if none). */
static const char *train_signal_name(void)
{
    switch (g_stop_signal) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGUSR1: return "SIGUSR1";
    default: return g_stop_signal ? "a signal" : "";
    }
}

/* A live progress line (carriage returns) only on a real terminal: mpirun
 * gives ranks a pseudo-terminal even when its own output goes to a file, so
 * under a launcher plain lines are the default. METAGRID_PROGRESS=live|plain
 * overrides. */
static int train_live_progress(void)
{
    const char *p = getenv("METAGRID_PROGRESS");
    if (p && !strcmp(p, "live")) return 1;
    if (p && !strcmp(p, "plain")) return 0;
    if (getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("SLURM_JOB_ID")) return 0;
    return isatty(STDOUT_FILENO);
}

typedef struct {
    char kind[8];
    long iter;
    int rank;
} Inject;

static void train_parse_inject(Inject *inj)
{
    memset(inj, 0, sizeof *inj);
    inj->iter = -1;
    const char *s = getenv("METAGRID_INJECT");
    if (!s || !*s) return;
    char kind[8] = {0};
    long it = -1;
    int rank = 0;
    if (sscanf(s, "%7[a-z]@%ld:%d", kind, &it, &rank) >= 2) {
        memcpy(inj->kind, kind, sizeof kind);
        inj->iter = it;
        inj->rank = rank;
    }
}

/* The state that a checkpoint carries and all ranks share. */
typedef struct {
    size_t n;           /* meta-parameters */
    double *meta;       /* (n) */
    double *m, *v;      /* (n) Adam moments */
    uint64_t adam_t;
    int64_t iter;       /* iterations completed */
    double wall_prev;   /* wall seconds of earlier segments (before resume) */
    size_t *off, *cnt;  /* (ranks) the parameter shard of each rank (par_blocks) */
} TrainState;

static int train_write_ckpt(const Config *cfg, const TrainOpts *opt, const TrainState *st,
                            double wall_s, const char *cfg_text, MgErr *e)
{
    /* Each rank keeps Adam's moments current on its own shard only. */
    par_allgatherv_d(st->m, st->off, st->cnt);
    par_allgatherv_d(st->v, st->off, st->cnt);
    if (par_is_root() && opt->write_files) {
        Checkpoint ck = {
            .version = CKPT_VERSION,
            .config_hash = config_hash(cfg),
            .iter = st->iter,
            .algo = cfg->algo.name,
            .n_meta = st->n,
            .adam_t = st->adam_t,
            .wall_s = wall_s,
            .config_text = (char *)cfg_text,
            .meta = st->meta,
            .adam_m = st->m,
            .adam_v = st->v,
        };
        ckpt_write(opt->out_dir, &ck, e);
    }
    return par_agree_error(e);
}

/* Keep the lines of metrics.jsonl up to iteration `upto` (resume). */
static int train_trim_metrics(const char *path, int64_t upto, MgErr *e)
{
    size_t len = 0;
    if (access(path, F_OK) != 0) return MG_OK; /* no metrics yet */
    char *text = mg_read_file(path, (size_t)1 << 30, &len, e);
    if (!text) return e->code; /* unreadable: never keep lines past the checkpoint */
    char tmp[CONFIG_PATH_MAX + 64];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = mg_open_out(tmp, "w", e);
    if (!f) {
        free(text);
        return e->code;
    }
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        long long it = -1;
        if (nl) *nl = '\0';
        if (sscanf(line, "{\"iter\":%lld", &it) == 1 && it <= upto)
            fprintf(f, "%.*s\n", (int)n, line);
        if (!nl) break;
        line = nl + 1;
    }
    free(text);
    if (mg_close_out(f, tmp, e) != MG_OK) return e->code;
    if (rename(tmp, path) != 0)
        return mg_fail(e, MG_EFAIL, "%s: cannot rewrite: %s", path, strerror(errno));
    return MG_OK;
}

/* Fresh start or resume: fills st (allocated) identically on every rank. */
static int train_setup_state(const Config *cfg, const TrainOpts *opt, Learner *L,
                             TrainState *st, MgErr *e)
{
    st->n = learner_n_meta(L);
    st->meta = mg_calloc(st->n, sizeof(double));
    st->m = mg_calloc(st->n, sizeof(double));
    st->v = mg_calloc(st->n, sizeof(double));
    int64_t hdr[2] = {0, 0};   /* iter, adam_t */
    double wall = 0.0;
    if (par_is_root()) {
        char path[CONFIG_PATH_MAX + 32];
        mg_path_join(path, sizeof path, opt->out_dir, CKPT_FILE);
        int exists = access(path, F_OK) == 0;
        if (exists && !opt->resume && opt->write_files) {
            mg_fail(e, MG_EUSAGE,
                    "%s already holds a checkpoint: continue it with --resume, "
                    "or choose another --out", opt->out_dir);
        } else if (exists && opt->resume) {
            Checkpoint ck;
            if (ckpt_read(path, &ck, e) == MG_OK &&
                ckpt_check_run_config(&ck, cfg, path, e) == MG_OK) {
                if (ck.n_meta != st->n) {
                    mg_fail(e, MG_EUSAGE, "%s: %llu parameters, this config has %zu", path,
                            (unsigned long long)ck.n_meta, st->n);
                } else {
                    memcpy(st->meta, ck.meta, st->n * sizeof(double));
                    memcpy(st->m, ck.adam_m, st->n * sizeof(double));
                    memcpy(st->v, ck.adam_v, st->n * sizeof(double));
                    hdr[0] = ck.iter;
                    hdr[1] = (int64_t)ck.adam_t;
                    wall = ck.wall_s;
                }
            }
            ckpt_free(&ck);
            char prev[CONFIG_PATH_MAX + 32];
            mg_path_join(prev, sizeof prev, opt->out_dir, CKPT_PREV_FILE);
            size_t used = strlen(e->msg);
            if (e->code && access(prev, F_OK) == 0 && used < sizeof e->msg)
                snprintf(e->msg + used, sizeof e->msg - used,
                         "; the previous checkpoint %.300s may be copied over it to resume from there",
                         prev);
        } else {
            learner_init_meta(L, st->meta, (uint64_t)cfg->seed);
        }
    }
    if (par_agree_error(e)) return e->code;
    par_bcast(hdr, sizeof hdr, 0);
    par_bcast(&wall, sizeof wall, 0);
    par_bcast(st->meta, st->n * sizeof(double), 0);
    par_bcast(st->m, st->n * sizeof(double), 0);
    par_bcast(st->v, st->n * sizeof(double), 0);
    st->iter = hdr[0];
    st->adam_t = (uint64_t)hdr[1];
    st->wall_prev = wall;
    return MG_OK;
}

/* Root: create the run directory, write config.yaml (the provenance as
 * comments, then the resolved config), remove the done
 * marker, start metrics.jsonl (or trim it to the checkpoint on resume). */
static int train_prepare_files(const TrainOpts *opt, const TrainState *st, const char *cfg_text,
                               MgErr *e)
{
    char path[CONFIG_PATH_MAX + 32];
    if (mg_mkdir_p(opt->out_dir) != 0)
        return mg_fail(e, MG_EFAIL, "%s: cannot create directory: %s", opt->out_dir,
                       strerror(errno));
    mg_path_join(path, sizeof path, opt->out_dir, "config.yaml");
    FILE *f = mg_open_out(path, "w", e);
    if (!f) return e->code;
    Provenance prov;
    provenance_get(&prov);
    provenance_write_yaml_comments(&prov, f);
    fputs(cfg_text, f);
    if (mg_close_out(f, path, e) != MG_OK) return e->code;
    mg_path_join(path, sizeof path, opt->out_dir, "done");
    unlink(path);
    mg_path_join(path, sizeof path, opt->out_dir, "metrics.jsonl");
    if (st->iter > 0) return train_trim_metrics(path, st->iter, e);
    return mg_write_text(path, "", e);
}

/*
 * One training run on this rank: the shared state (TrainState), the
 * workspaces of one iteration and the bookkeeping of progress output.
 * train_run_init / train_run_free pair; train_run drives the phases.
 */
typedef struct {
    const Config *cfg;
    const TrainOpts *opt;
    TaskSampler *ts;
    TaskPool *pool;       /* train.pool_tasks > 0: training tasks from the solved pool */
    Learner *L;
    TrainState st;
    TaskData sup, qry;    /* the current task's support and query sets */
    double *grad;         /* (n) one task's meta-gradient */
    int64_t *acc;         /* (n, XSUM_STRIDE) exact sum of this rank's task gradients */
    int64_t *shard;       /* (mlen, XSUM_STRIDE) + 1: the reduced sums of my parameter block */
    double *gsum;         /* (mlen) + 1: the mean gradient of my parameter block */
    size_t mlo, mlen;     /* my parameter block [mlo, mlo + mlen) */
    size_t task_lo, task_hi; /* my tasks [task_lo, task_hi) of every iteration */
    int alone;            /* one rank: acc is already the total (decoded in place) */
    int64_t ctl[XSUM_STRIDE + 3]; /* loss digits, error flag, stop flag, LP iterations */
    FILE *metrics;        /* root: metrics.jsonl, appended */
    char *cfg_text;       /* the resolved config (config.yaml, checkpoints) */
    Timers tm;
    Inject inj;
    struct sigaction old_handlers[3]; /* SIGTERM, SIGUSR1, SIGINT */
    /* results of the current iteration */
    double meta_loss, grad_norm, val_loss;
    long lp_iters;
    int stop, validated;
    /* progress */
    int live;             /* root prints a live (carriage-return) line */
    double t_start, t_window, t_live;
    long tasks_window;    /* tasks since the last logged iteration */
    int64_t first_iter;
} TrainRun;

/* The solved-task pool's cache directory: .pool next to the run directory
 * (runs/NAME -> runs/.pool; a sweep's trials DIR/trial-N -> DIR/.pool, so
 * trials with the same targets share it). */
static void train_pool_dir(const TrainOpts *opt, char *buf, size_t n)
{
    const char *out = opt->out_dir ? opt->out_dir : ".";
    size_t len = strlen(out);
    while (len > 1 && out[len - 1] == '/') len--;
    const char *slash = NULL;
    for (size_t i = 0; i < len; i++)
        if (out[i] == '/') slash = out + i;
    if (!slash) snprintf(buf, n, ".pool");
    else if (slash == out) snprintf(buf, n, "/.pool");
    else snprintf(buf, n, "%.*s/.pool", (int)(slash - out), out);
}

/* Everything that can fail on bad input is checked before the run directory
 * is touched; then the state is set up (fresh or resumed) on every rank, the
 * directory prepared and the workspaces allocated. Collective. */
static int train_run_init(TrainRun *r, const Config *cfg, const TrainOpts *opt, MgErr *e)
{
    memset(r, 0, sizeof *r);
    r->cfg = cfg;
    r->opt = opt;
    r->cfg_text = config_to_string(cfg);
    r->meta_loss = NAN;
    train_parse_inject(&r->inj);
    /* Signals set a flag from the start: one arriving during set-up stops the
     * run at its first iteration boundary, with a checkpoint. */
    train_install_signals(r->old_handlers);
    TaskSetup task_setup = tasks_setup_from(cfg);
    LearnerSetup learner_setup = learner_setup_from(cfg);
    if (tasks_new(&r->ts, &task_setup, e) == MG_OK)
        learner_new(&r->L, &learner_setup, tasks_in_dim(r->ts), tasks_out_dim(r->ts),
                    tasks_head_group(r->ts), e);
    if (e->code == 0 && cfg->train.pool_tasks > 0) {
        char pool_dir[CONFIG_PATH_MAX + 16];
        train_pool_dir(opt, pool_dir, sizeof pool_dir);
        pool_open(&r->pool, r->ts, &cfg->train, opt->write_files ? pool_dir : NULL, e);
    }
    if (par_agree_error(e)) return e->code;
    if (train_setup_state(cfg, opt, r->L, &r->st, e)) return e->code;
    /* A resume with nothing left to do touches no file (the folder may be
     * read-only, e.g. an archived run). */
    const int noop = r->st.iter > 0 && r->st.iter >= cfg->train.iterations;
    if (par_is_root() && opt->write_files && !noop)
        train_prepare_files(opt, &r->st, r->cfg_text, e);
    if (par_agree_error(e)) return e->code;

    /* The update is sharded: the summed gradient is reduce-scattered, each
     * rank decodes and applies Adam to its block of parameters, and an
     * allgather completes the parameters everywhere (the communication of
     * one allreduce; decoding and Adam cost 1/ranks each). */
    const size_t n = r->st.n;
    r->st.off = mg_calloc((size_t)par_size(), sizeof(size_t));
    r->st.cnt = mg_calloc((size_t)par_size(), sizeof(size_t));
    par_blocks(n, r->st.off, r->st.cnt);
    /* oversized models fail here with a message, not in an allocation or
     * an MPI call: the exact sums (XSUM_STRIDE words per parameter) and the
     * MPI counts (int) of one rank's block */
    char what[160];
    snprintf(what, sizeof what, "the exact sums of %zu meta-parameters", n);
    if (mg_mem_check(8.0 * (double)n * (XSUM_STRIDE + 6), what, "reduce model.hidden", e) == MG_OK)
        par_check_count((uint64_t)r->st.cnt[0] * XSUM_STRIDE, "one rank's block of the exact "
                        "sums", "use more ranks or reduce model.hidden", e);
    if (par_agree_error(e)) return e->code;
    r->mlo = r->st.off[par_rank()];
    r->mlen = r->st.cnt[par_rank()];
    r->grad = mg_calloc(n, sizeof(double));
    r->gsum = mg_calloc(r->mlen + 1, sizeof(double));
    r->acc = mg_calloc(n * XSUM_STRIDE, sizeof(int64_t));
    r->alone = par_size() == 1;
    if (!r->alone) r->shard = mg_calloc(r->mlen * XSUM_STRIDE + 1, sizeof(int64_t));
    par_block((size_t)cfg->train.meta_batch, &r->task_lo, &r->task_hi);
    if (par_is_root() && opt->write_files && !noop) {
        char path[CONFIG_PATH_MAX + 32];
        mg_path_join(path, sizeof path, opt->out_dir, "metrics.jsonl");
        r->metrics = mg_open_out(path, "a", e);
    }
    r->live = par_is_root() && !opt->quiet && train_live_progress();
    r->first_iter = r->st.iter;
    return par_agree_error(e);
}

static void train_run_free(TrainRun *r)
{
    if (r->metrics) fclose(r->metrics);
    taskdata_free(&r->sup);
    taskdata_free(&r->qry);
    free(r->grad);
    free(r->gsum);
    free(r->acc);
    free(r->shard);
    free(r->st.off);
    free(r->st.cnt);
    free(r->st.meta);
    free(r->st.m);
    free(r->st.v);
    free(r->cfg_text);
    learner_destroy(r->L);
    pool_close(r->pool);
    tasks_destroy(r->ts);
    train_restore_signals(r->old_handlers);
}

/* METAGRID_INJECT: does KIND strike this rank at iteration it? */
static int train_injected(const TrainRun *r, int64_t it, const char *kind)
{
    return r->inj.iter == it && r->inj.rank == par_rank() && !strcmp(r->inj.kind, kind);
}

/*
 * Phase 1 (README data flow, steps 1-4 up to the reduction): for each of
 * this rank's tasks of iteration it, draw the task and solve its instances
 * (tasks_draw), compute its meta-gradient (learner_task_grad) and add it
 * exactly into acc, its loss into ctl. A failure stops the loop; it is
 * agreed over ranks by the reduction that follows.
 */
static void train_task_grads(TrainRun *r, int64_t it, MgErr *e)
{
    const Config *cfg = r->cfg;
    const size_t n = r->st.n;
    memset(r->acc, 0, n * XSUM_STRIDE * sizeof(int64_t));
    memset(r->ctl, 0, sizeof r->ctl);
    long lp_iters = 0;
    for (size_t t = r->task_lo; t < r->task_hi && !g_stop_signal; t++) {
        timer_start(&r->tm, TM_SAMPLE);
        TaskRequest rq = {.stream = STREAM_TRAIN, .iter = (uint64_t)it, .task = (uint64_t)t,
                          .k_support = cfg->task.k_support, .k_query = cfg->task.k_query};
        int rc = r->pool ? pool_make(r->pool, (uint64_t)it, (uint64_t)t, &r->sup, &r->qry, e)
                         : tasks_draw(r->ts, &rq, &r->sup, &r->qry, e);
        timer_stop(&r->tm, TM_SAMPLE);
        if (rc == MG_OK && train_injected(r, it, "fail"))
            rc = mg_fail(e, MG_EFAIL, "injected failure at iteration %lld, task %zu (rank %d)",
                         (long long)it + 1, t, par_rank());
        if (rc == MG_OK && t == r->task_lo && train_injected(r, it, "slow")) {
            struct timespec pause = {3, 0};
            while (nanosleep(&pause, &pause) != 0 && errno == EINTR) continue;
        }
        if (rc != MG_OK) break;
        lp_iters += r->sup.lp_iters + r->qry.lp_iters;
        timer_start(&r->tm, TM_LEARN);
        double loss = learner_task_grad(r->L, r->st.meta, &r->sup, &r->qry, r->grad);
        timer_stop(&r->tm, TM_LEARN);
        if (train_injected(r, it, "nan")) r->grad[0] = NAN;
        timer_start(&r->tm, TM_ENCODE);
        xsum_add(r->acc, r->grad, n);
        xsum_add(r->ctl, &loss, 1);
        timer_stop(&r->tm, TM_ENCODE);
    }
    r->ctl[XSUM_STRIDE] = e->code != 0;
    r->ctl[XSUM_STRIDE + 1] = g_stop_signal != 0;
    r->ctl[XSUM_STRIDE + 2] = lp_iters;
}

/*
 * Phase 2 (step 4): the exact reduction. A tiny allreduce sums the loss
 * digits with the error flag, the stop flag and the LP iterations; a
 * reduce-scatter gives each rank the exact sums of its parameter block.
 * Returns the agreed error.
 */
static int train_reduce(TrainRun *r, MgErr *e)
{
    timer_start(&r->tm, TM_ALLREDUCE);
    par_allreduce_sum_i64(r->ctl, XSUM_STRIDE + 3);
    r->lp_iters = (long)r->ctl[XSUM_STRIDE + 2]; /* all ranks' simplex iterations */
    if (r->ctl[XSUM_STRIDE]) {
        timer_stop(&r->tm, TM_ALLREDUCE);
        return par_agree_error(e);
    }
    if (r->ctl[XSUM_STRIDE + 1]) {
        /* A stop signal on some rank: this iteration (its tasks may be
         * incomplete) is dropped; train_stop saves the last completed one. */
        timer_stop(&r->tm, TM_ALLREDUCE);
        r->stop = 1;
        return MG_OK;
    }
    if (!r->alone) par_reduce_scatter_sum_i64(r->acc, r->shard, r->st.off, r->st.cnt, XSUM_STRIDE);
    timer_stop(&r->tm, TM_ALLREDUCE);
    return MG_OK;
}

/* After a stop: checkpoint the state after the last completed iteration.
 * The stop thus waits for one task, not a whole iteration (mpirun SIGKILLs
 * the ranks 1 s after its SIGTERM). Collective. */
static int train_stop(TrainRun *r, MgErr *e)
{
    timer_start(&r->tm, TM_CKPT);
    int rc = train_write_ckpt(r->cfg, r->opt, &r->st, r->st.wall_prev + (mg_now() - r->t_start),
                              r->cfg_text, e);
    timer_stop(&r->tm, TM_CKPT);
    return rc;
}

/* The mean gradient of my block decoded into gsum; returns the exact global
 * norm of the mean gradient (NaN when a gradient was not finite, INFINITY
 * when it overflows), *nonfinite the count of non-finite values. */
static double train_decode_norm(TrainRun *r, int64_t *nonfinite)
{
    const int B = r->cfg->train.meta_batch;
    int64_t red[XSUM_STRIDE + 1]; /* squared-norm digits, non-finite count */
    xsum_to_double(r->alone ? r->acc : r->shard, r->gsum, r->mlen);
    memset(red, 0, sizeof red);
    for (size_t i = 0; i < r->mlen; i++) {
        r->gsum[i] /= B;
        /* squares of g * 2^-32 (exact scaling) stay below 2^63 for any
         * |g| < 2^63; carries are folded every 2^20 terms so the digits
         * never overflow however many parameters there are */
        double gs = r->gsum[i] * 0x1p-32, sq = gs * gs;
        red[XSUM_STRIDE] += !isfinite(r->gsum[i]);
        xsum_add(red, &sq, 1);
        if ((i & 0xfffff) == 0xfffff) xsum_normalize(red, 1);
    }
    xsum_normalize(red, 1);
    par_allreduce_sum_i64(red, XSUM_STRIDE + 1);
    double gnorm;
    xsum_to_double(red, &gnorm, 1);
    gnorm = sqrt(gnorm) * 0x1p32; /* NaN when a gradient was not finite */
    if (isnan(gnorm) && red[XSUM_STRIDE] == 0) gnorm = INFINITY; /* |g| >= 2^63.5 */
    *nonfinite = red[XSUM_STRIDE];
    return gnorm;
}

/*
 * Phase 3 (step 5): the update. Decode my block, the exact global norm
 * (divergence guard), clipping, Adam on my block, the allgather of the
 * parameters, and the periodic check that the ranks agree bit for bit.
 */
static int train_update(TrainRun *r, int64_t it, MgErr *e)
{
    const Config *cfg = r->cfg;
    TrainState *st = &r->st;
    timer_start(&r->tm, TM_UPDATE);
    xsum_to_double(r->ctl, &r->meta_loss, 1);
    r->meta_loss /= cfg->train.meta_batch;
    int64_t nonfinite;
    r->grad_norm = train_decode_norm(r, &nonfinite);
    if (!isfinite(r->meta_loss) || nonfinite != 0) {
        timer_stop(&r->tm, TM_UPDATE);
        return mg_fail(e, MG_EFAIL,
                       "diverged at iteration %lld: non-finite meta-%s; the last good checkpoint "
                       "(if any) is kept in %s",
                       (long long)it + 1, isfinite(r->meta_loss) ? "gradient" : "loss",
                       r->opt->write_files ? r->opt->out_dir : "memory");
    }
    if (cfg->train.clip > 0.0 && !(r->grad_norm <= cfg->train.clip)) {
        double scale = isfinite(r->grad_norm) ? cfg->train.clip / r->grad_norm : 0.0;
        for (size_t i = 0; i < r->mlen; i++) r->gsum[i] *= scale;
    }
    adam_step(st->meta + r->mlo, r->gsum, st->m + r->mlo, st->v + r->mlo, r->mlen,
              cfg->train.meta_lr, &st->adam_t);
    timer_stop(&r->tm, TM_UPDATE);
    timer_start(&r->tm, TM_ALLREDUCE);
    par_allgatherv_d(st->meta, st->off, st->cnt);
    timer_stop(&r->tm, TM_ALLREDUCE);
    st->iter = it + 1;
    r->tasks_window += cfg->train.meta_batch;
    if (cfg->train.sync_check > 0 && st->iter % cfg->train.sync_check == 0) {
        double crc = (double)crc32(0L, (const Bytef *)st->meta, (uInt)(st->n * sizeof(double)));
        double lohi[2] = {crc, -crc};
        par_allreduce_min_d(lohi, 2);
        if (lohi[0] != -lohi[1])
            return mg_fail(e, MG_EFAIL, "ranks out of sync after iteration %lld",
                           (long long)st->iter);
    }
    return MG_OK;
}

/* Validation loss: mean query loss after adaptation over the fixed
 * validation tasks (exact, rank-count independent). */
static double train_validation_loss(TrainRun *r, MgErr *e)
{
    const Config *cfg = r->cfg;
    size_t lo, hi;
    par_block((size_t)cfg->train.val_tasks, &lo, &hi);
    int64_t acc[XSUM_STRIDE + 1];
    memset(acc, 0, sizeof acc);
    for (size_t t = lo; t < hi && !e->code; t++) {
        TaskRequest rq = {.stream = STREAM_VAL, .iter = 0, .task = (uint64_t)t,
                          .k_support = cfg->task.k_support, .k_query = cfg->task.k_query};
        if (tasks_draw(r->ts, &rq, &r->sup, &r->qry, e) != MG_OK) break;
        double loss = learner_task_grad(r->L, r->st.meta, &r->sup, &r->qry, r->grad);
        xsum_add(acc, &loss, 1);
    }
    acc[XSUM_STRIDE] = e->code != 0;
    par_allreduce_sum_i64(acc, XSUM_STRIDE + 1);
    if (acc[XSUM_STRIDE]) return NAN;
    double s;
    xsum_to_double(acc, &s, 1);
    return s / cfg->train.val_tasks;
}

/* Phase 4 (step 6, first half): validation when due. */
static int train_validate(TrainRun *r, MgErr *e)
{
    const Config *cfg = r->cfg;
    r->val_loss = NAN;
    r->validated = cfg->train.val_every > 0 && r->st.iter % cfg->train.val_every == 0;
    if (!r->validated) return MG_OK;
    timer_start(&r->tm, TM_VAL);
    r->val_loss = train_validation_loss(r, e);
    timer_stop(&r->tm, TM_VAL);
    return par_agree_error(e);
}

static void train_fmt_eta(char *buf, size_t n, double s)
{
    if (!isfinite(s) || s < 0) s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

/* Root: the progress line. A logged iteration prints the full line (tasks/s
 * over the window, val_loss when validated; tps >= 0), the live line between
 * log iterations a short one (tps < 0). */
static void train_print_progress(TrainRun *r, double now, double tps)
{
    const int64_t total = r->cfg->train.iterations, done = r->st.iter;
    char eta[32], val[48] = "", rate[40] = "";
    train_fmt_eta(eta, sizeof eta,
                  (now - r->t_start) / (double)(done - r->first_iter) * (double)(total - done));
    if (tps >= 0 && r->validated) snprintf(val, sizeof val, "  val_loss %.6g", r->val_loss);
    if (tps >= 0) snprintf(rate, sizeof rate, "  tasks/s %.1f", tps);
    printf("%siter %lld/%lld  meta_loss %.6g%s%s  eta %s%s", r->live ? "\r" : "", (long long)done,
           (long long)total, r->meta_loss, val, rate, eta, r->live ? "\033[K" : "\n");
    fflush(stdout);
    r->t_live = now;
}

/* Root: one line of metrics.jsonl; write failures go to e. */
static void train_write_metrics(TrainRun *r, double wall, double tps, const TimerStats *tsx,
                                MgErr *e)
{
    FILE *f = r->metrics;
    fprintf(f,
            "{\"iter\":%lld,\"meta_loss\":%.9g,\"wall_s\":%.6f,\"tasks_per_s\":%.6g,"
            "\"grad_norm\":%.6g,\"lp_iters\":%ld,",
            (long long)r->st.iter, r->meta_loss, wall, tps,
            isfinite(r->grad_norm) ? r->grad_norm : 1e308, r->lp_iters);
    if (r->validated && isfinite(r->val_loss)) fprintf(f, "\"val_loss\":%.9g,", r->val_loss);
    else if (r->validated) fputs("\"val_loss\":null,", f);
    timers_write_json(tsx, f);
    fputs("}\n", f);
    if (fflush(f) != 0 || ferror(f))
        mg_fail(e, MG_EFAIL, "%s/metrics.jsonl: write failed: %s", r->opt->out_dir,
                strerror(errno));
}

/* Phase 5 (step 6): metrics and progress at log iterations (and the last,
 * a stop, a validation), a live progress line in between; then the
 * checkpoint when due. Write failures are agreed over ranks. */
static int train_log_checkpoint(TrainRun *r, MgErr *e)
{
    const Config *cfg = r->cfg;
    const int64_t iter = r->st.iter, total = cfg->train.iterations;
    int do_log = (cfg->train.log_every > 0 && iter % cfg->train.log_every == 0) ||
                 iter == total || r->stop || r->validated;
    double now = mg_now();
    double wall = r->st.wall_prev + (now - r->t_start);
    if (do_log) {
        double tps = r->tasks_window / fmax(now - r->t_window, 1e-9);
        TimerStats tsx;
        timers_reduce(&r->tm, &tsx); /* collective */
        if (r->metrics) train_write_metrics(r, wall, tps, &tsx, e);
        if (par_agree_error(e)) return e->code; /* at log iterations only */
        if (par_is_root() && !r->opt->quiet) train_print_progress(r, now, tps);
        r->t_window = now;
        r->tasks_window = 0;
    } else if (r->live && now - r->t_live > 0.25) {
        train_print_progress(r, now, -1.0);
    }
    int do_ckpt = r->stop || (cfg->train.checkpoint_every > 0 &&
                              iter % cfg->train.checkpoint_every == 0 && iter < total);
    if (!do_ckpt) return MG_OK;
    timer_start(&r->tm, TM_CKPT);
    int rc = train_write_ckpt(cfg, r->opt, &r->st, wall, r->cfg_text, e);
    timer_stop(&r->tm, TM_CKPT);
    return rc;
}

/* After the loop: the stop message, or the final checkpoint, the done
 * marker and the summary. */
static int train_finish(TrainRun *r, TrainStats *stats, MgErr *e)
{
    const Config *cfg = r->cfg;
    const TrainOpts *opt = r->opt;
    stats->iters_done = (long)(r->st.iter - r->first_iter);
    stats->wall_s = mg_now() - r->t_start;
    stats->tasks_per_s = stats->iters_done * (double)cfg->train.meta_batch / fmax(stats->wall_s, 1e-9);
    stats->final_loss = r->meta_loss;
    timers_reduce(&r->tm, &stats->timers);
    if (r->stop) { /* the command layer prints this with the command that continues */
        const char *sig = train_signal_name();
        return mg_fail(e, MG_ESTOP, "stopped by signal after iteration %lld of %lld (%s); "
                       "checkpoint written to %s/%s", (long long)r->st.iter,
                       (long long)cfg->train.iterations, *sig ? sig : "received by another rank",
                       opt->write_files ? opt->out_dir : "(no files)", CKPT_FILE);
    }
    /* The final checkpoint (unless this call ran nothing and one exists:
     * rewriting it would replace checkpoint.prev.bin with the same state; a
     * fresh run of 0 iterations writes its initialisation), then the marker
     * (kept as it is when nothing ran). */
    char path[CONFIG_PATH_MAX + 32];
    int missing[2] = {0, 0}; /* checkpoint.bin, done */
    if (par_is_root() && opt->write_files) {
        mg_path_join(path, sizeof path, opt->out_dir, CKPT_FILE);
        missing[0] = access(path, F_OK) != 0;
        mg_path_join(path, sizeof path, opt->out_dir, "done");
        missing[1] = access(path, F_OK) != 0;
    }
    par_bcast(missing, sizeof missing, 0);
    if ((stats->iters_done > 0 || missing[0]) &&
        train_write_ckpt(cfg, opt, &r->st, r->st.wall_prev + stats->wall_s, r->cfg_text, e))
        return e->code;
    if (par_is_root() && opt->write_files && (stats->iters_done > 0 || missing[1]))
        mg_write_text(path, "", e);
    if (par_agree_error(e)) return e->code;
    if (!par_is_root() || opt->quiet) return MG_OK;
    if (stats->iters_done == 0 && missing[0]) {
        printf("metagrid train: train.iterations is %lld: the initial parameters are in %s/%s\n",
               (long long)cfg->train.iterations, opt->write_files ? opt->out_dir : "(no files)",
               CKPT_FILE);
        return MG_OK;
    }
    if (stats->iters_done == 0) {
        printf("metagrid train: nothing to do, already at iteration %lld of %lld (raise "
               "train.iterations to continue)\n",
               (long long)r->st.iter, (long long)cfg->train.iterations);
        return MG_OK;
    }
    printf("metagrid train: done, %lld iterations, final meta_loss %.6g, %.1f tasks/s\n",
           (long long)r->st.iter, r->meta_loss, stats->tasks_per_s);
    printf("  %-10s %10s %10s %10s   (seconds over ranks)\n", "phase", "min", "mean", "max");
    for (int i = 0; i < TM_COUNT; i++)
        printf("  %-10s %10.3f %10.3f %10.3f\n", timer_name((TimerId)i), stats->timers.min[i],
               stats->timers.mean[i], stats->timers.max[i]);
    return MG_OK;
}

int train_run(const Config *cfg, const TrainOpts *opt, TrainStats *stats, MgErr *e)
{
    TrainRun r;
    memset(stats, 0, sizeof *stats);
    if (train_run_init(&r, cfg, opt, e) != MG_OK) goto done;
    if (par_is_root() && !opt->quiet) {
        printf("metagrid train: %s, %d rank%s, %s, %zu meta-parameters, iterations %lld..%lld -> %s\n",
               config_algo_name(cfg->algo.name), par_size(), par_size() > 1 ? "s" : "",
               config_family_name(cfg->task.family), r.st.n, (long long)r.st.iter,
               (long long)cfg->train.iterations, opt->write_files ? opt->out_dir : "(no files)");
        fflush(stdout);
    }
    r.t_start = r.t_window = mg_now();
    /* One meta-iteration = the README's data flow, one phase call per step. */
    while (r.st.iter < cfg->train.iterations && !r.stop) {
        const int64_t it = r.st.iter; /* 0-based index of this iteration */
        train_task_grads(&r, it, e);            /* sample + solve, task gradients */
        if (train_reduce(&r, e)) goto done;     /* exact reduction over ranks */
        if (r.stop) {                           /* a signal: checkpoint, stop */
            if (train_stop(&r, e)) goto done;
            break;
        }
        if (train_update(&r, it, e)) goto done; /* norm, clip, Adam, allgather */
        if (train_validate(&r, e)) goto done;   /* validation loss when due */
        if (train_log_checkpoint(&r, e)) goto done; /* metrics, progress, checkpoint */
    }
    if (r.live) putchar('\n');
    train_finish(&r, stats, e);
done:
    train_run_free(&r);
    return e->code;
}
