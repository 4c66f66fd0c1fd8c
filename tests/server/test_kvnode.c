/* test_kvnode.c: a real kvnode process: the client API, protocol errors, restarts, signals. */
#include "node_proc.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static tp_buf call_buf;

/* Encodes one call of method with a seqid; returns the bytes in call_buf. */
#define ENCODE(method, seq, req)                                                 \
    do {                                                                         \
        tp_buf_reset(&call_buf);                                                 \
        cr_assert_eq(TransactionalKV_##method##_send(&call_buf, seq, req), 0);   \
    } while (0)

static void recv_header(struct net_client *c, tp_message *m, tp_reader *r)
{
    const uint8_t *msg;
    size_t len;
    int rc = net_client_recv(c, &msg, &len);
    cr_assert_eq(rc, NET_OK, "recv: %s", net_strerror(rc));
    tp_reader_init(r, msg, len, NULL);
    cr_assert_eq(tp_read_message_begin(r, m), 0);
}

Test(kvnode, sets_gets_deletes_and_ranges_framed_and_unframed)
{
    struct node_proc p;
    node_start(&p, "");
    for (int framed = 0; framed < 2; framed++) {
        struct net_client c;
        node_connect(&p, &c, framed);
        SetResponse s;
        char key[16], value[64];
        for (int i = 0; i < 5; i++) {
            snprintf(key, sizeof key, "k%d-%d", framed, i);
            node_set(&c, key, key, &s);
            cr_assert(s.success);
            cr_assert(s.has_version);
            SetResponse_free(&s);
        }
        cr_assert(node_get(&c, "k0-3", value, sizeof value) == (framed == 0 || true));
        cr_assert_str_eq(value, "k0-3");
        cr_assert_not(node_get(&c, "missing", value, sizeof value));
        net_client_close(&c);
    }
    struct net_client c;
    node_connect(&p, &c, true);
    GetRangeRequest gr;
    GetRangeRequest_init(&gr);
    tp_bytes_set_str(&gr.begin_key, "k1-");
    gr.has_end_key = true;
    tp_bytes_set_str(&gr.end_key, "k1-9");
    gr.has_limit = true;
    gr.limit = 3;
    ENCODE(getRange, 7, &gr);
    cr_assert_eq(net_client_send(&c, call_buf.data, call_buf.len), NET_OK);
    tp_message m;
    tp_reader r;
    recv_header(&c, &m, &r);
    TransactionalKV_getRange_result res;
    TransactionalKV_getRange_result_init(&res);
    tp_reader_init(&r, c.buf + 4, c.used - 4, NULL);
    tp_app_exception ax;
    tp_app_exception_init(&ax);
    cr_assert_eq(TransactionalKV_getRange_recv(&r, 7, &res, &ax), 0);
    cr_assert(res.success.success);
    cr_assert_eq(res.success.key_values.count, 3);
    cr_assert(res.success.has_more);
    cr_assert_eq(memcmp(res.success.key_values.items[0].key.data, "k1-0", 4), 0);
    TransactionalKV_getRange_result_free(&res);
    GetRangeRequest_free(&gr);
    net_client_close(&c);
    cr_assert_eq(node_stop(&p, SIGTERM), 0, "SIGTERM is a clean stop");
    node_cleanup(&p);
}

static int64_t read_version(struct net_client *c)
{
    GetReadVersionRequest q;
    GetReadVersionRequest_init(&q);
    ENCODE(getReadVersion, 1, &q);
    cr_assert_eq(net_client_send(c, call_buf.data, call_buf.len), NET_OK);
    tp_message m;
    tp_reader r;
    recv_header(c, &m, &r);
    tp_reader_init(&r, c->buf + 4, c->used - 4, NULL);
    TransactionalKV_getReadVersion_result res;
    TransactionalKV_getReadVersion_result_init(&res);
    tp_app_exception ax;
    tp_app_exception_init(&ax);
    cr_assert_eq(TransactionalKV_getReadVersion_recv(&r, 1, &res, &ax), 0);
    return res.success.version;
}

static AtomicCommitResponse commit(struct net_client *c, int64_t rv, const char *key,
                                   const char *conflict)
{
    AtomicCommitRequest q;
    AtomicCommitRequest_init(&q);
    q.read_version = rv;
    q.operations.items = calloc(1, sizeof *q.operations.items);
    q.operations.count = 1;
    Operation_init(&q.operations.items[0]);
    q.operations.items[0].type = OperationType_SET;
    tp_bytes_set_str(&q.operations.items[0].key, key);
    q.operations.items[0].has_value = true;
    tp_bytes_set_str(&q.operations.items[0].value, "txn");
    q.has_read_conflict_keys = true;
    q.read_conflict_keys.items = calloc(1, sizeof *q.read_conflict_keys.items);
    q.read_conflict_keys.count = 1;
    tp_bytes_set_str(&q.read_conflict_keys.items[0], conflict);
    ENCODE(atomicCommit, 2, &q);
    AtomicCommitRequest_free(&q);
    cr_assert_eq(net_client_send(c, call_buf.data, call_buf.len), NET_OK);
    tp_message m;
    tp_reader r;
    recv_header(c, &m, &r);
    tp_reader_init(&r, c->buf + 4, c->used - 4, NULL);
    TransactionalKV_atomicCommit_result res;
    TransactionalKV_atomicCommit_result_init(&res);
    tp_app_exception ax;
    tp_app_exception_init(&ax);
    cr_assert_eq(TransactionalKV_atomicCommit_recv(&r, 2, &res, &ax), 0);
    return res.success;
}

Test(kvnode, a_commit_fails_with_conflict_when_a_read_key_changed)
{
    struct node_proc p;
    node_start(&p, "");
    struct net_client c;
    node_connect(&p, &c, true);
    SetResponse s;
    node_set(&c, "watched", "1", &s);
    int64_t rv = read_version(&c);
    cr_assert_eq(rv, s.version);
    AtomicCommitResponse ok = commit(&c, rv, "a", "watched");
    cr_assert(ok.success);
    cr_assert_eq(ok.committed_version, rv + 1);
    node_set(&c, "watched", "2", &s);
    AtomicCommitResponse bad = commit(&c, rv, "b", "watched");
    cr_assert_not(bad.success);
    cr_assert(bad.has_error_code);
    cr_assert_eq(bad.error_code, ErrorCode_CONFLICT);
    AtomicCommitResponse_free(&bad);
    AtomicCommitResponse future = commit(&c, rv + 1000, "b", "watched");
    cr_assert_eq(future.error_code, ErrorCode_FUTURE_VERSION);
    AtomicCommitResponse_free(&future);
    char v[16];
    cr_assert_not(node_get(&c, "b", v, sizeof v), "a failed commit writes nothing");
    net_client_close(&c);
    node_cleanup(&p);
}

Test(kvnode, pipelined_calls_are_answered_in_order)
{
    struct node_proc p;
    node_start(&p, "");
    struct net_client c;
    node_connect(&p, &c, true);
    tp_buf all;
    tp_buf_init(&all);
    enum { N = 200 };
    for (int i = 0; i < N; i++) {
        if (i % 2) {
            GetRequest q;
            GetRequest_init(&q);
            tp_bytes_set_str(&q.key, "p");
            ENCODE(get, i, &q);
            GetRequest_free(&q);
        } else {
            SetRequest q;
            SetRequest_init(&q);
            tp_bytes_set_str(&q.key, "p");
            tp_bytes_set_str(&q.value, "v");
            ENCODE(setKey, i, &q);
            SetRequest_free(&q);
        }
        uint8_t hdr[4];
        tp_frame_put_len(hdr, (uint32_t)call_buf.len);
        tp_buf_reserve(&all, 4 + call_buf.len);
        memcpy(all.data + all.len, hdr, 4);
        memcpy(all.data + all.len + 4, call_buf.data, call_buf.len);
        all.len += 4 + call_buf.len;
    }
    c.framed = false;   /* the frames are already in the buffer */
    cr_assert_eq(net_client_send(&c, all.data, all.len), NET_OK);
    c.framed = true;
    for (int i = 0; i < N; i++) {
        tp_message m;
        tp_reader r;
        recv_header(&c, &m, &r);
        cr_assert_eq(m.seqid, i, "reply %d came with seqid %d", i, m.seqid);
        cr_assert_eq(m.type, TP_REPLY);
    }
    tp_buf_free(&all);
    net_client_close(&c);
    node_cleanup(&p);
}

Test(kvnode, unknown_methods_and_peer_calls_are_refused_by_the_rules)
{
    struct node_proc p;
    node_start(&p, "");
    struct net_client c;
    node_connect(&p, &c, true);
    tp_buf_reset(&call_buf);
    tp_write_message_begin(&call_buf, "noSuchMethod", 12, TP_CALL, 4242);
    tp_write_field_stop(&call_buf);
    cr_assert_eq(net_client_send(&c, call_buf.data, call_buf.len), NET_OK);
    tp_message m;
    tp_reader r;
    recv_header(&c, &m, &r);
    cr_assert_eq(m.type, TP_EXCEPTION);
    cr_assert_eq(m.seqid, 4242);
    cr_assert_eq(m.name_len, 12);
    cr_assert_eq(memcmp(m.name, "noSuchMethod", 12), 0);
    tp_app_exception ax;
    tp_app_exception_init(&ax);
    cr_assert_eq(tp_app_exception_read(&ax, &r), 0);
    cr_assert_eq(ax.type, TP_APPEX_UNKNOWN_METHOD);
    tp_app_exception_free(&ax);

    RequestVoteRequest rv;
    RequestVoteRequest_init(&rv);
    tp_bytes_set_str(&rv.candidate_id, "intruder");
    ENCODE(requestVote, 5, &rv);
    RequestVoteRequest_free(&rv);
    cr_assert_eq(net_client_send(&c, call_buf.data, call_buf.len), NET_OK, "still connected");
    recv_header(&c, &m, &r);
    tp_reader_init(&r, c.buf + 4, c.used - 4, NULL);
    TransactionalKV_requestVote_result res;
    TransactionalKV_requestVote_result_init(&res);
    cr_assert_eq(TransactionalKV_requestVote_recv(&r, 5, &res, &ax), 0);
    cr_assert(res.has_error);
    cr_assert_eq(res.error.code, ErrorCode_UNAUTHORIZED);
    TransactionalKV_requestVote_result_free(&res);
    net_client_close(&c);
    node_cleanup(&p);
}

Test(kvnode, a_malformed_call_gets_protocol_error_then_close)
{
    struct node_proc p;
    node_start(&p, "");
    struct net_client c;
    node_connect(&p, &c, true);
    /* setKey whose request field is a struct holding a key of the wrong type (i32) */
    tp_buf_reset(&call_buf);
    tp_write_message_begin(&call_buf, "setKey", 6, TP_CALL, 9);
    tp_write_field_begin(&call_buf, TP_T_STRUCT, 1);
    tp_write_field_begin(&call_buf, TP_T_I32, 1);
    tp_write_i32(&call_buf, 1);
    tp_write_field_stop(&call_buf);
    tp_write_field_stop(&call_buf);
    cr_assert_eq(net_client_send(&c, call_buf.data, call_buf.len), NET_OK);
    tp_message m;
    tp_reader r;
    recv_header(&c, &m, &r);
    cr_assert_eq(m.type, TP_EXCEPTION);
    cr_assert_eq(m.seqid, 9);
    tp_app_exception ax;
    tp_app_exception_init(&ax);
    cr_assert_eq(tp_app_exception_read(&ax, &r), 0);
    cr_assert_eq(ax.type, TP_APPEX_PROTOCOL_ERROR);
    tp_app_exception_free(&ax);
    const uint8_t *msg;
    size_t len;
    cr_assert_eq(net_client_recv(&c, &msg, &len), NET_ERR_CLOSED);
    net_client_close(&c);
    node_cleanup(&p);
}

Test(kvnode, kill_9_then_restart_keeps_every_acknowledged_write)
{
    struct node_proc p;
    node_start(&p, "");
    struct net_client c;
    node_connect(&p, &c, true);
    enum { N = 300 };
    char key[32], value[32];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "durable-%04d", i);
        SetResponse s;
        node_set(&c, key, key, &s);
        cr_assert(s.success);
        SetResponse_free(&s);
    }
    NodeInfo before;
    node_info(&c, &before);
    net_client_close(&c);
    cr_assert_eq(node_stop(&p, SIGKILL), 128 + SIGKILL);
    node_restart(&p);
    node_connect(&p, &c, true);
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "durable-%04d", i);
        cr_assert(node_get(&c, key, value, sizeof value), "lost %s", key);
        cr_assert_str_eq(value, key);
    }
    NodeInfo after;
    node_info(&c, &after);
    cr_assert_eq(after.status.applied_index, before.status.applied_index);
    cr_assert(tp_bytes_equal(&after.status.state_digest, &before.status.state_digest));
    cr_assert_eq(after.keys, N);
    NodeInfo_free(&before);
    NodeInfo_free(&after);
    net_client_close(&c);
    node_cleanup(&p);
}

Test(kvnode, config_errors_exit_2_and_name_the_key)
{
    char dir[] = "/tmp/kvnode-cfg-XXXXXX";
    cr_assert(mkdtemp(dir));
    char path[128], err[2048];
    snprintf(path, sizeof path, "%s/bad.json", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "{\"listen\": \"127.0.0.1:1\",\n \"data_dir\": \"%s/d\",\n \"limits\": {\"max_conections\": 5}}\n", dir);
    fclose(f);
    const char *args[] = {"--config", path, NULL};
    cr_assert_eq(node_run_once(args, err, sizeof err), 2);
    cr_assert(strstr(err, "bad.json:3: key 'limits.max_conections': unknown key"), "%s", err);
    const char *missing[] = {"--config", "/nonexistent.json", NULL};
    cr_assert_eq(node_run_once(missing, err, sizeof err), 2);
    cr_assert(strstr(err, "/nonexistent.json"), "%s", err);
    const char *none[] = {NULL};
    cr_assert_eq(node_run_once(none, err, sizeof err), 2);
    const char *version[] = {"--version", NULL};
    cr_assert_eq(node_run_once(version, err, sizeof err), 0);
    cr_assert(strstr(err, "kvnode 0.1.0"), "%s", err);
    unlink(path);
    rmdir(dir);
}
