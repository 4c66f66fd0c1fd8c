/* cluster_net.h: the NetworkTransport: one authenticated TCP connection per peer, framed Thrift. */
#ifndef CLUSTER_NET_H
#define CLUSTER_NET_H

#include <stddef.h>
#include <stdint.h>

#include "thrift.h"

#include "cluster_auth.h"
#include "cluster_transport.h"

struct event_base;
typedef struct ssl_ctx_st SSL_CTX;

/*
 * Each peer gets one persistent outbound connection (a bufferevent). On connect it calls
 * peerChallenge then peerAuthenticate; only then do peer calls flow. Calls are pipelined
 * (framed CALL messages written at once, replies matched by seqid), each with a deadline;
 * calls made while the link is down wait in a bounded queue until it is up, or fail. A
 * broken link reconnects after a jittered exponential backoff. Peers never wait on each other.
 */
#define CLUSTER_NET_QUEUED_CALLS_MAX 1024u

struct cluster_net_config {
    uint32_t self;              /* this node's member id */
    uint32_t node_count;        /* peers to start with: ids 0..node_count-1 (not self) at */
    const char *endpoints[CONSENSUS_MEMBERS_MAX]; /* "HOST:PORT" (self's unused); more come
                                   and go with cluster_transport_peer_add / _remove */
    const struct cluster_secret *secret;
    uint32_t call_timeout_ms;   /* a reply later than this is a TIMEOUT */
    uint32_t backoff_min_ms;
    uint32_t backoff_max_ms;
    uint32_t frame_bytes_max;   /* replies longer than this break the link */
    uint64_t seed;              /* backoff jitter */
    SSL_CTX *tls;               /* mutual TLS to the peers (their CA, our certificate); NULL:
                                   plain TCP. The caller keeps it past the transport. */
};

/* Timeouts 1000 ms, backoff 50..2000 ms, 64 MiB frames; the rest is the caller's. */
void cluster_net_config_default(struct cluster_net_config *cfg);
/* NULL when out of memory or an endpoint is not HOST:PORT. Connects lazily (first call). */
struct cluster_transport *cluster_net_new(struct event_base *base,
                                          const struct cluster_net_config *cfg);

/*
 * Forwarding: a follower sends a client's call to the leader over the same authenticated
 * link, so the leader knows it came from a peer (and never forwards it again). enc(enc_ctx)
 * writes one whole CALL message with the seqid given, before this returns. done runs exactly once, never inside this call:
 * err 0 with the whole reply message (valid during the call only), UNREACHABLE or BUSY when
 * the call never left this node (the peer cannot have it), TIMEOUT when it may have arrived
 * (no reply in timeout_ms, or the link broke after sending), CLOSED when the transport is
 * freed first. Returns 0, or an error (INVALID: not a network transport; NOMEM) and done
 * never runs.
 */
typedef int (*cluster_forward_encode_fn)(void *ctx, tp_buf *out, int32_t seqid);
typedef void (*cluster_forward_done_fn)(void *ctx, int err, int32_t seqid, const uint8_t *msg,
                                        size_t len);
int cluster_net_forward(struct cluster_transport *t, uint32_t peer, uint32_t timeout_ms,
                        cluster_forward_encode_fn enc, void *enc_ctx,
                        cluster_forward_done_fn done, void *done_ctx);

#endif
