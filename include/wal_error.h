/* wal_error.h: the WAL's error codes (one X-macro table) and the message buffer they fill. */
#ifndef WAL_ERROR_H
#define WAL_ERROR_H

#include <stddef.h>

/* X(name, value, description). 0 is success and is not in the table. */
#define WAL_ERRORS(X)                                                              \
    X(WAL_ERR_IO, 1, "I/O error")                                                  \
    X(WAL_ERR_NOMEM, 2, "out of memory")                                           \
    X(WAL_ERR_CORRUPT, 3, "corrupt data on disk")                                  \
    X(WAL_ERR_LOCKED, 4, "directory is in use by another process")                 \
    X(WAL_ERR_CONFIG, 5, "invalid configuration")                                  \
    X(WAL_ERR_INDEX, 6, "index is not the next one in the log")                    \
    X(WAL_ERR_TERM, 7, "term goes backwards or does not match")                    \
    X(WAL_ERR_RANGE, 8, "index outside the log")                                   \
    X(WAL_ERR_COMPACTED, 9, "index was compacted into a snapshot")                 \
    X(WAL_ERR_TOO_LARGE, 10, "record payload above record_payload_max")            \
    X(WAL_ERR_NOSPACE, 11, "caller's buffer cannot hold one record")               \
    X(WAL_ERR_FAILED, 12, "an earlier sync failed; the log must be reopened")       \
    X(WAL_ERR_FORMAT, 13, "written in a log format this build does not read")      \
    X(WAL_ERR_FULL, 14, "no space left on the device")

enum wal_err {
#define WAL_ERR_ENUM(name, value, text) name = value,
    WAL_ERRORS(WAL_ERR_ENUM)
#undef WAL_ERR_ENUM
};

/* Text for 0 or a WAL_ERR_* code; never NULL. */
const char *wal_strerror(int err);

/* The detail of the last failure (file, offset, errno text) that a caller can read. */
enum { wal_errmsg_size_max = 512 };
struct wal_errmsg {
    char text[wal_errmsg_size_max];
};

/* Fills msg with "<code text>: <fmt...>" and returns err, so callers can `return wal_fail(...)`. */
int wal_fail(struct wal_errmsg *msg, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, with ": <strerror(errno_value)>" appended; for failed system calls. The code is
   WAL_ERR_NOMEM for ENOMEM, WAL_ERR_FULL for ENOSPC and EDQUOT, WAL_ERR_IO otherwise. */
int wal_fail_sys(struct wal_errmsg *msg, int errno_value, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
