/* wal_format.h: the on-disk layout of segment headers, records and segment file names. */
#ifndef WAL_FORMAT_H
#define WAL_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * All integers are little-endian.
 * Segment header: magic u32, version u32, first_index u64, crc32c u32 (over the 16 bytes before).
 * Record: crc32c u32, payload length u32, term u64, index u64, payload. The crc covers every
 * byte after itself (length, term, index and payload), so a flipped length or index is caught.
 */
enum {
    wal_segment_header_size = 20,
    wal_record_header_size = 24,
    wal_segment_name_size_max = 32,
};
#define WAL_SEGMENT_MAGIC 0x4c57564bu /* "KVWL" */
#define WAL_FORMAT_VERSION 1u
#define WAL_SEGMENT_SUFFIX ".wal"

/* Hard limit on a configured payload maximum, so record sizes always fit in 32 bits. */
#define WAL_RECORD_PAYLOAD_LIMIT (UINT32_C(1) << 30)

static inline void wal_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void wal_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t wal_get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline uint64_t wal_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

enum wal_decode {
    WAL_DECODE_OK = 0,
    WAL_DECODE_SHORT,      /* fewer bytes remain than the header or the stated length */
    WAL_DECODE_BAD_LENGTH, /* stated length above the configured payload maximum */
    WAL_DECODE_BAD_CRC,
};

struct wal_record_view {
    uint64_t term;
    uint64_t index;
    uint32_t len;
    const uint8_t *payload; /* points into the decoded bytes */
};

/* Writes the record header for (term, index, data[0..len)) into out. */
void wal_record_header_encode(uint8_t out[wal_record_header_size], uint64_t term, uint64_t index,
                              const void *data, uint32_t len);
/* Checks the record at p against the avail bytes there and payload_max before trusting it. */
enum wal_decode wal_record_decode(const uint8_t *p, size_t avail, uint32_t payload_max,
                                  struct wal_record_view *out);
static inline uint64_t wal_record_size(uint32_t len) { return wal_record_header_size + (uint64_t)len; }

void wal_segment_header_encode(uint8_t out[wal_segment_header_size], uint64_t first_index);
/* True when p holds a whole, checksummed header; sets *first_index. */
bool wal_segment_header_decode(const uint8_t *p, size_t avail, uint64_t *first_index);

/* "<20 digits>.wal": names sort in index order. */
void wal_segment_name(char out[wal_segment_name_size_max], uint64_t first_index);
/* True when name is exactly a segment name; sets *first_index. */
bool wal_segment_name_parse(const char *name, uint64_t *first_index);

#endif
