/* server_snap_policy.c: when a snapshot is due, and what follows a snapshot's outcome. */
#include "server_snap_internal.h"

#include "log.h"
#include "metrics.h"
#include "server_rep.h"

#include <assert.h>
#include <event2/event.h>
#include <limits.h>
#include <unistd.h>

bool server_snap_due(struct server_node *n)
{
    struct server_snap_state *s = n->snap;
    int64_t now = server_now_ms();
    if (s->job || now < s->retry_at_ms)
        return false;
    uint64_t percent = n->cfg->snapshot_log_growth_percent;
    uint64_t min_bytes = n->cfg->snapshot_log_min_bytes;
    bool by_growth = percent != 0 && s->snapshot_bytes != 0;
    if (!by_growth && min_bytes == 0)
        return true;
    if (s->checked_ms >= 0 && now - s->checked_ms < SERVER_SNAP_CHECK_MS)
        return false;
    s->checked_ms = now;
    uint64_t wal = server_snap_wal_bytes(n);
    uint64_t grown = wal > s->wal_base_bytes ? wal - s->wal_base_bytes : 0;
    /* Replicas apply the same log, so equal thresholds make them all snapshot at the same index
       and starve each other (and the leader's loop) of the cores together. Replica i of r
       waits for (r + i) / r times the log: their snapshots come a third of a period apart. */
    uint64_t num = 1, den = 1;
    if (n->rep && n->cfg->replica_count > 1) {
        num = (uint64_t)n->cfg->replica_count + n->cfg->instance_index;
        den = n->cfg->replica_count;
    }
    /* Sizes stay far below 2^50, percent below 2^17 and num below 2^4: no overflow. */
    if (grown * den < (uint64_t)min_bytes * num)
        return false;
    return !by_growth || grown * 100 * den >= s->snapshot_bytes * percent * num;
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct server_node *n = arg;
    /* The timer is what makes the retry due: libevent's clock may run up to a millisecond
       ahead of server_now_ms()'s truncated one, and a retry found "not yet due" here would
       never be tried again on an idle node. */
    n->snap->retry_at_ms = 0;
    server_snap_maybe(n);
}

void server_snap_maybe(struct server_node *n)
{
    uint64_t every = n->cfg->snapshot_every_entries;
    uint64_t applied = kv_sm_applied_version(n->sm);
    if (n->rep || every == 0 || n->failed || n->stopping || applied - n->snapshot_index < every)
        return;
    assert(applied > n->snapshot_index);
    if (server_snap_due(n))
        server_snap_begin(n, applied, SERVER_TERM); /* a failure to start waits for a retry */
}

/* The log no longer needs entries up to index: the snapshot holds them. */
static void compact_log(struct server_node *n, uint64_t index)
{
    int rc = wal_sync(n->wal);
    if (rc == 0)
        rc = wal_compact(n->wal, index, SERVER_TERM);
    if (rc == WAL_ERR_FAILED || rc == WAL_ERR_IO)
        server_node_fail(n, "compacting the log", wal_last_error(n->wal));
    else if (rc)
        log_warn("log not compacted below snapshot %llu: %s", (unsigned long long)index,
                 wal_last_error(n->wal));
    log_info("log now %llu..%llu", (unsigned long long)wal_first_index(n->wal),
             (unsigned long long)wal_last_index(n->wal));
}

static void schedule_retry(struct server_node *n)
{
    struct server_snap_state *s = n->snap;
    s->retry_at_ms = server_now_ms() + SERVER_SNAP_RETRY_MS;
    if (n->rep)
        return; /* the cluster asks again after its next turn */
    if (!s->retry_ev)
        s->retry_ev = evtimer_new(n->base, on_retry, n);
    struct timeval tv = {SERVER_SNAP_RETRY_MS / 1000, (SERVER_SNAP_RETRY_MS % 1000) * 1000};
    if (!s->retry_ev || evtimer_add(s->retry_ev, &tv) != 0)
        log_warn("snapshot retry not scheduled: the next write tries again");
}

/* A finished snapshot's file becomes the newest snapshot unless an installed one passed it. */
static void adopt(struct server_node *n)
{
    struct server_snap_state *s = n->snap;
    char path[PATH_MAX];
    if (s->index <= n->snapshot_index) {
        if (s->index < n->snapshot_index && server_snap_path(n, s->index, path, sizeof path) == 0)
            unlink(path);
        return;
    }
    uint64_t prev = n->snapshot_index, newest;
    n->snapshot_index = s->index;
    s->snapshot_bytes = server_snap_file_bytes(n, s->index);
    (void)prev;
    server_snap_scan(n, s->index, false, &newest); /* only the newest stays */
    log_info("snapshot at %llu written in the background in %lld ms (%llu bytes)",
             (unsigned long long)s->index, (long long)(server_now_ms() - s->started_ms),
             (unsigned long long)s->snapshot_bytes);
    if (n->rep)
        cluster_snapshot_done(n->rep->cluster, s->index, true);
    else
        compact_log(n, s->index);
    s->wal_base_bytes = server_snap_wal_bytes(n);
}

void server_snap_finished(struct server_node *n, bool ok, bool cancelled)
{
    struct server_snap_state *s = n->snap;
    assert(!s->job);
    if (ok) {
        metrics_count(METRIC_SNAPSHOTS, 1);
        metrics_observe_ns(METRIC_SNAPSHOT_DURATION,
                           (uint64_t)(server_now_ms() - s->started_ms) * 1000000u);
        adopt(n);
        /* Writes that came while it was written may have made the next snapshot due, and
           with no write after them nothing else would ask (the cluster asks after its
           turns by itself). */
        server_snap_maybe(n);
        return;
    }
    if (!cancelled) {
        metrics_count(METRIC_SNAPSHOT_FAILURES, 1);
        log_error("snapshot at %llu failed: %s; retrying in %u ms", (unsigned long long)s->index,
                  s->report_len ? s->report : "no reason given",
                  SERVER_SNAP_RETRY_MS);
        schedule_retry(n);
    }
    if (n->rep && n->rep->cluster)
        cluster_snapshot_done(n->rep->cluster, s->index, false);
}
