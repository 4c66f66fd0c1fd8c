/* kv_digest.c: two independently seeded 64-bit hash lanes over each live triple. */
#include "kv_digest.h"

#include <stdio.h>

static const uint64_t lane_seed[2] = {0x243F6A8885A308D3ull, 0x13198A2E03707344ull};

/* A 64-bit finalizer: every input bit flips about half the output bits. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDull;
    x ^= x >> 33;
    x *= 0xC4CEB9FE1A85EC53ull;
    x ^= x >> 33;
    return x;
}

/* Little-endian word loads keep the digest equal across hosts of either byte order. */
static uint64_t load_le(const uint8_t *p, size_t n)
{
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++)
        w |= (uint64_t)p[i] << (8 * i);
    return w;
}

static uint64_t hash_bytes(uint64_t h, const uint8_t *p, size_t n)
{
    h = mix64(h ^ (uint64_t)n) * 0x9E3779B97F4A7C15ull;
    while (n >= 8) {
        h = mix64(h ^ load_le(p, 8)) + 0x632BE59BD9B4E019ull;
        p += 8;
        n -= 8;
    }
    return mix64(h ^ load_le(p, n) ^ ((uint64_t)n << 59));
}

static uint64_t hash_triple(int lane, const uint8_t *key, size_t klen, const uint8_t *val,
                            size_t vlen, uint64_t version)
{
    uint64_t h = mix64(lane_seed[lane] ^ version);
    h = hash_bytes(h, key, klen);
    return hash_bytes(h, val, vlen);
}

void kv_digest_add(struct kv_digest *d, const uint8_t *key, size_t klen, const uint8_t *val,
                   size_t vlen, uint64_t version)
{
    for (int lane = 0; lane < 2; lane++)
        d->lane[lane] += hash_triple(lane, key, klen, val, vlen, version);
}

void kv_digest_sub(struct kv_digest *d, const uint8_t *key, size_t klen, const uint8_t *val,
                   size_t vlen, uint64_t version)
{
    for (int lane = 0; lane < 2; lane++)
        d->lane[lane] -= hash_triple(lane, key, klen, val, vlen, version);
}

void kv_digest_hex(const struct kv_digest *d, char out[KV_DIGEST_HEX_LEN + 1])
{
    snprintf(out, KV_DIGEST_HEX_LEN + 1, "%016llx%016llx", (unsigned long long)d->lane[0],
             (unsigned long long)d->lane[1]);
}
