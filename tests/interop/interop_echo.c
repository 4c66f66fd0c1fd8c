/* interop_echo: reads Thrift binary messages (or bare KvCommand structs) on stdin, decodes
 * each with the generated code and writes our re-encoding to stdout, in the same form.
 *   interop_echo framed|unframed|kvcommand
 * Canonical input comes back byte for byte, so a foreign implementation can check both our
 * decoder and our encoder by comparing bytes. Exits 1 (naming the message) on any error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interop_methods.h"

enum echo_mode { ECHO_FRAMED, ECHO_UNFRAMED, ECHO_KVCOMMAND };

static uint8_t *read_all(FILE *in, size_t *len)
{
    size_t cap = 1 << 16;
    uint8_t *data = malloc(cap);
    *len = 0;
    while (data != NULL) {
        *len += fread(data + *len, 1, cap - *len, in);
        if (*len < cap)
            return ferror(in) ? (free(data), NULL) : data;
        uint8_t *grown = realloc(data, cap * 2);
        if (grown == NULL)
            free(data);
        data = grown;
        cap *= 2;
    }
    return NULL;
}

/* Decodes one struct of type t and writes it again. */
static int echo_struct(const im_type *t, tp_reader *r, tp_buf *out)
{
    void *value = malloc(t->size);
    if (value == NULL)
        return TP_ERR_NOMEM;
    t->init(value);
    int rc = t->read(value, r);
    if (rc == 0)
        rc = t->write(value, out);
    t->free(value);
    free(value);
    return rc;
}

static int echo_call(const tp_message *m, tp_reader *r, tp_buf *out)
{
    /* The server's path: the generated dispatch table finds the method and reads its args. */
    const tp_method *method = TransactionalKV_method_find(m->name, m->name_len);
    if (method == NULL) {
        fprintf(stderr, "interop_echo: unknown method '%.*s'\n", (int)m->name_len, m->name);
        return TP_ERR_WRONG_METHOD;
    }
    void *args = malloc(method->args_size);
    if (args == NULL)
        return TP_ERR_NOMEM;
    method->args_init(args);
    int rc = method->args_read(args, r);
    if (rc == 0)
        rc = im_methods[method->id].send(out, m->seqid, args);
    method->args_free(args);
    free(args);
    return rc;
}

static int echo_reply(const tp_message *m, tp_reader *r, tp_buf *out)
{
    const im_method *im = im_method_find(m->name, m->name_len);
    if (im == NULL)
        return TP_ERR_WRONG_METHOD;
    void *result = malloc(im->result.size);
    if (result == NULL)
        return TP_ERR_NOMEM;
    im->result.init(result);
    int rc = im->result.read(result, r);
    if (rc == 0)
        rc = tp_write_reply(out, &TransactionalKV_methods[im->id], m->seqid, result);
    im->result.free(result);
    free(result);
    return rc;
}

static int echo_app_exception(const tp_message *m, tp_reader *r, tp_buf *out)
{
    tp_app_exception e;
    tp_app_exception_init(&e);
    int rc = tp_app_exception_read(&e, r);
    if (rc == 0 && e.message.len > 0 && memchr(e.message.data, 0, e.message.len) != NULL) {
        /* tp_write_app_exception takes a C string. */
        fprintf(stderr, "interop_echo: exception text holds a NUL byte\n");
        rc = TP_ERR_BAD_TYPE;
    }
    if (rc == 0)
        rc = tp_write_app_exception(out, m->name, m->name_len, m->seqid, e.type,
                                    e.message.data != NULL ? (const char *)e.message.data : "");
    tp_app_exception_free(&e);
    return rc;
}

static int echo_message(tp_reader *r, tp_buf *out)
{
    tp_message m;
    int rc = tp_read_message_begin(r, &m);
    if (rc != 0)
        return rc;
    switch (m.type) {
    case TP_CALL:
        return echo_call(&m, r, out);
    case TP_REPLY:
        return echo_reply(&m, r, out);
    case TP_EXCEPTION:
        return echo_app_exception(&m, r, out);
    default:
        return TP_ERR_BAD_MESSAGE_TYPE;
    }
}

static int echo_one(enum echo_mode mode, tp_reader *r, tp_buf *out)
{
    if (mode == ECHO_KVCOMMAND)
        return echo_struct(&im_kv_command, r, out);
    if (mode == ECHO_UNFRAMED)
        return echo_message(r, out);
    if (tp_reader_remaining(r) < TP_FRAME_HEADER_SIZE)
        return TP_ERR_TRUNCATED;
    uint32_t len = tp_frame_get_len(r->pos);
    r->pos += TP_FRAME_HEADER_SIZE;
    if (len > tp_reader_remaining(r))
        return TP_ERR_TRUNCATED;
    tp_reader frame;
    tp_reader_init(&frame, r->pos, len, NULL);
    r->pos += len;
    size_t at = tp_frame_begin(out);
    int rc = echo_message(&frame, out);
    if (rc == 0 && tp_reader_remaining(&frame) != 0) {
        fprintf(stderr, "interop_echo: %zu bytes left in a frame\n", tp_reader_remaining(&frame));
        rc = TP_ERR_BAD_TYPE;
    }
    tp_frame_end(out, at);
    return rc;
}

int main(int argc, char **argv)
{
    enum echo_mode mode;
    if (argc == 2 && strcmp(argv[1], "framed") == 0)
        mode = ECHO_FRAMED;
    else if (argc == 2 && strcmp(argv[1], "unframed") == 0)
        mode = ECHO_UNFRAMED;
    else if (argc == 2 && strcmp(argv[1], "kvcommand") == 0)
        mode = ECHO_KVCOMMAND;
    else {
        fprintf(stderr, "usage: interop_echo framed|unframed|kvcommand < in > out\n");
        return 2;
    }
    size_t len;
    uint8_t *data = read_all(stdin, &len);
    if (data == NULL) {
        fprintf(stderr, "interop_echo: reading stdin: %s\n", strerror(errno));
        return 1;
    }
    tp_reader r;
    tp_reader_init(&r, data, len, NULL);
    tp_buf out;
    tp_buf_init(&out);
    int rc = 0;
    size_t index = 0;
    for (; rc == 0 && tp_reader_remaining(&r) > 0; index++) {
        size_t offset = (size_t)(r.pos - data);
        rc = echo_one(mode, &r, &out);
        if (rc != 0)
            fprintf(stderr, "interop_echo: item %zu at offset %zu: %s\n", index, offset,
                    tp_strerror(rc));
    }
    if (rc == 0 && (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0)) {
        fprintf(stderr, "interop_echo: writing stdout: %s\n", strerror(errno));
        rc = 1;
    }
    tp_buf_free(&out);
    free(data);
    return rc == 0 ? 0 : 1;
}
