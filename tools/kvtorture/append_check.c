/* append_check.c: the list-append checker's reads: who appended what, which txns committed,
   each key's version order, and the anomalies visible before the graph. */
#include "append_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define ANOMALY_TEXT(name, text) text,
const char *kvt_anomaly_name(enum kvt_anomaly a)
{
    static const char *const names[KVT_ANOMALIES] = {KVT_ANOMALIES_X(ANOMALY_TEXT)};
    return (unsigned)a < KVT_ANOMALIES ? names[a] : "?";
}

bool kvt_append_clean(const struct kvt_append_result *r)
{
    for (int a = 0; a < KVT_ANOMALIES; a++)
        if (r->count[a])
            return false;
    return true;
}

static int by_element(const void *a, const void *b)
{
    const struct elem_ref *x = a, *y = b;
    return x->element < y->element ? -1 : x->element > y->element;
}

const struct elem_ref *chk_elem(const struct chk *c, int64_t element)
{
    struct elem_ref probe = {.element = element};
    return bsearch(&probe, c->elems, c->elem_count, sizeof probe, by_element);
}

static int by_key(const void *a, const void *b)
{
    const struct key_order *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key;
}

struct key_order *chk_key(const struct chk *c, uint32_t key)
{
    struct key_order probe = {.key = key};
    return bsearch(&probe, c->keys, c->key_count, sizeof probe, by_key);
}

bool chk_external_read(const struct kvt_txn *t, uint32_t mop)
{
    for (uint32_t i = 0; i < mop; i++)
        if (t->mops[i].kind == KVT_MOP_APPEND && t->mops[i].key == t->mops[mop].key)
            return false;
    return true;
}

bool chk_prefix(const struct key_order *k, const struct kvt_mop *m)
{
    return m->len <= k->n && (m->len == 0 || memcmp(m->list, k->v, m->len * sizeof *k->v) == 0);
}

/* Every append, sorted by element; an element appended twice is a duplicate. */
static int index_elements(struct chk *c)
{
    const struct kvt_txns *h = c->h;
    size_t n = 0;
    for (size_t i = 0; i < h->count; i++)
        for (uint32_t j = 0; j < h->txns[i].mop_count; j++)
            n += h->txns[i].mops[j].kind == KVT_MOP_APPEND;
    if (!(c->elems = calloc(n ? n : 1, sizeof *c->elems)))
        return -1;
    for (size_t i = 0; i < h->count; i++) {
        const struct kvt_txn *t = &h->txns[i];
        for (uint32_t j = 0; j < t->mop_count; j++) {
            const struct kvt_mop *m = &t->mops[j];
            if (m->kind != KVT_MOP_APPEND)
                continue;
            struct elem_ref *e = &c->elems[c->elem_count++];
            *e = (struct elem_ref){.element = m->element, .txn = (uint32_t)i, .key = m->key,
                                   .last = true};
            for (uint32_t later = j + 1; later < t->mop_count; later++)
                if (t->mops[later].kind == KVT_MOP_APPEND && t->mops[later].key == m->key)
                    e->last = false;
        }
    }
    qsort(c->elems, c->elem_count, sizeof *c->elems, by_element);
    for (size_t i = 1; i < c->elem_count; i++)
        if (c->elems[i].element == c->elems[i - 1].element)
            chk_report(c, KVT_AN_DUPLICATE, "one element appended twice", c->elems[i - 1].txn,
                       c->elems[i].txn);
    return 0;
}

/* Committed: ok, or info with an element an ok txn read. */
static int mark_committed(struct chk *c)
{
    const struct kvt_txns *h = c->h;
    if (!(c->committed = calloc(h->count ? h->count : 1, sizeof *c->committed)))
        return -1;
    for (size_t i = 0; i < h->count; i++) {
        const struct kvt_txn *t = &h->txns[i];
        c->committed[i] = c->committed[i] || t->outcome == KVT_OK;
        for (uint32_t j = 0; t->outcome == KVT_OK && j < t->mop_count; j++) {
            const struct kvt_mop *m = &t->mops[j];
            for (uint32_t e = 0; m->kind == KVT_MOP_READ && e < m->len; e++) {
                const struct elem_ref *ref = chk_elem(c, m->list[e]);
                if (ref && h->txns[ref->txn].outcome == KVT_INFO)
                    c->committed[ref->txn] = true;
            }
        }
    }
    for (size_t i = 0; i < h->count; i++)
        c->r->committed += c->committed[i];
    return 0;
}

static int by_value(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    return *x < *y ? -1 : *x > *y;
}

static bool has_duplicate(const struct kvt_mop *m, int64_t *scratch)
{
    if (m->len < 2)
        return false;
    memcpy(scratch, m->list, m->len * sizeof *scratch);
    qsort(scratch, m->len, sizeof *scratch, by_value);
    for (uint32_t i = 1; i < m->len; i++)
        if (scratch[i] == scratch[i - 1])
            return true;
    return false;
}

/* One committed read: each element known, appended to this key, by a txn that did not fail;
   the last one a txn's final append to the key. */
static void check_read(struct chk *c, uint32_t t, const struct kvt_mop *m, int64_t *scratch)
{
    const struct kvt_txns *h = c->h;
    if (has_duplicate(m, scratch))
        chk_report(c, KVT_AN_DUPLICATE, "an element twice in one read", t, KVT_NONE_TXN);
    for (uint32_t e = 0; e < m->len; e++) {
        const struct elem_ref *ref = chk_elem(c, m->list[e]);
        if (!ref || ref->key != m->key)
            chk_report(c, KVT_AN_UNKNOWN_ELEMENT, "a read saw an element never appended to its key",
                       t, KVT_NONE_TXN);
        else if (h->txns[ref->txn].outcome == KVT_FAIL)
            chk_report(c, KVT_AN_G1A, "a read saw an element of a failed txn", t, ref->txn);
        else if (e + 1 == m->len && !ref->last && ref->txn != t)
            chk_report(c, KVT_AN_G1B, "a read ends at a txn's intermediate append", t, ref->txn);
    }
}

static int check_reads(struct chk *c)
{
    const struct kvt_txns *h = c->h;
    uint32_t longest = 0;
    for (size_t i = 0; i < h->count; i++)
        for (uint32_t j = 0; j < h->txns[i].mop_count; j++)
            longest = h->txns[i].mops[j].len > longest ? h->txns[i].mops[j].len : longest;
    int64_t *scratch = malloc((longest ? longest : 1) * sizeof *scratch);
    if (!scratch)
        return -1;
    for (size_t i = 0; i < h->count; i++) {
        const struct kvt_txn *t = &h->txns[i];
        for (uint32_t j = 0; c->committed[i] && j < t->mop_count; j++)
            if (t->mops[j].kind == KVT_MOP_READ && chk_external_read(t, j))
                check_read(c, (uint32_t)i, &t->mops[j], scratch);
    }
    free(scratch);
    return 0;
}

int kvt_append_check(const struct kvt_txns *h, FILE *out, struct kvt_append_result *r)
{
    memset(r, 0, sizeof *r);
    struct chk c = {.h = h, .out = out, .r = r};
    int rc = index_elements(&c);
    if (rc == 0)
        rc = mark_committed(&c);
    if (rc == 0)
        rc = check_reads(&c);
    if (rc == 0)
        rc = chk_orders(&c);
    if (rc == 0)
        rc = chk_lost(&c);
    if (rc == 0)
        rc = chk_graph(&c);
    free(c.elems);
    free(c.committed);
    free(c.keys);
    return rc;
}
