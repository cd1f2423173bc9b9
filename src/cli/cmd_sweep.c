/*
 * cmd_sweep.c — `metagrid sweep SWEEP.yaml [--dry-run | --local N | --slurm |
 * --summary] [--out DIR]`: expand a sweep file into trials (sweep.c), then
 * list them, run them here N at a time under mpirun, or write and submit a
 * SLURM array script; and collect the summary.
 *
 * Sweep folder DIR (default runs/NAME): DIR/trial-007/ holds overrides.json
 * (the trial's overrides as JSON), args (the train arguments, one per line:
 * "--set", "KEY=VALUE", ...), and what train / eval write there (config.yaml,
 * metrics.jsonl, checkpoint.bin, done, eval.json), plus train.log (--local)
 * and status (the last exit status). DIR/sweep.sbatch is the array script;
 * DIR/base.yaml the copy of the base config every trial trains from.
 *
 * --local launches `$METAGRID_MPIRUN -np RANKS SELF train BASE --set ...
 * --out TRIALDIR --resume` (METAGRID_MPIRUN defaults to DEFAULT_LAUNCHER:
 * with mpi_yield_when_idle idle Open MPI ranks yield the core instead of
 * busy-polling, without it concurrent trials on few cores starve each other;
 * a warning says when N x RANKS exceeds the online cores), each in its own
 * process group so a terminal Ctrl-C reaches only the sweep, which then
 * forwards SIGUSR1 to the running trials (they checkpoint and exit 75) and
 * exits 75 itself; running it again resumes them.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metagrid/cmd.h"
#include "metagrid/common.h"
#include "metagrid/sweep.h"

#define DEFAULT_LAUNCHER "mpirun --oversubscribe --bind-to none --mca mpi_yield_when_idle 1"

static const char help[] =
    "usage: metagrid sweep SWEEP.yaml [--dry-run | --local N | --slurm | --summary] [--out DIR]\n"
    "\n"
    "Expands a sweep file (grid or random over dotted config keys) into trials,\n"
    "after validating every override against the config schema.\n"
    "\n"
    "  --dry-run    print one JSON line per trial: {\"trial\": 0, \"overrides\": {...}}\n"
    "  --local N    run the trials here, N at a time, each under\n"
    "               `mpirun -np RANKS metagrid train BASE --set ... --resume`;\n"
    "               skips finished trials, resumes interrupted ones, then summarizes.\n"
    "               N x RANKS processes at once: keep that within the cores (a\n"
    "               warning says when it is not; the trials then slow each other)\n"
    "  --slurm      write DIR/sweep.sbatch (one array task per unfinished trial)\n"
    "               and submit it with sbatch; prints the job id\n"
    "  --summary    (re)collect DIR/summary.csv and DIR/summary.md (best first)\n"
    "  --out DIR    sweep folder (default runs/NAME)\n"
    "\n"
    "Sweep file keys (YAML mapping; unknown keys are an error):\n"
    "  name         the sweep's name (default: the file name); DIR is runs/NAME\n"
    "  base         the config file every trial starts from, relative to the\n"
    "               sweep file (required)\n"
    "  method       grid (cartesian product of the values lists, last key\n"
    "               fastest) | random (every trial draws every parameter)\n"
    "  num_samples  grid: draws per grid point; random: number of trials (1)\n"
    "  seed         drives the random draws: same file, same trials\n"
    "  ranks        MPI ranks per trial (1)\n"
    "  metric       {name: NAME, goal: minimize | maximize}: NAME is a key of the\n"
    "               last metrics.jsonl line (meta_loss, val_loss, ...) or a dotted\n"
    "               path into eval.json ({algo} = the trial's algo.name, e.g.\n"
    "               methods.{algo}.gap_mean); eval runs after training then\n"
    "  parameters   dotted config keys (metagrid help config), each\n"
    "               {value: X} | {values: [A, B, ...]} |\n"
    "               {distribution: uniform | log_uniform_values | int_uniform,\n"
    "                min: LO, max: HI}\n"
    "  slurm        optional mapping of sbatch long options for --slurm,\n"
    "               e.g. {time: \"01:00:00\", partition: short}\n"
    "\n"
    "Example (configs/sweeps/compare.yaml is a complete one):\n"
    "  name: lr\n"
    "  base: ../default.yaml\n"
    "  method: grid\n"
    "  ranks: 2\n"
    "  metric: {name: meta_loss, goal: minimize}\n"
    "  parameters:\n"
    "    algo.inner_lr: {values: [1, 3]}\n"
    "    seed: {values: [1, 2, 3]}\n"
    "then: metagrid sweep lr.yaml --dry-run; metagrid sweep lr.yaml --local 1\n"
    "\n"
    "Environment: METAGRID_MPIRUN (launcher for --local, default\n"
    "\"" DEFAULT_LAUNCHER "\";\n"
    "mpi_yield_when_idle makes idle Open MPI ranks yield the core instead of\n"
    "busy-polling, which matters when several trials share few cores; add it to\n"
    "your own METAGRID_MPIRUN too). Exit status: 0 all done, 1 a trial failed,\n"
    "2 bad sweep file, 75 interrupted (run again to resume).\n";

/* ---- trial folders ------------------------------------------------------ */

/*
 * DIR/base.yaml: a copy of the base config taken when the sweep first runs;
 * every trial trains from it, so editing the original mid-sweep cannot mix
 * two experiments in one summary. A later run whose base differs from the
 * copy is refused (use another --out, or delete DIR).
 */
static int snapshot_base(const Sweep *s, const char *dir, MgErr *e)
{
    char path[PATH_MAX + 32];
    size_t len;
    char *text = mg_read_file(s->base, 1 << 20, &len, e);
    if (!text) return MG_EUSAGE;
    mg_path_join(path, sizeof path, dir, "base.yaml");
    MgErr ignore = {0};
    char *have = mg_read_file(path, 1 << 20, NULL, &ignore);
    int rc = MG_OK;
    if (have) {
        if (strcmp(have, text) != 0)
            rc = mg_fail(e, MG_EUSAGE, "%s: base config changed since this sweep started (%s differs "
                         "from %s); use another --out or delete the folder", s->path, s->base, path);
    } else {
        rc = mg_write_text(path, text, e);
    }
    free(have);
    free(text);
    return rc;
}

/* DIR/base.yaml, then DIR/trial-XXX/{overrides.json,args} for every trial;
 * refuse a folder that holds a different trial (the sweep file changed: use
 * another --out). */
static int prepare_trials(const Sweep *s, const char *dir, MgErr *e)
{
    char tdir[PATH_MAX], path[PATH_MAX + 32];
    char (*vals)[SWEEP_VALUE_MAX] = mg_calloc((size_t)s->n_params, SWEEP_VALUE_MAX);
    int rc = MG_OK;
    if (mg_mkdir_p(dir) != 0) {
        rc = mg_fail(e, MG_EFAIL, "%s: cannot create: %s", dir, strerror(errno));
        goto out;
    }
    if ((rc = snapshot_base(s, dir, e)) != MG_OK) goto out;
    for (long t = 0; t < s->n_trials; t++) {
        sweep_trial_values(s, t, vals);
        sweep_trial_dir(tdir, sizeof tdir, dir, t);
        if (mg_mkdir_p(tdir) != 0) {
            rc = mg_fail(e, MG_EFAIL, "%s: cannot create: %s", tdir, strerror(errno));
            goto out;
        }
        char *want = NULL;
        size_t wlen = 0;
        FILE *m = open_memstream(&want, &wlen);
        sweep_json_overrides(m, s, vals);
        fputc('\n', m);
        fclose(m);
        mg_path_join(path, sizeof path, tdir, "overrides.json");
        MgErr ignore = {0};
        char *have = mg_read_file(path, 1 << 20, NULL, &ignore);
        if (have && strcmp(have, want) != 0) {
            rc = mg_fail(e, MG_EUSAGE, "%s: holds another trial (%.*s); the sweep file changed: "
                         "use another --out", path, (int)strcspn(have, "\n"), have);
        }
        free(have);
        if (rc == MG_OK) rc = mg_write_text(path, want, e);
        free(want);
        if (rc) goto out;
        mg_path_join(path, sizeof path, tdir, "args");
        FILE *f = mg_open_out(path, "w", e);
        if (!f) {
            rc = e->code;
            goto out;
        }
        for (int j = 0; j < s->n_params; j++) fprintf(f, "--set\n%s=%s\n", s->params[j].key, vals[j]);
        if ((rc = mg_close_out(f, path, e)) != MG_OK) goto out;
    }
out:
    free(vals);
    return rc;
}

static void write_status(const char *tdir, int status)
{
    char path[PATH_MAX + 32];
    mg_path_join(path, sizeof path, tdir, "status");
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "%d\n", status);
        fclose(f);
    }
}

/* ---- --local ------------------------------------------------------------ */

static volatile sig_atomic_t g_stop;
static void on_stop(int sig) { (void)sig; g_stop = g_stop ? 2 : 1; }

typedef struct {
    pid_t pid;
    long t;
    int phase;   /* 0 train, 1 eval */
    double t0;
} Slot;

/* The command line of one phase (0 train, 1 eval) of trial t and the
 * buffers its strings point into (trial_cmd_init / trial_cmd_free). */
typedef struct {
    char tdir[PATH_MAX], log[PATH_MAX + 32], ckpt[PATH_MAX + 32], ranks[16];
    char *launcher;                    /* METAGRID_MPIRUN, split in place */
    char (*vals)[SWEEP_VALUE_MAX];     /* (n_params) the trial's values */
    char (*sets)[2 * SWEEP_VALUE_MAX]; /* (n_params) KEY=VALUE */
    char **argv;
} TrialCmd;

static void trial_cmd_init(TrialCmd *c, const Sweep *s, const char *self, const char *base,
                           const char *dir, long t, int phase)
{
    memset(c, 0, sizeof *c);
    const char *env = getenv("METAGRID_MPIRUN");
    c->launcher = mg_strdup(env && *env ? env : DEFAULT_LAUNCHER);
    c->vals = mg_calloc((size_t)s->n_params, SWEEP_VALUE_MAX);
    c->sets = mg_calloc((size_t)s->n_params, 2 * SWEEP_VALUE_MAX);
    sweep_trial_dir(c->tdir, sizeof c->tdir, dir, t);
    sweep_trial_values(s, t, c->vals);
    snprintf(c->ranks, sizeof c->ranks, "%d", s->ranks);
    mg_path_join(c->ckpt, sizeof c->ckpt, c->tdir, "checkpoint.bin");
    mg_path_join(c->log, sizeof c->log, c->tdir, phase == 0 ? "train.log" : "eval.log");
    int cap = 32 + 2 * s->n_params, n = 0;
    char **av = c->argv = mg_calloc((size_t)cap, sizeof *av);
    for (char *tok = strtok(c->launcher, " \t"); tok && n < 16; tok = strtok(NULL, " \t"))
        av[n++] = tok;
    av[n++] = "-np";
    av[n++] = c->ranks;
    av[n++] = (char *)self;
    av[n++] = phase == 0 ? "train" : "eval";
    av[n++] = (char *)base;
    for (int j = 0; j < s->n_params; j++) {
        snprintf(c->sets[j], sizeof c->sets[j], "%s=%s", s->params[j].key, c->vals[j]);
        av[n++] = "--set";
        av[n++] = c->sets[j];
    }
    if (phase == 1) {
        av[n++] = "--checkpoint";
        av[n++] = c->ckpt;
    }
    av[n++] = "--out";
    av[n++] = c->tdir;
    if (phase == 0) av[n++] = "--resume";
    av[n] = NULL;
}

static void trial_cmd_free(TrialCmd *c)
{
    free(c->argv);
    free(c->sets);
    free(c->vals);
    free(c->launcher);
    memset(c, 0, sizeof *c);
}

static pid_t launch(const Sweep *s, const char *self, const char *base, const char *dir, long t, int phase)
{
    TrialCmd cmd;
    trial_cmd_init(&cmd, s, self, base, dir, t, phase);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        int fd = open(cmd.log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int nul = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (nul >= 0) dup2(nul, 0);
        execvp(cmd.argv[0], cmd.argv);
        fprintf(stderr, "metagrid: sweep: cannot run %s: %s\n", cmd.argv[0], strerror(errno));
        _exit(127);
    }
    trial_cmd_free(&cmd);
    return pid;
}

/* self (PATH_MAX): this binary's absolute path; base (PATH_MAX): the
 * absolute path of the sweep's config snapshot DIR/base.yaml. */
static int sweep_self_and_base(const char *dir, char *self, char *base, MgErr *e)
{
    ssize_t n = readlink("/proc/self/exe", self, PATH_MAX - 1);
    if (n <= 0) return mg_fail(e, MG_EFAIL, "cannot find my own binary (/proc/self/exe)");
    self[n] = '\0';
    char snap[PATH_MAX + 32];
    mg_path_join(snap, sizeof snap, dir, "base.yaml");
    if (!realpath(snap, base)) return mg_fail(e, MG_EFAIL, "%s: %s", snap, strerror(errno));
    return MG_OK;
}

/* The state of a --local run: the sweep, its folder, the trial slots. */
typedef struct {
    const Sweep *s;
    const char *dir;
    char self[PATH_MAX], base[PATH_MAX];
    int par, need_eval, running, failed;
    long next, skipped;
    Slot *slots; /* (par) */
} LocalRun;

/* N x RANKS busy processes on fewer cores: say so once, up front. */
static void local_warn_oversubscribed(const LocalRun *r)
{
    char tdir[PATH_MAX];
    long todo = 0, cores = sysconf(_SC_NPROCESSORS_ONLN);
    for (long t = 0; t < r->s->n_trials && todo < r->par; t++) {
        sweep_trial_dir(tdir, sizeof tdir, r->dir, t);
        todo += sweep_trial_state(tdir, r->need_eval) != TRIAL_DONE;
    }
    if (cores > 0 && todo > 1 && todo * r->s->ranks > cores)
        fprintf(stderr, "metagrid: sweep: warning: %ld trials at once x %d ranks = %ld processes on %ld cores: "
                "they will slow each other down (keep --local N x ranks <= %ld)\n",
                todo, r->s->ranks, todo * r->s->ranks, cores, cores);
}

/* Start phase (0 train, 1 eval) of trial t in slot k; returns 0, or -1 when
 * the launch failed (the slot stays free). */
static int local_start(LocalRun *r, int k, long t, int phase)
{
    r->slots[k].pid = launch(r->s, r->self, r->base, r->dir, t, phase);
    r->slots[k].t = t;
    r->slots[k].phase = phase;
    r->slots[k].t0 = mg_now();
    if (r->slots[k].pid > 0) {
        r->running++;
        return 0;
    }
    r->slots[k].pid = 0;
    return -1;
}

/* Fill the free slots with the next unfinished trials. */
static void local_fill(LocalRun *r)
{
    char tdir[PATH_MAX], path[PATH_MAX + 32];
    while (!g_stop && r->running < r->par && r->next < r->s->n_trials) {
        long t = r->next++;
        sweep_trial_dir(tdir, sizeof tdir, r->dir, t);
        if (sweep_trial_state(tdir, r->need_eval) == TRIAL_DONE) {
            r->skipped++;
            continue;
        }
        mg_path_join(path, sizeof path, tdir, "done");
        int phase = r->need_eval && access(path, F_OK) == 0;
        int k = 0;
        while (r->slots[k].pid) k++;
        if (local_start(r, k, t, phase)) {
            r->failed++;
            write_status(tdir, MG_EFAIL);
            continue;
        }
        printf("sweep: trial %ld: %s started (%s/trial-%03ld/%s.log)\n", t,
               phase ? "eval" : "train", r->dir, t, phase ? "eval" : "train");
        fflush(stdout);
    }
}

/* A child of slot k ended with wait status wst: start its evaluation, or
 * record its status. */
static void local_reap(LocalRun *r, int k, int wst)
{
    char tdir[PATH_MAX];
    Slot sl = r->slots[k];
    r->slots[k].pid = 0;
    r->running--;
    int rc = WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst);
    sweep_trial_dir(tdir, sizeof tdir, r->dir, sl.t);
    if (rc == 0 && sl.phase == 0 && r->need_eval && !g_stop) {
        /* trained: evaluate in the same slot */
        if (local_start(r, k, sl.t, 1) == 0) {
            printf("sweep: trial %ld: train done (%.1f s), eval started\n", sl.t, mg_now() - sl.t0);
            fflush(stdout);
            return;
        }
        rc = MG_EFAIL;
    }
    write_status(tdir, rc);
    if (rc != 0 && rc != MG_ESTOP) r->failed++;
    printf("sweep: trial %ld: %s exit %d (%.1f s)%s\n", sl.t, sl.phase ? "eval" : "train", rc,
           mg_now() - sl.t0, rc == 0 ? "" : rc == MG_ESTOP ? ", stopped: will resume" : ", FAILED");
    fflush(stdout);
}

/* First Ctrl-C / TERM: ask the running trials to checkpoint; second: kill. */
static void local_forward_stop(const LocalRun *r)
{
    for (int k = 0; k < r->par; k++)
        if (r->slots[k].pid) kill(g_stop == 1 ? r->slots[k].pid : -r->slots[k].pid,
                                  g_stop == 1 ? SIGUSR1 : SIGKILL);
    fprintf(stderr, "metagrid: sweep: %s running trials\n",
            g_stop == 1 ? "stopping (checkpoint)" : "killing");
}

static int run_local(const Sweep *s, const char *dir, int par, MgErr *e)
{
    LocalRun r = {.s = s, .dir = dir, .par = par};
    if (sweep_self_and_base(dir, r.self, r.base, e)) return e->code;
    r.need_eval = sweep_metric_from_eval(s);
    local_warn_oversubscribed(&r);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop; /* no SA_RESTART: waitpid returns EINTR */
    sigemptyset(&sa.sa_mask);
    struct sigaction old_int, old_term;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    r.slots = mg_calloc((size_t)par, sizeof *r.slots);
    int forwarded = 0;
    for (;;) {
        local_fill(&r);
        if (r.running == 0) break;
        if (g_stop && forwarded < g_stop) {
            local_forward_stop(&r);
            forwarded = g_stop;
        }
        int wst;
        pid_t pid = waitpid(-1, &wst, 0);
        if (pid < 0) {
            if (errno == EINTR) continue;
            break;
        }
        int k = 0;
        while (k < par && r.slots[k].pid != pid) k++;
        if (k < par) local_reap(&r, k, wst);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    free(r.slots);
    if (r.skipped) printf("sweep: %ld finished trials skipped\n", r.skipped);
    if (g_stop) return MG_ESTOP;
    return r.failed ? MG_EFAIL : MG_OK;
}

/* ---- --slurm ------------------------------------------------------------ */

/* "0-3,5,7-9" of the unfinished trials; returns how many. */
static long array_spec(const Sweep *s, const char *dir, char *out, size_t cap)
{
    char tdir[PATH_MAX];
    size_t len = 0;
    long count = 0, start = -1;
    out[0] = '\0';
    for (long t = 0; t <= s->n_trials; t++) {
        int todo = 0;
        if (t < s->n_trials) {
            sweep_trial_dir(tdir, sizeof tdir, dir, t);
            todo = sweep_trial_state(tdir, sweep_metric_from_eval(s)) != TRIAL_DONE;
        }
        if (todo) {
            count++;
            if (start < 0) start = t;
        } else if (start >= 0) {
            if (len + 48 < cap) {
                if (t - 1 == start) len += (size_t)snprintf(out + len, cap - len, "%s%ld", len ? "," : "", start);
                else len += (size_t)snprintf(out + len, cap - len, "%s%ld-%ld", len ? "," : "", start, t - 1);
            }
            start = -1;
        }
    }
    return count;
}

static int has_opt(const Sweep *s, const char *key)
{
    for (int i = 0; i < s->n_slurm; i++)
        if (!strcmp(s->slurm[i].key, key)) return 1;
    return 0;
}

static int write_sbatch(const Sweep *s, const char *dir, const char *array, const char *path, MgErr *e)
{
    char self[PATH_MAX], base[PATH_MAX], adir[PATH_MAX];
    if (sweep_self_and_base(dir, self, base, e)) return e->code;
    if (!realpath(dir, adir)) return mg_fail(e, MG_EFAIL, "%s: %s", dir, strerror(errno));
    FILE *f = mg_open_out(path, "w", e);
    if (!f) return e->code;
    fprintf(f, "#!/bin/bash\n");
    fprintf(f, "#SBATCH --job-name=%s\n", s->name);
    fprintf(f, "#SBATCH --array=%s\n", array);
    fprintf(f, "#SBATCH --ntasks=%d\n", s->ranks);
    fprintf(f, "#SBATCH --output=%s/slurm-%%A_%%a.out\n", adir);
    fprintf(f, "#SBATCH --open-mode=append\n#SBATCH --requeue\n");
    if (!has_opt(s, "signal")) fprintf(f, "#SBATCH --signal=USR1@120\n");
    for (int i = 0; i < s->n_slurm; i++) fprintf(f, "#SBATCH --%s=%s\n", s->slurm[i].key, s->slurm[i].value);
    fprintf(f,
            "#\n"
            "# Sweep '%s' as a SLURM array: array task i trains trial i in\n"
            "# %s/trial-NNN with the overrides listed in its args file.\n"
            "# Written by `metagrid sweep --slurm` (which submits it); resubmit with\n"
            "#   sbatch %s/sweep.sbatch\n"
            "# Finished trials are skipped; interrupted ones resume from their checkpoint.\n"
            "#\n"
            "# Time limit / preemption: SLURM sends SIGUSR1 to the job steps 120 s before\n"
            "# the limit (--signal=USR1@120); every rank checkpoints and exits 75; the\n"
            "# script then requeues this array task, which resumes (--resume) when it\n"
            "# runs again. A USR1/TERM sent to this batch shell (scancel -b) is forwarded.\n"
            "set -u\n"
            "export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}\n"
            "METAGRID='%s'\n"
            "BASE='%s'\n"
            "DIR='%s'\n"
            "NEED_EVAL=%d\n"
            "TD=$(printf '%%s/trial-%%03d' \"$DIR\" \"$SLURM_ARRAY_TASK_ID\")\n"
            "mapfile -t ARGS < \"$TD/args\" || exit 1\n"
            "echo \"== $(date -Is) trial $SLURM_ARRAY_TASK_ID job ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
            " restart ${SLURM_RESTART_COUNT:-0}\"\n"
            "\n"
            "step() {  # srun in the background so a signal to this shell can be forwarded\n"
            "    srun --mpi=pmix \"$@\" &\n"
            "    local pid=$! rc\n"
            "    trap 'kill -USR1 $pid 2>/dev/null' USR1 TERM\n"
            "    wait $pid; rc=$?\n"
            "    while [ $rc -gt 128 ] && kill -0 $pid 2>/dev/null; do wait $pid; rc=$?; done\n"
            "    trap - USR1 TERM\n"
            "    return $rc\n"
            "}\n"
            "\n"
            "rc=0\n"
            "if [ ! -e \"$TD/done\" ]; then\n"
            "    step \"$METAGRID\" train \"$BASE\" \"${ARGS[@]}\" --out \"$TD\" --resume; rc=$?\n"
            "    echo $rc > \"$TD/status\"\n"
            "    if [ $rc = 75 ]; then\n"
            "        echo \"== stopped after a checkpoint: requeue\"\n"
            "        scontrol requeue \"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\"\n"
            "        exit 0\n"
            "    fi\n"
            "fi\n"
            "if [ $rc = 0 ] && [ $NEED_EVAL = 1 ] && [ ! -e \"$TD/eval.json\" ]; then\n"
            "    step \"$METAGRID\" eval \"$BASE\" \"${ARGS[@]}\" --checkpoint \"$TD/checkpoint.bin\" --out \"$TD\"\n"
            "    rc=$?\n"
            "    echo $rc > \"$TD/status\"\n"
            "fi\n"
            "exit $rc\n",
            s->name, adir, adir, self, base, adir, sweep_metric_from_eval(s));
    if (mg_close_out(f, path, e) != MG_OK) return e->code;
    chmod(path, 0755);
    return MG_OK;
}

/* Run sbatch --parsable SCRIPT; the job id into out. */
static int submit(const char *script, char *out, size_t cap, MgErr *e)
{
    int fds[2];
    if (pipe(fds) != 0) return mg_fail(e, MG_EFAIL, "pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execlp("sbatch", "sbatch", "--parsable", script, (char *)NULL);
        fprintf(stderr, "metagrid: sweep: cannot run sbatch: %s\n", strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t got;
    while (len + 1 < cap && (got = read(fds[0], out + len, cap - 1 - len)) > 0) len += (size_t)got;
    out[len] = '\0';
    close(fds[0]);
    int st;
    waitpid(pid, &st, 0);
    out[strcspn(out, ";\n")] = '\0';
    if (pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || !out[0])
        return mg_fail(e, MG_EFAIL, "sbatch %s failed", script);
    return MG_OK;
}

static int run_slurm(const Sweep *s, const char *dir, MgErr *e)
{
    char array[4096], script[PATH_MAX + 32], job[128];
    long todo = array_spec(s, dir, array, sizeof array);
    if (todo == 0) {
        printf("sweep: all %ld trials finished; nothing to submit\n", s->n_trials);
        return MG_OK;
    }
    if (strlen(array) > sizeof array - 64) return mg_fail(e, MG_EUSAGE, "too many unfinished trial ranges for --array");
    mg_path_join(script, sizeof script, dir, "sweep.sbatch");
    if (write_sbatch(s, dir, array, script, e)) return e->code;
    if (submit(script, job, sizeof job, e)) return e->code;
    char path[PATH_MAX + 32];
    mg_path_join(path, sizeof path, dir, "slurm_job_id");
    FILE *f = fopen(path, "a");
    if (f) {
        fprintf(f, "%s\n", job);
        fclose(f);
    }
    printf("%s\n", job);
    fprintf(stderr, "sweep: submitted array job %s (%ld trials: %s); script %s\n", job, todo, array, script);
    return MG_OK;
}

/* ---- the command -------------------------------------------------------- */

int cmd_sweep(int argc, char **argv)
{
    enum { M_NONE, M_DRY, M_LOCAL, M_SLURM, M_SUMMARY } mode = M_NONE;
    const char *out = NULL;
    int par = 1;
    static const struct option opts[] = {
        {"dry-run", no_argument, 0, 'd'}, {"local", required_argument, 0, 'l'},
        {"slurm", no_argument, 0, 's'},   {"summary", no_argument, 0, 'S'},
        {"out", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int c, nmodes = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': mode = M_DRY, nmodes++; break;
        case 's': mode = M_SLURM, nmodes++; break;
        case 'S': mode = M_SUMMARY, nmodes++; break;
        case 'l': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 1024) {
                fprintf(stderr, "metagrid: sweep: --local N: expected 1..1024, got '%s'\n", optarg);
                return MG_EUSAGE;
            }
            par = (int)v;
            mode = M_LOCAL, nmodes++;
            break;
        }
        case 'o': out = optarg; break;
        case 'h': fputs(help, stdout); return MG_OK;
        default:
            fprintf(stderr, "metagrid: sweep: unknown or incomplete option '%s' (see metagrid sweep --help)\n",
                    argv[optind - 1]);
            return MG_EUSAGE;
        }
    }
    if (optind != argc - 1 || nmodes != 1) {
        fprintf(stderr, "metagrid: sweep: give one SWEEP.yaml and one of --dry-run, --local N, "
                        "--slurm, --summary (see metagrid sweep --help)\n");
        return MG_EUSAGE;
    }
    Sweep s;
    MgErr e = {0};
    int rc = sweep_load(&s, argv[optind], &e);
    if (rc == MG_OK) rc = sweep_validate(&s, &e);
    if (rc != MG_OK) goto done;
    char dir[PATH_MAX];
    if (out) snprintf(dir, sizeof dir, "%s", out);
    else snprintf(dir, sizeof dir, "runs/%s", s.name);

    switch (mode) {
    case M_DRY: {
        char (*vals)[SWEEP_VALUE_MAX] = mg_calloc((size_t)s.n_params, SWEEP_VALUE_MAX);
        for (long t = 0; t < s.n_trials; t++) {
            sweep_trial_values(&s, t, vals);
            printf("{\"trial\": %ld, \"overrides\": ", t);
            sweep_json_overrides(stdout, &s, vals);
            printf("}\n");
        }
        free(vals);
        break;
    }
    case M_LOCAL:
        rc = prepare_trials(&s, dir, &e);
        if (rc == MG_OK) rc = run_local(&s, dir, par, &e);
        if (rc == MG_OK || rc == MG_EFAIL || rc == MG_ESTOP) {
            MgErr e2 = {0};
            if (sweep_summary(&s, dir, stdout, &e2) != MG_OK) mg_print_err(&e2);
            if (rc == MG_EFAIL && !e.msg[0]) mg_fail(&e, MG_EFAIL, "sweep %s: some trials failed (see %s/summary.md)", s.name, dir);
            if (rc == MG_ESTOP) mg_fail(&e, MG_ESTOP, "sweep %s: interrupted; run again to resume", s.name);
        }
        break;
    case M_SLURM:
        rc = prepare_trials(&s, dir, &e);
        if (rc == MG_OK) rc = run_slurm(&s, dir, &e);
        break;
    case M_SUMMARY: {
        struct stat st;
        if (stat(dir, &st) != 0) {
            rc = mg_fail(&e, MG_EUSAGE, "%s: no sweep folder (run the sweep first, or give --out)", dir);
            break;
        }
        rc = sweep_summary(&s, dir, stdout, &e);
        break;
    }
    default:
        break;
    }
done:
    if (rc != MG_OK) mg_print_err(&e);
    sweep_free(&s);
    return rc;
}
