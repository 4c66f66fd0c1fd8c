/* test_kvctl.c: kvctl against a real kvnode: outputs and exit codes. */
#include "node_proc.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    cr_assert(strstr(out, "OK version 1"), "%s", out);
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
    cr_assert_str_eq(out, "4\n", "three sets and one transaction");
    cr_assert_eq(kvctl(&p, NULL, "status"), 0);
    cr_assert(strstr(out, "role STANDALONE"), "%s", out);
    cr_assert_eq(kvctl(&p, NULL, "del nothing"), 1);
    cr_assert_eq(kvctl(&p, NULL, "frobnicate"), 2);
    cr_assert_eq(kvctl(&p, NULL, "get"), 2);
    cr_assert_eq(kvctl(&p, NULL, "--hex get zz"), 2);
    cr_assert_eq(kvctl(&p, "launch rockets\\n", "txn"), 2);
    cr_assert_eq(kvctl(&p, NULL, "get --help"), 0);
    cr_assert(strstr(out, "usage: kvctl get KEY"), "%s", out);
    node_stop(&p, SIGTERM);
    cr_assert_eq(kvctl(&p, NULL, "ping"), 3, "a stopped node is a connection error");
    cr_assert(strstr(out, "cannot connect"), "%s", out);
    node_cleanup(&p);
}
