/* server_health.c: the health and readiness rules, from the node's own state only. */
#include "server_health.h"

#include "server_rep.h"

#include <stdio.h>
#include <string.h>

const char *server_failed_reason(const struct server_node *n)
{
    static char why[512]; /* the loop thread's only */
    return server_node_failed(n, why, sizeof why) ? why : NULL;
}

static void health_of_cluster(const struct server_node *n, struct server_health *h)
{
    struct cluster_status cs;
    cluster_status(n->rep->cluster, &cs);
    h->leader = cs.leader;
    h->term = cs.term;
    h->commit_index = cs.commit_index;
    h->applied_index = cs.applied_index;
    uint64_t lag = cs.commit_index > cs.applied_index ? cs.commit_index - cs.applied_index : 0;
    if (cs.refused)
        snprintf(h->reason, sizeof h->reason,
                 "refused: member %u is bound to another data dir (%016llx): remove it, add this "
                 "node as new", cs.id, (unsigned long long)cs.refused_bound);
    else if (cs.leader == CONSENSUS_NONE)
        snprintf(h->reason, sizeof h->reason, "no leader known in term %llu",
                 (unsigned long long)cs.term);
    else if (lag > n->cfg->http_health_max_apply_lag)
        snprintf(h->reason, sizeof h->reason,
                 "applied index %llu is %llu entries behind commit index %llu (bound %u)",
                 (unsigned long long)cs.applied_index, (unsigned long long)lag,
                 (unsigned long long)cs.commit_index, n->cfg->http_health_max_apply_lag);
    else if (cs.leader != cs.id && !(cluster_status_peer(&cs, cs.leader) &&
                                     cluster_status_peer(&cs, cs.leader)->reachable))
        snprintf(h->ready_reason, sizeof h->ready_reason,
                 "leader %u not heard from within the election timeout", cs.leader);
}

void server_health_get(const struct server_node *n, struct server_health *out)
{
    memset(out, 0, sizeof *out);
    out->leader = CONSENSUS_NONE;
    const char *failed = server_failed_reason(n);
    if (n->rep && n->rep->cluster) {
        health_of_cluster(n, out);
    } else {
        out->leader = 0;
        out->term = 1;
        out->commit_index = out->applied_index = kv_sm_applied_version(n->sm);
    }
    if (failed) {
        out->failed = true;
        snprintf(out->reason, sizeof out->reason, "node failed: %s", failed);
    }
    out->healthy = out->reason[0] == '\0';
    if (!out->healthy)
        snprintf(out->ready_reason, sizeof out->ready_reason, "not healthy: %.140s", out->reason);
    else if (n->stopping && !out->ready_reason[0])
        snprintf(out->ready_reason, sizeof out->ready_reason, "stopping");
    out->ready = out->ready_reason[0] == '\0';
}
