/* cluster_fixture.h: N cluster_nodes in one process (bus or TCP), a hashing state machine, waits. */
#ifndef CLUSTER_FIXTURE_H
#define CLUSTER_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster.h"
#include "cluster_auth.h"
#include "cluster_bus.h"
#include "cluster_transport.h"

struct fixture;

/* Nodes in one fixture (ids 0..n-1). */
#define FX_NODES_MAX 7u

struct fx_node {
    struct fixture *fx;
    uint32_t id;
    char dir[256];
    struct wal *wal;
    struct cluster_transport *tp;
    struct cluster_node *node;
    struct fx_listener *listener; /* TCP mode */
    const struct sio *io;         /* the WAL's storage seam (util/sio.h); NULL: the real calls */
    uint64_t applied;
    uint64_t applied_term;
    uint64_t *digests; /* digests[i]: the state after applying index i */
    uint64_t digests_cap;
    uint64_t snapshots_taken;
    uint64_t snapshots_restored;
    /* Its newest snapshot (fx_snap.c), kept across a close like its WAL. */
    uint8_t *snap_data;
    size_t snap_len;
    uint64_t snap_index;
    uint64_t snap_term;
    uint64_t snap_opens;   /* transfers of it started */
    uint64_t recv_begun;   /* received snapshots begun */
    uint64_t recv_aborted; /* ... and dropped (not installed) */
    uint64_t member_index; /* the last committed membership change applied here, at */
    struct consensus_membership members;
};

enum fx_mode { FX_BUS, FX_TCP };

struct fx_proposal;

struct fixture {
    struct event_base *base;
    enum fx_mode mode;
    struct cluster_bus *bus;
    uint32_t n;
    uint64_t seed;
    uint64_t snapshot_every;
    uint64_t snapshot_catchup_entries;
    size_t snapshot_bytes; /* the size of every snapshot (at least its 24-byte header) */
    bool sync_in_batch; /* the leader syncs in its batch, not in the background */
    uint32_t fsync_interval_ms; /* 0: storage.fsync always; else storage.fsync N ms */
    uint32_t voters; /* a new cluster's voters 0..voters-1 (0: all n) */
    bool joining[FX_NODES_MAX]; /* opens knowing no membership: waits to be added */
    char root[200];
    struct cluster_secret secret;
    char endpoints[FX_NODES_MAX][64];
    struct fx_node nodes[FX_NODES_MAX];
    struct fx_proposal *props; /* fx_propose_n's proposals while it waits for them */
    uint32_t prop_count;
};

/* A fresh cluster directory and event base; nodes are not open yet. Prints the seed. */
void fx_init(struct fixture *fx, enum fx_mode mode, uint32_t n, const char *test_name);
void fx_open(struct fixture *fx, uint32_t id);
void fx_open_all(struct fixture *fx);
/* Closes the node (its WAL stays on disk for a restart). */
void fx_close(struct fixture *fx, uint32_t id);
void fx_fini(struct fixture *fx);

/* Drives the loop until cond holds or timeout_ms passes; returns whether it held. */
bool fx_wait(struct fixture *fx, bool (*cond)(struct fixture *fx, void *arg), void *arg,
             int timeout_ms);
/* The one open leader of the highest term, or -1. */
int fx_leader(struct fixture *fx);
/* Waits for a leader; fails the test after timeout_ms. */
uint32_t fx_wait_leader(struct fixture *fx, int timeout_ms);
/* Proposes count entries on node id and waits until all are done; returns how many succeeded. */
uint32_t fx_propose_n(struct fixture *fx, uint32_t id, uint32_t count, int timeout_ms);
/* Waits until every open node applied at least index. */
bool fx_wait_applied(struct fixture *fx, uint64_t index, int timeout_ms);
/* Asserts every open node holds the same state at the lowest applied index among them. */
void fx_check_same(struct fixture *fx);
/* Cuts node id off (both ways) from every other node, or heals it. */
void fx_isolate(struct fixture *fx, uint32_t id, bool cut);
/* The state machine's digest after index (what a snapshot carries). */
void fx_record(struct fx_node *fn, uint64_t index, uint64_t digest);

#endif
