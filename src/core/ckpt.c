/*
 * ckpt.c — checkpoints: atomic, checksummed files holding everything an
 * exact resume needs (layout and protocol in include/metagrid/ckpt.h).
 *
 * The writer streams the file through a 64 KiB buffer, computing the zlib
 * CRC32 as it goes, into DIR/checkpoint.bin.tmp; fsync; the current
 * checkpoint is kept as checkpoint.prev.bin (hard link, or a copy on file
 * systems without hard links); rename; fsync of DIR. A crash or kill -9 at
 * any point leaves DIR/checkpoint.bin a complete old or new checkpoint.
 *
 * The reader checks, in order: magic, version, header sizes (bounded before
 * anything is allocated), file size, CRC32, then the config text. Every
 * problem with the file is MG_EUSAGE naming the file; read errors of the
 * device are MG_EFAIL.
 */
#define _POSIX_C_SOURCE 200809L
#include "metagrid/ckpt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "metagrid/config.h"

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

static const unsigned char ckpt_magic[8] = {'M', 'G', 'C', 'K', 'P', 'T', '\r', '\n'};

enum { WBUF_BYTES = 1 << 16, CRC_CHUNK = 1 << 20, PATH_BYTES = 4096 };

/* ---- little-endian encoding ------------------------------------------- */

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static uint32_t get_le32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static uint64_t f64_bits(double x)
{
    uint64_t u;
    memcpy(&u, &x, 8);
    return u;
}

static double bits_f64(uint64_t u)
{
    double x;
    memcpy(&x, &u, 8);
    return x;
}

/* CRC32 over n bytes (zlib takes uInt lengths: feed it in chunks). */
static uLong crc_update(uLong crc, const unsigned char *p, size_t n)
{
    while (n > 0) {
        size_t k = MG_MIN(n, (size_t)CRC_CHUNK);
        crc = crc32(crc, p, (uInt)k);
        p += k;
        n -= k;
    }
    return crc;
}

/* ---- raw I/O with EINTR / short-transfer handling --------------------- */

/* Write all n bytes; 0, or -1 with errno. */
static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t r = write(fd, p, n);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (r == 0) { errno = ENOSPC; return -1; }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Read up to n bytes (fewer only at end of file); count, or -1 with errno. */
static ssize_t read_all(int fd, void *buf, size_t n)
{
    char *p = buf;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* ---- writer ------------------------------------------------------------ */

typedef struct {
    int fd;
    int err;      /* first errno, 0 if none */
    uLong crc;
    size_t n;
    unsigned char buf[WBUF_BYTES];
} Wbuf;

static void wb_flush(Wbuf *w)
{
    if (w->err || w->n == 0) return;
    w->crc = crc_update(w->crc, w->buf, w->n);
    if (write_all(w->fd, w->buf, w->n) != 0) w->err = errno ? errno : EIO;
    w->n = 0;
}

static void wb_put(Wbuf *w, const void *p, size_t n)
{
    const unsigned char *s = p;
    while (n > 0 && !w->err) {
        size_t k = MG_MIN(n, sizeof w->buf - w->n);
        memcpy(w->buf + w->n, s, k);
        w->n += k;
        s += k;
        n -= k;
        if (w->n == sizeof w->buf) wb_flush(w);
    }
}

static void wb_u32(Wbuf *w, uint32_t v)
{
    unsigned char b[4];
    put_le32(b, v);
    wb_put(w, b, 4);
}

static void wb_u64(Wbuf *w, uint64_t v)
{
    unsigned char b[8];
    put_le64(b, v);
    wb_put(w, b, 8);
}

/* n doubles (x NULL: n zeros). */
static void wb_f64s(Wbuf *w, const double *x, uint64_t n)
{
    for (uint64_t i = 0; i < n && !w->err; i++) wb_u64(w, x ? f64_bits(x[i]) : 0);
}

static int join_path(char *out, const char *dir, const char *name, MgErr *e)
{
    int k = snprintf(out, PATH_BYTES, "%s/%s", dir, name);
    if (k < 0 || k >= PATH_BYTES)
        return mg_fail(e, MG_EFAIL, "%s: checkpoint path too long", dir);
    return MG_OK;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    int err = errno;
    close(fd);
    /* Some file systems cannot fsync a directory; nothing more to do there. */
    if (rc != 0 && (err == EINVAL || err == ENOTSUP)) rc = 0;
    errno = err;
    return rc;
}

/* Copy src to dst through dst.tmp + fsync + rename: the fallback for file
 * systems without hard links. 0, or -1 with errno. */
static int copy_file(const char *src, const char *dst)
{
    char tmp[PATH_BYTES + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", dst);
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return -1;
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) { int err = errno; close(in); errno = err; return -1; }
    char *buf = mg_malloc(WBUF_BYTES);
    int rc = 0;
    for (;;) {
        ssize_t r = read_all(in, buf, WBUF_BYTES);
        if (r < 0 || (r > 0 && write_all(out, buf, (size_t)r) != 0)) { rc = -1; break; }
        if (r < WBUF_BYTES) break;
    }
    int err = errno;
    free(buf);
    close(in);
    if (rc == 0 && fsync(out) != 0) { rc = -1; err = errno; }
    if (close(out) != 0 && rc == 0) { rc = -1; err = errno; }
    if (rc == 0 && rename(tmp, dst) != 0) { rc = -1; err = errno; }
    if (rc != 0) unlink(tmp);
    errno = err;
    return rc;
}

/*
 * Write ck atomically into dir. Steps and failure handling:
 *   1. DIR/checkpoint.bin.tmp: create, write (buffered, CRC32 on the fly),
 *      fsync, close — any error removes the temporary.
 *   2. checkpoint.prev.bin := the current checkpoint.bin (if any).
 *   3. rename the temporary over checkpoint.bin; 4. fsync DIR.
 * Errors before step 3 leave checkpoint.bin untouched; an error in step 4
 * (the new checkpoint is in place but maybe not durable) is also MG_EFAIL.
 */
int ckpt_write(const char *dir, const Checkpoint *ck, MgErr *e)
{
    const char *d = dir && dir[0] ? dir : ".";
    char tmp[PATH_BYTES], cur[PATH_BYTES], prev[PATH_BYTES];
    if (join_path(tmp, d, CKPT_TMP_FILE, e) || join_path(cur, d, CKPT_FILE, e) ||
        join_path(prev, d, CKPT_PREV_FILE, e))
        return MG_EFAIL;
    MG_ASSERT(ck != NULL);
    MG_ASSERT(ck->n_meta == 0 || ck->meta != NULL);
    uint64_t config_len = ck->config_text ? strlen(ck->config_text) : 0;
    if (ck->n_meta > CKPT_MAX_META || config_len > CKPT_MAX_CONFIG)
        return mg_fail(e, MG_EFAIL, "%s: refusing to write a checkpoint of %llu parameters"
                       " and %llu config bytes", cur, (unsigned long long)ck->n_meta,
                       (unsigned long long)config_len);

    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return mg_fail(e, MG_EFAIL, "%s: cannot create checkpoint: %s", tmp, strerror(errno));
    Wbuf *w = mg_malloc(sizeof *w);
    w->fd = fd;
    w->crc = crc32(0L, Z_NULL, 0);
    wb_put(w, ckpt_magic, sizeof ckpt_magic);
    wb_u32(w, CKPT_VERSION);
    wb_u32(w, ck->config_hash);
    wb_u64(w, (uint64_t)ck->iter);
    wb_u32(w, (uint32_t)ck->algo);
    wb_u32(w, 0);
    wb_u64(w, ck->n_meta);
    wb_u64(w, ck->adam_t);
    wb_u64(w, f64_bits(ck->wall_s));
    wb_u64(w, config_len);
    if (config_len) wb_put(w, ck->config_text, config_len);
    wb_f64s(w, ck->meta, ck->n_meta);
    wb_f64s(w, ck->adam_m, ck->n_meta);
    wb_f64s(w, ck->adam_v, ck->n_meta);
    wb_flush(w);
    int err = w->err;
    if (!err) {
        unsigned char t[4];
        put_le32(t, (uint32_t)w->crc);
        if (write_all(fd, t, 4) != 0) err = errno;
    }
    free(w);
    const char *what = "write failed";
    if (!err && fsync(fd) != 0) { err = errno; what = "fsync failed"; }
    if (close(fd) != 0 && !err) { err = errno; what = "close failed"; }
    if (err) {
        unlink(tmp);
        return mg_fail(e, MG_EFAIL, "%s: %s: %s", tmp, what, strerror(err));
    }

    /* Keep the current checkpoint as the previous one. */
    if (unlink(prev) != 0 && errno != ENOENT) {
        err = errno;
        unlink(tmp);
        return mg_fail(e, MG_EFAIL, "%s: cannot remove: %s", prev, strerror(err));
    }
    if (link(cur, prev) != 0 && errno != ENOENT) {
        err = errno;
        if (err == EPERM || err == ENOTSUP || err == EOPNOTSUPP || err == EMLINK) {
            if (copy_file(cur, prev) == 0) err = 0;
            else err = errno;
        }
        if (err) {
            unlink(tmp);
            return mg_fail(e, MG_EFAIL, "%s: cannot keep the previous checkpoint: %s", prev,
                           strerror(err));
        }
    }
    if (rename(tmp, cur) != 0) {
        err = errno;
        unlink(tmp);
        return mg_fail(e, MG_EFAIL, "%s: cannot rename to %s: %s", tmp, cur, strerror(err));
    }
    if (fsync_dir(d) != 0)
        return mg_fail(e, MG_EFAIL, "%s: fsync of the directory failed (checkpoint %s written"
                       " but maybe not durable): %s", d, cur, strerror(errno));
    return MG_OK;
}

/* ---- reader ------------------------------------------------------------ */

/* Does the last 4 bytes of the file hold the CRC32 of all bytes before? */
static int trailer_crc_ok(int fd, uint64_t size)
{
    if (size < 4 || lseek(fd, 0, SEEK_SET) != 0) return 0;
    unsigned char *buf = mg_malloc(WBUF_BYTES);
    uLong crc = crc32(0L, Z_NULL, 0);
    uint64_t left = size - 4;
    int ok = 1;
    while (left > 0 && ok) {
        size_t k = (size_t)MG_MIN(left, (uint64_t)WBUF_BYTES);
        if (read_all(fd, buf, k) != (ssize_t)k) ok = 0;
        else { crc = crc32(crc, buf, (uInt)k); left -= k; }
    }
    unsigned char t[4];
    if (ok && read_all(fd, t, 4) != 4) ok = 0;
    free(buf);
    return ok && get_le32(t) == (uint32_t)crc;
}

/* Read n bytes into p, updating crc. 0 ok, 1 end of file, -1 error (errno). */
static int read_crc(int fd, void *p, size_t n, uLong *crc)
{
    ssize_t r = read_all(fd, p, n);
    if (r < 0) return -1;
    *crc = crc_update(*crc, p, (size_t)r);
    return (size_t)r == n ? 0 : 1;
}

/* n little-endian doubles, in place -> host doubles. */
static void decode_f64s(double *x, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) x[i] = bits_f64(get_le64((const unsigned char *)&x[i]));
}

/*
 * Read the fixed header of fd (a regular file of size bytes) into h and
 * check it: magic, version (the checksum decides between "other version"
 * and "corrupted"), sizes. On success *expected is the file's size.
 */
static int ckpt_read_header(int fd, const char *path, uint64_t size,
                            unsigned char h[CKPT_HEADER_BYTES], uint64_t *expected, MgErr *e)
{
    const uint64_t min_size = CKPT_HEADER_BYTES + 4;
    ssize_t got = read_all(fd, h, CKPT_HEADER_BYTES);
    if (got < 0) return mg_fail(e, MG_EFAIL, "%s: read error: %s", path, strerror(errno));
    size_t g = (size_t)got;
    if (g == 0)
        return mg_fail(e, MG_EUSAGE, "%s: truncated checkpoint (0 bytes, expected at least %llu)",
                       path, (unsigned long long)min_size);
    if (memcmp(h, ckpt_magic, MG_MIN(g, sizeof ckpt_magic)) != 0)
        return mg_fail(e, MG_EUSAGE, "%s: not a metagrid checkpoint", path);
    if (g >= 12) {
        uint32_t version = get_le32(h + 8);
        if (version != CKPT_VERSION) {
            if (trailer_crc_ok(fd, size))
                return mg_fail(e, MG_EUSAGE,
                               "%s: checkpoint version %u, this metagrid reads version %d", path,
                               (unsigned)version, CKPT_VERSION);
            return mg_fail(e, MG_EUSAGE, "%s: checksum mismatch (corrupted checkpoint)", path);
        }
    }
    if (g < CKPT_HEADER_BYTES)
        return mg_fail(e, MG_EUSAGE, "%s: truncated checkpoint (%zu bytes, expected at least %llu)",
                       path, g, (unsigned long long)min_size);
    uint64_t n_meta = get_le64(h + 32), config_len = get_le64(h + 56);
    if (n_meta > CKPT_MAX_META || config_len > CKPT_MAX_CONFIG)
        return mg_fail(e, MG_EUSAGE, "%s: corrupted checkpoint header: it claims %llu parameters "
                       "and %llu config bytes (at most %llu and %u)", path,
                       (unsigned long long)n_meta, (unsigned long long)config_len,
                       (unsigned long long)CKPT_MAX_META, (unsigned)CKPT_MAX_CONFIG);
    *expected = CKPT_HEADER_BYTES + config_len + 3 * 8 * n_meta + 4;
    if (size < *expected)
        return mg_fail(e, MG_EUSAGE, "%s: truncated checkpoint (%llu bytes, expected %llu)", path,
                       (unsigned long long)size, (unsigned long long)*expected);
    if (size > *expected)
        return mg_fail(e, MG_EUSAGE, "%s: corrupted checkpoint (%llu bytes, its header says %llu)",
                       path, (unsigned long long)size, (unsigned long long)*expected);
    return MG_OK;
}

/*
 * Read and verify path into ck (zeroed first; free with ckpt_free).
 * MG_EUSAGE for a missing, foreign, other-version, truncated or corrupted
 * file, MG_EFAIL for a device read error; ck is left empty on failure.
 */
int ckpt_read(const char *path, Checkpoint *ck, MgErr *e)
{
    memset(ck, 0, sizeof *ck);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mg_fail(e, MG_EUSAGE, "%s: cannot open checkpoint: %s", path, strerror(errno));
    int rc = MG_OK;
    char *config = NULL;
    double *meta = NULL, *m = NULL, *v = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = mg_fail(e, MG_EFAIL, "%s: %s", path, strerror(errno));
        goto error;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = mg_fail(e, MG_EUSAGE, "%s: not a regular file", path);
        goto error;
    }
    unsigned char h[CKPT_HEADER_BYTES];
    uint64_t expected = 0;
    if ((rc = ckpt_read_header(fd, path, (uint64_t)st.st_size, h, &expected, e)) != MG_OK)
        goto error;
    uint64_t n_meta = get_le64(h + 32), config_len = get_le64(h + 56);
    /* a genuine but huge file: refuse before allocating */
    char what[300];
    snprintf(what, sizeof what, "%.200s: reading %llu parameters", path, (unsigned long long)n_meta);
    if ((rc = mg_mem_check(24.0 * (double)n_meta + (double)config_len, what,
                           "read it on a machine with more memory", e)))
        goto error;

    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, h, sizeof h);
    config = mg_malloc((size_t)config_len + 1);
    meta = mg_calloc((size_t)n_meta, sizeof *meta);
    m = mg_calloc((size_t)n_meta, sizeof *m);
    v = mg_calloc((size_t)n_meta, sizeof *v);
    unsigned char t[4];
    size_t nb = (size_t)n_meta * sizeof(double);
    int r = read_crc(fd, config, (size_t)config_len, &crc);
    if (r == 0) r = read_crc(fd, meta, nb, &crc);
    if (r == 0) r = read_crc(fd, m, nb, &crc);
    if (r == 0) r = read_crc(fd, v, nb, &crc);
    if (r == 0) r = read_all(fd, t, 4) == 4 ? 0 : 1;
    if (r < 0) {
        rc = mg_fail(e, MG_EFAIL, "%s: read error: %s", path, strerror(errno));
        goto error;
    }
    if (r > 0) { /* the file shrank under us */
        rc = mg_fail(e, MG_EUSAGE, "%s: truncated checkpoint (expected %llu bytes)", path,
                     (unsigned long long)expected);
        goto error;
    }
    if (get_le32(t) != (uint32_t)crc) {
        rc = mg_fail(e, MG_EUSAGE, "%s: checksum mismatch (corrupted checkpoint)", path);
        goto error;
    }
    config[config_len] = '\0';
    if (memchr(config, '\0', (size_t)config_len) != NULL) {
        rc = mg_fail(e, MG_EUSAGE, "%s: corrupted checkpoint (NUL byte in the config text)", path);
        goto error;
    }
    decode_f64s(meta, n_meta);
    decode_f64s(m, n_meta);
    decode_f64s(v, n_meta);
    close(fd);
    ck->version = get_le32(h + 8);
    ck->config_hash = get_le32(h + 12);
    ck->iter = (int64_t)get_le64(h + 16);
    ck->algo = (int32_t)get_le32(h + 24);
    ck->n_meta = n_meta;
    ck->adam_t = get_le64(h + 40);
    ck->wall_s = bits_f64(get_le64(h + 48));
    ck->config_text = config;
    ck->meta = meta;
    ck->adam_m = m;
    ck->adam_v = v;
    return MG_OK;

error:
    close(fd);
    free(config);
    free(meta);
    free(m);
    free(v);
    return rc;
}

void ckpt_free(Checkpoint *ck)
{
    if (!ck) return;
    free(ck->config_text);
    free(ck->meta);
    free(ck->adam_m);
    free(ck->adam_v);
    memset(ck, 0, sizeof *ck);
}

int ckpt_check_config(const Checkpoint *ck, uint32_t hash, const char *path, MgErr *e)
{
    if (ck->config_hash == hash) return MG_OK;
    return mg_fail(e, MG_EUSAGE, "%s: checkpoint belongs to another config (hash %08x, this config %08x)",
                   path, (unsigned)ck->config_hash, (unsigned)hash);
}

int ckpt_check_run_config(const Checkpoint *ck, const Config *cfg, const char *path, MgErr *e)
{
    uint32_t hash = config_hash(cfg);
    if (ck->config_hash == hash) return MG_OK;
    /* Name the keys that differ, from the config text the checkpoint holds. */
    Config old;
    MgErr ignore = {0};
    char diff[640] = "";
    size_t len = 0;
    int ndiff = 0, shown = 0;
    if (ck->config_text &&
        config_load_buffer(&old, ck->config_text, strlen(ck->config_text), path, &ignore) == MG_OK) {
        for (int k = 0; k < config_key_count(); k++) {
            if (!config_key_hashed(k)) continue;
            const char *key = config_key_name(k);
            char a[160], b[160];
            config_get(&old, key, a, sizeof a);
            config_get(cfg, key, b, sizeof b);
            if (!strcmp(a, b)) continue;
            ndiff++;
            if (shown < 4 && len + strlen(key) + strlen(a) + strlen(b) + 40 < sizeof diff) {
                len += (size_t)snprintf(diff + len, sizeof diff - len, "%s%s is %s there, %s here",
                                        shown ? "; " : "", key, a, b);
                shown++;
            }
        }
        if (ndiff > shown)
            snprintf(diff + len, sizeof diff - len, "; and %d more key%s", ndiff - shown,
                     ndiff - shown > 1 ? "s" : "");
    }
    char dir[CONFIG_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    if (ndiff == 0)
        return mg_fail(e, MG_EUSAGE,
                       "%s: checkpoint belongs to another config (hash %08x, this config %08x; "
                       "no key value differs: it was written by another metagrid version, whose "
                       "config hash covers other keys, or a file it names (task.case) changed); "
                       "train into another --out",
                       path, (unsigned)ck->config_hash, (unsigned)hash);
    return mg_fail(e, MG_EUSAGE,
                   "%s: checkpoint was trained with another config: %s. Resume with the "
                   "checkpoint's own settings (its config is %s/config.yaml; drop the --set "
                   "or config edits that changed these keys), or start a new run with another --out",
                   path, diff, dir);
}
