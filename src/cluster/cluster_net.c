/* cluster_net.c: the NetworkTransport: per-peer links, handshake, pipelined calls, timeouts. */
#include "cluster_net.h"

#include "cluster.h"
#include "cluster_codec.h"
#include "cluster_net_link.h"
#include "log.h"

#include <assert.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <stdlib.h>
#include <string.h>

void cluster_net_config_default(struct cluster_net_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->call_timeout_ms = 1000;
    cfg->backoff_min_ms = 50;
    cfg->backoff_max_ms = 2000;
    cfg->frame_bytes_max = 64u * 1024 * 1024;
}

/* Failures are reported at the end of the turn (its first step): never inside call(). */
void net_call_fail(struct cluster_net *net, struct net_call *c, int err)
{
    c->err = err;
    c->next = NULL;
    *net->failed_tail = c;
    net->failed_tail = &c->next;
    net_turn_want(&net->fail);
}

/* A forwarded call that may have reached the peer has an unknown outcome: TIMEOUT. */
static int forward_err(const struct net_call *c)
{
    return c->sent && c->err == CLUSTER_ERR_UNREACHABLE ? CLUSTER_ERR_TIMEOUT : c->err;
}

static void deliver_failures(void *arg)
{
    struct cluster_net *net = arg;
    while (net->failed) {
        struct net_call *c = net->failed;
        net->failed = c->next;
        if (!net->failed)
            net->failed_tail = &net->failed;
        if (c->fwd_done)
            c->fwd_done(c->fwd_ctx, forward_err(c), c->seqid, NULL, 0);
        else if (!c->internal && net->t.on_reply)
            net->t.on_reply(net->t.reply_ctx, c->peer, c->method, c->tag, c->err, NULL);
        free(c);
    }
}

static void sweep(int fd, short what, void *arg)
{
    struct cluster_net *net = arg;
    (void)fd, (void)what;
    int64_t now = cluster_now_ms();
    for (uint32_t i = 0; i < CONSENSUS_MEMBERS_MAX; i++)
        if (net->t.peer_ids[i] != CONSENSUS_NONE)
            net_link_expire(&net->links[i], now);
}

static int net_call(struct cluster_transport *t, uint32_t peer, int method, const void *request,
                    uint64_t tag)
{
    struct cluster_net *net = (struct cluster_net *)t;
    struct net_call *c = calloc(1, sizeof *c);
    if (!c)
        return CLUSTER_ERR_NOMEM;
    c->peer = peer;
    c->method = method;
    c->tag = tag;
    int slot = cluster_transport_slot(t, peer);
    if (slot < 0 || cluster_transport_dropped_to(t, peer)) {
        net_call_fail(net, c, CLUSTER_ERR_UNREACHABLE);
        return 0;
    }
    return net_link_call(&net->links[slot], c, request);
}

static bool net_connected(const struct cluster_transport *t, uint32_t peer)
{
    const struct cluster_net *net = (const struct cluster_net *)t;
    int slot = cluster_transport_slot(t, peer);
    return slot >= 0 && net->links[slot].state == LINK_READY;
}

static void net_free(struct cluster_transport *t)
{
    struct cluster_net *net = (struct cluster_net *)t;
    for (uint32_t i = 0; i < CONSENSUS_MEMBERS_MAX; i++)
        if (net->t.peer_ids[i] != CONSENSUS_NONE)
            net_link_free(&net->links[i]);
    while (net->failed) {
        struct net_call *c = net->failed;
        net->failed = c->next;
        if (c->fwd_done)
            c->fwd_done(c->fwd_ctx, CLUSTER_ERR_CLOSED, c->seqid, NULL, 0);
        free(c);
    }
    net_turn_leave(&net->fail);
    net_turn_leave(&net->flush);
    tp_buf_free(&net->frame);
    if (net->sweep_ev)
        event_free(net->sweep_ev);
    free(net);
}

static int net_peer_add(struct cluster_transport *t, uint32_t slot, uint32_t peer,
                        const char *addr)
{
    struct cluster_net *net = (struct cluster_net *)t;
    int rc = net_link_init(&net->links[slot], net, peer, addr);
    if (rc != 0) {
        log_error("cluster: cannot make a link to node %u at '%s' (not HOST:PORT, or no "
                  "memory)", peer, addr);
        net_link_free(&net->links[slot]);
    }
    return rc;
}

static void net_peer_remove(struct cluster_transport *t, uint32_t slot)
{
    struct cluster_net *net = (struct cluster_net *)t;
    net_link_remove(&net->links[slot]);
}

static const struct cluster_transport_ops net_ops = {
    .call = net_call,
    .connected = net_connected,
    .free = net_free,
    .peer_add = net_peer_add,
    .peer_remove = net_peer_remove,
};

int cluster_net_forward(struct cluster_transport *t, uint32_t peer, uint32_t timeout_ms,
                        cluster_forward_encode_fn enc, void *enc_ctx,
                        cluster_forward_done_fn done, void *done_ctx)
{
    if (t->ops != &net_ops || peer == t->self)
        return CLUSTER_ERR_INVALID;
    struct cluster_net *net = (struct cluster_net *)t;
    struct net_call *c = calloc(1, sizeof *c);
    if (!c)
        return CLUSTER_ERR_NOMEM;
    c->peer = peer;
    c->method = -1;
    c->fwd_done = done;
    c->fwd_ctx = done_ctx;
    c->deadline_ms = cluster_now_ms() + timeout_ms;
    int slot = cluster_transport_slot(t, peer);
    if (slot < 0 || cluster_transport_dropped_to(t, peer)) {
        net_call_fail(net, c, CLUSTER_ERR_UNREACHABLE);
        return 0;
    }
    return net_link_forward(&net->links[slot], c, enc, enc_ctx);
}

struct cluster_transport *cluster_net_new(struct event_base *base,
                                          const struct cluster_net_config *cfg)
{
    assert(cfg->node_count <= CONSENSUS_MEMBERS_MAX);
    assert(cfg->self != CONSENSUS_NONE && cfg->secret);
    struct cluster_net *net = calloc(1, sizeof *net);
    if (!net)
        return NULL;
    cluster_transport_init(&net->t, &net_ops, cfg->self);
    net->cfg = *cfg;
    net->base = base;
    net->rng = cfg->seed ^ 0x5deece66dull;
    net->failed_tail = &net->failed;
    tp_buf_init(&net->frame);
    net->sweep_ev = event_new(base, -1, EV_PERSIST, sweep, net);
    uint32_t every = cfg->call_timeout_ms / 4 ? cfg->call_timeout_ms / 4 : 1;
    struct timeval tv = {.tv_sec = every / 1000, .tv_usec = (every % 1000) * 1000};
    bool ok = !net_turn_join(&net->fail, base, NET_TURN_PEER_FAILURES, deliver_failures, net) &&
              !net_turn_join(&net->flush, base, NET_TURN_PEER_FLUSH, net_link_flush, net) &&
              net->sweep_ev && event_add(net->sweep_ev, &tv) == 0;
    for (uint32_t i = 0; ok && i < cfg->node_count; i++)
        if (i != cfg->self)
            ok = cluster_transport_peer_add(&net->t, i, cfg->endpoints[i]) == 0;
    if (!ok) {
        log_error("cluster: cannot set up the peer transport (bad endpoint or no memory)");
        net_free(&net->t);
        return NULL;
    }
    return &net->t;
}
