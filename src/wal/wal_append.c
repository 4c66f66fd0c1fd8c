/* wal_append.c: appending records through the write buffer, and rolling segments. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"
#include "wal_internal.h"

static int wal_pwrite_all(struct wal *w, const uint8_t *p, size_t len)
{
    wal_fill_publish(w, w->active_written + len);
    while (len > 0) {
        ssize_t n = pwrite(w->active_fd, p, len, (off_t)w->active_written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            /* Part of a record may be on disk now; only a reopen (which cuts it) is safe. */
            w->failed = true;
            return wal_fail_sys(&w->err, errno, "write segment %" PRIu64 " in %s",
                                wal_active(w)->first_index, w->dir);
        }
        p += n;
        len -= (size_t)n;
        w->active_written += (uint64_t)n;
    }
    return 0;
}

int wal_flush(struct wal *w)
{
    if (w->failed)
        return wal_fail(&w->err, WAL_ERR_FAILED, "%s", w->dir);
    if (w->buf_used == 0)
        return 0;
    int rc = wal_pwrite_all(w, w->buf, w->buf_used);
    w->buf_used = 0;
    return rc;
}

/* Small pieces are gathered in the buffer; one larger than the buffer goes straight out. */
static int wal_buffer_put(struct wal *w, const void *data, size_t len)
{
    if (len > w->cfg.write_buffer_size - w->buf_used) {
        int rc = wal_flush(w);
        if (rc)
            return rc;
        if (len >= w->cfg.write_buffer_size)
            return wal_pwrite_all(w, data, len);
    }
    memcpy(w->buf + w->buf_used, data, len);
    w->buf_used += len;
    return 0;
}

/* Cuts the zeros written ahead off a finished segment: recovery accepts a zero tail only in
   the last segment, so a finished one ends at its last record. */
static int wal_trim_finished(struct wal *w)
{
    struct stat st;
    if (fstat(w->active_fd, &st) != 0)
        return wal_fail_sys(&w->err, errno, "stat segment %" PRIu64 " in %s",
                            wal_active(w)->first_index, w->dir);
    if ((uint64_t)st.st_size <= w->active_written)
        return 0;
    if (ftruncate(w->active_fd, (off_t)w->active_written) != 0) {
        w->failed = true;
        return wal_fail_sys(&w->err, errno, "trim segment %" PRIu64 " in %s",
                            wal_active(w)->first_index, w->dir);
    }
    return 0;
}

/*
 * Every record of a finished segment is made durable, and the segment trimmed to its last
 * record, before the next segment gets any, so that after a crash only the last segment can
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
    close(w->active_fd);
    w->active_fd = -1;
    rc = wal_seg_create(w, next_index);
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
    if (seg->count > 0 && seg->size + rec_size > w->cfg.segment_size_max) {
        int rc = wal_roll(w, index);
        if (rc)
            return rc;
        seg = wal_active(w);
    }
    int rc = wal_seg_push_loc(w, seg, seg->size, term);
    if (rc)
        return rc;
    uint8_t header[wal_record_header_size];
    wal_record_header_encode(header, term, index, data, len);
    rc = wal_buffer_put(w, header, sizeof header);
    if (rc == 0 && len > 0)
        rc = wal_buffer_put(w, data, len);
    if (rc) {
        seg->count--;
        return rc;
    }
    seg->size += rec_size;
    metrics_count(METRIC_WAL_WRITTEN_BYTES, rec_size);
    return 0;
}
