/* server_apply.h: the KV state machine: log entry format, command checks, apply at a version. */
#ifndef SERVER_APPLY_H
#define SERVER_APPLY_H

#include "kv_store.h"
#include "kvstore.h"
#include "thrift.h"

#include <stdbool.h>
#include <stdint.h>

/* A log entry's data: the leader's clock (8 bytes, big-endian microseconds), then one encoded
   KvCommand. The clock travels with the entry so every replica moves its MVCC window alike. */
#define SERVER_ENTRY_HEADER_SIZE 8u

/* Limits a command must respect, beyond the store's own (key and value sizes). */
struct server_cmd_limits {
    uint32_t txn_operations_max;
    uint32_t conflict_keys_max;   /* read-conflict keys plus ranges */
};

/* What applying one entry did; code is an ErrorCode (0: OK). */
struct server_apply_result {
    int code;
    bool found;       /* delete: the key was live before */
    uint64_t version; /* the entry's index */
};

/* Encodes (timestamp, cmd) into out (reset first). 0 or a TP_ERR_* code. */
int server_entry_encode(tp_buf *out, int64_t timestamp_us, const KvCommand *cmd);

/* Checks a command before it is proposed and again when applied (deterministic: it reads
   only the command, the store's config and lim). Returns an ErrorCode, 0 if acceptable. */
int server_cmd_check(const kv_store *s, const struct server_cmd_limits *lim, const KvCommand *cmd);

/* Applies entry `index` (data as server_entry_encode wrote it) and advances the store to it.
   A command that fails (CONFLICT, too large...) changes no key but still takes its version.
   Returns 0, or -1 when data does not decode (a corrupt log). */
int server_apply_entry(kv_store *s, const struct server_cmd_limits *lim, uint64_t index,
                       const uint8_t *data, size_t len, struct server_apply_result *out);

#endif
