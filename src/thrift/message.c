/* message.c: message headers, TApplicationException and whole REPLY messages. */
#include <assert.h>
#include <string.h>

#include "thrift.h"

#define TP_VERSION_1 0x80010000u

int tp_write_message_begin(tp_buf *b, const char *name, uint32_t name_len, uint8_t type,
                           int32_t seqid)
{
    assert(type >= TP_CALL && type <= TP_ONEWAY);
    assert(name != NULL || name_len == 0);
    tp_write_i32(b, (int32_t)(TP_VERSION_1 | type));
    tp_write_binary(b, name, name_len);
    tp_write_i32(b, seqid);
    return b->failed ? TP_ERR_NOMEM : 0;
}

void tp_app_exception_init(tp_app_exception *e)
{
    e->message.data = NULL;
    e->message.len = 0;
    e->type = TP_APPEX_UNKNOWN;
}

void tp_app_exception_free(tp_app_exception *e)
{
    tp_bytes_free(&e->message);
    tp_app_exception_init(e);
}

/* struct TApplicationException { 1: string message, 2: i32 type } */
int tp_app_exception_read(tp_app_exception *e, tp_reader *r)
{
    int rc = tp_reader_enter(r);
    while (rc == 0) {
        uint8_t type;
        int16_t id;
        if ((rc = tp_read_field_begin(r, &type, &id)) != 0 || type == TP_T_STOP)
            break;
        if (id == 1 && type == TP_T_STRING)
            rc = tp_read_bytes(r, &e->message);
        else if (id == 2 && type == TP_T_I32)
            rc = tp_read_i32(r, &e->type);
        else
            rc = tp_skip(r, type);
    }
    if (rc != 0) {
        if (r->arena == NULL)
            tp_app_exception_free(e);
        else /* the message is arena memory: drop it, never free it */
            tp_app_exception_init(e);
        return rc;
    }
    tp_reader_leave(r);
    return 0;
}

int tp_write_app_exception(tp_buf *b, const char *name, uint32_t name_len, int32_t seqid,
                           int32_t type, const char *text)
{
    assert(text != NULL);
    size_t text_len = strlen(text);
    assert(text_len <= INT32_MAX);
    tp_write_message_begin(b, name, name_len, TP_EXCEPTION, seqid);
    tp_write_field_begin(b, TP_T_STRING, 1);
    tp_write_binary(b, text, (uint32_t)text_len);
    tp_write_field_begin(b, TP_T_I32, 2);
    tp_write_i32(b, type);
    tp_write_field_stop(b);
    return b->failed ? TP_ERR_NOMEM : 0;
}

int tp_write_reply(tp_buf *b, const tp_method *method, int32_t seqid, const void *result)
{
    assert(method != NULL);
    assert(result != NULL);
    assert(!method->oneway);
    tp_write_message_begin(b, method->name, (uint32_t)strlen(method->name), TP_REPLY, seqid);
    int rc = method->result_write(result, b);
    if (rc != 0)
        return rc;
    return b->failed ? TP_ERR_NOMEM : 0;
}
