/*
 * cmd_gradcheck.c — `metagrid gradcheck` (not built yet).
 */
#include <stdio.h>

#include "metagrid/cmd.h"
#include "metagrid/common.h"

int cmd_gradcheck(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "metagrid: gradcheck: not built yet\n");
    return MG_EFAIL;
}
