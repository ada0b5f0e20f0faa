/* Status values with messages. A function that can fail returns aicc_status:
 * NULL on success, else a heap error that the caller owns. Propagate with
 * AICC_TRY; add context (file, node) with aicc_status_wrap. */
#ifndef AICC_CORE_STATUS_H
#define AICC_CORE_STATUS_H

#include "aicc/aicc.h"

#include <stdarg.h>

struct aicc_error {
  aicc_code code;
  char *msg;
};

/* Returns a new error; caller owns it. Never returns NULL (an allocation
 * failure yields a static out-of-memory error that aicc_status_free ignores). */
aicc_status aicc_errorf(aicc_code code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
aicc_status aicc_verrorf(aicc_code code, const char *fmt, va_list ap);

/* Prefixes the message of s with "<prefix>: ". Takes s, returns it (or NULL
 * when s is NULL, so it can wrap any call). */
aicc_status aicc_status_wrap(aicc_status s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define AICC_TRY(expr)                                                         \
  do {                                                                         \
    aicc_status aicc_try_s_ = (expr);                                          \
    if (aicc_try_s_) return aicc_try_s_;                                       \
  } while (0)

/* Like AICC_TRY but jumps to a cleanup label, storing the status in var. */
#define AICC_TRY_GOTO(var, expr, label)                                        \
  do {                                                                         \
    (var) = (expr);                                                            \
    if (var) goto label;                                                       \
  } while (0)

#define AICC_CHECK(cond, code, ...)                                            \
  do {                                                                         \
    if (!(cond)) return aicc_errorf((code), __VA_ARGS__);                      \
  } while (0)

#endif
