/* test_kvnode_clock.c: a node's wall clock stepped through the fault file (clock_offset_ms), as
   an NTP step moves it: ping's timestamp moves, a step forward ages the MVCC window by the
   step (a version replaced before it is TRANSACTION_TOO_OLD from the next write on), a step
   back expires nothing, and the clock is true again once the line is gone. The window moves
   with the entries' timestamps only, so no assertion here depends on how fast the box is. */
#include "node_proc.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WAIT_SECONDS 20.0
#define STEP_MS 600000LL   /* ten minutes, against the default 5 s window */
/* The node's clock against ours: ping's round trip and the poll of the file fit in this. */
#define SLACK_US 2000000LL

static int64_t real_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Waits until the node's clock reads offset_ms off ours (the file is polled, not watched). */
static void wait_clock(struct net_client *c, int64_t offset_ms)
{
    double deadline = node_now() + WAIT_SECONDS;
    for (;;) {
        int64_t off = node_ping_us(c) - real_us() - offset_ms * 1000;
        if (llabs(off) < SLACK_US)
            return;
        cr_assert_lt(node_now(), deadline, "the node's clock is %lld ms off the %lld ms asked",
                     (long long)(off / 1000), (long long)offset_ms);
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Waits until the node's log holds text. */
static void wait_log(const struct node_proc *p, const char *text)
{
    static char buf[1 << 16];
    double deadline = node_now() + WAIT_SECONDS;
    for (;;) {
        FILE *f = fopen(p->log, "r");
        cr_assert(f, "%s", p->log);
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        if (strstr(buf, text))
            return;
        cr_assert_lt(node_now(), deadline, "the log never said '%s':\n%s", text, buf);
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void set_ok(struct net_client *c, const char *key, const char *value)
{
    SetResponse s;
    node_set(c, key, value, &s);
    cr_assert(s.success, "set %s=%s failed", key, value);
    SetResponse_free(&s);
}

static void read_at(struct net_client *c, int64_t version, int code, const char *want)
{
    char got[64];
    int rc = node_snapshot_read(c, "k", version, got, sizeof got);
    cr_assert_eq(rc, code, "snapshotRead at %lld: code %d, not %d", (long long)version, rc, code);
    if (code == 0)
        cr_assert_str_eq(got, want, "at %lld", (long long)version);
}

Test(kvnode_clock, a_stepped_clock_moves_the_mvcc_window_by_the_step_and_no_further,
     .timeout = 90)
{
    struct node_proc p;
    node_start(&p, "\"debug\": {\"fault_injection\": true}");
    struct net_client c;
    node_connect(&p, &c, true);
    wait_clock(&c, 0);
    set_ok(&c, "k", "a");
    int64_t rv = node_read_version(&c);
    set_ok(&c, "k", "b");
    read_at(&c, rv, 0, "a");

    /* Back ten minutes: entries carry an older time, the window holds where it was. */
    node_write_faults(&p, "clock_offset_ms=-600000\n");
    wait_clock(&c, -STEP_MS);
    set_ok(&c, "k", "c");
    read_at(&c, rv, 0, "a");

    /* Forward ten minutes: "a" was replaced ten minutes ago by the new clock. */
    node_write_faults(&p, "clock_offset_ms=600000\n");
    wait_clock(&c, STEP_MS);
    set_ok(&c, "k", "d");
    read_at(&c, rv, ErrorCode_TRANSACTION_TOO_OLD, NULL);
    int64_t rv2 = node_read_version(&c);
    read_at(&c, rv2, 0, "d");

    /* True again: a step back of ten minutes, which expires nothing. */
    node_write_faults(&p, "");
    wait_clock(&c, 0);
    set_ok(&c, "k", "e");
    read_at(&c, rv2, 0, "d");
    cr_assert(node_get(&c, "k", (char[8]){0}, 8));

    /* A step of more than a day is refused as a typo, and changes nothing. */
    node_write_faults(&p, "clock_offset_ms=86400001\n");
    wait_log(&p, "does not parse; faults unchanged");
    wait_clock(&c, 0);
    net_client_close(&c);
    cr_assert_eq(node_stop(&p, SIGTERM), 0);
    node_cleanup(&p);
}
