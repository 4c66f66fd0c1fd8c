/* wal_format.c: encoding and checked decoding of segment headers, records and file names. */
#include "wal_format.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "crc32c.h"
#include "digits.h"

_Static_assert(wal_record_header_size == 4 + 4 + 8 + 8, "record header layout");
_Static_assert(wal_segment_header_size == 4 + 4 + 8 + 4, "segment header layout");

void wal_record_header_encode(uint8_t out[wal_record_header_size], uint64_t term, uint64_t index,
                              const void *data, uint32_t len)
{
    assert(len <= WAL_RECORD_PAYLOAD_LIMIT);
    assert(data != NULL || len == 0);
    wal_put32(out + 4, len);
    wal_put64(out + 8, term);
    wal_put64(out + 16, index);
    uint32_t crc = crc32c(out + 4, wal_record_header_size - 4);
    if (len > 0)
        crc = crc32c_extend(crc, data, len);
    wal_put32(out, crc);
}

enum wal_decode wal_record_decode(const uint8_t *p, size_t avail, uint32_t payload_max,
                                  struct wal_record_view *out)
{
    assert(payload_max <= WAL_RECORD_PAYLOAD_LIMIT);
    if (avail < wal_record_header_size)
        return WAL_DECODE_SHORT;
    uint32_t len = wal_get32(p + 4);
    if (len > payload_max)
        return WAL_DECODE_BAD_LENGTH;
    if (avail - wal_record_header_size < len)
        return WAL_DECODE_SHORT;
    uint32_t crc = crc32c(p + 4, wal_record_header_size - 4 + (size_t)len);
    if (crc != wal_get32(p))
        return WAL_DECODE_BAD_CRC;
    out->len = len;
    out->term = wal_get64(p + 8);
    out->index = wal_get64(p + 16);
    out->payload = p + wal_record_header_size;
    return WAL_DECODE_OK;
}

void wal_segment_header_encode(uint8_t out[wal_segment_header_size], uint64_t first_index)
{
    wal_put32(out, WAL_SEGMENT_MAGIC);
    wal_put32(out + 4, WAL_FORMAT_VERSION);
    wal_put64(out + 8, first_index);
    wal_put32(out + 16, crc32c(out, 16));
}

bool wal_segment_header_decode(const uint8_t *p, size_t avail, uint64_t *first_index)
{
    if (avail < wal_segment_header_size)
        return false;
    if (wal_get32(p + 16) != crc32c(p, 16))
        return false;
    if (wal_get32(p) != WAL_SEGMENT_MAGIC || wal_get32(p + 4) != WAL_FORMAT_VERSION)
        return false;
    *first_index = wal_get64(p + 8);
    return true;
}

void wal_segment_name(char out[wal_segment_name_size_max], uint64_t first_index)
{
    int n = snprintf(out, wal_segment_name_size_max, "%020" PRIu64 WAL_SEGMENT_SUFFIX, first_index);
    assert(n > 0 && n < wal_segment_name_size_max);
}

bool wal_segment_name_parse(const char *name, uint64_t *first_index)
{
    const size_t digits = 20;
    if (strlen(name) != digits + strlen(WAL_SEGMENT_SUFFIX))
        return false;
    if (strcmp(name + digits, WAL_SEGMENT_SUFFIX) != 0)
        return false;
    return digits_parse_u64(name, digits, first_index);
}
