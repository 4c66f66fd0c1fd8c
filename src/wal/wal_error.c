/* wal_error.c: error code names and the formatted messages that carry file, offset and errno. */
#include "wal_error.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *wal_strerror(int err)
{
    switch (err) {
    case 0:
        return "ok";
#define WAL_ERR_CASE(name, value, text) \
    case value:                         \
        return text;
        WAL_ERRORS(WAL_ERR_CASE)
#undef WAL_ERR_CASE
    default:
        return "unknown wal error";
    }
}

__attribute__((format(printf, 4, 0)))
static void wal_errmsg_vformat(struct wal_errmsg *msg, int err, const char *suffix,
                               const char *fmt, va_list ap)
{
    int n = snprintf(msg->text, sizeof msg->text, "%s: ", wal_strerror(err));
    assert(n > 0);
    if ((size_t)n < sizeof msg->text)
        vsnprintf(msg->text + n, sizeof msg->text - (size_t)n, fmt, ap);
    size_t used = strlen(msg->text);
    if (suffix && used < sizeof msg->text)
        snprintf(msg->text + used, sizeof msg->text - used, ": %s", suffix);
}

int wal_fail(struct wal_errmsg *msg, int err, const char *fmt, ...)
{
    assert(err != 0);
    if (msg) {
        va_list ap;
        va_start(ap, fmt);
        wal_errmsg_vformat(msg, err, NULL, fmt, ap);
        va_end(ap);
    }
    return err;
}

int wal_fail_sys(struct wal_errmsg *msg, int errno_value, const char *fmt, ...)
{
    int err = errno_value == ENOMEM                              ? WAL_ERR_NOMEM
              : errno_value == ENOSPC || errno_value == EDQUOT ? WAL_ERR_FULL
                                                               : WAL_ERR_IO;
    if (msg) {
        char sys[128];
        const char *text = strerror_r(errno_value, sys, sizeof sys); /* GNU variant */
        va_list ap;
        va_start(ap, fmt);
        wal_errmsg_vformat(msg, err, text, fmt, ap);
        va_end(ap);
    }
    return err;
}
