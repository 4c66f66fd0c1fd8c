/* test_identity.c: member identity: incarnations, the cluster id, a wiped data dir refused. */
#include <criterion/criterion.h>
#include <string.h>

#include "sim_fixture.h"

/* A 3-node world with identity on, node 0 leading, every binding applied everywhere. */
static void identity_world(struct sim_world *w, uint32_t n, uint64_t seed)
{
    fixture_world(w, n, seed);
    sim_world_identity(w);
    fixture_elect(w, 0);
    fixture_converge(w, 100);
}

static const struct consensus_membership *conf_of(const struct sim_world *w, uint32_t node)
{
    return consensus_membership(w->nodes[node].core);
}

/* Every node holds every member bound to the node's incarnation, and the same cluster id. */
static void assert_bound(const struct sim_world *w, uint64_t cluster_id)
{
    for (uint32_t i = 0; i < w->node_count; i++) {
        const struct consensus_membership *m = conf_of(w, i);
        cr_assert_eq(m->cluster_id, cluster_id, "node %u", i);
        for (uint32_t k = 0; k < m->count; k++)
            cr_assert_eq(m->members[k].incarnation, w->nodes[m->members[k].id].incarnation,
                         "node %u holds member %u bound to another incarnation", i,
                         m->members[k].id);
    }
}

Test(consensus_identity, the_encoding_keeps_format_1_without_identity_and_round_trips_format_2)
{
    struct consensus_membership m, out;
    consensus_membership_bootstrap(&m, 3);
    uint8_t buf[CONSENSUS_MEMBERSHIP_BYTES_MAX];
    uint32_t len = consensus_membership_encode(&m, buf);
    cr_assert_eq(memcmp(buf, CONSENSUS_MEMBERSHIP_MAGIC, CONSENSUS_MEMBERSHIP_MAGIC_LEN), 0,
                 "nothing bound: the old format, byte for byte");
    cr_assert_eq(consensus_membership_decode(buf, len, &out), 0);
    cr_assert_eq(out.cluster_id, 0);
    m.cluster_id = 0x0123456789abcdefull;
    m.members[1].incarnation = 0xfedcba9876543210ull;
    strcpy(m.members[2].addr, "10.0.0.2:9090");
    len = consensus_membership_encode(&m, buf);
    cr_assert_eq(memcmp(buf, CONSENSUS_MEMBERSHIP_MAGIC_V2, CONSENSUS_MEMBERSHIP_MAGIC_LEN), 0);
    cr_assert_eq(consensus_membership_decode(buf, len, &out), 0);
    cr_assert_eq(memcmp(&m, &out, sizeof m), 0);
    for (uint32_t cut = 0; cut < len; cut++)
        cr_assert_eq(consensus_membership_decode(buf, cut, &out), CONSENSUS_ERR_INVALID, "%u", cut);
    buf[CONSENSUS_MEMBERSHIP_MAGIC_LEN - 1] = 3; /* a format we do not know */
    cr_assert_eq(consensus_membership_decode(buf, len, &out), CONSENSUS_ERR_INVALID);
    cr_assert(consensus_membership_is_config(buf, len), "still never taken for a client's write");
}

/* The first leader binds a random cluster id and every member; later leaders, snapshots and
   restarts change none of it, and no binding is made twice. */
Test(consensus_identity, the_first_leader_binds_the_cluster_and_each_member_once)
{
    struct sim_world w;
    identity_world(&w, 3, 41);
    uint64_t cluster = conf_of(&w, 0)->cluster_id;
    cr_assert_neq(cluster, 0);
    assert_bound(&w, cluster);
    uint64_t bindings = w.check.bindings;
    cr_assert_geq(bindings, 1);
    cr_assert_leq(bindings, 3, "at most one entry per member and the cluster id");
    /* Snapshots everywhere, every node restarted, another leader: nothing bound again. */
    fixture_propose(&w, 0, 5);
    fixture_converge(&w, 100);
    for (uint32_t i = 0; i < 3; i++) {
        sim_world_compact(&w, i);
        sim_world_crash(&w, i);
        sim_world_restart(&w, i);
    }
    fixture_elect(&w, 2);
    fixture_propose(&w, 2, 5);
    fixture_converge(&w, 200);
    assert_bound(&w, cluster);
    cr_assert_eq(w.check.bindings, bindings, "a binding was made again");
    cr_assert_eq(w.stale_reports, 0);
    sim_world_free(&w);
}

/* The double vote a wiped voter makes: node 2 votes for node 1 in term 2, loses its data dir,
   and is asked by node 0, a candidate in that same term, before anyone told it. Without the
   identity checks on votes (tools/mutants wiped_vote_counted) node 0 wins term 2 too. */
Test(consensus_identity, a_wiped_voters_second_vote_in_a_term_is_not_counted)
{
    struct sim_world w;
    identity_world(&w, 3, 43);
    /* Node 0 cut off; node 2 times out alone (node 1 frozen, in its lease), so it forgets
       the leader; then node 1 times out and wins term 2 with node 2's vote. */
    bus_isolate(&w.bus, 0, 3);
    w.no_tick[1] = true;
    for (uint32_t t = 0; t < 100 && consensus_leader(w.nodes[2].core) != CONSENSUS_NONE; t++)
        sim_world_run_ticks(&w, 1);
    w.no_tick[1] = false;
    w.no_tick[2] = true;
    for (uint32_t t = 0; t < 100 && sim_world_leader(&w) != 1; t++)
        sim_world_run_ticks(&w, 1);
    fixture_ok(&w);
    cr_assert_eq(sim_world_leader(&w), 1);
    uint64_t term = consensus_term(w.nodes[1].core);
    cr_assert_eq(consensus_term(w.nodes[0].core), term - 1, "node 0 never saw term %llu",
                 (unsigned long long)term);
    /* Node 1 keeps leading, frozen and cut off; node 2 loses its data dir; node 0 hears only
       node 2 and campaigns for the same term. */
    w.no_tick[1] = true;
    bus_isolate(&w.bus, 1, 3);
    sim_world_wipe(&w, 2);
    w.no_tick[2] = false;
    w.bus.cut[0][2] = w.bus.cut[2][0] = false;
    sim_world_run_ticks(&w, 100);
    fixture_ok(&w); /* the checker: no two leaders in one term */
    cr_assert_neq(consensus_role(w.nodes[0].core), CONSENSUS_LEADER, "node 0 won with a wiped vote");
    cr_assert(consensus_self_refused(w.nodes[2].core, NULL), "node 2 was told it is stale");
    cr_assert_eq(consensus_role(w.nodes[2].core), CONSENSUS_FOLLOWER);
    cr_assert_eq(consensus_term(w.nodes[2].core), 0, "it voted in no term");
    sim_world_free(&w);
}

/* A wiped member is reported by the leader, refuses itself, is never counted (the others
   keep committing), and once removed the cluster goes on without it; a new member may then
   take its place under a new id. */
Test(consensus_identity, a_wiped_member_is_refused_reported_and_must_be_added_again_as_new)
{
    struct sim_world w;
    fixture_world_members(&w, 4, 3, 47);
    sim_world_identity(&w);
    fixture_elect(&w, 0);
    fixture_converge(&w, 100);
    uint64_t bound = w.nodes[2].incarnation;
    sim_world_wipe(&w, 2);
    sim_world_run_ticks(&w, 40);
    fixture_ok(&w);
    cr_assert(consensus_self_refused(w.nodes[2].core, NULL));
    uint64_t said = 0;
    consensus_self_refused(w.nodes[2].core, &said);
    cr_assert_eq(said, bound);
    cr_assert_geq(w.self_refusals, 1);
    cr_assert_geq(w.stale_reports, 1, "the leader reported it (the refused node's reject)");
    cr_assert_eq(consensus_membership_find(conf_of(&w, 0), 2)->incarnation, bound,
                 "a binding never changes");
    /* Its acknowledgements never count: with node 1 down, nothing commits. */
    sim_world_crash(&w, 1);
    uint64_t commit = consensus_commit_index(w.nodes[0].core);
    uint64_t index = 0;
    cr_assert_eq(sim_world_propose(&w, 0, &index), 0);
    sim_world_run_ticks(&w, 5);
    fixture_ok(&w);
    cr_assert_eq(consensus_commit_index(w.nodes[0].core), commit);
    sim_world_restart(&w, 1);
    for (uint32_t t = 0; t < 200 && consensus_commit_index(w.nodes[0].core) < index; t++)
        sim_world_run_ticks(&w, 1);
    fixture_ok(&w);
    cr_assert_geq(consensus_commit_index(w.nodes[0].core), index, "node 1 back: it commits");
    /* The operator removes it and adds a new member (node 3, a new id). */
    uint32_t l = sim_world_leader(&w);
    cr_assert_eq(sim_world_change(&w, l, CONSENSUS_CHANGE_REMOVE, 2, NULL), 0);
    fixture_converge(&w, 200);
    l = sim_world_leader(&w);
    cr_assert_eq(sim_world_change(&w, l, CONSENSUS_CHANGE_ADD_VOTER, 0, &index), 0);
    fixture_converge(&w, 300);
    const struct consensus_member *added = consensus_membership_find(conf_of(&w, l), 3);
    cr_assert_not_null(added);
    fixture_converge(&w, 100);
    cr_assert_eq(consensus_membership_find(conf_of(&w, sim_world_leader(&w)), 3)->incarnation,
                 w.nodes[3].incarnation, "the new member is bound to its own data dir");
    cr_assert_null(consensus_membership_find(conf_of(&w, sim_world_leader(&w)), 2));
    sim_world_free(&w);
}

/* A removed member's messages count for nothing: its acknowledgement commits nothing. */
Test(consensus_identity, a_removed_members_messages_are_ignored)
{
    struct sim_world w;
    identity_world(&w, 3, 53);
    cr_assert_eq(sim_world_change(&w, 0, CONSENSUS_CHANGE_REMOVE, 2, NULL), 0);
    fixture_converge(&w, 100);
    sim_world_crash(&w, 1); /* voters {0, 1}: nothing commits without node 1 */
    uint64_t commit = consensus_commit_index(w.nodes[0].core);
    uint64_t index = 0;
    cr_assert_eq(sim_world_propose(&w, 0, &index), 0);
    sim_world_step(&w);
    struct consensus_node *c = w.nodes[0].core;
    struct consensus_msg ack = {.type = CONSENSUS_MSG_APPEND_RESP, .from = 2, .to = 0,
                                .term = consensus_term(c), .success = true, .index = index,
                                .incarnation = w.nodes[2].incarnation,
                                .cluster_id = conf_of(&w, 0)->cluster_id};
    cr_assert_eq(consensus_step(c, &ack), 0);
    struct consensus_msg vote = ack;
    vote.type = CONSENSUS_MSG_VOTE_RESP;
    cr_assert_eq(consensus_step(c, &vote), 0);
    sim_world_run_ticks(&w, 3);
    fixture_ok(&w);
    cr_assert_eq(consensus_commit_index(c), commit);
    cr_assert_eq(consensus_role(c), CONSENSUS_LEADER);
    sim_world_free(&w);
}

/* A leader of another cluster (another cluster id) is refused: its appends change nothing. */
Test(consensus_identity, a_leader_of_another_cluster_is_refused)
{
    struct sim_world w;
    identity_world(&w, 3, 59);
    struct consensus_node *c = w.nodes[1].core;
    uint64_t last = consensus_last_index(c);
    struct consensus_entry e = {.index = last + 1, .term = consensus_term(c) + 1, .len = 0};
    struct consensus_msg app = {.type = CONSENSUS_MSG_APPEND, .from = 2, .to = 1,
                                .term = consensus_term(c) + 1, .prev_index = last,
                                .prev_term = consensus_term_at(c, last), .entries = &e,
                                .entry_count = 1, .incarnation = 7,
                                .cluster_id = conf_of(&w, 1)->cluster_id ^ 1};
    uint64_t term = consensus_term(c);
    cr_assert_eq(consensus_step(c, &app), 0);
    cr_assert_eq(consensus_term(c), term);
    cr_assert_eq(consensus_last_index(c), last);
    sim_world_run_ticks(&w, 2);
    fixture_ok(&w);
    cr_assert_geq(w.stale_reports, 1, "reported");
    sim_world_free(&w);
}
