/* kv_btree.h: the B+tree index's layout, shared by its search/insert and removal files. */
#ifndef KV_BTREE_H
#define KV_BTREE_H

#include <stdint.h>
#include <string.h>

#include "kv_bytes.h"
#include "kv_hash.h"
#include "kv_index.h"
#include "kv_slab.h"

/* Leaves: 64 x (8-byte prefix + 8-byte node pointer); the prefixes fill 8 cache lines, and a
 * binary search probes 6 of them, its last 3 steps within one line, before it dereferences
 * the one node it lands on. Inner nodes: 32 children. 1,000,000 random keys need
 * 4 levels. Leaves of 16, 32 and 64 with inner nodes of 32 or 64 measured within 10% of each
 * other (bench/kv/kvstorebench.c); 64/32 had the fastest scans and the least memory. */
#define KV_BTREE_LEAF_MAX 64u
#define KV_BTREE_INNER_MAX 32u
/* A node below a third full merges with a sibling when both fit in one. */
#define KV_BTREE_LEAF_MIN (KV_BTREE_LEAF_MAX / 3u)
#define KV_BTREE_INNER_MIN (KV_BTREE_INNER_MAX / 3u)
/* Root splits need a full root, so depth grows like log base 16 of the keys ever held. */
#define KV_BTREE_DEPTH_MAX 16u
_Static_assert(KV_BTREE_LEAF_MIN >= 1 && KV_BTREE_INNER_MIN >= 2, "minimums must be useful");

/* Every key of a node (leaf keys, or an inner node's separators) starts with the node's first
 * `skip` bytes, its head; the first KV_BTREE_HEAD_MAX of them are copied into the node. Within
 * a node keys sort by prefix first: their 8 bytes after the head, big-endian, zero-padded.
 * Equal prefixes fall back to the full key (node key in a leaf, separator copy in an inner
 * node). Keys that share a long start (kvbench's "k0000000000...") so differ within the 8
 * bytes most nodes compare, and a search dereferences no key until the leaf. A search key
 * meets the head first: below it, it is below every key of the node; above it, above all.
 * skip is the common prefix of the node's first and last key when the node was last rebuilt
 * (a merge, an inner split, a leaf split that gained KV_BTREE_REHEAD_GAIN bytes); a key
 * without the head shortens it; removals leave it, still true. A node with fewer than two
 * keys has skip 0. */
#define KV_BTREE_HEAD_MAX 16u
/* A split rebuilds a half's head (dereferencing each of its keys) only when its keys share
 * this many more bytes than the head: until then the prefixes still hold at least 8 - 4
 * bytes that tell keys apart. Every split rebuilding cost random 15-digit kvbench-like keys
 * 15% more insert time (tests/kv, kvstorebench digits). */
#define KV_BTREE_REHEAD_GAIN 4u

struct kv_btree_leaf {
    uint32_t count;
    uint32_t skip;
    struct kv_btree_leaf *prev, *next;
    uint8_t head[KV_BTREE_HEAD_MAX];
    uint64_t prefix[KV_BTREE_LEAF_MAX];
    struct kv_node *node[KV_BTREE_LEAF_MAX];
};

/* A separator: a copy of the first key of the subtree on its right when it was made. Every key
 * left of it is smaller, every key right of it is greater or equal. */
struct kv_btree_sep {
    uint32_t klen;
    uint8_t key[];
};

struct kv_btree_inner {
    uint32_t count; /* children; count - 1 separators */
    uint32_t skip;  /* of the separators */
    uint8_t head[KV_BTREE_HEAD_MAX];
    uint64_t prefix[KV_BTREE_INNER_MAX - 1];
    struct kv_btree_sep *sep[KV_BTREE_INNER_MAX - 1];
    void *child[KV_BTREE_INNER_MAX]; /* inner nodes above depth, leaves at it */
};

/* The tree keeps the order (cursors, ranges); the hash table beside it finds a key's node
 * without a descent, which with long shared prefixes compares whole keys at every level.
 * Both hold every node. */
struct kv_index {
    void *root;     /* a leaf when depth is 0 */
    uint32_t depth; /* inner levels above the leaves */
    uint64_t count;
    uint64_t bytes; /* the tree's; the hash table counts its own */
    struct kv_hash hash;
    struct kv_slab slab; /* the nodes, and the store's versions */
};

/* The inner nodes and child slots a descent went through, root first. */
struct kv_btree_path {
    struct kv_btree_inner *inner[KV_BTREE_DEPTH_MAX];
    uint32_t slot[KV_BTREE_DEPTH_MAX];
};

/* The 8 bytes of key after its first skip, big-endian, zero-padded. */
uint64_t kv_btree_prefix(const uint8_t *key, size_t klen, size_t skip);
/* Whether key starts with the head of a node whose keys include `any`. */
bool kv_btree_has_head(const uint8_t *head, uint32_t skip, const uint8_t *any, const uint8_t *key,
                       size_t klen);
/* Recompute skip, head and every prefix from the node's keys. */
void kv_btree_leaf_rehead(struct kv_btree_leaf *l);
void kv_btree_inner_rehead(struct kv_btree_inner *n);
/* Before linking a key without the node's head: shortens the head to what key shares with
 * it, without dereferencing the node's keys. */
void kv_btree_leaf_shorten(struct kv_btree_leaf *l, const uint8_t *key, size_t klen);
void kv_btree_inner_shorten(struct kv_btree_inner *n, const uint8_t *key, size_t klen);
/* Whether the leaf's keys now share KV_BTREE_REHEAD_GAIN bytes more than its head, or it
 * has fewer than two keys and a head (two key dereferences). */
bool kv_btree_leaf_head_stale(const struct kv_btree_leaf *l);
/* Sign of (key - the node's head) when key does not start with it, else 0; any is one of the
 * node's keys, for the bytes past the copied head. */
int kv_btree_head_cmp_bytes(const uint8_t *head, uint32_t skip, const uint8_t *any,
                            const uint8_t *key, size_t klen);

/* kv_btree_prefix, with the common case (8 bytes there to read) inline for searches. */
static inline uint64_t kv_btree_prefix_at(const uint8_t *key, size_t klen, size_t skip)
{
    if (klen >= skip + 8)
        return kv_load_be8(key + skip);
    return kv_btree_prefix(key, klen, skip);
}

/* The first n (1..8) bytes of two big-endian words, compared. */
static inline int kv_btree_word_cmp(uint64_t a, uint64_t b, uint32_t n)
{
    uint64_t mask = ~0ull << (64 - 8 * n);
    a &= mask;
    b &= mask;
    return a == b ? 0 : (a < b ? -1 : 1);
}

/* kv_btree_head_cmp_bytes for a head of skip > 0 bytes, without calls when both the key and
 * the head span the 16 copied bytes. */
static inline int kv_btree_head_cmp(const uint8_t *head, uint32_t skip, const uint8_t *any,
                                    const uint8_t *key, size_t klen)
{
    if (klen < KV_BTREE_HEAD_MAX || skip > KV_BTREE_HEAD_MAX)
        return kv_btree_head_cmp_bytes(head, skip, any, key, klen);
    uint64_t k0 = kv_load_be8(key), h0 = kv_load_be8(head);
    int c = kv_btree_word_cmp(k0, h0, skip < 8 ? skip : 8);
    if (c == 0 && skip > 8)
        c = kv_btree_word_cmp(kv_load_be8(key + 8), kv_load_be8(head + 8), skip - 8);
    return c;
}

/* The leaf where key belongs, filling path when not NULL. */
struct kv_btree_leaf *kv_btree_descend(const struct kv_index *x, const uint8_t *key, size_t klen,
                                       struct kv_btree_path *path);
/* The first slot of leaf whose key is >= key. */
uint32_t kv_btree_leaf_lower(const struct kv_btree_leaf *l, const uint8_t *key, size_t klen);
size_t kv_btree_node_size(size_t klen);
size_t kv_btree_sep_size(size_t klen);

#endif
