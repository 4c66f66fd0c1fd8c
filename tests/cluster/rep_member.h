/* rep_member.h: the membership calls for the process tests (listMembers, changeMember). */
#ifndef REP_MEMBER_H
#define REP_MEMBER_H

#include "rep_fixture.h"

/* listMembers on node; 0 with *out filled (free it), -1 when the connection failed. */
int rep_members(struct rep *r, int node, ListMembersResponse *out);
/* changeMember on node: arg is the endpoint for an add, the member id otherwise (NULL: the
   field unset). 0 with *out filled (free it), -1 when the connection failed. */
int rep_change(struct rep *r, int node, MemberChange change, const char *arg,
               ChangeMemberResponse *out);
/* The member with id in list, or NULL. */
const Member *rep_member_find(const ListMembersResponse *list, const char *id);
/* "0 1 2(learner)": the list's ids in order, for messages and comparisons. */
void rep_members_text(const list_Member *list, char *buf, size_t size);

#endif
