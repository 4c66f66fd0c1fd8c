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

/* A learner within this many entries of the leader is promoted (tools/cluster add's rule). */
#define REP_CAUGHT_UP_LAG 64
/* A live node's leader, once that node says it leads (of every slot); asserts. */
int rep_leader_now(struct rep *r);
/* The leader's view of member id's lag, or -1 when unknown. */
int64_t rep_lag_of(struct rep *r, int id);
/* changeMember (rep_change_retry): a member at 127.0.0.1:port (a learner, or a voter at once);
   its new member id (not started: rep_join). */
int rep_add_member(struct rep *r, uint16_t port, bool learner);
/* changeMember REMOVE of member id node (rep_change_retry) (the process is left as it is). */
void rep_remove_member(struct rep *r, int node);
/* As an operator adds a node: a learner at 127.0.0.1:port, started with deployment.join in
   the slot of its new member id (returned), its data dir empty. */
int rep_add_learner(struct rep *r, uint16_t port);
/* Waits until the leader sees learner id caught up (REP_CAUGHT_UP_LAG), then promotes it. */
void rep_promote_caught_up(struct rep *r, int id);
/* HACKING.md "Replace a dead node" on a stopped node (its data dir lost, or never to be
   trusted again): remove its member id, add a learner at its address (a new member id, an
   empty data dir), start it; it catches up (by snapshot when the leader compacted past what
   it could send from its log). Its new slot (= member id); the old one stays stopped. */
int rep_replace_start(struct rep *r, int node);
/* rep_replace_start, then rep_promote_caught_up: the new member is a voter. */
int rep_replace(struct rep *r, int node);

#endif
