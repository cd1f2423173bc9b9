/*
 * schema.h — table-driven YAML readers: one machinery for every file a user
 * writes by hand (the run config, sweep files).
 *
 * A schema is a table of keys (CfgKey rows): a dotted name, a type, where the
 * value goes in the target struct (an offset), its range or names. The walker
 * (schema_yaml.c) pulls libyaml events and follows the table, so every file
 * read through it gets the same rules and the same messages:
 *   - unknown keys (with the nearest known key or group suggested),
 *     duplicate keys, values of the wrong type or out of range,
 *   - anchors, aliases, custom tags and several documents are refused,
 *   - numbers and booleans must be plain YAML scalars: "1" (quoted) and
 *     !!str 1 are strings and are refused for numeric and boolean keys,
 *   - nesting never goes deeper than the table and nothing is built in
 *     memory, so hostile input costs a few events.
 * Errors are MG_EUSAGE with one message "NAME:LINE: KEY: problem" (a file) or
 * "WHERE: KEY: problem" (one value given on the command line).
 *
 * Keys may be nested mappings (task: {family: region}) or dotted
 * (task.family: region). A KT_MAP row is an open mapping (its keys are not in
 * the table): each entry is handed to the row's `entry` function, which reads
 * the value with schema_walk_text / schema_walk_mapping (a nested schema).
 */
#ifndef METAGRID_SCHEMA_H
#define METAGRID_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "metagrid/common.h"

typedef enum {
    KT_INT,      /* int field, range ilo..ihi */
    KT_INT64,    /* int64_t field, range ilo..ihi */
    KT_FLOAT,    /* double field, finite, [flo, fhi] ((flo, fhi] if lo_open) */
    KT_BOOL,     /* int field 0/1: true/false/yes/no/on/off */
    KT_ENUM,     /* int field: index into names */
    KT_INTLIST,  /* int[CFG_LIST_MAX] field, count at count_off, elements ilo..ihi */
    KT_PATH,     /* char[ihi] field: a file path, no control characters; null = "" */
    KT_STR,      /* char[ihi] field: any scalar (quoted or not), `check` if set */
    KT_TEXT,     /* char[ihi] field: a scalar or flow list of scalars as YAML text */
    KT_TEXTLIST, /* char ** at off, int count at count_off: a list of KT_TEXT values */
    KT_MAP       /* an open mapping: `entry` reads each (key, value) */
} CfgType;

#define CFG_LIST_MAX 8      /* KT_INTLIST: at most this many elements */
#define CFG_MAX_KEYS 64     /* rows of one schema */
#define CFG_MAX_DEPTH 16    /* nesting limit of mappings */
#define CFG_TEXTLIST_MAX 10000 /* KT_TEXTLIST: at most this many values */

typedef struct SchemaWalk SchemaWalk;

/* One row of a schema. */
typedef struct {
    const char *name;         /* dotted path, e.g. "algo.gate.base" */
    CfgType type;
    size_t off;               /* offset of the field in the target */
    size_t count_off;         /* KT_INTLIST / KT_TEXTLIST: offset of the int count */
    int64_t ilo, ihi;         /* integer range, inclusive (list: per element);
                                 KT_STR / KT_TEXT: ihi = field size in bytes */
    double flo, fhi;          /* float range: [flo, fhi], (flo, fhi] if lo_open */
    int lo_open;
    const char *const *names; /* KT_ENUM: value names, index = value, NULL-ended */
    const char *def;          /* default, as YAML text (NULL: none) */
    int hashed;               /* config: defines the training problem */
    const char *desc;         /* one line for the reference / help */
    /* KT_STR: extra check of the text; 0 ok, else -1 and a phrase in prob */
    int (*check)(const char *s, char *prob, size_t nprob);
    /* KT_MAP: read one entry; w's current event is the value's first event.
     * Returns MG_OK or an error made with schema_walk_fail. */
    int (*entry)(SchemaWalk *w, void *obj, const char *key, int line);
} CfgKey;

typedef struct {
    const CfgKey *keys;
    int n;
    const char *what; /* "config", "sweep file", ...: messages */
} CfgSchema;

/* ---- lookup and text ---- */

/* Index of the row with this dotted name, or -1. */
int schema_find(const CfgSchema *S, const char *name);
/* 1 if name is a proper prefix group of some row ("task", "algo.gate"). */
int schema_is_group(const CfgSchema *S, const char *name);
/* The nearest row or group name to an unknown name (never NULL; the result
 * may live in a static buffer until the next call). */
const char *schema_suggest(const CfgSchema *S, const char *name);
/* The nearest of names[0..n) (NULL-ended if n < 0) within a distance that
 * makes it a plausible typo, else NULL. */
const char *schema_nearest(const char *name, const char *const *names, int n);
/* "family, n_demand, ..." — the direct children of a group ("" = top level). */
void schema_group_children(const CfgSchema *S, const char *group, char *buf, size_t n);
/* "an integer", "a number", "true or false", "one of a, b", ... */
void schema_type_text(const CfgKey *K, char *buf, size_t n);
/* ">= 0", "1 .. 100", "> 0 and <= 10", "a, b, c" */
void schema_range_text(const CfgKey *K, char *buf, size_t n);

/*
 * Convert one scalar (len bytes; plain = an untagged plain YAML scalar, the
 * only form numbers and booleans may take) for row K and store it in obj.
 * KT_INTLIST: schema_list_elem converts one element. On a problem -1 and a
 * phrase such as "expected an integer, got 'abc'" in prob.
 */
int schema_store_scalar(const CfgKey *K, void *obj, const char *s, size_t len, int plain,
                        char *prob, size_t nprob);
int schema_list_elem(const CfgKey *K, const char *s, size_t len, int plain, int *elem,
                     char *prob, size_t nprob);
void schema_store_list(const CfgKey *K, void *obj, const int *v, int n);

/* mg_fail(e, MG_EUSAGE, ...) with control characters shown as '?'. */
int schema_fail(MgErr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- the YAML walker (schema_yaml.c) ---- */

/*
 * Read a whole document (one mapping) of len bytes into obj following S.
 * key_line (S->n entries, may be NULL) receives the line each row was set
 * on (0: not in the file). name is used in messages. MG_OK or MG_EUSAGE.
 */
int schema_load(const CfgSchema *S, void *obj, const char *text, size_t len, const char *name,
                int *key_line, MgErr *e);
/* Read one value for row k from YAML text ("0.01", "[40, 40]", "maml");
 * where names the origin in messages ("--set", "sweep.yaml:12"). */
int schema_set(const CfgSchema *S, void *obj, int k, const char *value, const char *where,
               MgErr *e);

/* For KT_MAP entry functions: the current value as override text — a scalar
 * as written (re-quoted when it was quoted and reads differently plain), or
 * a flow list of scalars "[a, b]"; *plain = it was a plain untagged scalar. */
int schema_walk_text(SchemaWalk *w, const char *key, char *out, size_t cap, int *plain);
/* The current value must be a scalar: its text as written (no quotes). */
int schema_walk_scalar(SchemaWalk *w, const char *key, char *out, size_t cap);
/* The current value must be a mapping: walk it with schema S into obj; the
 * keys are shown in messages as "DISPLAY.KEY". key_line as in schema_load. */
int schema_walk_mapping(SchemaWalk *w, const CfgSchema *S, void *obj, const char *display,
                        int *key_line);
/* Line of the current event. */
int schema_walk_line(const SchemaWalk *w);
/* The file name given to schema_load. */
const char *schema_walk_name(const SchemaWalk *w);
/* Fail with "NAME:LINE: KEY: problem". */
int schema_walk_fail(SchemaWalk *w, int line, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
