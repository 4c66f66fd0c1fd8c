/* cluster_transport.h: how a cluster_node reaches its peers: one interface, two implementations. */
#ifndef CLUSTER_TRANSPORT_H
#define CLUSTER_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "consensus.h"

/*
 * A transport carries peer calls: method is a TransactionalKV_METHOD_* peer method, request
 * its Request struct (AppendEntryRequest, ...). call() serializes the request before it
 * returns (the caller frees it right after) and never blocks on the peer. Later, exactly one
 * reply reaches the bound sink: err 0 with the method's Response struct (valid during the
 * call only), or an error (TIMEOUT, UNREACHABLE, UNAUTHORIZED, INVALID for a reply that does
 * not decode) with response NULL. Replies never arrive inside call(), and never after the
 * transport is freed or unbound. Implementations: cluster_bus.h (in memory, one process) and
 * cluster_net.h (TCP, framed Thrift binary).
 */
struct cluster_transport;

typedef void (*cluster_reply_fn)(void *ctx, uint32_t peer, int method, uint64_t tag, int err,
                                 const void *response);

struct cluster_transport_ops {
    /* 0, or an error when the call could not even be queued (no reply then). */
    int (*call)(struct cluster_transport *t, uint32_t peer, int method, const void *request,
                uint64_t tag);
    bool (*connected)(const struct cluster_transport *t, uint32_t peer);
    void (*free)(struct cluster_transport *t);
};

struct cluster_transport {
    const struct cluster_transport_ops *ops;
    cluster_reply_fn on_reply; /* set by cluster_transport_bind */
    void *reply_ctx;
    uint32_t self;
    uint32_t node_count;
    /* Fault injection: drop everything to (send) or from (receive) a peer, one way if wanted. */
    bool drop_to[CONSENSUS_NODES_MAX];
    bool drop_from[CONSENSUS_NODES_MAX];
    /* ... and a slow link on what this node sends a peer: each call leaves delay_ms late, and
       calls leave no faster than rate_kbps (kilobits per second; 0: no cap). */
    uint32_t delay_ms[CONSENSUS_NODES_MAX];
    uint32_t rate_kbps[CONSENSUS_NODES_MAX];
};

/* Binds replies to the sink (NULL unbinds: pending replies are then dropped). */
void cluster_transport_bind(struct cluster_transport *t, cluster_reply_fn fn, void *ctx);
/* Drops traffic to and/or from peer from now on (true) or lets it through again (false).
 * Calls to a dropped peer fail later with UNREACHABLE; replies from it are lost (TIMEOUT). */
void cluster_transport_drop(struct cluster_transport *t, uint32_t peer, bool to, bool from);
/* Shapes the calls sent to peer from now on (0, 0: a plain link again). The network transport
 * holds each call back delay_ms, and paces them to rate_kbps; the bus ignores both. */
void cluster_transport_shape(struct cluster_transport *t, uint32_t peer, uint32_t delay_ms,
                             uint32_t rate_kbps);
static inline int cluster_transport_call(struct cluster_transport *t, uint32_t peer, int method,
                                         const void *request, uint64_t tag)
{
    return t->ops->call(t, peer, method, request, tag);
}
void cluster_transport_free(struct cluster_transport *t);

#endif
