/* server_handlers.h: every TransactionalKV handler; the table in server_handlers.c. */
#ifndef SERVER_HANDLERS_H
#define SERVER_HANDLERS_H

#include "server_request.h"

void server_handle_ping(struct server_request *req);
void server_handle_get(struct server_request *req);
void server_handle_set_key(struct server_request *req);
void server_handle_delete_key(struct server_request *req);
void server_handle_get_range(struct server_request *req);
void server_handle_get_read_version(struct server_request *req);
void server_handle_snapshot_read(struct server_request *req);
void server_handle_snapshot_get_range(struct server_request *req);
void server_handle_atomic_commit(struct server_request *req);
void server_handle_get_committed_version(struct server_request *req);
void server_handle_get_cluster_health(struct server_request *req);
void server_handle_get_node_info(struct server_request *req);
void server_handle_open_session(struct server_request *req);
void server_handle_close_session(struct server_request *req);
void server_handle_peer_challenge(struct server_request *req);
void server_handle_peer_refused(struct server_request *req);
void server_handle_transfer_leader(struct server_request *req);
void server_handle_list_members(struct server_request *req);
void server_handle_change_member(struct server_request *req);

/* The node's member id in decimal: node_id and leader_id in every answer (the IDL says so). */
#define SERVER_MEMBER_ID_MAX 16
void server_member_id(const struct server_node *n, char out[SERVER_MEMBER_ID_MAX]);
/* This node as an entry of a cluster status: its own view, the digest of its state; the
   entry says it is reported_by that node id. 0 or an ErrorCode. */
int server_fill_status(const struct server_node *n, NodeStatus *st, const char *reported_by);
/* getClusterHealth answered with this node's own view (server_health.c asks the leader). */
void server_health_local(struct server_request *req);

#endif
