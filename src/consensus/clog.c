/* clog.c: the core's in-memory log: append, truncate, compact, term lookups. */
#include "clog.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* The array's smallest capacity, in entries. */
#define CLOG_CAP_MIN 64u

static void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size);
    /* The core aborts on memory exhaustion rather than half-applying a transition. */
    assert(q != NULL);
    if (q == NULL)
        abort();
    return q;
}

void cons_clog_init(struct clog *log, uint64_t snap_index, uint64_t snap_term)
{
    memset(log, 0, sizeof *log);
    log->snap_index = snap_index;
    log->snap_term = snap_term;
    log->commit = snap_index;
    log->applied = snap_index;
    log->unstable = snap_index + 1;
    log->persisted = snap_index;
}

static void free_range(struct clog *log, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        free(log->ents[i].data);
}

void cons_clog_free(struct clog *log)
{
    free_range(log, 0, log->count);
    free(log->ents);
    memset(log, 0, sizeof *log);
}

uint64_t cons_clog_last_index(const struct clog *log)
{
    return log->snap_index + log->count;
}

uint64_t cons_clog_last_term(const struct clog *log)
{
    return log->count == 0 ? log->snap_term : log->ents[log->count - 1].term;
}

bool cons_clog_term(const struct clog *log, uint64_t index, uint64_t *term)
{
    if (index == log->snap_index) {
        *term = log->snap_term;
        return true;
    }
    if (index < log->snap_index || index > cons_clog_last_index(log))
        return false;
    *term = cons_clog_entry(log, index)->term;
    return true;
}

const struct consensus_entry *cons_clog_entry(const struct clog *log, uint64_t index)
{
    assert(index > log->snap_index);
    assert(index <= cons_clog_last_index(log));
    const struct consensus_entry *e = &log->ents[index - log->snap_index - 1];
    assert(e->index == index);
    return e;
}

uint64_t cons_clog_bytes(const struct clog *log, uint64_t from, uint64_t to)
{
    uint64_t bytes = 0;
    for (uint64_t i = from + 1; i <= to; i++)
        bytes += cons_clog_entry(log, i)->len;
    return bytes;
}

void cons_clog_append(struct clog *log, uint64_t term, const void *data, uint32_t len)
{
    assert(term >= cons_clog_last_term(log));
    if (log->count == log->cap) {
        log->cap = log->cap == 0 ? CLOG_CAP_MIN : log->cap * 2;
        log->ents = xrealloc(log->ents, log->cap * sizeof *log->ents);
    }
    struct consensus_entry *e = &log->ents[log->count++];
    e->index = cons_clog_last_index(log);
    e->term = term;
    e->len = len;
    e->data = NULL;
    if (len > 0) {
        e->data = xrealloc(NULL, len);
        memcpy(e->data, data, len);
    }
}

void cons_clog_truncate(struct clog *log, uint64_t from)
{
    assert(from > log->commit);
    assert(from > log->snap_index);
    if (from > cons_clog_last_index(log))
        return;
    size_t keep = (size_t)(from - log->snap_index - 1);
    free_range(log, keep, log->count);
    log->count = keep;
    if (log->unstable > from)
        log->unstable = from;
    if (log->persisted >= from)
        log->persisted = from - 1;
}

/* After a compaction the array keeps the pages the log's longest run touched (32 bytes an
   entry: 32 MiB after a million writes between snapshots); give them back once it is mostly
   empty, keeping room to double. */
static void shrink(struct clog *log)
{
    if (log->cap <= CLOG_CAP_MIN || log->count > log->cap / 4)
        return;
    size_t cap = log->count * 2 > CLOG_CAP_MIN ? log->count * 2 : CLOG_CAP_MIN;
    log->ents = xrealloc(log->ents, cap * sizeof *log->ents);
    log->cap = cap;
}

void cons_clog_compact(struct clog *log, uint64_t index, uint64_t term)
{
    assert(index > log->snap_index);
    assert(index <= log->applied);
    assert(cons_clog_entry(log, index)->term == term);
    size_t drop = (size_t)(index - log->snap_index);
    free_range(log, 0, drop);
    memmove(log->ents, log->ents + drop, (log->count - drop) * sizeof *log->ents);
    log->count -= drop;
    shrink(log);
    log->snap_index = index;
    log->snap_term = term;
    assert(log->persisted >= index); /* index <= applied <= persisted */
    assert(log->unstable > index);
}

void cons_clog_release(struct clog *log, uint64_t index)
{
    assert(index <= log->applied);
    uint64_t from = log->released > log->snap_index ? log->released : log->snap_index;
    for (uint64_t i = from + 1; i <= index; i++) {
        struct consensus_entry *e = &log->ents[i - log->snap_index - 1];
        free(e->data);
        e->data = NULL;
    }
    if (index > log->released)
        log->released = index;
}

void cons_clog_reset(struct clog *log, uint64_t index, uint64_t term)
{
    assert(index > log->commit);
    free_range(log, 0, log->count);
    log->count = 0;
    shrink(log);
    log->snap_index = index;
    log->snap_term = term;
    log->commit = index;
    log->applied = index;
    log->unstable = index + 1;
    log->persisted = index;
    log->released = index;
}

bool cons_clog_up_to_date(const struct clog *log, uint64_t last_index, uint64_t last_term)
{
    uint64_t our_term = cons_clog_last_term(log);
    if (last_term != our_term)
        return last_term > our_term;
    return last_index >= cons_clog_last_index(log);
}

uint64_t cons_clog_find_conflict(const struct clog *log, uint64_t index, uint64_t term,
                                 uint64_t *term_out)
{
    uint64_t hi = index < cons_clog_last_index(log) ? index : cons_clog_last_index(log);
    if (hi <= log->snap_index) {
        *term_out = log->snap_term;
        return log->snap_index;
    }
    /* Terms never decrease along the log: binary search for the last term <= term. */
    uint64_t lo = log->snap_index; /* answer is in [lo, hi] */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo + 1) / 2;
        if (cons_clog_entry(log, mid)->term <= term)
            lo = mid;
        else
            hi = mid - 1;
    }
    bool ok = cons_clog_term(log, lo, term_out);
    assert(ok);
    (void)ok;
    return lo;
}

enum { clog_check_window = 64 };

void cons_clog_invariants(const struct clog *log, uint64_t current_term)
{
    uint64_t last = cons_clog_last_index(log);
    assert(log->snap_index <= log->applied);
    assert(log->applied <= log->commit);
    assert(log->commit <= last);
    assert(log->persisted <= last);
    assert(log->persisted >= log->snap_index);
    assert(log->unstable >= log->snap_index + 1);
    assert(log->unstable <= last + 1);
    assert(log->persisted < log->unstable);
    assert(log->applied <= log->persisted); /* nothing is applied before it is durable here */
    assert(log->count <= log->cap);
    assert(log->released <= log->applied);
    assert(cons_clog_last_term(log) <= current_term);
    /* A bounded tail window keeps the per-step cost flat; entries only change at the tail. */
    size_t from = log->count > clog_check_window ? log->count - clog_check_window : 0;
    uint64_t prev_term = from == 0 ? log->snap_term : log->ents[from - 1].term;
    for (size_t i = from; i < log->count; i++) {
        assert(log->ents[i].index == log->snap_index + 1 + i);
        assert(log->ents[i].term >= prev_term);
        if (log->ents[i].index > log->released)
            assert((log->ents[i].len == 0) == (log->ents[i].data == NULL));
        else
            assert(log->ents[i].data == NULL);
        prev_term = log->ents[i].term;
    }
}
