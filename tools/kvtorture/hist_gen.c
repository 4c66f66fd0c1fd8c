/* hist_gen.c: synthetic linearizable register histories: ops laid out per process in time,
   then played against one register per key in the order of their effect points. */
#include "hist_gen.h"

#include <stdlib.h>
#include <string.h>

#define GEN_PROCESSES_MAX 64
/* An info op that takes effect does so within this many mean latencies of its invocation. */
#define GEN_INFO_LATE_FACTOR 10

struct effect {
    int64_t at;
    size_t op;
};

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);   /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int64_t below(uint64_t *s, int64_t n) { return n > 0 ? (int64_t)(next(s) % (uint64_t)n) : 0; }

void kvt_gen_default(struct kvt_gen *g)
{
    *g = (struct kvt_gen){.seed = 1, .ops = 100000, .processes = 8, .keys = 1, .info_pct = 2,
                          .fail_pct = 2, .latency_ns = 1000000, .think_ns = 125000};
}

static int cmp_effect(const void *a, const void *b)
{
    const struct effect *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return (x->op > y->op) - (x->op < y->op);
}

/* The op of the least busy process, with its interval, outcome and effect point (-1: none). */
static struct kvt_op lay_out(const struct kvt_gen *g, uint64_t *rng, int64_t *free_at,
                             int64_t *value, int64_t *effect)
{
    uint32_t p = 0;
    for (uint32_t i = 1; i < g->processes; i++)
        p = free_at[i] < free_at[p] ? i : p;
    int64_t len = g->latency_ns / 4 + below(rng, 2 * g->latency_ns);
    struct kvt_op op = {.process = p, .key = (uint32_t)below(rng, g->keys), .node = 0,
                        .invoke_ns = free_at[p] + below(rng, g->think_ns + 1)};
    op.complete_ns = op.invoke_ns + len;
    int64_t roll = below(rng, 100), type = below(rng, 10);
    op.type = type < 5 ? KVT_READ : type < 8 ? KVT_WRITE : KVT_CAS;
    op.outcome = roll < g->info_pct ? KVT_INFO
               : roll < g->info_pct + g->fail_pct ? KVT_FAIL : KVT_OK;
    if (op.type != KVT_READ)
        op.value = (*value)++;
    *effect = op.outcome == KVT_OK ? op.invoke_ns + below(rng, len + 1)
            : op.outcome == KVT_INFO && below(rng, 2)
                ? op.invoke_ns + below(rng, GEN_INFO_LATE_FACTOR * g->latency_ns) : -1;
    free_at[p] = op.complete_ns;
    return op;
}

/* Plays op (at its effect point) against the register state[key]; known[p * keys + key] is
   what process p last saw there, as a worker tracks it. */
static void play(struct kvt_op *op, int64_t *state, int64_t *known, uint32_t keys)
{
    int64_t *s = &state[op->key], *k = &known[(size_t)op->process * keys + op->key];
    if (op->type == KVT_READ) {
        op->value = *s;
    } else if (op->type == KVT_WRITE) {
        *s = op->value;
    } else if (op->expected == *s) {
        *s = op->value;
    } else if (op->outcome == KVT_OK) {
        op->outcome = KVT_FAIL;   /* the server refuses a stale cas */
        return;
    }
    if (op->outcome == KVT_OK)
        *k = op->value;
}

static int by_invoke(const void *a, const void *b)
{
    const struct kvt_op *x = a, *y = b;
    if (x->invoke_ns != y->invoke_ns)
        return x->invoke_ns < y->invoke_ns ? -1 : 1;
    return (x->process > y->process) - (x->process < y->process);
}

int kvt_gen_history(struct kvt_history *h, const struct kvt_gen *g)
{
    if (g->processes == 0 || g->processes > GEN_PROCESSES_MAX || g->keys == 0)
        return -1;
    uint64_t rng = g->seed;
    int64_t free_at[GEN_PROCESSES_MAX] = {0}, value = 1;
    struct effect *fx = malloc((g->ops + 1) * sizeof *fx);
    int64_t *state = calloc(g->keys, sizeof *state);
    int64_t *known = calloc((size_t)g->keys * g->processes, sizeof *known);
    int rc = fx && state && known ? 0 : -1;
    size_t effects = 0, base = h->count;
    for (size_t i = 0; rc == 0 && i < g->ops; i++) {
        int64_t at;
        struct kvt_op op = lay_out(g, &rng, free_at, &value, &at);
        if (at >= 0)
            fx[effects++] = (struct effect){at, h->count};
        rc = kvt_history_add(h, &op);
    }
    if (rc == 0) {
        qsort(fx, effects, sizeof *fx, cmp_effect);
        /* A cas expects what its process knew at its invocation: its earlier ok ops took
           effect before they completed, so before this one's effect point. Ops with no
           effect keep expected = what the process knew when laid out: nothing, here. */
        for (size_t i = 0; i < effects; i++) {
            struct kvt_op *op = &h->ops[fx[i].op];
            if (op->type == KVT_CAS)
                op->expected = known[(size_t)op->process * g->keys + op->key];
            play(op, state, known, g->keys);
        }
        qsort(h->ops + base, h->count - base, sizeof *h->ops, by_invoke);
    }
    free(fx);
    free(state);
    free(known);
    return rc;
}

static bool is_ok_write(const struct kvt_op *op, uint32_t key)
{
    return op->key == key && op->outcome == KVT_OK && op->type != KVT_READ;
}

/* Reads tried, from the last one back, before giving up. */
#define GEN_STALE_TRIES 64

size_t kvt_gen_make_stale(struct kvt_history *h, uint32_t key)
{
    unsigned tries = 0;
    for (size_t r = h->count; r-- > 0 && tries < GEN_STALE_TRIES;) {
        struct kvt_op *rd = &h->ops[r];
        if (rd->key != key || rd->type != KVT_READ || rd->outcome != KVT_OK)
            continue;
        tries++;
        size_t b = SIZE_MAX;   /* the latest-invoked ok write that ended before the read */
        for (size_t i = 0; i < r; i++)
            if (is_ok_write(&h->ops[i], key) && h->ops[i].complete_ns < rd->invoke_ns)
                b = i;
        for (size_t a = b; b != SIZE_MAX && a-- > 0;)
            if (is_ok_write(&h->ops[a], key) && h->ops[a].complete_ns < h->ops[b].invoke_ns &&
                h->ops[a].value != rd->value) {
                rd->value = h->ops[a].value;
                return r;
            }
    }
    return SIZE_MAX;
}
