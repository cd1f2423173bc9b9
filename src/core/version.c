/*
 * version.c — version and build description (version.h). The Makefile
 * compiles this file with -DMG_GIT_REV, -DMG_CC and -DMG_CFLAGS.
 */
#include "metagrid/version.h"

#ifndef MG_GIT_REV
#define MG_GIT_REV "unknown"
#endif
#ifndef MG_CC
#define MG_CC "unknown"
#endif
#ifndef MG_CFLAGS
#define MG_CFLAGS "unknown"
#endif

const char *mg_version(void) { return MG_VERSION; }
const char *mg_git_rev(void) { return MG_GIT_REV; }
const char *mg_compiler(void) { return "gcc " MG_CC; }
const char *mg_cflags(void) { return MG_CFLAGS; }
