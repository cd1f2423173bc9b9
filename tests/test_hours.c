/*
 * test_hours.c — the operator's hourly CSV reader against case5's ids: a
 * good file in shuffled column order, and every kind of bad input (each must
 * fail with "NAME:LINE:" and the problem).
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "metagrid/hours.h"

static GridCase gc;
static GridModel gm;

#define HDR "hour,gen5,bus2,gen1,bus3,gen2,bus4,gen3,gen4\n"

static void test_good(void)
{
    const char *t = HDR "h1, 10, 300 ,20,300,30,400,40,1000\r\n\n"
                        "h2,0,1,0,1,0,1,0,3\n";
    HourTable ht;
    MgErr e = {0};
    CHECK_MSG(hours_parse(&ht, &gm, t, strlen(t), "a.csv", &e) == MG_OK, "%s", e.msg);
    CHECK(ht.k == 2 && !strcmp(ht.label[1], "h2") && ht.line[1] == 4);
    /* model order: bus2 bus3 bus4 / gen1..gen5 */
    CHECK(ht.d[0] == 300 && ht.d[1] == 300 && ht.d[2] == 400);
    CHECK(ht.s[0] == 20 && ht.s[1] == 30 && ht.s[2] == 40 && ht.s[3] == 1000 && ht.s[4] == 10);
    CHECK(ht.s[5 + 3] == 3 && ht.d[3] == 1);
    hours_free(&ht);
}

static void test_bad(void)
{
    static const struct { const char *text; const char *want; } bad[] = {
        {"", "a.csv: empty file"},
        {"\n\n", "a.csv: empty file"},
        {HDR, "a.csv:1: no hours"},
        {"hours,gen5,bus2,gen1,bus3,gen2,bus4,gen3,gen4\nh,1,1,1,1,1,1,1,1\n", "a.csv:1: the header must start with 'hour'"},
        {"hour,gen5,bus2,gen1,bus3,gen2,bus4,gen3\nh,1,1,1,1,1,1,1\n", "a.csv:1: missing column 'gen4'"},
        {"hour,gen5,bus2,gen1,bus3,gen2,bus4,gen3,gen9\n", "a.csv:1: unknown id 'gen9'"},
        {"hour,gen5,bus2,gen1,bus3,gen2,bus4,gen3,gen3\n", "a.csv:1: duplicate column 'gen3'"},
        {"hour,gen5,bus2,gen1,bus3,gen2,bus4,gen3,gen4,bus2\n", "a.csv:1: duplicate column 'bus2'"},
        {HDR "h,1,1,1,1,1,1,1\n", "a.csv:2: fewer fields"},
        {HDR "h,1,1,1,1,1,1,1,1,1\n", "a.csv:2: more fields"},
        {HDR "h,1,1,1,1,1,1,1,x\n", "a.csv:2: gen4: not a number: 'x'"},
        {HDR "h,1,1,1,1,1,1,1,0x10\n", "a.csv:2: gen4: not a number"},
        {HDR "h,1,1,1,1,1,1,1,\n", "a.csv:2: gen4: empty value"},
        {HDR "h,1,nan,1,1,1,1,1,1\n", "a.csv:2: bus2: NaN or infinity"},
        {HDR "h,1,1e999,1,1,1,1,1,1\n", "a.csv:2: bus2: NaN or infinity"},
        {HDR "h,1,-1,1,1,1,1,1,1\n", "a.csv:2: bus2: negative value -1"},
        {HDR "h,1,1,1,1,1,1,1,1\n\nh,1,1,1,1,1,1,1,1\n", "a.csv:4: hour 'h' appears twice (first at line 2)"},
        {HDR ",1,1,1,1,1,1,1,1\n", "a.csv:2: empty hour label"},
        {HDR "h,0,100,0,100,0,100,0,299\n", "a.csv:2: hour 'h': capacities (299 MW) cannot meet the demands (300 MW)"},
        {HDR "\"h\",1,1,1,1,1,1,1,1\n", "a.csv:2: quoted fields"},
        {HDR "h,1,1,1,1\0,1,1,1,1\n", "a.csv: NUL byte"},
    };
    for (size_t t = 0; t < sizeof bad / sizeof bad[0]; t++) {
        HourTable ht;
        MgErr e = {0};
        size_t len = strlen(bad[t].text);
        if (strstr(bad[t].want, "NUL")) len += 10;
        int rc = hours_parse(&ht, &gm, bad[t].text, len, "a.csv", &e);
        CHECK_MSG(rc == MG_EUSAGE && strstr(e.msg, bad[t].want) == e.msg, "case %zu: rc %d '%s' "
                  "want '%s'", t, rc, e.msg, bad[t].want);
        CHECK(ht.d == NULL && ht.k == 0);
    }
    HourTable ht;
    MgErr e = {0};
    CHECK(hours_load(&ht, &gm, "/nonexistent/h.csv", &e) == MG_EUSAGE);
}

int main(void)
{
    MgErr e = {0};
    CHECK(case_load(&gc, "data/grids/pglib_opf_case5_pjm.m", &e) == MG_OK);
    CHECK(case_build(&gm, &gc, 1.0, "case5", &e) == MG_OK);
    test_good();
    test_bad();
    case_model_free(&gm);
    case_free(&gc);
    return TEST_REPORT();
}
