/* dsim_run.c: one seed of the driver simulator: chaos, heal, and every node catching up. */
#include "dsim.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>

void dsim_config_default(struct dsim_config *cfg, uint64_t seed)
{
    *cfg = (struct dsim_config){
        .nodes = seed % 7 == 0 ? 7 : seed % 3 == 0 ? 5 : 3,
        .chaos_ms = 2000,
        .heal_ms_max = 20000,
        .background_sync = seed % 2 == 0,
        /* Every fifth seed serves 1 - 3 calls per peer connection at once, so replies let
           buffered calls in from inside their send (dsim_conn.c). */
        .pipeline_max = seed % 5 == 2 ? 1 + (uint32_t)(seed / 5 % 3) : 0,
    };
}

void dsim_config_members(struct dsim_config *cfg, uint64_t seed)
{
    dsim_config_default(cfg, seed);
    cfg->nodes = seed % 2 ? 5 : 7;
    cfg->spares = seed % 2 ? 2 : 3;
    cfg->change_ppm = 20000;
}

/* The seed's weather: how lossy, slow and faulty its links and disks are. */
static void weather(struct dsim_world *w)
{
    uint32_t loss = dsim_chance(&w->rng, 500000) ? (uint32_t)dsim_below(&w->rng, 50000) : 0;
    uint32_t dup = dsim_chance(&w->rng, 300000) ? (uint32_t)dsim_below(&w->rng, 50000) : 0;
    /* A capped link still carries a snapshot chunk (256 KiB) in well under a quarter of the
       election timeout (200 ms here): 40 - 200 Mbit/s. */
    uint32_t rate = dsim_chance(&w->rng, 300000) ? 40000 + (uint32_t)dsim_below(&w->rng, 160000)
                                                  : 0;
    uint32_t delay = 1 + (uint32_t)dsim_below(&w->rng, 30);
    for (uint32_t a = 0; a < w->cfg.nodes; a++)
        for (uint32_t b = 0; b < w->cfg.nodes; b++) {
            struct dsim_link *l = &w->links[a][b];
            l->loss_ppm = loss;
            l->dup_ppm = dup;
            l->rate_kbps = rate;
            l->delay_min = 1;
            l->delay_max = delay;
        }
    w->faults.io_error_ppm = dsim_chance(&w->rng, 300000) ? 200 + (uint32_t)dsim_below(&w->rng, 2000)
                                                           : 0;
    w->faults.sync_max = 1 + (uint32_t)dsim_below(&w->rng, 20);
    w->faults.crash_in_sync_ppm = dsim_chance(&w->rng, 500000) ? 1000 + (uint32_t)dsim_below(&w->rng, 10000) : 0;
}

static void partition(struct dsim_world *w)
{
    uint32_t n = w->cfg.nodes;
    if (dsim_chance(&w->rng, 500000)) { /* one node cut off both ways */
        uint32_t v = (uint32_t)dsim_below(&w->rng, n);
        for (uint32_t b = 0; b < n; b++)
            w->links[v][b].cut = w->links[b][v].cut = b != v;
        return;
    }
    for (uint32_t a = 0; a < n; a++) /* random one-way cuts */
        for (uint32_t b = 0; b < n; b++)
            w->links[a][b].cut = a != b && dsim_chance(&w->rng, 200000);
}

static void on_transferred(void *ctx, int err, uint32_t leader)
{
    struct dsim_world *w = ctx;
    if (err == 0 && leader >= w->cfg.nodes)
        dsim_world_fail(w, "a leadership transfer ended with leader %u", leader);
    w->stats.transferred += err == 0;
}

/* Now and then the leader is asked to hand over, to a random node or the most up-to-date
   follower. Drawn from a stream of its own (seed and time), so that the seeds' other draws,
   and the named seeds, stay as they were until the first transfer. */
static void maybe_transfer(struct dsim_world *w)
{
    uint64_t s = w->seed * 0x9e3779b97f4a7c15ull ^ w->now;
    uint32_t l = dsim_leader(w);
    if (!dsim_chance(&s, 8000) || l == CONSENSUS_NONE || w->nodes[l].node->failed)
        return;
    uint32_t to = (uint32_t)dsim_below(&s, w->cfg.nodes + 1);
    to = to == w->cfg.nodes ? CONSENSUS_NONE : to; /* itself: refused INVALID */
    int rc = cluster_transfer_leader(w->nodes[l].node, to, on_transferred, w);
    w->stats.transfers += rc == 0;
    if (rc != 0 && rc != CLUSTER_ERR_INVALID && rc != CLUSTER_ERR_BUSY)
        dsim_world_fail(w, "transfer from leader %u refused: %s", l, cluster_strerror(rc));
}

/* Every 10 ms of chaos: load, and now and then a fault or a repair. */
static void chaos_step(struct dsim_world *w)
{
    uint32_t n = w->cfg.nodes;
    uint32_t writes = (uint32_t)dsim_below(&w->rng, 4);
    for (uint32_t k = 0; k < writes; k++) {
        uint32_t at = dsim_chance(&w->rng, 700000) && dsim_leader(w) != CONSENSUS_NONE
                          ? dsim_leader(w)
                          : (uint32_t)dsim_below(&w->rng, n);
        dsim_propose(w, at, (uint32_t)dsim_below(&w->rng, DSIM_KEYS));
    }
    if (dsim_chance(&w->rng, 300000))
        dsim_read(w, (uint32_t)dsim_below(&w->rng, n));
    /* Seeds with a small pipeline forward writes too: answered from apply, they let the
       follower's next call in inside the leader's batch (cluster_held.c). */
    uint32_t l = dsim_leader(w);
    if (w->cfg.pipeline_max && l != CONSENSUS_NONE && dsim_chance(&w->rng, 300000))
        dsim_forward(w, (l + 1 + (uint32_t)dsim_below(&w->rng, n - 1)) % n, l,
                     (uint32_t)dsim_below(&w->rng, DSIM_KEYS));
    if (dsim_chance(&w->rng, 15000))
        partition(w);
    if (dsim_chance(&w->rng, 10000))
        dsim_net_heal(w);
    maybe_transfer(w);
    uint32_t v = (uint32_t)dsim_below(&w->rng, n);
    struct dsim_node *node = &w->nodes[v];
    if (node->up && dsim_chance(&w->rng, node->node->failed ? 200000 : 6000))
        dsim_node_crash(w, v);
    else if (!node->up && w->now - node->down_since > 100 && dsim_chance(&w->rng, 50000))
        dsim_node_start(w, v);
    if (w->cfg.change_ppm > 0 && dsim_chance(&w->rng, w->cfg.change_ppm))
        dsim_member_step(w);
}

/* Every node up, one leader, each applied all of the leader's log, the same state. */
static bool caught_up(const struct dsim_world *w)
{
    uint32_t l = dsim_leader(w);
    if (l == CONSENSUS_NONE)
        return false;
    const struct cluster_node *ln = w->nodes[l].node;
    uint64_t last = consensus_last_index(ln->core);
    if (consensus_commit_index(ln->core) != last)
        return false;
    for (uint32_t i = 0; i < w->cfg.nodes; i++) {
        const struct dsim_node *n = &w->nodes[i];
        if (!dsim_member_is(w, i))
            continue; /* removed, or never added: nothing is sent to it */
        if (!n->up || n->node->failed || n->sm.applied != last ||
            consensus_leader(n->node->core) != l || n->sm.digest != w->nodes[l].sm.digest)
            return false;
    }
    return true;
}

/* Runs until caught up, at most max_ms; false (and the world failed) if never. */
static bool run_until_caught_up(struct dsim_world *w, uint32_t max_ms, const char *what)
{
    uint64_t from = w->now;
    while (!w->failed && !caught_up(w)) {
        if (w->now - from > max_ms) {
            dsim_world_fail(w, "liveness: %s: the nodes did not catch up within %u ms", what,
                            max_ms);
            return false;
        }
        dsim_world_run(w, w->now + 10);
        dsim_check_answers(w);
    }
    return !w->failed;
}

static void heal_all(struct dsim_world *w)
{
    dsim_net_heal(w);
    w->faults.io_error_ppm = 0;
    w->faults.crash_in_sync_ppm = 0;
    for (uint32_t i = 0; i < w->cfg.nodes; i++) {
        if (w->nodes[i].up && w->nodes[i].node->failed)
            dsim_node_crash(w, i);
        dsim_node_start(w, i);
    }
}

/* One follower is down while the leader writes and compacts past it: it must be fed the
   leader's snapshot, and catch up. */
static void snapshot_catch_up(struct dsim_world *w)
{
    uint32_t l = dsim_leader(w);
    uint32_t v = (l + 1 + (uint32_t)dsim_below(&w->rng, w->cfg.nodes - 1)) % w->cfg.nodes;
    v = dsim_member_may_stop(w, l, v);
    if (v == CONSENSUS_NONE)
        return; /* no member but the leader can stop and leave a majority of voters up */
    uint64_t installs = w->nodes[v].installs;
    dsim_node_crash(w, v);
    uint64_t behind = w->nodes[v].disk.start_index + w->nodes[v].disk.count;
    uint64_t from = w->now;
    /* Until a leader's log starts past what the follower holds. */
    for (;;) {
        l = dsim_leader(w);
        const struct cluster_node *ln = l != CONSENSUS_NONE ? w->nodes[l].node : NULL;
        if (w->failed || (ln && consensus_first_index(ln->core) > behind + 1))
            break;
        if (w->now - from > w->cfg.heal_ms_max) {
            dsim_world_fail(w, "liveness: no leader compacted past %llu (now leader %d)",
                            (unsigned long long)behind, (int)l);
            return;
        }
        if (ln)
            dsim_propose(w, l, (uint32_t)dsim_below(&w->rng, DSIM_KEYS));
        dsim_world_run(w, w->now + 5);
        dsim_check_answers(w);
    }
    dsim_node_start(w, v);
    if (run_until_caught_up(w, w->cfg.heal_ms_max, "a follower behind a compacted log") &&
        w->nodes[v].installs == installs)
        dsim_world_fail(w, "node %u caught up behind a compacted log without a snapshot", v);
}

/* Every client was answered: none waits forever. */
static void all_answered(struct dsim_world *w)
{
    dsim_world_run(w, w->now + 3 * w->ccfg.election_timeout_ms);
    for (size_t i = 0; i < w->op_count && !w->failed; i++)
        if (!w->ops[i]->done)
            dsim_world_fail(w, "a %s at node %u begun at %llu ms was never answered",
                            w->ops[i]->read ? "read" : "proposal", w->ops[i]->node,
                            (unsigned long long)w->ops[i]->started_at);
}

bool dsim_run(uint64_t seed, const struct dsim_config *cfg, struct dsim_stats *out)
{
    /* The driver's log only when asked (--verbose): a seed logs thousands of lines. */
    log_set_level(cfg->verbose ? LOG_DEBUG : (enum log_level)(LOG_ERROR + 1));
    struct dsim_world *w = malloc(sizeof *w);
    if (!w)
        abort();
    dsim_world_init(w, seed, cfg);
    weather(w);
    while (!w->failed && w->now < cfg->chaos_ms) {
        chaos_step(w);
        dsim_world_run(w, w->now + 10);
        dsim_check_answers(w);
    }
    uint64_t healed_at = w->now;
    if (!w->failed) {
        heal_all(w);
        run_until_caught_up(w, cfg->heal_ms_max, "after healing");
    }
    w->stats.heal_ms = w->now - healed_at;
    if (!w->failed)
        snapshot_catch_up(w);
    if (!w->failed)
        all_answered(w);
    bool ok = !w->failed;
    if (!ok)
        fprintf(stderr, "dsim: seed %llu (%u nodes, %s syncs) failed %s\n(replay: dsim --seed "
                        "%llu)\n", (unsigned long long)seed, cfg->nodes,
                cfg->background_sync ? "background" : "in-batch", w->failure,
                (unsigned long long)seed);
    if (out)
        *out = w->stats;
    dsim_world_free(w);
    free(w);
    return ok;
}
