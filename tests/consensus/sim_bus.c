/* sim_bus.c: ConsensusMessageBus: seeded delay, drop, duplication, reordering, partitions. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

void bus_init(struct bus *b)
{
    memset(b, 0, sizeof *b);
    b->faults = (struct bus_faults){.delay_min = 1, .delay_max = 5};
}

void bus_msg_free(struct bus_msg *msg)
{
    for (uint32_t i = 0; msg->ents != NULL && i < msg->m.entry_count; i++)
        free(msg->ents[i].data);
    free(msg->ents);
    msg->ents = NULL;
}

void bus_free(struct bus *b)
{
    for (size_t i = 0; i < b->count; i++)
        bus_msg_free(&b->heap[i]);
    free(b->heap);
    memset(b, 0, sizeof *b);
}

static bool before(const struct bus_msg *a, const struct bus_msg *b)
{
    if (a->deliver_at != b->deliver_at)
        return a->deliver_at < b->deliver_at;
    return a->order < b->order;
}

static void swap(struct bus_msg *a, struct bus_msg *b)
{
    struct bus_msg t = *a;
    *a = *b;
    *b = t;
}

static void heap_push(struct bus *b, const struct bus_msg *msg)
{
    if (b->count == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 256;
        b->heap = realloc(b->heap, b->cap * sizeof *b->heap);
        assert(b->heap != NULL);
    }
    size_t i = b->count++;
    b->heap[i] = *msg;
    while (i > 0 && before(&b->heap[i], &b->heap[(i - 1) / 2])) {
        swap(&b->heap[i], &b->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
}

static void heap_pop(struct bus *b, struct bus_msg *out)
{
    assert(b->count > 0);
    *out = b->heap[0];
    b->heap[0] = b->heap[--b->count];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1;
        size_t r = l + 1;
        size_t m = i;
        if (l < b->count && before(&b->heap[l], &b->heap[m]))
            m = l;
        if (r < b->count && before(&b->heap[r], &b->heap[m]))
            m = r;
        if (m == i)
            break;
        swap(&b->heap[i], &b->heap[m]);
        i = m;
    }
}

static struct consensus_entry *copy_entries(const struct consensus_msg *m)
{
    if (m->entry_count == 0)
        return NULL;
    struct consensus_entry *ents = calloc(m->entry_count, sizeof *ents);
    assert(ents != NULL);
    for (uint32_t i = 0; i < m->entry_count; i++) {
        ents[i] = m->entries[i];
        ents[i].data = NULL;
        if (m->entries[i].len > 0) {
            ents[i].data = malloc(m->entries[i].len);
            assert(ents[i].data != NULL);
            memcpy(ents[i].data, m->entries[i].data, m->entries[i].len);
        }
    }
    return ents;
}

static void enqueue(struct bus *b, struct sim_rng *rng, uint64_t now, const struct bus_msg *tmpl)
{
    uint32_t span = b->faults.delay_max - b->faults.delay_min + 1;
    uint64_t delay = b->faults.delay_min + sim_rng_below(rng, span);
    if (b->faults.stall_max > 0 && sim_rng_chance(rng, b->faults.stall_ppm))
        delay += sim_rng_below(rng, b->faults.stall_max);
    struct bus_msg msg = *tmpl;
    msg.deliver_at = now + delay;
    msg.order = sim_rng_next(rng); /* random order among equal times: reordering */
    msg.ents = copy_entries(&tmpl->m);
    msg.m.entries = msg.ents;
    heap_push(b, &msg);
}

static void send_one(struct bus *b, struct sim_rng *rng, uint64_t now, const struct bus_msg *tmpl)
{
    assert(b->faults.delay_min >= 1);
    assert(b->faults.delay_max >= b->faults.delay_min);
    b->sent++;
    if (sim_rng_chance(rng, b->faults.drop_ppm)) {
        b->dropped++;
        return;
    }
    enqueue(b, rng, now, tmpl);
    if (sim_rng_chance(rng, b->faults.dup_ppm))
        enqueue(b, rng, now, tmpl);
}

void bus_send(struct bus *b, struct sim_rng *rng, uint64_t now, const struct consensus_msg *m)
{
    struct bus_msg tmpl = {.kind = BUS_MSG, .m = *m};
    send_one(b, rng, now, &tmpl);
}

void bus_send_chunk(struct bus *b, struct sim_rng *rng, uint64_t now, enum bus_kind kind,
                    const struct consensus_msg *m, const struct sim_chunk *c,
                    const struct sim_sm *snap)
{
    assert(kind == BUS_CHUNK || kind == BUS_CHUNK_ACK);
    assert(m->entry_count == 0);
    struct bus_msg tmpl = {.kind = kind, .m = *m, .chunk = *c};
    if (snap != NULL)
        tmpl.snap = *snap;
    send_one(b, rng, now, &tmpl);
}

bool bus_pop_due(struct bus *b, uint64_t now, struct bus_msg *out)
{
    while (b->count > 0 && b->heap[0].deliver_at <= now) {
        heap_pop(b, out);
        if (!b->cut[out->m.from][out->m.to])
            return true;
        b->dropped++; /* a partition drops what is in flight too */
        bus_msg_free(out);
    }
    return false;
}

void bus_push_back(struct bus *b, struct bus_msg *msg, uint64_t deliver_at)
{
    msg->deliver_at = deliver_at;
    heap_push(b, msg);
}

void bus_heal(struct bus *b)
{
    memset(b->cut, 0, sizeof b->cut);
}

void bus_isolate(struct bus *b, uint32_t node, uint32_t node_count)
{
    for (uint32_t i = 0; i < node_count; i++) {
        if (i == node)
            continue;
        b->cut[node][i] = true;
        b->cut[i][node] = true;
    }
}
