/* test_interop_codec.c: our generated codec against Apache Thrift's stock Python library.
 * Python (interop.py) writes every named case; we must write the same bytes for the same
 * values built in C (interop_cases.c), read Python's bytes to structs _equal to ours
 * (strict, legacy and framed forms), and Python must read back what we write. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "interop_cases.h"
#include "interop_methods.h"

enum ic_form { IC_PLAIN, IC_FRAMED, IC_LEGACY };
static const char *const form_suffix[] = {"bin", "framed.bin", "legacy.bin"};

static const char *env_required(const char *name)
{
    const char *v = getenv(name);
    cr_assert(v != NULL && v[0] != '\0', "%s is not set: run this test through meson test", name);
    return v;
}

/* Runs interop.py with cmd and dir; returns its exit status. A missing interpreter is a
 * failure that says what to install, never a skip: CI installs it. */
static int run_python(const char *cmd, const char *dir)
{
    const char *python = env_required("INTEROP_PYTHON");
    cr_assert(access(python, X_OK) == 0,
              "%s not found: install python3, python3-thrift and thrift-compiler (tools/deps)",
              python);
    char *argv[] = {(char *)python, (char *)env_required("INTEROP_SCRIPT"), "--idl",
                    (char *)env_required("INTEROP_IDL"), "--build-dir",
                    (char *)env_required("INTEROP_BUILD_DIR"), (char *)cmd, (char *)dir, NULL};
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        execv(python, argv);
        _exit(127);
    }
    int status;
    cr_assert(waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static char *make_temp_dir(void)
{
    char *dir = strdup("/tmp/kv-interop-XXXXXX");
    cr_assert(dir != NULL && mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
    return dir;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_temp_dir(char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

static uint8_t *read_file(const char *dir, const char *name, const char *side, enum ic_form form,
                          size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.%s.%s", dir, name, side, form_suffix[form]);
    FILE *f = fopen(path, "rb");
    cr_assert(f != NULL, "%s: %s", path, strerror(errno));
    uint8_t *data = malloc(1 << 16);
    cr_assert(data != NULL);
    *len = fread(data, 1, 1 << 16, f);
    cr_assert(feof(f) && !ferror(f), "%s: unreadable or larger than 64 KiB", path);
    fclose(f);
    return data;
}

static void write_file(const char *dir, const char *name, enum ic_form form, const tp_buf *b)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.c.%s", dir, name, form_suffix[form]);
    FILE *f = fopen(path, "wb");
    cr_assert(f != NULL, "%s: %s", path, strerror(errno));
    cr_assert(fwrite(b->data, 1, b->len, f) == b->len && fclose(f) == 0, "%s", path);
}

/* The type of a case's value: what build fills and what gets compared. */
static const im_type *case_type(const ic_case *c)
{
    static const im_type appex = {.name = "tp_app_exception", .size = sizeof(tp_app_exception)};
    switch (c->kind) {
    case IC_CALL:
        return &im_methods[c->method].args;
    case IC_REPLY:
        return &im_methods[c->method].result;
    case IC_EXCEPTION:
        return &appex;
    case IC_STRUCT:
        break;
    }
    return &im_kv_command;
}

static void *case_value(const ic_case *c)
{
    const im_type *t = case_type(c);
    void *v = calloc(1, t->size);
    cr_assert(v != NULL);
    if (c->kind == IC_EXCEPTION)
        tp_app_exception_init(v);
    else
        t->init(v);
    c->build(v);
    return v;
}

static void case_value_free(const ic_case *c, void *v)
{
    if (c->kind == IC_EXCEPTION)
        tp_app_exception_free(v);
    else
        case_type(c)->free(v);
    free(v);
}

/* Our encoding, through the public paths: the client's _send for calls, the server's
 * tp_write_reply for replies, tp_write_app_exception, KvCommand_write. */
static void encode(const ic_case *c, const void *v, enum ic_form form, tp_buf *b)
{
    size_t at = form == IC_FRAMED ? tp_frame_begin(b) : 0;
    int rc;
    switch (c->kind) {
    case IC_CALL:
        rc = im_methods[c->method].send(b, c->seqid, v);
        break;
    case IC_REPLY:
        rc = tp_write_reply(b, &TransactionalKV_methods[c->method], c->seqid, v);
        break;
    case IC_EXCEPTION: {
        const tp_app_exception *e = v;
        rc = tp_write_app_exception(b, c->msg_name, (uint32_t)strlen(c->msg_name), c->seqid,
                                    e->type, (const char *)e->message.data);
        break;
    }
    default:
        rc = KvCommand_write(v, b);
        break;
    }
    cr_assert_eq(rc, 0, "%s: encoding: %s", c->name, tp_strerror(rc));
    if (form == IC_FRAMED)
        tp_frame_end(b, at);
}

static void expect_same_bytes(const char *what, const uint8_t *ours, size_t ours_len,
                              const uint8_t *theirs, size_t theirs_len)
{
    size_t n = ours_len < theirs_len ? ours_len : theirs_len;
    size_t i = 0;
    while (i < n && ours[i] == theirs[i])
        i++;
    if (i == n && ours_len == theirs_len)
        return;
    char a[3 * 16 + 1] = "", b[3 * 16 + 1] = "";
    for (size_t k = i; k < i + 16; k++) {
        if (k < ours_len)
            snprintf(a + 3 * (k - i), 4, "%02x ", ours[k]);
        if (k < theirs_len)
            snprintf(b + 3 * (k - i), 4, "%02x ", theirs[k]);
    }
    cr_expect_fail("%s: our bytes (%zu) differ from Python's (%zu) at offset %zu\n"
                   "  ours:   %s\n  python: %s", what, ours_len, theirs_len, i, a, b);
}

static void expect_header(const ic_case *c, const char *what, const tp_message *m, uint8_t type)
{
    const char *name = c->kind == IC_EXCEPTION ? c->msg_name : im_methods[c->method].name;
    cr_expect(m->name_len == strlen(name) && memcmp(m->name, name, m->name_len) == 0,
              "%s: method name '%.*s', expected '%s'", what, (int)m->name_len, m->name, name);
    cr_expect_eq(m->type, type, "%s: message type %d, expected %d", what, m->type, type);
    cr_expect_eq(m->seqid, c->seqid, "%s: seqid %d, expected %d", what, m->seqid, c->seqid);
}

/* The server's path: header, then the dispatch table finds the method and reads its args. */
static void decode_call(const ic_case *c, const char *what, tp_reader *r, const void *want)
{
    tp_message m;
    int rc = tp_read_message_begin(r, &m);
    cr_assert_eq(rc, 0, "%s: header: %s", what, tp_strerror(rc));
    expect_header(c, what, &m, TP_CALL);
    const tp_method *method = TransactionalKV_method_find(m.name, m.name_len);
    cr_assert(method != NULL && method->id == c->method, "%s: dispatch found the wrong method",
              what);
    void *args = malloc(method->args_size);
    cr_assert(args != NULL);
    method->args_init(args);
    rc = method->args_read(args, r);
    cr_expect_eq(rc, 0, "%s: args: %s", what, tp_strerror(rc));
    cr_expect(rc != 0 || im_methods[c->method].args.equal(args, want),
              "%s: decoded args differ from the C-built value", what);
    method->args_free(args);
    free(args);
}

/* The client's path: the generated _recv. */
static void decode_reply(const ic_case *c, const char *what, tp_reader *r, const void *want)
{
    const im_type *t = &im_methods[c->method].result;
    void *result = malloc(t->size);
    cr_assert(result != NULL);
    t->init(result);
    tp_app_exception appex;
    tp_app_exception_init(&appex);
    int rc = im_methods[c->method].recv(r, c->seqid, result, &appex);
    cr_expect_eq(rc, 0, "%s: recv: %s", what, tp_strerror(rc));
    cr_expect(rc != 0 || t->equal(result, want), "%s: decoded result differs from the C-built "
              "value", what);
    tp_app_exception_free(&appex);
    t->free(result);
    free(result);
}

static void decode_exception(const ic_case *c, const char *what, tp_reader *r, const void *want)
{
    const tp_app_exception *w = want;
    tp_message m;
    int rc = tp_read_message_begin(r, &m);
    cr_assert_eq(rc, 0, "%s: header: %s", what, tp_strerror(rc));
    expect_header(c, what, &m, TP_EXCEPTION);
    tp_app_exception e;
    tp_app_exception_init(&e);
    rc = tp_app_exception_read(&e, r);
    cr_expect_eq(rc, 0, "%s: %s", what, tp_strerror(rc));
    cr_expect_eq(e.type, w->type, "%s: exception type %d, expected %d", what, e.type, w->type);
    cr_expect(tp_bytes_equal(&e.message, &w->message), "%s: exception text '%s'", what,
              e.message.data != NULL ? (const char *)e.message.data : "");
    tp_app_exception_free(&e);
}

static void decode_struct(const char *what, tp_reader *r, const void *want)
{
    KvCommand got;
    KvCommand_init(&got);
    int rc = KvCommand_read(&got, r);
    cr_expect_eq(rc, 0, "%s: %s", what, tp_strerror(rc));
    cr_expect(rc != 0 || KvCommand_equal(&got, want), "%s: differs from the C-built value", what);
    KvCommand_free(&got);
}

static void decode_and_compare(const ic_case *c, enum ic_form form, const uint8_t *data,
                               size_t len, const void *want)
{
    char what[256];
    snprintf(what, sizeof what, "%s (python, %s)", c->name, form_suffix[form]);
    if (form == IC_FRAMED) {
        cr_assert(len >= TP_FRAME_HEADER_SIZE && tp_frame_get_len(data) == len - 4,
                  "%s: frame length does not match the %zu bytes", what, len);
        data += TP_FRAME_HEADER_SIZE;
        len -= TP_FRAME_HEADER_SIZE;
    }
    tp_reader r;
    tp_reader_init(&r, data, len, NULL);
    switch (c->kind) {
    case IC_CALL:
        decode_call(c, what, &r, want);
        break;
    case IC_REPLY:
        decode_reply(c, what, &r, want);
        break;
    case IC_EXCEPTION:
        decode_exception(c, what, &r, want);
        break;
    case IC_STRUCT:
        decode_struct(what, &r, want);
        break;
    }
    cr_expect_eq(tp_reader_remaining(&r), 0, "%s: %zu bytes left unread", what,
                 tp_reader_remaining(&r));
    cr_expect_eq(r.depth, 0, "%s: reader depth %u after the message", what, r.depth);
}

/* Python's cases.txt names exactly our cases, in the same order. */
static void expect_same_case_list(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/cases.txt", dir);
    FILE *f = fopen(path, "r");
    cr_assert(f != NULL, "%s: %s", path, strerror(errno));
    char line[256];
    size_t i = 0;
    for (; fgets(line, sizeof line, f) != NULL; i++) {
        line[strcspn(line, " \n")] = '\0';
        cr_assert(i < ic_case_count, "python has more cases than C, first extra: %s", line);
        cr_assert_str_eq(line, ic_cases[i].name, "case %zu: python and C lists disagree", i);
    }
    fclose(f);
    cr_assert_eq(i, ic_case_count, "python has %zu cases, C has %zu", i, ic_case_count);
}

/* Our table of wrappers must line up with the generated dispatch table. */
Test(interop, method_table_matches_dispatch_table)
{
    for (size_t i = 0; i < TransactionalKV_METHOD_COUNT; i++) {
        const tp_method *t = &TransactionalKV_methods[i];
        cr_assert_str_eq(im_methods[i].name, t->name);
        cr_assert_eq(im_methods[i].id, t->id);
        cr_assert_eq(im_methods[i].args.size, t->args_size, "%s", t->name);
        cr_assert_eq(im_methods[i].result.size, t->result_size, "%s", t->name);
        cr_assert_eq(TransactionalKV_method_find(t->name, strlen(t->name)), t);
    }
}

Test(interop, python_bytes_equal_ours_and_decode_equal)
{
    char *dir = make_temp_dir();
    cr_assert_eq(run_python("write", dir), 0, "interop.py write failed (see its stderr)");
    expect_same_case_list(dir);
    tp_buf b;
    tp_buf_init(&b);
    for (size_t i = 0; i < ic_case_count; i++) {
        const ic_case *c = &ic_cases[i];
        void *want = case_value(c);
        enum ic_form last = c->kind == IC_STRUCT ? IC_PLAIN : IC_LEGACY;
        for (enum ic_form form = IC_PLAIN; form <= last; form++) {
            size_t len;
            uint8_t *theirs = read_file(dir, c->name, "py", form, &len);
            if (form != IC_LEGACY) { /* we always write strict headers */
                char what[256];
                snprintf(what, sizeof what, "%s (%s)", c->name, form_suffix[form]);
                tp_buf_reset(&b);
                encode(c, want, form, &b);
                expect_same_bytes(what, b.data, b.len, theirs, len);
            }
            decode_and_compare(c, form, theirs, len, want);
            free(theirs);
        }
        case_value_free(c, want);
    }
    tp_buf_free(&b);
    remove_temp_dir(dir);
}

Test(interop, python_decodes_ours_equal)
{
    char *dir = make_temp_dir();
    tp_buf b;
    tp_buf_init(&b);
    for (size_t i = 0; i < ic_case_count; i++) {
        const ic_case *c = &ic_cases[i];
        void *v = case_value(c);
        enum ic_form last = c->kind == IC_STRUCT ? IC_PLAIN : IC_FRAMED;
        for (enum ic_form form = IC_PLAIN; form <= last; form++) {
            tp_buf_reset(&b);
            encode(c, v, form, &b);
            write_file(dir, c->name, form, &b);
        }
        case_value_free(c, v);
    }
    tp_buf_free(&b);
    cr_expect_eq(run_python("check", dir), 0, "Python could not read back what we wrote "
                 "(interop.py check names the cases on stderr)");
    remove_temp_dir(dir);
}
