/* test_wal_crash.c: a writer SIGKILLed at random moments never loses an acknowledged record. */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "test_seed.h"
#include "wal.h"
#include "wal_test_util.h"

enum {
    crash_rounds = 200,
    rounds_per_dir = 10,   /* a fresh directory now and then keeps each verify short */
    acks_before_kill_max = 40,
    batch_max = 8,
    crash_seg_size = 8192, /* small, so kills land around rolls too */
    crash_fill_rounds = 100,
    crash_fill_seg_size = 64 << 10, /* the smallest segment the wal zero-fills ahead */
};

/* The child: reopen, append batches, sync, report the durable index; until killed. */
static void crash_child(const char *dir, uint64_t seg_size, uint64_t seed, int ack_fd)
{
    struct wal *w;
    if (wt_try_open(dir, seg_size, &w, NULL) != 0) /* fsync always */
        _exit(1);
    uint64_t st = seed;
    uint8_t p[wt_payload_len_max];
    for (;;) {
        uint64_t n = 1 + wt_rand(&st) % batch_max;
        for (uint64_t k = 0; k < n; k++) {
            uint64_t i = wal_last_index(w) + 1;
            uint32_t len = wt_payload(0, i, p);
            if (wal_append(w, i, wt_term(i), p, len) != 0)
                _exit(2);
        }
        if (wal_sync(w) != 0)
            _exit(3);
        uint64_t acked = wal_durable_index(w);
        if (write(ack_fd, &acked, sizeof acked) != sizeof acked)
            _exit(4);
    }
}

/* Runs one child until it has acknowledged `acks` times (plus a seeded spin), then kills it. */
static uint64_t crash_round(const char *dir, uint64_t seg_size, uint64_t seed, uint64_t acks,
                            uint64_t spin)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        crash_child(dir, seg_size, seed, fds[1]);
    }
    close(fds[1]);
    uint64_t acked = 0, got = 0;
    while (got < acks) {
        uint64_t a;
        ssize_t n = read(fds[0], &a, sizeof a);
        if (n < 0 && errno == EINTR)
            continue;
        cr_assert_eq(n, (ssize_t)sizeof a, "seed %" PRIu64 ": child stopped acking", seed);
        cr_assert_geq(a, acked, "seed %" PRIu64 ": durable index went back", seed);
        acked = a;
        got++;
    }
    for (volatile uint64_t i = 0; i < spin; i++) {
    }
    cr_assert_eq(kill(pid, SIGKILL), 0);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status), "seed %" PRIu64 ": child exited %d", seed, WEXITSTATUS(status));
    /* Acks the child wrote before dying count too: it promised them. */
    uint64_t a;
    while (read(fds[0], &a, sizeof a) == (ssize_t)sizeof a)
        acked = a > acked ? a : acked;
    close(fds[0]);
    return acked;
}

static void crash_rounds_run(const char *name, uint64_t seg_size, int rounds)
{
    log_set_level(LOG_ERROR); /* recovery warns about each torn tail it cuts */
    uint64_t seed = test_seed_for(name);
    uint64_t st = seed;
    char *dir = NULL;
    uint64_t acked_ever = 0, acked_total = 0, kept_unacked = 0;
    for (int round = 0; round < rounds; round++) {
        if (round % rounds_per_dir == 0) {
            if (dir)
                wt_rmdir(dir);
            dir = wt_tmpdir();
            acked_ever = 0;
        }
        uint64_t acks = wt_rand(&st) % (acks_before_kill_max + 1); /* 0: during recovery */
        uint64_t spin = wt_rand(&st) % 200000;
        uint64_t acked = crash_round(dir, seg_size, wt_rand(&st), acks, spin);
        acked_ever = acked > acked_ever ? acked : acked_ever;
        struct wal *w = wt_open(dir, WAL_FSYNC_ALWAYS, seg_size);
        cr_assert_geq(wal_last_index(w), acked_ever,
                      "seed %" PRIu64 " round %d: acknowledged %" PRIu64 ", recovered %" PRIu64,
                      seed, round, acked_ever, wal_last_index(w));
        wt_check_range(w, 1, wal_last_index(w), 0); /* a clean prefix of what was written */
        acked_total += acked;
        kept_unacked += wal_last_index(w) - acked_ever;
        acked_ever = wal_last_index(w);
        wal_close(w);
    }
    wt_rmdir(dir);
    fprintf(stderr, "crash: %d rounds, %" PRIu64 " acknowledged indexes summed over rounds, %" PRIu64
            " records kept that were written but not yet acknowledged\n", rounds, acked_total,
            kept_unacked);
}

Test(wal_crash, sigkill_never_loses_an_acknowledged_record, .timeout = 120)
{
    crash_rounds_run("sigkill_never_loses_an_acknowledged_record", crash_seg_size, crash_rounds);
}

/* The same with segments big enough to be zero-filled ahead: kills land while the filler
   writes zeros, and recovery finds the log's end inside them. */
Test(wal_crash, sigkill_with_zeros_ahead_never_loses_an_acknowledged_record, .timeout = 120)
{
    crash_rounds_run("sigkill_with_zeros_ahead_never_loses_an_acknowledged_record",
                     crash_fill_seg_size, crash_fill_rounds);
}
