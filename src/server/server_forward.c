/* server_forward.c: encodes a forwarded write as its client call and decodes the reply. */
#include "server_forward.h"

#include "log.h"
#include "server_rep.h"

#include <string.h>

/* An entry this node encoded (trusted bytes) is its clock, then a KvCommand: one union field
   (type STRUCT, a 2-byte id), the command's struct, and the union's stop byte. The client
   call it came from has the same shape: its args struct holds field 1, the same request
   struct, then a stop byte. So the call is the method's message header, field 1's header and
   the entry's bytes after its own field header: no decode and no encode of the request. */
#define FORWARD_FIELD_HEADER_BYTES 3u

/* The client method whose request the entry holds (the forwarded ones), or NULL. */
static const tp_method *entry_method(const uint8_t *entry, size_t len)
{
    const size_t h = SERVER_ENTRY_HEADER_SIZE;
    if (len < h + FORWARD_FIELD_HEADER_BYTES + 1 || entry[h] != TP_T_STRUCT ||
        entry[len - 1] != TP_T_STOP)
        return NULL;
    switch (tp_get_u16_(entry + h + 1)) {
    case 1: return &TransactionalKV_methods[TransactionalKV_METHOD_setKey];
    case 2: return &TransactionalKV_methods[TransactionalKV_METHOD_deleteKey];
    case 4: return &TransactionalKV_methods[TransactionalKV_METHOD_atomicCommit];
    case 6: return &TransactionalKV_methods[TransactionalKV_METHOD_openSession];
    case 7: return &TransactionalKV_methods[TransactionalKV_METHOD_closeSession];
    default: return NULL; /* clear ranges and no-ops are never a client's call */
    }
}

int server_forward_encode(tp_buf *out, const uint8_t *entry, size_t len, int32_t seqid)
{
    const tp_method *m = entry_method(entry, len);
    if (!m)
        return -1;
    const uint8_t *rest = entry + SERVER_ENTRY_HEADER_SIZE + FORWARD_FIELD_HEADER_BYTES;
    size_t rest_len = len - SERVER_ENTRY_HEADER_SIZE - FORWARD_FIELD_HEADER_BYTES;
    tp_write_message_begin(out, m->name, (uint32_t)strlen(m->name), TP_CALL, seqid);
    tp_write_field_begin(out, TP_T_STRUCT, 1);
    if (tp_buf_reserve(out, rest_len)) {
        memcpy(out->data + out->len, rest, rest_len);
        out->len += rest_len;
    }
    return out->failed ? -1 : 0;
}

struct forward_enc {
    const uint8_t *entry;
    size_t len;
};

static int encode_call(void *ctx, tp_buf *out, int32_t seqid)
{
    const struct forward_enc *e = ctx;
    return server_forward_encode(out, e->entry, e->len, seqid);
}

int server_forward(struct server_node *n, uint32_t peer, uint32_t timeout_ms,
                   const uint8_t *entry, size_t len, cluster_forward_done_fn done, void *ctx)
{
    struct forward_enc e = {entry, len};
    return cluster_net_forward(n->rep->tp, peer, timeout_ms, encode_call, &e, done, ctx) == 0
               ? 0
               : -1;
}

/* The written-back fields of the write responses, whichever the call was. */
#define FORWARD_RECV(method, ver, extra)                                                    \
    do {                                                                                    \
        TransactionalKV_##method##_result out;                                              \
        TransactionalKV_##method##_result_init(&out);                                       \
        rc = TransactionalKV_##method##_recv(&r, seqid, &out, &ax);                         \
        if (rc == 0 && !out.has_success)                                                    \
            rc = -1;                                                                        \
        if (rc == 0) {                                                                      \
            const __typeof__(out.success) *s = &out.success;                                \
            res->code = s->success ? 0 : s->has_error_code ? (int)s->error_code             \
                                                           : ErrorCode_INTERNAL;            \
            res->version = (ver);                                                           \
            extra;                                                                          \
        }                                                                                   \
        TransactionalKV_##method##_result_free(&out);                                       \
    } while (0)

int server_forward_decode(const uint8_t *entry, size_t len, int32_t seqid, const uint8_t *msg,
                          size_t msg_len, struct server_apply_result *res)
{
    const tp_method *m = entry_method(entry, len);
    if (!m)
        return -1;
    *res = (struct server_apply_result){.code = ErrorCode_INTERNAL};
    tp_reader r;
    tp_reader_init(&r, msg, msg_len, NULL);
    tp_app_exception ax;
    tp_app_exception_init(&ax);
    int rc = -1;
    if (m->id == TransactionalKV_METHOD_setKey)
        FORWARD_RECV(setKey, s->has_version ? (uint64_t)s->version : 0, (void)0);
    else if (m->id == TransactionalKV_METHOD_deleteKey)
        FORWARD_RECV(deleteKey, s->has_version ? (uint64_t)s->version : 0,
                     res->found = s->has_found && s->found);
    else if (m->id == TransactionalKV_METHOD_atomicCommit)
        FORWARD_RECV(atomicCommit, s->has_committed_version ? (uint64_t)s->committed_version : 0,
                     (void)0);
    else if (m->id == TransactionalKV_METHOD_openSession)
        FORWARD_RECV(openSession, s->has_session_id ? (uint64_t)s->session_id : 0, (void)0);
    else if (m->id == TransactionalKV_METHOD_closeSession)
        FORWARD_RECV(closeSession, 0, res->found = s->has_found && s->found);
    if (rc != 0)
        log_warn("a forwarded write's reply does not decode: %s",
                 rc > 0 ? tp_strerror(rc) : "no result");
    tp_app_exception_free(&ax);
    return rc == 0 ? 0 : -1;
}
