/* nemesis_clock.c: a node's wall clock stepped through its fault file (clock_offset_ms, see
   src/server/server_faults.c), as a bad NTP step would: the leader clock its entries carry
   moves the MVCC window (a step forward ages every version by the step, so snapshot reads and
   commits at older read versions fail TRANSACTION_TOO_OLD; a step back holds the window), and
   anything else kept in log time with it. Timers run on the monotonic clock and must not
   notice. The step is confirmed through ping's timestamp, so a run never claims a jump the
   node did not make; the heal removes the line, itself a step back to the true time. */
#include "client_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* The node reads its fault file every half heartbeat; this is for a loaded box (it is only
   waited out when the step does not show). */
#define CLOCK_CONFIRM_NS (10000LL * 1000 * 1000)
/* Ping's round trip and the read of our own clock fit in this. */
#define CLOCK_SLACK_US (1000LL * 1000)

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* How far node i's wall clock reads from ours, in µs; false when it does not answer. */
static bool node_offset(const struct kvt_cluster *c, unsigned i, int timeout_ms, int64_t *us)
{
    struct kvt_conn k;
    kvt_conn_init(&k, c, (int)i, timeout_ms);
    PingRequest req;
    PingRequest_init(&req);
    TransactionalKV_ping_result res;
    TransactionalKV_ping_result_init(&res);
    enum call_status st;
    int64_t before = wall_us();
    KVT_CALL(st, &k, ping, &req, &res);
    int64_t after = wall_us();
    if (st == CALL_OK)
        *us = res.success.timestamp_us - (before + after) / 2;
    TransactionalKV_ping_result_free(&res);
    PingRequest_free(&req);
    kvt_conn_free(&k);
    return st == CALL_OK;
}

/* Polls until node i's clock reads offset_ms off; 0, or -1 (said) when it never does. */
static int confirm(const struct kvt_cluster *c, unsigned i, int offset_ms, int timeout_ms)
{
    int64_t off = 0;
    bool answered = false;
    for (int64_t until = kvt_now_ns() + CLOCK_CONFIRM_NS; kvt_now_ns() < until;) {
        answered = node_offset(c, i, timeout_ms, &off) || answered;
        if (answered && llabs(off - offset_ms * 1000LL) < CLOCK_SLACK_US)
            return 0;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (answered)
        printf("nemesis: node %u's clock reads %+.1f s off, not the %+.1f s asked\n", i,
               (double)off / 1e6, offset_ms / 1e3);
    else
        printf("nemesis: node %u did not answer ping: its clock step is unconfirmed\n", i);
    return -1;
}

int kvt_clock_jump_apply(struct kvt_cluster *c, unsigned i, int offset_ms, int timeout_ms)
{
    char text[64];
    snprintf(text, sizeof text, "clock_offset_ms=%d\n", offset_ms);
    if (kvt_fault_file_write(&c->nodes[i], text) != 0)
        return -1;
    return confirm(c, i, offset_ms, timeout_ms);
}

int kvt_clock_jump_heal(struct kvt_cluster *c, unsigned i, int timeout_ms)
{
    if (kvt_fault_file_write(&c->nodes[i], "") != 0)
        return -1;
    return confirm(c, i, 0, timeout_ms);
}
