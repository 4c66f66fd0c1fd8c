/* test_lin_random.c: seeded random histories from a sequential register run (always
   linearizable) must pass quickly; the same histories with one stale read must fail. */
#include "hist_build.h"
#include "test_seed.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define RUNS 200
#define OPS_PER_RUN 400
#define PROCESSES 8
#define TIME_BUDGET_NS (2LL * 1000 * 1000 * 1000)

static uint64_t rng;

static uint64_t next(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int64_t below(int64_t n) { return (int64_t)(next() % (uint64_t)n); }

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Op i takes effect at time 100*i (the sequential run); its interval stretches around that
   point, so ops overlap as much as the spread allows. Fail ops did not take effect; info
   ops may or may not have, and either way the history stays linearizable. */
static void generate(struct kvt_history *h)
{
    int64_t state = KVT_NIL, next_value = 1;
    for (int i = 0; i < OPS_PER_RUN; i++) {
        int64_t at = 100 * (int64_t)i, spread = 1 + below(800);
        struct kvt_op op = {.process = (uint32_t)below(PROCESSES), .node = 0,
                            .invoke_ns = at - below(spread), .complete_ns = at + below(spread)};
        int64_t roll = below(100);
        op.outcome = roll < 80 ? KVT_OK : roll < 90 ? KVT_INFO : KVT_FAIL;
        op.type = (enum kvt_op_type)below(KVT_OP_TYPES);
        bool happens = op.outcome == KVT_OK || (op.outcome == KVT_INFO && below(2));
        if (op.type == KVT_READ) {
            op.value = op.outcome == KVT_FAIL ? 9999999 : state;
        } else {
            op.value = next_value++;
            op.expected = op.type == KVT_CAS && below(4) == 0 ? state + 1000000 : state;
            if (op.type == KVT_CAS && op.expected != state && op.outcome == KVT_OK)
                op.outcome = KVT_FAIL;   /* a mismatched cas reports failure */
            bool matches = op.type == KVT_WRITE || op.expected == state;
            if (happens && op.outcome != KVT_FAIL && matches)
                state = op.value;
        }
        cr_assert_eq(kvt_history_add(h, &op), 0);
    }
}

/* Makes one ok read stale: it returns a's value though ok write b ran entirely between a and
   the read. Returns false when this history offers no such triple. */
static bool make_stale(struct kvt_history *h)
{
    for (size_t r = h->count; r-- > 0;) {
        struct kvt_op *rd = &h->ops[r];
        if (rd->type != KVT_READ || rd->outcome != KVT_OK)
            continue;
        for (size_t b = 0; b < r; b++) {
            const struct kvt_op *wb = &h->ops[b];
            if (wb->type == KVT_READ || wb->outcome != KVT_OK || wb->complete_ns >= rd->invoke_ns)
                continue;
            for (size_t a = 0; a < b; a++) {
                const struct kvt_op *wa = &h->ops[a];
                if (wa->type != KVT_READ && wa->outcome == KVT_OK &&
                    wa->complete_ns < wb->invoke_ns && wa->value != rd->value) {
                    rd->value = wa->value;
                    return true;
                }
            }
        }
    }
    return false;
}

Test(lin_random, sequential_runs_pass_and_a_stale_read_fails)
{
    rng = test_seed_for("test_lin_random");
    struct kvt_lin_limits lim;
    kvt_lin_limits_default(&lim);
    lim.now_ns = now_ns;
    lim.time_budget_ns = TIME_BUDGET_NS;
    int stale = 0;
    for (int run = 0; run < RUNS; run++) {
        struct kvt_history h;
        kvt_history_init(&h);
        generate(&h);
        kvt_history_sort(&h);
        struct kvt_lin_result r;
        cr_assert_eq(kvt_lin_check_key(&h, 0, &lim, &r), 0);
        cr_assert_eq(r.verdict, KVT_LIN_OK, "run %d: verdict %d (%s)", run, r.verdict,
                     r.why ? r.why : "violation");
        if (make_stale(&h)) {
            stale++;
            cr_assert_eq(kvt_lin_check_key(&h, 0, &lim, &r), 0);
            cr_assert_eq(r.verdict, KVT_LIN_VIOLATION, "run %d: a stale read passed", run);
        }
        kvt_history_free(&h);
    }
    cr_assert_gt(stale, RUNS / 2, "too few histories offered a stale read");
}
