/* test_call.c: send a call, receive and check its reply, say what failed and where. */
#include "test_call.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* Adapters from the generated functions' own types to test_method's. */
#define TEST_METHOD_ADAPT_(m)                                                                \
    static int m##_send_(tp_buf *b, int32_t seqid, const void *request)                     \
    {                                                                                        \
        return TransactionalKV_##m##_send(b, seqid, request);                                \
    }                                                                                        \
    static int m##_recv_(tp_reader *r, int32_t seqid, void *result, tp_app_exception *ax)    \
    {                                                                                        \
        return TransactionalKV_##m##_recv(r, seqid, result, ax);                             \
    }                                                                                        \
    static void m##_init_(void *result) { TransactionalKV_##m##_result_init(result); }      \
    static void m##_free_(void *result) { TransactionalKV_##m##_result_free(result); }
#define TEST_METHOD_CODED_(m)                                                                \
    TEST_METHOD_ADAPT_(m)                                                                    \
    static int m##_code_(const void *result)                                                 \
    {                                                                                        \
        const TransactionalKV_##m##_result *r = result;                                      \
        return r->success.has_error_code ? (int)r->success.error_code : 0;                   \
    }                                                                                        \
    const struct test_method test_method_##m = {#m, m##_send_, m##_recv_, m##_init_,        \
                                                m##_free_, m##_code_};
#define TEST_METHOD_PLAIN_(m)                                                                \
    TEST_METHOD_ADAPT_(m)                                                                    \
    const struct test_method test_method_##m = {#m, m##_send_, m##_recv_, m##_init_,        \
                                                m##_free_, NULL};
TEST_METHODS_CODED(TEST_METHOD_CODED_)
TEST_METHODS_PLAIN(TEST_METHOD_PLAIN_)
#undef TEST_METHOD_CODED_
#undef TEST_METHOD_PLAIN_
#undef TEST_METHOD_ADAPT_

static int32_t next_seqid = 1;

int32_t test_seqid(void)
{
    return next_seqid++;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The node at the other end of c, as HOST:PORT. */
static void peer_name(const struct net_client *c, char *out, size_t size)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    if (c->fd < 0 || getpeername(c->fd, (struct sockaddr *)&a, &len) != 0 ||
        a.sin_family != AF_INET) {
        snprintf(out, size, "fd %d", c->fd);
        return;
    }
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a.sin_addr, host, sizeof host);
    snprintf(out, size, "%s:%u", host, (unsigned)ntohs(a.sin_port));
}

__attribute__((format(printf, 5, 6))) static int fail(const struct net_client *c,
                                                      const struct test_method *m,
                                                      int32_t seqid,
                                                      struct test_call_error *err,
                                                      const char *fmt, ...)
{
    if (!err)
        return -1;
    char node[64], why[160];
    peer_name(c, node, sizeof node);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(err->text, sizeof err->text, "%s to %s (seqid %d): %s", m->name, node,
             (int)seqid, why);
    return -1;
}

int test_send(struct net_client *c, const struct test_method *m, int32_t seqid,
              const void *request, struct test_call_error *err)
{
    if (!c || c->fd < 0) {
        if (err)
            snprintf(err->text, sizeof err->text, "%s (seqid %d): not connected", m->name,
                     (int)seqid);
        return -1;
    }
    tp_buf b;
    tp_buf_init(&b);
    int rc = m->send(&b, seqid, request);
    int sent = rc == 0 ? net_client_send(c, b.data, b.len) : NET_OK;
    tp_buf_free(&b);
    if (rc != 0)
        return fail(c, m, seqid, err, "encode: %s", tp_strerror(rc));
    if (sent != NET_OK)
        return fail(c, m, seqid, err, "send: %s", net_strerror(sent));
    return 0;
}

/* Names what the reply's header says that the generated recv refused. */
static int header_mismatch(const struct net_client *c, const struct test_method *m,
                           int32_t seqid, const uint8_t *msg, size_t len,
                           struct test_call_error *err)
{
    tp_reader r;
    tp_reader_init(&r, msg, len, NULL);
    tp_message h;
    int rc = tp_read_message_begin(&r, &h);
    if (rc != 0)
        return fail(c, m, seqid, err, "reply header: %s", tp_strerror(rc));
    if (h.name_len != strlen(m->name) || memcmp(h.name, m->name, h.name_len) != 0)
        return fail(c, m, seqid, err, "the reply is for method '%.*s'", (int)h.name_len,
                    h.name);
    if (h.seqid != seqid)
        return fail(c, m, seqid, err, "the reply has seqid %d", (int)h.seqid);
    if (h.type != TP_REPLY && h.type != TP_EXCEPTION)
        return fail(c, m, seqid, err, "the reply has message type %u", (unsigned)h.type);
    return 0;
}

int test_recv(struct net_client *c, const struct test_method *m, int32_t seqid, void *result,
              struct test_call_error *err)
{
    m->result_init(result);
    if (!c || c->fd < 0) {
        if (err)
            snprintf(err->text, sizeof err->text, "%s (seqid %d): not connected", m->name,
                     (int)seqid);
        return -1;
    }
    const uint8_t *msg;
    size_t len;
    int rc = net_client_recv(c, &msg, &len);
    if (rc != NET_OK)
        return fail(c, m, seqid, err, "receive (within %d ms): %s", c->timeout_ms,
                    net_strerror(rc));
    tp_reader r;
    tp_reader_init(&r, msg, len, NULL);
    tp_app_exception ax;
    tp_app_exception_init(&ax);
    rc = m->recv(&r, seqid, result, &ax);
    if (rc != 0) {
        m->result_free(result);
        m->result_init(result);
        if (header_mismatch(c, m, seqid, msg, len, err) == 0)
            fail(c, m, seqid, err, "%s%s%.*s", tp_strerror(rc),
                 rc == TP_ERR_APP_EXCEPTION ? ": " : "",
                 rc == TP_ERR_APP_EXCEPTION ? (int)ax.message.len : 0,
                 ax.message.data ? (const char *)ax.message.data : "");
    }
    tp_app_exception_free(&ax);
    return rc == 0 ? 0 : -1;
}

int test_call(struct net_client *c, const struct test_method *m, int32_t seqid,
              const void *request, void *result, struct test_call_error *err)
{
    double start = now_s();
    if (test_send(c, m, seqid, request, err) != 0) {
        m->result_init(result);
        return -1;
    }
    /* One deadline for the whole call: what sending took comes off the wait for the reply. */
    int timeout_ms = c->timeout_ms;
    int left_ms = timeout_ms - (int)((now_s() - start) * 1000.0);
    c->timeout_ms = left_ms > 1 ? left_ms : 1;
    int rc = test_recv(c, m, seqid, result, err);
    c->timeout_ms = timeout_ms;
    return rc;
}

void test_send_ok(struct net_client *c, const struct test_method *m, int32_t seqid,
                  const void *request)
{
    struct test_call_error err;
    if (test_send(c, m, seqid, request, &err) != 0)
        cr_assert_fail("%s", err.text);
}

void test_recv_ok(struct net_client *c, const struct test_method *m, int32_t seqid,
                  void *result)
{
    struct test_call_error err;
    if (test_recv(c, m, seqid, result, &err) != 0)
        cr_assert_fail("%s", err.text);
}

void test_call_ok(struct net_client *c, const struct test_method *m, int32_t seqid,
                  const void *request, void *result)
{
    struct test_call_error err;
    if (test_call(c, m, seqid, request, result, &err) != 0)
        cr_assert_fail("%s", err.text);
}
