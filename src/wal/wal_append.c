/* wal_append.c: appending records through the block buffer, and rolling segments. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "metrics.h"
#include "wal_internal.h"

/* Seals blocks [first, n) of the buffer and writes them in place. */
static int wal_write_blocks(struct wal *w, size_t first, size_t n)
{
    for (size_t i = first; i < n; i++) {
        size_t used = w->buf_used - i * wal_block_data_size;
        if (used > wal_block_data_size)
            used = wal_block_data_size;
        wal_block_seal(w->buf + i * wal_block_size, (uint16_t)used, w->epoch,
                       (uint32_t)w->durable_stream);
    }
    uint64_t off = wal_segment_header_size + (w->tail_block + first) * wal_block_size;
    size_t len = (n - first) * wal_block_size;
    wal_fill_publish(w, off + len);
    w->rbuf_seg = 0; /* the read window may hold the blocks rewritten here */
    if (sio_pwrite_all(w->io, w->active_fd, w->buf + first * wal_block_size, len, (off_t)off) == 0)
        return 0;
    int e = errno;
    w->spilled = true;
    /* A full disk leaves the log as it was (the buffered records stay buffered and a later
       flush writes the same blocks again, or a cut drops them); any other error may have
       lost pages: only a reopen, whose recovery cuts a torn tail, is safe. */
    if (e != ENOSPC && e != EDQUOT)
        w->failed = true;
    return wal_fail_sys(&w->err, e, "write segment %" PRIu64 " in %s", wal_active(w)->first_index,
                        w->dir);
}

int wal_flush(struct wal *w)
{
    if (w->failed)
        return wal_fail(&w->err, WAL_ERR_FAILED, "%s", w->dir);
    if (w->spilled)
        return wal_fail(&w->err, WAL_ERR_FULL, "%s: a write ran out of space; the log must be "
                        "cut back to its durable part before it takes more", w->dir);
    if (w->buf_used == 0 || (w->buf_used == w->buf_flushed && !w->durable_dirty))
        return 0;
    size_t n = (w->buf_used + wal_block_data_size - 1) / wal_block_data_size;
    /* The first block is on disk already when it is full and says nothing new. */
    size_t first = w->buf_flushed == wal_block_data_size && !w->durable_dirty ? 1 : 0;
    int rc = wal_write_blocks(w, first, n);
    if (rc)
        return rc;
    /* Keep the last block written: it is the tail the next flush rewrites. */
    size_t last = n - 1;
    if (last > 0)
        memmove(w->buf, w->buf + last * wal_block_size, wal_block_size);
    w->tail_block += last;
    w->buf_used -= last * wal_block_data_size;
    w->buf_flushed = w->buf_used;
    w->durable_dirty = false;
    return 0;
}

/* Copies stream bytes into the buffer's data areas, flushing whenever it fills. */
static int wal_buffer_put(struct wal *w, const uint8_t *data, size_t len)
{
    while (len > 0) {
        if (w->buf_used == w->buf_blocks * wal_block_data_size) {
            int rc = wal_flush(w);
            if (rc)
                return rc;
        }
        size_t block = w->buf_used / wal_block_data_size;
        size_t at = w->buf_used % wal_block_data_size;
        size_t n = wal_block_data_size - at;
        if (n > len)
            n = len;
        memcpy(w->buf + block * wal_block_size + wal_block_header_size + at, data, n);
        w->buf_used += n;
        data += n;
        len -= n;
    }
    return 0;
}

/* Cuts the zeros written ahead off a finished segment: recovery accepts a zero tail only in
   the last segment, so a finished one ends with its last block. */
static int wal_trim_finished(struct wal *w)
{
    uint64_t size, end = wal_stream_file_size(wal_active_flushed(w));
    if (sio_fsize(w->io, w->active_fd, &size) != 0)
        return wal_fail_sys(&w->err, errno, "stat segment %" PRIu64 " in %s",
                            wal_active(w)->first_index, w->dir);
    if (size <= end)
        return 0;
    if (sio_ftruncate(w->io, w->active_fd, (off_t)end) != 0) {
        w->failed = true;
        return wal_fail_sys(&w->err, errno, "trim segment %" PRIu64 " in %s",
                            wal_active(w)->first_index, w->dir);
    }
    return 0;
}

/*
 * Every record of a finished segment is made durable, and the segment trimmed to its last
 * block, before the next segment gets any, so that after a crash only the last segment can
 * have a torn or zero tail. Rolls are rare (one per segment_size_max bytes), so this one
 * synchronous fdatasync is cheap.
 */
static int wal_roll(struct wal *w, uint64_t next_index)
{
    int rc = wal_flush(w);
    if (rc)
        return rc;
    wal_fill_pause(w);
    rc = wal_trim_finished(w);
    if (rc == 0)
        rc = wal_data_sync(w, w->active_fd, "finished segment");
    if (rc == 0 && w->dir_dirty)
        rc = wal_dir_sync(w);
    if (rc)
        return rc;
    uint64_t last = wal_seg_last(wal_active(w));
    if (w->durable_index < last)
        w->durable_index = last;
    wal_seg_close_active(w);
    rc = wal_seg_create(w, next_index);
    if (rc == WAL_ERR_FULL && wal_seg_open_active(w, 0) == 0) {
        /* No room for a new segment: the finished one (durable whole) stays active, spilled
           so that the caller cuts back before anything more; a later append rolls again. */
        w->durable_stream = wal_active(w)->size;
        w->spilled = true;
        wal_fill_resume(w);
        return WAL_ERR_FULL;
    }
    if (rc) {
        w->failed = true; /* no active segment to write to */
        return rc;
    }
    wal_fill_resume(w);
    return 0;
}

static uint64_t wal_last_term(const struct wal *w)
{
    for (size_t i = w->nsegs; i-- > 0;) {
        const struct wal_seg *s = &w->segs[i];
        if (s->count > 0)
            return s->locs[s->count - 1].term;
    }
    return w->snapshot_term;
}

int wal_append(struct wal *w, uint64_t index, uint64_t term, const void *data, uint32_t len)
{
    assert(data != NULL || len == 0);
    if (w->failed)
        return wal_fail(&w->err, WAL_ERR_FAILED, "%s", w->dir);
    if (len > w->cfg.record_payload_max)
        return wal_fail(&w->err, WAL_ERR_TOO_LARGE, "payload of %" PRIu32 " bytes, max %" PRIu32,
                        len, w->cfg.record_payload_max);
    if (index != wal_last_index(w) + 1)
        return wal_fail(&w->err, WAL_ERR_INDEX, "append at %" PRIu64 ", last is %" PRIu64, index,
                        wal_last_index(w));
    if (term < wal_last_term(w))
        return wal_fail(&w->err, WAL_ERR_TERM, "append term %" PRIu64 " below last term %" PRIu64,
                        term, wal_last_term(w));
    uint64_t rec_size = wal_record_size(len);
    struct wal_seg *seg = wal_active(w);
    if (seg->count > 0 &&
        wal_stream_file_size(seg->size + rec_size) > w->cfg.segment_size_max) {
        int rc = wal_roll(w, index);
        if (rc)
            return rc;
        seg = wal_active(w);
    }
    uint64_t end = seg->size;
    assert(end == w->tail_block * wal_block_data_size + w->buf_used);
    int rc = wal_seg_push_loc(&w->err, seg, end, term);
    if (rc)
        return rc;
    uint8_t header[wal_record_header_size];
    wal_record_header_encode(header, term, index, data, len);
    rc = wal_buffer_put(w, header, sizeof header);
    if (rc == 0 && len > 0)
        rc = wal_buffer_put(w, data, len);
    if (rc) {
        /* Not in the log, though part of it may be on disk: the write failed, so the wal is
           failed or spilled, and only a cut (wal_truncate_suffix) or a reopen goes on. */
        assert(w->failed || w->spilled);
        seg->count--;
        return rc;
    }
    seg->size += rec_size;
    metrics_count(METRIC_WAL_WRITTEN_BYTES, rec_size);
    return 0;
}
