/* thrift.h: Apache Thrift binary protocol runtime that generated code and the server call. */
#ifndef THRIFT_THRIFT_H
#define THRIFT_THRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every error the runtime or generated code returns; 0 is success. */
#define TP_ERRORS(X)                                                            \
    X(TP_ERR_TRUNCATED, 1, "input ends inside a value")                         \
    X(TP_ERR_NEGATIVE_SIZE, 2, "negative length or count")                      \
    X(TP_ERR_SIZE_LIMIT, 3, "length or count above its limit")                  \
    X(TP_ERR_DEPTH_LIMIT, 4, "nesting deeper than the limit")                   \
    X(TP_ERR_BAD_VERSION, 5, "bad protocol version in message header")          \
    X(TP_ERR_BAD_TYPE, 6, "invalid or unexpected wire type")                    \
    X(TP_ERR_MISSING_REQUIRED, 7, "a required field is missing")                \
    X(TP_ERR_UNION, 8, "a union must have exactly one field set")               \
    X(TP_ERR_NOMEM, 9, "out of memory")                                         \
    X(TP_ERR_APP_EXCEPTION, 10, "the peer answered with a TApplicationException") \
    X(TP_ERR_MISSING_RESULT, 11, "reply carries neither a result nor an exception") \
    X(TP_ERR_WRONG_METHOD, 12, "reply is for another method")                   \
    X(TP_ERR_WRONG_SEQID, 13, "reply has another sequence id")                  \
    X(TP_ERR_BAD_MESSAGE_TYPE, 14, "invalid message type")

enum tp_err {
#define TP_ERR_ENUM_(name, value, text) name = value,
    TP_ERRORS(TP_ERR_ENUM_)
#undef TP_ERR_ENUM_
};

/* Names an error code; never NULL. */
const char *tp_strerror(int code);

/* Wire types of the binary protocol. */
enum tp_type {
    TP_T_STOP = 0,
    TP_T_VOID = 1,
    TP_T_BOOL = 2,
    TP_T_BYTE = 3,
    TP_T_DOUBLE = 4,
    TP_T_I16 = 6,
    TP_T_I32 = 8,
    TP_T_I64 = 10,
    TP_T_STRING = 11,
    TP_T_STRUCT = 12,
    TP_T_MAP = 13,
    TP_T_SET = 14,
    TP_T_LIST = 15,
};

/* Message types. */
enum tp_message_type { TP_CALL = 1, TP_REPLY = 2, TP_EXCEPTION = 3, TP_ONEWAY = 4 };

/* The per-message bump allocator a reader may decode into. */
#include "tp_arena.h"

/* Every string and binary value. Owned; data, when non-NULL, holds len + 1 bytes ending in 0. */
typedef struct tp_bytes {
    uint8_t *data;
    uint32_t len;
} tp_bytes;

/* Copies len bytes in (replacing what was there): 0 or TP_ERR_NOMEM. */
int tp_bytes_set(tp_bytes *b, const void *data, size_t len);
/* Copies len bytes into memory from arena a (len + 1 bytes ending in 0; NULL data when len is
 * 0), never freeing what b held: 0 or TP_ERR_NOMEM. */
int tp_bytes_set_arena(tp_bytes *b, tp_arena *a, const void *data, size_t len);
int tp_bytes_set_str(tp_bytes *b, const char *text);
void tp_bytes_free(tp_bytes *b);
bool tp_bytes_equal(const tp_bytes *a, const tp_bytes *b);

/* Growable output. A failed allocation sets failed; later writes then do nothing. */
typedef struct tp_buf {
    uint8_t *data;
    size_t len, cap;
    bool failed;
} tp_buf;

void tp_buf_init(tp_buf *b);
void tp_buf_reset(tp_buf *b);
void tp_buf_free(tp_buf *b);
/* Slow path of tp_buf_reserve: grows so that need more bytes fit; false (and failed) if not. */
bool tp_buf_grow(tp_buf *b, size_t need);

/* Limits on what a reader accepts. */
typedef struct tp_limits {
    uint32_t string_max;    /* bytes in one string, binary or message name */
    uint32_t container_max; /* elements in one list, set or map */
    uint32_t depth_max;     /* nested structs and containers */
} tp_limits;

#define TP_STRING_MAX_DEFAULT (16u * 1024 * 1024)
#define TP_CONTAINER_MAX_DEFAULT 1000000u
#define TP_DEPTH_MAX_DEFAULT 64u
extern const tp_limits tp_limits_default;

/* Reads from [pos, end). After an error the reader is spent: do not read on. */
typedef struct tp_reader {
    const uint8_t *pos, *end;
    const tp_limits *limits;
    uint32_t depth;
    /* NULL: every string and container is malloc'ed and owned by its struct (Foo_free).
     * Otherwise they come from this arena and are released only by tp_arena_reset/free. */
    tp_arena *arena;
} tp_reader;

void tp_reader_init(tp_reader *r, const void *data, size_t len, const tp_limits *limits);
/* tp_reader_init, decoding strings and containers into arena (see codegen/README.md). */
void tp_reader_init_arena(tp_reader *r, const void *data, size_t len, const tp_limits *limits,
                          tp_arena *arena);

/* Message header; name points into the reader's input. */
typedef struct tp_message {
    const char *name;
    uint32_t name_len;
    uint8_t type;
    int32_t seqid;
} tp_message;

/* Accepts strict (versioned) and legacy (unversioned) headers. */
int tp_read_message_begin(tp_reader *r, tp_message *m);
/* Writes a strict header. */
int tp_write_message_begin(tp_buf *b, const char *name, uint32_t name_len, uint8_t type,
                           int32_t seqid);

/* Skips one value of wire type `type`, descending at most limits->depth_max levels. */
int tp_skip(tp_reader *r, uint8_t type);

/* TApplicationException, with Apache Thrift's type codes. */
#define TP_APPEX_TYPES(X)                \
    X(TP_APPEX_UNKNOWN, 0)               \
    X(TP_APPEX_UNKNOWN_METHOD, 1)        \
    X(TP_APPEX_INVALID_MESSAGE_TYPE, 2)  \
    X(TP_APPEX_WRONG_METHOD_NAME, 3)     \
    X(TP_APPEX_BAD_SEQUENCE_ID, 4)       \
    X(TP_APPEX_MISSING_RESULT, 5)        \
    X(TP_APPEX_INTERNAL_ERROR, 6)        \
    X(TP_APPEX_PROTOCOL_ERROR, 7)        \
    X(TP_APPEX_INVALID_TRANSFORM, 8)     \
    X(TP_APPEX_INVALID_PROTOCOL, 9)      \
    X(TP_APPEX_UNSUPPORTED_CLIENT_TYPE, 10)

enum tp_appex_type {
#define TP_APPEX_ENUM_(name, value) name = value,
    TP_APPEX_TYPES(TP_APPEX_ENUM_)
#undef TP_APPEX_ENUM_
};

typedef struct tp_app_exception {
    tp_bytes message;
    int32_t type;
} tp_app_exception;

void tp_app_exception_init(tp_app_exception *e);
void tp_app_exception_free(tp_app_exception *e);
/* Reads the exception struct (after the message header). */
int tp_app_exception_read(tp_app_exception *e, tp_reader *r);
/* Writes a whole EXCEPTION message. */
int tp_write_app_exception(tp_buf *b, const char *name, uint32_t name_len, int32_t seqid,
                           int32_t type, const char *text);

/* One method of a service, as data: the server allocates args and results from it. */
typedef struct tp_method {
    const char *name;
    int id;
    bool oneway;
    size_t args_size;
    void (*args_init)(void *);
    int (*args_read)(void *, tp_reader *);
    void (*args_free)(void *);
    size_t result_size;
    void (*result_init)(void *);
    int (*result_write)(const void *, tp_buf *);
    void (*result_free)(void *);
    /* args_init for a read with an arena: string and container defaults from the arena. */
    void (*args_init_arena)(void *, tp_arena *);
} tp_method;

/* Writes a whole REPLY message for method carrying result. */
int tp_write_reply(tp_buf *b, const tp_method *method, int32_t seqid, const void *result);

/* Framed transport: a 4-byte big-endian length before each message. */
#define TP_FRAME_HEADER_SIZE 4u
void tp_frame_put_len(uint8_t out[4], uint32_t len);
uint32_t tp_frame_get_len(const uint8_t in[4]);
/* Reserves a frame header at the end of b and returns its offset for tp_frame_end. */
size_t tp_frame_begin(tp_buf *b);
/* Fills in the header written by tp_frame_begin with the length of what followed it. */
void tp_frame_end(tp_buf *b, size_t header_offset);

/* Fast inline readers and writers of single values. */
#include "tp_inline.h"

#endif
