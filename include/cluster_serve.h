/* cluster_serve.h: the server side of peer methods: handshake, auth gate, then the driver. */
#ifndef CLUSTER_SERVE_H
#define CLUSTER_SERVE_H

#include "cluster.h"
#include "cluster_auth.h"

/*
 * For a server that decoded a peer method's args (TransactionalKV_<m>_args) and allocated its
 * initialized result (TransactionalKV_<m>_result) from the generated table. done(ctx, 0) runs
 * exactly once, maybe before this returns, when result is ready to be written as the REPLY
 * (a success or a PeerError); done(ctx, err != 0) means there is no result to send
 * (peerChallenge failed, or the connection should be answered with an app exception).
 *
 * conn is the connection's auth state (NULL: trust the caller, as the in-memory bus does, and
 * take `from` as the sender). Peer RPCs on a connection that has not authenticated get
 * PeerError UNAUTHORIZED and change nothing.
 */
void cluster_serve_peer(struct cluster_node *n, const struct cluster_secret *secret,
                        struct cluster_peer_conn *conn, uint32_t from, int method,
                        const void *args, void *result, cluster_done_fn done, void *ctx);

#endif
