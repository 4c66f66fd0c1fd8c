/* interop_methods.c: wrappers that put every method's generated functions behind void
 * pointers (calling a function through a pointer of another type is undefined). */
#include "interop_methods.h"

#include <string.h>

#define IM_TYPE_WRAP(T)                                                                      \
    static void im_##T##_init(void *p) { T##_init(p); }                                      \
    static void im_##T##_free(void *p) { T##_free(p); }                                      \
    static int im_##T##_write(const void *p, tp_buf *b) { return T##_write(p, b); }          \
    static int im_##T##_read(void *p, tp_reader *r) { return T##_read(p, r); }               \
    static bool im_##T##_equal(const void *a, const void *b) { return T##_equal(a, b); }

#define IM_TYPE(T)                                                                           \
    {                                                                                        \
        .name = #T, .size = sizeof(T), .init = im_##T##_init, .free = im_##T##_free,         \
        .write = im_##T##_write, .read = im_##T##_read, .equal = im_##T##_equal,             \
    }

#define IM_METHOD_WRAP(m)                                                                    \
    IM_TYPE_WRAP(TransactionalKV_##m##_args)                                                 \
    IM_TYPE_WRAP(TransactionalKV_##m##_result)                                               \
    static int im_##m##_send(tp_buf *out, int32_t seqid, const void *args)                  \
    {                                                                                        \
        const TransactionalKV_##m##_args *a = args;                                          \
        return TransactionalKV_##m##_send(out, seqid, &a->request);                          \
    }                                                                                        \
    static int im_##m##_recv(tp_reader *in, int32_t seqid, void *result,                     \
                             tp_app_exception *appex)                                        \
    {                                                                                        \
        return TransactionalKV_##m##_recv(in, seqid, result, appex);                         \
    }

IM_METHODS(IM_METHOD_WRAP)
IM_TYPE_WRAP(KvCommand)

#define IM_METHOD_ENTRY(m)                                                                   \
    [TransactionalKV_METHOD_##m] = {                                                         \
        .name = #m,                                                                          \
        .id = TransactionalKV_METHOD_##m,                                                    \
        .args = IM_TYPE(TransactionalKV_##m##_args),                                         \
        .result = IM_TYPE(TransactionalKV_##m##_result),                                     \
        .send = im_##m##_send,                                                               \
        .recv = im_##m##_recv,                                                               \
    },

const im_method im_methods[TransactionalKV_METHOD_COUNT] = {IM_METHODS(IM_METHOD_ENTRY)};
const im_type im_kv_command = IM_TYPE(KvCommand);

const im_method *im_method_find(const char *name, size_t name_len)
{
    for (size_t i = 0; i < TransactionalKV_METHOD_COUNT; i++) {
        if (strlen(im_methods[i].name) == name_len &&
            memcmp(im_methods[i].name, name, name_len) == 0)
            return &im_methods[i];
    }
    return NULL;
}
