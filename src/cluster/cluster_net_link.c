/* cluster_net_link.c: one peer link on net's client (net_pipe): connect, authenticate, queue,
   shape and batch calls; the pipe matches replies to calls by seqid. */
#include "cluster_net_link.h"

#include "cluster_codec.h"
#include "log.h"
#include "metrics.h"
#include "net.h"
#include "net_tls.h"
#include "net_write.h"

#include <assert.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

static int32_t next_seqid(struct cluster_net *net)
{
    net->seqid = net->seqid == INT32_MAX ? 1 : net->seqid + 1;
    return net->seqid;
}

/* Remembers c (its frame written, or about to be) with the pipe, for its reply. */
static int calls_track(struct net_link *l, struct net_call *c)
{
    struct net_pipe_call pc = {.seqid = c->seqid, .ptr = c, .deadline_ms = c->deadline_ms};
    return net_pipe_track(&l->pipe, &pc) == NET_OK ? 0 : CLUSTER_ERR_NOMEM;
}

/* The pipe went down (its calls failed already): the link waits for the backoff, jittered
   exponential: half the current delay plus a random part of the other half. */
static void link_down(struct net_link *l, const char *why)
{
    if (l->state == LINK_READY)
        log_info("cluster: link to node %u down: %s", l->peer, why);
    l->state = LINK_IDLE;
    l->flush_queued = l->writing = false;
    net_shape_drop(l);
    evbuffer_drain(l->queued, evbuffer_get_length(l->queued));
    uint64_t r = l->net->rng = l->net->rng * 6364136223846793005ull + 1442695040888963407ull;
    uint32_t half = l->backoff_ms / 2;
    uint32_t delay = half + (uint32_t)((r >> 33) % (half + 1));
    struct timeval tv = {.tv_sec = delay / 1000, .tv_usec = (delay % 1000) * 1000};
    l->backing_off = true;
    event_add(l->retry_ev, &tv);
    l->backoff_ms = l->backoff_ms * 2 > l->net->cfg.backoff_max_ms ? l->net->cfg.backoff_max_ms
                                                                    : l->backoff_ms * 2;
}

/* Ends the connection: every call on it fails (UNREACHABLE), then link_down. */
static void link_broken(struct net_link *l, const char *why)
{
    l->why = why;
    if (l->pipe.state == NET_PIPE_DOWN && net_pipe_waiting(&l->pipe) == 0)
        link_down(l, why);
    else
        net_pipe_close(&l->pipe, NET_ERR_CLOSED); /* on_state: link_down(l->why) */
}

/* New output: written by the end of this loop turn's peer flush (over TLS,
   libevent writes it: OpenSSL must see every byte). */
void net_link_flush_schedule(struct net_link *l)
{
    if (l->flush_queued || l->writing || l->net->cfg.tls)
        return;
    l->flush_queued = true;
    net_turn_want(&l->net->flush);
}

/* Writes what the socket takes now; arms EV_WRITE for the rest (on_written disarms it). */
static void write_now(struct net_link *l)
{
    assert(l->pipe.bev && !l->writing);
    int rc = net_write_direct(l->pipe.bev);
    if (rc < 0) {
        link_broken(l, "socket error writing");
        return;
    }
    if (rc > 0) {
        l->writing = true;
        bufferevent_enable(l->pipe.bev, EV_WRITE);
    }
}

void net_link_flush(void *arg)
{
    struct cluster_net *net = arg;
    for (uint32_t i = 0; i < CONSENSUS_MEMBERS_MAX; i++) {
        struct net_link *l = &net->links[i];
        if (net->t.peer_ids[i] == CONSENSUS_NONE || !l->flush_queued)
            continue;
        l->flush_queued = false;
        if (l->pipe.bev && (l->state == LINK_HANDSHAKE || l->state == LINK_READY) && !l->writing)
            write_now(l);
    }
}

/* libevent wrote the rest of a full socket's output: direct writes again. */
static void on_written(void *arg)
{
    struct net_link *l = arg;
    struct bufferevent *bev = l->pipe.bev;
    if (!l->writing || evbuffer_get_length(bufferevent_get_output(bev)) > 0)
        return;
    l->writing = false;
    bufferevent_disable(bev, EV_WRITE);
}

struct peer_call_enc {
    int method;
    const void *request;
};

static int encode_peer_call(void *ctx, tp_buf *out, int32_t seqid)
{
    const struct peer_call_enc *e = ctx;
    return cluster_codec_call(out, e->method, seqid, e->request);
}

/* Frames at least this large are handed to the evbuffer as they are rather than copied. */
#define FRAME_HAND_OVER_BYTES (16u * 1024)
/* The encoding buffer is kept between frames up to this capacity (no malloc and no regrowth
   per append, commit note or forwarded call). */
#define FRAME_KEEP_BYTES (4u * FRAME_HAND_OVER_BYTES)

static void frame_free(const void *data, size_t len, void *arg)
{
    (void)len, (void)arg;
    free((void *)data);
}

/* Frames one CALL, written by enc in the transport's frame buffer, into dst. A large frame
   (appends carrying entries) is handed over, not copied a second time: its payloads were
   copied once by the encoder. */
static int frame_with(struct cluster_net *net, struct evbuffer *dst,
                      cluster_forward_encode_fn enc, void *ctx, int32_t seqid)
{
    tp_buf *b = &net->frame;
    tp_buf_reset(b);
    size_t at = tp_frame_begin(b);
    int rc = enc(ctx, b, seqid) == 0 ? 0 : CLUSTER_ERR_INVALID;
    if (rc == 0) {
        tp_frame_end(b, at);
        if (b->failed) {
            rc = CLUSTER_ERR_NOMEM;
        } else if (b->len >= FRAME_HAND_OVER_BYTES) {
            if (evbuffer_add_reference(dst, b->data, b->len, frame_free, NULL) == 0) {
                tp_buf_init(b); /* dst frees the bytes */
                return 0;
            }
            rc = CLUSTER_ERR_NOMEM;
        } else {
            rc = evbuffer_add(dst, b->data, b->len) != 0 ? CLUSTER_ERR_NOMEM : 0;
        }
    }
    if (b->failed || b->cap > FRAME_KEEP_BYTES)
        tp_buf_free(b);
    return rc;
}

static int frame_call(struct cluster_net *net, struct evbuffer *dst, int method, int32_t seqid,
                      const void *request)
{
    struct peer_call_enc e = {method, request};
    return frame_with(net, dst, encode_peer_call, &e, seqid);
}

static int internal_call(struct net_link *l, int method, const void *request)
{
    struct net_call *c = calloc(1, sizeof *c);
    if (!c)
        return CLUSTER_ERR_NOMEM;
    *c = (struct net_call){.peer = l->peer, .method = method, .internal = true,
                           .seqid = next_seqid(l->net),
                           .deadline_ms = cluster_now_ms() + l->net->cfg.call_timeout_ms};
    int rc = frame_call(l->net, bufferevent_get_output(l->pipe.bev), method, c->seqid, request);
    if (rc == 0)
        rc = calls_track(l, c);
    if (rc != 0) {
        free(c);
        return rc;
    }
    net_link_flush_schedule(l);
    return 0;
}

static void send_challenge(struct net_link *l)
{
    PeerChallengeRequest req;
    PeerChallengeRequest_init(&req);
    int rc = cluster_id_set(&req.node_id, l->net->cfg.self);
    if (rc == 0)
        rc = internal_call(l, TransactionalKV_METHOD_peerChallenge, &req);
    PeerChallengeRequest_free(&req);
    if (rc != 0)
        link_broken(l, "cannot send the challenge");
}

static void on_challenge(struct net_link *l, const PeerChallengeResponse *resp)
{
    uint8_t mac[CLUSTER_MAC_BYTES];
    PeerAuthRequest req;
    PeerAuthRequest_init(&req);
    int rc = cluster_auth_mac(l->net->cfg.secret, resp->nonce.data, resp->nonce.len,
                              l->net->cfg.self, mac);
    if (rc == 0)
        rc = cluster_id_set(&req.node_id, l->net->cfg.self) ||
             tp_bytes_set(&req.nonce, resp->nonce.data, resp->nonce.len) ||
             tp_bytes_set(&req.mac, mac, sizeof mac);
    if (rc == 0)
        rc = internal_call(l, TransactionalKV_METHOD_peerAuthenticate, &req);
    PeerAuthRequest_free(&req);
    if (rc != 0)
        link_broken(l, "bad challenge");
}

static void mark_sent(void *arg, struct net_pipe_call *pc)
{
    (void)arg;
    ((struct net_call *)pc->ptr)->sent = true;
}

static void on_ready(struct net_link *l)
{
    l->state = LINK_READY;
    l->backoff_ms = l->net->cfg.backoff_min_ms;
    log_info("cluster: link to node %u up", l->peer);
    net_pipe_each(&l->pipe, mark_sent, NULL);
    bufferevent_write_buffer(l->pipe.bev, l->queued);
    net_link_flush_schedule(l);
}

static void handshake_reply(struct net_link *l, struct net_call *c, const struct cluster_codec_reply *rep)
{
    if (rep->err != 0) {
        log_warn("cluster: node %u refused our authentication (%s)", l->peer,
                 cluster_strerror(rep->err));
        link_broken(l, "authentication refused");
    } else if (c->method == TransactionalKV_METHOD_peerChallenge) {
        on_challenge(l, rep->response);
    } else if (((const PeerAuthResponse *)rep->response)->success) {
        on_ready(l);
    } else {
        link_broken(l, "authentication refused");
    }
}

/* A reply whose seqid no call in flight on this link has: refused (dropped, the link kept:
   the calls in flight are matched by their own ids), counted, and logged at the 1st, 2nd,
   4th, 8th ... time. A seqid above every one this node gave out was never sent; one below
   belongs to a call that failed already (its deadline passed) or to another peer. */
static void unmatched_reply(struct net_link *l, const uint8_t *msg, size_t len)
{
    metrics_count(METRIC_PEER_REPLIES_UNMATCHED, 1);
    uint64_t n = l->pipe.unmatched;
    if (n & (n - 1))
        return;
    tp_reader r;
    tp_message m = {0};
    tp_reader_init(&r, msg, len, NULL);
    tp_read_message_begin(&r, &m); /* the pipe read this header already */
    log_warn("cluster: node %u answered call %d, which no call in flight to it has (%s): "
             "refused (%llu so far)", l->peer, m.seqid,
             m.seqid > l->net->seqid ? "never sent" : "timed out already, or not its call",
             (unsigned long long)n);
}

/* A call the pipe gave up on: the link went down (UNREACHABLE), or its deadline passed. */
static void call_failed(struct net_link *l, struct net_call *c, int err)
{
    if (c->internal && err == NET_ERR_TIMEOUT) { /* a peer that cannot finish the handshake */
        free(c);
        link_broken(l, "handshake timed out");
        return;
    }
    net_call_fail(l->net, c, err == NET_ERR_TIMEOUT ? CLUSTER_ERR_TIMEOUT
                                                    : CLUSTER_ERR_UNREACHABLE);
}

/* One whole reply message, to call c. */
static void on_reply(void *arg, const struct net_pipe_call *pc, int err, const uint8_t *msg,
                     size_t len)
{
    struct net_link *l = arg;
    if (!pc) {
        unmatched_reply(l, msg, len);
        return;
    }
    struct net_call *c = pc->ptr;
    if (err != NET_OK) {
        call_failed(l, c, err);
        return;
    }
    if (c->fwd_done) {
        if (cluster_transport_dropped_from(&l->net->t, l->peer)) { /* fault injection: the reply is lost */
            net_call_fail(l->net, c, CLUSTER_ERR_TIMEOUT);
            return;
        }
        c->fwd_done(c->fwd_ctx, 0, c->seqid, msg, len);
        free(c);
        return;
    }
    struct cluster_codec_reply rep = {0};
    if (cluster_codec_reply_read(c->method, c->seqid, msg, len, NULL, &rep) != 0) {
        free(c);
        link_broken(l, "out of memory");
        return;
    }
    struct cluster_transport *t = &l->net->t;
    if (c->internal)
        handshake_reply(l, c, &rep);
    else if (cluster_transport_dropped_from(t, l->peer))
        net_call_fail(l->net, c, CLUSTER_ERR_TIMEOUT), c = NULL; /* fault injection */
    else if (t->on_reply) {
        if (c->queued_ns && rep.err == 0)
            metrics_observe_ns(METRIC_APPEND_RTT, metrics_now_ns() - c->queued_ns);
        t->on_reply(t->reply_ctx, l->peer, c->method, c->tag, rep.err, rep.response);
    }
    cluster_codec_reply_free(&rep);
    free(c);
}

/* Connected: the handshake starts. Down: why, for the log line. */
static void on_state(void *arg, int err)
{
    struct net_link *l = arg;
    if (err == NET_OK) {
        /* Connected: from now on the flush event writes (write_now), not libevent. */
        if (!l->net->cfg.tls)
            bufferevent_disable(l->pipe.bev, EV_WRITE);
        l->state = LINK_HANDSHAKE;
        send_challenge(l);
        return;
    }
    const char *why = l->why;
    l->why = NULL;
    if (!why && err == NET_ERR_TLS) {
        log_warn("cluster: TLS to node %u failed: %s", l->peer, l->pipe.tls_error);
        why = "TLS failed";
    }
    if (!why)
        why = err == NET_ERR_CLOSED  ? "closed by the peer"
              : err == NET_ERR_FRAME ? "bad reply frame or header"
                                     : "socket error";
    link_down(l, why);
}

/* A socket, or one that runs the client side of a TLS handshake once connected (the
   certificate must name the endpoint's host). */
static void start_connect(struct net_link *l)
{
    assert(l->pipe.state == NET_PIPE_DOWN);
    l->backing_off = false;
    l->state = LINK_CONNECTING;
    if (net_pipe_connect_addr(&l->pipe, (struct sockaddr *)&l->addr, l->addr_len, l->host) !=
        NET_OK)
        link_broken(l, "connect failed");
}

static void on_retry(int fd, short what, void *arg)
{
    struct net_link *l = arg;
    (void)fd, (void)what;
    l->backing_off = false;
    if (l->state == LINK_IDLE && net_pipe_waiting(&l->pipe) > 0)
        start_connect(l);
}

/* Queues c framed by enc (sent at once when the link is up); c->deadline_ms is set. */
static int link_enqueue(struct net_link *l, struct net_call *c, cluster_forward_encode_fn enc,
                        void *ctx)
{
    if (net_pipe_waiting(&l->pipe) >= CLUSTER_NET_QUEUED_CALLS_MAX) {
        net_call_fail(l->net, c, CLUSTER_ERR_BUSY);
        return 0;
    }
    c->seqid = next_seqid(l->net);
    c->sent = l->state == LINK_READY;
    bool shaped = c->sent && net_shape_on(l);
    struct evbuffer *dst = shaped  ? l->shape.buf
                           : c->sent ? bufferevent_get_output(l->pipe.bev)
                                     : l->queued;
    size_t before = evbuffer_get_length(dst);
    int rc = frame_with(l->net, dst, enc, ctx, c->seqid);
    if (rc == 0 && shaped && net_shape_push(l, evbuffer_get_length(dst) - before) != 0) {
        evbuffer_drain(dst, evbuffer_get_length(dst)); /* a half-shaped link: start over */
        rc = CLUSTER_ERR_NOMEM;
    }
    if (rc == 0)
        rc = calls_track(l, c); /* out of memory: the frame's reply will match no call */
    if (rc != 0) {
        free(c);
        return rc;
    }
    if (c->sent && !shaped)
        net_link_flush_schedule(l);
    if (l->state == LINK_IDLE && !l->backing_off)
        start_connect(l);
    return 0;
}

int net_link_call(struct net_link *l, struct net_call *c, const void *request)
{
    c->deadline_ms = cluster_now_ms() + l->net->cfg.call_timeout_ms;
    if (c->method == TransactionalKV_METHOD_appendEntry)
        c->queued_ns = metrics_now_ns();
    struct peer_call_enc e = {c->method, request};
    return link_enqueue(l, c, encode_peer_call, &e);
}

int net_link_forward(struct net_link *l, struct net_call *c, cluster_forward_encode_fn enc,
                     void *enc_ctx)
{
    assert(c->fwd_done);
    return link_enqueue(l, c, enc, enc_ctx);
}

void net_link_expire(struct net_link *l, int64_t now_ms)
{
    net_pipe_expire(&l->pipe, now_ms); /* each to call_failed */
}

/* HOST:PORT as an address: numeric forms directly, names through the resolver once. */
static int resolve(struct net_link *l, const char *endpoint)
{
    uint16_t port;
    if (net_split_host_port(endpoint, l->host, sizeof l->host, &port) != NET_OK)
        return CLUSTER_ERR_INVALID;
    l->addr_len = (int)sizeof l->addr;
    if (evutil_parse_sockaddr_port(endpoint, (struct sockaddr *)&l->addr, &l->addr_len) == 0)
        return 0;
    const char *colon = strrchr(endpoint, ':');
    if (!colon || colon == endpoint || (size_t)(colon - endpoint) >= 256)
        return CLUSTER_ERR_INVALID;
    char host[256];
    memcpy(host, endpoint, (size_t)(colon - endpoint));
    host[colon - endpoint] = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || !res)
        return CLUSTER_ERR_INVALID;
    memcpy(&l->addr, res->ai_addr, res->ai_addrlen);
    l->addr_len = (int)res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

int net_link_init(struct net_link *l, struct cluster_net *net, uint32_t peer,
                  const char *endpoint)
{
    memset(l, 0, sizeof *l);
    l->net = net;
    l->peer = peer;
    struct net_pipe_config pc = {.base = net->base, .tls = net->cfg.tls, .framed = true,
                                 .frame_max = net->cfg.frame_bytes_max, .on_reply = on_reply,
                                 .on_state = on_state, .on_written = on_written, .ctx = l};
    net_pipe_init(&l->pipe, &pc);
    l->backoff_ms = net->cfg.backoff_min_ms ? net->cfg.backoff_min_ms : 1;
    l->queued = evbuffer_new();
    l->retry_ev = event_new(net->base, -1, 0, on_retry, l);
    if (!l->queued || !l->retry_ev || !endpoint || net_shape_init(l) != 0)
        return CLUSTER_ERR_NOMEM;
    return resolve(l, endpoint);
}

static void call_closed(void *arg, struct net_pipe_call *pc)
{
    struct net_call *c = pc->ptr;
    (void)arg;
    if (!c) /* handed on by net_link_remove */
        return;
    if (c->fwd_done)
        c->fwd_done(c->fwd_ctx, CLUSTER_ERR_CLOSED, c->seqid, NULL, 0);
    free(c);
}

/* Its calls go on the transport's failed list: each gets its reply (UNREACHABLE). */
static void call_unreachable(void *arg, struct net_pipe_call *pc)
{
    struct net_link *l = arg;
    struct net_call *c = pc->ptr;
    pc->ptr = NULL;
    if (c)
        net_call_fail(l->net, c, CLUSTER_ERR_UNREACHABLE);
}

void net_link_remove(struct net_link *l)
{
    log_info("cluster: link to node %u closed: no longer a member", l->peer);
    net_pipe_each(&l->pipe, call_unreachable, l);
    net_link_free(l);
}

void net_link_free(struct net_link *l)
{
    net_pipe_each(&l->pipe, call_closed, NULL);
    net_pipe_free(&l->pipe);
    if (l->queued)
        evbuffer_free(l->queued);
    if (l->retry_ev)
        event_free(l->retry_ev);
    net_shape_free(l);
    memset(l, 0, sizeof *l);
}
