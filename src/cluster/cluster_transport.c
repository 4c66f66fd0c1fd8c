/* cluster_transport.c: what both transports share: the reply sink, the peers' slots, faults. */
#include "cluster_transport.h"

#include "cluster.h"

#include <assert.h>
#include <stddef.h>

void cluster_transport_init(struct cluster_transport *t, const struct cluster_transport_ops *ops,
                            uint32_t self)
{
    t->ops = ops;
    t->self = self;
    t->on_reply = NULL;
    t->reply_ctx = NULL;
    for (uint32_t i = 0; i < CONSENSUS_MEMBERS_MAX; i++) {
        t->peer_ids[i] = CONSENSUS_NONE;
        t->faults[i] = (struct cluster_transport_fault){.id = CONSENSUS_NONE};
    }
}

void cluster_transport_bind(struct cluster_transport *t, cluster_reply_fn fn, void *ctx)
{
    t->on_reply = fn;
    t->reply_ctx = ctx;
}

int cluster_transport_peer_add(struct cluster_transport *t, uint32_t peer, const char *addr)
{
    if (peer == CONSENSUS_NONE || peer == t->self)
        return CLUSTER_ERR_INVALID;
    if (cluster_transport_slot(t, peer) >= 0)
        return 0;
    int free_slot = -1;
    for (uint32_t i = 0; free_slot < 0 && i < CONSENSUS_MEMBERS_MAX; i++)
        if (t->peer_ids[i] == CONSENSUS_NONE)
            free_slot = (int)i;
    if (free_slot < 0)
        return CLUSTER_ERR_BUSY;
    int rc = t->ops->peer_add ? t->ops->peer_add(t, (uint32_t)free_slot, peer, addr ? addr : "") : 0;
    if (rc == 0)
        t->peer_ids[free_slot] = peer;
    return rc;
}

void cluster_transport_peer_remove(struct cluster_transport *t, uint32_t peer)
{
    int slot = cluster_transport_slot(t, peer);
    if (slot < 0)
        return;
    if (t->ops->peer_remove)
        t->ops->peer_remove(t, (uint32_t)slot);
    t->peer_ids[slot] = CONSENSUS_NONE;
}

const struct cluster_transport_fault *cluster_transport_fault(const struct cluster_transport *t,
                                                              uint32_t peer)
{
    for (uint32_t i = 0; peer != CONSENSUS_NONE && i < CONSENSUS_MEMBERS_MAX; i++)
        if (t->faults[i].id == peer)
            return &t->faults[i];
    return NULL;
}

bool cluster_transport_dropped_to(const struct cluster_transport *t, uint32_t peer)
{
    const struct cluster_transport_fault *f = cluster_transport_fault(t, peer);
    return f && f->drop_to;
}

bool cluster_transport_dropped_from(const struct cluster_transport *t, uint32_t peer)
{
    const struct cluster_transport_fault *f = cluster_transport_fault(t, peer);
    return f && f->drop_from;
}

/* The fault entry of peer, made when missing; NULL when the table is full. */
static struct cluster_transport_fault *fault_entry(struct cluster_transport *t, uint32_t peer)
{
    struct cluster_transport_fault *f = (struct cluster_transport_fault *)
        cluster_transport_fault(t, peer);
    for (uint32_t i = 0; !f && i < CONSENSUS_MEMBERS_MAX; i++)
        if (t->faults[i].id == CONSENSUS_NONE) {
            f = &t->faults[i];
            *f = (struct cluster_transport_fault){.id = peer};
        }
    return f;
}

/* An entry that no longer changes anything is freed. */
static void fault_tidy(struct cluster_transport_fault *f)
{
    if (!f->drop_to && !f->drop_from && !f->delay_ms && !f->rate_kbps)
        f->id = CONSENSUS_NONE;
}

void cluster_transport_drop(struct cluster_transport *t, uint32_t peer, bool to, bool from)
{
    assert(peer != CONSENSUS_NONE);
    struct cluster_transport_fault *f = fault_entry(t, peer);
    if (!f)
        return;
    f->drop_to = to;
    f->drop_from = from;
    fault_tidy(f);
}

void cluster_transport_shape(struct cluster_transport *t, uint32_t peer, uint32_t delay_ms,
                             uint32_t rate_kbps)
{
    assert(peer != CONSENSUS_NONE);
    struct cluster_transport_fault *f = fault_entry(t, peer);
    if (!f)
        return;
    f->delay_ms = delay_ms;
    f->rate_kbps = rate_kbps;
    fault_tidy(f);
}

void cluster_transport_free(struct cluster_transport *t)
{
    if (t)
        t->ops->free(t);
}
