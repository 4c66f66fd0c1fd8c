/* kb_conn.c: one connection's load on the pipelined client (net_pipe: replies matched by
   seqid): issue, retry, follow the leader hint, move to the next endpoint when the node goes
   away. */
#include "kvbench.h"
#include "kvstore.h"
#include "net.h"
#include "net_tls.h"

#include <assert.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KB_BACKOFF_US 5000  /* before a retry after UNAVAILABLE/BUSY, or a reconnect */

static void on_reply(void *arg, const struct net_pipe_call *call, int err, const uint8_t *msg,
                     size_t len);
static void on_state(void *arg, int err);

/* Connects the pipe (calls wait in the retry list until it is up). */
static void connect_start(struct kb_conn *c)
{
    c->connected = c->was_up = false;
    int rc = net_pipe_connect(&c->pipe, c->endpoint);
    if (rc != NET_OK)
        on_state(c, rc); /* retried after the backoff */
}

static void arm(struct kb_conn *c)
{
    if (evtimer_pending(c->timer, NULL))
        return;
    struct timeval tv = {0, KB_BACKOFF_US};
    evtimer_add(c->timer, &tv);
}

static void flush_retries(struct kb_conn *c)
{
    uint32_t n = c->retry_count;
    struct kb_slot *list[KB_DEPTH_MAX];
    memcpy(list, c->retry, n * sizeof *list);
    c->retry_count = 0;
    for (uint32_t i = 0; i < n; i++) {
        list[i]->queued = false;
        kb_conn_issue(c, list[i]);
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct kb_conn *c = arg;
    if (c->pipe.state == NET_PIPE_DOWN)
        connect_start(c);
    else if (c->connected && !c->redirect[0])
        flush_retries(c);
}

void kb_conn_requeue(struct kb_conn *c, struct kb_slot *s, bool backoff)
{
    assert(!s->queued);
    assert(c->retry_count < c->b->opt.depth);
    s->queued = true;
    c->retry[c->retry_count++] = s;
    if (backoff)
        arm(c);
}

/* Ops waiting for this connection spend one try on each failed attempt, so a run against
   nodes that are all down ends once their retries are exhausted. */
static void charge_queued(struct kb_conn *c)
{
    struct kb_slot *list[KB_DEPTH_MAX];
    uint32_t n = c->retry_count;
    memcpy(list, c->retry, n * sizeof *list);
    c->retry_count = 0;
    for (uint32_t i = 0; i < n; i++) {
        list[i]->queued = false;
        if (kb_slot_may_retry(c->b, list[i], KB_CODE_TRANSPORT))
            kb_conn_requeue(c, list[i], false);
        else
            kb_slot_done(c->b, list[i], KB_CODE_TRANSPORT, false);
    }
}

/* A call the connection lost: its op starts over elsewhere (or fails when out of tries). */
static void call_lost(struct kb_conn *c, struct kb_slot *s)
{
    c->connected = false; /* nothing more goes out on this connection */
    if (s->queued || !s->busy)
        return; /* another call of its phase was lost first */
    s->awaiting = 0;
    s->phase_code = 0;
    if (kb_slot_may_retry(c->b, s, KB_CODE_TRANSPORT))
        kb_conn_requeue(c, s, false);
    else
        kb_slot_done(c->b, s, KB_CODE_TRANSPORT, false);
}

/* Up: queued ops go out. Down (every call on it lost already): to the leader it was told
   of, else the next endpoint after the backoff. */
static void on_state(void *arg, int err)
{
    struct kb_conn *c = arg;
    struct kb_bench *b = c->b;
    if (err == NET_OK) {
        c->connected = c->was_up = true;
        flush_retries(c);
        return;
    }
    if (!c->was_up && !c->redirect[0])
        charge_queued(c);
    c->connected = false;
    if (b->stopping)
        return;
    b->stats.reconnects++;
    if (c->redirect[0]) {
        snprintf(c->endpoint, sizeof c->endpoint, "%s", c->redirect);
        c->redirect[0] = '\0';
        connect_start(c);
        return;
    }
    c->endpoint_index = (c->endpoint_index + 1) % b->opt.endpoint_count;
    snprintf(c->endpoint, sizeof c->endpoint, "%s", b->opt.endpoints[c->endpoint_index]);
    arm(c);
}

void kb_conn_issue(struct kb_conn *c, struct kb_slot *s)
{
    struct kb_bench *b = c->b;
    if (!c->connected || c->redirect[0]) {
        kb_conn_requeue(c, s, false);
        return;
    }
    s->phase_code = ErrorCode_OK;
    uint64_t before = c->pipe.bytes_sent;
    if (kb_wire_encode(b, s, c) != 0)
        abort(); /* out of memory while encoding */
    b->stats.bytes_sent += c->pipe.bytes_sent - before;
}

bool kb_retry_waits(int code, bool redirected)
{
    bool follows = code == ErrorCode_NOT_LEADER || code == ErrorCode_TIMEOUT ||
                   code == ErrorCode_UNAVAILABLE;
    return !(follows && redirected) && code != ErrorCode_TIMEOUT;
}

/* Every reply of the slot's phase is in: start over, move on, or finish. */
static void phase_done(struct kb_conn *c, struct kb_slot *s, bool found)
{
    struct kb_bench *b = c->b;
    int code = s->phase_code;
    if (code != ErrorCode_OK) {
        if (!kb_slot_may_retry(b, s, code))
            kb_slot_done(b, s, code, false);
        else if (kb_retry_waits(code, c->redirect[0] != '\0'))
            kb_conn_requeue(c, s, true);
        else
            kb_conn_issue(c, s); /* now, or queued for the leader the connection moves to */
        return;
    }
    if (s->op == KB_OP_TXN && s->phase < 2) {
        s->phase = s->phase == 0 && b->opt.txn_reads > 0 ? 1 : 2;
        kb_conn_issue(c, s);
        return;
    }
    kb_slot_done(b, s, ErrorCode_OK, found);
}

const char *kb_redirect_to(int code, const char *hint, const char *current, const char *next)
{
    bool usable = strchr(hint, ':') != NULL; /* a node id is no endpoint */
    const char *to = NULL;
    if (code == ErrorCode_NOT_LEADER || code == ErrorCode_UNAVAILABLE)
        to = usable ? hint : next; /* UNAVAILABLE without one: this node knows no leader */
    else if (usable && code == ErrorCode_TIMEOUT)
        to = hint;
    return to && strcmp(to, current) != 0 ? to : NULL;
}

static void take_reply(struct kb_conn *c, struct kb_slot *s, enum kb_call call,
                       const struct kb_reply *r)
{
    if (!c->redirect[0]) {
        uint32_t next = (c->endpoint_index + 1) % c->b->opt.endpoint_count;
        const char *to = kb_redirect_to(r->code, r->hint, c->endpoint, c->b->opt.endpoints[next]);
        if (to)
            snprintf(c->redirect, sizeof c->redirect, "%s", to);
        if (to && to != r->hint)
            c->endpoint_index = next;
    }
    bool ok = r->code == ErrorCode_OK || r->code == ErrorCode_NOT_FOUND;
    if (!ok && s->phase_code == ErrorCode_OK)
        s->phase_code = r->code;
    if (call == KB_CALL_GRV)
        s->read_version = r->version;
    assert(s->awaiting > 0);
    if (--s->awaiting == 0)
        phase_done(c, s, r->found && r->code == ErrorCode_OK);
}

static void on_reply(void *arg, const struct net_pipe_call *call, int err, const uint8_t *msg,
                     size_t len)
{
    struct kb_conn *c = arg;
    if (!call) { /* an answer to no call of ours: refused (the pipe counts it too) */
        c->b->stats.bad_replies++;
        return;
    }
    if (err != NET_OK) {
        call_lost(c, call->ptr);
        return;
    }
    struct kb_reply r;
    kb_wire_decode((enum kb_call)call->tag, call->seqid, msg, len, &r);
    c->b->stats.bytes_received += len + (c->b->opt.framed ? 4 : 0);
    take_reply(c, call->ptr, (enum kb_call)call->tag, &r);
    if (c->redirect[0] && net_pipe_waiting(&c->pipe) == 0 && c->pipe.state == NET_PIPE_UP)
        net_pipe_close(&c->pipe, NET_ERR_CLOSED); /* moves to the leader; queued ops follow */
}

int kb_conn_open(struct kb_bench *b, struct kb_conn *c, uint32_t id)
{
    memset(c, 0, sizeof *c);
    c->b = b;
    c->id = id;
    struct net_pipe_config cfg = {.base = b->base, .tls = b->tls, .framed = b->opt.framed,
                                  .idle_ms = b->opt.timeout_ms, .on_reply = on_reply,
                                  .on_state = on_state, .ctx = c};
    net_pipe_init(&c->pipe, &cfg);
    c->slots = calloc(b->opt.depth, sizeof *c->slots);
    c->retry = calloc(b->opt.depth, sizeof *c->retry);
    c->timer = evtimer_new(b->base, on_timer, c);
    if (!c->slots || !c->retry || !c->timer)
        return -1;
    for (uint32_t i = 0; i < b->opt.depth; i++)
        c->slots[i].conn = c;
    c->endpoint_index = id % b->opt.endpoint_count;
    snprintf(c->endpoint, sizeof c->endpoint, "%s", b->opt.endpoints[c->endpoint_index]);
    connect_start(c);
    return 0;
}

void kb_conn_close(struct kb_conn *c)
{
    net_pipe_free(&c->pipe);
    if (c->timer)
        event_free(c->timer);
    free(c->slots);
    free(c->retry);
    memset(c, 0, sizeof *c);
}
