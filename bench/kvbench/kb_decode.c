/* kb_decode.c: turns one reply of any call kvbench makes into a code, found flag and hint. */
#include "kvbench.h"
#include "kvstore.h"

#include <stdio.h>
#include <string.h>

static void outcome(struct kb_reply *r, bool success, bool has_code, int code, bool has_hint,
                    const tp_bytes *hint)
{
    r->code = success ? ErrorCode_OK : has_code ? code : ErrorCode_INTERNAL;
    if (r->code < 0 || r->code >= KB_CODE_ERRORCODES)
        r->code = KB_CODE_PROTOCOL;
    if (has_hint && hint->len > 0 && hint->len < sizeof r->hint) {
        memcpy(r->hint, hint->data, hint->len);
        r->hint[hint->len] = '\0';
    }
}

/* Decodes method's reply into res (a TransactionalKV_<method>_result), then runs body with
   x pointing at the response when there is one. */
#define KB_DECODE(method, rd, seqid, r, body)                                      \
    do {                                                                           \
        TransactionalKV_##method##_result res_;                                    \
        TransactionalKV_##method##_result_init(&res_);                             \
        tp_app_exception ax_;                                                      \
        tp_app_exception_init(&ax_);                                               \
        if (TransactionalKV_##method##_recv((rd), (seqid), &res_, &ax_) != 0 ||    \
            !res_.has_success) {                                                   \
            (r)->code = KB_CODE_PROTOCOL;                                          \
        } else {                                                                   \
            __typeof__(res_.success) *x = &res_.success;                           \
            body;                                                                  \
        }                                                                          \
        tp_app_exception_free(&ax_);                                               \
        TransactionalKV_##method##_result_free(&res_);                             \
    } while (0)

#define KB_COMMON(x, r) \
    outcome((r), (x)->success, (x)->has_error_code, (int)(x)->error_code, (x)->has_leader_hint, \
            &(x)->leader_hint)

void kb_wire_decode(enum kb_call call, int32_t seqid, const uint8_t *msg, size_t len,
                    struct kb_reply *r)
{
    memset(r, 0, sizeof *r);
    tp_reader rd;
    tp_reader_init(&rd, msg, len, NULL);
    switch (call) {
    case KB_CALL_PING:
        KB_DECODE(ping, &rd, seqid, r, (void)x; r->code = ErrorCode_OK);
        break;
    case KB_CALL_GET:
        KB_DECODE(get, &rd, seqid, r, KB_COMMON(x, r); r->found = x->found);
        break;
    case KB_CALL_SET:
        KB_DECODE(setKey, &rd, seqid, r, KB_COMMON(x, r); r->found = true);
        break;
    case KB_CALL_RANGE:
        KB_DECODE(getRange, &rd, seqid, r, KB_COMMON(x, r);
                  r->found = x->key_values.count > 0);
        break;
    case KB_CALL_GRV:
        KB_DECODE(getReadVersion, &rd, seqid, r, KB_COMMON(x, r); r->version = x->version;
                  r->found = true);
        break;
    case KB_CALL_SREAD:
        KB_DECODE(snapshotRead, &rd, seqid, r, KB_COMMON(x, r); r->found = x->found);
        break;
    case KB_CALL_COMMIT:
        KB_DECODE(atomicCommit, &rd, seqid, r, KB_COMMON(x, r); r->found = true);
        break;
    default:
        r->code = KB_CODE_PROTOCOL;
    }
}
