/* cluster_codec.h: peer calls as whole Thrift messages, and the peer methods' arg/result shapes. */
#ifndef CLUSTER_CODEC_H
#define CLUSTER_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "kvstore.h"

/* Writes a whole CALL message for a peer method's Request. 0 or CLUSTER_ERR_INVALID/NOMEM. */
int cluster_codec_call(tp_buf *out, int method, int32_t seqid, const void *request);

/* A decoded reply: its result struct (TransactionalKV_<m>_result) and what it says. */
struct cluster_codec_reply {
    void *result;          /* malloc'd result struct; cluster_codec_reply_free */
    const void *response;  /* the Response inside it on success, else NULL */
    int err;               /* 0, UNAUTHORIZED, IGNORED (PeerError) or INVALID (bad reply) */
    int method;
};
/* Reads one whole reply message for (method, seqid). Returns 0 (look at out->err) or NOMEM. */
int cluster_codec_reply_read(int method, int32_t seqid, const uint8_t *msg, size_t len,
                             const tp_limits *limits, struct cluster_codec_reply *out);
void cluster_codec_reply_free(struct cluster_codec_reply *r);

/* For a server holding a peer method's args and result structs (the generated table's): */
bool cluster_codec_is_peer_method(int method);
const void *cluster_codec_args_request(int method, const void *args);
bool cluster_codec_args_has_request(int method, const void *args);
void *cluster_codec_result_success(int method, void *result);
/* Marks the result as a success, or as a PeerError (code is an IDL ErrorCode). */
void cluster_codec_result_ok(int method, void *result);
void cluster_codec_result_error(int method, void *result, int code, const char *text);

#endif
