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

/* The most --set options a subcommand takes. */
#define CMD_MAX_SETS 256

#endif
