/*
 * main.c — the metagrid command: subcommand dispatch and top-level help.
 */
#include <stdio.h>
#include <string.h>

#include "metagrid/cmd.h"
#include "metagrid/common.h"
#include "metagrid/config.h"
#include "metagrid/parallel.h"
#include "metagrid/provenance.h"
#include "metagrid/version.h"

static const char usage[] =
    "usage: metagrid SUBCOMMAND [ARGS...]\n"
    "\n"
    "Meta-learns energy-allocation policies (transportation LPs) on MPI clusters.\n"
    "\n"
    "subcommands:\n"
    "  train     CONFIG [--set KEY=VALUE]... [--out DIR] [--resume]\n"
    "            meta-train under mpirun / srun / alone\n"
    "  eval      CONFIG --checkpoint FILE [--checkpoint FILE]... [--set KEY=VALUE]... [--out DIR]\n"
    "            K-shot evaluation on held-out tasks against baselines\n"
    "  sweep     SWEEP.yaml [--dry-run | --local N | --slurm | --summary] [--out DIR]\n"
    "            grid / random experiment sweeps, locally or as a SLURM array\n"
    "  inspect   CHECKPOINT [--params]\n"
    "            print a checkpoint's header (and parameters) as JSON\n"
    "  gradcheck CONFIG [--set KEY=VALUE]... [--dump FILE]\n"
    "            exact meta-gradients against central finite differences\n"
    "  bench     lp|meta|scale [...]\n"
    "            benchmarks (see metagrid bench --help)\n"
    "  case      CASE.m [--set KEY=VALUE]...\n"
    "            a MATPOWER / PGLib-OPF case's transportation instance as JSON\n"
    "  predict   CHECKPOINT --case CASE.m --history HIST.csv --hours HOURS.csv --out DIR\n"
    "            adapt to an operator's solved hours, dispatch new hours with certificates\n"
    "\n"
    "metagrid help SUBCOMMAND (or metagrid SUBCOMMAND --help) for details and an\n"
    "example; metagrid help config for every config key; metagrid help sweep for\n"
    "the sweep-file keys.\n"
    "\n"
    "Example:\n"
    "  mpirun -np 2 metagrid train configs/default.yaml --out runs/a\n"
    "  mpirun -np 2 metagrid eval configs/default.yaml --checkpoint runs/a/checkpoint.bin\n"
    "\n"
    "Exit status: 0 done, 1 failure, "
    "2 bad usage/config/input, 75 stopped by a signal after a checkpoint.\n";

const char *cmd_build_info(void)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "metagrid %s, git %s, %s, flags '%s'", mg_version(), mg_git_rev(),
             mg_compiler(), mg_cflags());
    return buf;
}

/* metagrid --version: the version line (contract), then the build. */
static void print_version(void)
{
    Provenance p;
    provenance_get(&p);
    printf("metagrid %s\n", p.version);
    printf("git %s\ncompiler %s\nflags %s\nmpi %s\nblas %s\nkernels %s\n", p.git, p.compiler,
           p.flags, p.mpi, p.blas, p.kernels);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs("metagrid: missing SUBCOMMAND (train, eval, sweep, inspect, gradcheck, bench, case, predict; "
              "see metagrid --help)\n", stderr);
        return MG_EUSAGE;
    }
    const char *sub = argv[1];
    /* metagrid help TOPIC: config (every key), or any subcommand (its --help;
     * help sweep includes the sweep-file keys). */
    char *help_argv[4] = {NULL, NULL, NULL, NULL}; /* argv[argc] is NULL */
    if (!strcmp(sub, "help") && argc > 2) {
        if (!strcmp(argv[2], "config")) {
            config_write_reference(stdout);
            return MG_OK;
        }
        help_argv[0] = argv[0];
        help_argv[1] = argv[2];
        help_argv[2] = "--help";
        argv = help_argv;
        argc = 3;
        sub = argv[1];
    }
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        fputs(usage, stdout);
        return MG_OK;
    }
    if (!strcmp(sub, "--version") || !strcmp(sub, "-V")) {
        print_version();
        return MG_OK;
    }
    static const struct {
        const char *name;
        int (*fn)(int, char **);
        int mpi; /* runs under MPI (others run serially, without MPI_Init) */
    } subs[] = {
        {"train", cmd_train, 1},       {"eval", cmd_eval, 1},
        {"sweep", cmd_sweep, 0},       {"inspect", cmd_inspect, 0},
        {"gradcheck", cmd_gradcheck, 0}, {"bench", cmd_bench, 1},
        {"case", cmd_case, 0},         {"predict", cmd_predict, 0},
    };
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        if (strcmp(sub, subs[i].name) != 0) continue;
        if (subs[i].mpi) par_init(&argc, &argv);
        int rc = subs[i].fn(argc - 1, argv + 1);
        par_exit(rc);
    }
    if (help_argv[0]) {
        fprintf(stderr, "metagrid: help: unknown topic '%s' (topics: config and every subcommand:",
                sub);
        for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
            fprintf(stderr, "%s %s", i ? "," : "", subs[i].name);
        fputs("; see metagrid --help)\n", stderr);
        return MG_EUSAGE;
    }
    fprintf(stderr, "metagrid: unknown subcommand '%s' (train, eval, sweep, inspect, gradcheck, "
                    "bench, case, predict; see metagrid --help)\n", sub);
    return MG_EUSAGE;
}
