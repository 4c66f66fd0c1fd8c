/* test_server_forward.c: a follower's forwarded call is built from the log entry's bytes; it
   must equal, byte for byte, what the generated client _send writes for the same request. */
#include "server_entry.h"
#include "server_forward.h"
#include "test_seed.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng;

static uint32_t next(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng >> 33);
}

static void random_bytes(tp_bytes *b, uint32_t max)
{
    uint32_t len = next() % (max + 1);
    uint8_t *data = malloc(len + 1);
    cr_assert(data);
    for (uint32_t i = 0; i < len; i++)
        data[i] = (uint8_t)next();
    cr_assert_eq(tp_bytes_set(b, data, len), 0);
    free(data);
}

/* A random client write as a KvCommand; *method is the call it came from. */
static void random_command(KvCommand *cmd, int *method)
{
    KvCommand_init(cmd);
    switch (next() % 3) {
    case 0:
        cmd->has_set_key = true;
        random_bytes(&cmd->set_key.key, 40);
        random_bytes(&cmd->set_key.value, 300);
        *method = TransactionalKV_METHOD_setKey;
        break;
    case 1:
        cmd->has_delete_key = true;
        random_bytes(&cmd->delete_key.key, 40);
        *method = TransactionalKV_METHOD_deleteKey;
        break;
    default: {
        AtomicCommitRequest *a = &cmd->atomic_commit;
        cmd->has_atomic_commit = true;
        a->read_version = (int64_t)next();
        a->operations.count = 1 + next() % 4;
        a->operations.items = calloc(a->operations.count, sizeof *a->operations.items);
        cr_assert(a->operations.items);
        for (uint32_t i = 0; i < a->operations.count; i++) {
            Operation *op = &a->operations.items[i];
            Operation_init(op);
            op->type = (OperationType)(next() % 2);
            random_bytes(&op->key, 20);
            op->has_value = op->type == OperationType_SET;
            if (op->has_value)
                random_bytes(&op->value, 50);
        }
        if (next() % 2) {
            a->has_read_conflict_keys = true;
            a->read_conflict_keys.count = 1 + next() % 3;
            a->read_conflict_keys.items = calloc(a->read_conflict_keys.count, sizeof(tp_bytes));
            cr_assert(a->read_conflict_keys.items);
            for (uint32_t i = 0; i < a->read_conflict_keys.count; i++)
                random_bytes(&a->read_conflict_keys.items[i], 20);
        }
        *method = TransactionalKV_METHOD_atomicCommit;
        break;
    }
    }
}

static void generated_send(tp_buf *out, int method, int32_t seqid, const KvCommand *cmd)
{
    int rc = -1;
    if (method == TransactionalKV_METHOD_setKey)
        rc = TransactionalKV_setKey_send(out, seqid, &cmd->set_key);
    else if (method == TransactionalKV_METHOD_deleteKey)
        rc = TransactionalKV_deleteKey_send(out, seqid, &cmd->delete_key);
    else
        rc = TransactionalKV_atomicCommit_send(out, seqid, &cmd->atomic_commit);
    cr_assert_eq(rc, 0);
}

Test(server_forward, the_forwarded_call_is_the_generated_call_byte_for_byte)
{
    uint64_t seed = test_seed_for("server_forward");
    rng = seed;
    tp_buf entry, got, want;
    tp_buf_init(&entry);
    tp_buf_init(&got);
    tp_buf_init(&want);
    for (int i = 0; i < 500; i++) {
        KvCommand cmd;
        int method;
        random_command(&cmd, &method);
        int32_t seqid = (int32_t)(next() & 0x7fffffff);
        cr_assert_eq(server_entry_encode(&entry, (int64_t)next(), &cmd), 0);
        tp_buf_reset(&got);
        tp_buf_reset(&want);
        cr_assert_eq(server_forward_encode(&got, entry.data, entry.len, seqid), 0,
                     "seed %" PRIu64 ", command %d", seed, i);
        generated_send(&want, method, seqid, &cmd);
        cr_assert_eq(got.len, want.len, "seed %" PRIu64 ", command %d", seed, i);
        cr_assert_eq(memcmp(got.data, want.data, got.len), 0, "seed %" PRIu64 ", command %d",
                     seed, i);
        KvCommand_free(&cmd);
    }
    tp_buf_free(&entry);
    tp_buf_free(&got);
    tp_buf_free(&want);
}

Test(server_forward, entries_that_hold_no_client_write_are_not_forwarded)
{
    tp_buf entry, out;
    tp_buf_init(&entry);
    tp_buf_init(&out);
    KvCommand cmd;
    KvCommand_init(&cmd);
    cmd.has_noop = true;
    cr_assert_eq(server_entry_encode(&entry, 1, &cmd), 0);
    cr_assert_eq(server_forward_encode(&out, entry.data, entry.len, 1), -1);
    KvCommand_free(&cmd);
    KvCommand_init(&cmd);
    cmd.has_clear_range = true;
    tp_bytes_set_str(&cmd.clear_range.begin_key, "a");
    tp_bytes_set_str(&cmd.clear_range.end_key, "b");
    cr_assert_eq(server_entry_encode(&entry, 1, &cmd), 0);
    cr_assert_eq(server_forward_encode(&out, entry.data, entry.len, 1), -1);
    cr_assert_eq(server_forward_encode(&out, entry.data, 8, 1), -1, "a clock alone");
    KvCommand_free(&cmd);
    tp_buf_free(&entry);
    tp_buf_free(&out);
}

Test(server_forward, the_leaders_reply_is_read_for_the_method_the_entry_holds)
{
    tp_buf entry, reply;
    tp_buf_init(&entry);
    tp_buf_init(&reply);
    KvCommand cmd;
    KvCommand_init(&cmd);
    cmd.has_delete_key = true;
    tp_bytes_set_str(&cmd.delete_key.key, "k");
    cr_assert_eq(server_entry_encode(&entry, 1, &cmd), 0);
    TransactionalKV_deleteKey_result r;
    TransactionalKV_deleteKey_result_init(&r);
    r.has_success = true;
    r.success.success = true;
    r.success.has_version = true;
    r.success.version = 42;
    r.success.has_found = true;
    r.success.found = true;
    const tp_method *m = &TransactionalKV_methods[TransactionalKV_METHOD_deleteKey];
    cr_assert_eq(tp_write_reply(&reply, m, 7, &r), 0);
    struct server_apply_result res;
    cr_assert_eq(server_forward_decode(entry.data, entry.len, 7, reply.data, reply.len, &res), 0);
    cr_assert_eq(res.code, 0);
    cr_assert_eq(res.version, 42);
    cr_assert(res.found);
    TransactionalKV_deleteKey_result_free(&r);
    KvCommand_free(&cmd);
    tp_buf_free(&entry);
    tp_buf_free(&reply);
}
