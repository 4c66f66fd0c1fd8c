/* server_rep.c: replicated mode's life cycle: the cluster over the node's WAL and store, and
   the callbacks through which the cluster applies, snapshots and reports leadership. */
#include "server_rep.h"

#include "cluster_net.h"
#include "log.h"
#include "metrics.h"
#include "net_tls.h"
#include "server_snap.h"
#include "server_vwait.h"

#include <assert.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Peer links back off between these after a failure. */
#define REP_BACKOFF_MIN_MS 20u
#define REP_BACKOFF_MAX_MS 500u

/* Applies a committed entry; when this node proposed it (proposal: its route), what applying
   it did answers that write from here. */
static int rep_apply(void *ctx, uint64_t index, uint64_t term, const uint8_t *data, uint32_t len,
                     void *proposal)
{
    struct server_node *n = ctx;
    struct server_apply_result res = {.version = index};
    if (len == 0) {
        /* A new leader's no-op still takes its version. It carries no clock, so it keeps the
           last entry's (deterministic on every replica; a fresh cluster's first no-op is at
           time 0, below any MVCC time window). */
        KvCommand cmd;
        KvCommand_init(&cmd);
        cmd.has_noop = true;
        struct kv_sm_result kr;
        kv_sm_apply(n->sm, &cmd, index, kv_store_applied_timestamp_us(server_store(n)), &kr);
    } else if (server_entry_apply(n->sm, index, data, len, &res) != 0) {
        log_error("entry %llu does not decode", (unsigned long long)index);
        return -1;
    }
    assert(kv_sm_applied_version(n->sm) == index);
    kv_sm_set_log_term(n->sm, term); /* what a snapshot of this state records */
    if (proposal)
        server_route_applied(proposal, &res);
    server_vwait_applied(n);
    return 0;
}

/* The cluster asks after its turns once snapshot_every_entries entries were applied (or a
   peer needs one): the loop writes the file in steps at a pinned version (server_snap_write.c);
   cluster_snapshot_done follows its outcome. */
static int rep_snapshot_begin(void *ctx, uint64_t index, uint64_t term, bool force)
{
    struct server_node *n = ctx;
    assert(kv_sm_applied_version(n->sm) == index);
    if (server_snap_running(n) || (!force && !server_snap_due(n)))
        return -1;
    return server_snap_begin(n, index, term);
}

/* Snapshots ship from the file and arrive in a temp file (server_snap_ship.c). */
static void *rep_snap_open(void *ctx, uint64_t index, uint64_t *size)
{
    return server_snap_open(ctx, index, size);
}

static int rep_snap_read(void *ctx, void *snap, uint64_t offset, uint8_t *buf, size_t len)
{
    (void)ctx;
    return server_snap_pread(snap, offset, buf, len);
}

static void rep_snap_close(void *ctx, void *snap)
{
    (void)ctx;
    server_snap_close_src(snap);
}

static void *rep_recv_begin(void *ctx, uint64_t index, uint64_t term, uint64_t size)
{
    return server_snap_recv_begin(ctx, index, term, size);
}

static int rep_recv_write(void *ctx, void *recv, uint64_t offset, const uint8_t *data,
                          size_t len)
{
    (void)ctx;
    return server_snap_recv_write(recv, offset, data, len);
}

static int rep_recv_sync(void *ctx, void *recv)
{
    (void)ctx;
    return server_snap_recv_sync(recv);
}

static void rep_recv_abort(void *ctx, void *recv)
{
    (void)ctx;
    server_snap_recv_abort(recv);
}

static int rep_install(void *ctx, void *recv, uint64_t index, uint64_t term)
{
    (void)index, (void)term; /* the receive knows both */
    int rc = server_snap_install(recv);
    return rc != 0 ? rc : server_member_installed_check(ctx);
}

static void rep_installed(void *ctx, uint64_t index, uint64_t term)
{
    (void)term;
    server_snap_installed(ctx, index);
}

static void rep_role_changed(void *ctx, enum consensus_role role, uint64_t term, uint32_t leader)
{
    struct server_node *n = ctx;
    if (leader == CONSENSUS_NONE)
        log_info("now %s in term %llu, no leader known", consensus_role_name(role),
                 (unsigned long long)term);
    else {
        const char *at = server_peer_endpoint(n, leader);
        log_info("now %s in term %llu, leader %u (%s)", consensus_role_name(role),
                 (unsigned long long)term, leader, at ? at : "address unknown");
    }
    struct server_rep *rep = n->rep;
    if (leader != CONSENSUS_NONE && (leader != rep->leader_seen || term != rep->leader_term_seen)) {
        rep->leader_seen = leader; /* a leader this node had not seen lead this term */
        rep->leader_term_seen = term;
        metrics_count(METRIC_LEADER_CHANGES, 1);
    }
    /* A leader that stops leading in its own term, knowing no leader, was deposed by
       check-quorum: it cannot reach a majority, which is how a node cut off learns it is.
       Until it hears of a leader or a newer term, calls waiting for a leader are refused at
       once (server_route.c): none will come before their deadline. */
    if (rep->role_seen == CONSENSUS_LEADER && role != CONSENSUS_LEADER &&
        term == rep->term_seen && leader == CONSENSUS_NONE) {
        rep->quorum_lost = true;
        log_warn("stepped down as leader in term %llu: no majority answered for an election "
                 "timeout (cut off?); writes and linearizable reads are refused (UNAVAILABLE) "
                 "until a leader is known", (unsigned long long)term);
    } else if (leader != CONSENSUS_NONE || term != rep->term_seen)
        rep->quorum_lost = false;
    rep->role_seen = role;
    rep->term_seen = term;
    server_route_wake(n);
}

/* The term of the restored snapshot's last entry: recorded in it (the cluster then makes the
   log agree), or, for a format 1 file, the WAL's snapshot point or an entry the WAL still
   holds. -1 when none of these (a format 1 install cut short). */
static int snapshot_term(const struct server_node *n, uint64_t *term)
{
    uint64_t index, t;
    *term = kv_sm_log_term(n->sm);
    if (*term != 0 || n->snapshot_index == 0)
        return 0;
    wal_snapshot_point(n->wal, &index, &t);
    if (n->snapshot_index == 0 || index == n->snapshot_index) {
        *term = n->snapshot_index ? t : 0;
        return 0;
    }
    if (n->snapshot_index > index && wal_term_at(n->wal, n->snapshot_index, term) == 0)
        return 0;
    log_error("snapshot %llu is not covered by the log (which ends at %llu): an install was cut "
              "short; remove the newest snapshot file in %s to start from the one before",
              (unsigned long long)n->snapshot_index, (unsigned long long)wal_last_index(n->wal),
              n->cfg->data_dir);
    return -1;
}

/*
 * A data directory written by standalone mode opens as a 1-node cluster: standalone logs every
 * entry in term 1 and never saves a term, which a cluster reads as a log ahead of its term.
 * The saved term is raised to the log's last one, with this node's vote; only in a 1-node
 * cluster, where no other node can have acted in those terms. 0 or -1.
 */
static int adopt_standalone_log(struct server_node *n)
{
    struct wal_hard_state hs;
    uint64_t snap_index, snap_term, last = wal_last_index(n->wal), term;
    if (n->cfg->replica_count != 1)
        return 0;
    wal_hard_state_get(n->wal, &hs);
    wal_snapshot_point(n->wal, &snap_index, &snap_term);
    if (last <= snap_index)
        term = snap_term;
    else if (wal_term_at(n->wal, last, &term) != 0) {
        log_error("cannot read the term of log entry %llu: %s", (unsigned long long)last,
                  wal_last_error(n->wal));
        return -1;
    }
    if (hs.term >= term)
        return 0;
    hs.term = term;
    hs.voted_for = n->cfg->instance_index;
    if (wal_hard_state_save(n->wal, &hs) != 0) {
        log_error("cannot save the log's term: %s", wal_last_error(n->wal));
        return -1;
    }
    log_info("a log written in standalone mode (entries to %llu, term %llu): opened as a 1-node "
             "cluster", (unsigned long long)last, (unsigned long long)term);
    return 0;
}

static uint64_t rep_seed(void)
{
    uint64_t seed;
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
        seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    return seed;
}

static struct cluster_transport *open_transport(struct server_node *n, uint64_t seed)
{
    const struct server_config *cfg = n->cfg;
    struct cluster_net_config nc;
    cluster_net_config_default(&nc);
    nc.self = cfg->instance_index;
    nc.node_count = cfg->replica_count;
    for (uint32_t i = 0; i < cfg->replica_count; i++)
        nc.endpoints[i] = cfg->replica_endpoints[i];
    nc.secret = &n->rep->secret;
    nc.call_timeout_ms = cfg->peer_call_timeout_ms;
    nc.backoff_min_ms = REP_BACKOFF_MIN_MS;
    nc.backoff_max_ms = REP_BACKOFF_MAX_MS;
    nc.seed = seed;
    if (cfg->peer_tls_ca) {
        char err[NET_TLS_ERR_MAX];
        n->rep->peer_tls = net_tls_client_ctx(
            cfg->peer_tls_ca, cfg->peer_tls_cert ? cfg->peer_tls_cert : cfg->tls_cert,
            cfg->peer_tls_key ? cfg->peer_tls_key : cfg->tls_key, err, sizeof err);
        if (!n->rep->peer_tls) {
            log_error("peer TLS (peer_tls.ca, peer_tls.cert, peer_tls.key): %s", err);
            return NULL;
        }
        nc.tls = n->rep->peer_tls;
    }
    return cluster_net_new(n->base, &nc);
}

static int open_cluster(struct server_node *n, uint64_t term, uint64_t seed)
{
    const struct server_config *cfg = n->cfg;
    struct cluster_config cc;
    cluster_config_default(&cc);
    cc.id = cfg->instance_index;
    cc.node_count = cfg->replica_count;
    cc.election_timeout_ms = cfg->election_timeout_ms;
    cc.heartbeat_interval_ms = cfg->heartbeat_interval_ms;
    cc.seed = seed;
    cc.snapshot_every = cfg->snapshot_every_entries;
    cc.snapshot_catchup_entries = cfg->snapshot_catchup_entries;
    cc.applied_index = n->snapshot_index;
    cc.applied_term = term;
    struct consensus_membership conf;
    if (server_member_restored(n, &conf) != 0)
        return -1;
    cc.membership = &conf;
    cc.entry_bytes_max = cfg->max_frame_bytes + SERVER_ENTRY_SLACK;
    cc.incarnation = n->incarnation;
    cc.cluster_id = cfg->join_cluster_id;
    /* A follower's acks and a leader's appends overlap the sync on its thread; a 1-node
       cluster has no one to overlap with: it syncs in its ready turn, once a loop iteration, as
       standalone's commit does, with no thread hand-off per group (bench/RESULTS.md, issue 15
       item 2). */
    cc.sync_background = cfg->fsync == SERVER_FSYNC_ALWAYS && cfg->replica_count > 1;
    struct cluster_callbacks cb = {
        .apply = rep_apply,
        .membership = server_member_applied,
        .snap = {.begin = rep_snapshot_begin, .open = rep_snap_open, .read = rep_snap_read,
                 .close = rep_snap_close, .recv_begin = rep_recv_begin,
                 .recv_write = rep_recv_write, .recv_sync = rep_recv_sync,
                 .recv_abort = rep_recv_abort, .recv_membership = server_member_recv,
                 .install = rep_install,
                 .installed = rep_installed},
        .role_changed = rep_role_changed,
        .ctx = n,
    };
    int rc = cluster_node_open(&cc, n->base, n->wal, n->rep->tp, &cb, &n->rep->cluster);
    if (rc != 0)
        log_error("cannot start the cluster: %s", cluster_strerror(rc));
    /* The identity file names the cluster once bound (checked before anything opened); the
       log holds it too, should that write not have been made. */
    return rc == 0 ? server_member_cluster_check(n, cluster_membership(n->rep->cluster)->cluster_id)
                   : -1;
}

int server_rep_open(struct server_node *n)
{
    const struct server_config *cfg = n->cfg;
    _Static_assert(SERVER_SECRET_BYTES_MIN >= CLUSTER_SECRET_BYTES_MIN, "secret bounds");
    _Static_assert(SERVER_SECRET_BYTES_MAX <= CLUSTER_SECRET_BYTES_MAX, "secret bounds");
    n->rep = calloc(1, sizeof *n->rep);
    if (!n->rep)
        return -1;
    n->rep->node = n;
    n->rep->leader_seen = CONSENSUS_NONE;
    uint64_t term, seed = rep_seed();
    if (cluster_secret_set(&n->rep->secret, cfg->cluster_secret, strlen(cfg->cluster_secret)) ||
        adopt_standalone_log(n) != 0 || snapshot_term(n, &term) != 0)
        return -1;
    n->rep->tp = open_transport(n, seed);
    if (!n->rep->tp || open_cluster(n, term, seed) != 0 || server_route_start(n) != 0)
        return -1;
    log_info("replicated: member %u (%u members), seed %llu, snapshot %llu (term %llu)",
             cfg->instance_index, server_membership(n)->count, (unsigned long long)seed,
             (unsigned long long)n->snapshot_index, (unsigned long long)term);
    return 0;
}

void server_rep_close(struct server_node *n)
{
    struct server_rep *rep = n->rep;
    if (!rep)
        return;
    server_route_stop(n);
    cluster_node_close(rep->cluster);
    cluster_transport_free(rep->tp);
    net_tls_ctx_free(rep->peer_tls);
    assert(rep->route_count == 0);
    server_route_free_spares(n);
    memset(&rep->secret, 0, sizeof rep->secret);
    free(rep);
    n->rep = NULL;
}
