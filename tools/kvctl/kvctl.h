/* kvctl.h: what the kvctl command-line client's files share. */
#ifndef KVCTL_H
#define KVCTL_H

#include "kvctl_retry.h"
#include "kvstore.h"
#include "net_sync.h"
#include "net_tls.h"
#include "thrift.h"

#include <stdbool.h>
#include <stdio.h>

enum kvctl_exit { KVCTL_OK = 0, KVCTL_NOT_FOUND = 1, KVCTL_USAGE = 2, KVCTL_SERVER = 3 };

#define KVCTL_TIMEOUT_MS 10000
#define KVCTL_LINE_MAX 65536

struct kvctl {
    const char *endpoints;    /* HOST:PORT[,HOST:PORT...] as given */
    struct kvctl_endpoints eps;   /* parsed; a leader hint moves (or adds) the current one */
    bool hex;                 /* keys and values in and out as hex */
    bool json;
    bool framed;
    bool serializable;        /* reads from the node asked (may be stale), not via read index */
    bool has_limit, reverse;  /* range's --limit N and --reverse */
    int32_t limit;
    bool prefix, has_from;    /* watch's --prefix, --from VERSION and --count N (0: no end) */
    int64_t from, count_max;
    SSL_CTX *tls;             /* --tls, --cacert, --cert, --key: every connection is TLS */
    struct net_sync client;
    bool connected;
    bool sent;                /* the last round trip's request left (the server may have it) */
    bool lost;                /* the last round trip's connection failed after connecting */
    int32_t seqid;
    uint64_t attempt_start_ms; /* monotonic: when the last round trip began */
    tp_buf out;
};

/* Connects to the current endpoint, else the next ones that answer; KVCTL_OK or KVCTL_SERVER
   (message printed). */
int kvctl_connect(struct kvctl *k);
/* Sends the encoded call in k->out and points r at the reply; KVCTL_SERVER on failure. */
int kvctl_roundtrip(struct kvctl *k, tp_reader *r);
/* Drops the connection (the next call connects to the current endpoint again). */
void kvctl_disconnect(struct kvctl *k);
/* Drops the connection and makes the next endpoint current (the node asked is going away). */
void kvctl_move_on(struct kvctl *k);
/* Prints the one-line error for a failed call and returns KVCTL_SERVER. */
int kvctl_call_failed(const char *method, int rc, const tp_app_exception *ax);

/* Parses a key or value argument (text, or hex with --hex); KVCTL_USAGE when bad hex. */
int kvctl_parse_bytes(const struct kvctl *k, const char *text, tp_bytes *out);
/* Prints bytes as text (escaped when not printable), hex, or a JSON string. */
void kvctl_print_bytes(const struct kvctl *k, FILE *f, const tp_bytes *b);
/* A server response's error, printed as one line; returns KVCTL_SERVER. */
int kvctl_server_error(const char *what, bool has_error, const tp_bytes *error,
                       bool has_code, int code);

int kvctl_txn(struct kvctl *k, FILE *in);

/* A client session for one write (kvctl_session.c): sequence 1 of a new session, so every
   retry of the write is answered from the cluster's session table, never applied twice.
   KVCTL_OK with ref filled, or KVCTL_SERVER (message printed). */
int kvctl_session_open(struct kvctl *k, SessionRef *ref);
/* Closes it after the write was answered (one try; a session left open expires). */
void kvctl_session_close(struct kvctl *k, const SessionRef *ref);

/* After one call (rc from KVCTL_CALL; code the answer's ErrorCode, hint its leader_hint or
   NULL): true when the call should be made again; the connection is moved and the backoff
   slept here. Not-leader answers are followed, UNAVAILABLE/BUSY (and, for idempotent calls,
   TIMEOUT or a lost reply) are retried within KVCTL_RETRY_BUDGET_MS. */
bool kvctl_again(struct kvctl *k, struct kvctl_retry *r, int rc, int code, const tp_bytes *hint);

/* One blocking call: encode with method_send, round-trip, decode with method_recv; the
   outcome (KVCTL_OK or KVCTL_SERVER, message printed) lands in rc. */
#define KVCTL_CALL(rc, k, method, req, result)                                           \
    do {                                                                                 \
        (rc) = KVCTL_OK;                                                                 \
        tp_buf_reset(&(k)->out);                                                         \
        int32_t seq_ = ++(k)->seqid;                                                     \
        if (TransactionalKV_##method##_send(&(k)->out, seq_, (req)) != 0)                \
            (rc) = kvctl_call_failed(#method, TP_ERR_NOMEM, NULL);                       \
        tp_reader r_;                                                                    \
        if ((rc) == KVCTL_OK)                                                            \
            (rc) = kvctl_roundtrip((k), &r_);                                            \
        if ((rc) == KVCTL_OK) {                                                          \
            tp_app_exception ax_;                                                        \
            tp_app_exception_init(&ax_);                                                 \
            int e_ = TransactionalKV_##method##_recv(&r_, seq_, (result), &ax_);         \
            if (e_ != 0)                                                                 \
                (rc) = kvctl_call_failed(#method, e_, &ax_);                             \
            tp_app_exception_free(&ax_);                                                 \
        }                                                                                \
    } while (0)

/* KVCTL_CALL, retried as kvctl_again says; the response (result->success) must have the
   success, error_code and leader_hint fields. */
#define KVCTL_CALL_RETRY(rc, k, method, req, result, idempotent)                         \
    do {                                                                                 \
        struct kvctl_retry rt_;                                                          \
        kvctl_retry_init(&rt_, (idempotent));                                            \
        for (;;) {                                                                       \
            KVCTL_CALL(rc, k, method, req, result);                                      \
            bool answered_ = (rc) == KVCTL_OK && (result)->has_success;                  \
            int code_ = answered_ && !(result)->success.success &&                       \
                                (result)->success.has_error_code                         \
                            ? (int)(result)->success.error_code                          \
                            : 0;                                                         \
            const tp_bytes *hint_ = answered_ && (result)->success.has_leader_hint       \
                                        ? &(result)->success.leader_hint                 \
                                        : NULL;                                          \
            if (!kvctl_again((k), &rt_, (rc), code_, hint_))                             \
                break;                                                                   \
            TransactionalKV_##method##_result_free(result);                              \
            TransactionalKV_##method##_result_init(result);                              \
        }                                                                                \
    } while (0)

#endif
