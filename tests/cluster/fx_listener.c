/* fx_listener.c: TCP mode of the fixture: NetworkTransports and a small peer listener per node
   (src/net's listener, decoding peer calls into cluster_serve_peer as kvnode will). */
#include "fx_listener.h"

#include "cluster_fixture.h"
#include "cluster_codec.h"
#include "cluster_net.h"
#include "cluster_serve.h"
#include "net.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per-connection auth state, by net_reply_conn_id (net has no per-connection pointer yet). */
#define FX_CONNS_MAX 64

struct fx_listener {
    struct fixture *fx;
    uint32_t id;
    struct net_server *srv;
    uint64_t conn_ids[FX_CONNS_MAX];
    struct cluster_peer_conn conns[FX_CONNS_MAX];
    uint32_t conn_count;
    uint32_t refused; /* peer calls answered UNAUTHORIZED */
};

static struct fx_listener listeners[FX_NODES_MAX];

static struct cluster_peer_conn *conn_state(struct fx_listener *fl, uint64_t conn_id)
{
    for (uint32_t i = 0; i < fl->conn_count; i++)
        if (fl->conn_ids[i] == conn_id)
            return &fl->conns[i];
    cr_assert_lt(fl->conn_count, FX_CONNS_MAX);
    fl->conn_ids[fl->conn_count] = conn_id;
    cluster_peer_conn_init(&fl->conns[fl->conn_count]);
    return &fl->conns[fl->conn_count++];
}

struct fx_call {
    struct net_reply *reply;
    const tp_method *tm;
    int32_t seqid;
    void *args, *result;
};

static void call_done(void *ctx, int err)
{
    struct fx_call *c = ctx;
    tp_buf out;
    tp_buf_init(&out);
    if (err == 0 && tp_write_reply(&out, c->tm, c->seqid, c->result) == 0 && !out.failed)
        net_reply_send(c->reply, out.data, out.len);
    else if (tp_write_app_exception(&out, c->tm->name, (uint32_t)strlen(c->tm->name), c->seqid,
                                    TP_APPEX_INTERNAL_ERROR, "peer call failed") == 0)
        net_reply_send_close(c->reply, out.data, out.len);
    else
        net_reply_send_close(c->reply, NULL, 0);
    tp_buf_free(&out);
    c->tm->args_free(c->args);
    c->tm->result_free(c->result);
    free(c->args);
    free(c->result);
    free(c);
}

static void on_message(void *ctx, struct net_reply *reply, const uint8_t *msg, size_t len)
{
    struct fx_listener *fl = ctx;
    tp_reader r;
    tp_reader_init(&r, msg, len, NULL);
    tp_message m;
    const tp_method *tm = NULL;
    if (tp_read_message_begin(&r, &m) == 0)
        tm = TransactionalKV_method_find(m.name, m.name_len);
    if (!tm || !cluster_codec_is_peer_method(tm->id) || !fl->fx->nodes[fl->id].node) {
        net_reply_send_close(reply, NULL, 0);
        return;
    }
    struct fx_call *c = calloc(1, sizeof *c);
    cr_assert(c);
    *c = (struct fx_call){reply, tm, m.seqid, calloc(1, tm->args_size), calloc(1, tm->result_size)};
    tm->args_init(c->args);
    tm->result_init(c->result);
    if (tm->args_read(c->args, &r) != 0) {
        call_done(c, CLUSTER_ERR_INVALID);
        return;
    }
    struct cluster_peer_conn *pc = conn_state(fl, net_reply_conn_id(reply));
    if (!pc->authenticated && tm->id != TransactionalKV_METHOD_peerChallenge &&
        tm->id != TransactionalKV_METHOD_peerAuthenticate)
        fl->refused++;
    cluster_serve_peer(fl->fx->nodes[fl->id].node, &fl->fx->secret, pc, 0, tm->id, c->args,
                       c->result, call_done, c);
}

static void listen_on(struct fixture *fx, uint32_t id, const char *addr)
{
    struct fx_listener *fl = &listeners[id];
    memset(fl, 0, sizeof *fl);
    fl->fx = fx;
    fl->id = id;
    struct net_limits lim;
    net_limits_default(&lim);
    fl->srv = net_server_new(fx->base, &lim, on_message, fl);
    cr_assert(fl->srv);
    cr_assert_eq(net_server_listen(fl->srv, addr), 0, "listen %s", addr);
}

void fx_listeners_reserve(struct fixture *fx)
{
    for (uint32_t i = 0; i < fx->n; i++) {
        listen_on(fx, i, "127.0.0.1:0");
        snprintf(fx->endpoints[i], sizeof fx->endpoints[i], "127.0.0.1:%u",
                 net_server_port(listeners[i].srv));
        net_server_free(listeners[i].srv);
        listeners[i].srv = NULL;
    }
}

struct cluster_transport *fx_net_transport(struct fixture *fx, uint32_t id)
{
    struct cluster_net_config cfg;
    cluster_net_config_default(&cfg);
    cfg.self = id;
    cfg.node_count = fx->n;
    for (uint32_t i = 0; i < fx->n; i++)
        cfg.endpoints[i] = fx->endpoints[i];
    cfg.secret = &fx->secret;
    cfg.call_timeout_ms = 500;
    cfg.backoff_min_ms = 20;
    cfg.backoff_max_ms = 200;
    cfg.seed = fx->seed + id;
    return cluster_net_new(fx->base, &cfg);
}

void fx_listener_start(struct fixture *fx, uint32_t id)
{
    listen_on(fx, id, fx->endpoints[id]);
}

void fx_listener_stop(struct fixture *fx, uint32_t id)
{
    (void)fx;
    net_server_free(listeners[id].srv);
    listeners[id].srv = NULL;
}

uint32_t fx_listener_refused(uint32_t id)
{
    return listeners[id].refused;
}
