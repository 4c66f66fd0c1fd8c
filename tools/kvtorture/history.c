/* history.c: growing, sorting and counting a history of operations. */
#include "history.h"

#include <stdlib.h>
#include <string.h>

void kvt_history_init(struct kvt_history *h) { memset(h, 0, sizeof *h); }

void kvt_history_free(struct kvt_history *h)
{
    free(h->ops);
    kvt_history_init(h);
}

int kvt_history_add(struct kvt_history *h, const struct kvt_op *op)
{
    if (h->count == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 256;
        struct kvt_op *ops = realloc(h->ops, cap * sizeof *ops);
        if (!ops)
            return -1;
        h->ops = ops;
        h->cap = cap;
    }
    h->ops[h->count++] = *op;
    return 0;
}

static int by_invoke(const void *a, const void *b)
{
    const struct kvt_op *x = a, *y = b;
    if (x->invoke_ns != y->invoke_ns)
        return x->invoke_ns < y->invoke_ns ? -1 : 1;
    if (x->process != y->process)
        return x->process < y->process ? -1 : 1;
    return 0;
}

void kvt_history_sort(struct kvt_history *h)
{
    if (h->count > 1)
        qsort(h->ops, h->count, sizeof *h->ops, by_invoke);
}

const char *kvt_op_type_name(enum kvt_op_type t)
{
    static const char *const names[KVT_OP_TYPES] = {"read", "write", "cas"};
    return (unsigned)t < KVT_OP_TYPES ? names[t] : "?";
}

const char *kvt_outcome_name(enum kvt_outcome o)
{
    static const char *const names[KVT_OUTCOMES] = {"ok", "fail", "info"};
    return (unsigned)o < KVT_OUTCOMES ? names[o] : "?";
}

void kvt_history_count(const struct kvt_history *h, struct kvt_counts *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < h->count; i++) {
        const struct kvt_op *op = &h->ops[i];
        if ((unsigned)op->type < KVT_OP_TYPES && (unsigned)op->outcome < KVT_OUTCOMES)
            out->n[op->type][op->outcome]++;
    }
}
