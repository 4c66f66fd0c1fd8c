/* server_handle_write.c: writes become KvCommands on the write path; the answer waits for it. */
#include "server_handlers.h"

static void set_done(void *ctx, const struct server_apply_result *r)
{
    struct server_request *req = ctx;
    TransactionalKV_setKey_result *res = req->result;
    res->has_success = true;
    res->success.success = r->code == 0;
    if (r->code == 0) {
        res->success.has_version = true;
        res->success.version = (int64_t)r->version;
    } else {
        SERVER_SET_ERROR(&res->success, r->code);
        SERVER_SET_HINT(&res->success, r->leader_hint);
    }
    server_request_done(req);
}

void server_handle_set_key(struct server_request *req)
{
    TransactionalKV_setKey_args *a = req->args;
    struct server_apply_result bad = {.code = ErrorCode_INVALID_ARGUMENT};
    if (!a->has_request) {
        set_done(req, &bad);
        return;
    }
    KvCommand cmd;
    KvCommand_init(&cmd);
    cmd.has_set_key = true;
    cmd.set_key = a->request;   /* borrowed: cmd is only encoded, never freed */
    server_propose(req->node, &cmd, req->from_peer, set_done, req);
}

static void delete_done(void *ctx, const struct server_apply_result *r)
{
    struct server_request *req = ctx;
    TransactionalKV_deleteKey_result *res = req->result;
    res->has_success = true;
    res->success.success = r->code == 0;
    if (r->code == 0) {
        res->success.has_version = true;
        res->success.version = (int64_t)r->version;
        res->success.has_found = true;
        res->success.found = r->found;
    } else {
        SERVER_SET_ERROR(&res->success, r->code);
        SERVER_SET_HINT(&res->success, r->leader_hint);
    }
    server_request_done(req);
}

void server_handle_delete_key(struct server_request *req)
{
    TransactionalKV_deleteKey_args *a = req->args;
    struct server_apply_result bad = {.code = ErrorCode_INVALID_ARGUMENT};
    if (!a->has_request) {
        delete_done(req, &bad);
        return;
    }
    KvCommand cmd;
    KvCommand_init(&cmd);
    cmd.has_delete_key = true;
    cmd.delete_key = a->request;
    server_propose(req->node, &cmd, req->from_peer, delete_done, req);
}

static void commit_done(void *ctx, const struct server_apply_result *r)
{
    struct server_request *req = ctx;
    TransactionalKV_atomicCommit_result *res = req->result;
    res->has_success = true;
    res->success.success = r->code == 0;
    if (r->code == 0) {
        res->success.has_committed_version = true;
        res->success.committed_version = (int64_t)r->version;
    } else {
        SERVER_SET_ERROR(&res->success, r->code);
        SERVER_SET_HINT(&res->success, r->leader_hint);
    }
    server_request_done(req);
}

void server_handle_atomic_commit(struct server_request *req)
{
    TransactionalKV_atomicCommit_args *a = req->args;
    struct server_apply_result r = {.code = ErrorCode_INVALID_ARGUMENT};
    if (!a->has_request || a->request.read_version < 0) {
        commit_done(req, &r);
        return;
    }
    /* Fail fast on a stale version; the apply step checks again, deterministically. A
       replica's own store may lag the leader's: only a standalone node can tell here. */
    r.code = req->node->rep ? 0
                            : kv_store_check_read_version(server_store(req->node),
                                                          (uint64_t)a->request.read_version);
    if (r.code) {
        commit_done(req, &r);
        return;
    }
    KvCommand cmd;
    KvCommand_init(&cmd);
    cmd.has_atomic_commit = true;
    cmd.atomic_commit = a->request;
    server_propose(req->node, &cmd, req->from_peer, commit_done, req);
}
