/* server_watch.h: watches: a call that waits until a key or range changes after a version. */
#ifndef SERVER_WATCH_H
#define SERVER_WATCH_H

#include "server_node.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct server_request;

/* limits.max_watches (SERVER_WATCHES_DEFAULT) waiting at once, each for at most
   limits.watch_timeout_ms (SERVER_WATCH_TIMEOUT_MS_DEFAULT, also its default) and under half
   of limits.idle_timeout_ms, so the connection of a client that waits is not idle-closed. */
/* A WatchEvent's encoding beyond its key and value bytes: its field headers, the version, the
   lengths and the stop byte (11 + 7 + 7 + 1). */
#define SERVER_WATCH_EVENT_OVERHEAD_BYTES 26u

/* Creates the registry and hooks it to the state machine's writes. 0 or -1. */
int server_watch_open(struct server_node *n);
/* Answers every waiting watch SHUTTING_DOWN (a stop does not wait for them). */
void server_watch_stop(struct server_node *n);
void server_watch_close(struct server_node *n);
/* The whole state was replaced (a snapshot installed): every watch looks again. */
void server_watch_restored(struct server_node *n);
uint32_t server_watch_count(const struct server_node *n);

void server_handle_watch(struct server_request *req);

/* One look at the store for a watch (server_watch_scan.c). */
struct watch_query {
    const uint8_t *begin, *end;   /* a key (single) or [begin, end); end NULL: to the end */
    size_t begin_len, end_len;
    bool single;
    uint64_t after;
};

enum watch_outcome { WATCH_WAIT, WATCH_ANSWERED };

/* Fills out with the changes after q->after the store holds: ANSWERED with events (or an
   error: TRANSACTION_TOO_OLD below the MVCC window), or WAIT when there is none; final
   answers an empty reply (version: as far as the node looked) instead of waiting. */
enum watch_outcome server_watch_scan(const struct server_node *n, const struct watch_query *q,
                                     bool final, WatchResponse *out);

#endif
