/* append_order.c: each key's version order from the longest read, and what breaks it without
   a cycle: incompatible orders, lost updates, lost appends. */
#include "append_internal.h"

#include <stdlib.h>
#include <string.h>

static int by_u32(const void *a, const void *b)
{
    const uint32_t *x = a, *y = b;
    return *x < *y ? -1 : *x > *y;
}

/* The distinct keys of every mop, sorted, as empty orders. */
static int collect_keys(struct chk *c)
{
    const struct kvt_txns *h = c->h;
    size_t n = 0;
    for (size_t i = 0; i < h->count; i++)
        n += h->txns[i].mop_count;
    uint32_t *keys = malloc((n ? n : 1) * sizeof *keys);
    c->keys = calloc(n ? n : 1, sizeof *c->keys);
    if (!keys || !c->keys) {
        free(keys);
        return -1;
    }
    n = 0;
    for (size_t i = 0; i < h->count; i++)
        for (uint32_t j = 0; j < h->txns[i].mop_count; j++)
            keys[n++] = h->txns[i].mops[j].key;
    qsort(keys, n, sizeof *keys, by_u32);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || keys[i] != keys[i - 1])
            c->keys[c->key_count++].key = keys[i];
    free(keys);
    c->r->keys = c->key_count;
    return 0;
}

int chk_orders(struct chk *c)
{
    const struct kvt_txns *h = c->h;
    if (collect_keys(c) != 0)
        return -1;
    for (size_t i = 0; i < h->count; i++) {
        const struct kvt_txn *t = &h->txns[i];
        for (uint32_t j = 0; c->committed[i] && j < t->mop_count; j++) {
            const struct kvt_mop *m = &t->mops[j];
            if (m->kind != KVT_MOP_READ || !chk_external_read(t, j))
                continue;
            struct key_order *k = chk_key(c, m->key);
            if (!k->any_read || m->len > k->n)
                k->v = m->list, k->n = m->len, k->owner = (uint32_t)i;
            if (!k->any_read || t->invoke_ns > k->last_read_invoke_ns)
                k->last_read_invoke_ns = t->invoke_ns;
            k->any_read = true;
        }
    }
    for (size_t i = 0; i < h->count; i++) {
        const struct kvt_txn *t = &h->txns[i];
        for (uint32_t j = 0; c->committed[i] && j < t->mop_count; j++) {
            const struct kvt_mop *m = &t->mops[j];
            struct key_order *k = chk_key(c, m->key);
            if (m->kind == KVT_MOP_READ && chk_external_read(t, j) && !chk_prefix(k, m))
                chk_report(c, KVT_AN_INCOMPATIBLE_ORDER,
                           "a read is not a prefix of the key's longest read", (uint32_t)i,
                           k->owner);
        }
    }
    return 0;
}

struct rmw {
    uint32_t key, txn;
    const struct kvt_mop *read;
};

static int by_read_state(const void *a, const void *b)
{
    const struct rmw *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->read->len != y->read->len)
        return x->read->len < y->read->len ? -1 : 1;
    size_t n = x->read->len * sizeof *x->read->list;
    return n ? memcmp(x->read->list, y->read->list, n) : 0;
}

static bool appends_after(const struct kvt_txn *t, uint32_t mop)
{
    for (uint32_t i = mop + 1; i < t->mop_count; i++)
        if (t->mops[i].kind == KVT_MOP_APPEND && t->mops[i].key == t->mops[mop].key)
            return true;
    return false;
}

/* Committed read-modify-writes of a key in the conflict set, by the state they read: two on
   one state should have conflicted. */
static int lost_updates(struct chk *c)
{
    const struct kvt_txns *h = c->h;
    size_t n = 0;
    for (size_t i = 0; i < h->count; i++)
        n += h->txns[i].mop_count;
    struct rmw *all = malloc((n ? n : 1) * sizeof *all);
    if (!all)
        return -1;
    n = 0;
    for (size_t i = 0; i < h->count; i++) {
        const struct kvt_txn *t = &h->txns[i];
        for (uint32_t j = 0; c->committed[i] && j < t->mop_count; j++)
            if (t->mops[j].kind == KVT_MOP_READ && t->mops[j].conflict &&
                chk_external_read(t, j) && appends_after(t, j))
                all[n++] = (struct rmw){t->mops[j].key, (uint32_t)i, &t->mops[j]};
    }
    qsort(all, n, sizeof *all, by_read_state);
    for (size_t i = 1; i < n; i++)
        if (by_read_state(&all[i - 1], &all[i]) == 0 && all[i - 1].txn != all[i].txn)
            chk_report(c, KVT_AN_LOST_UPDATE, "two commits read one state and both appended",
                       all[i - 1].txn, all[i].txn);
    free(all);
    return 0;
}

/* An ok append in no version order, though a committed read of its key began after it
   completed. */
static int lost_appends(struct chk *c)
{
    bool *ordered = calloc(c->elem_count ? c->elem_count : 1, sizeof *ordered);
    if (!ordered)
        return -1;
    for (size_t k = 0; k < c->key_count; k++)
        for (uint32_t i = 0; i < c->keys[k].n; i++) {
            const struct elem_ref *ref = chk_elem(c, c->keys[k].v[i]);
            if (ref && ref->key == c->keys[k].key)
                ordered[ref - c->elems] = true;
        }
    for (size_t e = 0; e < c->elem_count; e++) {
        const struct elem_ref *ref = &c->elems[e];
        const struct kvt_txn *t = &c->h->txns[ref->txn];
        const struct key_order *k = chk_key(c, ref->key);
        if (!ordered[e] && t->outcome == KVT_OK && k->any_read &&
            k->last_read_invoke_ns > t->complete_ns)
            chk_report(c, KVT_AN_LOST_APPEND, "an ok append no later read of its key holds",
                       ref->txn, k->owner);
    }
    free(ordered);
    return 0;
}

int chk_lost(struct chk *c)
{
    return lost_updates(c) != 0 || lost_appends(c) != 0 ? -1 : 0;
}
