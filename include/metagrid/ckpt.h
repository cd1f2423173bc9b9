/*
 * ckpt.h — checkpoints: the complete state an exact resume needs.
 *
 * File layout (all integers and doubles little-endian):
 *   magic "MGCKPT\r\n" (8) | version u32 | config_hash u32 | iter i64 |
 *   algo i32 | pad u32 | n_meta u64 | adam_t u64 | wall_s f64 |
 *   config_len u64 | config text (config_len bytes, the resolved YAML) |
 *   meta f64[n_meta] | adam_m f64[n_meta] | adam_v f64[n_meta] |
 *   crc32 u32 (zlib, over every byte before it)
 *
 * Writing is atomic: the root writes DIR/checkpoint.bin.tmp, fsyncs it,
 * keeps the current checkpoint as DIR/checkpoint.prev.bin (a hard link),
 * renames the temporary over DIR/checkpoint.bin and fsyncs DIR. At every
 * instant DIR/checkpoint.bin is a complete old or new checkpoint.
 *
 * Fields are encoded explicitly little-endian (doubles as their IEEE-754
 * bit patterns), so a file moves between machines unchanged and a resume is
 * bit-exact. Any future version keeps the magic, the version at offset 8
 * and the trailing CRC32 over all earlier bytes, so an old reader can tell
 * "another version" from "corrupted".
 */
#ifndef METAGRID_CKPT_H
#define METAGRID_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "metagrid/common.h"
#include "metagrid/config.h"

#define CKPT_VERSION 1
#define CKPT_FILE "checkpoint.bin"
#define CKPT_PREV_FILE "checkpoint.prev.bin"
#define CKPT_TMP_FILE "checkpoint.bin.tmp"
#define CKPT_HEADER_BYTES 64            /* magic .. config_len */
#define CKPT_MAX_META 1000000000ull     /* larger n_meta: corrupted header */
#define CKPT_MAX_CONFIG (16u << 20)     /* larger config_len: corrupted */

typedef struct {
    uint32_t version;
    uint32_t config_hash;  /* config_hash() of the run's config */
    int64_t iter;          /* meta-iterations completed */
    int32_t algo;          /* AlgoName */
    uint64_t n_meta;
    uint64_t adam_t;       /* Adam step count */
    double wall_s;         /* training wall time so far (for metrics) */
    char *config_text;     /* resolved config YAML, NUL-terminated */
    double *meta;          /* (n_meta) meta-parameters */
    double *adam_m;        /* (n_meta) Adam first moments */
    double *adam_v;        /* (n_meta) Adam second moments */
} Checkpoint;

/* Atomically write ck into the existing directory dir (see above); root
 * only. ck->config_text NULL means an empty config; adam_m / adam_v NULL
 * are written as zeros. Every I/O error (ENOSPC, EACCES, ...) is MG_EFAIL
 * with a message naming the file and the reason; DIR/checkpoint.bin is
 * then untouched and the temporary removed. ck->version is ignored: the
 * file is always written as CKPT_VERSION. */
int ckpt_write(const char *dir, const Checkpoint *ck, MgErr *e);

/* Read and verify a checkpoint file: magic, version, sizes, CRC32. A
 * truncated, corrupted or wrong-version file is MG_EUSAGE with a message
 * naming the file and the problem. ck is zeroed first; free with ckpt_free. */
int ckpt_read(const char *path, Checkpoint *ck, MgErr *e);

void ckpt_free(Checkpoint *ck);

/* MG_OK if ck was written by a run with config hash `hash`, else MG_EUSAGE
 * "PATH: checkpoint belongs to another config (hash X, this config Y)". */
int ckpt_check_config(const Checkpoint *ck, uint32_t hash, const char *path, MgErr *e);

/* The same check against a whole config: on a mismatch the message names the
 * keys that differ (from the config text stored in ck: "KEY is A there, B
 * here") and the fix (the checkpoint's own config.yaml, or another --out). */
int ckpt_check_run_config(const Checkpoint *ck, const Config *cfg, const char *path, MgErr *e);

#endif
