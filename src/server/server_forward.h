/* server_forward.h: a follower's write sent to the leader as the client call it came from. */
#ifndef SERVER_FORWARD_H
#define SERVER_FORWARD_H

#include "cluster_net.h"
#include "server_node.h"

#include <stddef.h>
#include <stdint.h>

/* Sends the command held in entry (a log entry: clock header + KvCommand) to peer as a
   setKey, deleteKey or atomicCommit call over the authenticated link; done as
   cluster_net_forward says. 0, or -1 when it could not even be queued (done never runs). */
int server_forward(struct server_node *n, uint32_t peer, uint32_t timeout_ms,
                   const uint8_t *entry, size_t len, cluster_forward_done_fn done, void *ctx);

/* The forwarded call for entry: one whole CALL message (setKey, deleteKey or atomicCommit,
   byte for byte what the generated _send writes for the request entry holds) appended to
   out. 0, or -1 when entry holds no client write or out failed. */
int server_forward_encode(tp_buf *out, const uint8_t *entry, size_t len, int32_t seqid);

/* Reads the leader's reply (msg, len) to the call made for entry into res (code, version,
   found). 0, or -1 when the reply does not decode (the outcome is then unknown). */
int server_forward_decode(const uint8_t *entry, size_t len, int32_t seqid, const uint8_t *msg,
                          size_t msg_len, struct server_apply_result *res);

#endif
