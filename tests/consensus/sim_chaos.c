/* sim_chaos.c: one seeded run: random proposals and faults, then heal, converge, fail over. */
#include <stdio.h>
#include <string.h>

#include "sim.h"

#define SIM_CHAOS_ELECTION_TICKS 10u

void sim_chaos_config_members(struct sim_chaos_config *cfg, uint32_t nodes)
{
    sim_chaos_config_default(cfg, nodes);
    cfg->spares = SIM_NODES_MAX - nodes < 3 ? SIM_NODES_MAX - nodes : 3;
    cfg->change_ppm = 10000;
    /* A node added empty to a long log that no snapshot covers yet catches up entry by entry,
       in this world's batches of 1 - 8 entries over a reordering, duplicating link: up to
       up to 705 ticks over 9,000 seeds). */
    cfg->heal_ticks_max = 1000;
}

void sim_chaos_config_default(struct sim_chaos_config *cfg, uint32_t nodes)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->nodes = nodes;
    cfg->chaos_ticks = 300;
    cfg->heal_ticks_max = 400;
    cfg->failover_ticks_max = 200;
    /* A leader cut off steps down within two election timeouts (check-quorum), answering
       what it holds; a follower that still followed it times out within two more. (2,000
       seeds: the worst is 7 ticks, as the majority rarely elects before the old leader quit.) */
    cfg->answer_bound_ticks = 4 * SIM_CHAOS_ELECTION_TICKS;
    /* Member identity on, and now and then a node's data dir wiped (sim_world_may_wipe says
       when: the window HACKING.md names is left out); heal removes the refused members. */
    cfg->identity = true;
    cfg->wipe_ppm = 1000;
}

static void world_config(struct consensus_config *cfg, struct sim_rng *rng)
{
    consensus_config_default(cfg);
    cfg->election_ticks = SIM_CHAOS_ELECTION_TICKS;
    cfg->heartbeat_ticks = 2;
    cfg->inflight_max = 1 + (uint32_t)sim_rng_below(rng, 4);
    cfg->batch_entries_max = 1 + (uint32_t)sim_rng_below(rng, 8);
    cfg->batch_bytes_max = 64 + (uint32_t)sim_rng_below(rng, 256);
    cfg->entry_bytes_max = 64;
    cfg->uncommitted_bytes_max = 64 * (2 + sim_rng_below(rng, 30));
    cfg->read_pending_max = 8;
    /* A learner is promoted only within a few entries of the commit: a far-behind one would
       leave the voters without a working majority until it caught up, slowly in this world. */
    cfg->promote_lag_max = 8;
    /* Half the runs keep a tail of the log below each snapshot. */
    cfg->snapshot_catchup_entries = sim_rng_chance(rng, 500000) ? 0 : sim_rng_below(rng, 30);
}

/* Snapshots of 1..60 chunks, paced and windowed: the longest take several election
   timeouts, longer still when chunks are lost. */
static void snap_config(struct sim_snap_config *snap, struct sim_rng *rng)
{
    *snap = (struct sim_snap_config){
        .chunks_max = 1 + (uint32_t)sim_rng_below(rng, 60),
        .chunk_units = 1 + (uint32_t)sim_rng_below(rng, 3),
        .window = 2 + (uint32_t)sim_rng_below(rng, 7),
        .resend_units = 10 + (uint32_t)sim_rng_below(rng, 40),
    };
}

/* One random fault or repair. */
static void fault(struct sim_world *w)
{
    uint32_t n = w->node_count;
    uint32_t a = (uint32_t)sim_rng_below(&w->rng, n);
    uint32_t b = (uint32_t)sim_rng_below(&w->rng, n);
    uint32_t leader = sim_world_leader(w);
    switch (sim_rng_below(&w->rng, 10)) {
    case 0:
        sim_world_crash(w, a);
        break;
    case 1:
    case 2:
        sim_world_restart(w, a);
        break;
    case 3:
        if (a != b)
            w->bus.cut[a][b] = true; /* one way */
        sim_trace_add(&w->trace, w->now, "CUT %u->%u", a, b);
        break;
    case 4:
        bus_isolate(&w->bus, a, n);
        sim_trace_add(&w->trace, w->now, "ISOLATE %u", a);
        break;
    case 5:
        bus_heal(&w->bus);
        sim_trace_add(&w->trace, w->now, "HEAL network");
        break;
    case 6:
        sim_world_crash(w, leader == CONSENSUS_NONE ? a : leader);
        break;
    case 7:
        /* The old leader keeps its role until check-quorum sees it alone, while the others
           elect and commit: two nodes believe they lead (reads at the old one must wait). */
        bus_isolate(&w->bus, leader == CONSENSUS_NONE ? a : leader, n);
        sim_trace_add(&w->trace, w->now, "ISOLATE leader %u", leader == CONSENSUS_NONE ? a : leader);
        break;
    case 8:
        sim_world_compact(w, a);
        break;
    default:
        /* Leadership transfer to a random node (itself: the most up-to-date follower). */
        if (leader != CONSENSUS_NONE && !w->nodes[leader].syncing) {
            uint32_t to = a == leader ? CONSENSUS_NONE : a;
            int err = consensus_transfer_leader(w->nodes[leader].core, to);
            sim_trace_add(&w->trace, w->now, "TRANSFER %u -> %d: %s", leader,
                          to == CONSENSUS_NONE ? -1 : (int)to, consensus_strerror(err));
        }
        break;
    }
}

/* A node that believes it leads, picked at random (a deposed one too); else any node. */
static uint32_t some_leader(struct sim_world *w)
{
    uint32_t leaders[SIM_NODES_MAX], count = 0;
    for (uint32_t i = 0; i < w->node_count; i++)
        if (w->nodes[i].core && consensus_role(w->nodes[i].core) == CONSENSUS_LEADER)
            leaders[count++] = i;
    if (count == 0)
        return (uint32_t)sim_rng_below(&w->rng, w->node_count);
    return leaders[sim_rng_below(&w->rng, count)];
}

/* Writes to the leader, writes to any node (a follower forwards them to the leader it
   knows, a leader proposes them, even one deposed without knowing it), reads anywhere. */
static void client_load(struct sim_world *w)
{
    uint32_t l = sim_world_leader(w);
    if (l != CONSENSUS_NONE && sim_rng_chance(&w->rng, 300000))
        sim_world_propose(w, l, NULL);
    if (sim_rng_chance(&w->rng, 50000)) {
        uint32_t x = (uint32_t)sim_rng_below(&w->rng, w->node_count);
        const struct consensus_node *c = w->nodes[x].core;
        if (c != NULL && consensus_role(c) == CONSENSUS_LEADER)
            sim_world_propose(w, x, NULL);
        else
            sim_world_forward(w, x);
    }
    if (sim_rng_chance(&w->rng, 20000))
        sim_world_read(w, (uint32_t)sim_rng_below(&w->rng, w->node_count));
    if (sim_rng_chance(&w->rng, 20000))
        sim_world_read(w, some_leader(w));
}

/* The operator's part: a member whose data dir was wiped is refused; remove it (before any
   other change: true while one is left). */
static bool remove_wiped(struct sim_world *w)
{
    uint32_t l = sim_world_leader(w);
    if (l == CONSENSUS_NONE)
        return false;
    const struct consensus_membership *m = consensus_membership(w->nodes[l].core);
    for (uint32_t k = 0; k < m->count; k++) {
        uint32_t id = m->members[k].id;
        if (id < w->node_count && w->nodes[id].wipes > 0) {
            sim_world_change(w, l, CONSENSUS_CHANGE_REMOVE, id, NULL);
            return true;
        }
    }
    return false;
}

/* One random membership change at the leader: add a spare node (learner or voter), promote a
   learner, remove any member (the leader too). What the core refuses (a change in flight, a
   learner behind, the last voter) is simply not done. */
static void member_change(struct sim_world *w)
{
    uint32_t l = sim_world_leader(w);
    if (l == CONSENSUS_NONE || remove_wiped(w))
        return;
    const struct consensus_membership *m = consensus_membership(w->nodes[l].core);
    const struct consensus_member *pick = &m->members[sim_rng_below(&w->rng, m->count)];
    switch (sim_rng_below(&w->rng, 5)) {
    case 0:
    case 1:
        sim_world_change(w, l, CONSENSUS_CHANGE_ADD_LEARNER, 0, NULL);
        break;
    case 2:
        sim_world_change(w, l, CONSENSUS_CHANGE_ADD_VOTER, 0, NULL);
        break;
    case 3:
        sim_world_change(w, l, CONSENSUS_CHANGE_PROMOTE, pick->id, NULL);
        break;
    default:
        sim_world_change(w, l, CONSENSUS_CHANGE_REMOVE, pick->id, NULL);
        break;
    }
}

/* Wipes a random node's data dir when that is outside identity's window (sim.h). */
static void wipe(struct sim_world *w)
{
    uint32_t a = (uint32_t)sim_rng_below(&w->rng, w->node_count);
    if (sim_world_may_wipe(w, a))
        sim_world_wipe(w, a);
}

static void chaos(struct sim_world *w, const struct sim_chaos_config *cfg)
{
    w->bus.faults = (struct bus_faults){
        .drop_ppm = (uint32_t)sim_rng_below(&w->rng, 200000),
        .dup_ppm = (uint32_t)sim_rng_below(&w->rng, 50000),
        .delay_min = 1,
        .delay_max = 2 + (uint32_t)sim_rng_below(&w->rng, 20),
    };
    uint32_t fault_ppm = 3000 + (uint32_t)sim_rng_below(&w->rng, 12000);
    /* Up to 2% of messages stall for up to three election timeouts. */
    w->bus.faults.stall_ppm = (uint32_t)sim_rng_below(&w->rng, 20000);
    w->bus.faults.stall_max = 3 * w->cfg.election_ticks * w->tick_units;
    uint64_t end = w->now + (uint64_t)cfg->chaos_ticks * w->tick_units;
    while (w->now < end && !w->failed) {
        client_load(w);
        if (sim_rng_chance(&w->rng, fault_ppm))
            fault(w);
        if (cfg->change_ppm > 0 && sim_rng_chance(&w->rng, cfg->change_ppm))
            member_change(w);
        if (cfg->wipe_ppm > 0 && sim_rng_chance(&w->rng, cfg->wipe_ppm))
            wipe(w);
        sim_world_step(w);
    }
}

/* Heal everything; count ticks until a leader serves all nodes a common, applied log. */
static uint32_t heal(struct sim_world *w, const struct sim_chaos_config *cfg)
{
    bus_heal(&w->bus);
    w->bus.faults.drop_ppm = 0;
    sim_trace_add(&w->trace, w->now, "HEAL all");
    for (uint32_t i = 0; i < w->node_count; i++)
        sim_world_restart(w, i);
    uint64_t start = w->now;
    uint64_t limit = start + (uint64_t)cfg->heal_ticks_max * w->tick_units;
    while (!w->failed && !sim_world_converged(w)) {
        if (w->now >= limit) {
            sim_world_fail(w, "no convergence %u ticks after healing", cfg->heal_ticks_max);
            break;
        }
        remove_wiped(w);
        sim_world_step(w);
    }
    return (uint32_t)((w->now - start) / w->tick_units);
}

/* Crash the leader of a healthy cluster; count ticks until another node leads. */
static uint32_t failover(struct sim_world *w, const struct sim_chaos_config *cfg)
{
    uint32_t old = sim_world_leader(w);
    if (old == CONSENSUS_NONE ||
        consensus_membership_voters(consensus_membership(w->nodes[old].core)) < 3)
        return 0;
    sim_world_crash(w, old);
    uint64_t start = w->now;
    uint64_t limit = start + (uint64_t)cfg->failover_ticks_max * w->tick_units;
    while (!w->failed && sim_world_leader(w) == CONSENSUS_NONE) {
        if (w->now >= limit) {
            sim_world_fail(w, "no leader %u ticks after the leader crashed",
                           cfg->failover_ticks_max);
            break;
        }
        sim_world_step(w);
    }
    uint32_t ticks = (uint32_t)((w->now - start + w->tick_units - 1) / w->tick_units);
    sim_world_restart(w, old);
    return ticks;
}

static bool run_once(uint64_t seed, const struct sim_chaos_config *cfg,
                     struct sim_chaos_result *out, bool messages)
{
    struct sim_world w;
    struct sim_rng cfg_rng = {seed ^ 0xA5A5A5A5u};
    struct consensus_config ccfg;
    world_config(&ccfg, &cfg_rng);
    sim_world_init_members(&w, seed, cfg->nodes + cfg->spares, cfg->nodes, &ccfg);
    if (cfg->identity)
        sim_world_identity(&w);
    /* Leaders sync in the background always, never, or batch by batch at random. */
    static const uint32_t defer_ppm[] = {1000000, 1000000, 500000, 0};
    w.defer_ppm = defer_ppm[sim_rng_below(&cfg_rng, 4)];
    w.bg_delay_max = 1 + (uint32_t)sim_rng_below(&cfg_rng, 8);
    w.answer_bound_ticks = cfg->answer_bound_ticks;
    snap_config(&w.snap, &cfg_rng);
    w.trace.messages = messages;
    w.trace.verbose = cfg->verbose;
    chaos(&w, cfg);
    if (!w.failed)
        out->heal_ticks = heal(&w, cfg);
    if (!w.failed)
        out->failover_ticks = failover(&w, cfg);
    if (!w.failed)
        sim_world_run_ticks(&w, 50); /* the old leader rejoins */
    if (!w.failed)
        sim_check_final(&w);
    out->ok = !w.failed;
    out->steps = w.now;
    out->core_inputs = w.core_inputs;
    out->committed = w.check.len;
    out->acked = w.check.acked;
    out->reads = w.reads_done;
    out->bg_syncs = w.bg_syncs;
    out->forwards = w.forwards_answered;
    out->answer_ticks_max = (uint32_t)(w.answer_after_change_max / w.tick_units);
    out->snap = w.snap_stats;
    out->changes = w.check.configs;
    out->wipes = w.wipes;
    if (w.failed && messages)
        sim_world_report(&w);
    sim_world_free(&w);
    return out->ok;
}

bool sim_chaos_run(uint64_t seed, const struct sim_chaos_config *cfg, struct sim_chaos_result *out)
{
    memset(out, 0, sizeof *out);
    if (run_once(seed, cfg, out, cfg->verbose))
        return true;
    if (!cfg->verbose) {
        /* Deterministic: run it again recording every message for the report. */
        struct sim_chaos_result again;
        memset(&again, 0, sizeof again);
        run_once(seed, cfg, &again, true);
    }
    return false;
}
