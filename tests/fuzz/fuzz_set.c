/*
 * fuzz_set.c — `--set KEY=VALUE` (config_load with overrides). The input is
 * split at newlines into up to 8 overrides applied to the defaults.
 * Property: what loads writes a config.yaml that loads back identically.
 */
#include <string.h>

#include "fuzz.h"
#include "metagrid/config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) { (void)argc; (void)argv; return 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static Config c, back;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    const char *sets[8];
    int n = 0;
    for (char *p = text; p && n < 8;) {
        sets[n++] = p;
        p = strchr(p, '\n');
        if (p) *p++ = '\0';
    }
    MgErr e = {0};
    if (config_load(&c, NULL, sets, n, &e) != MG_OK) {
        FUZZ_CHECK(e.code == MG_EUSAGE && e.msg[0]);
        free(text);
        return 0;
    }
    char *out = config_to_string(&c);
    MgErr e2 = {0};
    FUZZ_CHECK(config_load_buffer(&back, out, strlen(out), "config", &e2) == MG_OK);
    memcpy(back.source, c.source, sizeof c.source);
    FUZZ_CHECK(memcmp(&c, &back, sizeof c) == 0);
    free(out);
    free(text);
    return 0;
}
