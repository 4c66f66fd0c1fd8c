/* log_client.h: lines that anyone who can open a connection can cause (a connection closed,
   refused or evicted, bad input, a failed peer handshake). At most LOG_CLIENT_BURST of them
   are written per LOG_CLIENT_INTERVAL_MS; the rest are counted by kind and told in one
   summary line per interval, so no client can fill the disk with logs. */
#ifndef UTIL_LOG_CLIENT_H
#define UTIL_LOG_CLIENT_H

#include "log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOG_CLIENT_BURST 20u
#define LOG_CLIENT_INTERVAL_MS 10000

enum log_client_kind {
    LOG_CLIENT_CLOSED,
    LOG_CLIENT_REFUSED,
    LOG_CLIENT_EVICTED,
    LOG_CLIENT_BAD_INPUT,
    LOG_CLIENT_AUTH,
    LOG_CLIENT_KINDS
};

/* The pure part, on a clock the caller gives (tests drive it). */
struct log_limiter {
    uint32_t burst;
    int64_t interval_ms;
    int64_t window_start_ms;    /* -1: no window open */
    uint32_t written;           /* lines let through in this window */
    uint64_t held[LOG_CLIENT_KINDS];   /* lines held back in this window, by kind */
    bool held_warn;             /* one of them was a warning */
};

void log_limiter_init(struct log_limiter *l, uint32_t burst, int64_t interval_ms);
/* Whether a line of kind may be written now; when not, it is counted. */
bool log_limiter_admit(struct log_limiter *l, int64_t now_ms, enum log_client_kind kind,
                       enum log_level level);
/* Once the window is over: its summary into out (when a line was held back) and a new window.
   Returns true when out holds a line to write (at *level). */
bool log_limiter_summary(struct log_limiter *l, int64_t now_ms, char *out, size_t size,
                         enum log_level *level);

/* The process's limiter on the monotonic clock. Event-loop thread only. */
void log_client(enum log_client_kind kind, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes the summary of an interval that ended; a timer calls it every interval so the last
   summary of a flood is written even when no line follows it. */
void log_client_flush(void);

#endif
