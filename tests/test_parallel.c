/*
 * test_parallel.c — the block partition (par_block_of) against its
 * definition: contiguous, covering, balanced, the larger blocks first; and
 * the serial layer's par_block / par_blocks (one rank owns everything).
 */
#include <stddef.h>
#include <string.h>

#include "harness.h"
#include "metagrid/parallel.h"

int main(void)
{
    /* MPI counts are int: larger counts are refused with a message (issue 13) */
    MgErr e = {0};
    CHECK(par_check_count(2147483647ull, "x", "fix", &e) == MG_OK);
    CHECK(par_check_count(2147483648ull, "one rank's block", "use more ranks", &e) == MG_EUSAGE &&
          strstr(e.msg, "one rank's block: 2147483648 elements") && strstr(e.msg, "use more ranks"));
    memset(&e, 0, sizeof e);
    CHECK(mg_mem_check(1e3, "small", "fix", &e) == MG_OK);
    CHECK(mg_mem_check(1e30, "a huge model", "reduce model.hidden", &e) == MG_EUSAGE &&
          strstr(e.msg, "a huge model needs about") && strstr(e.msg, "reduce model.hidden"));
    for (size_t n = 0; n <= 40; n++)
        for (int P = 1; P <= 9; P++) {
            size_t expect_lo = 0, bad = 0;
            for (int r = 0; r < P; r++) {
                size_t lo, hi;
                par_block_of(n, r, P, &lo, &hi);
                size_t want = n / (size_t)P + ((size_t)r < n % (size_t)P ? 1 : 0);
                bad += lo != expect_lo || hi < lo || hi - lo != want;
                expect_lo = hi;
            }
            CHECK_MSG(bad == 0 && expect_lo == n, "n %zu P %d", n, P);
        }
    par_init(NULL, NULL);
    size_t lo = 9, hi = 9, off[1], cnt[1];
    par_block(17, &lo, &hi);
    CHECK(lo == 0 && hi == 17);
    par_blocks(17, off, cnt);
    CHECK(off[0] == 0 && cnt[0] == 17);
    return TEST_REPORT();
}
