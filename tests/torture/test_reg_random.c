/* test_reg_random.c: the fast path against the search on seeded random small histories:
   sequential register runs (linearizable), then perturbed (reads of other values, intervals
   moved, outcomes changed), so both verdicts come up often. The two must always agree. */
#include "hist_build.h"
#include "reg.h"
#include "report.h"
#include "test_seed.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define RUNS 20000
#define OPS_MAX 14
#define PROCESSES 4

static uint64_t rng;

static uint64_t next(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);   /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int64_t below(int64_t n) { return (int64_t)(next() % (uint64_t)n); }

/* A sequential run: op i takes effect at 10 * i, its interval stretched around that point. */
static void sequential(struct kvt_history *h, int count)
{
    int64_t state = KVT_NIL, next_value = 1;
    for (int i = 0; i < count; i++) {
        int64_t at = 10 * (int64_t)i, spread = 1 + below(30);
        struct kvt_op op = {.process = (uint32_t)below(PROCESSES),
                            .invoke_ns = at - below(spread), .complete_ns = at + below(spread)};
        int64_t roll = below(100);
        op.outcome = roll < 75 ? KVT_OK : roll < 90 ? KVT_INFO : KVT_FAIL;
        op.type = (enum kvt_op_type)below(KVT_OP_TYPES);
        bool happens = op.outcome == KVT_OK || (op.outcome == KVT_INFO && below(2));
        if (op.type == KVT_READ) {
            op.value = state;
        } else {
            op.value = next_value++;
            op.expected = op.type == KVT_CAS && below(3) == 0 ? below(next_value) : state;
            bool matches = op.type == KVT_WRITE || op.expected == state;
            if (op.type == KVT_CAS && !matches && op.outcome == KVT_OK)
                op.outcome = KVT_FAIL;
            if (happens && op.outcome != KVT_FAIL && matches)
                state = op.value;
        }
        cr_assert_eq(kvt_history_add(h, &op), 0);
    }
}

/* One or two random changes that may or may not break linearizability. */
static void perturb(struct kvt_history *h)
{
    for (int64_t k = 1 + below(2); k-- > 0;) {
        struct kvt_op *op = &h->ops[below((int64_t)h->count)];
        switch (below(4)) {
        case 0:   /* read or expect some other (maybe never written) value */
            if (op->type == KVT_READ)
                op->value = below((int64_t)h->count + 2);
            else if (op->type == KVT_CAS)
                op->expected = below((int64_t)h->count + 2);
            break;
        case 1: {   /* move the op in time */
            int64_t shift = below(80) - 40;
            op->invoke_ns += shift;
            op->complete_ns += shift;
            break;
        }
        case 2:
            op->outcome = (enum kvt_outcome)below(KVT_OUTCOMES);
            break;
        default:   /* stretch it */
            op->complete_ns += below(60);
            break;
        }
    }
}

Test(reg_random, blocks_and_search_agree_on_every_history)
{
    rng = test_seed_for("test_reg_random");
    struct kvt_lin_limits lim;
    kvt_lin_limits_default(&lim);
    int verdicts[2] = {0, 0};
    for (int run = 0; run < RUNS; run++) {
        struct kvt_history h;
        kvt_history_init(&h);
        sequential(&h, 1 + (int)below(OPS_MAX));
        if (run % 4 != 0)
            perturb(&h);
        kvt_history_sort(&h);
        struct kvt_lin_result fast, search;
        cr_assert_eq(kvt_reg_check(h.ops, h.count, &fast), 0, "run %d", run);
        cr_assert_eq(kvt_lin_check_key(&h, 0, &lim, &search), 0);
        cr_assert_neq(search.verdict, KVT_LIN_UNKNOWN, "run %d: the search hit a bound", run);
        if (fast.verdict != search.verdict)
            for (size_t i = 0; i < h.count; i++)
                kvt_report_op(stderr, &h.ops[i], 0, "");
        cr_assert_eq(fast.verdict, search.verdict,
                     "run %d: blocks say %d (%s), the search %d (history above)", run,
                     fast.verdict, fast.violation ? fast.violation : "-", search.verdict);
        if (run % 4 == 0)
            cr_assert_eq(fast.verdict, KVT_LIN_OK, "run %d: an unperturbed run failed", run);
        verdicts[fast.verdict == KVT_LIN_VIOLATION]++;
        kvt_history_free(&h);
    }
    fprintf(stderr, "test_reg_random: %d linearizable, %d violations\n", verdicts[0],
            verdicts[1]);
    cr_assert_gt(verdicts[1], RUNS / 10, "too few violations to test the fast path's rejections");
    cr_assert_gt(verdicts[0], RUNS / 3);
}
