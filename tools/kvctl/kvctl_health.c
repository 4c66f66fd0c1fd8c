/* kvctl_health.c: kvctl health: every endpoint's verdict, the same rules as the node's HTTP
   /health and /ready (src/server/server_health.c), asked over Thrift (getNodeInfo), each on a
   connection of its own so a dead node shows as down. Exit 0 only when all are healthy. */
#include "kvctl_cmds.h"

#include <stdio.h>

#define S(b) ((b).data ? (const char *)(b).data : "")

/* Prints one endpoint's line; true when it is healthy. */
static bool print_one(const struct kvctl *k, const char *ep, const NodeInfo *n, bool up,
                      bool first)
{
    bool healthy = up && n->has_healthy && n->healthy;
    bool ready = up && n->has_ready && n->ready;
    const char *why = !up ? "unreachable" : !n->has_healthy ? "node too old to say"
                      : !healthy                           ? S(n->health_reason)
                                                           : S(n->ready_reason);
    if (k->json)
        printf("%s{\"endpoint\": \"%s\", \"node_id\": \"%s\", \"healthy\": %s, \"ready\": %s, "
               "\"reason\": \"%s\"}",
               first ? "" : ", ", ep, up ? S(n->node_id) : "", healthy ? "true" : "false",
               ready ? "true" : "false", why);
    else
        printf("%-21s %-5s %-9s %-9s %s\n", ep, up ? S(n->node_id) : "?",
               healthy ? "healthy" : "UNHEALTHY", ready ? "ready" : "NOT-READY", why);
    return healthy;
}

int kvctl_cmd_health(struct kvctl *k, int argc, char **argv)
{
    (void)argv;
    if (argc != 0)
        return KVCTL_USAGE;
    uint32_t healthy = 0;
    if (k->json)
        printf("[");
    else
        printf("%-21s %-5s %-9s %-9s %s\n", "ENDPOINT", "NODE", "HEALTH", "READY", "REASON");
    for (uint32_t i = 0; i < k->eps.count; i++) {
        TransactionalKV_getNodeInfo_result res;
        TransactionalKV_getNodeInfo_result_init(&res);
        bool up = kvctl_node_info(k, k->eps.items[i], &res) == 0;
        healthy += print_one(k, k->eps.items[i], &res.success, up, i == 0);
        TransactionalKV_getNodeInfo_result_free(&res);
    }
    if (k->json)
        printf("]\n");
    return healthy == k->eps.count ? KVCTL_OK : KVCTL_SERVER;
}
