/*
 * fuzz.h — shared by the fuzz harnesses (tests/fuzz/fuzz_*.c).
 *
 * Each harness defines LLVMFuzzerTestOneInput for one reader. Built two ways:
 *   make fuzz      clang -fsanitize=fuzzer,address,undefined (libFuzzer drives it)
 *   make unit      gcc, linked with replay_main.c: runs the committed corpus
 *                  tests/fuzz/corpus/NAME/ once (tests/e2e_fuzz_corpus.sh)
 * A harness aborts (FUZZ_CHECK) when a property every input must keep is broken,
 * so a wrong answer is found like a crash.
 */
#ifndef METAGRID_FUZZ_H
#define METAGRID_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "fuzz property failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

#endif
