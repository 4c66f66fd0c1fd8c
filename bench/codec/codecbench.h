/* codecbench.h: what the C driver and the optional Apache Thrift C++ half share. */
#ifndef CODECBENCH_H
#define CODECBENCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The benchmark's values: SetRequest with a 16-byte key and a 100-byte value, and a
 * GetRangeResponse of 100 such pairs (has_more, success, version 7). Byte i of key j is
 * cb_key_byte(j, i), of its value cb_value_byte(j, i); SetRequest uses pair 0. */
#define CB_KEY_LEN 16u
#define CB_VALUE_LEN 100u
#define CB_RANGE_PAIRS 100u
#define CB_RANGE_VERSION 7

static inline uint8_t cb_key_byte(uint32_t pair, uint32_t i) { return (uint8_t)(pair * 31u + i); }
static inline uint8_t cb_value_byte(uint32_t pair, uint32_t i)
{
    return (uint8_t)(pair * 7u + i * 13u + 0xa5u);
}

/* What one implementation measured for one value. */
typedef struct cb_timing {
    double encode_ns; /* per operation, best of the repeats */
    double decode_ns;
    size_t bytes;     /* encoded size */
} cb_timing;

typedef struct cb_config {
    double run_ms; /* time per repeat */
    int repeats;
} cb_config;

/* Nanoseconds of a monotonic clock. */
uint64_t cb_now_ns(void);

/* Which Apache Thrift C++ protocol: TBinaryProtocol (virtual transport calls, the usual
 * one) or TBinaryProtocolT<TMemoryBuffer> (the transport known at compile time). */
enum { CB_CPP_GENERIC, CB_CPP_TEMPLATED };

/* The C++ half (codecbench_cpp.cpp): fills set and range with Apache Thrift's C++ library
 * timings and copies its encodings out (for the driver to compare with ours). Returns 0, or
 * -1 with a message on stderr. */
int cb_cpp_run(const cb_config *cfg, int variant, cb_timing *set, cb_timing *range,
               uint8_t *set_bytes, size_t set_cap, uint8_t *range_bytes, size_t range_cap);

#ifdef __cplusplus
}
#endif

#endif
