/* kv_btree_head.c: node heads (the bytes all keys of a node share) and the prefixes after them. */
#include <assert.h>
#include <string.h>

#include "kv_btree.h"

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

/* Sign of (key - the node's head) when key does not start with it, else 0. A proper prefix of
 * the head sorts below it. any is one of the node's keys, for bytes past the copied head. */
int kv_btree_head_cmp_bytes(const uint8_t *head, uint32_t skip, const uint8_t *any,
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

bool kv_btree_has_head(const uint8_t *head, uint32_t skip, const uint8_t *any, const uint8_t *key,
                       size_t klen)
{
    return skip == 0 || kv_btree_head_cmp(head, skip, any, key, klen) == 0;
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
