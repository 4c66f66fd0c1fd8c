/* hist_build.c: hand-written histories for the checker tests. */
#include "hist_build.h"
#include "check_logs.h"
#include "hlog.h"
#include "reg.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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
    /* Every hand-written history goes to blocks too, where they apply (key 0 alone, values
       unique): the two checkers must agree. */
    bool one_key = true;
    for (size_t i = 0; i < h->count; i++)
        one_key = one_key && h->ops[i].key == 0;
    struct kvt_lin_result fast;
    if (one_key && r->verdict != KVT_LIN_UNKNOWN && kvt_reg_check(h->ops, h->count, &fast) == 0)
        cr_assert_eq(fast.verdict, r->verdict, "blocks say %d (%s), the search %d",
                     fast.verdict, fast.violation ? fast.violation : "-", r->verdict);
    return r->verdict;
}

void hb_write_logs(const struct kvt_history *h, const char *dir, unsigned processes)
{
    struct kvt_hlog *logs = calloc(processes, sizeof *logs);
    cr_assert(logs);
    for (unsigned i = 0; i < processes; i++) {
        char path[256];
        kvt_logs_worker_path(dir, i, path, sizeof path);
        cr_assert_eq(kvt_hlog_create(&logs[i], path), 0);
    }
    for (size_t i = 0; i < h->count; i++)
        kvt_hlog_add(&logs[h->ops[i].process], &h->ops[i]);
    for (unsigned i = 0; i < processes; i++)
        cr_assert_eq(kvt_hlog_close(&logs[i]), 0);
    free(logs);
}

void hb_remove_logs(const char *dir, unsigned processes)
{
    for (unsigned i = 0; i < processes; i++) {
        char path[256];
        kvt_logs_worker_path(dir, i, path, sizeof path);
        remove(path);
    }
    rmdir(dir);
}

enum kvt_lin_verdict hb_fast(struct kvt_history *h, struct kvt_lin_result *r)
{
    kvt_history_sort(h);
    cr_assert_eq(kvt_reg_check(h->ops, h->count, r), 0, "the fast path applies");
    cr_assert_eq(r->method, KVT_LIN_BY_BLOCKS);
    cr_assert_neq(r->verdict, KVT_LIN_UNKNOWN, "the fast path always decides");
    return r->verdict;
}
