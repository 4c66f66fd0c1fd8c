/* kv_skip.h: the ordered index of keys: a skip list, one allocation per key (links + key). */
#ifndef KV_SKIP_H
#define KV_SKIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kv_ver;

/* Heights are drawn with p = 1/4, so 16 levels index 4^16 = 4 billion keys well. */
#define KV_SKIP_HEIGHT_MAX 16

struct kv_node {
    struct kv_ver *newest; /* the key's versions, newest first; the store's payload */
    struct kv_node *prev;  /* level-0 predecessor (NULL for the first key): reverse scans */
    uint32_t klen;
    uint8_t height;          /* links in next[], 1..KV_SKIP_HEIGHT_MAX */
    uint8_t queued;          /* the store's: the node has its one entry in the reclaim queue */
    struct kv_node *next[];  /* height links, followed by the klen key bytes */
};

struct kv_skip {
    struct kv_node *head; /* sentinel below every key: KV_SKIP_HEIGHT_MAX links, no key */
    uint32_t height;      /* tallest level in use, at least 1 */
    uint64_t rng;         /* xorshift64 state for heights: fixed seed, so runs repeat */
    uint64_t count;       /* keys linked */
    uint64_t bytes;       /* kv_mem_charge() of every node, head included */
};

static inline const uint8_t *kv_node_key(const struct kv_node *n)
{
    return (const uint8_t *)&n->next[n->height];
}

/* memcmp order; a proper prefix sorts first. */
int kv_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* 0 or KV_ERR_NOMEM. */
int kv_skip_init(struct kv_skip *s);
/* Frees every node; the caller must have freed their payloads (see kv_skip_first/next). */
void kv_skip_free(struct kv_skip *s);

struct kv_node *kv_skip_first(const struct kv_skip *s);
struct kv_node *kv_skip_last(const struct kv_skip *s);
/* The node holding exactly key, or NULL. */
struct kv_node *kv_skip_find(const struct kv_skip *s, const uint8_t *key, size_t klen);
/* The first node with a key >= key, or NULL. */
struct kv_node *kv_skip_ge(const struct kv_skip *s, const uint8_t *key, size_t klen);
/* The last node with a key < key, or NULL. */
struct kv_node *kv_skip_lt(const struct kv_skip *s, const uint8_t *key, size_t klen);
/* The node for key, linked with newest == NULL when *created; NULL when out of memory. */
struct kv_node *kv_skip_insert(struct kv_skip *s, const uint8_t *key, size_t klen, bool *created);
/* Unlinks and frees node; its payload must already be gone. */
void kv_skip_remove(struct kv_skip *s, struct kv_node *node);

#endif
