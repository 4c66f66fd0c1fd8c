/* kb_conn.c: one pipelined client connection: send, match replies in order, retry, follow
   the leader hint, reconnect to the next endpoint when the node goes away. */
#include "kvbench.h"
#include "kvstore.h"
#include "net.h"
#include "net_tls.h"

#include <assert.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define KB_BACKOFF_US 5000  /* before a retry after UNAVAILABLE/BUSY, or a reconnect */

static void on_read(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);

/* A socket bufferevent, or one that runs a TLS handshake (--tls) once connected. */
static struct bufferevent *new_bev(struct kb_conn *c)
{
    if (!c->b->tls)
        return bufferevent_socket_new(c->b->base, -1, BEV_OPT_CLOSE_ON_FREE);
    char host[256];
    uint16_t port;
    if (net_split_host_port(c->endpoint, host, sizeof host, &port) != NET_OK)
        return NULL;
    return net_tls_client_bev(c->b->base, c->b->tls, host);
}

static void connect_start(struct kb_conn *c)
{
    assert(!c->bev);
    struct sockaddr_storage ss;
    int ss_len = sizeof ss;
    c->connected = false;
    c->scanned = 0;
    net_scan_init(&c->scan, NET_FRAME_BYTES_DEFAULT);
    c->bev = new_bev(c);
    if (!c->bev)
        abort();
    bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
    struct timeval tv = {c->b->opt.timeout_ms / 1000, (c->b->opt.timeout_ms % 1000) * 1000};
    bufferevent_set_timeouts(c->bev, &tv, NULL);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    if (evutil_parse_sockaddr_port(c->endpoint, (struct sockaddr *)&ss, &ss_len) != 0 ||
        bufferevent_socket_connect(c->bev, (struct sockaddr *)&ss, ss_len) != 0)
        on_event(c->bev, BEV_EVENT_ERROR, c); /* retried after the backoff */
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
    if (!c->bev)
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

/* The connection is gone: every op on it starts over elsewhere (or fails when out of tries). */
static void lost(struct kb_conn *c)
{
    struct kb_bench *b = c->b;
    bufferevent_free(c->bev);
    c->bev = NULL;
    if (!c->connected && !c->redirect[0])
        charge_queued(c);
    c->connected = false;
    for (uint32_t i = 0; i < c->pending; i++) {
        struct kb_slot *s = c->ring[(c->head + i) % c->ring_cap].slot;
        if (s->queued || !s->busy)
            continue;
        s->awaiting = 0;
        s->phase_code = 0;
        if (kb_slot_may_retry(b, s, KB_CODE_TRANSPORT))
            kb_conn_requeue(c, s, false);
        else
            kb_slot_done(b, s, KB_CODE_TRANSPORT, false);
    }
    c->head = c->pending = 0;
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

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct kb_conn *c = arg;
    (void)bev;
    if (what & BEV_EVENT_CONNECTED) {
        int one = 1;
        setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->connected = true;
        flush_retries(c);
        return;
    }
    if ((what & BEV_EVENT_TIMEOUT) && c->pending == 0) {
        bufferevent_enable(c->bev, EV_READ); /* idle, not stuck */
        return;
    }
    lost(c);
}

void kb_conn_push(struct kb_conn *c, struct kb_slot *s, int32_t seqid, uint8_t call)
{
    assert(c->pending < c->ring_cap);
    c->ring[(c->head + c->pending) % c->ring_cap] =
        (struct kb_pending){.slot = s, .seqid = seqid, .call = call};
    c->pending++;
}

void kb_conn_issue(struct kb_conn *c, struct kb_slot *s)
{
    struct kb_bench *b = c->b;
    if (!c->connected || c->redirect[0]) {
        kb_conn_requeue(c, s, false);
        return;
    }
    tp_buf_reset(&b->out);
    s->phase_code = ErrorCode_OK;
    if (kb_wire_encode(b, s, c) != 0 || b->out.failed)
        abort(); /* out of memory while encoding */
    b->stats.bytes_sent += b->out.len;
    bufferevent_write(c->bev, b->out.data, b->out.len);
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

static void on_reply(struct kb_conn *c, const struct kb_pending *p, const struct kb_reply *r)
{
    struct kb_slot *s = p->slot;
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
    if (p->call == KB_CALL_GRV)
        s->read_version = r->version;
    assert(s->awaiting > 0);
    if (--s->awaiting == 0)
        phase_done(c, s, r->found && r->code == ErrorCode_OK);
}

/* The next whole message in the input, or false. *skip is what to drain after it. */
static bool next_message(struct kb_conn *c, struct evbuffer *in, const uint8_t **msg,
                         size_t *len, size_t *skip, bool *bad)
{
    size_t have = evbuffer_get_length(in);
    if (c->b->opt.framed) {
        uint8_t hdr[4];
        if (have < 4 || evbuffer_copyout(in, hdr, 4) != 4)
            return false;
        uint32_t n = tp_frame_get_len(hdr);
        *bad = n > NET_FRAME_BYTES_DEFAULT;
        if (*bad || have < 4 + (size_t)n)
            return false;
        *msg = evbuffer_pullup(in, 4 + (ssize_t)n) + 4;
        *len = n;
        *skip = 4 + (size_t)n;
        return true;
    }
    if (c->scanned >= have)
        return false;
    const uint8_t *all = evbuffer_pullup(in, -1);
    size_t used;
    enum net_scan_result r = net_scan_feed(&c->scan, all + c->scanned, have - c->scanned, &used);
    c->scanned += used;
    *bad = r != NET_SCAN_DONE && r != NET_SCAN_MORE;
    if (r != NET_SCAN_DONE)
        return false;
    *msg = all;
    *len = *skip = c->scanned;
    c->scanned = 0;
    net_scan_init(&c->scan, NET_FRAME_BYTES_DEFAULT);
    return true;
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct kb_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    const uint8_t *msg;
    size_t len, skip;
    bool bad = false;
    while (c->bev && next_message(c, in, &msg, &len, &skip, &bad)) {
        if (c->pending == 0) {
            bad = true;
            break;
        }
        struct kb_pending p = c->ring[c->head];
        c->head = (c->head + 1) % c->ring_cap;
        c->pending--;
        struct kb_reply r;
        kb_wire_decode(&p, msg, len, &r);
        evbuffer_drain(in, skip);
        c->b->stats.bytes_received += skip;
        on_reply(c, &p, &r);
    }
    if (bad && c->bev) {
        c->b->stats.bad_replies++;
        lost(c);
    } else if (c->bev && c->redirect[0] && c->pending == 0) {
        lost(c); /* moves to the leader; queued ops follow */
    }
}

int kb_conn_open(struct kb_bench *b, struct kb_conn *c, uint32_t id)
{
    memset(c, 0, sizeof *c);
    c->b = b;
    c->id = id;
    uint32_t per_slot = b->opt.txn_reads > 1 ? b->opt.txn_reads : 1;
    c->ring_cap = b->opt.depth * per_slot;
    c->slots = calloc(b->opt.depth, sizeof *c->slots);
    c->ring = calloc(c->ring_cap, sizeof *c->ring);
    c->retry = calloc(b->opt.depth, sizeof *c->retry);
    c->timer = evtimer_new(b->base, on_timer, c);
    if (!c->slots || !c->ring || !c->retry || !c->timer)
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
    if (c->bev)
        bufferevent_free(c->bev);
    if (c->timer)
        event_free(c->timer);
    free(c->slots);
    free(c->ring);
    free(c->retry);
    memset(c, 0, sizeof *c);
}
