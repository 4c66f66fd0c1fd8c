/* fuzz_wal.c: libFuzzer target for recovery's segment scanner (src/wal/wal_scan.c).
 *
 * Input: one flags byte (bit 0: the segment is the log's last; bit 1: fix the checksums of
 * the header and of every block with the block magic first, so that mutations reach the
 * stream, record, epoch and durable rules behind them), then a segment file's bytes.
 * The scanner must never read out of bounds, and when it accepts the bytes what it reports
 * must hold: every record it lists decodes in the stream it left at the front of the buffer,
 * with consecutive indexes and non-decreasing terms, ending where it says the stream ends; a
 * refusal carries a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "wal_scan.h"

#define FUZZ_CHECK(cond)                                                                     \
    do {                                                                                     \
        if (!(cond))                                                                         \
            __builtin_trap();                                                                \
    } while (0)

enum { fuzz_payload_max = 4096 };

static void check_accepted(const struct wal_scan *sc, const uint8_t *stream, size_t size,
                           const struct wal_seg *seg)
{
    FUZZ_CHECK(sc->stream_end <= size);
    FUZZ_CHECK(seg->size == sc->stream_end);
    FUZZ_CHECK(sc->durable <= sc->stream_end);
    FUZZ_CHECK(sc->epoch >= 1);
    FUZZ_CHECK(sc->result == WAL_SCAN_CLEAN || sc->result == WAL_SCAN_CUT ||
               sc->result == WAL_SCAN_TORN_HEADER);
    FUZZ_CHECK(sc->result != WAL_SCAN_TORN_HEADER || seg->count == 0);
    FUZZ_CHECK(sc->is_last || sc->result == WAL_SCAN_CLEAN);
    uint64_t off = 0, term = 0;
    for (size_t i = 0; i < seg->count; i++) {
        FUZZ_CHECK(seg->locs[i].offset == off);
        struct wal_record_view v;
        FUZZ_CHECK(wal_record_decode(stream + off, sc->stream_end - off, fuzz_payload_max, &v) ==
                   WAL_DECODE_OK);
        FUZZ_CHECK(v.index == seg->first_index + i);
        FUZZ_CHECK(v.term == seg->locs[i].term && v.term >= term);
        term = v.term;
        off += wal_record_size(v.len);
    }
    FUZZ_CHECK(off == sc->stream_end);
}

/* Recomputes the checksums the input's mutations broke (crc32c as wal_format.c uses it). */
static void seal_all(uint8_t *p, size_t n)
{
    if (n >= wal_segment_header_size) {
        uint32_t crc = crc32c_extend(crc32c(p, 16), p + 20, wal_segment_header_size - 20);
        wal_put32(p + 16, crc);
    }
    for (size_t off = wal_segment_header_size; off + wal_block_size <= n; off += wal_block_size)
        if (wal_get16(p + off + 6) == WAL_BLOCK_MAGIC)
            wal_put32(p + off, crc32c(p + off + 4, wal_block_size - 4));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n = size - 1;
    uint8_t *buf = malloc(n ? n : 1); /* the scan rewrites its input in place */
    FUZZ_CHECK(buf != NULL);
    memcpy(buf, data + 1, n);
    if (data[0] & 2)
        seal_all(buf, n);
    uint64_t first = 1;
    if (wal_segment_header_decode(buf, n, &first) != WAL_HEADER_OK || first == 0)
        first = 1;
    struct wal_seg seg = {.first_index = first};
    struct wal_errmsg err = {{0}};
    struct wal_scan sc = {.dir = "fuzz", .name = "segment", .payload_max = fuzz_payload_max,
                          .is_last = data[0] & 1, .err = &err};
    int rc = wal_scan_segment(&sc, buf, n, &seg);
    if (rc == 0)
        check_accepted(&sc, buf, n, &seg);
    else
        FUZZ_CHECK((rc == WAL_ERR_CORRUPT || rc == WAL_ERR_FORMAT || rc == WAL_ERR_NOMEM) &&
                   err.text[0] != '\0');
    wal_seg_free(&seg);
    free(buf);
    return 0;
}
