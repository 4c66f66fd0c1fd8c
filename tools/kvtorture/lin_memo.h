/* lin_memo.h: the set of (linearized ops, register state) pairs the search has already seen.
   A set is stored as a row of words: the search's piece number, then the piece's bits. */
#ifndef KVT_LIN_MEMO_H
#define KVT_LIN_MEMO_H

#include <stddef.h>
#include <stdint.h>

struct kvt_lin_memo_slot {
    uint64_t hash;
    int64_t state;
    size_t at;                 /* first word of the row in the arena; SIZE_MAX: empty slot */
    size_t words;
};

struct kvt_lin_memo {
    uint64_t *arena;           /* rows, back to back */
    size_t arena_used, arena_cap;   /* in words */
    struct kvt_lin_memo_slot *slots;
    size_t slot_count, slot_cap;
    size_t bytes_max;
};

int kvt_lin_memo_init(struct kvt_lin_memo *m, size_t bytes_max);
void kvt_lin_memo_free(struct kvt_lin_memo *m);
/* 1: added; 0: already there; -1: over bytes_max or out of memory. */
int kvt_lin_memo_add(struct kvt_lin_memo *m, const uint64_t *row, size_t words, uint64_t hash,
                     int64_t state);

#endif
