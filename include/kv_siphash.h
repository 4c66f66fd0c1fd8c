/* kv_siphash.h: SipHash-1-3, a keyed 64-bit hash of short byte strings. */
#ifndef KV_SIPHASH_H
#define KV_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* The index hashes keys that outsiders choose; with a secret key they cannot aim many keys at
 * one home slot (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012). One
 * compression and three finalization rounds, as CPython's and Rust's hash tables use.
 * p may be NULL when n is 0. */
uint64_t kv_siphash13(const uint64_t key[2], const uint8_t *p, size_t n);

#endif
