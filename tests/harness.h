/*
 * harness.h — the twenty-line test framework.
 *
 * CHECK* record a pass or a failure (printing the expression, file and line);
 * TEST_REPORT() prints "N passed, N failed" and is the exit status: 1 on any
 * failure. Everything is static: include from exactly one test program.
 */
#ifndef METAGRID_TEST_HARNESS_H
#define METAGRID_TEST_HARNESS_H

#include <math.h>
#include <stdio.h>

static int th_passed, th_failed;

#define CHECK_MSG(cond, ...)                                                   \
    do {                                                                       \
        if (cond) th_passed++;                                                 \
        else {                                                                 \
            th_failed++;                                                       \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);    \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)
#define CHECK(cond) CHECK_MSG(cond, "%s", "")
/* |a - b| <= tol * max(1, |b|) */
#define CHECK_NEAR(a, b, tol)                                                  \
    do {                                                                       \
        double th_a = (a), th_b = (b);                                         \
        CHECK_MSG(fabs(th_a - th_b) <= (tol) * fmax(1.0, fabs(th_b)),          \
                  "%.17g vs %.17g (tol %g)", th_a, th_b, (double)(tol));       \
    } while (0)
#define TEST_REPORT()                                                          \
    (printf("%d passed, %d failed\n", th_passed, th_failed), th_failed ? 1 : 0)

#endif
