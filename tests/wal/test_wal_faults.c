/* test_wal_faults.c: the storage seam fails the Nth write, sync, rename or open: the wal stops
   (or, on a full disk, cuts back) and never calls durable what it could not make durable. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sio.h"
#include "wal.h"
#include "wal_test_util.h"

enum { ft_seg = 8192 };

static struct wal *ft_open(const char *dir, struct sio_faults *f, uint64_t seg_size,
                           struct wal_errmsg *err, int *rc)
{
    struct wal_config cfg;
    wal_config_default(&cfg, dir);
    cfg.segment_size_max = seg_size;
    cfg.record_payload_max = 4096;
    cfg.write_buffer_size = 4096;
    cfg.zero_ahead_bytes = 0; /* no filler thread: every write and sync is the owner's */
    cfg.io = f ? sio_faults_io(f) : NULL;
    struct wal *w = NULL;
    *rc = wal_open(&cfg, &w, err);
    return w;
}

static struct wal *ft_must_open(const char *dir, struct sio_faults *f, uint64_t seg_size)
{
    struct wal_errmsg err = {{0}};
    int rc;
    struct wal *w = ft_open(dir, f, seg_size, &err, &rc);
    cr_assert_eq(rc, 0, "wal_open: %s", err.text);
    return w;
}

/* After a failed write or sync the wal refuses everything, and a reopen finds every record
   it called durable (and maybe some written after: never acknowledged, never lost). */
static void ft_io_error_case(enum sio_call call, uint64_t nth, int err)
{
    log_set_level(LOG_ERROR);
    char *dir = wt_tmpdir();
    struct sio_faults *f = sio_faults_new(sio_default());
    struct wal *w = ft_must_open(dir, f, ft_seg);
    wt_append_range(w, 1, 20, 7);
    cr_assert_eq(wal_sync(w), 0);
    uint64_t durable = wal_durable_index(w);
    cr_assert_eq(durable, 20);
    sio_faults_set(f, call, nth, 0, err);
    int rc = 0;
    uint64_t next = 21;
    for (int batch = 0; batch < 50 && rc == 0; batch++) {
        for (int k = 0; k < 5 && rc == 0; k++, next++) {
            uint8_t p[wt_payload_len_max];
            uint32_t len = wt_payload(7, next, p);
            rc = wal_append(w, next, wt_term(next), p, len);
        }
        if (rc == 0)
            rc = wal_sync(w);
        if (rc == 0)
            durable = wal_durable_index(w);
    }
    cr_assert_neq(rc, 0, "%s #%" PRIu64 " never failed", sio_call_name(call), nth);
    cr_assert_gt(sio_faults_failed(f, call), 0);
    /* A roll syncs the finished segment before it creates the next: what that sync covered
       is durable even when the creation then fails. A reopen must find all of it. */
    cr_assert_geq(wal_durable_index(w), durable);
    durable = wal_durable_index(w);
    /* Fail-stop: nothing more goes in, though the disk works again. */
    sio_faults_clear_all(f);
    uint64_t last = wal_last_index(w);
    cr_assert_eq(wal_append(w, last + 1, wt_term(last + 1), "x", 1), WAL_ERR_FAILED);
    cr_assert_eq(wal_sync(w), WAL_ERR_FAILED);
    cr_assert(strstr(wal_last_error(w), dir) != NULL, "%s", wal_last_error(w));
    wal_close(w);
    w = ft_must_open(dir, NULL, ft_seg);
    cr_assert_geq(wal_last_index(w), durable);
    wt_check_range(w, 1, wal_last_index(w), 7);
    wal_close(w);
    sio_faults_free(f);
    wt_rmdir(dir);
}

Test(wal_faults, a_failed_write_stops_the_log)
{
    for (uint64_t nth = 1; nth <= 12; nth += 3) {
        ft_io_error_case(SIO_CALL_WRITE, nth, EIO);
    }
}

Test(wal_faults, a_failed_sync_stops_the_log)
{
    for (uint64_t nth = 1; nth <= 12; nth += 3)
        ft_io_error_case(SIO_CALL_SYNC, nth, EIO);
}

/* Rolls create segments (open) and cut the zeros off finished ones (truncate). */
Test(wal_faults, a_failed_open_or_truncate_at_a_roll_stops_the_log)
{
    ft_io_error_case(SIO_CALL_OPEN, 1, EIO);
    ft_io_error_case(SIO_CALL_OPEN, 2, EMFILE);
}

/* A sync that runs out of space (delayed allocation, thin provisioning) is a failed sync: the
   kernel may have dropped the pages it could not write. */
Test(wal_faults, a_sync_that_finds_no_space_stops_the_log)
{
    ft_io_error_case(SIO_CALL_SYNC, 2, ENOSPC);
}

Test(wal_faults, a_failed_hard_state_save_leaves_the_old_one)
{
    log_set_level(LOG_ERROR);
    enum sio_call calls[] = {SIO_CALL_OPEN, SIO_CALL_WRITE, SIO_CALL_SYNC, SIO_CALL_RENAME};
    for (size_t i = 0; i < 4; i++) {
        char *dir = wt_tmpdir();
        struct sio_faults *f = sio_faults_new(sio_default());
        struct wal *w = ft_must_open(dir, f, ft_seg);
        struct wal_hard_state hs = {.term = 2, .voted_for = 1}, got;
        cr_assert_eq(wal_hard_state_save(w, &hs), 0);
        sio_faults_set(f, calls[i], 1, 1, EIO);
        struct wal_hard_state next = {.term = 3, .voted_for = 0};
        cr_assert_eq(wal_hard_state_save(w, &next), WAL_ERR_IO, "%s", sio_call_name(calls[i]));
        wal_hard_state_get(w, &got);
        cr_assert_eq(got.term, 2);
        wal_close(w);
        w = ft_must_open(dir, NULL, ft_seg);
        wal_hard_state_get(w, &got);
        cr_assert_eq(got.term, 2, "%s", sio_call_name(calls[i]));
        wal_close(w);
        sio_faults_free(f);
        wt_rmdir(dir);
    }
}

Test(wal_faults, an_open_that_fails_at_recovery_is_an_error_not_an_empty_log)
{
    log_set_level(LOG_ERROR);
    char *dir = wt_tmpdir();
    struct wal *w = ft_must_open(dir, NULL, ft_seg);
    wt_append_range(w, 1, 50, 7);
    cr_assert_eq(wal_sync(w), 0);
    wal_close(w);
    struct sio_faults *f = sio_faults_new(sio_default());
    enum sio_call calls[] = {SIO_CALL_OPEN, SIO_CALL_READ};
    for (size_t i = 0; i < 2; i++) {
        sio_faults_set(f, calls[i], 1, 0, EIO);
        struct wal_errmsg err = {{0}};
        int rc;
        w = ft_open(dir, f, ft_seg, &err, &rc);
        cr_assert_eq(rc, WAL_ERR_IO, "%s: rc %d", sio_call_name(calls[i]), rc);
        cr_assert(strstr(err.text, "Input/output error") != NULL, "%s", err.text);
        sio_faults_clear_all(f);
    }
    w = ft_must_open(dir, f, ft_seg);
    cr_assert_eq(wal_last_index(w), 50);
    wal_close(w);
    sio_faults_free(f);
    wt_rmdir(dir);
}

/* A full disk is not a failure: the write is refused (WAL_ERR_FULL), the log cut back to what
   is durable drops the records that could not be written, and writes go on once space is back.
   The records dropped are in no log: a reopen never brings them back. */
Test(wal_faults, a_full_disk_cuts_back_and_goes_on_when_space_is_back)
{
    log_set_level(LOG_ERROR);
    /* Writes fail from the nth on, or (at a roll) creating the next segment does. */
    const struct {
        enum sio_call call;
        uint64_t nth, count;
    } cases[] = {{SIO_CALL_WRITE, 1, 0}, {SIO_CALL_WRITE, 3, 0}, {SIO_CALL_WRITE, 5, 0},
                 {SIO_CALL_WRITE, 7, 0}, {SIO_CALL_WRITE, 9, 0}, {SIO_CALL_OPEN, 1, 1}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint64_t nth = cases[c].nth;
        char *dir = wt_tmpdir();
        struct sio_faults *f = sio_faults_new(sio_default());
        struct wal *w = ft_must_open(dir, f, ft_seg);
        wt_append_range(w, 1, 30, 7);
        cr_assert_eq(wal_sync(w), 0);
        sio_faults_set(f, cases[c].call, nth, cases[c].count, ENOSPC);
        int rc = 0;
        uint64_t next = 31;
        while (rc == 0) {
            uint8_t p[wt_payload_len_max];
            uint32_t len = wt_payload(8, next, p);
            rc = wal_append(w, next, wt_term(next), p, len);
            if (rc == 0 && next % 4 == 0)
                rc = wal_sync(w);
            next++;
            cr_assert_lt(next, 1000);
        }
        cr_assert_eq(rc, WAL_ERR_FULL, "%s %" PRIu64 ": %d %s", sio_call_name(cases[c].call), nth,
                     rc, wal_last_error(w));
        uint64_t durable = wal_durable_index(w);
        /* Still full: nothing more goes in until the log is cut back. */
        cr_assert_eq(wal_sync(w), WAL_ERR_FULL);
        sio_faults_clear(f, cases[c].call); /* space came back */
        cr_assert_eq(wal_truncate_suffix(w, durable + 1), 0, "%s", wal_last_error(w));
        cr_assert_eq(wal_last_index(w), durable);
        uint8_t p[wt_payload_len_max];
        for (uint64_t i = durable + 1; i <= durable + 10; i++) {
            uint32_t len = wt_payload(9, i, p);
            cr_assert_eq(wal_append(w, i, wt_term(i), p, len), 0, "%s", wal_last_error(w));
        }
        cr_assert_eq(wal_sync(w), 0);
        wal_close(w);
        w = ft_must_open(dir, NULL, ft_seg);
        cr_assert_eq(wal_last_index(w), durable + 10, "nth %" PRIu64, nth);
        wt_check_range(w, 1, 30, 7);
        if (durable > 30)
            wt_check_range(w, 31, durable, 8);
        wt_check_range(w, durable + 1, durable + 10, 9);
        wal_close(w);
        sio_faults_free(f);
        wt_rmdir(dir);
    }
}

/* Descriptors of dir's segment files, by how far they are seeked. */
static size_t ft_seeked_to(const char *dir, off_t pos)
{
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char link[300], target[1024];
        snprintf(link, sizeof link, "/proc/self/fd/%s", de->d_name);
        ssize_t len = readlink(link, target, sizeof target - 1);
        if (len <= 0)
            continue;
        target[len] = '\0';
        if (strncmp(target, dir, strlen(dir)) != 0 || !strstr(target, ".wal"))
            continue;
        int fd = atoi(de->d_name);
        n += lseek(fd, 0, SEEK_CUR) == pos;
    }
    closedir(d);
    return n;
}

/* fsyncgate: a background sync on a dup of the writer's descriptor could consume a writeback
   error the writer then never sees. The job's descriptor is its own open of the segment. */
Test(wal_faults, the_sync_job_never_shares_the_writers_file_description)
{
    char *dir = wt_tmpdir();
    struct wal *w = ft_must_open(dir, NULL, ft_seg);
    wt_append_range(w, 1, 5, 7);
    struct wal_sync_job job;
    cr_assert_eq(wal_sync_begin(w, &job), 0);
    cr_assert_geq(job.file_fd, 0);
    const off_t mark = 12345;
    cr_assert_eq(lseek(job.file_fd, mark, SEEK_SET), mark);
    /* The job's fd and the description it shares (the wal's sync descriptor) see the seek;
       the writer's descriptor does not. */
    cr_assert_eq(ft_seeked_to(dir, mark), 2);
    cr_assert_geq(ft_seeked_to(dir, 0), 1);
    cr_assert_eq(wal_sync_end(w, &job, wal_sync_run(&job)), 0);
    cr_assert_eq(wal_durable_index(w), 5);
    wal_close(w);
    wt_rmdir(dir);
}
