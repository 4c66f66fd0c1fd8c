/* server_forward.c: encodes a forwarded write as its client call and decodes the reply. */
#include "server_forward.h"

#include "log.h"
#include "server_rep.h"

#include <string.h>

/* The command inside an entry this node encoded itself (trusted bytes). */
static int entry_command(const uint8_t *entry, size_t len, KvCommand *cmd)
{
    KvCommand_init(cmd);
    if (len <= SERVER_ENTRY_HEADER_SIZE)
        return -1;
    tp_reader r;
    tp_reader_init(&r, entry + SERVER_ENTRY_HEADER_SIZE, len - SERVER_ENTRY_HEADER_SIZE, NULL);
    if (KvCommand_read(cmd, &r) != 0) {
        KvCommand_free(cmd);
        return -1;
    }
    return 0;
}

struct forward_enc {
    const uint8_t *entry;
    size_t len;
};

static int encode_call(void *ctx, tp_buf *out, int32_t seqid)
{
    const struct forward_enc *e = ctx;
    KvCommand cmd;
    if (entry_command(e->entry, e->len, &cmd) != 0)
        return -1;
    int rc = -1;
    if (cmd.has_set_key)
        rc = TransactionalKV_setKey_send(out, seqid, &cmd.set_key);
    else if (cmd.has_delete_key)
        rc = TransactionalKV_deleteKey_send(out, seqid, &cmd.delete_key);
    else if (cmd.has_atomic_commit)
        rc = TransactionalKV_atomicCommit_send(out, seqid, &cmd.atomic_commit);
    KvCommand_free(&cmd);
    return rc;
}

int server_forward(struct server_node *n, uint32_t peer, uint32_t timeout_ms,
                   const uint8_t *entry, size_t len, cluster_forward_done_fn done, void *ctx)
{
    struct forward_enc e = {entry, len};
    return cluster_net_forward(n->rep->tp, peer, timeout_ms, encode_call, &e, done, ctx) == 0
               ? 0
               : -1;
}

/* The written-back fields of the three write responses, whichever the call was. */
#define FORWARD_RECV(method, field, extra)                                                  \
    do {                                                                                    \
        TransactionalKV_##method##_result out;                                              \
        TransactionalKV_##method##_result_init(&out);                                       \
        rc = TransactionalKV_##method##_recv(&r, seqid, &out, &ax);                         \
        if (rc == 0 && !out.has_success)                                                    \
            rc = -1;                                                                        \
        if (rc == 0) {                                                                      \
            const __typeof__(out.success) *s = &out.success;                                    \
            res->code = s->success ? 0 : s->has_error_code ? (int)s->error_code             \
                                                           : ErrorCode_INTERNAL;            \
            res->version = s->has_##field ? (uint64_t)s->field : 0;                         \
            extra;                                                                          \
        }                                                                                   \
        TransactionalKV_##method##_result_free(&out);                                       \
    } while (0)

int server_forward_decode(const uint8_t *entry, size_t len, int32_t seqid, const uint8_t *msg,
                          size_t msg_len, struct server_apply_result *res)
{
    KvCommand cmd;
    if (entry_command(entry, len, &cmd) != 0)
        return -1;
    *res = (struct server_apply_result){.code = ErrorCode_INTERNAL};
    tp_reader r;
    tp_reader_init(&r, msg, msg_len, NULL);
    tp_app_exception ax;
    tp_app_exception_init(&ax);
    int rc = -1;
    if (cmd.has_set_key)
        FORWARD_RECV(setKey, version, (void)0);
    else if (cmd.has_delete_key)
        FORWARD_RECV(deleteKey, version, res->found = s->has_found && s->found);
    else if (cmd.has_atomic_commit)
        FORWARD_RECV(atomicCommit, committed_version, (void)0);
    if (rc != 0)
        log_warn("a forwarded write's reply does not decode: %s",
                 rc > 0 ? tp_strerror(rc) : "no result");
    tp_app_exception_free(&ax);
    KvCommand_free(&cmd);
    return rc == 0 ? 0 : -1;
}
