/*
 * test_case.c — the MATPOWER / PGLib case reader and the derived instance:
 * a small hand-checked case, the eight shipped cases against the table in
 * data/grids/README.md, Dijkstra against Floyd-Warshall, and many malformed
 * inputs (each must fail with "NAME:LINE:" and the problem).
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "metagrid/case.h"

static const char *const small[] = {
    "function mpc = t",                                  /* 1 */
    "mpc.version = '2';",                                /* 2 */
    "mpc.baseMVA = 100;",                                /* 3 */
    "mpc.bus = [",                                       /* 4 */
    "1 3 0 0 0 0 1 1 0 230 1 1.1 0.9;",                  /* 5 */
    "2 1 50 0 0 0 1 1 0 230 1 1.1 0.9;",                 /* 6 */
    "3 1 30 0 0 0 1 1 0 230 1 1.1 0.9;",                 /* 7 */
    "];",                                                /* 8 */
    "mpc.gen = [",                                       /* 9 */
    "1 0 0 0 0 1 100 1 100 0; % NG",                     /* 10 */
    "3 0 0 0 0 1 100 1 40 0; % COW",                     /* 11 */
    "];",                                                /* 12 */
    "mpc.gencost = [",                                   /* 13 */
    "2 0 0 3 0.01 10 0;",                                /* 14 */
    "2 0 0 3 0 20 0;",                                   /* 15 */
    "];",                                                /* 16 */
    "mpc.branch = [",                                    /* 17 */
    "1 2 0 0.1 0 0 0 0 0 0 1;",                          /* 18 */
    "2 3 0 -0.2 0 0 0 0 0 0 1;",                         /* 19 */
    "1 3 0 0.5 0 0 0 0 0 0 1;",                          /* 20 */
    "];",                                                /* 21 */
};
#define NSMALL ((int)(sizeof small / sizeof small[0]))

/* The small case with line `line` (1-based) replaced by repl (NULL: drop
 * it; "+TEXT": insert TEXT before it). Caller frees. */
static char *small_with(int line, const char *repl)
{
    size_t cap = 4096 + (repl ? strlen(repl) : 0);
    char *s = malloc(cap);
    s[0] = '\0';
    for (int i = 0; i < NSMALL; i++) {
        if (i + 1 == line && repl && repl[0] == '+') {
            strcat(s, repl + 1);
            strcat(s, "\n");
        } else if (i + 1 == line) {
            if (repl) {
                strcat(s, repl);
                strcat(s, "\n");
            }
            continue;
        }
        strcat(s, small[i]);
        strcat(s, "\n");
    }
    return s;
}

static void test_small(void)
{
    char *text = small_with(0, NULL);
    GridCase gc;
    MgErr e = {0};
    CHECK_MSG(case_parse(&gc, text, strlen(text), "t.m", &e) == MG_OK, "%s", e.msg);
    CHECK(gc.n_bus == 3 && gc.n_gen == 2 && gc.n_branch == 3);
    CHECK_NEAR(gc.gen_mc[0], 11.0, 1e-12); /* c1 + c2 Pmax = 10 + 0.01 * 100 */
    CHECK_NEAR(gc.gen_mc[1], 20.0, 1e-12);
    CHECK(!strcmp(gc.gen_fuel[0], "NG") && !strcmp(gc.gen_fuel[1], "COW"));
    GridModel gm;
    CHECK_MSG(case_build(&gm, &gc, 10.0, "t.m", &e) == MG_OK, "%s", e.msg);
    CHECK(gm.n == 2 && gm.m == 2);
    CHECK(!strcmp(gm.demand_id[0], "bus2") && !strcmp(gm.demand_id[1], "bus3"));
    CHECK(!strcmp(gm.supply_id[0], "gen1") && !strcmp(gm.supply_id[1], "gen2"));
    /* bus2-gen1 0.1; bus2-gen2 |-0.2|; bus3-gen1 0.1+0.2 < 0.5; bus3-gen2 0 */
    CHECK_NEAR(gm.dist[0], 0.1, 1e-12);
    CHECK_NEAR(gm.dist[1], 0.2, 1e-12);
    CHECK_NEAR(gm.dist[2], 0.3, 1e-12);
    CHECK_NEAR(gm.dist[3], 0.0, 1e-12);
    CHECK_NEAR(gm.c[2], 11.0 + 10.0 * 0.3, 1e-12);
    CHECK_NEAR(gm.total_demand, 80.0, 1e-12);
    CHECK_NEAR(gm.total_capacity, 140.0, 1e-12);
    CHECK_NEAR(gm.cost_min, 11.0 + 1.0, 1e-12);
    CHECK_NEAR(gm.cost_max, 20.0 + 2.0, 1e-12);
    CHECK(gm.n_fuel == 2 && gm.fuel[1] == 1);
    CHECK(case_model_find(&gm, "gen2") == 3 && case_model_find(&gm, "bus9") == -1);
    case_model_free(&gm);
    case_free(&gc);
    free(text);
}

static void test_piecewise(void)
{
    /* gen 1: points (0,0) (50,500) (100,1500): slope at Pmax/2 = 50 is 10
     * (the segment holding 50 ends there), at a Pmax of 120 (p=60) 20. */
    char *text = small_with(14, "1 0 0 3 0 0 50 500 100 1500;");
    char *t2 = NULL;
    GridCase gc;
    MgErr e = {0};
    /* gencost rows must have equal length: pad row 2 */
    char *p = strstr(text, "2 0 0 3 0 20 0;");
    CHECK(p != NULL);
    t2 = malloc(strlen(text) + 32);
    snprintf(t2, strlen(text) + 32, "%.*s2 0 0 3 0 20 0 0 0 0;%s", (int)(p - text), text,
             p + strlen("2 0 0 3 0 20 0;"));
    CHECK_MSG(case_parse(&gc, t2, strlen(t2), "t.m", &e) == MG_OK, "%s", e.msg);
    CHECK_NEAR(gc.gen_mc[0], 10.0, 1e-12);
    CHECK_NEAR(gc.gen_mc[1], 20.0, 1e-12);
    case_free(&gc);
    free(text);
    free(t2);
}

typedef struct {
    int line;
    const char *repl;
    int err_line;     /* expected line in the message (0: no line) */
    const char *what; /* expected phrase */
} Bad;

static void test_malformed(void)
{
    static const Bad bad[] = {
        {6, "2 1 50 0 0 0 1 1 0 230 1 1.1;", 6, "ragged"},
        {5, "1 3 0 0 0 0 1 1 0 230;", 5, "at least 13"},
        {6, "2 1 NaN 0 0 0 1 1 0 230 1 1.1 0.9;", 6, "NaN or infinity"},
        {6, "2 1 Inf 0 0 0 1 1 0 230 1 1.1 0.9;", 6, "NaN or infinity"},
        {6, "2 1 5x 0 0 0 1 1 0 230 1 1.1 0.9;", 6, "not a number"},
        {6, "2 1 1e999 0 0 0 1 1 0 230 1 1.1 0.9;", 6, "out of range"},
        {7, "2 1 30 0 0 0 1 1 0 230 1 1.1 0.9;", 7, "appears twice"},
        {7, "3.5 1 30 0 0 0 1 1 0 230 1 1.1 0.9;", 7, "positive integer"},
        {10, "9 0 0 0 0 1 100 1 100 0;", 10, "unknown bus 9"},
        {11, "3 0 0 0 0 1 100 1 -40 0;", 11, "negative Pmax"},
        {18, "1 7 0 0.1 0 0 0 0 0 0 1;", 18, "unknown bus 7"},
        {18, "1 2 0 0.1 0 0 0 0 0;", 18, "at least 11"},
        {14, "3 0 0 3 0.01 10 0;", 14, "model 3"},
        {14, "2 0 0 9 0.01 10 0;", 14, "does not fit"},
        {14, "1 0 0 3 0 0 50;", 14, "piecewise"},
        {15, NULL, 13, "mpc.gencost has 1 rows"},
        {3, NULL, 0, "mpc.baseMVA is missing"},
        {3, "mpc.baseMVA = -1;", 3, "must be > 0"},
        {3, "mpc.baseMVA = abc;", 3, "not a number"},
        {2, "mpc.baseMVA = 100;", 3, "baseMVA appears twice"},
        {9, "mpc.gen= [", 0, NULL}, /* legal spacing: parses */
        {21, NULL, 20, "end of file inside mpc.branch (opened at line 17"},
        {21, "] x", 21, "after ']'"},
        {1, "disp(1)", 1, "unexpected text"},
        {1, "x = 3;", 1, "unexpected text"},
        {17, "+mpc.bus = [", 17, "appears twice (first at line 4)"},
        {18, "+mpc.bus = [", 18, "not a number: 'mpc.bus'"},
        {17, "mpc.brunch = [", 0, "mpc.branch is missing"},
        {5, "+];", 0, NULL}, /* bus = [ ]; then stray rows: line 6 error */
    };
    int nb = (int)(sizeof bad / sizeof bad[0]);
    for (int t = 0; t < nb; t++) {
        char *text = small_with(bad[t].line, bad[t].repl);
        GridCase gc;
        MgErr e = {0};
        int rc = case_parse(&gc, text, strlen(text), "t.m", &e);
        if (!bad[t].what && bad[t].line == 9) {
            CHECK_MSG(rc == MG_OK, "case %d: %s", t, e.msg);
            case_free(&gc);
            free(text);
            continue;
        }
        CHECK_MSG(rc == MG_EUSAGE, "case %d (line %d -> %s): rc %d", t, bad[t].line,
                  bad[t].repl ? bad[t].repl : "(dropped)", rc);
        char where[32];
        snprintf(where, sizeof where, "t.m:%d: ", bad[t].err_line);
        if (bad[t].err_line)
            CHECK_MSG(strstr(e.msg, where) == e.msg, "case %d: '%s' lacks %s", t, e.msg, where);
        if (bad[t].what)
            CHECK_MSG(strstr(e.msg, bad[t].what) != NULL, "case %d: '%s' lacks '%s'", t, e.msg,
                      bad[t].what);
        CHECK(gc.bus_num == NULL && gc.n_bus == 0);
        free(text);
    }
}

static void test_model_errors(void)
{
    struct { int line; const char *repl; const char *what; } bad[] = {
        {6, "2 1 0 0 0 0 1 1 0 230 1 1.1 0.9;", NULL},
        {7, "3 1 0 0 0 0 1 1 0 230 1 1.1 0.9;", "no load"},
        {10, "1 0 0 0 0 1 100 0 100 0;", NULL},
        {11, "3 0 0 0 0 1 100 1 0 0;", NULL},
        {7, "3 1 300 0 0 0 1 1 0 230 1 1.1 0.9;", "below total demand"},
        {19, "2 3 0 0.2 0 0 0 0 0 0 0;", NULL},
        {20, "1 3 0 0.5 0 0 0 0 0 0 0;", NULL},
    };
    /* single changes: 0 load-ok, 2: gen1 off -> 40 MW < 80 */
    const char *expect[] = {NULL, "no load", "below total demand", NULL,
                            "below total demand", NULL, NULL};
    for (int t = 0; t < 7; t++) {
        char *text = small_with(bad[t].line, bad[t].repl);
        if (t == 1) { /* both loads zero */
            char *t2 = text;
            char *p = strstr(t2, "2 1 50");
            memcpy(p, "2 1 00", 6);
        }
        GridCase gc;
        GridModel gm;
        MgErr e = {0};
        CHECK_MSG(case_parse(&gc, text, strlen(text), "t.m", &e) == MG_OK, "%d: %s", t, e.msg);
        int rc = case_build(&gm, &gc, 1.0, "t.m", &e);
        if (expect[t]) {
            CHECK_MSG(rc == MG_EUSAGE && strstr(e.msg, expect[t]), "%d: rc %d '%s'", t, rc, e.msg);
        } else {
            CHECK_MSG(rc == MG_OK, "%d: %s", t, e.msg);
            case_model_free(&gm);
        }
        case_free(&gc);
        free(text);
    }
    /* both branches into bus 3 out: bus3 is an island with gen2, bus2 cannot
     * reach gen2 */
    char *text = small_with(19, "2 3 0 0.2 0 0 0 0 0 0 0;");
    char *p = strstr(text, "1 3 0 0.5 0 0 0 0 0 0 1;");
    p[strlen("1 3 0 0.5 0 0 0 0 0 0 ")] = '0';
    GridCase gc;
    GridModel gm;
    MgErr e = {0};
    CHECK(case_parse(&gc, text, strlen(text), "t.m", &e) == MG_OK);
    CHECK(case_build(&gm, &gc, 1.0, "t.m", &e) == MG_EUSAGE && strstr(e.msg, "not connected"));
    case_free(&gc);
    free(text);
}

/* Floyd-Warshall over the same graph: the reference for Dijkstra. */
static void test_distances_reference(void)
{
    GridCase gc;
    GridModel gm;
    MgErr e = {0};
    CHECK_MSG(case_load(&gc, "data/grids/pglib_opf_case30_ieee.m", &e) == MG_OK, "%s", e.msg);
    CHECK_MSG(case_build(&gm, &gc, 1.0, "case30", &e) == MG_OK, "%s", e.msg);
    int nb = gc.n_bus;
    double *D = malloc(sizeof(double) * nb * nb);
    for (int i = 0; i < nb * nb; i++) D[i] = INFINITY;
    for (int i = 0; i < nb; i++) D[i * nb + i] = 0;
    for (int k = 0; k < gc.n_branch; k++) {
        if (!gc.br_on[k]) continue;
        int a = gc.br_from[k], b = gc.br_to[k];
        D[a * nb + b] = fmin(D[a * nb + b], gc.br_x[k]);
        D[b * nb + a] = fmin(D[b * nb + a], gc.br_x[k]);
    }
    for (int k = 0; k < nb; k++)
        for (int i = 0; i < nb; i++)
            for (int j = 0; j < nb; j++)
                if (D[i * nb + k] + D[k * nb + j] < D[i * nb + j])
                    D[i * nb + j] = D[i * nb + k] + D[k * nb + j];
    double worst = 0;
    for (int i = 0; i < gm.n; i++)
        for (int j = 0; j < gm.m; j++) {
            int bi = gm.demand_bus[i], bj = gc.gen_bus[gm.supply_gen[j]];
            worst = fmax(worst, fabs(D[bi * nb + bj] - gm.dist[i * gm.m + j]));
        }
    CHECK_MSG(worst < 1e-12, "max |dijkstra - floyd| = %g", worst);
    free(D);
    case_model_free(&gm);
    case_free(&gc);
}

static void test_shipped(void)
{
    static const struct { const char *f; int n, m; double pd, pmax; } t[] = {
        {"pglib_opf_case5_pjm.m", 3, 5, 1000, 1530},
        {"pglib_opf_case14_ieee.m", 11, 2, 259, 399},
        {"pglib_opf_case24_ieee_rts.m", 17, 32, 2850, 3405},
        {"pglib_opf_case30_ieee.m", 21, 2, 283, 363},
        {"pglib_opf_case57_ieee.m", 42, 4, 1251, 1983},
        {"pglib_opf_case73_ieee_rts.m", 51, 96, 8550, 10215},
        {"pglib_opf_case118_ieee.m", 99, 19, 4242, 6515},
        {"pglib_opf_case300_ieee.m", 191, 57, 23848, 36077},
    };
    for (int k = 0; k < 8; k++) {
        char path[256];
        snprintf(path, sizeof path, "data/grids/%s", t[k].f);
        GridCase gc;
        GridModel gm;
        MgErr e = {0};
        CHECK_MSG(case_load(&gc, path, &e) == MG_OK, "%s", e.msg);
        if (e.code) continue;
        CHECK_MSG(case_build(&gm, &gc, 1.0, path, &e) == MG_OK, "%s", e.msg);
        if (e.code) { case_free(&gc); continue; }
        CHECK_MSG(gm.n == t[k].n && gm.m == t[k].m, "%s: %dx%d", t[k].f, gm.n, gm.m);
        CHECK_MSG(fabs(gm.total_demand - t[k].pd) < 1 && fabs(gm.total_capacity - t[k].pmax) < 1,
                  "%s: %g %g", t[k].f, gm.total_demand, gm.total_capacity);
        CHECK(gm.cost_min <= gm.cost_max && gm.cost_min >= 0);
        CHECK(gm.n_fuel >= 1);
        case_model_free(&gm);
        case_free(&gc);
    }
    /* fuels of case118 */
    GridCase gc;
    MgErr e = {0};
    CHECK(case_load(&gc, "data/grids/pglib_opf_case118_ieee.m", &e) == MG_OK);
    CHECK(!strcmp(gc.gen_fuel[0], "SYNC") && !strcmp(gc.gen_fuel[4], "NG"));
    case_free(&gc);
    CHECK(case_load(&gc, "data/grids/no_such.m", &e) != MG_OK);
}

static void test_huge(void)
{
    /* more bus rows than the limit: refused at the first row beyond it */
    size_t rows = CASE_MAX_BUSES + 1, cap = rows * 32 + 256;
    char *s = malloc(cap);
    size_t u = (size_t)snprintf(s, cap, "mpc.baseMVA = 100;\nmpc.bus = [\n");
    for (size_t i = 0; i < rows; i++)
        u += (size_t)snprintf(s + u, cap - u, "%zu 1 1 0 0 0 1 1 0 1 1 1 1;\n", i + 1);
    GridCase gc;
    MgErr e = {0};
    CHECK(case_parse(&gc, s, u, "big.m", &e) == MG_EUSAGE);
    char want[64];
    snprintf(want, sizeof want, "big.m:%d: mpc.bus: more than", CASE_MAX_BUSES + 3);
    CHECK_MSG(strstr(e.msg, want) == e.msg, "%s", e.msg);
    free(s);
    /* NUL byte, CRLF line ends, empty input */
    const char crlf[] = "mpc.baseMVA = 100;\r\nx\r\n";
    MgErr e2 = {0};
    CHECK(case_parse(&gc, crlf, sizeof crlf - 1, "c.m", &e2) == MG_EUSAGE &&
          strstr(e2.msg, "c.m:2: unexpected text 'x'"));
    MgErr e3 = {0};
    CHECK(case_parse(&gc, "mpc.baseMVA = 1\0;", 17, "n.m", &e3) == MG_EUSAGE &&
          strstr(e3.msg, "NUL"));
    MgErr e4 = {0};
    CHECK(case_parse(&gc, "", 0, "e.m", &e4) == MG_EUSAGE && strstr(e4.msg, "missing"));
}

int main(void)
{
    test_small();
    test_piecewise();
    test_malformed();
    test_model_errors();
    test_distances_reference();
    test_shipped();
    test_huge();
    return TEST_REPORT();
}
