/*
 * test_ckpt.c — checkpoints: bit-exact round trip, the previous checkpoint
 * kept, every truncation and every flipped bit refused, other versions,
 * foreign files and absurd headers refused, I/O errors leave the old
 * checkpoint in place, and kill -9 during writes never leaves an unloadable
 * checkpoint.bin (issue 5, points 3 and 5). `metagrid inspect` is run in
 * process (cmd_inspect with stdout and stderr redirected to files).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "harness.h"
#include "metagrid/ckpt.h"
#include "metagrid/cmd.h"
#include "metagrid/rng.h"

static char dir[256];

static void path_of(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", dir, name); }

/* A checkpoint with random parameters (and a few special bit patterns). */
static void make_ck(Checkpoint *ck, uint64_t n, int64_t iter, uint64_t seed)
{
    memset(ck, 0, sizeof *ck);
    RngStream s;
    rng_stream_init(&s, seed, RNG_TEST, (uint64_t)iter, 0, 0);
    ck->config_hash = (uint32_t)rng_next_u64(&s);
    ck->iter = iter;
    ck->algo = 2;
    ck->n_meta = n;
    ck->adam_t = (uint64_t)iter * 3 + 1;
    ck->wall_s = 12.5 + rng_uniform(&s);
    ck->config_text = mg_strdup("seed: 7\r\nalgo:\n  name: metasgd  # \xc3\xa9t\xc3\xa9\nmodel: {hidden: [40, 40]}\n");
    ck->meta = mg_calloc(n, sizeof(double));
    ck->adam_m = mg_calloc(n, sizeof(double));
    ck->adam_v = mg_calloc(n, sizeof(double));
    for (uint64_t i = 0; i < n; i++) {
        ck->meta[i] = rng_normal(&s) * ldexp(1.0, (int)rng_below(&s, 80) - 40);
        ck->adam_m[i] = rng_normal(&s) * 1e-3;
        ck->adam_v[i] = rng_uniform(&s) * 1e-6;
    }
    if (n >= 4) {
        uint64_t nan_payload = 0x7ff8000000012345ull;
        ck->meta[0] = -0.0;
        ck->meta[1] = 4.9406564584124654e-324; /* smallest subnormal */
        memcpy(&ck->adam_m[2], &nan_payload, 8);
        ck->adam_v[3] = 1.7976931348623157e308;
    }
}

static int same_ck(const Checkpoint *a, const Checkpoint *b)
{
    size_t nb = (size_t)a->n_meta * sizeof(double);
    return a->config_hash == b->config_hash && a->iter == b->iter && a->algo == b->algo &&
           a->n_meta == b->n_meta && a->adam_t == b->adam_t &&
           memcmp(&a->wall_s, &b->wall_s, sizeof a->wall_s) == 0 &&
           strcmp(a->config_text ? a->config_text : "", b->config_text) == 0 &&
           (nb == 0 || (memcmp(a->meta, b->meta, nb) == 0 && memcmp(a->adam_m, b->adam_m, nb) == 0 &&
                        memcmp(a->adam_v, b->adam_v, nb) == 0));
}

static unsigned char *slurp(const char *path, size_t *n)
{
    MgErr e = {0};
    unsigned char *p = (unsigned char *)mg_read_file(path, (size_t)1 << 30, n, &e);
    MG_ASSERT(p != NULL);
    return p;
}

static void spit(const char *path, const unsigned char *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    MG_ASSERT(f != NULL);
    MG_ASSERT(fwrite(p, 1, n, f) == n);
    MG_ASSERT(fclose(f) == 0);
}

static void fix_crc(unsigned char *p, size_t n)
{
    uint32_t c = (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)(n - 4));
    for (int i = 0; i < 4; i++) p[n - 4 + i] = (unsigned char)(c >> (8 * i));
}

/* Read path; return the status, keep the message in msg. */
static int try_read(const char *path, char *msg, size_t msgn)
{
    Checkpoint ck;
    MgErr e = {0};
    int rc = ckpt_read(path, &ck, &e);
    if (msg) snprintf(msg, msgn, "%s", e.msg);
    if (rc != MG_OK && (ck.meta || ck.config_text)) rc = -100; /* must be left empty */
    ckpt_free(&ck);
    return rc;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void test_round_trip(void)
{
    char cur[512], prev[512], tmp[512];
    path_of(cur, sizeof cur, CKPT_FILE);
    path_of(prev, sizeof prev, CKPT_PREV_FILE);
    path_of(tmp, sizeof tmp, CKPT_TMP_FILE);
    Checkpoint a, b, c, r;
    make_ck(&a, 1000, 1, 1);
    make_ck(&b, 1000, 2, 1);
    make_ck(&c, 1000, 3, 1);
    MgErr e = {0};
    CHECK(ckpt_write(dir, &a, &e) == MG_OK);
    CHECK(!exists(prev) && !exists(tmp));
    CHECK(ckpt_read(cur, &r, &e) == MG_OK);
    CHECK(r.version == CKPT_VERSION);
    CHECK_MSG(same_ck(&a, &r), "round trip differs");
    ckpt_free(&r);
    size_t n;
    free(slurp(cur, &n));
    CHECK(n == CKPT_HEADER_BYTES + strlen(a.config_text) + 24 * 1000 + 4);

    CHECK(ckpt_write(dir, &b, &e) == MG_OK);
    CHECK(ckpt_read(cur, &r, &e) == MG_OK && same_ck(&b, &r));
    ckpt_free(&r);
    CHECK(ckpt_read(prev, &r, &e) == MG_OK && same_ck(&a, &r));
    ckpt_free(&r);
    CHECK(ckpt_write(dir, &c, &e) == MG_OK);
    CHECK(ckpt_read(prev, &r, &e) == MG_OK && same_ck(&b, &r));
    ckpt_free(&r);
    CHECK(!exists(tmp));
    CHECK_MSG(e.code == 0, "%s", e.msg);

    /* Empty: no parameters, no config. */
    Checkpoint z = {0};
    z.iter = 0;
    char sub[512];
    path_of(sub, sizeof sub, "empty");
    CHECK(mkdir(sub, 0755) == 0);
    CHECK(ckpt_write(sub, &z, &e) == MG_OK);
    char zp[600];
    snprintf(zp, sizeof zp, "%s/%s", sub, CKPT_FILE);
    CHECK(ckpt_read(zp, &r, &e) == MG_OK && r.n_meta == 0 && r.config_text && !r.config_text[0]);
    ckpt_free(&r);

    /* Config check. */
    CHECK(ckpt_check_config(&a, a.config_hash, cur, &e) == MG_OK);
    MgErr e2 = {0};
    CHECK(ckpt_check_config(&a, a.config_hash ^ 1, cur, &e2) == MG_EUSAGE);
    CHECK_MSG(strstr(e2.msg, "belongs to another config") && strstr(e2.msg, cur), "%s", e2.msg);
    ckpt_free(&a);
    ckpt_free(&b);
    ckpt_free(&c);
}

/* Every truncation and every single flipped bit of a small checkpoint. */
static void test_damage(void)
{
    char sub[512], cur[600], bad[600], msg[MG_ERRMSG_MAX];
    path_of(sub, sizeof sub, "small");
    CHECK(mkdir(sub, 0755) == 0);
    snprintf(cur, sizeof cur, "%s/%s", sub, CKPT_FILE);
    snprintf(bad, sizeof bad, "%s/bad.bin", sub);
    Checkpoint a;
    make_ck(&a, 5, 7, 2);
    MgErr e = {0};
    CHECK(ckpt_write(sub, &a, &e) == MG_OK);
    size_t n;
    unsigned char *p = slurp(cur, &n);
    unsigned char *q = mg_malloc(n + 1);

    int fails = 0, msg_fails = 0;
    for (size_t len = 0; len < n; len++) {
        spit(bad, p, len);
        if (try_read(bad, msg, sizeof msg) != MG_EUSAGE) fails++;
        else if (!strstr(msg, "truncated checkpoint") || !strstr(msg, bad)) msg_fails++;
    }
    CHECK_MSG(fails == 0, "%d truncations not refused", fails);
    CHECK_MSG(msg_fails == 0, "%d truncations with a wrong message (last: %s)", msg_fails, msg);
    spit(bad, p, n - 1);
    try_read(bad, msg, sizeof msg);
    char want[128];
    snprintf(want, sizeof want, "(%zu bytes, expected %zu)", n - 1, n);
    CHECK_MSG(strstr(msg, want) != NULL, "%s", msg);

    fails = 0;
    for (size_t bit = 0; bit < 8 * n; bit++) {
        memcpy(q, p, n);
        q[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        spit(bad, q, n);
        if (try_read(bad, NULL, 0) != MG_EUSAGE) fails++;
    }
    CHECK_MSG(fails == 0, "%d of %zu bit flips not refused", fails, 8 * n);
    /* A flip in the payload is reported as a checksum mismatch. */
    memcpy(q, p, n);
    q[n - 10] ^= 0x10;
    spit(bad, q, n);
    CHECK(try_read(bad, msg, sizeof msg) == MG_EUSAGE);
    CHECK_MSG(strstr(msg, "checksum mismatch (corrupted checkpoint)") != NULL, "%s", msg);

    /* One extra byte. */
    memcpy(q, p, n);
    q[n] = 0;
    spit(bad, q, n + 1);
    CHECK(try_read(bad, NULL, 0) == MG_EUSAGE);

    /* Another version (a well-formed file otherwise). */
    memcpy(q, p, n);
    q[8] = 2;
    fix_crc(q, n);
    spit(bad, q, n);
    CHECK(try_read(bad, msg, sizeof msg) == MG_EUSAGE);
    CHECK_MSG(strstr(msg, "checkpoint version 2, this metagrid reads version 1") != NULL, "%s", msg);

    /* Not a checkpoint. */
    spit(bad, (const unsigned char *)"seed: 1\ntrain: {iterations: 3}\n", 31);
    CHECK(try_read(bad, msg, sizeof msg) == MG_EUSAGE);
    CHECK_MSG(strstr(msg, "not a metagrid checkpoint") != NULL, "%s", msg);
    memcpy(q, p, n);
    q[0] = 'X';
    spit(bad, q, n);
    CHECK(try_read(bad, msg, sizeof msg) == MG_EUSAGE && strstr(msg, "not a metagrid checkpoint"));

    /* Absurd sizes, even with a valid CRC: refused before allocating. */
    memcpy(q, p, n);
    q[32 + 5] = 0x10; /* n_meta ~ 1.7e13 */
    fix_crc(q, n);
    spit(bad, q, n);
    CHECK(try_read(bad, msg, sizeof msg) == MG_EUSAGE);
    CHECK_MSG(strstr(msg, "corrupted checkpoint header") != NULL, "%s", msg);
    memcpy(q, p, n);
    q[56 + 4] = 0x01; /* config_len ~ 4 GiB */
    fix_crc(q, n);
    spit(bad, q, n);
    CHECK(try_read(bad, msg, sizeof msg) == MG_EUSAGE && strstr(msg, "corrupted checkpoint header"));
    memcpy(q, p, n);
    q[32] += 1; /* one more parameter than the file holds */
    fix_crc(q, n);
    spit(bad, q, n);
    CHECK(try_read(bad, msg, sizeof msg) == MG_EUSAGE && strstr(msg, "truncated checkpoint"));

    /* A NUL in the config text, with a valid CRC. */
    memcpy(q, p, n);
    q[CKPT_HEADER_BYTES + 3] = 0;
    fix_crc(q, n);
    spit(bad, q, n);
    CHECK(try_read(bad, msg, sizeof msg) == MG_EUSAGE && strstr(msg, "NUL"));

    /* The intact file still reads; a missing file and a directory do not. */
    CHECK(try_read(cur, NULL, 0) == MG_OK);
    char missing[600];
    snprintf(missing, sizeof missing, "%s/nope.bin", sub);
    CHECK(try_read(missing, msg, sizeof msg) == MG_EUSAGE);
    CHECK_MSG(strstr(msg, missing) && strstr(msg, strerror(ENOENT)), "%s", msg);
    CHECK(try_read(sub, msg, sizeof msg) == MG_EUSAGE);
    free(p);
    free(q);
    ckpt_free(&a);
}

/* Write errors: MG_EFAIL naming the file, the old checkpoint untouched. */
static void test_write_errors(void)
{
    char cur[512], tmp[512], prev[512], nodir[512], inner[600];
    path_of(cur, sizeof cur, CKPT_FILE);
    path_of(tmp, sizeof tmp, CKPT_TMP_FILE);
    path_of(prev, sizeof prev, CKPT_PREV_FILE);
    path_of(nodir, sizeof nodir, "does/not/exist");
    Checkpoint old, nw, r;
    make_ck(&old, 20000, 10, 3);
    make_ck(&nw, 20000, 11, 3);
    MgErr e = {0};
    CHECK(ckpt_write(dir, &old, &e) == MG_OK);

    MgErr e1 = {0};
    CHECK(ckpt_write(nodir, &nw, &e1) == MG_EFAIL);
    CHECK_MSG(strstr(e1.msg, nodir) && strstr(e1.msg, strerror(ENOENT)), "%s", e1.msg);

    /* The temporary cannot be created (it is a directory). */
    CHECK(mkdir(tmp, 0755) == 0);
    MgErr e2 = {0};
    CHECK(ckpt_write(dir, &nw, &e2) == MG_EFAIL);
    CHECK_MSG(strstr(e2.msg, CKPT_TMP_FILE) != NULL, "%s", e2.msg);
    CHECK(rmdir(tmp) == 0);
    CHECK(ckpt_read(cur, &r, &e) == MG_OK && same_ck(&old, &r));
    ckpt_free(&r);

    /* The previous checkpoint cannot be replaced (a non-empty directory). */
    unlink(prev);
    CHECK(mkdir(prev, 0755) == 0);
    snprintf(inner, sizeof inner, "%s/x", prev);
    CHECK(mkdir(inner, 0755) == 0);
    MgErr e3 = {0};
    CHECK(ckpt_write(dir, &nw, &e3) == MG_EFAIL);
    CHECK_MSG(strstr(e3.msg, CKPT_PREV_FILE) != NULL, "%s", e3.msg);
    CHECK(!exists(tmp));
    CHECK(ckpt_read(cur, &r, &e) == MG_OK && same_ck(&old, &r));
    ckpt_free(&r);
    CHECK(rmdir(inner) == 0 && rmdir(prev) == 0);

    /* Disk full in the middle of the file (a file size limit: EFBIG). */
    struct rlimit rl, small;
    CHECK(getrlimit(RLIMIT_FSIZE, &rl) == 0);
    small = rl;
    small.rlim_cur = 100000; /* the checkpoint is ~480 kB */
    void (*oldsig)(int) = signal(SIGXFSZ, SIG_IGN);
    CHECK(setrlimit(RLIMIT_FSIZE, &small) == 0);
    MgErr e4 = {0};
    int rc = ckpt_write(dir, &nw, &e4);
    CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
    signal(SIGXFSZ, oldsig);
    CHECK(rc == MG_EFAIL);
    CHECK_MSG(strstr(e4.msg, CKPT_TMP_FILE) && strstr(e4.msg, strerror(EFBIG)), "%s", e4.msg);
    CHECK(!exists(tmp));
    CHECK(ckpt_read(cur, &r, &e) == MG_OK && same_ck(&old, &r));
    ckpt_free(&r);

    /* A read-only directory (permissions do not stop root). */
    if (geteuid() != 0) {
        CHECK(chmod(dir, 0555) == 0);
        MgErr e5 = {0};
        CHECK(ckpt_write(dir, &nw, &e5) == MG_EFAIL && strstr(e5.msg, strerror(EACCES)));
        CHECK(chmod(dir, 0755) == 0);
        CHECK(ckpt_read(cur, &r, &e) == MG_OK && same_ck(&old, &r));
        ckpt_free(&r);
    }
    /* And it still works afterwards. */
    CHECK(ckpt_write(dir, &nw, &e) == MG_OK);
    CHECK(ckpt_read(cur, &r, &e) == MG_OK && same_ck(&nw, &r));
    ckpt_free(&r);
    ckpt_free(&old);
    ckpt_free(&nw);
}

/* Run cmd_inspect(args...) with stdout / stderr captured into out / err
 * (fresh NUL-terminated buffers); returns its status. */
static int run_inspect(char **out, char **err, int argc, ...)
{
    char *argv[8], store[8][600];
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc; i++) {
        snprintf(store[i], sizeof store[i], "%s", va_arg(ap, const char *));
        argv[i] = store[i];
    }
    va_end(ap);
    argv[argc] = NULL;
    char po[512], pe[512];
    path_of(po, sizeof po, "inspect.out");
    path_of(pe, sizeof pe, "inspect.err");
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    int fo = open(po, O_WRONLY | O_CREAT | O_TRUNC, 0644), fe = open(pe, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    MG_ASSERT(so >= 0 && se >= 0 && fo >= 0 && fe >= 0);
    dup2(fo, 1);
    dup2(fe, 2);
    close(fo);
    close(fe);
    int rc = cmd_inspect(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    size_t n;
    *out = (char *)slurp(po, &n);
    *err = (char *)slurp(pe, &n);
    return rc;
}

/* The number after "KEY": in a JSON text (NAN if absent or null). */
static double json_field(const char *json, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(json, pat);
    if (!p || !strncmp(p + strlen(pat), "null", 4)) return NAN;
    return strtod(p + strlen(pat), NULL);
}

static void test_inspect(void)
{
    char sub[512], cur[600];
    path_of(sub, sizeof sub, "inspect");
    CHECK(mkdir(sub, 0755) == 0);
    snprintf(cur, sizeof cur, "%s/%s", sub, CKPT_FILE);
    Checkpoint a;
    make_ck(&a, 300, 17, 4);
    a.meta[0] = 0.1; /* make_ck's specials: keep them finite for the norm */
    MgErr e = {0};
    CHECK(ckpt_write(sub, &a, &e) == MG_OK);
    char *out, *err;

    CHECK(run_inspect(&out, &err, 2, "inspect", cur) == MG_OK);
    CHECK_MSG(out[0] == '{' && strstr(out, "}\n") && !strchr(strstr(out, "}\n") + 2, '{'), "%s", out);
    CHECK(json_field(out, "iter") == 17);
    CHECK_MSG(strstr(out, "\"algo\": \"metasgd\"") != NULL, "%s", out);
    CHECK(json_field(out, "n_params") == 300);
    CHECK(json_field(out, "version") == 1);
    CHECK(json_field(out, "adam_t") == 52);
    CHECK(json_field(out, "wall_s") == a.wall_s);
    char hash[32];
    snprintf(hash, sizeof hash, "\"config_hash\": \"%08x\"", (unsigned)a.config_hash);
    CHECK_MSG(strstr(out, hash) != NULL, "%s", out);
    long double ss = 0;
    for (int i = 0; i < 300; i++) ss += (long double)a.meta[i] * a.meta[i];
    CHECK_NEAR(json_field(out, "param_l2"), (double)sqrtl(ss), 1e-14);
    CHECK(strstr(out, "\"params\"") == NULL);
    free(out);
    free(err);

    /* --params (after the file: getopt permutes): every value bit-exact. */
    CHECK(run_inspect(&out, &err, 3, "inspect", cur, "--params") == MG_OK);
    const char *p = strstr(out, "\"params\": [");
    int exact = 0;
    if (p) {
        p += strlen("\"params\": [");
        for (int i = 0; i < 300; i++) {
            char *end;
            double x = strtod(p, &end);
            if (end == p) break;
            if (memcmp(&x, &a.meta[i], sizeof x) == 0) exact++;
            p = end;
            while (*p == ',' || *p == ' ') p++;
        }
        CHECK_MSG(p[0] == ']' && p[1] == '}', "%.20s", p);
    }
    CHECK_MSG(exact == 300, "%d of 300 parameters exact", exact);
    free(out);
    free(err);

    /* Non-finite parameters print as null (valid JSON). */
    a.meta[5] = NAN;
    a.meta[6] = -INFINITY;
    CHECK(ckpt_write(sub, &a, &e) == MG_OK);
    CHECK(run_inspect(&out, &err, 3, "inspect", "-p", cur) == MG_OK);
    CHECK_MSG(strstr(out, "\"param_l2\": null") && strstr(out, ", null, null, "), "%.200s", out);
    CHECK(strstr(out, "nan") == NULL && strstr(out, "inf") == NULL);
    free(out);
    free(err);

    /* Errors: exit 2, one "metagrid:" line naming the file. */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/bad.bin", sub);
    size_t n;
    unsigned char *raw = slurp(cur, &n);
    spit(bad, raw, n / 2);
    CHECK(run_inspect(&out, &err, 2, "inspect", bad) == MG_EUSAGE);
    CHECK_MSG(out[0] == 0 && !strncmp(err, "metagrid: ", 10) && strstr(err, bad) &&
              strstr(err, "truncated checkpoint") && strchr(err, '\n') == err + strlen(err) - 1,
              "%s", err);
    free(out);
    free(err);
    raw[n / 2] ^= 4;
    spit(bad, raw, n);
    CHECK(run_inspect(&out, &err, 2, "inspect", bad) == MG_EUSAGE && strstr(err, "checksum mismatch"));
    free(out);
    free(err);
    free(raw);
    CHECK(run_inspect(&out, &err, 1, "inspect") == MG_EUSAGE && strstr(err, "missing CHECKPOINT"));
    free(out);
    free(err);
    CHECK(run_inspect(&out, &err, 3, "inspect", "--nope", cur) == MG_EUSAGE && strstr(err, "--nope"));
    free(out);
    free(err);
    CHECK(run_inspect(&out, &err, 2, "inspect", "--help") == MG_OK && strstr(out, "usage: metagrid inspect"));
    free(out);
    free(err);
    ckpt_free(&a);
}

/* The checkpoint of iteration k in the kill test: contents derived from k. */
enum { KILL_N = 60000 };

static void kill_ck(Checkpoint *ck, int64_t k)
{
    static char text[64];
    memset(ck, 0, sizeof *ck);
    snprintf(text, sizeof text, "iter: %lld\n", (long long)k);
    ck->iter = k;
    ck->config_hash = (uint32_t)k * 2654435761u;
    ck->n_meta = KILL_N;
    ck->adam_t = (uint64_t)k;
    ck->config_text = text;
    ck->meta = mg_malloc(KILL_N * sizeof(double));
    ck->adam_m = mg_malloc(KILL_N * sizeof(double));
    ck->adam_v = mg_malloc(KILL_N * sizeof(double));
    for (int i = 0; i < KILL_N; i++) {
        ck->meta[i] = (double)k * 1e-3 + i;
        ck->adam_m[i] = -(double)i - (double)k;
        ck->adam_v[i] = (double)k + 0.5 * i;
    }
}

static int kill_ck_valid(const Checkpoint *r)
{
    Checkpoint want;
    kill_ck(&want, r->iter);
    int ok = same_ck(&want, r);
    free(want.meta);
    free(want.adam_m);
    free(want.adam_v);
    return ok;
}

static void test_kill9(void)
{
    char sub[512], cur[600], prev[600], tmp[600];
    path_of(sub, sizeof sub, "kill");
    CHECK(mkdir(sub, 0755) == 0);
    snprintf(cur, sizeof cur, "%s/%s", sub, CKPT_FILE);
    snprintf(prev, sizeof prev, "%s/%s", sub, CKPT_PREV_FILE);
    snprintf(tmp, sizeof tmp, "%s/%s", sub, CKPT_TMP_FILE);
    Checkpoint ck, r;
    kill_ck(&ck, 0);
    MgErr e = {0};
    CHECK(ckpt_write(sub, &ck, &e) == MG_OK);
    free(ck.meta); free(ck.adam_m); free(ck.adam_v);

    RngStream s;
    rng_stream_init(&s, 5, RNG_TEST, 99, 0, 0);
    int64_t last = 0;
    int rounds = 12, mid_write = 0, bad = 0, bad_prev = 0, regress = 0;
    for (int round = 0; round < rounds; round++) {
        fflush(NULL);
        pid_t pid = fork();
        MG_ASSERT(pid >= 0);
        if (pid == 0) {
            for (int64_t k = last + 1;; k++) {
                Checkpoint c;
                MgErr ce = {0};
                kill_ck(&c, k);
                if (ckpt_write(sub, &c, &ce) != MG_OK) _exit(3);
                free(c.meta); free(c.adam_m); free(c.adam_v);
            }
        }
        /* 1-41 ms; on a loaded machine an fsync can take longer than that, so
         * from the middle on, rounds that have not yet seen a completed write
         * give the writer 0.5 s (the test wants both: kills mid-write and a
         * writer that makes progress). */
        long ns = (long)(1000000 + rng_below(&s, 40000000));
        if (last < 1 && round >= rounds / 2) ns = 500000000L;
        struct timespec ts = {0, ns};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child status %d", status);
        if (exists(tmp)) mid_write++;
        MgErr re = {0};
        if (ckpt_read(cur, &r, &re) != MG_OK || !kill_ck_valid(&r)) {
            bad++;
            fprintf(stderr, "round %d: %s\n", round, re.msg);
        } else {
            if (r.iter < last) regress++;
            int64_t it = r.iter;
            last = it;
            ckpt_free(&r);
            if (exists(prev)) {
                MgErr pe = {0};
                if (ckpt_read(prev, &r, &pe) != MG_OK || !kill_ck_valid(&r) ||
                    (r.iter != it && r.iter != it - 1))
                    bad_prev++;
            }
        }
        ckpt_free(&r);
    }
    CHECK_MSG(bad == 0, "%d of %d kills left checkpoint.bin unloadable", bad, rounds);
    CHECK_MSG(bad_prev == 0, "%d bad previous checkpoints", bad_prev);
    CHECK(regress == 0);
    CHECK_MSG(mid_write >= 1, "no kill hit a write in progress (%d rounds)", rounds);
    CHECK_MSG(last >= 1, "the writer never completed a checkpoint");
    printf("kill -9: %d rounds, %d during a write, reached iter %lld\n", rounds, mid_write,
           (long long)last);
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/mg-ckpt-XXXXXX", base && base[0] ? base : "/tmp");
    MG_ASSERT(mkdtemp(dir) != NULL);
    test_round_trip();
    test_damage();
    test_write_errors();
    test_inspect();
    test_kill9();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return TEST_REPORT();
}
