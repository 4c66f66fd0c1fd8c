/* cluster_transport.c: what both transports share: the reply sink and the fault hook. */
#include "cluster_transport.h"

#include <assert.h>
#include <stddef.h>

void cluster_transport_bind(struct cluster_transport *t, cluster_reply_fn fn, void *ctx)
{
    t->on_reply = fn;
    t->reply_ctx = ctx;
}

void cluster_transport_drop(struct cluster_transport *t, uint32_t peer, bool to, bool from)
{
    assert(peer < t->node_count);
    t->drop_to[peer] = to;
    t->drop_from[peer] = from;
}

void cluster_transport_shape(struct cluster_transport *t, uint32_t peer, uint32_t delay_ms,
                             uint32_t rate_kbps)
{
    assert(peer < t->node_count);
    t->delay_ms[peer] = delay_ms;
    t->rate_kbps[peer] = rate_kbps;
}

void cluster_transport_free(struct cluster_transport *t)
{
    if (t)
        t->ops->free(t);
}
