/* test_check_logs.c: a history streamed to worker logs, checked shard by shard: every key
   checked once whatever the shard bound, a stale read found in its key, counts per key and
   per second that add up, and torn or foreign logs refused. */
#include "check_logs.h"
#include "hist_build.h"
#include "hist_gen.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROCESSES 8
#define KEYS 100

static char dir[] = "/tmp/kvt-logs-XXXXXX";
static struct kvt_history h;
static FILE *devnull;

static void setup(void)
{
    cr_assert(mkdtemp(dir));
    kvt_history_init(&h);
    devnull = fopen("/dev/null", "w");
    cr_assert(devnull);
}

static void teardown(void)
{
    hb_remove_logs(dir, PROCESSES);
    kvt_history_free(&h);
    fclose(devnull);
}

TestSuite(check_logs, .init = setup, .fini = teardown);

/* 200k generated ops on KEYS keys, each written to its process's log. */
static void write_logs(void)
{
    struct kvt_gen g;
    kvt_gen_default(&g);
    g.ops = 200000;
    g.keys = KEYS;
    g.processes = PROCESSES;
    g.seed = 1616;
    cr_assert_eq(kvt_gen_history(&h, &g), 0);
}

static void flush_logs(void) { hb_write_logs(&h, dir, PROCESSES); }

static int check(size_t shard_max, struct kvt_check *c, struct kvt_logs_stats *s)
{
    struct kvt_logs l = {.dir = dir, .workers = PROCESSES, .start_ns = 0, .seconds = 600,
                         .shard_ops_max = shard_max};
    cr_assert_eq(kvt_check_init(c, devnull, KEYS, NULL, 0), 0);
    return kvt_logs_check(&l, c, s, NULL);
}

Test(check_logs, every_key_is_checked_once_in_shards_and_the_counts_add_up)
{
    write_logs();
    flush_logs();
    struct kvt_check c;
    struct kvt_logs_stats s;
    cr_assert_eq(check(30000, &c, &s), 0);
    cr_assert_geq(s.shards, 7, "200k ops in shards of 30k");
    cr_assert_eq(s.ops, h.count);
    cr_assert_eq(c.ops, h.count);
    cr_assert_eq(c.linearizable, KEYS);
    cr_assert_eq(c.by_blocks, KEYS);
    cr_assert_eq(kvt_check_verdict(&c), KVT_LIN_OK);
    size_t per_key = 0, per_second = 0;
    for (uint32_t k = 0; k < KEYS; k++)
        per_key += c.ops_per_key[k];
    for (size_t t = 0; t < 600; t++)
        per_second += s.per_second[t].ops;
    cr_assert_eq(per_key, h.count);
    cr_assert_eq(per_second, h.count);
    kvt_logs_stats_free(&s);
    kvt_check_free(&c);
    /* The shard files are gone: only the workers' logs remain. */
    char path[256];
    snprintf(path, sizeof path, "%s/shard-0.ops", dir);
    cr_assert_neq(access(path, F_OK), 0);
}

Test(check_logs, a_stale_read_is_found_in_its_key_and_only_that_key_is_kept)
{
    write_logs();
    size_t at = kvt_gen_make_stale(&h, 7);
    cr_assert_neq(at, SIZE_MAX);
    flush_logs();
    struct kvt_check c;
    struct kvt_logs_stats s;
    cr_assert_eq(check(50000, &c, &s), 0);
    cr_assert_eq(c.violations, 1);
    cr_assert_eq(c.linearizable, KEYS - 1);
    cr_assert_eq(kvt_check_verdict(&c), KVT_LIN_VIOLATION);
    cr_assert_eq(c.failed.count, c.ops_per_key[7]);
    for (size_t i = 0; i < c.failed.count; i++)
        cr_assert_eq(c.failed.ops[i].key, 7);
    kvt_logs_stats_free(&s);
    kvt_check_free(&c);
}

Test(check_logs, a_torn_log_or_a_key_out_of_range_is_refused)
{
    write_logs();
    h.count = 1000;
    flush_logs();
    char path[256];
    kvt_logs_worker_path(dir, 3, path, sizeof path);
    FILE *f = fopen(path, "ab");
    cr_assert(f);
    fputs("torn", f);   /* a record cut short */
    fclose(f);
    struct kvt_check c;
    struct kvt_logs_stats s;
    cr_assert_eq(check(0, &c, &s), -1);
    kvt_logs_stats_free(&s);
    kvt_check_free(&c);
    h.ops[10].key = KEYS;   /* beyond the run's keys */
    flush_logs();
    cr_assert_eq(check(0, &c, &s), -1);
    kvt_logs_stats_free(&s);
    kvt_check_free(&c);
}
