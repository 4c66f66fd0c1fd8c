/* test_kvstore_gen.c: the code generated from idl/kvstore.thrift round-trips its messages. */
#include <criterion/criterion.h>
#include <string.h>

#include "kvstore.h"

static void fill_commit(AtomicCommitRequest *req)
{
    AtomicCommitRequest_init(req);
    req->read_version = 42;
    req->operations.count = 2;
    req->operations.items = calloc(2, sizeof *req->operations.items);
    cr_assert_not_null(req->operations.items);
    Operation_init(&req->operations.items[0]);
    Operation_init(&req->operations.items[1]);
    req->operations.items[0].type = OperationType_SET;
    cr_assert_eq(tp_bytes_set_str(&req->operations.items[0].key, "k1"), 0);
    cr_assert_eq(tp_bytes_set(&req->operations.items[0].value, "\0v\0", 3), 0);
    req->operations.items[0].has_value = true;
    req->operations.items[1].type = OperationType_CLEAR_RANGE;
    cr_assert_eq(tp_bytes_set_str(&req->operations.items[1].key, "a"), 0);
    cr_assert_eq(tp_bytes_set_str(&req->operations.items[1].end_key, "b"), 0);
    req->operations.items[1].has_end_key = true;
    req->has_read_conflict_keys = true;
    req->read_conflict_keys.count = 1;
    req->read_conflict_keys.items = calloc(1, sizeof(tp_bytes));
    cr_assert_eq(tp_bytes_set_str(&req->read_conflict_keys.items[0], "k0"), 0);
}

Test(codegen_kvstore, atomic_commit_round_trip)
{
    AtomicCommitRequest in, out;
    fill_commit(&in);
    AtomicCommitRequest_init(&out);
    tp_buf b;
    tp_buf_init(&b);
    cr_assert_eq(AtomicCommitRequest_write(&in, &b), 0);
    tp_reader r;
    tp_reader_init(&r, b.data, b.len, NULL);
    cr_assert_eq(AtomicCommitRequest_read(&out, &r), 0);
    cr_assert_eq(tp_reader_remaining(&r), 0);
    cr_assert(AtomicCommitRequest_equal(&in, &out));
    cr_assert_eq(out.operations.items[0].value.len, 3);
    cr_assert_not(out.has_read_conflict_ranges);
    /* Every truncation is an error, and leaves nothing allocated (LSan checks). */
    for (size_t cut = 0; cut < b.len; cut++) {
        AtomicCommitRequest part;
        AtomicCommitRequest_init(&part);
        tp_reader_init(&r, b.data, cut, NULL);
        cr_assert_neq(AtomicCommitRequest_read(&part, &r), 0, "cut %zu", cut);
        AtomicCommitRequest_free(&part);
    }
    AtomicCommitRequest_free(&in);
    AtomicCommitRequest_free(&out);
    tp_buf_free(&b);
}

Test(codegen_kvstore, atomic_commit_round_trip_into_an_arena)
{
    AtomicCommitRequest in, heap, out;
    fill_commit(&in);
    AtomicCommitRequest_init(&heap);
    tp_buf b;
    tp_buf_init(&b);
    cr_assert_eq(AtomicCommitRequest_write(&in, &b), 0);
    tp_arena a;
    tp_arena_init(&a, b.len, TP_ARENA_LIMIT_DEFAULT);
    AtomicCommitRequest_init_arena(&out, &a);
    tp_reader r;
    tp_reader_init_arena(&r, b.data, b.len, NULL, &a);
    cr_assert_eq(AtomicCommitRequest_read(&out, &r), 0);
    cr_assert_eq(tp_reader_remaining(&r), 0);
    cr_assert(AtomicCommitRequest_equal(&in, &out));
    tp_reader_init(&r, b.data, b.len, NULL);
    cr_assert_eq(AtomicCommitRequest_read(&heap, &r), 0);
    cr_assert(AtomicCommitRequest_equal(&heap, &out));
    cr_assert_eq(out.operations.items[0].value.len, 3);
    cr_assert_eq(out.operations.items[0].value.data[3], 0);
    cr_assert_not(out.has_read_conflict_ranges);
    tp_arena_reset(&a);
    /* Every truncation is an error and leaves the struct empty; the arena frees it all. */
    for (size_t cut = 0; cut < b.len; cut++) {
        AtomicCommitRequest part;
        AtomicCommitRequest_init_arena(&part, &a);
        tp_reader_init_arena(&r, b.data, cut, NULL, &a);
        cr_assert_neq(AtomicCommitRequest_read(&part, &r), 0, "cut %zu", cut);
        cr_assert_null(part.operations.items, "cut %zu", cut);
        tp_arena_reset(&a);
    }
    tp_arena_free(&a);
    AtomicCommitRequest_free(&in);
    AtomicCommitRequest_free(&heap);
    tp_buf_free(&b);
}

Test(codegen_kvstore, defaults_and_union)
{
    GetRangeRequest g;
    GetRangeRequest_init(&g);
    cr_assert_eq(g.consistency, Consistency_LINEARIZABLE);
    cr_assert_not(g.has_limit);
    cr_assert_str_eq(ErrorCode_name(ErrorCode_NOT_LEADER), "NOT_LEADER");
    cr_assert_null(ErrorCode_name(99));

    KvCommand cmd, back;
    KvCommand_init(&cmd);
    KvCommand_init(&back);
    tp_buf b;
    tp_buf_init(&b);
    cr_assert_eq(KvCommand_write(&cmd, &b), TP_ERR_UNION);
    cmd.has_noop = true;
    tp_buf_reset(&b);
    cr_assert_eq(KvCommand_write(&cmd, &b), 0);
    tp_reader r;
    tp_reader_init(&r, b.data, b.len, NULL);
    cr_assert_eq(KvCommand_read(&back, &r), 0);
    cr_assert(back.has_noop);
    cr_assert(KvCommand_equal(&cmd, &back));
    KvCommand_free(&back);
    tp_buf_free(&b);
}

Test(codegen_kvstore, client_call_server_dispatch_reply)
{
    tp_buf b;
    tp_buf_init(&b);
    GetRequest req;
    GetRequest_init(&req);
    cr_assert_eq(tp_bytes_set_str(&req.key, "hello"), 0);
    cr_assert_eq(TransactionalKV_get_send(&b, 7, &req), 0);

    /* Server side: header, table lookup, args, handler, reply. */
    tp_reader r;
    tp_message m;
    tp_reader_init(&r, b.data, b.len, NULL);
    cr_assert_eq(tp_read_message_begin(&r, &m), 0);
    cr_assert_eq(m.type, TP_CALL);
    const tp_method *method = TransactionalKV_method_find(m.name, m.name_len);
    cr_assert_not_null(method);
    cr_assert_eq(method->id, TransactionalKV_METHOD_get);
    cr_assert_null(TransactionalKV_method_find("gex", 3));
    void *args = malloc(method->args_size);
    method->args_init(args);
    cr_assert_eq(method->args_read(args, &r), 0);
    TransactionalKV_get_args *ga = args;
    cr_assert_str_eq((char *)ga->request.key.data, "hello");
    TransactionalKV_get_result res;
    TransactionalKV_get_result_init(&res);
    res.has_success = true;
    res.success.found = true;
    res.success.success = true;
    res.success.has_value = true;
    cr_assert_eq(tp_bytes_set_str(&res.success.value, "world"), 0);
    tp_buf reply;
    tp_buf_init(&reply);
    cr_assert_eq(tp_write_reply(&reply, method, m.seqid, &res), 0);
    method->args_free(args);
    free(args);

    /* Client side. */
    TransactionalKV_get_result got;
    TransactionalKV_get_result_init(&got);
    tp_app_exception appex;
    tp_app_exception_init(&appex);
    tp_reader_init(&r, reply.data, reply.len, NULL);
    cr_assert_eq(TransactionalKV_get_recv(&r, 7, &got, &appex), 0);
    cr_assert(TransactionalKV_get_result_equal(&res, &got));
    tp_reader_init(&r, reply.data, reply.len, NULL);
    cr_assert_eq(TransactionalKV_get_recv(&r, 8, &got, &appex), TP_ERR_WRONG_SEQID);
    tp_reader_init(&r, reply.data, reply.len, NULL);
    cr_assert_eq(TransactionalKV_ping_recv(&r, 7, NULL, &appex), TP_ERR_WRONG_METHOD);

    TransactionalKV_get_result_free(&res);
    TransactionalKV_get_result_free(&got);
    GetRequest_free(&req);
    tp_buf_free(&b);
    tp_buf_free(&reply);
}
