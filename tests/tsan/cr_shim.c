/* cr_shim.c: the test runner behind tests/tsan's criterion.h. Runs every registered test in a
   child of its own (after its .init, before its .fini; .timeout by alarm) and exits non-zero
   when any failed: an assertion, a signal, a timeout or a ThreadSanitizer report (its exit
   code 66). */
#include "criterion/criterion.h"
#include "criterion/redirect.h"

#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct cr_shim_test *first, **last = &first;
static const struct cr_shim_test *running;
static FILE *redirected;

void cr_shim_register(struct cr_shim_test *t)
{
    *last = t;
    last = &t->next;
}

void cr_shim_fail(const char *file, int line, const char *expr, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s:%d: assertion failed: %s%s%s\n", file, line, expr,
            msg[1] ? ":" : "", msg[1] ? msg : "");
    const struct cr_shim_test *t = running;
    running = NULL;
    if (t && t->fini)
        t->fini();
    exit(1);
}

void cr_redirect_stderr(void)
{
    redirected = tmpfile();
    if (!redirected || dup2(fileno(redirected), STDERR_FILENO) < 0) {
        perror("cr_redirect_stderr");
        exit(1);
    }
}

FILE *cr_get_redirected_stderr(void)
{
    fflush(stderr);
    int fd = redirected ? dup(fileno(redirected)) : -1;
    FILE *f = fd >= 0 && lseek(fd, 0, SEEK_SET) == 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        perror("cr_get_redirected_stderr");
        exit(1);
    }
    return f;
}

static void run_child(const struct cr_shim_test *t)
{
    if (t->timeout > 0)
        alarm((unsigned)ceil(t->timeout));
    running = t;
    if (t->init)
        t->init();
    t->fn();
    running = NULL;
    if (t->fini)
        t->fini();
    exit(0);   /* through exit: ThreadSanitizer reports what it saw with its exit code */
}

/* Runs one test; true when it passed. */
static bool run_one(const struct cr_shim_test *t)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return false;
    }
    if (pid == 0)
        run_child(t);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        ;
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    printf("[%s] %s::%s: %.2f s", ok ? "PASS" : "FAIL", t->suite, t->name, s);
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
        printf(": timed out after %.0f s", t->timeout);
    else if (WIFSIGNALED(st))
        printf(": %s", strsignal(WTERMSIG(st)));
    else if (WEXITSTATUS(st) == 66)
        printf(": ThreadSanitizer report (exit 66)");
    else if (!ok)
        printf(": exit %d", WEXITSTATUS(st));
    printf("\n");
    return ok;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--jobs=", 7) != 0) {   /* tests run one at a time anyway */
            fprintf(stderr, "%s: unknown argument %s (a TSan build's stand-in runner)\n",
                    argv[0], argv[i]);
            return 2;
        }
    }
    int tested = 0, failed = 0;
    for (const struct cr_shim_test *t = first; t; t = t->next) {
        tested++;
        failed += !run_one(t);
    }
    printf("Synthesis: Tested: %d | Passing: %d | Failing: %d\n", tested, tested - failed, failed);
    return failed || !tested;
}
