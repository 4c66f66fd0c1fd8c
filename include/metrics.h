/* metrics.h: the process's counters and latency histograms, bumped cheaply from any thread. */
#ifndef UTIL_METRICS_H
#define UTIL_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

/*
 * One node per process, so the registry is the process's (as in every Prometheus client
 * library). Every value is a relaxed atomic: the loop thread, the WAL's sync thread and its
 * filler bump them without locks, and a scrape reads each one on its own (a scrape is not a
 * snapshot across metrics, which Prometheus does not expect either). Names (after the
 * kvstore_ prefix) and help texts travel with the ids; src/server/http_metrics.c writes the
 * exposition; every metric is listed in HACKING.md.
 */
#define METRICS_COUNTERS(X)                                                                 \
    X(METRIC_NET_RECEIVED_BYTES, "net_received_bytes_total",                                \
      "Bytes of whole messages received on the Thrift port (frame headers excluded)")       \
    X(METRIC_NET_SENT_BYTES, "net_sent_bytes_total",                                        \
      "Bytes of replies queued on the Thrift port (frame headers excluded)")                \
    X(METRIC_CONN_ACCEPTED, "connections_accepted_total",                                   \
      "Connections accepted on the Thrift port")                                            \
    X(METRIC_CONN_REFUSED, "connections_refused_total",                                     \
      "Connections refused on the Thrift port (over the limit, draining, or failed TLS)")   \
    X(METRIC_LEADER_CHANGES, "consensus_leader_changes_total",                              \
      "Times this node saw the leader change (to another node or to none)")                 \
    X(METRIC_PROPOSALS_COMMITTED, "consensus_proposals_committed_total",                    \
      "Writes this node proposed as leader that were committed and applied")                \
    X(METRIC_PROPOSALS_FAILED, "consensus_proposals_failed_total",                          \
      "Writes this node proposed that failed (lost leadership, busy, timeout, I/O)")        \
    X(METRIC_READ_INDEX_WAITS, "consensus_read_index_waits_total",                          \
      "Linearizable reads that waited for a read index round")                              \
    X(METRIC_WAL_WRITTEN_BYTES, "wal_written_bytes_total",                                  \
      "Bytes of log records (headers included) appended to the WAL")                       \
    X(METRIC_WAL_SEGMENTS_CREATED, "wal_segments_created_total",                            \
      "WAL segment files created")                                                          \
    X(METRIC_SNAPSHOTS, "snapshots_total", "Snapshots written successfully")                \
    X(METRIC_SNAPSHOT_FAILURES, "snapshot_failures_total", "Snapshots that failed")        \
    X(METRIC_SNAPSHOT_SENT_BYTES, "snapshot_sent_bytes_total",                              \
      "Snapshot bytes sent to lagging followers")                                           \
    X(METRIC_SNAPSHOT_RECEIVED_BYTES, "snapshot_received_bytes_total",                      \
      "Snapshot bytes received from the leader")                                            \
    X(METRIC_WATCH_EVENTS, "watch_events_total", "Changes sent to watches")                 \
    X(METRIC_PEER_REPLIES_UNMATCHED, "peer_replies_unmatched_total",                        \
      "Replies from peers that matched no call in flight (late, or never asked): refused")

enum metric_counter {
#define METRIC_COUNTER_ENUM(id, name, help) id,
    METRICS_COUNTERS(METRIC_COUNTER_ENUM)
#undef METRIC_COUNTER_ENUM
    METRIC_COUNTER_COUNT
};

#define METRICS_HISTOGRAMS(X)                                                               \
    X(METRIC_APPEND_RTT, "consensus_append_rtt_seconds",                                    \
      "Round trip of appendEntry calls to followers, sent to answered")                     \
    X(METRIC_READ_INDEX_WAIT, "consensus_read_index_wait_seconds",                          \
      "How long linearizable reads waited for their read index")                            \
    X(METRIC_WAL_FSYNC, "wal_fsync_duration_seconds",                                       \
      "fdatasync of the WAL (group commit), on whichever thread ran it")                    \
    X(METRIC_SNAPSHOT_DURATION, "snapshot_duration_seconds",                                \
      "Time to write a snapshot (pin to durable file)")

enum metric_histogram {
#define METRIC_HISTOGRAM_ENUM(id, name, help) id,
    METRICS_HISTOGRAMS(METRIC_HISTOGRAM_ENUM)
#undef METRIC_HISTOGRAM_ENUM
    METRIC_HISTOGRAM_COUNT
};

/* Upper bounds of the latency buckets in ns (+Inf is the count): 25 us to 10 s. */
#define METRICS_BUCKETS 18
extern const uint64_t metrics_bucket_ns[METRICS_BUCKETS];

struct metrics_hist {
    _Atomic uint64_t bucket[METRICS_BUCKETS]; /* not cumulative: one bucket per observation */
    _Atomic uint64_t count;
    _Atomic uint64_t sum_ns;
};

/* A histogram's counts read once (cumulative buckets, as the exposition wants them). */
struct metrics_hist_snap {
    uint64_t cumulative[METRICS_BUCKETS];
    uint64_t count;
    uint64_t sum_ns;
};

void metrics_count(enum metric_counter c, uint64_t n);
uint64_t metrics_counter_get(enum metric_counter c);
void metrics_observe_ns(enum metric_histogram h, uint64_t ns);
void metrics_histogram_get(enum metric_histogram h, struct metrics_hist_snap *out);

/* Histograms kept by their owners (per method, per peer) use the same buckets. */
void metrics_hist_observe(struct metrics_hist *h, uint64_t ns);
void metrics_hist_read(const struct metrics_hist *h, struct metrics_hist_snap *out);
/* The q-quantile (0..1) of the observations between two reads (later minus earlier), as the
   upper bound of its bucket in ns; 0 when none fell between them. */
uint64_t metrics_hist_quantile_ns(const struct metrics_hist_snap *later,
                                  const struct metrics_hist_snap *earlier, double q);

/* CLOCK_MONOTONIC in ns, for timing what is observed. */
uint64_t metrics_now_ns(void);

#endif
