/* kv_btree.c: the index as a B+tree: search, cursors, lifecycle. */
#include "kv_btree.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "kv_mem.h"


size_t kv_btree_node_size(size_t klen) { return offsetof(struct kv_node, key) + klen; }
size_t kv_btree_sep_size(size_t klen) { return offsetof(struct kv_btree_sep, key) + klen; }


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
        int h = kv_btree_head_cmp(l->head, l->skip, l->node[0]->key, key, klen);
        if (h != 0)
            return h < 0 ? 0 : l->count;
    }
    uint64_t kp = kv_btree_prefix_at(key, klen, l->skip);
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
        int h = kv_btree_head_cmp(n->head, n->skip, n->sep[0]->key, key, klen);
        if (h != 0)
            return h < 0 ? 0 : n->count - 1;
    }
    uint64_t kp = kv_btree_prefix_at(key, klen, n->skip);
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
    kv_slab_init(&x->slab);
    return x;
}

static void free_subtree(struct kv_index *x, void *p, uint32_t levels)
{
    if (levels == 0) {
        struct kv_btree_leaf *l = p;
        for (uint32_t i = 0; i < l->count; i++) {
            assert(l->node[i]->newest == NULL);
            kv_slab_free(&x->slab, l->node[i], kv_btree_node_size(l->node[i]->klen));
        }
        free(l);
        return;
    }
    struct kv_btree_inner *n = p;
    for (uint32_t i = 0; i < n->count; i++)
        free_subtree(x, n->child[i], levels - 1);
    for (uint32_t i = 0; i + 1 < n->count; i++)
        free(n->sep[i]);
    free(n);
}

void kv_index_free(struct kv_index *x)
{
    if (x == NULL)
        return;
    free_subtree(x, x->root, x->depth);
    kv_hash_free(&x->hash);
    kv_slab_destroy(&x->slab);
    free(x);
}

struct kv_slab *kv_index_slab(struct kv_index *x) { return &x->slab; }

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
