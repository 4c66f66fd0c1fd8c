/* final.h: checks on the final reads: every node agrees, and no acknowledged write is lost. */
#ifndef KVT_FINAL_H
#define KVT_FINAL_H

#include "history.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* values[node * keys + key]: what the final read of key on node returned (KVT_NIL: not
   found); read_ok says whether that read succeeded at all. */
struct kvt_final {
    uint32_t nodes, keys;
    int64_t *values;
    bool *read_ok;
};

enum kvt_final_kind {
    KVT_FINAL_UNREAD,      /* no node answered the final read of a key */
    KVT_FINAL_DIVERGED,    /* node's value differs from the first node that answered */
    KVT_FINAL_UNWRITTEN,   /* the final value was never written (or only by failed ops) */
    KVT_FINAL_LOST         /* an acknowledged write is not in the final state */
};

struct kvt_final_issue {
    enum kvt_final_kind kind;
    uint32_t key;
    uint32_t node;         /* DIVERGED: the node that differs */
    int64_t value;         /* the final value (DIVERGED: the differing node's) */
    size_t op;             /* LOST: the acknowledged write, a history index */
};

/* Fills up to issues_max issues and returns how many there are in all. */
size_t kvt_final_check(const struct kvt_history *h, const struct kvt_final *f,
                       struct kvt_final_issue *issues, size_t issues_max);

/* The same for one key (h may hold that key's ops alone: issue ops index into h). */
size_t kvt_final_check_key(const struct kvt_history *h, const struct kvt_final *f, uint32_t key,
                           struct kvt_final_issue *issues, size_t issues_max);

const char *kvt_final_kind_name(enum kvt_final_kind k);

/* Nodes whose final reads answered at all (a node behind or down was not read). */
uint32_t kvt_final_nodes_read(const struct kvt_final *f);

#endif
