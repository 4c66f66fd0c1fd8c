/* nemesis_disk.c: disk faults through a node's fault file (disk_fail=CALL:NTH:ERRNO, see
   src/server/server_faults.c). disk-error fails every log sync with EIO: the node must fail
   stop (refuse writes until restarted, never acknowledge what it could not sync; in a cluster
   the others go on without it). disk-full fails every write that grows a file with ENOSPC: a
   standalone node refuses writes with NO_SPACE and takes them again once space is back; a
   replica whose log write hits it fails stop. The heal removes the rule and restarts the node
   when it reports its storage failed (or does not answer), which puts recovery after the
   fault to the test too. While the rule is on, and until the heal has read the node's log,
   its ERROR lines are expected (watch.c); an assertion or a sanitizer report never is. */
#include "client_internal.h"

#include <stdio.h>
#include <time.h>

/* After the rule is gone, a node notices free space again within a second (HACKING.md). */
#define DISK_SETTLE_NS (1200LL * 1000 * 1000)

static const char *rule(enum kvt_fault f)
{
    return f == KVT_FAULT_DISK_ERROR ? "disk_fail=sync:1:EIO\n" : "disk_fail=write:1:ENOSPC\n";
}

int kvt_disk_fault_apply(struct kvt_cluster *c, unsigned i, enum kvt_fault f)
{
    c->nodes[i].errors_expected = true;
    return kvt_fault_file_write(&c->nodes[i], rule(f));
}

/* 1 when node i says its storage failed, 0 when it says not, -1 when it does not answer. */
static int storage_failed(const struct kvt_cluster *c, unsigned i, int timeout_ms)
{
    struct kvt_conn k;
    kvt_conn_init(&k, c, (int)i, timeout_ms);
    GetNodeInfoRequest req;
    GetNodeInfoRequest_init(&req);
    TransactionalKV_getNodeInfo_result res;
    TransactionalKV_getNodeInfo_result_init(&res);
    enum call_status st;
    KVT_CALL(st, &k, getNodeInfo, &req, &res);
    const NodeInfo *info = &res.success;
    int failed = st != CALL_OK || !info->success ? -1 : info->has_failed && info->failed;
    TransactionalKV_getNodeInfo_result_free(&res);
    GetNodeInfoRequest_free(&req);
    kvt_conn_free(&k);
    return failed;
}

int kvt_disk_fault_heal(struct kvt_cluster *c, unsigned i, int timeout_ms)
{
    struct kvt_node *n = &c->nodes[i];
    kvt_fault_file_write(n, "");   /* an empty file injects nothing */
    struct timespec ts = {DISK_SETTLE_NS / 1000000000, DISK_SETTLE_NS % 1000000000};
    nanosleep(&ts, NULL);
    int failed = storage_failed(c, i, timeout_ms);
    if (failed != 0) {
        printf("nemesis: node %u %s: restarting it\n", i,
               failed > 0 ? "reports its storage failed" : "does not answer");
        kvt_node_kill(n);
    }
    kvt_watch_poll(c);   /* its last lines under the fault, while they are expected */
    n->errors_expected = false;
    if (failed != 0 && kvt_node_start(c, i) != 0) {
        fprintf(stderr, "kvtorture: nemesis: node %u did not come back\n", i);
        return -1;
    }
    return 0;
}
