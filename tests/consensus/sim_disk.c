/* sim_disk.c: a node's simulated disk: synced state plus a stream of unsynced, tearable writes. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

void sim_disk_init(struct sim_disk *d)
{
    memset(d, 0, sizeof *d);
    d->hs.vote = CONSENSUS_NONE;
}

static void free_ents(struct consensus_entry *ents, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        free(ents[i].data);
}

void sim_disk_free(struct sim_disk *d)
{
    free_ents(d->ents, 0, d->count);
    free(d->ents);
    for (size_t i = 0; i < d->pend_count; i++)
        free(d->pend[i].e.data);
    free(d->pend);
    memset(d, 0, sizeof *d);
}

static void copy_entry(struct consensus_entry *dst, const struct consensus_entry *src)
{
    *dst = *src;
    dst->data = NULL;
    if (src->len > 0) {
        dst->data = malloc(src->len);
        assert(dst->data != NULL);
        memcpy(dst->data, src->data, src->len);
    }
}

uint64_t sim_disk_last_index(const struct sim_disk *d)
{
    return d->base_index + d->count;
}

static struct sim_record *push_record(struct sim_disk *d, enum sim_record_kind kind)
{
    if (d->pend_count == d->pend_cap) {
        d->pend_cap = d->pend_cap ? d->pend_cap * 2 : 16;
        d->pend = realloc(d->pend, d->pend_cap * sizeof *d->pend);
        assert(d->pend != NULL);
    }
    struct sim_record *r = &d->pend[d->pend_count++];
    memset(r, 0, sizeof *r);
    r->kind = kind;
    return r;
}

void sim_disk_write(struct sim_disk *d, const struct consensus_ready *rd, const struct sim_sm *snap)
{
    if (rd->hard_state_changed)
        push_record(d, SIM_RECORD_HS)->hs = rd->hard_state;
    if (rd->snapshot_apply) {
        assert(snap != NULL && snap->applied == rd->snapshot_index);
        struct sim_record *r = push_record(d, SIM_RECORD_SNAP);
        r->snap_index = rd->snapshot_index;
        r->snap_term = rd->snapshot_term;
        r->snap_sm = *snap;
    }
    for (size_t i = 0; i < rd->entry_count; i++)
        copy_entry(&push_record(d, SIM_RECORD_ENTRY)->e, &rd->entries[i]);
}

size_t sim_disk_pending_records(const struct sim_disk *d)
{
    return d->pend_count;
}

/* Appends one entry; the WAL drops everything from its index on first. */
static void append(struct sim_disk *d, struct consensus_entry *e)
{
    assert(e->index > d->snap_index);
    assert(e->index <= sim_disk_last_index(d) + 1);
    size_t keep = (size_t)(e->index - d->base_index - 1);
    free_ents(d->ents, keep, d->count);
    d->count = keep;
    if (d->count == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 64;
        d->ents = realloc(d->ents, d->cap * sizeof *d->ents);
        assert(d->ents != NULL);
    }
    d->ents[d->count++] = *e; /* takes ownership of the data */
    e->data = NULL;
}

static void make_durable(struct sim_disk *d, struct sim_record *r)
{
    switch (r->kind) {
    case SIM_RECORD_HS:
        d->hs = r->hs;
        break;
    case SIM_RECORD_SNAP:
        free_ents(d->ents, 0, d->count);
        d->count = 0;
        d->snap_index = d->base_index = r->snap_index;
        d->snap_term = d->base_term = r->snap_term;
        d->snap_sm = r->snap_sm;
        break;
    case SIM_RECORD_ENTRY:
        append(d, &r->e);
        break;
    }
}

/* The first `durable` records reach the synced state, the next `lost` vanish, the rest stay. */
static void settle(struct sim_disk *d, size_t durable, size_t lost)
{
    assert(durable + lost <= d->pend_count);
    for (size_t i = 0; i < durable; i++)
        make_durable(d, &d->pend[i]);
    for (size_t i = durable; i < durable + lost; i++)
        free(d->pend[i].e.data);
    size_t gone = durable + lost;
    if (gone > 0 && gone < d->pend_count)
        memmove(d->pend, d->pend + gone, (d->pend_count - gone) * sizeof *d->pend);
    d->pend_count -= gone;
}

void sim_disk_crash(struct sim_disk *d, size_t keep)
{
    assert(keep <= d->pend_count);
    settle(d, keep, d->pend_count - keep);
}

void sim_disk_sync(struct sim_disk *d)
{
    settle(d, d->pend_count, 0);
}

void sim_disk_sync_records(struct sim_disk *d, size_t records)
{
    settle(d, records, 0);
}

uint64_t sim_disk_durable_index(const struct sim_disk *d)
{
    uint64_t durable = sim_disk_last_index(d);
    for (size_t i = 0; i < d->pend_count; i++) {
        const struct sim_record *r = &d->pend[i];
        uint64_t below = r->kind == SIM_RECORD_ENTRY  ? r->e.index - 1
                         : r->kind == SIM_RECORD_SNAP ? d->snap_index
                                                      : durable;
        if (below < durable)
            durable = below;
    }
    return durable;
}

bool sim_disk_holds(const struct sim_disk *d, uint64_t index, uint64_t term)
{
    if (index <= d->snap_index || index <= d->base_index)
        return true;
    if (index > sim_disk_last_index(d))
        return false;
    return d->ents[index - d->base_index - 1].term == term;
}

void sim_disk_compact(struct sim_disk *d, uint64_t index, uint64_t term, const struct sim_sm *sm,
                      uint64_t keep)
{
    for (size_t i = 0; i < d->pend_count; i++) /* a background sync's entries, after it */
        assert(d->pend[i].kind == SIM_RECORD_ENTRY && d->pend[i].e.index > index);
    assert(index > d->snap_index);
    assert(index <= sim_disk_last_index(d));
    assert(d->ents[index - d->base_index - 1].term == term);
    assert(sm->applied == index);
    d->snap_index = index;
    d->snap_term = term;
    d->snap_sm = *sm;
    uint64_t to = index > keep ? index - keep : 0;
    if (to <= d->base_index)
        return; /* the log keeps its tail below the snapshot */
    size_t drop = (size_t)(to - d->base_index);
    d->base_term = d->ents[drop - 1].term;
    free_ents(d->ents, 0, drop);
    memmove(d->ents, d->ents + drop, (d->count - drop) * sizeof *d->ents);
    d->count -= drop;
    d->base_index = to;
}

void sim_disk_load(struct sim_disk *d, uint64_t term, const uint64_t *terms, size_t n)
{
    struct consensus_membership conf = d->snap_sm.conf; /* the node stays a member */
    sim_disk_free(d);
    sim_disk_init(d);
    d->snap_sm.conf = conf;
    d->hs.term = term;
    for (size_t i = 0; i < n; i++) {
        uint8_t payload[16] = {(uint8_t)(i + 1), (uint8_t)terms[i], 0xF7};
        struct consensus_entry e = {.index = i + 1, .term = terms[i], .len = sizeof payload,
                                    .data = malloc(sizeof payload)};
        assert(e.data != NULL);
        memcpy(e.data, payload, sizeof payload);
        append(d, &e);
    }
}
