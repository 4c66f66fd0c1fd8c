/* test_rep_grow.c: membership changes on processes under a write load, as an operator makes
   them (HACKING.md: grow / shrink, replace a dead node): 3 -> 5 -> 3 voters (each new node a
   learner first, promoted once caught up; then a follower and the leader removed), and a
   node killed with SIGKILL replaced by a fresh one at a new address. No acknowledged write
   is lost, and writes go on throughout. */
#include "rep_member.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEYS_MAX 40000
/* A learner within this many entries of the leader is promoted (tools/cluster add's rule). */
#define CAUGHT_UP_LAG 64
#define S(b) ((b).data ? (const char *)(b).data : "")

struct load {
    char addr[REP_NODES_MAX][64];
    atomic_uint alive;  /* the slots the writer may call (a bit each) */
    atomic_bool stop;
    char (*keys)[16];
    atomic_int count;   /* acknowledged */
    int unknown;        /* TIMEOUT or a lost reply: may or may not be applied */
    double last_ack, window;
};

/* One write through c; 1 acknowledged, 0 refused or unknown, -1 the connection failed. */
static int write_one(struct load *w, struct net_client *c, int32_t seq, int i)
{
    SetRequest q;
    SetRequest_init(&q);
    char key[16];
    snprintf(key, sizeof key, "g%06d", i);
    tp_bytes_set_str(&q.key, key);
    tp_bytes_set_str(&q.value, key);
    TransactionalKV_setKey_result res;
    int rc = test_call(c, TEST_METHOD(setKey), seq, &q, &res, NULL);
    SetRequest_free(&q);
    if (rc != 0) {
        w->unknown++;
        TransactionalKV_setKey_result_free(&res);
        return -1;
    }
    const SetResponse *s = &res.success;
    int out = 0;
    if (s->success) {
        memcpy(w->keys[atomic_load(&w->count)], key, sizeof key);
        atomic_fetch_add(&w->count, 1);
        double now = node_now();
        if (w->last_ack > 0 && now - w->last_ack > w->window)
            w->window = now - w->last_ack;
        w->last_ack = now;
        out = 1;
    } else if (!rep_refused(s->success, s->has_error_code, s->error_code)) {
        w->unknown++;
    }
    TransactionalKV_setKey_result_free(&res);
    return out;
}

/* Writes one at a time through a live node, moving to the next when it goes away or refuses. */
static void *writer(void *arg)
{
    struct load *w = arg;
    struct net_client c;
    bool up = false;
    int node = 0;
    int32_t seq = 0;
    for (int i = 0; !atomic_load(&w->stop) && atomic_load(&w->count) < KEYS_MAX; i++) {
        if (!up) {
            bool allowed = atomic_load(&w->alive) & (1u << node);
            if (allowed && net_client_connect(&c, w->addr[node], true, 3000) == NET_OK) {
                up = true;
            } else {
                if (allowed)
                    net_client_close(&c);
                node = (node + 1) % REP_NODES_MAX;
                usleep(2000);
                continue;
            }
        }
        if (write_one(w, &c, ++seq, i) != 1 || !(atomic_load(&w->alive) & (1u << node))) {
            net_client_close(&c);
            up = false;
            node = (node + 1) % REP_NODES_MAX;
        }
    }
    if (up)
        net_client_close(&c);
    return NULL;
}

static struct load *load_start(struct rep *r, pthread_t *t)
{
    struct load *w = calloc(1, sizeof *w);
    cr_assert(w);
    w->keys = calloc(KEYS_MAX, sizeof *w->keys);
    cr_assert(w->keys);
    for (int i = 0; i < REP_NODES; i++)
        snprintf(w->addr[i], sizeof w->addr[i], "%s", r->nodes[i].addr);
    atomic_store(&w->alive, (1u << REP_NODES) - 1);
    cr_assert_eq(pthread_create(t, NULL, writer, w), 0);
    return w;
}

static void load_allow(struct load *w, const struct rep *r, int node, bool yes)
{
    if (yes) {
        snprintf(w->addr[node], sizeof w->addr[node], "%s", r->nodes[node].addr);
        atomic_fetch_or(&w->alive, 1u << node);
    } else {
        atomic_fetch_and(&w->alive, ~(1u << node));
    }
}

/* Waits until n more writes were acknowledged: writes go on. */
static void load_wait_more(struct load *w, int n, const char *when)
{
    int from = atomic_load(&w->count);
    double deadline = node_now() + REP_WAIT_S;
    while (atomic_load(&w->count) < from + n) {
        cr_assert_lt(node_now(), deadline, "writes stopped %s (%d acknowledged)", when,
                     atomic_load(&w->count));
        usleep(10000);
    }
}

/* Stops the writer; every acknowledged write is on every running node (local reads once
   the nodes converged). */
static void load_check(struct rep *r, struct load *w, pthread_t t, const char *name)
{
    atomic_store(&w->stop, true);
    pthread_join(t, NULL);
    int count = atomic_load(&w->count);
    printf("%s: %d writes acknowledged (%d unknown), the longest wait between two %.0f ms\n",
           name, count, w->unknown, w->window * 1000);
    rep_wait_converged(r);
    for (int n = 0; n < REP_NODES_MAX; n++)
        for (int i = 0; r->nodes[n].pid > 0 && i < count; i++) {
            GetResponse g;
            cr_assert_eq(rep_get(r, n, w->keys[i], false, &g), 0);
            cr_assert(g.success && g.found, "acknowledged %s is missing on node %d", w->keys[i],
                      n);
            GetResponse_free(&g);
        }
    free(w->keys);
    free(w);
}

/* A live node's leader, once that node says it leads. */
static int leader_now(struct rep *r)
{
    double deadline = node_now() + REP_WAIT_S;
    for (;;) {
        for (int i = 0; i < REP_NODES_MAX; i++) {
            int l = r->nodes[i].pid > 0 ? rep_leader_seen_by(r, i) : -1;
            if (l >= 0 && l < REP_NODES_MAX && r->nodes[l].pid > 0 &&
                rep_leader_seen_by(r, l) == l)
                return l;
        }
        cr_assert_lt(node_now(), deadline, "no leader");
        usleep(20000);
    }
}

/* changeMember at the leader, asked again while refused for a moment (NOT_LEADER, a change
   in flight, a learner still catching up, UNAVAILABLE, BUSY); the answer, successful. */
static ChangeMemberResponse change_at_leader(struct rep *r, MemberChange type, const char *arg)
{
    double deadline = node_now() + REP_WAIT_S;
    for (;;) {
        ChangeMemberResponse c;
        int leader = leader_now(r);
        if (rep_change(r, leader, type, arg, &c) == 0) {
            if (c.success)
                return c;
            int code = c.error_code;
            cr_assert(code == ErrorCode_NOT_LEADER || code == ErrorCode_MEMBER_CHANGE_PENDING ||
                          code == ErrorCode_LEARNER_BEHIND || code == ErrorCode_UNAVAILABLE ||
                          code == ErrorCode_BUSY,
                      "change %d %s at node %d: %s", type, arg, leader, S(c.error));
            cr_assert_lt(node_now(), deadline, "change %d %s still refused: %s", type, arg,
                         S(c.error));
            ChangeMemberResponse_free(&c);
        }
        usleep(50000);
    }
}

/* The leader's view of member id: its lag, or -1 when unknown. */
static int64_t lag_of(struct rep *r, const char *id)
{
    ListMembersResponse l;
    int64_t lag = -1;
    if (rep_members(r, leader_now(r), &l) != 0)
        return -1;
    const Member *m = l.success ? rep_member_find(&l, id) : NULL;
    if (m && m->has_lag_entries)
        lag = m->lag_entries;
    ListMembersResponse_free(&l);
    return lag;
}

/* As an operator does it: add a learner at a new port, start it (deployment.join), wait until
   the leader sees it caught up, promote it. Its member id. */
static int grow_by_one(struct rep *r, struct load *w)
{
    uint16_t port = node_free_port();
    char ep[32], id[16];
    snprintf(ep, sizeof ep, "127.0.0.1:%u", port);
    ChangeMemberResponse c = change_at_leader(r, MemberChange_ADD_LEARNER, ep);
    cr_assert(c.has_member_id);
    snprintf(id, sizeof id, "%s", S(c.member_id));
    ChangeMemberResponse_free(&c);
    int slot = atoi(id);
    rep_join(r, slot, port);
    double deadline = node_now() + REP_WAIT_S;
    int64_t lag;
    while ((lag = lag_of(r, id)) < 0 || lag > CAUGHT_UP_LAG) {
        cr_assert_lt(node_now(), deadline, "learner %s did not catch up (lag %lld)", id,
                     (long long)lag);
        usleep(20000);
    }
    c = change_at_leader(r, MemberChange_PROMOTE, id);
    ChangeMemberResponse_free(&c);
    load_allow(w, r, slot, true);
    return slot;
}

static void expect_voters(struct rep *r, const char *want)
{
    ListMembersResponse l;
    cr_assert_eq(rep_members(r, leader_now(r), &l), 0);
    char text[128];
    rep_members_text(&l.members, text, sizeof text);
    cr_assert_str_eq(text, want);
    ListMembersResponse_free(&l);
}

/* Removes member node (at the leader, which may be itself), then stops its process. */
static void shrink_by(struct rep *r, struct load *w, int node)
{
    char id[16];
    snprintf(id, sizeof id, "%d", node);
    ChangeMemberResponse c = change_at_leader(r, MemberChange_REMOVE, id);
    ChangeMemberResponse_free(&c);
    load_allow(w, r, node, false);
    rep_disconnect(r, node);
    if (r->nodes[node].pid > 0) /* not when it was killed before */
        cr_assert_eq(node_stop(&r->nodes[node], SIGTERM), 0,
                     "removed node %d's exit was unclean", node);
}

Test(rep_grow, three_to_five_to_three_voters_under_load_loses_nothing)
{
    struct rep r;
    rep_start(&r, "");
    rep_wait_leader(&r);
    pthread_t t;
    struct load *w = load_start(&r, &t);
    load_wait_more(w, 50, "at the start");
    cr_assert_eq(grow_by_one(&r, w), 3);
    load_wait_more(w, 50, "after the first promotion");
    cr_assert_eq(grow_by_one(&r, w), 4);
    expect_voters(&r, "0 1 2 3 4");
    /* Each new member takes writes itself: member 4 caught up through member 3's add, a
       membership from before its own id was given out, which must not read as its removal
       (it then refused every write NOT_MEMBER, and did so as a leader too). */
    for (int node = 3; node <= 4; node++)
        for (double deadline = node_now() + REP_WAIT_S;;) {
            SetResponse s;
            cr_assert_eq(rep_set(&r, node, "grown", "yes", &s), 0);
            bool ok = s.success;
            int code = s.has_error_code ? (int)s.error_code : -1;
            cr_assert(ok || (code != ErrorCode_NOT_MEMBER && rep_retryable(code)),
                      "node %d refused a write: %s", node, S(s.error));
            SetResponse_free(&s);
            if (ok)
                break;
            cr_assert_lt(node_now(), deadline, "node %d never took a write", node);
            usleep(20000);
        }
    load_wait_more(w, 50, "with five voters");
    int leader = leader_now(&r), other = (leader + 2) % 5;
    shrink_by(&r, w, other);
    load_wait_more(w, 50, "after removing a follower");
    shrink_by(&r, w, leader);
    int next = leader_now(&r);
    cr_assert(next != leader && next != other);
    load_wait_more(w, 50, "after removing the leader");
    char want[16];
    int left[3], k = 0;
    for (int i = 0; i < 5; i++)
        if (i != leader && i != other)
            left[k++] = i;
    snprintf(want, sizeof want, "%d %d %d", left[0], left[1], left[2]);
    expect_voters(&r, want);
    load_check(&r, w, t, "rep_grow 3-5-3");
    rep_cleanup(&r);
}

Test(rep_grow, a_killed_node_is_replaced_by_a_fresh_one_at_a_new_address)
{
    struct rep r;
    rep_start(&r, "");
    rep_wait_leader(&r);
    pthread_t t;
    struct load *w = load_start(&r, &t);
    load_wait_more(w, 50, "at the start");
    load_allow(w, &r, 2, false);
    rep_kill(&r, 2);
    load_wait_more(w, 50, "after node 2 was killed");
    shrink_by(&r, w, 2);
    cr_assert_eq(grow_by_one(&r, w), 3);
    expect_voters(&r, "0 1 3");
    load_wait_more(w, 50, "with the new member");
    /* The new member holds everything, and counts: with node 0 stopped, 1 and 3 commit. */
    int leader = leader_now(&r);
    int gone = leader == 0 ? 1 : 0;
    load_allow(w, &r, gone, false);
    rep_kill(&r, gone);
    load_wait_more(w, 50, "with a majority of old and new");
    rep_restart(&r, gone);
    load_allow(w, &r, gone, true);
    load_check(&r, w, t, "rep_grow replace");
    rep_cleanup(&r);
}
