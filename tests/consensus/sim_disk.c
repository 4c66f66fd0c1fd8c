/* sim_disk.c: a node's simulated disk: synced state plus one unsynced, tearable batch. */
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
    free_ents(d->pend_ents, 0, d->pend_count);
    free(d->pend_ents);
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
    return d->snap_index + d->count;
}

void sim_disk_write(struct sim_disk *d, const struct consensus_ready *rd, const struct sim_sm *snap)
{
    assert(!d->pending);
    d->pending = true;
    d->pend_hs_set = rd->hard_state_changed;
    d->pend_hs = rd->hard_state;
    d->pend_snap_set = rd->snapshot_apply;
    if (rd->snapshot_apply) {
        assert(snap != NULL && snap->applied == rd->snapshot_index);
        d->pend_snap_index = rd->snapshot_index;
        d->pend_snap_term = rd->snapshot_term;
        d->pend_snap_sm = *snap;
    }
    d->pend_count = rd->entry_count;
    d->pend_ents = rd->entry_count ? calloc(rd->entry_count, sizeof *d->pend_ents) : NULL;
    for (size_t i = 0; i < rd->entry_count; i++)
        copy_entry(&d->pend_ents[i], &rd->entries[i]);
}

size_t sim_disk_pending_records(const struct sim_disk *d)
{
    if (!d->pending)
        return 0;
    return (size_t)d->pend_hs_set + (size_t)d->pend_snap_set + d->pend_count;
}

static void install_snapshot(struct sim_disk *d)
{
    free_ents(d->ents, 0, d->count);
    d->count = 0;
    d->snap_index = d->pend_snap_index;
    d->snap_term = d->pend_snap_term;
    d->snap_sm = d->pend_snap_sm;
}

/* Appends one entry; the WAL drops everything from its index on first. */
static void append(struct sim_disk *d, struct consensus_entry *e)
{
    assert(e->index > d->snap_index);
    assert(e->index <= sim_disk_last_index(d) + 1);
    size_t keep = (size_t)(e->index - d->snap_index - 1);
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

void sim_disk_crash(struct sim_disk *d, size_t keep)
{
    if (!d->pending)
        return;
    assert(keep <= sim_disk_pending_records(d));
    if (d->pend_hs_set && keep > 0) {
        d->hs = d->pend_hs;
        keep--;
    }
    if (d->pend_snap_set && keep > 0) {
        install_snapshot(d);
        keep--;
    }
    for (size_t i = 0; i < d->pend_count && i < keep; i++)
        append(d, &d->pend_ents[i]);
    free_ents(d->pend_ents, 0, d->pend_count);
    free(d->pend_ents);
    d->pend_ents = NULL;
    d->pend_count = 0;
    d->pending = false;
}

void sim_disk_sync(struct sim_disk *d)
{
    sim_disk_crash(d, sim_disk_pending_records(d));
}

bool sim_disk_holds(const struct sim_disk *d, uint64_t index, uint64_t term)
{
    if (index <= d->snap_index)
        return true;
    if (index > sim_disk_last_index(d))
        return false;
    return d->ents[index - d->snap_index - 1].term == term;
}

void sim_disk_compact(struct sim_disk *d, uint64_t index, uint64_t term, const struct sim_sm *sm)
{
    assert(!d->pending);
    assert(index > d->snap_index);
    assert(index <= sim_disk_last_index(d));
    assert(d->ents[index - d->snap_index - 1].term == term);
    assert(sm->applied == index);
    size_t drop = (size_t)(index - d->snap_index);
    free_ents(d->ents, 0, drop);
    memmove(d->ents, d->ents + drop, (d->count - drop) * sizeof *d->ents);
    d->count -= drop;
    d->snap_index = index;
    d->snap_term = term;
    d->snap_sm = *sm;
}

void sim_disk_load(struct sim_disk *d, uint64_t term, const uint64_t *terms, size_t n)
{
    sim_disk_free(d);
    sim_disk_init(d);
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
