/* nemesis_member.c: membership changes as an operator makes them, under the load: a slot's
   member removed at the leader, the node stopped and its data dir emptied, the node added
   again under a new member id as a learner at its own address (deployment.join), started,
   promoted once the leader no longer calls it behind. restart-wipe takes the same path after
   it checked that the wiped node, started under its old id, is refused (member identity).
   Every change is asked of the leader (kvt_cluster_leader), again while it is refused for a
   moment, until a deadline; each is counted in run->members. */
#include "client_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RETRY_NS (100LL * 1000 * 1000)
/* A change refused for a moment (no leader, one in flight, not committed in its term yet) is
   asked again until this much time passed. */
#define CHANGE_WAIT_NS (20LL * 1000 * 1000 * 1000)
/* How long the wiped node gets to hear from the leader that its id is bound elsewhere. */
#define REFUSED_WAIT_NS (15LL * 1000 * 1000 * 1000)
/* The fault files name member ids below this (src/server/server_faults.c: FAULT_IDS_MAX):
   no id is handed out at or above it, or partitions would stop reaching the node. */
#define MEMBER_ID_LIMIT 64u

enum change_rc { CHANGE_DONE, CHANGE_REFUSED, CHANGE_GAVE_UP };

/* A pause between tries that also serves the heal, which runs once kvt_stop is set (where
   kvt_nemesis_hold returns at once): the watch still reads the logs. */
static void nap(struct kvt_run *run)
{
    kvt_watch_poll(run->cluster);
    struct timespec ts = {0, RETRY_NS};
    nanosleep(&ts, NULL);
}

static const char *change_name(MemberChange type)
{
    return type == MemberChange_ADD_LEARNER ? "add-learner"
           : type == MemberChange_PROMOTE   ? "promote"
           : type == MemberChange_REMOVE    ? "remove"
                                            : "add";
}

static void say(const struct kvt_run *run, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(const struct kvt_run *run, const char *fmt, ...)
{
    printf("nemesis %7.2f s: membership: ", kvt_since_start(run));
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

/* Codes a change is asked again after: the leader moved, a change or its term's first commit
   is in flight, the learner is still behind, or the node is busy or stopping. TIMEOUT: the
   outcome is unknown, so the retry must read a refusal with that in mind (maybe_done). */
static bool retryable(int code)
{
    return code == ErrorCode_NOT_LEADER || code == ErrorCode_MEMBER_CHANGE_PENDING ||
           code == ErrorCode_LEARNER_BEHIND || code == ErrorCode_UNAVAILABLE ||
           code == ErrorCode_BUSY || code == ErrorCode_SHUTTING_DOWN ||
           code == ErrorCode_TIMEOUT;
}

/* One changeMember call at node `at`; 0 with *res (the caller frees it), or -1 (no answer:
   the outcome is unknown). */
static int change_call(const struct kvt_run *run, int at, MemberChange type, const char *arg,
                       ChangeMemberResponse *out)
{
    struct kvt_conn k;
    kvt_conn_init(&k, run->cluster, at, run->o->timeout_ms);
    ChangeMemberRequest req;
    ChangeMemberRequest_init(&req);
    req.change = type;
    if (type == MemberChange_ADD_LEARNER) {
        req.has_endpoint = true;
        tp_bytes_set_str(&req.endpoint, arg);
    } else {
        req.has_member_id = true;
        tp_bytes_set_str(&req.member_id, arg);
    }
    TransactionalKV_changeMember_result res;
    TransactionalKV_changeMember_result_init(&res);
    enum call_status st;
    KVT_CALL(st, &k, changeMember, &req, &res);
    int rc = st == CALL_OK ? 0 : -1;
    if (rc == 0) {
        *out = res.success;
        ChangeMemberResponse_init(&res.success);
    }
    TransactionalKV_changeMember_result_free(&res);
    ChangeMemberRequest_free(&req);
    kvt_conn_free(&k);
    return rc;
}

/* The leader's membership: 0 with *out (the caller frees it), or -1. */
static int list_at_leader(const struct kvt_run *run, ListMembersResponse *out)
{
    int leader = kvt_cluster_leader(run->cluster, run->o->timeout_ms);
    if (leader < 0)
        return -1;
    struct kvt_conn k;
    kvt_conn_init(&k, run->cluster, leader, run->o->timeout_ms);
    ListMembersRequest req;
    ListMembersRequest_init(&req);
    TransactionalKV_listMembers_result res;
    TransactionalKV_listMembers_result_init(&res);
    enum call_status st;
    KVT_CALL(st, &k, listMembers, &req, &res);
    int rc = st == CALL_OK && res.success.success && res.success.has_members ? 0 : -1;
    if (rc == 0) {
        *out = res.success;
        ListMembersResponse_init(&res.success);
    }
    TransactionalKV_listMembers_result_free(&res);
    ListMembersRequest_free(&req);
    kvt_conn_free(&k);
    return rc;
}

static bool bytes_is(const tp_bytes *b, const char *s)
{
    return b->data && b->len == strlen(s) && memcmp(b->data, s, b->len) == 0;
}

/* The member whose id (by_id) or endpoint is key in l; NULL when none. */
static const Member *find(const ListMembersResponse *l, const char *key, bool by_id)
{
    for (uint32_t i = 0; i < l->members.count; i++) {
        const Member *m = &l->members.items[i];
        if (bytes_is(by_id ? &m->member_id : &m->endpoint, key))
            return m;
    }
    return NULL;
}

/* After an answer was lost or TIMEOUT: did the change take? (the leader's view) */
static bool took(const struct kvt_run *run, MemberChange type, const char *arg, char *id,
                 size_t size)
{
    ListMembersResponse l;
    if (list_at_leader(run, &l) != 0)
        return false;
    const Member *m = find(&l, arg, type != MemberChange_ADD_LEARNER);
    bool yes = type == MemberChange_REMOVE ? !m : type == MemberChange_PROMOTE ? m && !m->learner
                                                                               : m != NULL;
    if (yes && m && id)
        snprintf(id, size, "%.*s", (int)m->member_id.len, (const char *)m->member_id.data);
    ListMembersResponse_free(&l);
    return yes;
}

/* A change asked of the leader until it is answered success, refused for good, or the
   deadline; for an add, the new member's id into id. */
static enum change_rc change(struct kvt_run *run, MemberChange type, const char *arg, char *id,
                             size_t size)
{
    run->members.attempted++;
    bool maybe_done = false;   /* an earlier try's outcome is unknown */
    char last[160] = "no leader known";
    for (int64_t deadline = kvt_now_ns() + CHANGE_WAIT_NS; kvt_now_ns() < deadline; nap(run)) {
        int leader = kvt_cluster_leader(run->cluster, run->o->timeout_ms);
        ChangeMemberResponse r;
        if (leader < 0)
            continue;
        if (change_call(run, leader, type, arg, &r) != 0) {
            maybe_done = true;
            snprintf(last, sizeof last, "no answer from node %d", leader);
            continue;
        }
        bool ok = r.success;
        int code = r.has_error_code ? (int)r.error_code : -1;
        if (ok && id && r.has_member_id && r.member_id.data)
            snprintf(id, size, "%.*s", (int)r.member_id.len, (const char *)r.member_id.data);
        if (!ok)
            snprintf(last, sizeof last, "code %d: %.*s", code, r.error.data ? (int)r.error.len : 0,
                     r.error.data ? (const char *)r.error.data : "");
        ChangeMemberResponse_free(&r);
        if (!ok && code == ErrorCode_TIMEOUT)
            maybe_done = true;
        /* A retry of a change that took is refused (the member gone, the endpoint taken, not
           a learner any more): the leader's list says whether it took. */
        if (ok || (!retryable(code) && maybe_done && took(run, type, arg, id, size))) {
            run->members.committed++;
            return CHANGE_DONE;
        }
        if (!retryable(code)) {
            run->members.refused++;
            say(run, "%s %s refused (%s)", change_name(type), arg, last);
            return CHANGE_REFUSED;
        }
    }
    if (maybe_done && took(run, type, arg, id, size)) {
        run->members.committed++;
        return CHANGE_DONE;
    }
    run->members.gave_up++;
    say(run, "%s %s still not done after %lld s (last: %s)", change_name(type), arg,
        CHANGE_WAIT_NS / 1000000000, last);
    return CHANGE_GAVE_UP;
}

/* Slot i, stopped with an empty data dir, added again: a learner at its address under a new
   id, started with deployment.join, promoted. 0, or -1 (said; the slot is short). */
static int readd(struct kvt_run *run, unsigned i)
{
    struct kvt_node *n = &run->cluster->nodes[i];
    char id[32] = "";
    if (change(run, MemberChange_ADD_LEARNER, n->addr, id, sizeof id) != CHANGE_DONE)
        return -1;
    char *end;
    unsigned long member = strtoul(id, &end, 10);
    if (end == id || *end || member >= MEMBER_ID_LIMIT) {
        say(run, "the leader gave '%s' as the new id of %s: not one the fault files can name",
            id, n->addr);
        return -1;
    }
    atomic_store(&n->member, (unsigned)member);
    /* The join names the cluster, as tools/cluster add's does, once the leader has bound one. */
    char cluster[24] = "";
    ListMembersResponse l;
    if (list_at_leader(run, &l) == 0) {
        if (l.has_cluster_id && l.cluster_id.data && l.cluster_id.len < sizeof cluster)
            snprintf(cluster, sizeof cluster, "%.*s", (int)l.cluster_id.len,
                     (const char *)l.cluster_id.data);
        ListMembersResponse_free(&l);
    }
    say(run, "node at %s added as learner %s (cluster %s)", n->addr, id,
        cluster[0] ? cluster : "not bound yet");
    if (kvt_node_join_config(n, (unsigned)member, cluster) != 0 ||
        kvt_node_start(run->cluster, i) != 0)
        return -1;
    if (change(run, MemberChange_PROMOTE, id, NULL, 0) != CHANGE_DONE)
        return -1;
    say(run, "member %s promoted: a voter again", id);
    return 0;
}

/* A slot short of its voter for good makes the run fail: counted as a fault not healed. */
static void readd_or_miss(struct kvt_run *run, unsigned i)
{
    if (readd(run, i) != 0)
        run->faults_missed++;
}

/* Removes slot i's member at the leader; true when it is gone. */
static bool remove_member(struct kvt_run *run, unsigned i)
{
    char id[16];
    snprintf(id, sizeof id, "%u", atomic_load(&run->cluster->nodes[i].member));
    if (change(run, MemberChange_REMOVE, id, NULL, 0) != CHANGE_DONE)
        return false;
    say(run, "member %s removed (node at %s)", id, run->cluster->nodes[i].addr);
    return true;
}

/* The largest member id handed out so far is below the limit with room for one more. */
static bool ids_left(struct kvt_run *run)
{
    unsigned top = 0;
    for (unsigned i = 0; i < run->cluster->count; i++)
        if (atomic_load(&run->cluster->nodes[i].member) > top)
            top = atomic_load(&run->cluster->nodes[i].member);
    if (top + 2 < MEMBER_ID_LIMIT)
        return true;
    say(run, "skipped: member ids would pass %u, the most the fault files name",
        MEMBER_ID_LIMIT - 1);
    return false;
}

static int members_amiss(struct kvt_run *run, int *slot, bool *learner, char *what,
                         size_t size);

/* Whether every slot's member is a voter and nothing else, as the leader lists them: no
   change starts on a cluster already short (an earlier one that could not be healed), so
   the nemesis never takes it below a majority of its slots. Said when not. */
static bool whole(struct kvt_run *run)
{
    int slot;
    bool learner;
    char what[160];
    int amiss = members_amiss(run, &slot, &learner, what, sizeof what);
    if (amiss == 0)
        return true;
    say(run, "skipped: %s", amiss < 0 ? "no leader lists the members" : what);
    return false;
}

void kvt_nemesis_membership(struct kvt_run *run, unsigned i)
{
    struct kvt_node *n = &run->cluster->nodes[i];
    if (!ids_left(run) || !whole(run))
        return;
    if (!remove_member(run, i)) {
        run->faults_missed++;   /* refused or not done: the fault was not injected */
        return;
    }
    /* It runs on a moment, removed: clients meet its NOT_MEMBER and go elsewhere. */
    kvt_nemesis_hold(run, 2LL * run->cluster->election_timeout_ms * 1000000);
    kvt_node_kill(n);
    if (kvt_node_wipe(n) != 0) {
        fprintf(stderr, "kvtorture: nemesis: cannot wipe %s\n", n->data_dir);
        run->faults_missed++;
        return;
    }
    readd_or_miss(run, i);
}

/* Whether node i's health names it refused (its id bound to another data dir). */
static bool refused(const struct kvt_run *run, unsigned i)
{
    struct kvt_conn k;
    kvt_conn_init(&k, run->cluster, (int)i, run->o->timeout_ms);
    GetNodeInfoRequest req;
    GetNodeInfoRequest_init(&req);
    TransactionalKV_getNodeInfo_result res;
    TransactionalKV_getNodeInfo_result_init(&res);
    enum call_status st;
    KVT_CALL(st, &k, getNodeInfo, &req, &res);
    const tp_bytes *why = &res.success.health_reason;
    bool yes = st == CALL_OK && res.success.success && res.success.has_health_reason &&
               why->data && why->len >= 8 && memcmp(why->data, "refused:", 8) == 0;
    TransactionalKV_getNodeInfo_result_free(&res);
    GetNodeInfoRequest_free(&req);
    kvt_conn_free(&k);
    return yes;
}

/* Whether another node's log (from[j] on) reports member `member` back with a new data dir:
   a leader dropped it (consensus identity.c) and refuses what it sends. */
static bool reported(const struct kvt_run *run, unsigned i, unsigned member,
                     const long long *from)
{
    char said[64];
    snprintf(said, sizeof said, "member %u came back with a new data dir", member);
    for (unsigned j = 0; j < run->cluster->count; j++)
        if (j != i && kvt_log_has(&run->cluster->nodes[j], from[j], said))
            return true;
    return false;
}

/* Waits until the wiped node i, running under its old id, is refused: it says so (health),
   or, failing that by the deadline, a leader reported it. Counted and said either way. */
static void expect_refused(struct kvt_run *run, unsigned i, unsigned member, const long long *from)
{
    const char *addr = run->cluster->nodes[i].addr;
    int64_t deadline = kvt_now_ns() + REFUSED_WAIT_NS;
    while (!refused(run, i) && kvt_now_ns() < deadline && kvt_nemesis_hold(run, RETRY_NS))
        ;
    if (refused(run, i)) {
        run->members.wipes_refused++;
        say(run, "node at %s under its old id %u is refused, as it must be", addr, member);
    } else if (reported(run, i, member, from)) {
        /* The cluster refuses it (its votes and acks count for nothing), but it was never
           told so: the leader drops what it sends and stops sending to it. */
        run->members.wipes_refused++;
        run->members.wipes_unaware++;
        say(run, "node at %s under its old id %u is refused by the leader, though its health"
                 " does not say so", addr, member);
    } else {
        /* identity is on in every node's config (cluster.c): it must be refused */
        say(run, "node at %s under its old id %u was NOT refused", addr, member);
        run->faults_missed++;
    }
}

void kvt_nemesis_wipe(struct kvt_run *run, unsigned i)
{
    struct kvt_node *n = &run->cluster->nodes[i];
    unsigned member = atomic_load(&n->member);
    if (!ids_left(run) || !whole(run))
        return;
    kvt_node_kill(n);
    if (kvt_node_wipe(n) != 0)
        fprintf(stderr, "kvtorture: nemesis: cannot wipe %s\n", n->data_dir);
    kvt_nemesis_hold(run, 1500LL * 1000 * 1000);
    long long from[KVT_NODES_MAX];
    for (unsigned j = 0; j < run->cluster->count; j++)
        from[j] = kvt_log_size(&run->cluster->nodes[j]);
    n->refusal_expected = true;
    kvt_nemesis_restart(run, i);   /* its old config: the old member id, an empty data dir */
    if (n->pid <= 0) {   /* did not come back: counted missed */
        n->refusal_expected = false;
        return;
    }
    expect_refused(run, i, member, from);
    bool removed = remove_member(run, i);
    kvt_node_kill(n);
    kvt_watch_poll(run->cluster);   /* its whole log read while its refusal is expected */
    n->refusal_expected = false;
    if (!removed) {
        run->faults_missed++;
        return;
    }
    if (kvt_node_wipe(n) != 0) {
        fprintf(stderr, "kvtorture: nemesis: cannot wipe %s\n", n->data_dir);
        run->faults_missed++;
        return;
    }
    readd_or_miss(run, i);
}

/* What the leader's membership lacks: each slot's member a voter, and nothing else. The first
   slot short into *slot (-1: none short), and whether anything is amiss. -1 when no leader
   answers. */
static int members_amiss(struct kvt_run *run, int *slot, bool *learner, char *what, size_t size)
{
    ListMembersResponse l;
    if (list_at_leader(run, &l) != 0)
        return -1;
    const struct kvt_cluster *c = run->cluster;
    int amiss = l.members.count != c->count;
    *slot = -1;
    snprintf(what, size, "%u members for %u nodes", l.members.count, c->count);
    for (unsigned i = 0; i < c->count && *slot < 0; i++) {
        char id[16];
        snprintf(id, sizeof id, "%u", atomic_load(&c->nodes[i].member));
        const Member *m = find(&l, id, true);
        if (!m || m->learner) {
            *slot = (int)i, *learner = m != NULL, amiss = 1;
            snprintf(what, size, "node at %s: member %s %s", c->nodes[i].addr, id,
                     m ? "still a learner" : "not a member");
        }
    }
    ListMembersResponse_free(&l);
    return amiss;
}

void kvt_nemesis_members_check(struct kvt_run *run)
{
    if (!run->cluster->replicated)
        return;
    char what[160] = "";
    int amiss = -1;
    /* Each round repairs one slot (promotes its learner, or adds it again); one that cannot
       be repaired ends it. */
    for (int round = 0; round < KVT_NODES_MAX; round++) {
        int slot;
        bool learner = false;
        int64_t deadline = kvt_now_ns() + CHANGE_WAIT_NS;
        while ((amiss = members_amiss(run, &slot, &learner, what, sizeof what)) < 0 &&
               kvt_now_ns() < deadline)
            nap(run);
        if (amiss <= 0 || slot < 0)
            break;
        say(run, "heal: %s: repairing", what);
        struct kvt_node *n = &run->cluster->nodes[slot];
        char id[16];
        snprintf(id, sizeof id, "%u", atomic_load(&n->member));
        int rc = -1;
        if (learner)
            rc = n->pid > 0 && change(run, MemberChange_PROMOTE, id, NULL, 0) == CHANGE_DONE
                     ? 0 : -1;
        else if (ids_left(run)) {
            kvt_node_kill(n);
            rc = kvt_node_wipe(n) == 0 ? readd(run, (unsigned)slot) : -1;
        }
        if (rc != 0)
            break;
    }
    const struct kvt_member_stats *m = &run->members;
    printf("membership: %u change(s) asked, %u committed, %u refused, %u not done by their "
           "deadline; %u wiped node(s) refused under their old id (%u not told so)\n",
           m->attempted, m->committed, m->refused, m->gave_up, m->wipes_refused,
           m->wipes_unaware);
    if (amiss == 0)
        return;
    run->members.short_at_end = true;
    say(run, "NOT restored at the end: %s", amiss < 0 ? "no leader lists the members" : what);
}
