/*
 * cmd_bench.c — `metagrid bench` (not built yet).
 */
#include <stdio.h>

#include "metagrid/cmd.h"
#include "metagrid/common.h"

int cmd_bench(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "metagrid: bench: not built yet\n");
    return MG_EFAIL;
}
