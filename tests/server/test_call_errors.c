/* test_call_errors.c: the request helper (test_call.h) against a fake node on a loopback
   socket: a good reply decodes; a reply to another seqid or method, an exception, and
   silence each fail naming the method, the node and the cause, within the deadline. */
#include "test_call.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct fake {
    int listen_fd, fd;
    char addr[32];
    struct net_client c;
};

static void fake_start(struct fake *f, int timeout_ms)
{
    f->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq(bind(f->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(f->listen_fd, 1), 0);
    cr_assert_eq(getsockname(f->listen_fd, (struct sockaddr *)&a, &len), 0);
    snprintf(f->addr, sizeof f->addr, "127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
    cr_assert_eq(net_client_connect(&f->c, f->addr, true, timeout_ms), NET_OK);
    f->fd = accept(f->listen_fd, NULL, NULL);
    cr_assert_geq(f->fd, 0);
}

static void fake_stop(struct fake *f)
{
    net_client_close(&f->c);
    close(f->fd);
    close(f->listen_fd);
}

/* The fake node answers with one framed message. */
static void fake_answer(struct fake *f, const tp_buf *msg)
{
    uint8_t head[4];
    tp_frame_put_len(head, (uint32_t)msg->len);
    cr_assert_eq(write(f->fd, head, 4), 4);
    cr_assert_eq(write(f->fd, msg->data, msg->len), (ssize_t)msg->len);
}

/* A getNodeInfo reply naming node "7", as method m (its id) with seqid. */
static void answer_info(struct fake *f, int method, int32_t seqid)
{
    TransactionalKV_getNodeInfo_result res;
    TransactionalKV_getNodeInfo_result_init(&res);
    res.has_success = true;
    tp_bytes_set_str(&res.success.node_id, "7");
    tp_buf b;
    tp_buf_init(&b);
    cr_assert_eq(tp_write_reply(&b, &TransactionalKV_methods[method], seqid, &res), 0);
    fake_answer(f, &b);
    tp_buf_free(&b);
    TransactionalKV_getNodeInfo_result_free(&res);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One getNodeInfo call with seqid 7 after answer ran: its rc; the error in err. */
static int call_info(struct fake *f, TransactionalKV_getNodeInfo_result *res,
                     struct test_call_error *err)
{
    GetNodeInfoRequest q;
    GetNodeInfoRequest_init(&q);
    return test_call(&f->c, TEST_METHOD(getNodeInfo), 7, &q, res, err);
}

static void expect_error(const struct test_call_error *err, const struct fake *f,
                         const char *cause)
{
    char head[96];
    snprintf(head, sizeof head, "getNodeInfo to %s (seqid 7): ", f->addr);
    cr_assert(strncmp(err->text, head, strlen(head)) == 0, "'%s' starts with '%s'", err->text,
              head);
    cr_assert(strstr(err->text, cause), "'%s' says '%s'", err->text, cause);
}

Test(test_call, a_good_reply_decodes)
{
    struct fake f;
    fake_start(&f, 5000);
    answer_info(&f, TransactionalKV_METHOD_getNodeInfo, 7);
    TransactionalKV_getNodeInfo_result res;
    struct test_call_error err;
    cr_assert_eq(call_info(&f, &res, &err), 0, "%s", err.text);
    cr_assert_str_eq((const char *)res.success.node_id.data, "7");
    TransactionalKV_getNodeInfo_result_free(&res);
    fake_stop(&f);
}

Test(test_call, a_reply_to_another_call_names_what_it_was)
{
    struct fake f;
    fake_start(&f, 5000);
    TransactionalKV_getNodeInfo_result res;
    struct test_call_error err;
    answer_info(&f, TransactionalKV_METHOD_getNodeInfo, 8);
    cr_assert_eq(call_info(&f, &res, &err), -1);
    expect_error(&err, &f, "the reply has seqid 8");
    TransactionalKV_getNodeInfo_result_free(&res);   /* safe after a failure */
    answer_info(&f, TransactionalKV_METHOD_ping, 7);
    cr_assert_eq(call_info(&f, &res, &err), -1);
    expect_error(&err, &f, "the reply is for method 'ping'");
    fake_stop(&f);
}

Test(test_call, an_exception_is_reported_with_its_text)
{
    struct fake f;
    fake_start(&f, 5000);
    tp_buf b;
    tp_buf_init(&b);
    cr_assert_eq(tp_write_app_exception(&b, "getNodeInfo", 11, 7, TP_APPEX_INTERNAL_ERROR,
                                        "the fake node gave up"), 0);
    fake_answer(&f, &b);
    tp_buf_free(&b);
    TransactionalKV_getNodeInfo_result res;
    struct test_call_error err;
    cr_assert_eq(call_info(&f, &res, &err), -1);
    expect_error(&err, &f, "the fake node gave up");
    fake_stop(&f);
}

Test(test_call, silence_fails_at_the_deadline)
{
    struct fake f;
    fake_start(&f, 300);
    TransactionalKV_getNodeInfo_result res;
    struct test_call_error err;
    double t0 = now_s();
    cr_assert_eq(call_info(&f, &res, &err), -1);
    double waited = now_s() - t0;
    expect_error(&err, &f, "receive (within ");
    cr_assert_geq(waited, 0.25, "gave up after %.3f s, before its deadline", waited);
    cr_assert_lt(waited, 10.0, "waited %.3f s for a 300 ms deadline", waited);
    cr_assert_eq(f.c.timeout_ms, 300, "the client's own timeout is left as it was");
    fake_stop(&f);
}
