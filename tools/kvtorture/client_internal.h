/* client_internal.h: the call machinery client.c and client_txn.c share. */
#ifndef KVT_CLIENT_INTERNAL_H
#define KVT_CLIENT_INTERNAL_H

#include "kvtorture.h"

#include "kvstore.h"

enum call_status { CALL_OK, CALL_NOT_SENT, CALL_UNKNOWN };

/* Sends k->out and receives the reply into r. A failed connect means nothing was sent. */
enum call_status kvt_roundtrip(struct kvt_conn *k, tp_reader *r);
void kvt_key_bytes(uint32_t key, tp_bytes *out);
void kvt_value_bytes(int64_t v, tp_bytes *out);
/* Our value in b (KVT_NIL when not found; a never-written value when foreign bytes). */
int64_t kvt_parse_value(bool found, const tp_bytes *b);
/* The outcome of a change the server refused with code (hint remembered for NOT_LEADER). */
enum kvt_outcome kvt_write_error(struct kvt_conn *k, bool has_code, int code, bool has_hint,
                                 const tp_bytes *hint);
enum kvt_outcome kvt_transport_outcome(enum call_status st);
/* A linearizable read version from the connection's node; -1 when none. */
int64_t kvt_read_version(struct kvt_conn *k);
/* The key at read version rv on the connection's node; 0 with *value, or -1. */
int kvt_snapshot_read(struct kvt_conn *k, const tp_bytes *key, int64_t rv, int64_t *value);

#define KVT_CALL(st, k, method, req, result)                                             \
    do {                                                                                 \
        tp_buf_reset(&(k)->out);                                                         \
        int32_t seq_ = ++(k)->seqid;                                                     \
        TransactionalKV_##method##_send(&(k)->out, seq_, (req));                         \
        tp_reader r_;                                                                    \
        (st) = kvt_roundtrip((k), &r_);                                                      \
        if ((st) == CALL_OK) {                                                           \
            tp_app_exception ax_;                                                        \
            tp_app_exception_init(&ax_);                                                 \
            if (TransactionalKV_##method##_recv(&r_, seq_, (result), &ax_) != 0 ||       \
                !(result)->has_success) {                                                \
                kvt_conn_drop(k);                                                            \
                (st) = CALL_UNKNOWN;                                                     \
            }                                                                            \
            tp_app_exception_free(&ax_);                                                 \
        }                                                                                \
    } while (0)

#endif
