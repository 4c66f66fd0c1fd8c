/* check.c: every key checked to a verdict, one key's ops at a time: blocks first, the search
   where they do not apply, the search again as a second opinion on any violation. */
#include "check.h"
#include "reg.h"
#include "report.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FINAL_ISSUES_MAX 32

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int kvt_check_init(struct kvt_check *c, FILE *out, uint32_t keys, const struct kvt_final *f,
                   int64_t t0_ns)
{
    memset(c, 0, sizeof *c);
    c->out = out;
    c->t0_ns = t0_ns;
    c->final = f;
    c->keys = keys;
    c->list_all = keys <= KVT_CHECK_KEYS_LISTED_MAX;
    c->search_steps_max = KVT_LIN_STEPS_MAX_DEFAULT;
    kvt_history_init(&c->failed);
    c->ops_per_key = calloc(keys ? keys : 1, sizeof *c->ops_per_key);
    c->seen = calloc(keys ? keys : 1, sizeof *c->seen);
    return c->ops_per_key && c->seen ? 0 : -1;
}

void kvt_check_free(struct kvt_check *c)
{
    free(c->ops_per_key);
    free(c->seen);
    kvt_history_free(&c->failed);
    kvt_version_set_free(&c->versions);
    memset(c, 0, sizeof *c);
}

/* The search, within a bound (over_ns from now). */
static int search(const struct kvt_history *h, uint32_t key, uint64_t steps, int64_t over_ns,
                  struct kvt_lin_result *r)
{
    struct kvt_lin_limits lim;
    kvt_lin_limits_default(&lim);
    lim.steps_max = steps;
    lim.now_ns = mono_ns;
    lim.time_budget_ns = over_ns;
    return kvt_lin_check_key(h, key, &lim, r);
}

/* A violation by blocks, shown again by the search. If the search finds the key
   linearizable, one checker is wrong: the key is unknown, loudly. 0 or -1. */
static int second_opinion(struct kvt_check *c, const struct kvt_history *h,
                          struct kvt_lin_result *r)
{
    struct kvt_lin_result s;
    uint64_t steps = c->search_steps_max < KVT_CHECK_CROSS_STEPS_MAX ? c->search_steps_max
                                                                     : KVT_CHECK_CROSS_STEPS_MAX;
    if (search(h, r->key, steps, KVT_CHECK_CROSS_NS, &s) != 0)
        return -1;
    if (s.verdict == KVT_LIN_VIOLATION) {
        fprintf(c->out, "  the search agrees:\n");
        kvt_report_lin_window(c->out, h, &s, c->t0_ns);
    } else if (s.verdict == KVT_LIN_UNKNOWN) {
        fprintf(c->out, "  (the search could not confirm it: %s)\n", s.why);
    } else {
        fprintf(c->out, "  CHECKERS DISAGREE: the search finds key %" PRIu32 " linearizable;"
                        " counted unknown, please report this history\n", r->key);
        r->verdict = KVT_LIN_UNKNOWN;
        r->why = "the checkers disagree";
        c->disagreements++;
    }
    return 0;
}

/* Linearizability of one key's ops. 0 or -1 (memory). */
static int check_lin(struct kvt_check *c, const struct kvt_history *h, uint32_t key,
                     struct kvt_lin_result *r)
{
    int64_t start = mono_ns();
    r->key = key;
    int rc = kvt_reg_check(h->ops, h->count, r);
    if (rc == 1)
        rc = search(h, key, c->search_steps_max, KVT_CHECK_SEARCH_NS, r);
    if (rc != 0)
        return -1;
    int64_t took = mono_ns() - start;
    c->check_ns += took;
    if (took > c->slowest_ns)
        c->slowest_ns = took, c->slowest_key = key;
    c->by_blocks += r->method == KVT_LIN_BY_BLOCKS;
    c->by_search += r->method == KVT_LIN_BY_SEARCH;
    if (c->list_all || r->verdict != KVT_LIN_OK)
        kvt_report_lin(c->out, h, r, c->t0_ns);
    if (r->verdict == KVT_LIN_VIOLATION && r->method == KVT_LIN_BY_BLOCKS &&
        second_opinion(c, h, r) != 0)
        return -1;
    c->linearizable += r->verdict == KVT_LIN_OK;
    c->violations += r->verdict == KVT_LIN_VIOLATION;
    if (r->verdict == KVT_LIN_UNKNOWN) {
        c->unknown++;
        c->unknown_why = r->why;
    }
    return 0;
}

/* Counts the final-state issues: a key no node could read is unchecked (unknown), the rest
   are violations (a node behind was not read at all: a liveness failure, final_reads.c).
   True when the key's final state went unchecked. */
static bool count_final(struct kvt_check *c, const struct kvt_final_issue *is, size_t n,
                        size_t listed)
{
    size_t unchecked = 0;
    for (size_t i = 0; i < listed; i++)
        unchecked += is[i].kind == KVT_FINAL_UNREAD;
    if (unchecked) {
        c->final_unchecked++;
        c->unknown_why = "no node answered its final read";
    }
    c->final_issues += n - unchecked;
    return unchecked > 0;
}

/* Everything about one key; its ops are kept aside when it is not clean. 0 or -1. */
static int check_key(struct kvt_check *c, const struct kvt_history *h, uint32_t key)
{
    struct kvt_lin_result r;
    assert(!c->seen[key]);   /* a key's ops come in one piece */
    c->seen[key] = true;
    c->ops_per_key[key] += h->count;
    c->ops += h->count;
    if (check_lin(c, h, key, &r) != 0)
        return -1;
    size_t issues = 0;
    bool unchecked = false;
    if (c->final) {
        struct kvt_final_issue is[FINAL_ISSUES_MAX];
        issues = kvt_final_check_key(h, c->final, key, is, FINAL_ISSUES_MAX);
        size_t listed = issues < FINAL_ISSUES_MAX ? issues : FINAL_ISSUES_MAX;
        kvt_report_final(c->out, h, is, listed, c->t0_ns);
        unchecked = count_final(c, is, issues, listed);
    }
    struct kvt_versions_result v;
    if (kvt_versions_check_key(h->ops, h->count, c->out, c->t0_ns, &v) != 0)
        return -1;
    c->version_reads += v.reads;
    c->version_judged += v.judged;
    c->version_violations += v.violations;
    for (size_t i = 0; i < h->count; i++) {
        int rc = kvt_version_set_add(&c->versions, &h->ops[i], c->out);
        if (rc < 0)
            return -1;
        v.violations += (size_t)rc;
        c->version_violations += (size_t)rc;
    }
    c->undecided += r.verdict == KVT_LIN_UNKNOWN || unchecked;
    for (size_t i = 0; (r.verdict != KVT_LIN_OK || issues || v.violations) && i < h->count; i++)
        if (kvt_history_add(&c->failed, &h->ops[i]) != 0)
            return -1;
    return 0;
}

static int by_key(const void *a, const void *b)
{
    const struct kvt_op *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->invoke_ns != y->invoke_ns)
        return x->invoke_ns < y->invoke_ns ? -1 : 1;
    return (x->process > y->process) - (x->process < y->process);
}

int kvt_check_history(struct kvt_check *c, struct kvt_history *h)
{
    if (h->count > 1)
        qsort(h->ops, h->count, sizeof *h->ops, by_key);
    for (size_t from = 0, to; from < h->count; from = to) {
        uint32_t key = h->ops[from].key;
        if (key >= c->keys)
            return -1;
        for (to = from + 1; to < h->count && h->ops[to].key == key; to++)
            ;
        struct kvt_history slice = {.ops = h->ops + from, .count = to - from};
        if (check_key(c, &slice, key) != 0)
            return -1;
    }
    return 0;
}

int kvt_check_finish(struct kvt_check *c)
{
    struct kvt_history none = {0};
    for (uint32_t k = 0; k < c->keys; k++)
        if (!c->seen[k] && check_key(c, &none, k) != 0)
            return -1;
    return 0;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

void kvt_check_print(const struct kvt_check *c, FILE *out)
{
    fprintf(out, "check: %" PRIu32 " keys: %zu linearizable, %zu not, %zu unknown%s%s%s; "
                 "%zu by blocks, %zu by search; %zu final-state issues, %zu keys' final state"
                 " unchecked\n",
            c->keys, c->linearizable, c->violations, c->unknown, c->unknown ? " (" : "",
            c->unknown ? c->unknown_why : "", c->unknown ? ")" : "", c->by_blocks,
            c->by_search, c->final_issues, c->final_unchecked);
    size_t *n = malloc((c->keys ? c->keys : 1) * sizeof *n);
    if (n && c->keys) {
        memcpy(n, c->ops_per_key, c->keys * sizeof *n);
        qsort(n, c->keys, sizeof *n, cmp_size);
        fprintf(out, "check: ops per key: min %zu, median %zu, p99 %zu, max %zu (%zu ops)\n",
                n[0], n[c->keys / 2], n[(size_t)c->keys * 99 / 100], n[c->keys - 1], c->ops);
    }
    free(n);
    fprintf(out, "versions: %zu reads at a known version, %zu judged: %zu out of order; %zu "
                 "versions named by two acknowledged writes\n", c->version_reads,
            c->version_judged, c->version_violations, c->versions.shared);
    fprintf(out, "check: checker time %.3f s, slowest key %" PRIu32 " (%.3f s)\n",
            (double)c->check_ns / 1e9, c->slowest_key, (double)c->slowest_ns / 1e9);
    if (c->final && c->final_issues == 0 && c->final_unchecked == 0)
        fprintf(out, "final: %" PRIu32 " keys agree on %" PRIu32 " of %" PRIu32 " node(s); no"
                     " acknowledged write lost\n", c->final->keys,
                kvt_final_nodes_read(c->final), c->final->nodes);
}

enum kvt_lin_verdict kvt_check_verdict(const struct kvt_check *c)
{
    if (c->violations || c->final_issues || c->version_violations || c->versions.shared)
        return KVT_LIN_VIOLATION;
    return c->undecided ? KVT_LIN_UNKNOWN : KVT_LIN_OK;
}
