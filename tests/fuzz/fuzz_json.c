/*
 * fuzz_json.c — sweep_json_number, the reader of metrics.jsonl lines and
 * eval.json files written by trials (maybe on another machine, maybe cut
 * short). Input: a dotted path, a newline, then the JSON text.
 */
#include <string.h>

#include "fuzz.h"
#include "metagrid/sweep.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) { (void)argc; (void)argv; return 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char *nl = strchr(text, '\n');
    const char *path = "meta_loss", *json = text;
    if (nl) {
        *nl = '\0';
        path = text;
        json = nl + 1;
    }
    double v;
    (void)sweep_json_number(json, path, &v);
    free(text);
    return 0;
}
