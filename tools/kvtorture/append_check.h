/* append_check.h: strict serializability of list-append transactions, checked as Elle does:
   version orders from the reads, a dependency graph, its cycles named. */
#ifndef KVT_APPEND_CHECK_H
#define KVT_APPEND_CHECK_H

#include "txn.h"

#include <stdio.h>

/* Committed: ok, or info with an element some committed read saw (fail: never committed). */
#define KVT_ANOMALIES_X(X)                                                                  \
    X(INCOMPATIBLE_ORDER, "incompatible-order") /* a read is not a prefix of the longest */  \
    X(DUPLICATE, "duplicate-element")     /* an element twice in one read */                 \
    X(UNKNOWN_ELEMENT, "unknown-element") /* a read saw an element nobody appended */        \
    X(G1A, "G1a")                         /* aborted read: an element of a failed txn */     \
    X(G1B, "G1b")                         /* intermediate read: not a txn's last append */   \
    X(LOST_UPDATE, "lost-update")         /* two commits read one state, both appended */    \
    X(LOST_APPEND, "lost-append")         /* an ok append a later read does not hold */      \
    X(G0, "G0")                           /* cycle of ww edges */                            \
    X(G1C, "G1c")                         /* cycle of ww and wr edges */                     \
    X(G2, "G2")                           /* cycle that needs rw (anti-dependency) edges */  \
    X(G0_RT, "G0-realtime")               /* the same, needing real-time edges too */        \
    X(G1C_RT, "G1c-realtime")                                                                \
    X(G2_RT, "G2-realtime")

#define KVT_ANOMALY_ENUM(name, text) KVT_AN_##name,
enum kvt_anomaly { KVT_ANOMALIES_X(KVT_ANOMALY_ENUM) KVT_ANOMALIES };
#undef KVT_ANOMALY_ENUM

const char *kvt_anomaly_name(enum kvt_anomaly a);

struct kvt_append_result {
    size_t count[KVT_ANOMALIES];
    size_t committed;     /* transactions taken as committed */
    size_t keys;          /* keys some transaction touched */
    size_t edges;         /* dependency edges (ww, wr, rw) between committed transactions */
    size_t cycles;        /* strongly connected components with more than one transaction */
};

/* Checks h (sorted by invocation). Anomalies are described on out (NULL: not printed),
   a few of each kind. 0, or -1 when memory runs out. */
int kvt_append_check(const struct kvt_txns *h, FILE *out, struct kvt_append_result *r);
/* Any anomaly at all? */
bool kvt_append_clean(const struct kvt_append_result *r);

#endif
