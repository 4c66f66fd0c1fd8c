/* test_session.c: client sessions in the state machine: retries apply once, answers are kept
 * and dropped as acknowledged, expiry in log time, limits, snapshots and the digest. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "kv_sm.h"
#include "session_fixture.h"

static kv_sm *new_sm_limits(uint32_t sessions, uint32_t results, uint64_t total)
{
    struct kv_config cfg;
    kv_config_default(&cfg);
    cfg.sessions_max = sessions;
    cfg.session_results_max = results;
    cfg.session_results_total_max = total;
    kv_sm *sm = kv_sm_new(&cfg);
    cr_assert_not_null(sm);
    return sm;
}

/* Opens a session at log time ts_us; returns its id. */
static uint64_t open_at(kv_sm *sm, int32_t timeout_ms, int64_t ts_us)
{
    struct kv_sm_result res;
    cr_assert_eq(sf_apply(sm, sf_open(timeout_ms), ts_us, &res), 0);
    cr_assert_eq(res.committed_version, res.version, "a session's id is its entry's index");
    return res.committed_version;
}

static uint64_t version_of(kv_sm *sm, const char *key)
{
    struct kv_read r;
    int rc = kv_store_get(kv_sm_store(sm), (const uint8_t *)key, strlen(key),
                          kv_sm_applied_version(sm), &r);
    return rc == 0 ? r.version : 0;
}

Test(kv_session, retry_returns_first_answer_and_applies_once)
{
    kv_sm *sm = new_sm_limits(16, 8, 64);
    struct kv_sm_result first, again;
    uint64_t id = open_at(sm, 10000, 1000);
    cr_assert_eq(sf_apply(sm, sf_set("k", "v1", id, 1, 0), 2000, &first), 0);
    cr_assert(!first.duplicate);
    cr_assert_eq(first.committed_version, first.version);
    /* Another writer changes the key; the retry of write 1 must not put v1 back. */
    cr_assert_eq(sf_apply(sm, sf_set("k", "other", 0, 0, 0), 3000, NULL), 0);
    cr_assert_eq(sf_apply(sm, sf_set("k", "v1", id, 1, 0), 4000, &again), 0);
    cr_assert(again.duplicate);
    cr_assert_eq(again.committed_version, first.version, "the first try's version");
    cr_assert_eq(version_of(sm, "k"), first.version + 1, "the retry applied nothing");
    struct kv_sm_session_stats st;
    kv_sm_session_stats(sm, &st);
    cr_assert_eq(st.open, 1);
    cr_assert_eq(st.results, 1);
    cr_assert_eq(st.duplicates, 1);
    kv_sm_free(sm);
}

Test(kv_session, failed_answers_are_kept_too)
{
    kv_sm *sm = new_sm_limits(16, 8, 64);
    struct kv_sm_result r1, r2;
    uint64_t id = open_at(sm, 10000, 1000);
    cr_assert_eq(sf_apply(sm, sf_set("k", "v", 0, 0, 0), 2000, NULL), 0);
    /* A commit read at version 1 conflicts with the write at 2... */
    KvCommand c = sf_incr("k", "w", 1, id, 1, 0);
    cr_assert_eq(sf_apply(sm, c, 3000, &r1), KV_ERR_CONFLICT);
    /* ...and its retry says CONFLICT again, even though the same bytes would now conflict
       too: the answer comes from the table, not from running it again. */
    cr_assert_eq(sf_apply(sm, sf_incr("k", "w", 1, id, 1, 0), 4000, &r2), KV_ERR_CONFLICT);
    cr_assert(r2.duplicate);
    cr_assert_eq(r2.committed_version, r1.version);
    kv_sm_free(sm);
}

Test(kv_session, acknowledged_answers_go_and_their_retries_are_refused)
{
    kv_sm *sm = new_sm_limits(16, 8, 64);
    struct kv_sm_result res;
    uint64_t id = open_at(sm, 10000, 1000);
    cr_assert_eq(sf_apply(sm, sf_set("a", "1", id, 1, 0), 2000, NULL), 0);
    cr_assert_eq(sf_apply(sm, sf_set("b", "1", id, 2, 0), 2000, NULL), 0);
    uint64_t b_version = version_of(sm, "b");
    /* Write 3 acknowledges 1 and 2. */
    cr_assert_eq(sf_apply(sm, sf_set("c", "1", id, 3, 3), 2000, NULL), 0);
    struct kv_sm_session_stats st;
    kv_sm_session_stats(sm, &st);
    cr_assert_eq(st.results, 1, "only write 3's answer is left");
    /* A delayed copy of write 2 arrives: refused, never applied again. */
    cr_assert_eq(sf_apply(sm, sf_set("b", "1", id, 2, 0), 2000, &res), KV_ERR_SESSION_EXPIRED);
    cr_assert(!res.duplicate);
    cr_assert_eq(version_of(sm, "b"), b_version);
    /* Acknowledgements never move back: a late write carrying an older one changes nothing. */
    cr_assert_eq(sf_apply(sm, sf_set("d", "1", id, 4, 1), 2000, NULL), 0);
    cr_assert_eq(sf_apply(sm, sf_set("b", "1", id, 2, 0), 2000, NULL), KV_ERR_SESSION_EXPIRED);
    kv_sm_free(sm);
}

Test(kv_session, unknown_and_malformed_sessions)
{
    kv_sm *sm = new_sm_limits(16, 8, 64);
    struct kv_sm_result res;
    cr_assert_eq(sf_apply(sm, sf_set("k", "v", 99, 1, 0), 1000, &res), KV_ERR_SESSION_EXPIRED);
    cr_assert_eq(version_of(sm, "k"), 0, "nothing applied");
    uint64_t id = open_at(sm, 10000, 1000);
    cr_assert_eq(sf_apply(sm, sf_set("k", "v", id, 0, 0), 1000, NULL), KV_ERR_INVALID_ARGUMENT);
    cr_assert_eq(sf_apply(sm, sf_set("k", "v", id, 2, 3), 1000, NULL), KV_ERR_INVALID_ARGUMENT);
    cr_assert_eq(sf_apply(sm, sf_set("k", "v", -1, 1, 0), 1000, NULL), KV_ERR_INVALID_ARGUMENT);
    cr_assert_eq(sf_apply(sm, sf_open(999), 1000, NULL), KV_ERR_INVALID_ARGUMENT, "under 1 s");
    cr_assert_eq(sf_apply(sm, sf_open(90000000), 1000, NULL), KV_ERR_INVALID_ARGUMENT);
    cr_assert_eq(version_of(sm, "k"), 0);
    kv_sm_free(sm);
}

Test(kv_session, expiry_follows_log_time_only)
{
    kv_sm *sm = new_sm_limits(16, 8, 64);
    uint64_t id = open_at(sm, 1000, 1000000);   /* 1 s idle timeout, opened at t = 1 s */
    cr_assert_eq(sf_apply(sm, sf_set("k", "1", id, 1, 0), 1900000, NULL), 0);
    /* A no-op entry carries the last clock: time does not move, nothing expires. */
    for (int i = 0; i < 10; i++)
        cr_assert_eq(sf_apply(sm, sf_noop(), 0, NULL), 0);
    cr_assert_eq(sf_apply(sm, sf_set("k", "2", id, 2, 0), 2800000, NULL), 0, "refreshed at 1.9 s");
    cr_assert_eq(sf_apply(sm, sf_set("other", "x", 0, 0, 0), 3900000, NULL), 0);
    struct kv_sm_session_stats st;
    kv_sm_session_stats(sm, &st);
    cr_assert_eq(st.expired, 1, "idle from 2.8 s to 3.9 s: expired at this entry");
    /* A later leader's clock runs behind: log time stays at its largest value. */
    cr_assert_eq(sf_apply(sm, sf_set("k", "3", id, 3, 0), 100, NULL), KV_ERR_SESSION_EXPIRED);
    kv_sm_free(sm);
}

Test(kv_session, limits_push_out_and_drop_deterministically)
{
    kv_sm *sm = new_sm_limits(3, 2, 5);
    struct kv_sm_result res;
    uint64_t a = open_at(sm, 10000, 1000), b = open_at(sm, 10000, 2000);
    uint64_t c = open_at(sm, 10000, 3000);
    cr_assert_eq(sf_apply(sm, sf_set("x", "1", a, 1, 0), 4000, NULL), 0); /* a refreshed */
    uint64_t d = open_at(sm, 10000, 5000);  /* full: b expires first and goes */
    struct kv_sm_session_stats st;
    kv_sm_session_stats(sm, &st);
    cr_assert_eq(st.open, 3);
    cr_assert_eq(st.evicted, 1);
    cr_assert_eq(sf_apply(sm, sf_set("y", "1", b, 1, 0), 5000, NULL), KV_ERR_SESSION_EXPIRED);
    /* Three answers held by a session of at most two: write 1's goes first. */
    cr_assert_eq(sf_apply(sm, sf_set("p", "1", c, 1, 0), 6000, NULL), 0);
    cr_assert_eq(sf_apply(sm, sf_set("p", "2", c, 2, 0), 6000, NULL), 0);
    cr_assert_eq(sf_apply(sm, sf_set("p", "3", c, 3, 0), 6000, NULL), 0);
    cr_assert_eq(sf_apply(sm, sf_set("p", "1", c, 1, 0), 6000, NULL), KV_ERR_SESSION_EXPIRED);
    cr_assert_eq(sf_apply(sm, sf_set("p", "3", c, 3, 0), 6000, &res), 0);
    cr_assert(res.duplicate);
    /* The table's total (5): a (1), c (2), d fills it, then drops its own oldest. */
    cr_assert_eq(sf_apply(sm, sf_set("q", "1", d, 1, 0), 7000, NULL), 0);
    cr_assert_eq(sf_apply(sm, sf_set("q", "2", d, 2, 0), 7000, NULL), 0);
    cr_assert_eq(sf_apply(sm, sf_set("q", "3", d, 3, 0), 7000, NULL), 0);
    kv_sm_session_stats(sm, &st);
    cr_assert_leq(st.results, 5);
    cr_assert_eq(sf_apply(sm, sf_set("q", "1", d, 1, 0), 7000, NULL), KV_ERR_SESSION_EXPIRED);
    kv_sm_free(sm);
}

Test(kv_session, close_forgets_the_session)
{
    kv_sm *sm = new_sm_limits(16, 8, 64);
    struct kv_sm_result res;
    uint64_t id = open_at(sm, 10000, 1000);
    cr_assert_eq(sf_apply(sm, sf_set("k", "v", id, 1, 0), 1000, NULL), 0);
    cr_assert_eq(sf_apply(sm, sf_close(id), 1000, &res), 0);
    cr_assert(res.found);
    cr_assert_eq(sf_apply(sm, sf_close(id), 1000, &res), 0);
    cr_assert(!res.found);
    cr_assert_eq(sf_apply(sm, sf_set("k", "v", id, 1, 0), 1000, NULL), KV_ERR_SESSION_EXPIRED);
    char empty[KV_DIGEST_HEX_LEN + 1], now[KV_DIGEST_HEX_LEN + 1];
    kv_sm *plain = new_sm_limits(16, 8, 64);
    kv_sm_digest_hex(plain, empty);
    kv_sm_digest_hex(sm, now);
    cr_assert_str_neq(now, empty, "k is set");
    kv_sm_free(plain);
    kv_sm_free(sm);
}

Test(kv_session, digest_covers_the_table)
{
    /* Same data, different session tables: different digests; same tables: same. */
    kv_sm *x = new_sm_limits(16, 8, 64), *y = new_sm_limits(16, 8, 64);
    kv_sm *z = new_sm_limits(16, 8, 64);
    char dx[KV_DIGEST_HEX_LEN + 1], dy[KV_DIGEST_HEX_LEN + 1], dz[KV_DIGEST_HEX_LEN + 1];
    uint64_t ix = open_at(x, 10000, 1000), iy = open_at(y, 10000, 1000);
    sf_apply(z, sf_noop(), 1000, NULL);
    cr_assert_eq(ix, iy);
    cr_assert_eq(sf_apply(x, sf_set("k", "v", ix, 1, 0), 2000, NULL), 0);
    cr_assert_eq(sf_apply(y, sf_set("k", "v", iy, 1, 0), 2000, NULL), 0);
    cr_assert_eq(sf_apply(z, sf_set("k", "v", 0, 0, 0), 2000, NULL), 0);
    kv_sm_digest_hex(x, dx);
    kv_sm_digest_hex(y, dy);
    kv_sm_digest_hex(z, dz);
    cr_assert_str_eq(dx, dy);
    cr_assert_str_neq(dx, dz, "the session and its answer count");
    /* One more answer kept on one side only. */
    cr_assert_eq(sf_apply(x, sf_set("k", "v", ix, 2, 0), 3000, NULL), 0);
    cr_assert_eq(sf_apply(y, sf_set("k", "v", 0, 0, 0), 3000, NULL), 0);
    kv_sm_digest_hex(x, dx);
    kv_sm_digest_hex(y, dy);
    cr_assert_str_neq(dx, dy);
    kv_sm_free(x);
    kv_sm_free(y);
    kv_sm_free(z);
}

Test(kv_session, snapshot_keeps_the_table)
{
    kv_sm *sm = new_sm_limits(16, 8, 64);
    uint64_t a = open_at(sm, 10000, 1000), b = open_at(sm, 5000, 1000);
    cr_assert_eq(sf_apply(sm, sf_set("k", "1", a, 1, 0), 2000, NULL), 0);
    cr_assert_eq(sf_apply(sm, sf_set("k", "2", a, 2, 0), 2000, NULL), 0);
    cr_assert_eq(sf_apply(sm, sf_delete("k", b, 7, 0), 2000, NULL), 0);
    uint8_t *data;
    size_t len;
    cr_assert_eq(kv_sm_save_mem(sm, &data, &len), 0);
    kv_sm *copy = new_sm_limits(16, 8, 64);
    char err[256] = "";
    cr_assert_eq(kv_sm_restore_mem(copy, data, len, err, sizeof err), 0, "%s", err);
    char d1[KV_DIGEST_HEX_LEN + 1], d2[KV_DIGEST_HEX_LEN + 1];
    kv_sm_digest_hex(sm, d1);
    kv_sm_digest_hex(copy, d2);
    cr_assert_str_eq(d1, d2);
    /* The restored table answers a retry as the original would, and expires alike. */
    struct kv_sm_result r1, r2;
    cr_assert_eq(sf_apply(sm, sf_delete("k", b, 7, 0), 3000, &r1), 0);
    cr_assert_eq(sf_apply(copy, sf_delete("k", b, 7, 0), 3000, &r2), 0);
    cr_assert(r1.duplicate && r2.duplicate && r1.found == r2.found);
    cr_assert_eq(r1.committed_version, r2.committed_version);
    cr_assert_eq(sf_apply(sm, sf_noop(), 6100000, NULL), 0);
    cr_assert_eq(sf_apply(copy, sf_noop(), 6100000, NULL), 0);
    kv_sm_digest_hex(sm, d1);
    kv_sm_digest_hex(copy, d2);
    cr_assert_str_eq(d1, d2, "b expired on both at the same entry");
    /* Equal tables encode to equal bytes. */
    uint8_t *data2;
    size_t len2;
    free(data);
    cr_assert_eq(kv_sm_save_mem(sm, &data, &len), 0);
    cr_assert_eq(kv_sm_save_mem(copy, &data2, &len2), 0);
    cr_assert_eq(len, len2);
    cr_assert_eq(memcmp(data, data2, len), 0);
    free(data);
    free(data2);
    kv_sm_free(sm);
    kv_sm_free(copy);
}

/* Seals a snapshot edited in memory again: the trailer's checksum covers every byte before it,
   so the section's own checks are what must catch the edit. */
static void reseal(uint8_t *data, size_t len)
{
    uint32_t crc = crc32c(data, len - 12);
    for (int i = 0; i < 4; i++)
        data[len - 12 + i] = (uint8_t)(crc >> (8 * i));
}

/* Every byte of the session section flipped (and the file resealed): the restore fails and the
   machine it failed on is untouched. */
Test(kv_session, corrupt_section_is_refused)
{
    kv_sm *sm = new_sm_limits(16, 8, 64);
    uint64_t a = open_at(sm, 10000, 1000);
    cr_assert_eq(sf_apply(sm, sf_set("k", "1", a, 1, 0), 2000, NULL), 0);
    uint8_t *data;
    size_t len;
    cr_assert_eq(kv_sm_save_mem(sm, &data, &len), 0);
    /* The section sits between the keys and the 12-byte trailer: its 16-byte header, counts,
       one session, one answer, the digest. */
    size_t section = 16 + 16 + 36 + 24 + 16, start = len - 12 - section;
    cr_assert_eq(memcmp(data + start, "SESS", 4), 0, "section tag where expected");
    kv_sm *target = new_sm_limits(16, 8, 64);
    char before[KV_DIGEST_HEX_LEN + 1], after[KV_DIGEST_HEX_LEN + 1], err[256];
    kv_sm_digest_hex(target, before);
    for (size_t i = start; i < len - 12; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            data[i] ^= (uint8_t)(1u << bit);
            reseal(data, len);
            int rc = kv_sm_restore_mem(target, data, len, err, sizeof err);
            cr_assert_neq(rc, 0, "byte %zu bit %d flipped was accepted", i, bit);
            kv_sm_digest_hex(target, after);
            cr_assert_str_eq(before, after);
            data[i] ^= (uint8_t)(1u << bit);
        }
    }
    reseal(data, len);
    cr_assert_eq(kv_sm_restore_mem(target, data, len, err, sizeof err), 0, "%s", err);
    /* A table over the restoring node's limits is refused even when its bytes are sound. */
    kv_sm *small = new_sm_limits(16, 8, 1);
    kv_sm *none = new_sm_limits(16, 8, 64);
    cr_assert_eq(sf_apply(sm, sf_set("k", "2", a, 2, 0), 3000, NULL), 0);
    free(data);
    cr_assert_eq(kv_sm_save_mem(sm, &data, &len), 0);
    cr_assert_neq(kv_sm_restore_mem(small, data, len, err, sizeof err), 0);
    cr_assert(strstr(err, "limits"), "%s", err);
    cr_assert_eq(kv_sm_restore_mem(none, data, len, err, sizeof err), 0, "%s", err);
    kv_sm_free(small);
    kv_sm_free(none);
    free(data);
    kv_sm_free(target);
    kv_sm_free(sm);
}
