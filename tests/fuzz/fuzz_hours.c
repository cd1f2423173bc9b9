/*
 * fuzz_hours.c — the operator's hourly CSV reader (hours_parse, `metagrid
 * predict --history/--hours`) against a small built-in case (3 buses: loads
 * bus2, bus3; generators gen1, gen2). Property: a table that reads has
 * finite, non-negative, feasible hours.
 */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "metagrid/case.h"
#include "metagrid/hours.h"

static GridModel g_gm;

static const char g_case[] =
    "function mpc = tiny\nmpc.version = '2';\nmpc.baseMVA = 100.0;\n"
    "mpc.bus = [\n1 3 0 0 0 0 1 1 0 230 1 1.1 0.9;\n2 1 50 0 0 0 1 1 0 230 1 1.1 0.9;\n"
    "3 1 30 0 0 0 1 1 0 230 1 1.1 0.9;\n];\n"
    "mpc.gen = [\n1 0 0 0 0 1 100 1 80 0;\n3 0 0 0 0 1 100 1 60 0;\n];\n"
    "mpc.gencost = [\n2 0 0 3 0 14 0;\n2 0 0 3 0 20 0;\n];\n"
    "mpc.branch = [\n1 2 0 0.1 0 0 0 0 0 0 1 -30 30;\n2 3 0 0.2 0 0 0 0 0 0 1 -30 30;\n];\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    GridCase gc;
    MgErr e = {0};
    if (case_parse(&gc, g_case, strlen(g_case), "tiny.m", &e) != MG_OK ||
        case_build(&g_gm, &gc, 10.0, "tiny.m", &e) != MG_OK) {
        fprintf(stderr, "fuzz_hours: %s\n", e.msg);
        abort();
    }
    case_free(&gc);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    HourTable ht;
    MgErr e = {0};
    if (hours_parse(&ht, &g_gm, (const char *)data, size, "fuzz.csv", &e) != MG_OK) {
        FUZZ_CHECK(e.code == MG_EUSAGE && e.msg[0]);
        return 0;
    }
    FUZZ_CHECK(ht.n == g_gm.n && ht.m == g_gm.m);
    for (int h = 0; h < ht.k; h++) {
        double dsum = 0, ssum = 0;
        for (int i = 0; i < ht.n; i++) {
            FUZZ_CHECK(isfinite(ht.d[h * ht.n + i]) && ht.d[h * ht.n + i] >= 0);
            dsum += ht.d[h * ht.n + i];
        }
        for (int j = 0; j < ht.m; j++) {
            FUZZ_CHECK(isfinite(ht.s[h * ht.m + j]) && ht.s[h * ht.m + j] >= 0);
            ssum += ht.s[h * ht.m + j];
        }
        FUZZ_CHECK(ssum >= dsum * (1 - 1e-12));
    }
    hours_free(&ht);
    return 0;
}
