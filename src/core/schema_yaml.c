/*
 * schema_yaml.c — reading YAML against a schema table (schema.h) with the
 * libyaml event parser. Used for configs and sweep files alike.
 *
 * The walker pulls one event at a time and follows the table: a key is
 * looked up the moment it is read, so an unknown key, a value of the wrong
 * shape, an anchor or an alias stops the walk at once. Nesting therefore
 * never goes deeper than the table (CFG_MAX_DEPTH is a second guard) and
 * nothing is built in memory: deep '[[[[...', alias bombs and binary garbage
 * cost a few events each. libyaml itself checks UTF-8 and refuses control
 * characters. Every problem becomes one message "NAME:LINE: KEY: problem"
 * (file) or "WHERE: KEY: problem" (one value, e.g. --set).
 */
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "metagrid/schema.h"

#define W_GROUPS 16

struct SchemaWalk {
    yaml_parser_t parser;
    yaml_event_t ev;
    int have_ev;
    const char *text;   /* the input, for locating reader errors */
    size_t len;
    const char *name;   /* file name, or the --set origin */
    int lines;          /* 1: messages carry line numbers */
    int depth;
    MgErr *e;
    char last[160];     /* the last key read, for syntax errors */
    /* the mapping being walked (schema_walk_mapping saves and restores it) */
    const CfgSchema *S;
    void *obj;
    char disp[160];     /* shown before keys in messages ("" or "seed.") */
    int key_line[CFG_MAX_KEYS]; /* line each row was set on (0 = not yet) */
    char groups[W_GROUPS][160]; /* groups already opened, for duplicates */
    int group_line[W_GROUPS];
    int ngroups;
};
typedef SchemaWalk Walker;

static int line_of(const yaml_event_t *ev) { return (int)ev->start_mark.line + 1; }

static int w_vfail(Walker *w, int line, const char *key, const char *fmt, va_list ap)
{
    char prob[768];
    vsnprintf(prob, sizeof prob, fmt, ap);
    char loc[300];
    if (w->lines) snprintf(loc, sizeof loc, "%s:%d", w->name, line);
    else snprintf(loc, sizeof loc, "%s", w->name);
    if (key && key[0]) return schema_fail(w->e, "%s: %s%.80s: %s", loc, w->disp, key, prob);
    return schema_fail(w->e, "%s: %s", loc, prob);
}

/* Fail with "NAME[:LINE]: [DISP][KEY: ]problem". */
__attribute__((format(printf, 4, 5)))
static int w_fail(Walker *w, int line, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = w_vfail(w, line, key, fmt, ap);
    va_end(ap);
    return rc;
}

int schema_walk_fail(SchemaWalk *w, int line, const char *key, const char *fmt, ...)
{
    /* the caller names the whole key: no display prefix */
    char disp[sizeof w->disp];
    memcpy(disp, w->disp, sizeof disp);
    w->disp[0] = '\0';
    va_list ap;
    va_start(ap, fmt);
    int rc = w_vfail(w, line, key, fmt, ap);
    va_end(ap);
    memcpy(w->disp, disp, sizeof disp);
    return rc;
}

int schema_walk_line(const SchemaWalk *w) { return line_of(&w->ev); }
const char *schema_walk_name(const SchemaWalk *w) { return w->name; }

static const char *kind(const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_MAPPING_START_EVENT: return "a mapping";
    case YAML_SEQUENCE_START_EVENT: return "a sequence";
    case YAML_SCALAR_EVENT: return "a scalar";
    case YAML_ALIAS_EVENT: return "an alias";
    default: return "nothing";
    }
}

/* Tags we accept: none, the non-specific '!', and the core schema ones. */
static int tag_ok(const yaml_char_t *tag)
{
    static const char *const ok[] = {"!", YAML_STR_TAG, YAML_INT_TAG, YAML_FLOAT_TAG,
                                     YAML_BOOL_TAG, YAML_SEQ_TAG, YAML_MAP_TAG, NULL};
    if (!tag) return 1;
    for (int i = 0; ok[i]; i++)
        if (!strcmp((const char *)tag, ok[i])) return 1;
    return 0;
}

/* A plain scalar without a tag, or with a number / boolean tag: the only
 * form a number or boolean may take. "1", '1', !!str 1 and ! 1 are strings. */
static int scalar_plain(const yaml_event_t *ev)
{
    const char *tag = (const char *)ev->data.scalar.tag;
    if (tag && (!strcmp(tag, YAML_INT_TAG) || !strcmp(tag, YAML_FLOAT_TAG) ||
                !strcmp(tag, YAML_BOOL_TAG)))
        return 1;
    return !tag && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* Next event into w->ev; refuses syntax errors, aliases, anchors, tags.
 * key names the context for messages. */
static int w_next(Walker *w, const char *key)
{
    if (w->have_ev) {
        yaml_event_delete(&w->ev);
        w->have_ev = 0;
    }
    if (!yaml_parser_parse(&w->parser, &w->ev)) {
        yaml_parser_t *p = &w->parser;
        const char *what = p->problem ? p->problem : "unknown problem";
        if (p->error == YAML_READER_ERROR) {
            /* bad encoding or control character: locate the byte */
            int line = 1;
            size_t off = MG_MIN(p->problem_offset, w->len);
            for (size_t i = 0; i < off; i++) line += w->text[i] == '\n';
            return w_fail(w, line, key, "not a text file: %s (byte %zu)", what, p->problem_offset);
        }
        if (p->error == YAML_MEMORY_ERROR) return w_fail(w, 1, key, "YAML parser out of memory");
        int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
        char after[200] = "";
        if (w->last[0]) snprintf(after, sizeof after, ", after key '%s'", w->last);
        return w_fail(w, line, w->lines ? NULL : key, "YAML syntax error: %s%s%s (column %d%s)",
                      p->context ? p->context : "", p->context ? " " : "", what, col, after);
    }
    w->have_ev = 1;
    const yaml_event_t *ev = &w->ev;
    const yaml_char_t *anchor = NULL, *tag = NULL;
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        return w_fail(w, line_of(ev), key, "aliases (*%.40s) are not supported in a %s",
                      (const char *)ev->data.alias.anchor, w->S->what);
    case YAML_SCALAR_EVENT: anchor = ev->data.scalar.anchor; tag = ev->data.scalar.tag; break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor; tag = ev->data.sequence_start.tag; break;
    case YAML_MAPPING_START_EVENT:
        anchor = ev->data.mapping_start.anchor; tag = ev->data.mapping_start.tag; break;
    default: break;
    }
    if (anchor)
        return w_fail(w, line_of(ev), key, "anchors (&%.40s) and aliases are not supported in a %s",
                      (const char *)anchor, w->S->what);
    if (!tag_ok(tag))
        return w_fail(w, line_of(ev), key, "YAML tag '%.40s' is not supported in a %s",
                      (const char *)tag, w->S->what);
    return MG_OK;
}

/* ---- override text ---- */

/* Would our readers see s, written plain, as the same string? (A word that
 * starts with a letter and is not a boolean or null.) */
static int plain_safe(const char *s, size_t len)
{
    static const char *const words[] = {"true", "false", "yes", "no", "on", "off", "null",
                                        "nan", "inf", "infinity", NULL};
    if (len == 0 || len != strlen(s)) return 0;
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))) return 0;
    for (size_t i = 0; i < len; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./+-", s[i]))
            return 0;
    for (int i = 0; words[i]; i++)
        if (!strcasecmp(s, words[i])) return 0;
    return 1;
}

/* Append the current scalar as YAML text to out (used bytes *n of cap):
 * plain scalars as written; strings that would read differently plain in
 * double quotes. -1 if it does not fit. */
static int scalar_text(const yaml_event_t *ev, char *out, size_t *n, size_t cap)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (scalar_plain(ev) || plain_safe(s, len)) {
        if (memchr(s, '\0', len) || *n + len + 1 > cap) return -1;
        memcpy(out + *n, s, len);
        *n += len;
        out[*n] = '\0';
        return 0;
    }
    char tmp[8];
    if (*n + 3 > cap) return -1;
    out[(*n)++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') snprintf(tmp, sizeof tmp, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f) snprintf(tmp, sizeof tmp, "\\x%02x", ch);
        else snprintf(tmp, sizeof tmp, "%c", ch);
        size_t tl = strlen(tmp);
        if (*n + tl + 2 > cap) return -1;
        memcpy(out + *n, tmp, tl);
        *n += tl;
    }
    out[(*n)++] = '"';
    out[*n] = '\0';
    return 0;
}

int schema_walk_text(SchemaWalk *w, const char *key, char *out, size_t cap, int *plain)
{
    const yaml_event_t *ev = &w->ev;
    size_t n = 0;
    int line = line_of(ev);
    out[0] = '\0';
    if (plain) *plain = 0;
    if (ev->type == YAML_SCALAR_EVENT) {
        if (plain) *plain = scalar_plain(ev);
        if (scalar_text(ev, out, &n, cap)) return w_fail(w, line, key, "value too long");
        return MG_OK;
    }
    if (ev->type != YAML_SEQUENCE_START_EVENT)
        return w_fail(w, line, key, "expected a value or a flow list of values, got %s", kind(ev));
    out[n++] = '[';
    for (int i = 0;; i++) {
        int rc = w_next(w, key);
        if (rc) return rc;
        if (ev->type == YAML_SEQUENCE_END_EVENT) break;
        if (ev->type != YAML_SCALAR_EVENT)
            return w_fail(w, line_of(ev), key, "nested lists or mappings are not supported here");
        if (i) {
            if (n + 3 > cap) return w_fail(w, line, key, "value too long");
            out[n++] = ',';
            out[n++] = ' ';
        }
        if (scalar_text(ev, out, &n, cap - 1)) return w_fail(w, line, key, "value too long");
    }
    out[n++] = ']';
    out[n] = '\0';
    return MG_OK;
}

int schema_walk_scalar(SchemaWalk *w, const char *key, char *out, size_t cap)
{
    const yaml_event_t *ev = &w->ev;
    if (ev->type != YAML_SCALAR_EVENT)
        return w_fail(w, line_of(ev), key, "expected a single value, got %s", kind(ev));
    size_t len = ev->data.scalar.length;
    if (len >= cap || memchr(ev->data.scalar.value, '\0', len))
        return w_fail(w, line_of(ev), key, "value too long");
    memcpy(out, ev->data.scalar.value, len + 1);
    return MG_OK;
}

/* ---- values ---- */

static int w_mapping(Walker *w, const char *prefix);

static int w_intlist(Walker *w, const CfgKey *K)
{
    const yaml_event_t *ev = &w->ev;
    char prob[512], tt[96];
    schema_type_text(K, tt, sizeof tt);
    int v[CFG_LIST_MAX], n = 0;
    for (;;) {
        int rc = w_next(w, K->name);
        if (rc) return rc;
        if (ev->type == YAML_SEQUENCE_END_EVENT) break;
        if (ev->type != YAML_SCALAR_EVENT)
            return w_fail(w, line_of(ev), K->name, "expected %s, got %s inside the list", tt, kind(ev));
        if (n == CFG_LIST_MAX)
            return w_fail(w, line_of(ev), K->name, "at most %d elements are allowed", CFG_LIST_MAX);
        if (schema_list_elem(K, (const char *)ev->data.scalar.value, ev->data.scalar.length,
                             scalar_plain(ev), &v[n], prob, sizeof prob))
            return w_fail(w, line_of(ev), K->name, "%s", prob);
        n++;
    }
    schema_store_list(K, w->obj, v, n);
    return MG_OK;
}

static int w_textlist(Walker *w, const CfgKey *K)
{
    const yaml_event_t *ev = &w->ev;
    char **list = NULL, buf[4096];
    int n = 0, cap = 0, rc = MG_OK;
    size_t size = K->ihi > 0 && (size_t)K->ihi < sizeof buf ? (size_t)K->ihi : sizeof buf;
    for (;;) {
        if ((rc = w_next(w, K->name))) break;
        if (ev->type == YAML_SEQUENCE_END_EVENT) break;
        if (n == CFG_TEXTLIST_MAX) {
            rc = w_fail(w, line_of(ev), K->name, "at most %d values are allowed", CFG_TEXTLIST_MAX);
            break;
        }
        if ((rc = schema_walk_text(w, K->name, buf, size, NULL))) break;
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            char **nl = mg_calloc((size_t)cap, sizeof *nl);
            if (n) memcpy(nl, list, sizeof *nl * (size_t)n);
            free(list);
            list = nl;
        }
        list[n++] = mg_strdup(buf);
    }
    if (rc == MG_OK && n == 0) rc = w_fail(w, line_of(ev), K->name, "empty list");
    if (rc != MG_OK) {
        for (int i = 0; i < n; i++) free(list[i]);
        free(list);
        return rc;
    }
    *(char ***)((char *)w->obj + K->off) = list;
    *(int *)((char *)w->obj + K->count_off) = n;
    return MG_OK;
}

static int w_map(Walker *w, const CfgKey *K)
{
    const yaml_event_t *ev = &w->ev;
    for (;;) {
        int rc = w_next(w, K->name);
        if (rc) return rc;
        if (ev->type == YAML_MAPPING_END_EVENT) return MG_OK;
        int kline = line_of(ev);
        if (ev->type != YAML_SCALAR_EVENT)
            return w_fail(w, kline, K->name, "a mapping key must be a name, got %s", kind(ev));
        const char *key = (const char *)ev->data.scalar.value;
        size_t klen = ev->data.scalar.length;
        if (klen == 0 || klen != strlen(key) || klen > 100)
            return w_fail(w, kline, K->name, "'%.40s%s' is not a valid name", key, klen > 40 ? "..." : "");
        char kcopy[128];
        memcpy(kcopy, key, klen + 1);
        memcpy(w->last, kcopy, klen + 1);
        if ((rc = w_next(w, kcopy))) return rc;
        if ((rc = K->entry(w, w->obj, kcopy, kline))) return rc;
    }
}

/* Read the value of row k; w->ev is its first event. */
static int w_value(Walker *w, int k)
{
    const CfgKey *K = &w->S->keys[k];
    const yaml_event_t *ev = &w->ev;
    char prob[512], tt[96];
    schema_type_text(K, tt, sizeof tt);
    int line = line_of(ev), rc = MG_OK;
    if (K->type == KT_TEXT) {
        rc = schema_walk_text(w, K->name, (char *)w->obj + K->off, (size_t)K->ihi, NULL);
    } else if (ev->type == YAML_SCALAR_EVENT && K->type != KT_TEXTLIST && K->type != KT_MAP) {
        const char *s = (const char *)ev->data.scalar.value;
        if (schema_store_scalar(K, w->obj, s, ev->data.scalar.length, scalar_plain(ev), prob,
                                sizeof prob))
            return w_fail(w, line, K->name, "%s", prob);
    } else if (ev->type == YAML_SEQUENCE_START_EVENT && K->type == KT_INTLIST) {
        rc = w_intlist(w, K);
    } else if (ev->type == YAML_SEQUENCE_START_EVENT && K->type == KT_TEXTLIST) {
        rc = w_textlist(w, K);
    } else if (ev->type == YAML_MAPPING_START_EVENT && K->type == KT_MAP) {
        if (w->depth + 1 > CFG_MAX_DEPTH) return w_fail(w, line, K->name, "nested too deeply");
        w->depth++;
        rc = w_map(w, K);
        w->depth--;
    } else {
        return w_fail(w, line, K->name, "expected %s, got %s", tt, kind(ev));
    }
    if (rc) return rc;
    if (!w->key_line[k]) w->key_line[k] = line;
    return MG_OK;
}

/* Walk a mapping whose MAPPING_START is w->ev; keys are relative to prefix. */
static int w_mapping(Walker *w, const char *prefix)
{
    const CfgSchema *S = w->S;
    for (;;) {
        int rc = w_next(w, prefix);
        if (rc) return rc;
        yaml_event_t *ev = &w->ev;
        if (ev->type == YAML_MAPPING_END_EVENT) return MG_OK;
        int kline = line_of(ev);
        if (ev->type != YAML_SCALAR_EVENT)
            return w_fail(w, kline, prefix, "a mapping key must be a name, got %s", kind(ev));
        const char *key = (const char *)ev->data.scalar.value;
        size_t klen = ev->data.scalar.length;
        char path[160];
        if (klen != strlen(key) || klen > 100)
            return w_fail(w, kline, prefix, "unknown key '%.40s%s'", key, klen > 40 ? "..." : "");
        snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", key);
        memcpy(w->last, path, sizeof path);
        int k = schema_find(S, path);
        if (k >= 0) {
            if (w->key_line[k])
                return w_fail(w, kline, path, "duplicate key (first set on line %d)", w->key_line[k]);
            if ((rc = w_next(w, path))) return rc;
            w->key_line[k] = kline; /* duplicates name the key's line */
            if ((rc = w_value(w, k))) return rc;
            continue;
        }
        if (!schema_is_group(S, path))
            return w_fail(w, kline, path, "unknown key (did you mean '%s'?)", schema_suggest(S, path));
        for (int g = 0; g < w->ngroups; g++)
            if (!strcmp(w->groups[g], path))
                return w_fail(w, kline, path, "duplicate key (first on line %d)", w->group_line[g]);
        if (w->ngroups < W_GROUPS) {
            snprintf(w->groups[w->ngroups], sizeof w->groups[0], "%s", path);
            w->group_line[w->ngroups++] = kline;
        }
        if ((rc = w_next(w, path))) return rc;
        if (ev->type != YAML_MAPPING_START_EVENT) {
            char ch[256];
            schema_group_children(S, path, ch, sizeof ch);
            return w_fail(w, line_of(ev), path, "expected a mapping of keys (%s), got %s", ch, kind(ev));
        }
        if (w->depth + 1 > CFG_MAX_DEPTH) return w_fail(w, line_of(ev), path, "nested too deeply");
        w->depth++;
        rc = w_mapping(w, path);
        w->depth--;
        if (rc) return rc;
    }
}

int schema_walk_mapping(SchemaWalk *w, const CfgSchema *S, void *obj, const char *display,
                        int *key_line)
{
    if (w->ev.type != YAML_MAPPING_START_EVENT) {
        char ch[256];
        schema_group_children(S, "", ch, sizeof ch);
        return schema_walk_fail(w, line_of(&w->ev), display, "expected a mapping (%s), got %s", ch,
                                kind(&w->ev));
    }
    if (w->depth + 1 > CFG_MAX_DEPTH) return schema_walk_fail(w, line_of(&w->ev), display, "nested too deeply");
    /* save the outer mapping's state */
    const CfgSchema *S0 = w->S;
    void *obj0 = w->obj;
    Walker *saved = mg_malloc(sizeof *saved);
    memcpy(saved->disp, w->disp, sizeof w->disp);
    memcpy(saved->key_line, w->key_line, sizeof w->key_line);
    memcpy(saved->groups, w->groups, sizeof w->groups);
    memcpy(saved->group_line, w->group_line, sizeof w->group_line);
    saved->ngroups = w->ngroups;
    w->S = S;
    w->obj = obj;
    snprintf(w->disp, sizeof w->disp, "%.100s.", display);
    memset(w->key_line, 0, sizeof w->key_line);
    w->ngroups = 0;
    w->depth++;
    int rc = w_mapping(w, "");
    w->depth--;
    if (rc == MG_OK && key_line) memcpy(key_line, w->key_line, sizeof(int) * (size_t)S->n);
    w->S = S0;
    w->obj = obj0;
    memcpy(w->disp, saved->disp, sizeof w->disp);
    memcpy(w->key_line, saved->key_line, sizeof w->key_line);
    memcpy(w->groups, saved->groups, sizeof w->groups);
    memcpy(w->group_line, saved->group_line, sizeof w->group_line);
    w->ngroups = saved->ngroups;
    free(saved);
    return rc;
}

/* ---- documents ---- */

static Walker *w_new(const CfgSchema *S, void *obj, const char *text, size_t len, const char *name,
                     int lines, MgErr *e)
{
    MG_ASSERT(S->n <= CFG_MAX_KEYS);
    Walker *w = mg_malloc(sizeof *w); /* the parser state is large-ish: heap */
    MG_ASSERT(yaml_parser_initialize(&w->parser));
    yaml_parser_set_input_string(&w->parser, (const unsigned char *)text, len);
    w->text = text;
    w->len = len;
    w->name = name;
    w->lines = lines;
    w->e = e;
    w->S = S;
    w->obj = obj;
    return w;
}

static void w_free(Walker *w)
{
    if (w->have_ev) yaml_event_delete(&w->ev);
    yaml_parser_delete(&w->parser);
    free(w);
}

static int w_document(Walker *w)
{
    int rc;
    const yaml_event_t *ev = &w->ev;
    const char *what = w->S->what;
    if ((rc = w_next(w, NULL))) return rc; /* STREAM_START */
    if ((rc = w_next(w, NULL))) return rc;
    if (ev->type == YAML_STREAM_END_EVENT)
        return w_fail(w, 1, NULL, "empty %s (expected a mapping of keys)", what);
    if ((rc = w_next(w, NULL))) return rc; /* the document's root */
    char ch[256];
    schema_group_children(w->S, "", ch, sizeof ch);
    if (ev->type == YAML_SCALAR_EVENT && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        (ev->data.scalar.length == 0 || !strcmp((const char *)ev->data.scalar.value, "~") ||
         !strcmp((const char *)ev->data.scalar.value, "null")))
        return w_fail(w, 1, NULL, "empty %s (expected a mapping of keys: %s)", what, ch);
    if (ev->type != YAML_MAPPING_START_EVENT)
        return w_fail(w, line_of(ev), NULL, "the top level must be a mapping of keys (%s), got %s",
                      ch, kind(ev));
    if ((rc = w_mapping(w, ""))) return rc;
    if ((rc = w_next(w, NULL))) return rc; /* DOCUMENT_END */
    if ((rc = w_next(w, NULL))) return rc;
    if (ev->type != YAML_STREAM_END_EVENT)
        return w_fail(w, line_of(ev), NULL, "more than one YAML document (a %s is one mapping)", what);
    return MG_OK;
}

int schema_load(const CfgSchema *S, void *obj, const char *text, size_t len, const char *name,
                int *key_line, MgErr *e)
{
    Walker *w = w_new(S, obj, text, len, name, 1, e);
    int rc = w_document(w);
    if (rc == MG_OK && key_line) memcpy(key_line, w->key_line, sizeof(int) * (size_t)S->n);
    w_free(w);
    return rc;
}

int schema_set(const CfgSchema *S, void *obj, int k, const char *value, const char *where,
               MgErr *e)
{
    Walker *w = w_new(S, obj, value, strlen(value), where, 0, e);
    const yaml_event_t *ev = &w->ev;
    const char *key = S->keys[k].name;
    char tt[96];
    int rc = w_next(w, key); /* STREAM_START */
    if (!rc) rc = w_next(w, key);
    if (!rc && ev->type == YAML_STREAM_END_EVENT) {
        schema_type_text(&S->keys[k], tt, sizeof tt);
        rc = w_fail(w, 0, key, "missing value (expected %s)", tt);
    }
    if (!rc) rc = w_next(w, key); /* the value */
    if (!rc) rc = w_value(w, k);
    if (!rc) rc = w_next(w, key); /* DOCUMENT_END */
    if (!rc) rc = w_next(w, key);
    if (!rc && ev->type != YAML_STREAM_END_EVENT)
        rc = w_fail(w, 0, key, "expected one value, got several YAML documents");
    w_free(w);
    return rc;
}
