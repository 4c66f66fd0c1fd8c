/* test_cluster_members.c: the driver's peers follow the membership at run time, over TCP: a
   node that joins knowing nothing is added, caught up and promoted, members are removed (the
   leader too), and after each change every node has a link to each member and to no one
   else; a restart of every node comes back with the membership its log holds. */
#include <criterion/criterion.h>

#include "cluster_fixture.h"

#define WAIT_MS 15000

static const struct consensus_membership *members_of(struct fixture *fx, uint32_t node)
{
    return cluster_membership(fx->nodes[node].node);
}

static bool is_member(struct fixture *fx, uint32_t node, uint32_t id)
{
    return consensus_membership_find(members_of(fx, node), id) != NULL;
}

/* Every open node has a link to each member of its newest membership but itself, and none
   to anyone else (ids 0..FX_NODES_MAX-1 are all the test uses). */
static bool links_follow(struct fixture *fx, void *arg)
{
    (void)arg;
    for (uint32_t i = 0; i < fx->n; i++) {
        if (!fx->nodes[i].node)
            continue;
        for (uint32_t id = 0; id < FX_NODES_MAX; id++) {
            bool link = cluster_transport_slot(fx->nodes[i].tp, id) >= 0;
            if (id != i && link != is_member(fx, i, id))
                return false;
        }
    }
    return true;
}

/* Every open node's newest membership is want's (ids and roles). */
static bool same_members(struct fixture *fx, void *arg)
{
    const struct consensus_membership *want = arg;
    for (uint32_t i = 0; i < fx->n; i++) {
        if (!fx->nodes[i].node)
            continue;
        const struct consensus_membership *m = members_of(fx, i);
        if (m->count != want->count)
            return false;
        for (uint32_t k = 0; k < want->count; k++) {
            const struct consensus_member *x = consensus_membership_find(m, want->members[k].id);
            if (!x || x->role != want->members[k].role)
                return false;
        }
    }
    return true;
}

struct change_wait {
    bool done;
    int err;
    uint64_t index;
};

static void changed(void *ctx, int err, uint64_t index, uint32_t leader)
{
    struct change_wait *w = ctx;
    (void)leader;
    w->done = true;
    w->err = err;
    w->index = index;
}

static bool change_done(struct fixture *fx, void *arg)
{
    (void)fx;
    return ((struct change_wait *)arg)->done;
}

static bool never(struct fixture *fx, void *arg)
{
    (void)fx, (void)arg;
    return false;
}

/* The change on the leader, proposed again while it is refused as not now (a change or the
   leader's first commit pending, the learner not streaming yet, a new leader), until it is
   applied there: its index; *id gets an add's new id. */
static uint64_t change(struct fixture *fx, enum consensus_change_type type, uint32_t member,
                       const char *addr, uint32_t *id)
{
    for (int tries = 0;; tries++) {
        cr_assert_lt(tries, 300, "the change (type %d, member %u) never took", type, member);
        uint32_t l = fx_wait_leader(fx, WAIT_MS);
        struct consensus_change c = {.type = type, .id = member, .addr = addr};
        struct change_wait w = {0};
        int rc = cluster_member_change(fx->nodes[l].node, &c, changed, &w);
        if (rc == 0) {
            cr_assert(fx_wait(fx, change_done, &w, WAIT_MS), "the change never finished");
            if (w.err == 0) {
                if (id)
                    *id = c.id;
                return w.index;
            }
        } else {
            cr_assert(rc == CONSENSUS_ERR_CHANGE_PENDING || rc == CONSENSUS_ERR_LEARNER_BEHIND ||
                          rc == CONSENSUS_ERR_NOT_LEADER || rc == CONSENSUS_ERR_BUSY,
                      "change refused: %d", rc);
        }
        fx_wait(fx, never, NULL, 50); /* the loop runs on while the change is not taken */
    }
}

static void expect_members(struct fixture *fx, const struct consensus_membership *want)
{
    cr_assert(fx_wait(fx, same_members, (void *)want, WAIT_MS),
              "the nodes do not agree on the membership");
    cr_assert(fx_wait(fx, links_follow, NULL, WAIT_MS),
              "the links do not follow the membership");
}

static void set_members(struct consensus_membership *m, const uint32_t *voters, uint32_t nv,
                        const uint32_t *learners, uint32_t nl)
{
    memset(m, 0, sizeof *m);
    for (uint32_t i = 0; i < nv; i++)
        m->members[m->count++] = (struct consensus_member){.id = voters[i]};
    for (uint32_t i = 0; i < nl; i++)
        m->members[m->count++] =
            (struct consensus_member){.id = learners[i], .role = CONSENSUS_MEMBER_LEARNER};
}

/* Writes count entries through the leader and checks every open node applies them alike. */
static void write_and_check(struct fixture *fx, uint32_t count)
{
    uint32_t l = fx_wait_leader(fx, WAIT_MS);
    cr_assert_eq(fx_propose_n(fx, l, count, WAIT_MS), count);
    cr_assert(fx_wait_applied(fx, fx->nodes[l].applied, WAIT_MS), "a member fell behind");
    fx_check_same(fx);
}

Test(cluster_members, peers_follow_the_membership_added_promoted_removed_and_restarted,
     .timeout = 170)
{
    struct fixture fx;
    fx_init(&fx, FX_TCP, 4, "peers_follow_the_membership");
    fx.voters = 3;
    fx.joining[3] = true;
    fx_open_all(&fx);
    struct consensus_membership want;
    set_members(&want, (uint32_t[]){0, 1, 2}, 3, NULL, 0);
    /* Node 3 knows no membership: no member links to it, it never campaigns. */
    cr_assert(fx_wait(&fx, links_follow, NULL, WAIT_MS));
    uint32_t l = fx_wait_leader(&fx, WAIT_MS);
    cr_assert_eq(fx_propose_n(&fx, l, 20, WAIT_MS), 20);
    cr_assert_eq(members_of(&fx, 3)->count, 0);
    cr_assert_eq(fx.nodes[3].applied, 0);
    struct cluster_status st;
    cluster_status(fx.nodes[3].node, &st);
    cr_assert_eq(st.role, CONSENSUS_FOLLOWER);
    cr_assert_eq(st.term, 0, "a node waiting to be added campaigned");
    /* Added as a learner at its address, it catches up by the log and learns the rest. */
    uint32_t id = CONSENSUS_NONE;
    change(&fx, CONSENSUS_CHANGE_ADD_LEARNER, 0, fx.endpoints[3], &id);
    cr_assert_eq(id, 3, "ids come from next_id");
    set_members(&want, (uint32_t[]){0, 1, 2}, 3, (uint32_t[]){3}, 1);
    expect_members(&fx, &want);
    write_and_check(&fx, 20);
    change(&fx, CONSENSUS_CHANGE_PROMOTE, 3, NULL, NULL);
    set_members(&want, (uint32_t[]){0, 1, 2, 3}, 4, NULL, 0);
    expect_members(&fx, &want);
    /* A follower removed: every other node closes its link to it. */
    uint32_t leader = fx_wait_leader(&fx, WAIT_MS), gone = leader == 1 ? 2 : 1;
    change(&fx, CONSENSUS_CHANGE_REMOVE, gone, NULL, NULL);
    fx_close(&fx, gone); /* it may never hear the commit: it is no member to send it to */
    want.count = 0;
    for (uint32_t i = 0; i < 4; i++)
        if (i != gone)
            want.members[want.count++] = (struct consensus_member){.id = i};
    expect_members(&fx, &want);
    write_and_check(&fx, 20);
    /* Every node restarts: the membership comes back from the log (no snapshots here). */
    for (uint32_t i = 0; i < fx.n; i++)
        fx_close(&fx, i);
    for (uint32_t i = 0; i < fx.n; i++)
        if (i != gone)
            fx_open(&fx, i);
    expect_members(&fx, &want);
    write_and_check(&fx, 10);
    /* The leader removes itself: it steps down once that commits, another leads. */
    leader = fx_wait_leader(&fx, WAIT_MS);
    change(&fx, CONSENSUS_CHANGE_REMOVE, leader, NULL, NULL);
    fx_close(&fx, leader);
    uint32_t k = 0;
    for (uint32_t i = 0; i < want.count; i++)
        if (want.members[i].id != leader)
            want.members[k++] = want.members[i];
    want.count = k;
    expect_members(&fx, &want);
    write_and_check(&fx, 10);
    fx_fini(&fx);
}
