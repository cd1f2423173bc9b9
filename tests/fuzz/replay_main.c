/*
 * replay_main.c — runs a fuzz harness over files and folders without
 * libFuzzer (any compiler): `replay_NAME DIR_OR_FILE...` feeds every regular
 * file to LLVMFuzzerTestOneInput once, prints "replay: N inputs" and exits 0;
 * a crash or a failed property aborts. This is how `make test` replays the
 * committed corpora (tests/e2e_fuzz_corpus.sh).
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static long run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "replay: cannot open %s\n", path); exit(2); }
    size_t cap = 4096, n = 0;
    unsigned char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (!buf) { fprintf(stderr, "replay: out of memory\n"); exit(2); }
    /* a copy of exactly n bytes, so ASan sees reads past the end */
    unsigned char *exact = malloc(n ? n : 1);
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 1;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static long run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) { fprintf(stderr, "replay: %s: no such file\n", path); exit(2); }
    if (!S_ISDIR(st.st_mode)) return run_file(path);
    struct dirent **ents;
    int n = scandir(path, &ents, NULL, by_name);
    if (n < 0) { fprintf(stderr, "replay: cannot read %s\n", path); exit(2); }
    long count = 0;
    for (int i = 0; i < n; i++) {
        if (ents[i]->d_name[0] != '.') {
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", path, ents[i]->d_name);
            count += run_path(sub);
        }
        free(ents[i]);
    }
    free(ents);
    return count;
}

int main(int argc, char **argv)
{
    LLVMFuzzerInitialize(&argc, &argv);
    long n = 0;
    for (int i = 1; i < argc; i++) n += run_path(argv[i]);
    printf("replay: %ld inputs\n", n);
    return 0;
}
