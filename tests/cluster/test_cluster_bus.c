/* test_cluster_bus.c: three cluster_nodes over the in-memory bus: election, replication, faults. */
#include "cluster_fixture.h"

#include <criterion/criterion.h>

/* Raft §5.2: one leader is elected; §5.3: entries commit and apply in one order everywhere. */
Test(cluster_bus, elects_a_leader_and_replicates_in_order, .timeout = 30)
{
    struct fixture fx;
    fx_init(&fx, FX_BUS, 3, "elects_a_leader_and_replicates_in_order");
    fx_open_all(&fx);
    uint32_t leader = fx_wait_leader(&fx, 5000);
    cr_assert_eq(fx_propose_n(&fx, leader, 200, 10000), 200);
    struct cluster_status st;
    cluster_status(fx.nodes[leader].node, &st);
    cr_assert(fx_wait_applied(&fx, st.last_index, 5000));
    fx_check_same(&fx);
    fx_fini(&fx);
}

static bool new_leader_not(struct fixture *fx, void *arg)
{
    int l = fx_leader(fx);
    return l >= 0 && (uint32_t)l != *(uint32_t *)arg;
}

/* §5.2: when the leader stops, another is elected within a few election timeouts. */
Test(cluster_bus, a_stopped_leader_is_replaced, .timeout = 30)
{
    struct fixture fx;
    fx_init(&fx, FX_BUS, 3, "a_stopped_leader_is_replaced");
    fx_open_all(&fx);
    uint32_t old = fx_wait_leader(&fx, 5000);
    cr_assert_eq(fx_propose_n(&fx, old, 20, 5000), 20);
    fx_close(&fx, old);
    cr_assert(fx_wait(&fx, new_leader_not, &old, 3000), "no new leader in 3 s (seed %llu)",
              (unsigned long long)fx.seed);
    uint32_t leader = (uint32_t)fx_leader(&fx);
    cr_assert_eq(fx_propose_n(&fx, leader, 20, 5000), 20);
    /* The old leader comes back as a follower and catches up. */
    fx_open(&fx, old);
    struct cluster_status st;
    cluster_status(fx.nodes[leader].node, &st);
    cr_assert(fx_wait_applied(&fx, st.last_index, 5000));
    fx_check_same(&fx);
    fx_fini(&fx);
}

/* A follower that was down replays its own log and receives what it missed. */
Test(cluster_bus, a_restarted_follower_catches_up, .timeout = 30)
{
    struct fixture fx;
    fx_init(&fx, FX_BUS, 3, "a_restarted_follower_catches_up");
    fx_open_all(&fx);
    uint32_t leader = fx_wait_leader(&fx, 5000);
    uint32_t down = (leader + 1) % 3;
    cr_assert_eq(fx_propose_n(&fx, leader, 30, 5000), 30);
    fx_close(&fx, down);
    cr_assert_eq(fx_propose_n(&fx, leader, 100, 5000), 100);
    fx_open(&fx, down);
    struct cluster_status st;
    cluster_status(fx.nodes[leader].node, &st);
    cr_assert(fx_wait_applied(&fx, st.last_index, 5000));
    fx_check_same(&fx);
    fx_fini(&fx);
}

struct partition_probe {
    uint32_t old;
    uint32_t done, ok;
};

static void count_done(void *ctx, int err, uint64_t index, uint32_t leader)
{
    struct partition_probe *p = ctx;
    (void)index, (void)leader;
    p->done++;
    p->ok += err == 0;
}

/* §5.4 / thesis §6.2: a minority commits nothing; after healing, everyone converges. */
Test(cluster_bus, a_partitioned_minority_commits_nothing, .timeout = 30)
{
    struct fixture fx;
    fx_init(&fx, FX_BUS, 3, "a_partitioned_minority_commits_nothing");
    fx_open_all(&fx);
    uint32_t old = fx_wait_leader(&fx, 5000);
    cr_assert_eq(fx_propose_n(&fx, old, 10, 5000), 10);
    struct cluster_status before;
    cluster_status(fx.nodes[old].node, &before);
    fx_isolate(&fx, old, true);
    struct partition_probe probe = {.old = old};
    for (int i = 0; i < 5; i++)
        cluster_propose(fx.nodes[old].node, "minority", 8, count_done, &probe);
    cr_assert(fx_wait(&fx, new_leader_not, &old, 3000), "majority elected no leader");
    uint32_t leader = (uint32_t)fx_leader(&fx);
    cr_assert_eq(fx_propose_n(&fx, leader, 20, 5000), 20);
    struct cluster_status iso;
    cluster_status(fx.nodes[old].node, &iso);
    cr_assert_eq(iso.commit_index, before.commit_index, "the minority committed");
    cr_assert_eq(probe.ok, 0);
    fx_isolate(&fx, old, false);
    struct cluster_status st;
    cluster_status(fx.nodes[leader].node, &st);
    cr_assert(fx_wait_applied(&fx, st.last_index, 5000));
    fx_check_same(&fx);
    cr_assert(fx_wait(&fx, new_leader_not, &old, 1000));
    cr_assert_eq(probe.ok, 0, "a minority proposal reported success");
    fx_fini(&fx);
}

struct stranded_probe {
    uint32_t done, timeouts;
};

static void count_stranded(void *ctx, int err, uint64_t index, uint32_t leader)
{
    struct stranded_probe *p = ctx;
    (void)index, (void)leader;
    p->done++;
    p->timeouts += err == CLUSTER_ERR_TIMEOUT;
}

static bool stranded_done(struct fixture *fx, void *arg)
{
    (void)fx;
    return ((struct stranded_probe *)arg)->done == 5;
}

/* A leader cut off answers its pending proposals as soon as check-quorum deposes it (within
   two election timeouts of 300 ms): TIMEOUT, their outcome unknown. Before, they waited for
   their index to be applied, which an isolated node never sees. */
Test(cluster_bus, a_deposed_leader_answers_its_proposals_at_once, .timeout = 30)
{
    struct fixture fx;
    fx_init(&fx, FX_BUS, 3, "a_deposed_leader_answers_its_proposals_at_once");
    fx_open_all(&fx);
    uint32_t old = fx_wait_leader(&fx, 5000);
    cr_assert_eq(fx_propose_n(&fx, old, 5, 5000), 5);
    fx_isolate(&fx, old, true);
    struct stranded_probe probe = {0};
    for (int i = 0; i < 5; i++)
        cluster_propose(fx.nodes[old].node, "stranded", 8, count_stranded, &probe);
    /* Two election timeouts for check-quorum, plus slack for a loaded machine. */
    cr_assert(fx_wait(&fx, stranded_done, &probe, 2 * 300 + 1000),
              "%u of 5 answered (seed %llu)", probe.done, (unsigned long long)fx.seed);
    cr_assert_eq(probe.timeouts, 5);
    struct cluster_status st;
    cluster_status(fx.nodes[old].node, &st);
    cr_assert_neq(st.role, CONSENSUS_LEADER);
    fx_fini(&fx);
}

/* §7: a follower behind the leader's compacted log gets the snapshot, then the rest. */
Test(cluster_bus, a_far_behind_follower_catches_up_by_snapshot, .timeout = 30)
{
    struct fixture fx;
    fx_init(&fx, FX_BUS, 3, "a_far_behind_follower_catches_up_by_snapshot");
    fx.snapshot_every = 40;
    fx_open_all(&fx);
    uint32_t leader = fx_wait_leader(&fx, 5000);
    uint32_t down = (leader + 1) % 3;
    cr_assert_eq(fx_propose_n(&fx, leader, 10, 5000), 10);
    fx_close(&fx, down);
    cr_assert_eq(fx_propose_n(&fx, leader, 150, 10000), 150);
    struct cluster_status st;
    cluster_status(fx.nodes[leader].node, &st);
    cr_assert_gt(st.snapshot_index, 40, "the leader never compacted");
    fx_open(&fx, down);
    cr_assert(fx_wait_applied(&fx, st.last_index, 5000), "seed %llu",
              (unsigned long long)fx.seed);
    cr_assert_geq(fx.nodes[down].snapshots_restored, 1);
    fx_check_same(&fx);
    cr_assert_eq(fx_propose_n(&fx, leader, 10, 5000), 10);
    fx_fini(&fx);
}

struct read_probe {
    int err;
    uint64_t index;
    bool done;
};

static void on_read(void *ctx, int err, uint64_t index)
{
    struct read_probe *p = ctx;
    p->err = err;
    p->index = index;
    p->done = true;
}

static bool read_done(struct fixture *fx, void *arg)
{
    (void)fx;
    return ((struct read_probe *)arg)->done;
}

/* Thesis §6.4: a read index covers every write acknowledged before the read, on any node. */
Test(cluster_bus, read_index_on_leader_and_follower_covers_acknowledged_writes, .timeout = 30)
{
    struct fixture fx;
    fx_init(&fx, FX_BUS, 3, "read_index_on_leader_and_follower");
    fx_open_all(&fx);
    uint32_t leader = fx_wait_leader(&fx, 5000);
    cr_assert_eq(fx_propose_n(&fx, leader, 20, 5000), 20);
    struct cluster_status st;
    cluster_status(fx.nodes[leader].node, &st);
    for (uint32_t k = 0; k < 3; k++) {
        uint32_t id = (leader + k) % 3;
        struct read_probe p = {0};
        cluster_read_index(fx.nodes[id].node, on_read, &p);
        cr_assert_not(p.done, "a read finished inline");
        cr_assert(fx_wait(&fx, read_done, &p, 3000), "read on node %u never finished", id);
        cr_assert_eq(p.err, 0, "read on node %u: %s", id, cluster_strerror(p.err));
        cr_assert_geq(p.index, st.commit_index);
        cr_assert_geq(fx.nodes[id].applied, p.index);
    }
    fx_fini(&fx);
}

static void snap_call_done(void *ctx, int err)
{
    *(int *)ctx = err;
}

/* A chunk whose offset is near INT64_MAX must be refused as out of range: offset + length
   must not overflow into a value that passes the bounds check. */
Test(cluster_bus, a_snapshot_chunk_with_an_overflowing_offset_is_invalid, .timeout = 30)
{
    struct fixture fx;
    fx_init(&fx, FX_BUS, 3, "a_snapshot_chunk_with_an_overflowing_offset_is_invalid");
    fx_open_all(&fx);
    InstallSnapshotRequest req;
    InstallSnapshotRequest_init(&req);
    InstallSnapshotResponse resp;
    InstallSnapshotResponse_init(&resp);
    static uint8_t chunk[64];
    cr_assert_eq(tp_bytes_set_str(&req.leader_id, "1"), 0);
    req.leader_term = 1000;
    req.last_included_index = 10;
    req.last_included_term = 1;
    req.offset = INT64_MAX - 10;
    req.data.data = chunk;
    req.data.len = sizeof chunk;
    req.has_total_size = true;
    req.total_size = 4096;
    int done_err = -1;
    int rc = cluster_node_handle(fx.nodes[0].node, 1, TransactionalKV_METHOD_installSnapshot,
                                 &req, &resp, snap_call_done, &done_err);
    cr_assert_eq(rc, CLUSTER_ERR_INVALID, "rc %d", rc);
    req.data.data = NULL;
    req.data.len = 0;
    InstallSnapshotRequest_free(&req);
    InstallSnapshotResponse_free(&resp);
    fx_fini(&fx);
}
