/*
 * cmd.h — the subcommands of the metagrid command line.
 *
 * Each cmd_* takes the arguments after the subcommand name (argv[0] is the
 * subcommand), parses them with getopt_long, does its work and returns the
 * process exit status (MG_OK, MG_EFAIL, MG_EUSAGE, MG_ESTOP). main() has
 * already called par_init; the return value is agreed over ranks by the
 * subcommand itself before returning (every rank returns the same status).
 */
#ifndef METAGRID_CMD_H
#define METAGRID_CMD_H

#include "metagrid/common.h"

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_gradcheck(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_case(int argc, char **argv);
int cmd_predict(int argc, char **argv);

/* Build description for run reports: compiler, flags, git revision. */
const char *cmd_build_info(void);

/* Parse the options shared by train, eval and gradcheck: CONFIG and any of
 * --set (into sets, at most CMD_MAX_SETS), --out, --resume, --checkpoint
 * (at most 16), --dump; pass NULL for options the subcommand does not take.
 * Returns MG_OK, -1 after printing --help (root only), or MG_EUSAGE with e. */
int cmd_parse_common(int argc, char **argv, const char *usage, const char **config,
                     const char **sets, int *nsets, const char **out, int *resume,
                     const char **ckpts, int *nckpts, const char **dump, MgErr *e);

#define CMD_MAX_SETS 256

#endif
