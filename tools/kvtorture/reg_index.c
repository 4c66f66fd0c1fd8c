/* reg_index.c: the fast path's first half: which write each read and cas observed, which ops
   must have happened, and the links from each write to its readers and to the cas that
   replaced it. */
#include "reg_internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int64_t reg_inv(const struct reg *r, uint32_t node)
{
    return node == r->init ? INT64_MIN : r->ops[node].invoke_ns;
}

int64_t reg_resp(const struct reg *r, uint32_t node)
{
    if (node == r->init)
        return INT64_MIN;
    const struct kvt_op *op = &r->ops[node];
    if (op->outcome != KVT_OK)
        return INT64_MAX;
    return op->complete_ns > op->invoke_ns ? op->complete_ns : op->invoke_ns;
}

bool reg_is_write(const struct kvt_op *op)
{
    return op->type == KVT_WRITE || op->type == KVT_CAS;
}

/* Fail ops did not happen; an info read changes nothing and saw nothing we know. */
static bool considered(const struct kvt_op *op)
{
    return op->outcome != KVT_FAIL && !(op->type == KVT_READ && op->outcome == KVT_INFO);
}

static int by_value(const void *a, const void *b)
{
    const struct reg_writer *x = a, *y = b;
    return (x->value > y->value) - (x->value < y->value);
}

int reg_index(struct reg *r)
{
    for (uint32_t i = 0; i < r->n; i++)
        if ((unsigned)r->ops[i].type >= KVT_OP_TYPES ||
            (unsigned)r->ops[i].outcome >= KVT_OUTCOMES)
            return 1;
    r->writers = malloc(((size_t)r->n + 1) * sizeof *r->writers);
    if (!r->writers)
        return -1;
    for (uint32_t i = 0; i < r->n; i++)
        if (reg_is_write(&r->ops[i]))
            r->writers[r->nwriters++] = (struct reg_writer){r->ops[i].value, i};
    qsort(r->writers, r->nwriters, sizeof *r->writers, by_value);
    for (uint32_t i = 0; i < r->nwriters; i++)
        if (r->writers[i].value == KVT_NIL ||
            (i > 0 && r->writers[i].value == r->writers[i - 1].value))
            return 1;   /* a read of it would not name one write */
    return 0;
}

/* The node that wrote value: the initial state for nil, REG_NONE when no op did. */
static uint32_t writer_of(const struct reg *r, int64_t value)
{
    if (value == KVT_NIL)
        return r->init;
    struct reg_writer key = {value, 0};
    const struct reg_writer *w = bsearch(&key, r->writers, r->nwriters, sizeof key, by_value);
    return w ? w->op : REG_NONE;
}

/* Does a considered op see the register's state, and which value. */
static bool observes(const struct kvt_op *op, int64_t *value)
{
    if (!considered(op) || op->type == KVT_WRITE)
        return false;
    *value = op->type == KVT_CAS ? op->expected : op->value;
    return true;
}

/* The node op i observed, or a violation if none could have written it. 0 or 1. */
static int source(struct reg *r, uint32_t i)
{
    const struct kvt_op *op = &r->ops[i];
    int64_t value;
    if (!observes(op, &value))
        return 0;
    uint32_t w = writer_of(r, value);
    if (w == REG_NONE)
        return reg_violation(r, op->type == KVT_CAS ? "a cas expected a value no op wrote"
                                                    : "a read saw a value no op wrote",
                             i, "R", REG_NONE);
    if (w != r->init && r->ops[w].outcome == KVT_FAIL)
        return reg_violation(r, "a read saw a value that only a failed op (W) wrote", w, "W",
                             i, "R", REG_NONE);
    r->src[i] = w;
    return 0;
}

/* The ops that must have happened: every ok op, and (transitively) the writer of whatever a
   mandatory op observed. Every other considered op is an info op nothing mandatory depends
   on, and falls away: take any linearization that includes some of them and drop them all.
   Each remaining read or cas still follows the same last writer (its source is mandatory,
   values are unique, and dropping ops inserts no writer), and a subsequence keeps the real-
   time order; conversely a linearization without them is one where they never took effect,
   which an info op allows. So the verdict is the same with or without them. */
static int mark_mandatory(struct reg *r, uint32_t *stack)
{
    size_t depth = 0;
    for (uint32_t i = 0; i < r->n; i++)
        if (considered(&r->ops[i]) && r->ops[i].outcome == KVT_OK) {
            r->flag[i] |= REG_MANDATORY;
            stack[depth++] = i;
        }
    while (depth > 0) {
        uint32_t i = stack[--depth];
        r->mandatory++;
        if (source(r, i) != 0)
            return 1;
        uint32_t w = r->src[i];
        if (w != REG_NONE && w != r->init && !(r->flag[w] & REG_MANDATORY)) {
            r->flag[w] |= REG_MANDATORY;
            stack[depth++] = w;
        }
    }
    return 0;
}

/* Each mandatory cas replaced its source's value; two cannot replace the same one (after
   the first, unique values mean nobody writes it again). */
static int link_cas(struct reg *r)
{
    for (uint32_t i = 0; i <= r->n; i++)
        r->succ[i] = REG_NONE;
    for (uint32_t i = 0; i < r->n; i++) {
        if (!(r->flag[i] & REG_MANDATORY) || r->ops[i].type != KVT_CAS)
            continue;
        uint32_t w = r->src[i];
        if (r->succ[w] != REG_NONE)
            return reg_violation(r, "two cas ops (C1, C2) replaced the same value (W)", w, "W",
                                 r->succ[w], "C1", i, "C2", REG_NONE);
        r->succ[w] = i;
    }
    return 0;
}

/* The mandatory reads of each writer, as one array sliced by read_at. */
static void link_reads(struct reg *r)
{
    memset(r->read_at, 0, ((size_t)r->n + 2) * sizeof *r->read_at);
    for (uint32_t i = 0; i < r->n; i++)
        if ((r->flag[i] & REG_MANDATORY) && r->ops[i].type == KVT_READ)
            r->read_at[r->src[i] + 1]++;
    for (uint32_t w = 0; w <= r->n; w++)
        r->read_at[w + 1] += r->read_at[w];
    for (uint32_t i = 0; i < r->n; i++)
        if ((r->flag[i] & REG_MANDATORY) && r->ops[i].type == KVT_READ)
            r->reads[r->read_at[r->src[i]]++] = i;
    /* Each read_at[w] now holds the end of w's slice; shift back to starts. */
    for (uint32_t w = r->n + 1; w > 0; w--)
        r->read_at[w] = r->read_at[w - 1];
    r->read_at[0] = 0;
}

int reg_link(struct reg *r)
{
    size_t nodes = (size_t)r->n + 1;
    r->src = malloc(nodes * sizeof *r->src);
    r->flag = calloc(nodes, sizeof *r->flag);
    r->succ = malloc(nodes * sizeof *r->succ);
    r->read_at = malloc((nodes + 1) * sizeof *r->read_at);
    r->reads = malloc(nodes * sizeof *r->reads);
    if (!r->src || !r->flag || !r->succ || !r->read_at || !r->reads)
        return -1;
    for (uint32_t i = 0; i < r->n; i++) {
        r->src[i] = REG_NONE;
        r->considered += considered(&r->ops[i]);
    }
    /* The stack holds each node at most once: reads reuses its memory until link_reads. */
    if (mark_mandatory(r, r->reads) != 0 || link_cas(r) != 0)
        return 1;
    link_reads(r);
    return 0;
}

int reg_violation(struct reg *r, const char *sentence, ...)
{
    struct kvt_lin_result *out = r->out;
    out->verdict = KVT_LIN_VIOLATION;
    out->violation = sentence;
    out->window_count = 0;
    va_list ap;
    va_start(ap, sentence);
    for (unsigned node; (node = va_arg(ap, unsigned)) != REG_NONE;) {
        const char *mark = va_arg(ap, const char *);
        if (out->window_count == KVT_LIN_WINDOW_MAX)
            continue;
        out->role[out->window_count] = mark;
        out->window[out->window_count++] = node == r->init ? KVT_LIN_INITIAL : node;
    }
    va_end(ap);
    if (out->window_count > 0)
        out->stuck = out->window[out->window_count - 1];
    /* By invocation (history order), the initial state first, as a timeline. */
    for (size_t i = 1; i < out->window_count; i++)
        for (size_t j = i; j > 0; j--) {
            size_t a = out->window[j - 1], b = out->window[j];
            if ((a == KVT_LIN_INITIAL) || (b != KVT_LIN_INITIAL && a <= b))
                break;
            out->window[j - 1] = b, out->window[j] = a;
            const char *m = out->role[j - 1];
            out->role[j - 1] = out->role[j], out->role[j] = m;
        }
    return 1;
}
