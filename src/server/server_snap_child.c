/* server_snap_child.c: the forked child that writes a snapshot, and the parent watching it. */
#include "server_snap_internal.h"

#include "log.h"

#include <assert.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Test hooks, read by the child only: it sleeps this many ms before writing, and fails while
   the file named by the other exists. */
#define SNAP_ENV_DELAY_MS "KVNODE_TEST_SNAPSHOT_DELAY_MS"
#define SNAP_ENV_FAIL_FILE "KVNODE_TEST_SNAPSHOT_FAIL_FILE"

static void child_report(int fd, const char *text)
{
    size_t len = strlen(text);
    while (len > 0) {
        ssize_t w = write(fd, text, len);
        if (w <= 0 && errno != EINTR)
            return;
        if (w > 0) {
            text += w;
            len -= (size_t)w;
        }
    }
}

/* Test hooks; a non-empty err fails the child. */
static void child_hooks(char *err, size_t size)
{
    const char *delay = getenv(SNAP_ENV_DELAY_MS), *fail = getenv(SNAP_ENV_FAIL_FILE);
    if (delay) {
        long ms = strtol(delay, NULL, 10);
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
        while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
            continue;
    }
    if (fail && access(fail, F_OK) == 0)
        snprintf(err, size, "test hook: %s exists", fail);
}

/* The child: writes the store as the fork saw it, reports failures through wfd, and _exits
   without running the parent's atexit handlers or touching its loop, sockets or log. It dies
   with the parent (a kill -9 of the node leaves at most a temp file, removed at start). */
static _Noreturn void child_main(const struct server_node *n, const char *path, int wfd,
                                 pid_t parent)
{
    signal(SIGTERM, SIG_DFL); /* libevent's handlers would wake the parent's loop */
    signal(SIGINT, SIG_DFL);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(2);
    /* Sockets and log files stay the parent's: a closed connection must not linger here. */
    if (wfd > 3)
        close_range(3, (unsigned)wfd - 1, 0);
    close_range((unsigned)wfd + 1, ~0u, 0);
    char err[SERVER_SNAP_ERR_MAX] = "", msg[SERVER_SNAP_ERR_MAX + 64];
    child_hooks(err, sizeof err);
    if (err[0] == '\0') {
        int rc = kv_sm_save_file_io(n->sm, path, n->io, err, sizeof err);
        if (rc != 0) {
            snprintf(msg, sizeof msg, "%s (%s)", kv_strerror(rc), err);
            memcpy(err, msg, sizeof err - 1);
            err[sizeof err - 1] = '\0';
        }
    }
    if (err[0] != '\0') {
        child_report(wfd, err);
        _exit(1);
    }
    _exit(0);
}

/* Reaps the child; true when it exited with 0. */
static bool reap(struct server_snap_state *s)
{
    int status;
    pid_t r;
    while ((r = waitpid(s->pid, &status, 0)) < 0 && errno == EINTR)
        continue;
    s->pid = 0;
    if (r < 0)
        return false;
    if (WIFSIGNALED(status) && s->report_len == 0)
        s->report_len = (size_t)snprintf(s->report, sizeof s->report, "killed by signal %d",
                                         WTERMSIG(status));
    else if (WIFEXITED(status) && WEXITSTATUS(status) != 0 && s->report_len == 0)
        s->report_len = (size_t)snprintf(s->report, sizeof s->report, "exit status %d",
                                         WEXITSTATUS(status));
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void unwatch(struct server_snap_state *s)
{
    if (s->ev)
        event_free(s->ev);
    s->ev = NULL;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

/* The pipe is readable: the child's report, or EOF once it is gone. */
static void on_child(evutil_socket_t fd, short what, void *arg)
{
    struct server_node *n = arg;
    struct server_snap_state *s = n->snap;
    (void)what;
    char scratch[256];
    size_t room = sizeof s->report - 1 - s->report_len;
    char *into = room ? s->report + s->report_len : scratch;
    ssize_t r = read(fd, into, room ? room : sizeof scratch);
    if (r > 0) {
        if (room)
            s->report_len += (size_t)r;
        s->report[s->report_len] = '\0';
        return;
    }
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    unwatch(s);
    bool ok = reap(s);
    server_snap_finished(n, ok, false);
}

int server_snap_begin(struct server_node *n, uint64_t index, uint64_t term)
{
    struct server_snap_state *s = n->snap;
    assert(s->pid == 0 && s->fd < 0);
    assert(index == kv_sm_applied_version(n->sm));
    s->index = index;
    s->term = term;
    s->report_len = 0;
    s->report[0] = '\0';
    char path[PATH_MAX];
    int fds[2];
    if (server_snap_path(n, index, path, sizeof path) != 0 ||
        pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        log_error("snapshot at %llu: cannot start: %s", (unsigned long long)index,
                  strerror(errno));
        s->retry_at_ms = server_now_ms() + SERVER_SNAP_RETRY_MS;
        return -1;
    }
    pid_t parent = getpid(), pid = fork();
    if (pid == 0)
        child_main(n, path, fds[1], parent);
    close(fds[1]);
    s->fd = fds[0];
    s->ev = pid > 0 ? event_new(n->base, s->fd, EV_READ | EV_PERSIST, on_child, n) : NULL;
    if (pid < 0 || !s->ev || event_add(s->ev, NULL) != 0) {
        log_error("snapshot at %llu: cannot start the child: %s", (unsigned long long)index,
                  pid < 0 ? strerror(errno) : "no event");
        unwatch(s);
        if (pid > 0) {
            s->pid = pid;
            kill(pid, SIGKILL);
            reap(s);
        }
        s->retry_at_ms = server_now_ms() + SERVER_SNAP_RETRY_MS;
        return -1;
    }
    s->pid = pid;
    s->started_ms = server_now_ms();
    /* Until the child is gone, freeing old versions would only copy pages (kv_store.h). */
    kv_sm_hold_reclaim(n->sm, true);
    log_info("snapshot at %llu: child %d writes %s", (unsigned long long)index, (int)pid, path);
    return 0;
}

bool server_snap_running(const struct server_node *n)
{
    return n->snap && n->snap->pid != 0;
}

void server_snap_cancel(struct server_node *n)
{
    struct server_snap_state *s = n->snap;
    if (!s || s->pid == 0)
        return;
    kill(s->pid, SIGKILL);
    unwatch(s);
    reap(s);
    char path[PATH_MAX + 8];
    if (server_snap_path(n, s->index, path, PATH_MAX) == 0) {
        strcat(path, ".tmp");
        unlink(path);
    }
    log_info("snapshot at %llu: child stopped", (unsigned long long)s->index);
    server_snap_finished(n, false, true);
}

void server_snap_close(struct server_node *n)
{
    if (!n->snap)
        return;
    server_snap_cancel(n);
    if (n->snap->retry_ev)
        event_free(n->snap->retry_ev);
    free(n->snap);
    n->snap = NULL;
}
