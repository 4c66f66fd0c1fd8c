/* dsim_net.c: the simulator's transport: encoded calls and replies over lossy, slow links. */
#include "dsim.h"

#include "cluster_codec.h"
#include "cluster_serve.h"

#include <stdlib.h>
#include <string.h>

/* A call not answered within this long gets TIMEOUT (cluster_net's call timeout). */
#define DSIM_CALL_TIMEOUT_MS 500u

/* One call in flight: exactly one reply reaches the caller (a duplicate's is dropped). */
struct dsim_call {
    struct dsim_world *w;
    uint32_t refs; /* the messages and the timeout that still point at it */
    uint32_t from, to, from_life;
    int method;
    uint64_t tag;
    int32_t seqid;
    bool replied;
};

struct dsim_msg {
    struct dsim_call *call;
    uint32_t conn_gen; /* calls being served: the connection whose slot the reply frees */
    int err;       /* replies: a transport error instead of bytes */
    uint8_t *data;
    size_t len;
};

struct dsim_tp {
    struct cluster_transport t; /* first */
    struct dsim_world *w;
};

static void call_unref(struct dsim_call *c)
{
    if (--c->refs == 0)
        free(c);
}

static void msg_free(struct dsim_msg *m)
{
    call_unref(m->call);
    free(m->data);
    free(m);
}

void dsim_net_free_event(struct dsim_event *ev)
{
    if (ev->kind == DSIM_EV_CALL || ev->kind == DSIM_EV_REPLY)
        msg_free(ev->data);
    else if (ev->kind == DSIM_EV_CALL_TIMEOUT)
        call_unref(ev->data);
}

/* When bytes sent now from `from` to `to` arrive, or 0 when the link loses them. */
static uint64_t arrival(struct dsim_world *w, uint32_t from, uint32_t to, size_t bytes)
{
    struct dsim_link *l = &w->links[from][to];
    if (l->cut || dsim_chance(&w->rng, l->loss_ppm)) {
        w->stats.lost++;
        return 0;
    }
    uint64_t leave = w->now > l->free_at ? w->now : l->free_at;
    if (l->rate_kbps) /* kilobits per second: bits per millisecond */
        leave += (bytes * 8 + l->rate_kbps - 1) / l->rate_kbps;
    l->free_at = leave;
    return leave + l->delay_min + dsim_below(&w->rng, l->delay_max - l->delay_min + 1);
}

/* Queues m from `from` to `to` (maybe twice, maybe not at all); takes m. */
static void send_msg(struct dsim_world *w, enum dsim_ev_kind kind, uint32_t from, uint32_t to,
                     struct dsim_msg *m)
{
    if (dsim_rule_catch(w, kind, from, to, m->call->method, m))
        return;
    uint64_t at = arrival(w, from, to, m->len);
    if (at && dsim_chance(&w->rng, w->links[from][to].dup_ppm)) {
        struct dsim_msg *dup = calloc(1, sizeof *dup);
        if (!dup || !(dup->data = malloc(m->len ? m->len : 1)))
            abort();
        memcpy(dup->data, m->data, m->len);
        dup->len = m->len;
        dup->err = m->err;
        dup->call = m->call;
        m->call->refs++;
        w->stats.dups++;
        dsim_world_schedule(w, at + dsim_below(&w->rng, 20), kind, to, 0, dup);
    }
    if (!at) {
        msg_free(m);
        return;
    }
    dsim_world_schedule(w, at, kind, to, 0, m);
}

static int tp_call(struct cluster_transport *t, uint32_t peer, int method, const void *request,
                   uint64_t tag)
{
    struct dsim_world *w = ((struct dsim_tp *)t)->w;
    struct dsim_node *self = &w->nodes[t->self];
    if (self->dying)
        return 0; /* dead inside a sync: never sent, and never answered */
    if (!self->node || self->node->failed)
        dsim_world_fail(w, "node %u sent a call while %s", t->self,
                        self->node ? "failed" : "down");
    struct dsim_call *c = calloc(1, sizeof *c);
    struct dsim_msg *m = calloc(1, sizeof *m);
    if (!c || !m)
        abort();
    *c = (struct dsim_call){.w = w, .refs = 2, .from = t->self, .to = peer, .from_life = self->life,
                            .method = method, .tag = tag, .seqid = ++w->seqid};
    tp_buf out;
    tp_buf_init(&out);
    int rc = cluster_codec_call(&out, method, c->seqid, request);
    if (rc != 0) {
        tp_buf_free(&out);
        free(c);
        free(m);
        return rc;
    }
    w->stats.calls++;
    w->stats.calls_of[method]++;
    m->call = c;
    m->data = out.data;
    m->len = out.len;
    dsim_world_schedule(w, w->now + DSIM_CALL_TIMEOUT_MS, DSIM_EV_CALL_TIMEOUT, t->self, 0, c);
    if (!w->nodes[peer].up || cluster_transport_slot(t, peer) < 0) { /* a refused connection
                                                                         (or none): told at once */
        m->err = CLUSTER_ERR_UNREACHABLE;
        free(m->data);
        m->data = NULL;
        m->len = 0;
        dsim_world_schedule(w, w->now + 1, DSIM_EV_REPLY, t->self, 0, m);
        return 0;
    }
    send_msg(w, DSIM_EV_CALL, t->self, peer, m);
    return 0;
}

static bool tp_connected(const struct cluster_transport *t, uint32_t peer)
{
    const struct dsim_world *w = ((const struct dsim_tp *)t)->w;
    return w->nodes[peer].up && !w->links[t->self][peer].cut;
}

static void tp_free(struct cluster_transport *t)
{
    free(t);
}

static const struct cluster_transport_ops dsim_tp_ops = {
    .call = tp_call,
    .connected = tp_connected,
    .free = tp_free,
};

struct cluster_transport *dsim_net_transport(struct dsim_world *w, uint32_t id)
{
    struct dsim_tp *tp = calloc(1, sizeof *tp);
    if (!tp)
        abort();
    cluster_transport_init(&tp->t, &dsim_tp_ops, id);
    for (uint32_t i = 0; i < w->cfg.nodes; i++)
        if (i != id) /* the node keeps the members' and drops the others' (cluster_peers.c) */
            cluster_transport_peer_add(&tp->t, i, "");
    tp->w = w;
    return &tp->t;
}

void dsim_net_drop(void *msg)
{
    msg_free(msg);
}

/* A served call's end: its reply goes back, unless serving failed or the node died since;
   either way its slot on the connection is free, which may let the next call in at once. */
static void served(void *arg, int err, uint8_t *data, size_t len)
{
    struct dsim_msg *m = arg;
    struct dsim_world *w = m->call->w;
    uint32_t from = m->call->from, to = m->call->to, gen = m->conn_gen;
    free(m->data);
    m->data = data; /* taken over */
    m->len = len;
    if (err == 0 && !w->nodes[to].dying)
        send_msg(w, DSIM_EV_REPLY, to, from, m);
    else
        msg_free(m); /* no reply: the caller times out */
    dsim_conn_answered(w, from, to, gen);
}

/* The call arrives on its connection, which lets it in now or once a slot is free. */
static void deliver_call(struct dsim_world *w, struct dsim_msg *m)
{
    struct dsim_node *to = &w->nodes[m->call->to];
    if (!to->up || w->links[m->call->from][m->call->to].cut) {
        msg_free(m);
        return;
    }
    dsim_conn_arrive(w, m->call->from, m->call->from_life, m->call->to, m);
}

/* The peer serves the call as a server would (cluster_serve_wire). */
void dsim_net_serve(struct dsim_world *w, void *msg, uint32_t conn_gen)
{
    struct dsim_msg *m = msg;
    struct dsim_node *to = &w->nodes[m->call->to];
    m->conn_gen = conn_gen;
    w->stats.let_in_batch += to->node->in_ready;
    to->busy++;
    int rc = cluster_serve_wire(to->node, m->call->from, m->call->method, m->data, m->len,
                                served, m);
    to->busy--;
    if (rc == CLUSTER_ERR_NOMEM)
        abort();
    if (rc != 0) {
        uint32_t from = m->call->from;
        dsim_world_fail(w, "a call to node %u did not decode as its method", to->id);
        msg_free(m);
        dsim_conn_answered(w, from, to->id, conn_gen);
        return;
    }
    dsim_check_turn(w, to->id);
}

static void reply(struct dsim_world *w, struct dsim_call *c, int err, const void *response)
{
    struct dsim_node *n = &w->nodes[c->from];
    c->replied = true;
    if (!n->up || n->life != c->from_life || !n->tp->on_reply)
        return;
    n->busy++;
    n->tp->on_reply(n->tp->reply_ctx, c->to, c->method, c->tag, err, response);
    n->busy--;
    dsim_check_turn(w, c->from);
}

static void deliver_reply(struct dsim_world *w, struct dsim_msg *m)
{
    struct dsim_call *c = m->call;
    if (c->replied || (m->err == 0 && w->links[c->to][c->from].cut)) {
        msg_free(m);
        return;
    }
    if (m->err != 0) {
        reply(w, c, m->err, NULL);
        msg_free(m);
        return;
    }
    struct cluster_codec_reply rep = {0};
    if (cluster_codec_reply_read(c->method, c->seqid, m->data, m->len, NULL, &rep) != 0)
        abort();
    if (rep.err == CLUSTER_ERR_INVALID)
        dsim_world_fail(w, "a reply from node %u did not decode", c->to);
    reply(w, c, rep.err, rep.response);
    cluster_codec_reply_free(&rep);
    msg_free(m);
}

void dsim_net_deliver(struct dsim_world *w, struct dsim_event *ev)
{
    if (ev->kind == DSIM_EV_CALL) {
        deliver_call(w, ev->data);
    } else if (ev->kind == DSIM_EV_REPLY) {
        deliver_reply(w, ev->data);
    } else {
        struct dsim_call *c = ev->data;
        if (!c->replied)
            reply(w, c, CLUSTER_ERR_TIMEOUT, NULL);
        call_unref(c);
    }
}

void dsim_net_heal(struct dsim_world *w)
{
    for (uint32_t a = 0; a < w->cfg.nodes; a++)
        for (uint32_t b = 0; b < w->cfg.nodes; b++) {
            struct dsim_link *l = &w->links[a][b];
            l->cut = false;
            l->loss_ppm = l->dup_ppm = 0;
        }
}
