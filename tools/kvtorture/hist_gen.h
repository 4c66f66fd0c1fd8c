/* hist_gen.h: synthetic register histories of any length, linearizable by construction, for
   the checkers' long tests and their bench. */
#ifndef KVT_HIST_GEN_H
#define KVT_HIST_GEN_H

#include "history.h"

#include <stddef.h>
#include <stdint.h>

/* P processes each issue ops back to back on random keys; each op takes effect at a random
   point inside its interval (an info op at any point after its invocation, even long after
   the client gave up, or never), and reads and cas see the register as those points order
   it. A cas expects what its process last saw, and fails when that is stale. */
struct kvt_gen {
    uint64_t seed;
    size_t ops;
    uint32_t processes, keys;
    unsigned info_pct, fail_pct;    /* of the ops, outcome info / fail (transport) */
    int64_t latency_ns;             /* the mean op length */
    int64_t think_ns;               /* a process's pause between ops: up to this */
};

void kvt_gen_default(struct kvt_gen *g);
/* Fills h (sorted by invocation). 0, or -1 (memory). */
int kvt_gen_history(struct kvt_history *h, const struct kvt_gen *g);
/* Makes the last ok read of key that allows it stale: it now returns the value of an ok
   write a though an ok write b ran wholly between a and the read. Its index, or SIZE_MAX when
   no read allows it. */
size_t kvt_gen_make_stale(struct kvt_history *h, uint32_t key);

#endif
