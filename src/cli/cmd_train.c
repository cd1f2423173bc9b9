/*
 * cmd_train.c — `metagrid train CONFIG [--set KEY=VALUE]... [--out DIR] [--resume]`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metagrid/cmd.h"
#include "metagrid/common.h"
#include "metagrid/config.h"
#include "metagrid/parallel.h"
#include "metagrid/task.h"
#include "metagrid/train.h"

static const char train_usage[] =
    "usage: metagrid train CONFIG [--set KEY=VALUE]... [--out DIR] [--resume]\n"
    "\n"
    "Meta-train on the tasks of CONFIG. Runs alone, under mpirun -np N or under\n"
    "srun --mpi=pmix; the result does not depend on the number of ranks.\n"
    "\n"
    "  -s, --set KEY=VALUE  override a config key (dotted path, YAML value:\n"
    "                       --set train.iterations=50 --set model.hidden=[40,40])\n"
    "  -o, --out DIR        run directory (default runs/<config name>)\n"
    "  -r, --resume         continue from DIR/checkpoint.bin (starts fresh if none)\n"
    "  -h, --help           this help\n"
    "\n"
    "Writes DIR/config.yaml (resolved config), DIR/metrics.jsonl (one JSON line per\n"
    "logged iteration), DIR/checkpoint.bin (+ checkpoint.prev.bin) and DIR/done.\n"
    "\n"
    "Stopping: Ctrl-C (SIGINT), SIGTERM or SIGUSR1 on any rank: once the task in\n"
    "progress ends, every rank drops the unfinished iteration, the last completed\n"
    "one is checkpointed, one line gives the command that continues the run (the\n"
    "same with --resume; the result is bit-identical) and the exit status is 75.\n"
    "A second Ctrl-C stops at once (the last checkpoint stays valid). Under\n"
    "mpirun, Ctrl-C makes mpirun send SIGTERM to the ranks (they checkpoint) but\n"
    "mpirun itself exits 1 (Open MPI cannot forward SIGINT); kill -USR1 the mpirun\n"
    "process to get exit 75. mpirun SIGKILLs the ranks 1 s after its SIGTERM; if a\n"
    "task takes longer, add --mca odls_base_sigkill_timeout 30 to mpirun.\n"
    "srun forwards Ctrl-C to the ranks with -X (--disable-status, or\n"
    "SLURM_DISABLE_STATUS=1); otherwise press Ctrl-C twice within a second.\n"
    "\n"
    "Example:\n"
    "  mpirun -np 2 metagrid train configs/default.yaml --set train.iterations=300 --out runs/a\n"
    "  mpirun -np 2 metagrid train configs/default.yaml --set train.iterations=600 --out runs/a --resume\n"
    "\n"
    "Exit status: 0 done, 1 failure, 2 bad usage/config, 75 stopped by a signal.\n";

/* Append arg to buf (at *len), single-quoted for a POSIX shell when it holds
 * anything but plain characters. */
static void shell_append(char *buf, size_t n, size_t *len, const char *arg)
{
    int plain = *arg != '\0';
    for (const char *p = arg; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=:,+-@%", *p))
            plain = 0;
    if (*len + 1 >= n) return;
    buf[(*len)++] = ' ';
    if (plain) {
        *len += (size_t)snprintf(buf + *len, n - *len, "%s", arg);
    } else {
        buf[(*len)++] = '\'';
        for (const char *p = arg; *p && *len + 5 < n; p++) {
            if (*p == '\'') *len += (size_t)snprintf(buf + *len, n - *len, "'\\''");
            else buf[(*len)++] = *p;
        }
        buf[(*len)++] = '\'';
    }
    if (*len >= n) *len = n - 1;
    buf[*len] = '\0';
}

/* The command that continues a stopped run: the launcher (mpirun -np N,
 * srun -n N, or none), the program, CONFIG, every --set, --out DIR --resume. */
static void train_resume_command(char *buf, size_t n, const char *prog, const char *config,
                                 const char *const *sets, int nsets, const char *dir)
{
    size_t len = 0;
    buf[0] = '\0';
    if (par_size() > 1 && getenv("SLURM_STEP_ID"))
        len = (size_t)snprintf(buf, n, "srun --mpi=pmix -n %d", par_size());
    else if (par_size() > 1)
        len = (size_t)snprintf(buf, n, "mpirun -np %d", par_size());
    if (len >= n) len = n - 1;
    shell_append(buf, n, &len, prog);
    shell_append(buf, n, &len, "train");
    shell_append(buf, n, &len, config);
    for (int i = 0; i < nsets; i++) {
        shell_append(buf, n, &len, "--set");
        shell_append(buf, n, &len, sets[i]);
    }
    shell_append(buf, n, &len, "--out");
    shell_append(buf, n, &len, dir);
    shell_append(buf, n, &len, "--resume");
    if (len && buf[0] == ' ') memmove(buf, buf + 1, len);
}


/* The command line of train. */
typedef struct {
    const char *config;
    const char *sets[CMD_MAX_SETS];
    int nsets;
    const char *out;  /* NULL: runs/<config name> */
    int resume;
} TrainArgs;

/* Returns MG_OK, -1 after printing --help (root only), or MG_EUSAGE with e. */
static int train_parse_args(int argc, char **argv, TrainArgs *a, MgErr *e)
{
    static const struct option longopts[] = {
        {"set", required_argument, 0, 's'},
        {"out", required_argument, 0, 'o'},
        {"resume", no_argument, 0, 'r'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *sub = argv[0];
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":s:o:rh", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (a->nsets >= CMD_MAX_SETS)
                return mg_fail(e, MG_EUSAGE, "%s: too many --set options", sub);
            if (!strchr(optarg, '='))
                return mg_fail(e, MG_EUSAGE, "%s: --set %s: expected KEY=VALUE", sub, optarg);
            a->sets[a->nsets++] = optarg;
            break;
        case 'o':
            a->out = optarg;
            break;
        case 'r':
            a->resume = 1;
            break;
        case 'h':
            if (par_is_root()) fputs(train_usage, stdout);
            return -1;
        case ':':
            return mg_fail(e, MG_EUSAGE, "%s: option %s needs a value (see metagrid %s --help)",
                           sub, argv[optind - 1], sub);
        default:
            return mg_fail(e, MG_EUSAGE, "%s: unknown option '%s' (see metagrid %s --help)", sub,
                           argv[optind - 1], sub);
        }
    }
    if (optind >= argc)
        return mg_fail(e, MG_EUSAGE, "%s: missing CONFIG (see metagrid %s --help)", sub, sub);
    if (optind + 1 < argc)
        return mg_fail(e, MG_EUSAGE, "%s: unexpected argument '%s'", sub, argv[optind + 1]);
    a->config = argv[optind];
    return MG_OK;
}

int cmd_train(int argc, char **argv)
{
    MgErr e = {0};
    TrainArgs args = {0};
    int rc = train_parse_args(argc, argv, &args, &e);
    if (rc < 0) return MG_OK; /* --help */
    const char *config_path = args.config, *out = args.out;
    const char **sets = args.sets;
    int nsets = args.nsets, resume = args.resume;
    Config cfg;
    if (rc == MG_OK) rc = cmd_check_config_path("train", config_path, NULL, &e);
    if (rc == MG_OK && config_load(&cfg, config_path, sets, nsets, &e) == MG_OK)
        tasks_config_resolve(&cfg.task, &e);
    if (par_agree_error(&e)) {
        par_report_err(&e);
        return e.code;
    }
    char dir[CONFIG_PATH_MAX];
    if (out) {
        if (strlen(out) >= sizeof dir) {
            mg_fail(&e, MG_EUSAGE, "train: --out: path longer than %zu characters", sizeof dir - 1);
            par_report_err(&e);
            return e.code;
        }
        snprintf(dir, sizeof dir, "%s", out);
    } else { /* runs/<config file name without its last extension> */
        const char *base = strrchr(config_path, '/');
        base = base ? base + 1 : config_path;
        const char *dot = strrchr(base, '.');
        size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
        snprintf(dir, sizeof dir, "runs/%.*s", (int)MG_MIN(len, sizeof dir - 6), base);
    }
    TrainOpts opt = {.out_dir = dir, .resume = resume, .quiet = 0, .write_files = 1};
    if (par_is_root())
        printf("%s; %s; config %s%s\n", cmd_build_info(), par_library(), config_path,
               nsets ? " with --set overrides" : "");
    TrainStats st;
    rc = train_run(&cfg, &opt, &st, &e);
    if (rc == MG_ESTOP && par_is_root()) {
        /* argv[-1] is the program name: main passes argv + 1 */
        char cmd[8192];
        train_resume_command(cmd, sizeof cmd, argv[-1], config_path, sets, nsets, dir);
        fflush(stdout);
        fprintf(stderr, "metagrid: %s; continue with: %s\n", e.msg, cmd);
        fflush(stderr);
    } else if (rc != MG_OK) {
        par_report_err(&e);
    }
    return rc;
}
