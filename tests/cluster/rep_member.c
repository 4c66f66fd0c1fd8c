/* rep_member.c: the membership calls for the process tests. */
#include "rep_member.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S(b) ((b).data ? (const char *)(b).data : "")

int rep_members(struct rep *r, int node, ListMembersResponse *out)
{
    ListMembersRequest q;
    ListMembersRequest_init(&q);
    TransactionalKV_listMembers_result res;
    struct net_client *c = rep_client(r, node);
    int rc = c && test_call(c, TEST_METHOD(listMembers), ++r->seqid, &q, &res, NULL) == 0 &&
                     res.has_success
                 ? 0
                 : -1;
    if (rc == 0)
        *out = res.success; /* moved out: the caller frees it */
    else
        rep_disconnect(r, node);
    ListMembersRequest_free(&q);
    return rc;
}

int rep_change(struct rep *r, int node, MemberChange change, const char *arg,
               ChangeMemberResponse *out)
{
    ChangeMemberRequest q;
    ChangeMemberRequest_init(&q);
    q.change = change;
    bool add = change == MemberChange_ADD_VOTER || change == MemberChange_ADD_LEARNER;
    if (arg && add)
        q.has_endpoint = tp_bytes_set_str(&q.endpoint, arg) == 0;
    else if (arg)
        q.has_member_id = tp_bytes_set_str(&q.member_id, arg) == 0;
    TransactionalKV_changeMember_result res;
    struct net_client *c = rep_client(r, node);
    int rc = c && test_call(c, TEST_METHOD(changeMember), ++r->seqid, &q, &res, NULL) == 0 &&
                     res.has_success
                 ? 0
                 : -1;
    if (rc == 0)
        *out = res.success;
    else
        rep_disconnect(r, node);
    ChangeMemberRequest_free(&q);
    return rc;
}

ChangeMemberResponse rep_change_retry(struct rep *r, MemberChange change, const char *arg)
{
    double deadline = node_now() + REP_WAIT_S;
    for (;;) {
        for (int i = 0; i < REP_NODES_MAX; i++) {
            ChangeMemberResponse out;
            if (r->nodes[i].pid <= 0 || rep_change(r, i, change, arg, &out) != 0)
                continue;
            if (out.success)
                return out;
            int code = out.has_error_code ? (int)out.error_code : 0;
            ChangeMemberResponse_free(&out);
            cr_assert(code == ErrorCode_NOT_LEADER || code == ErrorCode_MEMBER_CHANGE_PENDING ||
                          code == ErrorCode_LEARNER_BEHIND || code == ErrorCode_UNAVAILABLE ||
                          code == ErrorCode_BUSY || code == ErrorCode_TIMEOUT,
                      "change %d (%s) at node %d refused: code %d", change, arg ? arg : "", i,
                      code);
        }
        cr_assert_lt(node_now(), deadline, "change %d (%s) never took", change, arg ? arg : "");
        usleep(50000); /* a leader, or the previous change's commit */
    }
}

const Member *rep_member_find(const ListMembersResponse *list, const char *id)
{
    for (uint32_t i = 0; i < list->members.count; i++) {
        const Member *m = &list->members.items[i];
        if (m->member_id.data && strcmp((const char *)m->member_id.data, id) == 0)
            return m;
    }
    return NULL;
}

void rep_members_text(const list_Member *list, char *buf, size_t size)
{
    size_t off = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < list->count && off < size; i++)
        off += (size_t)snprintf(buf + off, size - off, "%s%s%s", i ? " " : "",
                                list->items[i].member_id.data
                                    ? (const char *)list->items[i].member_id.data
                                    : "?",
                                list->items[i].learner ? "(learner)" : "");
}

int rep_leader_now(struct rep *r)
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

int64_t rep_lag_of(struct rep *r, int id)
{
    ListMembersResponse l;
    int64_t lag = -1;
    char text[16];
    snprintf(text, sizeof text, "%d", id);
    if (rep_members(r, rep_leader_now(r), &l) != 0)
        return -1;
    const Member *m = l.success ? rep_member_find(&l, text) : NULL;
    if (m && m->has_lag_entries)
        lag = m->lag_entries;
    ListMembersResponse_free(&l);
    return lag;
}

int rep_add_member(struct rep *r, uint16_t port, bool learner)
{
    char ep[32];
    snprintf(ep, sizeof ep, "127.0.0.1:%u", port);
    ChangeMemberResponse c = rep_change_retry(
        r, learner ? MemberChange_ADD_LEARNER : MemberChange_ADD_VOTER, ep);
    cr_assert(c.has_member_id);
    int id = atoi(S(c.member_id));
    ChangeMemberResponse_free(&c);
    return id;
}

int rep_add_learner(struct rep *r, uint16_t port)
{
    int slot = rep_add_member(r, port, true);
    rep_join(r, slot, port);
    return slot;
}

void rep_promote_caught_up(struct rep *r, int id)
{
    double deadline = node_now() + REP_WAIT_S;
    int64_t lag;
    while ((lag = rep_lag_of(r, id)) < 0 || lag > REP_CAUGHT_UP_LAG) {
        cr_assert_lt(node_now(), deadline, "learner %d did not catch up (lag %lld)", id,
                     (long long)lag);
        usleep(20000);
    }
    char text[16];
    snprintf(text, sizeof text, "%d", id);
    ChangeMemberResponse c = rep_change_retry(r, MemberChange_PROMOTE, text);
    ChangeMemberResponse_free(&c);
}

void rep_remove_member(struct rep *r, int node)
{
    char id[16];
    snprintf(id, sizeof id, "%d", node);
    ChangeMemberResponse c = rep_change_retry(r, MemberChange_REMOVE, id);
    ChangeMemberResponse_free(&c);
    rep_disconnect(r, node);
}

int rep_replace_start(struct rep *r, int node)
{
    cr_assert_eq(r->nodes[node].pid, 0, "replace only a stopped node");
    rep_remove_member(r, node);
    return rep_add_learner(r, r->nodes[node].port);
}

int rep_replace(struct rep *r, int node)
{
    int slot = rep_replace_start(r, node);
    rep_promote_caught_up(r, slot);
    return slot;
}
