/* server_request.h: one call in flight: what handlers get instead of a socket. */
#ifndef SERVER_REQUEST_H
#define SERVER_REQUEST_H

#include "server_node.h"

struct server_request;

/* Delivers a finished request (encodes the result and replies, or lets a test look). */
typedef void (*server_finish_fn)(struct server_request *req);

struct server_request {
    struct server_node *node;
    const tp_method *method;
    int32_t seqid;
    /* NULL, or where req, args and result live (the reply slot's): released when the slot is
       answered. Args may then point into it: copy what must outlive server_request_done. */
    tp_arena *arena;
    void *args;                 /* method->args_size bytes, read off the wire */
    void *result;               /* method->result_size bytes, filled by the handler */
    struct net_reply *reply;    /* NULL when a test drives the handler */
    server_finish_fn finish;
    void *user;                 /* the finisher's own pointer */
    uint64_t start_ns;          /* when it arrived (metrics_now_ns); 0: not timed */
    bool from_peer;             /* came over an authenticated peer link (a forwarded write) */
    bool app_error;             /* no result to send: answer with an exception and close */
    /* A read waiting for its linearizable gate: serves it (code 0) or answers the error. */
    void (*gate_next)(struct server_request *req, int code, const char *leader_hint);
    /* Per-connection order (server_conn.h): the connection's state while it counts this
       request as running (a write or a read); the next request parked behind this one. */
    struct server_conn *order_conn;
    bool order_write;
    struct server_request *order_next;
};

/* Each handler fills req->result now or later, then calls server_request_done exactly once. */
typedef void (*server_handler_fn)(struct server_request *req);

/* The dispatch table, indexed by TransactionalKV_METHOD_*: data, as in redis' command table. */
extern const server_handler_fn server_handlers[TransactionalKV_METHOD_COUNT];

/* Allocates and initializes args and result for method, from arena when not NULL (then read
   the args with that arena, and free the request before answering); NULL when out of memory.
   The result's strings are malloc'ed either way (server_request_free releases them). */
struct server_request *server_request_new(struct server_node *n, const tp_method *method,
                                          int32_t seqid, tp_arena *arena);
void server_request_done(struct server_request *req);
void server_request_free(struct server_request *req);

/* Fills the usual success/error/error_code trio of a response. */
#define SERVER_SET_ERROR(resp, code)                                                 \
    do {                                                                             \
        (resp)->success = false;                                                     \
        (resp)->has_error = tp_bytes_set_str(&(resp)->error, server_error_text(code)) == 0; \
        (resp)->has_error_code = true;                                               \
        (resp)->error_code = (ErrorCode)(code);                                      \
    } while (0)

const char *server_error_text(int code);

/* Runs next(req, 0, NULL) once a read at the consistency asked for may be served locally:
   at once in standalone mode and for SERIALIZABLE reads, after the read index round for
   LINEARIZABLE ones in replicated mode (next gets the error and leader hint if it fails). */
void server_read_gate(struct server_request *req, bool linearizable,
                      void (*next)(struct server_request *req, int code, const char *hint));

/* Sets a response's leader_hint (NULL: none). */
#define SERVER_SET_HINT(resp, hint)                                                   \
    do {                                                                              \
        if (hint)                                                                     \
            (resp)->has_leader_hint = tp_bytes_set_str(&(resp)->leader_hint, hint) == 0; \
    } while (0)

#endif
