/* reg.h: linearizability of one register whose writes carry unique values, decided directly
   in O(n log n) (the fast path), without a search.
 *
 * With unique values every read names the one write it saw, and every cas the one write it
 * replaced, so the writes, their readers and the cas chains fall into blocks that must each
 * run contiguously; the history is linearizable exactly when each block is consistent inside
 * and no two blocks must each come before the other (Gibbons & Korach's zones, extended to
 * cas chains). reg_check.c proves both halves. */
#ifndef KVT_REG_H
#define KVT_REG_H

#include "lin.h"

#include <stddef.h>

/* The fast path's ops per key; beyond it the search decides (or says unknown). */
#define KVT_REG_OPS_MAX (UINT32_MAX / 2)

/* Checks ops[0, n) (one key's ops, sorted by invocation). 0 with out filled (a verdict, never
   unknown; window indices are into ops); 1 when the fast path does not apply (a value written
   twice, a write of nil, an op type it does not know, too many ops): the search must decide;
   -1 when memory runs out. */
int kvt_reg_check(const struct kvt_op *ops, size_t n, struct kvt_lin_result *out);

#endif
