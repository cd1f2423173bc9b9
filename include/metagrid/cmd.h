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

/* One line for run banners: "metagrid 0.2.0, git abc1234, gcc 12.2.0,
 * flags '-O2 ...'" (version.h; the full provenance: provenance.h). */
const char *cmd_build_info(void);

/* MG_EUSAGE with a message naming the mistake and the command probably meant
 * when `path`, given as CONFIG to subcommand `sub`, is a directory (its
 * YAML files are listed) or a checkpoint (eval: CONFIG comes first, ckpt is
 * the first --checkpoint if any); MG_OK otherwise (the loader reports the rest). */
int cmd_check_config_path(const char *sub, const char *path, const char *ckpt, MgErr *e);

/* The most --set options a subcommand takes. */
#define CMD_MAX_SETS 256

#endif
