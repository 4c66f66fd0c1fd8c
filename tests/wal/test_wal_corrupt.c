/* test_wal_corrupt.c: a flipped bit anywhere is detected (never taken for a torn tail), a crash
   that loses any unsynced block never costs a synced record, and a block a sync covered that
   reads as zeros is detected. Logs of zero, random and repeated-letter payloads. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "test_seed.h"
#include "wal.h"
#include "wal_format.h"
#include "wal_test_util.h"

enum {
    ct_seg = 1 << 20,   /* one segment holds every log here */
    ct_records = 9,
    ct_offs_max = 64,
    ct_kinds = 3,       /* payloads: zeros, random bytes, repeated letters */
    ct_lengths = 3,
};
/* 40: several records per block; 700: records across blocks; 4096: the value of 4 KiB
   of zero bytes, whole blocks of zeros. */
static const uint32_t ct_length[ct_lengths] = {40, 700, 4096};
static const char *const ct_kind_name[ct_kinds] = {"zeros", "random", "letters"};

static uint32_t ct_payload(int kind, uint32_t len0, uint64_t index, uint8_t *out)
{
    uint32_t len = len0 + (uint32_t)(index % 3); /* not all the same length */
    uint64_t st = index * 7919;
    for (uint32_t i = 0; i < len; i++)
        out[i] = kind == 0 ? 0 : kind == 1 ? (uint8_t)wt_rand(&st) : (uint8_t)('A' + index % 26);
    return len;
}

static struct wal *ct_open(const char *dir, struct wal_errmsg *err, int *rc)
{
    struct wal_config cfg;
    wal_config_default(&cfg, dir);
    cfg.segment_size_max = ct_seg;
    cfg.record_payload_max = 8192;
    cfg.write_buffer_size = 4096;
    cfg.zero_ahead_bytes = 0;
    struct wal *w = NULL;
    *rc = wal_open(&cfg, &w, err);
    return w;
}

/* One log: records 1..ct_records, synced after sync_a and after sync_b, the rest written by
   close without a sync. */
struct ct_log {
    char *dir;
    char name[64];
    int kind;
    uint32_t len0;
    uint64_t sync_a, sync_b;
    uint8_t *data;
    size_t len;
    uint64_t offs[ct_offs_max];
    size_t nrec;
    uint64_t send;
};

static void ct_append(struct wal *w, const struct ct_log *l, uint64_t from, uint64_t to)
{
    uint8_t p[8192];
    for (uint64_t i = from; i <= to; i++) {
        uint32_t len = ct_payload(l->kind, l->len0, i, p);
        cr_assert_eq(wal_append(w, i, 1 + i / 4, p, len), 0, "%s", wal_last_error(w));
    }
}

static void ct_make(struct ct_log *l, int kind, uint32_t len0, uint64_t sync_a, uint64_t sync_b)
{
    *l = (struct ct_log){.kind = kind, .len0 = len0, .sync_a = sync_a, .sync_b = sync_b};
    l->dir = wt_tmpdir();
    int rc;
    struct wal_errmsg err;
    struct wal *w = ct_open(l->dir, &err, &rc);
    cr_assert_eq(rc, 0, "%s", err.text);
    ct_append(w, l, 1, sync_a);
    cr_assert_eq(wal_sync(w), 0);
    ct_append(w, l, sync_a + 1, sync_b);
    cr_assert_eq(wal_sync(w), 0);
    ct_append(w, l, sync_b + 1, ct_records);
    wal_close(w);
    char names[4][64];
    cr_assert_eq(wt_segments(l->dir, names, 4), 1);
    snprintf(l->name, sizeof l->name, "%s", names[0]);
    l->data = wt_read_file(l->dir, l->name, &l->len);
    l->nrec = wt_seg_records(l->data, l->len, l->offs, ct_offs_max, &l->send);
    cr_assert_eq(l->nrec, ct_records);
}

static void ct_free(struct ct_log *l)
{
    free(l->data);
    wt_rmdir(l->dir);
}

/* The first record with a byte at or after stream offset s (index), ct_records + 1 past all. */
static uint64_t ct_record_at(const struct ct_log *l, uint64_t s)
{
    size_t k = 0;
    while (k + 1 < l->nrec && l->offs[k + 1] <= s)
        k++;
    return s >= l->send ? l->nrec + 1 : k + 1;
}

/* Opens l's directory as it is now: either the open is refused as corrupt naming the file, the
   block's offset and index, or (flip only in the unsynced tail) every synced record is back. */
static bool ct_check(const struct ct_log *l, uint64_t file_off, const char *what)
{
    struct wal_errmsg err = {{0}};
    int rc;
    struct wal *w = ct_open(l->dir, &err, &rc);
    uint64_t block = file_off < wal_segment_header_size
                         ? 0
                         : file_off - (file_off - wal_segment_header_size) % wal_block_size;
    uint64_t stream = block ? (block - wal_segment_header_size) / wal_block_size * wal_block_data_size
                            : 0;
    uint64_t durable = l->offs[l->sync_b]; /* the stream offset the last sync covered */
    if (rc == 0) {
        cr_assert_geq(stream, durable, "%s %s/%u, %s at file offset %" PRIu64 ": opened without "
                      "complaint, before the last sync", ct_kind_name[l->kind], l->name, l->len0,
                      what, file_off);
        cr_assert_geq(wal_last_index(w), l->sync_b, "%s: synced records lost", what);
        wal_close(w);
        return false;
    }
    cr_assert_eq(rc, WAL_ERR_CORRUPT, "%s at %" PRIu64 ": rc %d: %s", what, file_off, rc,
                 err.text);
    char want[160];
    snprintf(want, sizeof want, "%s offset %" PRIu64 ": ", l->name, block);
    cr_assert(strstr(err.text, want) != NULL, "%s %s/%u, %s: want '%s' in '%s'",
              ct_kind_name[l->kind], l->name, l->len0, what, want, err.text);
    snprintf(want, sizeof want, "(index %" PRIu64 ")", block ? ct_record_at(l, stream) : 1);
    cr_assert(strstr(err.text, want) != NULL, "%s %s/%u, %s at %" PRIu64 ": want '%s' in '%s'",
              ct_kind_name[l->kind], l->name, l->len0, what, file_off, want, err.text);
    return true;
}

static bool ct_flip(struct ct_log *l, uint64_t file_off, unsigned bit, const char *what)
{
    wt_flip_bit(l->dir, l->name, file_off, bit);
    bool detected = ct_check(l, file_off, what);
    wt_write_file(l->dir, l->name, l->data, l->len);
    return detected;
}

/* Every class of byte of every record: crc, length, term, index, first, middle and last
   payload byte; every field of every block header; the segment header. */
static void ct_flip_all(struct ct_log *l, size_t *flips, size_t *detected)
{
    static const struct { const char *what; uint64_t at; } fields[] = {
        {"record crc", 0},   {"record crc", 3},    {"record length", 4}, {"record length", 7},
        {"record term", 8},  {"record index", 16}, {"record index", 23},
    };
    for (size_t k = 0; k < l->nrec; k++) {
        uint64_t end = k + 1 < l->nrec ? l->offs[k + 1] : l->send;
        uint64_t plen = end - l->offs[k] - wal_record_header_size;
        uint64_t at[10];
        const char *what[10];
        size_t n = 0;
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
            at[n] = l->offs[k] + fields[f].at;
            what[n++] = fields[f].what;
        }
        for (uint64_t p = 0; plen > 0 && p < 3; p++) {
            at[n] = l->offs[k] + wal_record_header_size + p * (plen - 1) / 2;
            what[n++] = "payload";
        }
        for (size_t i = 0; i < n; i++) {
            *detected += ct_flip(l, wal_stream_to_file(at[i]), (unsigned)(k + i), what[i]);
            (*flips)++;
        }
    }
    static const uint64_t block_fields[] = {0, 4, 5, 6, 8, 12, 15, 16, 511};
    for (uint64_t b = wal_segment_header_size; b < l->len; b += wal_block_size) {
        for (size_t i = 0; i < sizeof block_fields / sizeof block_fields[0]; i++) {
            *detected += ct_flip(l, b + block_fields[i], (unsigned)i, "block header or data");
            (*flips)++;
        }
    }
    static const uint64_t header_bytes[] = {0, 4, 8, 16, 20, 511};
    for (size_t i = 0; i < sizeof header_bytes / sizeof header_bytes[0]; i++) {
        *detected += ct_flip(l, header_bytes[i], (unsigned)i, "segment header");
        (*flips)++;
    }
}

/* The matrix: logs synced at two points with an unsynced tail after; the flipped
   record lies before the first sync, between the syncs, or after the last one. */
Test(wal_corrupt, every_flipped_bit_is_detected_or_in_the_unsynced_tail, .timeout = 300)
{
    log_set_level(LOG_ERROR);
    size_t flips = 0, detected = 0;
    for (int kind = 0; kind < ct_kinds; kind++) {
        for (int len = 0; len < ct_lengths; len++) {
            struct ct_log l;
            ct_make(&l, kind, ct_length[len], 3, 6);
            ct_flip_all(&l, &flips, &detected);
            ct_free(&l);
        }
    }
    fprintf(stderr, "corruption matrix: %zu flips, %zu detected, %zu in the unsynced tail\n",
            flips, detected, flips - detected);
    /* Blocks make every flip detectable, in the unsynced tail too. */
    cr_assert_eq(detected, flips);
}

/* A block a sync covered that reads as zeros (a lost or zeroed sector) is damage: a later
   block says the sync covered it. */
Test(wal_corrupt, a_zeroed_block_that_a_sync_covered_is_detected)
{
    log_set_level(LOG_ERROR);
    size_t cases = 0;
    for (int kind = 0; kind < ct_kinds; kind++) {
        for (int len = 0; len < ct_lengths; len++) {
            struct ct_log l;
            ct_make(&l, kind, ct_length[len], 3, 6);
            uint64_t durable = l.offs[l.sync_b];
            for (uint64_t b = wal_segment_header_size; b < l.len; b += wal_block_size) {
                uint64_t stream = (b - wal_segment_header_size) / wal_block_size *
                                  wal_block_data_size;
                if (stream >= durable)
                    break; /* from here on the block holds unsynced bytes too */
                uint8_t *bad = malloc(l.len);
                memcpy(bad, l.data, l.len);
                memset(bad + b, 0, wal_block_size);
                wt_write_file(l.dir, l.name, bad, l.len);
                free(bad);
                struct wal_errmsg err = {{0}};
                int rc;
                struct wal *w = ct_open(l.dir, &err, &rc);
                if (w)
                    wal_close(w);
                cr_assert_eq(rc, WAL_ERR_CORRUPT, "%s/%u: block at %" PRIu64 " zeroed: rc %d",
                             ct_kind_name[kind], ct_length[len], b, rc);
                cr_assert(strstr(err.text, "says a sync covered") != NULL, "%s", err.text);
                wt_write_file(l.dir, l.name, l.data, l.len);
                cases++;
            }
            ct_free(&l);
        }
    }
    cr_assert_gt(cases, 20);
}

/* Crash images: the disk holds, block by block, either what the last sync left or what was
   written after it (in any mix: writeback has no order), maybe with the file's old size. The
   log opens with every synced record, and what follows is a clean prefix of what was written. */
Test(wal_corrupt, any_crash_image_of_the_unsynced_writes_keeps_every_synced_record,
     .timeout = 300)
{
    log_set_level(LOG_ERROR);
    uint64_t seed =
        test_seed_for("any_crash_image_of_the_unsynced_writes_keeps_every_synced_record");
    uint64_t st = seed;
    for (int round = 0; round < 120; round++) {
        struct ct_log l = {.kind = (int)(wt_rand(&st) % ct_kinds),
                           .len0 = ct_length[wt_rand(&st) % ct_lengths]};
        l.dir = wt_tmpdir();
        uint64_t synced = 1 + wt_rand(&st) % (ct_records - 1);
        int rc;
        struct wal_errmsg err;
        struct wal *w = ct_open(l.dir, &err, &rc);
        cr_assert_eq(rc, 0);
        ct_append(w, &l, 1, synced);
        cr_assert_eq(wal_sync(w), 0);
        char names[4][64];
        cr_assert_eq(wt_segments(l.dir, names, 4), 1);
        size_t plen;
        uint8_t *before = wt_read_file(l.dir, names[0], &plen);
        ct_append(w, &l, synced + 1, ct_records);
        wal_close(w); /* written, not synced */
        size_t qlen;
        uint8_t *after = wt_read_file(l.dir, names[0], &qlen);
        cr_assert_geq(qlen, plen);
        uint8_t *image = calloc(1, qlen);
        bool old_size = wt_rand(&st) % 4 == 0;
        for (size_t b = 0; b < qlen; b += wal_block_size) {
            bool new_one = wt_rand(&st) % 2;
            if (new_one)
                memcpy(image + b, after + b, wal_block_size);
            else if (b < plen)
                memcpy(image + b, before + b, wal_block_size);
        }
        wt_write_file(l.dir, names[0], image, old_size ? plen : qlen);
        w = ct_open(l.dir, &err, &rc);
        cr_assert_eq(rc, 0, "seed %" PRIu64 " round %d: %s", seed, round, err.text);
        cr_assert_geq(wal_last_index(w), synced, "seed %" PRIu64 " round %d: synced %" PRIu64
                      ", recovered %" PRIu64, seed, round, synced, wal_last_index(w));
        uint8_t want[8192], buf[8192];
        for (uint64_t i = 1; i <= wal_last_index(w); i++) {
            struct wal_entry e;
            size_t n;
            cr_assert_eq(wal_read(w, i, &e, 1, buf, sizeof buf, &n), 0, "%s", wal_last_error(w));
            uint32_t len = ct_payload(l.kind, l.len0, i, want);
            cr_assert(e.len == len && memcmp(e.data, want, len) == 0, "seed %" PRIu64 " index %"
                      PRIu64, seed, i);
        }
        wal_close(w);
        free(image);
        free(before);
        free(after);
        wt_rmdir(l.dir);
    }
}
