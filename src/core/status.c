/* Status values: creation, wrapping with context, freeing. */
#include "core/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct aicc_error oom_error = {AICC_ERR_NOMEM, "out of memory"};

static char *vformat(const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0) return NULL;
  char *s = malloc((size_t)n + 1);
  if (s) vsnprintf(s, (size_t)n + 1, fmt, ap);
  return s;
}

aicc_status aicc_verrorf(aicc_code code, const char *fmt, va_list ap) {
  struct aicc_error *e = malloc(sizeof *e);
  if (!e) return &oom_error;
  e->code = code;
  e->msg = vformat(fmt, ap);
  if (!e->msg) {
    free(e);
    return &oom_error;
  }
  return e;
}

aicc_status aicc_errorf(aicc_code code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  aicc_status s = aicc_verrorf(code, fmt, ap);
  va_end(ap);
  return s;
}

aicc_status aicc_status_wrap(aicc_status s, const char *fmt, ...) {
  if (!s || s == &oom_error) return s;
  va_list ap;
  va_start(ap, fmt);
  char *prefix = vformat(fmt, ap);
  va_end(ap);
  if (!prefix) return s;
  size_t np = strlen(prefix), nm = strlen(s->msg);
  char *m = malloc(np + 2 + nm + 1);
  if (m) {
    memcpy(m, prefix, np);
    memcpy(m + np, ": ", 2);
    memcpy(m + np + 2, s->msg, nm + 1);
    free(s->msg);
    s->msg = m;
  }
  free(prefix);
  return s;
}

aicc_code aicc_status_code(aicc_status s) { return s ? s->code : AICC_OK; }

const char *aicc_status_message(aicc_status s) { return s ? s->msg : "ok"; }

void aicc_status_free(aicc_status s) {
  if (!s || s == &oom_error) return;
  free(s->msg);
  free(s);
}

const char *aicc_version(void) { return "0.1.0"; }
