/* server_health.h: is this node healthy, and ready for traffic? One answer for HTTP /health
   and /ready, getNodeInfo (kvctl health) and the dashboard. */
#ifndef SERVER_HEALTH_H
#define SERVER_HEALTH_H

#include "server_node.h"

#include <stdbool.h>
#include <stdint.h>

#define SERVER_HEALTH_REASON_MAX 160u

/*
 * healthy (etcd's /health): a leader is known, the node has not failed (storage), and its
 * applied index is within http.health_max_apply_lag entries of its commit index.
 * ready (a load balancer's or an orchestrator's readiness): healthy, not stopping, and (a
 * follower) the leader heard from within the election timeout, so writes it forwards and
 * linearizable reads it serves can go through now.
 * A standalone node is its own leader: healthy unless failed, ready unless stopping too.
 */
struct server_health {
    bool healthy, ready, failed;
    char reason[SERVER_HEALTH_REASON_MAX];       /* why not healthy; "" when healthy */
    char ready_reason[SERVER_HEALTH_REASON_MAX]; /* why not ready; "" when ready */
    uint32_t leader;                             /* CONSENSUS_NONE when unknown */
    uint64_t term, commit_index, applied_index;
};

void server_health_get(const struct server_node *n, struct server_health *out);

/* Why the node refuses everything (its storage failed), or NULL. The one place that asks,
   so a richer failed state (issue 13) plugs in here. */
const char *server_failed_reason(const struct server_node *n);

#endif
