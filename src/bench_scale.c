/*
 * bench_scale.c — `metagrid bench scale` (not built yet).
 */
#include <stdio.h>

#include "metagrid/bench.h"
#include "metagrid/common.h"

int bench_scale(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "metagrid: bench scale: not built yet\n");
    return MG_EFAIL;
}
