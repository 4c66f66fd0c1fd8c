/* kv_digest.c: two independently seeded 64-bit hash lanes over each live triple. */
#include "kv_digest.h"

#include "kv_bytes.h"

#include <stdio.h>
#include <string.h>

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

/* Both lanes in one pass over the bytes: each word is loaded once and the two lanes' mixing
 * chains, independent of each other, overlap in the pipeline. Each lane computes exactly what
 * it computed alone (digests are compared across replicas and stored in snapshots;
 * tests/kv/test_store.c pins known values). */
static void hash_bytes(uint64_t h[2], const uint8_t *p, size_t n)
{
    uint64_t a = mix64(h[0] ^ (uint64_t)n) * 0x9E3779B97F4A7C15ull;
    uint64_t b = mix64(h[1] ^ (uint64_t)n) * 0x9E3779B97F4A7C15ull;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w = kv_load_le8(p);
        a = mix64(a ^ w) + 0x632BE59BD9B4E019ull;
        b = mix64(b ^ w) + 0x632BE59BD9B4E019ull;
    }
    uint64_t tail = load_le(p, n) ^ ((uint64_t)n << 59);
    h[0] = mix64(a ^ tail);
    h[1] = mix64(b ^ tail);
}

static void hash_triple(uint64_t h[2], const uint8_t *key, size_t klen, const uint8_t *val,
                        size_t vlen, uint64_t version)
{
    h[0] = mix64(lane_seed[0] ^ version);
    h[1] = mix64(lane_seed[1] ^ version);
    hash_bytes(h, key, klen);
    hash_bytes(h, val, vlen);
}

void kv_digest_add(struct kv_digest *d, const uint8_t *key, size_t klen, const uint8_t *val,
                   size_t vlen, uint64_t version)
{
    uint64_t h[2];
    hash_triple(h, key, klen, val, vlen, version);
    d->lane[0] += h[0];
    d->lane[1] += h[1];
}

void kv_digest_sub(struct kv_digest *d, const uint8_t *key, size_t klen, const uint8_t *val,
                   size_t vlen, uint64_t version)
{
    uint64_t h[2];
    hash_triple(h, key, klen, val, vlen, version);
    d->lane[0] -= h[0];
    d->lane[1] -= h[1];
}

void kv_digest_hex(const struct kv_digest *d, char out[KV_DIGEST_HEX_LEN + 1])
{
    snprintf(out, KV_DIGEST_HEX_LEN + 1, "%016llx%016llx", (unsigned long long)d->lane[0],
             (unsigned long long)d->lane[1]);
}
