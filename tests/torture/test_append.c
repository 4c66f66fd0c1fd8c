/* test_append.c: the list-append checker on hand-written histories: each anomaly is found
   and named, clean histories pass; the history file round trip. */
#include "append_check.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct kvt_txns h;
static struct kvt_append_result r;
static char report[1 << 14];

static void setup(void) { kvt_txns_init(&h); }
static void teardown(void) { kvt_txns_free(&h); }

TestSuite(append, .init = setup, .fini = teardown);

/* One txn as a history file line: "PROCESS OUTCOME INVOKE COMPLETE NODE MOP...". */
static void txn(const char *line)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", line);
    struct kvt_txn t;
    cr_assert_eq(kvt_txn_parse(buf, &t), 0, "bad line: %s", line);
    cr_assert_eq(kvt_txns_add(&h, &t), 0);
}

/* Checks h; the report lands in `report`. */
static void check(void)
{
    kvt_txns_sort(&h);
    FILE *f = fmemopen(report, sizeof report, "w");
    cr_assert(f);
    cr_assert_eq(kvt_append_check(&h, f, &r), 0);
    fclose(f);
}

static void assert_only(enum kvt_anomaly a)
{
    check();
    cr_assert_geq(r.count[a], 1, "%s not found:\n%s", kvt_anomaly_name(a), report);
    for (int i = 0; i < KVT_ANOMALIES; i++)
        cr_assert(i == (int)a || r.count[i] == 0, "also %s:\n%s", kvt_anomaly_name(i), report);
    char name[64];
    snprintf(name, sizeof name, "anomaly %s:", kvt_anomaly_name(a));
    cr_assert(strstr(report, name), "%s", report);
}

static void assert_clean(void)
{
    check();
    cr_assert(kvt_append_clean(&r), "not clean:\n%s", report);
    cr_assert_eq(r.cycles, 0);
}

Test(append, empty_and_serial_histories_are_clean)
{
    assert_clean();
    txn("0 ok 0 10 0 r1= a1+1");
    txn("1 ok 20 30 0 r1=1 r2= a1+2 a2+3");
    txn("0 ok 40 50 0 r1=1,2 r2=3");
    assert_clean();
    cr_assert_eq(r.committed, 3);
    cr_assert_eq(r.keys, 2);
    cr_assert_geq(r.edges, 3, "ww 1->2, wr 2->3 on both keys");
}

Test(append, concurrent_txns_may_serialize_either_way)
{
    txn("0 ok 0 100 0 r1= a1+1");
    txn("1 ok 0 100 0 r2= a2+2");
    txn("2 ok 50 150 0 r1= r2=2");
    txn("3 ok 200 210 0 r1=1 r2=2");
    assert_clean();
}

Test(append, info_txns_count_as_committed_only_when_seen)
{
    txn("0 info 0 10 0 r1= a1+1");
    txn("1 info 20 30 0 r1=1 a1+2");
    txn("2 ok 40 50 0 r1=1");
    txn("3 fail 60 70 0 r1=1 a1+3");
    assert_clean();
    cr_assert_eq(r.committed, 2, "the seen info txn and the ok read");
}

Test(append, a_read_of_a_failed_append_is_g1a)
{
    txn("0 fail 0 10 0 r1= a1+1");
    txn("1 ok 20 30 0 r1=1");
    assert_only(KVT_AN_G1A);
}

Test(append, a_read_of_an_intermediate_append_is_g1b)
{
    txn("0 ok 0 10 0 r1= a1+1 a1+2");
    txn("1 ok 20 30 0 r1=1");
    txn("2 ok 40 50 0 r1=1,2");
    check();
    cr_assert_geq(r.count[KVT_AN_G1B], 1, "%s", report);
    cr_assert(strstr(report, "anomaly G1b:"), "%s", report);
}

Test(append, reads_that_disagree_on_the_order_are_incompatible)
{
    txn("0 ok 0 10 0 a1+1");
    txn("1 ok 0 10 0 a1+2");
    txn("2 ok 20 30 0 r1=1,2");
    txn("3 ok 20 30 0 r1=2");
    assert_only(KVT_AN_INCOMPATIBLE_ORDER);
}

Test(append, an_element_twice_in_a_read_is_a_duplicate)
{
    txn("0 ok 0 10 0 r1= a1+1");
    txn("1 ok 20 30 0 r1=1,1");
    check();
    cr_assert_geq(r.count[KVT_AN_DUPLICATE], 1, "%s", report);
    cr_assert(strstr(report, "anomaly duplicate-element:"), "%s", report);
}

Test(append, an_element_nobody_appended_is_unknown)
{
    txn("0 ok 0 10 0 r1= a1+1");
    txn("1 ok 20 30 0 r1=1,99");
    assert_only(KVT_AN_UNKNOWN_ELEMENT);
}

Test(append, two_commits_on_one_read_state_are_a_lost_update)
{
    txn("0 ok 0 10 0 r1= a1+1");
    txn("1 ok 0 10 0 r1= a1+2");
    txn("2 ok 20 30 0 r1=2");
    check();
    cr_assert_eq(r.count[KVT_AN_LOST_UPDATE], 1, "%s", report);
    cr_assert(strstr(report, "anomaly lost-update:"), "%s", report);
}

Test(append, without_the_key_in_the_conflict_set_it_is_no_lost_update)
{
    txn("0 ok 0 10 0 s1= a1+1");
    txn("1 ok 0 10 0 s1= a1+2");
    check();
    cr_assert_eq(r.count[KVT_AN_LOST_UPDATE], 0, "%s", report);
}

Test(append, an_ok_append_a_later_read_lacks_is_lost)
{
    txn("0 ok 0 10 0 a1+1");
    txn("1 ok 20 30 0 r1=");
    assert_only(KVT_AN_LOST_APPEND);
}

Test(append, a_cycle_of_appends_is_g0)
{
    txn("0 ok 0 10 0 a1+1 a2+2");
    txn("1 ok 0 10 0 a1+3 a2+4");
    txn("2 ok 20 30 0 r1=1,3 r2=4,2");
    assert_only(KVT_AN_G0);
    cr_assert(strstr(report, "-ww->"), "%s", report);
    cr_assert_eq(r.cycles, 1);
}

Test(append, each_reading_the_others_append_is_g1c)
{
    txn("0 ok 0 10 0 a1+1 r2=2");
    txn("1 ok 0 10 0 a2+2 r1=1");
    assert_only(KVT_AN_G1C);
    cr_assert(strstr(report, "-wr->"), "%s", report);
}

Test(append, write_skew_is_g2)
{
    txn("0 ok 0 10 0 r1= r2= a1+1");
    txn("1 ok 0 10 0 r1= r2= a2+2");
    txn("2 ok 20 30 0 r1=1 r2=2");
    assert_only(KVT_AN_G2);
    cr_assert(strstr(report, "-rw->"), "%s", report);
}

Test(append, a_stale_read_after_a_commit_is_g2_realtime)
{
    txn("0 ok 0 10 0 r1= a1+1");
    txn("1 ok 20 30 0 r1=");
    txn("2 ok 40 50 0 r1=1");
    assert_only(KVT_AN_G2_RT);
    cr_assert(strstr(report, "-rt->"), "%s", report);
}

Test(append, the_same_stale_read_overlapping_the_commit_is_clean)
{
    txn("0 ok 0 25 0 r1= a1+1");
    txn("1 ok 20 30 0 r1=");
    txn("2 ok 40 50 0 r1=1");
    assert_clean();
}

Test(append, appends_ordered_against_real_time_are_g0_realtime)
{
    txn("0 ok 0 10 0 a1+1");
    txn("1 ok 20 30 0 a1+2");
    txn("2 ok 40 50 0 r1=2,1");
    assert_only(KVT_AN_G0_RT);
}

Test(append, a_history_file_round_trips)
{
    txn("0 ok 0 10 1 r1= s2= a1+1");
    txn("1 info 5 30 2 r1=1 a1+2 a3+7");
    txn("2 fail 40 50 -1 r4=1,2,3");
    char path[] = "/tmp/kvt-append-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_eq(kvt_txns_write(path, &h, "test"), 0);
    cr_assert(kvt_txns_is_file(path));
    struct kvt_txns back;
    kvt_txns_init(&back);
    long rc = kvt_txns_read(path, &back);
    remove(path);
    cr_assert_eq(rc, 0);
    cr_assert_eq(back.count, h.count);
    for (size_t i = 0; i < h.count; i++) {
        const struct kvt_txn *a = &h.txns[i], *b = &back.txns[i];
        cr_assert(a->process == b->process && a->outcome == b->outcome &&
                  a->invoke_ns == b->invoke_ns && a->complete_ns == b->complete_ns &&
                  a->node == b->node && a->mop_count == b->mop_count);
        for (uint32_t j = 0; j < a->mop_count; j++) {
            const struct kvt_mop *x = &a->mops[j], *y = &b->mops[j];
            cr_assert(x->kind == y->kind && x->key == y->key && x->conflict == y->conflict &&
                      x->element == y->element && x->len == y->len);
            cr_assert(x->len == 0 || memcmp(x->list, y->list, x->len * sizeof *x->list) == 0);
        }
    }
    kvt_txns_free(&back);
}

Test(append, bad_lines_are_refused)
{
    const char *bad[] = {"0 ok 0 10", "0 maybe 0 10 0 a1+1", "0 ok 0 10 0 x1+1",
                         "0 ok 0 10 0 r1=1,,2", "0 ok 0 10 0 a1+", "0 ok 0 10 0 r=1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", bad[i]);
        struct kvt_txn t;
        cr_assert_eq(kvt_txn_parse(buf, &t), 1, "%s", bad[i]);
        kvt_txn_free(&t);
    }
}
