/* kb_selftest.c: kvbench --self-test: the histogram, the PRNG, zipf and key checks. */
#include "kvbench.h"
#include "kvstore.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "self-test: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                        \
        }                                                                      \
    } while (0)

static void test_buckets(void)
{
    CHECK(kb_hist_index(KB_HIST_VALUE_MAX_NS) + 1 == KB_HIST_BUCKETS);
    CHECK(kb_hist_index(UINT64_MAX) == KB_HIST_BUCKETS - 1);
    uint32_t prev = 0;
    struct kb_rand r;
    kb_rand_seed(&r, 7);
    for (uint64_t v = 0; v < KB_HIST_VALUE_MAX_NS; v = v < 1000 ? v + 1 : v + v / 97 + 1) {
        uint32_t i = kb_hist_index(v);
        CHECK(i >= prev);
        prev = i;
        CHECK(kb_hist_lower(i) <= v);
        CHECK(v < kb_hist_lower(i) + kb_hist_width(i));
        /* The bucket's middle is within 0.4% of anything in it: better than 1%. */
        double mid = (double)kb_hist_lower(i) + (double)kb_hist_width(i) / 2;
        CHECK(v < 256 || fabs(mid - (double)v) / (double)v < 0.004);
    }
}

static void test_quantiles(void)
{
    struct kb_hist *h = malloc(sizeof *h), *g = malloc(sizeof *g);
    kb_hist_reset(h);
    kb_hist_reset(g);
    for (uint64_t us = 1; us <= 100000; us++)
        kb_hist_record(us % 2 ? h : g, us * 1000);
    kb_hist_merge(h, g);
    CHECK(h->total == 100000);
    CHECK(h->min_ns == 1000 && h->max_ns == 100000000);
    double expect[] = {0.5, 0.9, 0.99, 0.999};
    for (int i = 0; i < 4; i++) {
        double got = (double)kb_hist_quantile(h, expect[i]), want = expect[i] * 1e8;
        CHECK(fabs(got - want) / want < 0.01);
    }
    CHECK(kb_hist_quantile(h, 1.0) == 100000000);
    CHECK(fabs(kb_hist_mean(h) - 50000.5e3) < 1);
    kb_hist_reset(g);
    CHECK(kb_hist_quantile(g, 0.99) == 0);
    kb_hist_record(g, 120ull * 1000000000ull); /* clamped bucket, exact max */
    CHECK(g->max_ns == 120ull * 1000000000ull && kb_hist_quantile(g, 0.5) == g->max_ns);
    free(h);
    free(g);
}

static void test_rand(void)
{
    struct kb_rand a, b;
    kb_rand_seed(&a, 42);
    kb_rand_seed(&b, 42);
    for (int i = 0; i < 1000; i++)
        CHECK(kb_rand_next(&a) == kb_rand_next(&b));
    uint64_t buckets[10] = {0};
    for (int i = 0; i < 100000; i++)
        buckets[kb_rand_below(&a, 10)]++;
    for (int i = 0; i < 10; i++)
        CHECK(buckets[i] > 9000 && buckets[i] < 11000);
    struct kb_zipf z;
    kb_zipf_init(&z, 1000, 0.99);
    uint64_t hot = 0, n = 200000;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t k = kb_zipf_next(&z, &a);
        CHECK(k < 1000);
        hot += k == 0;
    }
    double want = 1.0 / z.zetan, got = (double)hot / (double)n;
    CHECK(fabs(got - want) / want < 0.05);
}

static void test_keys_and_options(void)
{
    struct kb_bench *b = calloc(1, sizeof *b);
    char *argv[] = {"kvbench", "--mix", "set=1,sget=3", "--key-size", "8", "-e", "a:1,b:2",
                    "--dist", "zipf:0.5", "--txn", "3:1"};
    CHECK(kb_options_parse(&b->opt, 11, argv) == 0);
    CHECK(b->opt.mix[KB_OP_SET] == 1 && b->opt.mix[KB_OP_SGET] == 3 && b->opt.mix[KB_OP_GET] == 0);
    CHECK(b->opt.endpoint_count == 2 && strcmp(b->opt.endpoints[1], "b:2") == 0);
    CHECK(b->opt.zipf_theta == 0.5 && b->opt.txn_reads == 3 && b->opt.txn_writes == 1);
    uint8_t key[8];
    kb_key(b, 1234, key);
    CHECK(memcmp(key, "k0001234", 8) == 0);
    char *bad_argv[] = {"kvbench", "--mix", "sett=1"};
    CHECK(kb_options_parse(&b->opt, 3, bad_argv) == 2);
    free(b);
}

/* A failover as kvbench sees it: hints are followed at once, TIMEOUT is retried at once. */
static void test_retries(void)
{
    const char *here = "127.0.0.1:1", *next = "127.0.0.1:2", *leader = "127.0.0.1:3";
    CHECK(kb_redirect_to(ErrorCode_NOT_LEADER, leader, here, next) == leader);
    CHECK(kb_redirect_to(ErrorCode_NOT_LEADER, "2", here, next) == next);
    CHECK(kb_redirect_to(ErrorCode_NOT_LEADER, "", next, next) == NULL);
    CHECK(kb_redirect_to(ErrorCode_TIMEOUT, leader, here, next) == leader);
    CHECK(kb_redirect_to(ErrorCode_UNAVAILABLE, leader, here, next) == leader);
    CHECK(kb_redirect_to(ErrorCode_UNAVAILABLE, "", here, next) == next);
    CHECK(kb_redirect_to(ErrorCode_TIMEOUT, "", here, next) == NULL);
    CHECK(kb_redirect_to(ErrorCode_TIMEOUT, here, here, next) == NULL);
    CHECK(kb_redirect_to(ErrorCode_BUSY, leader, here, next) == NULL);
    CHECK(!kb_retry_waits(ErrorCode_NOT_LEADER, true));
    CHECK(!kb_retry_waits(ErrorCode_UNAVAILABLE, true));
    CHECK(!kb_retry_waits(ErrorCode_TIMEOUT, false));
    CHECK(kb_retry_waits(ErrorCode_UNAVAILABLE, false));
    CHECK(kb_retry_waits(ErrorCode_BUSY, true));
    CHECK(kb_retry_waits(ErrorCode_NOT_LEADER, false));
}

/* --session: a write acknowledges every answer below its connection's oldest write in flight. */
static void test_session_ref(void)
{
    struct kb_bench b = {.opt = {.depth = 3}};
    struct kb_slot slots[3] = {{.busy = true, .session_seq = 7}, {.busy = false, .session_seq = 2},
                               {.busy = true, .session_seq = 9}};
    struct kb_conn c = {.b = &b, .slots = slots, .session_id = 42};
    for (int i = 0; i < 3; i++)
        slots[i].conn = &c;
    SessionRef ref;
    kb_session_ref(&slots[2], &ref);
    CHECK(ref.session_id == 42 && ref.sequence == 9 && ref.has_acked_below && ref.acked_below == 7);
    slots[0].busy = false;
    kb_session_ref(&slots[2], &ref);
    CHECK(ref.acked_below == 9);
    char *argv[] = {"kvbench", "--session"};
    CHECK(kb_options_parse(&b.opt, 2, argv) == 0 && b.opt.session);
}

int kb_self_test(void)
{
    test_buckets();
    test_quantiles();
    test_rand();
    test_keys_and_options();
    test_retries();
    test_session_ref();
    printf("kvbench self-test: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
