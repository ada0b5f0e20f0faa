/* Logging. The library never prints on its own: messages go to a sink that
 * the embedding program sets (the CLI sets stderr). Default: no sink. */
#ifndef AICC_CORE_LOG_H
#define AICC_CORE_LOG_H

typedef enum { AICC_LOG_ERROR, AICC_LOG_WARN, AICC_LOG_INFO, AICC_LOG_DEBUG } aicc_log_level;

typedef void (*aicc_log_sink)(aicc_log_level level, const char *msg, void *user);

/* Process-wide configuration, set once at start-up by the program (not by the
 * library); messages above `max_level` are dropped. */
void aicc_log_configure(aicc_log_sink sink, void *user, aicc_log_level max_level);
void aicc_logf(aicc_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
