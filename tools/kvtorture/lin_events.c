/* lin_events.c: choosing one key's ops for the search, bounding the info ops an ok op proves
   happened, linking the events by time, and cutting them into pieces at quiescent points. */
#include "lin_internal.h"

#include <stdlib.h>
#include <string.h>

struct event_key {
    int64_t t;
    bool call;
    size_t op;
};

/* Per written value: how many considered ops wrote it, and the earliest completion of an ok
   op that observed it (read it, or expected it in a cas). */
struct fact {
    int64_t value;
    int64_t seen_ns;
    size_t writers;
};

static bool considered(const struct kvt_op *op)
{
    if (op->outcome == KVT_FAIL)
        return false;   /* definitely did not happen */
    return !(op->type == KVT_READ && op->outcome == KVT_INFO);   /* changes nothing */
}

static bool writes(const struct kvt_op *op)
{
    return op->type == KVT_WRITE || op->type == KVT_CAS;
}

static int64_t done_ns(const struct kvt_op *op)
{
    return op->complete_ns > op->invoke_ns ? op->complete_ns : op->invoke_ns;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Values some kept op needs to see: what ok reads saw and what any cas expected. An info
   write or cas whose value is in none of them can be taken as "never happened": if it took
   effect, the next op to touch the state must overwrite it anyway. */
static int64_t *observed_values(const struct kvt_history *h, uint32_t key, size_t *count)
{
    int64_t *v = malloc((h->count + 1) * sizeof *v);
    size_t n = 0;
    for (size_t i = 0; v && i < h->count; i++) {
        const struct kvt_op *op = &h->ops[i];
        if (op->key != key || !considered(op))
            continue;
        if (op->type == KVT_READ)
            v[n++] = op->value;
        else if (op->type == KVT_CAS)
            v[n++] = op->expected;
    }
    if (v)
        qsort(v, n, sizeof *v, cmp_i64);
    *count = n;
    return v;
}

static bool kept(const struct kvt_op *op, const int64_t *seen, size_t seen_count)
{
    if (op->outcome != KVT_INFO)
        return true;
    return bsearch(&op->value, seen, seen_count, sizeof *seen, cmp_i64) != NULL;
}

/* Facts about every value written or observed on key, sorted by value (duplicates merged
   by the caller's lookups: fact_of takes the first and sums). */
static struct fact *value_facts(const struct kvt_history *h, uint32_t key, size_t *count)
{
    struct fact *f = malloc((2 * h->count + 1) * sizeof *f);   /* a cas writes and observes */
    size_t n = 0;
    for (size_t i = 0; f && i < h->count; i++) {
        const struct kvt_op *op = &h->ops[i];
        if (op->key != key || !considered(op))
            continue;
        if (writes(op))
            f[n++] = (struct fact){op->value, INT64_MAX, 1};
        if (op->outcome == KVT_OK && op->type != KVT_WRITE)
            f[n++] = (struct fact){op->type == KVT_CAS ? op->expected : op->value, done_ns(op),
                                   0};
    }
    if (f)
        qsort(f, n, sizeof *f, cmp_i64);   /* value is the first member */
    *count = n;
    return f;
}

/* An info write or cas of v, when it is the only considered op that wrote v (v not nil),
   and some ok op observed v, certainly happened, and before that op completed: the register
   held v at the observer's linearization point, and nothing else could have put it there.
   So it gets a completion at the earliest such observer's completion, and becomes required,
   exactly like an ok op: any linearization already has it there, so no verdict changes,
   while the piece it sits in can now end (an unbounded info op keeps every later op in one
   piece). INT64_MAX when no such bound holds. */
static int64_t info_bound(const struct kvt_op *op, const struct fact *f, size_t count)
{
    if (op->outcome != KVT_INFO || !writes(op) || op->value == KVT_NIL)
        return INT64_MAX;
    const struct fact *at = bsearch(&op->value, f, count, sizeof *f, cmp_i64);
    while (at && at > f && at[-1].value == op->value)
        at--;
    size_t writers = 0;
    int64_t seen = INT64_MAX;
    for (; at && at < f + count && at->value == op->value; at++) {
        writers += at->writers;
        seen = at->seen_ns < seen ? at->seen_ns : seen;
    }
    if (writers != 1 || seen == INT64_MAX)
        return INT64_MAX;
    return seen > op->invoke_ns ? seen : op->invoke_ns;
}

static int by_time(const void *a, const void *b)
{
    const struct event_key *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    if (x->call != y->call)
        return x->call ? -1 : 1;
    return (x->op > y->op) - (x->op < y->op);
}

static int link_events(struct kvt_lin_events *ev, const struct event_key *keys, size_t count)
{
    struct kvt_lin_entry *prev = &ev->head;
    memset(&ev->head, 0, sizeof ev->head);
    /* Calls come before their completions, so a call's entry exists when its match links. */
    struct kvt_lin_entry **call_of = calloc(ev->n ? ev->n : 1, sizeof *call_of);
    if (!call_of)
        return -1;
    for (size_t i = 0; i < count; i++) {
        struct kvt_lin_entry *e = &ev->entries[i];
        *e = (struct kvt_lin_entry){.op = keys[i].op, .call = keys[i].call, .prev = prev};
        prev->next = e;
        prev = e;
        if (e->call)
            call_of[e->op] = e;
        else
            call_of[e->op]->match = e;
    }
    free(call_of);
    return 0;
}

/* Cuts the linked events into pieces: a new piece begins at a call when no op is open. */
static int cut_pieces(struct kvt_lin_events *ev)
{
    ev->piece_of = malloc((ev->n + 1) * sizeof *ev->piece_of);
    ev->piece_start = malloc((ev->n + 2) * sizeof *ev->piece_start);
    if (!ev->piece_of || !ev->piece_start)
        return -1;
    size_t open = 0;
    ev->piece_start[0] = 0;
    for (const struct kvt_lin_entry *e = ev->head.next; e; e = e->next) {
        if (!e->call) {
            open--;
            continue;
        }
        if (open++ == 0 && e->op > 0)
            ev->piece_start[++ev->pieces] = e->op;
        ev->piece_of[e->op] = ev->pieces;
    }
    ev->piece_start[++ev->pieces] = ev->n;
    return 0;
}

/* Picks key's ops, with the event times of each: keys[0, *count). 0 or -1 (memory). */
static int select_ops(struct kvt_lin_events *ev, const struct kvt_history *h, uint32_t key,
                      struct event_key *keys, size_t *count)
{
    size_t seen_count, fact_count;
    int64_t *seen = observed_values(h, key, &seen_count);
    struct fact *facts = value_facts(h, key, &fact_count);
    if (!seen || !facts) {
        free(seen);
        free(facts);
        return -1;
    }
    *count = 0;
    for (size_t i = 0; i < h->count; i++) {
        const struct kvt_op *op = &h->ops[i];
        if (op->key != key || !considered(op))
            continue;
        if (!kept(op, seen, seen_count)) {
            ev->pruned++;
            continue;
        }
        keys[(*count)++] = (struct event_key){op->invoke_ns, true, ev->n};
        int64_t bound = info_bound(op, facts, fact_count);
        if (op->outcome == KVT_OK)
            keys[(*count)++] = (struct event_key){done_ns(op), false, ev->n};
        else if (bound != INT64_MAX) {
            keys[(*count)++] = (struct event_key){bound, false, ev->n};
            ev->bounded++;
        }
        ev->hist[ev->n++] = i;
    }
    free(seen);
    free(facts);
    return 0;
}

int kvt_lin_events_build(struct kvt_lin_events *ev, const struct kvt_history *h, uint32_t key)
{
    memset(ev, 0, sizeof *ev);
    ev->hist = malloc((h->count + 1) * sizeof *ev->hist);
    struct event_key *keys = malloc((2 * h->count + 1) * sizeof *keys);
    ev->entries = malloc((2 * h->count + 1) * sizeof *ev->entries);
    size_t count = 0;
    int rc = ev->hist && keys && ev->entries ? select_ops(ev, h, key, keys, &count) : -1;
    if (rc == 0) {
        qsort(keys, count, sizeof *keys, by_time);
        rc = link_events(ev, keys, count);
    }
    if (rc == 0)
        rc = cut_pieces(ev);
    free(keys);
    if (rc != 0)
        kvt_lin_events_free(ev);
    return rc;
}

void kvt_lin_events_free(struct kvt_lin_events *ev)
{
    free(ev->hist);
    free(ev->entries);
    free(ev->piece_of);
    free(ev->piece_start);
    memset(ev, 0, sizeof *ev);
}

void kvt_lin_lift(struct kvt_lin_entry *e)
{
    e->prev->next = e->next;
    if (e->next)
        e->next->prev = e->prev;
    struct kvt_lin_entry *m = e->match;
    if (m) {
        m->prev->next = m->next;
        if (m->next)
            m->next->prev = m->prev;
    }
}

void kvt_lin_unlift(struct kvt_lin_entry *e)
{
    struct kvt_lin_entry *m = e->match;
    if (m) {
        m->prev->next = m;
        if (m->next)
            m->next->prev = m;
    }
    e->prev->next = e;
    if (e->next)
        e->next->prev = e;
}
