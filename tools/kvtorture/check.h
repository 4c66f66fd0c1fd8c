/* check.h: a register history checked key by key to a verdict: the direct checker first
   (reg.h), the search where it does not apply (lin.h), then the final state; with what a
   summary needs (ops per key, checker time, verdicts by kind). */
#ifndef KVT_CHECK_H
#define KVT_CHECK_H

#include "final.h"
#include "history.h"
#include "lin.h"
#include "versions.h"

#include <stdbool.h>
#include <stdio.h>

/* Up to this many keys every key's verdict gets a line; beyond, only keys not linearizable. */
#define KVT_CHECK_KEYS_LISTED_MAX 16
/* A second opinion on a violation the blocks found: the search, within these bounds. */
#define KVT_CHECK_CROSS_STEPS_MAX 20000000ull
#define KVT_CHECK_CROSS_NS (10LL * 1000 * 1000 * 1000)
/* The search's bound per key when it must decide alone. */
#define KVT_CHECK_SEARCH_NS (60LL * 1000 * 1000 * 1000)

struct kvt_check {
    FILE *out;
    int64_t t0_ns;                    /* times in reports are relative to it */
    const struct kvt_final *final;    /* NULL: no final-state check */
    uint32_t keys;                    /* [0, keys) must all be checked */
    bool list_all;
    uint64_t search_steps_max;        /* the search's step bound (default KVT_LIN_STEPS_MAX_DEFAULT) */
    size_t *ops_per_key;              /* keys entries */
    bool *seen;                       /* keys entries: had ops or was checked */
    size_t ops, linearizable, violations, unknown, disagreements, final_issues;
    size_t final_unchecked;           /* keys whose final state could not be checked */
    size_t undecided;                 /* keys unknown, or their final state unchecked */
    size_t by_blocks, by_search;
    const char *unknown_why;          /* a reason a key was unknown */
    int64_t check_ns, slowest_ns;
    uint32_t slowest_key;
    struct kvt_history failed;        /* ops of every key not found clean, to save */
    /* The version order (versions.h): reads judged and out of order, versions two
       acknowledged writes named. */
    size_t version_reads, version_judged, version_violations;
    struct kvt_version_set versions;
};

/* 0, or -1 (memory). */
int kvt_check_init(struct kvt_check *c, FILE *out, uint32_t keys, const struct kvt_final *f,
                   int64_t t0_ns);
void kvt_check_free(struct kvt_check *c);
/* Sorts h by key (then invocation) and checks every key in it; keys must be < c->keys.
   Each key's ops must all be in one call. 0, or -1 (memory). */
int kvt_check_history(struct kvt_check *c, struct kvt_history *h);
/* The final state of keys that had no op. Once, at the end. 0 or -1. */
int kvt_check_finish(struct kvt_check *c);
/* Counts, ops per key, checker time. */
void kvt_check_print(const struct kvt_check *c, FILE *out);
/* VIOLATION if anything failed (linearizability, final state, version order), else UNKNOWN
   if any key was not decided (or its final state not checked), else OK. */
enum kvt_lin_verdict kvt_check_verdict(const struct kvt_check *c);

#endif
