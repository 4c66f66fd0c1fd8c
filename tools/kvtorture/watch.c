/* watch.c: the nodes are watched: one that exits when the nemesis did not kill it, or whose
   log shows an assertion, a sanitizer report or an ERROR line, fails the run
   (KVT_EXIT_NODE_FAILED) with its exit status and last log lines. In this code a broken
   invariant is an assertion abort, so this is how most consensus bugs show themselves. */
#include "kvtorture.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* New log bytes are read this many at a time; a line longer than that is scanned in parts. */
#define WATCH_CHUNK 8192
#define WATCH_TAIL_BYTES 4096
#define WATCH_TAIL_LINES 12

/* What in a log line means the node is broken (log.c writes the level as "ERROR"). */
/* [0] is skipped while a disk nemesis makes ERROR lines expected (errors_expected). */
static const char *const fatal_marks[] = {
    " ERROR ", "Assertion", "AddressSanitizer", "LeakSanitizer", "runtime error:",
    "ThreadSanitizer",
};

static void record(struct kvt_node *n, const char *why, const char *line, size_t len)
{
    if (n->failure[0])
        return;   /* the first sign is the one to read */
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    snprintf(n->failure, sizeof n->failure, "%s%.*s", why, (int)(len > 120 ? 120 : len), line);
    n->failure_ns = kvt_now_ns();
}

void kvt_watch_exited(struct kvt_node *n, int status, bool killed_by_us)
{
    if (killed_by_us && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        return;
    char why[96];
    if (WIFSIGNALED(status))
        snprintf(why, sizeof why, "exited on signal %d (%s)%s", WTERMSIG(status),
                 strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
    else
        snprintf(why, sizeof why, "exited with status %d", WEXITSTATUS(status));
    record(n, why, "", 0);
}

/* restart-wipe starts a wiped node under its old member id on purpose: the ERROR it logs on
   hearing it is refused (server: cluster's refused state) is what the nemesis waits for. */
static bool refusal(const struct kvt_node *n, const char *line, size_t len)
{
    static const char said[] = "is bound to another data dir";
    return n->refusal_expected && memmem(line, len, said, sizeof said - 1);
}

/* Scans whole lines of buf[0, len) for a fatal mark; returns the bytes consumed (up to the
   last newline, or all of a full chunk without one). */
static size_t scan(struct kvt_node *n, const char *buf, size_t len)
{
    size_t done = 0;
    for (const char *nl; (nl = memchr(buf + done, '\n', len - done)) != NULL;) {
        size_t line_len = (size_t)(nl - (buf + done)) + 1;
        /* Under a disk nemesis the node logs its storage failure as an ERROR, by design;
           an assertion or a sanitizer report is still a bug. */
        for (size_t m = n->errors_expected ? 1 : 0; m < sizeof fatal_marks / sizeof *fatal_marks;
             m++)
            if (memmem(buf + done, line_len, fatal_marks[m], strlen(fatal_marks[m])) &&
                !(m == 0 && refusal(n, buf + done, line_len))) {
                record(n, "logged: ", buf + done, line_len);
                break;
            }
        done += line_len;
    }
    return done == 0 && len == WATCH_CHUNK ? len : done;
}

static void scan_log(struct kvt_node *n)
{
    int fd = open(n->log, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[WATCH_CHUNK];
    for (;;) {
        ssize_t got = pread(fd, buf, sizeof buf, (off_t)n->log_scanned);
        if (got <= 0)
            break;
        size_t used = scan(n, buf, (size_t)got);
        if (used == 0)
            break;   /* a partial last line: read again once it is whole */
        n->log_scanned += (long long)used;
    }
    close(fd);
}

void kvt_watch_poll(struct kvt_cluster *c)
{
    for (unsigned i = 0; i < c->count; i++) {
        struct kvt_node *n = &c->nodes[i];
        int status;
        if (n->pid > 0 && waitpid(n->pid, &status, WNOHANG) == n->pid) {
            n->pid = 0;
            n->paused = false;
            kvt_watch_exited(n, status, false);
        }
        scan_log(n);
    }
}

static void print_tail(unsigned i, const struct kvt_node *n)
{
    int fd = open(n->log, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[WATCH_TAIL_BYTES + 1];
    off_t end = lseek(fd, 0, SEEK_END);
    off_t from = end > WATCH_TAIL_BYTES ? end - WATCH_TAIL_BYTES : 0;
    ssize_t got = pread(fd, buf, WATCH_TAIL_BYTES, from);
    close(fd);
    if (got <= 0)
        return;
    size_t len = (size_t)got;
    if (len > 0 && buf[len - 1] == '\n')
        len--;
    size_t start = len;
    for (int lines = 0; start > 0; start--)
        if (buf[start - 1] == '\n' && ++lines == WATCH_TAIL_LINES)
            break;
    buf[len] = '\0';
    printf("  node %u log (%s), last lines:\n", i, n->log);
    for (const char *line = buf + start; *line;) {
        const char *nl = strchr(line, '\n');
        int line_len = nl ? (int)(nl - line) : (int)strlen(line);
        printf("    %.*s\n", line_len, line);
        line += line_len + (nl != NULL);
    }
}

unsigned kvt_watch_report(const struct kvt_cluster *c)
{
    unsigned failed = 0;
    for (unsigned i = 0; i < c->count; i++) {
        const struct kvt_node *n = &c->nodes[i];
        if (!n->failure[0])
            continue;
        failed++;
        printf("node failed: node %u %s, %.2f s into the run\n", i, n->failure,
               (double)(n->failure_ns - c->up_ns) / 1e9);
        print_tail(i, n);
    }
    return failed;
}

long long kvt_log_size(const struct kvt_node *n)
{
    struct stat st;
    return stat(n->log, &st) == 0 ? (long long)st.st_size : 0;
}

bool kvt_log_has(const struct kvt_node *n, long long from, const char *text)
{
    int fd = open(n->log, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buf[8192];
    size_t len = strlen(text);
    bool found = false;
    ssize_t got;
    /* Windows overlap by the text's length, so a line split between reads is still seen. */
    while (!found && (got = pread(fd, buf, sizeof buf - 1, from)) > 0) {
        buf[got] = '\0';
        found = strstr(buf, text) != NULL;
        if ((size_t)got <= len)
            break;
        from += got - (ssize_t)len;
    }
    close(fd);
    return found;
}
