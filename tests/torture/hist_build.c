/* hist_build.c: hand-written histories for the checker tests. */
#include "hist_build.h"
#include "reg.h"

#include <criterion/criterion.h>

static void add(struct kvt_history *h, struct kvt_op op)
{
    op.node = 0;
    cr_assert_eq(kvt_history_add(h, &op), 0);
}

void hb_read(struct kvt_history *h, uint32_t p, enum kvt_outcome o, int64_t value, int64_t from,
             int64_t to)
{
    add(h, (struct kvt_op){.process = p, .type = KVT_READ, .outcome = o, .value = value,
                           .invoke_ns = from, .complete_ns = to});
}

void hb_write(struct kvt_history *h, uint32_t p, enum kvt_outcome o, int64_t value, int64_t from,
              int64_t to)
{
    add(h, (struct kvt_op){.process = p, .type = KVT_WRITE, .outcome = o, .value = value,
                           .invoke_ns = from, .complete_ns = to});
}

void hb_cas(struct kvt_history *h, uint32_t p, enum kvt_outcome o, int64_t expected,
            int64_t value, int64_t from, int64_t to)
{
    add(h, (struct kvt_op){.process = p, .type = KVT_CAS, .outcome = o, .value = value,
                           .expected = expected, .invoke_ns = from, .complete_ns = to});
}

enum kvt_lin_verdict hb_check(struct kvt_history *h, struct kvt_lin_result *r)
{
    struct kvt_lin_limits lim;
    kvt_lin_limits_default(&lim);
    kvt_history_sort(h);
    cr_assert_eq(kvt_lin_check_key(h, 0, &lim, r), 0);
    return r->verdict;
}

enum kvt_lin_verdict hb_fast(struct kvt_history *h, struct kvt_lin_result *r)
{
    kvt_history_sort(h);
    cr_assert_eq(kvt_reg_check(h->ops, h->count, r), 0, "the fast path applies");
    cr_assert_eq(r->method, KVT_LIN_BY_BLOCKS);
    cr_assert_neq(r->verdict, KVT_LIN_UNKNOWN, "the fast path always decides");
    return r->verdict;
}
