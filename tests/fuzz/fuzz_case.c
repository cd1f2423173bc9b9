/*
 * fuzz_case.c — the MATPOWER / PGLib case reader (case_parse) and, for a
 * case that reads, the transportation instance derived from it (case_build:
 * shortest electrical distances, costs). Property: a built instance has
 * finite, non-negative costs and capacity covering demand.
 */
#include <math.h>

#include "fuzz.h"
#include "metagrid/case.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) { (void)argc; (void)argv; return 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GridCase gc;
    MgErr e = {0};
    if (case_parse(&gc, (const char *)data, size, "fuzz.m", &e) != MG_OK) {
        FUZZ_CHECK(e.code == MG_EUSAGE && e.msg[0]);
        return 0;
    }
    GridModel gm;
    MgErr e2 = {0};
    if (case_build(&gm, &gc, 10.0, "fuzz.m", &e2) == MG_OK) {
        FUZZ_CHECK(gm.n >= 1 && gm.m >= 1);
        FUZZ_CHECK(gm.total_capacity >= gm.total_demand);
        for (long i = 0; i < (long)gm.n * gm.m; i++) FUZZ_CHECK(isfinite(gm.c[i]));
        case_model_free(&gm);
    } else {
        FUZZ_CHECK(e2.msg[0]);
    }
    case_free(&gc);
    return 0;
}
