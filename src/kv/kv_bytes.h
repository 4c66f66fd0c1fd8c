/* kv_bytes.h: 64-bit word loads in a fixed byte order, whatever the host's. */
#ifndef KV_BYTES_H
#define KV_BYTES_H

#include <stdint.h>
#include <string.h>

/* Little-endian: hashes and digests come out the same on every host. */
static inline uint64_t kv_load_le8(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

/* Big-endian: unsigned comparison of two words orders them as memcmp orders their bytes. */
static inline uint64_t kv_load_be8(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

#endif
