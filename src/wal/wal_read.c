/* wal_read.c: reading entries back (verified again) and the log's positions and terms. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"
#include "wal_internal.h"

/* nsegs is 0 only inside a reset that failed halfway; the wal is failed then. */
uint64_t wal_first_index(const struct wal *w)
{
    return w->nsegs ? w->segs[0].first_index : w->snapshot_index + 1;
}

uint64_t wal_last_index(const struct wal *w)
{
    if (w->nsegs == 0)
        return w->snapshot_index;
    const struct wal_seg *s = &w->segs[w->nsegs - 1];
    return s->first_index + s->count - 1;
}

uint64_t wal_durable_index(const struct wal *w) { return w->durable_index; }

uint64_t wal_log_bytes(const struct wal *w)
{
    uint64_t total = 0;
    for (size_t i = 0; i < w->nsegs; i++)
        total += wal_stream_file_size(w->segs[i].size);
    return total;
}

size_t wal_segment_count(const struct wal *w) { return w->nsegs; }

const char *wal_last_error(const struct wal *w) { return w->err.text; }

void wal_snapshot_point(const struct wal *w, uint64_t *index, uint64_t *term)
{
    *index = w->snapshot_index;
    *term = w->snapshot_term;
}

int wal_term_at(const struct wal *w, uint64_t index, uint64_t *term)
{
    if (index == w->snapshot_index) {
        *term = w->snapshot_term;
        return 0;
    }
    if (index < wal_first_index(w))
        return WAL_ERR_COMPACTED;
    if (index > wal_last_index(w))
        return WAL_ERR_RANGE;
    const struct wal_seg *s = &w->segs[wal_seg_find(w, index)];
    *term = s->locs[index - s->first_index].term;
    return 0;
}

/*
 * Copies stream bytes [off, off + len) of segment s (open as fd) into dst, through the read
 * window: sequential reads (replay, a follower catching up) cost one pread per window.
 */
static int wal_stream_read(struct wal *w, const struct wal_seg *s, int fd, uint64_t off,
                           uint8_t *dst, size_t len)
{
    while (len > 0) {
        uint64_t at = wal_stream_to_file(off);
        if (w->rbuf_seg != s->first_index || at < w->rbuf_start ||
            at >= w->rbuf_start + w->rbuf_len) {
            uint64_t start = at - (at % wal_block_size);
            uint64_t end = wal_stream_file_size(s->size);
            size_t n = end - start < wal_read_window ? (size_t)(end - start) : wal_read_window;
            w->rbuf_seg = 0;
            if (sio_pread_all(w->io, fd, w->rbuf, n, (off_t)start) != 0)
                return wal_fail_sys(&w->err, errno, "read segment %" PRIu64 " offset %" PRIu64
                                    " in %s", s->first_index, start, w->dir);
            w->rbuf_seg = s->first_index;
            w->rbuf_start = start;
            w->rbuf_len = n;
        }
        size_t in_block = wal_block_data_size - (size_t)(off % wal_block_data_size);
        size_t in_window = (size_t)(w->rbuf_start + w->rbuf_len - at);
        size_t n = len < in_block ? len : in_block;
        if (n > in_window)
            n = in_window;
        memcpy(dst, w->rbuf + (at - w->rbuf_start), n);
        dst += n;
        off += n;
        len -= n;
    }
    return 0;
}

/* Reads one record with its header apart, so the caller's buffer holds payloads only, and
   checks it again: disk may rot after open. */
static int wal_read_record(struct wal *w, int fd, const struct wal_seg *s, size_t i,
                           uint8_t *payload, uint32_t len)
{
    uint64_t off = s->locs[i].offset;
    uint64_t index = s->first_index + i;
    uint8_t h[wal_record_header_size];
    int rc = wal_stream_read(w, s, fd, off, h, sizeof h);
    if (rc == 0 && len > 0)
        rc = wal_stream_read(w, s, fd, off + sizeof h, payload, len);
    if (rc)
        return rc;
    const char *bad = NULL;
    if (wal_get32(h + 4) != len)
        bad = "length changed";
    else if (crc32c_extend(crc32c(h + 4, sizeof h - 4), payload, len) != wal_get32(h))
        bad = "checksum mismatch";
    else if (wal_get64(h + 16) != index || wal_get64(h + 8) != s->locs[i].term)
        bad = "index or term changed";
    if (bad) {
        w->rbuf_seg = 0;
        char name[wal_segment_name_size_max];
        wal_segment_name(name, s->first_index);
        return wal_fail(&w->err, WAL_ERR_CORRUPT, "%s/%s offset %" PRIu64 ": %s (index %" PRIu64 ")",
                        w->dir, name, wal_stream_to_file(off), bad, index);
    }
    return 0;
}

static uint32_t wal_record_len(const struct wal_seg *s, size_t i)
{
    uint64_t end = i + 1 < s->count ? s->locs[i + 1].offset : s->size;
    uint64_t size = end - s->locs[i].offset;
    assert(size >= wal_record_header_size);
    assert(size - wal_record_header_size <= WAL_RECORD_PAYLOAD_LIMIT);
    return (uint32_t)(size - wal_record_header_size);
}

static int wal_seg_fd(struct wal *w, size_t si, int *fd)
{
    if (si + 1 == w->nsegs) {
        *fd = w->active_fd;
        return 0;
    }
    char name[wal_segment_name_size_max];
    wal_segment_name(name, w->segs[si].first_index);
    *fd = sio_openat(w->io, w->dir_fd, name, O_RDONLY | O_CLOEXEC, 0);
    if (*fd < 0)
        return wal_fail_sys(&w->err, errno, "open %s/%s", w->dir, name);
    return 0;
}

int wal_read(struct wal *w, uint64_t from, struct wal_entry *entries, size_t entries_max,
             void *buf, size_t buf_len, size_t *count)
{
    *count = 0;
    if (from < wal_first_index(w))
        return wal_fail(&w->err, WAL_ERR_COMPACTED, "read from %" PRIu64 ", log starts at %" PRIu64,
                        from, wal_first_index(w));
    if (from > wal_last_index(w) + 1)
        return wal_fail(&w->err, WAL_ERR_RANGE, "read from %" PRIu64 ", log ends at %" PRIu64,
                        from, wal_last_index(w));
    int rc = wal_flush(w);
    size_t used = 0;
    bool full = false;
    for (uint64_t index = from; rc == 0 && !full && index <= wal_last_index(w);) {
        size_t si = wal_seg_find(w, index);
        const struct wal_seg *s = &w->segs[si];
        int fd;
        rc = wal_seg_fd(w, si, &fd);
        for (size_t i = index - s->first_index; rc == 0 && i < s->count; i++, index++) {
            uint32_t len = wal_record_len(s, i);
            if (*count == entries_max || len > buf_len - used) {
                full = true;
                break;
            }
            uint8_t *payload = buf ? (uint8_t *)buf + used : NULL;
            rc = wal_read_record(w, fd, s, i, payload, len);
            entries[*count] = (struct wal_entry){index, s->locs[i].term, len, payload};
            (*count) += rc == 0;
            used += len;
        }
        if (fd >= 0 && fd != w->active_fd)
            sio_close(w->io, fd);
    }
    if (rc == 0 && *count == 0 && entries_max > 0 && from <= wal_last_index(w))
        rc = wal_fail(&w->err, WAL_ERR_NOSPACE, "entry %" PRIu64 " does not fit in %zu bytes", from,
                      buf_len);
    return rc;
}
