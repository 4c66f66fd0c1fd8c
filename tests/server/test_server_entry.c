/* test_server_entry.c: log entry framing and its application through the KV state machine. */
#include "server_entry.h"

#include <criterion/criterion.h>
#include <string.h>

static tp_buf buf;

static void encode_set(int64_t ts, const char *key, const char *value)
{
    KvCommand cmd;
    KvCommand_init(&cmd);
    cmd.has_set_key = true;
    tp_bytes_set_str(&cmd.set_key.key, key);
    tp_bytes_set_str(&cmd.set_key.value, value);
    cr_assert_eq(server_entry_encode(&buf, ts, &cmd), 0);
    KvCommand_free(&cmd);
}

Test(server_entry, the_clock_header_is_8_big_endian_bytes_and_moves_the_store_clock)
{
    kv_sm *sm = kv_sm_new(NULL);
    tp_buf_init(&buf);
    encode_set(0x0102030405060708, "k", "v");
    const uint8_t want[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    cr_assert_eq(memcmp(buf.data, want, 8), 0);
    struct server_apply_result res;
    cr_assert_eq(server_entry_apply(sm, 1, buf.data, buf.len, &res), 0);
    cr_assert_eq(res.code, 0);
    cr_assert_eq(res.version, 1);
    cr_assert_eq(kv_sm_applied_version(sm), 1);
    cr_assert_eq(kv_store_applied_timestamp_us(kv_sm_store(sm)), 0x0102030405060708);
    struct kv_read rd;
    cr_assert_eq(kv_store_get(kv_sm_store(sm), (const uint8_t *)"k", 1, 1, &rd), 0);
    cr_assert_eq(rd.value_len, 1);
    tp_buf_free(&buf);
    kv_sm_free(sm);
}

Test(server_entry, an_entry_shorter_than_its_header_is_corrupt_and_applies_nothing)
{
    kv_sm *sm = kv_sm_new(NULL);
    const uint8_t short_entry[7] = {0};
    struct server_apply_result res;
    cr_assert_eq(server_entry_apply(sm, 1, short_entry, sizeof short_entry, &res), -1);
    cr_assert_eq(kv_sm_applied_version(sm), 0);
    kv_sm_free(sm);
}

Test(server_entry, a_failing_command_reports_its_code_and_still_takes_its_version)
{
    struct kv_config kc;
    kv_config_default(&kc);
    kc.key_max = 4;
    kv_sm *sm = kv_sm_new(&kc);
    tp_buf_init(&buf);
    encode_set(1, "too-long-key", "v");
    struct server_apply_result res;
    cr_assert_eq(server_entry_apply(sm, 1, buf.data, buf.len, &res), 0);
    cr_assert_eq(res.code, ErrorCode_KEY_TOO_LARGE);
    cr_assert_eq(kv_sm_applied_version(sm), 1);
    tp_buf_free(&buf);
    kv_sm_free(sm);
}

Test(server_entry, local_kv_codes_reach_clients_as_internal)
{
    cr_assert_eq(server_code_from_kv(KV_OK), ErrorCode_OK);
    cr_assert_eq(server_code_from_kv(KV_ERR_CONFLICT), ErrorCode_CONFLICT);
    cr_assert_eq(server_code_from_kv(KV_ERR_TRANSACTION_TOO_OLD), ErrorCode_TRANSACTION_TOO_OLD);
    cr_assert_eq(server_code_from_kv(KV_ERR_INTERNAL), ErrorCode_INTERNAL);
    cr_assert_eq(server_code_from_kv(KV_ERR_SESSION_EXPIRED), ErrorCode_SESSION_EXPIRED);
    for (int c = 100; c <= 103; c++)
        cr_assert_eq(server_code_from_kv(c), ErrorCode_INTERNAL, "kv code %d", c);
    cr_assert_eq(server_code_from_kv(-1), ErrorCode_INTERNAL);
    cr_assert_eq(server_code_from_kv(50), ErrorCode_INTERNAL, "not an ErrorCode");
}
