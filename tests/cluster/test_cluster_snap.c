/* test_cluster_snap.c: snapshots streamed in chunks between cluster_nodes on the bus: many
   chunks, a transfer cut off and resumed, a whole snapshot the follower has no use for. */
#include "cluster_fixture.h"
#include "crc32c.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Leader and one follower compact past the other follower, closed meanwhile, then open it. */
static uint32_t leave_behind(struct fixture *fx, enum fx_mode mode, const char *name,
                             size_t snapshot_bytes, uint32_t *down)
{
    fx_init(fx, mode, 3, name);
    fx->snapshot_every = 40;
    fx->snapshot_catchup_entries = 10;
    fx->snapshot_bytes = snapshot_bytes;
    fx_open_all(fx);
    uint32_t leader = fx_wait_leader(fx, 5000);
    *down = (leader + 1) % 3;
    cr_assert_eq(fx_propose_n(fx, leader, 10, 5000), 10);
    fx_close(fx, *down);
    cr_assert_eq(fx_propose_n(fx, leader, 150, 10000), 150);
    struct cluster_status st;
    cluster_status(fx->nodes[leader].node, &st);
    cr_assert_gt(st.snapshot_index, 100, "the leader never compacted");
    return leader;
}

/* A 3 MiB snapshot: twelve chunks, one transfer, installed once; then the log's entries. */
Test(cluster_snap, a_snapshot_of_many_chunks_is_installed_once, .timeout = 30)
{
    struct fixture fx;
    uint32_t down;
    uint32_t leader = leave_behind(&fx, FX_BUS, "a_snapshot_of_many_chunks", 3u << 20, &down);
    fx_open(&fx, down);
    struct cluster_status st;
    cluster_status(fx.nodes[leader].node, &st);
    cr_assert(fx_wait_applied(&fx, st.last_index, 10000), "seed %llu",
              (unsigned long long)fx.seed);
    cr_assert_eq(fx.nodes[down].snapshots_restored, 1);
    cr_assert_eq(fx.nodes[down].recv_begun, 1);
    cr_assert_eq(fx.nodes[leader].snap_opens, 1);
    fx_check_same(&fx);
    cr_assert_eq(fx_propose_n(&fx, leader, 10, 5000), 10);
    fx_fini(&fx);
}

struct mid {
    uint32_t leader, peer;
};

static bool transfer_moves(struct fixture *fx, void *arg)
{
    struct mid *m = arg;
    struct cluster_status st;
    cluster_status(fx->nodes[m->leader].node, &st);
    const struct cluster_peer_status *p = &st.peers[m->peer];
    return p->snapshot_sending && p->snapshot_sent > 0 && p->snapshot_sent < p->snapshot_bytes;
}

static bool never(struct fixture *fx, void *arg)
{
    (void)fx, (void)arg;
    return false;
}

/* Cut off mid-transfer (over TCP, paced at 64 Mbit/s so it has a middle) for three election
   timeouts: the leader gives the follower up to probing, orders the same snapshot again, and
   the transfer goes on from where it was. */
Test(cluster_snap, a_transfer_cut_off_goes_on_where_it_was, .timeout = 60)
{
    struct fixture fx;
    uint32_t down;
    uint32_t leader = leave_behind(&fx, FX_TCP, "a_transfer_cut_off_goes_on", 16u << 20, &down);
    cluster_transport_shape(fx.nodes[leader].tp, down, 0, 64000);
    fx_open(&fx, down);
    struct mid m = {leader, down};
    cr_assert(fx_wait(&fx, transfer_moves, &m, 10000), "no transfer under way");
    fx_isolate(&fx, down, true);
    fx_wait(&fx, never, NULL, 1000);
    struct cluster_status st;
    cluster_status(fx.nodes[leader].node, &st);
    cr_assert(st.peers[down].snapshot_sending, "the transfer was dropped");
    fx_isolate(&fx, down, false);
    cluster_transport_shape(fx.nodes[leader].tp, down, 0, 0);
    cr_assert(fx_wait_applied(&fx, st.last_index, 20000), "seed %llu",
              (unsigned long long)fx.seed);
    cr_assert_eq(fx.nodes[down].recv_begun, 1, "the follower's partial snapshot was dropped");
    cr_assert_eq(fx.nodes[leader].snap_opens, 1, "the transfer started over");
    cr_assert_eq(fx.nodes[down].snapshots_restored, 1);
    fx_check_same(&fx);
    fx_fini(&fx);
}

static bool last_index_is(struct fixture *fx, void *arg)
{
    const uint64_t *want = arg;
    struct cluster_status st;
    cluster_status(fx->nodes[want[0]].node, &st);
    return st.last_index == want[1];
}

static void on_done(void *ctx, int err)
{
    *(int *)ctx = err;
}

static bool answered(struct fixture *fx, void *arg)
{
    (void)fx;
    return *(int *)arg != -1;
}

static void ignore_proposal(void *ctx, int err, uint64_t index, uint32_t leader)
{
    (void)ctx, (void)err, (void)index, (void)leader;
}

/* A follower that holds the snapshot's last entry (of its term) uncommitted takes a whole
   snapshot at that index by committing its own log: the received bytes go at once. */
Test(cluster_snap, a_whole_snapshot_the_follower_holds_is_dropped_at_once, .timeout = 30)
{
    struct fixture fx;
    fx_init(&fx, FX_BUS, 3, "a_whole_snapshot_the_follower_holds");
    fx_open_all(&fx);
    uint32_t leader = fx_wait_leader(&fx, 5000), f = (leader + 1) % 3, other = (leader + 2) % 3;
    cr_assert_eq(fx_propose_n(&fx, leader, 5, 5000), 5);
    struct cluster_status st;
    cluster_status(fx.nodes[leader].node, &st);
    cr_assert(fx_wait_applied(&fx, st.last_index, 5000));
    /* The entry reaches f, but its ack does not reach the leader and the other node is gone:
       nothing commits it. */
    fx_close(&fx, other);
    cluster_transport_drop(fx.nodes[f].tp, leader, true, false);
    cluster_propose(fx.nodes[leader].node, "uncommitted", 11, ignore_proposal, NULL);
    uint64_t want[2] = {f, st.last_index + 1};
    cr_assert(fx_wait(&fx, last_index_is, want, 3000), "the entry never reached the follower");
    struct cluster_status fs;
    cluster_status(fx.nodes[f].node, &fs);
    cr_assert_lt(fs.commit_index, want[1]);
    /* One chunk: the whole snapshot at that entry, from the leader in its term. */
    uint8_t data[24] = {0};
    InstallSnapshotRequest req;
    InstallSnapshotRequest_init(&req);
    InstallSnapshotResponse resp;
    InstallSnapshotResponse_init(&resp);
    char id[4];
    snprintf(id, sizeof id, "%u", leader);
    cr_assert_eq(tp_bytes_set_str(&req.leader_id, id), 0);
    req.leader_term = (int64_t)fs.term;
    req.last_included_index = (int64_t)want[1];
    req.last_included_term = (int64_t)fs.term;
    req.data.data = data;
    req.data.len = sizeof data;
    req.done = true;
    req.has_total_size = true;
    req.total_size = sizeof data;
    req.has_crc32c = true;
    req.crc32c = (int32_t)crc32c(data, sizeof data);
    int err = -1;
    cr_assert_eq(cluster_node_handle(fx.nodes[f].node, leader,
                                     TransactionalKV_METHOD_installSnapshot, &req, &resp,
                                     on_done, &err), 0);
    cr_assert(fx_wait(&fx, answered, &err, 3000));
    cr_assert_eq(err, 0);
    cr_assert(resp.success, "the follower refused a snapshot it holds");
    cr_assert_eq(fx.nodes[f].recv_begun, 1);
    cr_assert_eq(fx.nodes[f].recv_aborted, 1, "the received bytes were kept");
    cr_assert_eq(fx.nodes[f].snapshots_restored, 0);
    cluster_status(fx.nodes[f].node, &fs);
    cr_assert_eq(fs.commit_index, want[1], "the follower did not commit its own entry");
    req.data.data = NULL;
    req.data.len = 0;
    InstallSnapshotRequest_free(&req);
    InstallSnapshotResponse_free(&resp);
    fx_fini(&fx);
}
