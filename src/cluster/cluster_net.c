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
    for (uint32_t i = 0; i < net->cfg.node_count; i++)
        if (i != net->cfg.self)
            net_link_expire(&net->links[i], now);
}

static int net_call(struct cluster_transport *t, uint32_t peer, int method, const void *request,
                    uint64_t tag)
{
    struct cluster_net *net = (struct cluster_net *)t;
    assert(peer < net->cfg.node_count && peer != net->cfg.self);
    struct net_call *c = calloc(1, sizeof *c);
    if (!c)
        return CLUSTER_ERR_NOMEM;
    c->peer = peer;
    c->method = method;
    c->tag = tag;
    if (t->drop_to[peer]) {
        net_call_fail(net, c, CLUSTER_ERR_UNREACHABLE);
        return 0;
    }
    return net_link_call(&net->links[peer], c, request);
}

static bool net_connected(const struct cluster_transport *t, uint32_t peer)
{
    const struct cluster_net *net = (const struct cluster_net *)t;
    return peer < net->cfg.node_count && net->links[peer].state == LINK_READY;
}

static void net_free(struct cluster_transport *t)
{
    struct cluster_net *net = (struct cluster_net *)t;
    for (uint32_t i = 0; i < net->cfg.node_count; i++)
        if (i != net->cfg.self)
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

static const struct cluster_transport_ops net_ops = {
    .call = net_call,
    .connected = net_connected,
    .free = net_free,
};

int cluster_net_forward(struct cluster_transport *t, uint32_t peer, uint32_t timeout_ms,
                        cluster_forward_encode_fn enc, void *enc_ctx,
                        cluster_forward_done_fn done, void *done_ctx)
{
    if (t->ops != &net_ops || peer >= t->node_count || peer == t->self)
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
    if (t->drop_to[peer]) {
        net_call_fail(net, c, CLUSTER_ERR_UNREACHABLE);
        return 0;
    }
    return net_link_forward(&net->links[peer], c, enc, enc_ctx);
}

struct cluster_transport *cluster_net_new(struct event_base *base,
                                          const struct cluster_net_config *cfg)
{
    assert(cfg->node_count >= 1 && cfg->node_count <= CONSENSUS_NODES_MAX);
    assert(cfg->self < cfg->node_count && cfg->secret);
    struct cluster_net *net = calloc(1, sizeof *net);
    if (!net)
        return NULL;
    net->t.ops = &net_ops;
    net->t.self = cfg->self;
    net->t.node_count = cfg->node_count;
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
            ok = net_link_init(&net->links[i], net, i, cfg->endpoints[i]) == 0;
    if (!ok) {
        log_error("cluster: cannot set up the peer transport (bad endpoint or no memory)");
        net_free(&net->t);
        return NULL;
    }
    return &net->t;
}
