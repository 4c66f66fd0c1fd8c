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
/* changeMember asked of each running node in turn until one (the leader) takes it; asked
   again while refused as "not now" (NOT_LEADER, a change in flight, a learner catching up,
   UNAVAILABLE, BUSY, TIMEOUT), for up to REP_WAIT_S; any other refusal fails the test. The
   successful answer (free it). */
ChangeMemberResponse rep_change_retry(struct rep *r, MemberChange change, const char *arg);
/* The member with id in list, or NULL. */
const Member *rep_member_find(const ListMembersResponse *list, const char *id);
/* "0 1 2(learner)": the list's ids in order, for messages and comparisons. */
void rep_members_text(const list_Member *list, char *buf, size_t size);

#endif
