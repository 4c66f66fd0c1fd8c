/* kvctl_status.c: kvctl status: one node's fields, or with several endpoints a table of the
   nodes (each asked on its own connection, so a dead node shows as down). */
#include "kvctl_cmds.h"

#include <stdio.h>
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

/* One node: its own view, a line per field (as before clusters). */
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
#define S(b) ((b).data ? (const char *)(b).data : "")
    if (rc == KVCTL_OK && !n->success)
        rc = kvctl_server_error("status", n->has_error, &n->error, n->has_error_code, n->error_code);
    else if (rc == KVCTL_OK)
        printf(k->json ? "{\"node_id\": \"%s\", \"version\": \"%s\", \"mode\": \"%s\", "
                         "\"role\": \"%s\", \"applied_index\": %lld, \"keys\": %lld, "
                         "\"memory_bytes\": %lld, \"uptime_ms\": %lld, \"digest\": \"%s\", "
                         "\"storage\": \"%s\"}\n"
                       : "node %s\nversion %s\nmode %s\nrole %s\napplied_index %lld\nkeys %lld\n"
                         "memory_bytes %lld\nuptime_ms %lld\ndigest %s\nstorage %s\n",
               S(n->node_id), S(n->version), S(n->mode),
               NodeRole_name(n->status.role) ? NodeRole_name(n->status.role) : "?",
               (long long)n->status.applied_index, (long long)n->keys,
               (long long)n->memory_bytes, (long long)n->uptime_ms, S(n->status.state_digest),
               storage_state(n));
#undef S
    TransactionalKV_getNodeInfo_result_free(&res);
    return rc;
}

int kvctl_node_info(const struct kvctl *k, const char *ep, TransactionalKV_getNodeInfo_result *out)
{
    struct net_client c;
    GetNodeInfoRequest q;
    GetNodeInfoRequest_init(&q);
    tp_buf b;
    tp_buf_init(&b);
    int rc = net_client_connect_tls(&c, ep, k->framed, STATUS_TIMEOUT_MS, k->tls) == NET_OK &&
                     TransactionalKV_getNodeInfo_send(&b, 1, &q) == 0 &&
                     net_client_send(&c, b.data, b.len) == NET_OK
                 ? 0
                 : -1;
    const uint8_t *msg;
    size_t len;
    if (rc == 0 && net_client_recv(&c, &msg, &len) == NET_OK) {
        tp_reader r;
        tp_reader_init(&r, msg, len, NULL);
        tp_app_exception ax;
        tp_app_exception_init(&ax);
        rc = TransactionalKV_getNodeInfo_recv(&r, 1, out, &ax) == 0 && out->has_success &&
                     out->success.success
                 ? 0
                 : -1;
        tp_app_exception_free(&ax);
    } else {
        rc = -1;
    }
    net_client_close(&c);
    tp_buf_free(&b);
    GetNodeInfoRequest_free(&q);
    return rc;
}

#define S(b) ((b).data ? (const char *)(b).data : "")

static void print_row(const struct kvctl *k, const char *ep, const NodeInfo *n, bool first)
{
    const NodeStatus *st = &n->status;
    const char *role = NodeRole_name(st->role) ? NodeRole_name(st->role) : "?";
    if (k->json) {
        printf("%s{\"endpoint\": \"%s\", \"node_id\": \"%s\", \"role\": \"%s\", \"term\": %lld, "
               "\"commit_index\": %lld, \"applied_index\": %lld, \"last_log_index\": %lld, "
               "\"leader_id\": \"%s\", \"keys\": %lld, \"digest\": \"%s\", \"storage\": \"%s\"}",
               first ? "" : ", ", ep, S(n->node_id), role, (long long)st->term,
               (long long)st->commit_index, (long long)st->applied_index,
               (long long)st->last_log_index, n->has_leader_id ? S(n->leader_id) : "",
               (long long)n->keys, S(st->state_digest), storage_state(n));
        return;
    }
    const char *storage = storage_state(n);
    printf("%-5s %-21s %-10s %6lld %8lld %8lld %8lld %-6s %8lld  %s%s%s\n", S(n->node_id), ep,
           role, (long long)st->term, (long long)st->commit_index, (long long)st->applied_index,
           (long long)st->last_log_index, n->has_leader_id ? S(n->leader_id) : "-",
           (long long)n->keys, S(st->state_digest), strcmp(storage, "ok") ? "  STORAGE " : "",
           strcmp(storage, "ok") ? storage : "");
}

static int status_table(struct kvctl *k)
{
    uint32_t up = 0;
    if (k->json)
        printf("[");
    else
        printf("%-5s %-21s %-10s %6s %8s %8s %8s %-6s %8s  %s\n", "NODE", "ENDPOINT", "ROLE",
               "TERM", "COMMIT", "APPLIED", "LASTLOG", "LEADER", "KEYS", "DIGEST");
    for (uint32_t i = 0; i < k->eps.count; i++) {
        const char *ep = k->eps.items[i];
        TransactionalKV_getNodeInfo_result res;
        TransactionalKV_getNodeInfo_result_init(&res);
        if (kvctl_node_info(k, ep, &res) == 0)
            print_row(k, ep, &res.success, up++ == 0);
        else if (!k->json)
            printf("%-5s %-21s %-10s\n", "?", ep, "DOWN");
        TransactionalKV_getNodeInfo_result_free(&res);
    }
    if (k->json)
        printf("]\n");
    return up > 0 ? KVCTL_OK : KVCTL_SERVER;
}

#undef S

int kvctl_cmd_status(struct kvctl *k, int argc, char **argv)
{
    if (k->eps.count > 1 && argc == 0)
        return status_table(k);
    return status_one(k, argc, argv);
}
