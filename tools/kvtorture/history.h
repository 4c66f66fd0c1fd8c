/* history.h: the operations a torture run records, as the checkers read them. */
#ifndef KVT_HISTORY_H
#define KVT_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Values are unique non-zero integers; 0 is "not found" (the register's initial state). */
#define KVT_NIL 0

enum kvt_op_type { KVT_READ, KVT_WRITE, KVT_CAS, KVT_OP_TYPES };

/* ok: happened as reported; fail: definitely did not happen; info: unknown (it may have
   taken effect at any point after its invocation, or never). */
enum kvt_outcome { KVT_OK, KVT_FAIL, KVT_INFO, KVT_OUTCOMES };

struct kvt_op {
    uint32_t process;        /* worker id */
    enum kvt_op_type type;
    enum kvt_outcome outcome;
    uint32_t key;            /* index into the run's key set */
    int64_t value;           /* read: what it saw; write: what it wrote; cas: the new value */
    int64_t expected;        /* cas: the value it required */
    int64_t invoke_ns;       /* CLOCK_MONOTONIC */
    int64_t complete_ns;     /* when the outcome was known (info: when the client gave up) */
    int32_t node;            /* node index the request went to; -1 when none */
    int64_t version;         /* ok ops: the version the answer named (a write's commit, a
                                read's); 0 when none (versions.h) */
};

struct kvt_history {
    struct kvt_op *ops;
    size_t count, cap;
};

void kvt_history_init(struct kvt_history *h);
void kvt_history_free(struct kvt_history *h);
/* Appends a copy; 0, or -1 when memory runs out. */
int kvt_history_add(struct kvt_history *h, const struct kvt_op *op);
/* Sorts by invocation time (stable for equal times by process). */
void kvt_history_sort(struct kvt_history *h);

const char *kvt_op_type_name(enum kvt_op_type t);
const char *kvt_outcome_name(enum kvt_outcome o);

/* Per-type, per-outcome counts. */
struct kvt_counts {
    size_t n[KVT_OP_TYPES][KVT_OUTCOMES];
};
void kvt_history_count(const struct kvt_history *h, struct kvt_counts *out);

#endif
