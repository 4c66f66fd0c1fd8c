/* server_check.c: what a request's decoder cannot check: every enum field of a client request
   holds a value the IDL names. An unknown Consistency or OperationType (a newer client's, or
   garbage) is refused with INVALID_ARGUMENT naming the field, never taken as a default. */
#include "server_check.h"

#include <stdio.h>
#include <string.h>

/* 0 when value is one name_of knows; else ErrorCode_INVALID_ARGUMENT and the message. */
static int check_enum(int value, const char *(*name_of)(int), const char *type,
                      const char *field, char *text, size_t size)
{
    if (name_of(value))
        return 0;
    snprintf(text, size, "INVALID_ARGUMENT: %s: %d is not a %s value", field, value, type);
    return ErrorCode_INVALID_ARGUMENT;
}

static int check_operations(const AtomicCommitRequest *q, char *text, size_t size)
{
    char field[64];
    for (uint32_t i = 0; i < q->operations.count; i++) {
        int value = (int)q->operations.items[i].type;
        if (OperationType_name(value))
            continue;
        snprintf(field, sizeof field, "request.operations[%u].type", i);
        return check_enum(value, OperationType_name, "OperationType", field, text, size);
    }
    return 0;
}

/* A request whose consistency field is an enum with a default. */
#define CHECK_CONSISTENCY(method)                                                        \
    case TransactionalKV_METHOD_##method:                                                \
        return check_enum((int)((const TransactionalKV_##method##_args *)req->args)      \
                              ->request.consistency,                                     \
                          Consistency_name, "Consistency", "request.consistency", text, size);

int server_check_request(const struct server_request *req, char *text, size_t size)
{
    switch (req->method->id) {
        CHECK_CONSISTENCY(get)
        CHECK_CONSISTENCY(getRange)
        CHECK_CONSISTENCY(getReadVersion)
    case TransactionalKV_METHOD_atomicCommit: {
        const TransactionalKV_atomicCommit_args *a = req->args;
        return check_operations(&a->request, text, size);
    }
    default:
        return 0;   /* no enum in its request */
    }
}

/* The response trio every client response with an enum in its request has. */
#define ANSWER_INVALID(method)                                                       \
    case TransactionalKV_METHOD_##method: {                                          \
        TransactionalKV_##method##_result *res = req->result;                        \
        res->has_success = true;                                                     \
        res->success.success = false;                                                \
        res->success.has_error = tp_bytes_set_str(&res->success.error, text) == 0;   \
        res->success.has_error_code = true;                                          \
        res->success.error_code = ErrorCode_INVALID_ARGUMENT;                        \
        break;                                                                       \
    }

void server_answer_invalid(struct server_request *req, const char *text)
{
    switch (req->method->id) {
        ANSWER_INVALID(get)
        ANSWER_INVALID(getRange)
        ANSWER_INVALID(getReadVersion)
        ANSWER_INVALID(atomicCommit)
    default:
        req->app_error = true;   /* server_check_request refuses nothing else */
        break;
    }
    server_request_done(req);
}
