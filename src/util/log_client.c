/* log_client.c: a bounded number of client-caused lines per interval, then one summary. */
#include "log_client.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const kind_names[LOG_CLIENT_KINDS] = {
    [LOG_CLIENT_CLOSED] = "closed",
    [LOG_CLIENT_REFUSED] = "refused",
    [LOG_CLIENT_EVICTED] = "evicted",
    [LOG_CLIENT_BAD_INPUT] = "bad input",
    [LOG_CLIENT_AUTH] = "failed peer handshakes",
};

void log_limiter_init(struct log_limiter *l, uint32_t burst, int64_t interval_ms)
{
    memset(l, 0, sizeof *l);
    l->burst = burst;
    l->interval_ms = interval_ms;
    l->window_start_ms = -1;
}

bool log_limiter_admit(struct log_limiter *l, int64_t now_ms, enum log_client_kind kind,
                       enum log_level level)
{
    if (l->window_start_ms < 0)
        l->window_start_ms = now_ms;
    if (l->written < l->burst) {
        l->written++;
        return true;
    }
    l->held[kind]++;
    l->held_warn = l->held_warn || level >= LOG_WARN;
    return false;
}

bool log_limiter_summary(struct log_limiter *l, int64_t now_ms, char *out, size_t size,
                         enum log_level *level)
{
    if (l->window_start_ms < 0 || now_ms - l->window_start_ms < l->interval_ms)
        return false;
    uint64_t total = 0;
    for (int k = 0; k < LOG_CLIENT_KINDS; k++)
        total += l->held[k];
    size_t n = 0;
    if (total > 0) {
        n = (size_t)snprintf(out, size, "%llu more lines about client connections held back in "
                             "the last %lld s:", (unsigned long long)total,
                             (long long)((now_ms - l->window_start_ms) / 1000));
        for (int k = 0; k < LOG_CLIENT_KINDS && n < size; k++)
            if (l->held[k] > 0)
                n += (size_t)snprintf(out + n, size - n, " %llu %s,",
                                      (unsigned long long)l->held[k], kind_names[k]);
        if (n < size)
            out[n - 1] = '\0';   /* the last comma */
        *level = l->held_warn ? LOG_WARN : LOG_INFO;
    }
    log_limiter_init(l, l->burst, l->interval_ms);
    return total > 0;
}

static struct log_limiter limiter = {LOG_CLIENT_BURST, LOG_CLIENT_INTERVAL_MS, -1, 0, {0}, false};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void log_client_flush(void)
{
    char line[512];
    enum log_level level;
    if (log_limiter_summary(&limiter, now_ms(), line, sizeof line, &level))
        log_msg(level, "%s", line);
}

void log_client(enum log_client_kind kind, enum log_level level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    log_client_flush();
    if (!log_limiter_admit(&limiter, now_ms(), kind, level))
        return;
    char line[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log_msg(level, "%s", line);
}
