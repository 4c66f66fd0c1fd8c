/* kv_btree_remove.c: B+tree removal; a node that runs low merges with a sibling when both fit
 * in one, and a root left with one child gives way to it. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "kv_btree.h"
#include "kv_mem.h"

static void leaf_del(struct kv_btree_leaf *l, uint32_t slot)
{
    assert(slot < l->count);
    uint32_t tail = l->count - slot - 1;
    memmove(&l->prefix[slot], &l->prefix[slot + 1], tail * sizeof l->prefix[0]);
    memmove(&l->node[slot], &l->node[slot + 1], tail * sizeof l->node[0]);
    l->count--;
    if (l->count < 2)
        l->skip = 0; /* kv_btree.h: fewer than two keys have no head */
    if (l->count == 1)
        l->prefix[0] = kv_btree_prefix(l->node[0]->key, l->node[0]->klen, 0);
}

/* Drops separator i and child i + 1 of n. */
static void inner_del(struct kv_btree_inner *n, uint32_t i)
{
    assert(i + 1 < n->count);
    uint32_t tail = n->count - i - 2;
    memmove(&n->prefix[i], &n->prefix[i + 1], tail * sizeof n->prefix[0]);
    memmove(&n->sep[i], &n->sep[i + 1], tail * sizeof n->sep[0]);
    memmove(&n->child[i + 1], &n->child[i + 2], tail * sizeof n->child[0]);
    n->count--;
    if (n->count < 3 && n->skip > 0)
        kv_btree_inner_rehead(n);
}

static bool merge_leaves(struct kv_index *x, struct kv_btree_inner *parent, uint32_t i)
{
    struct kv_btree_leaf *a = parent->child[i], *b = parent->child[i + 1];
    if (a->count + b->count > KV_BTREE_LEAF_MAX)
        return false;
    memcpy(&a->node[a->count], b->node, b->count * sizeof b->node[0]);
    a->count += b->count;
    kv_btree_leaf_rehead(a);
    a->next = b->next;
    if (b->next != NULL)
        b->next->prev = a;
    x->bytes -= kv_mem_charge(kv_btree_sep_size(parent->sep[i]->klen));
    free(parent->sep[i]);
    inner_del(parent, i);
    x->bytes -= kv_mem_charge(sizeof *b);
    free(b);
    return true;
}

/* The separator between a and b comes down between their children. */
static bool merge_inners(struct kv_index *x, struct kv_btree_inner *parent, uint32_t i)
{
    struct kv_btree_inner *a = parent->child[i], *b = parent->child[i + 1];
    if (a->count + b->count > KV_BTREE_INNER_MAX)
        return false;
    a->sep[a->count - 1] = parent->sep[i];
    memcpy(&a->sep[a->count], b->sep, (b->count - 1) * sizeof b->sep[0]);
    memcpy(&a->child[a->count], b->child, b->count * sizeof b->child[0]);
    a->count += b->count;
    kv_btree_inner_rehead(a);
    inner_del(parent, i);
    x->bytes -= kv_mem_charge(sizeof *b);
    free(b);
    return true;
}

/* Walks up from the leaf that lost an entry while nodes run low and merges succeed. */
static void rebalance(struct kv_index *x, const struct kv_btree_path *path)
{
    for (uint32_t level = x->depth; level > 0; level--) {
        struct kv_btree_inner *parent = path->inner[level - 1];
        uint32_t slot = path->slot[level - 1];
        bool leaves = level == x->depth;
        uint32_t count = leaves ? ((struct kv_btree_leaf *)parent->child[slot])->count
                                : ((struct kv_btree_inner *)parent->child[slot])->count;
        if (count >= (leaves ? KV_BTREE_LEAF_MIN : KV_BTREE_INNER_MIN) || parent->count < 2)
            return;
        uint32_t i = slot > 0 ? slot - 1 : 0;
        if (!(leaves ? merge_leaves(x, parent, i) : merge_inners(x, parent, i)))
            return;
    }
}

static void shrink_root(struct kv_index *x)
{
    while (x->depth > 0 && ((struct kv_btree_inner *)x->root)->count == 1) {
        struct kv_btree_inner *old = x->root;
        x->root = old->child[0];
        x->depth--;
        x->bytes -= kv_mem_charge(sizeof *old);
        free(old);
    }
}

void kv_index_remove(struct kv_index *x, struct kv_node *node)
{
    assert(node != NULL);
    assert(node->newest == NULL);
    struct kv_btree_path path;
    struct kv_btree_leaf *l = kv_btree_descend(x, node->key, node->klen, &path);
    uint32_t slot = kv_btree_leaf_lower(l, node->key, node->klen);
    assert(slot < l->count);
    assert(l->node[slot] == node);
    kv_hash_del(&x->hash, kv_hash_key(&x->hash, node->key, node->klen), node);
    leaf_del(l, slot);
    assert(x->count > 0);
    x->count--;
    x->bytes -= kv_slab_charge(kv_btree_node_size(node->klen));
    kv_slab_free(&x->slab, node, kv_btree_node_size(node->klen));
    rebalance(x, &path);
    shrink_root(x);
}
