/* wal_format.h: the on-disk layout of segments: header block, data blocks, records, names. */
#ifndef WAL_FORMAT_H
#define WAL_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Format version 2. All integers are little-endian.
 *
 * A segment file is a sequence of 512-byte blocks, the unit a crash writes whole or not at all
 * (a sector). Block 0 is the segment header: magic u32, version u32, first_index u64, crc32c
 * u32 over every other byte of the block (the rest is zeros). Every later block is a data
 * block: crc32c u32 over bytes 4..512, used u16, magic u16, epoch u32, durable u32, then 496
 * bytes of data of which the first `used` belong to the segment's record stream and the rest
 * are zeros. The stream is the data of the blocks in order; a block is rewritten in place
 * while it fills, so every block but the last of a segment is full.
 *
 * Why blocks: a data block that is not all zeros either checks out or is corrupt, whatever the
 * payload holds, because a crash leaves a sector as it was before (zeros: written ahead, or
 * never allocated) or as written. So a torn tail shows as zero blocks, never as a bad
 * checksum, and a flipped bit anywhere is caught by construction, not guessed from content.
 *
 * durable: the stream offset up to which a completed sync had made this segment durable when
 * the block was written. A block found after a gap (zero blocks) that says the gap was durable
 * proves the gap is damage, not a tear. epoch: bumped each time the segment is cut short
 * (a conflicting suffix removed, a torn tail cut at recovery), so blocks left past a cut by a
 * crash before the cut was durable are recognised as stale by their lower epoch. Epochs run
 * from 1 to UINT32_MAX and never wrap: a cut with none left above the blocks on disk is refused
 * as damage (a segment would have to be cut 2^32 - 2 times first, each cut a sync).
 *
 * The stream holds records: crc32c u32, payload length u32, term u64, index u64, payload. The
 * crc covers every byte after itself (length, term, index and payload). Records are read back
 * and checked on their own, without the blocks around them.
 */
enum {
    wal_block_size = 512,
    wal_block_header_size = 16,
    wal_block_data_size = wal_block_size - wal_block_header_size,
    wal_segment_header_size = wal_block_size,
    wal_record_header_size = 24,
    wal_segment_name_size_max = 32,
};
#define WAL_SEGMENT_MAGIC 0x4c57564bu /* "KVWL" */
#define WAL_BLOCK_MAGIC 0x4b42u       /* "BK" */
#define WAL_FORMAT_VERSION 2u
#define WAL_SEGMENT_SUFFIX ".wal"
/* The hard state and snapshot point files keep their own, unchanged format. */
#define WAL_META_VERSION 1u

/* Hard limit on a configured payload maximum, so record sizes always fit in 32 bits. */
#define WAL_RECORD_PAYLOAD_LIMIT (UINT32_C(1) << 30)
/* durable is a u32 stream offset: a segment's stream stays below 4 GiB. */
#define WAL_SEGMENT_SIZE_LIMIT (UINT64_C(1) << 32)

static inline void wal_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

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

static inline uint16_t wal_get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

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

/* Stream offset -> file offset, and the file bytes (header block included) that hold a
   stream of n bytes in whole blocks. */
static inline uint64_t wal_stream_to_file(uint64_t off)
{
    return wal_segment_header_size + off / wal_block_data_size * wal_block_size +
           wal_block_header_size + off % wal_block_data_size;
}
static inline uint64_t wal_stream_file_size(uint64_t n)
{
    return wal_segment_header_size +
           (n + wal_block_data_size - 1) / wal_block_data_size * wal_block_size;
}

enum wal_block_kind {
    WAL_BLOCK_VALID = 0,
    WAL_BLOCK_ZERO,  /* all zeros: never written (or written as zeros ahead) */
    WAL_BLOCK_BAD,   /* anything else: corrupt */
};

struct wal_block_view {
    uint16_t used;
    uint32_t epoch;
    uint32_t durable;
    const uint8_t *data; /* the used bytes */
};

/* Fills the header of a data block whose data (bytes 16..16+used) is in place: zeroes the
   unused rest, then sets used, magic, epoch, durable and the checksum. */
void wal_block_seal(uint8_t block[wal_block_size], uint16_t used, uint32_t epoch,
                    uint32_t durable);
/* Classifies one block of avail bytes (a short last piece is ZERO only if all zeros). */
enum wal_block_kind wal_block_decode(const uint8_t *p, size_t avail, struct wal_block_view *out);

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
enum wal_header_decode {
    WAL_HEADER_OK = 0,
    WAL_HEADER_ZERO,        /* all zeros, or fewer bytes than a header and all zeros */
    WAL_HEADER_BAD,
    WAL_HEADER_OLD_FORMAT,  /* a whole version 1 header: written by an older kvnode */
};
/* Sets *first_index when OK. */
enum wal_header_decode wal_segment_header_decode(const uint8_t *p, size_t avail,
                                                 uint64_t *first_index);

/* "<20 digits>.wal": names sort in index order. */
void wal_segment_name(char out[wal_segment_name_size_max], uint64_t first_index);
/* True when name is exactly a segment name; sets *first_index. */
bool wal_segment_name_parse(const char *name, uint64_t *first_index);

#endif
