/* server_snap.h: snapshots in data_dir: take the newest, restore it at start. */
#ifndef SERVER_SNAP_H
#define SERVER_SNAP_H

#include "server_node.h"

/* Files are data_dir/snapshot-<20-digit applied index>.kvsnap, written by kv_sm_save_file
   (temp file, fsync, rename, directory fsync); standalone keeps only the newest, replicated
   mode the newest and the one before (an install cut short restarts from it).
   Snapshots are written by a forked child (server_snap_child.c) that sees the store as it was
   at the fork (copy-on-write) while the loop goes on; the parent learns the outcome through a
   pipe the child closes when it exits, then compacts the log below the snapshot. */
#define SERVER_SNAP_PREFIX "snapshot-"
#define SERVER_SNAP_SUFFIX ".kvsnap"
#define SERVER_SNAP_DIGITS 20u

/* Parses a snapshot file name; false for any other name (temp files included). */
bool server_snap_name_parse(const char *name, uint64_t *index);

/* At start, before the log is replayed: restores the newest snapshot in data_dir (if any)
   into n->sm and sets n->snapshot_index. A snapshot that cannot be read or is corrupt refuses
   the start (logged, naming the file): -1. */
int server_snap_restore(struct server_node *n);

/* Writes a snapshot of the state at its applied version on the loop (an installed leader's
   snapshot), sets n->snapshot_index and removes the snapshot files older than keep_from.
   A running child is stopped first. 0, or -1 (logged; nothing changed). */
int server_snap_save(struct server_node *n, uint64_t keep_from);

/* After a commit turn (standalone): starts a background snapshot when one is due (the rule
   is server_snap_due's) and none is running. Failures are logged and retried after
   SERVER_SNAP_RETRY_MS; the log stays whole until a snapshot succeeds. */
void server_snap_maybe(struct server_node *n);

/* The rest of the rule (its first part, snapshot_every_entries applied entries since the
   last snapshot, is the caller's): the log written since the last snapshot is at least
   storage.snapshot_log_min_bytes and at least storage.snapshot_log_growth_percent of that
   snapshot's size, no child runs and no retry waits. */
bool server_snap_due(struct server_node *n);

/* Forks the child that writes the snapshot of the state at (index, term) (index is the
   applied version). 0 when it runs, -1 (logged) when it could not start. */
int server_snap_begin(struct server_node *n, uint64_t index, uint64_t term);
bool server_snap_running(const struct server_node *n);
/* Kills a running child, reaps it and removes its temp file (no retry is scheduled). */
void server_snap_cancel(struct server_node *n);
/* At close: cancels the child and frees the snapshot state. */
void server_snap_close(struct server_node *n);

/* Replicated mode's shipping: up to cap bytes at offset of the snapshot file at index; *got
   (0 only past the end) and *total, its size. -1 when that snapshot is gone. */
int server_snap_read(const struct server_node *n, uint64_t index, uint64_t offset, uint8_t *buf,
                     size_t cap, size_t *got, uint64_t *total);

#endif
