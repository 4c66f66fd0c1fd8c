/* test_cluster_sync.c: the leader's log synced on its sync thread, over the in-memory bus. */
#include "cluster_fixture.h"
#include "cluster_internal.h"

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
