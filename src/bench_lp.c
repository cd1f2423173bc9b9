/*
 * bench_lp.c — `metagrid bench lp` (not built yet).
 */
#include <stdio.h>

#include "metagrid/bench.h"
#include "metagrid/common.h"

int bench_lp(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "metagrid: bench lp: not built yet\n");
    return MG_EFAIL;
}
