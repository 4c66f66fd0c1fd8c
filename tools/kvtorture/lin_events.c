/* lin_events.c: choosing one key's ops for the search and linking their events by time. */
#include "lin_internal.h"

#include <stdlib.h>
#include <string.h>

struct event_key {
    int64_t t;
    bool call;
    size_t op;
};

static bool considered(const struct kvt_op *op)
{
    if (op->outcome == KVT_FAIL)
        return false;   /* definitely did not happen */
    return !(op->type == KVT_READ && op->outcome == KVT_INFO);   /* changes nothing */
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

int kvt_lin_events_build(struct kvt_lin_events *ev, const struct kvt_history *h, uint32_t key)
{
    memset(ev, 0, sizeof *ev);
    size_t seen_count;
    int64_t *seen = observed_values(h, key, &seen_count);
    ev->hist = malloc((h->count + 1) * sizeof *ev->hist);
    struct event_key *keys = malloc((2 * h->count + 1) * sizeof *keys);
    ev->entries = malloc((2 * h->count + 1) * sizeof *ev->entries);
    if (!seen || !ev->hist || !keys || !ev->entries) {
        free(seen);
        free(keys);
        kvt_lin_events_free(ev);
        return -1;
    }
    size_t count = 0;
    for (size_t i = 0; i < h->count; i++) {
        const struct kvt_op *op = &h->ops[i];
        if (op->key != key || !considered(op))
            continue;
        if (!kept(op, seen, seen_count)) {
            ev->pruned++;
            continue;
        }
        keys[count++] = (struct event_key){op->invoke_ns, true, ev->n};
        if (op->outcome == KVT_OK) {
            int64_t done = op->complete_ns > op->invoke_ns ? op->complete_ns : op->invoke_ns;
            keys[count++] = (struct event_key){done, false, ev->n};
        }
        ev->hist[ev->n++] = i;
    }
    qsort(keys, count, sizeof *keys, by_time);
    int rc = link_events(ev, keys, count);
    free(keys);
    free(seen);
    if (rc != 0)
        kvt_lin_events_free(ev);
    return rc;
}

void kvt_lin_events_free(struct kvt_lin_events *ev)
{
    free(ev->hist);
    free(ev->entries);
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
