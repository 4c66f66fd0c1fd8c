/* server_vwait.h: reads at a version not applied yet wait for it (bounded), then fail. */
#ifndef SERVER_VWAIT_H
#define SERVER_VWAIT_H

#include "server_node.h"

#include <stdint.h>

struct server_request;

/* Reads waiting at once; past it a read at a future version fails FUTURE_VERSION at once. */
#define SERVER_VWAITS_MAX 16384u

/* Runs once the version is applied (code 0: serve it now), or with FUTURE_VERSION after
   consensus.request_timeout_ms, or SHUTTING_DOWN when the node stops first. */
typedef void (*server_vwait_fn)(struct server_request *req, int code);

int server_vwait_open(struct server_node *n);
/* Answers every waiting read SHUTTING_DOWN (a graceful stop does not wait for them). */
void server_vwait_stop(struct server_node *n);
void server_vwait_close(struct server_node *n);

/* next(req, 0) at once when version is applied already; else later, as above. */
void server_vwait(struct server_request *req, uint64_t version, server_vwait_fn next);
/* The applied version moved (an apply, a snapshot installed): waiting reads it reached are
   served in their own event, not inside the apply. */
void server_vwait_applied(struct server_node *n);

#endif
