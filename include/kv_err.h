/* kv_err.h: the store's error codes; each number equals the IDL's ErrorCode of the same name. */
#ifndef KV_ERR_H
#define KV_ERR_H

/* X(name, number, text). Codes below 100 mirror idl/kvstore.thrift ErrorCode so the server can
 * pass them through unchanged; codes from 100 up are local (snapshot I/O) and never sent. */
#define KV_ERRORS(X)                                                                  \
    X(KV_OK, 0, "ok")                                                                 \
    X(KV_ERR_NOT_FOUND, 1, "key not found")                                           \
    X(KV_ERR_CONFLICT, 3, "a read-conflict key changed after the read version")      \
    X(KV_ERR_TRANSACTION_TOO_OLD, 4, "read version is below the MVCC window")        \
    X(KV_ERR_FUTURE_VERSION, 5, "read version is above the applied version")         \
    X(KV_ERR_KEY_TOO_LARGE, 6, "key too large")                                       \
    X(KV_ERR_VALUE_TOO_LARGE, 7, "value too large")                                   \
    X(KV_ERR_TRANSACTION_TOO_LARGE, 8, "transaction too large")                       \
    X(KV_ERR_INVALID_ARGUMENT, 9, "invalid argument")                                 \
    X(KV_ERR_INTERNAL, 15, "internal error")                                          \
    X(KV_ERR_SESSION_EXPIRED, 17, "the session is gone or no longer holds this answer")  \
    X(KV_ERR_IO, 100, "snapshot i/o error")                                           \
    X(KV_ERR_CORRUPT, 101, "snapshot is corrupt")                                     \
    X(KV_ERR_NOMEM, 102, "out of memory")                                             \
    X(KV_ERR_CONFIG_MISMATCH, 103, "snapshot was taken with a different MVCC window")

#define KV_ERR_ENUM_ITEM(name, number, text) name = number,
enum kv_err { KV_ERRORS(KV_ERR_ENUM_ITEM) };
#undef KV_ERR_ENUM_ITEM

/* A static string for any code; "unknown error" for numbers not in the table. */
const char *kv_strerror(int code);

#endif
