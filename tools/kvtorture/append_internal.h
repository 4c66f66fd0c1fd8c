/* append_internal.h: what append_check.c (reads, orders) and append_graph.c (edges, cycles)
   share. */
#ifndef KVT_APPEND_INTERNAL_H
#define KVT_APPEND_INTERNAL_H

#include "append_check.h"

/* No second txn to name in a report. */
#define KVT_NONE_TXN UINT32_MAX
/* Examples printed per anomaly kind. */
#define KVT_APPEND_EXAMPLES_MAX 3
/* Elements of a list shown in a report line. */
#define KVT_APPEND_SHOWN_MAX 12

/* Who appended an element. */
struct elem_ref {
    int64_t element;
    uint32_t txn;      /* history index */
    uint32_t key;
    bool last;         /* the txn's last append to that key */
};

/* A key's version order: the longest committed read of it. */
struct key_order {
    uint32_t key;
    const int64_t *v;
    uint32_t n;
    uint32_t owner;                /* the txn that read it */
    int64_t last_read_invoke_ns;   /* latest invocation of a committed read of it */
    bool any_read;
};

struct chk {
    const struct kvt_txns *h;
    FILE *out;
    struct kvt_append_result *r;
    struct elem_ref *elems;        /* sorted by element */
    size_t elem_count;
    bool *committed;               /* per txn */
    struct key_order *keys;        /* sorted by key */
    size_t key_count;
};

const struct elem_ref *chk_elem(const struct chk *c, int64_t element);
struct key_order *chk_key(const struct chk *c, uint32_t key);
/* A read of the state before the txn touched the key (not after its own append)? */
bool chk_external_read(const struct kvt_txn *t, uint32_t mop);
/* Is the read a prefix of the key's version order? */
bool chk_prefix(const struct key_order *k, const struct kvt_mop *m);
/* Counts one anomaly and prints it (the first few of a kind) with the txns named. */
void chk_report(struct chk *c, enum kvt_anomaly a, const char *what, uint32_t t1, uint32_t t2);
void chk_print_txn(const struct chk *c, uint32_t t);
/* Each key's version order (the longest committed read); reads not a prefix of it are
   incompatible orders. 0 or -1 (memory). */
int chk_orders(struct chk *c);
/* Lost updates (two commits read one state of a key in their conflict set and both
   appended to it) and lost appends (an ok append missing from a read invoked after its
   completion). 0 or -1 (memory). */
int chk_lost(struct chk *c);
/* Edges between committed txns, cycles found and named; 0 or -1 (memory). */
int chk_graph(struct chk *c);

#endif
