/*
 * hours.h — the operator's hourly CSV files (src/tasks/hours.c) for
 * `metagrid predict`: demands and available capacities of a grid case's
 * transportation instance (case.h), one row per hour.
 *
 * Format (README: "The hourly CSV files"): a header `hour,ID,ID,...` naming
 * every demand id and supply id of the case exactly once, in any order; then
 * one row per hour: a label (unique, not empty, no comma or quote) and one
 * number per column, MW, finite and >= 0. Empty lines are skipped; CRLF line
 * ends are accepted; quoting is not. Every hour must be feasible: total
 * capacity >= total demand. Any problem: MG_EUSAGE with "NAME:LINE: problem"
 * (the line of the header or of the row). Limits: HOURS_MAX_BYTES, at most
 * HOURS_MAX_ROWS hours.
 */
#ifndef METAGRID_HOURS_H
#define METAGRID_HOURS_H

#include <stddef.h>

#include "metagrid/case.h"
#include "metagrid/common.h"

#define HOURS_MAX_BYTES (256u << 20)
#define HOURS_MAX_ROWS 1000000
#define HOURS_LABEL_MAX 64

typedef struct {
    int k;                          /* hours */
    int n, m;                       /* the case's demand and supply points */
    char (*label)[HOURS_LABEL_MAX]; /* (k) */
    int *line;                      /* (k) line of each hour in the file */
    double *d;                      /* (k, n) demands, the case's demand order */
    double *s;                      /* (k, m) capacities, the case's supply order */
} HourTable;

/* Parse text (len bytes) against gm's ids; name is used in messages. On
 * error ht is left zeroed. Free with hours_free. */
int hours_parse(HourTable *ht, const GridModel *gm, const char *text, size_t len,
                const char *name, MgErr *e);
/* Read and parse the file at path. */
int hours_load(HourTable *ht, const GridModel *gm, const char *path, MgErr *e);
void hours_free(HourTable *ht);

#endif
