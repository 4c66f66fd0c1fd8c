/* test_server_identity.c: the data dir's incarnation file: made once, read back, never
   made again over a damaged one. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server_identity.h"

static void temp_dir(char *dir, size_t cap)
{
    snprintf(dir, cap, "/tmp/kvident-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void put(const char *dir, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/identity", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static void cleanup(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/identity", dir);
    unlink(path);
    rmdir(dir);
}

Test(server_identity, made_once_then_read_back)
{
    char dir[64];
    temp_dir(dir, sizeof dir);
    uint64_t a = 0, b = 0, c = 1;
    cr_assert_eq(server_identity_open(dir, &a, &c), 0);
    cr_assert_neq(a, 0);
    cr_assert_eq(c, 0, "no cluster named yet");
    cr_assert_eq(server_identity_open(dir, &b, &c), 0);
    cr_assert_eq(a, b, "the same data dir keeps its incarnation");
    /* Bound: the file names the cluster too, and keeps the incarnation. */
    cr_assert_eq(server_identity_bind(dir, a, 0x00c0ffee12345678ull), 0);
    cr_assert_eq(server_identity_open(dir, &b, &c), 0);
    cr_assert_eq(b, a);
    cr_assert_eq(c, 0x00c0ffee12345678ull);
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s/identity.tmp", dir);
    cr_assert_neq(access(tmp, F_OK), 0, "no temp file left");
    cleanup(dir);
    /* A wiped dir (a new one) gets another. */
    temp_dir(dir, sizeof dir);
    cr_assert_eq(server_identity_open(dir, &b, &c), 0);
    cr_assert_neq(a, b);
    cr_assert_eq(c, 0);
    cleanup(dir);
}

Test(server_identity, a_damaged_file_stops_the_start_and_stays)
{
    static const char *const bad[] = {
        "", "kvstore-identity 1 incarnation 00000000000000zz\n",
        "kvstore-identity 1 incarnation 0000000000000000\n", /* zero */
        "kvstore-identity 1 incarnation 0123456789abcdef", /* no newline: torn */
        "kvstore-identity 2 incarnation 0123456789abcdef\n",
        "kvstore-identity 1 incarnation 0123456789ABCDEF\n",
        "kvstore-identity 1 incarnation 0123456789abcdef\nx",
        "kvstore-identity 1 incarnation 0123456789abcdef\ncluster 0000000000000000\n",
        "kvstore-identity 1 incarnation 0123456789abcdef\ncluster 00c0ffee1234567\n",
        "kvstore-identity 1 incarnation 0123456789abcdef\ncluster 00c0ffee12345678",
        "kvstore-identity 1 incarnation 0123456789abcdef\nclustr 00c0ffee12345678\n",
        "kvstore-identity 1 incarnation 0123456789abcdef\ncluster 00c0ffee12345678\n\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char dir[64];
        temp_dir(dir, sizeof dir);
        put(dir, bad[i]);
        uint64_t v = 0, c = 0;
        cr_assert_eq(server_identity_open(dir, &v, &c), -1, "case %zu", i);
        char path[512], text[128] = {0};
        snprintf(path, sizeof path, "%s/identity", dir);
        FILE *f = fopen(path, "r");
        cr_assert_not_null(f);
        size_t got = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        cr_assert_eq(got, strlen(bad[i]), "case %zu: the damaged file was replaced", i);
        cleanup(dir);
    }
    uint64_t v = 0, c = 1;
    const char *good = "kvstore-identity 1 incarnation 0123456789abcdef\n";
    cr_assert_eq(server_identity_parse(good, strlen(good), &v, &c), 0);
    cr_assert_eq(v, 0x0123456789abcdefull);
    cr_assert_eq(c, 0);
    good = "kvstore-identity 1 incarnation 0123456789abcdef\ncluster 00c0ffee12345678\n";
    cr_assert_eq(server_identity_parse(good, strlen(good), &v, &c), 0);
    cr_assert_eq(c, 0x00c0ffee12345678ull);
}
