/* kb_run.c: the load itself: choosing ops and keys, closed or open loop, completion, stop. */
#include "kvbench.h"
#include "kvstore.h"

#include <assert.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KB_TICK_US 10000            /* stop checks and the progress line */
#define KB_PROGRESS_NS 1000000000ull
#define KB_DRAIN_NS 5000000000ull   /* in-flight ops get this long after the stop */

uint64_t kb_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static enum kb_op choose_op(struct kb_bench *b)
{
    uint64_t r = kb_rand_below(&b->rand, b->mix_total);
    for (int op = 0; op < KB_OP_COUNT; op++) {
        if (r < b->opt.mix[op])
            return (enum kb_op)op;
        r -= b->opt.mix[op];
    }
    assert(0 && "mix weights add up to mix_total");
    return KB_OP_SET;
}

static uint64_t choose_key(struct kb_bench *b)
{
    if (b->opt.zipf_theta > 0)
        return kb_zipf_next(&b->zipf, &b->rand);
    return kb_rand_below(&b->rand, b->opt.keys);
}

static void choose_keys(struct kb_bench *b, struct kb_slot *s)
{
    s->key_count = 1;
    if (s->op == KB_OP_TXN) {
        s->key_count = b->opt.txn_reads > b->opt.txn_writes ? b->opt.txn_reads : b->opt.txn_writes;
    }
    for (uint32_t i = 0; i < s->key_count; i++) {
        /* Distinct keys within one transaction, when the key space allows it. */
        for (uint32_t tries = 0; tries < 100; tries++) {
            s->keys[i] = choose_key(b);
            uint32_t j = 0;
            while (j < i && s->keys[j] != s->keys[i])
                j++;
            if (j == i || b->opt.keys < s->key_count)
                break;
        }
    }
}

static void slot_start(struct kb_bench *b, struct kb_slot *s, uint64_t start_ns)
{
    assert(!s->busy);
    s->busy = true;
    s->queued = false;
    s->phase = 0;
    s->attempts = 0;
    s->start_ns = start_ns;
    if (b->preloading) {
        s->op = KB_OP_SET;
        s->key_count = 1;
        s->keys[0] = b->preload_next++;
        s->measured = false;
    } else {
        s->op = choose_op(b);
        choose_keys(b, s);
        s->measured = b->warm;
        b->issued_measured += s->measured;
    }
    /* A write's number stays with it through retries; reads carry none. */
    bool write = s->op == KB_OP_SET || s->op == KB_OP_TXN;
    s->session_seq = b->opt.session && write ? ++s->conn->session_next : 0;
    b->in_flight++;
    kb_conn_issue(s->conn, s);
}

/* Whether one more op may start now. */
static bool may_start(struct kb_bench *b)
{
    if (b->stopping)
        return false;
    if (b->preloading)
        return b->preload_next < b->opt.keys;
    if (b->opt.ops && b->warm && b->issued_measured >= b->opt.ops) {
        b->stopping = true;
        b->stop_ns = kb_now_ns();
        return false;
    }
    return true;
}

static void pace(struct kb_bench *b)
{
    uint64_t now = kb_now_ns();
    uint64_t step_ns = (uint64_t)(1e9 / b->opt.rate);
    while (b->free_count > 0 && b->next_intended_ns <= now && may_start(b)) {
        slot_start(b, b->free_slots[--b->free_count], b->next_intended_ns);
        b->next_intended_ns += step_ns;
    }
    /* With no free slot the next completion paces instead (and its op starts late). */
    if (b->stopping || b->free_count == 0 || evtimer_pending(b->pace, NULL))
        return;
    uint64_t wait_ns = b->next_intended_ns - now;
    struct timeval tv = {(time_t)(wait_ns / 1000000000ull), (suseconds_t)(wait_ns % 1000000000ull / 1000)};
    evtimer_add(b->pace, &tv);
}

static void on_pace(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    pace(arg);
}

static void record(struct kb_bench *b, const struct kb_slot *s, int code, bool found,
                   uint64_t now)
{
    bool ok = code == ErrorCode_OK;
    if (b->timeline_ok) {
        uint64_t i = (now - b->t0_ns) / ((uint64_t)b->opt.timeline_ms * 1000000ull);
        if (i < b->timeline_len)
            (ok ? b->timeline_ok : b->timeline_err)[i]++;
    }
    if (!s->measured)
        return;
    struct kb_op_stats *st = &b->stats.op[s->op];
    uint64_t latency = now > s->start_ns ? now - s->start_ns : 0;
    kb_hist_record(&st->hist, latency);
    kb_hist_record(&b->progress, latency);
    b->progress_ops++;
    st->codes[code]++;
    st->ok += ok;
    st->not_found += ok && !found && s->op != KB_OP_PING;
    b->last_done_ns = now;
}

void kb_slot_done(struct kb_bench *b, struct kb_slot *s, int code, bool found)
{
    assert(s->busy);
    assert(code >= 0 && code < KB_CODE_COUNT);
    uint64_t now = kb_now_ns();
    if (code == ErrorCode_NOT_FOUND) {
        code = ErrorCode_OK;
        found = false;
    }
    record(b, s, code, found, now);
    s->busy = false;
    b->in_flight--;
    if (b->opt.rate > 0 && !b->preloading) {
        b->free_slots[b->free_count++] = s;
        pace(b);
    } else if (may_start(b)) {
        slot_start(b, s, now);
    }
    if ((b->stopping || (b->preloading && !may_start(b))) && b->in_flight == 0)
        event_base_loopbreak(b->base);
}

bool kb_slot_may_retry(struct kb_bench *b, struct kb_slot *s, int code)
{
    bool retryable = code == ErrorCode_NOT_LEADER || code == ErrorCode_UNAVAILABLE ||
                     code == ErrorCode_TIMEOUT || code == ErrorCode_BUSY ||
                     code == KB_CODE_TRANSPORT;
    if (!retryable || b->stopping || s->attempts >= b->opt.retries_max)
        return false;
    s->attempts++;
    s->phase = 0;
    b->stats.retries++;
    return true;
}

static void progress_line(struct kb_bench *b, uint64_t now)
{
    double dt = (double)(now - b->progress_at_ns) / 1e9;
    uint64_t errs = 0;
    for (int op = 0; op < KB_OP_COUNT; op++)
        errs += b->stats.op[op].hist.total - b->stats.op[op].ok;
    fprintf(stderr, "\r\033[K%s %5.1fs  %9.0f ops/s  p99 %8.3f ms  in flight %4llu  errors %llu  "
            "retries %llu", b->warm ? "run   " : "warmup", (double)(now - b->t0_ns) / 1e9,
            (double)b->progress_ops / dt, (double)kb_hist_quantile(&b->progress, 0.99) / 1e6,
            (unsigned long long)b->in_flight, (unsigned long long)errs,
            (unsigned long long)b->stats.retries);
    kb_hist_reset(&b->progress);
    b->progress_ops = 0;
    b->progress_at_ns = now;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct kb_bench *b = arg;
    uint64_t now = kb_now_ns();
    if (!b->warm && now >= b->measure_ns) {
        b->warm = true;
        memset(&b->stats, 0, sizeof b->stats);
        for (int op = 0; op < KB_OP_COUNT; op++)
            kb_hist_reset(&b->stats.op[op].hist);
        b->measure_ns = now;
    }
    if (now >= b->stop_ns)
        b->stopping = true;
    if (b->stopping && (b->in_flight == 0 || now >= b->stop_ns + KB_DRAIN_NS))
        event_base_loopbreak(b->base);
    if (b->tty && !b->opt.quiet && now - b->progress_at_ns >= KB_PROGRESS_NS)
        progress_line(b, now);
}

static void start_all(struct kb_bench *b)
{
    uint64_t now = kb_now_ns();
    for (uint32_t c = 0; c < b->opt.connections; c++) {
        for (uint32_t i = 0; i < b->opt.depth; i++) {
            struct kb_slot *s = &b->conns[c].slots[i];
            if (b->opt.rate > 0 && !b->preloading)
                b->free_slots[b->free_count++] = s;
            else if (may_start(b))
                slot_start(b, s, now);
        }
    }
    if (b->opt.rate > 0 && !b->preloading) {
        b->next_intended_ns = now;
        pace(b);
    }
}

/* Writes keys 0 .. keys-1 once (closed loop, nothing measured) so reads find values. */
int kb_preload(struct kb_bench *b)
{
    b->preloading = true;
    b->preload_next = 0;
    b->stop_ns = UINT64_MAX / 2;
    b->t0_ns = kb_now_ns();
    start_all(b);
    if (b->in_flight > 0)
        event_base_dispatch(b->base);
    b->preloading = false;
    memset(&b->stats, 0, sizeof b->stats);
    if (b->in_flight > 0) {
        fprintf(stderr, "kvbench: preload did not finish (%llu in flight)\n",
                (unsigned long long)b->in_flight);
        return -1;
    }
    return 0;
}

int kb_run(struct kb_bench *b)
{
    b->tick = event_new(b->base, -1, EV_PERSIST, on_tick, b);
    b->pace = evtimer_new(b->base, on_pace, b);
    b->free_slots = calloc((size_t)b->opt.connections * b->opt.depth, sizeof *b->free_slots);
    if (!b->tick || !b->pace || !b->free_slots)
        return -1;
    for (int op = 0; op < KB_OP_COUNT; op++)
        kb_hist_reset(&b->stats.op[op].hist);
    kb_hist_reset(&b->progress);
    if (b->opt.preload && kb_preload(b) != 0)
        return -1;
    for (int op = 0; op < KB_OP_COUNT; op++)
        kb_hist_reset(&b->stats.op[op].hist);
    if (b->timeline_ok) {
        memset(b->timeline_ok, 0, b->timeline_len * sizeof *b->timeline_ok);
        memset(b->timeline_err, 0, b->timeline_len * sizeof *b->timeline_err);
    }
    b->t0_ns = b->progress_at_ns = kb_now_ns();
    b->measure_ns = b->t0_ns + (uint64_t)(b->opt.warmup_s * 1e9);
    b->warm = b->opt.warmup_s <= 0;
    b->stop_ns = b->opt.ops ? UINT64_MAX / 2 : b->measure_ns + (uint64_t)(b->opt.duration_s * 1e9);
    struct timeval tv = {0, KB_TICK_US};
    event_add(b->tick, &tv);
    start_all(b);
    event_base_dispatch(b->base);
    b->end_ns = kb_now_ns();
    if (b->tty && !b->opt.quiet)
        fputs("\r\033[K", stderr);
    uint64_t last = b->last_done_ns > b->measure_ns ? b->last_done_ns : b->end_ns;
    b->stats.measured_ns = last > b->measure_ns ? last - b->measure_ns : 1;
    return 0;
}
