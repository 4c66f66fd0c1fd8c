/* server_entry.c: frames log entries and hands their commands to the KV state machine. */
#include "server_entry.h"

#include "kv_err.h"

#include <assert.h>

int server_entry_encode(tp_buf *out, int64_t timestamp_us, const KvCommand *cmd)
{
    tp_buf_reset(out);
    tp_write_i64(out, timestamp_us);
    int rc = KvCommand_write(cmd, out);
    if (rc == 0 && out->failed)
        rc = TP_ERR_NOMEM;
    assert(rc != 0 || out->len > SERVER_ENTRY_HEADER_SIZE);
    return rc;
}

int server_code_from_kv(int kv_code)
{
    if (kv_code >= 0 && kv_code < KV_ERR_IO && ErrorCode_name(kv_code))
        return kv_code;
    return ErrorCode_INTERNAL;
}

int server_entry_apply(kv_sm *sm, uint64_t index, const uint8_t *data, size_t len,
                       struct server_apply_result *out)
{
    assert(index > kv_sm_applied_version(sm));
    *out = (struct server_apply_result){.version = index};
    if (len < SERVER_ENTRY_HEADER_SIZE)
        return -1;
    tp_reader r;
    tp_reader_init(&r, data, SERVER_ENTRY_HEADER_SIZE, NULL);
    int64_t ts;
    int rc = tp_read_i64(&r, &ts);
    assert(rc == 0);
    (void)rc;
    struct kv_sm_result res;
    kv_sm_apply_bytes(sm, data + SERVER_ENTRY_HEADER_SIZE, len - SERVER_ENTRY_HEADER_SIZE, index,
                      ts, &res);
    assert(res.version == index);
    out->code = server_code_from_kv(res.error);
    out->found = res.found;
    out->version = res.committed_version;
    out->duplicate = res.duplicate;
    return 0;
}
