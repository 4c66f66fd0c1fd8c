/* cluster_bus.c: the in-memory transport: encoded calls and replies through a deferred queue. */
#include "cluster_bus.h"

#include "cluster_codec.h"
#include "cluster_serve.h"
#include "log.h"

#include <assert.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

struct bus_item {
    struct bus_item *next;
    struct cluster_bus *bus; /* calls being served: where the reply goes */
    bool reply;
    int err;           /* replies: a transport failure instead of bytes */
    uint32_t from, to; /* of the call */
    int method;
    uint64_t tag;
    int32_t seqid;
    uint8_t *data;
    size_t len;
};

struct bus_end {
    struct cluster_transport t; /* first: the transport's address is the end's */
    struct cluster_bus *bus;
    bool open;
};

struct cluster_bus {
    struct event_base *base;
    struct event *deliver_ev;
    uint32_t node_count;
    struct bus_item *head, **tail;
    struct bus_end ends[CONSENSUS_MEMBERS_MAX]; /* by node id (a test's ids are small) */
    struct cluster_node *nodes[CONSENSUS_MEMBERS_MAX];
    int32_t seqid;
};

static void bus_push(struct cluster_bus *bus, struct bus_item *it)
{
    it->next = NULL;
    *bus->tail = it;
    bus->tail = &it->next;
    event_active(bus->deliver_ev, EV_TIMEOUT, 0);
}

static void item_free(struct bus_item *it)
{
    free(it->data);
    free(it);
}

/* Turns a call into its reply item (reusing it): bytes (taken over), or an error. */
static void bus_reply(struct cluster_bus *bus, struct bus_item *it, int err, uint8_t *data,
                      size_t len)
{
    free(it->data);
    it->data = data;
    it->len = len;
    it->reply = true;
    it->err = err;
    bus_push(bus, it);
}

static void served(void *arg, int err, uint8_t *reply, size_t len)
{
    struct bus_item *it = arg;
    bus_reply(it->bus, it, err ? CLUSTER_ERR_IGNORED : 0, reply, len);
}

/* Serves the call on the target node as a server would (cluster_serve_wire). */
static void deliver_call(struct cluster_bus *bus, struct bus_item *it)
{
    struct cluster_node *node = bus->nodes[it->to];
    if (!node || cluster_transport_dropped_to(&bus->ends[it->from].t, it->to) ||
        cluster_transport_dropped_from(&bus->ends[it->to].t, it->from) ||
        cluster_transport_slot(&bus->ends[it->from].t, it->to) < 0) {
        bus_reply(bus, it, node ? CLUSTER_ERR_TIMEOUT : CLUSTER_ERR_UNREACHABLE, NULL, 0);
        return;
    }
    it->bus = bus;
    if (cluster_serve_wire(node, it->from, it->method, it->data, it->len, served, it) != 0)
        bus_reply(bus, it, CLUSTER_ERR_INVALID, NULL, 0);
}

static void deliver_reply(struct cluster_bus *bus, struct bus_item *it)
{
    struct cluster_transport *t = &bus->ends[it->from].t;
    if (!bus->ends[it->from].open || !t->on_reply)
        return;
    int err = it->err;
    if (err == 0 && (cluster_transport_dropped_from(t, it->to) ||
                     cluster_transport_dropped_to(&bus->ends[it->to].t, it->from)))
        err = CLUSTER_ERR_TIMEOUT;
    if (err != 0) {
        t->on_reply(t->reply_ctx, it->to, it->method, it->tag, err, NULL);
        return;
    }
    struct cluster_codec_reply rep = {0};
    if (cluster_codec_reply_read(it->method, it->seqid, it->data, it->len, NULL, &rep) != 0)
        err = CLUSTER_ERR_NOMEM;
    else
        err = rep.err;
    t->on_reply(t->reply_ctx, it->to, it->method, it->tag, err, rep.response);
    cluster_codec_reply_free(&rep);
}

static void bus_deliver(int fd, short what, void *arg)
{
    struct cluster_bus *bus = arg;
    (void)fd;
    (void)what;
    struct bus_item *list = bus->head;
    bus->head = NULL;
    bus->tail = &bus->head;
    while (list) {
        struct bus_item *it = list;
        list = it->next;
        if (it->reply) {
            deliver_reply(bus, it);
            item_free(it);
        } else {
            deliver_call(bus, it); /* the item lives on as the reply */
        }
    }
}

static int bus_call(struct cluster_transport *t, uint32_t peer, int method, const void *request,
                    uint64_t tag)
{
    struct bus_end *end = (struct bus_end *)t;
    struct cluster_bus *bus = end->bus;
    if (peer >= bus->node_count)
        return CLUSTER_ERR_UNREACHABLE; /* no such node on this bus */
    struct bus_item *it = calloc(1, sizeof *it);
    if (!it)
        return CLUSTER_ERR_NOMEM;
    *it = (struct bus_item){.from = t->self, .to = peer, .method = method, .tag = tag,
                            .seqid = ++bus->seqid};
    tp_buf out;
    tp_buf_init(&out);
    int rc = cluster_codec_call(&out, method, it->seqid, request);
    if (rc == 0) {
        it->data = out.data; /* taken over */
        it->len = out.len;
        bus_push(bus, it);
        return 0;
    }
    tp_buf_free(&out);
    free(it);
    return rc;
}

static bool bus_connected(const struct cluster_transport *t, uint32_t peer)
{
    const struct bus_end *end = (const struct bus_end *)t;
    return peer < end->bus->node_count && end->bus->nodes[peer] != NULL &&
           cluster_transport_slot(t, peer) >= 0;
}

static void bus_end_free(struct cluster_transport *t)
{
    struct bus_end *end = (struct bus_end *)t;
    end->open = false;
    t->on_reply = NULL;
}

static const struct cluster_transport_ops bus_ops = {
    .call = bus_call,
    .connected = bus_connected,
    .free = bus_end_free,
};

struct cluster_bus *cluster_bus_new(struct event_base *base, uint32_t node_count)
{
    assert(node_count >= 1 && node_count <= CONSENSUS_MEMBERS_MAX);
    struct cluster_bus *bus = calloc(1, sizeof *bus);
    if (!bus)
        return NULL;
    bus->base = base;
    bus->node_count = node_count;
    bus->tail = &bus->head;
    bus->deliver_ev = event_new(base, -1, 0, bus_deliver, bus);
    if (!bus->deliver_ev) {
        free(bus);
        return NULL;
    }
    return bus;
}

void cluster_bus_free(struct cluster_bus *bus)
{
    if (!bus)
        return;
    while (bus->head) {
        struct bus_item *it = bus->head;
        bus->head = it->next;
        item_free(it);
    }
    event_free(bus->deliver_ev);
    free(bus);
}

struct cluster_transport *cluster_bus_transport(struct cluster_bus *bus, uint32_t id)
{
    assert(id < bus->node_count);
    struct bus_end *end = &bus->ends[id];
    memset(end, 0, sizeof *end);
    cluster_transport_init(&end->t, &bus_ops, id);
    for (uint32_t i = 0; i < bus->node_count; i++)
        if (i != id)
            cluster_transport_peer_add(&end->t, i, "");
    end->bus = bus;
    end->open = true;
    return &end->t;
}

void cluster_bus_attach(struct cluster_bus *bus, uint32_t id, struct cluster_node *node)
{
    assert(id < bus->node_count);
    bus->nodes[id] = node;
}
