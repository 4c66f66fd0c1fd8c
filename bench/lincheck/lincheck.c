/* lincheck.c: how long kvtorture's checkers take on long register histories.
   Usage: lincheck [OPS [KEYS [PROCESSES [THINK_US [search]]]]]
   Generates OPS ops (default 10M) by PROCESSES clients (8) on KEYS keys (1) with up to
   THINK_US between a client's ops (125; a larger pause leaves quiescent points), checks every
   key by blocks, and with "search" by the search too; prints each checker's time, ops per
   second and the slowest key, then the same with one stale read planted (it must fail). */
#include "hist_gen.h"
#include "lin.h"
#include "reg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int by_key(const void *a, const void *b)
{
    const struct kvt_op *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->invoke_ns > y->invoke_ns) - (x->invoke_ns < y->invoke_ns);
}

struct tally {
    size_t n[3];   /* keys by verdict: linearizable, not, unknown */
};

/* Checks every key of h (sorted by key) with one checker; prints a line. */
static struct tally check_all(const struct kvt_history *h, bool search, const char *label)
{
    struct kvt_lin_limits lim;
    kvt_lin_limits_default(&lim);
    struct tally v = {{0}};
    size_t slowest_key = 0;
    int64_t start = now_ns(), slowest = 0;
    for (size_t from = 0, to; from < h->count; from = to) {
        for (to = from + 1; to < h->count && h->ops[to].key == h->ops[from].key; to++)
            ;
        struct kvt_history slice = {.ops = h->ops + from, .count = to - from};
        struct kvt_lin_result r = {.key = h->ops[from].key};
        int64_t t = now_ns();
        int rc = search ? kvt_lin_check_key(&slice, r.key, &lim, &r)
                        : kvt_reg_check(slice.ops, slice.count, &r);
        if (rc != 0) {
            fprintf(stderr, "lincheck: %s: %s\n", label, rc < 0 ? "out of memory" : "declined");
            exit(1);
        }
        v.n[r.verdict]++;
        if (now_ns() - t > slowest)
            slowest = now_ns() - t, slowest_key = r.key;
    }
    double s = (double)(now_ns() - start) / 1e9;
    printf("%-22s %8.3f s  %10.0f ops/s  slowest key %zu %.3f s  linearizable %zu, not %zu,"
           " unknown %zu\n", label, s, (double)h->count / s, slowest_key, (double)slowest / 1e9,
           v.n[KVT_LIN_OK], v.n[KVT_LIN_VIOLATION], v.n[KVT_LIN_UNKNOWN]);
    return v;
}

int main(int argc, char **argv)
{
    struct kvt_gen g;
    kvt_gen_default(&g);
    g.ops = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000;
    g.keys = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 1;
    g.processes = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 8;
    g.think_ns = argc > 4 ? strtoll(argv[4], NULL, 10) * 1000 : g.think_ns;
    bool search = argc > 5 && strcmp(argv[5], "search") == 0;
    struct kvt_history h;
    kvt_history_init(&h);
    int64_t t = now_ns();
    if (g.keys == 0 || kvt_gen_history(&h, &g) != 0) {
        fprintf(stderr, "lincheck: bad arguments or out of memory\n");
        return 1;
    }
    printf("generated %zu ops on %u key(s) by %u clients in %.1f s\n", h.count, g.keys,
           g.processes, (double)(now_ns() - t) / 1e9);
    qsort(h.ops, h.count, sizeof *h.ops, by_key);
    /* Wrong: a violation on the good history, or the planted stale read not found by a
       checker that decided its key (the search may say unknown). */
    bool bad = check_all(&h, false, "blocks").n[KVT_LIN_VIOLATION] > 0;
    if (search)
        bad = bad || check_all(&h, true, "search").n[KVT_LIN_VIOLATION] > 0;
    size_t first_key_end = 0;
    while (first_key_end < h.count && h.ops[first_key_end].key == h.ops[0].key)
        first_key_end++;
    struct kvt_history first = {.ops = h.ops, .count = first_key_end};
    if (kvt_gen_make_stale(&first, h.ops[0].key) == SIZE_MAX) {
        printf("no read to make stale\n");
    } else {
        bad = bad || check_all(&h, false, "blocks, 1 stale read").n[KVT_LIN_VIOLATION] != 1;
        if (search) {
            struct tally v = check_all(&h, true, "search, 1 stale read");
            bad = bad || v.n[KVT_LIN_VIOLATION] + v.n[KVT_LIN_UNKNOWN] != 1;
        }
    }
    kvt_history_free(&h);
    return bad ? 1 : 0;
}
