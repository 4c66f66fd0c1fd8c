/* kv_config.h: the store's limits and MVCC window, with their defaults. */
#ifndef KV_CONFIG_H
#define KV_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#define KV_KEY_MAX_DEFAULT 10000u
#define KV_VALUE_MAX_DEFAULT 100000u
#define KV_TXN_BYTES_MAX_DEFAULT (10u * 1000u * 1000u)
#define KV_WINDOW_US_DEFAULT (5 * 1000 * 1000) /* FoundationDB's 5 s */
#define KV_WINDOW_VERSIONS_DEFAULT 0u          /* 0: bounded by time only */
/* Client sessions (kv_session.h). Every replica must use the same values, so the server
 * never reads them from its config: they are the defaults everywhere (tests may change them). */
#define KV_SESSIONS_MAX_DEFAULT 16384u
#define KV_SESSION_RESULTS_MAX_DEFAULT 256u
#define KV_SESSION_RESULTS_TOTAL_MAX_DEFAULT (1u << 20)

/* Hard ceilings a config may not exceed: the value length shares a 32-bit word with the
 * tombstone flag, and a key must fit the snapshot's 32-bit length field. */
#define KV_KEY_MAX_CEILING (1u << 20)
#define KV_VALUE_MAX_CEILING (1u << 30)
#define KV_TXN_BYTES_MAX_CEILING (1ull << 32)

_Static_assert(KV_KEY_MAX_DEFAULT <= KV_KEY_MAX_CEILING, "default key limit over ceiling");
_Static_assert(KV_VALUE_MAX_DEFAULT <= KV_VALUE_MAX_CEILING, "default value limit over ceiling");
_Static_assert(KV_KEY_MAX_DEFAULT + KV_VALUE_MAX_DEFAULT <= KV_TXN_BYTES_MAX_DEFAULT,
               "one largest set must fit in a transaction");

struct kv_config {
    uint32_t key_max;         /* bytes of one key; a range end may be one byte longer */
    uint32_t value_max;       /* bytes of one value */
    uint64_t txn_bytes_max;   /* bytes of keys, values and end keys in one command */
    uint64_t window_versions; /* versions kept readable below the applied one; 0: unbounded */
    int64_t window_us;        /* leader time kept readable, from entry timestamps; 0: unbounded */
    uint32_t sessions_max;    /* open client sessions; > 0 */
    uint32_t session_results_max; /* answers one session keeps; > 0 */
    uint64_t session_results_total_max; /* answers all sessions keep; > 0 */
};

void kv_config_default(struct kv_config *cfg);
/* True when every field is within its ceiling and non-negative. */
bool kv_config_valid(const struct kv_config *cfg);

#endif
