/* wal_scan.c: verification of one segment file's bytes at recovery, and torn-tail detection. */
#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "log.h"
#include "wal_internal.h"

static const char *wal_decode_text(enum wal_decode d)
{
    switch (d) {
    case WAL_DECODE_OK:
        return "ok";
    case WAL_DECODE_SHORT:
        return "record runs past the end of the file";
    case WAL_DECODE_BAD_LENGTH:
        return "record length above record_payload_max";
    case WAL_DECODE_BAD_CRC:
        return "record checksum mismatch";
    }
    return "?";
}

/*
 * A bad record is a torn tail only if nothing valid follows it. Its length field may itself be
 * garbage, so look for a valid record at every later byte offset: a plausible length and index
 * first (cheap), then the checksum. Returns the offset found, or 0 when there is none.
 */
static uint64_t wal_find_valid_after(const uint8_t *data, size_t size, uint64_t bad_offset,
                                     uint64_t next_index, uint32_t payload_max)
{
    uint64_t index_span = (size - bad_offset) / wal_record_header_size + 1;
    for (uint64_t p = bad_offset + 1; p + wal_record_header_size <= size; p++) {
        uint32_t len = wal_get32(data + p + 4);
        if (len > payload_max || len > size - p - wal_record_header_size)
            continue;
        uint64_t index = wal_get64(data + p + 16);
        if (index < next_index || index - next_index > index_span)
            continue;
        struct wal_record_view v;
        if (wal_record_decode(data + p, size - p, payload_max, &v) == WAL_DECODE_OK)
            return p;
    }
    return 0;
}

enum { wal_sector_size = 512 }; /* the smallest unit a crash can leave unwritten */

static bool wal_all_zero(const uint8_t *p, size_t n)
{
    return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/*
 * Zeros are written ahead of the appends, so a crash that loses some writes of an unsynced
 * stretch while later ones reach the disk leaves a sector of zeros (or the zeros that
 * followed the records before it, in the sector holding the first bad record) between the
 * last good record and valid records after it. None of those later records was acknowledged:
 * a sync covers every earlier byte. A bit flip in older data leaves no such sector.
 */
static bool wal_lost_sector_between(const uint8_t *data, uint64_t bad, uint64_t valid)
{
    uint64_t boundary = (bad / wal_sector_size + 1) * wal_sector_size;
    if (boundary > valid)
        boundary = valid;
    if (wal_all_zero(data + bad, (size_t)(boundary - bad)))
        return true;
    for (uint64_t s = boundary; s + wal_sector_size <= valid; s += wal_sector_size)
        if (wal_all_zero(data + s, wal_sector_size))
            return true;
    return false;
}

static int wal_scan_header(struct wal *w, const char *name, const uint8_t *data, size_t size,
                           bool is_last, const struct wal_seg *seg, enum wal_scan_result *result)
{
    uint64_t first;
    if (!wal_segment_header_decode(data, size, &first)) {
        /* Created, then the crash came before its header reached the disk (zeros written
           ahead may have). Nothing in it was acknowledged: the first sync writes the header. */
        if (is_last && (size <= wal_segment_header_size ||
                        wal_all_zero(data, wal_segment_header_size))) {
            *result = WAL_SCAN_TORN_HEADER;
            return 0;
        }
        return wal_fail(&w->err, WAL_ERR_CORRUPT, "%s/%s offset 0: bad segment header", w->dir,
                        name);
    }
    if (first != seg->first_index)
        return wal_fail(&w->err, WAL_ERR_CORRUPT,
                        "%s/%s offset 8: header says first index %" PRIu64 ", name says %" PRIu64,
                        w->dir, name, first, seg->first_index);
    return 0;
}

int wal_scan_segment(struct wal *w, const char *name, const uint8_t *data, size_t size,
                     bool is_last, uint64_t *prev_term, struct wal_seg *seg,
                     enum wal_scan_result *result)
{
    *result = WAL_SCAN_CLEAN;
    int rc = wal_scan_header(w, name, data, size, is_last, seg, result);
    if (rc || *result != WAL_SCAN_CLEAN)
        return rc;
    uint32_t payload_max = w->cfg.record_payload_max;
    uint64_t off = wal_segment_header_size;
    uint64_t next = seg->first_index;
    while (off < size) {
        struct wal_record_view v;
        enum wal_decode d = wal_record_decode(data + off, size - off, payload_max, &v);
        if (d == WAL_DECODE_OK) {
            if (v.index != next)
                return wal_fail(&w->err, WAL_ERR_CORRUPT,
                                "%s/%s offset %" PRIu64 ": record index %" PRIu64
                                ", expected %" PRIu64, w->dir, name, off, v.index, next);
            if (v.term < *prev_term)
                return wal_fail(&w->err, WAL_ERR_CORRUPT,
                                "%s/%s offset %" PRIu64 ": term %" PRIu64 " below previous %" PRIu64,
                                w->dir, name, off, v.term, *prev_term);
            rc = wal_seg_push_loc(w, seg, off, v.term);
            if (rc)
                return rc;
            *prev_term = v.term;
            off += wal_record_size(v.len);
            next++;
            continue;
        }
        /* A whole, checksummed record above the limit is data, not a tear: the limit shrank. */
        if (d == WAL_DECODE_BAD_LENGTH &&
            wal_record_decode(data + off, size - off, WAL_RECORD_PAYLOAD_LIMIT, &v) == WAL_DECODE_OK)
            return wal_fail(&w->err, WAL_ERR_CORRUPT, "%s/%s offset %" PRIu64 ": record of %" PRIu32
                            " bytes above record_payload_max %" PRIu32 " (was the limit lowered?)",
                            w->dir, name, off, v.len, payload_max);
        if (!is_last)
            return wal_fail(&w->err, WAL_ERR_CORRUPT, "%s/%s offset %" PRIu64 ": %s (index %" PRIu64
                            ") in a segment that is not the last", w->dir, name, off,
                            wal_decode_text(d), next);
        /* Zeros to the end: the log ends here; they stay, to be written over. */
        if (wal_all_zero(data + off, (size_t)(size - off)))
            break;
        uint64_t valid = wal_find_valid_after(data, size, off, next, payload_max);
        if (valid && !wal_lost_sector_between(data, off, valid))
            return wal_fail(&w->err, WAL_ERR_CORRUPT, "%s/%s offset %" PRIu64 ": %s (index %" PRIu64
                            "), yet a valid record follows at offset %" PRIu64, w->dir, name, off,
                            wal_decode_text(d), next, valid);
        log_warn("wal: %s/%s offset %" PRIu64 ": %s (index %" PRIu64 "); cutting the torn tail"
                 " of %" PRIu64 " bytes%s", w->dir, name, off, wal_decode_text(d), next,
                 (uint64_t)size - off,
                 valid ? " (unsynced records after a lost sector, never acknowledged)" : "");
        *result = WAL_SCAN_TORN_TAIL;
        break;
    }
    assert(off <= size);
    seg->size = off;
    return 0;
}
