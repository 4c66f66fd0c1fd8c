/* cluster_serve.c: one peer call on the server side, from decoded args to a filled result. */
#include "cluster_serve.h"

#include "cluster_codec.h"
#include "cluster_internal.h"
#include "log.h"
#include "log_client.h"

#include <stdlib.h>

struct serve_call {
    int method;
    void *result;
    cluster_done_fn done;
    void *ctx;
};

static void serve_done(void *arg, int err)
{
    struct serve_call *c = arg;
    if (err == 0)
        cluster_codec_result_ok(c->method, c->result);
    else
        cluster_codec_result_error(c->method, c->result, cluster_err_to_error_code(err),
                                   cluster_strerror(err));
    c->done(c->ctx, 0);
    free(c);
}

static void refuse(int method, void *result, int err, cluster_done_fn done, void *ctx)
{
    cluster_codec_result_error(method, result, cluster_err_to_error_code(err),
                               cluster_strerror(err));
    done(ctx, 0);
}

static void handshake(const struct cluster_node *n, const struct cluster_secret *secret,
                      struct cluster_peer_conn *conn, int method, const void *request,
                      void *result, cluster_done_fn done, void *ctx)
{
    if (method == TransactionalKV_METHOD_peerChallenge) {
        int rc = cluster_auth_challenge(conn, cluster_codec_result_success(method, result));
        if (rc == 0)
            cluster_codec_result_ok(method, result);
        done(ctx, rc);
        return;
    }
    int rc = cluster_auth_verify(conn, secret, CONSENSUS_NONE, n->cfg.id, request);
    if (rc == 0 && !cluster_member_may_connect(n, conn->peer)) {
        log_client(LOG_CLIENT_AUTH, LOG_WARN, "cluster: node %u is not a member: refused",
                   conn->peer);
        conn->authenticated = false;
        rc = CLUSTER_ERR_UNAUTHORIZED;
    }
    if (rc != 0) {
        log_client(LOG_CLIENT_AUTH, LOG_WARN, "cluster: a peer failed to authenticate");
        refuse(method, result, rc, done, ctx);
        return;
    }
    PeerAuthResponse *resp = cluster_codec_result_success(method, result);
    resp->success = true;
    cluster_codec_result_ok(method, result);
    done(ctx, 0);
}

void cluster_serve_peer(struct cluster_node *n, const struct cluster_secret *secret,
                        struct cluster_peer_conn *conn, uint32_t from, int method,
                        const void *args, void *result, cluster_done_fn done, void *ctx)
{
    if (!cluster_codec_is_peer_method(method) || !cluster_codec_args_has_request(method, args)) {
        done(ctx, CLUSTER_ERR_INVALID);
        return;
    }
    const void *request = cluster_codec_args_request(method, args);
    if (method == TransactionalKV_METHOD_peerChallenge ||
        method == TransactionalKV_METHOD_peerAuthenticate) {
        if (!conn || !secret) {
            done(ctx, CLUSTER_ERR_INVALID);
            return;
        }
        handshake(n, secret, conn, method, request, result, done, ctx);
        return;
    }
    if (conn) {
        if (!conn->authenticated) {
            refuse(method, result, CLUSTER_ERR_UNAUTHORIZED, done, ctx);
            return;
        }
        from = conn->peer;
        if (cluster_transport_dropped_from(n->tp, from)) { /* fault injection: as if the call never arrived */
            refuse(method, result, CLUSTER_ERR_IGNORED, done, ctx);
            return;
        }
    }
    struct serve_call *c = malloc(sizeof *c);
    if (!c) {
        refuse(method, result, CLUSTER_ERR_NOMEM, done, ctx);
        return;
    }
    *c = (struct serve_call){method, result, done, ctx};
    int rc = cluster_node_handle(n, from, method, request,
                                 cluster_codec_result_success(method, result), serve_done, c);
    if (rc != 0) {
        free(c);
        refuse(method, result, rc, done, ctx);
    }
}

/* An encoded call being served: its decoded args and the result its reply is written from. */
struct wire_call {
    const tp_method *tm;
    int32_t seqid;
    void *args, *result;
    cluster_wire_done_fn done;
    void *ctx;
};

static void wire_call_free(struct wire_call *c)
{
    c->tm->args_free(c->args);
    c->tm->result_free(c->result);
    free(c->args);
    free(c->result);
    free(c);
}

static void wire_done(void *arg, int err)
{
    struct wire_call *c = arg;
    tp_buf out;
    tp_buf_init(&out);
    if (err == 0 && (tp_write_reply(&out, c->tm, c->seqid, c->result) != 0 || out.failed))
        err = CLUSTER_ERR_NOMEM;
    if (err == 0) {
        c->done(c->ctx, 0, out.data, out.len); /* the bytes are taken over */
    } else {
        tp_buf_free(&out);
        c->done(c->ctx, err, NULL, 0);
    }
    wire_call_free(c);
}

int cluster_serve_wire(struct cluster_node *n, uint32_t from, int method, const uint8_t *call,
                       size_t len, cluster_wire_done_fn done, void *ctx)
{
    tp_reader r;
    tp_reader_init(&r, call, len, NULL);
    tp_message m;
    const tp_method *tm = NULL;
    if (tp_read_message_begin(&r, &m) == 0)
        tm = TransactionalKV_method_find(m.name, m.name_len);
    if (!tm || tm->id != method)
        return CLUSTER_ERR_INVALID;
    struct wire_call *c = calloc(1, sizeof *c);
    if (!c)
        return CLUSTER_ERR_NOMEM;
    *c = (struct wire_call){tm, m.seqid, calloc(1, tm->args_size), calloc(1, tm->result_size),
                            done, ctx};
    if (!c->args || !c->result) {
        free(c->args);
        free(c->result);
        free(c);
        return CLUSTER_ERR_NOMEM;
    }
    tm->args_init(c->args);
    tm->result_init(c->result);
    if (tm->args_read(c->args, &r) != 0) {
        wire_call_free(c);
        return CLUSTER_ERR_INVALID;
    }
    cluster_serve_peer(n, NULL, NULL, from, tm->id, c->args, c->result, wire_done, c);
    return 0;
}
