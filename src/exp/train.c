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
#include "metagrid/task.h"
#include "metagrid/xsum.h"

/* The one piece of global state: set by the signal handler, read at
 * iteration boundaries. */
static volatile sig_atomic_t g_stop_signal = 0;

/* SIGTERM, SIGUSR1 and SIGINT (Ctrl-C) ask for a checkpoint at the next
 * iteration boundary. A SIGINT after a stop was already asked for stops at
 * once: the default action (killed by SIGINT, exit 130 in a shell); the last
 * checkpoint written stays valid (checkpoints are written atomically). */
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

/* Balanced contiguous block [lo, hi) of `total` items for `rank` of `size`. */
static void train_block(long total, int rank, int size, long *lo, long *hi)
{
    long base = total / size, extra = total % size;
    *lo = rank * base + (rank < extra ? rank : extra);
    *hi = *lo + base + (rank < extra ? 1 : 0);
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
    FILE *f = fopen(tmp, "w");
    if (!f) {
        free(text);
        return mg_fail(e, MG_EFAIL, "%s: cannot write: %s", tmp, strerror(errno));
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
    int bad = fclose(f) != 0;
    if (bad || rename(tmp, path) != 0)
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
                ckpt_check_config(&ck, config_hash(cfg), path, e) == MG_OK) {
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

/* Root: create the run directory, write config.yaml, start metrics.jsonl. */
static int train_prepare_dir(const Config *cfg, const TrainOpts *opt, const TrainState *st,
                             const char *cfg_text, MgErr *e)
{
    if (par_is_root() && opt->write_files) {
        char path[CONFIG_PATH_MAX + 32];
        if (mg_mkdir_p(opt->out_dir) != 0) {
            mg_fail(e, MG_EFAIL, "%s: cannot create directory: %s", opt->out_dir, strerror(errno));
        } else {
            mg_path_join(path, sizeof path, opt->out_dir, "config.yaml");
            FILE *f = fopen(path, "w");
            if (!f || fputs(cfg_text, f) < 0 || fclose(f) != 0)
                mg_fail(e, MG_EFAIL, "%s: cannot write: %s", path, strerror(errno));
            mg_path_join(path, sizeof path, opt->out_dir, "done");
            unlink(path);
            mg_path_join(path, sizeof path, opt->out_dir, "metrics.jsonl");
            if (st->iter > 0) train_trim_metrics(path, st->iter, e);
            else {
                FILE *m = fopen(path, "w");
                if (!m) mg_fail(e, MG_EFAIL, "%s: cannot write: %s", path, strerror(errno));
                else fclose(m);
            }
        }
    }
    (void)cfg;
    return par_agree_error(e);
}

/* Validation loss: mean query loss after adaptation over the fixed
 * validation tasks (exact, rank-count independent). */
static double train_validate(const Config *cfg, TaskSampler *ts, Learner *L, const double *meta,
                             double *grad, TaskData *sup, TaskData *qry, MgErr *e)
{
    long lo, hi;
    train_block(cfg->train.val_tasks, par_rank(), par_size(), &lo, &hi);
    int64_t acc[XSUM_STRIDE + 1];
    memset(acc, 0, sizeof acc);
    for (long t = lo; t < hi && !e->code; t++) {
        if (tasks_make(ts, STREAM_VAL, 0, (uint64_t)t, cfg->task.k_support, cfg->task.k_query, 0,
                       sup, qry, e) != MG_OK)
            break;
        double loss = learner_task_grad(L, meta, sup, qry, grad);
        xsum_add(acc, &loss, 1);
    }
    acc[XSUM_STRIDE] = e->code != 0;
    par_allreduce_sum_i64(acc, XSUM_STRIDE + 1);
    if (acc[XSUM_STRIDE]) return NAN;
    double s;
    xsum_to_double(acc, &s, 1);
    return s / cfg->train.val_tasks;
}

static void train_fmt_eta(char *buf, size_t n, double s)
{
    if (!isfinite(s) || s < 0) s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

int train_run(const Config *cfg, const TrainOpts *opt, TrainStats *stats, MgErr *e)
{
    TaskSampler *ts = NULL;
    Learner *L = NULL;
    TrainState st = {0};
    TaskData sup = {0}, qry = {0};
    double *grad = NULL, *gsum = NULL;
    int64_t *acc = NULL, *shard = NULL;
    FILE *metrics = NULL;
    char *cfg_text = config_to_string(cfg);
    Timers tm = {0};
    Inject inj;
    train_parse_inject(&inj);
    memset(stats, 0, sizeof *stats);
    /* Signals set a flag from the start: one arriving during set-up stops the
     * run at its first iteration boundary, with a checkpoint. */
    struct sigaction old_handlers[3];
    train_install_signals(old_handlers);

    /* Everything that can fail on bad input is checked before the run
     * directory is touched. */
    if (tasks_create(&ts, cfg, e) == MG_OK)
        learner_create(&L, cfg, tasks_in_dim(ts), tasks_out_dim(ts), tasks_head_group(ts), e);
    if (par_agree_error(e)) goto done;
    if (train_setup_state(cfg, opt, L, &st, e)) goto done;
    if (train_prepare_dir(cfg, opt, &st, cfg_text, e)) goto done;

    /* The update is sharded: the summed gradient is reduce-scattered, each
     * rank decodes and applies Adam to its block of parameters, and an
     * allgather completes the parameters everywhere (the communication of
     * one allreduce; decoding and Adam cost 1/ranks each). */
    const size_t n = st.n;
    st.off = mg_calloc((size_t)par_size(), sizeof(size_t));
    st.cnt = mg_calloc((size_t)par_size(), sizeof(size_t));
    par_blocks(n, st.off, st.cnt);
    const size_t mlo = st.off[par_rank()], mlen = st.cnt[par_rank()];
    grad = mg_calloc(n, sizeof(double));
    gsum = mg_calloc(mlen + 1, sizeof(double));          /* my shard of the mean gradient */
    acc = mg_calloc(n * XSUM_STRIDE, sizeof(int64_t));  /* this rank's task gradients */
    /* alone, this rank's sums are the totals: decode acc in place instead of
     * copying 7 words per parameter every iteration */
    const int alone = par_size() == 1;
    if (!alone) shard = mg_calloc(mlen * XSUM_STRIDE + 1, sizeof(int64_t));
    int64_t ctl[XSUM_STRIDE + 3];  /* loss digits, error flag, stop flag, LP iterations */
    int64_t red[XSUM_STRIDE + 1];  /* squared-norm digits, non-finite count */
    if (par_is_root() && opt->write_files) {
        char path[CONFIG_PATH_MAX + 32];
        mg_path_join(path, sizeof path, opt->out_dir, "metrics.jsonl");
        metrics = fopen(path, "a");
        if (!metrics) mg_fail(e, MG_EFAIL, "%s: cannot append: %s", path, strerror(errno));
    }
    if (par_agree_error(e)) goto done;

    const int64_t total_iters = cfg->train.iterations;
    const int B = cfg->train.meta_batch;
    const int live = par_is_root() && !opt->quiet && train_live_progress();
    long lo, hi;
    train_block(B, par_rank(), par_size(), &lo, &hi);
    if (par_is_root() && !opt->quiet) {
        printf("metagrid train: %s, %d rank%s, %s, %zu meta-parameters, iterations %lld..%lld -> %s\n",
               config_algo_name(cfg->algo.name), par_size(), par_size() > 1 ? "s" : "",
               config_family_name(cfg->task.family), n, (long long)st.iter,
               (long long)total_iters, opt->write_files ? opt->out_dir : "(no files)");
        fflush(stdout);
    }

    const double t_start = mg_now();
    double t_window = t_start, t_live = 0.0;
    long tasks_window = 0;
    int64_t first_iter = st.iter;
    double last_loss = NAN;
    int stop = 0;

    while (st.iter < total_iters && !stop) {
        const int64_t it = st.iter; /* 0-based index of this iteration */
        memset(acc, 0, n * XSUM_STRIDE * sizeof(int64_t));
        memset(ctl, 0, sizeof ctl);
        long lp_iters = 0;
        for (long t = lo; t < hi && !g_stop_signal; t++) {
            timer_start(&tm, TM_SAMPLE);
            int rc = tasks_make(ts, STREAM_TRAIN, (uint64_t)it, (uint64_t)t, cfg->task.k_support,
                                cfg->task.k_query, 0, &sup, &qry, e);
            timer_stop(&tm, TM_SAMPLE);
            if (rc == MG_OK && inj.iter == it && inj.rank == par_rank() && !strcmp(inj.kind, "fail"))
                rc = mg_fail(e, MG_EFAIL, "injected failure at iteration %lld, task %ld (rank %d)",
                             (long long)it + 1, t, par_rank());
            if (rc == MG_OK && inj.iter == it && inj.rank == par_rank() && t == lo &&
                !strcmp(inj.kind, "slow")) {
                struct timespec pause = {3, 0};
                while (nanosleep(&pause, &pause) != 0 && errno == EINTR) continue;
            }
            if (rc != MG_OK) break;
            lp_iters += sup.lp_iters + qry.lp_iters;
            timer_start(&tm, TM_LEARN);
            double loss = learner_task_grad(L, st.meta, &sup, &qry, grad);
            timer_stop(&tm, TM_LEARN);
            if (inj.iter == it && inj.rank == par_rank() && !strcmp(inj.kind, "nan")) grad[0] = NAN;
            timer_start(&tm, TM_ENCODE);
            xsum_add(acc, grad, n);
            xsum_add(ctl, &loss, 1);
            timer_stop(&tm, TM_ENCODE);
        }
        ctl[XSUM_STRIDE] = e->code != 0;
        ctl[XSUM_STRIDE + 1] = g_stop_signal != 0;
        ctl[XSUM_STRIDE + 2] = lp_iters;

        timer_start(&tm, TM_ALLREDUCE);
        par_allreduce_sum_i64(ctl, XSUM_STRIDE + 3);
        lp_iters = (long)ctl[XSUM_STRIDE + 2]; /* all ranks' simplex iterations */
        if (ctl[XSUM_STRIDE]) {
            timer_stop(&tm, TM_ALLREDUCE);
            par_agree_error(e);
            goto done;
        }
        if (ctl[XSUM_STRIDE + 1]) {
            /* A stop signal on any rank: this iteration (its tasks may be
             * incomplete) is dropped and the state after the last completed
             * one is saved, so the stop waits for one task, not a whole
             * iteration (mpirun SIGKILLs the ranks 1 s after its SIGTERM). */
            timer_stop(&tm, TM_ALLREDUCE);
            stop = 1;
            timer_start(&tm, TM_CKPT);
            int rc = train_write_ckpt(cfg, opt, &st, st.wall_prev + (mg_now() - t_start),
                                      cfg_text, e);
            timer_stop(&tm, TM_CKPT);
            if (rc) goto done;
            break;
        }
        if (!alone) par_reduce_scatter_sum_i64(acc, shard, st.off, st.cnt, XSUM_STRIDE);
        timer_stop(&tm, TM_ALLREDUCE);

        timer_start(&tm, TM_UPDATE);
        double meta_loss;
        xsum_to_double(ctl, &meta_loss, 1);
        meta_loss /= B;
        xsum_to_double(alone ? acc : shard, gsum, mlen);
        memset(red, 0, sizeof red);
        for (size_t i = 0; i < mlen; i++) {
            gsum[i] /= B;
            /* squares of g * 2^-32 (exact scaling) stay below 2^63 for any
             * |g| < 2^63; carries are folded every 2^20 terms so the digits
             * never overflow however many parameters there are */
            double gs = gsum[i] * 0x1p-32, sq = gs * gs;
            red[XSUM_STRIDE] += !isfinite(gsum[i]);
            xsum_add(red, &sq, 1);
            if ((i & 0xfffff) == 0xfffff) xsum_normalize(red, 1);
        }
        xsum_normalize(red, 1);
        par_allreduce_sum_i64(red, XSUM_STRIDE + 1);
        double gnorm;
        xsum_to_double(red, &gnorm, 1);
        gnorm = sqrt(gnorm) * 0x1p32; /* NaN when a gradient was not finite */
        if (isnan(gnorm) && red[XSUM_STRIDE] == 0) gnorm = INFINITY; /* |g| >= 2^63.5 */
        int finite = isfinite(meta_loss) && red[XSUM_STRIDE] == 0;
        if (!finite) {
            timer_stop(&tm, TM_UPDATE);
            mg_fail(e, MG_EFAIL,
                    "diverged at iteration %lld: non-finite meta-%s; the last good checkpoint "
                    "(if any) is kept in %s",
                    (long long)it + 1, isfinite(meta_loss) ? "gradient" : "loss",
                    opt->write_files ? opt->out_dir : "memory");
            goto done;
        }
        if (cfg->train.clip > 0.0 && !(gnorm <= cfg->train.clip)) {
            double scale = isfinite(gnorm) ? cfg->train.clip / gnorm : 0.0;
            for (size_t i = 0; i < mlen; i++) gsum[i] *= scale;
        }
        adam_step(st.meta + mlo, gsum, st.m + mlo, st.v + mlo, mlen, cfg->train.meta_lr,
                  &st.adam_t);
        timer_stop(&tm, TM_UPDATE);
        timer_start(&tm, TM_ALLREDUCE);
        par_allgatherv_d(st.meta, st.off, st.cnt);
        timer_stop(&tm, TM_ALLREDUCE);
        timer_start(&tm, TM_UPDATE);
        st.iter = it + 1;
        last_loss = meta_loss;
        tasks_window += B;
        timer_stop(&tm, TM_UPDATE);

        if (cfg->train.sync_check > 0 && st.iter % cfg->train.sync_check == 0) {
            double crc = (double)crc32(0L, (const Bytef *)st.meta, (uInt)(n * sizeof(double)));
            double lohi[2] = {crc, -crc};
            par_allreduce_min_d(lohi, 2);
            if (lohi[0] != -lohi[1]) {
                mg_fail(e, MG_EFAIL, "ranks out of sync after iteration %lld", (long long)st.iter);
                goto done;
            }
        }

        double val_loss = NAN;
        int do_val = cfg->train.val_every > 0 && st.iter % cfg->train.val_every == 0;
        if (do_val) {
            timer_start(&tm, TM_VAL);
            val_loss = train_validate(cfg, ts, L, st.meta, grad, &sup, &qry, e);
            timer_stop(&tm, TM_VAL);
            if (par_agree_error(e)) goto done;
        }

        int do_log = (cfg->train.log_every > 0 && st.iter % cfg->train.log_every == 0) ||
                     st.iter == total_iters || stop || do_val;
        double now = mg_now();
        double wall = st.wall_prev + (now - t_start);
        if (do_log) {
            TimerStats tsx;
            timers_reduce(&tm, &tsx);
            double tps = tasks_window / fmax(now - t_window, 1e-9);
            if (metrics) {
                fprintf(metrics,
                        "{\"iter\":%lld,\"meta_loss\":%.9g,\"wall_s\":%.6f,\"tasks_per_s\":%.6g,"
                        "\"grad_norm\":%.6g,\"lp_iters\":%ld,",
                        (long long)st.iter, meta_loss, wall, tps, isfinite(gnorm) ? gnorm : 1e308,
                        lp_iters);
                if (do_val && isfinite(val_loss)) fprintf(metrics, "\"val_loss\":%.9g,", val_loss);
                else if (do_val) fputs("\"val_loss\":null,", metrics);
                timers_write_json(&tsx, metrics);
                fputs("}\n", metrics);
                if (fflush(metrics) != 0 || ferror(metrics))
                    mg_fail(e, MG_EFAIL, "%s/metrics.jsonl: write failed: %s", opt->out_dir,
                            strerror(errno));
            }
            if (par_agree_error(e)) goto done; /* at log iterations only */
            if (par_is_root() && !opt->quiet) {
                char eta[32];
                train_fmt_eta(eta, sizeof eta,
                              (now - t_start) / (double)(st.iter - first_iter) *
                                  (double)(total_iters - st.iter));
                char val[48] = "";
                if (do_val) snprintf(val, sizeof val, "  val_loss %.6g", val_loss);
                printf("%siter %lld/%lld  meta_loss %.6g%s  tasks/s %.1f  eta %s%s",
                       live ? "\r" : "", (long long)st.iter, (long long)total_iters, meta_loss,
                       val, tps, eta, live ? "\033[K" : "\n");
                fflush(stdout);
                t_live = now;
            }
            t_window = now;
            tasks_window = 0;
        } else if (live && now - t_live > 0.25) {
            char eta[32];
            train_fmt_eta(eta, sizeof eta,
                          (now - t_start) / (double)(st.iter - first_iter) *
                              (double)(total_iters - st.iter));
            printf("\riter %lld/%lld  meta_loss %.6g  eta %s\033[K", (long long)st.iter,
                   (long long)total_iters, meta_loss, eta);
            fflush(stdout);
            t_live = now;
        }

        int do_ckpt = stop || (cfg->train.checkpoint_every > 0 &&
                               st.iter % cfg->train.checkpoint_every == 0 && st.iter < total_iters);
        if (do_ckpt) {
            timer_start(&tm, TM_CKPT);
            int rc = train_write_ckpt(cfg, opt, &st, wall, cfg_text, e);
            timer_stop(&tm, TM_CKPT);
            if (rc) goto done;
        }
    }
    if (live) putchar('\n');

    stats->iters_done = (long)(st.iter - first_iter);
    stats->wall_s = mg_now() - t_start;
    stats->tasks_per_s = stats->iters_done * (double)B / fmax(stats->wall_s, 1e-9);
    stats->final_loss = last_loss;
    timers_reduce(&tm, &stats->timers);

    if (stop) {
        /* The command layer prints this with the command that continues. */
        const char *sig = train_signal_name();
        mg_fail(e, MG_ESTOP, "stopped by signal after iteration %lld of %lld (%s); checkpoint "
                "written to %s/%s", (long long)st.iter, (long long)total_iters,
                *sig ? sig : "received by another rank",
                opt->write_files ? opt->out_dir : "(no files)", CKPT_FILE);
        goto done;
    }
    /* The final checkpoint (unless this call ran nothing: rewriting it would
     * replace checkpoint.prev.bin with the same state), then the marker. */
    if (stats->iters_done > 0 &&
        train_write_ckpt(cfg, opt, &st, st.wall_prev + stats->wall_s, cfg_text, e))
        goto done;
    if (par_is_root() && opt->write_files) {
        char path[CONFIG_PATH_MAX + 32];
        mg_path_join(path, sizeof path, opt->out_dir, "done");
        FILE *f = fopen(path, "w");
        if (!f || fclose(f) != 0)
            mg_fail(e, MG_EFAIL, "%s: cannot write: %s", path, strerror(errno));
    }
    if (par_agree_error(e)) goto done;
    if (par_is_root() && !opt->quiet && stats->iters_done == 0) {
        printf("metagrid train: nothing to do, already at iteration %lld of %lld\n",
               (long long)st.iter, (long long)total_iters);
    } else if (par_is_root() && !opt->quiet) {
        printf("metagrid train: done, %lld iterations, final meta_loss %.6g, %.1f tasks/s\n",
               (long long)st.iter, last_loss, stats->tasks_per_s);
        printf("  %-10s %10s %10s %10s   (seconds over ranks)\n", "phase", "min", "mean", "max");
        for (int i = 0; i < TM_COUNT; i++)
            printf("  %-10s %10.3f %10.3f %10.3f\n", timer_name((TimerId)i),
                   stats->timers.min[i], stats->timers.mean[i], stats->timers.max[i]);
    }

done:
    if (metrics) fclose(metrics);
    taskdata_free(&sup);
    taskdata_free(&qry);
    free(grad);
    free(gsum);
    free(acc);
    free(shard);
    free(st.off);
    free(st.cnt);
    free(st.meta);
    free(st.m);
    free(st.v);
    free(cfg_text);
    learner_destroy(L);
    tasks_destroy(ts);
    train_restore_signals(old_handlers);
    return e->code;
}
