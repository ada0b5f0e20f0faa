/* Shared CLI helpers. */
#include "cli.h"

#include "frontend/onnx.h"
#include "interp/interp.h"
#include "ir/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

bool aicc_cli_is_help(const char *arg) {
  return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0 || strcmp(arg, "help") == 0;
}

int aicc_cli_arg_common(const char *cmd, const char *usage, int argc, char **argv, int *i,
                        aicc_engine *eng, const char **pos, const char *what) {
  const char *a = argv[*i];
  if (aicc_cli_is_help(a)) {
    fputs(usage, stdout);
    return 0;
  }
  if (strcmp(a, "--engine") == 0) {
    if (*i + 1 >= argc) return aicc_cli_usage_error(cmd, "--engine needs a value");
    if (!aicc_cli_engine_parse(argv[++*i], eng)) return 2;
  } else if (a[0] == '-') {
    return aicc_cli_usage_error(cmd, "unknown option '%s'", a);
  } else if (*pos) {
    return aicc_cli_usage_error(cmd, "more than one %s given", what);
  } else {
    *pos = a;
  }
  return -1;
}

const char *aicc_cli_engine_names(void) { return "interp"; }

bool aicc_cli_engine_parse(const char *s, aicc_engine *out) {
  if (strcmp(s, "interp") == 0) {
    *out = AICC_ENGINE_INTERP;
    return true;
  }
  fprintf(stderr, "aicc: unknown engine '%s' (known: %s)\n", s, aicc_cli_engine_names());
  return false;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Reads a whole text file. */
static aicc_status read_file(const char *path, char **out, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return aicc_errorf(AICC_ERR_IO, "%s: cannot open", path);
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap) break;
    char *b = realloc(buf, cap * 2);
    if (!b) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = b;
    cap *= 2;
  }
  bool err = ferror(f);
  fclose(f);
  if (!buf) return aicc_errorf(AICC_ERR_NOMEM, "%s: out of memory", path);
  if (err) {
    free(buf);
    return aicc_errorf(AICC_ERR_IO, "%s: read error", path);
  }
  *out = buf;
  *len = n;
  return NULL;
}

aicc_status aicc_cli_model_load(const char *path, aicc_model **out) {
  *out = NULL;
  aicc_model *m = NULL;
  if (ends_with(path, ".ir")) {
    char *text = NULL;
    size_t len = 0;
    AICC_TRY(read_file(path, &text, &len));
    aicc_status s = aicc_model_parse(text, len, path, &m);
    free(text);
    AICC_TRY(s);
  }
  else AICC_TRY(aicc_onnx_load(path, &m));
  aicc_status s = aicc_model_verify(m);
  if (s) {
    aicc_model_destroy(m);
    return s;
  }
  *out = m;
  return NULL;
}

aicc_status aicc_cli_model_run(aicc_engine e, const aicc_model *m, aicc_tensor *const *in,
                               int n_in, aicc_tensor **out, int n_out) {
  switch (e) {
  case AICC_ENGINE_INTERP: return aicc_interp_run(m, in, n_in, out, n_out);
  }
  return aicc_errorf(AICC_ERR_INTERNAL, "engine %d not wired", (int)e);
}

aicc_status aicc_cli_inputs_load(const aicc_model *m, const char *dir, aicc_tensor ***in,
                                 int *n_in) {
  const aicc_graph *g = m->graph;
  int n = (int)g->inputs.len;
  aicc_tensor **t = calloc((size_t)n + 1, sizeof *t);
  if (!t) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  aicc_status s = NULL;
  for (int i = 0; i < n && !s; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/input_%d.pb", dir, i);
    struct stat st;
    if (stat(path, &st) != 0) {
      if (g->inputs.data[i]->init) continue;
      s = aicc_errorf(AICC_ERR_IO, "%s: missing (the model has %d inputs)", path, n);
      break;
    }
    aicc_value_kind k = g->inputs.data[i]->type.kind;
    s = aicc_onnx_value_load(path, k == AICC_KIND_NONE ? AICC_KIND_TENSOR : k, &t[i]);
  }
  if (s) {
    for (int i = 0; i < n; i++) aicc_tensor_release(t[i]);
    free(t);
    return s;
  }
  *in = t;
  *n_in = n;
  return NULL;
}

int aicc_cli_fail(aicc_status s) {
  fprintf(stderr, "aicc: %s\n", aicc_status_message(s));
  aicc_status_free(s);
  return 1;
}

int aicc_cli_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "aicc %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, " (see 'aicc %s --help')\n", cmd);
  va_end(ap);
  return 2;
}
