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

/* What serving an encoded call came to: err 0 and the encoded REPLY (reply, len: the callee's
 * to free), or err != 0 and no reply (what cluster_serve_peer refused, or NOMEM). */
typedef void (*cluster_wire_done_fn)(void *ctx, int err, uint8_t *reply, size_t len);

/*
 * The wire round trip of the in-memory transports (cluster_bus, the driver simulator): call,
 * a whole Thrift message, is decoded as a server would (header, then method's args), served
 * on n from `from` with no connection state (cluster_serve_peer), and its result encoded as
 * the reply to the call's seqid. Returns 0 when serving began: done then runs exactly once,
 * maybe before this returns. Returns CLUSTER_ERR_INVALID when call does not decode as method,
 * CLUSTER_ERR_NOMEM when out of memory; done does not run then.
 */
int cluster_serve_wire(struct cluster_node *n, uint32_t from, int method, const uint8_t *call,
                       size_t len, cluster_wire_done_fn done, void *ctx);

#endif
