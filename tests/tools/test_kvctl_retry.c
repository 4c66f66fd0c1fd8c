/* test_kvctl_retry.c: kvctl's endpoint parsing and retry policy, without sockets or clocks. */
#include "kvctl_retry.h"
#include "kvstore.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static char err[256];

Test(kvctl_retry, endpoint_lists_are_parsed_and_each_entry_checked)
{
    struct kvctl_endpoints e;
    cr_assert_eq(kvctl_endpoints_parse("127.0.0.1:9090", &e, err, sizeof err), 0, "%s", err);
    cr_assert_eq(e.count, 1);
    cr_assert_str_eq(e.items[0], "127.0.0.1:9090");
    cr_assert_eq(kvctl_endpoints_parse("a:1,b:2,[::1]:3", &e, err, sizeof err), 0, "%s", err);
    cr_assert_eq(e.count, 3);
    cr_assert_str_eq(e.items[2], "[::1]:3");
    cr_assert_eq(e.current, 0);
    const char *bad[] = {"", "a:1,", ",a:1", "nohost", "a:", "a:0", "a:65536", "a:1,b", ":5",
                         "a:-1", "a:1,,b:2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(kvctl_endpoints_parse(bad[i], &e, err, sizeof err), -1, "'%s'", bad[i]);
    cr_assert_eq(kvctl_endpoints_parse("a:1,b", &e, err, sizeof err), -1);
    cr_assert(strstr(err, "endpoint 2 ('b')"), "%s", err);
    char many[512] = "";
    for (int i = 0; i <= (int)KVCTL_ENDPOINTS_MAX; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%sh:%d", i ? "," : "", i + 1);
    cr_assert_eq(kvctl_endpoints_parse(many, &e, err, sizeof err), -1);
    char huge[600];
    memset(huge, 'h', sizeof huge);
    memcpy(huge + sizeof huge - 4, ":1", 3);
    cr_assert_eq(kvctl_endpoints_parse(huge, &e, err, sizeof err), -1, "a host over the limit");
}

Test(kvctl_retry, a_leader_hint_becomes_current_and_is_added_when_new)
{
    struct kvctl_endpoints e;
    cr_assert_eq(kvctl_endpoints_parse("a:1,b:2", &e, err, sizeof err), 0);
    cr_assert_eq(kvctl_endpoints_follow(&e, "b:2", 3), 0);
    cr_assert_eq(e.current, 1);
    cr_assert_eq(e.count, 2);
    cr_assert_eq(kvctl_endpoints_follow(&e, "c:3xyz", 3), 0, "only len bytes count");
    cr_assert_eq(e.count, 3);
    cr_assert_str_eq(e.items[e.current], "c:3");
    cr_assert_eq(kvctl_endpoints_follow(&e, "garbage", 7), -1);
    cr_assert_eq(kvctl_endpoints_follow(&e, "a:1\0b", 5), -1, "an embedded NUL is not a hint");
    cr_assert_str_eq(e.items[e.current], "c:3", "a bad hint changes nothing");
    kvctl_endpoints_next(&e);
    cr_assert_eq(e.current, 0, "next wraps around");
    while (e.count < KVCTL_ENDPOINTS_MAX) {
        char h[16];
        snprintf(h, sizeof h, "n:%u", e.count + 10);
        cr_assert_eq(kvctl_endpoints_follow(&e, h, strlen(h)), 0);
    }
    cr_assert_eq(kvctl_endpoints_follow(&e, "full:9", 6), 0);
    cr_assert_eq(e.count, KVCTL_ENDPOINTS_MAX, "a full list replaces its last entry");
    cr_assert_str_eq(e.items[KVCTL_ENDPOINTS_MAX - 1], "full:9");
}

Test(kvctl_retry, answers_that_stand_are_not_retried)
{
    struct kvctl_retry r;
    uint32_t wait;
    kvctl_retry_init(&r, true);
    int done[] = {ErrorCode_OK, ErrorCode_NOT_FOUND, ErrorCode_CONFLICT, ErrorCode_KEY_TOO_LARGE,
                  ErrorCode_INTERNAL, ErrorCode_SHUTTING_DOWN, ErrorCode_UNAUTHORIZED, 999};
    for (size_t i = 0; i < sizeof done / sizeof done[0]; i++)
        cr_assert_eq(kvctl_retry_answer(&r, done[i], false, &wait), KVCTL_ACT_DONE, "%d", done[i]);
    kvctl_retry_init(&r, false);
    cr_assert_eq(kvctl_retry_answer(&r, ErrorCode_TIMEOUT, false, &wait), KVCTL_ACT_DONE,
                 "a commit whose outcome is unknown is not redone");
    cr_assert_eq(kvctl_retry_lost(&r, true, &wait), KVCTL_ACT_DONE);
    cr_assert_eq(kvctl_retry_lost(&r, false, &wait), KVCTL_ACT_NEXT, "never sent: safe to retry");
}

Test(kvctl_retry, retryable_answers_back_off_until_the_budget_is_spent)
{
    int codes[] = {ErrorCode_UNAVAILABLE, ErrorCode_BUSY, ErrorCode_TIMEOUT};
    enum kvctl_action again[] = {KVCTL_ACT_NEXT, KVCTL_ACT_SAME, KVCTL_ACT_SAME};
    for (size_t c = 0; c < 3; c++) {
        struct kvctl_retry r;
        kvctl_retry_init(&r, true);
        uint32_t wait, total = 0, last = 0, tries = 0;
        enum kvctl_action a;
        if (codes[c] == ErrorCode_TIMEOUT)
            r.hops = KVCTL_HOPS_FREE_MAX; /* the retries at once are spent (next test) */
        while ((a = kvctl_retry_answer(&r, codes[c], false, &wait)) == again[c]) {
            cr_assert_geq(wait, last, "waits never shrink");
            cr_assert_leq(wait, KVCTL_BACKOFF_MAX_MS);
            total += wait;
            last = wait;
            tries++;
        }
        cr_assert_eq(a, KVCTL_ACT_GIVE_UP);
        cr_assert_leq(total, KVCTL_RETRY_BUDGET_MS);
        cr_assert_gt(total + KVCTL_BACKOFF_MAX_MS, KVCTL_RETRY_BUDGET_MS, "the budget is used");
        cr_assert_eq(tries, 8, "50+100+200+400+800+1000+1000+1000 ms, then 450 ms left: %u", tries);
    }
}

Test(kvctl_retry, leader_hints_are_followed_at_once_a_few_times_then_with_backoff)
{
    struct kvctl_retry r;
    kvctl_retry_init(&r, true);
    uint32_t wait;
    for (uint32_t i = 0; i < KVCTL_HOPS_FREE_MAX; i++) {
        cr_assert_eq(kvctl_retry_answer(&r, ErrorCode_NOT_LEADER, true, &wait), KVCTL_ACT_FOLLOW);
        cr_assert_eq(wait, 0);
    }
    cr_assert_eq(kvctl_retry_answer(&r, ErrorCode_NOT_LEADER, true, &wait), KVCTL_ACT_FOLLOW);
    cr_assert_eq(wait, KVCTL_BACKOFF_FIRST_MS, "two nodes pointing at each other cannot spin");
    cr_assert_eq(kvctl_retry_answer(&r, ErrorCode_NOT_LEADER, false, &wait), KVCTL_ACT_NEXT,
                 "no hint: ask the next endpoint");
    cr_assert_gt(wait, 0);
    uint32_t guard = 0;
    while (kvctl_retry_answer(&r, ErrorCode_NOT_LEADER, true, &wait) != KVCTL_ACT_GIVE_UP)
        cr_assert_lt(++guard, 100);
}

/* A node answers TIMEOUT as soon as the leader a write waited on is gone (issue 21): kvctl
   retries at once, at the new leader it names, or else at the same node, which holds the
   call until it knows a leader; UNAVAILABLE with a hint goes to that leader at once too. */
Test(kvctl_retry, an_unknown_outcome_is_retried_at_once_at_the_hinted_leader)
{
    struct kvctl_retry r;
    uint32_t wait = 99;
    kvctl_retry_init(&r, true);
    cr_assert_eq(kvctl_retry_answer(&r, ErrorCode_TIMEOUT, true, &wait), KVCTL_ACT_FOLLOW);
    cr_assert_eq(wait, 0);
    cr_assert_eq(kvctl_retry_answer(&r, ErrorCode_TIMEOUT, false, &wait), KVCTL_ACT_SAME);
    cr_assert_eq(wait, 0);
    cr_assert_eq(kvctl_retry_answer(&r, ErrorCode_UNAVAILABLE, true, &wait), KVCTL_ACT_FOLLOW);
    cr_assert_eq(wait, 0);
    cr_assert_eq(kvctl_retry_answer(&r, ErrorCode_UNAVAILABLE, false, &wait), KVCTL_ACT_NEXT,
                 "no leader known (or a cut-off leader that stepped down): ask another node");
    cr_assert_eq(wait, KVCTL_BACKOFF_FIRST_MS);
    cr_assert_eq(kvctl_retry_answer(&r, ErrorCode_TIMEOUT, true, &wait), KVCTL_ACT_FOLLOW);
    cr_assert_eq(wait, 0);
    cr_assert_eq(r.hops, KVCTL_HOPS_FREE_MAX);
    cr_assert_eq(kvctl_retry_answer(&r, ErrorCode_TIMEOUT, true, &wait), KVCTL_ACT_FOLLOW);
    cr_assert_gt(wait, 0, "out of hops: retries wait, so no two nodes make kvctl spin");
    kvctl_retry_init(&r, false);
    cr_assert_eq(kvctl_retry_answer(&r, ErrorCode_TIMEOUT, true, &wait), KVCTL_ACT_DONE,
                 "not idempotent: an unknown outcome stands, hint or not");
}

Test(kvctl_retry, time_spent_in_failed_calls_counts_against_the_budget)
{
    /* A node that holds each call for its own 2 s request timeout before answering
       UNAVAILABLE: waits plus calls stay within the budget (it was 22 s before). */
    struct kvctl_retry r;
    kvctl_retry_init(&r, true);
    uint32_t wait, total = 0, tries = 0;
    kvctl_retry_spent(&r, 2000);
    while (kvctl_retry_answer(&r, ErrorCode_UNAVAILABLE, false, &wait) == KVCTL_ACT_NEXT) {
        total += 2000 + wait;
        tries++;
        kvctl_retry_spent(&r, 2000);
    }
    cr_assert_leq(total, KVCTL_RETRY_BUDGET_MS, "spent %u ms", total);
    cr_assert_eq(tries, 2, "2000+50, 2000+100, then 2000 more would pass 5000: %u", tries);
    kvctl_retry_spent(&r, UINT64_MAX); /* saturates */
    cr_assert_eq(r.waited_ms, KVCTL_RETRY_BUDGET_MS);
}
