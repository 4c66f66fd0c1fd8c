/* cluster_codec.c: a table of the peer methods, so one code path handles all of them. */
#include "cluster_codec.h"

#include <assert.h>
#include <stddef.h>
#include <stdlib.h>

#define CODEC_PEER_METHODS(X)                         \
    X(peerChallenge, PeerChallengeRequest, false)     \
    X(peerAuthenticate, PeerAuthRequest, true)        \
    X(appendEntry, AppendEntryRequest, true)          \
    X(commitNotification, CommitNotificationRequest, true) \
    X(requestVote, RequestVoteRequest, true)          \
    X(installSnapshot, InstallSnapshotRequest, true)  \
    X(readIndex, ReadIndexRequest, true)              \
    X(timeoutNow, TimeoutNowRequest, true)

struct codec_method {
    bool peer;
    bool has_error;
    size_t request_off, has_request_off;
    size_t success_off, has_success_off;
    size_t error_off, has_error_off;
    int (*send)(tp_buf *b, int32_t seqid, const void *request);
    int (*recv)(tp_reader *r, int32_t seqid, void *result, tp_app_exception *e);
};

#define CODEC_WRAP(m, Req, err)                                                              \
    static int m##_send(tp_buf *b, int32_t s, const void *r)                                 \
    {                                                                                        \
        return TransactionalKV_##m##_send(b, s, r);                                          \
    }                                                                                        \
    static int m##_recv(tp_reader *in, int32_t s, void *res, tp_app_exception *e)            \
    {                                                                                        \
        return TransactionalKV_##m##_recv(in, s, res, e);                                    \
    }
CODEC_PEER_METHODS(CODEC_WRAP)

/* Only methods declaring PeerError have error fields. */
#define CODEC_ENTRY_true(m) \
    .error_off = offsetof(TransactionalKV_##m##_result, error), \
    .has_error_off = offsetof(TransactionalKV_##m##_result, has_error),
#define CODEC_ENTRY_false(m)

#define CODEC_ENTRY(m, Req, err)                                                     \
    [TransactionalKV_METHOD_##m] = {                                                 \
        .peer = true,                                                                \
        .has_error = err,                                                            \
        .request_off = offsetof(TransactionalKV_##m##_args, request),                \
        .has_request_off = offsetof(TransactionalKV_##m##_args, has_request),        \
        .success_off = offsetof(TransactionalKV_##m##_result, success),              \
        .has_success_off = offsetof(TransactionalKV_##m##_result, has_success),      \
        CODEC_ENTRY_##err(m)                                                         \
        .send = m##_send,                                                            \
        .recv = m##_recv,                                                            \
    },

static const struct codec_method methods[TransactionalKV_METHOD_COUNT] = {
    CODEC_PEER_METHODS(CODEC_ENTRY)
};

bool cluster_codec_is_peer_method(int method)
{
    return method >= 0 && method < TransactionalKV_METHOD_COUNT && methods[method].peer;
}

int cluster_codec_call(tp_buf *out, int method, int32_t seqid, const void *request)
{
    if (!cluster_codec_is_peer_method(method))
        return CLUSTER_ERR_INVALID;
    int rc = methods[method].send(out, seqid, request);
    return rc == 0 && !out->failed ? 0 : CLUSTER_ERR_NOMEM;
}

static int peer_error_err(const PeerError *e)
{
    return e->code == ErrorCode_UNAUTHORIZED ? CLUSTER_ERR_UNAUTHORIZED : CLUSTER_ERR_IGNORED;
}

int cluster_codec_reply_read(int method, int32_t seqid, const uint8_t *msg, size_t len,
                             const tp_limits *limits, struct cluster_codec_reply *out)
{
    assert(cluster_codec_is_peer_method(method));
    const tp_method *tm = &TransactionalKV_methods[method];
    const struct codec_method *cm = &methods[method];
    out->method = method;
    out->response = NULL;
    out->result = calloc(1, tm->result_size);
    if (!out->result)
        return CLUSTER_ERR_NOMEM;
    tm->result_init(out->result);
    tp_reader r;
    tp_reader_init(&r, msg, len, limits);
    tp_app_exception appex;
    tp_app_exception_init(&appex);
    int rc = cm->recv(&r, seqid, out->result, &appex);
    tp_app_exception_free(&appex);
    char *base = out->result;
    if (rc != 0)
        out->err = CLUSTER_ERR_INVALID;
    else if (*(bool *)(base + cm->has_success_off))
        out->err = 0, out->response = base + cm->success_off;
    else if (cm->has_error && *(bool *)(base + cm->has_error_off))
        out->err = peer_error_err((const PeerError *)(base + cm->error_off));
    else
        out->err = CLUSTER_ERR_INVALID;
    return 0;
}

void cluster_codec_reply_free(struct cluster_codec_reply *r)
{
    if (!r->result)
        return;
    TransactionalKV_methods[r->method].result_free(r->result);
    free(r->result);
    r->result = NULL;
    r->response = NULL;
}

const void *cluster_codec_args_request(int method, const void *args)
{
    assert(cluster_codec_is_peer_method(method));
    return (const char *)args + methods[method].request_off;
}

bool cluster_codec_args_has_request(int method, const void *args)
{
    assert(cluster_codec_is_peer_method(method));
    return *(const bool *)((const char *)args + methods[method].has_request_off);
}

void *cluster_codec_result_success(int method, void *result)
{
    assert(cluster_codec_is_peer_method(method));
    return (char *)result + methods[method].success_off;
}

void cluster_codec_result_ok(int method, void *result)
{
    assert(cluster_codec_is_peer_method(method));
    *(bool *)((char *)result + methods[method].has_success_off) = true;
}

void cluster_codec_result_error(int method, void *result, int code, const char *text)
{
    assert(cluster_codec_is_peer_method(method));
    const struct codec_method *cm = &methods[method];
    char *base = result;
    *(bool *)(base + cm->has_success_off) = false;
    if (!cm->has_error)
        return; /* peerChallenge declares no exception: the caller sends an app exception */
    PeerError *e = (PeerError *)(base + cm->error_off);
    *(bool *)(base + cm->has_error_off) = true;
    e->code = (ErrorCode)code;
    tp_bytes_set_str(&e->message, text);
}
