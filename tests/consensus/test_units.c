/* test_units.c: the pure pieces: majority arithmetic and the in-memory log. */
#include <criterion/criterion.h>

#include "clog.h"
#include "quorum.h"

Test(consensus_quorum, commit_index_is_the_majority_th_largest)
{
    uint64_t m3[] = {5, 9, 7};
    cr_assert_eq(cons_quorum_commit_index(m3, 3), 7);
    uint64_t m5[] = {1, 9, 3, 9, 2};
    cr_assert_eq(cons_quorum_commit_index(m5, 5), 3);
    uint64_t m1[] = {4};
    cr_assert_eq(cons_quorum_commit_index(m1, 1), 4);
    uint64_t m7[] = {7, 6, 5, 4, 3, 2, 1};
    cr_assert_eq(cons_quorum_commit_index(m7, 7), 4);
}

Test(consensus_quorum, vote_outcomes)
{
    uint8_t v[5] = {QUORUM_VOTE_YES, QUORUM_VOTE_YES, 0, 0, 0};
    cr_assert_eq(cons_quorum_vote_result(v, 5), QUORUM_PENDING);
    v[2] = QUORUM_VOTE_YES;
    cr_assert_eq(cons_quorum_vote_result(v, 5), QUORUM_WON);
    uint8_t n[5] = {QUORUM_VOTE_YES, QUORUM_VOTE_NO, QUORUM_VOTE_NO, 0, 0};
    cr_assert_eq(cons_quorum_vote_result(n, 5), QUORUM_PENDING);
    n[3] = QUORUM_VOTE_NO;
    cr_assert_eq(cons_quorum_vote_result(n, 5), QUORUM_LOST);
}

static void fill(struct clog *log, const uint64_t *terms, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cons_clog_append(log, terms[i], "x", 1);
}

Test(consensus_log, find_conflict_skips_whole_terms)
{
    struct clog log;
    cons_clog_init(&log, 0, 0);
    const uint64_t f[] = {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3}; /* Figure 7 (f) */
    fill(&log, f, 11);
    uint64_t t = 0;
    /* The leader probes at 10 with term 6: our last entry <= 10 of term <= 6 is 10 (term 3). */
    cr_assert_eq(cons_clog_find_conflict(&log, 10, 6, &t), 10);
    cr_assert_eq(t, 3);
    cr_assert_eq(cons_clog_find_conflict(&log, 10, 2, &t), 6);
    cr_assert_eq(t, 2);
    cr_assert_eq(cons_clog_find_conflict(&log, 99, 1, &t), 3);
    cr_assert_eq(cons_clog_find_conflict(&log, 5, 0, &t), 0);
    cons_clog_free(&log);
}

Test(consensus_log, truncate_and_compact_keep_the_bookkeeping)
{
    struct clog log;
    cons_clog_init(&log, 0, 0);
    const uint64_t terms[] = {1, 1, 2, 2, 3};
    fill(&log, terms, 5);
    log.unstable = 6;
    log.persisted = 5;
    cons_clog_truncate(&log, 4);
    cr_assert_eq(cons_clog_last_index(&log), 3);
    cr_assert_eq(log.unstable, 4);
    cr_assert_eq(log.persisted, 3);
    log.commit = log.applied = 3;
    cons_clog_compact(&log, 2, 1);
    cr_assert_eq(log.snap_index, 2);
    cr_assert_eq(cons_clog_last_index(&log), 3);
    uint64_t t = 0;
    cr_assert(cons_clog_term(&log, 2, &t) && t == 1);
    cr_assert(!cons_clog_term(&log, 1, &t));
    cr_assert(cons_clog_up_to_date(&log, 3, 2));
    cr_assert(!cons_clog_up_to_date(&log, 2, 2));
    cr_assert(cons_clog_up_to_date(&log, 1, 3));
    cons_clog_invariants(&log, 3);
    cons_clog_free(&log);
}

Test(consensus_log, a_compaction_gives_the_array_back_once_it_is_mostly_empty)
{
    struct clog log;
    cons_clog_init(&log, 0, 0);
    for (int i = 0; i < 100000; i++)
        cons_clog_append(&log, 1, "x", 1);
    size_t peak = log.cap;
    cr_assert_geq(peak, 100000);
    log.unstable = 100001;
    log.persisted = log.commit = log.applied = 100000;
    cons_clog_compact(&log, 99000, 1);
    cr_assert_eq(log.count, 1000);
    cr_assert_leq(log.cap, 2000, "capacity %zu for 1000 entries", log.cap);
    cr_assert_eq(cons_clog_entry(&log, 99001)->index, 99001, "the kept entries moved along");
    cr_assert_eq(cons_clog_entry(&log, 100000)->term, 1);
    cons_clog_compact(&log, 99200, 1); /* 800 of 2000: a quarter full or more, kept */
    cr_assert_eq(log.cap, 2000);
    cons_clog_invariants(&log, 1);
    cons_clog_free(&log);
}
