/* test_rep_join.c: a node joins a running 3-node cluster at a new address under a write load
   (deployment.join, an empty data dir), catches up by the leader's snapshot, is promoted;
   an old voter, then the leader, are removed; every node is killed and started again. No
   acknowledged write is lost and the membership is the one committed. */
#include "rep_load.h"
#include "rep_member.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEYS_MAX 100000
#define JOINER 3 /* its member id: the first the cluster gives */

/* A membership call's answer on the joiner's own client. */
static int joiner_members(struct node_proc *p, struct net_client *c, bool *connected,
                          ListMembersResponse *out)
{
    if (!*connected) {
        if (net_client_connect(c, p->addr, true, 3000) != NET_OK) {
            net_client_close(c);
            return -1;
        }
        *connected = true;
    }
    ListMembersRequest q;
    ListMembersRequest_init(&q);
    TransactionalKV_listMembers_result res;
    static int32_t seq;
    int rc = test_call(c, TEST_METHOD(listMembers), ++seq, &q, &res, NULL) == 0 &&
                     res.has_success
                 ? 0
                 : -1;
    if (rc == 0)
        *out = res.success;
    else {
        net_client_close(c);
        *connected = false;
    }
    return rc;
}

/* changeMember through whichever node leads; the answer's members as text. */
static void change(struct rep *r, MemberChange what, const char *arg, char *members, size_t n)
{
    ChangeMemberResponse out = rep_change_retry(r, what, arg);
    rep_members_text(&out.members, members, n);
    ChangeMemberResponse_free(&out);
}

/* Waits until node (or the joiner: -1) lists exactly want. */
static void wait_members(struct rep *r, int node, struct node_proc *jp, struct net_client *jc,
                         bool *jconn, const char *want)
{
    double deadline = node_now() + REP_WAIT_S;
    char got[256] = "";
    for (;;) {
        ListMembersResponse out;
        int rc = node >= 0 ? rep_members(r, node, &out) : joiner_members(jp, jc, jconn, &out);
        if (rc == 0) {
            rep_members_text(&out.members, got, sizeof got);
            ListMembersResponse_free(&out);
            if (strcmp(got, want) == 0)
                return;
        }
        cr_assert_lt(node_now(), deadline, "node %d lists '%s', not '%s'", node, got, want);
        usleep(50000);
    }
}

static int64_t snapshot_of(struct rep *r, int node)
{
    NodeInfo info;
    if (rep_info(r, node, &info) != 0)
        return -1;
    int64_t index = info.snapshot_index;
    NodeInfo_free(&info);
    return index;
}

/* Snapshots every 100 entries, the log below each dropped: a node far behind needs one. */
#define SNAPSHOTS                                                                              \
    "\"storage\": {\"snapshot_every_entries\": 100, \"snapshot_log_growth_percent\": 0, "      \
    "\"snapshot_log_min_bytes\": 0, \"snapshot_catchup_entries\": 0}"

/* Starts the node that joins as member JOINER at a new address (endpoint gets it). */
static void start_joiner(struct node_proc *jp, char *endpoint, size_t size, const char *storage)
{
    memset(jp, 0, sizeof *jp);
    uint16_t port = node_free_port();
    char cfg[1024];
    snprintf(endpoint, size, "127.0.0.1:%u", port);
    snprintf(cfg, sizeof cfg,
             "\"cluster_secret\": \"test-cluster-secret-0123\", \"deployment\": {\"mode\": "
             "\"replicated\", \"join\": {\"member_id\": %d, \"endpoint\": \"%s\"}}, "
             "\"consensus\": {\"election_timeout_ms\": 400, \"heartbeat_interval_ms\": 50, "
             "\"request_timeout_ms\": 2000, \"peer_call_timeout_ms\": 500}, %s",
             JOINER, endpoint, storage);
    node_start_at(jp, port, cfg);
}

Test(rep_join, a_joined_node_is_promoted_old_voters_go_and_nothing_acknowledged_is_lost,
     .timeout = 300)
{
    struct rep r;
    rep_start(&r, SNAPSHOTS);
    int leader = rep_wait_leader(&r);
    struct rep_load *w = rep_load_start(&r, 'j', KEYS_MAX);
    rep_load_wait_more(w, 400, "at the start");
    double deadline = node_now() + REP_WAIT_S;
    while (snapshot_of(&r, leader) < 300) {
        cr_assert_lt(node_now(), deadline, "the leader took no snapshot");
        usleep(20000);
    }
    /* The new node: a new address, an empty data dir, deployment.join. */
    struct node_proc jp;
    char endpoint[64];
    start_joiner(&jp, endpoint, sizeof endpoint, SNAPSHOTS);
    struct net_client jc;
    bool jconn = false;
    char members[256];
    change(&r, MemberChange_ADD_LEARNER, endpoint, members, sizeof members);
    cr_assert_str_eq(members, "0 1 2 3(learner)");
    /* It catches up by the leader's snapshot (the log below it is gone), then knows them. */
    wait_members(&r, -1, &jp, &jc, &jconn, "0 1 2 3(learner)");
    NodeInfo ji;
    node_info(&jc, &ji);
    cr_assert_geq(ji.snapshot_index, 300, "the joiner caught up by the leader's snapshot");
    int64_t joined_at = ji.snapshot_index;
    NodeInfo_free(&ji);
    change(&r, MemberChange_PROMOTE, "3", members, sizeof members);
    cr_assert_str_eq(members, "0 1 2 3");
    rep_load_allow(w, JOINER, jp.addr, true);
    rep_load_wait_more(w, 100, "with the joiner promoted");
    /* An old voter that does not lead goes; then the leader itself. */
    leader = rep_wait_leader(&r);
    int old = (leader + 1) % REP_NODES;
    char id[8];
    snprintf(id, sizeof id, "%d", old);
    change(&r, MemberChange_REMOVE, id, members, sizeof members);
    rep_kill(&r, old);
    rep_load_wait_more(w, 100, "after an old voter was removed");
    leader = rep_wait_leader(&r);
    snprintf(id, sizeof id, "%d", leader);
    change(&r, MemberChange_REMOVE, id, members, sizeof members);
    /* It applied its own removal (it answered the change): it refuses writes, clearly. */
    SetResponse sr;
    cr_assert_eq(rep_set(&r, leader, "after-removal", "x", &sr), 0);
    cr_assert(!sr.success && sr.has_error_code && sr.error_code == ErrorCode_NOT_MEMBER,
              "a removed node took a write (code %d)", (int)sr.error_code);
    SetResponse_free(&sr);
    rep_kill(&r, leader);
    rep_load_wait_more(w, 100, "after the leader was removed");
    int count = rep_load_stop(w, "rep_join");
    int survivor = 3 - old - leader; /* the one bootstrap node left */
    char want[64];
    snprintf(want, sizeof want, "%d 3", survivor);
    /* Every member killed and started again: the membership and every acknowledged write. */
    rep_kill(&r, survivor);
    if (jconn)
        net_client_close(&jc);
    jconn = false;
    node_stop(&jp, SIGKILL);
    rep_restart(&r, survivor);
    node_restart(&jp);
    wait_members(&r, survivor, NULL, NULL, NULL, want);
    wait_members(&r, -1, &jp, &jc, &jconn, want);
    /* A linearizable read of the last acknowledged write, then every key the survivor holds:
       each acknowledged one must be there. */
    cr_assert_gt(count, 0);
    double until = node_now() + REP_WAIT_S;
    for (;;) {
        GetResponse g;
        bool done = rep_get(&r, survivor, w->keys[count - 1], true, &g) == 0 && g.success;
        if (done)
            cr_assert(g.found, "the last acknowledged write %s is lost", w->keys[count - 1]);
        if (done || rep_get(&r, survivor, w->keys[0], true, &g) == 0)
            GetResponse_free(&g);
        if (done)
            break;
        cr_assert_lt(node_now(), until, "no linearizable read after the restart");
        usleep(50000);
    }
    GetRangeResponse all;
    cr_assert_eq(rep_range(&r, survivor, &all), 0);
    uint32_t k = 0;
    for (int i = 0; i < count; i++) {
        while (k < all.key_values.count && strcmp((const char *)all.key_values.items[k].key.data,
                                             w->keys[i]) < 0)
            k++;
        cr_assert(k < all.key_values.count &&
                      strcmp((const char *)all.key_values.items[k].key.data, w->keys[i]) == 0,
                  "acknowledged %s is lost (%d acknowledged)", w->keys[i], count);
    }
    fprintf(stderr, "rep_join: %d writes acknowledged, none lost; the joiner installed snapshot "
            "%lld; members after: %s\n", count, (long long)joined_at, want);
    GetRangeResponse_free(&all);
    if (jconn)
        net_client_close(&jc);
    node_cleanup(&jp);
    rep_cleanup(&r);
    rep_load_free(w);
}

/* No snapshot at all: the membership a restart comes back with is the config entries in the
   log (the WAL), for the bootstrap nodes and the joiner alike. */
Test(rep_join, the_membership_survives_a_restart_from_the_log_alone, .timeout = 180)
{
    struct rep r;
    rep_start(&r, "\"storage\": {\"snapshot_every_entries\": 0}");
    rep_wait_leader(&r);
    struct node_proc jp;
    char endpoint[64], members[256];
    start_joiner(&jp, endpoint, sizeof endpoint, "\"storage\": {\"snapshot_every_entries\": 0}");
    struct net_client jc;
    bool jconn = false;
    /* Not added yet: it knows no leader, and says so at once (retryable). */
    node_connect(&jp, &jc, true);
    SetResponse sr;
    double asked = node_now();
    node_set(&jc, "too-early", "x", &sr);
    cr_assert(!sr.success && sr.has_error_code && sr.error_code == ErrorCode_UNAVAILABLE,
              "a node waiting to be added answered a write with code %d", (int)sr.error_code);
    cr_assert_lt(node_now() - asked, 1.0, "the refusal waited");
    SetResponse_free(&sr);
    net_client_close(&jc);
    change(&r, MemberChange_ADD_LEARNER, endpoint, members, sizeof members);
    cr_assert_str_eq(members, "0 1 2 3(learner)");
    wait_members(&r, -1, &jp, &jc, &jconn, "0 1 2 3(learner)");
    for (int i = 0; i < REP_NODES; i++)
        rep_kill(&r, i);
    if (jconn)
        net_client_close(&jc);
    jconn = false;
    node_stop(&jp, SIGKILL);
    for (int i = 0; i < REP_NODES; i++)
        rep_restart(&r, i);
    node_restart(&jp);
    for (int i = 0; i < REP_NODES; i++)
        wait_members(&r, i, NULL, NULL, NULL, "0 1 2 3(learner)");
    wait_members(&r, -1, &jp, &jc, &jconn, "0 1 2 3(learner)");
    for (int i = 0; i < REP_NODES; i++)
        cr_assert_eq(snapshot_of(&r, i), 0, "node %d took a snapshot", i);
    int leader = rep_wait_leader(&r);
    cr_assert_eq(rep_set(&r, leader, "after-restart", "x", &sr), 0);
    cr_assert(sr.success, "no write after the restart");
    SetResponse_free(&sr);
    if (jconn)
        net_client_close(&jc);
    node_cleanup(&jp);
    rep_cleanup(&r);
}
