/* digraph.h: a directed graph with typed edges: strongly connected components and a cycle,
   each over the edges of chosen types only. */
#ifndef KVT_DIGRAPH_H
#define KVT_DIGRAPH_H

#include <stddef.h>
#include <stdint.h>

#define KVT_DIGRAPH_NONE UINT32_MAX

struct kvt_edge {
    uint32_t from, to;
    unsigned type;        /* one bit */
};

struct kvt_digraph {
    uint32_t nodes;
    struct kvt_edge *edges;     /* sorted by from once finished */
    size_t edge_count, edge_cap;
    size_t *first;              /* finished: edges of node v are [first[v], first[v + 1]) */
};

void kvt_digraph_init(struct kvt_digraph *g, uint32_t nodes);
void kvt_digraph_free(struct kvt_digraph *g);
/* 0 or -1 (memory). Only before finish. */
int kvt_digraph_add(struct kvt_digraph *g, uint32_t from, uint32_t to, unsigned type);
/* Sorts the edges for traversal; 0 or -1 (memory). */
int kvt_digraph_finish(struct kvt_digraph *g);

/* Tarjan over edges whose type is in mask, among nodes v with within[v] == within_id
   (within NULL: every node). comp[v] gets a component id (KVT_DIGRAPH_NONE outside);
   returns the number of components, or -1 (memory). */
long kvt_digraph_scc(const struct kvt_digraph *g, unsigned mask, const uint32_t *within,
                     uint32_t within_id, uint32_t *comp);

/* A cycle through start inside its component (comp from kvt_digraph_scc with the same mask):
   path[0] = start, path[i] -> path[i + 1] by an edge of type types[i], the last back to
   start. Returns its length (0: none; the component is start alone), or -1 (memory). */
long kvt_digraph_cycle(const struct kvt_digraph *g, unsigned mask, const uint32_t *comp,
                       uint32_t start, uint32_t *path, unsigned *types, size_t path_max);

#endif
