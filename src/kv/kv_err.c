/* kv_err.c: names of the store's error codes. */
#include "kv_err.h"

const char *kv_strerror(int code)
{
    switch (code) {
#define KV_ERR_CASE(name, number, text) \
    case number:                        \
        return text;
        KV_ERRORS(KV_ERR_CASE)
#undef KV_ERR_CASE
    }
    return "unknown error";
}
