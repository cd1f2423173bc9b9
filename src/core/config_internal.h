/*
 * config_internal.h — the config's schema table, shared by config.c and the
 * tests. Not a public interface. The table machinery is schema.h.
 */
#ifndef METAGRID_CONFIG_INTERNAL_H
#define METAGRID_CONFIG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "metagrid/config.h"
#include "metagrid/schema.h"

#define CFG_MAX_FILE (1u << 20) /* config files larger than 1 MiB are refused */

extern const CfgKey cfg_keys[];
extern const int cfg_nkeys;
extern const CfgSchema cfg_schema;

/* Index of the config key with this dotted name, or -1. */
int cfg_find(const char *name);

#endif
