/* server_handle_session.c: openSession and closeSession, replicated commands like writes. */
#include "server_handlers.h"

#include "kv_session.h"

static void open_done(void *ctx, const struct server_apply_result *r)
{
    struct server_request *req = ctx;
    TransactionalKV_openSession_result *res = req->result;
    TransactionalKV_openSession_args *a = req->args;
    res->has_success = true;
    res->success.success = r->code == 0;
    if (r->code == 0) {
        res->success.has_session_id = true;
        res->success.session_id = (int64_t)r->version;
        res->success.has_timeout_ms = true;
        res->success.timeout_ms = a->request.timeout_ms;
    } else {
        SERVER_SET_ERROR(&res->success, r->code);
        SERVER_SET_HINT(&res->success, r->leader_hint);
    }
    server_request_done(req);
}

/* The timeout the log gets: the node's default for 0, else clamped to what it allows. */
static int32_t session_timeout_ms(const struct server_config *cfg, int32_t asked)
{
    const int64_t least = KV_SESSION_TIMEOUT_US_MIN / 1000;
    int64_t ms = asked > 0 ? asked : (int64_t)cfg->session_timeout_ms;
    ms = ms > (int64_t)cfg->session_timeout_ms_max ? (int64_t)cfg->session_timeout_ms_max : ms;
    return (int32_t)(ms < least ? least : ms);
}

void server_handle_open_session(struct server_request *req)
{
    TransactionalKV_openSession_args *a = req->args;
    if (!a->has_request || a->request.timeout_ms < 0) {
        open_done(req, &(struct server_apply_result){.code = ErrorCode_INVALID_ARGUMENT});
        return;
    }
    a->request.has_timeout_ms = true;
    a->request.timeout_ms = session_timeout_ms(req->node->cfg, a->request.timeout_ms);
    KvCommand cmd;
    KvCommand_init(&cmd);
    cmd.has_open_session = true;
    cmd.open_session = a->request;
    server_propose(req->node, &cmd, req->from_peer, open_done, req);
}

static void close_done(void *ctx, const struct server_apply_result *r)
{
    struct server_request *req = ctx;
    TransactionalKV_closeSession_result *res = req->result;
    res->has_success = true;
    res->success.success = r->code == 0;
    if (r->code == 0) {
        res->success.has_found = true;
        res->success.found = r->found;
    } else {
        SERVER_SET_ERROR(&res->success, r->code);
        SERVER_SET_HINT(&res->success, r->leader_hint);
    }
    server_request_done(req);
}

void server_handle_close_session(struct server_request *req)
{
    TransactionalKV_closeSession_args *a = req->args;
    if (!a->has_request || a->request.session_id <= 0) {
        close_done(req, &(struct server_apply_result){.code = ErrorCode_INVALID_ARGUMENT});
        return;
    }
    KvCommand cmd;
    KvCommand_init(&cmd);
    cmd.has_close_session = true;
    cmd.close_session = a->request;
    server_propose(req->node, &cmd, req->from_peer, close_done, req);
}
