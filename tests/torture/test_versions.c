/* test_versions.c: the version order check of kvtorture: a read at version V must see the
   newest acknowledged write at or below V; stale, future and empty reads are violations;
   reads of writes whose version is unknown are not judged; no two acknowledged writes may
   name one version. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "versions.h"

static struct kvt_op ops[16];
static size_t count;
static char out[1024];

static void write_at(uint32_t key, int64_t value, int64_t version)
{
    ops[count++] = (struct kvt_op){.type = KVT_WRITE, .outcome = KVT_OK, .key = key,
                                   .value = value, .version = version};
}

static void read_at(uint32_t key, int64_t value, int64_t version)
{
    ops[count++] = (struct kvt_op){.process = 3, .type = KVT_READ, .outcome = KVT_OK,
                                   .key = key, .value = value, .version = version};
}

static struct kvt_versions_result check(void)
{
    FILE *f = fmemopen(out, sizeof out, "w");
    cr_assert(f);
    struct kvt_versions_result r;
    cr_assert_eq(kvt_versions_check_key(ops, count, f, 0, &r), 0);
    fclose(f);
    return r;
}

static void reset(void)
{
    count = 0;
    memset(out, 0, sizeof out);
}

TestSuite(versions, .init = reset);

Test(versions, reads_of_the_newest_write_at_their_version_are_clean)
{
    write_at(1, 10, 5);
    write_at(1, 11, 9);
    read_at(1, 10, 5);
    read_at(1, 10, 8);   /* 11 came later */
    read_at(1, 11, 9);
    read_at(1, KVT_NIL, 4);
    read_at(1, 11, 100);
    struct kvt_versions_result r = check();
    cr_assert_eq(r.violations, 0, "%s", out);
    cr_assert_eq(r.judged, 5);
}

Test(versions, a_snapshot_read_of_a_newer_value_is_a_future_read)
{
    write_at(1, 10, 5);
    write_at(1, 11, 9);
    read_at(1, 11, 6);
    struct kvt_versions_result r = check();
    cr_assert_eq(r.violations, 1);
    cr_assert(strstr(out, "key 1: a future read: p3 read at version 6"), "%s", out);
    cr_assert(strstr(out, "saw 11 (written at version 9)"), "%s", out);
}

Test(versions, missing_a_write_at_or_below_the_version_is_a_stale_read)
{
    write_at(4, 10, 5);
    write_at(4, 11, 9);
    read_at(4, 10, 9);
    read_at(4, KVT_NIL, 7);
    struct kvt_versions_result r = check();
    cr_assert_eq(r.violations, 2, "%s", out);
    cr_assert(strstr(out, "key 4: a stale read"), "%s", out);
    cr_assert(strstr(out, "but 11 was written at version 9"), "%s", out);
    cr_assert(strstr(out, "key 4: nothing seen"), "%s", out);
}

Test(versions, a_value_whose_write_has_no_known_version_is_not_judged)
{
    write_at(1, 10, 5);
    ops[count++] = (struct kvt_op){.type = KVT_WRITE, .outcome = KVT_INFO, .key = 1, .value = 77};
    read_at(1, 77, 9);
    read_at(1, 10, 0);   /* no version: not a versioned read */
    struct kvt_versions_result r = check();
    cr_assert_eq(r.reads, 1);
    cr_assert_eq(r.judged, 0);
    cr_assert_eq(r.violations, 0);
}

Test(versions, two_writes_acknowledged_at_one_version_mean_one_was_lost)
{
    struct kvt_version_set s = {0};
    FILE *f = fmemopen(out, sizeof out, "w");
    struct kvt_op a = {.type = KVT_WRITE, .outcome = KVT_OK, .key = 1, .value = 10, .version = 5};
    struct kvt_op b = {.type = KVT_CAS, .outcome = KVT_OK, .key = 2, .value = 20, .version = 5};
    struct kvt_op c = {.type = KVT_WRITE, .outcome = KVT_OK, .key = 2, .value = 21,
                       .version = 100000};
    cr_assert_eq(kvt_version_set_add(&s, &a, f), 0);
    cr_assert_eq(kvt_version_set_add(&s, &c, f), 0);
    cr_assert_eq(kvt_version_set_add(&s, &b, f), 0);
    fclose(f);
    cr_assert_eq(s.shared, 1);
    cr_assert(strstr(out, "a write of 20 to key 2 was acknowledged at version 5, which another"),
              "%s", out);
    kvt_version_set_free(&s);
}

Test(versions, a_version_beyond_any_log_is_a_violation_not_an_allocation)
{
    struct kvt_version_set s = {0};
    FILE *f = fmemopen(out, sizeof out, "w");
    struct kvt_op a = {.type = KVT_WRITE, .outcome = KVT_OK, .key = 1, .value = 10,
                       .version = INT64_MAX};
    cr_assert_eq(kvt_version_set_add(&s, &a, f), 1);
    fclose(f);
    cr_assert(strstr(out, "beyond any log"), "%s", out);
    cr_assert_eq(s.words, 0u);
    kvt_version_set_free(&s);
}
