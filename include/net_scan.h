/* net_scan.h: incremental "is a whole unframed Thrift binary message here" scanner. */
#ifndef NET_SCAN_H
#define NET_SCAN_H

#include <stddef.h>
#include <stdint.h>

/* Nesting deeper than this is hostile; matches the runtime's default depth limit. */
#define NET_SCAN_DEPTH_MAX 64u
/* Method names longer than this are not ours. */
#define NET_SCAN_NAME_MAX 256u

#define NET_SCAN_RESULTS(X) \
    X(NET_SCAN_MORE, "need more bytes") \
    X(NET_SCAN_DONE, "a whole message") \
    X(NET_SCAN_BAD_VERSION, "not a binary-protocol message header") \
    X(NET_SCAN_BAD_NAME, "method name length out of range") \
    X(NET_SCAN_BAD_TYPE, "unknown field or element type") \
    X(NET_SCAN_NEGATIVE_SIZE, "negative string or container size") \
    X(NET_SCAN_DEPTH_LIMIT, "nesting too deep") \
    X(NET_SCAN_SIZE_LIMIT, "message longer than the frame limit")

enum net_scan_result {
#define NET_SCAN_ENUM(name, text) name,
    NET_SCAN_RESULTS(NET_SCAN_ENUM)
#undef NET_SCAN_ENUM
};

const char *net_scan_strerror(enum net_scan_result r);

struct net_scan_frame {
    uint8_t kind;        /* TP type code of the container: struct, list/set or map */
    uint8_t elem_type[2];
    uint32_t remaining;  /* values still to skip (maps count keys and values) */
};

/* Resumable: feed bytes as they arrive; the state remembers where it stopped. */
struct net_scan {
    uint64_t consumed;   /* bytes of this message seen so far */
    uint64_t size_max;
    uint64_t skip;       /* raw bytes (string body, name) still to pass over */
    uint32_t need;       /* bytes to gather into acc before the step runs */
    uint32_t have;
    uint8_t acc[8];
    uint8_t step;
    uint8_t value_type;  /* type of the value whose length/size is being read */
    uint32_t depth;
    struct net_scan_frame stack[NET_SCAN_DEPTH_MAX];
};

/* size_max bounds the whole message, header included. */
void net_scan_init(struct net_scan *s, uint64_t size_max);

/* Scans data[0..len); *used says how many bytes belonged to this message. On NET_SCAN_DONE
   the message length is s->consumed; on an error the scanner must be re-initialized. */
enum net_scan_result net_scan_feed(struct net_scan *s, const uint8_t *data, size_t len,
                                   size_t *used);

#endif
