/*
 * provenance.c — the provenance of a run (provenance.h).
 */
#include "metagrid/provenance.h"

#include "metagrid/json.h"
#include "metagrid/kernels.h"
#include "metagrid/parallel.h"
#include "metagrid/version.h"

void provenance_get(Provenance *p)
{
    p->version = mg_version();
    p->git = mg_git_rev();
    p->compiler = mg_compiler();
    p->flags = mg_cflags();
    p->mpi = par_library();
    p->blas = kern_blas_library();
    p->kernels = kern_simd() ? "avx2+fma" : "portable";
    p->ranks = par_size();
}

void provenance_write_yaml_comments(const Provenance *p, FILE *f)
{
    fprintf(f,
            "# provenance (comments: ignored when this file is loaded)\n"
            "#   version: %s\n#   git: %s\n#   compiler: %s\n#   flags: %s\n"
            "#   mpi: %s\n#   blas: %s\n#   kernels: %s\n#   ranks: %d\n",
            p->version, p->git, p->compiler, p->flags, p->mpi, p->blas, p->kernels, p->ranks);
}

void provenance_write_json(const Provenance *p, FILE *f)
{
    const char *keys[] = {"version", "git", "compiler", "flags", "mpi", "blas", "kernels"};
    const char *vals[] = {p->version, p->git, p->compiler, p->flags, p->mpi, p->blas, p->kernels};
    fputc('{', f);
    for (int i = 0; i < 7; i++) {
        fprintf(f, "%s\"%s\": ", i ? ", " : "", keys[i]);
        json_str(f, vals[i]);
    }
    fprintf(f, ", \"ranks\": %d}", p->ranks);
}
