/* test_kvnode_hostile.c: hostile clients against a running kvnode while a well-behaved client
   keeps getting correct answers and no stored data changes. */
#include "node_proc.h"
#include "test_seed.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t rng_state;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

static int raw_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* Sends bytes and closes; the node must survive whatever it was. */
static void throw_bytes(uint16_t port, const void *data, size_t len)
{
    int fd = raw_connect(port);
    ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
    (void)n;
    close(fd);
}

static void check_healthy(struct net_client *good, const NodeInfo *baseline)
{
    char v[64];
    cr_assert(node_get(good, "canary", v, sizeof v));
    cr_assert_str_eq(v, "alive");
    NodeInfo now;
    node_info(good, &now);
    cr_assert_eq(now.status.applied_index, baseline->status.applied_index, "data changed");
    cr_assert(tp_bytes_equal(&now.status.state_digest, &baseline->status.state_digest));
    NodeInfo_free(&now);
}

static void valid_set_call(tp_buf *b)
{
    SetRequest q;
    SetRequest_init(&q);
    tp_bytes_set_str(&q.key, "canary");
    tp_bytes_set_str(&q.value, "overwritten");
    tp_buf_reset(b);
    cr_assert_eq(TransactionalKV_setKey_send(b, 1, &q), 0);
    SetRequest_free(&q);
}

Test(kvnode_hostile, garbage_truncation_huge_lengths_and_bad_types_change_nothing)
{
    uint64_t seed = test_seed_for("kvnode_hostile");
    rng_state = seed | 1;
    struct node_proc p;
    /* The idle timeout is well above the test's length: the good client sits idle while the
       hostile ones run, for seconds on a loaded machine, and must not be closed for it. */
    node_start(&p, "\"limits\": {\"max_connections\": 64, \"idle_timeout_ms\": 60000}");
    struct net_client good;
    node_connect(&p, &good, true);
    SetResponse s;
    node_set(&good, "canary", "alive", &s);
    cr_assert(s.success);
    NodeInfo base;
    node_info(&good, &base);

    uint8_t junk[512];
    for (int i = 0; i < 40; i++) {   /* random bytes, sometimes behind a plausible header */
        size_t len = 1 + rng() % sizeof junk;
        for (size_t j = 0; j < len; j++)
            junk[j] = (uint8_t)rng();
        if (i % 2 && len > 4)
            junk[0] = 0x80, junk[1] = 0x01, junk[2] = 0, junk[3] = 1;
        throw_bytes(p.port, junk, len);
    }
    check_healthy(&good, &base);

    tp_buf call;
    tp_buf_init(&call);
    valid_set_call(&call);
    for (size_t cut = 1; cut < call.len; cut++) {   /* unframed, truncated at every offset */
        throw_bytes(p.port, call.data, cut);
        uint8_t framed[512];   /* framed: the header promises the whole call */
        tp_frame_put_len(framed, (uint32_t)call.len);
        memcpy(framed + 4, call.data, cut);
        throw_bytes(p.port, framed, 4 + cut);
    }
    check_healthy(&good, &base);

    const uint8_t two_gib[] = {0x7f, 0xff, 0xff, 0xff, 1, 2, 3};
    throw_bytes(p.port, two_gib, sizeof two_gib);
    const uint8_t neg[] = {0xff, 0xff, 0xff, 0xff};
    throw_bytes(p.port, neg, sizeof neg);

    /* The valid call with each byte's type code changed: field types become wrong. */
    for (size_t at = 0; at < call.len; at++) {
        uint8_t framed[512];
        tp_frame_put_len(framed, (uint32_t)call.len);
        memcpy(framed + 4, call.data, call.len);
        if (framed[4 + at] != TP_T_STRING && framed[4 + at] != TP_T_STRUCT)
            continue;
        framed[4 + at] = (uint8_t)(framed[4 + at] == TP_T_STRING ? TP_T_I32 : TP_T_LIST);
        throw_bytes(p.port, framed, 4 + call.len);
    }
    check_healthy(&good, &base);
    tp_buf_free(&call);

    int many[80];   /* more connections than allowed, all at once */
    for (int i = 0; i < 80; i++)
        many[i] = raw_connect(p.port);
    check_healthy(&good, &base);
    for (int i = 0; i < 80; i++)
        close(many[i]);

    /* A client that asks and never reads its replies. */
    int lazy = raw_connect(p.port);
    GetNodeInfoRequest q;
    GetNodeInfoRequest_init(&q);
    tp_buf b;
    tp_buf_init(&b);
    cr_assert_eq(TransactionalKV_getNodeInfo_send(&b, 3, &q), 0);
    uint8_t frame[1024];
    tp_frame_put_len(frame, (uint32_t)b.len);
    memcpy(frame + 4, b.data, b.len);
    struct pollfd pfd = {.fd = lazy, .events = POLLOUT};
    double deadline = node_now() + 3;
    size_t sent = 0;
    while (node_now() < deadline && poll(&pfd, 1, 50) == 1 && (pfd.revents & POLLOUT)) {
        ssize_t n = send(lazy, frame, 4 + b.len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n <= 0)
            break;
        sent += (size_t)n;
    }
    cr_assert_gt(sent, 0);
    check_healthy(&good, &base);
    close(lazy);
    tp_buf_free(&b);

    cr_assert_eq(node_stop(&p, SIGTERM), 0, "seed %llu", (unsigned long long)seed);
    NodeInfo_free(&base);
    net_client_close(&good);
    node_cleanup(&p);
}

/* Lines of the node's log that hold needle. */
static int log_lines(const struct node_proc *p, const char *needle)
{
    FILE *f = fopen(p->log, "r");
    cr_assert(f, "%s", p->log);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

/* Issue 14: any client could fill the disk with logs (a line per connection closed or
   refused). Now: at most LOG_CLIENT_BURST (20) such lines per 10 s, then one summary. */
Test(kvnode_hostile, a_flood_of_bad_connections_writes_a_bounded_log, .timeout = 60)
{
    struct node_proc p;
    node_start(&p, "");
    const uint8_t oversized[] = {0x7f, 0xff, 0xff, 0xff};
    double t0 = node_now();
    for (int i = 0; i < 2000; i++)
        throw_bytes(p.port, oversized, sizeof oversized);
    struct net_client c;
    node_connect(&p, &c, true);   /* answered after every bad one was read */
    char v[8];
    cr_assert_not(node_get(&c, "x", v, sizeof v));
    /* A loaded machine may spread the flood over several 10 s windows: 20 lines each. */
    int windows = 2 + (int)((node_now() - t0) / 10);
    double deadline = node_now() + 20;
    while (log_lines(&p, "held back") == 0) {
        cr_assert_lt(node_now(), deadline, "no summary line within 20 s");
        usleep(100000);
    }
    int frames = log_lines(&p, "over the limit");
    cr_assert_leq(frames, 20 * windows, "%d lines about 2000 oversized frames in %d windows",
                  frames, windows);
    int summaries = log_lines(&p, "held back");
    cr_assert_leq(summaries, windows);
    cr_assert_eq(log_lines(&p, " bad input"), summaries, "the summary counts them by kind");
    net_client_close(&c);
    cr_assert_eq(node_stop(&p, SIGTERM), 0);
    node_cleanup(&p);
}
