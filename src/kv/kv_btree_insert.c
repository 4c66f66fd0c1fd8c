/* kv_btree_insert.c: B+tree insertion; full nodes split, and a full root grows the tree. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "kv_btree.h"
#include "kv_mem.h"

/* What one insertion may allocate, obtained before the tree changes so that running out of
 * memory leaves it intact. */
struct grow {
    struct kv_node *node;
    size_t node_klen;
    struct kv_btree_leaf *leaf;
    struct kv_btree_sep *sep;
    struct kv_btree_inner *inner[KV_BTREE_DEPTH_MAX];
    uint32_t inners;
};

/* A separator and the new right sibling to link after the child that split. */
struct carry {
    struct kv_btree_sep *sep;
    void *right;
};

/* Inner nodes that will split: the full ones right above the leaf, plus a new root when they
 * reach it. */
static uint32_t inners_needed(const struct kv_index *x, const struct kv_btree_path *path)
{
    uint32_t n = 0;
    for (uint32_t level = x->depth; level-- > 0;) {
        if (path->inner[level]->count < KV_BTREE_INNER_MAX)
            return n;
        n++;
    }
    return n + 1;
}

static void grow_free(struct kv_index *x, struct grow *g)
{
    if (g->node != NULL)
        kv_slab_free(&x->slab, g->node, kv_btree_node_size(g->node_klen));
    free(g->leaf);
    free(g->sep);
    for (uint32_t i = 0; i < g->inners; i++)
        free(g->inner[i]);
}

/* Entries the left leaf keeps of the count + 1 after inserting at slot: all of them when
 * appending at the very end (ordered loads then fill leaves), half otherwise. */
static uint32_t leaf_split_at(const struct kv_btree_leaf *l, uint32_t slot)
{
    if (slot == l->count && l->next == NULL)
        return l->count;
    return (l->count + 1) / 2;
}

/* The key that will open the right leaf, for its separator. */
static const struct kv_node *split_first(const struct kv_btree_leaf *l, uint32_t slot,
                                         const struct kv_node *fresh)
{
    uint32_t at = leaf_split_at(l, slot);
    if (at == slot)
        return fresh;
    return at < slot ? l->node[at] : l->node[at - 1];
}

static bool grow_alloc(struct kv_index *x, const struct kv_btree_path *path,
                       const struct kv_btree_leaf *l, uint32_t slot, size_t klen, struct grow *g)
{
    *g = (struct grow){.node = kv_slab_alloc(&x->slab, kv_btree_node_size(klen)),
                       .node_klen = klen};
    if (g->node == NULL || l->count < KV_BTREE_LEAF_MAX)
        return g->node != NULL;
    g->node->klen = (uint32_t)klen; /* split_first may pick it */
    const struct kv_node *first = split_first(l, slot, g->node);
    g->leaf = malloc(sizeof *g->leaf);
    g->sep = malloc(kv_btree_sep_size(first->klen));
    uint32_t want = inners_needed(x, path);
    assert(want <= x->depth || x->depth + 1 < KV_BTREE_DEPTH_MAX);
    bool ok = g->leaf != NULL && g->sep != NULL;
    for (; ok && g->inners < want; g->inners++) {
        g->inner[g->inners] = malloc(sizeof(struct kv_btree_inner));
        ok = g->inner[g->inners] != NULL;
    }
    if (ok)
        return true;
    grow_free(x, g);
    return false;
}

/* Links n at slot; the caller reheads l when n may lack its head. */
static void leaf_put(struct kv_btree_leaf *l, uint32_t slot, struct kv_node *n)
{
    assert(l->count < KV_BTREE_LEAF_MAX);
    assert(slot <= l->count);
    uint32_t tail = l->count - slot;
    memmove(&l->prefix[slot + 1], &l->prefix[slot], tail * sizeof l->prefix[0]);
    memmove(&l->node[slot + 1], &l->node[slot], tail * sizeof l->node[0]);
    l->prefix[slot] = kv_btree_prefix(n->key, n->klen, l->skip);
    l->node[slot] = n;
    l->count++;
}

/* Links n at slot of a leaf with room, keeping the head true. */
static void leaf_add(struct kv_btree_leaf *l, uint32_t slot, struct kv_node *n)
{
    if (l->count > 0 && !kv_btree_has_head(l->head, l->skip, l->node[0]->key, n->key, n->klen))
        kv_btree_leaf_shorten(l, n->key, n->klen);
    leaf_put(l, slot, n);
    if (l->count == 2)
        kv_btree_leaf_rehead(l);
}

/* Moves entries [at, count) of l into the empty leaf r, linked right after l. */
static void leaf_move_right(struct kv_btree_leaf *l, uint32_t at, struct kv_btree_leaf *r)
{
    r->count = l->count - at;
    memcpy(r->prefix, &l->prefix[at], r->count * sizeof l->prefix[0]);
    memcpy(r->node, &l->node[at], r->count * sizeof l->node[0]);
    l->count = at;
    r->prev = l;
    r->next = l->next;
    if (l->next != NULL)
        l->next->prev = r;
    l->next = r;
}

/* Inserts into a full leaf by splitting it; returns the separator to add above. */
static struct carry leaf_split(struct kv_index *x, struct kv_btree_leaf *l, uint32_t slot,
                               struct grow *g)
{
    uint32_t at = leaf_split_at(l, slot);
    struct kv_btree_leaf *r = g->leaf;
    g->leaf = NULL;
    r->skip = 0;
    /* Both halves keep l's head, true for all of them once it admits the new key; a half
     * whose keys now share more (or, when tiny, less) is rebuilt. */
    if (!kv_btree_has_head(l->head, l->skip, l->node[0]->key, g->node->key, g->node->klen))
        kv_btree_leaf_shorten(l, g->node->key, g->node->klen);
    r->skip = l->skip;
    memcpy(r->head, l->head, sizeof r->head);
    if (at <= slot) {
        leaf_move_right(l, at, r);
        leaf_put(r, slot - at, g->node);
    } else {
        leaf_move_right(l, at - 1, r);
        leaf_put(l, slot, g->node);
    }
    assert(l->count == at);
    if (kv_btree_leaf_head_stale(l))
        kv_btree_leaf_rehead(l);
    if (kv_btree_leaf_head_stale(r))
        kv_btree_leaf_rehead(r);
    x->bytes += kv_mem_charge(sizeof *r);
    struct kv_btree_sep *sep = g->sep;
    g->sep = NULL;
    sep->klen = r->node[0]->klen;
    memcpy(sep->key, r->node[0]->key, sep->klen);
    x->bytes += kv_mem_charge(kv_btree_sep_size(sep->klen));
    return (struct carry){.sep = sep, .right = r};
}

/* Links c.right as the child after slot, c.sep between them. */
static void inner_put(struct kv_btree_inner *n, uint32_t slot, struct carry c)
{
    assert(n->count < KV_BTREE_INNER_MAX);
    assert(slot < n->count);
    if (n->count >= 2 && !kv_btree_has_head(n->head, n->skip, n->sep[0]->key, c.sep->key,
                                            c.sep->klen))
        kv_btree_inner_shorten(n, c.sep->key, c.sep->klen);
    uint32_t tail = n->count - 1 - slot;
    memmove(&n->prefix[slot + 1], &n->prefix[slot], tail * sizeof n->prefix[0]);
    memmove(&n->sep[slot + 1], &n->sep[slot], tail * sizeof n->sep[0]);
    memmove(&n->child[slot + 2], &n->child[slot + 1], tail * sizeof n->child[0]);
    n->prefix[slot] = kv_btree_prefix(c.sep->key, c.sep->klen, n->skip);
    n->sep[slot] = c.sep;
    n->child[slot + 1] = c.right;
    n->count++;
    if (n->count == 3)
        kv_btree_inner_rehead(n);
}

/* Splits full n around the (separator, child) that c adds after slot; r gets the right half and
 * the middle separator moves up. */
static struct carry inner_split(struct kv_btree_inner *n, uint32_t slot, struct carry c,
                                struct kv_btree_inner *r)
{
    enum { total = KV_BTREE_INNER_MAX + 1, keep = total / 2 };
    void *child[total];
    struct kv_btree_sep *sep[total - 1];
    for (uint32_t i = 0, j = 0; i < total; i++) {
        child[i] = i == slot + 1 ? c.right : n->child[j++];
        if (i + 1 < total)
            sep[i] = i == slot ? c.sep : n->sep[i < slot ? i : i - 1];
    }
    n->count = keep;
    r->count = total - keep;
    memcpy(n->child, child, keep * sizeof child[0]);
    memcpy(n->sep, sep, (keep - 1) * sizeof sep[0]);
    memcpy(r->child, &child[keep], r->count * sizeof child[0]);
    memcpy(r->sep, &sep[keep], (r->count - 1) * sizeof sep[0]);
    kv_btree_inner_rehead(n);
    kv_btree_inner_rehead(r);
    return (struct carry){.sep = sep[keep - 1], .right = r};
}

static struct kv_btree_inner *take_inner(struct kv_index *x, struct grow *g)
{
    assert(g->inners > 0);
    x->bytes += kv_mem_charge(sizeof(struct kv_btree_inner));
    return g->inner[--g->inners];
}

/* Adds c above the leaf that split, splitting full ancestors and, past the root, growing. */
static void insert_up(struct kv_index *x, const struct kv_btree_path *path, struct carry c,
                      struct grow *g)
{
    for (uint32_t level = x->depth; level-- > 0;) {
        struct kv_btree_inner *n = path->inner[level];
        if (n->count < KV_BTREE_INNER_MAX) {
            inner_put(n, path->slot[level], c);
            return;
        }
        c = inner_split(n, path->slot[level], c, take_inner(x, g));
    }
    struct kv_btree_inner *root = take_inner(x, g);
    root->count = 2;
    root->child[0] = x->root;
    root->child[1] = c.right;
    root->sep[0] = c.sep;
    kv_btree_inner_rehead(root);
    x->root = root;
    x->depth++;
    assert(x->depth < KV_BTREE_DEPTH_MAX);
}

struct kv_node *kv_index_insert(struct kv_index *x, const uint8_t *key, size_t klen,
                                bool *created)
{
    assert(klen <= UINT32_MAX);
    *created = false;
    uint64_t hash = kv_hash_key(&x->hash, key, klen);
    struct kv_node *found = kv_hash_find(&x->hash, hash, key, klen);
    if (found != NULL)
        return found;
    if (!kv_hash_reserve(&x->hash))
        return NULL;
    struct kv_btree_path path;
    struct kv_btree_leaf *l = kv_btree_descend(x, key, klen, &path);
    uint32_t slot = kv_btree_leaf_lower(l, key, klen);
    /* Absent (the hash table said so); the prefix tells without a dereference, mostly. */
    assert(slot == l->count || l->prefix[slot] != kv_btree_prefix(key, klen, l->skip) ||
           kv_key_cmp(l->node[slot]->key, l->node[slot]->klen, key, klen) != 0);
    struct grow g;
    if (!grow_alloc(x, &path, l, slot, klen, &g))
        return NULL;
    struct kv_node *n = g.node;
    *n = (struct kv_node){.klen = (uint32_t)klen};
    if (klen > 0)
        memcpy(n->key, key, klen);
    x->count++;
    x->bytes += kv_slab_charge(kv_btree_node_size(klen));
    kv_hash_put(&x->hash, hash, n);
    *created = true;
    if (l->count < KV_BTREE_LEAF_MAX) {
        leaf_add(l, slot, n);
        return n;
    }
    struct carry c = leaf_split(x, l, slot, &g);
    insert_up(x, &path, c, &g);
    assert(g.inners == 0);
    return n;
}
