/* net_sync.h: net_pipe used one call at a time, blocking: kvctl's and kvtorture's client.
   Each net_sync runs its pipe on an event base of its own. */
#ifndef NET_SYNC_H
#define NET_SYNC_H

#include "net_pipe.h"

struct net_sync {
    struct event_base *base;
    struct event *deadline;
    struct net_pipe pipe;
    tp_buf reply;           /* the last reply */
    bool done, expired;
    bool sent;              /* the last call left: when it failed after, its outcome is unknown */
    int err;
};

/* Connects to HOST:PORT (over TLS with tls, a net_tls_client_ctx; NULL: plain) within
   timeout_ms. 0, or a NET_ERR_* code (NET_ERR_TLS: the reason in net_sync_tls_error).
   net_sync_close it either way. */
int net_sync_connect(struct net_sync *s, const char *endpoint, bool framed, SSL_CTX *tls,
                     uint32_t timeout_ms);
/* Sends msg, one whole CALL message with seqid (no frame header), and waits up to
   timeout_ms for the reply with that seqid: 0 with *reply (valid until the next call), or a
   NET_ERR_* code, after which the connection is closed (a late reply can never be taken for
   a later call's). A reply to a call never made is NET_ERR_FRAME. */
int net_sync_call(struct net_sync *s, const void *msg, size_t len, int32_t seqid,
                  uint32_t timeout_ms, const uint8_t **reply, size_t *reply_len);
bool net_sync_connected(const struct net_sync *s);
const char *net_sync_tls_error(const struct net_sync *s);
void net_sync_close(struct net_sync *s);

#endif
