/* test_member_snap.c: the membership section of a snapshot: round trips, found from the tail. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "kv_snapshot.h"

#define K(s) (const uint8_t *)(s), (sizeof(s) - 1)

static kv_store *store_with_keys(void)
{
    kv_store *s = kv_store_new(NULL);
    cr_assert_not_null(s);
    for (uint64_t v = 1; v <= 50; v++) {
        uint8_t key[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
        cr_assert_eq(kv_store_set(s, key, sizeof key, K("value"), v), 0);
        kv_store_advance(s, v, (int64_t)v);
    }
    return s;
}

static kv_store *reload(const uint8_t *data, size_t len)
{
    kv_store *t = NULL;
    char err[256] = "";
    cr_assert_eq(kv_snapshot_load_mem(data, len, "mem", NULL, &t, err, sizeof err), 0, "%s", err);
    return t;
}

Test(kv_member_snap, the_membership_round_trips_and_is_found_from_the_tail)
{
    kv_store *s = store_with_keys();
    uint8_t blob[300];
    for (size_t i = 0; i < sizeof blob; i++)
        blob[i] = (uint8_t)(i * 7 + 1);
    cr_assert_eq(kv_store_set_membership(s, blob, sizeof blob), 0);
    uint8_t *a, *b;
    size_t alen, blen;
    cr_assert_eq(kv_snapshot_save_mem(s, &a, &alen), 0);
    kv_store *t = reload(a, alen);
    uint32_t len;
    const uint8_t *got = kv_store_membership(t, &len);
    cr_assert_eq(len, sizeof blob);
    cr_assert_eq(memcmp(got, blob, len), 0);
    cr_assert_eq(kv_snapshot_save_mem(t, &b, &blen), 0);
    cr_assert_eq(alen, blen);
    cr_assert_eq(memcmp(a, b, alen), 0, "a reloaded store writes the same bytes");
    /* From the tail alone, as a received file is read before it loads. */
    size_t tail = alen < KV_MEMBERSHIP_TAIL_BYTES ? alen : KV_MEMBERSHIP_TAIL_BYTES;
    cr_assert_eq(kv_snapshot_tail_membership(a + alen - tail, tail, &got, &len), 0);
    cr_assert_eq(len, sizeof blob);
    cr_assert_eq(memcmp(got, blob, len), 0);
    /* A tail cut too short to hold the section finds nothing. */
    cr_assert_eq(kv_snapshot_tail_membership(a + alen - 40, 40, &got, &len), KV_ERR_NOT_FOUND);
    free(a);
    free(b);
    kv_store_free(s);
    kv_store_free(t);
}

Test(kv_member_snap, a_snapshot_without_one_loads_with_none_and_its_tail_finds_none)
{
    kv_store *s = store_with_keys();
    uint8_t *a;
    size_t alen;
    cr_assert_eq(kv_snapshot_save_mem(s, &a, &alen), 0);
    kv_store *t = reload(a, alen);
    uint32_t len = 1;
    cr_assert_null(kv_store_membership(t, &len));
    cr_assert_eq(len, 0);
    const uint8_t *got;
    cr_assert_eq(kv_snapshot_tail_membership(a, alen, &got, &len), KV_ERR_NOT_FOUND);
    free(a);
    kv_store_free(s);
    kv_store_free(t);
}

Test(kv_member_snap, it_is_replaced_cleared_and_bounded)
{
    kv_store *s = kv_store_new(NULL);
    cr_assert_eq(kv_store_set_membership(s, K("first")), 0);
    cr_assert_eq(kv_store_set_membership(s, K("second one")), 0);
    uint32_t len;
    const uint8_t *got = kv_store_membership(s, &len);
    cr_assert_eq(len, 10);
    cr_assert_eq(memcmp(got, "second one", 10), 0);
    uint8_t *big = calloc(1, KV_MEMBERSHIP_BYTES_MAX + 1);
    cr_assert_eq(kv_store_set_membership(s, big, KV_MEMBERSHIP_BYTES_MAX + 1),
                 KV_ERR_INVALID_ARGUMENT);
    got = kv_store_membership(s, &len);
    cr_assert_eq(len, 10, "a refused one leaves the old");
    cr_assert_eq(kv_store_set_membership(s, big, KV_MEMBERSHIP_BYTES_MAX), 0);
    cr_assert_eq(kv_store_set_membership(s, NULL, 0), 0);
    cr_assert_null(kv_store_membership(s, &len));
    free(big);
    kv_store_free(s);
}

Test(kv_member_snap, a_section_that_lies_about_its_length_is_corrupt)
{
    kv_store *s = store_with_keys();
    cr_assert_eq(kv_store_set_membership(s, K("members")), 0);
    uint8_t *a;
    size_t alen;
    cr_assert_eq(kv_snapshot_save_mem(s, &a, &alen), 0);
    /* The section's trailing length (4 bytes before the 12-byte trailer) says 6, not 7: the
       file's checksum is made to match, so only the section's own check can catch it. */
    uint8_t *len_at = a + alen - 12 - 4;
    cr_assert_eq(len_at[0], 7);
    len_at[0] = 6;
    uint32_t crc = crc32c(a, alen - 12);
    for (int i = 0; i < 4; i++)
        a[alen - 12 + i] = (uint8_t)(crc >> (8 * i));
    kv_store *t = NULL;
    char err[256] = "";
    int rc = kv_snapshot_load_mem(a, alen, "mem", NULL, &t, err, sizeof err);
    cr_assert_eq(rc, KV_ERR_CORRUPT);
    cr_assert_not_null(strstr(err, "lengths differ"), "%s", err);
    cr_assert_null(t);
    free(a);
    kv_store_free(s);
}
