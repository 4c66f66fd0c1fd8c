/* kvctl_status.c: kvctl status: one node's fields, or with several endpoints a table of the
   nodes (each asked on its own connection, so a dead node shows as down). */
#include "kvctl_cmds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_TIMEOUT_MS 2000

/* "ok", "no space", or "failed: WHY" (the node refuses writes until restarted). Quotes and
   backslashes in WHY become apostrophes and slashes, so it fits a JSON string as it is. */
static const char *storage_state(const NodeInfo *n)
{
    static char text[600];
    if (n->has_storage_failure && n->storage_failure.data) {
        snprintf(text, sizeof text, "failed: %.*s", (int)n->storage_failure.len,
                 (const char *)n->storage_failure.data);
        for (char *c = text; *c; c++)
            *c = *c == '"' ? '\'' : *c == '\\' ? '/' : (unsigned char)*c < 0x20 ? ' ' : *c;
        return text;
    }
    return n->has_no_space && n->no_space ? "no space" : "ok";
}

#define S(b) ((b).data ? (const char *)(b).data : "")

/* The membership as node ep sees it (a replicated node), on the connection k has: its voters
   and learners, "members" and "learners" lines (JSON: arrays of ids). */
static void print_members(struct kvctl *k)
{
    ListMembersRequest q;
    ListMembersRequest_init(&q);
    TransactionalKV_listMembers_result res;
    TransactionalKV_listMembers_result_init(&res);
    int rc;
    KVCTL_CALL(rc, k, listMembers, &q, &res);
    const ListMembersResponse *l = &res.success;
    if (rc == KVCTL_OK && res.has_success && l->success) {
        char voters[256], learners[256];
        kvctl_members_line(&l->members, false, voters, sizeof voters);
        kvctl_members_line(&l->members, true, learners, sizeof learners);
        if (k->json) {
            printf(", \"members\": ");
            kvctl_members_json(&l->members);
        } else {
            printf("voters %s\nlearners %s\n", voters, learners);
        }
    }
    TransactionalKV_listMembers_result_free(&res);
}

/* One node: its own view, a line per field (as before clusters); a replicated node's members. */
static int status_one(struct kvctl *k, int argc, char **argv)
{
    (void)argv;
    GetNodeInfoRequest q;
    GetNodeInfoRequest_init(&q);
    TransactionalKV_getNodeInfo_result res;
    TransactionalKV_getNodeInfo_result_init(&res);
    int rc = argc == 0 ? KVCTL_OK : KVCTL_USAGE;
    if (rc == KVCTL_OK)
        KVCTL_CALL(rc, k, getNodeInfo, &q, &res);
    const NodeInfo *n = &res.success;
    if (rc == KVCTL_OK && !n->success)
        rc = kvctl_server_error("status", n->has_error, &n->error, n->has_error_code, n->error_code);
    else if (rc == KVCTL_OK) {
        printf(k->json ? "{\"node_id\": \"%s\", \"version\": \"%s\", \"mode\": \"%s\", "
                         "\"role\": \"%s\", \"applied_index\": %lld, \"keys\": %lld, "
                         "\"memory_bytes\": %lld, \"uptime_ms\": %lld, \"digest\": \"%s\", "
                         "\"storage\": \"%s\""
                       : "node %s\nversion %s\nmode %s\nrole %s\napplied_index %lld\nkeys %lld\n"
                         "memory_bytes %lld\nuptime_ms %lld\ndigest %s\nstorage %s\n",
               S(n->node_id), S(n->version), S(n->mode),
               NodeRole_name(n->status.role) ? NodeRole_name(n->status.role) : "?",
               (long long)n->status.applied_index, (long long)n->keys,
               (long long)n->memory_bytes, (long long)n->uptime_ms, S(n->status.state_digest),
               storage_state(n));
        if (n->status.role != NodeRole_STANDALONE)
            print_members(k);
        if (k->json)
            printf("}\n");
    }
    TransactionalKV_getNodeInfo_result_free(&res);
    return rc;
}

/* One call to ep on a connection of its own: ok is whether a success came back in *res. */
#define STATUS_CALL(k, ep, method, req, res, ok)                                            \
    do {                                                                                    \
        struct net_sync c_;                                                                 \
        tp_buf b_;                                                                          \
        tp_buf_init(&b_);                                                                   \
        const uint8_t *m_;                                                                  \
        size_t n_;                                                                          \
        (ok) = net_sync_connect(&c_, ep, (k)->framed, (k)->tls, STATUS_TIMEOUT_MS) ==        \
                   NET_OK &&                                                                \
               TransactionalKV_##method##_send(&b_, 1, req) == 0 &&                         \
               net_sync_call(&c_, b_.data, b_.len, 1, STATUS_TIMEOUT_MS, &m_, &n_) ==       \
                   NET_OK;                                                                  \
        if (ok) {                                                                           \
            tp_reader r_;                                                                   \
            tp_reader_init(&r_, m_, n_, NULL);                                              \
            tp_app_exception ax_;                                                           \
            tp_app_exception_init(&ax_);                                                    \
            (ok) = TransactionalKV_##method##_recv(&r_, 1, res, &ax_) == 0 &&               \
                   (res)->has_success && (res)->success.success;                            \
            tp_app_exception_free(&ax_);                                                    \
        }                                                                                   \
        net_sync_close(&c_);                                                                \
        tp_buf_free(&b_);                                                                   \
    } while (0)

int kvctl_node_info(const struct kvctl *k, const char *ep, TransactionalKV_getNodeInfo_result *out)
{
    GetNodeInfoRequest q;
    GetNodeInfoRequest_init(&q);
    bool ok;
    STATUS_CALL(k, ep, getNodeInfo, &q, out, ok);
    GetNodeInfoRequest_free(&q);
    return ok ? 0 : -1;
}

/* getClusterHealth from the leader: how it replicates to each node. 0 or -1. */
static int cluster_health(const struct kvctl *k, const char *ep,
                          TransactionalKV_getClusterHealth_result *out)
{
    GetClusterHealthRequest q;
    GetClusterHealthRequest_init(&q);
    bool ok;
    STATUS_CALL(k, ep, getClusterHealth, &q, out, ok);
    GetClusterHealthRequest_free(&q);
    return ok ? 0 : -1;
}

/* listMembers from ep (the leader when known: its log holds the newest). 0 or -1. */
static int members_from(const struct kvctl *k, const char *ep,
                        TransactionalKV_listMembers_result *out)
{
    ListMembersRequest q;
    ListMembersRequest_init(&q);
    bool ok;
    STATUS_CALL(k, ep, listMembers, &q, out, ok);
    ListMembersRequest_free(&q);
    return ok ? 0 : -1;
}

/* What node_id is in the membership: "voter", "learner", or "none" (removed, or not yet
   added); NULL when no membership is known. */
static const char *member_role(const ListMembersResponse *l, const tp_bytes *node_id)
{
    if (!l)
        return NULL;
    for (uint32_t i = 0; node_id->data && i < l->members.count; i++)
        if (strcmp(S(l->members.items[i].member_id), (const char *)node_id->data) == 0)
            return l->members.items[i].learner ? "learner" : "voter";
    return "none";
}

/* The leader's view of node_id (NULL when unknown: no leader answered, or it is the leader). */
static const NodeStatus *replication_of(const ClusterHealth *h, const tp_bytes *node_id)
{
    for (uint32_t i = 0; h && node_id->data && i < h->nodes.count; i++) {
        const NodeStatus *st = &h->nodes.items[i];
        if (st->has_replication && st->node_id.data &&
            strcmp((const char *)st->node_id.data, (const char *)node_id->data) == 0)
            return st;
    }
    return NULL;
}

/* "replicate", "probe", or "snapshot 45%"; "-" when unknown. */
static void repl_text(const NodeStatus *r, char *buf, size_t size)
{
    if (!r) {
        snprintf(buf, size, "-");
    } else if (r->has_snapshot_bytes && r->snapshot_bytes > 0) {
        snprintf(buf, size, "%s %lld%%", S(r->replication),
                 (long long)(r->snapshot_bytes_sent * 100 / r->snapshot_bytes));
    } else {
        snprintf(buf, size, "%s", S(r->replication));
    }
}

static void print_json_row(const char *ep, const NodeInfo *n, const NodeStatus *r,
                           const char *member, bool first)
{
    const NodeStatus *st = &n->status;
    const char *role = NodeRole_name(st->role) ? NodeRole_name(st->role) : "?";
    printf("%s{\"endpoint\": \"%s\", \"node_id\": \"%s\", \"role\": \"%s\", \"term\": %lld, "
           "\"commit_index\": %lld, \"applied_index\": %lld, \"last_log_index\": %lld, "
           "\"leader_id\": \"%s\", \"keys\": %lld, \"digest\": \"%s\", \"storage\": \"%s\"",
           first ? "" : ", ", ep, S(n->node_id), role, (long long)st->term,
           (long long)st->commit_index, (long long)st->applied_index,
           (long long)st->last_log_index, n->has_leader_id ? S(n->leader_id) : "",
           (long long)n->keys, S(st->state_digest), storage_state(n));
    if (member)
        printf(", \"member\": \"%s\"", member);
    if (r)
        printf(", \"replication\": \"%s\", \"lag_entries\": %lld", S(r->replication),
               (long long)r->lag_entries);
    if (r && r->has_snapshot_bytes)
        printf(", \"snapshot_bytes_sent\": %lld, \"snapshot_bytes\": %lld",
               (long long)r->snapshot_bytes_sent, (long long)r->snapshot_bytes);
    printf("}");
}

static void print_row(const struct kvctl *k, const char *ep, const NodeInfo *n,
                      const ClusterHealth *h, const ListMembersResponse *l, bool first)
{
    const NodeStatus *st = &n->status, *r = replication_of(h, &n->node_id);
    const char *member = member_role(l, &n->node_id);
    if (k->json) {
        print_json_row(ep, n, r, member, first);
        return;
    }
    const char *role = NodeRole_name(st->role) ? NodeRole_name(st->role) : "?";
    if (member && strcmp(member, "learner") == 0)
        role = "LEARNER";
    else if (member && strcmp(member, "none") == 0)
        role = "NOT-MEMBER";
    char repl[32], lag[24];
    repl_text(r, repl, sizeof repl);
    if (r && r->has_lag_entries)
        snprintf(lag, sizeof lag, "%lld", (long long)r->lag_entries);
    else
        snprintf(lag, sizeof lag, "-");
    const char *storage = storage_state(n);
    printf("%-5s %-21s %-10s %6lld %8lld %8lld %8lld %-6s %-14s %8s %8lld  %s%s%s\n",
           S(n->node_id), ep, role, (long long)st->term, (long long)st->commit_index,
           (long long)st->applied_index, (long long)st->last_log_index,
           n->has_leader_id ? S(n->leader_id) : "-", repl, lag, (long long)n->keys,
           S(st->state_digest), strcmp(storage, "ok") ? "  STORAGE " : "",
           strcmp(storage, "ok") ? storage : "");
}

/* Every node's own view, and the leader's view of how it replicates to each. */
static int status_table(struct kvctl *k)
{
    uint32_t count = k->eps.count, up = 0;
    TransactionalKV_getNodeInfo_result *res = calloc(count, sizeof *res);
    if (!res)
        return KVCTL_SERVER;
    const char *leader = NULL;
    for (uint32_t i = 0; i < count; i++) {
        TransactionalKV_getNodeInfo_result_init(&res[i]);
        if (kvctl_node_info(k, k->eps.items[i], &res[i]) == 0 &&
            res[i].success.status.role == NodeRole_LEADER)
            leader = k->eps.items[i];
    }
    TransactionalKV_getClusterHealth_result health;
    TransactionalKV_getClusterHealth_result_init(&health);
    bool have_health = leader && cluster_health(k, leader, &health) == 0;
    TransactionalKV_listMembers_result members;
    TransactionalKV_listMembers_result_init(&members);
    bool have_members = leader && members_from(k, leader, &members) == 0;
    if (k->json)
        printf("[");
    else
        printf("%-5s %-21s %-10s %6s %8s %8s %8s %-6s %-14s %8s %8s  %s\n", "NODE", "ENDPOINT",
               "ROLE", "TERM", "COMMIT", "APPLIED", "LASTLOG", "LEADER", "REPLICATION", "LAG",
               "KEYS", "DIGEST");
    for (uint32_t i = 0; i < count; i++) {
        const char *ep = k->eps.items[i];
        if (res[i].has_success && res[i].success.success)
            print_row(k, ep, &res[i].success, have_health ? &health.success : NULL,
                      have_members ? &members.success : NULL, up++ == 0);
        else if (!k->json)
            printf("%-5s %-21s %-10s\n", "?", ep, "DOWN");
        TransactionalKV_getNodeInfo_result_free(&res[i]);
    }
    if (k->json) {
        printf("]\n");
    } else if (have_members) {
        char voters[256], learners[256];
        kvctl_members_line(&members.success.members, false, voters, sizeof voters);
        kvctl_members_line(&members.success.members, true, learners, sizeof learners);
        printf("voters %s; learners %s (the leader's membership, config index %lld)\n", voters,
               learners, (long long)members.success.config_index);
    }
    TransactionalKV_listMembers_result_free(&members);
    TransactionalKV_getClusterHealth_result_free(&health);
    free(res);
    return up > 0 ? KVCTL_OK : KVCTL_SERVER;
}

#undef S

int kvctl_cmd_status(struct kvctl *k, int argc, char **argv)
{
    if (k->eps.count > 1 && argc == 0)
        return status_table(k);
    return status_one(k, argc, argv);
}
