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
void server_handle_peer_challenge(struct server_request *req);
void server_handle_peer_refused(struct server_request *req);

#endif
