/* wal.h: the durable write-ahead log: log records in segment files, hard state, recovery. */
#ifndef WAL_H
#define WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wal_error.h"

struct sio;

/*
 * Usage from an event loop: in one turn, wal_append() every new entry (they are only
 * written, never synced), then call wal_sync() (or wal_sync_due() with the current time
 * under the interval policy) once; wal_durable_index() says up to where the caller may
 * acknowledge. One sync covers every record appended before it (group commit).
 *
 * Threads: a struct wal is not thread-safe; every call below must come from one thread,
 * except wal_sync_run(), which touches only its job and may run on any thread while the
 * owner keeps appending. See wal_sync_begin(). A wal may run a thread of its own (see
 * zero_ahead_bytes); wal_close() joins it.
 *
 * Indexes start at 1 and are consecutive. Index 0 with term 0 is the empty snapshot.
 */

enum wal_fsync_policy {
    WAL_FSYNC_ALWAYS = 0, /* wal_sync() fdatasyncs; the default */
    WAL_FSYNC_INTERVAL,   /* wal_sync_due() fdatasyncs at most every fsync_interval_ms */
    WAL_FSYNC_NEVER,      /* no fdatasync at all (benchmarks): durable index is a lie */
};

struct wal_config {
    const char *dir;                  /* created if missing (one level) */
    enum wal_fsync_policy fsync;
    uint32_t fsync_interval_ms;       /* WAL_FSYNC_INTERVAL only, > 0 */
    uint64_t segment_size_max;        /* a segment rolls before growing past this; <= 2 GiB */
    uint32_t record_payload_max;      /* appends above it fail; disk lengths above it are corrupt */
    uint32_t write_buffer_size;       /* appends collect here before write(2) */
    /* A thread keeps the active segment written with zeros, durably, this far ahead of the
       appends (never past segment_size_max), so a sync overwrites allocated blocks and
       commits no file metadata. 0: off. Off under WAL_FSYNC_NEVER and for segments below
       64 KiB whatever it says. */
    uint32_t zero_ahead_bytes;
    /* Every open, read, write, sync, rename and truncate goes through it (util/sio.h): tests
       and the fault file make chosen calls fail. NULL: the real system calls. */
    const struct sio *io;
};

/* Defaults: fsync always, 64 MiB segments, 16 MiB payload max, 256 KiB write buffer,
   zeros 4 MiB ahead. */
void wal_config_default(struct wal_config *cfg, const char *dir);
/* "always", "interval", "never" -> policy; returns WAL_ERR_CONFIG for anything else. */
int wal_fsync_policy_parse(const char *name, enum wal_fsync_policy *out);

struct wal;

/*
 * Opens (creating if needed) the log in cfg->dir and recovers it: every block and record is
 * verified; a torn tail of the last segment (what no completed sync covered) is cut and
 * logged with log_warn; anything else that is bad refuses the open with WAL_ERR_CORRUPT and a
 * message naming the file, offset and index (WAL_ERR_FORMAT: segments of an older format),
 * written into *err if not NULL.
 */
int wal_open(const struct wal_config *cfg, struct wal **out, struct wal_errmsg *err);
/* Writes out buffered records (no sync) and frees everything. NULL is fine. */
void wal_close(struct wal *w);
/* The detail of the last error this wal returned. */
const char *wal_last_error(const struct wal *w);

/* Appends (index, term, data[0..len)). index must be wal_last_index() + 1 and term must not
 * be below the last entry's term. Written, not synced. */
int wal_append(struct wal *w, uint64_t index, uint64_t term, const void *data, uint32_t len);

/* Writes buffered records and, under the always and interval policies, fdatasyncs them (and
 * the directory if segments were created); then every appended record is durable.
 *
 * Failures: a write or sync that fails with an I/O error makes the wal failed: every later
 * call but reads returns WAL_ERR_FAILED until it is closed and opened again (whose recovery
 * keeps exactly what reached the disk whole). A write that finds the device full
 * (WAL_ERR_FULL, from wal_append or a sync) leaves the wal "spilled": it takes nothing more
 * until wal_truncate_suffix() cuts the log back, e.g. to wal_durable_index() + 1, which drops
 * the records the full disk kept from being written (they are then in no log, for sure). A
 * sync that fails is always WAL_ERR_IO and failed: its pages may be gone. */
int wal_sync(struct wal *w);
/* For the interval policy: calls wal_sync() if fsync_interval_ms passed since the last sync
 * (now_ms is any monotonic clock), otherwise only writes buffered records. For the always and
 * never policies it is wal_sync(). */
int wal_sync_due(struct wal *w, uint64_t now_ms);

/*
 * wal_sync() in three steps, so the fdatasync can run on a background thread:
 * begin (owner thread: writes the buffer, dups the descriptors), run (any thread, touches only
 * the job), end (owner thread: advances the durable index, closes the dups). At most one job
 * is in flight per wal. Appends and reads may go on between begin and end; truncation may too,
 * in which case end leaves the durable index for the next sync to advance.
 */
struct wal_sync_job {
    const struct sio *io;
    int file_fd;         /* the active segment (its own open file description), or -1 */
    int dir_fd;          /* the directory when a segment was created or removed, or -1 */
    uint64_t index;      /* everything up to here is durable once run succeeds */
    uint64_t truncations; /* the wal's truncation count at begin */
    uint64_t segment;    /* the active segment's first index at begin */
    uint64_t stream_end; /* and its record bytes */
    int sys_errno;       /* set by run on failure */
};
int wal_sync_begin(struct wal *w, struct wal_sync_job *job);
int wal_sync_run(struct wal_sync_job *job);
int wal_sync_end(struct wal *w, struct wal_sync_job *job, int run_result);

uint64_t wal_first_index(const struct wal *w); /* first entry present; last + 1 when empty */
uint64_t wal_last_index(const struct wal *w);  /* snapshot index when empty */
uint64_t wal_durable_index(const struct wal *w);
/* Bytes of log held: the blocks that hold segment headers and records (buffered ones too),
 * not the zeros written ahead of the appends. What a snapshot policy should weigh. */
uint64_t wal_log_bytes(const struct wal *w);
/* Segment files held (the active one included). */
size_t wal_segment_count(const struct wal *w);
/* Term of index, which may also be the snapshot index. WAL_ERR_COMPACTED below it,
 * WAL_ERR_RANGE past the last entry. */
int wal_term_at(const struct wal *w, uint64_t index, uint64_t *term);
void wal_snapshot_point(const struct wal *w, uint64_t *index, uint64_t *term);

/* One entry read back; data points into the caller's buffer. */
struct wal_entry {
    uint64_t index;
    uint64_t term;
    uint32_t len;
    const uint8_t *data;
};
/*
 * Reads consecutive entries from `from` into entries[0..entries_max), payloads into
 * buf[0..buf_len), stopping at the end of the log, entries_max, or the first entry that does
 * not fit. *count gets how many. Records are verified again (disk may rot after open).
 * from == last + 1 gives 0 entries; WAL_ERR_NOSPACE when not even the first payload fits.
 */
int wal_read(struct wal *w, uint64_t from, struct wal_entry *entries, size_t entries_max,
             void *buf, size_t buf_len, size_t *count);

/* Removes entries from `from` to the end (a follower's conflicting suffix, or what a full disk
 * left half written) durably before returning; from may be wal_last_index() + 1 to only clean
 * up after a full disk. Segments wholly removed are unlinked and the directory synced. */
int wal_truncate_suffix(struct wal *w, uint64_t from);
/* A snapshot covers everything up to (index, term), an entry in the log: drops every segment
 * whose entries all lie at or below index. Entries of the partial segment stay readable. */
int wal_compact(struct wal *w, uint64_t index, uint64_t term);
/* A snapshot (index, term) replaces the whole log (a follower installing a leader's snapshot):
 * drops every entry; the next append is index + 1. index must not be below the snapshot's. */
int wal_reset(struct wal *w, uint64_t index, uint64_t term);

/* Raft's persistent state; voted_for is a node id or -1. */
struct wal_hard_state {
    uint64_t term;
    int64_t voted_for;
    uint64_t commit_index;
};
/* What was loaded at open or last saved; {0, -1, 0} in a new directory. */
void wal_hard_state_get(const struct wal *w, struct wal_hard_state *out);
/* Saves atomically and durably (temp file, fsync, rename, directory fsync) before returning. */
int wal_hard_state_save(struct wal *w, const struct wal_hard_state *hs);

#endif
