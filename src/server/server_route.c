/* server_route.c: replicated writes and linearizable reads: wait for a leader, propose or
   forward, answer exactly once; deadlines from consensus.request_timeout_ms. */
#include "server_rep.h"

#include "metrics.h"
#include "server_forward.h"

#include <assert.h>
#include <event2/event.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Waiting routes are retried this often (at most), and deadlines checked. */
#define ROUTE_TICK_MS_MIN 5u

enum route_kind { ROUTE_WRITE, ROUTE_READ };
enum route_state { ROUTE_WAITING, ROUTE_PROPOSED, ROUTE_FORWARDED, ROUTE_READING };

struct server_route {
    struct server_route *next, **pprev;
    struct server_node *n;
    enum route_kind kind;
    enum route_state state;
    int64_t deadline_ms;
    uint64_t read_start_ns; /* reads: when its first read index round began */
    bool answered;
    bool held;          /* a cluster or transport callback is still to come */
    bool applied;       /* PROPOSED: the cluster applied it (server_route_applied) */
    bool from_peer;     /* a forwarded write: never forwarded again, never waits */
    uint32_t fwd_leader; /* FORWARDED: to this leader, as this node saw it in fwd_term */
    uint64_t fwd_term;
    uint8_t *entry;     /* writes: the encoded log entry (in inline_entry when it fits) */
    size_t len;
    server_commit_cb write_cb;
    server_read_cb read_cb;
    void *ctx;
    /* Last: route_new clears the fields above only. */
    uint8_t inline_entry[SERVER_ROUTE_ENTRY_INLINE_BYTES];
};

/*
 * The only transitions (answered is apart, and final: an answered route moves no more):
 *   WAITING -> PROPOSED, FORWARDED (writes), READING (reads): handed to the cluster or a peer
 *              link, whose callback is then still to come (held);
 *   PROPOSED, FORWARDED, READING -> WAITING: that callback came (or the forward was never
 *              sent) and the write or read may be tried again.
 * Every transition comes from this file's own calls and from cluster and transport callbacks
 * that run once each, none from what a client or peer sends: a refused one is a bug, so an
 * assert.
 */
static bool route_transition_ok(enum route_kind kind, enum route_state from, enum route_state to)
{
    switch (to) {
    case ROUTE_WAITING: return from != ROUTE_WAITING;
    case ROUTE_PROPOSED:
    case ROUTE_FORWARDED: return kind == ROUTE_WRITE && from == ROUTE_WAITING;
    case ROUTE_READING: return kind == ROUTE_READ && from == ROUTE_WAITING;
    }
    return false;
}

static void route_set_state(struct server_route *r, enum route_state to)
{
    assert(!r->answered && route_transition_ok(r->kind, r->state, to));
    assert(!r->held); /* out: its callback came; in: none is pending */
    r->held = to != ROUTE_WAITING;
    r->state = to;
}

static uint32_t leader_of(const struct server_node *n)
{
    return cluster_leader(n->rep->cluster, NULL);
}

/* A forwarded write can no longer complete through the leader it went to once this node's
   view of (term, leader) moved on: that leader stepped down or was deposed (a newer term),
   went silent for an election timeout (this node campaigns: no leader), or this node leads.
   The call may have arrived and been appended, so the answer is TIMEOUT, now, with the new
   leader's hint when known; the client retries there instead of waiting out the deadline. */
static bool forward_stranded(const struct server_route *r, const struct cluster_status *st)
{
    return r->state == ROUTE_FORWARDED &&
           (st->term != r->fwd_term || st->leader != r->fwd_leader);
}

const char *server_rep_leader_hint(const struct server_node *n)
{
    uint32_t leader = n->rep ? leader_of(n) : CONSENSUS_NONE;
    return leader != CONSENSUS_NONE ? server_peer_endpoint(n, leader) : NULL;
}

static void route_free_if_done(struct server_route *r)
{
    if (!r->answered || r->held)
        return;
    struct server_rep *rep = r->n->rep;
    *r->pprev = r->next;
    if (r->next)
        r->next->pprev = r->pprev;
    else
        rep->routes_tail = r->pprev;
    assert(rep->route_count > 0);
    rep->route_count--;
    if (r->entry != r->inline_entry)
        free(r->entry);
    if (rep->spare_route_count >= SERVER_ROUTE_SPARES_MAX) {
        free(r);
        return;
    }
    r->next = rep->spare_routes;
    rep->spare_routes = r;
    rep->spare_route_count++;
}

void server_route_free_spares(struct server_node *n)
{
    struct server_rep *rep = n->rep;
    while (rep->spare_routes) {
        struct server_route *r = rep->spare_routes;
        rep->spare_routes = r->next;
        free(r);
    }
    rep->spare_route_count = 0;
}

static void answer_write(struct server_route *r, const struct server_apply_result *res)
{
    assert(r->kind == ROUTE_WRITE && !r->answered);
    r->answered = true;
    r->write_cb(r->ctx, res);
}

/* The leader to retry at, for the answers that name one; never, after TIMEOUT, the leader a
   forwarded write went to: that one failed it (stepped down, or this node stopped following
   it), and sending the client back there is what it must not do. */
static const char *route_hint(const struct server_route *r, int code)
{
    if (code != ErrorCode_NOT_LEADER && code != ErrorCode_UNAVAILABLE &&
        code != ErrorCode_TIMEOUT)
        return NULL;
    if (code == ErrorCode_TIMEOUT && r->state == ROUTE_FORWARDED &&
        leader_of(r->n) == r->fwd_leader)
        return NULL;
    return server_rep_leader_hint(r->n);
}

static void answer_code(struct server_route *r, int code)
{
    const char *hint = route_hint(r, code);
    if (r->kind == ROUTE_READ) {
        assert(!r->answered);
        r->answered = true;
        r->read_cb(r->ctx, code, hint);
        return;
    }
    struct server_apply_result res = {.code = code, .leader_hint = hint};
    answer_write(r, &res);
}

static void on_proposed(void *ctx, int err, uint64_t index, uint32_t leader);
static void on_forwarded(void *ctx, int err, int32_t seqid, const uint8_t *msg, size_t len);
static void on_read(void *ctx, int err, uint64_t index);

/* One try: propose (leader), forward (follower), read index, or wait for a leader. */
static void attempt(struct server_route *r)
{
    struct server_node *n = r->n;
    const struct server_config *cfg = n->cfg;
    uint64_t term;
    uint32_t leader = cluster_leader(n->rep->cluster, &term);
    assert(!r->held && !r->answered && r->state == ROUTE_WAITING);
    if (n->stopping) {
        answer_code(r, ErrorCode_SHUTTING_DOWN); /* in no log: a stopping node adds none */
    } else if (server_node_failed(n, NULL, 0)) {
        answer_code(r, ErrorCode_UNAVAILABLE); /* storage failed: ask another node */
    } else if (leader == CONSENSUS_NONE && n->rep->quorum_lost) {
        answer_code(r, ErrorCode_UNAVAILABLE); /* cut off: no leader comes in time */
    } else if (r->kind == ROUTE_READ) {
        if (leader == CONSENSUS_NONE)
            return;
        route_set_state(r, ROUTE_READING);
        if (r->read_start_ns == 0) {
            r->read_start_ns = metrics_now_ns();
            metrics_count(METRIC_READ_INDEX_WAITS, 1);
        }
        cluster_read_index(n->rep->cluster, on_read, r);
    } else if (leader == cfg->instance_index) {
        route_set_state(r, ROUTE_PROPOSED);
        r->deadline_ms = server_now_ms() + cfg->request_timeout_ms;
        cluster_propose(n->rep->cluster, r->entry, (uint32_t)r->len, on_proposed, r);
    } else if (r->from_peer) {
        answer_code(r, leader == CONSENSUS_NONE ? ErrorCode_UNAVAILABLE : ErrorCode_NOT_LEADER);
    } else if (leader != CONSENSUS_NONE) {
        route_set_state(r, ROUTE_FORWARDED);
        r->fwd_leader = leader;
        r->fwd_term = term;
        uint32_t timeout_ms = cfg->request_timeout_ms + cfg->peer_call_timeout_ms;
        if (server_forward(n, leader, timeout_ms, r->entry, r->len, on_forwarded, r) != 0) {
            r->held = false; /* not sent: no callback comes */
            route_set_state(r, ROUTE_WAITING);
        }
    }
}

/* Refused before any log held it: a peer's call is answered, ours waits for the next try. */
static void refused(struct server_route *r, int code)
{
    if (r->from_peer)
        answer_code(r, code);
    else
        route_set_state(r, ROUTE_WAITING);
}

void server_route_applied(struct server_route *r, const struct server_apply_result *res)
{
    assert(r->kind == ROUTE_WRITE && r->state == ROUTE_PROPOSED && r->held);
    r->applied = true;
    if (!r->answered) /* else answered TIMEOUT at its deadline, or at shutdown */
        answer_write(r, res);
}

/* The cluster's last word on a proposal: applied (answered by server_route_applied just
   before), or why not. */
static void on_proposed(void *ctx, int err, uint64_t index, uint32_t leader)
{
    struct server_route *r = ctx;
    (void)index;
    (void)leader;
    assert((err == CLUSTER_OK) == r->applied);
    r->held = false;
    metrics_count(err == CLUSTER_OK ? METRIC_PROPOSALS_COMMITTED : METRIC_PROPOSALS_FAILED, 1);
    if (!r->answered) {
        switch (err) {
        /* In no log (LOST: a different entry took its index): tried again once a leader is
           known. */
        case CLUSTER_ERR_NOT_LEADER:
        case CLUSTER_ERR_LOST:
        case CLUSTER_ERR_NO_LEADER: refused(r, cluster_err_to_error_code(err)); break;
        /* A definite refusal (BUSY, TOO_LARGE, CLOSED, IO, ...: cluster.h), or TIMEOUT: the
           core held it and it may be applied. */
        default: answer_code(r, cluster_err_to_error_code(err)); break;
        }
    }
    route_free_if_done(r);
}

static void on_forwarded(void *ctx, int err, int32_t seqid, const uint8_t *msg, size_t len)
{
    struct server_route *r = ctx;
    r->held = false;
    struct server_apply_result res = {.code = ErrorCode_TIMEOUT};
    if (r->answered) {
        /* answered at shutdown already */
    } else if (err == CLUSTER_ERR_UNREACHABLE || err == CLUSTER_ERR_BUSY) {
        route_set_state(r, ROUTE_WAITING); /* it never left this node */
    } else if (err != 0 || server_forward_decode(r->entry, r->len, seqid, msg, len, &res) != 0) {
        answer_code(r, ErrorCode_TIMEOUT); /* it may have arrived: the outcome is unknown */
    } else if (res.code == ErrorCode_NOT_LEADER || res.code == ErrorCode_UNAVAILABLE) {
        route_set_state(r, ROUTE_WAITING); /* the leader refused it before proposing */
    } else if (res.code == ErrorCode_TIMEOUT) {
        answer_code(r, ErrorCode_TIMEOUT); /* the leader stepped down: our hint, if a new one */
    } else {
        answer_write(r, &res);
    }
    route_free_if_done(r);
}

static void on_read(void *ctx, int err, uint64_t index)
{
    struct server_route *r = ctx;
    (void)index;
    r->held = false;
    if (err == 0)
        metrics_observe_ns(METRIC_READ_INDEX_WAIT, metrics_now_ns() - r->read_start_ns);
    if (!r->answered) {
        if (err == 0)
            answer_code(r, 0);
        else if (err == CLUSTER_ERR_CLOSED)
            answer_code(r, ErrorCode_SHUTTING_DOWN);
        else
            route_set_state(r, ROUTE_WAITING);
    }
    route_free_if_done(r);
}

static struct server_route *route_new(struct server_node *n, enum route_kind kind, void *ctx)
{
    struct server_rep *rep = n->rep;
    if (rep->route_count >= SERVER_ROUTES_MAX || n->stopping)
        return NULL;
    struct server_route *r = rep->spare_routes;
    if (r) {
        rep->spare_routes = r->next;
        rep->spare_route_count--;
    } else if (!(r = malloc(sizeof *r))) {
        return NULL;
    }
    memset(r, 0, offsetof(struct server_route, inline_entry));
    r->n = n;
    r->kind = kind;
    r->ctx = ctx;
    r->deadline_ms = server_now_ms() + n->cfg->request_timeout_ms;
    /* At the tail: waiting routes are tried again oldest first, so two writes pipelined on
       one connection enter the log in the order they came even when both had to wait. */
    if (!rep->routes_tail)
        rep->routes_tail = &rep->routes;
    r->next = NULL;
    r->pprev = rep->routes_tail;
    *rep->routes_tail = r;
    rep->routes_tail = &r->next;
    rep->route_count++;
    return r;
}

void server_rep_propose(struct server_node *n, const uint8_t *entry, size_t len,
                        bool from_peer, server_commit_cb cb, void *ctx)
{
    int code;
    if (!server_member_serving(n, &code)) {
        struct server_apply_result res = {.code = code};
        cb(ctx, &res);
        return;
    }
    struct server_route *r = route_new(n, ROUTE_WRITE, ctx);
    uint8_t *copy = !r ? NULL : len <= sizeof r->inline_entry ? r->inline_entry : malloc(len);
    if (!copy) {
        if (r) {
            r->answered = true;
            route_free_if_done(r);
        }
        struct server_apply_result res = {.code = n->stopping ? ErrorCode_SHUTTING_DOWN
                                                               : ErrorCode_BUSY};
        cb(ctx, &res);
        return;
    }
    memcpy(copy, entry, len);
    r->entry = copy;
    r->len = len;
    r->write_cb = cb;
    r->from_peer = from_peer;
    attempt(r);
    route_free_if_done(r);
}

void server_rep_read(struct server_node *n, server_read_cb cb, void *ctx)
{
    int code;
    if (!server_member_serving(n, &code)) {
        cb(ctx, code, NULL);
        return;
    }
    struct server_route *r = route_new(n, ROUTE_READ, ctx);
    if (!r) {
        cb(ctx, n->stopping ? ErrorCode_SHUTTING_DOWN : ErrorCode_BUSY, NULL);
        return;
    }
    r->read_cb = cb;
    attempt(r);
    route_free_if_done(r);
}

/* Every route that waits is tried again (or, past its deadline, refused); a proposal whose
   commit did not come in time, or a write forwarded to a leader this node no longer follows,
   is answered TIMEOUT (its callback still frees it later). Runs on a timer and at once when
   the role, term or leader changes (server_route_wake). */
static void route_tick(int fd, short what, void *arg)
{
    struct server_node *n = arg;
    (void)fd;
    (void)what;
    int64_t now = server_now_ms();
    struct cluster_status st;
    cluster_status(n->rep->cluster, &st);
    for (struct server_route *r = n->rep->routes, *next; r; r = next) {
        next = r->next;
        if (r->answered)
            continue;
        if (forward_stranded(r, &st))
            answer_code(r, ErrorCode_TIMEOUT);
        else if (r->state == ROUTE_WAITING && now >= r->deadline_ms)
            answer_code(r, ErrorCode_UNAVAILABLE);
        else if (r->state == ROUTE_WAITING)
            attempt(r);
        else if (r->state == ROUTE_PROPOSED && now >= r->deadline_ms)
            answer_code(r, ErrorCode_TIMEOUT);
        route_free_if_done(r);
    }
}

void server_route_wake(struct server_node *n)
{
    if (n->rep && n->rep->route_wake.turn)
        net_turn_want(&n->rep->route_wake);
}

static void route_wake_step(void *n)
{
    route_tick(-1, 0, n);
}

int server_route_start(struct server_node *n)
{
    struct server_rep *rep = n->rep;
    uint32_t ms = n->cfg->heartbeat_interval_ms / 2;
    if (ms < ROUTE_TICK_MS_MIN)
        ms = ROUTE_TICK_MS_MIN;
    rep->route_tick_ev = event_new(n->base, -1, EV_PERSIST, route_tick, n);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    if (net_turn_join(&rep->route_wake, n->base, NET_TURN_REPLY_ROUTES, route_wake_step, n) ||
        !rep->route_tick_ev || event_add(rep->route_tick_ev, &tv) != 0)
        return -1;
    return 0;
}

/* Before the cluster closes: every route still unanswered is answered, SHUTTING_DOWN when
   it never left this node (waiting, or a read), TIMEOUT when it may be in a log (proposed
   here or forwarded to the leader): its outcome is unknown. The cluster's and the
   transport's last callbacks then free the held ones. */
void server_route_stop(struct server_node *n)
{
    struct server_rep *rep = n->rep;
    for (struct server_route *r = rep->routes, *next; r; r = next) {
        next = r->next;
        bool maybe_logged = r->state == ROUTE_PROPOSED || r->state == ROUTE_FORWARDED;
        if (!r->answered)
            answer_code(r, maybe_logged ? ErrorCode_TIMEOUT : ErrorCode_SHUTTING_DOWN);
        route_free_if_done(r);
    }
    if (rep->route_tick_ev)
        event_free(rep->route_tick_ev);
    net_turn_leave(&rep->route_wake);
    rep->route_tick_ev = NULL;
}
