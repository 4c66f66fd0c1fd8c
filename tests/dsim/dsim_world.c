/* dsim_world.c: the driver simulator's clock, event queue, nodes and clients. */
#include "dsim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t dsim_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t dsim_below(uint64_t *s, uint64_t n)
{
    return n ? dsim_rand(s) % n : 0;
}

bool dsim_chance(uint64_t *s, uint32_t per_million)
{
    return per_million && dsim_rand(s) % 1000000 < per_million;
}

/* ------------------------------------------------------------------ queue */

static bool before(const struct dsim_event *a, const struct dsim_event *b)
{
    return a->at < b->at || (a->at == b->at && a->order < b->order);
}

void dsim_queue_push(struct dsim_queue *q, const struct dsim_event *ev)
{
    if (q->count == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 256;
        q->heap = realloc(q->heap, q->cap * sizeof *q->heap);
        if (!q->heap)
            abort();
    }
    size_t i = q->count++;
    q->heap[i] = *ev;
    q->heap[i].order = q->order++;
    while (i > 0 && before(&q->heap[i], &q->heap[(i - 1) / 2])) {
        struct dsim_event t = q->heap[i];
        q->heap[i] = q->heap[(i - 1) / 2];
        q->heap[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

bool dsim_queue_pop(struct dsim_queue *q, struct dsim_event *out)
{
    if (q->count == 0)
        return false;
    *out = q->heap[0];
    q->heap[0] = q->heap[--q->count];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < q->count && before(&q->heap[l], &q->heap[m]))
            m = l;
        if (r < q->count && before(&q->heap[r], &q->heap[m]))
            m = r;
        if (m == i)
            break;
        struct dsim_event t = q->heap[i];
        q->heap[i] = q->heap[m];
        q->heap[m] = t;
        i = m;
    }
    return true;
}

void dsim_queue_free(struct dsim_queue *q, void (*free_data)(struct dsim_event *ev))
{
    for (size_t i = 0; i < q->count; i++)
        free_data(&q->heap[i]);
    free(q->heap);
    memset(q, 0, sizeof *q);
}

void dsim_world_schedule(struct dsim_world *w, uint64_t at, enum dsim_ev_kind kind,
                         uint32_t node, uint64_t arg, void *data)
{
    struct dsim_event ev = {.at = at, .kind = kind, .node = node,
                            .life = w->nodes[node].life, .arg = arg, .data = data};
    dsim_queue_push(&w->q, &ev);
}

void dsim_world_fail(struct dsim_world *w, const char *fmt, ...)
{
    if (w->failed)
        return;
    w->failed = true;
    int k = snprintf(w->failure, sizeof w->failure, "at %llu ms: ", (unsigned long long)w->now);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->failure + k, sizeof w->failure - (size_t)k, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------ nodes */

void dsim_node_start(struct dsim_world *w, uint32_t i)
{
    struct dsim_node *n = &w->nodes[i];
    if (n->up)
        return;
    dsim_server_restore(n);
    dsim_io_init(n);
    n->tp = dsim_net_transport(w, i);
    n->up = true;
    struct cluster_config cfg = w->ccfg;
    cfg.id = i;
    cfg.seed = w->seed * 31 + i + 1000 * n->life;
    cfg.applied_index = n->snap ? n->snap->index : 0;
    cfg.applied_term = n->snap ? n->snap->term : 0;
    cfg.membership = n->snap ? &n->sm.conf : NULL;
    struct cluster_callbacks cb;
    dsim_server_callbacks(n, &cb);
    uint32_t io_error_ppm = w->faults.io_error_ppm;
    w->faults.io_error_ppm = 0; /* a restart's own storage works: the chaos is elsewhere */
    int rc = cluster_node_open_io(&cfg, &n->io, n->tp, &cb, &n->node);
    w->faults.io_error_ppm = io_error_ppm;
    if (rc != 0) {
        dsim_world_fail(w, "node %u did not open: %s", i, cluster_strerror(rc));
        cluster_transport_free(n->tp);
        n->tp = NULL;
        n->node = NULL;
        n->up = false;
        return;
    }
    dsim_check_turn(w, i);
}

void dsim_node_crash(struct dsim_world *w, uint32_t i)
{
    struct dsim_node *n = &w->nodes[i];
    if (!n->up)
        return;
    w->stats.crashes++;
    /* The process is gone: what was not synced is lost (or torn) first, so closing the node
       to free it can make nothing more durable; its queued events die with this life. */
    dsim_disk_crash(w, &n->disk);
    n->sync_flight = false;
    n->up = false;
    n->life++;
    n->down_since = w->now;
    cluster_node_close(n->node);
    cluster_transport_free(n->tp);
    n->node = NULL;
    n->tp = NULL;
    n->dying = false;
    dsim_blob_unref(n->taking);
    n->taking = NULL;
    /* Its sockets close with it: a peer that could hear from it sees the reset. */
    for (uint32_t j = 0; j < w->cfg.nodes; j++)
        if (j != i && w->nodes[j].up && !w->links[i][j].cut)
            cluster_peer_lost(w->nodes[j].node, i);
}

/* ---------------------------------------------------------------- clients */

static struct dsim_op *op_new(struct dsim_world *w, uint32_t node, bool read)
{
    if (w->op_count == w->op_cap) {
        w->op_cap = w->op_cap ? w->op_cap * 2 : 256;
        w->ops = realloc(w->ops, w->op_cap * sizeof *w->ops);
        if (!w->ops)
            abort();
    }
    struct dsim_op *op = calloc(1, sizeof *op);
    if (!op)
        abort();
    *op = (struct dsim_op){.w = w, .node = node, .read = read, .started_at = w->now,
                           .floor = w->check.acked_max};
    w->ops[w->op_count++] = op;
    return op;
}

static void op_finish(struct dsim_op *op, int err, uint64_t index)
{
    if (op->done)
        dsim_world_fail(op->w, "a client at node %u was answered twice", op->node);
    op->done = true;
    if (op->w->nodes[op->node].dying)
        err = CLUSTER_ERR_CLOSED, index = 0; /* the answer died with the process */
    op->err = err;
    op->index = index;
    dsim_check_op_done(op);
}

static void on_proposed(void *ctx, int err, uint64_t index, uint32_t leader)
{
    (void)leader;
    struct dsim_op *op = ctx;
    op_finish(op, err, index);
    op->w->stats.acked += op->err == 0;
    dsim_forward_answer(op); /* not applied here: answered now */
}

static void on_read(void *ctx, int err, uint64_t index)
{
    struct dsim_op *op = ctx;
    op_finish(op, err, index);
    op->w->stats.reads_ok += op->err == 0;
}

struct dsim_op *dsim_propose(struct dsim_world *w, uint32_t i, uint32_t key)
{
    struct dsim_node *n = &w->nodes[i];
    if (!n->up)
        return NULL;
    uint8_t payload[64];
    uint32_t len = 9 + (uint32_t)dsim_below(&w->rng, sizeof payload - 8);
    uint64_t id = ++w->payload_next;
    memcpy(payload, &id, sizeof id);
    payload[8] = (uint8_t)key;
    for (uint32_t k = 9; k < len; k++)
        payload[k] = (uint8_t)dsim_rand(&w->rng);
    struct dsim_op *op = op_new(w, i, false);
    op->payload_hash = dsim_hash(payload, len);
    w->stats.proposals++;
    cluster_propose(n->node, payload, len, on_proposed, op);
    return op;
}

void dsim_read(struct dsim_world *w, uint32_t i)
{
    if (!w->nodes[i].up)
        return;
    w->stats.reads++;
    cluster_read_index(w->nodes[i].node, on_read, op_new(w, i, true));
}

uint32_t dsim_leader(const struct dsim_world *w)
{
    uint32_t best = CONSENSUS_NONE;
    uint64_t term = 0;
    for (uint32_t i = 0; i < w->cfg.nodes; i++) {
        const struct dsim_node *n = &w->nodes[i];
        if (!n->up || n->node->failed || consensus_role(n->node->core) != CONSENSUS_LEADER)
            continue;
        if (consensus_term(n->node->core) >= term) {
            term = consensus_term(n->node->core);
            best = i;
        }
    }
    return best;
}

/* ------------------------------------------------------------------ world */

void dsim_world_init(struct dsim_world *w, uint64_t seed, const struct dsim_config *cfg)
{
    memset(w, 0, sizeof *w);
    w->seed = seed;
    w->rng = seed ^ 0x5851f42d4c957f2dull;
    w->cfg = *cfg;
    cluster_config_default(&w->ccfg);
    w->ccfg.node_count = cfg->nodes;
    w->ccfg.voters = cfg->nodes - cfg->spares;
    w->ccfg.election_timeout_ms = 200;
    w->ccfg.heartbeat_interval_ms = 20;
    w->ccfg.snapshot_every = 16 + dsim_below(&w->rng, 32);
    w->ccfg.snapshot_catchup_entries = dsim_below(&w->rng, 8);
    w->ccfg.entry_bytes_max = 1024;
    w->ccfg.sync_background = cfg->background_sync;
    w->faults = (struct dsim_faults){.sync_min = 1, .sync_max = 8, .torn_ppm = 500000};
    for (uint32_t a = 0; a < cfg->nodes; a++)
        for (uint32_t b = 0; b < cfg->nodes; b++)
            w->links[a][b] = (struct dsim_link){.delay_min = 1, .delay_max = 4};
    for (uint32_t i = 0; i < cfg->nodes; i++) {
        w->nodes[i].id = i;
        w->nodes[i].w = w;
        w->nodes[i].disk.hs.vote = CONSENSUS_NONE;
    }
    for (uint32_t i = 0; i < cfg->nodes; i++)
        dsim_node_start(w, i);
}

void dsim_world_free(struct dsim_world *w)
{
    for (uint32_t i = 0; i < w->cfg.nodes; i++) {
        struct dsim_node *n = &w->nodes[i];
        if (n->up) {
            n->up = false;
            cluster_node_close(n->node);
            cluster_transport_free(n->tp);
        }
        dsim_blob_unref(n->taking);
        dsim_blob_unref(n->snap);
        dsim_disk_free(&n->disk);
    }
    dsim_queue_free(&w->q, dsim_net_free_event);
    dsim_conn_free_all(w);
    dsim_rules_free(w);
    for (size_t i = 0; i < w->op_count; i++)
        free(w->ops[i]);
    free(w->ops);
    dsim_check_free(&w->check);
}

static void handle(struct dsim_world *w, struct dsim_event *ev)
{
    if (ev->kind == DSIM_EV_CALL || ev->kind == DSIM_EV_REPLY ||
        ev->kind == DSIM_EV_CALL_TIMEOUT) {
        dsim_net_deliver(w, ev); /* the network outlives a node's life */
        return;
    }
    struct dsim_node *n = &w->nodes[ev->node];
    if (!n->up || ev->life != n->life)
        return;
    switch (ev->kind) {
    case DSIM_EV_TICK:
        dsim_io_tick(n, (uint32_t)ev->arg);
        dsim_check_turn(w, n->id);
        break;
    case DSIM_EV_TURN:
        n->turn_pending = false;
        w->stats.turns++;
        n->busy++;
        cluster_io_turn(n->node);
        n->busy--;
        dsim_check_turn(w, n->id);
        break;
    case DSIM_EV_SYNC_DONE:
        dsim_io_sync_done(n, (uint32_t)ev->arg);
        break;
    case DSIM_EV_SNAP_DONE:
        dsim_server_snap_done(n, ev->arg);
        break;
    default:
        break;
    }
}

void dsim_world_run(struct dsim_world *w, uint64_t until)
{
    struct dsim_event ev;
    while (!w->failed && w->q.count > 0 && w->q.heap[0].at <= until) {
        dsim_queue_pop(&w->q, &ev);
        w->now = ev.at;
        w->stats.events++;
        handle(w, &ev);
    }
    if (w->now < until)
        w->now = until;
}
