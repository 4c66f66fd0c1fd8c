/* server_handle_member.c: the membership calls: listMembers (any node, its own log's view;
   the leader adds how far each member's log matches), changeMember (the leader: add a voter
   or a learner, promote a learner, remove a member; answered once the change is applied). */
#include "server_handlers.h"
#include "server_member.h"
#include "server_rep.h"

#include "cluster.h"
#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The membership in effect here (the newest in the log: server_membership) and the index of
   its entry. */
static const struct consensus_membership *members_now(const struct server_node *n,
                                                      uint64_t *config_index)
{
    if (config_index)
        *config_index = cluster_membership_index(n->rep->cluster);
    return server_membership(n);
}

/* A member's HOST:PORT (server_peer_endpoint), "" when unknown. */
static const char *member_endpoint(const struct server_node *n, const struct consensus_member *m)
{
    const char *e = server_peer_endpoint(n, m->id);
    return e ? e : "";
}

static int fill_member(const struct server_node *n, const struct consensus_member *m,
                       const struct cluster_status *cs, Member *out)
{
    char id[16];
    snprintf(id, sizeof id, "%u", m->id);
    out->learner = m->role == CONSENSUS_MEMBER_LEARNER;
    out->leader = m->id == cs->leader;
    const struct cluster_peer_status *p = cluster_status_peer(cs, m->id);
    if (cs->role == CONSENSUS_LEADER && m->id != cs->id && p) {
        out->has_match_index = true;
        out->match_index = (int64_t)p->match_index;
        out->has_lag_entries = p->has_progress;
        out->lag_entries = (int64_t)p->lag;
    }
    return tp_bytes_set_str(&out->member_id, id) != 0 ||
                   tp_bytes_set_str(&out->endpoint, member_endpoint(n, m)) != 0
               ? ErrorCode_INTERNAL
               : 0;
}

/* The cluster's id as deployment.join.cluster_id takes it (16 hex digits), when bound. */
static void fill_cluster_id(const struct server_node *n, tp_bytes *out, bool *has)
{
    uint64_t id = members_now(n, NULL)->cluster_id;
    char text[17];
    snprintf(text, sizeof text, "%016llx", (unsigned long long)id);
    *has = id != 0 && tp_bytes_set_str(out, text) == 0;
}

/* The membership in effect as a list<Member> (items malloc'ed: the result owns them), and
   the index of its entry. 0 or an ErrorCode. */
static int fill_members(const struct server_node *n, list_Member *list, int64_t *config_index)
{
    uint64_t at;
    const struct consensus_membership *m = members_now(n, &at);
    *config_index = (int64_t)at;
    struct cluster_status cs;
    cluster_status(n->rep->cluster, &cs);
    list->items = calloc(m->count ? m->count : 1, sizeof *list->items);
    if (!list->items)
        return ErrorCode_INTERNAL;
    int rc = 0;
    for (uint32_t i = 0; i < m->count; i++) {
        Member_init(&list->items[i]);
        list->count++;
        if (rc == 0)
            rc = fill_member(n, &m->members[i], &cs, &list->items[i]);
    }
    return rc;
}

void server_handle_list_members(struct server_request *req)
{
    const struct server_node *n = req->node;
    TransactionalKV_listMembers_result *res = req->result;
    ListMembersResponse *out = &res->success;
    res->has_success = true;
    int rc = n->rep ? 0 : ErrorCode_INVALID_ARGUMENT;
    if (rc == 0) {
        out->has_members = out->has_config_index = true;
        rc = fill_members(n, &out->members, &out->config_index);
        fill_cluster_id(n, &out->cluster_id, &out->has_cluster_id);
    }
    char self[SERVER_MEMBER_ID_MAX], leader[16];
    server_member_id(n, self);
    out->has_reported_by = tp_bytes_set_str(&out->reported_by, self) == 0;
    uint32_t lead = n->rep ? cluster_leader(n->rep->cluster, NULL) : CONSENSUS_NONE;
    snprintf(leader, sizeof leader, "%u", lead);
    if (lead != CONSENSUS_NONE)
        out->has_leader_id = tp_bytes_set_str(&out->leader_id, leader) == 0;
    if (n->rep)
        SERVER_SET_HINT(out, server_rep_leader_hint(n));
    out->success = rc == 0;
    if (rc == ErrorCode_INVALID_ARGUMENT) {
        SERVER_SET_ERROR(out, rc);
        out->has_error = tp_bytes_set_str(&out->error, "a standalone node has no members") == 0;
    } else if (rc != 0) {
        SERVER_SET_ERROR(out, rc);
    }
    server_request_done(req);
}

static void change_answer(struct server_request *req, int code, const char *text)
{
    ChangeMemberResponse *out = &((TransactionalKV_changeMember_result *)req->result)->success;
    out->success = code == 0;
    if (code != 0) {
        out->has_error = tp_bytes_set_str(&out->error, text ? text : server_error_text(code)) == 0;
        out->has_error_code = true;
        out->error_code = (ErrorCode)code;
        out->has_member_id = false; /* an add's id is the answer only once it took */
    }
    if ((code == ErrorCode_NOT_LEADER || code == ErrorCode_TIMEOUT) && req->node->rep)
        SERVER_SET_HINT(out, server_rep_leader_hint(req->node));
    server_request_done(req);
}

static void on_changed(void *ctx, int err, uint64_t index, uint32_t leader)
{
    (void)index;
    (void)leader;
    struct server_request *req = ctx;
    ChangeMemberResponse *out = &((TransactionalKV_changeMember_result *)req->result)->success;
    if (err != 0) {
        change_answer(req, cluster_err_to_error_code(err),
                      err == CLUSTER_ERR_TIMEOUT ? "the change's outcome is unknown (this node "
                                                   "stopped leading or closed): list the members"
                                                 : cluster_strerror(err));
        return;
    }
    out->has_members = out->has_config_index = true;
    fill_cluster_id(req->node, &out->cluster_id, &out->has_cluster_id);
    change_answer(req, fill_members(req->node, &out->members, &out->config_index), NULL);
}

/* A member id: decimal, below CONSENSUS_NONE; 0 or -1. */
static int parse_id(const tp_bytes *s, uint32_t *out)
{
    if (s->len < 1 || s->len > 10)
        return -1;
    uint64_t v = 0;
    for (uint32_t i = 0; i < s->len; i++) {
        if (s->data[i] < '0' || s->data[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s->data[i] - '0');
    }
    if (v >= CONSENSUS_NONE)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* Checks an add's endpoint into addr: HOST:PORT, shorter than CONSENSUS_ADDR_MAX, no
   member's already. NULL, or why not (written into why). */
static const char *endpoint_check(const struct server_node *n, const tp_bytes *ep,
                                  char addr[CONSENSUS_ADDR_MAX], char *why, size_t why_size)
{
    char host[CONSENSUS_ADDR_MAX];
    uint16_t port;
    if (ep->len == 0)
        return "endpoint: an add needs the new member's HOST:PORT";
    if (ep->len >= CONSENSUS_ADDR_MAX) {
        snprintf(why, why_size, "endpoint: %u bytes, longer than the %u allowed", ep->len,
                 CONSENSUS_ADDR_MAX - 1);
        return why;
    }
    memcpy(addr, ep->data, ep->len);
    addr[ep->len] = '\0';
    if (strlen(addr) != ep->len || net_split_host_port(addr, host, sizeof host, &port) != 0 ||
        port == 0 || host[0] == '\0' || strpbrk(addr, " ,\t\r\n") != NULL)
        return "endpoint: not HOST:PORT";
    const struct consensus_membership *m = members_now(n, NULL);
    for (uint32_t i = 0; i < m->count; i++) {
        if (strcmp(member_endpoint(n, &m->members[i]), addr) == 0) {
            snprintf(why, why_size, "endpoint: %s is member %u's already", addr,
                     m->members[i].id);
            return why;
        }
    }
    return NULL;
}

/* Fills change from the request; NULL, or why it is not a change (INVALID_ARGUMENT). */
static const char *change_parse(const struct server_node *n, const ChangeMemberRequest *in,
                                struct consensus_change *change, char addr[CONSENSUS_ADDR_MAX],
                                char *why, size_t why_size)
{
    memset(change, 0, sizeof *change);
    switch (in->change) {
    case MemberChange_ADD_VOTER:
    case MemberChange_ADD_LEARNER:
        change->type = in->change == MemberChange_ADD_VOTER ? CONSENSUS_CHANGE_ADD_VOTER
                                                            : CONSENSUS_CHANGE_ADD_LEARNER;
        change->addr = addr;
        if (in->has_member_id)
            return "member_id: an add gets its id from the cluster";
        return endpoint_check(n, in->has_endpoint ? &in->endpoint : &(tp_bytes){0}, addr, why,
                              why_size);
    case MemberChange_PROMOTE:
    case MemberChange_REMOVE:
        change->type = in->change == MemberChange_PROMOTE ? CONSENSUS_CHANGE_PROMOTE
                                                          : CONSENSUS_CHANGE_REMOVE;
        if (in->has_endpoint)
            return "endpoint: only an add takes one (name the member by member_id)";
        if (!in->has_member_id || parse_id(&in->member_id, &change->id) != 0)
            return "member_id: a member id (a decimal number) is needed";
        return NULL;
    }
    return "change: unknown";
}

/* What the core's refusal means for this change, in words. */
static const char *refusal_text(const struct server_node *n, int err,
                                const struct consensus_change *change, char *why,
                                size_t why_size)
{
    const struct consensus_membership *m = members_now(n, NULL);
    const struct consensus_member *it = consensus_membership_find(m, change->id);
    if (err == CLUSTER_ERR_NOT_MEMBER && !it)
        snprintf(why, why_size, "member %u: no such member", change->id);
    else if (err == CLUSTER_ERR_NOT_MEMBER)
        snprintf(why, why_size, "member %u is a voter already: only a learner is promoted",
                 change->id);
    else if (err == CLUSTER_ERR_LAST_VOTER)
        snprintf(why, why_size, "member %u is the only voter: add another first", change->id);
    else if (err == CLUSTER_ERR_LEARNER_BEHIND)
        snprintf(why, why_size, "member %u is far behind the leader (or not yet streaming "
                 "entries): promote it once it caught up", change->id);
    else
        snprintf(why, why_size, "%s", cluster_strerror(err));
    return why;
}

void server_handle_change_member(struct server_request *req)
{
    struct server_node *n = req->node;
    const ChangeMemberRequest *in = &((TransactionalKV_changeMember_args *)req->args)->request;
    ((TransactionalKV_changeMember_result *)req->result)->has_success = true;
    if (!n->rep) {
        change_answer(req, ErrorCode_INVALID_ARGUMENT, "a standalone node has no members");
        return;
    }
    if (n->stopping) {
        change_answer(req, ErrorCode_SHUTTING_DOWN, NULL);
        return;
    }
    struct consensus_change change;
    char addr[CONSENSUS_ADDR_MAX], why[160];
    const char *bad = change_parse(n, in, &change, addr, why, sizeof why);
    if (bad) {
        change_answer(req, ErrorCode_INVALID_ARGUMENT, bad);
        return;
    }
    int rc = cluster_member_change(n->rep->cluster, &change, on_changed, req);
    if (rc != 0) {
        change_answer(req, cluster_err_to_error_code(rc),
                      rc == CLUSTER_ERR_NOT_LEADER ? "not the leader: ask leader_hint"
                                                   : refusal_text(n, rc, &change, why, sizeof why));
        return;
    }
    bool add = change.type == CONSENSUS_CHANGE_ADD_VOTER ||
               change.type == CONSENSUS_CHANGE_ADD_LEARNER;
    if (add) { /* the answer's id once it took (change_answer drops it on a failure) */
        ChangeMemberResponse *out = &((TransactionalKV_changeMember_result *)req->result)->success;
        snprintf(why, sizeof why, "%u", change.id);
        out->has_member_id = tp_bytes_set_str(&out->member_id, why) == 0;
    }
}
