/* server_write.c: the write path: admission; standalone: log, one fsync per loop turn, apply,
   answer; replicated: handed to the routes of server_route.c. */
#include "server_node.h"

#include "kv_sm_check.h"
#include "log.h"
#include "server_rep.h"
#include "server_snap.h"
#include "server_vwait.h"

#include <assert.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

static void fail_now(server_commit_cb cb, void *ctx, int code)
{
    struct server_apply_result res = {.code = code};
    cb(ctx, &res);
}

_Static_assert(SERVER_TXN_OPERATIONS_CEILING <= KV_SM_CONTAINER_MAX,
               "a transaction the server admits must decode when applied");

/* Admission before proposing: the server's own count limits (a log entry must decode within
   kv_sm's container bound), then the state machine's checks, which apply will repeat. */
static int check_command(const struct server_node *n, const KvCommand *cmd)
{
    if (cmd->has_atomic_commit) {
        const AtomicCommitRequest *a = &cmd->atomic_commit;
        uint64_t conflicts = (a->has_read_conflict_keys ? a->read_conflict_keys.count : 0) +
                             (uint64_t)(a->has_read_conflict_ranges ? a->read_conflict_ranges.count : 0);
        if (a->operations.count > n->txn_operations_max || conflicts > n->txn_operations_max)
            return ErrorCode_TRANSACTION_TOO_LARGE;
    }
    return server_code_from_kv(kv_sm_check_command(kv_store_config(server_store(n)), cmd));
}

/*
 * Logs cmd and queues it for this turn's commit; an ErrorCode when it cannot be. Every code
 * returned here is definite: the write is in no log. (Answers after it entered the log are the
 * outcome or, when that is unknown, TIMEOUT: commit_turn and server_route.c.)
 */
static int propose_queue(struct server_node *n, const KvCommand *cmd, bool from_peer,
                         server_commit_cb cb, void *ctx)
{
    if (n->stopping)
        return ErrorCode_SHUTTING_DOWN;
    if (server_node_failed(n, NULL, 0))
        return ErrorCode_UNAVAILABLE; /* storage failed: nothing more goes in here */
    if (server_disk_refuses(n))
        return ErrorCode_NO_SPACE;
    int code = check_command(n, cmd);
    if (code)
        return code;
    if (n->rep) {
        if (server_entry_encode(&n->entry_buf, server_wall_us(), cmd) != 0)
            return ErrorCode_INTERNAL;
        server_rep_propose(n, n->entry_buf.data, n->entry_buf.len, from_peer, cb, ctx);
        return 0;
    }
    struct server_pending *p = calloc(1, sizeof *p);
    if (!p || server_entry_encode(&n->entry_buf, server_wall_us(), cmd) != 0) {
        free(p);
        return ErrorCode_INTERNAL;
    }
    if (n->entry_buf.len > UINT32_MAX) {
        free(p);
        return ErrorCode_TRANSACTION_TOO_LARGE;
    }
    p->data = malloc(n->entry_buf.len);
    if (!p->data) {
        free(p);
        return ErrorCode_INTERNAL;
    }
    memcpy(p->data, n->entry_buf.data, n->entry_buf.len);
    p->len = n->entry_buf.len;
    p->index = wal_last_index(n->wal) + 1;
    int rc = wal_append(n->wal, p->index, 1, n->entry_buf.data, (uint32_t)n->entry_buf.len);
    if (rc != 0) {
        /* Not in the log (wal.h: a failed append leaves no record); the writes queued before it
           learn their fate from this turn's sync, which fails too. */
        free(p->data);
        free(p);
        /* A full disk met inside the append (a segment roll, or a flush of a full buffer)
           leaves the log spilled: it takes nothing more until cut back. With writes queued
           this turn, the turn's sync fails too and cuts them (sync_failed); with none, no
           turn comes, so cut here, keeping every record the log has. */
        if (rc == WAL_ERR_FULL &&
            (n->pending_head || wal_truncate_suffix(n->wal, wal_last_index(n->wal) + 1) == 0)) {
            server_disk_full(n);
            return ErrorCode_NO_SPACE;
        }
        server_node_fail(n, "appending to the log", wal_last_error(n->wal));
        return ErrorCode_UNAVAILABLE;
    }
    p->cb = cb;
    p->ctx = ctx;
    if (n->pending_tail)
        n->pending_tail->next = p;
    else
        n->pending_head = p;
    n->pending_tail = p;
    net_turn_want(&n->commit);
    return 0;
}

void server_propose(struct server_node *n, const KvCommand *cmd, bool from_peer,
                    server_commit_cb cb, void *ctx)
{
    int code = propose_queue(n, cmd, from_peer, cb, ctx);
    if (code)
        fail_now(cb, ctx, code);
}

/*
 * After a failed sync (or the flush before it): an I/O error is fail-stop, and the writes of
 * this turn answer TIMEOUT (some may be on disk whole, and come back at the next start). A
 * full disk instead cuts the log back to before them, durably: then they are in no log and
 * answer NO_SPACE, a definite answer. Returns the code the pending writes get.
 */
static int sync_failed(struct server_node *n, const struct server_pending *turn, int rc)
{
    if (rc == WAL_ERR_FULL) {
        uint64_t from = turn ? turn->index : wal_last_index(n->wal) + 1;
        if (wal_truncate_suffix(n->wal, from) == 0) {
            server_disk_full(n);
            return ErrorCode_NO_SPACE;
        }
    }
    server_node_fail(n, "syncing the log", wal_last_error(n->wal));
    return ErrorCode_TIMEOUT;
}

void server_sync_due(int fd, short what, void *arg)
{
    struct server_node *n = arg;
    (void)fd;
    (void)what;
    int rc = n->failed ? 0 : wal_sync(n->wal);
    if (rc != 0)
        sync_failed(n, n->pending_head, rc);
}

/* Runs after every other callback of the loop turn: one sync covers every write of the turn,
   then each is applied in log order and answered. The turn's writes are taken off the queue
   first: an answer lets the connection's next requests in (server_conn.c), and a write among
   them is logged after this sync, so it waits for the next turn's, never answered unsynced. */
void server_commit_turn(int fd, short what, void *arg)
{
    struct server_node *n = arg;
    (void)fd;
    (void)what;
    struct server_pending *turn = n->pending_head;
    n->pending_head = n->pending_tail = NULL;
    bool interval = n->cfg->fsync == SERVER_FSYNC_INTERVAL;
    int rc = n->failed ? WAL_ERR_FAILED
             : interval ? wal_sync_due(n->wal, (uint64_t)server_now_ms())
                        : wal_sync(n->wal);
    int failed_code = rc == 0 ? 0 : n->failed ? ErrorCode_TIMEOUT : sync_failed(n, turn, rc);
    if (rc == 0 && turn)
        server_disk_wrote(n);
    /* fsync N ms acknowledges before syncing: the timer bounds how long that lasts even when
       no more writes come to trigger the next sync. */
    if (interval && !n->failed && wal_durable_index(n->wal) < wal_last_index(n->wal) &&
        !evtimer_pending(n->sync_ev, NULL)) {
        uint32_t ms = n->cfg->fsync_interval_ms;
        struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
        evtimer_add(n->sync_ev, &tv);
    }
    while (turn) {
        struct server_pending *p = turn;
        turn = p->next;
        struct server_apply_result res = {.code = failed_code};
        if (failed_code == 0 && !n->failed &&
            server_entry_apply(n->sm, p->index, p->data, p->len, &res) != 0) {
            server_node_fail(n, "applying a logged entry", "it does not decode");
            res.code = ErrorCode_TIMEOUT; /* it is in the log */
        } else if (failed_code == 0 && n->failed) {
            res.code = ErrorCode_TIMEOUT; /* logged, then an earlier entry failed to apply */
        }
        p->cb(p->ctx, &res);
        free(p->data);
        free(p);
    }
    server_vwait_applied(n);
    server_snap_maybe(n);
}
