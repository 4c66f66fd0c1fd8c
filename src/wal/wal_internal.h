/* wal_internal.h: the state of an open WAL, shared by the files of src/wal only. */
#ifndef WAL_INTERNAL_H
#define WAL_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wal.h"
#include "sio.h"
#include "wal_format.h"
#include "wal_seg.h"

/*
 * The zero-filler: a thread that keeps the active segment written with zeros (and those zeros
 * and the file size durable) ahead of the owner's write position, so the owner's fdatasync
 * overwrites allocated blocks and commits no metadata. It writes only past owner_end, and the
 * owner publishes a new owner_end before each write; an owner write that would reach a range
 * the filler is writing at that moment waits for that one piece (only when the fill is behind).
 * The filler has its own open file description of the segment, never a dup: its fdatasync
 * must not consume a writeback error the owner's fdatasync has to see.
 */
struct wal_fill {
    bool running;           /* the thread exists (owner-only) */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake;    /* the filler waits here for work */
    pthread_cond_t piece_done; /* the owner waits here for an in-flight piece */
    uint8_t *zeros;         /* one piece of zeros, read by the filler only */
    const struct sio *io;
    /* Everything below is guarded by mu. */
    bool stop;
    uint64_t gen;           /* bumped by pause and resume; a piece of an older gen is void */
    int fd_next;            /* the active segment for the filler to take at a new gen, or -1 */
    uint64_t owner_end;     /* the owner has written, or is writing, nothing past here */
    uint64_t filled_end;    /* zeros (or the owner's data) reach here in the file */
    uint64_t limit;         /* no zeros past here: segment_size_max */
    uint64_t ahead;         /* target: owner_end + ahead */
    bool idle;              /* the filler waits on wake */
    bool in_flight;         /* the filler is writing [piece_start, piece_end) without mu */
    uint64_t piece_start;
    int sys_errno;          /* the filler's first failure; it fills no more (appends fall back) */
    bool error_logged;      /* owner-only */
    uint64_t bytes_zeroed;  /* counters, for tests and benchmarks */
    uint64_t syncs;
};

struct wal {
    struct wal_config cfg;
    const struct sio *io; /* cfg.io, or the real system calls */
    char *dir;
    int dir_fd;
    int lock_fd;

    /* Sorted, contiguous; never empty once open. The last one is the active segment. */
    struct wal_seg *segs;
    size_t nsegs;
    size_t segs_cap;
    int active_fd;
    /* The sync jobs' own open file description of the active segment (and of the directory),
       opened with it: a background fdatasync never shares the writer's, so neither can
       consume a writeback error the other then never sees (fsyncgate). Jobs use dups of it,
       which keep it reachable while the owner rolls or resets. */
    int sync_fd;
    int sync_dir_fd;

    /* The active segment's blocks from tail_block on: buf[0] is the last block holding
       stream data (rewritten in place while it fills), later ones are new. */
    uint8_t *buf;
    size_t buf_blocks;       /* capacity */
    uint64_t tail_block;     /* data block number of buf[0] */
    size_t buf_used;         /* stream bytes in buf, counted from tail_block's first */
    size_t buf_flushed;      /* of those, already handed to write(2) */
    uint32_t epoch;          /* of the active segment's blocks */
    uint64_t durable_stream; /* active segment: stream bytes a completed sync covered */
    bool durable_dirty;      /* the last block on disk says less than durable_stream */
    bool spilled;            /* a write failed part way: blocks past the flushed end may be
                                on disk, so the next cut rewrites and truncates */

    /* A read window of one segment's file bytes, for wal_read. */
    uint8_t *rbuf;
    uint64_t rbuf_seg;       /* first index of the segment it holds; 0: empty */
    uint64_t rbuf_start;     /* file offset of rbuf[0] */
    size_t rbuf_len;

    uint64_t snapshot_index;
    uint64_t snapshot_term;
    uint64_t durable_index;
    uint64_t truncations; /* bumped by every suffix removal; a sync job started before one
                             must not advance the durable index */
    bool dir_dirty;       /* a segment was created since the directory was last synced */
    bool failed;          /* a write or sync failed: nothing more is trusted until reopen */
    bool sync_in_flight;
    bool synced_once;
    uint64_t last_sync_ms;

    struct wal_hard_state hard_state;
    struct wal_errmsg err;
    struct wal_fill fill;
};

enum { wal_read_window = 64 << 10 }; /* file bytes wal_read reads at once */

/* Stream bytes of the active segment handed to write(2). */
static inline uint64_t wal_active_flushed(const struct wal *w)
{
    return w->tail_block * wal_block_data_size + w->buf_flushed;
}

static inline struct wal_seg *wal_active(struct wal *w)
{
    return &w->segs[w->nsegs - 1];
}

static inline uint64_t wal_seg_last(const struct wal_seg *s)
{
    return s->first_index + s->count - 1;
}

/* wal_segment.c */
int wal_segs_push(struct wal *w, const struct wal_seg *s);
size_t wal_seg_find(const struct wal *w, uint64_t index); /* the segment holding index */
/* Creates the segment (and writes its header block) as the active one. */
int wal_seg_create(struct wal *w, uint64_t first_index);
/* Opens the last segment as the active one and loads its tail block; its blocks get epoch
   (0: the tail block's own). */
int wal_seg_open_active(struct wal *w, uint32_t epoch);
/* Loads the block holding the stream's byte before stream_end into buf[0] (the tail);
   *epoch gets its epoch (0 for an empty stream). */
int wal_load_tail(struct wal *w, uint64_t stream_end, uint32_t *epoch);
void wal_seg_close_active(struct wal *w); /* both descriptors; forgets the read window */
int wal_seg_unlink(struct wal *w, size_t i);
int wal_dir_sync(struct wal *w);
int wal_data_sync(struct wal *w, int fd, const char *what);

/* wal_fill.c: the zero-filler's lifecycle; every call is the owner's. */
/* Below this a segment rolls (a journal commit of its own) every few syncs: zeros ahead would
   only add a sync per segment. */
enum { wal_fill_segment_size_min = 64 << 10 };
static inline bool wal_fill_wanted(const struct wal_config *cfg)
{
    return cfg->zero_ahead_bytes != 0 && cfg->fsync != WAL_FSYNC_NEVER &&
           cfg->segment_size_max >= wal_fill_segment_size_min;
}
void wal_fill_init(struct wal *w); /* no thread yet; pause/resume/publish are no-ops */
void wal_fill_start(struct wal *w); /* after recovery; failing to start only logs */
void wal_fill_stop(struct wal *w);  /* joins the thread */
/* Before the active segment is cut, closed or replaced: returns with no piece in flight and
   the filler idle until wal_fill_resume(). */
void wal_fill_pause(struct wal *w);
/* The active segment is ready again; bytes past its last written block up to the file's size
   are zeros (recovery verified them, or the file is new or was just cut). */
void wal_fill_resume(struct wal *w);
/* The owner is about to write the active segment up to end. */
void wal_fill_publish(struct wal *w, uint64_t end);

/* wal_append.c */
int wal_flush(struct wal *w);

/* wal_truncate.c: makes the active segment end at stream offset cut, durably, with a new
   epoch (a torn tail, a conflicting suffix, what a full disk left half written). */
int wal_cut_active(struct wal *w, uint64_t cut);

/* wal_meta.c: small checksummed files written atomically. */
int wal_meta_load(struct wal *w);
int wal_snapshot_save(struct wal *w, uint64_t index, uint64_t term);

/* wal_recover.c */
int wal_recover(struct wal *w);

#endif
