/* reader.c: the out-of-line, limit-checking parts of the binary-protocol reader. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "thrift.h"

const tp_limits tp_limits_default = {
    .string_max = TP_STRING_MAX_DEFAULT,
    .container_max = TP_CONTAINER_MAX_DEFAULT,
    .depth_max = TP_DEPTH_MAX_DEFAULT,
};

_Static_assert(TP_STRING_MAX_DEFAULT <= INT32_MAX, "lengths are i32 on the wire");
_Static_assert(TP_CONTAINER_MAX_DEFAULT <= INT32_MAX, "counts are i32 on the wire");

void tp_reader_init(tp_reader *r, const void *data, size_t len, const tp_limits *limits)
{
    assert(data != NULL || len == 0);
    r->pos = data;
    r->end = len > 0 ? r->pos + len : r->pos; /* no arithmetic on a NULL pointer */
    r->limits = limits != NULL ? limits : &tp_limits_default;
    r->depth = 0;
    r->arena = NULL;
}

void tp_reader_init_arena(tp_reader *r, const void *data, size_t len, const tp_limits *limits,
                          tp_arena *arena)
{
    assert(arena != NULL);
    tp_reader_init(r, data, len, limits);
    r->arena = arena;
}

uint32_t tp_type_size_min(uint8_t type)
{
    switch (type) {
    case TP_T_BOOL:
    case TP_T_BYTE:
    case TP_T_STRUCT: /* just the stop byte */
        return 1;
    case TP_T_I16:
        return 2;
    case TP_T_I32:
    case TP_T_STRING:
        return 4;
    case TP_T_DOUBLE:
    case TP_T_I64:
        return 8;
    case TP_T_SET:
    case TP_T_LIST:
        return 5;
    case TP_T_MAP:
        return 6;
    default:
        return 0;
    }
}

/* Reads an i32 length and checks it against what remains and against max. */
static int read_size(tp_reader *r, uint32_t max, uint32_t elem_size, uint32_t *out)
{
    int32_t n;
    int rc = tp_read_i32(r, &n);
    if (rc != 0)
        return rc;
    if (n < 0)
        return TP_ERR_NEGATIVE_SIZE;
    if ((uint32_t)n > max)
        return TP_ERR_SIZE_LIMIT;
    if ((uint64_t)(uint32_t)n * elem_size > tp_reader_remaining(r))
        return TP_ERR_TRUNCATED;
    *out = (uint32_t)n;
    return 0;
}

int tp_read_bytes(tp_reader *r, tp_bytes *out)
{
    uint32_t len;
    int rc = read_size(r, r->limits->string_max, 1, &len);
    if (rc != 0)
        return rc;
    if (r->arena != NULL) /* never frees: what out held may be arena memory */
        rc = tp_bytes_set_arena(out, r->arena, r->pos, len);
    else if (len == 0)
        tp_bytes_free(out);
    else
        rc = tp_bytes_set(out, r->pos, len);
    if (rc != 0)
        return rc;
    r->pos += len;
    return 0;
}

int tp_read_list_begin(tp_reader *r, uint8_t elem_type, uint32_t *count)
{
    assert(tp_type_size_min(elem_type) > 0);
    if (r->pos == r->end)
        return TP_ERR_TRUNCATED;
    uint8_t wire_type = *r->pos++;
    int rc = read_size(r, r->limits->container_max, tp_type_size_min(elem_type), count);
    if (rc != 0)
        return rc;
    /* An empty container's element type carries nothing; some writers leave it 0. */
    if (wire_type != elem_type && *count > 0)
        return TP_ERR_BAD_TYPE;
    return 0;
}

int tp_read_map_begin(tp_reader *r, uint8_t key_type, uint8_t value_type, uint32_t *count)
{
    uint32_t pair_size = tp_type_size_min(key_type) + tp_type_size_min(value_type);
    assert(tp_type_size_min(key_type) > 0);
    assert(tp_type_size_min(value_type) > 0);
    if (tp_reader_remaining(r) < 2)
        return TP_ERR_TRUNCATED;
    uint8_t wire_key = r->pos[0], wire_value = r->pos[1];
    r->pos += 2;
    int rc = read_size(r, r->limits->container_max, pair_size, count);
    if (rc != 0)
        return rc;
    if ((wire_key != key_type || wire_value != value_type) && *count > 0)
        return TP_ERR_BAD_TYPE;
    return 0;
}

int tp_read_message_begin(tp_reader *r, tp_message *m)
{
    int32_t first;
    uint32_t name_len;
    int rc = tp_read_i32(r, &first);
    if (rc != 0)
        return rc;
    if (first < 0) {
        /* Strict: version in the high half, message type in the low byte. */
        if (((uint32_t)first & 0xffff0000u) != 0x80010000u)
            return TP_ERR_BAD_VERSION;
        m->type = (uint8_t)((uint32_t)first & 0xffu);
        rc = read_size(r, r->limits->string_max, 1, &name_len);
        if (rc != 0)
            return rc;
        m->name = (const char *)r->pos;
        m->name_len = name_len;
        r->pos += name_len;
    } else {
        /* Legacy: the name's length comes first, then the name and a type byte. */
        if ((uint32_t)first > r->limits->string_max)
            return TP_ERR_SIZE_LIMIT;
        if ((uint32_t)first > tp_reader_remaining(r))
            return TP_ERR_TRUNCATED;
        m->name = (const char *)r->pos;
        m->name_len = (uint32_t)first;
        r->pos += first;
        int8_t type;
        if ((rc = tp_read_byte(r, &type)) != 0)
            return rc;
        m->type = (uint8_t)type;
    }
    if (m->type < TP_CALL || m->type > TP_ONEWAY)
        return TP_ERR_BAD_MESSAGE_TYPE;
    return tp_read_i32(r, &m->seqid);
}

static int skip_struct(tp_reader *r)
{
    for (;;) {
        uint8_t type;
        int16_t id;
        int rc = tp_read_field_begin(r, &type, &id);
        if (rc != 0)
            return rc;
        if (type == TP_T_STOP)
            return 0;
        if ((rc = tp_skip(r, type)) != 0)
            return rc;
    }
}

/* Skips count values of each of types[0..ntypes): a list, set (1 type) or map (2 types). */
static int skip_elements(tp_reader *r, const uint8_t *types, int ntypes, uint32_t count)
{
    uint32_t fixed = 0; /* bytes per element when every type has a fixed size, else 0 */
    for (int i = 0; i < ntypes; i++) {
        uint32_t size = tp_type_size_min(types[i]);
        if (size == 0)
            return count == 0 ? 0 : TP_ERR_BAD_TYPE;
        bool is_fixed = types[i] != TP_T_STRING && types[i] < TP_T_STRUCT;
        if (!is_fixed) {
            fixed = 0;
            break;
        }
        fixed += size;
    }
    if (fixed > 0) {
        /* Fixed-size elements: one bounds check, no loop. */
        r->pos += (size_t)count * fixed; /* read_size checked count * size <= remaining */
        return 0;
    }
    for (uint32_t n = 0; n < count; n++)
        for (int i = 0; i < ntypes; i++) {
            int rc = tp_skip(r, types[i]);
            if (rc != 0)
                return rc;
        }
    return 0;
}

static int skip_container(tp_reader *r, uint8_t type)
{
    uint8_t types[2];
    int ntypes = type == TP_T_MAP ? 2 : 1;
    if (tp_reader_remaining(r) < (size_t)ntypes)
        return TP_ERR_TRUNCATED;
    memcpy(types, r->pos, (size_t)ntypes);
    r->pos += ntypes;
    uint32_t size = 0;
    for (int i = 0; i < ntypes; i++)
        size += tp_type_size_min(types[i]) > 0 ? tp_type_size_min(types[i]) : 1;
    uint32_t count;
    int rc = read_size(r, r->limits->container_max, size, &count);
    if (rc != 0)
        return rc;
    return skip_elements(r, types, ntypes, count);
}

int tp_skip(tp_reader *r, uint8_t type)
{
    uint32_t size = tp_type_size_min(type);
    int rc;
    switch (type) {
    case TP_T_BOOL:
    case TP_T_BYTE:
    case TP_T_I16:
    case TP_T_I32:
    case TP_T_I64:
    case TP_T_DOUBLE:
        if (tp_reader_remaining(r) < size)
            return TP_ERR_TRUNCATED;
        r->pos += size;
        return 0;
    case TP_T_STRING: {
        uint32_t len;
        if ((rc = read_size(r, r->limits->string_max, 1, &len)) != 0)
            return rc;
        r->pos += len;
        return 0;
    }
    case TP_T_STRUCT:
    case TP_T_MAP:
    case TP_T_SET:
    case TP_T_LIST:
        if ((rc = tp_reader_enter(r)) != 0)
            return rc;
        rc = type == TP_T_STRUCT ? skip_struct(r) : skip_container(r, type);
        if (rc == 0)
            tp_reader_leave(r);
        return rc;
    default:
        return TP_ERR_BAD_TYPE;
    }
}
