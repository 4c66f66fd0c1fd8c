/* log.h: one line per event on stderr: time, level, node, message. */
#ifndef UTIL_LOG_H
#define UTIL_LOG_H

#include <stdbool.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Both are process-wide settings made once at startup. */
void log_set_level(enum log_level level);
void log_set_node(const char *node_name);
/* Parses "debug", "info", "warn", "error"; returns -1 when it is none of them. */
int log_level_parse(const char *name);

/* Whether lines of level are written. */
bool log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
