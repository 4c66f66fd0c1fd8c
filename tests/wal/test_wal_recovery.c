/* test_wal_recovery.c: recovery cuts torn tails, refuses corruption before the tail, and
   finishes compactions and resets a crash cut short. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "wal.h"
#include "wal_test_util.h"

enum { seg_size = 4096 };

/* Offsets of the records in a segment's bytes (after the 20-byte header). */
static size_t record_offsets(const uint8_t *data, size_t len, uint64_t offs[], size_t max)
{
    size_t n = 0;
    for (uint64_t off = 20; off < len && n < max;) {
        offs[n++] = off;
        uint32_t plen = (uint32_t)data[off + 4] | (uint32_t)data[off + 5] << 8 |
                        (uint32_t)data[off + 6] << 16 | (uint32_t)data[off + 7] << 24;
        off += 24 + plen;
    }
    return n;
}

/* A log of `last` records over several segments; returns the segment count. */
static size_t make_log(const char *dir, uint64_t last, char names[][64])
{
    struct wal *w = wt_open(dir, WAL_FSYNC_NEVER, seg_size);
    wt_append_range(w, 1, last, 11);
    cr_assert_eq(wal_sync(w), 0);
    wal_close(w);
    return wt_segments(dir, names, 64);
}

Test(wal_recovery, torn_tail_at_every_byte_of_the_last_record)
{
    log_set_level(LOG_ERROR); /* one warning per iteration otherwise; see a_cut_tail_... */
    char *dir = wt_tmpdir();
    char names[64][64];
    size_t nseg = make_log(dir, 60, names);
    cr_assert_gt(nseg, 1);
    const char *last_seg = names[nseg - 1];
    size_t len;
    uint8_t *data = wt_read_file(dir, last_seg, &len);
    uint64_t offs[256];
    size_t nrec = record_offsets(data, len, offs, 256);
    cr_assert_gt(nrec, 1);
    for (size_t cut = offs[nrec - 1]; cut < len; cut++) {
        wt_write_file(dir, last_seg, data, cut);
        struct wal *w = wt_open(dir, WAL_FSYNC_NEVER, seg_size);
        cr_assert_eq(wal_last_index(w), 59, "cut at %zu of %zu", cut, len);
        wt_check_range(w, 1, 59, 11);
        wal_close(w);
    }
    /* After the cut the log takes new records where the torn one was. */
    struct wal *w = wt_open(dir, WAL_FSYNC_NEVER, seg_size);
    wt_append_range(w, 60, 61, 11);
    wal_close(w);
    w = wt_open(dir, WAL_FSYNC_NEVER, seg_size);
    cr_assert_eq(wal_last_index(w), 61);
    wt_check_range(w, 1, 61, 11);
    wal_close(w);
    free(data);
    wt_rmdir(dir);
}

Test(wal_recovery, zeroed_tail_is_cut)
{
    char *dir = wt_tmpdir();
    char names[64][64];
    size_t nseg = make_log(dir, 30, names);
    size_t len;
    uint8_t *data = wt_read_file(dir, names[nseg - 1], &len);
    uint8_t *grown = calloc(1, len + 1000);
    memcpy(grown, data, len);
    wt_write_file(dir, names[nseg - 1], grown, len + 1000);
    struct wal *w = wt_open(dir, WAL_FSYNC_NEVER, seg_size);
    cr_assert_eq(wal_last_index(w), 30);
    wal_close(w);
    size_t after;
    free(wt_read_file(dir, names[nseg - 1], &after));
    cr_assert_eq(after, len, "the zeros were cut");
    free(grown);
    free(data);
    wt_rmdir(dir);
}

Test(wal_recovery, unfinished_segment_creation_is_removed)
{
    log_set_level(LOG_ERROR); /* one warning per iteration otherwise; see a_cut_tail_... */
    char *dir = wt_tmpdir();
    char names[64][64];
    size_t nseg = make_log(dir, 30, names);
    size_t len;
    uint8_t *data = wt_read_file(dir, names[nseg - 1], &len);
    for (size_t cut = 0; cut <= 20; cut++) {
        wt_write_file(dir, names[nseg - 1], data, cut);
        struct wal *w = wt_open(dir, WAL_FSYNC_NEVER, seg_size);
        uint64_t first_of_last = strtoull(names[nseg - 1], NULL, 10);
        cr_assert_eq(wal_last_index(w), first_of_last - 1, "header cut at %zu", cut);
        wt_check_range(w, 1, first_of_last - 1, 11);
        wal_close(w);
    }
    free(data);
    wt_rmdir(dir);
}

/* Flips one bit at byte i of segment s; expects a tail cut or a refusal naming file and offset. */
static void flip_and_check(const char *dir, char names[][64], size_t nseg, size_t s,
                           const uint8_t *data, size_t len, size_t i, uint64_t seed)
{
    uint64_t offs[256];
    size_t nrec = record_offsets(data, len, offs, 256);
    uint8_t *bad = malloc(len);
    memcpy(bad, data, len);
    uint64_t st = seed + i;
    bad[i] ^= (uint8_t)(1u << (wt_rand(&st) % 8));
    wt_write_file(dir, names[s], bad, len);
    struct wal *w;
    struct wal_errmsg err = {{0}};
    int rc = wt_try_open(dir, seg_size, &w, &err);
    size_t rec = 0; /* the record holding byte i */
    while (rec + 1 < nrec && offs[rec + 1] <= i)
        rec++;
    bool in_last_record = s == nseg - 1 && i >= offs[nrec - 1];
    if (in_last_record) {
        cr_assert_eq(rc, 0, "seed %" PRIu64 " byte %zu: %s", seed, i, err.text);
        uint64_t first = strtoull(names[s], NULL, 10);
        cr_assert_eq(wal_last_index(w), first + nrec - 2);
        wal_close(w);
    } else {
        cr_assert_eq(rc, WAL_ERR_CORRUPT, "seed %" PRIu64 " %s byte %zu: rc %d", seed, names[s], i,
                     rc);
        char want[128];
        snprintf(want, sizeof want, "%s offset %" PRIu64 ":", names[s], i < 20 ? 0 : offs[rec]);
        cr_assert(strstr(err.text, want) != NULL, "seed %" PRIu64 " byte %zu: want '%s' in '%s'",
                  seed, i, want, err.text);
    }
    wt_write_file(dir, names[s], data, len);
    free(bad);
}

Test(wal_recovery, flipped_bits_are_detected_everywhere)
{
    log_set_level(LOG_ERROR); /* one warning per iteration otherwise; see a_cut_tail_... */
    uint64_t seed = wt_seed("flipped_bits_are_detected_everywhere");
    char *dir = wt_tmpdir();
    char names[64][64];
    size_t nseg = make_log(dir, 40, names);
    cr_assert_geq(nseg, 2);
    size_t segs[2] = {0, nseg - 1}; /* one that is not the last, and the last */
    for (size_t k = 0; k < 2; k++) {
        size_t len;
        uint8_t *data = wt_read_file(dir, names[segs[k]], &len);
        for (size_t i = 0; i < len; i++)
            flip_and_check(dir, names, nseg, segs[k], data, len, i, seed);
        free(data);
    }
    wt_rmdir(dir);
}

Test(wal_recovery, missing_segment_is_refused)
{
    char *dir = wt_tmpdir();
    char names[64][64];
    size_t nseg = make_log(dir, 80, names);
    cr_assert_geq(nseg, 3);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, names[1]);
    cr_assert_eq(unlink(path), 0);
    struct wal *w;
    struct wal_errmsg err;
    cr_assert_eq(wt_try_open(dir, seg_size, &w, &err), WAL_ERR_CORRUPT);
    cr_assert(strstr(err.text, "next starts at") != NULL, "%s", err.text);
    wt_rmdir(dir);
}

Test(wal_recovery, bad_hard_state_file_is_refused)
{
    char *dir = wt_tmpdir();
    struct wal *w = wt_open(dir, WAL_FSYNC_ALWAYS, seg_size);
    struct wal_hard_state hs = {.term = 3, .voted_for = 1, .commit_index = 2};
    cr_assert_eq(wal_hard_state_save(w, &hs), 0);
    wal_close(w);
    size_t len;
    uint8_t *data = wt_read_file(dir, "hardstate", &len);
    struct wal_errmsg err;
    for (size_t i = 0; i < len; i++) {
        data[i] ^= 0x10;
        wt_write_file(dir, "hardstate", data, len);
        cr_assert_eq(wt_try_open(dir, seg_size, &w, &err), WAL_ERR_CORRUPT, "byte %zu", i);
        cr_assert(strstr(err.text, "/hardstate offset") != NULL, "%s", err.text);
        data[i] ^= 0x10;
    }
    wt_write_file(dir, "hardstate", data, len - 1);
    cr_assert_eq(wt_try_open(dir, seg_size, &w, &err), WAL_ERR_CORRUPT);
    cr_assert(strstr(err.text, "size") != NULL, "%s", err.text);
    /* A leftover temp file is an unfinished save: the old file stands. */
    wt_write_file(dir, "hardstate", data, len);
    wt_write_file(dir, "hardstate.tmp", data, 3);
    w = wt_open(dir, WAL_FSYNC_ALWAYS, seg_size);
    wal_hard_state_get(w, &hs);
    cr_assert_eq(hs.term, 3);
    wal_close(w);
    free(data);
    wt_rmdir(dir);
}

/* Saves every segment's bytes so a test can put them back, as if unlinks never happened. */
struct saved_log {
    size_t n;
    char names[64][64];
    uint8_t *data[64];
    size_t len[64];
};

static void save_log(const char *dir, struct saved_log *s)
{
    s->n = wt_segments(dir, s->names, 64);
    for (size_t i = 0; i < s->n; i++)
        s->data[i] = wt_read_file(dir, s->names[i], &s->len[i]);
}

/* Puts back the first `upto` saved segments after removing what is there now. */
static void restore_log(const char *dir, struct saved_log *s, size_t upto)
{
    char now[64][64];
    size_t n = wt_segments(dir, now, 64);
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, now[i]);
        cr_assert_eq(unlink(path), 0);
    }
    for (size_t i = 0; i < s->n; i++) {
        if (i < upto)
            wt_write_file(dir, s->names[i], s->data[i], s->len[i]);
        free(s->data[i]);
    }
}

Test(wal_recovery, compaction_cut_short_is_finished)
{
    char *dir = wt_tmpdir();
    struct wal *w = wt_open(dir, WAL_FSYNC_NEVER, seg_size);
    wt_append_range(w, 1, 200, 11);
    wal_close(w);
    struct saved_log s;
    save_log(dir, &s);
    w = wt_open(dir, WAL_FSYNC_NEVER, seg_size);
    cr_assert_eq(wal_compact(w, 150, wt_term(150)), 0);
    uint64_t first = wal_first_index(w);
    wal_close(w);
    restore_log(dir, &s, s.n); /* the snapshot file was written, no unlink happened */
    w = wt_open(dir, WAL_FSYNC_NEVER, seg_size);
    cr_assert_eq(wal_first_index(w), first);
    cr_assert_eq(wal_last_index(w), 200);
    wt_check_range(w, first, 200, 11);
    wal_close(w);
    wt_rmdir(dir);
}

Test(wal_recovery, reset_cut_short_discards_a_conflicting_log)
{
    char *dir = wt_tmpdir();
    struct wal *w = wt_open(dir, WAL_FSYNC_NEVER, seg_size);
    wt_append_range(w, 1, 200, 11);
    wal_close(w);
    struct saved_log s;
    save_log(dir, &s);
    w = wt_open(dir, WAL_FSYNC_NEVER, seg_size);
    cr_assert_eq(wal_reset(w, 100, wt_term(100) + 1), 0); /* the snapshot disagrees at 100 */
    wal_close(w);
    restore_log(dir, &s, s.n - 1); /* as if the crash came after the first unlink */
    w = wt_open(dir, WAL_FSYNC_NEVER, seg_size);
    cr_assert_eq(wal_first_index(w), 101);
    cr_assert_eq(wal_last_index(w), 100);
    uint64_t t;
    cr_assert_eq(wal_term_at(w, 100, &t), 0);
    cr_assert_eq(t, wt_term(100) + 1);
    wal_close(w);
    wt_rmdir(dir);
}

Test(wal_recovery, reset_cut_short_keeps_a_matching_log)
{
    char *dir = wt_tmpdir();
    struct wal *w = wt_open(dir, WAL_FSYNC_NEVER, seg_size);
    wt_append_range(w, 1, 200, 11);
    wal_close(w);
    struct saved_log s;
    save_log(dir, &s);
    w = wt_open(dir, WAL_FSYNC_NEVER, seg_size);
    cr_assert_eq(wal_reset(w, 100, wt_term(100)), 0);
    wal_close(w);
    restore_log(dir, &s, s.n - 1);
    /* Raft keeps entries after a snapshot whose last entry matches the log's. */
    w = wt_open(dir, WAL_FSYNC_NEVER, seg_size);
    uint64_t kept_last = strtoull(s.names[s.n - 1], NULL, 10) - 1;
    cr_assert_gt(kept_last, 100);
    cr_assert_eq(wal_last_index(w), kept_last);
    cr_assert_leq(wal_first_index(w), 101);
    wt_check_range(w, 101, kept_last, 11);
    wal_close(w);
    wt_rmdir(dir);
}

static void redirect_stderr(void) { cr_redirect_stderr(); }

Test(wal_recovery, a_cut_tail_is_reported_with_file_and_offset, .init = redirect_stderr)
{
    char *dir = wt_tmpdir();
    char names[64][64];
    size_t nseg = make_log(dir, 30, names);
    size_t len;
    uint8_t *data = wt_read_file(dir, names[nseg - 1], &len);
    wt_write_file(dir, names[nseg - 1], data, len - 1);
    struct wal *w = wt_open(dir, WAL_FSYNC_NEVER, seg_size);
    cr_assert_eq(wal_last_index(w), 29);
    wal_close(w);
    fflush(stderr);
    char want[128];
    snprintf(want, sizeof want, "%s offset ", names[nseg - 1]);
    FILE *err = cr_get_redirected_stderr();
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, err))
        found = strstr(line, "WARN") && strstr(line, want) && strstr(line, "torn tail");
    cr_assert(found, "no warning naming %s", want);
    free(data);
    wt_rmdir(dir);
}

Test(wal_recovery, a_record_above_a_lowered_limit_is_refused_not_cut)
{
    char *dir = wt_tmpdir();
    struct wal *w = wt_open(dir, WAL_FSYNC_NEVER, seg_size);
    uint8_t big[2000] = {0};
    cr_assert_eq(wal_append(w, 1, 1, big, sizeof big), 0);
    wal_close(w);
    struct wal_config cfg;
    wal_config_default(&cfg, dir);
    cfg.record_payload_max = 1000;
    struct wal_errmsg err;
    cr_assert_eq(wal_open(&cfg, &w, &err), WAL_ERR_CORRUPT);
    cr_assert(strstr(err.text, "above record_payload_max 1000") != NULL, "%s", err.text);
    w = wt_open(dir, WAL_FSYNC_NEVER, seg_size);
    cr_assert_eq(wal_last_index(w), 1, "the record is still there");
    wal_close(w);
    wt_rmdir(dir);
}
