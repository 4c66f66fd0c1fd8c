/* fuzz_decode.c: libFuzzer target for everything the node decodes off the wire.
 *
 * The first input byte picks what the rest is:
 *   0  a whole message, read as the server does (header, dispatch table, args) or, for
 *      replies and exceptions, as the client does (the generated _recv)
 *   1  a KvCommand (what a log entry holds)
 *   2  the args struct of the method picked by the second byte
 *   3  the result struct of the method picked by the second byte
 * Whatever decodes must re-encode to a fixed point: decode, encode to y, decode y, encode
 * again: the same bytes, and the two decoded structs _equal. Every struct is also decoded
 * into an arena: the same result code and, on success, an _equal struct. Any violation
 * traps. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "interop_methods.h"

#define FUZZ_CHECK(cond)                                                                     \
    do {                                                                                     \
        if (!(cond))                                                                         \
            __builtin_trap();                                                                \
    } while (0)

static void *value_new(const im_type *t)
{
    void *v = malloc(t->size);
    FUZZ_CHECK(v != NULL);
    t->init(v);
    return v;
}

static void value_delete(const im_type *t, void *v)
{
    t->free(v);
    free(v);
}

/* One arena for every input, reset after each, as a server's request slot would do. */
static tp_arena *fuzz_arena(void)
{
    static tp_arena arena;
    static bool ready;
    if (!ready) {
        tp_arena_init(&arena, 4096, TP_ARENA_LIMIT_DEFAULT);
        ready = true;
    }
    return &arena;
}

/* Decodes from *from (copied: the caller's reader is untouched) into an arena-backed value
 * of t, and checks the outcome against the malloc'ed decode: heap_rc, and heap if 0. The
 * kvstore types have no string or container defaults, so t->init (Foo_init) allocates
 * nothing and is what Foo_init_arena would do. */
static void check_arena_decode(const im_type *t, const tp_reader *from, int heap_rc,
                               const void *heap)
{
    tp_arena *a = fuzz_arena();
    void *v = tp_arena_alloc(a, t->size, TP_ARENA_ALIGN);
    FUZZ_CHECK(v != NULL);
    t->init(v);
    tp_reader r = *from;
    r.arena = a;
    int rc = t->read(v, &r);
    FUZZ_CHECK(rc == heap_rc);
    if (rc == 0)
        FUZZ_CHECK(t->equal(v, heap) && t->equal(heap, v));
    tp_arena_reset(a);
}

/* decoded came from untrusted bytes: its encoding must be a fixed point of decode+encode. */
static void check_fixed_point(const im_type *t, const void *decoded)
{
    tp_buf y, y2;
    tp_buf_init(&y);
    tp_buf_init(&y2);
    FUZZ_CHECK(t->write(decoded, &y) == 0);
    void *z1 = value_new(t), *z2 = value_new(t);
    tp_reader r;
    tp_reader_init(&r, y.data, y.len, NULL);
    FUZZ_CHECK(t->read(z1, &r) == 0);
    FUZZ_CHECK(tp_reader_remaining(&r) == 0 && r.depth == 0);
    FUZZ_CHECK(t->write(z1, &y2) == 0);
    FUZZ_CHECK(y2.len == y.len && memcmp(y2.data, y.data, y.len) == 0);
    tp_reader_init(&r, y2.data, y2.len, NULL);
    FUZZ_CHECK(t->read(z2, &r) == 0);
    FUZZ_CHECK(t->equal(z1, z2) && t->equal(z2, z1));
    value_delete(t, z1);
    value_delete(t, z2);
    tp_buf_free(&y);
    tp_buf_free(&y2);
}

static void fuzz_struct(const im_type *t, const uint8_t *data, size_t size)
{
    void *v = value_new(t);
    tp_reader r, start;
    tp_reader_init(&r, data, size, NULL);
    start = r;
    int rc = t->read(v, &r);
    FUZZ_CHECK(r.pos <= r.end);
    if (rc == 0) {
        FUZZ_CHECK(r.depth == 0);
        check_fixed_point(t, v);
    }
    check_arena_decode(t, &start, rc, v);
    value_delete(t, v); /* after an error the contract says free is still safe */
}

/* The server's path: the generated dispatch table allocates and reads the args. */
static void fuzz_call(const tp_message *m, tp_reader *r)
{
    const tp_method *method = TransactionalKV_method_find(m->name, m->name_len);
    if (method == NULL)
        return;
    void *args = malloc(method->args_size);
    FUZZ_CHECK(args != NULL);
    method->args_init(args);
    tp_reader start = *r;
    int rc = method->args_read(args, r);
    if (rc == 0)
        check_fixed_point(&im_methods[method->id].args, args);
    /* The server's arena path: args struct and contents from the arena, reset after. */
    tp_arena *a = fuzz_arena();
    void *in_arena = tp_arena_alloc(a, method->args_size, TP_ARENA_ALIGN);
    FUZZ_CHECK(in_arena != NULL);
    method->args_init_arena(in_arena, a);
    start.arena = a;
    FUZZ_CHECK(method->args_read(in_arena, &start) == rc);
    if (rc == 0)
        FUZZ_CHECK(im_methods[method->id].args.equal(in_arena, args));
    tp_arena_reset(a);
    method->args_free(args);
    free(args);
}

/* The client's path: the generated _recv reads the header again and then the result. */
static void fuzz_reply(const tp_message *m, const uint8_t *data, size_t size)
{
    const im_method *im = im_method_find(m->name, m->name_len);
    if (im == NULL)
        return;
    void *result = value_new(&im->result);
    tp_app_exception appex;
    tp_app_exception_init(&appex);
    tp_reader r;
    tp_reader_init(&r, data, size, NULL);
    int rc = im->recv(&r, m->seqid, result, &appex);
    if (rc == 0 || rc == TP_ERR_MISSING_RESULT)
        check_fixed_point(&im->result, result);
    tp_app_exception_free(&appex);
    value_delete(&im->result, result);
}

static void fuzz_message(const uint8_t *data, size_t size)
{
    tp_reader r;
    tp_reader_init(&r, data, size, NULL);
    tp_message m;
    if (tp_read_message_begin(&r, &m) != 0)
        return;
    FUZZ_CHECK(m.name_len <= size && (m.name_len == 0 || m.name != NULL));
    FUZZ_CHECK(m.type >= TP_CALL && m.type <= TP_ONEWAY);
    if (m.type == TP_CALL || m.type == TP_ONEWAY)
        fuzz_call(&m, &r);
    else
        fuzz_reply(&m, data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const im_method *method = &im_methods[data[1] % TransactionalKV_METHOD_COUNT];
    switch (data[0] % 4) {
    case 0:
        fuzz_message(data + 1, size - 1);
        break;
    case 1:
        fuzz_struct(&im_kv_command, data + 1, size - 1);
        break;
    case 2:
        fuzz_struct(&method->args, data + 2, size - 2);
        break;
    default:
        fuzz_struct(&method->result, data + 2, size - 2);
        break;
    }
    return 0;
}
