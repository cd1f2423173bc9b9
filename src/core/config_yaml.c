/*
 * config_yaml.c — reading configs with the libyaml event parser.
 *
 * The walker pulls one event at a time and follows the schema: a key is
 * looked up the moment it is read, so an unknown key, a value of the wrong
 * shape, an anchor or an alias stops the walk at once. Nesting therefore
 * never goes deeper than the schema (3 levels; CFG_MAX_DEPTH is a second
 * guard) and nothing is built in memory: deep '[[[[...', alias bombs and
 * binary garbage cost a few events each. libyaml itself checks UTF-8 and
 * refuses control characters. Every problem becomes one message
 * "NAME:LINE: KEY: problem" (file) or "WHERE: KEY: problem" (--set).
 */
#include <stdarg.h>
#include <string.h>
#include <yaml.h>

#include "config_internal.h"

typedef struct {
    yaml_parser_t parser;
    yaml_event_t ev;
    int have_ev;
    const char *text;   /* the input, for locating reader errors */
    size_t len;
    const char *name;   /* file name, or the --set origin */
    int lines;          /* 1: messages carry line numbers */
    Config *c;
    MgErr *e;
    int key_line[CFG_MAX_KEYS]; /* line each key was set on (0 = not yet) */
    char groups[16][160];       /* groups already opened, for duplicates */
    int group_line[16];
    int ngroups;
    char last[160];             /* the last key read, for syntax errors */
} Walker;

static int line_of(const yaml_event_t *ev) { return (int)ev->start_mark.line + 1; }

/* Fail with "NAME[:LINE]: [KEY: ]problem". */
__attribute__((format(printf, 4, 5)))
static int w_fail(Walker *w, int line, const char *key, const char *fmt, ...)
{
    char prob[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prob, sizeof prob, fmt, ap);
    va_end(ap);
    char loc[300];
    if (w->lines) snprintf(loc, sizeof loc, "%s:%d", w->name, line);
    else snprintf(loc, sizeof loc, "%s", w->name);
    if (key && key[0]) return cfg_fail(w->e, "%s: %.80s: %s", loc, key, prob);
    return cfg_fail(w->e, "%s: %s", loc, prob);
}

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
        return w_fail(w, line_of(ev), key, "aliases (*%.40s) are not supported in configs",
                      (const char *)ev->data.alias.anchor);
    case YAML_SCALAR_EVENT: anchor = ev->data.scalar.anchor; tag = ev->data.scalar.tag; break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor; tag = ev->data.sequence_start.tag; break;
    case YAML_MAPPING_START_EVENT:
        anchor = ev->data.mapping_start.anchor; tag = ev->data.mapping_start.tag; break;
    default: break;
    }
    if (anchor)
        return w_fail(w, line_of(ev), key, "anchors (&%.40s) and aliases are not supported in configs",
                      (const char *)anchor);
    if (!tag_ok(tag))
        return w_fail(w, line_of(ev), key, "YAML tag '%.40s' is not supported in configs",
                      (const char *)tag);
    return MG_OK;
}

/* Read the value of key k; w->ev is its first event. */
static int w_value(Walker *w, int k)
{
    const CfgKey *K = &cfg_keys[k];
    const yaml_event_t *ev = &w->ev;
    char prob[512], tt[96];
    cfg_type_text(k, tt, sizeof tt);
    int line = line_of(ev);
    if (ev->type == YAML_SCALAR_EVENT) {
        const char *s = (const char *)ev->data.scalar.value;
        int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        if (cfg_store_scalar(w->c, k, s, ev->data.scalar.length, plain, prob, sizeof prob))
            return w_fail(w, line, K->name, "%s", prob);
    } else if (ev->type == YAML_SEQUENCE_START_EVENT && K->type == KT_INTLIST) {
        int v[CONFIG_MAX_HIDDEN], n = 0;
        for (;;) {
            int rc = w_next(w, K->name);
            if (rc) return rc;
            if (ev->type == YAML_SEQUENCE_END_EVENT) break;
            if (ev->type != YAML_SCALAR_EVENT)
                return w_fail(w, line_of(ev), K->name, "expected %s, got %s inside the list",
                              tt, kind(ev));
            if (n == CONFIG_MAX_HIDDEN)
                return w_fail(w, line_of(ev), K->name, "at most %d layers are allowed",
                              CONFIG_MAX_HIDDEN);
            int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            if (cfg_list_elem(k, (const char *)ev->data.scalar.value, ev->data.scalar.length,
                              plain, &v[n], prob, sizeof prob))
                return w_fail(w, line_of(ev), K->name, "%s", prob);
            n++;
        }
        cfg_store_list(w->c, k, v, n);
    } else {
        return w_fail(w, line, K->name, "expected %s, got %s", tt, kind(ev));
    }
    w->key_line[k] = line;
    return MG_OK;
}

/* Walk a mapping whose MAPPING_START is w->ev; keys are relative to prefix. */
static int w_mapping(Walker *w, const char *prefix, int depth)
{
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
        int k = cfg_find(path);
        if (k >= 0) {
            if (w->key_line[k])
                return w_fail(w, kline, path, "duplicate key (first set on line %d)", w->key_line[k]);
            if ((rc = w_next(w, path))) return rc;
            if ((rc = w_value(w, k))) return rc;
            continue;
        }
        if (!cfg_is_group(path))
            return w_fail(w, kline, path, "unknown key (did you mean '%s'?)", cfg_suggest(path));
        for (int g = 0; g < w->ngroups; g++)
            if (!strcmp(w->groups[g], path))
                return w_fail(w, kline, path, "duplicate key (first on line %d)", w->group_line[g]);
        if (w->ngroups < 16) {
            snprintf(w->groups[w->ngroups], sizeof w->groups[0], "%s", path);
            w->group_line[w->ngroups++] = kline;
        }
        if ((rc = w_next(w, path))) return rc;
        if (ev->type != YAML_MAPPING_START_EVENT) {
            char ch[256];
            cfg_group_children(path, ch, sizeof ch);
            return w_fail(w, line_of(ev), path, "expected a mapping of keys (%s), got %s", ch, kind(ev));
        }
        if (depth + 1 > CFG_MAX_DEPTH) return w_fail(w, line_of(ev), path, "nested too deeply");
        if ((rc = w_mapping(w, path, depth + 1))) return rc;
    }
}

static void w_init(Walker *w, const char *text, size_t len, const char *name, int lines,
                   Config *c, MgErr *e)
{
    memset(w, 0, sizeof *w);
    MG_ASSERT(yaml_parser_initialize(&w->parser));
    yaml_parser_set_input_string(&w->parser, (const unsigned char *)text, len);
    w->text = text;
    w->len = len;
    w->name = name;
    w->lines = lines;
    w->c = c;
    w->e = e;
}

static void w_free(Walker *w)
{
    if (w->have_ev) yaml_event_delete(&w->ev);
    yaml_parser_delete(&w->parser);
}

static int w_document(Walker *w)
{
    int rc;
    const yaml_event_t *ev = &w->ev;
    if ((rc = w_next(w, NULL))) return rc; /* STREAM_START */
    if ((rc = w_next(w, NULL))) return rc;
    if (ev->type == YAML_STREAM_END_EVENT)
        return w_fail(w, 1, NULL, "empty config (expected a mapping of keys)");
    if ((rc = w_next(w, NULL))) return rc; /* the document's root */
    char ch[256];
    cfg_group_children("", ch, sizeof ch);
    if (ev->type == YAML_SCALAR_EVENT && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        (ev->data.scalar.length == 0 || !strcmp((const char *)ev->data.scalar.value, "~") ||
         !strcmp((const char *)ev->data.scalar.value, "null")))
        return w_fail(w, 1, NULL, "empty config (expected a mapping of keys: %s)", ch);
    if (ev->type != YAML_MAPPING_START_EVENT)
        return w_fail(w, line_of(ev), NULL, "the top level must be a mapping of keys (%s), got %s",
                      ch, kind(ev));
    if ((rc = w_mapping(w, "", 1))) return rc;
    if ((rc = w_next(w, NULL))) return rc; /* DOCUMENT_END */
    if ((rc = w_next(w, NULL))) return rc;
    if (ev->type != YAML_STREAM_END_EVENT)
        return w_fail(w, line_of(ev), NULL, "more than one YAML document (a config is one mapping)");
    return MG_OK;
}

int cfg_yaml_load(Config *c, const char *text, size_t len, const char *name, int *key_line,
                  MgErr *e)
{
    Walker *w = mg_malloc(sizeof *w); /* the parser state is large-ish: heap */
    w_init(w, text, len, name, 1, c, e);
    int rc = w_document(w);
    if (rc == MG_OK && key_line) memcpy(key_line, w->key_line, sizeof(int) * (size_t)cfg_nkeys);
    w_free(w);
    free(w);
    return rc;
}

int cfg_yaml_set(Config *c, int k, const char *value, const char *where, MgErr *e)
{
    Walker *w = mg_malloc(sizeof *w);
    w_init(w, value, strlen(value), where, 0, c, e);
    const yaml_event_t *ev = &w->ev;
    const char *key = cfg_keys[k].name;
    char tt[96];
    int rc = w_next(w, key); /* STREAM_START */
    if (!rc) rc = w_next(w, key);
    if (!rc && ev->type == YAML_STREAM_END_EVENT) {
        cfg_type_text(k, tt, sizeof tt);
        rc = w_fail(w, 0, key, "missing value (expected %s)", tt);
    }
    if (!rc) rc = w_next(w, key); /* the value */
    if (!rc) rc = w_value(w, k);
    if (!rc) rc = w_next(w, key); /* DOCUMENT_END */
    if (!rc) rc = w_next(w, key);
    if (!rc && ev->type != YAML_STREAM_END_EVENT)
        rc = w_fail(w, 0, key, "expected one value, got several YAML documents");
    w_free(w);
    free(w);
    return rc;
}
