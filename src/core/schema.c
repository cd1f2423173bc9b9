/*
 * schema.c — the generic part of table-driven readers (schema.h): lookup of
 * dotted names, suggestions for unknown ones, type and range texts, and the
 * conversion of scalars into typed fields with range checks. The config
 * (config.c) and sweep files (sweep.c) are tables of rows for it; the YAML
 * walker is schema_yaml.c.
 */
#define _POSIX_C_SOURCE 200809L
#include "metagrid/schema.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int schema_find(const CfgSchema *S, const char *name)
{
    for (int k = 0; k < S->n; k++)
        if (strcmp(S->keys[k].name, name) == 0) return k;
    return -1;
}

int schema_is_group(const CfgSchema *S, const char *name)
{
    size_t n = strlen(name);
    if (n == 0) return 0;
    for (int k = 0; k < S->n; k++)
        if (strncmp(S->keys[k].name, name, n) == 0 && S->keys[k].name[n] == '.') return 1;
    return 0;
}

/* Edit distance with adjacent transpositions ("tiem" -> "time" is 1),
 * strings cut at 64 bytes. */
static int edit_distance(const char *a, const char *b)
{
    int la = (int)MG_MIN(strlen(a), 64), lb = (int)MG_MIN(strlen(b), 64);
    int row[65], prev[65], prev2[65];
    for (int j = 0; j <= lb; j++) prev[j] = j;
    for (int i = 1; i <= la; i++) {
        row[0] = i;
        for (int j = 1; j <= lb; j++) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            int del = prev[j] + 1, ins = row[j - 1] + 1;
            row[j] = MG_MIN(sub, MG_MIN(del, ins));
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                row[j] = MG_MIN(row[j], prev2[j - 2] + 1);
        }
        memcpy(prev2, prev, sizeof(int) * (size_t)(lb + 1));
        memcpy(prev, row, sizeof(int) * (size_t)(lb + 1));
    }
    return prev[lb];
}

static const char *leaf(const char *s)
{
    const char *d = strrchr(s, '.');
    return d ? d + 1 : s;
}

/* Score a candidate: the distance of the whole dotted names, or the
 * distance of the last components plus one (so "iterations" finds
 * "train.iterations" and "eval.k_suport" prefers "eval.k_support"). */
static void consider(const char *name, const char *cand, int *best, int *best_full,
                     const char **out)
{
    int full = edit_distance(name, cand);
    int score = MG_MIN(full, edit_distance(leaf(name), leaf(cand)) + 1);
    if (score < *best || (score == *best && full < *best_full)) {
        *best = score;
        *best_full = full;
        *out = cand;
    }
}

const char *schema_suggest(const CfgSchema *S, const char *name)
{
    static char group_best[48]; /* the winning group name, if a group wins */
    int best = INT_MAX, best_full = INT_MAX;
    const char *out = S->keys[0].name;
    for (int k = 0; k < S->n; k++) {
        consider(name, S->keys[k].name, &best, &best_full, &out);
        /* its groups: every prefix that ends before a '.' */
        const char *s = S->keys[k].name;
        for (const char *d = strchr(s, '.'); d; d = strchr(d + 1, '.')) {
            char g[48];
            snprintf(g, sizeof g, "%.*s", (int)(d - s), s);
            const char *o = out;
            consider(name, g, &best, &best_full, &o);
            if (o == g) {
                memcpy(group_best, g, sizeof g);
                out = group_best;
            }
        }
    }
    return out;
}

const char *schema_nearest(const char *name, const char *const *names, int n)
{
    const char *out = NULL;
    int best = INT_MAX;
    for (int i = 0; n < 0 ? names[i] != NULL : i < n; i++) {
        int d = edit_distance(name, names[i]);
        if (d < best) {
            best = d;
            out = names[i];
        }
    }
    /* a plausible typo: at most a third of the longer name changed */
    size_t l = strlen(name);
    if (out && strlen(out) > l) l = strlen(out);
    return out && best > 0 && (size_t)best * 3 <= l + 2 ? out : NULL;
}

void schema_group_children(const CfgSchema *S, const char *group, char *buf, size_t n)
{
    size_t gl = strlen(group), used = 0;
    char last[48] = "";
    buf[0] = '\0';
    for (int k = 0; k < S->n; k++) {
        const char *s = S->keys[k].name;
        if (gl) {
            if (strncmp(s, group, gl) != 0 || s[gl] != '.') continue;
            s += gl + 1;
        }
        const char *d = strchr(s, '.');
        char child[48];
        snprintf(child, sizeof child, "%.*s", d ? (int)(d - s) : (int)strlen(s), s);
        if (strcmp(child, last) == 0) continue;
        memcpy(last, child, sizeof last);
        int w = snprintf(buf + used, n - used, "%s%s", used ? ", " : "", child);
        if (w < 0 || (size_t)w >= n - used) break;
        used += (size_t)w;
    }
}

void schema_type_text(const CfgKey *K, char *buf, size_t n)
{
    switch (K->type) {
    case KT_INT:
    case KT_INT64: snprintf(buf, n, "an integer"); break;
    case KT_FLOAT: snprintf(buf, n, "a number"); break;
    case KT_BOOL: snprintf(buf, n, "true or false"); break;
    case KT_INTLIST: snprintf(buf, n, "a list of integers such as [40, 40]"); break;
    case KT_PATH: snprintf(buf, n, "a file path"); break;
    case KT_STR: snprintf(buf, n, "a string"); break;
    case KT_TEXT: snprintf(buf, n, "a value or a flow list of values"); break;
    case KT_TEXTLIST: snprintf(buf, n, "a list of values"); break;
    case KT_MAP: snprintf(buf, n, "a mapping"); break;
    case KT_ENUM: {
        size_t used = (size_t)snprintf(buf, n, "one of ");
        for (int i = 0; K->names[i] && used < n; i++)
            used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "", K->names[i]);
        break;
    }
    }
}

void schema_range_text(const CfgKey *K, char *buf, size_t n)
{
    switch (K->type) {
    case KT_INT:
    case KT_INT64:
    case KT_INTLIST:
        if (K->ihi == INT64_MAX || K->ihi == INT_MAX)
            snprintf(buf, n, ">= %" PRId64, K->ilo);
        else
            snprintf(buf, n, "%" PRId64 " .. %" PRId64, K->ilo, K->ihi);
        if (K->type == KT_INTLIST) {
            size_t u = strlen(buf);
            snprintf(buf + u, n - u, " each, at most %d", CFG_LIST_MAX);
        }
        break;
    case KT_FLOAT:
        snprintf(buf, n, "%s %g and <= %g", K->lo_open ? ">" : ">=", K->flo, K->fhi);
        break;
    case KT_BOOL: snprintf(buf, n, "true, false"); break;
    case KT_PATH: snprintf(buf, n, "a path (empty: none)"); break;
    case KT_ENUM: {
        size_t used = 0;
        buf[0] = '\0';
        for (int i = 0; K->names[i] && used < n; i++)
            used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "", K->names[i]);
        break;
    }
    default: buf[0] = '\0'; break;
    }
}

int schema_fail(MgErr *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = mg_vfail_at(e, NULL, 0, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- value conversion ---- */

/* Show a scalar in a message: quoted, cut at 40 bytes. */
static void show(char *out, size_t n, const char *s, size_t len)
{
    if (len > 40) snprintf(out, n, "'%.37s...'", s);
    else snprintf(out, n, "'%.*s'", (int)len, s);
}

static int is_null(const char *s, int plain)
{
    return plain && (!s[0] || !strcmp(s, "~") || !strcasecmp(s, "null"));
}

/* A number or boolean given as a string ("1", '1', !!str 1). */
static int quoted(const char *sh, const char *what, char *prob, size_t nprob)
{
    snprintf(prob, nprob, "expected %s, got the string %s (write it without quotes or tags)",
             what, sh);
    return -1;
}

static int is_nan_inf(const char *s)
{
    if (*s == '+' || *s == '-') s++;
    if (*s == '.') s++;
    return !strcasecmp(s, "nan") || !strcasecmp(s, "inf") || !strcasecmp(s, "infinity");
}

/* Copy s into out without the YAML digit separators ('_' between digits).
 * Returns 0, or -1 if s does not fit or holds a NUL byte. */
static int clean_number(const char *s, size_t len, char *out, size_t n)
{
    if (len >= n || memchr(s, '\0', len)) return -1;
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '_' && i > 0 && i + 1 < len && s[i - 1] >= '0' && s[i - 1] <= '9' &&
            s[i + 1] >= '0' && s[i + 1] <= '9')
            continue;
        out[j++] = s[i];
    }
    out[j] = '\0';
    return 0;
}

/* Parse a finite double; 0 ok, -1 not a number, -2 NaN or infinity. */
static int parse_double(const char *s, double *v)
{
    if (is_nan_inf(s)) return -2;
    if (!s[0] || s[0] == ' ' || s[0] == '\t') return -1;
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end) return -1;
    if (!isfinite(x)) return -2;
    *v = x;
    return 0;
}

/* Parse an integer: decimal digits, or a number with an integral value
 * ("1e3", "2.0"). 0 ok, -1 not an integer, -2 NaN/inf, -3 too large. */
static int parse_int(const char *s, int64_t *v)
{
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (end != s && !*end && s[0] != ' ' && s[0] != '\t') {
        if (errno == ERANGE) return -3;
        *v = x;
        return 0;
    }
    double d;
    int r = parse_double(s, &d);
    if (r) return r;
    if (d != floor(d)) return -1;
    if (fabs(d) > 9007199254740992.0) return -3;
    *v = (int64_t)d;
    return 0;
}

static int int_value(const CfgKey *K, const char *s, size_t len, int plain, int64_t *v,
                     char *prob, size_t nprob)
{
    char buf[128], sh[64];
    show(sh, sizeof sh, s, len);
    if (is_null(s, plain)) return snprintf(prob, nprob, "missing value (expected an integer)"), -1;
    if (!plain) return quoted(sh, "an integer", prob, nprob);
    int r = clean_number(s, len, buf, sizeof buf) ? -1 : parse_int(buf, v);
    if (r == -2) return snprintf(prob, nprob, "NaN or infinity is not allowed, got %s", sh), -1;
    if (r == -1) return snprintf(prob, nprob, "expected an integer, got %s", sh), -1;
    if (r == -3 || *v < K->ilo || *v > K->ihi) {
        char rt[96];
        schema_range_text(K, rt, sizeof rt);
        if (K->type == KT_INTLIST) { char *c = strstr(rt, " each"); if (c) *c = '\0'; }
        return snprintf(prob, nprob, "value %s out of range (must be %s)", sh, rt), -1;
    }
    return 0;
}

int schema_store_scalar(const CfgKey *K, void *obj, const char *s, size_t len, int plain,
                        char *prob, size_t nprob)
{
    char *field = (char *)obj + K->off;
    char sh[64], tt[96];
    show(sh, sizeof sh, s, len);
    schema_type_text(K, tt, sizeof tt);
    if (memchr(s, '\0', len))
        return snprintf(prob, nprob, "value contains a NUL character"), -1;
    switch (K->type) {
    case KT_INT:
    case KT_INT64: {
        int64_t v;
        if (int_value(K, s, len, plain, &v, prob, nprob)) return -1;
        if (K->type == KT_INT) *(int *)field = (int)v;
        else *(int64_t *)field = v;
        return 0;
    }
    case KT_FLOAT: {
        char buf[128];
        double v = 0;
        if (is_null(s, plain)) return snprintf(prob, nprob, "missing value (expected a number)"), -1;
        if (!plain) return quoted(sh, "a number", prob, nprob);
        int r = clean_number(s, len, buf, sizeof buf) ? -1 : parse_double(buf, &v);
        if (r == -2) return snprintf(prob, nprob, "NaN or infinity is not allowed, got %s", sh), -1;
        if (r == -1) return snprintf(prob, nprob, "expected a number, got %s", sh), -1;
        if (v < K->flo || (K->lo_open && v == K->flo) || v > K->fhi) {
            char rt[96];
            schema_range_text(K, rt, sizeof rt);
            return snprintf(prob, nprob, "value %s out of range (must be %s)", sh, rt), -1;
        }
        *(double *)field = v;
        return 0;
    }
    case KT_BOOL: {
        static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
        for (int i = 0; i < 3; i++) {
            int v = !strcasecmp(s, yes[i]) ? 1 : !strcasecmp(s, no[i]) ? 0 : -1;
            if (v >= 0 && !plain) return quoted(sh, "true or false", prob, nprob);
            if (v >= 0) { *(int *)field = v; return 0; }
        }
        if (is_null(s, plain)) return snprintf(prob, nprob, "missing value (expected %s)", tt), -1;
        return snprintf(prob, nprob, "expected %s, got %s", tt, sh), -1;
    }
    case KT_ENUM:
        for (int i = 0; K->names[i]; i++)
            if (!strcmp(s, K->names[i])) { *(int *)field = i; return 0; }
        if (is_null(s, plain)) return snprintf(prob, nprob, "missing value (expected %s)", tt), -1;
        {
            const char *near = schema_nearest(s, K->names, -1);
            if (near)
                return snprintf(prob, nprob, "expected %s, got %s (did you mean '%s'?)", tt, sh, near), -1;
        }
        return snprintf(prob, nprob, "expected %s, got %s", tt, sh), -1;
    case KT_PATH:
        if ((int64_t)len >= K->ihi)
            return snprintf(prob, nprob, "path longer than %" PRId64 " bytes", K->ihi - 1), -1;
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                return snprintf(prob, nprob, "control character in the path %s", sh), -1;
        if (is_null(s, plain)) len = 0;
        memset(field, 0, (size_t)K->ihi); /* configs compare with memcmp */
        memcpy(field, s, len);
        field[len] = '\0';
        return 0;
    case KT_STR:
        if ((int64_t)len >= K->ihi)
            return snprintf(prob, nprob, "too long (at most %" PRId64 " bytes)", K->ihi - 1), -1;
        if (K->check && K->check(s, prob, nprob)) return -1;
        memcpy(field, s, len);
        field[len] = '\0';
        return 0;
    case KT_INTLIST:
        if (is_null(s, plain)) return snprintf(prob, nprob, "missing value (expected %s)", tt), -1;
        return snprintf(prob, nprob, "expected %s, got %s", tt, sh), -1;
    default:
        return snprintf(prob, nprob, "expected %s, got %s", tt, sh), -1;
    }
}

int schema_list_elem(const CfgKey *K, const char *s, size_t len, int plain, int *elem,
                     char *prob, size_t nprob)
{
    int64_t v;
    if (int_value(K, s, len, plain, &v, prob, nprob)) return -1;
    *elem = (int)v;
    return 0;
}

void schema_store_list(const CfgKey *K, void *obj, const int *v, int n)
{
    MG_ASSERT(K->type == KT_INTLIST && n >= 0 && n <= CFG_LIST_MAX);
    int *arr = (int *)((char *)obj + K->off);
    memset(arr, 0, sizeof(int) * CFG_LIST_MAX);
    if (n) memcpy(arr, v, sizeof(int) * (size_t)n);
    *(int *)((char *)obj + K->count_off) = n;
}
