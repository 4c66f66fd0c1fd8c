/* test_wal_zero.c: segments zero-filled ahead of the appends: zero and torn tails in the
   zeros, truncation that never resurrects a removed record, rolls and compaction. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "test_seed.h"
#include "wal.h"
#include "wal_test_util.h"

enum {
    zt_wait_ms_max = 20000,
    zt_seg = 64 << 10, /* the smallest segment the wal zero-fills */
    zt_log_records = 700, /* two segments of zt_seg */
    zt_offs_max = 1024,
};

static int zt_try_open(const char *dir, uint64_t seg_size, uint32_t ahead, struct wal **out,
                       struct wal_errmsg *err)
{
    struct wal_config cfg;
    wal_config_default(&cfg, dir);
    cfg.segment_size_max = seg_size;
    cfg.record_payload_max = 4096;
    cfg.write_buffer_size = 4096;
    cfg.zero_ahead_bytes = ahead;
    return wal_open(&cfg, out, err);
}

static struct wal *zt_open(const char *dir, uint64_t seg_size, uint32_t ahead)
{
    struct wal *w;
    struct wal_errmsg err = {{0}};
    int rc = zt_try_open(dir, seg_size, ahead, &w, &err);
    cr_assert_eq(rc, 0, "wal_open %s: %s", dir, err.text);
    return w;
}

/* Records of a segment's bytes: stream offsets, and the file bytes of the blocks they fill. */
static size_t zt_records(const uint8_t *data, size_t len, uint64_t offs[], size_t max,
                         uint64_t *send, uint64_t *end)
{
    size_t n = wt_seg_records(data, len, offs, max, send);
    *end = wal_stream_file_size(*send);
    return n;
}

/* The file offset of the block holding stream byte off. */
static uint64_t zt_block_at(uint64_t off)
{
    return wal_segment_header_size + off / wal_block_data_size * wal_block_size;
}

static bool zt_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static uint64_t zt_file_size(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "stat %s", path);
    return (uint64_t)st.st_size;
}

static uint64_t zt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits (with a deadline) until the file is at least size bytes: the filler got there. */
static void zt_wait_size(const char *dir, const char *name, uint64_t size)
{
    uint64_t deadline = zt_now_ms() + zt_wait_ms_max;
    while (zt_file_size(dir, name) < size) {
        cr_assert_lt(zt_now_ms(), deadline, "%s never reached %" PRIu64 " bytes", name, size);
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
    }
}

Test(wal_zero, zeros_are_kept_ahead_of_the_appends_and_written_over)
{
    char *dir = wt_tmpdir();
    struct wal *w = zt_open(dir, 1 << 20, 64 << 10);
    wt_append_range(w, 1, 10, 3);
    cr_assert_eq(wal_sync(w), 0);
    char names[4][64];
    cr_assert_eq(wt_segments(dir, names, 4), 1);
    size_t len;
    uint8_t *data = wt_read_file(dir, names[0], &len);
    uint64_t offs[64], send, end;
    cr_assert_eq(zt_records(data, len, offs, 64, &send, &end), 10);
    free(data);
    zt_wait_size(dir, names[0], end + (64 << 10));
    /* What the log holds, for a snapshot policy: the blocks of records, not the zeros after. */
    cr_assert_eq(wal_log_bytes(w), end, "log bytes %" PRIu64 ", records end at %" PRIu64,
                 wal_log_bytes(w), end);
    wal_close(w);
    data = wt_read_file(dir, names[0], &len);
    cr_assert_geq(len, end + (64 << 10));
    cr_assert(zt_zero(data + end, len - end), "only zeros after the records");
    free(data);
    /* Reopening keeps the zeros (the log ends where they start) and appends over them. */
    w = zt_open(dir, 1 << 20, 64 << 10);
    cr_assert_eq(wal_last_index(w), 10);
    cr_assert_geq(zt_file_size(dir, names[0]), len);
    wt_append_range(w, 11, 400, 3);
    cr_assert_eq(wal_sync(w), 0);
    wal_close(w);
    w = zt_open(dir, 1 << 20, 64 << 10);
    cr_assert_eq(wal_last_index(w), 400);
    wt_check_range(w, 1, 400, 3);
    wal_close(w);
    wt_rmdir(dir);
}

/* The owner writing bursts into the range the filler is zeroing must never lose a record. */
Test(wal_zero, appends_racing_the_filler_are_never_zeroed)
{
    uint64_t seed = test_seed_for("appends_racing_the_filler_are_never_zeroed");
    uint64_t st = seed;
    char *dir = wt_tmpdir();
    struct wal *w = zt_open(dir, 4 << 20, 8 << 10); /* a short lead: the owner catches up */
    uint64_t last = 0;
    while (last < 6000) {
        uint64_t n = 1 + wt_rand(&st) % 64;
        wt_append_range(w, last + 1, last + n, seed);
        last += n;
        if (wt_rand(&st) % 4 == 0)
            cr_assert_eq(wal_sync(w), 0, "seed %" PRIu64 ": %s", seed, wal_last_error(w));
    }
    cr_assert_eq(wal_sync(w), 0);
    wt_check_range(w, 1, last, seed);
    wal_close(w);
    w = zt_open(dir, 4 << 20, 8 << 10);
    cr_assert_eq(wal_last_index(w), last, "seed %" PRIu64, seed);
    wt_check_range(w, 1, last, seed);
    wal_close(w);
    wt_rmdir(dir);
}

/* A log whose last segment ends in zeros; names, records and the zeros' start come back.
   The last zt_unsynced records were written after the last sync: only their blocks may be
   lost by a crash. */
enum { zt_unsynced = 16 };
struct zt_log {
    char *dir;
    char names[64][64];
    size_t nseg;
    uint8_t *data; /* the last segment */
    size_t len;
    uint64_t offs[zt_offs_max]; /* stream offsets of its records */
    size_t nrec;
    uint64_t send;    /* stream offset where they end */
    uint64_t end;     /* file offset where their blocks end */
    uint64_t durable; /* stream offset the last sync covered */
    uint64_t first;   /* index of the last segment's first record */
};

static void zt_make_log(struct zt_log *l, uint64_t last)
{
    l->dir = wt_tmpdir();
    struct wal *w = zt_open(l->dir, zt_seg, 0);
    wt_append_range(w, 1, last - zt_unsynced, 11);
    cr_assert_eq(wal_sync(w), 0);
    wt_append_range(w, last - zt_unsynced + 1, last, 11);
    wal_close(w); /* written, not synced */
    l->nseg = wt_segments(l->dir, l->names, 64);
    cr_assert_geq(l->nseg, 2);
    size_t len;
    uint8_t *data = wt_read_file(l->dir, l->names[l->nseg - 1], &len);
    l->len = len + 8192; /* the zeros written ahead */
    l->data = calloc(1, l->len);
    memcpy(l->data, data, len);
    free(data);
    l->nrec = zt_records(l->data, l->len, l->offs, zt_offs_max, &l->send, &l->end);
    cr_assert_eq(l->end, len);
    cr_assert_geq(l->nrec, zt_unsynced + 8);
    l->durable = l->offs[l->nrec - zt_unsynced];
    l->first = strtoull(l->names[l->nseg - 1], NULL, 10);
}

static void zt_free_log(struct zt_log *l)
{
    free(l->data);
    wt_rmdir(l->dir);
}

/* Writes bad as the last segment, opens, and expects the log to end before record k. */
static void zt_expect_cut_before(struct zt_log *l, const uint8_t *bad, size_t k, const char *why)
{
    wt_write_file(l->dir, l->names[l->nseg - 1], bad, l->len);
    struct wal *w;
    struct wal_errmsg err = {{0}};
    int rc = zt_try_open(l->dir, zt_seg, 4096, &w, &err);
    cr_assert_eq(rc, 0, "%s: %s", why, err.text);
    cr_assert_eq(wal_last_index(w), l->first + k - 1, "%s", why);
    wt_check_range(w, 1, l->first + k - 1, 11);
    wal_close(w);
    /* The cut blocks are gone from the file, so they cannot come back after new appends. */
    size_t len;
    uint8_t *now = wt_read_file(l->dir, l->names[l->nseg - 1], &len);
    uint64_t keep = wal_stream_file_size(l->offs[k]);
    cr_assert(zt_zero(now + keep, len - keep), "%s: stale bytes after the cut", why);
    free(now);
}

/* The first record with a byte in the block that starts at stream offset b. */
static size_t zt_first_touching(const struct zt_log *l, uint64_t b)
{
    size_t k = 0;
    while (k + 1 < l->nrec && l->offs[k + 1] <= b)
        k++;
    return k;
}

Test(wal_zero, torn_tails_inside_the_zeros_are_cut)
{
    log_set_level(LOG_ERROR);
    struct zt_log l;
    zt_make_log(&l, zt_log_records);
    uint8_t *bad = malloc(l.len);
    /* Blocks wholly after the last sync: the tail from there lost, or that block alone with
       later ones of the same unsynced writes on disk. */
    uint64_t first = l.durable / wal_block_data_size + 1;
    size_t cases = 0;
    for (uint64_t b = first; b * wal_block_data_size < l.send; b++) {
        uint64_t at = wal_segment_header_size + b * wal_block_size;
        size_t k = zt_first_touching(&l, b * wal_block_data_size);
        for (int alone = 0; alone < 2; alone++) {
            memcpy(bad, l.data, l.len);
            memset(bad + at, 0, alone ? wal_block_size : l.len - at);
            zt_expect_cut_before(&l, bad, k, alone ? "a lost block" : "a lost tail");
            cases++;
        }
    }
    cr_assert_geq(cases, 4, "too few unsynced blocks to test");
    free(bad);
    zt_free_log(&l);
}

Test(wal_zero, corruption_before_the_zeros_is_still_refused)
{
    log_set_level(LOG_ERROR);
    uint64_t seed = test_seed_for("corruption_before_the_zeros_is_still_refused");
    uint64_t st = seed;
    struct zt_log l;
    zt_make_log(&l, zt_log_records);
    uint8_t *bad = malloc(l.len);
    for (size_t k = 0; k + 1 < l.nrec; k++) {
        memcpy(bad, l.data, l.len);
        uint64_t s = l.offs[k] + wt_rand(&st) % (l.offs[k + 1] - l.offs[k]);
        uint64_t i = wal_stream_to_file(s);
        bad[i] ^= (uint8_t)(1u << (wt_rand(&st) % 8));
        wt_write_file(l.dir, l.names[l.nseg - 1], bad, l.len);
        struct wal *w;
        struct wal_errmsg err = {{0}};
        int rc = zt_try_open(l.dir, zt_seg, 4096, &w, &err);
        cr_assert_eq(rc, WAL_ERR_CORRUPT, "seed %" PRIu64 " byte %" PRIu64 ": rc %d", seed, i, rc);
        char want[128];
        snprintf(want, sizeof want, "%s offset %" PRIu64 ":", l.names[l.nseg - 1], zt_block_at(s));
        cr_assert(strstr(err.text, want) != NULL, "seed %" PRIu64 ": want '%s' in '%s'", seed,
                  want, err.text);
    }
    /* Zeros in a segment that is not the last are corruption too. */
    wt_write_file(l.dir, l.names[l.nseg - 1], l.data, l.len);
    size_t len;
    uint8_t *mid = wt_read_file(l.dir, l.names[0], &len);
    uint8_t *grown = calloc(1, len + 4096);
    memcpy(grown, mid, len);
    wt_write_file(l.dir, l.names[0], grown, len + 4096);
    struct wal *w;
    struct wal_errmsg err = {{0}};
    cr_assert_eq(zt_try_open(l.dir, zt_seg, 4096, &w, &err), WAL_ERR_CORRUPT);
    cr_assert(strstr(err.text, "not the last") != NULL, "%s", err.text);
    free(grown);
    free(mid);
    free(bad);
    zt_free_log(&l);
}

Test(wal_zero, a_record_after_zeros_past_the_end_is_not_resurrected)
{
    log_set_level(LOG_ERROR);
    struct zt_log l;
    zt_make_log(&l, zt_log_records);
    /* A copy of the last block, far into the zeros: valid, but after the end. */
    uint8_t *bad = malloc(l.len);
    memcpy(bad, l.data, l.len);
    uint64_t at = l.end + 2 * wal_block_size;
    memcpy(bad + at, l.data + l.end - wal_block_size, wal_block_size);
    wt_write_file(l.dir, l.names[l.nseg - 1], bad, l.len);
    struct wal *w = zt_open(l.dir, zt_seg, 4096);
    uint64_t last = l.first + l.nrec - 1;
    cr_assert_eq(wal_last_index(w), last);
    wt_append_range(w, last + 1, last + 3, 12);
    cr_assert_eq(wal_sync(w), 0);
    wal_close(w);
    w = zt_open(l.dir, zt_seg, 4096);
    cr_assert_eq(wal_last_index(w), last + 3);
    wt_check_range(w, 1, last, 11);
    wt_check_range(w, last + 1, last + 3, 12);
    wal_close(w);
    free(bad);
    zt_free_log(&l);
}

Test(wal_zero, a_last_segment_of_only_zeros_is_an_unfinished_creation)
{
    log_set_level(LOG_ERROR);
    struct zt_log l;
    zt_make_log(&l, zt_log_records);
    uint8_t *zeros = calloc(1, 8192);
    wt_write_file(l.dir, l.names[l.nseg - 1], zeros, 8192);
    struct wal *w = zt_open(l.dir, zt_seg, 4096);
    cr_assert_eq(wal_last_index(w), l.first - 1);
    wt_check_range(w, 1, l.first - 1, 11);
    wal_close(w);
    free(zeros);
    zt_free_log(&l);
}

/* The child of a truncation test: 100 records, cut from 51, maybe 10 new ones, then killed. */
static void zt_truncate_child(const char *dir, uint64_t seg_size, uint64_t appended)
{
    struct wal *w;
    if (zt_try_open(dir, seg_size, 64 << 10, &w, NULL) != 0)
        _exit(1);
    uint8_t p[wt_payload_len_max];
    for (uint64_t i = 1; i <= 100; i++) {
        uint32_t len = wt_payload(21, i, p);
        if (wal_append(w, i, wt_term(i), p, len) != 0)
            _exit(2);
    }
    if (wal_sync(w) != 0 || wal_truncate_suffix(w, 51) != 0)
        _exit(3);
    for (uint64_t i = 51; i < 51 + appended; i++) {
        uint32_t len = wt_payload(22, i, p);
        if (wal_append(w, i, wt_term(i), p, len) != 0)
            _exit(4);
    }
    if (wal_sync(w) != 0)
        _exit(5);
    raise(SIGKILL); /* no close: the filler may be writing zeros this very moment */
    _exit(6);
}

static void zt_truncate_case(uint64_t seg_size, uint64_t appended)
{
    char *dir = wt_tmpdir();
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        zt_truncate_child(dir, seg_size, appended);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status), "child exited %d", WEXITSTATUS(status));
    for (int round = 0; round < 2; round++) { /* and again after a clean reopen */
        struct wal *w = zt_open(dir, seg_size, 64 << 10);
        cr_assert_eq(wal_last_index(w), 50 + appended, "segments of %" PRIu64, seg_size);
        wt_check_range(w, 1, 50, 21);
        if (appended)
            wt_check_range(w, 51, 50 + appended, 22);
        wal_close(w);
    }
    /* Past the log's end the last segment holds zeros only: no removed record's bytes. */
    char names[64][64];
    size_t nseg = wt_segments(dir, names, 64);
    size_t len;
    uint8_t *data = wt_read_file(dir, names[nseg - 1], &len);
    uint64_t offs[zt_offs_max], send, end;
    size_t n = zt_records(data, len, offs, zt_offs_max, &send, &end);
    cr_assert_eq(strtoull(names[nseg - 1], NULL, 10) + n - 1, 50 + appended);
    cr_assert(zt_zero(data + end, len - end), "bytes after the log's end");
    free(data);
    wt_rmdir(dir);
}

Test(wal_zero, truncation_then_appends_then_a_crash_keeps_exactly_the_new_log)
{
    zt_truncate_case(1 << 20, 10); /* one segment, zeros far ahead */
    zt_truncate_case(4096, 10);    /* the cut removes whole segments (too small to fill) */
}

Test(wal_zero, truncation_then_a_crash_without_appends_keeps_exactly_the_prefix)
{
    zt_truncate_case(1 << 20, 0);
    zt_truncate_case(4096, 0);
}

Test(wal_zero, finished_segments_end_at_their_last_record_and_compaction_still_works)
{
    char *dir = wt_tmpdir();
    struct wal *w = zt_open(dir, zt_seg, 16 << 10);
    for (uint64_t i = 1; i <= 3000; i += 20) {
        wt_append_range(w, i, i + 19, 5);
        cr_assert_eq(wal_sync(w), 0);
    }
    char names[64][64];
    size_t nseg = wt_segments(dir, names, 64);
    cr_assert_geq(nseg, 5);
    for (size_t s = 0; s + 1 < nseg; s++) {
        size_t len;
        uint8_t *data = wt_read_file(dir, names[s], &len);
        uint64_t offs[zt_offs_max], send, end;
        zt_records(data, len, offs, zt_offs_max, &send, &end);
        cr_assert_eq(end, len, "%s: %zu bytes, record blocks end at %" PRIu64, names[s], len,
                     end);
        free(data);
    }
    /* A cut that removes whole segments, then appends into the zeros of the kept one. */
    uint64_t cut = strtoull(names[nseg - 2], NULL, 10) + 7;
    cr_assert_eq(wal_truncate_suffix(w, cut), 0);
    wt_append_range(w, cut, 3000, 6);
    cr_assert_eq(wal_compact(w, 1500, wt_term(1500)), 0);
    uint64_t first = wal_first_index(w);
    wt_append_range(w, 3001, 3100, 6);
    cr_assert_eq(wal_sync(w), 0);
    wal_close(w);
    w = zt_open(dir, zt_seg, 16 << 10);
    cr_assert_eq(wal_first_index(w), first);
    cr_assert_eq(wal_last_index(w), 3100);
    wt_check_range(w, first, cut - 1, 5);
    wt_check_range(w, cut, 3100, 6);
    cr_assert_eq(wal_reset(w, 3300, wt_term(3300)), 0);
    wt_append_range(w, 3301, 3350, 5);
    cr_assert_eq(wal_sync(w), 0);
    wal_close(w);
    w = zt_open(dir, zt_seg, 16 << 10);
    cr_assert_eq(wal_first_index(w), 3301);
    cr_assert_eq(wal_last_index(w), 3350);
    wt_check_range(w, 3301, 3350, 5);
    wal_close(w);
    wt_rmdir(dir);
}
