/*
 * config_internal.h — what config.c (schema, values, writer) and
 * config_yaml.c (the libyaml event walker) share. Not a public interface.
 */
#ifndef METAGRID_CONFIG_INTERNAL_H
#define METAGRID_CONFIG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "metagrid/config.h"

typedef enum { KT_INT, KT_INT64, KT_FLOAT, KT_BOOL, KT_ENUM, KT_INTLIST, KT_PATH } CfgType;

/* One row of the schema: every key of Config is exactly one row. */
typedef struct {
    const char *name;         /* dotted path, e.g. "algo.gate.base" */
    CfgType type;
    size_t off;               /* offset of the field in Config */
    size_t count_off;         /* KT_INTLIST: offset of the element count */
    int64_t ilo, ihi;         /* integer range, inclusive (list: per element) */
    double flo, fhi;          /* float range: [flo, fhi], (flo, fhi] if lo_open */
    int lo_open;
    const char *const *names; /* KT_ENUM: value names, index = value, NULL-ended */
    const char *def;          /* default, as YAML text */
    int hashed;               /* defines the training problem: enters config_hash */
    const char *desc;         /* one line for the config reference */
} CfgKey;

#define CFG_MAX_KEYS 64
#define CFG_MAX_FILE (1u << 20) /* config files larger than 1 MiB are refused */
#define CFG_MAX_DEPTH 16        /* nesting limit of mappings (the schema needs 3) */

extern const CfgKey cfg_keys[];
extern const int cfg_nkeys;

/* Index of the key with this dotted name, or -1. */
int cfg_find(const char *name);
/* 1 if name is a proper prefix group of some key ("task", "algo.gate"). */
int cfg_is_group(const char *name);
/* The nearest key or group name to an unknown name (never NULL). */
const char *cfg_suggest(const char *name);
/* "family, n_demand, ..." — the direct children of a group ("" = top level). */
void cfg_group_children(const char *group, char *buf, size_t n);
/* "an integer", "a number", "true or false", "one of a, b", "a list of integers" */
void cfg_type_text(int k, char *buf, size_t n);

/*
 * Convert scalar text (len bytes, plain = unquoted YAML scalar) for key k
 * (any type but KT_INTLIST) and store it in c; or, for KT_INTLIST, convert
 * one element into *elem. On a problem returns -1 and writes a phrase such
 * as "expected an integer, got 'abc'" into prob.
 */
int cfg_store_scalar(Config *c, int k, const char *s, size_t len, int plain,
                     char *prob, size_t nprob);
int cfg_list_elem(int k, const char *s, size_t len, int plain, int *elem,
                  char *prob, size_t nprob);
void cfg_store_list(Config *c, int k, const int *v, int n);

/* mg_fail(e, MG_EUSAGE, ...) with control characters in the message (from
 * quoted scalars, odd keys) shown as '?': the message stays one line. */
int cfg_fail(MgErr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The YAML walker (config_yaml.c). cfg_yaml_load reads a whole config
 * document into c (over whatever it holds); key_line (cfg_nkeys entries, may
 * be NULL) receives the line each key was set on. cfg_yaml_set reads one
 * value for key k. Both return MG_OK or MG_EUSAGE with one message. */
int cfg_yaml_load(Config *c, const char *text, size_t len, const char *name,
                  int *key_line, MgErr *e);
int cfg_yaml_set(Config *c, int k, const char *value, const char *where, MgErr *e);

#endif
