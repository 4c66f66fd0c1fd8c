/* lin_memo.c: open-addressing hash set of (row, state) for the linearizability search. */
#include "lin_memo.h"

#include <stdlib.h>
#include <string.h>

#define MEMO_SLOTS_INITIAL 1024u

int kvt_lin_memo_init(struct kvt_lin_memo *m, size_t bytes_max)
{
    memset(m, 0, sizeof *m);
    m->bytes_max = bytes_max;
    m->slots = malloc(MEMO_SLOTS_INITIAL * sizeof *m->slots);
    if (!m->slots)
        return -1;
    m->slot_cap = MEMO_SLOTS_INITIAL;
    for (size_t i = 0; i < m->slot_cap; i++)
        m->slots[i].at = SIZE_MAX;
    return 0;
}

void kvt_lin_memo_free(struct kvt_lin_memo *m)
{
    free(m->arena);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static size_t memo_bytes(const struct kvt_lin_memo *m, size_t slot_cap, size_t arena_cap)
{
    return slot_cap * sizeof *m->slots + arena_cap * sizeof *m->arena;
}

static void place(struct kvt_lin_memo_slot *slots, size_t cap, struct kvt_lin_memo_slot s)
{
    size_t i = s.hash & (cap - 1);
    while (slots[i].at != SIZE_MAX)
        i = (i + 1) & (cap - 1);
    slots[i] = s;
}

static int grow_slots(struct kvt_lin_memo *m)
{
    size_t cap = m->slot_cap * 2;
    if (memo_bytes(m, cap, m->arena_cap) > m->bytes_max)
        return -1;
    struct kvt_lin_memo_slot *slots = malloc(cap * sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < cap; i++)
        slots[i].at = SIZE_MAX;
    for (size_t i = 0; i < m->slot_cap; i++)
        if (m->slots[i].at != SIZE_MAX)
            place(slots, cap, m->slots[i]);
    free(m->slots);
    m->slots = slots;
    m->slot_cap = cap;
    return 0;
}

static int grow_arena(struct kvt_lin_memo *m, size_t need)
{
    size_t cap = m->arena_cap ? m->arena_cap * 2 : 4096;
    while (cap < need)
        cap *= 2;
    if (memo_bytes(m, m->slot_cap, cap) > m->bytes_max)
        return -1;
    uint64_t *arena = realloc(m->arena, cap * sizeof *arena);
    if (!arena)
        return -1;
    m->arena = arena;
    m->arena_cap = cap;
    return 0;
}

int kvt_lin_memo_add(struct kvt_lin_memo *m, const uint64_t *row, size_t words, uint64_t hash,
                     int64_t state)
{
    for (size_t i = hash & (m->slot_cap - 1);; i = (i + 1) & (m->slot_cap - 1)) {
        const struct kvt_lin_memo_slot *s = &m->slots[i];
        if (s->at == SIZE_MAX)
            break;
        if (s->hash == hash && s->state == state && s->words == words &&
            memcmp(m->arena + s->at, row, words * sizeof *row) == 0)
            return 0;
    }
    if ((m->slot_count + 1) * 2 > m->slot_cap && grow_slots(m) != 0)
        return -1;
    if (m->arena_used + words > m->arena_cap && grow_arena(m, m->arena_used + words) != 0)
        return -1;
    memcpy(m->arena + m->arena_used, row, words * sizeof *row);
    place(m->slots, m->slot_cap, (struct kvt_lin_memo_slot){.hash = hash, .state = state,
                                                            .at = m->arena_used, .words = words});
    m->arena_used += words;
    m->slot_count++;
    return 1;
}
