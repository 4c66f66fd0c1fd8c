/* server_entry.h: a log entry's bytes (leader clock + encoded KvCommand), applied via kv_sm. */
#ifndef SERVER_ENTRY_H
#define SERVER_ENTRY_H

#include "kv_sm.h"
#include "kvstore.h"
#include "thrift.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A log entry's data: the leader's clock (8 bytes, big-endian microseconds), then one encoded
   KvCommand. The clock travels with the entry so every replica moves its MVCC window alike. */
#define SERVER_ENTRY_HEADER_SIZE 8u

/* What applying one entry did; code is an ErrorCode for clients (0: OK). */
struct server_apply_result {
    int code;
    bool found;       /* delete: the key was live before */
    uint64_t version; /* the entry's index; a retry answered from its session: the first
                         try's; openSession: the session id (the entry's index too) */
    bool duplicate;   /* answered from the session table: not applied again */
    const char *leader_hint; /* NOT_LEADER, UNAVAILABLE: the leader's endpoint if known */
};

/* Encodes (timestamp, cmd) into out (reset first). 0 or a TP_ERR_* code. */
int server_entry_encode(tp_buf *out, int64_t timestamp_us, const KvCommand *cmd);

/* Applies entry `index` (data as server_entry_encode wrote it) through the KV state machine,
   which owns every check and conflict rule; a command that fails still takes its version.
   Returns 0, or -1 when data is shorter than its clock header (a corrupt log). */
int server_entry_apply(kv_sm *sm, uint64_t index, const uint8_t *data, size_t len,
                       struct server_apply_result *out);

/* A kv code as clients see it: codes below 100 are ErrorCodes already; local ones (snapshot
   I/O, memory: 100 and up) are INTERNAL. */
int server_code_from_kv(int kv_code);

#endif
