/* Shared CLI helpers. */
#include "cli.h"

#include "compile/load.h"

#include "frontend/onnx.h"
#include "interp/interp.h"
#include "ir/text.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

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

const char *aicc_cli_engine_names(void) { return "interp, compiled"; }

bool aicc_cli_engine_parse(const char *s, aicc_engine *out) {
  if (strcmp(s, "interp") == 0) {
    *out = AICC_ENGINE_INTERP;
    return true;
  }
  if (strcmp(s, "compiled") == 0) {
    *out = AICC_ENGINE_COMPILED;
    return true;
  }
  fprintf(stderr, "aicc: unknown engine '%s' (known: %s)\n", s, aicc_cli_engine_names());
  return false;
}

void aicc_cli_engine_opts_init(aicc_cli_engine_opts *o) {
  memset(o, 0, sizeof *o);
  o->engine = AICC_ENGINE_INTERP;
  o->opt_level = -1;
}

/* A whole decimal integer in [lo, hi]. */
static bool parse_int(const char *s, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (!*s || *end || errno || v < lo || v > hi) return false;
  *out = v;
  return true;
}

/* Checks "NAME=SIZE[,NAME=SIZE...]" and appends it to o->shapes. */
static int shapes_add(const char *cmd, const char *v, aicc_cli_engine_opts *o) {
  const char *p = v;
  while (*p) {
    const char *eq = strchr(p, '='), *comma = strchr(p, ',');
    if (!comma) comma = p + strlen(p);
    if (!eq || eq > comma || eq == p)
      return aicc_cli_usage_error(cmd, "--shape '%s': expected NAME=SIZE[,NAME=SIZE...]", v);
    char num[32];
    size_t n = (size_t)(comma - eq - 1);
    long size;
    if (n == 0 || n >= sizeof num)
      return aicc_cli_usage_error(cmd, "--shape '%s': expected NAME=SIZE[,NAME=SIZE...]", v);
    memcpy(num, eq + 1, n);
    num[n] = 0;
    if (!parse_int(num, 0, 1L << 40, &size))
      return aicc_cli_usage_error(cmd, "--shape '%s': size '%s' is not a non-negative integer",
                                  v, num);
    p = *comma ? comma + 1 : comma;
  }
  size_t used = strlen(o->shapes), add = strlen(v);
  if (used + add + 2 > sizeof o->shapes)
    return aicc_cli_usage_error(cmd, "--shape: too many bindings");
  if (used) o->shapes[used++] = ',';
  memcpy(o->shapes + used, v, add + 1);
  return -1;
}

int64_t aicc_cli_shape_lookup(const aicc_cli_engine_opts *o, const char *sym) {
  size_t k = strlen(sym);
  for (const char *p = o->shapes; *p;) {
    const char *eq = strchr(p, '=');
    if (!eq) break;
    if ((size_t)(eq - p) == k && strncmp(p, sym, k) == 0) return strtoll(eq + 1, NULL, 10);
    const char *comma = strchr(eq, ',');
    if (!comma) break;
    p = comma + 1;
  }
  return -1;
}

int aicc_cli_arg_engine(const char *cmd, int argc, char **argv, int *i,
                        aicc_cli_engine_opts *o) {
  const char *a = argv[*i], *v = NULL;
  long n;
  if (strcmp(a, "--threads") == 0 || strcmp(a, "--opt-level") == 0 || strcmp(a, "-O") == 0 ||
      strcmp(a, "--cache-dir") == 0 || strcmp(a, "--shape") == 0) {
    if (*i + 1 >= argc || !argv[*i + 1][0])
      return aicc_cli_usage_error(cmd, "%s needs a value", a);
    v = argv[++*i];
  } else if (strncmp(a, "--threads=", 10) == 0 || strncmp(a, "--opt-level=", 12) == 0 ||
             strncmp(a, "--cache-dir=", 12) == 0 || strncmp(a, "--shape=", 8) == 0) {
    v = strchr(a, '=') + 1;
  } else if (a[0] == '-' && a[1] == 'O' && a[2]) {
    v = a + 2;
  } else if (strcmp(a, "--strict") == 0) {
    o->strict = true;
  } else if (strcmp(a, "--dump-loops") == 0) {
    o->dump_loops = "-";
  } else if (strncmp(a, "--dump-loops=", 13) == 0) {
    if (!a[13]) return aicc_cli_usage_error(cmd, "--dump-loops= needs a file");
    o->dump_loops = a + 13;
  } else {
    return -2;
  }
  if (!o->compiled_flag) o->compiled_flag = a;
  if (!v) return -1;
  if (strncmp(a, "--threads", 9) == 0) {
    if (!parse_int(v, 1, 1024, &n))
      return aicc_cli_usage_error(cmd, "--threads needs a count from 1 to 1024, got '%s'", v);
    o->threads = (int)n;
  } else if (strncmp(a, "--opt-level", 11) == 0 || a[1] == 'O') {
    if (!parse_int(v, 0, 3, &n))
      return aicc_cli_usage_error(cmd, "unknown optimization level '%s' (use -O0 .. -O3)", v);
    o->opt_level = (int)n;
  } else if (strncmp(a, "--cache-dir", 11) == 0) {
    if (!*v) return aicc_cli_usage_error(cmd, "--cache-dir needs a folder");
    o->cache_dir = v;
  } else {
    return shapes_add(cmd, v, o);
  }
  return -1;
}

int aicc_cli_engine_opts_check(const char *cmd, const aicc_cli_engine_opts *o) {
  if (o->engine != AICC_ENGINE_COMPILED && o->compiled_flag)
    return aicc_cli_usage_error(cmd, "%s applies to the compiled engine only (add --engine compiled)",
                                o->compiled_flag);
  return -1;
}

/* Reads a whole text file. */
aicc_status aicc_cli_model_load(const char *path, aicc_model **out) {
  return aicc_model_load_file(path, out);
}

struct aicc_cli_runner {
  aicc_cli_engine_opts opts; /* a copy: the program may keep pointers into it */
  aicc_model *model;         /* interp */
  aicc_rt_program *prog;     /* compiled */
  aicc_rt_session *sess;
  FILE *dump;
  bool dump_owned;
};

aicc_status aicc_cli_runner_create(aicc_model *m, const aicc_cli_engine_opts *opts,
                                   aicc_cli_runner **out) {
  *out = NULL;
  aicc_cli_runner *r = calloc(1, sizeof *r);
  if (!r) {
    aicc_model_destroy(m);
    return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  }
  if (opts) r->opts = *opts;
  else aicc_cli_engine_opts_init(&r->opts);
  if (r->opts.engine == AICC_ENGINE_INTERP) {
    r->model = m;
    *out = r;
    return NULL;
  }
  const aicc_cli_engine_opts *o = &r->opts;
  if (o->dump_loops && strcmp(o->dump_loops, "-") == 0) {
    r->dump = stderr;
  } else if (o->dump_loops) {
    r->dump = fopen(o->dump_loops, "w");
    if (!r->dump) {
      aicc_status s = aicc_errorf(AICC_ERR_IO, "%s: cannot write the loop dump: %s",
                                  o->dump_loops, strerror(errno));
      aicc_model_destroy(m);
      free(r);
      return s;
    }
    r->dump_owned = true;
  }
  aicc_rt_options ro = {
      .threads = o->threads,
      .opt_level = o->opt_level,
      .cc = NULL,
      .cache_dir = o->cache_dir,
      .isa = NULL,
      .strict = o->strict,
      .dump_loops = r->dump,
      .input_shapes = o->shapes[0] ? o->shapes : NULL,
  };
  aicc_status s = aicc_rt_compile(m, &ro, &r->prog);
  if (!s) s = aicc_rt_session_create(r->prog, &r->sess);
  if (s) {
    aicc_cli_runner_destroy(r);
    return s;
  }
  *out = r;
  return NULL;
}

void aicc_cli_runner_destroy(aicc_cli_runner *r) {
  if (!r) return;
  if (r->sess) aicc_rt_session_destroy(r->sess);
  if (r->prog) aicc_rt_program_destroy(r->prog);
  if (r->model) aicc_model_destroy(r->model);
  if (r->dump_owned) fclose(r->dump);
  else if (r->dump) fflush(r->dump);
  free(r);
}

const aicc_model *aicc_cli_runner_model(const aicc_cli_runner *r) {
  return r->prog ? aicc_rt_program_model(r->prog) : r->model;
}

aicc_rt_program *aicc_cli_runner_program(aicc_cli_runner *r) { return r->prog; }

aicc_status aicc_cli_runner_run(aicc_cli_runner *r, aicc_tensor *const *in, int n_in,
                                aicc_tensor **out, int n_out) {
  if (r->sess) return aicc_rt_session_run(r->sess, in, n_in, out, n_out);
  return aicc_interp_run(r->model, in, n_in, out, n_out);
}

void aicc_cli_runner_print_stats(aicc_cli_runner *r, FILE *f) {
  if (!r->prog) return;
  aicc_rt_stats st;
  aicc_rt_program_stats(r->prog, &st);
  if (st.specializations < 1) return; /* nothing compiled: the first run failed first */
  fprintf(f, "compiled: %d kernels, %d extern steps", st.kernels, st.extern_steps);
  if (st.extern_steps) fprintf(f, " (%s)", st.extern_ops);
  if (st.concats_in_place) fprintf(f, ", %d concat%s in place", st.concats_in_place, st.concats_in_place > 1 ? "s" : "");
  fprintf(f, "\n");
}

aicc_status aicc_cli_inputs_load(const aicc_model *m, const char *dir, aicc_tensor ***in,
                                 int *n_in) {
  const aicc_graph *g = m->graph;
  int n = (int)g->inputs.len;
  aicc_tensor **t = calloc((size_t)n + 1, sizeof *t);
  if (!t) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  /* The ONNX backend convention: input_<k>.pb files feed the inputs that
   * are not initializers, in order; further files (if any) override the
   * initializers that are also inputs, in order. */
  aicc_status s = NULL;
  int file = 0;
  for (int pass = 0; pass < 2 && !s; pass++)
    for (int i = 0; i < n && !s; i++) {
      const aicc_value *v = g->inputs.data[i];
      if ((v->init != NULL) != (pass == 1)) continue;
      char path[4096];
      snprintf(path, sizeof path, "%s/input_%d.pb", dir, file);
      struct stat st;
      if (stat(path, &st) != 0) {
        if (v->init) break; /* the rest keep their initializers */
        s = aicc_errorf(AICC_ERR_IO, "%s: missing (the model has %d inputs)", path, n);
        break;
      }
      file++;
      aicc_value_kind k = v->type.kind;
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

double aicc_cli_now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int aicc_cli_fail(aicc_status s) {
  /* Some layers (the JIT) start their messages with "aicc: " already, and a
   * wrapped one then has it in the middle: print it once. */
  const char *msg = aicc_status_message(s);
  if (strncmp(msg, "aicc: ", 6) == 0) msg += 6;
  fputs("aicc: ", stderr);
  for (const char *p = msg, *q; *p; p = q + 8) {
    q = strstr(p, ": aicc: ");
    if (!q) {
      fputs(p, stderr);
      break;
    }
    fwrite(p, 1, (size_t)(q - p) + 2, stderr); /* keep ": " */
  }
  fputc('\n', stderr);
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
