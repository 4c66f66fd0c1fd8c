/* test_kvnode_flood.c: 1,000 hostile connections opened at once against a running kvnode
   (silent, half a frame, half an unframed call, pipelining without ever reading) while a
   well-behaved client keeps getting correct answers, and the node's memory stays bounded. */
#include "node_proc.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define FLOOD_CONNS 1000
#define FLOOD_BATCH 100
#define FLOOD_PIPELINED 64           /* requests each non-reader sends */
#define FLOOD_FRAME_MAX (64 * 1024)  /* the node's limits.max_frame_bytes here */
/* What the node may grow by for the flood: a connection holds a few KiB (state, buffers, its
   share of the pooled slots; ~3 KiB measured); 16 KiB each would mean per-connection waste. */
#define FLOOD_RSS_GROWTH_MAX_KIB (FLOOD_CONNS * 16)
#define FLOOD_CONNECT_SECONDS 20.0

static long rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    cr_assert(f, "cannot read %s", path);
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    cr_assert_gt(kib, 0, "no VmRSS in %s", path);
    return kib;
}

/* Room for the flood and the test's own descriptors, within the hard limit (the node inherits
   it). */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    rlim_t want = FLOOD_CONNS + 256;
    if (rl.rlim_cur >= want)
        return;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
        cr_skip_test("RLIMIT_NOFILE hard limit %llu is below %llu",
                     (unsigned long long)rl.rlim_max, (unsigned long long)want);
    rl.rlim_cur = want;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0, "%s", strerror(errno));
}

/* Starts n non-blocking connects at once, then waits until every one is established. */
static void connect_all(uint16_t port, int *fds, size_t n)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct pollfd *p = calloc(n, sizeof *p);
    cr_assert(p);
    for (size_t i = 0; i < n; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        cr_assert_geq(fds[i], 0, "socket %zu: %s", i, strerror(errno));
        int rc = connect(fds[i], (struct sockaddr *)&sa, sizeof sa);
        cr_assert(rc == 0 || errno == EINPROGRESS, "connect %zu: %s", i, strerror(errno));
        p[i] = (struct pollfd){.fd = fds[i], .events = POLLOUT};
    }
    double deadline = node_now() + FLOOD_CONNECT_SECONDS;
    size_t done = 0;
    while (done < n) {
        cr_assert_lt(node_now(), deadline, "only %zu of %zu connections established", done, n);
        cr_assert_geq(poll(p, n, 100), 0);
        for (size_t i = 0; i < n; i++) {
            if (p[i].fd < 0 || !p[i].revents)
                continue;
            int err = 0;
            socklen_t len = sizeof err;
            cr_assert_eq(getsockopt(p[i].fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
            cr_assert_eq(err, 0, "connection %zu: %s", i, strerror(err));
            p[i].fd = -1;   /* poll skips it from now on */
            done++;
        }
    }
    free(p);
}

static void send_all(int fd, const void *data, size_t len)
{
    ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
    cr_assert_eq(n, (ssize_t)len, "send: %s", n < 0 ? strerror(errno) : "short");
}

/* A framed get of key; returns the frame's length. */
static size_t framed_get(uint8_t *out, size_t size, const char *key, int32_t seqid)
{
    GetRequest q;
    GetRequest_init(&q);
    tp_bytes_set_str(&q.key, key);
    q.consistency = Consistency_SERIALIZABLE;
    tp_buf b;
    tp_buf_init(&b);
    cr_assert_eq(TransactionalKV_get_send(&b, seqid, &q), 0);
    cr_assert_leq(4 + b.len, size);
    tp_frame_put_len(out, (uint32_t)b.len);
    memcpy(out + 4, b.data, b.len);
    size_t len = 4 + b.len;
    tp_buf_free(&b);
    GetRequest_free(&q);
    return len;
}

/* What connection i does: nothing; half of a frame; half of an unframed call; or it pipelines
   requests and never reads an answer. */
static void misbehave(int fd, size_t i, const uint8_t *get, size_t get_len)
{
    static uint8_t junk[1024];
    uint8_t buf[FLOOD_PIPELINED * 128];
    switch (i % 4) {
    case 0:
        break;
    case 1:   /* promises a frame just under the limit, sends 1 KiB of it */
        tp_frame_put_len(junk, FLOOD_FRAME_MAX - 16);
        send_all(fd, junk, sizeof junk);
        break;
    case 2:   /* an unframed call cut in the middle */
        send_all(fd, get + 4, (get_len - 4) / 2);
        break;
    default:
        cr_assert_leq(FLOOD_PIPELINED * get_len, sizeof buf);
        for (size_t k = 0; k < FLOOD_PIPELINED; k++)
            memcpy(buf + k * get_len, get, get_len);
        send_all(fd, buf, FLOOD_PIPELINED * get_len);
        break;
    }
}

/* True when the node has closed fd (or sent it something) by now. */
static bool closed_or_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1;
}

/* Reads a non-reader's answers at last: every pipelined request was answered. */
static void expect_answers(int fd, size_t want)
{
    uint8_t buf[4096];
    size_t have = 0, frames = 0, at = 0;   /* at: offset of the next frame header */
    double deadline = node_now() + 10;
    while (frames < want) {
        cr_assert_lt(node_now(), deadline, "%zu of %zu answers", frames, want);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) != 1)
            continue;
        ssize_t n = read(fd, buf + have, sizeof buf - have);
        cr_assert_gt(n, 0, "the node closed a client that only stopped reading");
        have += (size_t)n;
        while (at + 4 <= have && at + 4 + tp_frame_get_len(buf + at) <= have) {
            at += 4 + tp_frame_get_len(buf + at);
            frames++;
        }
        memmove(buf, buf + at, have - at);
        have -= at;
        at = 0;
    }
}

static void check_good(struct net_client *good, int round)
{
    char key[32], value[32], got[64];
    snprintf(key, sizeof key, "good-%d", round);
    snprintf(value, sizeof value, "value-%d", round);
    SetResponse s;
    node_set(good, key, value, &s);
    cr_assert(s.success, "set during the flood failed");
    SetResponse_free(&s);
    cr_assert(node_get(good, key, got, sizeof got));
    cr_assert_str_eq(got, value);
    cr_assert(node_get(good, "canary", got, sizeof got));
    cr_assert_str_eq(got, "alive");
}

Test(kvnode_flood, a_thousand_hostile_connections_at_once_leave_a_good_client_served)
{
    raise_fd_limit();
    struct node_proc p;
    char extra[320];
    snprintf(extra, sizeof extra,
             "\"limits\": {\"max_connections\": %d, \"max_connections_per_address\": 0, "
             "\"max_frame_bytes\": %d, "
             "\"max_txn_bytes\": %d, \"max_key_bytes\": 1024, \"max_value_bytes\": 16384, "
             "\"idle_timeout_ms\": 60000}",
             FLOOD_CONNS + 16, FLOOD_FRAME_MAX, FLOOD_FRAME_MAX / 2);
    node_start(&p, extra);
    struct net_client good;
    node_connect(&p, &good, true);
    SetResponse s;
    node_set(&good, "canary", "alive", &s);
    cr_assert(s.success);
    SetResponse_free(&s);
    check_good(&good, -1);
    long before = rss_kib(p.pid);

    uint8_t get[128];
    size_t get_len = framed_get(get, sizeof get, "canary", 7);
    int *fds = calloc(FLOOD_CONNS, sizeof *fds);
    cr_assert(fds);
    connect_all(p.port, fds, FLOOD_CONNS);
    for (size_t i = 0; i < FLOOD_CONNS; i++) {
        misbehave(fds[i], i, get, get_len);
        if ((i + 1) % FLOOD_BATCH == 0)
            check_good(&good, (int)(i / FLOOD_BATCH));
    }
    for (int round = 0; round < 50; round++)
        check_good(&good, 1000 + round);
    long during = rss_kib(p.pid);
    fprintf(stderr, "kvnode_flood: VmRSS %ld KiB before, %ld KiB with %d connections\n", before,
            during, FLOOD_CONNS);
    cr_assert_lt(during - before, FLOOD_RSS_GROWTH_MAX_KIB,
                 "the node grew by %ld KiB for %d connections", during - before, FLOOD_CONNS);

    for (size_t i = 0; i < FLOOD_CONNS; i += 4)
        cr_assert(!closed_or_readable(fds[i]), "silent connection %zu was closed", i);
    expect_answers(fds[3], FLOOD_PIPELINED);
    expect_answers(fds[FLOOD_CONNS - 1], FLOOD_PIPELINED);
    for (size_t i = 0; i < FLOOD_CONNS; i++)
        close(fds[i]);
    free(fds);
    check_good(&good, 2000);
    net_client_close(&good);
    cr_assert_eq(node_stop(&p, SIGTERM), 0);
    node_cleanup(&p);
}
