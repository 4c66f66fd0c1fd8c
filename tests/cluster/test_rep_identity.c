/* test_rep_identity.c: member identity with real processes: a follower killed, its data dir
   wiped and started again with its old config is refused (its votes and acknowledgements do
   not count, it says so, and so does the leader); the others go on committing. */
#include "rep_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char identity_config[] =
    "\"cluster_secret\": \"test-cluster-secret-0123\", \"debug\": {\"fault_injection\": true},"
    " \"deployment\": {\"mode\": \"replicated\", \"instance_id\": \"%d\","
    " \"replica_endpoints\": [\"127.0.0.1:%u\", \"127.0.0.1:%u\", \"127.0.0.1:%u\"]},"
    " \"consensus\": {\"election_timeout_ms\": 400, \"heartbeat_interval_ms\": 50,"
    " \"request_timeout_ms\": 2000, \"peer_call_timeout_ms\": 500, \"member_identity\": true}";

/* rep_start's cluster with consensus.member_identity on. */
static void start_identity(struct rep *r)
{
    memset(r, 0, sizeof *r);
    uint16_t ports[REP_NODES];
    for (int i = 0; i < REP_NODES; i++) {
        ports[i] = node_free_port();
        for (int j = 0; j < i; j++)
            if (ports[j] == ports[i])
                i--, j = i;
    }
    for (int i = 0; i < REP_NODES; i++) {
        char cfg[1024];
        snprintf(cfg, sizeof cfg, identity_config, i, ports[0], ports[1], ports[2]);
        node_start_at(&r->nodes[i], ports[i], cfg);
    }
}

static bool wait_log(struct rep *r, int node, const char *what)
{
    for (double end = node_now() + REP_WAIT_S; node_now() < end; usleep(20000))
        if (node_log_contains(&r->nodes[node], what))
            return true;
    return node_log_contains(&r->nodes[node], what);
}

/* The leader as node sees it, once that leader says so too (the refused node names none,
   so rep_wait_leader, which asks every live node, cannot serve). */
static int wait_leader_of(struct rep *r, int node)
{
    for (double end = node_now() + REP_WAIT_S; node_now() < end; usleep(20000)) {
        int l = rep_leader_seen_by(r, node);
        if (l >= 0 && rep_leader_seen_by(r, l) == l)
            return l;
    }
    cr_assert_fail("node %d saw no leader within %.0f s", node, REP_WAIT_S);
    return -1;
}

/* A write through node until acknowledged (REP_WAIT_S at most); asserts. */
static void write_acked(struct rep *r, int node, const char *key)
{
    for (double end = node_now() + REP_WAIT_S; node_now() < end; usleep(20000)) {
        SetResponse s;
        if (rep_set(r, node, key, key, &s) != 0)
            continue;
        bool ok = s.success;
        SetResponse_free(&s);
        if (ok)
            return;
    }
    cr_assert_fail("%s was not acknowledged within %.0f s", key, REP_WAIT_S);
}

Test(rep_identity, a_wiped_follower_is_refused_and_the_others_go_on, .timeout = 150)
{
    setenv(NODE_LOG_LEVEL_ENV, "info", 1); /* the test reads what the nodes say */
    struct rep r;
    start_identity(&r);
    int leader = rep_wait_leader(&r);
    write_acked(&r, leader, "before");
    for (int i = 0; i < REP_NODES; i++)
        cr_assert(wait_log(&r, i, "is bound as member"), "node %d was never bound", i);
    int wiped = (leader + 1) % REP_NODES, other = (leader + 2) % REP_NODES;
    rep_kill(&r, wiped);
    rep_wipe(&r, wiped);
    rep_restart(&r, wiped); /* its old config: the same member id, a new data dir */
    cr_assert(wait_log(&r, wiped, "is bound to another data dir"),
              "the wiped node never learned it is refused");
    leader = wait_leader_of(&r, other);
    char said[64];
    snprintf(said, sizeof said, "member %d came back with a new data dir", wiped);
    cr_assert(wait_log(&r, leader, said), "the leader did not report member %d", wiped);
    write_acked(&r, leader, "with-two");
    /* Its acknowledgements count for nothing: without the third node nothing commits. */
    rep_kill(&r, other);
    SetResponse s;
    int rc = rep_set(&r, leader, "without-quorum", "x", &s);
    cr_assert(rc != 0 || !s.success, "a write was acknowledged by the leader and the wiped node");
    if (rc == 0)
        SetResponse_free(&s);
    rep_restart(&r, other);
    leader = wait_leader_of(&r, other);
    cr_assert_neq(leader, wiped, "the refused node leads");
    write_acked(&r, leader, "after");
    char out[4096];
    snprintf(said, sizeof said, "-e %s health", r.nodes[wiped].addr);
    rep_kvctl(said, out, sizeof out);
    cr_assert(strstr(out, "bound to another data dir") != NULL, "health of the wiped node: %s",
              out);
    rep_cleanup(&r);
}
