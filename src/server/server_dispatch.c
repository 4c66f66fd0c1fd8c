/* server_dispatch.c: a whole message in, the method looked up in the table, a handler called;
   bad messages get a TApplicationException (and a closed connection when malformed). */
#include "server_request.h"

#include "server_conn.h"
#include "cluster_codec.h"
#include "log.h"
#include "log_client.h"
#include "server_check.h"
#include "server_rep.h"
#include "server_stats.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *server_error_text(int code)
{
    const char *name = ErrorCode_name(code);
    return name ? name : "UNKNOWN_ERROR";
}

/* Memory from arena a, or from malloc when a is NULL; zeroed when zero is set. */
static void *request_alloc(tp_arena *a, size_t size, bool zero)
{
    size = size ? size : 1;
    void *p = a ? tp_arena_alloc(a, size, TP_ARENA_ALIGN) : malloc(size);
    if (p && zero)
        memset(p, 0, size);
    return p;
}

struct server_request *server_request_new(struct server_node *n, const tp_method *method,
                                          int32_t seqid, tp_arena *arena)
{
    /* Args and result are left to their init functions, which set every byte: clearing
       them here too would write each twice per request. */
    struct server_request *req = request_alloc(arena, sizeof *req, true);
    void *args = req ? request_alloc(arena, method->args_size, false) : NULL;
    void *result = args ? request_alloc(arena, method->result_size, false) : NULL;
    if (!result) {
        if (!arena) {
            free(args);
            free(req);
        }
        return NULL;
    }
    req->node = n;
    req->method = method;
    req->seqid = seqid;
    req->arena = arena;
    req->args = args;
    req->result = result;
    if (arena)
        method->args_init_arena(req->args, arena);
    else
        method->args_init(req->args);
    method->result_init(req->result);
    return req;
}

void server_request_free(struct server_request *req)
{
    req->method->result_free(req->result);   /* results are always malloc'ed */
    if (req->arena)
        return;   /* the rest goes with the arena, never through args_free */
    req->method->args_free(req->args);
    free(req->args);
    free(req->result);
    free(req);
}

void server_request_done(struct server_request *req)
{
    assert(req->finish);
    req->finish(req);
}

/* Writes a TApplicationException for (name, seqid) and sends it. */
static void send_app_exception(struct server_node *n, struct net_reply *reply, const char *name,
                               uint32_t name_len, int32_t seqid, int type, const char *text,
                               bool close_after)
{
    tp_buf *out = &n->reply_buf;
    tp_buf_reset(out);
    if (tp_write_app_exception(out, name, name_len, seqid, type, text) != 0 || out->failed) {
        net_reply_send_close(reply, NULL, 0);
        return;
    }
    if (close_after)
        net_reply_send_close(reply, out->data, out->len);
    else
        net_reply_send(reply, out->data, out->len);
}

/* The finisher for requests that came off the network. The request (in the slot's arena) is
   freed before the answer, which releases the arena. */
/* Fault injection (server_faults.c): a client call a peer forwarded, to or from a node the
   fault file cuts this one off from, is lost on the way in or its answer on the way out,
   silently, as a real partition would lose it (the peer methods are cut in the transport). */
static bool peer_cut(const struct server_node *n, const struct net_reply *reply, bool inbound)
{
    const struct server_conn *sc = n->rep && reply ? server_conn_find(reply) : NULL;
    if (!sc || !sc->peer_used || !sc->peer.authenticated)
        return false;
    const struct cluster_transport *t = n->rep->tp;
    return inbound ? cluster_transport_dropped_from(t, sc->peer.peer)
                   : cluster_transport_dropped_to(t, sc->peer.peer);
}

static void finish_to_net(struct server_request *req)
{
    struct server_node *n = req->node;
    struct net_reply *reply = req->reply;
    const char *name = req->method->name;
    int32_t seqid = req->seqid;
    tp_buf *out = &n->reply_buf;
    tp_buf_reset(out);
    enum { SEND, NONE, FAILED, UNENCODABLE } what = SEND;
    if (req->app_error)
        what = FAILED;
    else if (req->method->oneway || (req->from_peer && peer_cut(n, reply, false)))
        what = NONE;
    else if (tp_write_reply(out, req->method, seqid, req->result) != 0 || out->failed ||
             out->len > UINT32_MAX)   /* a frame cannot say it (net_reply_send asserts) */
        what = UNENCODABLE;
    if (n->stats)
        server_stats_request(n->stats, req, metrics_now_ns() - req->start_ns);
    struct server_conn *order = req->order_conn;
    if (order)
        server_conn_finished(req);   /* reads the answer's version: before the free */
    server_request_free(req);
    if (what == SEND) {
        net_reply_send(reply, out->data, out->len);
    } else if (what == NONE) {
        net_reply_none(reply);
    } else if (what == FAILED) {
        send_app_exception(n, reply, name, (uint32_t)strlen(name), seqid,
                           TP_APPEX_INTERNAL_ERROR, "the call failed", true);
    } else {
        log_error("encoding the %s reply failed", name);
        send_app_exception(n, reply, name, (uint32_t)strlen(name), seqid,
                           TP_APPEX_INTERNAL_ERROR, "cannot encode the reply", false);
    }
    if (order)
        server_conn_release(order);  /* requests parked behind this one run now */
}

/* A method name quoted for a message: printable bytes only, cut at a sane length. */
static void quote_name(char *out, size_t size, const char *name, uint32_t len)
{
    size_t j = 0;
    for (uint32_t i = 0; i < len && j + 5 < size; i++) {
        unsigned char c = (unsigned char)name[i];
        j += (size_t)snprintf(out + j, size - j, c >= 0x20 && c < 0x7f ? "%c" : "\\x%02x", c);
    }
    out[j] = '\0';
}

/* A connection in a slot reserved for peers (net_admit.c) serves only the peer methods that
   can prove it one; anything else closes it, so clients cannot hold those slots busy. */
static bool serves_on(const struct server_node *n, const struct net_reply *reply,
                      const tp_method *method)
{
    return !net_reply_conn_reserved(reply) ||
           (n->rep && cluster_codec_is_peer_method(method->id));
}

void server_on_message(void *ctx, struct net_reply *reply, const uint8_t *msg, size_t len)
{
    struct server_node *n = ctx;
    /* Arguments decode into the slot's arena: no malloc per string, one reset per request. */
    tp_arena *arena = net_reply_arena(reply);
    tp_reader r;
    tp_reader_init_arena(&r, msg, len, &n->wire_limits, arena);
    tp_message m;
    int rc = tp_read_message_begin(&r, &m);
    char text[160], quoted[80];
    if (rc != 0) {
        snprintf(text, sizeof text, "bad message header: %s", tp_strerror(rc));
        send_app_exception(n, reply, "", 0, 0, TP_APPEX_PROTOCOL_ERROR, text, true);
        return;
    }
    if (m.type != TP_CALL && m.type != TP_ONEWAY) {
        send_app_exception(n, reply, m.name, m.name_len, m.seqid, TP_APPEX_INVALID_MESSAGE_TYPE,
                           "expected a call", true);
        return;
    }
    const tp_method *method = TransactionalKV_method_find(m.name, m.name_len);
    if (method && !serves_on(n, reply, method)) {
        send_app_exception(n, reply, m.name, m.name_len, m.seqid, TP_APPEX_INTERNAL_ERROR,
                           "the node is at limits.max_connections: this connection took a "
                           "slot kept for peers; retry later", true);
        return;
    }
    if (!method) {
        quote_name(quoted, sizeof quoted, m.name, m.name_len);
        snprintf(text, sizeof text, "unknown method '%s'", quoted);
        send_app_exception(n, reply, m.name, m.name_len, m.seqid, TP_APPEX_UNKNOWN_METHOD, text,
                           false);
        return;
    }
    struct server_request *req = server_request_new(n, method, m.seqid, arena);
    if (!req) {
        send_app_exception(n, reply, m.name, m.name_len, m.seqid, TP_APPEX_INTERNAL_ERROR,
                           "out of memory", true);
        return;
    }
    rc = method->args_read(req->args, &r);
    if (rc != 0) {
        snprintf(text, sizeof text, "cannot decode %s arguments: %s", method->name,
                 tp_strerror(rc));
        log_client(LOG_CLIENT_BAD_INPUT, LOG_INFO, "conn %llu (%s): %s",
                   (unsigned long long)net_reply_conn_id(reply), net_reply_peer(reply), text);
        server_request_free(req);
        send_app_exception(n, reply, m.name, m.name_len, m.seqid, TP_APPEX_PROTOCOL_ERROR, text,
                           true);
        return;
    }
    req->reply = reply;
    req->finish = finish_to_net;
    req->start_ns = metrics_now_ns();
    assert(method->id >= 0 && method->id < TransactionalKV_METHOD_COUNT);
    if (server_check_request(req, text, sizeof text) != 0) {
        server_answer_invalid(req, text);
        return;
    }
    if (n->rep) {
        const struct server_conn *sc = server_conn_find(reply);
        req->from_peer = sc && sc->peer_used && sc->peer.authenticated;
        if (cluster_codec_is_peer_method(method->id)) {
            server_rep_serve_peer(req);
            return;
        }
        if (req->from_peer && peer_cut(n, reply, true)) {
            server_request_free(req);
            net_reply_none(reply);
            return;
        }
    }
    server_conn_dispatch(req);
}
