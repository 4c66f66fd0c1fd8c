/* net_admit.c: the accept policy: who gets a slot when a limit is reached. Clients must not be
   able to starve the cluster's own traffic by holding connections, so:
   - a source address holds at most connections_per_address_max connections; past it, its own
     least recently active idle connection makes room, or the newcomer is refused;
   - past connections_max, the least recently active idle connection that is not trusted (not
     a proven peer) makes room;
   - when every connection is busy, a newcomer takes one of reserved_connections slots on
     probation: only the layer above can keep it (by trusting it: a peer that authenticated),
     else it closes after reserved_probation_ms; a newer one may push out the oldest.
   "Idle" means nothing in flight: no request unanswered, no reply unwritten. Silent sockets
   go first, a peer halfway through its handshake last. Trusted connections are never pushed
   out and do not count against their address. */
#include "net_internal.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>

static bool evictable(const struct net_conn *c)
{
    return !c->trusted && c->busy == 0 && c->pending == 0 &&
           (c->phase == NET_CONN_DETECT || c->phase == NET_CONN_OPEN) &&
           evbuffer_get_length(bufferevent_get_output(c->bev)) == 0;
}

/* How readily c makes room: a socket that never sent a byte first, then one that did (a
   client that was served is worth more than a silent socket), last one the layer above
   expects to trust soon (a peer halfway through its handshake). */
static int rank(const struct net_conn *c)
{
    return c->phase == NET_CONN_DETECT ? 0 : c->held ? 2 : 1;
}

/* The least recently active evictable connection of the lowest rank: of group g when g is
   set, else of the reserved or the regular slots (as reserved says). NULL when none. */
static struct net_conn *least_recent(const struct net_server *srv,
                                     const struct net_addr_group *g, bool reserved)
{
    struct net_conn *best = NULL;
    for (struct net_conn *c = srv->conns_tail; c; c = c->prev) {
        if (!evictable(c) || (g ? c->group != g : c->reserved != reserved))
            continue;
        if (!best || rank(c) < rank(best))
            best = c;
        if (rank(best) == 0)
            break;
    }
    return best;
}

void net_admit_decide(const struct net_server *srv, const struct net_addr_group *g,
                      struct net_admit *out)
{
    const struct net_limits *l = &srv->limits;
    *out = (struct net_admit){.verdict = NET_ADMIT_YES};
    if (srv->draining) {
        *out = (struct net_admit){NET_ADMIT_NO, NULL, "the server is stopping"};
        return;
    }
    if (l->connections_per_address_max > 0 && g->count >= l->connections_per_address_max) {
        /* The newcomer takes the slot (regular or reserved) its own address gives up. */
        out->evict = least_recent(srv, g, false);
        out->why = "the per-address limit (limits.max_connections_per_address)";
        out->verdict = !out->evict            ? NET_ADMIT_NO
                       : out->evict->reserved ? NET_ADMIT_RESERVED
                                              : NET_ADMIT_YES;
        return;
    }
    if (srv->conn_count - srv->reserved_count < l->connections_max)
        return;
    out->why = "the connection limit (limits.max_connections)";
    if ((out->evict = least_recent(srv, NULL, false)) != NULL)
        return;
    out->verdict = NET_ADMIT_RESERVED;
    if (srv->reserved_count < l->reserved_connections)
        return;
    if ((out->evict = least_recent(srv, NULL, true)) == NULL)
        out->verdict = NET_ADMIT_NO;
}
