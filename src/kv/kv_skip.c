/* kv_skip.c: the index as a skip list (p = 1/4); each node holds its key, then its links. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "kv_err.h"
#include "kv_index.h"
#include "kv_mem.h"

#define KV_SKIP_SEED 0x9E3779B97F4A7C15ull
/* Heights are drawn with p = 1/4, so 16 levels index 4^16 = 4 billion keys well. */
#define KV_SKIP_HEIGHT_MAX 16
_Static_assert(KV_SKIP_HEIGHT_MAX <= UINT8_MAX, "the height lives in kv_node.aux");

/* After the key, 8-byte aligned: the level-0 predecessor and aux (the height) forward links. */
struct skip_links {
    struct kv_node *prev;
    struct kv_node *next[];
};

struct kv_index {
    struct kv_node *head; /* sentinel below every key: KV_SKIP_HEIGHT_MAX links, no key */
    uint32_t height;      /* tallest level in use, at least 1 */
    uint64_t rng;         /* xorshift64 state for heights: fixed seed, so runs repeat */
    uint64_t count;
    uint64_t bytes;
};

static size_t links_offset(size_t klen)
{
    return (offsetof(struct kv_node, key) + klen + 7) & ~(size_t)7;
}

static struct skip_links *links(const struct kv_node *n)
{
    return (struct skip_links *)((uint8_t *)n + links_offset(n->klen));
}

static struct kv_node *next0(const struct kv_node *n) { return links(n)->next[0]; }

static size_t node_size(uint32_t height, size_t klen)
{
    return links_offset(klen) + sizeof(struct skip_links) + height * sizeof(struct kv_node *);
}

const char *kv_index_kind(void) { return "skiplist"; }

struct kv_index *kv_index_new(void)
{
    struct kv_index *x = calloc(1, sizeof *x);
    size_t size = node_size(KV_SKIP_HEIGHT_MAX, 0);
    if (x == NULL || (x->head = calloc(1, size)) == NULL) {
        free(x);
        return NULL;
    }
    x->head->aux = KV_SKIP_HEIGHT_MAX;
    x->height = 1;
    x->rng = KV_SKIP_SEED;
    x->bytes = kv_mem_charge(sizeof *x) + kv_mem_charge(size);
    return x;
}

void kv_index_free(struct kv_index *x)
{
    if (x == NULL)
        return;
    struct kv_node *n = next0(x->head);
    while (n != NULL) {
        struct kv_node *next = next0(n);
        assert(n->newest == NULL);
        free(n);
        n = next;
    }
    free(x->head);
    free(x);
}

uint64_t kv_index_count(const struct kv_index *x) { return x->count; }
uint64_t kv_index_bytes(const struct kv_index *x) { return x->bytes; }

/* Fills preds[level] with the last node whose key is < key on every level in use; returns the
 * level-0 successor, the first node >= key. */
static struct kv_node *find_preds(const struct kv_index *x, const uint8_t *key, size_t klen,
                                  struct kv_node **preds)
{
    struct kv_node *p = x->head;
    for (int level = (int)x->height - 1; level >= 0; level--) {
        struct kv_node *n = links(p)->next[level];
        while (n != NULL && kv_key_cmp(n->key, n->klen, key, klen) < 0) {
            p = n;
            n = links(p)->next[level];
        }
        if (preds != NULL)
            preds[level] = p;
    }
    return next0(p);
}

static struct kv_cursor at(struct kv_node *n) { return (struct kv_cursor){.node = n}; }

struct kv_cursor kv_index_first(const struct kv_index *x) { return at(next0(x->head)); }

struct kv_cursor kv_index_last(const struct kv_index *x)
{
    struct kv_node *p = x->head;
    for (int level = (int)x->height - 1; level >= 0; level--)
        while (links(p)->next[level] != NULL)
            p = links(p)->next[level];
    return at(p == x->head ? NULL : p);
}

struct kv_cursor kv_index_ge(const struct kv_index *x, const uint8_t *key, size_t klen)
{
    return at(find_preds(x, key, klen, NULL));
}

struct kv_cursor kv_index_lt(const struct kv_index *x, const uint8_t *key, size_t klen)
{
    struct kv_node *n = find_preds(x, key, klen, NULL);
    if (n != NULL)
        return at(links(n)->prev);
    return kv_index_last(x);
}

void kv_index_next(struct kv_cursor *c) { c->node = next0(c->node); }
void kv_index_prev(struct kv_cursor *c) { c->node = links(c->node)->prev; }

struct kv_node *kv_index_find(const struct kv_index *x, const uint8_t *key, size_t klen)
{
    struct kv_node *n = find_preds(x, key, klen, NULL);
    if (n != NULL && kv_key_cmp(n->key, n->klen, key, klen) == 0)
        return n;
    return NULL;
}

static uint32_t random_height(struct kv_index *x)
{
    uint64_t r = x->rng;
    r ^= r << 13;
    r ^= r >> 7;
    r ^= r << 17;
    x->rng = r;
    uint32_t height = 1;
    while (height < KV_SKIP_HEIGHT_MAX && (r & 3) == 0) {
        height++;
        r >>= 2;
    }
    return height;
}

static void link_node(struct kv_index *x, struct kv_node *n, struct kv_node **preds)
{
    uint32_t height = n->aux;
    for (uint32_t level = x->height; level < height; level++)
        preds[level] = x->head;
    if (height > x->height)
        x->height = height;
    for (uint32_t level = 0; level < height; level++) {
        links(n)->next[level] = links(preds[level])->next[level];
        links(preds[level])->next[level] = n;
    }
    links(n)->prev = preds[0] == x->head ? NULL : preds[0];
    if (next0(n) != NULL)
        links(next0(n))->prev = n;
}

struct kv_node *kv_index_insert(struct kv_index *x, const uint8_t *key, size_t klen,
                                bool *created)
{
    assert(klen <= UINT32_MAX);
    struct kv_node *preds[KV_SKIP_HEIGHT_MAX];
    struct kv_node *succ = find_preds(x, key, klen, preds);
    *created = false;
    if (succ != NULL && kv_key_cmp(succ->key, succ->klen, key, klen) == 0)
        return succ;
    uint32_t height = random_height(x);
    size_t size = node_size(height, klen);
    struct kv_node *n = malloc(size);
    if (n == NULL)
        return NULL;
    n->newest = NULL;
    n->klen = (uint32_t)klen;
    n->queued = 0;
    n->aux = (uint8_t)height;
    if (klen > 0)
        memcpy(n->key, key, klen);
    link_node(x, n, preds);
    x->count++;
    x->bytes += kv_mem_charge(size);
    *created = true;
    return n;
}

void kv_index_remove(struct kv_index *x, struct kv_node *node)
{
    assert(node != NULL);
    assert(node->newest == NULL);
    struct kv_node *preds[KV_SKIP_HEIGHT_MAX];
    struct kv_node *found = find_preds(x, node->key, node->klen, preds);
    assert(found == node);
    for (uint32_t level = 0; level < node->aux; level++) {
        assert(links(preds[level])->next[level] == node);
        links(preds[level])->next[level] = links(node)->next[level];
    }
    if (next0(node) != NULL)
        links(next0(node))->prev = links(node)->prev;
    while (x->height > 1 && links(x->head)->next[x->height - 1] == NULL)
        x->height--;
    assert(x->count > 0);
    x->count--;
    x->bytes -= kv_mem_charge(node_size(node->aux, node->klen));
    free(node);
}

void kv_index_check(const struct kv_index *x)
{
    uint64_t count = 0, bytes = kv_mem_charge(sizeof *x) +
                                kv_mem_charge(node_size(KV_SKIP_HEIGHT_MAX, 0));
    struct kv_node *prev = NULL;
    for (struct kv_node *n = next0(x->head); n != NULL; prev = n, n = next0(n)) {
        assert(links(n)->prev == prev);
        assert(n->aux >= 1 && n->aux <= x->height);
        assert(prev == NULL || kv_key_cmp(prev->key, prev->klen, n->key, n->klen) < 0);
        for (uint32_t level = 1; level < n->aux; level++) {
            struct kv_node *up = links(n)->next[level];
            assert(up == NULL || kv_key_cmp(n->key, n->klen, up->key, up->klen) < 0);
            (void)up;
        }
        count++;
        bytes += kv_mem_charge(node_size(n->aux, n->klen));
    }
    assert(count == x->count);
    assert(bytes == x->bytes);
    (void)count, (void)bytes;
}
