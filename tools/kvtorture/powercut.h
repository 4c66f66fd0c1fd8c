/* powercut.h: the undo logs that let kvtorture cut a node's power: what the LD_PRELOAD shim
   (powercut.c) writes and what kvtorture (powercut_cut.c) rolls back.
 *
 * The shim runs inside a kvnode. Before each write to a regular file under the node's data
 * dir it saves the bytes about to be overwritten to an undo log for that file (by inode), and
 * each fsync/fdatasync marks what the undo log holds up to its start as durable. A power cut
 * is then: SIGKILL the node, and for every file put back the bytes written since its last
 * sync and cut it to its size at that sync. What fsync made durable stays; nothing else does.
 * Directory entries (create, rename, unlink) and truncations count as durable at once: the cut
 * loses unsynced data, not unsynced metadata.
 *
 * One undo log a file: <undo dir>/<inode>.undo, a header then records:
 *     header: "KVTUNDO1", base_size u64, synced_upto u64   (native byte order)
 *     record: offset u64, len u32, then len bytes: what the file held there before a write
 * Records before synced_upto are void (made durable by a sync); the others are put back
 * newest first, then the file is cut to base_size (its size when the last sync began).
 */
#ifndef KVT_POWERCUT_H
#define KVT_POWERCUT_H

#include <stdint.h>
#include <stdio.h>

#define KVT_POWERCUT_MAGIC "KVTUNDO1"

struct kvt_undo_header {
    char magic[8];
    uint64_t base_size;
    uint64_t synced_upto;
};

struct kvt_undo_record {
    uint64_t offset;
    uint32_t len;
} __attribute__((packed));

/* The environment the shim reads (unset: it does nothing). */
#define KVT_POWERCUT_ENV_DIR "KVT_POWERCUT_DIR"          /* the data dir to watch */
#define KVT_POWERCUT_ENV_UNDO "KVT_POWERCUT_UNDO"        /* where undo logs go */
#define KVT_POWERCUT_ENV_SYNC_US "KVT_POWERCUT_SYNC_US"  /* most extra time a sync takes */
/* In the undo dir: a number that replaces KVT_POWERCUT_SYNC_US while it exists (re-read every
   20 ms), so kvtorture can slow one node's disk and not another's. */
#define KVT_POWERCUT_CTL_FILE "sync_us"

/* powercut_cut.c: after the node writing data_dir was SIGKILLed, puts back every write its
   files took since their last sync and empties undo_dir; 0, or -1 (said on err). */
struct kvt_powercut_stats {
    uint64_t bytes;              /* bytes put back or cut off */
    unsigned files;
};
int kvt_powercut_undo(const char *data_dir, const char *undo_dir, struct kvt_powercut_stats *st,
                      FILE *err);
/* Each sync of the node with this undo dir is slowed by up to sync_us from now on (until the
   dir is cleared); 0 or -1. */
int kvt_powercut_slow_disk(const char *undo_dir, long sync_us);
/* Empties an undo dir: the logs of a node that died without a power cut are void (and the
   disk speed is the default again). */
void kvt_powercut_clear(const char *undo_dir);

#endif
