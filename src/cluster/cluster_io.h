/* cluster_io.h: the driver's I/O seam: its log, the log's syncs, its clock, its tick and turns. */
#ifndef CLUSTER_IO_H
#define CLUSTER_IO_H

#include <stdbool.h>
#include <stdint.h>

#include "consensus.h"

/*
 * Everything a cluster_node does to the world apart from its peers (cluster_transport.h) and
 * the server's snapshots (cluster.h's cluster_snapshot_ops) goes through one cluster_io, in the
 * spirit of canonical/raft's raft_io. Two implementations: cluster_io_wal.h (the WAL, a sync
 * thread, the monotonic clock and libevent: production) and the simulator's (tests/dsim: a
 * simulated disk and simulated time, so the real driver runs deterministically).
 *
 * The io calls the driver back only through the three cluster_io_* entry points below, and
 * never from inside one of its own ops: a tick when the timer fires, a turn some time after
 * schedule(), the end of a background sync. Every op and callback runs on the loop thread.
 * Log indexes and terms are the WAL's (wal.h): last_index is the snapshot point when the log
 * is empty; 0 or CLUSTER_ERR_IO from each op that can fail (last_error says why).
 */
struct cluster_io;
struct cluster_node;

/* One recovered entry (data valid during the call): 0 to go on, else that error stops it. */
typedef int (*cluster_io_entry_fn)(void *ctx, uint64_t index, uint64_t term, const uint8_t *data,
                                   uint32_t len);

struct cluster_io_ops {
    /* ---- the log */
    uint64_t (*last_index)(const struct cluster_io *io);
    uint64_t (*durable_index)(const struct cluster_io *io); /* synced up to here */
    int (*term_at)(const struct cluster_io *io, uint64_t index, uint64_t *term);
    /* Where the log starts: the entry before its first (0, 0 for a new log). */
    void (*snapshot_point)(const struct cluster_io *io, uint64_t *index, uint64_t *term);
    /* Every entry from `from` to `to` (at most the last), in order (payloads at most
       payload_max): recovery, and entries the core released (consensus_release) read back
       for an append. */
    int (*load)(struct cluster_io *io, uint64_t from, uint64_t to, uint32_t payload_max,
                cluster_io_entry_fn each, void *ctx);
    /* Written, not synced; index is at most last + 1 (truncate_suffix first otherwise). */
    int (*append)(struct cluster_io *io, uint64_t index, uint64_t term, const void *data,
                  uint32_t len);
    int (*truncate_suffix)(struct cluster_io *io, uint64_t from); /* drops from..last */
    int (*reset)(struct cluster_io *io, uint64_t index, uint64_t term); /* empty, after index */
    int (*compact)(struct cluster_io *io, uint64_t index, uint64_t term); /* drops ..index */
    /* The hard state: load gives what was last saved ({0, CONSENSUS_NONE} when new); save is
       durable before it returns. */
    void (*hard_state_load)(const struct cluster_io *io, struct consensus_hard_state *out);
    int (*hard_state_save)(struct cluster_io *io, const struct consensus_hard_state *hs);
    const char *(*last_error)(const struct cluster_io *io);

    /* ---- syncs: one in the batch (sync_due), or one in the background at a time */
    /* Syncs what was written, now or when the storage's fsync policy says it is due. */
    int (*sync_due)(struct cluster_io *io);
    /* Starts a background sync of everything written so far; its end comes through
       cluster_io_synced. Only for a node opened with cluster_config.sync_background. */
    int (*sync_start)(struct cluster_io *io);
    bool (*sync_in_flight)(const struct cluster_io *io);
    /* Ends the background sync in flight now, if any (blocking until it is done); its
       outcome is this result, and cluster_io_synced is not called for it. */
    int (*sync_wait)(struct cluster_io *io);

    /* ---- time and turns */
    int64_t (*now_ms)(const struct cluster_io *io); /* monotonic */
    /* Calls cluster_io_tick every ms from now on (until tick_stop). */
    int (*tick_start)(struct cluster_io *io, uint32_t ms);
    void (*tick_stop)(struct cluster_io *io);
    /* Asks for one cluster_io_turn soon, never from inside this call; several asks before it
       runs make one turn. */
    void (*schedule)(struct cluster_io *io);
};

struct cluster_io {
    const struct cluster_io_ops *ops;
    struct cluster_node *node; /* bound while a node uses it (cluster_node_open_io) */
};

/* The driver's entry points, for an io only. */
void cluster_io_tick(struct cluster_node *n);
void cluster_io_turn(struct cluster_node *n);
/* The background sync that sync_start began ended: ok (durable_index tells how far), or it
   failed (the node fails). */
void cluster_io_synced(struct cluster_node *n, bool ok);

#endif
