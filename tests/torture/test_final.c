/* test_final.c: final-state checks (nodes agree, no acknowledged write lost) and the history
   file round trip. */
#include "check.h"
#include "final.h"
#include "hist_build.h"
#include "report.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <unistd.h>

#define NODES 3

static struct kvt_history h;
static int64_t values[NODES];
static bool read_ok[NODES];
static struct kvt_final fin = {.nodes = NODES, .keys = 1, .values = values, .read_ok = read_ok};
static struct kvt_final_issue is[8];

static void setup(void)
{
    kvt_history_init(&h);
    for (int n = 0; n < NODES; n++)
        read_ok[n] = true;
}
static void teardown(void) { kvt_history_free(&h); }

TestSuite(final, .init = setup, .fini = teardown);

static void all(int64_t v)
{
    for (int n = 0; n < NODES; n++)
        values[n] = v;
}

Test(final, the_last_acknowledged_write_survives)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 10);
    hb_write(&h, 1, KVT_OK, 2, 20, 30);
    all(2);
    cr_assert_eq(kvt_final_check(&h, &fin, is, 8), 0);
}

Test(final, either_of_two_concurrent_writes_may_survive)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 30);
    hb_write(&h, 1, KVT_OK, 2, 10, 40);
    all(1);
    cr_assert_eq(kvt_final_check(&h, &fin, is, 8), 0);
    all(2);
    cr_assert_eq(kvt_final_check(&h, &fin, is, 8), 0);
}

Test(final, an_info_write_may_land_last)
{
    hb_write(&h, 0, KVT_INFO, 1, 0, 10);
    hb_write(&h, 1, KVT_OK, 2, 20, 30);
    all(1);
    cr_assert_eq(kvt_final_check(&h, &fin, is, 8), 0);
}

Test(final, an_acknowledged_write_overwritten_by_an_older_one_is_lost)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 10);
    hb_write(&h, 1, KVT_OK, 2, 20, 30);
    all(1);
    cr_assert_eq(kvt_final_check(&h, &fin, is, 8), 1);
    cr_assert_eq(is[0].kind, KVT_FINAL_LOST);
    cr_assert_eq(h.ops[is[0].op].value, 2);
}

Test(final, nothing_left_after_an_acknowledged_write_is_a_loss)
{
    hb_cas(&h, 0, KVT_OK, KVT_NIL, 5, 0, 10);
    all(KVT_NIL);
    cr_assert_eq(kvt_final_check(&h, &fin, is, 8), 1);
    cr_assert_eq(is[0].kind, KVT_FINAL_LOST);
}

Test(final, a_value_only_a_failed_write_wrote_is_unwritten)
{
    hb_write(&h, 0, KVT_FAIL, 3, 0, 10);
    all(3);
    cr_assert_eq(kvt_final_check(&h, &fin, is, 8), 1);
    cr_assert_eq(is[0].kind, KVT_FINAL_UNWRITTEN);
}

Test(final, nodes_that_disagree_are_named)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 10);
    all(1);
    values[2] = KVT_NIL;
    cr_assert_eq(kvt_final_check(&h, &fin, is, 8), 1);
    cr_assert_eq(is[0].kind, KVT_FINAL_DIVERGED);
    cr_assert_eq(is[0].node, 2);
}

Test(final, a_key_no_node_could_read_is_reported)
{
    for (int n = 0; n < NODES; n++)
        read_ok[n] = false;
    cr_assert_eq(kvt_final_check(&h, &fin, is, 8), 1);
    cr_assert_eq(is[0].kind, KVT_FINAL_UNREAD);
}

Test(final, history_file_round_trips)
{
    hb_write(&h, 3, KVT_INFO, 123456789012345, -5, 10);
    hb_cas(&h, 4, KVT_OK, 1, 2, 20, 30);
    hb_read(&h, 5, KVT_FAIL, KVT_NIL, 40, 50);
    char path[] = "/tmp/kvt-history-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_eq(kvt_history_write(path, &h, "test"), 0);
    struct kvt_history back;
    kvt_history_init(&back);
    cr_assert_eq(kvt_history_read(path, &back), 0);
    unlink(path);
    cr_assert_eq(back.count, h.count);
    for (size_t i = 0; i < h.count; i++) {
        const struct kvt_op *a = &h.ops[i], *b = &back.ops[i];
        cr_assert(a->process == b->process && a->type == b->type && a->outcome == b->outcome);
        cr_assert(a->key == b->key && a->value == b->value && a->expected == b->expected);
        cr_assert(a->invoke_ns == b->invoke_ns && a->complete_ns == b->complete_ns);
        cr_assert_eq(a->node, b->node);
    }
    kvt_history_free(&back);
}

/* The verdict the whole check gives one key with this final state. */
static enum kvt_lin_verdict verdict_of_key(void)
{
    FILE *devnull = fopen("/dev/null", "w");
    struct kvt_check c;
    cr_assert_eq(kvt_check_init(&c, devnull, 1, &fin, 0), 0);
    cr_assert_eq(kvt_check_history(&c, &h), 0);
    cr_assert_eq(kvt_check_finish(&c), 0);
    enum kvt_lin_verdict v = kvt_check_verdict(&c);
    kvt_check_free(&c);
    fclose(devnull);
    return v;
}

Test(final, a_final_state_nobody_could_read_is_unknown_not_clean)
{
    hb_write(&h, 0, KVT_OK, 1, 0, 10);
    all(1);
    cr_assert_eq(verdict_of_key(), KVT_LIN_OK);
    for (int n = 0; n < NODES; n++)
        read_ok[n] = false;
    cr_assert_eq(verdict_of_key(), KVT_LIN_UNKNOWN, "no node answered: nothing was checked");
    for (int n = 0; n < NODES; n++)
        read_ok[n] = true;
    values[2] = KVT_NIL;   /* node 2 read, and different */
    cr_assert_eq(verdict_of_key(), KVT_LIN_VIOLATION);
}
