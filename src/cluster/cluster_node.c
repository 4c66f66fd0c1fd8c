/* cluster_node.c: the driver's life cycle and inputs: open, tick, propose, read, peer calls. */
#include "cluster_internal.h"
#include "cluster_io_wal.h"

#include "log.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void cluster_config_default(struct cluster_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->election_timeout_ms = 1000;
    cfg->heartbeat_interval_ms = 100;
    cfg->entry_bytes_max = 1024 * 1024;
}

/* splitmix64: the core's randomness, seeded per node so a failing run can be replayed. */
static uint64_t node_rand(void *ctx)
{
    uint64_t *s = ctx;
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void cluster_schedule(struct cluster_node *n)
{
    if (!n->closing)
        n->io->ops->schedule(n->io);
}

void cluster_fail(struct cluster_node *n, const char *what)
{
    if (n->failed)
        return;
    log_error("cluster: %s failed (%s); this node refuses everything from now on", what,
              n->io->ops->last_error(n->io));
    n->failed = true;
    n->failure = what;
    n->io->ops->tick_stop(n->io);
    /* Proposals the core holds may be in this log and others: their outcome is unknown. */
    cluster_waiters_fail_all(n, CLUSTER_ERR_TIMEOUT, CLUSTER_ERR_IO);
    cluster_schedule(n);
}

void cluster_io_tick(struct cluster_node *n)
{
    if (n->failed)
        return;
    assert(!n->in_ready);
    consensus_tick(n->core);
    int64_t now = cluster_clock(n);
    cluster_waiters_expire(n, now);
    cluster_inbound_expire(n, now);
    cluster_transfer_check(n, now);
    cluster_stats_maybe_log(n, now);
    cluster_schedule(n);
}

static void on_reply(void *ctx, uint32_t peer, int method, uint64_t tag, int err,
                     const void *response)
{
    struct cluster_node *n = ctx;
    assert(!n->in_ready);
    if (n->failed)
        return;
    if (method == TransactionalKV_METHOD_installSnapshot) {
        if (err == 0)
            cluster_heard(n, peer);
        cluster_snap_on_reply(n, peer, tag, err, response);
        cluster_schedule(n);
        return;
    }
    if (method == TransactionalKV_METHOD_timeoutNow) {
        if (err == 0) /* nothing to step: the election it started is the answer */
            cluster_heard(n, peer);
        return;
    }
    if (err != 0) {
        if (method == TransactionalKV_METHOD_readIndex)
            cluster_read_failed(n, tag, err == CLUSTER_ERR_TIMEOUT ? err : CLUSTER_ERR_NO_LEADER);
        return;
    }
    struct consensus_msg m;
    if (cluster_wire_response_in(method, response, peer, n->cfg.id, CONSENSUS_NONE, tag, &m) !=
        0) {
        log_warn("cluster: dropping a malformed %s reply from node %u",
                 TransactionalKV_methods[method].name, peer);
        return;
    }
    cluster_heard(n, peer);
    if (consensus_step(n->core, &m) != 0)
        log_warn("cluster: the core refused a %s reply from node %u",
                 TransactionalKV_methods[method].name, peer);
    cluster_schedule(n);
}

static bool config_ok(const struct cluster_config *c)
{
    return c->node_count <= CONSENSUS_MEMBERS_MAX && c->voters <= c->node_count &&
           (c->voters ? c->voters : c->node_count) <= CONSENSUS_VOTERS_MAX &&
           (c->membership || (c->node_count >= 1 && c->id < c->node_count)) &&
           c->id != CONSENSUS_NONE && c->heartbeat_interval_ms >= 2 &&
           c->election_timeout_ms > c->heartbeat_interval_ms && c->entry_bytes_max >= 1;
}

/* Ticks are a fraction of the heartbeat interval so heartbeats and elections stay precise. */
static void core_config(struct cluster_node *n, struct consensus_config *cc)
{
    consensus_config_default(cc);
    cc->id = n->cfg.id;
    cc->node_count = n->cfg.voters ? n->cfg.voters : n->cfg.node_count;
    n->tick_ms = n->cfg.heartbeat_interval_ms / 2;
    cc->heartbeat_ticks = 2;
    cc->election_ticks = n->cfg.election_timeout_ms / n->tick_ms;
    if (cc->election_ticks <= cc->heartbeat_ticks)
        cc->election_ticks = cc->heartbeat_ticks + 1;
    n->election_ticks = cc->election_ticks;
    cc->entry_bytes_max = n->cfg.entry_bytes_max;
    cc->snapshot_catchup_entries = n->cfg.snapshot_catchup_entries;
    if (cc->uncommitted_bytes_max < cc->entry_bytes_max)
        cc->uncommitted_bytes_max = cc->entry_bytes_max;
    if (cc->batch_entries_max > CLUSTER_WIRE_ENTRIES_MAX)
        cc->batch_entries_max = CLUSTER_WIRE_ENTRIES_MAX;
    cc->incarnation = n->cfg.incarnation;
    cc->cluster_id = n->cfg.cluster_id;
    n->rng = n->cfg.seed;
    cc->rand_u64 = node_rand;
    cc->rand_ctx = &n->rng;
}

void cluster_io_turn(struct cluster_node *n)
{
    cluster_ready_turn(n);
}

void cluster_io_synced(struct cluster_node *n, bool ok)
{
    assert(!n->in_ready);
    if (n->failed)
        return;
    if (!ok) {
        cluster_fail(n, "syncing the log");
        return;
    }
    n->stats.bg_syncs++;
    n->bg_syncs_total++;
    const struct cluster_io_ops *io = n->io->ops;
    consensus_persisted(n->core, io->durable_index(n->io));
    /* Entries appended while it ran get the next sync at once (group commit). */
    if (io->durable_index(n->io) < io->last_index(n->io) && io->sync_start(n->io) != 0)
        cluster_fail(n, "starting a log sync");
    cluster_schedule(n);
}

static int node_start(struct cluster_node *n)
{
    if (n->io->ops->tick_start(n->io, n->tick_ms) != 0)
        return CLUSTER_ERR_NOMEM;
    cluster_transport_bind(n->tp, on_reply, n);
    cluster_schedule(n);
    return 0;
}

int cluster_node_open(const struct cluster_config *cfg, struct event_base *base, struct wal *wal,
                      struct cluster_transport *transport, const struct cluster_callbacks *cb,
                      struct cluster_node **out)
{
    struct cluster_io *io = NULL;
    int rc = cluster_io_wal_new(base, wal, cfg->sync_background, &io);
    if (rc == 0)
        rc = cluster_node_open_io(cfg, io, transport, cb, out);
    if (rc != 0) {
        cluster_io_wal_free(io);
        return rc;
    }
    (*out)->io_owned = true;
    return 0;
}

int cluster_node_open_io(const struct cluster_config *cfg, struct cluster_io *io,
                         struct cluster_transport *transport, const struct cluster_callbacks *cb,
                         struct cluster_node **out)
{
    assert(cb && cb->apply);
    const struct cluster_snapshot_ops *s = &cb->snap;
    assert(!s->begin || (s->open && s->read && s->close && s->recv_begin && s->recv_write &&
                         s->recv_sync && s->recv_abort && s->install));
    if (!config_ok(cfg) || transport->self != cfg->id)
        return CLUSTER_ERR_INVALID;
    struct cluster_node *n = calloc(1, sizeof *n);
    if (!n)
        return CLUSTER_ERR_NOMEM;
    n->cfg = *cfg;
    n->cb = *cb;
    n->io = io;
    io->node = n;
    n->tp = transport;
    n->deferred_tail = &n->deferred;
    for (uint32_t i = 0; i < CONSENSUS_MEMBERS_MAX; i++)
        n->peers[i] = (struct cluster_peer){.id = CONSENSUS_NONE, .last_heard_ms = -1};
    struct consensus_config cc;
    core_config(n, &cc);
    int rc = cluster_recover(n, &cc);
    n->cfg.membership = NULL; /* the caller's: only for opening */
    if (rc == 0)
        cluster_peers_sync(n, consensus_membership(n->core));
    if (rc == 0)
        rc = node_start(n);
    if (rc != 0) {
        cluster_node_close(n);
        return rc;
    }
    log_info("cluster: member %u open (%u members), term %llu, last index %llu, tick %u ms, log "
             "synced %s", cfg->id, consensus_membership(n->core)->count,
             (unsigned long long)consensus_term(n->core),
             (unsigned long long)consensus_last_index(n->core), n->tick_ms,
             cluster_bg_sync(n) ? "in the background" : "in each batch");
    *out = n;
    return 0;
}

int cluster_node_sync_idle(struct cluster_node *n)
{
    assert(!n->in_ready);
    if (cluster_sync_wait(n) != 0) {
        cluster_fail(n, "syncing the log");
        return CLUSTER_ERR_IO;
    }
    cluster_schedule(n); /* the next turn reports what became durable */
    return 0;
}

void cluster_node_close(struct cluster_node *n)
{
    if (!n)
        return;
    assert(!n->in_ready);
    n->closing = true;
    if (cluster_sync_wait(n) != 0) /* before the owner closes the WAL */
        log_error("cluster: the last log sync failed: %s", n->io->ops->last_error(n->io));
    n->io->ops->tick_stop(n->io);
    if (n->tp)
        cluster_transport_bind(n->tp, NULL, NULL);
    cluster_waiters_fail_all(n, CLUSTER_ERR_TIMEOUT, CLUSTER_ERR_CLOSED);
    cluster_waiters_deliver(n);
    cluster_held_fail_all(n, CLUSTER_ERR_CLOSED);
    cluster_inbound_fail_all(n, CLUSTER_ERR_CLOSED);
    cluster_transfer_check(n, INT64_MAX);
    cluster_snap_free_all(n);
    n->io->node = NULL; /* it calls nothing back from now on */
    if (n->io_owned)
        cluster_io_wal_free(n->io);
    consensus_free(n->core);
    free(n);
}
