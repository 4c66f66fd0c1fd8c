/* kv_hash.h: an exact-key hash table beside the B+tree, so point lookups skip its descent. */
#ifndef KV_HASH_H
#define KV_HASH_H

#include <stdbool.h>
#include <stdint.h>

#include "kv_index.h"

/* Open addressing with linear probing over 16-byte slots: the key's full hash is kept in the
 * slot, so a probe dereferences a node only when the hash matches. The table grows past 3/4
 * full and shrinks below 1/16 full. A resize never stops the world: the new table takes every
 * insertion while each insertion and removal also drains part of the old one (at least
 * KV_HASH_DRAIN_SLOTS slots, more while they are empty, up to KV_HASH_DRAIN_MOVES nodes or
 * KV_HASH_DRAIN_VISITS slots), so the old table is empty before the new one can need to resize
 * again (see kv_hash.c). Lookups look in the new table, then in the old. */
#define KV_HASH_SLOTS_MIN 16u
#define KV_HASH_DRAIN_SLOTS 16u
#define KV_HASH_DRAIN_MOVES 16u
#define KV_HASH_DRAIN_VISITS 256u
/* Tables of this size or more are mapped from the kernel (their pages are zeroed as first
 * touched, so a resize does not clear the whole table at once) and returned in
 * KV_HASH_UNMAP_BYTES pieces, one per operation: unmapping 16 MiB of touched pages at once took
 * 0.7 ms. */
#define KV_HASH_MAP_BYTES_MIN (1u << 20)
#define KV_HASH_UNMAP_BYTES (256u << 10)

struct kv_hash_slot {
    uint64_t hash;
    struct kv_node *node; /* NULL: empty; KV_HASH_GONE in a draining table: moved or removed */
};

struct kv_hash_table {
    struct kv_hash_slot *slot; /* NULL when there is no table */
    uint64_t mask;             /* slots - 1, a power of two less one */
    uint64_t count;            /* nodes held */
};

struct kv_hash {
    struct kv_hash_table cur;
    struct kv_hash_table old; /* being drained into cur, or slot NULL */
    uint64_t drain;           /* old's next slot to move */
    uint8_t *dead;            /* a drained mapped table, unmapped from its end */
    uint64_t dead_bytes;      /* what is left of it */
    uint64_t seed[2];         /* the SipHash key, random per table */
};

/* The marker of a slot a draining table gave up; never a linked node. */
extern struct kv_node kv_hash_gone;
#define KV_HASH_GONE (&kv_hash_gone)

/* false when out of memory. */
bool kv_hash_init(struct kv_hash *h);
void kv_hash_free(struct kv_hash *h);
uint64_t kv_hash_count(const struct kv_hash *h);
/* kv_mem_charge() of the slot arrays. */
uint64_t kv_hash_bytes(const struct kv_hash *h);

uint64_t kv_hash_key(const struct kv_hash *h, const uint8_t *key, size_t klen);
/* The node holding exactly key (whose kv_hash_key is hash), or NULL. */
struct kv_node *kv_hash_find(const struct kv_hash *h, uint64_t hash, const uint8_t *key,
                             size_t klen);
/* Makes room for one kv_hash_put; false when out of memory and no room is left. */
bool kv_hash_reserve(struct kv_hash *h);
/* Adds node, whose key is absent, after a successful kv_hash_reserve. */
void kv_hash_put(struct kv_hash *h, uint64_t hash, struct kv_node *node);
/* Removes node, which is present. */
void kv_hash_del(struct kv_hash *h, uint64_t hash, const struct kv_node *node);
/* Whether a resize is still draining its old table (for tests). */
bool kv_hash_draining(const struct kv_hash *h);

/* Asserts the tables' invariants: hashes, probe runs, counts. For tests. */
void kv_hash_check(const struct kv_hash *h);

#endif
