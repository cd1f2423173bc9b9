/*
 * test_json.c — the JSON writer (round-trip numbers, null for non-finite,
 * escapes) and the output-file helpers (a failed write is an error).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "metagrid/common.h"
#include "metagrid/json.h"

/* What fn wrote, as a fresh string. */
static char *capture(void (*fn)(FILE *))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fn(f);
    fclose(f);
    return buf;
}

static void w_nums(FILE *f)
{
    json_num(f, 0.1);
    fputc(' ', f);
    json_num(f, NAN);
    fputc(' ', f);
    json_num(f, -INFINITY);
    fputc(' ', f);
    json_num(f, -2.5e-300);
}
static void w_str(FILE *f) { json_str(f, "a\"b\\c\nd\x01"); }
static void w_strn(FILE *f) { json_strn(f, "abcdef", 3); }
static void w_vec(FILE *f)
{
    double v[3] = {1, NAN, 0.5};
    json_vec(f, v, 3);
    json_vec(f, v, 0);
}

int main(void)
{
    char *s = capture(w_nums);
    CHECK_MSG(!strcmp(s, "0.10000000000000001 null null -2.5e-300"), "%s", s);
    double back = strtod(s, NULL);
    CHECK(back == 0.1);
    free(s);
    s = capture(w_str);
    CHECK_MSG(!strcmp(s, "\"a\\\"b\\\\c\\u000ad\\u0001\""), "%s", s);
    free(s);
    s = capture(w_strn);
    CHECK_MSG(!strcmp(s, "\"abc\""), "%s", s);
    free(s);
    s = capture(w_vec);
    CHECK_MSG(!strcmp(s, "[1,null,0.5][]"), "%s", s);
    free(s);

    MgErr e = {0};
    CHECK(mg_write_text("/dev/full", "x", &e) == MG_EFAIL);
    CHECK_MSG(strstr(e.msg, "/dev/full") != NULL, "%s", e.msg);
    MgErr e2 = {0};
    CHECK(mg_open_out("/nonexistent-dir/x", "w", &e2) == NULL && e2.code == MG_EFAIL);
    char path[] = "/tmp/metagrid-test-json.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    MgErr e3 = {0};
    CHECK(mg_write_text(path, "hello\n", &e3) == MG_OK);
    char *text = mg_read_file(path, 100, NULL, &e3);
    CHECK(text && !strcmp(text, "hello\n"));
    free(text);
    unlink(path);
    return TEST_REPORT();
}
