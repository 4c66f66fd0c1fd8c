/* server_snap.h: snapshots in data_dir: take the newest, restore it at start. */
#ifndef SERVER_SNAP_H
#define SERVER_SNAP_H

#include "server_node.h"

/* Files are data_dir/snapshot-<20-digit applied index>.kvsnap, written by kv_sm_save_file
   (temp file, fsync, rename, directory fsync); only the newest is kept. */
#define SERVER_SNAP_PREFIX "snapshot-"
#define SERVER_SNAP_SUFFIX ".kvsnap"
#define SERVER_SNAP_DIGITS 20u

/* Parses a snapshot file name; false for any other name (temp files included). */
bool server_snap_name_parse(const char *name, uint64_t *index);

/* At start, before the log is replayed: restores the newest snapshot in data_dir (if any)
   into n->sm and sets n->snapshot_index. A snapshot that cannot be read or is corrupt refuses
   the start (logged, naming the file): -1. */
int server_snap_restore(struct server_node *n);

/* Writes a snapshot of the state at its applied version, sets n->snapshot_index and removes
   the snapshot files older than keep_from. 0, or -1 (logged; nothing changed). */
int server_snap_save(struct server_node *n, uint64_t keep_from);

/* After a commit turn: writes a snapshot when snapshot_every_entries entries were applied
   since the last one, deletes older snapshots and compacts the log below it. Failures are
   logged and leave the log whole (the next attempt comes after as many entries again). */
void server_snap_maybe(struct server_node *n);

#endif
