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
    int rc = cluster_auth_verify(conn, secret, n->cfg.node_count, n->cfg.id, request);
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
        if (n->tp->drop_from[from]) { /* fault injection: as if the call never arrived */
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
