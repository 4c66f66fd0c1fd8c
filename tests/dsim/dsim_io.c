/* dsim_io.c: the simulator's cluster_io: a disk with an unsynced tail, simulated time, turns. */
#include "dsim.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static struct dsim_node *node_of(const struct cluster_io *io)
{
    return (struct dsim_node *)((const char *)io - offsetof(struct dsim_node, io));
}

static uint64_t last_of(const struct dsim_disk *d)
{
    return d->start_index + d->count;
}

/* An injected failure of this op (the node must then fail-stop). */
static bool fails(struct dsim_node *n)
{
    struct dsim_world *w = n->w;
    if (!dsim_chance(&w->rng, w->faults.io_error_ppm))
        return false;
    n->io_error = true;
    w->stats.io_errors++;
    return true;
}

static void drop_from(struct dsim_disk *d, size_t keep)
{
    for (size_t i = keep; i < d->count; i++)
        free(d->ents[i].data);
    if (keep < d->count)
        d->count = keep;
    if (d->durable > last_of(d))
        d->durable = last_of(d);
}

void dsim_disk_free(struct dsim_disk *d)
{
    drop_from(d, 0);
    free(d->ents);
    memset(d, 0, sizeof *d);
}

void dsim_disk_crash(struct dsim_world *w, struct dsim_disk *d)
{
    size_t synced = (size_t)(d->durable - d->start_index);
    size_t keep = synced;
    /* Unsynced writes may have reached the platter, all but a torn last one (its checksum
       fails at recovery, so it and what follows is cut). */
    if (d->count > synced + 1 && dsim_chance(&w->rng, w->faults.torn_ppm))
        keep = synced + (size_t)dsim_below(&w->rng, d->count - synced);
    drop_from(d, keep);
    d->durable = last_of(d);
}

static uint64_t io_last_index(const struct cluster_io *io)
{
    return last_of(&node_of(io)->disk);
}

static uint64_t io_durable_index(const struct cluster_io *io)
{
    return node_of(io)->disk.durable;
}

static int io_term_at(const struct cluster_io *io, uint64_t index, uint64_t *term)
{
    const struct dsim_disk *d = &node_of(io)->disk;
    if (index == d->start_index) {
        *term = d->start_term;
        return 0;
    }
    if (index < d->start_index || index > last_of(d))
        return CLUSTER_ERR_IO;
    *term = d->ents[index - d->start_index - 1].term;
    return 0;
}

static void io_snapshot_point(const struct cluster_io *io, uint64_t *index, uint64_t *term)
{
    *index = node_of(io)->disk.start_index;
    *term = node_of(io)->disk.start_term;
}

static int io_load(struct cluster_io *io, uint64_t from, uint64_t to, uint32_t payload_max,
                   cluster_io_entry_fn each, void *ctx)
{
    const struct dsim_disk *d = &node_of(io)->disk;
    if (from <= d->start_index)
        return CLUSTER_ERR_IO;
    for (uint64_t i = from; i <= to && i <= last_of(d); i++) {
        const struct dsim_entry *e = &d->ents[i - d->start_index - 1];
        if (e->len > payload_max)
            return CLUSTER_ERR_IO;
        int rc = each(ctx, i, e->term, e->data, e->len);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int io_append(struct cluster_io *io, uint64_t index, uint64_t term, const void *data,
                     uint32_t len)
{
    struct dsim_node *n = node_of(io);
    struct dsim_disk *d = &n->disk;
    if (index != last_of(d) + 1) {
        dsim_world_fail(n->w, "node %u appended %llu to a log ending at %llu", n->id,
                        (unsigned long long)index, (unsigned long long)last_of(d));
        return CLUSTER_ERR_IO;
    }
    if (fails(n))
        return CLUSTER_ERR_IO;
    if (d->count == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 64;
        d->ents = realloc(d->ents, d->cap * sizeof *d->ents);
        if (!d->ents)
            abort();
    }
    struct dsim_entry *e = &d->ents[d->count++];
    e->term = term;
    e->len = len;
    e->data = len ? malloc(len) : NULL;
    if (len && !e->data)
        abort();
    if (len)
        memcpy(e->data, data, len);
    return 0;
}

static int io_truncate_suffix(struct cluster_io *io, uint64_t from)
{
    struct dsim_node *n = node_of(io);
    struct dsim_disk *d = &n->disk;
    if (from <= d->start_index || from > last_of(d) || fails(n))
        return CLUSTER_ERR_IO;
    drop_from(d, (size_t)(from - d->start_index - 1));
    if (n->sync_target > last_of(d))
        n->sync_target = last_of(d);
    return 0;
}

static int io_reset(struct cluster_io *io, uint64_t index, uint64_t term)
{
    struct dsim_node *n = node_of(io);
    if (fails(n))
        return CLUSTER_ERR_IO;
    struct dsim_disk *d = &n->disk;
    drop_from(d, 0);
    d->start_index = d->durable = index;
    d->start_term = term;
    n->sync_target = 0;
    return 0;
}

static int io_compact(struct cluster_io *io, uint64_t index, uint64_t term)
{
    struct dsim_node *n = node_of(io);
    struct dsim_disk *d = &n->disk;
    uint64_t have = 0;
    if (index <= d->start_index || index > last_of(d) || io_term_at(io, index, &have) != 0 ||
        have != term) {
        dsim_world_fail(n->w, "node %u compacted its log (%llu..%llu) to %llu term %llu",
                        n->id, (unsigned long long)d->start_index + 1,
                        (unsigned long long)last_of(d), (unsigned long long)index,
                        (unsigned long long)term);
        return CLUSTER_ERR_IO;
    }
    size_t drop = (size_t)(index - d->start_index);
    for (size_t i = 0; i < drop; i++)
        free(d->ents[i].data);
    memmove(d->ents, d->ents + drop, (d->count - drop) * sizeof *d->ents);
    d->count -= drop;
    d->start_index = index;
    d->start_term = term;
    if (d->durable < index)
        d->durable = index; /* the snapshot covering them is durable */
    return 0;
}

static void io_hard_state_load(const struct cluster_io *io, struct consensus_hard_state *out)
{
    *out = node_of(io)->disk.hs;
}

static int io_hard_state_save(struct cluster_io *io, const struct consensus_hard_state *hs)
{
    struct dsim_node *n = node_of(io);
    if (fails(n))
        return CLUSTER_ERR_IO;
    n->disk.hs = *hs;
    return 0;
}

static const char *io_last_error(const struct cluster_io *io)
{
    return node_of(io)->io_error ? "an injected I/O error" : "no error";
}

/* The process dies inside this sync: it never returns, so nothing the node does after it
   may leave the node (dsim_net.c and the clients drop it), and the node is crashed as soon
   as the simulator has it back. */
static bool dies(struct dsim_node *n)
{
    if (!n->dying && dsim_chance(&n->w->rng, n->w->faults.crash_in_sync_ppm))
        n->dying = true;
    return n->dying;
}

static int io_sync_due(struct cluster_io *io)
{
    struct dsim_node *n = node_of(io);
    if (dies(n))
        return 0;
    if (fails(n))
        return CLUSTER_ERR_IO;
    n->disk.durable = last_of(&n->disk);
    return 0;
}

static int io_sync_start(struct cluster_io *io)
{
    struct dsim_node *n = node_of(io);
    struct dsim_world *w = n->w;
    if (n->sync_flight)
        dsim_world_fail(w, "node %u started a sync with one in flight", n->id);
    if (fails(n))
        return CLUSTER_ERR_IO;
    n->sync_flight = true;
    n->sync_target = last_of(&n->disk);
    uint64_t took = w->faults.sync_min +
                    dsim_below(&w->rng, w->faults.sync_max - w->faults.sync_min + 1);
    dsim_world_schedule(w, w->now + took, DSIM_EV_SYNC_DONE, n->id, ++n->sync_gen, NULL);
    return 0;
}

static bool io_sync_in_flight(const struct cluster_io *io)
{
    return node_of(io)->sync_flight;
}

static void sync_end(struct dsim_node *n)
{
    n->sync_flight = false;
    n->sync_gen++;
    if (n->disk.durable < n->sync_target)
        n->disk.durable = n->sync_target;
}

static int io_sync_wait(struct cluster_io *io)
{
    struct dsim_node *n = node_of(io);
    if (!n->sync_flight || dies(n))
        return 0;
    if (fails(n)) {
        n->sync_flight = false;
        n->sync_gen++;
        return CLUSTER_ERR_IO;
    }
    sync_end(n);
    return 0;
}

void dsim_io_sync_done(struct dsim_node *n, uint32_t gen)
{
    if (!n->sync_flight || gen != n->sync_gen)
        return; /* ended by sync_wait already */
    if (n->hold_sync) { /* a named scenario releases it (dsim_script.c) */
        n->sync_parked = true;
        n->parked_sync_gen = gen;
        return;
    }
    bool ok = !fails(n);
    if (ok) {
        sync_end(n);
    } else {
        n->sync_flight = false;
        n->sync_gen++;
    }
    n->busy++;
    cluster_io_synced(n->node, ok);
    n->busy--;
    dsim_check_turn(n->w, n->id);
}

static int64_t io_now_ms(const struct cluster_io *io)
{
    return (int64_t)node_of(io)->w->now;
}

static int io_tick_start(struct cluster_io *io, uint32_t ms)
{
    struct dsim_node *n = node_of(io);
    n->ticking = true;
    n->tick_ms = ms;
    dsim_world_schedule(n->w, n->w->now + ms, DSIM_EV_TICK, n->id, ++n->tick_gen, NULL);
    return 0;
}

static void io_tick_stop(struct cluster_io *io)
{
    struct dsim_node *n = node_of(io);
    n->ticking = false;
    n->tick_gen++;
}

void dsim_io_tick(struct dsim_node *n, uint32_t gen)
{
    if (!n->ticking || gen != n->tick_gen)
        return;
    dsim_world_schedule(n->w, n->w->now + n->tick_ms, DSIM_EV_TICK, n->id, gen, NULL);
    n->busy++;
    cluster_io_tick(n->node);
    n->busy--;
}

static void io_schedule(struct cluster_io *io)
{
    struct dsim_node *n = node_of(io);
    if (n->turn_pending)
        return;
    n->turn_pending = true;
    dsim_world_schedule(n->w, n->w->now, DSIM_EV_TURN, n->id, 0, NULL);
}

static const struct cluster_io_ops dsim_io_ops = {
    .last_index = io_last_index,
    .durable_index = io_durable_index,
    .term_at = io_term_at,
    .snapshot_point = io_snapshot_point,
    .load = io_load,
    .append = io_append,
    .truncate_suffix = io_truncate_suffix,
    .reset = io_reset,
    .compact = io_compact,
    .hard_state_load = io_hard_state_load,
    .hard_state_save = io_hard_state_save,
    .last_error = io_last_error,
    .sync_due = io_sync_due,
    .sync_start = io_sync_start,
    .sync_in_flight = io_sync_in_flight,
    .sync_wait = io_sync_wait,
    .now_ms = io_now_ms,
    .tick_start = io_tick_start,
    .tick_stop = io_tick_stop,
    .schedule = io_schedule,
};

void dsim_io_init(struct dsim_node *n)
{
    n->io.ops = &dsim_io_ops;
    n->io.node = NULL;
    n->turn_pending = false;
    n->ticking = false;
    n->sync_flight = false;
    n->sync_target = 0;
    n->io_error = false;
    n->dying = false;
}
