/* test_thriftc_errors.c: thriftc rejects bad IDL with file:line:col messages and status 1. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];

static void make_dir(void)
{
    strcpy(dir, "/tmp/thriftc-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(thriftc, .init = make_dir, .fini = remove_dir);

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

/* Runs thriftc on dir/name; returns its exit status and its stderr in out. */
static int run_thriftc(const char *name, char *out, size_t out_size)
{
    const char *thriftc = getenv("THRIFTC");
    cr_assert_not_null(thriftc, "meson passes THRIFTC");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' -o . %s 2>&1", dir, thriftc, name);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, out_size - 1, p);
    out[n] = 0;
    int status = pclose(p);
    cr_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void expect_error(const char *idl, const char *message)
{
    char out[4096];
    write_file("bad.thrift", idl);
    int status = run_thriftc("bad.thrift", out, sizeof out);
    cr_assert_eq(status, 1, "status %d for:\n%s\noutput: %s", status, idl, out);
    cr_assert_not_null(strstr(out, message), "expected \"%s\" in \"%s\"", message, out);
    char h[256];
    snprintf(h, sizeof h, "%s/bad.h", dir);
    cr_assert_neq(access(h, F_OK), 0, "no output after an error");
}

Test(thriftc, syntax_errors)
{
    expect_error("struct A {\n  1: i32\n}\n", "bad.thrift:3:1: expected a field name but found '}'");
    expect_error("struct A {\n  1: i32 x\n", "bad.thrift:3:1: expected '}' but found end of file");
    expect_error("/* open\nstruct A {}\n", "bad.thrift:1:1: unterminated comment");
    expect_error("const string S = \"abc\n", "bad.thrift:1:18: unterminated string");
    expect_error("struct A { 1: i32 x } $", "bad.thrift:1:23: unexpected character '$'");
    expect_error("strukt A {}", "bad.thrift:1:1: expected a definition but found 'strukt'");
    expect_error("struct A {\n  1: list<i32 x\n}", "bad.thrift:2:15: expected '>' but found 'x'");
    expect_error("enum E { A = x }", "bad.thrift:1:14: expected an integer but found 'x'");
    expect_error("struct struct {}", "bad.thrift:1:8: expected a name but found keyword 'struct'");
}

Test(thriftc, missing_and_duplicate_fields)
{
    expect_error("struct A {\n  i32 x\n}", "bad.thrift:2:3: missing field id before 'i32'");
    expect_error("struct A {\n  1: i32 x,\n  1: i32 y\n}",
                 "bad.thrift:3:3: duplicate field id 1 ('x' and 'y')");
    expect_error("struct A {\n  1: i32 x,\n  2: string x\n}",
                 "bad.thrift:3:3: duplicate field name 'x'");
    expect_error("struct A { 0: i32 x }", "bad.thrift:1:12: field id 0 of 'x' must be positive");
    expect_error("service S { void f(i32 x) }", "bad.thrift:1:20: missing field id before 'i32'");
}

Test(thriftc, undefined_and_misused_names)
{
    expect_error("struct A {\n  1: Missing m\n}", "bad.thrift:2:6: undefined type 'Missing'");
    expect_error("struct A { 1: list<map<string, Nope>> m }",
                 "bad.thrift:1:32: undefined type 'Nope'");
    expect_error("struct A {}\nstruct A {}", "bad.thrift:2:1: duplicate definition of 'A'");
    expect_error("struct A { 1: A inner }", "bad.thrift:1:1: 'A' contains itself by value");
    expect_error("service S {}\nstruct A { 1: S s }", "bad.thrift:2:15: 'S' is a service, not a type");
    expect_error("service S extends T {}", "bad.thrift:1:19: 'T' is not a service");
    expect_error("struct A { 1: i32 int }", "bad.thrift:1:12: 'int' is a C keyword");
    expect_error("typedef B A\ntypedef A B", "refers to itself");
    expect_error("include \"nowhere.thrift\"\n", "bad.thrift:1:1: cannot find included file");
}

Test(thriftc, service_and_value_rules)
{
    expect_error("service S {\n  oneway i32 f()\n}", "bad.thrift:2:3: oneway method 'f' must return void");
    expect_error("struct E {}\nservice S {\n  void f() throws (1: E e)\n}",
                 "bad.thrift:3:20: 'e' is not an exception");
    expect_error("service S {\n  void f(),\n  void f()\n}", "bad.thrift:3:3: duplicate method 'f'");
    expect_error("union U { 1: required i32 x }", "bad.thrift:1:11: union field 'x' cannot be required");
    expect_error("struct A { 1: i8 x = 300 }", "bad.thrift:1:22: 300 does not fit i8");
    expect_error("enum E { A }\nstruct S { 1: E e = E.B }", "bad.thrift:2:21: 'E.B' is not a value of enum 'E'");
    expect_error("struct A { 1: string s = 5 }", "bad.thrift:1:26: expected a string");
    expect_error("enum E { A = 1, B = 1 }", "bad.thrift:1:17: enum values 'A' and 'B' are both 1");
}

Test(thriftc, good_idl_with_include_compiles)
{
    char out[4096];
    write_file("base.thrift", "enum Kind { X = 1 }\nstruct P { 1: Kind k = Kind.X }\n");
    write_file("top.thrift", "include \"base.thrift\"\n# comment\nstruct T { 1: base.P p }\n");
    cr_assert_eq(run_thriftc("top.thrift", out, sizeof out), 0, "%s", out);
    char h[256];
    snprintf(h, sizeof h, "%s/top.h", dir);
    FILE *f = fopen(h, "r");
    cr_assert_not_null(f);
    char first[128];
    cr_assert_not_null(fgets(first, sizeof first, f));
    fclose(f);
    cr_assert(strstr(first, "generated by codegen from") != NULL, "%s", first);
}
