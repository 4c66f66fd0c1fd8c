/* kv_btree_check.c: walks the whole B+tree asserting its invariants (for tests). */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "kv_btree.h"
#include "kv_mem.h"

struct walk {
    const struct kv_btree_leaf *prev_leaf; /* in key order, to check the links */
    const struct kv_node *prev_node;
    uint64_t keys;
    uint64_t bytes;
};

/* Every key of a subtree lies in [lo, hi); NULL bounds are open. */
struct bounds {
    const struct kv_btree_sep *lo, *hi;
};

/* key starts with the node's head and prefix holds its next 8 bytes. */
static void check_head(const uint8_t *head, uint32_t skip, const uint8_t *key, size_t klen,
                       uint64_t prefix)
{
    assert(klen >= skip);
    size_t copied = skip < KV_BTREE_HEAD_MAX ? skip : KV_BTREE_HEAD_MAX;
    assert(skip == 0 || memcmp(key, head, copied) == 0);
    assert(prefix == kv_btree_prefix(key, klen, skip));
    (void)head, (void)skip, (void)key, (void)klen, (void)prefix, (void)copied;
}

static void check_key(const struct kv_btree_leaf *l, uint32_t i, struct bounds b)
{
    const struct kv_node *n = l->node[i];
    check_head(l->head, l->skip, n->key, n->klen, l->prefix[i]);
    if (l->skip > KV_BTREE_HEAD_MAX)
        assert(memcmp(n->key, l->node[0]->key, l->skip) == 0);
    assert(b.lo == NULL || kv_key_cmp(b.lo->key, b.lo->klen, n->key, n->klen) <= 0);
    assert(b.hi == NULL || kv_key_cmp(n->key, n->klen, b.hi->key, b.hi->klen) < 0);
    (void)n, (void)b;
}

static void check_leaf(const struct kv_index *x, const struct kv_btree_leaf *l, struct bounds b,
                       struct walk *w)
{
    assert(l->count <= KV_BTREE_LEAF_MAX);
    assert(l->count > 0 || (x->depth == 0 && x->count == 0));
    assert(l->count >= 2 || l->skip == 0);
    assert(l->prev == w->prev_leaf);
    assert(w->prev_leaf == NULL || w->prev_leaf->next == l);
    for (uint32_t i = 0; i < l->count; i++) {
        const struct kv_node *n = l->node[i];
        check_key(l, i, b);
        assert(w->prev_node == NULL ||
               kv_key_cmp(w->prev_node->key, w->prev_node->klen, n->key, n->klen) < 0);
        w->prev_node = n;
        w->bytes += kv_slab_charge(kv_btree_node_size(n->klen));
    }
    w->keys += l->count;
    w->bytes += kv_mem_charge(sizeof *l);
    w->prev_leaf = l;
}

static void check_subtree(const struct kv_index *x, const void *p, uint32_t level,
                          struct bounds b, struct walk *w)
{
    if (level == x->depth) {
        check_leaf(x, p, b, w);
        return;
    }
    const struct kv_btree_inner *n = p;
    assert(n->count <= KV_BTREE_INNER_MAX);
    assert(n->count >= (level == 0 ? 2u : 1u));
    assert(n->count >= 3 || n->skip == 0);
    w->bytes += kv_mem_charge(sizeof *n);
    for (uint32_t i = 0; i < n->count; i++) {
        struct bounds cb = {i == 0 ? b.lo : n->sep[i - 1], i + 1 == n->count ? b.hi : n->sep[i]};
        if (i + 1 < n->count) {
            const struct kv_btree_sep *s = n->sep[i];
            check_head(n->head, n->skip, s->key, s->klen, n->prefix[i]);
            if (n->skip > KV_BTREE_HEAD_MAX)
                assert(memcmp(s->key, n->sep[0]->key, n->skip) == 0);
            assert(cb.lo == NULL || kv_key_cmp(cb.lo->key, cb.lo->klen, s->key, s->klen) < 0);
            w->bytes += kv_mem_charge(kv_btree_sep_size(s->klen));
        }
        check_subtree(x, n->child[i], level + 1, cb, w);
    }
}

void kv_index_check(const struct kv_index *x)
{
    struct walk w = {0};
    check_subtree(x, x->root, 0, (struct bounds){NULL, NULL}, &w);
    assert(w.prev_leaf == NULL || w.prev_leaf->next == NULL);
    assert(w.keys == x->count);
    assert(w.bytes + kv_mem_charge(sizeof *x) == x->bytes);
    (void)w;
    /* The hash table holds exactly the tree's nodes: as many, and each one found by its key. */
    kv_hash_check(&x->hash);
    assert(kv_hash_count(&x->hash) == x->count);
    for (struct kv_cursor c = kv_index_first(x); c.node != NULL; kv_index_next(&c))
        assert(kv_index_find(x, c.node->key, c.node->klen) == c.node);
}
