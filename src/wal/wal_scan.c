/* wal_scan.c: verification of one segment file's bytes at recovery: torn tail or corruption. */
#include "wal_scan.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

/*
 * The rules (wal_format.h says why they hold):
 *  - a data block that is neither valid nor all zeros is corruption, wherever it is;
 *  - the stream is the valid blocks from the first on, while each is full and no older
 *    (epoch) than the one before; it ends at a zero block, a stale block or a partial one;
 *  - a record that runs past the stream's end was torn: the log ends before it. Any other bad
 *    record inside the stream is corruption (its blocks checked out, so it is as written);
 *  - no block may say that a sync covered more than the log kept: then the gap is damage;
 *  - blocks left after the end are cut away (recovery rewrites the last block with a new
 *    epoch first); only the last segment may end early. A cut needs an epoch above every
 *    block's, so one behind a block of the last epoch (UINT32_MAX) is refused, not wrapped.
 */

static int scan_fail(struct wal_scan *sc, uint64_t file_off, const char *what, uint64_t index)
{
    return wal_fail(sc->err, WAL_ERR_CORRUPT, "%s/%s offset %" PRIu64 ": %s (index %" PRIu64 ")",
                    sc->dir, sc->name, file_off, what, index);
}

/* What pass 1 learns from the blocks. */
struct scan_blocks {
    uint64_t count;         /* data blocks in the file (a short last piece counts) */
    uint64_t stream_blocks; /* blocks whose data form the stream */
    uint64_t gap;           /* stream bytes in them */
    uint32_t stream_epoch;  /* the stream's last (highest) epoch; 0: empty */
    uint32_t epoch_max;     /* over every valid block */
    uint64_t durable;       /* the most any current block says was synced */
    uint64_t durable_block; /* the block that says it */
    bool after;             /* something other than zeros after the stream */
    uint64_t bad;           /* first corrupt block, or UINT64_MAX */
};

static void scan_blocks(const uint8_t *data, size_t size, bool header_zero, struct scan_blocks *b)
{
    *b = (struct scan_blocks){.bad = UINT64_MAX};
    if (size > wal_segment_header_size)
        b->count = (size - wal_segment_header_size + wal_block_size - 1) / wal_block_size;
    bool in_stream = !header_zero;
    for (uint64_t j = 0; j < b->count; j++) {
        uint64_t off = wal_segment_header_size + j * wal_block_size;
        struct wal_block_view v;
        enum wal_block_kind k = wal_block_decode(data + off, size - off, &v);
        if (k == WAL_BLOCK_BAD) {
            b->bad = j;
            return;
        }
        if (k == WAL_BLOCK_VALID && v.epoch > b->epoch_max)
            b->epoch_max = v.epoch;
        if (in_stream && k == WAL_BLOCK_VALID && v.epoch >= b->stream_epoch) {
            b->stream_epoch = v.epoch;
            b->stream_blocks = j + 1;
            b->gap = j * wal_block_data_size + v.used;
            in_stream = v.used == wal_block_data_size;
        } else {
            in_stream = false;
            b->after = b->after || k == WAL_BLOCK_VALID;
            if (k != WAL_BLOCK_VALID || v.epoch < b->stream_epoch)
                continue; /* zeros, or stale: left by a cut whose truncation was lost */
        }
        if (v.durable > b->durable) {
            b->durable = v.durable;
            b->durable_block = j;
        }
    }
}

/* Moves the stream's data to the front of data (every block's data moves down). */
static void scan_compact(uint8_t *data, uint64_t stream_blocks, uint64_t gap)
{
    for (uint64_t j = 0; j < stream_blocks; j++) {
        uint64_t from = wal_segment_header_size + j * wal_block_size + wal_block_header_size;
        uint64_t n = gap - j * wal_block_data_size;
        if (n > wal_block_data_size)
            n = wal_block_data_size;
        memmove(data + j * wal_block_data_size, data + from, (size_t)n);
    }
}

/* Decodes the records of stream[0..gap); sc->stream_end gets where the last whole one ends. */
static int scan_records(struct wal_scan *sc, const uint8_t *stream, uint64_t gap,
                        struct wal_seg *seg)
{
    uint64_t off = 0, next = seg->first_index;
    while (off < gap) {
        struct wal_record_view v;
        enum wal_decode d = wal_record_decode(stream + off, gap - off, sc->payload_max, &v);
        uint64_t file_off = wal_stream_to_file(off);
        if (d == WAL_DECODE_SHORT)
            break; /* runs past the stream's end: torn */
        if (d == WAL_DECODE_BAD_LENGTH)
            return wal_fail(sc->err, WAL_ERR_CORRUPT, "%s/%s offset %" PRIu64 ": record of %" PRIu32
                            " bytes above record_payload_max %" PRIu32 " (was the limit lowered?)"
                            " (index %" PRIu64 ")", sc->dir, sc->name, file_off,
                            wal_get32(stream + off + 4), sc->payload_max, next);
        if (d == WAL_DECODE_BAD_CRC)
            return scan_fail(sc, file_off, "record checksum mismatch in verified blocks", next);
        if (v.index != next)
            return wal_fail(sc->err, WAL_ERR_CORRUPT, "%s/%s offset %" PRIu64 ": record index %"
                            PRIu64 ", expected %" PRIu64, sc->dir, sc->name, file_off, v.index,
                            next);
        if (v.term < sc->prev_term)
            return wal_fail(sc->err, WAL_ERR_CORRUPT, "%s/%s offset %" PRIu64 ": term %" PRIu64
                            " below previous %" PRIu64 " (index %" PRIu64 ")", sc->dir, sc->name,
                            file_off, v.term, sc->prev_term, next);
        int rc = wal_seg_push_loc(sc->err, seg, off, v.term);
        if (rc)
            return rc;
        sc->prev_term = v.term;
        off += wal_record_size(v.len);
        next++;
    }
    sc->stream_end = off;
    return 0;
}

static int scan_header(struct wal_scan *sc, const uint8_t *data, size_t size,
                       const struct wal_seg *seg, bool *zero)
{
    uint64_t first = 0;
    enum wal_header_decode h = wal_segment_header_decode(data, size, &first);
    *zero = h == WAL_HEADER_ZERO;
    if (h == WAL_HEADER_OLD_FORMAT)
        return wal_fail(sc->err, WAL_ERR_FORMAT, "%s/%s: log format version 1, written by an "
                        "older kvnode; this one reads version %u only (see HACKING.md, "
                        "\"Upgrading a data directory\")", sc->dir, sc->name, WAL_FORMAT_VERSION);
    if (h == WAL_HEADER_BAD || (h == WAL_HEADER_ZERO && !sc->is_last))
        return scan_fail(sc, 0, "bad segment header", seg->first_index);
    if (h == WAL_HEADER_OK && first != seg->first_index)
        return wal_fail(sc->err, WAL_ERR_CORRUPT, "%s/%s offset 8: header says first index %"
                        PRIu64 ", name says %" PRIu64, sc->dir, sc->name, first,
                        seg->first_index);
    return 0;
}

int wal_scan_segment(struct wal_scan *sc, uint8_t *data, size_t size, struct wal_seg *seg)
{
    bool header_zero;
    int rc = scan_header(sc, data, size, seg, &header_zero);
    if (rc)
        return rc;
    struct scan_blocks b;
    scan_blocks(data, size, header_zero, &b);
    assert(b.bad == UINT64_MAX || b.bad >= b.stream_blocks);
    scan_compact(data, b.stream_blocks, b.gap);
    rc = scan_records(sc, data, b.gap, seg);
    if (rc)
        return rc;
    seg->size = sc->stream_end;
    if (b.bad != UINT64_MAX)
        return scan_fail(sc, wal_segment_header_size + b.bad * wal_block_size,
                         "block checksum mismatch", seg->first_index + seg->count);
    if (sc->stream_end < b.durable)
        return wal_fail(sc->err, WAL_ERR_CORRUPT, "%s/%s offset %" PRIu64 ": the log ends here "
                        "(index %" PRIu64 "), yet block %" PRIu64 " says a sync covered %" PRIu64
                        " bytes of records: blocks the sync made durable are gone", sc->dir,
                        sc->name, wal_stream_to_file(sc->stream_end), seg->first_index + seg->count,
                        b.durable_block, b.durable);
    bool whole = sc->stream_end == b.gap && !b.after && b.stream_blocks == b.count &&
                 !header_zero;
    if (!sc->is_last && !whole)
        return scan_fail(sc, wal_stream_to_file(sc->stream_end),
                         "the records end early in a segment that is not the last",
                         seg->first_index + seg->count);
    sc->durable = b.durable;
    if (header_zero) {
        sc->result = WAL_SCAN_TORN_HEADER;
        sc->epoch = 1;
    } else if (sc->stream_end < b.gap || b.after) {
        if (b.epoch_max == UINT32_MAX)
            return scan_fail(sc, wal_stream_to_file(sc->stream_end), "a torn tail behind a "
                             "block of epoch 4294967295: no epoch is left to cut it with",
                             seg->first_index + seg->count);
        sc->result = WAL_SCAN_CUT;
        sc->epoch = b.epoch_max + 1;
    } else {
        sc->result = WAL_SCAN_CLEAN;
        sc->epoch = b.stream_epoch ? b.stream_epoch : 1;
    }
    return 0;
}
