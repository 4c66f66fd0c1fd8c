/* kv_digest.h: an order-free 128-bit digest of the live (key, value, version) triples. */
#ifndef KV_DIGEST_H
#define KV_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define KV_DIGEST_HEX_LEN 32

/* The sum (mod 2^64, per lane) of a hash of each live triple: adding and removing one triple
 * is O(1), so the store keeps it current on every write, and equal live states give equal
 * digests whatever order they were built in. Not a defence against a chosen-input attacker. */
struct kv_digest {
    uint64_t lane[2];
};

void kv_digest_add(struct kv_digest *d, const uint8_t *key, size_t klen, const uint8_t *val,
                   size_t vlen, uint64_t version);
void kv_digest_sub(struct kv_digest *d, const uint8_t *key, size_t klen, const uint8_t *val,
                   size_t vlen, uint64_t version);
/* Writes KV_DIGEST_HEX_LEN hex digits and a NUL. */
void kv_digest_hex(const struct kv_digest *d, char out[KV_DIGEST_HEX_LEN + 1]);

#endif
