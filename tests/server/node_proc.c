/* node_proc.c: spawn, wait for, stop and talk to a kvnode process. */
#include "node_proc.h"
#include "port_pick.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NODE_START_SECONDS 15.0

double node_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool node_log_contains(const struct node_proc *p, const char *what)
{
    enum { LOG_READ_MAX = 1 << 20 };
    char *text = malloc(LOG_READ_MAX);
    cr_assert(text);
    FILE *f = fopen(p->log, "r");
    cr_assert(f, "cannot open %s", p->log);
    size_t n = fread(text, 1, LOG_READ_MAX - 1, f);
    fclose(f);
    text[n] = '\0';
    bool found = strstr(text, what) != NULL;
    free(text);
    return found;
}

static const char *kvnode_path(void)
{
    const char *path = getenv("KVNODE");
    cr_assert(path, "KVNODE must name the built kvnode (meson sets it)");
    return path;
}

uint16_t node_free_port(void)
{
    uint16_t port = port_pick_loopback(); /* restartable: outside the ephemeral range */
    cr_assert_neq(port, 0, "no free loopback port");
    return port;
}

static void spawn(struct node_proc *p)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        /* A failed assertion ends the test worker without node_cleanup: the node must not
           outlive it (leaked nodes piled up on developers' machines). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
            _exit(127);
        int fd = open(p->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 2);
            dup2(fd, 1);
        }
        execl(kvnode_path(), "kvnode", "--config", p->config, (char *)NULL);
        _exit(127);
    }
    p->pid = pid;
    double deadline = node_now() + NODE_START_SECONDS;
    for (;;) {
        struct net_client c;
        if (net_client_connect(&c, p->addr, true, 1000) == NET_OK) {
            net_client_close(&c);
            return;
        }
        net_client_close(&c);
        int status;
        cr_assert_eq(waitpid(pid, &status, WNOHANG), 0, "kvnode exited at start; see %s", p->log);
        cr_assert_lt(node_now(), deadline, "kvnode did not listen within %.0f s", NODE_START_SECONDS);
        usleep(10000);   /* polling a condition with a deadline, not a guess */
    }
}

void node_start(struct node_proc *p, const char *extra)
{
    node_start_at(p, node_free_port(), extra);
}

void node_start_at(struct node_proc *p, uint16_t port, const char *extra)
{
    memset(p, 0, sizeof *p);
    snprintf(p->dir, sizeof p->dir, "/tmp/kvnode-test-XXXXXX");
    cr_assert(mkdtemp(p->dir));
    snprintf(p->config, sizeof p->config, "%s/config.json", p->dir);
    snprintf(p->log, sizeof p->log, "%s/log", p->dir);
    p->port = port;
    snprintf(p->addr, sizeof p->addr, "127.0.0.1:%u", p->port);
    FILE *f = fopen(p->config, "w");
    cr_assert(f);
    const char *level = getenv(NODE_LOG_LEVEL_ENV) ? getenv(NODE_LOG_LEVEL_ENV) : "warn";
    fprintf(f, "{\"listen\": \"%s\", \"data_dir\": \"%s/data\", \"log_level\": \"%s\"%s%s}\n",
            p->addr, p->dir, level, extra[0] ? ", " : "", extra);
    fclose(f);
    spawn(p);
}

void node_restart(struct node_proc *p) { spawn(p); }

int node_wait_exit(struct node_proc *p, double timeout_s)
{
    double deadline = node_now() + timeout_s;
    int status;
    while (p->pid > 0 && node_now() < deadline) {
        pid_t r = waitpid(p->pid, &status, WNOHANG);
        cr_assert_geq(r, 0);
        if (r == p->pid) {
            p->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        usleep(10000); /* polling with a deadline */
    }
    return -1;
}

int node_stop(struct node_proc *p, int sig)
{
    if (p->pid <= 0)
        return -1;
    kill(p->pid, sig);
    int status;
    cr_assert_eq(waitpid(p->pid, &status, 0), p->pid);
    p->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void node_cleanup(struct node_proc *p)
{
    if (p->pid > 0)
        node_stop(p, SIGKILL);
    if (getenv(NODE_KEEP_ENV)) {
        fprintf(stderr, "node_proc: kept %s\n", p->dir);
        return;
    }
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", p->dir);
    cr_assert_eq(system(cmd), 0);
}

int node_run_once(const char *const *args, char *err, size_t err_size)
{
    int pipefd[2];
    cr_assert_eq(pipe(pipefd), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(pipefd[1], 2);
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        const char *argv[16] = {"kvnode"};
        for (int i = 0; args[i] && i < 14; i++)
            argv[i + 1] = args[i];
        execv(kvnode_path(), (char *const *)argv);
        _exit(127);
    }
    close(pipefd[1]);
    size_t len = 0;
    ssize_t n;
    while (len + 1 < err_size && (n = read(pipefd[0], err + len, err_size - 1 - len)) > 0)
        len += (size_t)n;
    err[len] = '\0';
    close(pipefd[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void node_connect(const struct node_proc *p, struct net_client *c, bool framed)
{
    int rc = net_client_connect(c, p->addr, framed, 5000);
    cr_assert_eq(rc, NET_OK, "connect %s: %s", p->addr, net_strerror(rc));
}

void node_set(struct net_client *c, const char *key, const char *value, SetResponse *out)
{
    SetRequest req;
    SetRequest_init(&req);
    tp_bytes_set_str(&req.key, key);
    tp_bytes_set_str(&req.value, value);
    TransactionalKV_setKey_result res;
    test_call_ok(c, TEST_METHOD(setKey), test_seqid(), &req, &res);
    cr_assert(res.has_success);
    *out = res.success;   /* moved out: not freed here */
    SetRequest_free(&req);
}

void node_set_keys(struct net_client *c, const char *prefix, int from, int to)
{
    char key[64];
    for (int i = from; i < to; i++) {
        snprintf(key, sizeof key, "%s-%05d", prefix, i);
        SetResponse s;
        node_set(c, key, key, &s);
        cr_assert(s.success, "set %s", key);
        cr_assert_eq(s.version, i + 1);
        SetResponse_free(&s);
    }
}

bool node_get(struct net_client *c, const char *key, char *value, size_t size)
{
    GetRequest req;
    GetRequest_init(&req);
    tp_bytes_set_str(&req.key, key);
    TransactionalKV_get_result res;
    test_call_ok(c, TEST_METHOD(get), test_seqid(), &req, &res);
    cr_assert(res.has_success);
    cr_assert(res.success.success, "get failed");
    bool found = res.success.found;
    if (found)
        snprintf(value, size, "%.*s", (int)res.success.value.len,
                 res.success.value.data ? (const char *)res.success.value.data : "");
    TransactionalKV_get_result_free(&res);
    GetRequest_free(&req);
    return found;
}

void node_info(struct net_client *c, NodeInfo *out)
{
    GetNodeInfoRequest req;
    GetNodeInfoRequest_init(&req);
    TransactionalKV_getNodeInfo_result res;
    test_call_ok(c, TEST_METHOD(getNodeInfo), test_seqid(), &req, &res);
    cr_assert(res.has_success);
    *out = res.success;
}

int64_t node_snapshot_index(struct net_client *c)
{
    NodeInfo info;
    node_info(c, &info);
    int64_t index = info.snapshot_index;
    NodeInfo_free(&info);
    return index;
}

void node_write_faults(const struct node_proc *p, const char *text)
{
    char path[400], tmp[410];
    snprintf(path, sizeof path, "%s/data/faults", p->dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    cr_assert(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(rename(tmp, path), 0);
}

int64_t node_ping_us(struct net_client *c)
{
    PingRequest req;
    PingRequest_init(&req);
    TransactionalKV_ping_result res;
    test_call_ok(c, TEST_METHOD(ping), test_seqid(), &req, &res);
    cr_assert(res.has_success);
    int64_t us = res.success.timestamp_us;
    TransactionalKV_ping_result_free(&res);
    PingRequest_free(&req);
    return us;
}

int64_t node_read_version(struct net_client *c)
{
    GetReadVersionRequest req;
    GetReadVersionRequest_init(&req);
    TransactionalKV_getReadVersion_result res;
    test_call_ok(c, TEST_METHOD(getReadVersion), test_seqid(), &req, &res);
    cr_assert(res.has_success && res.success.success, "getReadVersion failed");
    int64_t v = res.success.version;
    TransactionalKV_getReadVersion_result_free(&res);
    GetReadVersionRequest_free(&req);
    return v;
}

int node_snapshot_read(struct net_client *c, const char *key, int64_t version, char *value,
                       size_t size)
{
    SnapshotReadRequest req;
    SnapshotReadRequest_init(&req);
    tp_bytes_set_str(&req.key, key);
    req.read_version = version;
    TransactionalKV_snapshotRead_result res;
    test_call_ok(c, TEST_METHOD(snapshotRead), test_seqid(), &req, &res);
    cr_assert(res.has_success);
    const SnapshotReadResponse *s = &res.success;
    int code = s->success ? 0 : s->has_error_code ? (int)s->error_code : -1;
    cr_assert_neq(code, -1, "an error without a code");
    snprintf(value, size, "%.*s", s->found ? (int)s->value.len : 0,
             s->found && s->value.data ? (const char *)s->value.data : "");
    TransactionalKV_snapshotRead_result_free(&res);
    SnapshotReadRequest_free(&req);
    return code;
}
