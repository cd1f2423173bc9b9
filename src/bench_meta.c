/*
 * bench_meta.c — `metagrid bench meta` (not built yet).
 */
#include <stdio.h>

#include "metagrid/bench.h"
#include "metagrid/common.h"

int bench_meta(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "metagrid: bench meta: not built yet\n");
    return MG_EFAIL;
}
