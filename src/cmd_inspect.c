/*
 * cmd_inspect.c — `metagrid inspect` (not built yet).
 */
#include <stdio.h>

#include "metagrid/cmd.h"
#include "metagrid/common.h"

int cmd_inspect(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "metagrid: inspect: not built yet\n");
    return MG_EFAIL;
}
