/* test_cluster_sync.c: the leader's log synced on its sync thread, over the in-memory bus. */
#include "cluster_fixture.h"
#include "cluster_internal.h"
#include "wal.h"

#include <criterion/criterion.h>

static void propose_and_check(uint32_t n, bool in_batch, const char *name)
{
    struct fixture fx;
    fx_init(&fx, FX_BUS, n, name);
    fx.sync_in_batch = in_batch;
    fx_open_all(&fx);
    uint32_t leader = fx_wait_leader(&fx, 5000);
    cr_assert_eq(fx_propose_n(&fx, leader, 300, 10000), 300, "seed %llu",
                 (unsigned long long)fx.seed);
    struct cluster_status st;
    cluster_status(fx.nodes[leader].node, &st);
    cr_assert(fx_wait_applied(&fx, st.last_index, 5000));
    fx_check_same(&fx);
    uint64_t bg = fx.nodes[leader].node->bg_syncs_total;
    if (in_batch)
        cr_assert_eq(bg, 0);
    else
        cr_assert_gt(bg, 0, "the leader's entries never went through its sync thread");
    /* Close and reopen the leader: the log it synced in the background is all there. */
    fx_close(&fx, leader);
    fx_open(&fx, leader);
    cr_assert(fx_wait_applied(&fx, st.last_index, 5000), "seed %llu",
              (unsigned long long)fx.seed);
    fx_check_same(&fx);
    fx_fini(&fx);
}

/* A lone node is its own majority: only the sync thread's report can commit its entries. */
Test(cluster_sync, a_lone_leader_commits_once_its_sync_thread_reports, .timeout = 30)
{
    propose_and_check(1, false, "a_lone_leader_commits_once_its_sync_thread_reports");
}

Test(cluster_sync, three_nodes_agree_with_the_leader_syncing_in_the_background, .timeout = 30)
{
    propose_and_check(3, false, "three_nodes_agree_with_the_leader_syncing_in_the_background");
}

Test(cluster_sync, three_nodes_agree_with_every_batch_synced_in_place, .timeout = 30)
{
    propose_and_check(3, true, "three_nodes_agree_with_every_batch_synced_in_place");
}

static bool all_durable(struct fixture *fx, void *arg)
{
    (void)arg;
    for (uint32_t i = 0; i < fx->n; i++)
        if (wal_durable_index(fx->nodes[i].wal) < wal_last_index(fx->nodes[i].wal))
            return false;
    return true;
}

static void propose_under_interval(struct fixture *fx, uint32_t interval_ms, const char *name)
{
    fx_init(fx, FX_BUS, 3, name);
    fx->fsync_interval_ms = interval_ms;
    fx_open_all(fx);
    uint32_t leader = fx_wait_leader(fx, 5000);
    cr_assert_eq(fx_propose_n(fx, leader, 200, 10000), 200, "seed %llu",
                 (unsigned long long)fx->seed);
    struct cluster_status st;
    cluster_status(fx->nodes[leader].node, &st);
    cr_assert(fx_wait_applied(fx, st.last_index, 5000));
}

/* storage.fsync 60000: the first batch syncs, the next ones are acknowledged unsynced for up
   to a minute, as asked; a driver that synced every batch anyway would leave nothing behind. */
Test(cluster_sync, an_fsync_interval_is_honoured_not_synced_per_batch, .timeout = 30)
{
    struct fixture fx;
    propose_under_interval(&fx, 60000, "an_fsync_interval_is_honoured_not_synced_per_batch");
    for (uint32_t i = 0; i < fx.n; i++)
        cr_assert_lt(wal_durable_index(fx.nodes[i].wal), wal_last_index(fx.nodes[i].wal),
                     "node %u synced every batch under a 60 s interval (seed %llu)", i,
                     (unsigned long long)fx.seed);
    fx_check_same(&fx);
    fx_fini(&fx);
}

/* storage.fsync 100: with no further writes, the unsynced tail is synced anyway (heartbeat
   turns run the due sync). */
Test(cluster_sync, an_idle_node_syncs_its_tail_within_the_interval, .timeout = 30)
{
    struct fixture fx;
    propose_under_interval(&fx, 100, "an_idle_node_syncs_its_tail_within_the_interval");
    cr_assert(fx_wait(&fx, all_durable, NULL, 3000),
              "an unsynced tail stayed unsynced with no writes coming (seed %llu)",
              (unsigned long long)fx.seed);
    fx_check_same(&fx);
    fx_fini(&fx);
}
