/* fuzz_seeds: writes a small seed corpus for fuzz_decode into DIR (fuzz/run calls it).
 * Each seed starts with fuzz_decode's selector bytes. Seeds: every method's call and reply
 * with initialized values, the named interop values (nested lists, unions, exceptions,
 * legacy-free strict headers), and every KvCommand member. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interop_cases.h"
#include "interop_methods.h"

static const char *seed_dir;
static unsigned seed_count;

static void put_seed(uint8_t mode, uint8_t method, const tp_buf *body)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/seed-%03u", seed_dir, seed_count++);
    FILE *f = fopen(path, "wb");
    uint8_t head[2] = {mode, method};
    size_t head_len = mode >= 2 ? 2 : 1;
    if (f == NULL || body->failed || fwrite(head, 1, head_len, f) != head_len ||
        fwrite(body->data, 1, body->len, f) != body->len || fclose(f) != 0) {
        fprintf(stderr, "fuzz_seeds: %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

static void *value_new(size_t size)
{
    void *v = calloc(1, size);
    if (v == NULL)
        exit(1);
    return v;
}

/* Every method: call and reply messages (mode 0), bare args (2) and result (3). */
static void method_seeds(void)
{
    tp_buf b;
    tp_buf_init(&b);
    for (uint8_t i = 0; i < TransactionalKV_METHOD_COUNT; i++) {
        const im_method *m = &im_methods[i];
        void *args = value_new(m->args.size), *result = value_new(m->result.size);
        m->args.init(args);
        m->result.init(result);
        /* The contract puts `bool has_success` first in every non-void _result. */
        *(bool *)result = true;
        tp_buf_reset(&b);
        m->send(&b, (int32_t)i, args);
        put_seed(0, 0, &b);
        tp_buf_reset(&b);
        tp_write_reply(&b, &TransactionalKV_methods[i], (int32_t)i, result);
        put_seed(0, 0, &b);
        tp_buf_reset(&b);
        m->args.write(args, &b);
        put_seed(2, i, &b);
        tp_buf_reset(&b);
        m->result.write(result, &b);
        put_seed(3, i, &b);
        m->args.free(args);
        m->result.free(result);
        free(args);
        free(result);
    }
    tp_buf_free(&b);
}

/* The named interop values, as messages or KvCommands. */
static void case_seeds(void)
{
    tp_buf b;
    tp_buf_init(&b);
    for (size_t i = 0; i < ic_case_count; i++) {
        const ic_case *c = &ic_cases[i];
        tp_buf_reset(&b);
        if (c->kind == IC_EXCEPTION) {
            tp_app_exception e;
            tp_app_exception_init(&e);
            c->build(&e);
            tp_write_app_exception(&b, c->msg_name, (uint32_t)strlen(c->msg_name), c->seqid,
                                   e.type, (const char *)e.message.data);
            tp_app_exception_free(&e);
            put_seed(0, 0, &b);
            continue;
        }
        const im_type *t = c->kind == IC_STRUCT ? &im_kv_command
                           : c->kind == IC_CALL ? &im_methods[c->method].args
                                                : &im_methods[c->method].result;
        void *v = value_new(t->size);
        t->init(v);
        c->build(v);
        if (c->kind == IC_CALL)
            im_methods[c->method].send(&b, c->seqid, v);
        else if (c->kind == IC_REPLY)
            tp_write_reply(&b, &TransactionalKV_methods[c->method], c->seqid, v);
        else
            t->write(v, &b);
        put_seed(c->kind == IC_STRUCT ? 1 : 0, 0, &b);
        t->free(v);
        free(v);
    }
    tp_buf_free(&b);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_seeds DIR\n");
        return 2;
    }
    seed_dir = argv[1];
    method_seeds();
    case_seeds();
    printf("fuzz_seeds: %u seeds in %s\n", seed_count, seed_dir);
    return 0;
}
