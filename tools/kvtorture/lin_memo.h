/* lin_memo.h: the set of (linearized ops, register state) pairs the search has already seen. */
#ifndef KVT_LIN_MEMO_H
#define KVT_LIN_MEMO_H

#include <stddef.h>
#include <stdint.h>

struct kvt_lin_memo_slot {
    uint64_t hash;
    int64_t state;
    size_t at;                 /* bitset number in the arena; SIZE_MAX: empty slot */
};

struct kvt_lin_memo {
    size_t words;              /* 64-bit words per bitset */
    uint64_t *arena;           /* bitsets, words each */
    size_t arena_count, arena_cap;
    struct kvt_lin_memo_slot *slots;
    size_t slot_count, slot_cap;
    size_t bytes_max;
};

int kvt_lin_memo_init(struct kvt_lin_memo *m, size_t words, size_t bytes_max);
void kvt_lin_memo_free(struct kvt_lin_memo *m);
/* 1: added; 0: already there; -1: over bytes_max or out of memory. */
int kvt_lin_memo_add(struct kvt_lin_memo *m, const uint64_t *bits, uint64_t hash, int64_t state);

#endif
