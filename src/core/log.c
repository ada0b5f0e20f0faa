/* Logging to a configurable sink. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

static aicc_log_sink g_sink;
static void *g_user;
static aicc_log_level g_max = AICC_LOG_WARN;

void aicc_log_configure(aicc_log_sink sink, void *user, aicc_log_level max_level) {
  g_sink = sink;
  g_user = user;
  g_max = max_level;
}

void aicc_logf(aicc_log_level level, const char *fmt, ...) {
  if (!g_sink || level > g_max) return;
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  g_sink(level, buf, g_user);
}
