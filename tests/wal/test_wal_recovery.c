/* test_wal_recovery.c: recovery cuts torn tails, refuses corruption before the tail, and
   finishes compactions and resets a crash cut short. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"
#include "log.h"
#include "wal.h"
#include "wal_test_util.h"

enum { seg_size = 4096 };

/* A log of `last` records over several segments; returns the segment count. */
static size_t make_log(const char *dir, uint64_t last, char names[][64])
{
    struct wal *w = wt_open(dir, WAL_FSYNC_NEVER, seg_size);
    wt_append_range(w, 1, last, 11);
    cr_assert_eq(wal_sync(w), 0);
    wal_close(w);
    return wt_segments(dir, names, 64);
}

/* The file cut at every block boundary inside the last record, or those blocks zeroed (a
   crash that lost them): the log ends before that record, and takes new records after. */
Test(wal_recovery, torn_tail_at_every_block_of_the_last_record)
{
    log_set_level(LOG_ERROR); /* one warning per iteration otherwise; see a_cut_tail_... */
    char *dir = wt_tmpdir();
    char names[64][64];
    size_t nseg = make_log(dir, 60, names);
    cr_assert_gt(nseg, 1);
    const char *last_seg = names[nseg - 1];
    size_t len;
    uint8_t *data = wt_read_file(dir, last_seg, &len);
    uint64_t offs[256], end;
    size_t nrec = wt_seg_records(data, len, offs, 256, &end);
    cr_assert_geq(nrec, 1);
    cr_assert_eq(strtoull(last_seg, NULL, 10) + nrec - 1, 60);
    uint64_t first_block = offs[nrec - 1] / wal_block_data_size;
    uint64_t blocks = (len - wal_segment_header_size) / wal_block_size;
    for (uint64_t b = first_block; b < blocks; b++) {
        uint64_t cut = wal_segment_header_size + b * wal_block_size;
        for (int zeroed = 0; zeroed < 2; zeroed++) {
            uint8_t *torn = calloc(1, len);
            memcpy(torn, data, zeroed ? len : cut);
            if (zeroed)
                memset(torn + cut, 0, wal_block_size);
            wt_write_file(dir, last_seg, torn, zeroed ? len : cut);
            free(torn);
            struct wal *w = wt_open(dir, WAL_FSYNC_NEVER, seg_size);
            cr_assert_eq(wal_last_index(w), 59, "block %" PRIu64 " of %" PRIu64 " %s", b, blocks,
                         zeroed ? "zeroed" : "cut");
            wt_check_range(w, 1, 59, 11);
            wal_close(w);
        }
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

/* A last segment whose header never reached the disk, maybe with some of its blocks: an
   unfinished creation, removed (nothing in it was synced: the first sync writes the header). */
Test(wal_recovery, unfinished_segment_creation_is_removed)
{
    log_set_level(LOG_ERROR);
    char *dir = wt_tmpdir();
    char names[64][64];
    size_t nseg = make_log(dir, 30, names);
    size_t len;
    uint8_t *data = wt_read_file(dir, names[nseg - 1], &len);
    cr_assert_geq(len, wal_segment_header_size + wal_block_size);
    uint64_t first_of_last = strtoull(names[nseg - 1], NULL, 10);
    size_t sizes[] = {0, wal_segment_header_size, len};
    for (size_t k = 0; k < 3; k++) {
        uint8_t *torn = calloc(1, len);
        memcpy(torn, data, sizes[k]);
        memset(torn, 0, wal_segment_header_size); /* the header is zeros, blocks may follow */
        wt_write_file(dir, names[nseg - 1], torn, sizes[k]);
        free(torn);
        struct wal *w = wt_open(dir, WAL_FSYNC_NEVER, seg_size);
        cr_assert_eq(wal_last_index(w), first_of_last - 1, "file of %zu bytes", sizes[k]);
        wt_check_range(w, 1, first_of_last - 1, 11);
        wal_close(w);
    }
    free(data);
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
    uint64_t offs[256], end;
    size_t nrec = wt_seg_records(data, len, offs, 256, &end);
    cr_assert_gt(nrec, 1);
    wt_write_file(dir, names[nseg - 1], data, len - wal_block_size); /* the last block lost */
    struct wal *w = wt_open(dir, WAL_FSYNC_NEVER, seg_size);
    cr_assert_lt(wal_last_index(w), 30);
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

/* Segments of format version 1 (before blocks) are refused with a message saying so. */
Test(wal_recovery, a_segment_of_the_old_format_is_refused)
{
    char *dir = wt_tmpdir();
    uint8_t old[20 + 24] = {0};
    wal_put32(old, WAL_SEGMENT_MAGIC);
    wal_put32(old + 4, 1);
    wal_put64(old + 8, 1);
    wal_put32(old + 16, crc32c(old, 16));
    wal_record_header_encode(old + 20, 1, 1, NULL, 0);
    wt_write_file(dir, "00000000000000000001.wal", old, sizeof old);
    struct wal *w;
    struct wal_errmsg err;
    cr_assert_eq(wt_try_open(dir, seg_size, &w, &err), WAL_ERR_FORMAT);
    cr_assert(strstr(err.text, "00000000000000000001.wal: log format version 1") != NULL, "%s",
              err.text);
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

/* A segment of one block at `epoch`: record 1 (term 1, 8 bytes of 'a') and the first 10 bytes
   of record 2's header, a torn tail recovery must cut with a higher epoch. */
static void write_torn_segment_at_epoch(const char *dir, uint32_t epoch)
{
    uint8_t seg[wal_segment_header_size + wal_block_size] = {0};
    wal_segment_header_encode(seg, 1);
    uint8_t *blk = seg + wal_segment_header_size;
    const uint8_t payload[8] = "aaaaaaaa";
    wal_record_header_encode(blk + wal_block_header_size, 1, 1, payload, sizeof payload);
    memcpy(blk + wal_block_header_size + wal_record_header_size, payload, sizeof payload);
    uint16_t used = (uint16_t)(wal_record_size(sizeof payload) + 10);
    memset(blk + wal_block_header_size + wal_record_size(sizeof payload), 0x5a, 10);
    wal_block_seal(blk, used, epoch, 0);
    wt_write_file(dir, "00000000000000000001.wal", seg, sizeof seg);
}

/* Epochs never wrap (found by fuzz_wal): a torn tail behind a block of the last epoch is
   refused as damage; one epoch lower it is cut, the log goes on, and its next cut (the last
   epoch now on disk) is refused and stops the log instead of wrapping to epoch 0. */
Test(wal_recovery, a_cut_with_no_epoch_left_is_refused_not_wrapped)
{
    log_set_level(LOG_ERROR);
    char *dir = wt_tmpdir();
    struct wal *w;
    struct wal_errmsg err = {{0}};
    write_torn_segment_at_epoch(dir, UINT32_MAX);
    cr_assert_eq(wt_try_open(dir, seg_size, &w, &err), WAL_ERR_CORRUPT);
    cr_assert(strstr(err.text, "00000000000000000001.wal offset ") != NULL &&
              strstr(err.text, "no epoch is left to cut it with") != NULL, "%s", err.text);

    write_torn_segment_at_epoch(dir, UINT32_MAX - 1);
    w = wt_open(dir, WAL_FSYNC_NEVER, seg_size);
    cr_assert_eq(wal_last_index(w), 1, "the torn record 2 is cut, record 1 kept");
    wt_append_range(w, 2, 4, 11);
    cr_assert_eq(wal_sync(w), 0);
    cr_assert_eq(wal_truncate_suffix(w, 3), WAL_ERR_CORRUPT);
    cr_assert(strstr(wal_last_error(w), "no epoch is left to cut it with") != NULL, "%s",
              wal_last_error(w));
    cr_assert_eq(wal_append(w, 5, wt_term(5), "x", 1), WAL_ERR_FAILED, "the log stopped");
    wal_close(w);
    w = wt_open(dir, WAL_FSYNC_NEVER, seg_size);
    cr_assert_eq(wal_last_index(w), 4, "what was synced before the refused cut is all there");
    wt_check_range(w, 2, 4, 11);
    wal_close(w);
    wt_rmdir(dir);
}
