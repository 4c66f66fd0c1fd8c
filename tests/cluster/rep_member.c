/* rep_member.c: the membership calls for the process tests. */
#include "rep_member.h"

#include <stdio.h>
#include <string.h>

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
