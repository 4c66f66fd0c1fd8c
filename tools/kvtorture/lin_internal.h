/* lin_internal.h: the search's event list, shared by lin.c and lin_events.c. */
#ifndef KVT_LIN_INTERNAL_H
#define KVT_LIN_INTERNAL_H

#include "history.h"

#include <stdbool.h>
#include <stddef.h>

/* One invocation or completion; completions exist only for ok ops and for info ops some ok
   op proves happened (lin_events.c); any other info op may take effect at any later point or
   never, so nothing forces it. */
struct kvt_lin_entry {
    size_t op;                 /* local op number */
    bool call;
    struct kvt_lin_entry *prev, *next;
    struct kvt_lin_entry *match;   /* call: its completion, or NULL */
};

/* Ops are numbered by invocation. Pieces split them at quiescent points (no op open):
   piece p holds ops [piece_start[p], piece_start[p + 1]), and every op of a piece precedes
   every op of the next in real time, so no linearization mixes them. */
struct kvt_lin_events {
    size_t *hist;              /* local op number -> history index */
    size_t n;
    size_t pruned;
    size_t bounded;            /* info ops given a completion (lin_events.c) */
    struct kvt_lin_entry *entries;
    struct kvt_lin_entry head;  /* sentinel */
    size_t *piece_start;       /* pieces + 1 entries */
    size_t *piece_of;          /* local op number -> piece */
    size_t pieces;
};

/* Picks key's ops from h and links their events by time (calls before completions at equal
   times: equal times count as concurrent). 0 or -1 (memory). */
int kvt_lin_events_build(struct kvt_lin_events *ev, const struct kvt_history *h, uint32_t key);
void kvt_lin_events_free(struct kvt_lin_events *ev);
/* Unlinks a call and its completion, and links them back (in reverse order of lifting). */
void kvt_lin_lift(struct kvt_lin_entry *e);
void kvt_lin_unlift(struct kvt_lin_entry *e);

#endif
