/*
 * cmd_eval.c — `metagrid eval` (not built yet).
 */
#include <stdio.h>

#include "metagrid/cmd.h"
#include "metagrid/common.h"

int cmd_eval(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "metagrid: eval: not built yet\n");
    return MG_EFAIL;
}
