/* wal_format.c: encoding and checked decoding of blocks, segment headers, records and names. */
#include "wal_format.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "crc32c.h"
#include "digits.h"

_Static_assert(wal_record_header_size == 4 + 4 + 8 + 8, "record header layout");
_Static_assert(wal_block_header_size == 4 + 2 + 2 + 4 + 4, "block header layout");
_Static_assert(wal_block_data_size < UINT16_MAX, "used fits in 16 bits");

static bool wal_all_zero(const uint8_t *p, size_t n)
{
    return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

void wal_block_seal(uint8_t block[wal_block_size], uint16_t used, uint32_t epoch,
                    uint32_t durable)
{
    assert(used <= wal_block_data_size);
    assert(epoch > 0);
    memset(block + wal_block_header_size + used, 0, wal_block_data_size - (size_t)used);
    wal_put16(block + 4, used);
    wal_put16(block + 6, WAL_BLOCK_MAGIC);
    wal_put32(block + 8, epoch);
    wal_put32(block + 12, durable);
    wal_put32(block, crc32c(block + 4, wal_block_size - 4));
}

enum wal_block_kind wal_block_decode(const uint8_t *p, size_t avail, struct wal_block_view *out)
{
    if (avail < wal_block_size)
        return wal_all_zero(p, avail) ? WAL_BLOCK_ZERO : WAL_BLOCK_BAD;
    if (wal_get32(p) != crc32c(p + 4, wal_block_size - 4))
        return wal_all_zero(p, wal_block_size) ? WAL_BLOCK_ZERO : WAL_BLOCK_BAD;
    uint16_t used = wal_get16(p + 4);
    uint32_t epoch = wal_get32(p + 8);
    if (wal_get16(p + 6) != WAL_BLOCK_MAGIC || used == 0 || used > wal_block_data_size ||
        epoch == 0 || !wal_all_zero(p + wal_block_header_size + used, wal_block_data_size - used))
        return WAL_BLOCK_BAD;
    out->used = used;
    out->epoch = epoch;
    out->durable = wal_get32(p + 12);
    out->data = p + wal_block_header_size;
    return WAL_BLOCK_VALID;
}

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

/* The header's checksum covers the whole block but its own four bytes at 16..20. */
static uint32_t wal_header_crc(const uint8_t *p)
{
    return crc32c_extend(crc32c(p, 16), p + 20, wal_segment_header_size - 20);
}

void wal_segment_header_encode(uint8_t out[wal_segment_header_size], uint64_t first_index)
{
    memset(out, 0, wal_segment_header_size);
    wal_put32(out, WAL_SEGMENT_MAGIC);
    wal_put32(out + 4, WAL_FORMAT_VERSION);
    wal_put64(out + 8, first_index);
    wal_put32(out + 16, wal_header_crc(out));
}

enum wal_header_decode wal_segment_header_decode(const uint8_t *p, size_t avail,
                                                 uint64_t *first_index)
{
    /* Version 1 headers were 20 bytes: magic, version 1, first index, crc32c of the 16
       before it. Records followed at once. */
    if (avail >= 20 && wal_get32(p) == WAL_SEGMENT_MAGIC && wal_get32(p + 4) == 1 &&
        wal_get32(p + 16) == crc32c(p, 16))
        return WAL_HEADER_OLD_FORMAT;
    if (avail < wal_segment_header_size)
        return wal_all_zero(p, avail) ? WAL_HEADER_ZERO : WAL_HEADER_BAD;
    if (wal_get32(p + 16) != wal_header_crc(p))
        return wal_all_zero(p, wal_segment_header_size) ? WAL_HEADER_ZERO : WAL_HEADER_BAD;
    if (wal_get32(p) != WAL_SEGMENT_MAGIC || wal_get32(p + 4) != WAL_FORMAT_VERSION)
        return WAL_HEADER_BAD;
    *first_index = wal_get64(p + 8);
    return WAL_HEADER_OK;
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
