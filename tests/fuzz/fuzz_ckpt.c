/*
 * fuzz_ckpt.c — the checkpoint reader (ckpt_read) on the bytes of a file
 * (an in-memory file: memfd), then, as `inspect` and `eval` do, the config
 * text it carries. Property: a checkpoint that reads has a NUL-terminated
 * config text and n_meta within the limit.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "metagrid/ckpt.h"
#include "metagrid/config.h"

static int g_fd = -1;
static char g_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    g_fd = memfd_create("fuzz_ckpt", 0);
    if (g_fd < 0) { perror("memfd_create"); abort(); }
    snprintf(g_path, sizeof g_path, "/proc/self/fd/%d", g_fd);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (ftruncate(g_fd, 0) != 0 || pwrite(g_fd, data, size, 0) != (ssize_t)size) abort();
    Checkpoint ck;
    MgErr e = {0};
    if (ckpt_read(g_path, &ck, &e) != MG_OK) {
        FUZZ_CHECK(e.msg[0]);
        return 0;
    }
    FUZZ_CHECK(ck.n_meta <= CKPT_MAX_META);
    FUZZ_CHECK(ck.config_text != NULL);
    size_t len = strlen(ck.config_text);
    static Config c;
    MgErr e2 = {0};
    (void)config_load_buffer(&c, ck.config_text, len, g_path, &e2);
    ckpt_free(&ck);
    return 0;
}
