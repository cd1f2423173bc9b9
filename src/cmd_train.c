/*
 * cmd_train.c — `metagrid train` (not built yet).
 */
#include <stdio.h>

#include "metagrid/cmd.h"
#include "metagrid/common.h"

int cmd_train(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "metagrid: train: not built yet\n");
    return MG_EFAIL;
}
