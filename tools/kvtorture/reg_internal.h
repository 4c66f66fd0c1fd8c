/* reg_internal.h: the fast path's working state, shared by reg_index.c (which op saw which
   write, the ops that must have happened, the cas links) and reg_check.c (blocks, zones). */
#ifndef KVT_REG_INTERNAL_H
#define KVT_REG_INTERNAL_H

#include "reg.h"

#include <stdbool.h>
#include <stdint.h>

/* Nodes are op indices 0..n-1, and n for the register's initial state (a write of nil that
   precedes everything). */
#define REG_NONE UINT32_MAX

enum { REG_MANDATORY = 1, REG_VISITED = 2 };

struct reg_writer {
    int64_t value;
    uint32_t op;
};

struct reg {
    const struct kvt_op *ops;
    uint32_t n, init;              /* init == n */
    struct reg_writer *writers;    /* every write and cas (any outcome), by value */
    uint32_t nwriters;
    uint32_t *src;                 /* per op: the writer node it observed, or REG_NONE */
    uint8_t *flag;                 /* per node */
    uint32_t *succ;                /* per node: the mandatory cas that replaced its value */
    uint32_t *read_at, *reads;     /* reads of node w: reads[read_at[w], read_at[w + 1]) */
    size_t mandatory, considered;
    struct kvt_lin_result *out;
};

int64_t reg_inv(const struct reg *r, uint32_t node);
/* INT64_MAX for an info op: it may have taken effect at any time after its invocation. */
int64_t reg_resp(const struct reg *r, uint32_t node);
bool reg_is_write(const struct kvt_op *op);

/* 1 when the fast path does not apply (reg.h); 0; -1 (memory). */
int reg_index(struct reg *r);
/* Marks the ops that must have happened and links each writer to its reads and its cas.
   0; 1 when a violation was found (r->out filled); -1 (memory). */
int reg_link(struct reg *r);
/* Fills r->out as a violation: sentence, then up to KVT_LIN_WINDOW_MAX (node, mark) pairs
   ending with REG_NONE. Returns 1. */
int reg_violation(struct reg *r, const char *sentence, ...);

#endif
