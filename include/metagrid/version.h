/*
 * version.h — the program's version (the one place it is defined) and the
 * build it was made by: git revision, compiler, flags (passed in by the
 * Makefile when src/core/version.c is compiled).
 */
#ifndef METAGRID_VERSION_H
#define METAGRID_VERSION_H

#define MG_VERSION "0.2.0"

const char *mg_version(void);  /* MG_VERSION */
const char *mg_git_rev(void);  /* short hash, "+dirty" if the tree had changes; "unknown" */
const char *mg_compiler(void); /* "gcc 12.2.0" */
const char *mg_cflags(void);   /* the optimisation flags (Makefile OPT) */

#endif
