/* kvctl_member.c: kvctl member list|add|add-learner|promote|remove: the cluster's membership,
   listed by the leader when it can be found (it alone knows each member's lag), changed by
   the leader (a NOT_LEADER answer's hint is followed). */
#include "kvctl_cmds.h"

#include <string.h>

#define S(b) ((b).data ? (const char *)(b).data : "")

bool kvctl_member_id_ok(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 10 && strspn(s, "0123456789") == n;
}

static void print_member_json(const Member *m, bool first)
{
    printf("%s{\"member_id\": \"%s\", \"endpoint\": \"%s\", \"role\": \"%s\", \"leader\": %s",
           first ? "" : ", ", S(m->member_id), S(m->endpoint), m->learner ? "learner" : "voter",
           m->leader ? "true" : "false");
    if (m->has_match_index)
        printf(", \"match_index\": %lld", (long long)m->match_index);
    if (m->has_lag_entries)
        printf(", \"lag_entries\": %lld", (long long)m->lag_entries);
    printf("}");
}

void kvctl_members_json(const list_Member *list)
{
    printf("[");
    for (uint32_t i = 0; i < list->count; i++)
        print_member_json(&list->items[i], i == 0);
    printf("]");
}

/* "0 1 2 3(learner)". */
void kvctl_members_line(const list_Member *list, bool learners, char *buf, size_t size)
{
    size_t off = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < list->count && off < size; i++)
        if (list->items[i].learner == learners)
            off += (size_t)snprintf(buf + off, size - off, "%s%s", off ? " " : "",
                                    S(list->items[i].member_id));
    if (off == 0)
        snprintf(buf, size, "-");
}

static void print_table(const list_Member *list)
{
    printf("%-6s %-21s %-8s %-6s %10s %8s\n", "ID", "ENDPOINT", "ROLE", "LEADER", "MATCH", "LAG");
    for (uint32_t i = 0; i < list->count; i++) {
        const Member *m = &list->items[i];
        char match[24] = "-", lag[24] = "-";
        if (m->has_match_index)
            snprintf(match, sizeof match, "%lld", (long long)m->match_index);
        if (m->has_lag_entries)
            snprintf(lag, sizeof lag, "%lld", (long long)m->lag_entries);
        printf("%-6s %-21s %-8s %-6s %10s %8s\n", S(m->member_id), S(m->endpoint),
               m->learner ? "learner" : "voter", m->leader ? "*" : "", match, lag);
    }
}

/* listMembers where k points; then, when that node is not the leader and names it, from the
   leader (which knows the lags). KVCTL_OK with *res filled, or KVCTL_SERVER. */
static int list_call(struct kvctl *k, TransactionalKV_listMembers_result *res)
{
    ListMembersRequest q;
    ListMembersRequest_init(&q);
    int rc;
    KVCTL_CALL_RETRY(rc, k, listMembers, &q, res, true);
    const ListMembersResponse *l = &res->success;
    if (rc == KVCTL_OK && l->success && l->has_leader_id && l->has_leader_hint &&
        strcmp(S(l->leader_id), S(l->reported_by)) != 0 &&
        kvctl_endpoints_follow(&k->eps, S(l->leader_hint), l->leader_hint.len) == 0) {
        kvctl_disconnect(k); /* the leader is current now */
        TransactionalKV_listMembers_result from_leader;
        TransactionalKV_listMembers_result_init(&from_leader);
        int lrc;
        KVCTL_CALL(lrc, k, listMembers, &q, &from_leader);
        if (lrc == KVCTL_OK && from_leader.has_success && from_leader.success.success) {
            TransactionalKV_listMembers_result_free(res);
            *res = from_leader;
        } else {
            TransactionalKV_listMembers_result_free(&from_leader);
        }
    }
    ListMembersRequest_free(&q);
    return rc;
}

static int member_list(struct kvctl *k)
{
    TransactionalKV_listMembers_result res;
    TransactionalKV_listMembers_result_init(&res);
    int rc = list_call(k, &res);
    const ListMembersResponse *l = &res.success;
    if (rc == KVCTL_OK && !l->success) {
        rc = kvctl_server_error("member list", l->has_error, &l->error, l->has_error_code,
                                l->error_code);
    } else if (rc == KVCTL_OK && k->json) {
        printf("{\"config_index\": %lld, \"reported_by\": \"%s\", \"leader_id\": \"%s\", "
               "\"cluster_id\": \"%s\", \"members\": ",
               (long long)l->config_index, S(l->reported_by), S(l->leader_id),
               S(l->cluster_id));
        kvctl_members_json(&l->members);
        printf("}\n");
    } else if (rc == KVCTL_OK) {
        print_table(&l->members);
        printf("config index %lld, as member %s sees it%s\n", (long long)l->config_index,
               S(l->reported_by),
               l->has_leader_id && !strcmp(S(l->leader_id), S(l->reported_by))
                   ? " (the leader)"
                   : " (not the leader: no lags)");
        printf("cluster id %s\n", l->has_cluster_id ? S(l->cluster_id) : "- (not bound yet)");
    }
    TransactionalKV_listMembers_result_free(&res);
    return rc;
}

static const struct {
    const char *verb;
    MemberChange change;
    bool endpoint; /* the argument is HOST:PORT, else a member id */
    const char *done;
} changes[] = {
    {"add", MemberChange_ADD_VOTER, true, "added voter"},
    {"add-learner", MemberChange_ADD_LEARNER, true, "added learner"},
    {"promote", MemberChange_PROMOTE, false, "promoted"},
    {"remove", MemberChange_REMOVE, false, "removed"},
};

static int member_change(struct kvctl *k, size_t which, const char *arg)
{
    ChangeMemberRequest q;
    ChangeMemberRequest_init(&q);
    q.change = changes[which].change;
    tp_bytes *field = changes[which].endpoint ? &q.endpoint : &q.member_id;
    *(changes[which].endpoint ? &q.has_endpoint : &q.has_member_id) = true;
    int rc = tp_bytes_set_str(field, arg) == 0
                 ? KVCTL_OK
                 : kvctl_call_failed("changeMember", TP_ERR_NOMEM, NULL);
    TransactionalKV_changeMember_result res;
    TransactionalKV_changeMember_result_init(&res);
    if (rc == KVCTL_OK)
        KVCTL_CALL_RETRY(rc, k, changeMember, &q, &res, false);
    const ChangeMemberResponse *c = &res.success;
    char what[40];
    snprintf(what, sizeof what, "member %s", changes[which].verb);
    if (rc == KVCTL_OK && !c->success) {
        rc = kvctl_server_error(what, c->has_error, &c->error, c->has_error_code, c->error_code);
    } else if (rc == KVCTL_OK && k->json) {
        printf("{\"member_id\": \"%s\", \"config_index\": %lld, \"cluster_id\": \"%s\", "
               "\"members\": ",
               c->has_member_id ? S(c->member_id) : arg, (long long)c->config_index,
               S(c->cluster_id));
        kvctl_members_json(&c->members);
        printf("}\n");
    } else if (rc == KVCTL_OK) {
        char voters[256], learners[256];
        kvctl_members_line(&c->members, false, voters, sizeof voters);
        kvctl_members_line(&c->members, true, learners, sizeof learners);
        printf("OK %s %s%s%s; voters %s; learners %s\n", changes[which].done,
               c->has_member_id ? S(c->member_id) : arg, changes[which].endpoint ? " at " : "",
               changes[which].endpoint ? arg : "", voters, learners);
        if (c->has_member_id && c->has_cluster_id) /* what its deployment.join names */
            printf("join: {\"member_id\": %s, \"endpoint\": \"%s\", \"cluster_id\": \"%s\"}\n",
                   S(c->member_id), arg, S(c->cluster_id));
    }
    TransactionalKV_changeMember_result_free(&res);
    ChangeMemberRequest_free(&q);
    return rc;
}

int kvctl_cmd_member(struct kvctl *k, int argc, char **argv)
{
    if (argc == 1 && strcmp(argv[0], "list") == 0)
        return member_list(k);
    for (size_t i = 0; argc == 2 && i < sizeof changes / sizeof changes[0]; i++) {
        if (strcmp(argv[0], changes[i].verb) != 0)
            continue;
        if (changes[i].endpoint && (strlen(argv[1]) == 0 || !strchr(argv[1], ':'))) {
            fprintf(stderr, "kvctl: member %s: '%s' is not HOST:PORT\n", argv[0], argv[1]);
            return KVCTL_USAGE;
        }
        if (!changes[i].endpoint && !kvctl_member_id_ok(argv[1])) {
            fprintf(stderr, "kvctl: member %s: '%s' is not a member id\n", argv[0], argv[1]);
            return KVCTL_USAGE;
        }
        return member_change(k, i, argv[1]);
    }
    return KVCTL_USAGE;
}
