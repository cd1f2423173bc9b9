/*
 * cmd_inspect.c — `metagrid inspect CHECKPOINT [--params]`: verify a
 * checkpoint and print its header (and with --params every meta-parameter)
 * as one JSON object on stdout. Runs without MPI. A missing, truncated,
 * corrupted or other-version file is exit 2 with one message on stderr.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "metagrid/json.h"
#include "metagrid/ckpt.h"
#include "metagrid/cmd.h"
#include "metagrid/common.h"

static const char inspect_usage[] =
    "usage: metagrid inspect CHECKPOINT [--params]\n"
    "\n"
    "Verify CHECKPOINT (magic, version, sizes, CRC32) and print one JSON object:\n"
    "  {\"iter\": N, \"algo\": NAME, \"n_params\": N, \"param_l2\": X,\n"
    "   \"config_hash\": \"xxxxxxxx\", \"version\": 1, \"adam_t\": N, \"wall_s\": X}\n"
    "iter is the number of meta-iterations completed, param_l2 the Euclidean norm\n"
    "of the meta-parameters, wall_s the training time so far.\n"
    "\n"
    "  -p, --params   also \"params\": [...], every meta-parameter in the\n"
    "                 checkpoint's order, as a double with 17 significant digits\n"
    "                 (null for a non-finite value)\n"
    "  -h, --help     this help\n"
    "\n"
    "Example:\n"
    "  metagrid inspect runs/default/checkpoint.bin\n"
    "  metagrid inspect runs/default/checkpoint.bin --params > params.json\n"
    "\n"
        "Exit status: 0 done, 2 missing, truncated, corrupted or other-version file.\n";

/* Names of the AlgoName values (config.h); kept here so inspect reads any
 * checkpoint without a config. */
static const char *const inspect_algo_names[] = {"maml", "fomaml", "metasgd", "gated", "pretrain"};

/* Euclidean norm without overflow or underflow: scale by the largest |x|.
 * NaN if any entry is not finite. */
static double inspect_l2(const double *x /*(n)*/, uint64_t n)
{
    double amax = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) return NAN;
        amax = fmax(amax, fabs(x[i]));
    }
    if (amax == 0) return 0;
    double s = 0;
    for (uint64_t i = 0; i < n; i++) {
        double y = x[i] / amax;
        s += y * y;
    }
    return amax * sqrt(s);
}

int cmd_inspect(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"params", no_argument, 0, 'p'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    MgErr e = {0};
    int params = 0, c;
    optind = 0; /* glibc: full re-initialisation (cmd_inspect may be called twice) */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "ph", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            params = 1;
            break;
        case 'h':
            fputs(inspect_usage, stdout);
            return MG_OK;
        default:
            mg_fail(&e, MG_EUSAGE, "inspect: unknown option '%s' (see metagrid inspect --help)",
                    argv[optind - 1]);
            mg_print_err(&e);
            return e.code;
        }
    }
    if (optind >= argc)
        mg_fail(&e, MG_EUSAGE, "inspect: missing CHECKPOINT (see metagrid inspect --help)");
    else if (optind + 1 < argc)
        mg_fail(&e, MG_EUSAGE, "inspect: unexpected argument '%s'", argv[optind + 1]);
    if (e.code) {
        mg_print_err(&e);
        return e.code;
    }
    const char *path = argv[optind];

    Checkpoint ck;
    if (ckpt_read(path, &ck, &e) != MG_OK) {
        mg_print_err(&e);
        return e.code;
    }
    printf("{\"iter\": %lld, \"algo\": ", (long long)ck.iter);
    if (ck.algo >= 0 && ck.algo < (int)(sizeof inspect_algo_names / sizeof *inspect_algo_names))
        printf("\"%s\"", inspect_algo_names[ck.algo]);
    else printf("\"unknown-%d\"", (int)ck.algo);
    printf(", \"n_params\": %llu, \"param_l2\": ", (unsigned long long)ck.n_meta);
    json_num(stdout, inspect_l2(ck.meta, ck.n_meta));
    printf(", \"config_hash\": \"%08x\", \"version\": %u, \"adam_t\": %llu, \"wall_s\": ",
           (unsigned)ck.config_hash, (unsigned)ck.version, (unsigned long long)ck.adam_t);
    json_num(stdout, ck.wall_s);
    if (params) {
        fputs(", \"params\": [", stdout);
        for (uint64_t i = 0; i < ck.n_meta; i++) {
            if (i) fputs(", ", stdout);
            json_num(stdout, ck.meta[i]);
        }
        fputc(']', stdout);
    }
    fputs("}\n", stdout);
    ckpt_free(&ck);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        mg_fail(&e, MG_EFAIL, "inspect: error writing the output");
        mg_print_err(&e);
        return e.code;
    }
    return MG_OK;
}
