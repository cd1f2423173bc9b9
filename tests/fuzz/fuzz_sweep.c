/*
 * fuzz_sweep.c — the sweep file reader (sweep_load_buffer) and, for sweeps of
 * at most 64 trials, the validation of every trial against a small base
 * config (sweep_validate) and the trial list (sweep_trial_values, the
 * --dry-run JSON). The sweep is named DIR/sweep.yaml, DIR holding base.yaml,
 * so seeds say `base: base.yaml`. Property: trials are reproducible.
 */
#define _DEFAULT_SOURCE
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "metagrid/sweep.h"

static char g_dir[64], g_sweep[96], g_base[96];
static FILE *g_null;

static void cleanup(void)
{
    unlink(g_base);
    rmdir(g_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(g_dir, sizeof g_dir, "/tmp/metagrid-fuzz.XXXXXX");
    if (!mkdtemp(g_dir)) abort();
    snprintf(g_sweep, sizeof g_sweep, "%s/sweep.yaml", g_dir);
    snprintf(g_base, sizeof g_base, "%s/base.yaml", g_dir);
    FILE *f = fopen(g_base, "w");
    if (!f) abort();
    fputs("task: {family: uniform, n_demand: 3, n_supply: 2}\nmodel: {hidden: [8]}\n"
          "train: {iterations: 5}\neval: {tasks: 2}\n", f);
    fclose(f);
    g_null = fopen("/dev/null", "w");
    atexit(cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static Sweep s;
    MgErr e = {0};
    if (sweep_load_buffer(&s, (const char *)data, size, g_sweep, &e) != MG_OK) {
        FUZZ_CHECK(e.code == MG_EUSAGE && e.msg[0]);
        sweep_free(&s);
        return 0;
    }
    FUZZ_CHECK(s.n_trials >= 1 && s.n_trials <= SWEEP_MAX_TRIALS && s.n_params >= 1);
    if (s.n_trials <= 64 && sweep_validate(&s, &e) == MG_OK) {
        char (*a)[SWEEP_VALUE_MAX] = calloc((size_t)s.n_params, SWEEP_VALUE_MAX);
        char (*b)[SWEEP_VALUE_MAX] = calloc((size_t)s.n_params, SWEEP_VALUE_MAX);
        for (long t = 0; t < s.n_trials; t++) {
            sweep_trial_values(&s, t, a);
            sweep_trial_values(&s, t, b);
            FUZZ_CHECK(memcmp(a, b, (size_t)s.n_params * SWEEP_VALUE_MAX) == 0);
            sweep_json_overrides(g_null, &s, a);
            char m[512];
            sweep_metric_name(&s, a, m, sizeof m);
        }
        free(a);
        free(b);
    }
    sweep_free(&s);
    return 0;
}
