/*
 * provenance.h — what a run was made with, recorded in config.yaml (as YAML
 * comments: the file loads back unchanged) and in eval.json (a
 * "provenance" object), as CoMD's run report does: version, git revision,
 * compiler and flags, the MPI and BLAS libraries, the small-matrix kernels
 * in use and the number of ranks.
 */
#ifndef METAGRID_PROVENANCE_H
#define METAGRID_PROVENANCE_H

#include <stdio.h>

typedef struct {
    const char *version, *git, *compiler, *flags;
    const char *mpi;     /* par_library(): the runtime's, or the one compiled against */
    const char *blas;    /* kern_blas_library() */
    const char *kernels; /* "avx2+fma" or "portable" */
    int ranks;
} Provenance;

/* Fill p (strings are static: nothing to free). */
void provenance_get(Provenance *p);
/* "# provenance: ..." comment lines, one field per line. */
void provenance_write_yaml_comments(const Provenance *p, FILE *f);
/* {"version": ..., ...} (no trailing newline). */
void provenance_write_json(const Provenance *p, FILE *f);

#endif
