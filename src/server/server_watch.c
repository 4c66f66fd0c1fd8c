/* server_watch.c: waiting watches: found by key (a hash) or range (a list) when the state
   machine writes, served in an event of their own after the apply, answered at their
   deadline at the latest. Any node serves them from what it applied. */
#include "server_watch.h"

#include "kv_index.h"
#include "kv_siphash.h"
#include "metrics.h"
#include "server_request.h"

#include <assert.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define BUCKETS_MIN 64u
/* Watches whose client went away are swept at least this often. */
#define SWEEP_MS 1000

struct watch {
    struct watch *next, **pprev;   /* in its key's bucket, or in the range list */
    struct watch *ready_next;
    bool ready;
    struct server_request *req;
    struct watch_query q;
    uint64_t hash;                 /* single-key watches */
    int64_t deadline_ms;
    size_t heap_pos;
};

struct server_watches {
    struct watch **buckets;        /* single-key watches by the key's SipHash */
    uint64_t mask;
    uint64_t sip[2];
    struct watch *ranges;
    struct watch **heap;           /* every watch, by deadline */
    size_t count, cap;
    struct watch *ready_head, *ready_tail;
    struct net_turn_part wake;     /* a watch saw a change: the end of turn answers it */
    struct event *deadline_ev;
};

static uint64_t key_hash(const struct server_watches *w, const uint8_t *key, size_t len)
{
    return kv_siphash13(w->sip, key, len);
}

static bool key_in(const struct watch_query *q, const uint8_t *key, size_t len)
{
    if (q->single)
        return q->begin_len == len && memcmp(q->begin, key, len) == 0;
    return kv_key_cmp(key, len, q->begin, q->begin_len) >= 0 &&
           (!q->end || kv_key_cmp(key, len, q->end, q->end_len) < 0);
}

/* [begin, end) overlaps the watch's key or range (end NULL: to the end). */
static bool range_touches(const struct watch_query *q, const uint8_t *begin, size_t blen,
                          const uint8_t *end, size_t elen)
{
    const uint8_t *qb = q->begin;
    size_t qbl = q->begin_len;
    /* The watch's last key is below begin, or its first at or past end: no overlap. */
    if (q->single)
        return kv_key_cmp(qb, qbl, begin, blen) >= 0 && kv_key_cmp(qb, qbl, end, elen) < 0;
    if (q->end && kv_key_cmp(q->end, q->end_len, begin, blen) <= 0)
        return false;
    return kv_key_cmp(qb, qbl, end, elen) < 0;
}

/* ------------------------------------------------------------ deadlines */

static bool due_first(const struct watch *a, const struct watch *b)
{
    return a->deadline_ms < b->deadline_ms;
}

static void heap_set(struct server_watches *w, size_t i, struct watch *x)
{
    w->heap[i] = x;
    x->heap_pos = i;
}

static void heap_fix(struct server_watches *w, size_t i)
{
    struct watch *x = w->heap[i];
    while (i > 0 && due_first(x, w->heap[(i - 1) / 2])) {
        heap_set(w, i, w->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    for (size_t c; (c = 2 * i + 1) < w->count; i = c) {
        if (c + 1 < w->count && due_first(w->heap[c + 1], w->heap[c]))
            c++;
        if (!due_first(w->heap[c], x))
            break;
        heap_set(w, i, w->heap[c]);
    }
    heap_set(w, i, x);
}

static void arm(struct server_watches *w)
{
    if (w->count == 0) {
        evtimer_del(w->deadline_ev);
        return;
    }
    int64_t ms = w->heap[0]->deadline_ms - server_now_ms();
    ms = ms < 1 ? 1 : ms > SWEEP_MS ? SWEEP_MS : ms;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(w->deadline_ev, &tv);
}

/* --------------------------------------------------------------- registry */

static void link_watch(struct server_watches *w, struct watch *x)
{
    struct watch **head = x->q.single ? &w->buckets[x->hash & w->mask] : &w->ranges;
    x->next = *head;
    if (x->next)
        x->next->pprev = &x->next;
    x->pprev = head;
    *head = x;
}

static void grow_buckets(struct server_watches *w)
{
    if (w->count < 2 * (w->mask + 1))
        return;
    uint64_t old_n = w->mask + 1, n = old_n * 2;
    struct watch **old = w->buckets, **fresh = calloc(n, sizeof *fresh);
    if (!fresh)
        return;   /* longer chains, still correct */
    w->buckets = fresh;
    w->mask = n - 1;
    for (uint64_t i = 0; i < old_n; i++)
        for (struct watch *x = old[i], *next; x; x = next) {
            next = x->next;
            link_watch(w, x);
        }
    free(old);
}

static int add_watch(struct server_watches *w, struct watch *x)
{
    if (w->count == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        struct watch **heap = realloc(w->heap, cap * sizeof *heap);
        if (!heap)
            return -1;
        w->heap = heap;
        w->cap = cap;
    }
    grow_buckets(w);
    if (x->q.single)
        x->hash = key_hash(w, x->q.begin, x->q.begin_len);
    link_watch(w, x);
    w->count++;
    heap_set(w, w->count - 1, x);
    heap_fix(w, w->count - 1);
    arm(w);
    return 0;
}

/* Unlinks x (not from the ready queue: that one skips watches no longer ready). */
static void remove_watch(struct server_watches *w, struct watch *x)
{
    *x->pprev = x->next;
    if (x->next)
        x->next->pprev = x->pprev;
    size_t i = x->heap_pos;
    assert(i < w->count && w->heap[i] == x);
    w->count--;
    if (i < w->count) {
        heap_set(w, i, w->heap[w->count]);
        heap_fix(w, i);
    }
    x->ready = false;
}

static void make_ready(struct server_watches *w, struct watch *x)
{
    if (x->ready)
        return;
    x->ready = true;
    x->ready_next = NULL;
    if (w->ready_tail)
        w->ready_tail->ready_next = x;
    else
        w->ready_head = x;
    w->ready_tail = x;
    net_turn_want(&w->wake);
}

/* The state machine wrote key (end NULL) or cleared [key, end) at version: inside the apply,
   so only mark; the store is read later, in wake_cb. */
static void on_change(void *ctx, const uint8_t *key, size_t klen, const uint8_t *end,
                      size_t elen, uint64_t version)
{
    struct server_watches *w = ctx;
    (void)version;
    if (w->count == 0)
        return;
    for (struct watch *x = w->ranges; x; x = x->next)
        if (end ? range_touches(&x->q, key, klen, end, elen) : key_in(&x->q, key, klen))
            make_ready(w, x);
    if (end) {   /* a cleared range: any single-key watch may be in it */
        for (uint64_t b = 0; b <= w->mask; b++)
            for (struct watch *x = w->buckets[b]; x; x = x->next)
                if (range_touches(&x->q, key, klen, end, elen))
                    make_ready(w, x);
        return;
    }
    uint64_t h = key_hash(w, key, klen);
    for (struct watch *x = w->buckets[h & w->mask]; x; x = x->next)
        if (x->hash == h && key_in(&x->q, key, klen))
            make_ready(w, x);
}

/* ---------------------------------------------------------------- answers */

static void finish(struct server_watches *w, struct watch *x)
{
    remove_watch(w, x);
    TransactionalKV_watch_result *res = x->req->result;
    metrics_count(METRIC_WATCH_EVENTS, res->success.events.count);
    server_request_done(x->req);
    free(x);
}

static void fail(struct server_request *req, int code)
{
    TransactionalKV_watch_result *res = req->result;
    res->has_success = true;
    SERVER_SET_ERROR(&res->success, code);
    server_request_done(req);
}

/* Looks again; answers when there is something to say (or final). */
static void look(struct server_node *n, struct watch *x, bool final)
{
    TransactionalKV_watch_result *res = x->req->result;
    if (server_watch_scan(n, &x->q, final, &res->success) == WATCH_ANSWERED)
        finish(n->watches, x);
}

static void wake_step(void *arg)
{
    struct server_node *n = arg;
    struct server_watches *w = n->watches;
    struct watch *x = w->ready_head;
    w->ready_head = w->ready_tail = NULL;
    while (x) {
        struct watch *next = x->ready_next;
        if (x->ready) {
            x->ready = false;
            look(n, x, false);
        }
        x = next;
    }
}

/* Answers the watches past their deadline, and those whose client went away. */
static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    struct server_node *n = arg;
    struct server_watches *w = n->watches;
    (void)fd;
    (void)what;
    int64_t now = server_now_ms();
    while (w->count > 0 && w->heap[0]->deadline_ms <= now)
        look(n, w->heap[0], true);
    /* From the back: the one moved into a hole comes from a place already seen. */
    for (size_t i = w->count; i-- > 0;) {
        struct watch *x = w->heap[i];
        if (x->req->reply && net_reply_conn_id(x->req->reply) == 0)
            look(n, x, true);   /* nobody reads the answer: end it */
    }
    arm(w);
}

/* ------------------------------------------------------------ the method */

/* The timeout a watch gets: asked (0: the default), capped by limits.watch_timeout_ms and by
   half the idle timeout, so the connection of a client that waits is not closed as idle. */
static int64_t watch_timeout_ms(const struct server_config *cfg, int32_t asked)
{
    int64_t ms = asked > 0 && (uint32_t)asked < cfg->watch_timeout_ms
                     ? (int64_t)asked
                     : (int64_t)cfg->watch_timeout_ms;
    return ms < cfg->idle_timeout_ms / 2 ? ms : cfg->idle_timeout_ms / 2;
}

/* The request's key or range as a query; an ErrorCode when it is not well formed. */
static int query_of(const struct server_node *n, const WatchRequest *r, struct watch_query *q)
{
    const struct kv_config *kc = kv_store_config(server_store(n));
    if (r->has_key == r->has_range || r->after_version < 0 || r->timeout_ms < 0)
        return ErrorCode_INVALID_ARGUMENT;
    *q = (struct watch_query){.single = r->has_key, .after = (uint64_t)r->after_version};
    const tp_bytes *b = r->has_key ? &r->key : &r->range.begin_key;
    q->begin = b->data;
    q->begin_len = b->len;
    if (r->has_range && r->range.has_end_key) {
        q->end = r->range.end_key.data ? r->range.end_key.data : (const uint8_t *)"";
        q->end_len = r->range.end_key.len;
    }
    if (q->begin_len > kc->key_max || q->end_len > (size_t)kc->key_max + 1)
        return ErrorCode_KEY_TOO_LARGE;
    if (q->end && kv_key_cmp(q->begin, q->begin_len, q->end, q->end_len) > 0)
        return ErrorCode_INVALID_ARGUMENT;
    if (!q->begin)
        q->begin = (const uint8_t *)"";
    return 0;
}

void server_handle_watch(struct server_request *req)
{
    struct server_node *n = req->node;
    struct server_watches *w = n->watches;
    TransactionalKV_watch_args *a = req->args;
    TransactionalKV_watch_result *res = req->result;
    res->has_success = true;
    struct watch_query q;
    int code = !a->has_request ? ErrorCode_INVALID_ARGUMENT : query_of(n, &a->request, &q);
    if (code == 0 && n->stopping)
        code = ErrorCode_SHUTTING_DOWN;
    if (code != 0) {
        fail(req, code);
        return;
    }
    /* Changes it has not seen yet are answered at once. */
    if (server_watch_scan(n, &q, false, &res->success) == WATCH_ANSWERED) {
        metrics_count(METRIC_WATCH_EVENTS, res->success.events.count);
        server_request_done(req);
        return;
    }
    struct watch *x = w->count < n->cfg->max_watches ? calloc(1, sizeof *x) : NULL;
    if (!x) {
        fail(req, ErrorCode_BUSY);
        return;
    }
    x->req = req;
    x->q = q;
    x->deadline_ms = server_now_ms() + watch_timeout_ms(n->cfg, a->request.timeout_ms);
    if (add_watch(w, x) != 0) {
        free(x);
        fail(req, ErrorCode_BUSY);
    }
}

/* ------------------------------------------------------------ life cycle */

int server_watch_open(struct server_node *n)
{
    struct server_watches *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    n->watches = w;
    w->buckets = calloc(BUCKETS_MIN, sizeof *w->buckets);
    w->mask = BUCKETS_MIN - 1;
    if (getrandom(w->sip, sizeof w->sip, 0) != (ssize_t)sizeof w->sip)
        w->sip[0] = (uint64_t)server_wall_us(), w->sip[1] = (uint64_t)(uintptr_t)w;
    w->deadline_ev = evtimer_new(n->base, deadline_cb, n);
    if (!w->buckets || net_turn_join(&w->wake, n->base, NET_TURN_REPLY_WATCHES, wake_step, n) ||
        !w->deadline_ev)
        return -1;
    kv_sm_set_observer(n->sm, on_change, w);
    return 0;
}

void server_watch_stop(struct server_node *n)
{
    struct server_watches *w = n->watches;
    while (w && w->count > 0) {
        struct watch *x = w->heap[w->count - 1];
        remove_watch(w, x);
        fail(x->req, ErrorCode_SHUTTING_DOWN);
        free(x);
    }
}

void server_watch_close(struct server_node *n)
{
    struct server_watches *w = n->watches;
    if (!w)
        return;
    server_watch_stop(n);
    kv_sm_set_observer(n->sm, NULL, NULL);
    net_turn_leave(&w->wake);
    if (w->deadline_ev)
        event_free(w->deadline_ev);
    free(w->buckets);
    free(w->heap);
    free(w);
    n->watches = NULL;
}

void server_watch_restored(struct server_node *n)
{
    struct server_watches *w = n->watches;
    for (size_t i = 0; w && i < w->count; i++)
        make_ready(w, w->heap[i]);
}

uint32_t server_watch_count(const struct server_node *n)
{
    return n->watches ? (uint32_t)n->watches->count : 0;
}
