/* server_rep.h: replicated mode: the node's cluster driver, routing of writes and reads. */
#ifndef SERVER_REP_H
#define SERVER_REP_H

#include "cluster.h"
#include "cluster_auth.h"
#include "cluster_transport.h"
#include "server_member.h"
#include "server_node.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

struct server_route;

/*
 * In replicated mode the cluster driver (src/cluster) is the only writer of the WAL; the
 * state machine is fed through its apply callback. A write becomes a route:
 *   WAITING    no leader known (or the last try was refused before any log had it): tried
 *              again on every routing tick and when the leader changes, until its deadline
 *              (consensus.request_timeout_ms), then UNAVAILABLE with the leader hint;
 *   PROPOSED   this node leads and cluster_propose has it: the reply waits for the apply;
 *   FORWARDED  a follower sent it to the leader over the authenticated peer link
 *              (cluster_net_forward) and relays the leader's reply, or answers TIMEOUT as
 *              soon as its own view of (term, leader) moves on (that leader stepped down,
 *              went silent for an election timeout, or this node leads now).
 * NOT_LEADER, UNAVAILABLE and BUSY are answered only for writes that no log ever held;
 * once proposed or sent, the answer is the outcome, LOST (as NOT_LEADER), or TIMEOUT: the
 * outcome is unknown, answered at once when the leader steps down or the follower's view
 * changes, not at the deadline. TIMEOUT, NOT_LEADER and UNAVAILABLE carry the leader hint
 * when a leader is known, so a client retries there at once.
 * A call that came from a peer (a forwarded write) is never forwarded again and never waits:
 * it is refused at once with NOT_LEADER when this node does not lead.
 * Linearizable reads are routes too: cluster_read_index, retried like writes.
 */
struct server_rep {
    struct server_node *node;
    struct cluster_node *cluster;
    struct cluster_transport *tp;
    struct cluster_secret secret;
    SSL_CTX *peer_tls;              /* peer_tls: our links' TLS (cluster CA, our cert) */
    struct server_route *routes;    /* every live route, answered or not, oldest first */
    struct server_route **routes_tail; /* the last one's next (&routes when none) */
    uint32_t route_count;
    struct server_route *spare_routes; /* finished routes kept for the next writes */
    uint32_t spare_route_count;
    struct event *route_tick_ev;    /* retries waiting routes, expires deadlines */
    struct net_turn_part route_wake; /* the leader changed: retry waiting routes this turn */
    uint32_t leader_seen;           /* the last leader known, and its term (metrics) */
    uint64_t leader_term_seen;
    enum consensus_role role_seen;  /* as of the last role change, and its term */
    uint64_t term_seen;
    bool quorum_lost;               /* deposed by check-quorum, no leader known since */
    bool removed;                   /* a committed membership left this node out */
    uint8_t recv_conf[CONSENSUS_MEMBERSHIP_BYTES_MAX]; /* the received snapshot's membership */
    uint32_t recv_conf_len;         /* as read from its end (server_member.c); 0: none */
};

/* Routes alive at once; past it new requests get BUSY before anything is proposed. */
#define SERVER_ROUTES_MAX 65536u
/* Finished routes kept for reuse (no malloc per write), and the entry size a route holds
   without an allocation of its own (a set of a small key and a 100-byte value fits). */
#define SERVER_ROUTE_SPARES_MAX 1024u
#define SERVER_ROUTE_ENTRY_INLINE_BYTES 256u
_Static_assert(SERVER_ROUTE_SPARES_MAX <= SERVER_ROUTES_MAX, "spares are former routes");

/* Opens the cluster over the node's store and WAL (both open, snapshot restored). 0 or -1. */
int server_rep_open(struct server_node *n);
/* Fails every waiter, frees the cluster and the transport (before the listener goes). */
void server_rep_close(struct server_node *n);

/* The leader's endpoint (a client's leader hint), or NULL when no leader is known. */
const char *server_rep_leader_hint(const struct server_node *n);

/* Write path in replicated mode: entry is the encoded log entry (copied), cmd the command it
   holds (for forwarding). from_peer: the call came over a peer link. */
void server_rep_propose(struct server_node *n, const uint8_t *entry, size_t len,
                        bool from_peer, server_commit_cb cb, void *ctx);

/* A linearizable read's gate: cb(ctx, 0, NULL) once this node applied everything committed
   before the call (serve locally then), or cb(ctx, code, hint) (UNAVAILABLE, ...). */
typedef void (*server_read_cb)(void *ctx, int code, const char *leader_hint);
void server_rep_read(struct server_node *n, server_read_cb cb, void *ctx);

/* Inbound peer method (server_peer.c). */
struct server_request;
void server_rep_serve_peer(struct server_request *req);


/* Routes (server_route.c). */
int server_route_start(struct server_node *n);
void server_route_stop(struct server_node *n);
void server_route_wake(struct server_node *n);
/* The cluster applied the entry route proposed (the ctx of its cluster_propose): res is what
   applying it did, the write's answer. */
void server_route_applied(struct server_route *route, const struct server_apply_result *res);
/* Frees the spare routes (at close, once no route is alive). */
void server_route_free_spares(struct server_node *n);

#endif
