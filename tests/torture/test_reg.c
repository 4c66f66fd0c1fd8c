/* test_reg.c: blocks (reg.h) on hand-written register histories: what the marks name in
   each kind of violation, and what only blocks can get wrong (cas chains, cycles, info ops
   that must or need not have happened). Every history of test_lin.c goes through both
   checkers too (hb_check). */
#include "hist_build.h"
#include "reg.h"

#include <criterion/criterion.h>
#include <string.h>

static struct kvt_history h;
static struct kvt_lin_result r;

static void setup(void) { kvt_history_init(&h); }
static void teardown(void) { kvt_history_free(&h); }

TestSuite(reg, .init = setup, .fini = teardown);

/* The window holds an op with this mark, of this type. */
static bool marked(const char *mark, enum kvt_op_type type)
{
    for (size_t i = 0; i < r.window_count; i++)
        if (strcmp(r.role[i], mark) == 0 && r.window[i] != KVT_LIN_INITIAL &&
            h.ops[r.window[i]].type == type)
            return true;
    return false;
}

Test(reg, sequential_and_concurrent_histories_pass)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 10);
    hb_read(&h, 1, KVT_OK, 1, 20, 30);
    hb_write(&h, 0, KVT_OK, 2, 40, 50);
    hb_read(&h, 1, KVT_OK, 2, 60, 70);
    hb_write(&h, 2, KVT_OK, 3, 80, 200);    /* concurrent with both reads below */
    hb_read(&h, 0, KVT_OK, 2, 90, 100);
    hb_read(&h, 1, KVT_OK, 3, 110, 120);
    cr_assert_eq(hb_fast(&h, &r), KVT_LIN_OK);
    cr_assert_eq(r.ops, 7);
    cr_assert_eq(r.method, KVT_LIN_BY_BLOCKS);
}

Test(reg, info_writes_may_or_may_not_have_happened_even_long_after)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 10);
    hb_write(&h, 1, KVT_INFO, 2, 20, 30);
    hb_write(&h, 3, KVT_INFO, 3, 20, 30);   /* never seen: falls away */
    hb_read(&h, 2, KVT_OK, 1, 40, 50);
    hb_read(&h, 2, KVT_OK, 2, 60, 70);
    cr_assert_eq(hb_fast(&h, &r), KVT_LIN_OK);
    cr_assert_eq(r.pruned, 1);
    cr_assert_eq(r.ops, 4);
}

Test(reg, a_cas_on_the_initial_state_passes)
{
    hb_cas(&h, 0, KVT_OK, KVT_NIL, 1, 0, 10);
    hb_read(&h, 1, KVT_OK, 1, 20, 30);
    cr_assert_eq(hb_fast(&h, &r), KVT_LIN_OK);
}

Test(reg, an_info_cas_seen_by_a_read_must_have_happened_and_so_must_its_source)
{
    hb_write(&h, 0, KVT_INFO, 1, 0, 10);    /* seen only through the cas */
    hb_cas(&h, 1, KVT_INFO, 1, 2, 20, 30);
    hb_read(&h, 2, KVT_OK, 2, 100, 110);
    cr_assert_eq(hb_fast(&h, &r), KVT_LIN_OK);
    cr_assert_eq(r.ops, 3, "all three are mandatory");
    cr_assert_eq(r.pruned, 0);
    /* And the chain's order holds: the read cannot precede the info write it depends on. */
    kvt_history_free(&h);
    hb_write(&h, 0, KVT_INFO, 1, 50, 60);
    hb_cas(&h, 1, KVT_INFO, 1, 2, 20, 30);
    hb_read(&h, 2, KVT_OK, 2, 0, 40);
    cr_assert_eq(hb_fast(&h, &r), KVT_LIN_VIOLATION);
}

Test(reg, an_info_cas_nobody_saw_falls_away_with_what_only_it_saw)
{
    hb_write(&h, 0, KVT_INFO, 1, 0, 10);
    hb_cas(&h, 1, KVT_INFO, 1, 2, 20, 30);
    hb_read(&h, 2, KVT_OK, KVT_NIL, 100, 110);
    cr_assert_eq(hb_fast(&h, &r), KVT_LIN_OK);
    cr_assert_eq(r.pruned, 2);
}

Test(reg, stale_read_fails_and_names_both_writes)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 10);
    hb_write(&h, 0, KVT_OK, 2, 20, 30);
    hb_read(&h, 1, KVT_OK, 1, 40, 50);
    cr_assert_eq(hb_fast(&h, &r), KVT_LIN_VIOLATION);
    cr_assert(r.violation && strstr(r.violation, "must each come first"), "%s", r.violation);
    cr_assert(marked("A", KVT_WRITE) && marked("B", KVT_WRITE));
    cr_assert(marked("a2", KVT_READ), "the stale read is the latest invocation of its block");
}

Test(reg, lost_write_fails_against_the_initial_state)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 10);
    hb_read(&h, 1, KVT_OK, KVT_NIL, 20, 30);
    cr_assert_eq(hb_fast(&h, &r), KVT_LIN_VIOLATION);
    cr_assert_eq(r.window[0], KVT_LIN_INITIAL, "the initial state is one of the two");
    cr_assert(marked("a2", KVT_READ) || marked("b1", KVT_READ));
}

Test(reg, a_read_of_a_value_never_written_fails)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 10);
    hb_read(&h, 1, KVT_OK, 42, 5, 30);
    cr_assert_eq(hb_fast(&h, &r), KVT_LIN_VIOLATION);
    cr_assert(strstr(r.violation, "no op wrote"));
    cr_assert(marked("R", KVT_READ));
}

Test(reg, a_read_of_a_failed_write_fails)
{
    hb_write(&h, 0, KVT_FAIL, 1, 0, 10);
    hb_read(&h, 1, KVT_OK, 1, 20, 30);
    cr_assert_eq(hb_fast(&h, &r), KVT_LIN_VIOLATION);
    cr_assert(strstr(r.violation, "failed op"));
}

Test(reg, a_read_that_ended_before_its_write_began_fails)
{
    hb_read(&h, 1, KVT_OK, 1, 0, 10);
    hb_write(&h, 0, KVT_OK, 1, 20, 30);
    cr_assert_eq(hb_fast(&h, &r), KVT_LIN_VIOLATION);
    cr_assert(marked("W", KVT_WRITE) && marked("R", KVT_READ));
}

Test(reg, a_cas_that_succeeded_twice_fails)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 10);
    hb_cas(&h, 1, KVT_OK, 1, 2, 20, 40);
    hb_cas(&h, 2, KVT_OK, 1, 3, 25, 45);
    cr_assert_eq(hb_fast(&h, &r), KVT_LIN_VIOLATION);
    cr_assert(marked("C1", KVT_CAS) && marked("C2", KVT_CAS) && marked("W", KVT_WRITE));
}

Test(reg, a_cas_chain_out_of_real_time_order_fails)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 10);
    hb_cas(&h, 1, KVT_OK, 2, 3, 20, 30);   /* replaced 2, yet ended before 2 was written */
    hb_cas(&h, 2, KVT_OK, 1, 2, 40, 50);
    cr_assert_eq(hb_fast(&h, &r), KVT_LIN_VIOLATION);
    cr_assert(marked("y", KVT_CAS) && marked("x", KVT_CAS) && marked("A", KVT_WRITE));
}

Test(reg, cas_ops_expecting_each_other_fail)
{
    hb_cas(&h, 0, KVT_OK, 2, 1, 0, 10);
    hb_cas(&h, 1, KVT_OK, 1, 2, 0, 10);
    cr_assert_eq(hb_fast(&h, &r), KVT_LIN_VIOLATION);
    cr_assert(strstr(r.violation, "cycle"));
}

Test(reg, a_read_inside_another_writes_block_fails)
{
    /* Write 1's block spans [10, 100] (its read began at 100); write 2 and its read sit
       wholly inside, so 2 can go neither before nor after 1's block. */
    hb_write(&h, 0, KVT_OK, 1, 0, 10);
    hb_write(&h, 1, KVT_OK, 2, 20, 30);
    hb_read(&h, 2, KVT_OK, 2, 40, 50);
    hb_read(&h, 3, KVT_OK, 1, 100, 110);
    cr_assert_eq(hb_fast(&h, &r), KVT_LIN_VIOLATION);
    /* Touching is concurrent: equal times do not order ops. */
    kvt_history_free(&h);
    hb_write(&h, 0, KVT_OK, 1, 0, 10);
    hb_read(&h, 2, KVT_OK, 1, 10, 20);
    hb_write(&h, 1, KVT_OK, 2, 10, 20);
    hb_read(&h, 3, KVT_OK, 2, 20, 30);
    cr_assert_eq(hb_fast(&h, &r), KVT_LIN_OK);
}

Test(reg, the_fast_path_declines_what_it_cannot_decide)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 10);
    hb_write(&h, 1, KVT_OK, 1, 20, 30);   /* a value written twice */
    kvt_history_sort(&h);
    cr_assert_eq(kvt_reg_check(h.ops, h.count, &r), 1);
    kvt_history_free(&h);
    hb_write(&h, 0, KVT_OK, KVT_NIL, 0, 10);   /* nil written */
    kvt_history_sort(&h);
    cr_assert_eq(kvt_reg_check(h.ops, h.count, &r), 1);
    kvt_history_free(&h);
    hb_read(&h, 0, KVT_OK, KVT_NIL, 0, 10);
    h.ops[0].type = KVT_OP_TYPES;   /* an op kind it does not know */
    cr_assert_eq(kvt_reg_check(h.ops, h.count, &r), 1);
}
