/* digraph.c: typed-edge digraph: iterative Tarjan components and a shortest cycle by BFS. */
#include "digraph.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void kvt_digraph_init(struct kvt_digraph *g, uint32_t nodes)
{
    memset(g, 0, sizeof *g);
    g->nodes = nodes;
}

void kvt_digraph_free(struct kvt_digraph *g)
{
    free(g->edges);
    free(g->first);
    memset(g, 0, sizeof *g);
}

int kvt_digraph_add(struct kvt_digraph *g, uint32_t from, uint32_t to, unsigned type)
{
    assert(from < g->nodes && to < g->nodes && !g->first);
    if (g->edge_count == g->edge_cap) {
        size_t cap = g->edge_cap ? g->edge_cap * 2 : 1024;
        struct kvt_edge *e = realloc(g->edges, cap * sizeof *e);
        if (!e)
            return -1;
        g->edges = e;
        g->edge_cap = cap;
    }
    g->edges[g->edge_count++] = (struct kvt_edge){from, to, type};
    return 0;
}

static int by_from(const void *a, const void *b)
{
    const struct kvt_edge *x = a, *y = b;
    return x->from < y->from ? -1 : x->from > y->from;
}

int kvt_digraph_finish(struct kvt_digraph *g)
{
    if (g->edge_count > 1)
        qsort(g->edges, g->edge_count, sizeof *g->edges, by_from);
    g->first = calloc((size_t)g->nodes + 1, sizeof *g->first);
    if (!g->first)
        return -1;
    for (size_t i = 0; i < g->edge_count; i++)
        g->first[g->edges[i].from + 1]++;
    for (uint32_t v = 0; v < g->nodes; v++)
        g->first[v + 1] += g->first[v];
    return 0;
}

struct tarjan {
    const struct kvt_digraph *g;
    unsigned mask;
    const uint32_t *within;
    uint32_t within_id, next_index, comps;
    uint32_t *index, *low, *stack, *comp;
    size_t *frame_edge;
    uint32_t *frames;
    size_t stack_len, frame_len;
    char *on_stack;
};

static int allowed(const struct tarjan *t, uint32_t v)
{
    return !t->within || t->within[v] == t->within_id;
}

static void enter(struct tarjan *t, uint32_t v)
{
    t->index[v] = t->low[v] = t->next_index++;
    t->stack[t->stack_len++] = v;
    t->on_stack[v] = 1;
    t->frames[t->frame_len] = v;
    t->frame_edge[t->frame_len++] = t->g->first[v];
}

/* v's subtree is done: a root pops its component; the parent learns v's low. */
static void leave(struct tarjan *t, uint32_t v)
{
    t->frame_len--;
    if (t->low[v] == t->index[v]) {
        uint32_t w;
        do {
            w = t->stack[--t->stack_len];
            t->on_stack[w] = 0;
            t->comp[w] = t->comps;
        } while (w != v);
        t->comps++;
    }
    if (t->frame_len > 0) {
        uint32_t p = t->frames[t->frame_len - 1];
        t->low[p] = t->low[v] < t->low[p] ? t->low[v] : t->low[p];
    }
}

static void visit(struct tarjan *t, uint32_t root)
{
    enter(t, root);
    while (t->frame_len > 0) {
        uint32_t v = t->frames[t->frame_len - 1];
        size_t *at = &t->frame_edge[t->frame_len - 1];
        if (*at == t->g->first[v + 1]) {
            leave(t, v);
            continue;
        }
        const struct kvt_edge *e = &t->g->edges[(*at)++];
        if (!(e->type & t->mask) || !allowed(t, e->to))
            continue;
        if (t->index[e->to] == KVT_DIGRAPH_NONE)
            enter(t, e->to);
        else if (t->on_stack[e->to] && t->index[e->to] < t->low[v])
            t->low[v] = t->index[e->to];
    }
}

long kvt_digraph_scc(const struct kvt_digraph *g, unsigned mask, const uint32_t *within,
                     uint32_t within_id, uint32_t *comp)
{
    size_t n = g->nodes ? g->nodes : 1;
    struct tarjan t = {.g = g, .mask = mask, .within = within, .within_id = within_id,
                       .comp = comp, .index = malloc(n * sizeof *t.index),
                       .low = malloc(n * sizeof *t.low), .stack = malloc(n * sizeof *t.stack),
                       .frames = malloc(n * sizeof *t.frames),
                       .frame_edge = malloc(n * sizeof *t.frame_edge), .on_stack = calloc(n, 1)};
    long rc = -1;
    if (t.index && t.low && t.stack && t.frames && t.frame_edge && t.on_stack) {
        memset(t.index, 0xff, n * sizeof *t.index);
        for (uint32_t v = 0; v < g->nodes; v++)
            comp[v] = KVT_DIGRAPH_NONE;
        for (uint32_t v = 0; v < g->nodes; v++)
            if (allowed(&t, v) && t.index[v] == KVT_DIGRAPH_NONE)
                visit(&t, v);
        rc = t.comps;
    }
    free(t.index), free(t.low), free(t.stack), free(t.frames), free(t.frame_edge);
    free(t.on_stack);
    return rc;
}

long kvt_digraph_cycle(const struct kvt_digraph *g, unsigned mask, const uint32_t *comp,
                       uint32_t start, uint32_t *path, unsigned *types, size_t path_max)
{
    uint32_t *parent = malloc((size_t)g->nodes * sizeof *parent);
    unsigned *via = malloc((size_t)g->nodes * sizeof *via);
    uint32_t *queue = malloc((size_t)g->nodes * sizeof *queue);
    long len = -1;
    if (!parent || !via || !queue)
        goto out;
    memset(parent, 0xff, (size_t)g->nodes * sizeof *parent);
    size_t head = 0, tail = 0;
    queue[tail++] = start;
    parent[start] = start;
    uint32_t last = KVT_DIGRAPH_NONE;
    unsigned last_type = 0;
    while (head < tail && last == KVT_DIGRAPH_NONE) {
        uint32_t v = queue[head++];
        for (size_t i = g->first[v]; i < g->first[v + 1] && last == KVT_DIGRAPH_NONE; i++) {
            const struct kvt_edge *e = &g->edges[i];
            if (!(e->type & mask) || comp[e->to] != comp[start])
                continue;
            if (e->to == start)
                last = v, last_type = e->type;
            else if (parent[e->to] == KVT_DIGRAPH_NONE)
                parent[e->to] = v, via[e->to] = e->type, queue[tail++] = e->to;
        }
    }
    len = 0;
    for (uint32_t v = last; v != KVT_DIGRAPH_NONE && v != start; v = parent[v])
        len++;
    len = last == KVT_DIGRAPH_NONE ? 0 : len + 1;
    if (len > 0 && (size_t)len <= path_max) {
        long i = len - 1;
        types[i] = last_type;
        for (uint32_t v = last; v != start; v = parent[v], i--) {
            path[i] = v;
            types[i - 1] = via[v];
        }
        path[0] = start;
    }
out:
    free(parent), free(via), free(queue);
    return len;
}
