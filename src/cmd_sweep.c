/*
 * cmd_sweep.c — `metagrid sweep` (not built yet).
 */
#include <stdio.h>

#include "metagrid/cmd.h"
#include "metagrid/common.h"

int cmd_sweep(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "metagrid: sweep: not built yet\n");
    return MG_EFAIL;
}
