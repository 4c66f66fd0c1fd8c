/* txn.c: growing, sorting and counting a history of list-append transactions. */
#include "txn.h"

#include <stdlib.h>
#include <string.h>

void kvt_txns_init(struct kvt_txns *h) { memset(h, 0, sizeof *h); }

void kvt_txn_free(struct kvt_txn *t)
{
    for (uint32_t i = 0; i < t->mop_count; i++)
        free(t->mops[i].list);
    free(t->mops);
    t->mops = NULL;
    t->mop_count = 0;
}

void kvt_txns_free(struct kvt_txns *h)
{
    for (size_t i = 0; i < h->count; i++)
        kvt_txn_free(&h->txns[i]);
    free(h->txns);
    kvt_txns_init(h);
}

int kvt_txns_add(struct kvt_txns *h, struct kvt_txn *t)
{
    if (h->count == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 256;
        struct kvt_txn *txns = realloc(h->txns, cap * sizeof *txns);
        if (!txns) {
            kvt_txn_free(t);
            return -1;
        }
        h->txns = txns;
        h->cap = cap;
    }
    h->txns[h->count++] = *t;
    t->mops = NULL;
    t->mop_count = 0;
    return 0;
}

static struct kvt_mop *new_mop(struct kvt_txn *t)
{
    struct kvt_mop *mops = realloc(t->mops, (t->mop_count + 1) * sizeof *mops);
    if (!mops)
        return NULL;
    t->mops = mops;
    struct kvt_mop *m = &mops[t->mop_count++];
    memset(m, 0, sizeof *m);
    return m;
}

int kvt_txn_read(struct kvt_txn *t, uint32_t key, bool conflict, const int64_t *list,
                 uint32_t len)
{
    int64_t *copy = NULL;
    if (len > 0 && !(copy = malloc(len * sizeof *copy)))
        return -1;
    if (len > 0)
        memcpy(copy, list, len * sizeof *copy);
    struct kvt_mop *m = new_mop(t);
    if (!m) {
        free(copy);
        return -1;
    }
    *m = (struct kvt_mop){.kind = KVT_MOP_READ, .key = key, .conflict = conflict,
                          .list = copy, .len = len};
    return 0;
}

int kvt_txn_append(struct kvt_txn *t, uint32_t key, int64_t element)
{
    struct kvt_mop *m = new_mop(t);
    if (!m)
        return -1;
    *m = (struct kvt_mop){.kind = KVT_MOP_APPEND, .key = key, .element = element};
    return 0;
}

static int by_invoke(const void *a, const void *b)
{
    const struct kvt_txn *x = a, *y = b;
    if (x->invoke_ns != y->invoke_ns)
        return x->invoke_ns < y->invoke_ns ? -1 : 1;
    return x->process < y->process ? -1 : x->process > y->process;
}

void kvt_txns_sort(struct kvt_txns *h)
{
    if (h->count > 1)
        qsort(h->txns, h->count, sizeof *h->txns, by_invoke);
}

void kvt_txns_count(const struct kvt_txns *h, struct kvt_txn_counts *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < h->count; i++) {
        const struct kvt_txn *t = &h->txns[i];
        if ((unsigned)t->outcome >= KVT_OUTCOMES)
            continue;
        out->txns[t->outcome]++;
        for (uint32_t j = 0; j < t->mop_count; j++) {
            if (t->mops[j].kind == KVT_MOP_READ)
                out->reads[t->outcome]++;
            else
                out->appends[t->outcome]++;
        }
    }
}
