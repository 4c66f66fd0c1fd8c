/* interop_cases.h: named values built in C; interop.py builds the same ones in Python. */
#ifndef INTEROP_CASES_H
#define INTEROP_CASES_H

#include <stddef.h>
#include <stdint.h>

enum ic_kind { IC_CALL, IC_REPLY, IC_EXCEPTION, IC_STRUCT };

typedef struct ic_case {
    const char *name;
    enum ic_kind kind;
    int method;           /* TransactionalKV_METHOD_*; -1 for IC_EXCEPTION and IC_STRUCT */
    const char *msg_name; /* IC_EXCEPTION: the message's method name */
    int32_t seqid;
    /* Fills an initialized value: the method's _args (call) or _result (reply), a
     * tp_app_exception (exception) or a KvCommand (struct). */
    void (*build)(void *value);
} ic_case;

extern const ic_case ic_cases[];
extern const size_t ic_case_count;

#endif
