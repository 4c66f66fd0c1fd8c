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
    /* 0, or an error when the call could not even be queued (no reply then). A call to a
       peer the transport does not hold fails later with UNREACHABLE. */
    int (*call)(struct cluster_transport *t, uint32_t peer, int method, const void *request,
                uint64_t tag);
    bool (*connected)(const struct cluster_transport *t, uint32_t peer);
    void (*free)(struct cluster_transport *t);
    /* Peers come and go with the membership (cluster_transport_peer_add / _remove): a new
       peer (id) at slot reaches addr ("HOST:PORT"; may be empty where the transport needs none);
       0 or an error. remove ends its link: calls in flight fail UNREACHABLE. */
    int (*peer_add)(struct cluster_transport *t, uint32_t slot, uint32_t peer, const char *addr);
    void (*peer_remove)(struct cluster_transport *t, uint32_t slot);
};

/* Fault injection for one peer id (cluster_transport_drop, cluster_transport_shape). */
struct cluster_transport_fault {
    uint32_t id;        /* CONSENSUS_NONE: a free entry */
    bool drop_to;       /* everything to (send) or from (receive) it is dropped */
    bool drop_from;
    uint32_t delay_ms;  /* a slow link on what this node sends it: each call leaves delay_ms */
    uint32_t rate_kbps; /* late, and no faster than rate_kbps (0: no cap) */
};

/* Peers are member ids (any number but CONSENSUS_NONE: ids are never reused, so they grow),
   at most CONSENSUS_MEMBERS_MAX at once, each in a slot of peer_ids. */
struct cluster_transport {
    const struct cluster_transport_ops *ops;
    cluster_reply_fn on_reply; /* set by cluster_transport_bind */
    void *reply_ctx;
    uint32_t self;
    uint32_t peer_ids[CONSENSUS_MEMBERS_MAX]; /* by slot; CONSENSUS_NONE: a free slot */
    struct cluster_transport_fault faults[CONSENSUS_MEMBERS_MAX];
};

/* Sets every slot and fault entry free (a transport's constructor calls it). */
void cluster_transport_init(struct cluster_transport *t, const struct cluster_transport_ops *ops,
                            uint32_t self);
/* The slot of peer id, or -1. */
static inline int cluster_transport_slot(const struct cluster_transport *t, uint32_t peer)
{
    for (uint32_t i = 0; peer != CONSENSUS_NONE && i < CONSENSUS_MEMBERS_MAX; i++)
        if (t->peer_ids[i] == peer)
            return (int)i;
    return -1;
}
/* Adds peer (a no-op when it is there already): 0, or CLUSTER_ERR_BUSY (every slot taken),
   INVALID (self, NONE, or an address the transport cannot use), NOMEM. */
int cluster_transport_peer_add(struct cluster_transport *t, uint32_t peer, const char *addr);
void cluster_transport_peer_remove(struct cluster_transport *t, uint32_t peer);
/* The fault entry of peer, or NULL when it has none. */
const struct cluster_transport_fault *cluster_transport_fault(const struct cluster_transport *t,
                                                              uint32_t peer);
bool cluster_transport_dropped_to(const struct cluster_transport *t, uint32_t peer);
bool cluster_transport_dropped_from(const struct cluster_transport *t, uint32_t peer);

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
