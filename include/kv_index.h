/* kv_index.h: the ordered index of keys the store uses, a B+tree (kv_btree*.c). */
#ifndef KV_INDEX_H
#define KV_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kv_ver;
struct kv_slab;

/* One key: allocated by the index, never moved while linked, so the store may keep pointers to
 * it (the reclaim queue does). */
struct kv_node {
    struct kv_ver *newest; /* the key's versions, newest first; the store's payload */
    uint32_t klen;
    uint8_t queued; /* the store's: the node has its one entry in the reclaim queue */
    uint8_t key[];  /* klen bytes */
};

static inline const uint8_t *kv_node_key(const struct kv_node *n) { return n->key; }

/* memcmp order; a proper prefix sorts first. */
int kv_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

struct kv_index;
struct kv_btree_leaf;

/* A position in key order: node is NULL past either end. */
struct kv_cursor {
    struct kv_node *node;
    struct kv_btree_leaf *leaf;
    uint32_t slot;
};

/* The index's kind, for benchmark reports. */
const char *kv_index_kind(void);
/* NULL when out of memory. */
struct kv_index *kv_index_new(void);
/* Frees the index and every node; the caller must have freed their payloads. */
void kv_index_free(struct kv_index *x);
/* The allocator of the index's nodes (kv_slab.h); the store keeps its versions there too, and
 * frees them all before kv_index_free. */
struct kv_slab *kv_index_slab(struct kv_index *x);
uint64_t kv_index_count(const struct kv_index *x);
/* What everything the index holds costs (kv_mem_charge, kv_slab_charge for nodes). */
uint64_t kv_index_bytes(const struct kv_index *x);

struct kv_cursor kv_index_first(const struct kv_index *x);
struct kv_cursor kv_index_last(const struct kv_index *x);
/* The first key >= key. */
struct kv_cursor kv_index_ge(const struct kv_index *x, const uint8_t *key, size_t klen);
/* The last key < key. */
struct kv_cursor kv_index_lt(const struct kv_index *x, const uint8_t *key, size_t klen);
void kv_index_next(struct kv_cursor *c);
void kv_index_prev(struct kv_cursor *c);

/* The node holding exactly key, or NULL. */
struct kv_node *kv_index_find(const struct kv_index *x, const uint8_t *key, size_t klen);
/* The node for key, linked with newest == NULL when *created; NULL when out of memory. */
struct kv_node *kv_index_insert(struct kv_index *x, const uint8_t *key, size_t klen,
                                bool *created);
/* Unlinks and frees node; its payload must already be gone. */
void kv_index_remove(struct kv_index *x, struct kv_node *node);

/* Walks the whole index asserting its invariants: order, links, counts, bytes. For tests. */
void kv_index_check(const struct kv_index *x);

#endif
