/* http_metrics.c: GET /metrics: the Prometheus text format (0.0.4) of the node: requests,
   network, consensus, WAL, snapshots, store and process. */
#include "http_internal.h"

#include "server_health.h"
#include "server_rep.h"
#include "server_snap_internal.h"
#include "server_request.h"
#include "server_stats.h"
#include "server_watch.h"

#include <dirent.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define P "kvstore_"

static void head(struct evbuffer *o, const char *name, const char *type, const char *help)
{
    evbuffer_add_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(struct evbuffer *o, const char *name, const char *type, const char *help,
                double v)
{
    head(o, name, type, help);
    evbuffer_add_printf(o, "%s %.17g\n", name, v);
}

/* The sample lines of one histogram; labels is "" or `k="v",`. */
static void hist_lines(struct evbuffer *o, const char *name, const char *labels,
                       const struct metrics_hist_snap *s)
{
    for (int i = 0; i < METRICS_BUCKETS; i++)
        evbuffer_add_printf(o, "%s_bucket{%sle=\"%g\"} %llu\n", name, labels,
                            (double)metrics_bucket_ns[i] / 1e9,
                            (unsigned long long)s->cumulative[i]);
    evbuffer_add_printf(o, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, labels,
                        (unsigned long long)s->count);
    size_t n = strlen(labels);
    /* _sum and _count take the labels without the trailing comma. */
    evbuffer_add_printf(o, "%s_sum%s%.*s%s %.9f\n", name, n ? "{" : "", n ? (int)n - 1 : 0,
                        labels, n ? "}" : "", (double)s->sum_ns / 1e9);
    evbuffer_add_printf(o, "%s_count%s%.*s%s %llu\n", name, n ? "{" : "", n ? (int)n - 1 : 0,
                        labels, n ? "}" : "", (unsigned long long)s->count);
}

static void write_registry(struct evbuffer *o)
{
    char name[128];
#define COUNTER_OUT(id, nm, help)                                                      \
    snprintf(name, sizeof name, P "%s", nm);                                           \
    one(o, name, "counter", help, (double)metrics_counter_get(id));
    METRICS_COUNTERS(COUNTER_OUT)
#undef COUNTER_OUT
    struct metrics_hist_snap s;
#define HIST_OUT(id, nm, help)                                                         \
    snprintf(name, sizeof name, P "%s", nm);                                           \
    head(o, name, "histogram", help);                                                  \
    metrics_histogram_get(id, &s);                                                     \
    hist_lines(o, name, "", &s);
    METRICS_HISTOGRAMS(HIST_OUT)
#undef HIST_OUT
}

static const char *code_name(int code)
{
    return code == SERVER_STATS_EXCEPTION ? "EXCEPTION" : server_error_text(code);
}

static void write_requests(const struct server_stats *st, struct evbuffer *o)
{
    head(o, P "requests_total", "counter",
         "Calls answered, by method and result code (EXCEPTION: a TApplicationException)");
    for (int m = 0; m < TransactionalKV_METHOD_COUNT; m++)
        for (int c = 0; c <= SERVER_STATS_CODES; c++)
            if (st->method[m].by_code[c] || (c == 0 && !TransactionalKV_methods[m].oneway))
                evbuffer_add_printf(o, P "requests_total{method=\"%s\",code=\"%s\"} %llu\n",
                                    TransactionalKV_methods[m].name, code_name(c),
                                    (unsigned long long)st->method[m].by_code[c]);
    head(o, P "request_duration_seconds", "histogram",
         "Time from a whole request read to its reply queued, by method");
    for (int m = 0; m < TransactionalKV_METHOD_COUNT; m++) {
        char labels[96];
        struct metrics_hist_snap s;
        snprintf(labels, sizeof labels, "method=\"%s\",", TransactionalKV_methods[m].name);
        metrics_hist_read(&st->method[m].latency, &s);
        if (s.count > 0) /* 21 lines each: only for methods called */
            hist_lines(o, P "request_duration_seconds", labels, &s);
    }
}

static void write_peers(const struct cluster_status *cs, struct evbuffer *o)
{
    static const struct {
        const char *name, *type, *help;
    } h[] = {
        {P "consensus_peer_match_index", "gauge",
         "Leader only: the last log index known to match on the peer"},
        {P "consensus_peer_lag_entries", "gauge",
         "Leader only: entries the peer's log is behind the leader's last index"},
        {P "consensus_peer_reachable", "gauge",
         "1 when the peer was heard from within the election timeout"},
        {P "consensus_peer_last_contact_seconds", "gauge",
         "Since the peer was last heard from (-1: never)"},
        {P "snapshot_transfer_sent_bytes", "gauge",
         "Leader only: bytes of the snapshot under way to the peer it acknowledged (0: none)"},
        {P "snapshot_transfer_size_bytes", "gauge",
         "Leader only: size of the snapshot under way to the peer (0: none)"},
    };
    bool leader = cs->role == CONSENSUS_LEADER;
    for (size_t k = 0; k < sizeof h / sizeof h[0]; k++) {
        head(o, h[k].name, h[k].type, h[k].help);
        for (uint32_t j = 0; j < cs->peer_count; j++) {
            const struct cluster_peer_status *p = &cs->peers[j];
            uint32_t i = p->id;
            if (i == cs->id)
                continue;
            uint64_t lag = leader && cs->last_index > p->match_index
                               ? cs->last_index - p->match_index : 0;
            bool sending = leader && p->snapshot_sending;
            double v = k == 0   ? (double)(leader ? p->match_index : 0)
                       : k == 1 ? (double)lag
                       : k == 2 ? (double)p->reachable
                       : k == 3 ? (p->last_contact_ms < 0 ? -1.0 : p->last_contact_ms / 1e3)
                       : k == 4 ? (sending ? (double)p->snapshot_sent : 0.0)
                                : (sending ? (double)p->snapshot_bytes : 0.0);
            evbuffer_add_printf(o, "%s{peer=\"%u\"} %.17g\n", h[k].name, i, v);
        }
    }
}

/* Leader only: how it replicates to each peer, one series per state (as consensus_role). */
static void write_peer_states(const struct cluster_status *cs, struct evbuffer *o)
{
    bool leader = cs->role == CONSENSUS_LEADER;
    head(o, P "consensus_peer_replication_state", "gauge",
         "Leader only: 1 for how it replicates to the peer (probe: finding where the logs match, "
         "replicate: streaming entries, snapshot: sending a snapshot), 0 for the others");
    for (uint32_t j = 0; j < cs->peer_count; j++) {
        const struct cluster_peer_status *p = &cs->peers[j];
        uint32_t i = p->id;
        for (int st = CONSENSUS_PROGRESS_PROBE; i != cs->id && st <= CONSENSUS_PROGRESS_SNAPSHOT;
             st++) {
            const char *name = consensus_progress_state_name((enum consensus_progress_state)st);
            bool on = leader && p->has_progress && (int)p->progress.state == st;
            evbuffer_add_printf(o, "%s{peer=\"%u\",state=\"%s\"} %d\n",
                                P "consensus_peer_replication_state", i, name, on);
        }
    }
}

static void write_consensus(const struct server_node *n, struct evbuffer *o)
{
    struct server_health hl;
    server_health_get(n, &hl);
    struct cluster_status cs = {.peer_count = 1, .role = CONSENSUS_LEADER, .term = 1,
                                .commit_index = hl.commit_index,
                                .applied_index = hl.applied_index,
                                .last_index = wal_last_index(n->wal),
                                .snapshot_index = n->snapshot_index};
    bool standalone = !(n->rep && n->rep->cluster);
    if (!standalone)
        cluster_status(n->rep->cluster, &cs);
    one(o, P "consensus_term", "gauge", "Current term", (double)cs.term);
    head(o, P "consensus_role", "gauge", "1 for this node's role, 0 for the others");
    static const char *const roles[] = {"follower", "candidate", "leader", "pre_candidate",
                                        "standalone"};
    int role = standalone ? 4 : (int)cs.role;
    for (int r = 0; r < 5; r++)
        evbuffer_add_printf(o, P "consensus_role{role=\"%s\"} %d\n", roles[r], r == role);
    one(o, P "consensus_has_leader", "gauge", "1 when a leader is known",
        hl.leader != CONSENSUS_NONE);
    one(o, P "consensus_leader_id", "gauge", "The leader's node id (-1: none known)",
        hl.leader == CONSENSUS_NONE ? -1.0 : (double)hl.leader);
    one(o, P "consensus_commit_index", "gauge", "Highest log index known committed",
        (double)cs.commit_index);
    one(o, P "consensus_applied_index", "gauge", "Highest log index applied to the store",
        (double)cs.applied_index);
    one(o, P "consensus_last_log_index", "gauge", "Last index in this node's log",
        (double)cs.last_index);
    one(o, P "node_healthy", "gauge", "1 when GET /health answers 200", hl.healthy);
    one(o, P "node_ready", "gauge", "1 when GET /ready answers 200", hl.ready);
    one(o, P "node_failed", "gauge", "1 when storage failed and the node refuses everything",
        hl.failed);
    if (!standalone) {
        write_peers(&cs, o);
        write_peer_states(&cs, o);
    }
}

/* Client sessions (kv_session.h): the table, and what it did since the node started. */
static void write_sessions(const struct server_node *n, struct evbuffer *o)
{
    struct kv_sm_session_stats st;
    kv_sm_session_stats(n->sm, &st);
    one(o, P "sessions", "gauge", "Client sessions open (exactly-once writes)", (double)st.open);
    one(o, P "session_results", "gauge", "Write answers the session table keeps for retries",
        (double)st.results);
    one(o, P "session_bytes", "gauge", "Heap bytes the session table holds", (double)st.bytes);
    one(o, P "session_duplicates_total", "counter",
        "Retried writes answered from the session table instead of applied again",
        (double)st.duplicates);
    one(o, P "sessions_expired_total", "counter",
        "Sessions that expired after their idle timeout (log time)", (double)st.expired);
    one(o, P "sessions_evicted_total", "counter",
        "Sessions pushed out by a newer one at the table's limit", (double)st.evicted);
    one(o, P "watches", "gauge", "Watches waiting for a change (limits.max_watches)",
        (double)server_watch_count(n));
}

static void write_storage(const struct server_node *n, struct evbuffer *o)
{
    one(o, P "wal_segments", "gauge", "WAL segment files held",
        (double)wal_segment_count(n->wal));
    one(o, P "wal_log_bytes", "gauge", "Bytes of log records held in the WAL",
        (double)wal_log_bytes(n->wal));
    one(o, P "snapshot_index", "gauge", "Log index of the newest snapshot (0: none)",
        (double)n->snapshot_index);
    one(o, P "snapshot_size_bytes", "gauge", "Size of the newest snapshot file",
        n->snap ? (double)n->snap->snapshot_bytes : 0.0);
    struct kv_stats ks;
    kv_store_stats(server_store(n), &ks);
    one(o, P "store_keys", "gauge", "Keys with a value at the applied version",
        (double)ks.live_keys);
    one(o, P "store_bytes", "gauge", "Heap bytes the store holds", (double)ks.bytes);
    one(o, P "store_versions", "gauge", "Version records held (the MVCC window's history)",
        (double)ks.versions);
    one(o, P "mvcc_window_seconds", "gauge", "How long old versions stay readable",
        n->cfg->mvcc_window_ms / 1e3);
    one(o, P "connections", "gauge", "Open connections on the Thrift port (clients and peers)",
        n->net ? (double)net_server_connection_count(n->net) : 0.0);
}

/* The usual process_* metrics of Prometheus client libraries, from /proc/self. */
static void write_process(const struct server_node *n, struct evbuffer *o)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    one(o, "process_cpu_seconds_total", "counter", "User and system CPU time spent", cpu);
    long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        long size;
        if (fscanf(f, "%ld %ld", &size, &pages) != 2)
            pages = 0;
        fclose(f);
    }
    one(o, "process_resident_memory_bytes", "gauge", "Resident memory size",
        (double)pages * (double)sysconf(_SC_PAGESIZE));
    long fds = 0;
    DIR *d = opendir("/proc/self/fd");
    for (struct dirent *e; d && (e = readdir(d));)
        fds += e->d_name[0] != '.';
    if (d)
        closedir(d);
    one(o, "process_open_fds", "gauge", "Open file descriptors", (double)(fds > 0 ? fds - 1 : 0));
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        one(o, "process_max_fds", "gauge", "Limit of open file descriptors", (double)rl.rlim_cur);
    one(o, "process_start_time_seconds", "gauge", "Start time since the Unix epoch",
        (double)n->start_wall_s);
    head(o, P "build_info", "gauge", "Always 1; the labels say the version");
    evbuffer_add_printf(o, P "build_info{version=\"%s\"} 1\n", SERVER_VERSION);
}

int http_metrics_write(const struct server_node *n, struct evbuffer *out)
{
    write_registry(out);
    if (n->stats)
        write_requests(n->stats, out);
    write_consensus(n, out);
    write_storage(n, out);
    write_sessions(n, out);
    write_process(n, out);
    return 0;
}

void http_on_metrics(struct evhttp_request *req, void *arg)
{
    struct server_http *h = arg;
    struct evbuffer *out = evbuffer_new();
    if (!out || http_metrics_write(h->node, out) != 0) {
        evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
    } else {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                          "text/plain; version=0.0.4; charset=utf-8");
        evhttp_send_reply(req, HTTP_OK, "OK", out);
    }
    if (out)
        evbuffer_free(out);
}
