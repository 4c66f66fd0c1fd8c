/* test_kvnode_watch.c: watches against a real kvnode: a change wakes them with its version and
   value, in order; past changes come at once; the MVCC window's edge, the timeout, the cut of
   a long answer, the limits, many on one connection, 1,000 at once in bounded memory. */
#include "node_proc.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Sends watch(key or [begin, end), after, timeout_ms); returns its seqid. end NULL: a key. */
static int32_t watch_send(struct net_client *c, const char *begin, const char *end,
                          int64_t after, int32_t timeout_ms)
{
    WatchRequest q;
    WatchRequest_init(&q);
    if (end == NULL) {
        q.has_key = true;
        tp_bytes_set_str(&q.key, begin);
    } else {
        q.has_range = true;
        tp_bytes_set_str(&q.range.begin_key, begin);
        q.range.has_end_key = end[0] != '\0';   /* "": to the end */
        tp_bytes_set_str(&q.range.end_key, end);
    }
    q.after_version = after;
    q.has_timeout_ms = true;
    q.timeout_ms = timeout_ms;
    int32_t seq = test_seqid();
    test_send_ok(c, TEST_METHOD(watch), seq, &q);
    WatchRequest_free(&q);
    return seq;
}

static void watch_recv(struct net_client *c, int32_t seq, WatchResponse *out)
{
    TransactionalKV_watch_result res;
    test_recv_ok(c, TEST_METHOD(watch), seq, &res);
    *out = res.success;   /* moved */
}

static bool readable(struct net_client *c, int ms)
{
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    return poll(&p, 1, ms) == 1;
}

static int64_t set(struct net_client *c, const char *key, const char *value)
{
    SetResponse s;
    node_set(c, key, value, &s);
    cr_assert(s.success);
    int64_t v = s.version;
    SetResponse_free(&s);
    return v;
}

static void expect_event(const WatchResponse *w, uint32_t i, int64_t version, const char *key,
                         const char *value)
{
    cr_assert_lt(i, w->events.count);
    const WatchEvent *e = &w->events.items[i];
    cr_assert_eq(e->version, version, "event %u", i);
    cr_assert_eq(e->key.len, strlen(key));
    cr_assert_eq(memcmp(e->key.data, key, e->key.len), 0);
    cr_assert_eq(e->has_value, value != NULL, "event %u: a value iff not a delete", i);
    if (value)
        cr_assert(e->value.len == strlen(value) && !memcmp(e->value.data, value, e->value.len));
}

Test(kvnode_watch, a_change_wakes_the_watch_with_its_version_and_value)
{
    struct node_proc p;
    node_start(&p, "");
    struct net_client w, c;
    node_connect(&p, &w, true);
    node_connect(&p, &c, true);
    int64_t v0 = set(&c, "k", "0");
    int32_t s = watch_send(&w, "k", NULL, v0, 4000);
    set(&c, "other", "x");   /* not k: the watch stays */
    cr_assert(!readable(&w, 200), "answered without a change of k");
    int64_t v1 = set(&c, "k", "1");
    WatchResponse r;
    watch_recv(&w, s, &r);
    cr_assert(r.success);
    cr_assert_eq(r.events.count, 1);
    expect_event(&r, 0, v1, "k", "1");
    cr_assert_eq(r.version, v1);
    WatchResponse_free(&r);
    /* A delete is an event without a value; a past change comes at once. */
    DeleteRequest d;
    DeleteRequest_init(&d);
    tp_bytes_set_str(&d.key, "k");
    TransactionalKV_deleteKey_result dr;
    test_call_ok(&c, TEST_METHOD(deleteKey), test_seqid(), &d, &dr);
    cr_assert(dr.success.success, "delete k");
    TransactionalKV_deleteKey_result_free(&dr);
    DeleteRequest_free(&d);
    int64_t v3 = set(&c, "k", "3");
    watch_recv(&w, watch_send(&w, "k", NULL, v0, 4000), &r);
    cr_assert_eq(r.events.count, 3, "every change since v0, in order");
    expect_event(&r, 0, v1, "k", "1");
    expect_event(&r, 1, v1 + 1, "k", NULL);
    expect_event(&r, 2, v3, "k", "3");
    cr_assert_eq(r.version, v3);
    WatchResponse_free(&r);
    /* Nothing changes: the timeout answers without events, saying how far it looked. */
    double t0 = node_now();
    watch_recv(&w, watch_send(&w, "k", NULL, v3, 300), &r);
    cr_assert(r.success && r.events.count == 0);
    cr_assert_geq(r.version, v3);
    cr_assert_geq(node_now() - t0, 0.25, "waited its timeout");
    WatchResponse_free(&r);
    net_client_close(&w);
    net_client_close(&c);
    node_cleanup(&p);
}

Test(kvnode_watch, a_range_sees_every_key_in_order_and_long_answers_are_cut)
{
    struct node_proc p;
    node_start(&p, "\"limits\": {\"max_range_results\": 3}");
    struct net_client w, c;
    node_connect(&p, &w, true);
    node_connect(&p, &c, true);
    int64_t v0 = set(&c, "a", "0");
    int32_t s = watch_send(&w, "p/", "p0", v0, 4000);
    set(&c, "q", "x");
    int64_t v1 = set(&c, "p/1", "one");
    WatchResponse r;
    watch_recv(&w, s, &r);
    cr_assert_eq(r.events.count, 1);
    expect_event(&r, 0, v1, "p/1", "one");
    WatchResponse_free(&r);
    int64_t v2 = set(&c, "p/2", "two"), v3 = set(&c, "p/3", "three");
    int64_t v4 = set(&c, "p/4", "four");
    /* Four changes, three to an answer: cut after whole versions, the rest next time. */
    watch_recv(&w, watch_send(&w, "p/", "p0", v0, 4000), &r);
    cr_assert_eq(r.events.count, 3);
    expect_event(&r, 0, v1, "p/1", "one");
    expect_event(&r, 1, v2, "p/2", "two");
    expect_event(&r, 2, v3, "p/3", "three");
    cr_assert_eq(r.version, v4 - 1, "covers up to the version before the first left out");
    cr_assert(!r.has_truncated || !r.truncated);
    int64_t next = r.version;
    WatchResponse_free(&r);
    watch_recv(&w, watch_send(&w, "p/", "", next, 4000), &r);
    cr_assert_eq(r.events.count, 1);
    expect_event(&r, 0, v4, "p/4", "four");
    WatchResponse_free(&r);
    /* One version changing more keys than an answer holds: the first ones, truncated. */
    AtomicCommitRequest t;
    AtomicCommitRequest_init(&t);
    t.read_version = v4;
    t.operations.items = calloc(5, sizeof(Operation));
    t.operations.count = 5;
    for (int i = 0; i < 5; i++) {
        char key[8];
        snprintf(key, sizeof key, "p/t%d", i);
        Operation_init(&t.operations.items[i]);
        t.operations.items[i].type = OperationType_SET;
        tp_bytes_set_str(&t.operations.items[i].key, key);
        t.operations.items[i].has_value = true;
        tp_bytes_set_str(&t.operations.items[i].value, "t");
    }
    TransactionalKV_atomicCommit_result tr;
    test_call_ok(&c, TEST_METHOD(atomicCommit), test_seqid(), &t, &tr);
    cr_assert(tr.success.success, "the transaction of five sets");
    TransactionalKV_atomicCommit_result_free(&tr);
    AtomicCommitRequest_free(&t);
    watch_recv(&w, watch_send(&w, "p/", "p0", v4, 4000), &r);
    cr_assert_eq(r.events.count, 3);
    cr_assert(r.has_truncated && r.truncated);
    cr_assert_eq(r.version, v4 + 1);
    expect_event(&r, 0, v4 + 1, "p/t0", "t");
    WatchResponse_free(&r);
    net_client_close(&w);
    net_client_close(&c);
    node_cleanup(&p);
}

Test(kvnode_watch, below_the_window_the_answer_says_read_again)
{
    struct node_proc p;
    node_start(&p, "\"limits\": {\"mvcc_window_versions\": 3}");
    struct net_client c;
    node_connect(&p, &c, true);
    for (int i = 0; i < 10; i++)
        set(&c, "k", "v");
    WatchResponse r;
    watch_recv(&c, watch_send(&c, "k", NULL, 2, 1000), &r);
    cr_assert(!r.success);
    cr_assert_eq(r.error_code, ErrorCode_TRANSACTION_TOO_OLD);
    cr_assert(r.has_error && strstr((const char *)r.error.data, "read the key or range again"),
              "%s", r.error.data);
    WatchResponse_free(&r);
    /* Malformed: both a key and a range, or neither, or a negative version. */
    WatchRequest q;
    WatchRequest_init(&q);
    q.after_version = -1;
    q.has_key = true;
    int32_t s = test_seqid();
    test_send_ok(&c, TEST_METHOD(watch), s, &q);
    watch_recv(&c, s, &r);
    cr_assert_eq(r.error_code, ErrorCode_INVALID_ARGUMENT);
    WatchResponse_free(&r);
    WatchRequest_free(&q);
    net_client_close(&c);
    node_cleanup(&p);
}

/* Many watches on one connection: each answered, in request order; past limits.max_watches
   a watch is refused BUSY; a node stopping answers them SHUTTING_DOWN. */
Test(kvnode_watch, many_on_one_connection_and_the_limit)
{
    struct node_proc p;
    node_start(&p, "\"limits\": {\"max_watches\": 8}");
    struct net_client w, c;
    node_connect(&p, &w, true);
    node_connect(&p, &c, true);
    int64_t v0 = set(&c, "start", "x");
    int32_t seq[9];
    char key[16];
    for (int i = 0; i < 9; i++) {
        snprintf(key, sizeof key, "w%d", i);
        seq[i] = watch_send(&w, key, NULL, v0, 4000);
    }
    /* The ninth is refused, but its answer waits behind the eight before it. */
    cr_assert(!readable(&w, 200));
    int64_t v[8];
    for (int i = 7; i >= 0; i--) {   /* changed in reverse: answers still come in order */
        snprintf(key, sizeof key, "w%d", i);
        v[i] = set(&c, key, "x");
    }
    WatchResponse r;
    for (int i = 0; i < 8; i++) {
        watch_recv(&w, seq[i], &r);
        snprintf(key, sizeof key, "w%d", i);
        cr_assert_eq(r.events.count, 1, "watch %d", i);
        expect_event(&r, 0, v[i], key, "x");
        WatchResponse_free(&r);
    }
    watch_recv(&w, seq[8], &r);
    cr_assert(!r.success && r.error_code == ErrorCode_BUSY, "the ninth is over the limit");
    WatchResponse_free(&r);
    int32_t last = watch_send(&w, "w0", NULL, v[0], 20000);
    cr_assert(!readable(&w, 100));
    kill(p.pid, SIGTERM);
    watch_recv(&w, last, &r);
    cr_assert(!r.success && r.error_code == ErrorCode_SHUTTING_DOWN);
    WatchResponse_free(&r);
    net_client_close(&w);
    net_client_close(&c);
    int code = node_stop(&p, 0);   /* SIGTERM was sent: wait for the exit */
    cr_assert_eq(code, 0, "a clean stop, not %d; see %s", code, p.log);
    node_cleanup(&p);
}

static long rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    cr_assert(f);
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* GET /metrics on 127.0.0.1:port; the value of one unlabelled sample, or -1. */
static double metric(uint16_t port, const char *name)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    const char get[] = "GET /metrics HTTP/1.0\r\n\r\n";
    cr_assert_eq(write(fd, get, sizeof get - 1), (ssize_t)(sizeof get - 1));
    static char text[1 << 20];
    size_t len = 0;
    ssize_t n;
    while (len + 1 < sizeof text && (n = read(fd, text + len, sizeof text - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    text[len] = '\0';
    char want[128];
    snprintf(want, sizeof want, "\n%s ", name);
    const char *at = strstr(text, want);
    return at ? atof(at + strlen(want)) : -1;
}

/* 1,000 watchers, each on a connection of its own: the node's memory grows by little more
   than a connection's buffers each, the 1,001st is refused (limits.max_watches), and one
   write wakes them all. */
#define WATCHERS 1000
Test(kvnode_watch, a_thousand_watchers_in_bounded_memory, .timeout = 120)
{
    struct node_proc p;
    uint16_t http = node_free_port();
    char cfg[256];
    snprintf(cfg, sizeof cfg,
             "\"limits\": {\"max_watches\": 1000, \"max_connections\": 1100, "
             "\"max_connections_per_address\": 0}, "
             "\"http\": {\"listen\": \"127.0.0.1:%u\"}", http);
    node_start(&p, cfg);
    static struct net_client w[WATCHERS];
    static int32_t seq[WATCHERS];
    struct net_client c;
    node_connect(&p, &c, true);
    int64_t v0 = set(&c, "hot", "0");
    long before = rss_kib(p.pid);
    for (int i = 0; i < WATCHERS; i++) {
        node_connect(&p, &w[i], true);
        seq[i] = watch_send(&w[i], i % 2 ? "hot" : "h", i % 2 ? NULL : "i", v0, 60000);
    }
    double deadline = node_now() + 30;
    while (metric(http, "kvstore_watches") != WATCHERS) {
        cr_assert_lt(node_now(), deadline, "the node never held all %d watches", WATCHERS);
        usleep(20000);
    }
    long during = rss_kib(p.pid);
    cr_log_info("RSS %ld KiB before, %ld KiB with %d watches", before, during, WATCHERS);
    cr_assert_lt(during - before, WATCHERS * 64L, "more than 64 KiB a watcher: %ld KiB",
                 during - before);
    WatchResponse r;
    watch_recv(&c, watch_send(&c, "hot", NULL, v0, 100), &r);
    cr_assert(!r.success && r.error_code == ErrorCode_BUSY, "the 1,001st is refused");
    WatchResponse_free(&r);
    int64_t v1 = set(&c, "hot", "1");
    for (int i = 0; i < WATCHERS; i++) {
        watch_recv(&w[i], seq[i], &r);
        cr_assert_eq(r.events.count, 1, "watcher %d", i);
        expect_event(&r, 0, v1, "hot", "1");
        WatchResponse_free(&r);
        net_client_close(&w[i]);
    }
    cr_assert_eq(metric(http, "kvstore_watch_events_total"), WATCHERS);
    net_client_close(&c);
    node_cleanup(&p);
}
