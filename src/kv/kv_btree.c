/* kv_btree.c: the index as a B+tree: search, cursors, insertion with splits, lifecycle. */
#include "kv_btree.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "kv_mem.h"

static inline uint64_t load_be8(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

/* kv_btree_prefix, with the common case (8 bytes there to read) inline for searches. */
static inline uint64_t prefix_at(const uint8_t *key, size_t klen, size_t skip)
{
    if (klen >= skip + 8)
        return load_be8(key + skip);
    return kv_btree_prefix(key, klen, skip);
}

uint64_t kv_btree_prefix(const uint8_t *key, size_t klen, size_t skip)
{
    uint8_t b[8] = {0};
    if (klen > skip) /* an empty key may come as NULL */
        memcpy(b, key + skip, klen - skip < 8 ? klen - skip : 8);
    uint64_t p;
    memcpy(&p, b, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    p = __builtin_bswap64(p);
#endif
    return p;
}

size_t kv_btree_node_size(size_t klen) { return offsetof(struct kv_node, key) + klen; }
size_t kv_btree_sep_size(size_t klen) { return offsetof(struct kv_btree_sep, key) + klen; }

/* Sign of (key - the node's head) when key does not start with it, else 0. A proper prefix of
 * the head sorts below it. any is one of the node's keys, for bytes past the copied head. */
static int head_cmp_bytes(const uint8_t *head, uint32_t skip, const uint8_t *any,
                          const uint8_t *key, size_t klen)
{
    size_t n = klen < skip ? klen : skip;
    size_t inline_n = n < KV_BTREE_HEAD_MAX ? n : KV_BTREE_HEAD_MAX;
    int c = inline_n == 0 ? 0 : memcmp(key, head, inline_n);
    if (c == 0 && n > inline_n)
        c = memcmp(key + inline_n, any + inline_n, n - inline_n);
    if (c != 0)
        return c < 0 ? -1 : 1;
    return klen < skip ? -1 : 0;
}

/* The first n (1..8) bytes of two big-endian words, compared. */
static inline int word_cmp(uint64_t a, uint64_t b, uint32_t n)
{
    uint64_t mask = ~0ull << (64 - 8 * n);
    a &= mask;
    b &= mask;
    return a == b ? 0 : (a < b ? -1 : 1);
}

/* head_cmp_bytes without calls when both the key and the head span the copied 16 bytes. */
static inline int head_cmp(const uint8_t *head, uint32_t skip, const uint8_t *any,
                           const uint8_t *key, size_t klen)
{
    if (klen < KV_BTREE_HEAD_MAX || skip > KV_BTREE_HEAD_MAX)
        return head_cmp_bytes(head, skip, any, key, klen);
    int c = word_cmp(load_be8(key), load_be8(head), skip < 8 ? skip : 8);
    if (c == 0 && skip > 8)
        c = word_cmp(load_be8(key + 8), load_be8(head + 8), skip - 8);
    return c;
}

bool kv_btree_has_head(const uint8_t *head, uint32_t skip, const uint8_t *any, const uint8_t *key,
                       size_t klen)
{
    return skip == 0 || head_cmp(head, skip, any, key, klen) == 0;
}

static uint32_t common_len(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen, i = 0;
    while (i < n && a[i] == b[i])
        i++;
    assert(i <= UINT32_MAX);
    return (uint32_t)i;
}

static void set_head(uint8_t head[KV_BTREE_HEAD_MAX], uint32_t *skip, const uint8_t *first,
                     size_t flen, const uint8_t *last, size_t llen)
{
    *skip = common_len(first, flen, last, llen);
    memset(head, 0, KV_BTREE_HEAD_MAX);
    if (*skip > 0)
        memcpy(head, first, *skip < KV_BTREE_HEAD_MAX ? *skip : KV_BTREE_HEAD_MAX);
}

/* Shortens a head of *skip bytes to the part key shares with it, and rewrites the prefixes
 * from the head bytes that now come first: no key needs dereferencing (but `any`, past the
 * copied head). */
static void head_shorten(const uint8_t *head, uint32_t *skip, const uint8_t *any,
                         uint64_t *prefix, uint32_t n, const uint8_t *key, size_t klen)
{
    uint32_t s = *skip, t = 0;
    size_t limit = klen < s ? klen : s;
    while (t < limit && key[t] == (t < KV_BTREE_HEAD_MAX ? head[t] : any[t]))
        t++;
    assert(t < s);
    uint32_t d = s - t;
    uint64_t h = 0;
    for (uint32_t i = t; i < t + (d < 8 ? d : 8); i++)
        h = h << 8 | (i < KV_BTREE_HEAD_MAX ? head[i] : any[i]);
    for (uint32_t i = 0; i < n; i++)
        prefix[i] = d < 8 ? h << (64 - 8 * d) | prefix[i] >> (8 * d) : h;
    *skip = t;
}

void kv_btree_leaf_shorten(struct kv_btree_leaf *l, const uint8_t *key, size_t klen)
{
    assert(l->count > 0);
    head_shorten(l->head, &l->skip, l->node[0]->key, l->prefix, l->count, key, klen);
}

void kv_btree_inner_shorten(struct kv_btree_inner *n, const uint8_t *key, size_t klen)
{
    assert(n->count > 1);
    head_shorten(n->head, &n->skip, n->sep[0]->key, n->prefix, n->count - 1, key, klen);
}

bool kv_btree_leaf_head_stale(const struct kv_btree_leaf *l)
{
    if (l->count < 2)
        return l->skip != 0;
    const struct kv_node *a = l->node[0], *b = l->node[l->count - 1];
    return common_len(a->key, a->klen, b->key, b->klen) >= l->skip + KV_BTREE_REHEAD_GAIN;
}

void kv_btree_leaf_rehead(struct kv_btree_leaf *l)
{
    l->skip = 0;
    if (l->count >= 2) {
        const struct kv_node *a = l->node[0], *b = l->node[l->count - 1];
        set_head(l->head, &l->skip, a->key, a->klen, b->key, b->klen);
    }
    for (uint32_t i = 0; i < l->count; i++)
        l->prefix[i] = kv_btree_prefix(l->node[i]->key, l->node[i]->klen, l->skip);
}

void kv_btree_inner_rehead(struct kv_btree_inner *n)
{
    uint32_t seps = n->count - 1;
    n->skip = 0;
    if (seps >= 2) {
        const struct kv_btree_sep *a = n->sep[0], *b = n->sep[seps - 1];
        set_head(n->head, &n->skip, a->key, a->klen, b->key, b->klen);
    }
    for (uint32_t i = 0; i < seps; i++)
        n->prefix[i] = kv_btree_prefix(n->sep[i]->key, n->sep[i]->klen, n->skip);
}

/* Sign of (entry i - key), for a key with the node's head. */
static int leaf_cmp(const struct kv_btree_leaf *l, uint32_t i, uint64_t kp, const uint8_t *key,
                    size_t klen)
{
    if (l->prefix[i] != kp)
        return l->prefix[i] < kp ? -1 : 1;
    return kv_key_cmp(l->node[i]->key, l->node[i]->klen, key, klen);
}

static int sep_cmp(const struct kv_btree_inner *n, uint32_t i, uint64_t kp, const uint8_t *key,
                   size_t klen)
{
    if (n->prefix[i] != kp)
        return n->prefix[i] < kp ? -1 : 1;
    return kv_key_cmp(n->sep[i]->key, n->sep[i]->klen, key, klen);
}

uint32_t kv_btree_leaf_lower(const struct kv_btree_leaf *l, const uint8_t *key, size_t klen)
{
    if (l->skip > 0) {
        int h = head_cmp(l->head, l->skip, l->node[0]->key, key, klen);
        if (h != 0)
            return h < 0 ? 0 : l->count;
    }
    uint64_t kp = prefix_at(key, klen, l->skip);
    uint32_t lo = 0, hi = l->count;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (leaf_cmp(l, mid, kp, key, klen) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The child whose subtree holds key: the number of separators <= key. */
static uint32_t inner_slot(const struct kv_btree_inner *n, const uint8_t *key, size_t klen)
{
    if (n->skip > 0) {
        int h = head_cmp(n->head, n->skip, n->sep[0]->key, key, klen);
        if (h != 0)
            return h < 0 ? 0 : n->count - 1;
    }
    uint64_t kp = prefix_at(key, klen, n->skip);
    uint32_t lo = 0, hi = n->count - 1;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (sep_cmp(n, mid, kp, key, klen) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct kv_btree_leaf *kv_btree_descend(const struct kv_index *x, const uint8_t *key, size_t klen,
                                       struct kv_btree_path *path)
{
    void *p = x->root;
    for (uint32_t level = 0; level < x->depth; level++) {
        struct kv_btree_inner *n = p;
        uint32_t slot = inner_slot(n, key, klen);
        if (path != NULL) {
            path->inner[level] = n;
            path->slot[level] = slot;
        }
        p = n->child[slot];
    }
    return p;
}

const char *kv_index_kind(void) { return "btree+hash"; }

struct kv_index *kv_index_new(void)
{
    struct kv_index *x = calloc(1, sizeof *x);
    struct kv_btree_leaf *root = calloc(1, sizeof *root);
    if (x == NULL || root == NULL || !kv_hash_init(&x->hash)) {
        if (x != NULL)
            kv_hash_free(&x->hash);
        free(x);
        free(root);
        return NULL;
    }
    x->root = root;
    x->bytes = kv_mem_charge(sizeof *x) + kv_mem_charge(sizeof *root);
    return x;
}

static void free_subtree(void *p, uint32_t levels)
{
    if (levels == 0) {
        struct kv_btree_leaf *l = p;
        for (uint32_t i = 0; i < l->count; i++) {
            assert(l->node[i]->newest == NULL);
            free(l->node[i]);
        }
        free(l);
        return;
    }
    struct kv_btree_inner *n = p;
    for (uint32_t i = 0; i < n->count; i++)
        free_subtree(n->child[i], levels - 1);
    for (uint32_t i = 0; i + 1 < n->count; i++)
        free(n->sep[i]);
    free(n);
}

void kv_index_free(struct kv_index *x)
{
    if (x == NULL)
        return;
    free_subtree(x->root, x->depth);
    kv_hash_free(&x->hash);
    free(x);
}

uint64_t kv_index_count(const struct kv_index *x) { return x->count; }
uint64_t kv_index_bytes(const struct kv_index *x) { return x->bytes + kv_hash_bytes(&x->hash); }

/* ---------------------------------------------------------------- cursors */

static struct kv_cursor at(struct kv_btree_leaf *l, uint32_t slot)
{
    if (l == NULL || slot >= l->count)
        return (struct kv_cursor){.node = NULL};
    return (struct kv_cursor){.node = l->node[slot], .leaf = l, .slot = slot};
}

static struct kv_btree_leaf *edge_leaf(const struct kv_index *x, bool last)
{
    void *p = x->root;
    for (uint32_t level = 0; level < x->depth; level++) {
        struct kv_btree_inner *n = p;
        p = n->child[last ? n->count - 1 : 0];
    }
    return p;
}

struct kv_cursor kv_index_first(const struct kv_index *x) { return at(edge_leaf(x, false), 0); }

struct kv_cursor kv_index_last(const struct kv_index *x)
{
    struct kv_btree_leaf *l = edge_leaf(x, true);
    return l->count == 0 ? at(NULL, 0) : at(l, l->count - 1);
}

/* Only the root leaf is ever empty, and it has no neighbours. */
void kv_index_next(struct kv_cursor *c)
{
    struct kv_btree_leaf *l = c->leaf;
    assert(c->node != NULL);
    *c = c->slot + 1 < l->count ? at(l, c->slot + 1) : at(l->next, 0);
}

void kv_index_prev(struct kv_cursor *c)
{
    struct kv_btree_leaf *l = c->leaf;
    assert(c->node != NULL);
    if (c->slot > 0)
        *c = at(l, c->slot - 1);
    else
        *c = l->prev == NULL ? at(NULL, 0) : at(l->prev, l->prev->count - 1);
}

struct kv_cursor kv_index_ge(const struct kv_index *x, const uint8_t *key, size_t klen)
{
    struct kv_btree_leaf *l = kv_btree_descend(x, key, klen, NULL);
    uint32_t slot = kv_btree_leaf_lower(l, key, klen);
    return slot < l->count ? at(l, slot) : at(l->next, 0);
}

struct kv_cursor kv_index_lt(const struct kv_index *x, const uint8_t *key, size_t klen)
{
    struct kv_btree_leaf *l = kv_btree_descend(x, key, klen, NULL);
    uint32_t slot = kv_btree_leaf_lower(l, key, klen);
    if (slot > 0)
        return at(l, slot - 1);
    return l->prev == NULL ? at(NULL, 0) : at(l->prev, l->prev->count - 1);
}

struct kv_node *kv_index_find(const struct kv_index *x, const uint8_t *key, size_t klen)
{
    return kv_hash_find(&x->hash, kv_hash_key(&x->hash, key, klen), key, klen);
}
