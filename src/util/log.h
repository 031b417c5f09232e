/*
 * log: structured logs, one JSON object per line on stderr:
 *   {"ts":"2026-11-24T18:30:00.123Z","level":"warn","msg":"...","k":"v",...}
 * Messages below the level set with log_set_level are dropped. Fields come
 * as key, value string pairs ending with NULL; values are JSON-escaped.
 */
#ifndef TEXTDESK_UTIL_LOG_H
#define TEXTDESK_UTIL_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the least level written; returns -1 for an unknown name. */
int log_set_level_name(const char *name);
void log_set_level(int level);
/* log_kv(LOG_WARN, "gateway refused", "gateway", "kannel1", "error", e, NULL) */
void log_kv(int level, const char *msg, ...) __attribute__((sentinel));

#endif
