/* server_node.c: a node's life: open the data dir, replay the log, listen, stop gracefully. */
#include "server_node.h"

#include "log.h"
#include "net_tls.h"
#include "server_http.h"
#include "server_identity.h"
#include "server_rep.h"
#include "server_snap.h"
#include "server_stats.h"
#include "server_vwait.h"
#include "server_watch.h"
#include "sio.h"

#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Entries read per batch during replay. */
#define SERVER_REPLAY_BATCH 256u
/* Peer frames may exceed the client frame limit by one append batch's byte budget. */
#define SERVER_PEER_FRAME_SLACK (512u * 1024)
/* Event priorities: 0 signals, 1 network and timers (the default with 3 queues), 2 the end of
   turn (net_turn.h: it takes the lowest). */
#define SERVER_PRIORITIES 3

int64_t server_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How far the fault file's clock_offset_ms sets this process's wall clock off (0 without
   fault injection); read on any thread. */
static _Atomic int64_t wall_offset_us;

int64_t server_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 +
           atomic_load_explicit(&wall_offset_us, memory_order_relaxed);
}

void server_wall_offset_set(int64_t us)
{
    atomic_store_explicit(&wall_offset_us, us, memory_order_relaxed);
}

static int make_dirs(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static int open_store(struct server_node *n)
{
    const struct server_config *cfg = n->cfg;
    struct kv_config kc;
    kv_config_default(&kc);
    kc.key_max = cfg->max_key_bytes;
    kc.value_max = cfg->max_value_bytes;
    kc.txn_bytes_max = cfg->max_txn_bytes;
    kc.window_versions = cfg->mvcc_window_versions;
    kc.window_us = (int64_t)cfg->mvcc_window_ms * 1000;
    n->sm = kv_sm_new(&kc);
    if (!n->sm) {
        log_error("cannot create the store (limits out of range or no memory)");
        return -1;
    }
    n->txn_operations_max = cfg->max_txn_operations;
    n->wire_limits = (tp_limits){cfg->max_frame_bytes + SERVER_ENTRY_SLACK,
                                 TP_CONTAINER_MAX_DEFAULT, TP_DEPTH_MAX_DEFAULT};
    return 0;
}

static int open_wal(struct server_node *n)
{
    const struct server_config *cfg = n->cfg;
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s/wal", cfg->data_dir) >= (int)sizeof dir ||
        make_dirs(dir) != 0) {
        log_error("cannot create %s/wal: %s", cfg->data_dir, strerror(errno));
        return -1;
    }
    struct wal_config wc;
    wal_config_default(&wc, dir);
    wc.fsync = cfg->fsync == SERVER_FSYNC_ALWAYS  ? WAL_FSYNC_ALWAYS
               : cfg->fsync == SERVER_FSYNC_NEVER ? WAL_FSYNC_NEVER
                                                  : WAL_FSYNC_INTERVAL;
    wc.fsync_interval_ms = cfg->fsync_interval_ms;
    wc.segment_size_max = cfg->wal_segment_bytes;
    wc.record_payload_max = cfg->max_frame_bytes + SERVER_ENTRY_SLACK;
    wc.io = n->io;
    struct wal_errmsg err;
    int rc = wal_open(&wc, &n->wal, &err);
    if (rc == 0)
        return 0;
    log_error("cannot open the log in %s: %s", dir, err.text);
    if (rc == WAL_ERR_CORRUPT)
        server_node_damaged(n, "log", "start from what is left: move the named segment and "
                            "every later one out of data_dir/wal");
    else if (rc == WAL_ERR_FORMAT)
        log_error("see HACKING.md, \"Upgrading a data directory\"");
    return -1;
}

/* A snapshot newer than the whole log (its tail was never synced, or the log is new): the
   log restarts right after the snapshot, so the next append takes the next version. */
static int align_wal(struct server_node *n)
{
    if (wal_last_index(n->wal) >= n->snapshot_index)
        return 0;
    log_warn("the log ends at %llu, before snapshot %llu: restarting it after the snapshot",
             (unsigned long long)wal_last_index(n->wal), (unsigned long long)n->snapshot_index);
    if (wal_reset(n->wal, n->snapshot_index, 1) != 0) {
        log_error("cannot reset the log: %s", wal_last_error(n->wal));
        return -1;
    }
    return 0;
}

/* Applies every logged entry the store has not seen; *replayed counts them. */
static int replay(struct server_node *n, uint64_t *replayed)
{
    uint64_t first = kv_sm_applied_version(n->sm) + 1, next = first;
    if (wal_first_index(n->wal) > next) {
        log_error("the log starts at %llu but the store is at %llu: entries are missing",
                  (unsigned long long)wal_first_index(n->wal), (unsigned long long)next - 1);
        return -1;
    }
    size_t buf_len = (size_t)n->cfg->max_frame_bytes + SERVER_ENTRY_SLACK;
    uint8_t *buf = malloc(buf_len);
    struct wal_entry *e = calloc(SERVER_REPLAY_BATCH, sizeof *e);
    int rc = buf && e ? 0 : -1;
    while (rc == 0 && next <= wal_last_index(n->wal)) {
        size_t count = 0;
        if (wal_read(n->wal, next, e, SERVER_REPLAY_BATCH, buf, buf_len, &count) != 0 ||
            count == 0) {
            log_error("replay stopped at %llu: %s", (unsigned long long)next,
                      wal_last_error(n->wal));
            rc = -1;
        }
        for (size_t i = 0; rc == 0 && i < count; i++, next++) {
            struct server_apply_result res;
            if (server_entry_apply(n->sm, e[i].index, e[i].data, e[i].len, &res) != 0) {
                log_error("entry %llu does not decode", (unsigned long long)e[i].index);
                rc = -1;
            }
        }
    }
    free(buf);
    free(e);
    *replayed = next - first;
    return rc;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    log_info("signal %d: stopping", (int)sig);
    server_node_stop(arg);
}

static void on_stats_second(evutil_socket_t fd, short what, void *arg)
{
    struct server_node *n = arg;
    (void)fd, (void)what;
    server_stats_sample(n->stats);
}

/* Request statistics, and their sampler's one-second timer. */
static int open_stats(struct server_node *n)
{
    n->stats = calloc(1, sizeof *n->stats);
    n->stats_ev = event_new(n->base, -1, EV_PERSIST, on_stats_second, n);
    struct timeval second = {1, 0};
    return n->stats && n->stats_ev && event_add(n->stats_ev, &second) == 0 ? 0 : -1;
}

static void commit_step(void *n)
{
    server_commit_turn(-1, 0, n);
}

static int open_events(struct server_node *n)
{
    if (event_base_priority_init(n->base, SERVER_PRIORITIES) != 0)
        log_warn("event priorities unavailable: the end of turn may run before reads finish");
    n->sync_ev = evtimer_new(n->base, server_sync_due, n);
    n->sig_term = evsignal_new(n->base, SIGTERM, on_signal, n);
    n->sig_int = evsignal_new(n->base, SIGINT, on_signal, n);
    if (net_turn_join(&n->commit, n->base, NET_TURN_COMMIT, commit_step, n) != 0 ||
        !n->sync_ev || !n->sig_term || !n->sig_int)
        return -1;
    event_priority_set(n->sig_term, 0);
    event_priority_set(n->sig_int, 0);
    return evsignal_add(n->sig_term, NULL) || evsignal_add(n->sig_int, NULL) ? -1 : 0;
}

static int open_net(struct server_node *n)
{
    const struct server_config *cfg = n->cfg;
    struct net_limits nl;
    net_limits_default(&nl);
    nl.frame_bytes_max = cfg->max_frame_bytes;
    if (cfg->mode == SERVER_MODE_REPLICATED) {
        /* A peer's append batch holds up to one entry past its byte budget. */
        uint64_t peer_max = (uint64_t)cfg->max_frame_bytes + SERVER_PEER_FRAME_SLACK;
        nl.frame_bytes_max = peer_max > NET_FRAME_BYTES_MAX ? NET_FRAME_BYTES_MAX
                                                            : (uint32_t)peer_max;
        /* Slots past max_connections that only peers keep (net_admit.c): clients holding
           every connection cannot starve elections. A peer has two handshake calls. */
        nl.reserved_connections = SERVER_PEER_RESERVED_CONNECTIONS;
        nl.reserved_probation_ms = 2 * cfg->peer_call_timeout_ms;
    }
    nl.connections_per_address_max = cfg->max_connections_per_address;
    nl.connections_max = cfg->max_connections;
    nl.idle_timeout_ms = cfg->idle_timeout_ms;
    nl.pending_replies_max = cfg->max_pending_requests;
    nl.output_high_water = cfg->output_high_water_bytes;
    n->net = net_server_new(n->base, &nl, server_on_message, n);
    if (!n->net)
        return -1;
    if (cfg->tls_cert) {
        char err[NET_TLS_ERR_MAX];
        n->tls = net_tls_server_ctx(cfg->tls_cert, cfg->tls_key, cfg->tls_ca, cfg->peer_tls_ca,
                                    (enum net_tls_client_auth)cfg->tls_client_auth, err,
                                    sizeof err);
        if (!n->tls) {
            log_error("TLS (tls.cert, tls.key, tls.ca): %s", err);
            return -1;
        }
        net_server_set_tls(n->net, n->tls);
    }
    int rc = net_server_listen(n->net, cfg->listen);
    if (rc != NET_OK) {
        log_error("cannot listen on %s: %s (%s)", cfg->listen, net_strerror(rc), strerror(errno));
        return -1;
    }
    return 0;
}

int server_node_open(struct server_node *n, const struct server_config *cfg,
                     struct event_base *base)
{
    memset(n, 0, sizeof *n);
    n->cfg = cfg;
    n->base = base;
    n->start_ms = server_now_ms();
    n->start_wall_s = server_wall_us() / 1000000;
    tp_buf_init(&n->entry_buf);
    tp_buf_init(&n->reply_buf);
    if (make_dirs(cfg->data_dir) != 0) {
        log_error("cannot create data_dir %s: %s", cfg->data_dir, strerror(errno));
        return -1;
    }
    uint64_t replayed = 0;
    bool replicated = cfg->mode == SERVER_MODE_REPLICATED;
    n->io = sio_default();
    if (cfg->fault_injection && server_faults_open(n) != 0) {
        log_error("cannot start fault injection");
        return -1;
    }
    if (replicated && cfg->member_identity &&
        (server_identity_open(cfg->data_dir, &n->incarnation, &n->identity_cluster) != 0 ||
         server_member_cluster_check(n, n->identity_cluster) != 0))
        return -1;
    if (open_store(n) != 0 || server_snap_restore(n) != 0 || open_wal(n) != 0)
        return -1;
    /* Events first: priorities must be set before any event exists. */
    if (open_events(n) != 0 || server_vwait_open(n) != 0 || server_watch_open(n) != 0 ||
        open_stats(n) != 0) {
        log_error("cannot create events");
        return -1;
    }
    /* Replicated: the cluster replays the log itself, as the leader tells it what committed. */
    if (replicated ? server_rep_open(n) != 0 : align_wal(n) != 0 || replay(n, &replayed) != 0)
        return -1;
    log_info("recovered version %llu: snapshot %llu, %llu log entries replayed (log %llu..%llu)",
             (unsigned long long)kv_sm_applied_version(n->sm),
             (unsigned long long)n->snapshot_index, (unsigned long long)replayed,
             (unsigned long long)wal_first_index(n->wal),
             (unsigned long long)wal_last_index(n->wal));
    if (server_disk_start(n) != 0 || (n->faults && server_faults_start(n) != 0)) {
        log_error("cannot create events");
        return -1;
    }
    if (open_net(n) != 0)
        return -1;
    log_info("listening on %s (port %u), mode %s%s", cfg->listen, net_server_port(n->net),
             server_mode_name(cfg->mode), n->tls ? ", TLS only" : "");
    return server_http_open(n);
}

static void on_drained(void *arg)
{
    struct server_node *n = arg;
    if (n->rep && n->rep->cluster)
        cluster_node_sync_idle(n->rep->cluster); /* its background sync first: one at a time */
    if (n->wal && wal_sync(n->wal) != 0) {
        log_error("final log sync failed: %s", wal_last_error(n->wal));
        n->exit_code = 1;
    }
    log_info("stopped at version %llu", (unsigned long long)kv_sm_applied_version(n->sm));
    event_base_loopexit(n->base, NULL);
}

static void on_stop_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct server_node *n = arg;
    (void)fd;
    (void)what;
    log_warn("requests still in flight after %u ms: exiting anyway", SERVER_STOP_DEADLINE_MS);
    on_drained(n);
}

void server_node_stop(struct server_node *n)
{
    if (n->stopping || server_transfer_before_stop(n))
        return;
    n->stopping = true;
    server_vwait_stop(n);   /* a read waiting for a version is not worth delaying the stop */
    server_watch_stop(n);   /* nor is a watch: its client goes on at another node */
    struct timeval tv = {SERVER_STOP_DEADLINE_MS / 1000, (SERVER_STOP_DEADLINE_MS % 1000) * 1000};
    n->stop_ev = evtimer_new(n->base, on_stop_deadline, n);
    if (n->stop_ev)
        evtimer_add(n->stop_ev, &tv);
    server_route_wake(n);   /* a write waiting for a leader is refused now: in no log */
    net_server_drain(n->net, on_drained, n);
}

void server_node_close(struct server_node *n)
{
    server_snap_close(n); /* no child outlives the node, nor writes after it */
    server_rep_close(n);  /* answers what still waits, so before the listener goes */
    server_vwait_close(n);
    server_watch_close(n);
    server_http_close(n); /* after: its dashboard queries wait on peer calls */
    net_server_free(n->net);
    net_tls_ctx_free(n->tls);
    if (n->pending_head)   /* only after a forced stop: answer nobody, but free */
        server_commit_turn(-1, 0, n);
    net_turn_leave(&n->commit);
    if (n->sync_ev)
        event_free(n->sync_ev);
    if (n->stop_ev)
        event_free(n->stop_ev);
    if (n->sig_term)
        event_free(n->sig_term);
    if (n->sig_int)
        event_free(n->sig_int);
    if (n->stats_ev)
        event_free(n->stats_ev);
    free(n->stats);
    server_disk_stop(n);
    wal_close(n->wal);
    server_faults_close(n); /* after the log: it writes through the faults' seam */
    kv_sm_free(n->sm);
    tp_buf_free(&n->entry_buf);
    tp_buf_free(&n->reply_buf);
    memset(n, 0, sizeof *n);
}
