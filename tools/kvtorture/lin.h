/* lin.h: linearizability of each key as a register (read, write, cas): Wing-Gong search. */
#ifndef KVT_LIN_H
#define KVT_LIN_H

#include "history.h"

#include <stddef.h>
#include <stdint.h>

/* The search is bounded: by steps, by memo memory, and (when now_ns is set) by time. Hitting a
   bound gives KVT_LIN_UNKNOWN, never a verdict. */
struct kvt_lin_limits {
    uint64_t steps_max;
    size_t memo_bytes_max;
    int64_t time_budget_ns;          /* per key; used only with now_ns */
    int64_t (*now_ns)(void);         /* NULL: no time bound (keeps the search pure) */
};

#define KVT_LIN_STEPS_MAX_DEFAULT 200000000ull
#define KVT_LIN_MEMO_BYTES_MAX_DEFAULT (512u * 1024 * 1024)
/* Ops shown around a failure: the last ones linearized, and the candidates that were open. */
#define KVT_LIN_WINDOW_BEFORE 4
#define KVT_LIN_WINDOW_OPEN_MAX 12
#define KVT_LIN_WINDOW_MAX (KVT_LIN_WINDOW_BEFORE + KVT_LIN_WINDOW_OPEN_MAX + 1)

void kvt_lin_limits_default(struct kvt_lin_limits *lim);

enum kvt_lin_verdict { KVT_LIN_OK, KVT_LIN_VIOLATION, KVT_LIN_UNKNOWN };
/* Which checker decided: the direct one for unique values (reg.h), or the search. */
enum kvt_lin_method { KVT_LIN_BY_SEARCH, KVT_LIN_BY_BLOCKS };
/* A window entry that is the register's initial state rather than an op (blocks only). */
#define KVT_LIN_INITIAL SIZE_MAX

struct kvt_lin_result {
    enum kvt_lin_verdict verdict;
    uint32_t key;
    size_t ops;                /* ops the search considered (fail ops and info reads left out) */
    size_t pruned;             /* info writes whose value nobody observed: "never" suffices */
    uint64_t steps;
    const char *why;           /* UNKNOWN: which bound */
    /* VIOLATION: at the deepest point the search reached, it could not get past the
       completion of `stuck` (an index into the history); `state` is the register there. */
    size_t stuck;
    int64_t state;
    size_t linearized;         /* ops linearized at that point */
    size_t window[KVT_LIN_WINDOW_MAX];   /* history indices, by invocation time */
    bool window_linearized[KVT_LIN_WINDOW_MAX];  /* before the stuck point */
    size_t window_count;
    enum kvt_lin_method method;
    /* BY_BLOCKS VIOLATION: what is wrong, one sentence naming the window's ops by their
       mark (role[i], a short label); stuck, state and linearized are unused. */
    const char *violation;
    const char *role[KVT_LIN_WINDOW_MAX];
};

/* Checks one key of h (sorted by invocation time). 0, or -1 when memory runs out. */
int kvt_lin_check_key(const struct kvt_history *h, uint32_t key, const struct kvt_lin_limits *lim,
                      struct kvt_lin_result *out);

/* Is the step legal from state; *next gets the state after it. */
bool kvt_lin_step(int64_t state, const struct kvt_op *op, int64_t *next);

#endif
