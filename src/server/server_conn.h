/* server_conn.h: what the node keeps per client connection: a peer's authentication, and the
   order of its requests (a request is served after every earlier one has taken effect). */
#ifndef SERVER_CONN_H
#define SERVER_CONN_H

#include "cluster_auth.h"
#include "server_request.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * Per-connection order, as Redis gives it: a request is served only after every earlier
 * request on its connection has taken effect, so a get pipelined behind a set sees the set,
 * and a set pipelined behind a get is not seen by it. Writes behind writes go on at once,
 * pipelined as before (they enter the log in arrival order), and so do reads behind reads. A
 * read that arrives while a write of its connection is unanswered is parked (and then, on a
 * follower, waits until the write is applied here: the answer came from the leader); a write
 * that arrives while a read is unanswered (a linearizable read waiting for its read index, a
 * watch) is parked; and everything behind a parked request is parked too, until its turn.
 * Connections that only read, or only write, never park anything.
 */
struct server_conn {
    struct cluster_peer_conn peer;  /* a peer's authentication (server_peer.c) */
    bool peer_used;                 /* a peer method was called on it */
    struct server_node *node;       /* set with peer_used */
    bool closed;                    /* the connection is gone; parked requests still finish */
    bool draining;                  /* drain() is running (answers may come inside it) */
    uint32_t refs;                  /* the connection's, and one per request it holds */
    uint32_t writes, reads;         /* running, not answered yet */
    uint64_t write_version;         /* the newest version a write of it committed at */
    struct server_request *head, *tail;  /* parked, in arrival order (req->order_next) */
};

/* The connection's state, made on first use; NULL once closed or out of memory. */
struct server_conn *server_conn_get(struct net_reply *reply);
/* The state if the connection has one (no allocation). */
struct server_conn *server_conn_find(const struct net_reply *reply);

/* An authenticated peer's connection went (server_peer.c). */
void server_peer_conn_gone(struct server_conn *sc);

/* Runs the request's handler now, or later in its connection's order. */
void server_conn_dispatch(struct server_request *req);
/* A request it ran (req->order_conn set) is finished: call before its reply is sent (reads
   the answer's version). */
void server_conn_finished(struct server_request *req);
/* After its reply went (c: the request's order_conn): parked requests whose turn came run. */
void server_conn_release(struct server_conn *c);

#endif
