/* test_reg_long.c (suite slow): the checkers at soak sizes. Millions of ops on one hot key by
   blocks, good and with one stale read; a million on a key the search must take piece by
   piece; five million over a thousand keys through worker logs and shards. Times are printed
   for the record (bench/lincheck measures them), never asserted. */
#include "check_logs.h"
#include "hist_build.h"
#include "hist_gen.h"
#include "reg.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void generate(struct kvt_history *h, size_t ops, uint32_t keys, uint32_t processes,
                     int64_t think_ns)
{
    struct kvt_gen g;
    kvt_gen_default(&g);
    g.ops = ops;
    g.keys = keys;
    g.processes = processes;
    g.seed = ops ^ keys;
    if (think_ns >= 0)
        g.think_ns = think_ns;
    kvt_history_init(h);
    cr_assert_eq(kvt_gen_history(h, &g), 0);
}

Test(reg_long, three_million_ops_on_one_hot_key_by_blocks, .timeout = 600)
{
    struct kvt_history h;
    generate(&h, 3000000, 1, 16, -1);
    struct kvt_lin_result r;
    int64_t t = now_ns();
    cr_assert_eq(kvt_reg_check(h.ops, h.count, &r), 0);
    fprintf(stderr, "reg_long: blocks on 3M ops, one key, 16 processes: %.2f s\n",
            (double)(now_ns() - t) / 1e9);
    cr_assert_eq(r.verdict, KVT_LIN_OK, "%s", r.violation ? r.violation : "");
    cr_assert_gt(r.ops, 2000000, "fail ops (many a stale cas) left out, the rest checked");
    cr_assert_neq(kvt_gen_make_stale(&h, 0), SIZE_MAX);
    cr_assert_eq(kvt_reg_check(h.ops, h.count, &r), 0);
    cr_assert_eq(r.verdict, KVT_LIN_VIOLATION);
    kvt_history_free(&h);
}

Test(reg_long, a_million_ops_the_search_takes_piece_by_piece, .timeout = 600)
{
    struct kvt_history h;
    generate(&h, 1000000, 1, 4, 4000000);
    struct kvt_lin_limits lim;
    kvt_lin_limits_default(&lim);
    struct kvt_lin_result r;
    int64_t t = now_ns();
    cr_assert_eq(kvt_lin_check_key(&h, 0, &lim, &r), 0);
    fprintf(stderr, "reg_long: search on 1M ops, one key, 4 processes: %.2f s, %llu steps\n",
            (double)(now_ns() - t) / 1e9, (unsigned long long)r.steps);
    cr_assert_eq(r.verdict, KVT_LIN_OK, "%s", r.why ? r.why : "violation");
    kvt_history_free(&h);
}

Test(reg_long, five_million_ops_over_a_thousand_keys_through_logs_and_shards, .timeout = 900)
{
    enum { PROCESSES = 8, KEYS = 1000 };
    struct kvt_history h;
    generate(&h, 5000000, KEYS, PROCESSES, -1);
    char dir[] = "/tmp/kvt-long-XXXXXX";
    cr_assert(mkdtemp(dir));
    hb_write_logs(&h, dir, PROCESSES);
    size_t count = h.count;
    kvt_history_free(&h);   /* from here on only the logs hold it */
    FILE *devnull = fopen("/dev/null", "w");
    struct kvt_check c;
    struct kvt_logs_stats s;
    struct kvt_logs l = {.dir = dir, .workers = PROCESSES, .seconds = 3600};
    cr_assert_eq(kvt_check_init(&c, devnull, KEYS, NULL, 0), 0);
    int64_t t = now_ns();
    cr_assert_eq(kvt_logs_check(&l, &c, &s, NULL), 0);
    fprintf(stderr, "reg_long: 5M ops, 1000 keys, from logs in %zu shards: %.2f s (checkers"
                    " %.2f s)\n", s.shards, (double)(now_ns() - t) / 1e9,
            (double)c.check_ns / 1e9);
    cr_assert_geq(s.shards, 3);
    cr_assert_eq(c.ops, count);
    cr_assert_eq(c.linearizable, KEYS);
    cr_assert_eq(kvt_check_verdict(&c), KVT_LIN_OK);
    kvt_logs_stats_free(&s);
    kvt_check_free(&c);
    fclose(devnull);
    hb_remove_logs(dir, PROCESSES);
}
