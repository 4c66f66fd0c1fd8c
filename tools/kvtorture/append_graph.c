/* append_graph.c: the dependency graph of committed list-append txns (ww, wr, rw from each
   key's version order; real time through a chain of completion points), its cycles named. */
#include "append_internal.h"
#include "digraph.h"

#include <assert.h>
#include <stdlib.h>

enum { EDGE_WW = 1, EDGE_WR = 2, EDGE_RW = 4, EDGE_RT = 8 };
/* Components classified (and printed); the rest are only counted. */
#define CYCLES_CLASSIFIED_MAX 32
#define CYCLE_SHOWN_MAX 64

/* The committed txn that appended the version order's element i of k, or KVT_NONE_TXN. */
static uint32_t writer(const struct chk *c, const struct key_order *k, uint32_t i)
{
    const struct elem_ref *ref = chk_elem(c, k->v[i]);
    return ref && ref->key == k->key && c->committed[ref->txn] ? ref->txn : KVT_NONE_TXN;
}

static int edge(struct kvt_digraph *g, uint32_t from, uint32_t to, unsigned type)
{
    if (from == KVT_NONE_TXN || to == KVT_NONE_TXN || from == to)
        return 0;
    return kvt_digraph_add(g, from, to, type);
}

static int key_edges(struct chk *c, struct kvt_digraph *g)
{
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < c->key_count; k++)
        for (uint32_t i = 0; rc == 0 && i + 1 < c->keys[k].n; i++)
            rc = edge(g, writer(c, &c->keys[k], i), writer(c, &c->keys[k], i + 1), EDGE_WW);
    for (size_t i = 0; rc == 0 && i < c->h->count; i++) {
        const struct kvt_txn *t = &c->h->txns[i];
        for (uint32_t j = 0; rc == 0 && c->committed[i] && j < t->mop_count; j++) {
            const struct kvt_mop *m = &t->mops[j];
            const struct key_order *k = chk_key(c, m->key);
            if (m->kind != KVT_MOP_READ || !chk_external_read(t, j) || !chk_prefix(k, m))
                continue;
            if (m->len > 0)
                rc = edge(g, writer(c, k, m->len - 1), (uint32_t)i, EDGE_WR);
            if (rc == 0 && m->len < k->n)
                rc = edge(g, (uint32_t)i, writer(c, k, m->len), EDGE_RW);
        }
    }
    c->r->edges = g->edge_count;
    return rc;
}

struct point {
    int64_t complete_ns;
    uint32_t txn;
};

static int by_complete(const void *a, const void *b)
{
    const struct point *x = a, *y = b;
    return x->complete_ns < y->complete_ns ? -1 : x->complete_ns > y->complete_ns;
}

/* Node count + j is the j-th completion: T -> its point -> the next point -> ... -> every
   txn invoked after that point, so T reaches exactly the txns invoked after it completed. */
static int realtime_edges(struct chk *c, struct kvt_digraph *g, struct point *done, uint32_t n)
{
    uint32_t base = (uint32_t)c->h->count;
    qsort(done, n, sizeof *done, by_complete);
    int rc = 0;
    for (uint32_t j = 0; rc == 0 && j < n; j++) {
        rc = kvt_digraph_add(g, done[j].txn, base + j, EDGE_RT);
        if (rc == 0 && j + 1 < n)
            rc = kvt_digraph_add(g, base + j, base + j + 1, EDGE_RT);
    }
    /* The txns by invocation (h is sorted so): each hangs off the last point before it. */
    uint32_t j = 0;
    for (size_t i = 0; rc == 0 && i < c->h->count; i++) {
        if (!c->committed[i])
            continue;
        while (j < n && done[j].complete_ns < c->h->txns[i].invoke_ns)
            j++;
        if (j > 0)
            rc = kvt_digraph_add(g, base + j - 1, (uint32_t)i, EDGE_RT);
    }
    return rc;
}

static void print_cycle(const struct chk *c, const uint32_t *path, const unsigned *types,
                        long len)
{
    static const char *const names[] = {"", "ww", "wr", "", "rw", "", "", "", "rt"};
    if (!c->out)
        return;
    if (len > CYCLE_SHOWN_MAX) {
        fprintf(c->out, "  a cycle of %ld steps (not shown)\n", len);
        return;
    }
    fprintf(c->out, "  cycle:");
    for (long i = 0; i < len; i++)
        if (path[i] < c->h->count)
            fprintf(c->out, " T%u -%s->", path[i], names[types[i]]);
    fprintf(c->out, " T%u\n", path[0]);
    for (long i = 0; i < len; i++)
        if (path[i] < c->h->count)
            chk_print_txn(c, path[i]);
}

static const struct {
    unsigned mask;
    enum kvt_anomaly anomaly;
} classes[] = {
    {EDGE_WW, KVT_AN_G0},
    {EDGE_WW | EDGE_WR, KVT_AN_G1C},
    {EDGE_WW | EDGE_WR | EDGE_RW, KVT_AN_G2},
    {EDGE_WW | EDGE_RT, KVT_AN_G0_RT},
    {EDGE_WW | EDGE_WR | EDGE_RT, KVT_AN_G1C_RT},
    {EDGE_WW | EDGE_WR | EDGE_RW | EDGE_RT, KVT_AN_G2_RT},
};

struct scratch {
    uint32_t *comp, *sub, *sizes, *path;
    unsigned *types;
};

/* A txn of comp's component cid in a cycle of the sub-components, or KVT_NONE_TXN. */
static uint32_t cyclic_member(const struct chk *c, const struct kvt_digraph *g,
                              struct scratch *s)
{
    for (uint32_t v = 0; v < g->nodes; v++)
        s->sizes[v] = 0;
    for (uint32_t v = 0; v < g->nodes; v++)
        if (s->sub[v] != KVT_DIGRAPH_NONE)
            s->sizes[s->sub[v]]++;
    for (uint32_t v = 0; v < c->h->count; v++)
        if (s->sub[v] != KVT_DIGRAPH_NONE && s->sizes[s->sub[v]] > 1)
            return v;
    return KVT_NONE_TXN;
}

/* Names the component by the fewest edge kinds that still close a cycle in it. */
static int classify(struct chk *c, const struct kvt_digraph *g, uint32_t cid, struct scratch *s)
{
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++) {
        if (kvt_digraph_scc(g, classes[i].mask, s->comp, cid, s->sub) < 0)
            return -1;
        uint32_t v = cyclic_member(c, g, s);
        if (v == KVT_NONE_TXN)
            continue;
        long len = kvt_digraph_cycle(g, classes[i].mask, s->sub, v, s->path, s->types,
                                     CYCLE_SHOWN_MAX);
        if (len < 0)
            return -1;
        enum kvt_anomaly a = classes[i].anomaly;
        if (++c->r->count[a] <= KVT_APPEND_EXAMPLES_MAX && c->out) {
            fprintf(c->out, "anomaly %s: a cycle\n", kvt_anomaly_name(a));
            print_cycle(c, s->path, s->types, len);
        }
        return 0;
    }
    assert(!"a component of the whole graph has a cycle");
    return 0;
}

static int find_cycles(struct chk *c, const struct kvt_digraph *g, struct scratch *s)
{
    long comps = kvt_digraph_scc(g, ~0u, NULL, 0, s->comp);
    if (comps < 0)
        return -1;
    uint32_t *size = calloc((size_t)comps + 1, sizeof *size);
    if (!size)
        return -1;
    for (uint32_t v = 0; v < g->nodes; v++)
        size[s->comp[v]]++;
    int rc = 0;
    for (uint32_t v = 0; rc == 0 && v < c->h->count; v++) {
        uint32_t cid = s->comp[v];
        if (size[cid] < 2)
            continue;
        size[cid] = 0;   /* once per component */
        if (++c->r->cycles <= CYCLES_CLASSIFIED_MAX)
            rc = classify(c, g, cid, s);
    }
    if (c->out && c->r->cycles > CYCLES_CLASSIFIED_MAX)
        fprintf(c->out, "%zu more cyclic components not classified\n",
                c->r->cycles - CYCLES_CLASSIFIED_MAX);
    free(size);
    return rc;
}

int chk_graph(struct chk *c)
{
    uint32_t n = 0;
    for (size_t i = 0; i < c->h->count; i++)
        n += c->committed[i];
    struct point *done = malloc((n ? n : 1) * sizeof *done);
    if (!done)
        return -1;
    n = 0;
    for (size_t i = 0; i < c->h->count; i++)
        if (c->committed[i])
            done[n++] = (struct point){c->h->txns[i].complete_ns, (uint32_t)i};
    struct kvt_digraph g;
    kvt_digraph_init(&g, (uint32_t)c->h->count + n);
    size_t nodes = (size_t)g.nodes + 1;
    struct scratch s = {malloc(nodes * sizeof *s.comp), malloc(nodes * sizeof *s.sub),
                        malloc(nodes * sizeof *s.sizes), malloc(CYCLE_SHOWN_MAX * sizeof *s.path),
                        malloc(CYCLE_SHOWN_MAX * sizeof *s.types)};
    int rc = s.comp && s.sub && s.sizes && s.path && s.types ? 0 : -1;
    if (rc == 0)
        rc = key_edges(c, &g);
    if (rc == 0)
        rc = realtime_edges(c, &g, done, n);
    if (rc == 0)
        rc = kvt_digraph_finish(&g);
    if (rc == 0)
        rc = find_cycles(c, &g, &s);
    free(s.comp), free(s.sub), free(s.sizes), free(s.path), free(s.types);
    kvt_digraph_free(&g);
    free(done);
    return rc;
}
