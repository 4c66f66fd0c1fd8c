/* reg_check.c: the fast path's second half: blocks and zones.
 *
 * Why it is exact. Values are unique, so in any linearization the ops between one write and
 * the next are that write's reads, and a cas that succeeded comes right after the write whose
 * value it expected. A chain (a plain write, or the initial state, then each cas that
 * replaced the previous value) with all their reads is therefore one block that runs
 * contiguously, in a fixed order of clusters (writer, then its reads in any order). Real time
 * says op a must precede op b when a completed before b began (a.resp < b.inv).
 *   Inside a block: no op of a later cluster may complete before an op of an earlier cluster
 *   began, and no read before its writer began; reads of one cluster go in invocation order.
 *   Between blocks: A may precede B iff no op of B completed before an op of A began, i.e.
 *   B.lo >= A.hi, with lo the earliest completion and hi the latest invocation in a block.
 * Necessity is plain. Sufficiency: if no pair has both A.lo < B.hi and B.lo < A.hi, then the
 * "forward" blocks (lo < hi) have disjoint intervals [lo, hi] (touching allowed), and each
 * "backward" block X (hi <= lo) has a point t in [X.hi, X.lo] inside no forward interval's
 * interior (else [X.hi, X.lo] would lie within one, a conflicting pair). Sorting forward
 * blocks by lo and backward blocks by t (a backward block first on ties) gives an order in
 * which every earlier block E and later block L satisfy L.lo >= E.hi. The initial state is a
 * write at time -inf, so its block comes first. So the history is linearizable iff every
 * block is consistent inside and no pair of blocks conflicts: a 2-cycle is the only cycle
 * the block order can have. All of it is sorting and linear scans: O(n log n). */
#include "reg_internal.h"

#include <stdlib.h>
#include <string.h>

struct block {
    int64_t lo, hi;
    uint32_t lo_node, hi_node, head;
};

struct span {
    int64_t lo, hi;              /* earliest completion, latest invocation */
    uint32_t lo_node, hi_node;
};

static void span_add(const struct reg *r, struct span *s, uint32_t node)
{
    int64_t resp = reg_resp(r, node), inv = reg_inv(r, node);
    if (s->lo_node == REG_NONE || resp < s->lo)
        s->lo = resp, s->lo_node = node;
    if (s->hi_node == REG_NONE || inv > s->hi)
        s->hi = inv, s->hi_node = node;
}

/* One cluster: writer w and its reads, in the chain from head. Checks each read against w,
   and the cluster against what came before it (before: the earlier clusters' latest
   invocation). */
static int cluster(struct reg *r, uint32_t head, uint32_t w, const struct span *before,
                   struct span *out)
{
    *out = (struct span){.lo_node = REG_NONE, .hi_node = REG_NONE};
    span_add(r, out, w);
    for (uint32_t at = r->read_at[w]; at < r->read_at[w + 1]; at++) {
        uint32_t rd = r->reads[at];
        if (reg_resp(r, rd) < reg_inv(r, w))
            return reg_violation(r, "a read (R) completed before the write of what it saw (W)"
                                    " began", w, "W", rd, "R", REG_NONE);
        span_add(r, out, rd);
    }
    if (before->hi_node != REG_NONE && out->lo < before->hi)
        return reg_violation(r, "op y completed before op x began, yet y must follow x: in"
                                " the chain of cas ops from write A, each cas replaced the"
                                " value before it, and each read sits after the write it saw",
                             before->hi_node, "x", out->lo_node, "y", head, "A", REG_NONE);
    return 0;
}

/* Walks one chain from head, marking its writers visited; fills b. 0 or 1 (violation). */
static int chain(struct reg *r, uint32_t head, struct block *b)
{
    struct span block = {.lo_node = REG_NONE, .hi_node = REG_NONE};
    struct span before = {.lo_node = REG_NONE, .hi_node = REG_NONE};
    for (uint32_t w = head; w != REG_NONE; w = r->succ[w]) {
        r->flag[w] |= REG_VISITED;
        struct span c;
        if (cluster(r, head, w, &before, &c) != 0)
            return 1;
        span_add(r, &before, c.hi_node);
        span_add(r, &block, c.lo_node);
        span_add(r, &block, c.hi_node);
    }
    *b = (struct block){block.lo, block.hi, block.lo_node, block.hi_node, head};
    return 0;
}

/* Cas ops no chain reached expect each other's values in a cycle. */
static int cycles(struct reg *r)
{
    for (uint32_t i = 0; i < r->n; i++) {
        if (!(r->flag[i] & REG_MANDATORY) || r->ops[i].type != KVT_CAS ||
            (r->flag[i] & REG_VISITED))
            continue;
        uint32_t a = i, b = r->src[i], c = r->src[b];
        return reg_violation(r, "cas ops (C) expect each other's values in a cycle, so none"
                                " can go first", a, "C", b, "C", c, "C", REG_NONE);
    }
    return 0;
}

static int by_lo(const void *a, const void *b)
{
    const struct block *x = a, *y = b;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

/* Blocks sorted by lo; for each prefix, the two blocks of highest hi. */
struct top2 {
    uint32_t first, second;
};

/* A is the block whose write came first (the initial state before any op). */
static int conflict(struct reg *r, const struct block *a, const struct block *b)
{
    if (b->head == r->init || (a->head != r->init && b->head < a->head)) {
        const struct block *t = a;
        a = b, b = t;
    }
    return reg_violation(r, "writes A and B must each come first: the ops from a write up to"
                            " the next write run together, and a1 (A's) completed before b1"
                            " (B's) began, while b2 (B's) completed before a2 (A's) began",
                         a->head, "A", b->head, "B", a->lo_node, "a1", b->hi_node, "b1",
                         b->lo_node, "b2", a->hi_node, "a2", REG_NONE);
}

/* A conflicting pair has A.lo < B.hi and B.lo < A.hi. For each B, the blocks with lo < B.hi
   are a prefix of the lo order; the highest hi in it (other than B) decides. */
static int zones(struct reg *r, struct block *bs, uint32_t count, struct top2 *best)
{
    qsort(bs, count, sizeof *bs, by_lo);
    for (uint32_t i = 0; i < count; i++) {
        struct top2 t = i ? best[i - 1] : (struct top2){REG_NONE, REG_NONE};
        if (t.first == REG_NONE || bs[i].hi > bs[t.first].hi)
            t = (struct top2){i, t.first};
        else if (t.second == REG_NONE || bs[i].hi > bs[t.second].hi)
            t.second = i;
        best[i] = t;
    }
    for (uint32_t j = 0; j < count; j++) {
        uint32_t lo = 0, hi = count;   /* first index with lo >= bs[j].hi */
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (bs[mid].lo < bs[j].hi)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == 0)
            continue;
        uint32_t a = best[lo - 1].first == j ? best[lo - 1].second : best[lo - 1].first;
        if (a != REG_NONE && bs[j].lo < bs[a].hi)
            return conflict(r, &bs[a], &bs[j]);
    }
    return 0;
}

/* Every chain, then the zones. 0, 1 (violation) or -1 (memory). */
static int blocks(struct reg *r)
{
    uint32_t heads = 1;
    for (uint32_t i = 0; i < r->n; i++)
        heads += (r->flag[i] & REG_MANDATORY) && r->ops[i].type == KVT_WRITE;
    struct block *bs = malloc(heads * sizeof *bs);
    struct top2 *best = malloc(heads * sizeof *best);
    int rc = !bs || !best ? -1 : chain(r, r->init, &bs[0]);
    for (uint32_t i = 0, k = 1; rc == 0 && i < r->n; i++)
        if ((r->flag[i] & REG_MANDATORY) && r->ops[i].type == KVT_WRITE)
            rc = chain(r, i, &bs[k++]);
    if (rc == 0)
        rc = cycles(r);
    if (rc == 0)
        rc = zones(r, bs, heads, best);
    free(bs);
    free(best);
    return rc;
}

static void reg_free(struct reg *r)
{
    free(r->writers);
    free(r->src);
    free(r->flag);
    free(r->succ);
    free(r->read_at);
    free(r->reads);
}

int kvt_reg_check(const struct kvt_op *ops, size_t n, struct kvt_lin_result *out)
{
    uint32_t key = out->key;
    memset(out, 0, sizeof *out);
    out->key = key;
    out->method = KVT_LIN_BY_BLOCKS;
    if (n > KVT_REG_OPS_MAX)
        return 1;
    struct reg r = {.ops = ops, .n = (uint32_t)n, .init = (uint32_t)n, .out = out};
    int rc = reg_index(&r);
    if (rc != 0) {   /* 1: the fast path does not apply */
        reg_free(&r);
        return rc;
    }
    rc = reg_link(&r);
    if (rc == 0)
        rc = blocks(&r);
    if (rc >= 0) {
        out->verdict = rc ? KVT_LIN_VIOLATION : KVT_LIN_OK;
        out->ops = r.mandatory;
        out->pruned = r.considered - r.mandatory;
    }
    reg_free(&r);
    return rc < 0 ? -1 : 0;
}
