/* server_member.h: the cluster's membership on the server (server_member.c). */
#ifndef SERVER_MEMBER_H
#define SERVER_MEMBER_H

#include "consensus.h"

#include <stdbool.h>
#include <stdint.h>

struct server_node;

/* The membership in effect: the newest in the log (maybe not committed yet), which the core
   and the peer links use. NULL when standalone. A node waiting to be added has one with
   count 0. */
const struct consensus_membership *server_membership(const struct server_node *n);
/* A member's "HOST:PORT" (this node's too), NULL if the id is not a member and not one of the
   bootstrap ids 0..n-1 of deployment.replica_endpoints. */
const char *server_peer_endpoint(const struct server_node *n, uint32_t member_id);

/* The endpoint clients and peers reach this node at: its member endpoint when replicated,
   else listen. */
const char *server_self_endpoint(const struct server_node *n);

/* Whether this node takes writes and linearizable reads: not when it was removed from the
   membership (*code NOT_MEMBER) or waits to be added (UNAVAILABLE: no leader known yet). */
bool server_member_serving(const struct server_node *n, int *code);

/* The cluster's callbacks (server_rep.c sets them). */
/* A committed change: kept with the state, so every snapshot carries it. */
void server_member_applied(void *ctx, uint64_t index, const struct consensus_membership *m);
/* The membership a whole received snapshot holds, read from its tail; 0 or -1 (refused). */
int server_member_recv(void *ctx, void *recv, struct consensus_membership *out);
/* The installed snapshot holds the membership server_member_recv gave: 0, or -1 (logged). */
int server_member_installed_check(struct server_node *n);
/* At a start: the restored state's membership, or (none: a new cluster, or a snapshot older
   than snapshots with one) the bootstrap one with replica_endpoints' addresses. 0 or -1. */
int server_member_restored(struct server_node *n, struct consensus_membership *out);
/* A data dir bound to cluster have (0: not known) under a config that joins another
   (deployment.join.cluster_id): -1, logged (the node must not start); else 0. */
int server_member_cluster_check(const struct server_node *n, uint64_t have);

#endif
