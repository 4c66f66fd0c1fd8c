/* test_wal.c: every WAL operation, and that a reopen keeps what it did. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <pthread.h>
#include <string.h>

#include "wal.h"
#include "wal_test_util.h"

Test(wal, new_log_is_empty_and_durable)
{
    char *dir = wt_tmpdir();
    struct wal *w = wt_open(dir, WAL_FSYNC_ALWAYS, 1 << 20);
    cr_assert_eq(wal_first_index(w), 1);
    cr_assert_eq(wal_last_index(w), 0);
    cr_assert_eq(wal_durable_index(w), 0);
    uint64_t t = 99;
    cr_assert_eq(wal_term_at(w, 0, &t), 0);
    cr_assert_eq(t, 0);
    cr_assert_eq(wal_term_at(w, 1, &t), WAL_ERR_RANGE);
    wal_close(w);
    wt_rmdir(dir);
}

Test(wal, append_sync_read_back_reopen)
{
    char *dir = wt_tmpdir();
    struct wal *w = wt_open(dir, WAL_FSYNC_ALWAYS, 1 << 20);
    wt_append_range(w, 1, 200, 7);
    cr_assert_eq(wal_last_index(w), 200);
    cr_assert_eq(wal_durable_index(w), 0, "appends alone are not durable");
    wt_check_range(w, 1, 200, 7); /* reads see written-but-unsynced records */
    cr_assert_eq(wal_sync(w), 0, "%s", wal_last_error(w));
    cr_assert_eq(wal_durable_index(w), 200);
    uint64_t t;
    cr_assert_eq(wal_term_at(w, 57, &t), 0);
    cr_assert_eq(t, wt_term(57));
    wal_close(w);
    w = wt_open(dir, WAL_FSYNC_ALWAYS, 1 << 20);
    cr_assert_eq(wal_last_index(w), 200);
    cr_assert_eq(wal_durable_index(w), 200);
    wt_check_range(w, 1, 200, 7);
    wt_append_range(w, 201, 210, 7);
    wt_check_range(w, 150, 210, 7);
    wal_close(w);
    wt_rmdir(dir);
}

Test(wal, append_rejects_bad_index_term_and_size)
{
    char *dir = wt_tmpdir();
    struct wal *w = wt_open(dir, WAL_FSYNC_NEVER, 1 << 20);
    uint8_t big[4097] = {0};
    cr_assert_eq(wal_append(w, 2, 1, "x", 1), WAL_ERR_INDEX);
    cr_assert_eq(wal_append(w, 1, 5, "x", 1), 0);
    cr_assert_eq(wal_append(w, 2, 4, "x", 1), WAL_ERR_TERM);
    cr_assert_eq(wal_append(w, 2, 5, big, sizeof big), WAL_ERR_TOO_LARGE);
    cr_assert(strstr(wal_last_error(w), "4097") != NULL, "%s", wal_last_error(w));
    cr_assert_eq(wal_append(w, 2, 5, big, 4096), 0);
    cr_assert_eq(wal_append(w, 3, 6, NULL, 0), 0);
    cr_assert_eq(wal_last_index(w), 3);
    wal_close(w);
    wt_rmdir(dir);
}

Test(wal, read_is_bounded_by_count_and_bytes)
{
    char *dir = wt_tmpdir();
    struct wal *w = wt_open(dir, WAL_FSYNC_NEVER, 1 << 20);
    for (uint64_t i = 1; i <= 10; i++)
        cr_assert_eq(wal_append(w, i, 1, "0123456789", 10), 0);
    struct wal_entry e[8];
    uint8_t buf[100];
    size_t n;
    cr_assert_eq(wal_read(w, 3, e, 4, buf, sizeof buf, &n), 0);
    cr_assert_eq(n, 4);
    cr_assert_eq(e[0].index, 3);
    cr_assert_eq(e[3].index, 6);
    cr_assert_eq(wal_read(w, 1, e, 8, buf, 35, &n), 0);
    cr_assert_eq(n, 3, "35 bytes hold three 10-byte payloads");
    cr_assert_eq(memcmp(e[2].data, "0123456789", 10), 0);
    cr_assert_eq(wal_read(w, 1, e, 8, buf, 9, &n), WAL_ERR_NOSPACE);
    cr_assert_eq(wal_read(w, 9, e, 8, buf, sizeof buf, &n), 0);
    cr_assert_eq(n, 2, "stops at the end of the log");
    cr_assert_eq(wal_read(w, 11, e, 8, buf, sizeof buf, &n), 0);
    cr_assert_eq(n, 0);
    cr_assert_eq(wal_read(w, 12, e, 8, buf, sizeof buf, &n), WAL_ERR_RANGE);
    cr_assert_eq(wal_read(w, 0, e, 8, buf, sizeof buf, &n), WAL_ERR_COMPACTED);
    wal_close(w);
    wt_rmdir(dir);
}

Test(wal, segments_roll_at_the_size_limit)
{
    char *dir = wt_tmpdir();
    struct wal *w = wt_open(dir, WAL_FSYNC_ALWAYS, 4096);
    wt_append_range(w, 1, 300, 3);
    cr_assert_eq(wal_sync(w), 0);
    char names[256][64];
    size_t n = wt_segments(dir, names, 256);
    cr_assert_gt(n, 5, "300 records of ~170 bytes need many 4 KiB segments, got %zu", n);
    for (size_t i = 0; i + 1 < n; i++) {
        size_t len;
        free(wt_read_file(dir, names[i], &len));
        cr_assert_leq(len, 4096, "%s is %zu bytes", names[i], len);
    }
    wt_check_range(w, 1, 300, 3);
    wal_close(w);
    w = wt_open(dir, WAL_FSYNC_ALWAYS, 4096);
    cr_assert_eq(wal_last_index(w), 300);
    wt_check_range(w, 1, 300, 3);
    wal_close(w);
    wt_rmdir(dir);
}

Test(wal, truncate_suffix_within_a_segment)
{
    char *dir = wt_tmpdir();
    struct wal *w = wt_open(dir, WAL_FSYNC_ALWAYS, 1 << 20);
    wt_append_range(w, 1, 50, 1);
    cr_assert_eq(wal_sync(w), 0);
    cr_assert_eq(wal_truncate_suffix(w, 31), 0, "%s", wal_last_error(w));
    cr_assert_eq(wal_last_index(w), 30);
    cr_assert_eq(wal_durable_index(w), 30);
    cr_assert_eq(wal_truncate_suffix(w, 31), 0, "from last + 1 is a no-op");
    cr_assert_eq(wal_truncate_suffix(w, 40), WAL_ERR_RANGE);
    wt_append_range(w, 31, 40, 2); /* a new leader's entries */
    cr_assert_eq(wal_sync(w), 0);
    wal_close(w);
    w = wt_open(dir, WAL_FSYNC_ALWAYS, 1 << 20);
    cr_assert_eq(wal_last_index(w), 40);
    wt_check_range(w, 1, 30, 1);
    wt_check_range(w, 31, 40, 2);
    wal_close(w);
    wt_rmdir(dir);
}

Test(wal, truncate_suffix_across_segments)
{
    char *dir = wt_tmpdir();
    struct wal *w = wt_open(dir, WAL_FSYNC_ALWAYS, 4096);
    wt_append_range(w, 1, 300, 1);
    char names[256][64];
    size_t before = wt_segments(dir, names, 256);
    /* From the first index of a later segment, then from the middle of the first one. */
    uint64_t boundary = strtoull(names[2], NULL, 10);
    cr_assert_eq(wal_truncate_suffix(w, boundary), 0, "%s", wal_last_error(w));
    cr_assert_eq(wal_last_index(w), boundary - 1);
    cr_assert_eq(wt_segments(dir, names, 256), 3, "segment %" PRIu64 " stays, emptied", boundary);
    cr_assert_eq(wal_truncate_suffix(w, 5), 0, "%s", wal_last_error(w));
    cr_assert_eq(wt_segments(dir, names, 256), 1, "had %zu segments", before);
    wt_append_range(w, 5, 120, 9);
    cr_assert_eq(wal_sync(w), 0);
    wt_check_range(w, 1, 4, 1);
    wt_check_range(w, 5, 120, 9);
    wal_close(w);
    w = wt_open(dir, WAL_FSYNC_ALWAYS, 4096);
    cr_assert_eq(wal_last_index(w), 120);
    wt_check_range(w, 1, 4, 1);
    wt_check_range(w, 5, 120, 9);
    cr_assert_eq(wal_truncate_suffix(w, 1), 0);
    cr_assert_eq(wal_last_index(w), 0);
    wt_append_range(w, 1, 3, 4);
    wal_close(w);
    w = wt_open(dir, WAL_FSYNC_ALWAYS, 4096);
    wt_check_range(w, 1, 3, 4);
    cr_assert_eq(wal_last_index(w), 3);
    wal_close(w);
    wt_rmdir(dir);
}

Test(wal, compaction_drops_whole_segments_below_the_snapshot)
{
    char *dir = wt_tmpdir();
    struct wal *w = wt_open(dir, WAL_FSYNC_ALWAYS, 4096);
    wt_append_range(w, 1, 300, 5);
    cr_assert_eq(wal_sync(w), 0);
    char names[256][64];
    size_t before = wt_segments(dir, names, 256);
    cr_assert_eq(wal_compact(w, 150, 99), WAL_ERR_TERM, "term must match the log's");
    cr_assert_eq(wal_compact(w, 301, 1), WAL_ERR_RANGE);
    cr_assert_eq(wal_compact(w, 150, wt_term(150)), 0, "%s", wal_last_error(w));
    size_t after = wt_segments(dir, names, 256);
    cr_assert_lt(after, before);
    uint64_t first = wal_first_index(w);
    cr_assert_gt(first, 1);
    cr_assert_leq(first, 151, "the segment holding 151 stays");
    cr_assert_eq(strtoull(names[0], NULL, 10), first);
    uint64_t si, st, t;
    wal_snapshot_point(w, &si, &st);
    cr_assert_eq(si, 150);
    cr_assert_eq(st, wt_term(150));
    struct wal_entry e[1];
    uint8_t buf[512];
    size_t n;
    cr_assert_eq(wal_read(w, first - 1, e, 1, buf, sizeof buf, &n), WAL_ERR_COMPACTED);
    cr_assert_eq(wal_truncate_suffix(w, 150), WAL_ERR_COMPACTED);
    wal_close(w);
    w = wt_open(dir, WAL_FSYNC_ALWAYS, 4096);
    cr_assert_eq(wal_first_index(w), first);
    cr_assert_eq(wal_last_index(w), 300);
    wal_snapshot_point(w, &si, &st);
    cr_assert_eq(si, 150);
    cr_assert_eq(wal_term_at(w, 150, &t), 0);
    cr_assert_eq(t, wt_term(150));
    wt_check_range(w, first, 300, 5);
    /* Compacting everything keeps the active segment and an empty log restarts after it. */
    cr_assert_eq(wal_compact(w, 300, wt_term(300)), 0);
    cr_assert_eq(wt_segments(dir, names, 256), 1);
    wal_close(w);
    wt_rmdir(dir);
}

Test(wal, reset_starts_the_log_after_a_snapshot)
{
    char *dir = wt_tmpdir();
    struct wal *w = wt_open(dir, WAL_FSYNC_ALWAYS, 4096);
    wt_append_range(w, 1, 100, 5);
    cr_assert_eq(wal_reset(w, 1000, 77), 0, "%s", wal_last_error(w));
    cr_assert_eq(wal_first_index(w), 1001);
    cr_assert_eq(wal_last_index(w), 1000);
    cr_assert_eq(wal_durable_index(w), 1000);
    cr_assert_eq(wal_append(w, 1001, 76, "a", 1), WAL_ERR_TERM, "terms follow the snapshot's");
    cr_assert_eq(wal_append(w, 1001, 77, "a", 1), 0);
    cr_assert_eq(wal_sync(w), 0);
    cr_assert_eq(wal_reset(w, 999, 77), WAL_ERR_RANGE);
    wal_close(w);
    w = wt_open(dir, WAL_FSYNC_ALWAYS, 4096);
    cr_assert_eq(wal_first_index(w), 1001);
    cr_assert_eq(wal_last_index(w), 1001);
    uint64_t t;
    cr_assert_eq(wal_term_at(w, 1000, &t), 0);
    cr_assert_eq(t, 77);
    cr_assert_eq(wal_term_at(w, 999, &t), WAL_ERR_COMPACTED);
    char names[8][64];
    cr_assert_eq(wt_segments(dir, names, 8), 1);
    wal_close(w);
    wt_rmdir(dir);
}

Test(wal, hard_state_round_trip)
{
    char *dir = wt_tmpdir();
    struct wal *w = wt_open(dir, WAL_FSYNC_ALWAYS, 1 << 20);
    struct wal_hard_state hs;
    wal_hard_state_get(w, &hs);
    cr_assert_eq(hs.term, 0);
    cr_assert_eq(hs.voted_for, -1);
    cr_assert_eq(hs.commit_index, 0);
    struct wal_hard_state saved = {.term = 5, .voted_for = 2, .commit_index = 17};
    cr_assert_eq(wal_hard_state_save(w, &saved), 0, "%s", wal_last_error(w));
    struct wal_hard_state older = {.term = 4, .voted_for = -1, .commit_index = 0};
    cr_assert_eq(wal_hard_state_save(w, &older), WAL_ERR_TERM);
    wal_close(w);
    w = wt_open(dir, WAL_FSYNC_ALWAYS, 1 << 20);
    wal_hard_state_get(w, &hs);
    cr_assert_eq(hs.term, 5);
    cr_assert_eq(hs.voted_for, 2);
    cr_assert_eq(hs.commit_index, 17);
    saved = (struct wal_hard_state){.term = 6, .voted_for = -1, .commit_index = 20};
    cr_assert_eq(wal_hard_state_save(w, &saved), 0);
    wal_close(w);
    w = wt_open(dir, WAL_FSYNC_ALWAYS, 1 << 20);
    wal_hard_state_get(w, &hs);
    cr_assert_eq(hs.term, 6);
    cr_assert_eq(hs.voted_for, -1);
    wal_close(w);
    wt_rmdir(dir);
}

Test(wal, second_open_of_a_directory_is_refused)
{
    char *dir = wt_tmpdir();
    struct wal *w = wt_open(dir, WAL_FSYNC_NEVER, 1 << 20);
    struct wal *w2;
    struct wal_errmsg err;
    cr_assert_eq(wt_try_open(dir, 1 << 20, &w2, &err), WAL_ERR_LOCKED);
    cr_assert_null(w2);
    wal_close(w);
    wt_rmdir(dir);
}

Test(wal, sync_job_covers_only_what_was_appended_before_it)
{
    char *dir = wt_tmpdir();
    struct wal *w = wt_open(dir, WAL_FSYNC_ALWAYS, 1 << 20);
    wt_append_range(w, 1, 10, 1);
    struct wal_sync_job job;
    cr_assert_eq(wal_sync_begin(w, &job), 0);
    wt_append_range(w, 11, 20, 1); /* the owner keeps appending while the job runs */
    cr_assert_eq(wal_sync_end(w, &job, wal_sync_run(&job)), 0);
    cr_assert_eq(wal_durable_index(w), 10);
    cr_assert_eq(wal_sync_begin(w, &job), 0);
    cr_assert_eq(wal_truncate_suffix(w, 15), 0);
    wt_append_range(w, 15, 25, 2);
    cr_assert_eq(wal_sync_end(w, &job, wal_sync_run(&job)), 0);
    cr_assert_eq(wal_durable_index(w), 10, "a job older than a truncation proves nothing");
    cr_assert_eq(wal_sync(w), 0);
    cr_assert_eq(wal_durable_index(w), 25);
    wal_close(w);
    wt_rmdir(dir);
}

Test(wal, interval_policy_syncs_when_due)
{
    char *dir = wt_tmpdir();
    struct wal_config cfg;
    wal_config_default(&cfg, dir);
    cfg.fsync = WAL_FSYNC_INTERVAL;
    cfg.fsync_interval_ms = 100;
    struct wal *w;
    cr_assert_eq(wal_open(&cfg, &w, NULL), 0);
    wt_append_range(w, 1, 5, 1);
    cr_assert_eq(wal_sync_due(w, 1000), 0);
    cr_assert_eq(wal_durable_index(w), 5, "the first call syncs");
    wt_append_range(w, 6, 9, 1);
    cr_assert_eq(wal_sync_due(w, 1099), 0);
    cr_assert_eq(wal_durable_index(w), 5, "99 ms later: not yet");
    cr_assert_eq(wal_sync_due(w, 1100), 0);
    cr_assert_eq(wal_durable_index(w), 9);
    wal_close(w);
    wt_rmdir(dir);
}

Test(wal, config_and_policy_names)
{
    enum wal_fsync_policy p;
    cr_assert_eq(wal_fsync_policy_parse("interval", &p), 0);
    cr_assert_eq(p, WAL_FSYNC_INTERVAL);
    cr_assert_eq(wal_fsync_policy_parse("sometimes", &p), WAL_ERR_CONFIG);
    struct wal_config cfg;
    wal_config_default(&cfg, "/nonexistent-parent/x");
    struct wal *w;
    struct wal_errmsg err;
    cfg.record_payload_max = 0;
    cr_assert_eq(wal_open(&cfg, &w, &err), WAL_ERR_CONFIG);
    cr_assert(strstr(err.text, "record_payload_max") != NULL, "%s", err.text);
    wal_config_default(&cfg, "/nonexistent-parent/x");
    cr_assert_eq(wal_open(&cfg, &w, &err), WAL_ERR_IO);
    cr_assert(strstr(err.text, "No such file") != NULL, "errno detail kept: %s", err.text);
    cr_assert_str_eq(wal_strerror(WAL_ERR_CORRUPT), "corrupt data on disk");
    cr_assert_str_eq(wal_strerror(0), "ok");
}

struct sync_thread_arg {
    struct wal_sync_job *job;
    int result;
};

static void *sync_thread(void *p)
{
    struct sync_thread_arg *a = p;
    a->result = wal_sync_run(a->job);
    return NULL;
}

Test(wal, sync_job_runs_on_another_thread_while_the_owner_appends)
{
    char *dir = wt_tmpdir();
    struct wal *w = wt_open(dir, WAL_FSYNC_ALWAYS, 4096);
    uint64_t next = 1;
    for (int round = 0; round < 20; round++) {
        wt_append_range(w, next, next + 4, 3);
        next += 5;
        struct wal_sync_job job;
        cr_assert_eq(wal_sync_begin(w, &job), 0);
        struct sync_thread_arg arg = {.job = &job};
        pthread_t t;
        cr_assert_eq(pthread_create(&t, NULL, sync_thread, &arg), 0);
        wt_append_range(w, next, next + 9, 3); /* rolls segments meanwhile, too */
        next += 10;
        cr_assert_eq(pthread_join(t, NULL), 0);
        cr_assert_eq(wal_sync_end(w, &job, arg.result), 0, "%s", wal_last_error(w));
        cr_assert_geq(wal_durable_index(w), job.index);
    }
    cr_assert_eq(wal_sync(w), 0);
    cr_assert_eq(wal_durable_index(w), next - 1);
    wal_close(w);
    w = wt_open(dir, WAL_FSYNC_ALWAYS, 4096);
    wt_check_range(w, 1, next - 1, 3);
    wal_close(w);
    wt_rmdir(dir);
}
