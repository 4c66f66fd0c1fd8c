/* test_lin.c: the linearizability checker on hand-written register histories. */
#include "hist_build.h"
#include "hist_gen.h"

#include <criterion/criterion.h>

static struct kvt_history h;
static struct kvt_lin_result r;

static void setup(void) { kvt_history_init(&h); }
static void teardown(void) { kvt_history_free(&h); }

TestSuite(lin, .init = setup, .fini = teardown);

Test(lin, empty_history_and_a_read_of_nothing_pass)
{
    cr_assert_eq(hb_check(&h, &r), KVT_LIN_OK);
    hb_read(&h, 0, KVT_OK, KVT_NIL, 0, 10);
    cr_assert_eq(hb_check(&h, &r), KVT_LIN_OK);
}

Test(lin, sequential_write_then_read_passes)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 10);
    hb_read(&h, 1, KVT_OK, 1, 20, 30);
    hb_write(&h, 0, KVT_OK, 2, 40, 50);
    hb_read(&h, 1, KVT_OK, 2, 60, 70);
    cr_assert_eq(hb_check(&h, &r), KVT_LIN_OK);
    cr_assert_eq(r.ops, 4);
}

Test(lin, a_read_concurrent_with_a_write_may_see_either_value)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 100);
    hb_read(&h, 1, KVT_OK, KVT_NIL, 10, 20);
    hb_read(&h, 2, KVT_OK, 1, 30, 40);
    cr_assert_eq(hb_check(&h, &r), KVT_LIN_OK);
}

Test(lin, concurrent_writes_in_the_order_the_reads_show)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 100);
    hb_write(&h, 1, KVT_OK, 2, 0, 100);
    hb_read(&h, 2, KVT_OK, 1, 110, 120);
    cr_assert_eq(hb_check(&h, &r), KVT_LIN_OK, "2 then 1");
    kvt_history_free(&h);
    hb_write(&h, 0, KVT_OK, 1, 0, 100);
    hb_write(&h, 1, KVT_OK, 2, 0, 100);
    hb_read(&h, 2, KVT_OK, 2, 110, 120);
    cr_assert_eq(hb_check(&h, &r), KVT_LIN_OK, "1 then 2");
}

Test(lin, an_info_write_may_have_happened)
{
    hb_write(&h, 0, KVT_INFO, 1, 0, 10);
    hb_read(&h, 1, KVT_OK, 1, 50, 60);
    cr_assert_eq(hb_check(&h, &r), KVT_LIN_OK);
}

Test(lin, an_info_write_may_never_have_happened)
{
    hb_write(&h, 0, KVT_INFO, 1, 0, 10);
    hb_read(&h, 1, KVT_OK, KVT_NIL, 50, 60);
    cr_assert_eq(hb_check(&h, &r), KVT_LIN_OK);
    cr_assert_eq(r.pruned, 1, "nobody saw 1: set aside");
}

Test(lin, an_info_write_may_take_effect_long_after_the_client_gave_up)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 10);
    hb_write(&h, 1, KVT_INFO, 2, 20, 30);
    hb_read(&h, 2, KVT_OK, 1, 40, 50);
    hb_read(&h, 2, KVT_OK, 2, 60, 70);
    cr_assert_eq(hb_check(&h, &r), KVT_LIN_OK);
}

Test(lin, failed_ops_and_info_reads_are_left_out)
{
    hb_write(&h, 0, KVT_FAIL, 7, 0, 10);
    hb_read(&h, 1, KVT_INFO, 9, 20, 30);
    hb_cas(&h, 2, KVT_FAIL, 5, 6, 20, 30);
    hb_read(&h, 1, KVT_OK, KVT_NIL, 40, 50);
    cr_assert_eq(hb_check(&h, &r), KVT_LIN_OK);
    cr_assert_eq(r.ops, 1);
}

Test(lin, cas_chain_with_concurrent_cas_passes)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 10);
    hb_cas(&h, 1, KVT_OK, 1, 2, 20, 60);
    hb_cas(&h, 2, KVT_OK, 2, 3, 30, 50);   /* must go after the first, though it returned first */
    hb_read(&h, 0, KVT_OK, 3, 70, 80);
    cr_assert_eq(hb_check(&h, &r), KVT_LIN_OK);
}

Test(lin, an_info_cas_that_happened_explains_a_read)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 10);
    hb_cas(&h, 1, KVT_INFO, 1, 2, 20, 30);
    hb_read(&h, 2, KVT_OK, 2, 100, 110);
    cr_assert_eq(hb_check(&h, &r), KVT_LIN_OK);
}

Test(lin, stale_read_fails_and_the_window_names_it)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 10);
    hb_write(&h, 0, KVT_OK, 2, 20, 30);
    hb_read(&h, 1, KVT_OK, 1, 40, 50);
    cr_assert_eq(hb_check(&h, &r), KVT_LIN_VIOLATION);
    cr_assert_eq(h.ops[r.stuck].type, KVT_READ);
    cr_assert_eq(r.state, 2);
    cr_assert_eq(r.linearized, 2);
    cr_assert_eq(r.window_count, 3);
    cr_assert(r.window_linearized[0] && r.window_linearized[1] && !r.window_linearized[2]);
}

Test(lin, lost_write_fails)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 10);
    hb_read(&h, 1, KVT_OK, KVT_NIL, 20, 30);
    cr_assert_eq(hb_check(&h, &r), KVT_LIN_VIOLATION);
    cr_assert_eq(h.ops[r.stuck].type, KVT_READ);
}

Test(lin, a_read_of_a_value_never_written_fails)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 10);
    hb_read(&h, 1, KVT_OK, 42, 5, 30);
    cr_assert_eq(hb_check(&h, &r), KVT_LIN_VIOLATION);
}

Test(lin, a_read_of_a_failed_write_fails)
{
    hb_write(&h, 0, KVT_FAIL, 1, 0, 10);
    hb_read(&h, 1, KVT_OK, 1, 20, 30);
    cr_assert_eq(hb_check(&h, &r), KVT_LIN_VIOLATION);
}

Test(lin, a_cas_that_succeeded_twice_fails)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 10);
    hb_cas(&h, 1, KVT_OK, 1, 2, 20, 40);
    hb_cas(&h, 2, KVT_OK, 1, 3, 25, 45);
    cr_assert_eq(hb_check(&h, &r), KVT_LIN_VIOLATION);
    cr_assert_eq(h.ops[r.stuck].type, KVT_CAS);
}

Test(lin, an_info_write_cannot_be_undone)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 10);
    hb_write(&h, 1, KVT_INFO, 2, 20, 30);
    hb_read(&h, 2, KVT_OK, 2, 40, 50);
    hb_read(&h, 2, KVT_OK, 1, 60, 70);
    cr_assert_eq(hb_check(&h, &r), KVT_LIN_VIOLATION);
}

Test(lin, reads_that_disagree_on_the_order_of_concurrent_writes_fail)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 100);
    hb_write(&h, 1, KVT_OK, 2, 0, 100);
    hb_read(&h, 2, KVT_OK, 1, 110, 120);
    hb_read(&h, 3, KVT_OK, 2, 130, 140);
    cr_assert_eq(hb_check(&h, &r), KVT_LIN_VIOLATION);
}

Test(lin, keys_are_checked_apart)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 10);
    struct kvt_op other = {.process = 1, .type = KVT_READ, .outcome = KVT_OK, .key = 1,
                           .value = KVT_NIL, .invoke_ns = 20, .complete_ns = 30};
    cr_assert_eq(kvt_history_add(&h, &other), 0);
    cr_assert_eq(hb_check(&h, &r), KVT_LIN_OK);
    cr_assert_eq(r.ops, 1);
}

Test(lin, a_step_bound_gives_unknown_not_a_verdict)
{
    for (int i = 0; i < 20; i++)
        hb_write(&h, (uint32_t)i, KVT_OK, i + 1, 0, 100);
    hb_read(&h, 99, KVT_OK, 77, 200, 210);
    struct kvt_lin_limits lim;
    kvt_lin_limits_default(&lim);
    lim.steps_max = 50;
    kvt_history_sort(&h);
    cr_assert_eq(kvt_lin_check_key(&h, 0, &lim, &r), 0);
    cr_assert_eq(r.verdict, KVT_LIN_UNKNOWN);
    cr_assert_str_eq(r.why, "step bound");
}

/* A long history in pieces: each memo row holds one piece's bits, so the memo grows by tens
   of bytes per op (some 10 MiB here), where rows of the whole history's bits (12.5 KiB each
   at 100k ops) would fill 32 MiB after 2,600 of the 100k steps. */
Test(lin, a_long_history_checks_piece_by_piece_in_a_small_memo)
{
    struct kvt_gen g;
    kvt_gen_default(&g);
    g.ops = 100000;
    g.seed = 16;
    g.processes = 4;
    g.think_ns = 4 * g.latency_ns;   /* quiescent now and then, as a key among many is */
    cr_assert_eq(kvt_gen_history(&h, &g), 0);
    struct kvt_lin_limits lim;
    kvt_lin_limits_default(&lim);
    lim.memo_bytes_max = 32u << 20;
    cr_assert_eq(kvt_lin_check_key(&h, 0, &lim, &r), 0);
    cr_assert_eq(r.verdict, KVT_LIN_OK, "%s", r.why ? r.why : "violation");
    cr_assert_gt(r.ops, 75000, "fail ops and info reads left out, the rest checked");
    cr_assert_neq(kvt_gen_make_stale(&h, 0), SIZE_MAX);
    cr_assert_eq(kvt_lin_check_key(&h, 0, &lim, &r), 0);
    cr_assert_eq(r.verdict, KVT_LIN_VIOLATION);
}

/* An info write some read saw happened before that read completed, so it cannot keep every
   later op in its piece: with 2000 ops after it, one piece would need rows of 2000 bits
   for up to 2^k subsets; pieces need a few words. */
Test(lin, an_info_write_a_read_saw_does_not_keep_its_piece_open)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 10);
    hb_write(&h, 1, KVT_INFO, 2, 20, 30);
    hb_read(&h, 2, KVT_OK, 2, 40, 50);
    for (int i = 0; i < 2000; i++) {   /* pairs of concurrent writes, then a read */
        int64_t t = 100 + 100 * (int64_t)i;
        hb_write(&h, 0, KVT_OK, 10 + 2 * i, t, t + 50);
        hb_write(&h, 1, KVT_OK, 11 + 2 * i, t, t + 50);
        hb_read(&h, 2, KVT_OK, 11 + 2 * i, t + 60, t + 70);
    }
    struct kvt_lin_limits lim;
    kvt_lin_limits_default(&lim);
    lim.memo_bytes_max = 1u << 20;
    kvt_history_sort(&h);
    cr_assert_eq(kvt_lin_check_key(&h, 0, &lim, &r), 0);
    cr_assert_eq(r.verdict, KVT_LIN_OK, "%s", r.why ? r.why : "violation");
    cr_assert_eq(r.ops, 6003);
}
