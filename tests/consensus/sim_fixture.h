/* sim_fixture.h: quiet, reliable worlds for the named scenario tests. */
#ifndef CONSENSUS_SIM_FIXTURE_H
#define CONSENSUS_SIM_FIXTURE_H

#include <criterion/criterion.h>

#include "sim.h"

/* election 10 ticks, heartbeat 2, one time unit per hop, disks sync at once; the first
   `voters` nodes are the bootstrap membership, the others wait to be added. */
static inline void fixture_world_members(struct sim_world *w, uint32_t n, uint32_t voters,
                                         uint64_t seed)
{
    struct consensus_config cfg;
    consensus_config_default(&cfg);
    cfg.election_ticks = 10;
    cfg.heartbeat_ticks = 2;
    cfg.inflight_max = 4;
    cfg.batch_entries_max = 8;
    cfg.entry_bytes_max = 64;
    cfg.uncommitted_bytes_max = 64 * 64;
    cfg.read_pending_max = 16;
    cfg.promote_lag_max = 4;
    sim_world_init_members(w, seed, n, voters, &cfg);
    w->bus.faults = (struct bus_faults){.delay_min = 1, .delay_max = 1};
    w->sync_delay_max = 0;
}

static inline void fixture_world(struct sim_world *w, uint32_t n, uint64_t seed)
{
    fixture_world_members(w, n, n, seed);
}

/* Lets only `node` time out, runs until it leads, and gives everyone else their clock back. */
static inline void fixture_elect(struct sim_world *w, uint32_t node)
{
    for (uint32_t i = 0; i < w->node_count; i++)
        w->no_tick[i] = i != node;
    for (uint32_t t = 0; t < 100 && sim_world_leader(w) != node && !w->failed; t++)
        sim_world_run_ticks(w, 1);
    for (uint32_t i = 0; i < w->node_count; i++)
        w->no_tick[i] = false;
    cr_assert_eq(sim_world_leader(w), node, "seed %llu: node %u did not win",
                 (unsigned long long)w->seed, node);
}

/* Runs until converged (or fails the test after max_ticks). */
static inline void fixture_converge(struct sim_world *w, uint32_t max_ticks)
{
    for (uint32_t t = 0; t < max_ticks && !sim_world_converged(w) && !w->failed; t++)
        sim_world_run_ticks(w, 1);
    if (w->failed)
        sim_world_report(w);
    cr_assert(!w->failed, "seed %llu: %s", (unsigned long long)w->seed, w->failure);
    cr_assert(sim_world_converged(w), "seed %llu: no convergence in %u ticks",
              (unsigned long long)w->seed, max_ticks);
}

static inline void fixture_ok(struct sim_world *w)
{
    if (w->failed)
        sim_world_report(w);
    cr_assert(!w->failed, "seed %llu: %s", (unsigned long long)w->seed, w->failure);
}

static inline void fixture_propose(struct sim_world *w, uint32_t node, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        uint64_t index = 0;
        cr_assert_eq(sim_world_propose(w, node, &index), 0);
        sim_world_step(w);
    }
}

#endif
