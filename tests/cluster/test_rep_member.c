/* test_rep_member.c: the membership calls on a 3-node cluster of processes: every node lists
   the members (the leader with each one's match index and lag), followers down to the last
   voter are removed and the last one is refused, removing the leader hands over, and every
   refusal (a change while one is in flight, promoting a voter, an unknown id, a malformed or
   too-long endpoint, a follower asked) answers its own code and words while the node serves. */
#include "rep_member.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S(b) ((b).data ? (const char *)(b).data : "")

static void members_ok(struct rep *r, int node, ListMembersResponse *out)
{
    cr_assert_eq(rep_members(r, node, out), 0, "listMembers on node %d: no answer", node);
    cr_assert(out->success, "listMembers on node %d: %s", node, S(out->error));
    cr_assert(out->has_members && out->has_config_index);
}

static ChangeMemberResponse change(struct rep *r, int node, MemberChange type, const char *arg)
{
    ChangeMemberResponse c;
    cr_assert_eq(rep_change(r, node, type, arg, &c), 0, "changeMember on node %d: no answer",
                 node);
    return c;
}

/* The change is refused with code, and its error says what. */
static void expect_refused(struct rep *r, int node, MemberChange type, const char *arg, int code,
                           const char *says)
{
    ChangeMemberResponse c = change(r, node, type, arg);
    cr_assert(!c.success, "change %d %s on node %d was taken", type, arg ? arg : "-", node);
    cr_assert(c.has_error_code && c.has_error);
    cr_assert_eq((int)c.error_code, code, "change %d %s: code %d (%s), want %d", type,
                 arg ? arg : "-", c.error_code, S(c.error), code);
    cr_assert(strstr(S(c.error), says), "change %d %s: '%s' does not say '%s'", type,
              arg ? arg : "-", S(c.error), says);
    cr_assert(!c.has_member_id, "a refused add answered an id");
    if (code == ErrorCode_NOT_LEADER)
        cr_assert(c.has_leader_hint, "NOT_LEADER without the leader's endpoint");
    ChangeMemberResponse_free(&c);
}

/* A write through node is acknowledged (retried while refused for a moment). */
static void serves(struct rep *r, int node, const char *key)
{
    int64_t version = 0;
    cr_assert_eq(rep_session_set(r, node, key, "v", 0, 0, &version), ErrorCode_OK,
                 "node %d stopped serving writes", node);
    GetResponse g;
    cr_assert_eq(rep_get(r, node, key, true, &g), 0);
    cr_assert(g.success && g.found, "node %d: %s is missing", node, key);
    GetResponse_free(&g);
}

/* The node that node says leads, once it says it leads itself; -1 after the deadline. */
static int wait_led_by(struct rep *r, int node, int not)
{
    double deadline = node_now() + REP_WAIT_S;
    while (node_now() < deadline) {
        int l = rep_leader_seen_by(r, node);
        if (l >= 0 && l != not && l < REP_NODES && rep_leader_seen_by(r, l) == l)
            return l;
        usleep(20000);
    }
    return -1;
}

static char *id_of(int node, char buf[8])
{
    snprintf(buf, 8, "%d", node);
    return buf;
}

/* Waits until every node's log holds the leader's binding of the bootstrap members (member
   identity: one config entry once the leader committed in its term). */
static void wait_bound(struct rep *r)
{
    for (double deadline = node_now() + REP_WAIT_S;; usleep(20000)) {
        bool all = true;
        for (int node = 0; node < REP_NODES && all; node++) {
            ListMembersResponse l;
            members_ok(r, node, &l);
            all = l.config_index > 0;
            ListMembersResponse_free(&l);
        }
        if (all)
            return;
        cr_assert_lt(node_now(), deadline, "the leader never bound the members");
    }
}

Test(rep_member, every_node_lists_the_voters_and_the_leader_knows_their_lag)
{
    struct rep r;
    rep_start(&r, "");
    int leader = rep_wait_leader(&r);
    serves(&r, leader, "before");
    wait_bound(&r);
    for (int node = 0; node < REP_NODES; node++) {
        ListMembersResponse l;
        members_ok(&r, node, &l);
        char text[128], self[8];
        rep_members_text(&l.members, text, sizeof text);
        cr_assert_str_eq(text, "0 1 2", "node %d lists %s", node, text);
        cr_assert_gt(l.config_index, 0, "member identity binds the bootstrap members through an "
                     "entry");
        cr_assert_str_eq(S(l.reported_by), id_of(node, self));
        cr_assert_eq(atoi(S(l.leader_id)), leader);
        for (int i = 0; i < REP_NODES; i++) {
            const Member *m = &l.members.items[i];
            cr_assert_str_eq(S(m->endpoint), r.nodes[i].addr, "member %d's endpoint", i);
            cr_assert(!m->learner);
            cr_assert_eq(m->leader, i == leader, "node %d: member %d leader %d", node, i,
                         m->leader);
            bool lag_known = node == leader && i != leader;
            cr_assert_eq(m->has_match_index, lag_known, "node %d: member %d's match", node, i);
            if (lag_known) {
                cr_assert(m->has_lag_entries);
                cr_assert_geq(m->match_index, 1, "member %d: matched nothing", i);
                cr_assert_geq(m->lag_entries, 0);
            }
        }
        ListMembersResponse_free(&l);
    }
    rep_cleanup(&r);
}

Test(rep_member, every_refusal_answers_its_code_and_the_node_serves_on)
{
    struct rep r;
    rep_start(&r, "");
    int leader = rep_wait_leader(&r);
    int follower = (leader + 1) % REP_NODES;
    char id[8], long_ep[80];
    memset(long_ep, 'h', sizeof long_ep);
    memcpy(long_ep + 60, ":9999", 6); /* 65 bytes: past the 63 a member's address may hold */
    expect_refused(&r, leader, MemberChange_PROMOTE, id_of(follower, id),
                   ErrorCode_NOT_MEMBER, "is a voter already");
    expect_refused(&r, leader, MemberChange_PROMOTE, "9", ErrorCode_NOT_MEMBER,
                   "member 9: no such member");
    expect_refused(&r, leader, MemberChange_REMOVE, "9", ErrorCode_NOT_MEMBER,
                   "member 9: no such member");
    expect_refused(&r, leader, MemberChange_REMOVE, "x", ErrorCode_INVALID_ARGUMENT,
                   "member_id");
    expect_refused(&r, leader, MemberChange_REMOVE, "99999999999", ErrorCode_INVALID_ARGUMENT,
                   "member_id");
    expect_refused(&r, leader, MemberChange_REMOVE, NULL, ErrorCode_INVALID_ARGUMENT,
                   "member_id");
    expect_refused(&r, leader, MemberChange_ADD_LEARNER, "no-port", ErrorCode_INVALID_ARGUMENT,
                   "not HOST:PORT");
    expect_refused(&r, leader, MemberChange_ADD_LEARNER, "127.0.0.1:0",
                   ErrorCode_INVALID_ARGUMENT, "not HOST:PORT");
    expect_refused(&r, leader, MemberChange_ADD_VOTER, "127.0.0.1:x",
                   ErrorCode_INVALID_ARGUMENT, "not HOST:PORT");
    expect_refused(&r, leader, MemberChange_ADD_LEARNER, long_ep, ErrorCode_INVALID_ARGUMENT,
                   "65 bytes, longer than the 63 allowed");
    expect_refused(&r, leader, MemberChange_ADD_LEARNER, NULL, ErrorCode_INVALID_ARGUMENT,
                   "needs the new member's HOST:PORT");
    expect_refused(&r, leader, MemberChange_ADD_LEARNER, r.nodes[follower].addr,
                   ErrorCode_INVALID_ARGUMENT, "is member");
    expect_refused(&r, follower, MemberChange_REMOVE, id_of(leader, id), ErrorCode_NOT_LEADER,
                   "not the leader");
    /* An enum value the IDL does not name is refused by the decoder, the error naming it. */
    ChangeMemberResponse c = change(&r, leader, (MemberChange)7, "1");
    cr_assert(!c.success && c.error_code == ErrorCode_INVALID_ARGUMENT, "change 7: %s",
              S(c.error));
    ChangeMemberResponse_free(&c);
    ListMembersResponse l;
    members_ok(&r, leader, &l);
    char text[128];
    rep_members_text(&l.members, text, sizeof text);
    cr_assert_str_eq(text, "0 1 2", "a refusal changed the membership: %s", text);
    ListMembersResponse_free(&l);
    serves(&r, leader, "after-refusals");
    serves(&r, follower, "after-refusals-2");
    cr_assert_eq(rep_wait_leader(&r), leader, "a refusal moved the leader");
    rep_cleanup(&r);
}

/* Two removals sent in one write (unframed, so they arrive together): the first is taken,
   the second is refused MEMBER_CHANGE_PENDING, since the first cannot have committed (that
   takes a follower's fsync and answer). */
static void remove_two_at_once(struct rep *r, int leader, int a, int b)
{
    struct net_client c;
    node_connect(&r->nodes[leader], &c, false);
    tp_buf buf;
    tp_buf_init(&buf);
    ChangeMemberRequest q[2];
    for (int i = 0; i < 2; i++) {
        char id[8];
        ChangeMemberRequest_init(&q[i]);
        q[i].change = MemberChange_REMOVE;
        q[i].has_member_id = tp_bytes_set_str(&q[i].member_id, id_of(i ? b : a, id)) == 0;
        cr_assert_eq(TransactionalKV_changeMember_send(&buf, 100 + i, &q[i]), 0);
        ChangeMemberRequest_free(&q[i]);
    }
    cr_assert_eq(net_client_send(&c, buf.data, buf.len), NET_OK);
    tp_buf_free(&buf);
    TransactionalKV_changeMember_result first, second;
    test_recv_ok(&c, TEST_METHOD(changeMember), 100, &first);
    test_recv_ok(&c, TEST_METHOD(changeMember), 101, &second);
    cr_assert(first.success.success, "the first removal: %s", S(first.success.error));
    cr_assert(!second.success.success, "a second change while the first was in flight");
    cr_assert_eq((int)second.success.error_code, ErrorCode_MEMBER_CHANGE_PENDING, "%s",
                 S(second.success.error));
    cr_assert(strstr(S(second.success.error), "membership change is in flight"), "%s",
              S(second.success.error));
    char text[128];
    rep_members_text(&first.success.members, text, sizeof text);
    char want[32];
    snprintf(want, sizeof want, "%d %d", leader < b ? leader : b, leader < b ? b : leader);
    cr_assert_str_eq(text, want, "after removing %d", a);
    cr_assert_gt(first.success.config_index, 0);
    TransactionalKV_changeMember_result_free(&first);
    TransactionalKV_changeMember_result_free(&second);
    net_client_close(&c);
}

Test(rep_member, followers_are_removed_down_to_the_last_voter_which_stays)
{
    struct rep r;
    rep_start(&r, "");
    int leader = rep_wait_leader(&r);
    int a = (leader + 1) % REP_NODES, b = (leader + 2) % REP_NODES;
    char id[8];
    remove_two_at_once(&r, leader, a, b);
    serves(&r, leader, "two-voters");
    ChangeMemberResponse c = change(&r, leader, MemberChange_REMOVE, id_of(b, id));
    cr_assert(c.success, "removing %d: %s", b, S(c.error));
    cr_assert_eq(c.members.count, 1);
    cr_assert_eq(atoi(S(c.members.items[0].member_id)), leader);
    cr_assert(c.members.items[0].leader);
    ChangeMemberResponse_free(&c);
    expect_refused(&r, leader, MemberChange_REMOVE, id_of(leader, id), ErrorCode_LAST_VOTER,
                   "is the only voter");
    expect_refused(&r, leader, MemberChange_REMOVE, id_of(a, id), ErrorCode_NOT_MEMBER,
                   "no such member");
    /* One voter commits alone; the removed nodes (still running) disturb nothing. */
    serves(&r, leader, "one-voter");
    cr_assert_eq(rep_leader_seen_by(&r, leader), leader);
    ListMembersResponse l;
    members_ok(&r, leader, &l);
    cr_assert_eq(l.members.count, 1);
    ListMembersResponse_free(&l);
    rep_cleanup(&r);
}

Test(rep_member, removing_the_leader_hands_over_to_the_others)
{
    struct rep r;
    rep_start(&r, "");
    int leader = rep_wait_leader(&r);
    serves(&r, leader, "before");
    char id[8];
    ChangeMemberResponse c = change(&r, leader, MemberChange_REMOVE, id_of(leader, id));
    cr_assert(c.success, "removing the leader: %s", S(c.error));
    cr_assert_eq(c.members.count, 2);
    cr_assert(!rep_member_find(&(ListMembersResponse){.members = c.members}, id));
    ChangeMemberResponse_free(&c);
    int next = wait_led_by(&r, (leader + 1) % REP_NODES, leader);
    cr_assert(next >= 0, "no new leader after the old one removed itself");
    serves(&r, next, "after");
    ListMembersResponse l;
    members_ok(&r, next, &l);
    cr_assert_eq(l.members.count, 2);
    cr_assert(!rep_member_find(&l, id), "the old leader is still listed");
    cr_assert(rep_member_find(&l, id_of(next, id))->leader);
    ListMembersResponse_free(&l);
    rep_cleanup(&r);
}

Test(rep_member, kvctl_lists_changes_and_explains_refusals)
{
    struct rep r;
    rep_start(&r, "");
    int leader = rep_wait_leader(&r);
    int a = (leader + 1) % REP_NODES, b = (leader + 2) % REP_NODES;
    char args[512], out[4096], want[256];
    /* Asked of a follower, list goes on to the leader, which knows the lags. */
    snprintf(args, sizeof args, "-e %s member list", r.nodes[a].addr);
    cr_assert_eq(rep_kvctl(args, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "ID     ENDPOINT"), "%s", out);
    snprintf(want, sizeof want, "as member %d sees it (the leader)", leader);
    cr_assert(strstr(out, want), "%s", out);
    snprintf(args, sizeof args, "-e %s member list --json", r.nodes[b].addr);
    cr_assert_eq(rep_kvctl(args, out, sizeof out), 0, "%s", out);
    snprintf(want, sizeof want, "{\"member_id\": \"%d\", \"endpoint\": \"%s\", \"role\": "
             "\"voter\", \"leader\": false, \"match_index\": ", a, r.nodes[a].addr);
    cr_assert(strstr(out, want), "%s", out);
    const char *ci = strstr(out, "\"config_index\": "); /* > 0: identity's binding */
    cr_assert(ci && ci[16] >= '1' && ci[16] <= '9' && strstr(ci, ", \"reported_by\": \""), "%s",
              out);
    /* status shows the voters and learners, one node or a table. */
    snprintf(args, sizeof args, "-e %s status", r.nodes[a].addr);
    cr_assert_eq(rep_kvctl(args, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "voters 0 1 2\nlearners -\n"), "%s", out);
    /* A change through a follower follows its hint; the answer names what is left. */
    snprintf(args, sizeof args, "-e %s member remove %d", r.nodes[a].addr, b);
    cr_assert_eq(rep_kvctl(args, out, sizeof out), 0, "%s", out);
    snprintf(want, sizeof want, "OK removed %d; voters %d %d; learners -\n", b,
             leader < a ? leader : a, leader < a ? a : leader);
    cr_assert_str_eq(out, want);
    snprintf(args, sizeof args, "-e %s,%s,%s status --json", r.nodes[0].addr, r.nodes[1].addr,
             r.nodes[2].addr);
    cr_assert_eq(rep_kvctl(args, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "\"member\": \"none\""), "%s", out);
    snprintf(args, sizeof args, "-e %s,%s,%s status", r.nodes[0].addr, r.nodes[1].addr,
             r.nodes[2].addr);
    cr_assert_eq(rep_kvctl(args, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "NOT-MEMBER"), "%s", out);
    cr_assert(strstr(out, "; learners - (the leader's membership, config index "), "%s", out);
    /* Refusals: one line, exit 3; bad arguments: usage, exit 2. */
    snprintf(args, sizeof args, "-e %s member promote %d", r.nodes[leader].addr, a);
    cr_assert_eq(rep_kvctl(args, out, sizeof out), 3, "%s", out);
    snprintf(want, sizeof want, "kvctl: member promote failed: NOT_MEMBER: member %d is a voter "
             "already: only a learner is promoted\n", a);
    cr_assert_str_eq(out, want);
    snprintf(args, sizeof args, "-e %s member remove 9", r.nodes[leader].addr);
    cr_assert_eq(rep_kvctl(args, out, sizeof out), 3, "%s", out);
    cr_assert_str_eq(out, "kvctl: member remove failed: NOT_MEMBER: member 9: no such member\n");
    snprintf(args, sizeof args, "-e %s member add %s", r.nodes[leader].addr, r.nodes[a].addr);
    cr_assert_eq(rep_kvctl(args, out, sizeof out), 3, "%s", out);
    cr_assert(strstr(out, "INVALID_ARGUMENT: endpoint: "), "%s", out);
    snprintf(args, sizeof args, "-e %s member remove one", r.nodes[leader].addr);
    cr_assert_eq(rep_kvctl(args, out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "'one' is not a member id"), "%s", out);
    snprintf(args, sizeof args, "-e %s member add-learner nowhere", r.nodes[leader].addr);
    cr_assert_eq(rep_kvctl(args, out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "'nowhere' is not HOST:PORT"), "%s", out);
    snprintf(args, sizeof args, "-e %s member", r.nodes[leader].addr);
    cr_assert_eq(rep_kvctl(args, out, sizeof out), 2, "%s", out);
    snprintf(args, sizeof args, "-e %s member remove %d", r.nodes[leader].addr, a);
    cr_assert_eq(rep_kvctl(args, out, sizeof out), 0, "%s", out);
    snprintf(args, sizeof args, "-e %s member remove %d", r.nodes[leader].addr, leader);
    cr_assert_eq(rep_kvctl(args, out, sizeof out), 3, "%s", out);
    snprintf(want, sizeof want, "kvctl: member remove failed: LAST_VOTER: member %d is the only "
             "voter: add another first\n", leader);
    cr_assert_str_eq(out, want);
    serves(&r, leader, "after-kvctl");
    rep_cleanup(&r);
}
