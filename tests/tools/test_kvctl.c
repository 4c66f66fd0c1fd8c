/* test_kvctl.c: kvctl against a real kvnode: outputs and exit codes. */
#include "node_proc.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static char out[8192];

/* Runs kvctl -e addr with args (stdin from `input` when not NULL); stdout+stderr into out. */
static int kvctl(const struct node_proc *p, const char *input, const char *args)
{
    const char *bin = getenv("KVCTL");
    cr_assert(bin, "KVCTL must name the built kvctl");
    char final[2600];
    snprintf(final, sizeof final, "%s%s%s%s -e %s %s 2>&1", input ? "printf '" : "",
             input ? input : "", input ? "' | " : "", bin, p->addr, args);
    FILE *f = popen(final, "r");
    cr_assert(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    int status = pclose(f);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(kvctl, commands_print_and_exit_as_documented)
{
    struct node_proc p;
    node_start(&p, "");
    cr_assert_eq(kvctl(&p, NULL, "ping"), 0, "%s", out);
    cr_assert(strstr(out, "pong"), "%s", out);
    cr_assert_eq(kvctl(&p, NULL, "set greeting hello"), 0, "%s", out);
    cr_assert(strstr(out, "OK version 2"), "%s", out);   /* each write: open, write, close */
    cr_assert_eq(kvctl(&p, NULL, "get greeting"), 0);
    cr_assert_str_eq(out, "hello\n");
    cr_assert_eq(kvctl(&p, NULL, "--json get greeting"), 0);
    cr_assert(strstr(out, "\"value\": \"hello\""), "%s", out);
    cr_assert_eq(kvctl(&p, NULL, "--hex get 6772656574696e67"), 0);
    cr_assert_str_eq(out, "68656c6c6f\n");
    cr_assert_eq(kvctl(&p, NULL, "get nothing"), 1, "%s", out);
    cr_assert_eq(kvctl(&p, NULL, "set a 1"), 0);
    cr_assert_eq(kvctl(&p, NULL, "set b 2"), 0);
    cr_assert_eq(kvctl(&p, NULL, "range a c"), 0);
    cr_assert_str_eq(out, "a\t1\nb\t2\n");
    cr_assert_eq(kvctl(&p, NULL, "range a '' --reverse --limit 1"), 0);
    cr_assert_str_eq(out, "greeting\thello\n");
    cr_assert_eq(kvctl(&p, "get a\\nset c 3\\ndel b\\n", "txn"), 0, "%s", out);
    cr_assert(strstr(out, "a\t1\n"), "%s", out);
    cr_assert(strstr(out, "COMMITTED"), "%s", out);
    cr_assert_eq(kvctl(&p, NULL, "get b"), 1);
    cr_assert_eq(kvctl(&p, NULL, "get c"), 0);
    cr_assert_eq(kvctl(&p, NULL, "version"), 0);
    cr_assert_str_eq(out, "12\n", "three sets and one transaction, each in its own session");
    cr_assert_eq(kvctl(&p, NULL, "status"), 0);
    cr_assert(strstr(out, "role STANDALONE"), "%s", out);
    cr_assert_eq(kvctl(&p, NULL, "del nothing"), 1);
    cr_assert_eq(kvctl(&p, NULL, "frobnicate"), 2);
    cr_assert_eq(kvctl(&p, NULL, "get"), 2);
    cr_assert_eq(kvctl(&p, NULL, "--hex get zz"), 2);
    cr_assert_eq(kvctl(&p, "launch rockets\\n", "txn"), 2);
    cr_assert_eq(kvctl(&p, NULL, "leader transfer"), 3, "%s", out);
    cr_assert(strstr(out, "standalone node has no one to hand over to"), "%s", out);
    cr_assert_eq(kvctl(&p, NULL, "leader"), 2);
    cr_assert_eq(kvctl(&p, NULL, "leader move 1"), 2);
    cr_assert_eq(kvctl(&p, NULL, "leader transfer one"), 2);
    cr_assert_eq(kvctl(&p, NULL, "member list"), 3, "%s", out);
    cr_assert_str_eq(out, "kvctl: member list failed: INVALID_ARGUMENT: a standalone node has "
                          "no members\n");
    cr_assert_eq(kvctl(&p, NULL, "member add-learner 127.0.0.1:1"), 3, "%s", out);
    cr_assert(strstr(out, "standalone node has no members"), "%s", out);
    cr_assert_eq(kvctl(&p, NULL, "member promote 1 2"), 2);
    cr_assert_eq(kvctl(&p, NULL, "member rename 1"), 2);
    cr_assert_eq(kvctl(&p, NULL, "member --help"), 0);
    cr_assert(strstr(out, "\"lag_entries\"") && strstr(out, "MEMBER_CHANGE_PENDING"), "%s", out);
    cr_assert_eq(kvctl(&p, NULL, "get --help"), 0);
    cr_assert(strstr(out, "usage: kvctl get KEY"), "%s", out);
    node_stop(&p, SIGTERM);
    cr_assert_eq(kvctl(&p, NULL, "ping"), 3, "a stopped node is a connection error");
    cr_assert(strstr(out, "cannot connect"), "%s", out);
    node_cleanup(&p);
}

/* Issue 14: flags go anywhere, as etcdctl and git take them; one that is not understood is
   named; "--" lets a key or value start with '-'. */
Test(kvctl, flags_after_the_command_are_understood_and_unknown_ones_named)
{
    struct node_proc p;
    node_start(&p, "");
    cr_assert_eq(kvctl(&p, NULL, "set k v"), 0, "%s", out);
    cr_assert_eq(kvctl(&p, NULL, "get k --serializable"), 0, "%s", out);
    cr_assert_str_eq(out, "v\n");
    cr_assert_eq(kvctl(&p, NULL, "get k --json"), 0, "%s", out);
    cr_assert(strstr(out, "\"value\": \"v\""), "%s", out);
    cr_assert_eq(kvctl(&p, NULL, "status --json"), 0, "%s", out);
    cr_assert(strstr(out, "\"role\": \"STANDALONE\""), "%s", out);
    cr_assert_eq(kvctl(&p, NULL, "--limit=1 range a z --reverse"), 0, "%s", out);
    cr_assert_str_eq(out, "k\tv\n");
    cr_assert_eq(kvctl(&p, NULL, "set -- -k -1"), 0, "%s", out);
    cr_assert_eq(kvctl(&p, NULL, "get -- -k"), 0, "%s", out);
    cr_assert_str_eq(out, "-1\n");
    cr_assert_eq(kvctl(&p, NULL, "get k --bogus"), 2, "%s", out);
    cr_assert(strstr(out, "unknown option '--bogus'"), "%s", out);
    cr_assert_eq(kvctl(&p, NULL, "get k --limit 3"), 2, "%s", out);
    cr_assert(strstr(out, "'--limit' is for 'range' only"), "%s", out);
    cr_assert_eq(kvctl(&p, NULL, "range a z --limit"), 2, "%s", out);
    cr_assert(strstr(out, "'--limit' wants a value"), "%s", out);
    cr_assert_eq(kvctl(&p, NULL, "range a z --limit=-2"), 2, "%s", out);
    cr_assert(strstr(out, "not '-2'"), "%s", out);
    cr_assert_eq(kvctl(&p, NULL, "ping --json=yes"), 2, "%s", out);
    cr_assert(strstr(out, "'--json' takes no value"), "%s", out);
    node_cleanup(&p);
}

/* Runs kvctl -e addr args; returns its exit code; *lines gets the newlines it printed. */
static int kvctl_count(const struct node_proc *p, const char *args, size_t *lines)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s -e %s %s", getenv("KVCTL"), p->addr, args);
    FILE *f = popen(cmd, "r");
    cr_assert(f);
    char buf[65536];
    size_t n;
    *lines = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        for (size_t i = 0; i < n; i++)
            *lines += buf[i] == '\n';
    int status = pclose(f);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Issue 14: 170 values of 100,000 bytes under one prefix are 17 MB, more than a node may
   answer at once (limits.max_reply_bytes, 16,000,000 by default) and more than a stock Thrift
   client takes in one frame by default (16,384,000); kvctl range reads them in pages. */
Test(kvctl, a_range_larger_than_one_reply_is_read_in_pages)
{
    struct node_proc p;
    node_start(&p, "");
    struct net_client c;
    node_connect(&p, &c, true);
    static char value[100001];
    memset(value, 'x', sizeof value - 1);
    char key[16];
    for (int i = 0; i < 170; i++) {
        snprintf(key, sizeof key, "rsz/%03d", i);
        SetResponse s;
        node_set(&c, key, value, &s);
        cr_assert(s.success);
        SetResponse_free(&s);
    }
    net_client_close(&c);
    size_t lines;
    cr_assert_eq(kvctl_count(&p, "range rsz/ rsz0", &lines), 0);
    cr_assert_eq(lines, 170, "every pair, in pages: got %zu", lines);
    cr_assert_eq(kvctl_count(&p, "range rsz/ rsz0 --reverse --limit 165", &lines), 0);
    cr_assert_eq(lines, 165);
    cr_assert_eq(kvctl_count(&p, "range 72737a2f 72737a30 --json --hex", &lines), 0);
    cr_assert_eq(lines, 1, "one JSON document");
    node_cleanup(&p);
}

/* A fake node: answers calls on one connection from a script of error codes; a NOT_LEADER
   answer carries hint as its leader_hint. */
struct fake_node {
    int listen_fd;
    uint16_t port;
    const int *script;
    size_t script_len;
    const char *hint;
    size_t answered;
};

static bool read_all(int fd, uint8_t *buf, size_t len)
{
    for (size_t got = 0; got < len;) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n <= 0)
            return false;
        got += (size_t)n;
    }
    return true;
}

/* The answer's fields every write response shares (setKey's and openSession's here). */
#define FAKE_FILL(res, f, code)                                                          \
    do {                                                                                 \
        (res).has_success = true;                                                        \
        (res).success.has_error_code = true;                                             \
        (res).success.error_code = (ErrorCode)(code);                                    \
        if ((code) == ErrorCode_NOT_LEADER) {                                            \
            (res).success.has_leader_hint = true;                                        \
            tp_bytes_set_str(&(res).success.leader_hint, (f)->hint);                     \
        }                                                                                \
    } while (0)

/* Answers a setKey or openSession call (kvctl opens a session before it writes). */
static void fake_answer(struct fake_node *f, int fd, const tp_message *m, int code)
{
    const tp_method *method = TransactionalKV_method_find(m->name, m->name_len);
    cr_assert(method, "the fake knows setKey and openSession only");
    TransactionalKV_setKey_result set;
    TransactionalKV_openSession_result open;
    void *res = &set;
    if (method->id == TransactionalKV_METHOD_openSession) {
        TransactionalKV_openSession_result_init(&open);
        FAKE_FILL(open, f, code);
        res = &open;
    } else {
        cr_assert_eq(method->id, TransactionalKV_METHOD_setKey);
        TransactionalKV_setKey_result_init(&set);
        FAKE_FILL(set, f, code);
    }
    tp_buf b;
    tp_buf_init(&b);
    size_t at = tp_frame_begin(&b);
    cr_assert_eq(tp_write_reply(&b, method, m->seqid, res), 0);
    tp_frame_end(&b, at);
    cr_assert_eq(write(fd, b.data, b.len), (ssize_t)b.len);
    tp_buf_free(&b);
    method->result_free(res);
}

static void *fake_serve(void *arg)
{
    struct fake_node *f = arg;
    int fd = accept(f->listen_fd, NULL, NULL);
    uint8_t hdr[4], body[4096];
    while (fd >= 0 && f->answered < f->script_len && read_all(fd, hdr, 4)) {
        uint32_t len = tp_frame_get_len(hdr);
        if (len > sizeof body || !read_all(fd, body, len))
            break;
        tp_reader r;
        tp_reader_init(&r, body, len, NULL);
        tp_message m;
        if (tp_read_message_begin(&r, &m) != 0)
            break;
        fake_answer(f, fd, &m, f->script[f->answered++]);
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static void fake_start(struct fake_node *f, pthread_t *t)
{
    f->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    cr_assert_eq(bind(f->listen_fd, (struct sockaddr *)&sa, sizeof sa), 0);
    cr_assert_eq(listen(f->listen_fd, 4), 0);
    cr_assert_eq(getsockname(f->listen_fd, (struct sockaddr *)&sa, &len), 0);
    f->port = ntohs(sa.sin_port);
    cr_assert_eq(pthread_create(t, NULL, fake_serve, f), 0);
}

Test(kvctl, a_busy_answer_is_retried_and_a_leader_hint_followed)
{
    struct node_proc p;
    node_start(&p, "");
    static const int script[] = {ErrorCode_BUSY, ErrorCode_NOT_LEADER};
    struct fake_node fake = {.script = script, .script_len = 2, .hint = p.addr};
    pthread_t t;
    fake_start(&fake, &t);
    struct node_proc via = p;   /* kvctl -e FAKE,NODE: the fake comes first */
    int n = snprintf(via.addr, sizeof via.addr, "127.0.0.1:%u,%.40s", fake.port, p.addr);
    cr_assert_lt(n, (int)sizeof via.addr);
    double t0 = node_now();
    cr_assert_eq(kvctl(&via, NULL, "set redirected yes"), 0, "%s", out);
    cr_assert(strstr(out, "OK version 2"), "%s", out);   /* 1 opened kvctl's session */
    cr_assert_lt(node_now() - t0, 5.0, "one short backoff, then straight to the leader");
    pthread_join(t, NULL);
    cr_assert_eq(fake.answered, 2,
                 "BUSY was retried on the fake, then the hint was followed (for openSession)");
    close(fake.listen_fd);
    cr_assert_eq(kvctl(&p, NULL, "get redirected"), 0);
    cr_assert_str_eq(out, "yes\n");
    cr_assert_eq(kvctl(&p, NULL, "-e nohost get x"), 2, "a bad endpoint is a usage error");
    node_cleanup(&p);
}

/* A proxy in front of a node that loses the reply to the first call of one method: it passes
   the call on, waits for the node's answer, and closes the client's connection instead of
   relaying it. The write happened; kvctl cannot know, and retries it. */
struct dropper {
    int listen_fd;
    uint16_t port, node_port;
    const char *method;      /* whose first reply is lost */
    int dropped;
};

static bool relay_frame(int from, int to, uint8_t *buf, size_t cap, tp_message *m)
{
    if (!read_all(from, buf, 4))
        return false;
    uint32_t len = tp_frame_get_len(buf);
    if (len > cap - 4 || !read_all(from, buf + 4, len))
        return false;
    if (m) {
        tp_reader r;
        tp_reader_init(&r, buf + 4, len, NULL);
        cr_assert_eq(tp_read_message_begin(&r, m), 0);
    }
    return to < 0 || write(to, buf, 4 + len) == (ssize_t)(4 + len);
}

static void *dropper_serve(void *arg)
{
    struct dropper *d = arg;
    int node = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(d->node_port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(node, (struct sockaddr *)&sa, sizeof sa), 0);
    static uint8_t buf[1 << 16];
    int fd;
    while ((fd = accept(d->listen_fd, NULL, NULL)) >= 0) {
        tp_message m;
        while (relay_frame(fd, node, buf, sizeof buf, &m)) {
            bool drop = d->dropped == 0 && m.name_len == strlen(d->method) &&
                        memcmp(m.name, d->method, m.name_len) == 0;
            if (!relay_frame(node, drop ? -1 : fd, buf, sizeof buf, NULL))
                break;
            if (drop) {
                d->dropped++;
                break;
            }
        }
        close(fd);
    }
    close(node);
    return NULL;
}

/* Runs kvctl args through a proxy that loses the first reply to method; returns the exit. */
static int kvctl_losing(const struct node_proc *p, const char *method, const char *input,
                        const char *args)
{
    struct dropper d = {.node_port = p->port, .method = method};
    d.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    cr_assert_eq(bind(d.listen_fd, (struct sockaddr *)&sa, sizeof sa), 0);
    cr_assert_eq(listen(d.listen_fd, 4), 0);
    cr_assert_eq(getsockname(d.listen_fd, (struct sockaddr *)&sa, &len), 0);
    d.port = ntohs(sa.sin_port);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, dropper_serve, &d), 0);
    struct node_proc via = *p;
    snprintf(via.addr, sizeof via.addr, "127.0.0.1:%u", d.port);
    int rc = kvctl(&via, input, args);
    shutdown(d.listen_fd, SHUT_RDWR);   /* ends accept() */
    pthread_join(t, NULL);
    close(d.listen_fd);
    cr_assert_eq(d.dropped, 1, "the proxy lost one %s reply: %s", method, out);
    return rc;
}

/* Issue 19: a write whose reply was lost is retried in its session and answered from the
   session table. Applied twice, the delete would answer "not found" (exit 1) and the
   transaction CONFLICT (exit 3, it wrote the key it read). */
Test(kvctl, a_write_whose_reply_is_lost_is_retried_and_applies_once)
{
    struct node_proc p;
    node_start(&p, "");
    cr_assert_eq(kvctl(&p, NULL, "set a 1"), 0, "%s", out);
    cr_assert_eq(kvctl(&p, NULL, "set gone x"), 0, "%s", out);
    cr_assert_eq(kvctl_losing(&p, "deleteKey", NULL, "del gone"), 0, "%s", out);
    cr_assert(strstr(out, "OK version"), "%s", out);
    cr_assert_eq(kvctl(&p, NULL, "get gone"), 1);
    cr_assert_eq(kvctl_losing(&p, "atomicCommit", "get a\\nset a 2\\n", "txn"), 0, "%s", out);
    cr_assert(strstr(out, "COMMITTED version"), "%s", out);
    cr_assert_eq(kvctl(&p, NULL, "get a"), 0);
    cr_assert_str_eq(out, "2\n");
    cr_assert_eq(kvctl_losing(&p, "setKey", NULL, "set s x"), 0, "%s", out);
    cr_assert_eq(kvctl(&p, NULL, "get s"), 0);
    cr_assert_str_eq(out, "x\n");
    node_cleanup(&p);
}

/* Issue 19: kvctl watch prints each change as it is committed, from --from V, and stops after
   --count N; --prefix watches a range, --json prints one object a change. */
Test(kvctl, watch_prints_each_change_in_order)
{
    struct node_proc p;
    node_start(&p, "");
    cr_assert_eq(kvctl(&p, NULL, "set k 0"), 0, "%s", out);
    cr_assert_eq(kvctl(&p, NULL, "version"), 0, "%s", out);
    long from = atol(out);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s -e %s watch k --from %ld --count 3 2>&1", getenv("KVCTL"),
             p.addr, from);
    FILE *f = popen(cmd, "r");
    cr_assert(f);
    cr_assert_eq(kvctl(&p, NULL, "set k 1"), 0, "%s", out);
    long v1 = atol(strstr(out, "version ") + 8);
    cr_assert_eq(kvctl(&p, NULL, "set other x"), 0, "%s", out);
    cr_assert_eq(kvctl(&p, NULL, "del k"), 0, "%s", out);
    long v2 = atol(strstr(out, "version ") + 8);
    cr_assert_eq(kvctl(&p, NULL, "set k 2"), 0, "%s", out);
    long v3 = atol(strstr(out, "version ") + 8);
    char got[512], want[512];
    size_t n = fread(got, 1, sizeof got - 1, f);
    got[n] = '\0';
    cr_assert_eq(pclose(f), 0, "%s", got);
    snprintf(want, sizeof want, "%ld\tset\tk\t1\n%ld\tdel\tk\n%ld\tset\tk\t2\n", v1, v2, v3);
    cr_assert_str_eq(got, want);
    cr_assert_eq(kvctl(&p, NULL, "watch --prefix o --from 0 --count 1 --json"), 0, "%s", out);
    cr_assert(strstr(out, "\"key\": \"other\", \"value\": \"x\"}"), "%s", out);
    cr_assert_eq(kvctl(&p, NULL, "watch k --from 0 --count 4 --json"), 0, "%s", out);
    cr_assert(strstr(out, "\"key\": \"k\", \"deleted\": true}"), "%s", out);
    cr_assert_eq(kvctl(&p, NULL, "watch"), 2, "a key or --prefix P is needed");
    cr_assert_eq(kvctl(&p, NULL, "get k --count 2"), 2, "--count is for watch only");
    node_cleanup(&p);
}
