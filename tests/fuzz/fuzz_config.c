/*
 * fuzz_config.c — the config file reader (config_load_buffer: libyaml events
 * walked against the schema). Property: a config that loads writes a
 * resolved config.yaml that loads back to the identical Config.
 */
#include <string.h>

#include "fuzz.h"
#include "metagrid/config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) { (void)argc; (void)argv; return 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static Config c, back;
    MgErr e = {0};
    if (config_load_buffer(&c, (const char *)data, size, "fuzz.yaml", &e) != MG_OK) {
        FUZZ_CHECK(e.code == MG_EUSAGE && e.msg[0]);
        return 0;
    }
    char *text = config_to_string(&c);
    MgErr e2 = {0};
    int rc = config_load_buffer(&back, text, strlen(text), "fuzz.yaml", &e2);
    if (rc != MG_OK) fprintf(stderr, "reload: %s\n", e2.msg);
    FUZZ_CHECK(rc == MG_OK);
    FUZZ_CHECK(memcmp(&c, &back, sizeof c) == 0);
    FUZZ_CHECK(config_hash(&c) == config_hash(&back));
    free(text);
    return 0;
}
