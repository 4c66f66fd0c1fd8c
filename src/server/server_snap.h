/* server_snap.h: snapshots in data_dir: take the newest, restore it at start. */
#ifndef SERVER_SNAP_H
#define SERVER_SNAP_H

#include "server_node.h"

/* Files are data_dir/snapshot-<20-digit applied index>.kvsnap, written by kv_sm_save_file
   (temp file, fsync, rename, directory fsync), or received from the leader as
   snapshot-<index>.kvsnap.recv and renamed once installed (server_snap_ship.c). Only the
   newest stays: its header records the log term of its index, so a replicated node whose
   install was cut short restarts from it (the cluster restarts the log after it).
   Snapshots are written by the loop itself in bounded steps at a pinned version (the store
   keeps every version visible there until the last step) while it goes on serving, and
   synced and renamed on a thread (server_snap_write.c); then the log is compacted below. */
#define SERVER_SNAP_PREFIX "snapshot-"
#define SERVER_SNAP_SUFFIX ".kvsnap"
#define SERVER_SNAP_DIGITS 20u
#define SERVER_SNAP_RECV_SUFFIX ".recv"


/* Parses a snapshot file name; false for any other name (temp files included). */
bool server_snap_name_parse(const char *name, uint64_t *index);

/* At start, before the log is replayed: restores the newest snapshot in data_dir (if any)
   into n->sm and sets n->snapshot_index. A snapshot that cannot be read or is corrupt refuses
   the start (logged, naming the file): -1. */
int server_snap_restore(struct server_node *n);

/* After a commit turn (standalone): starts a background snapshot when one is due (the rule
   is server_snap_due's) and none is running. Failures are logged and retried after
   SERVER_SNAP_RETRY_MS; the log stays whole until a snapshot succeeds. */
void server_snap_maybe(struct server_node *n);

/* The rest of the rule (its first part, snapshot_every_entries applied entries since the
   last snapshot, is the caller's): the log written since the last snapshot is at least
   storage.snapshot_log_min_bytes and at least storage.snapshot_log_growth_percent of that
   snapshot's size, no snapshot is being written and no retry waits. */
bool server_snap_due(struct server_node *n);

/* Starts writing the snapshot of the state at (index, term) (index is the
   applied version). 0 when it runs, -1 (logged) when it could not start. */
int server_snap_begin(struct server_node *n, uint64_t index, uint64_t term);
bool server_snap_running(const struct server_node *n);
/* Stops a snapshot being written (waiting for its sync if one runs) and removes its temp
   file (no retry is scheduled). */
void server_snap_cancel(struct server_node *n);
/* At close: cancels a snapshot and frees the snapshot state. */
void server_snap_close(struct server_node *n);

/* Replicated mode's shipping (server_snap_ship.c), behind the cluster's snapshot ops. Out: the
   snapshot file at index, open (it stays readable once a newer one replaces it), read and
   closed. In: a temp file written in order, synced, then installed: the state is replaced
   from it and it becomes the newest snapshot; once the log restarted after it, installed()
   removes the older ones. Failures are logged; NULL or -1. */
void *server_snap_open(struct server_node *n, uint64_t index, uint64_t *size);
int server_snap_pread(void *snap, uint64_t offset, uint8_t *buf, size_t len);
void server_snap_close_src(void *snap);
void *server_snap_recv_begin(struct server_node *n, uint64_t index, uint64_t term, uint64_t size);
int server_snap_recv_write(void *recv, uint64_t offset, const uint8_t *data, size_t len);
int server_snap_recv_sync(void *recv);
void server_snap_recv_abort(void *recv);
/* The last min(cap, size) bytes of a whole received file (server_member.c reads the
   membership there); 0 with *len, or -1 (logged). */
int server_snap_recv_tail(void *recv, uint8_t *buf, size_t cap, size_t *len);
int server_snap_install(void *recv);
void server_snap_installed(struct server_node *n, uint64_t index);

#endif
