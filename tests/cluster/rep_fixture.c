/* rep_fixture.c: start, stop, fault and call a real 3-node kvnode cluster. */
#include "rep_fixture.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define REP_CALL_TIMEOUT_MS 8000
#define REP_RANGE_MAX 100000

#define REP_SECRET_FAULTS \
    "\"cluster_secret\": \"test-cluster-secret-0123\", \"debug\": {\"fault_injection\": true},"
#define REP_CONSENSUS                                                                        \
    " \"consensus\": {\"election_timeout_ms\": 400, \"heartbeat_interval_ms\": 50,"              \
    " \"request_timeout_ms\": 2000, \"peer_call_timeout_ms\": 500%s%s}"

static const char rep_config[] =
    REP_SECRET_FAULTS " \"deployment\": {\"mode\": \"replicated\", \"instance_id\": \"%d\","
    " \"replica_endpoints\": [\"127.0.0.1:%u\", \"127.0.0.1:%u\", \"127.0.0.1:%u\"]},"
    REP_CONSENSUS "%s%s";
/* A node added to the running cluster: no replica_endpoints, which only bootstrap one. */
static const char rep_join_config[] =
    REP_SECRET_FAULTS " \"deployment\": {\"mode\": \"replicated\", \"join\": {\"member_id\": %d,"
    " \"endpoint\": \"127.0.0.1:%u\"%s%s%s}}," REP_CONSENSUS "%s%s";

void rep_start(struct rep *r, const char *extra)
{
    rep_start_consensus(r, extra, "");
}

void rep_start_consensus(struct rep *r, const char *extra, const char *consensus)
{
    memset(r, 0, sizeof *r);
    cr_assert_lt(strlen(extra), sizeof r->extra);
    cr_assert_lt(strlen(consensus), sizeof r->consensus);
    snprintf(r->extra, sizeof r->extra, "%s", extra);
    snprintf(r->consensus, sizeof r->consensus, "%s", consensus);
    uint16_t *ports = r->ports;
    for (int i = 0; i < REP_NODES; i++) {
        ports[i] = node_free_port();
        for (int j = 0; j < i; j++)
            if (ports[j] == ports[i])
                i--, j = i; /* the kernel handed out the same port twice: pick again */
    }
    for (int i = 0; i < REP_NODES; i++) {
        char cfg[2048];
        snprintf(cfg, sizeof cfg, rep_config, i, ports[0], ports[1], ports[2],
                 consensus[0] ? ", " : "", consensus, extra[0] ? ", " : "", extra);
        node_start_at(&r->nodes[i], ports[i], cfg);
    }
}

void rep_join(struct rep *r, int id, uint16_t port)
{
    rep_join_in(r, id, port, NULL);
}

void rep_join_in(struct rep *r, int id, uint16_t port, const char *cluster_id)
{
    cr_assert(id >= 0 && id < REP_NODES_MAX && r->nodes[id].pid <= 0 && !r->nodes[id].dir[0],
              "slot %d is taken", id);
    char cfg[2048];
    snprintf(cfg, sizeof cfg, rep_join_config, id, port, cluster_id ? ", \"cluster_id\": \"" : "",
             cluster_id ? cluster_id : "", cluster_id ? "\"" : "", r->consensus[0] ? ", " : "",
             r->consensus, r->extra[0] ? ", " : "", r->extra);
    node_start_at(&r->nodes[id], port, cfg);
}

void rep_disconnect(struct rep *r, int node)
{
    if (r->connected[node])
        net_client_close(&r->cl[node]);
    r->connected[node] = false;
}

void rep_cleanup(struct rep *r)
{
    for (int i = 0; i < REP_NODES_MAX; i++) {
        rep_disconnect(r, i);
        if (r->nodes[i].dir[0])
            node_cleanup(&r->nodes[i]);
    }
}

void rep_kill(struct rep *r, int node)
{
    rep_disconnect(r, node);
    node_stop(&r->nodes[node], SIGKILL);
}

void rep_restart(struct rep *r, int node)
{
    node_restart(&r->nodes[node]);
}

void rep_wipe(struct rep *r, int node)
{
    cr_assert_eq(r->nodes[node].pid, 0, "wipe only a stopped node");
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/data'", r->nodes[node].dir);
    cr_assert_eq(system(cmd), 0);
}

struct net_client *rep_client(struct rep *r, int node)
{
    if (!r->connected[node]) {
        if (net_client_connect(&r->cl[node], r->nodes[node].addr, true, REP_CALL_TIMEOUT_MS) !=
            NET_OK) {
            net_client_close(&r->cl[node]);
            return NULL;
        }
        r->connected[node] = true;
    }
    return &r->cl[node];
}

/* One call on node's connection: 0 when an answer came back, else -1 (the connection is
   dropped, so the next call starts clean). */
static int rep_call(struct rep *r, int node, const struct test_method *m, const void *req,
                    void *result)
{
    if (test_call(rep_client(r, node), m, ++r->seqid, req, result, NULL) == 0)
        return 0;
    rep_disconnect(r, node);
    return -1;
}

int rep_set(struct rep *r, int node, const char *key, const char *value, SetResponse *out)
{
    SetRequest q;
    SetRequest_init(&q);
    tp_bytes_set_str(&q.key, key);
    tp_bytes_set_str(&q.value, value);
    TransactionalKV_setKey_result res;
    int rc = rep_call(r, node, TEST_METHOD(setKey), &q, &res);
    *out = res.success; /* moved out */
    if (rc != 0)
        TransactionalKV_setKey_result_free(&res);
    SetRequest_free(&q);
    return rc;
}

int rep_get(struct rep *r, int node, const char *key, bool linearizable, GetResponse *out)
{
    GetRequest q;
    GetRequest_init(&q);
    tp_bytes_set_str(&q.key, key);
    q.has_consistency = true;
    q.consistency = linearizable ? Consistency_LINEARIZABLE : Consistency_SERIALIZABLE;
    TransactionalKV_get_result res;
    int rc = rep_call(r, node, TEST_METHOD(get), &q, &res);
    *out = res.success;
    if (rc != 0)
        TransactionalKV_get_result_free(&res);
    GetRequest_free(&q);
    return rc;
}

int rep_info(struct rep *r, int node, NodeInfo *out)
{
    GetNodeInfoRequest q;
    GetNodeInfoRequest_init(&q);
    TransactionalKV_getNodeInfo_result res;
    int rc = rep_call(r, node, TEST_METHOD(getNodeInfo), &q, &res);
    *out = res.success;
    if (rc != 0)
        TransactionalKV_getNodeInfo_result_free(&res);
    return rc;
}

int rep_range(struct rep *r, int node, GetRangeResponse *out)
{
    GetRangeRequest q;
    GetRangeRequest_init(&q);
    q.has_limit = true;
    q.limit = REP_RANGE_MAX;
    q.has_consistency = true;
    q.consistency = Consistency_SERIALIZABLE;
    TransactionalKV_getRange_result res;
    int rc = rep_call(r, node, TEST_METHOD(getRange), &q, &res);
    *out = res.success;
    if (rc != 0)
        TransactionalKV_getRange_result_free(&res);
    GetRangeRequest_free(&q);
    return rc;
}

int rep_leader_seen_by(struct rep *r, int i)
{
    NodeInfo info;
    if (r->nodes[i].pid <= 0 || rep_info(r, i, &info) != 0)
        return -1;
    int leader = info.has_leader_id && info.leader_id.data ? atoi((char *)info.leader_id.data)
                                                           : -1;
    if (leader == i && info.status.role != NodeRole_LEADER)
        leader = -1;
    NodeInfo_free(&info);
    return leader;
}

int rep_wait_leader(struct rep *r)
{
    double deadline = node_now() + REP_WAIT_S;
    for (;;) {
        int agreed = -2;
        for (int i = 0; i < REP_NODES_MAX && agreed != -1; i++) {
            if (r->nodes[i].pid <= 0)
                continue;
            int l = rep_leader_seen_by(r, i);
            agreed = agreed == -2 || agreed == l ? l : -1;
        }
        if (agreed >= 0 && rep_leader_seen_by(r, agreed) == agreed)
            return agreed;
        cr_assert_lt(node_now(), deadline, "no leader all live nodes agree on");
        usleep(20000);
    }
}

void rep_wait_converged(struct rep *r)
{
    double deadline = node_now() + REP_WAIT_S;
    for (;;) {
        bool same = true;
        int64_t applied = -1;
        char digest[64] = "";
        for (int i = 0; i < REP_NODES_MAX && same; i++) {
            NodeInfo info;
            if (r->nodes[i].pid <= 0)
                continue;
            same = rep_info(r, i, &info) == 0;
            if (!same)
                break;
            const char *d = info.status.state_digest.data ? (char *)info.status.state_digest.data
                                                          : "";
            same = applied < 0 || (info.status.applied_index == applied && !strcmp(d, digest));
            applied = info.status.applied_index;
            snprintf(digest, sizeof digest, "%s", d);
            NodeInfo_free(&info);
        }
        if (same)
            return;
        cr_assert_lt(node_now(), deadline, "the nodes' states did not converge");
        usleep(20000);
    }
}

void rep_faults(struct rep *r, int node, const char *text)
{
    node_write_faults(&r->nodes[node], text);
}

void rep_isolate(struct rep *r, int node)
{
    int a = (node + 1) % REP_NODES, b = (node + 2) % REP_NODES;
    char text[64];
    snprintf(text, sizeof text, "drop_to=%d,%d\ndrop_from=%d,%d\n", a, b, a, b);
    rep_faults(r, node, text);
}

void rep_wait_cut(struct rep *r, int node)
{
    double deadline = node_now() + REP_WAIT_S;
    for (;;) {
        GetClusterHealthRequest q;
        GetClusterHealthRequest_init(&q);
        struct net_client *c = rep_client(r, node); /* its own view of its peers */
        TransactionalKV_getClusterHealth_result res;
        test_call_ok(c, TEST_METHOD(getClusterHealth), 9, &q, &res);
        bool cut = true;
        for (uint32_t i = 0; i < res.success.nodes.count; i++) {
            const NodeStatus *st = &res.success.nodes.items[i];
            if ((int)i != node)
                cut = cut && (!st->has_last_contact_ms || st->last_contact_ms > 200);
        }
        TransactionalKV_getClusterHealth_result_free(&res);
        if (cut)
            return;
        cr_assert_lt(node_now(), deadline, "node %d still hears its peers", node);
        usleep(20000);
    }
}

bool rep_refused(bool success, bool has_code, int code)
{
    return !success && has_code &&
           (code == ErrorCode_NOT_LEADER || code == ErrorCode_UNAVAILABLE ||
            code == ErrorCode_BUSY);
}

bool rep_retryable(int code)
{
    return code == ErrorCode_UNAVAILABLE || code == ErrorCode_NOT_LEADER ||
           code == ErrorCode_BUSY || code == ErrorCode_TIMEOUT || code == ErrorCode_SHUTTING_DOWN;
}

void rep_call_answered(struct rep *r, int node, const struct test_method *m, const void *req,
                       void *result)
{
    cr_assert(m->error_code, "%s: its answer carries no ErrorCode", m->name);
    double deadline = node_now() + REP_WAIT_S;
    struct test_call_error err = {"no answer"};
    for (;;) {
        struct net_client *c = rep_client(r, node);
        if (test_call(c, m, ++r->seqid, req, result, &err) == 0) {
            int code = m->error_code(result);
            if (!rep_retryable(code))
                return;
            snprintf(err.text, sizeof err.text, "answered ErrorCode %d", code);
        } else {
            rep_disconnect(r, node);
        }
        m->result_free(result);
        cr_assert_lt(node_now(), deadline, "%s on node %d kept failing; the last time: %s",
                     m->name, node, err.text);
        usleep(50000);
    }
}

int64_t rep_open_session(struct rep *r, int node)
{
    OpenSessionRequest q;
    OpenSessionRequest_init(&q);
    TransactionalKV_openSession_result res;
    rep_call_answered(r, node, TEST_METHOD(openSession), &q, &res);
    cr_assert(res.success.success, "openSession");
    cr_assert(res.success.has_session_id && res.success.session_id > 0);
    int64_t id = res.success.session_id;
    TransactionalKV_openSession_result_free(&res);
    return id;
}

int rep_session_set(struct rep *r, int node, const char *key, const char *value, int64_t id,
                    int64_t seq, int64_t *version)
{
    SetRequest q;
    SetRequest_init(&q);
    tp_bytes_set_str(&q.key, key);
    tp_bytes_set_str(&q.value, value);
    q.has_session = id != 0;   /* 0: a write without a session */
    q.session.session_id = id;
    q.session.sequence = seq;
    TransactionalKV_setKey_result res;
    rep_call_answered(r, node, TEST_METHOD(setKey), &q, &res);
    int code = res.success.success ? 0 : (int)res.success.error_code;
    *version = res.success.has_version ? res.success.version : 0;
    TransactionalKV_setKey_result_free(&res);
    SetRequest_free(&q);
    return code;
}

int rep_kvctl(const char *args, char *out, size_t size)
{
    const char *bin = getenv("KVCTL");
    cr_assert(bin, "KVCTL must name the built kvctl");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", bin, args);
    FILE *f = popen(cmd, "r");
    cr_assert(f);
    size_t n = fread(out, 1, size - 1, f);
    out[n] = '\0';
    int status = pclose(f);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
