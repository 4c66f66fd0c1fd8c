/* cluster_peers.c: the peers follow the membership: one per member of the newest one in the
   log, each with a transport link made from the member's address, dropped once it leaves. */
#include "cluster_internal.h"

#include "log.h"

struct cluster_peer *cluster_peer_of(const struct cluster_node *n, uint32_t id)
{
    for (uint32_t i = 0; id != CONSENSUS_NONE && i < CONSENSUS_MEMBERS_MAX; i++)
        if (n->peers[i].id == id)
            return (struct cluster_peer *)&n->peers[i];
    return NULL;
}

void cluster_heard(struct cluster_node *n, uint32_t id)
{
    struct cluster_peer *p = cluster_peer_of(n, id);
    if (p)
        p->last_heard_ms = cluster_clock(n);
}

static void peer_drop(struct cluster_node *n, struct cluster_peer *p)
{
    log_info("cluster: node %u: node %u left the membership: its link is closed", n->cfg.id,
             p->id);
    cluster_snap_out_drop(n, p);
    cluster_transport_peer_remove(n->tp, p->id);
    *p = (struct cluster_peer){.id = CONSENSUS_NONE, .last_heard_ms = -1};
}

static void peer_add(struct cluster_node *n, const struct consensus_member *m)
{
    struct cluster_peer *p = NULL;
    for (uint32_t i = 0; !p && i < CONSENSUS_MEMBERS_MAX; i++)
        if (n->peers[i].id == CONSENSUS_NONE)
            p = &n->peers[i];
    if (!p)
        return; /* cannot be: a membership holds at most CONSENSUS_MEMBERS_MAX */
    int rc = cluster_transport_peer_add(n->tp, m->id, m->addr);
    if (rc != 0) {
        log_error("cluster: node %u: no link to member %u at '%s': %s", n->cfg.id, m->id,
                  m->addr, cluster_strerror(rc));
        return; /* tried again at the next change */
    }
    *p = (struct cluster_peer){.id = m->id, .last_heard_ms = -1};
}

bool cluster_member_may_connect(const struct cluster_node *n, uint32_t id)
{
    const struct consensus_membership *m = consensus_membership(n->core);
    return m->count == 0 || consensus_membership_find(m, id) != NULL;
}

void cluster_peers_sync(struct cluster_node *n, const struct consensus_membership *m)
{
    for (uint32_t i = 0; i < CONSENSUS_MEMBERS_MAX; i++)
        if (n->peers[i].id != CONSENSUS_NONE && !consensus_membership_find(m, n->peers[i].id))
            peer_drop(n, &n->peers[i]);
    for (uint32_t i = 0; i < CONSENSUS_MEMBERS_MAX; i++) { /* links the transport started with */
        uint32_t id = n->tp->peer_ids[i];
        if (id != CONSENSUS_NONE && !consensus_membership_find(m, id))
            cluster_transport_peer_remove(n->tp, id);
    }
    for (uint32_t i = 0; i < m->count; i++)
        if (m->members[i].id != n->cfg.id && !cluster_peer_of(n, m->members[i].id))
            peer_add(n, &m->members[i]);
}
