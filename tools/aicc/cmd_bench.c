/* aicc bench: time a model on an engine, on random inputs of the declared
 * shapes or on given input files. Prints median/min/max run time and, for the
 * compiled engine, the compile time from an empty cache and from a warm one;
 * with --profile/--top, where the time of the compiled engine's runs goes
 * (a Chrome trace, a table of the kernels by total time).
 * A benchmark, never a test: it judges no timing. */
#define _GNU_SOURCE /* nftw, mkdtemp */
#include "cli.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: aicc bench MODEL.onnx|MODEL.ir [--engine interp|compiled] [--iters K]\n"
    "                  [--warmup W] [--inputs DIR] [--shape S=N] [--seed S] [--json]\n"
    "                  [--threads N] [-O N] [--profile TRACE.json] [--top[=N]] ...\n\n"
    "Runs the model W times untimed, then K times timed, and prints the\n"
    "median, min and max wall time of one run. Inputs are random (floats in\n"
    "[-1, 1), integers 0 or 1, from --seed) with the shapes the model\n"
    "declares; symbolic dims need --shape S=N. With --engine compiled it also\n"
    "times the compile: cold (into an empty temporary JIT cache) and cached\n"
    "(again from that cache; the timed runs use this program). With\n"
    "--cache-dir the compile is timed once, from that cache.\n\n"
    "Profiling (--engine compiled): the timed runs record every step (one\n"
    "kernel call, or one node on its reference kernel) and, for kernels run\n"
    "on several threads, each thread's part.\n\n"
    "options:\n"
    "  --engine E   interp (default) or compiled\n"
    "  --iters K    timed runs (default 20)\n"
    "  --warmup W   untimed runs first (default 3)\n"
    "  --inputs DIR read DIR/input_<i>.pb instead of random inputs\n"
    "  --seed S     seed of the random inputs (default 1)\n"
    "  --json       print one JSON object (times in ms, every sample) instead\n"
    "  --profile F  write the timed runs as a Chrome trace to F (one event per\n"
    "               step per run on thread 0, one per task of a multithreaded\n"
    "               kernel on the thread that ran it; chrome://tracing or\n"
    "               ui.perfetto.dev)\n"
    "  --top[=N]    print the N (default 20; 0: all) steps with the most total\n"
    "               time: kernel, ops it covers, calls, total ms, % of the\n"
    "               run time, mean us, threads and their use (to stderr\n"
    "               with --json)\n"
    "  -h, --help   show this help\n\n" AICC_CLI_COMPILED_USAGE;

typedef struct bench_args {
  const char *model, *in_dir;
  int iters, warmup;
  unsigned long long seed;
  bool json;
  const char *profile; /* trace file, or NULL */
  int top;             /* rows of --top; -1: no table */
  aicc_cli_engine_opts eo;
} bench_args;

/* ---- inputs ------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s) { /* xorshift64* (Vigna 2016) */
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545F4914F6CDD1DULL;
}

static aicc_status random_input(const aicc_model *m, const aicc_value *v,
                                const aicc_cli_engine_opts *o, uint64_t *rng,
                                aicc_tensor **out) {
  const aicc_type *t = &v->type;
  if (t->kind != AICC_KIND_TENSOR)
    return aicc_errorf(AICC_ERR_UNSUPPORTED,
                       "%s: input '%s' is not a tensor: give its value with --inputs DIR",
                       m->path, v->name);
  if (t->rank < 0)
    return aicc_errorf(AICC_ERR_INVALID,
                       "%s: input '%s' has an unknown rank: give its value with --inputs DIR",
                       m->path, v->name);
  int64_t dims[AICC_MAX_RANK];
  for (int d = 0; d < t->rank; d++) {
    aicc_dim dim = t->dims[d];
    dims[d] = dim.sym ? aicc_cli_shape_lookup(o, dim.sym) : dim.size;
    if (dim.sym && dims[d] < 0)
      return aicc_errorf(AICC_ERR_INVALID,
                         "%s: input '%s' dim %d is the symbol '%s': bind it with --shape %s=SIZE",
                         m->path, v->name, d, dim.sym, dim.sym);
    if (dims[d] < 0)
      return aicc_errorf(AICC_ERR_INVALID,
                         "%s: input '%s' dim %d has no size: give its value with --inputs DIR",
                         m->path, v->name, d);
  }
  AICC_TRY(aicc_tensor_create(t->dtype, t->rank, dims, out));
  aicc_tensor *x = *out;
  int64_t n = aicc_tensor_numel(x);
  if (x->dtype == AICC_DTYPE_F32) {
    float *p = x->data;
    for (int64_t i = 0; i < n; i++) p[i] = (float)((rng_next(rng) >> 40) * 0x1p-23 - 1.0);
  } else if (aicc_dtype_is_float(x->dtype)) {
    for (int64_t i = 0; i < n; i++)
      aicc_tensor_set_f64(x, i, (double)(rng_next(rng) >> 40) * 0x1p-23 - 1.0);
  } else if (x->dtype != AICC_DTYPE_STRING) { /* integers and bools: 0 or 1 */
    for (int64_t i = 0; i < n; i++) aicc_tensor_set_i64(x, i, (int64_t)(rng_next(rng) >> 63));
  }
  return NULL;
}

/* One tensor per main-graph input (NULL for initializer inputs). */
static aicc_status inputs_make(const aicc_model *m, const bench_args *a, aicc_tensor ***in,
                               int *n_in) {
  if (a->in_dir) return aicc_cli_inputs_load(m, a->in_dir, in, n_in);
  const aicc_graph *g = m->graph;
  int n = (int)g->inputs.len;
  aicc_tensor **t = calloc((size_t)n + 1, sizeof *t);
  if (!t) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  uint64_t rng = a->seed * 0x9E3779B97F4A7C15ULL + 1;
  aicc_status s = NULL;
  for (int i = 0; i < n && !s; i++)
    if (!g->inputs.data[i]->init) s = random_input(m, g->inputs.data[i], &a->eo, &rng, &t[i]);
  if (s) {
    for (int i = 0; i < n; i++) aicc_tensor_release(t[i]);
    free(t);
    return s;
  }
  *in = t;
  *n_in = n;
  return NULL;
}

/* ---- timing ------------------------------------------------------------- */

/* One run on the runner, or on sess when given (a compiled program's
 * session of our own, for profiling). */
static aicc_status run_once(aicc_cli_runner *r, aicc_rt_session *sess, aicc_tensor *const *in,
                            int n_in, double *ms) {
  int n_out = (int)aicc_cli_runner_model(r)->graph->outputs.len;
  aicc_tensor **out = calloc((size_t)n_out + 1, sizeof *out);
  if (!out) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  double t0 = aicc_cli_now_ms();
  aicc_status s = sess ? aicc_rt_session_run(sess, in, n_in, out, n_out)
                       : aicc_cli_runner_run(r, in, n_in, out, n_out);
  *ms = aicc_cli_now_ms() - t0;
  for (int i = 0; i < n_out; i++) aicc_tensor_release(out[i]);
  free(out);
  return s;
}

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

/* Of sorted values: the middle one, or the mean of the middle two. */
static double median(const double *t, int n) { return (t[(n - 1) / 2] + t[n / 2]) / 2; }

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

typedef struct compile_times {
  bool measured;               /* compiled engine */
  bool cold_valid;             /* a cold compile was timed (no --cache-dir) */
  double cold_ms, cold_cc_ms;  /* from an empty cache */
  double warm_ms, warm_cc_ms;  /* the program that is timed */
  bool warm_hit;
  aicc_rt_stats st;
} compile_times;

/* Loads the model, builds a runner with the cache dir given, runs once (a
 * model with unbound symbolic dims compiles then) and reads the stats. */
static aicc_status runner_build(const bench_args *a, const char *cache_dir,
                                aicc_tensor *const *in, int n_in, aicc_cli_runner **out,
                                aicc_rt_stats *st) {
  aicc_model *m;
  AICC_TRY(aicc_cli_model_load(a->model, &m));
  aicc_cli_engine_opts eo = a->eo;
  if (cache_dir) eo.cache_dir = cache_dir;
  AICC_TRY(aicc_cli_runner_create(m, &eo, out)); /* takes m */
  double ms;
  aicc_status s = run_once(*out, NULL, in, n_in, &ms);
  if (s) {
    aicc_cli_runner_destroy(*out);
    *out = NULL;
    return s;
  }
  if (aicc_cli_runner_program(*out)) aicc_rt_program_stats(aicc_cli_runner_program(*out), st);
  return NULL;
}

/* The runner to time; for the compiled engine after a cold and a cached
 * compile (or one compile from --cache-dir). */
static aicc_status runner_prepare(const bench_args *a, aicc_tensor *const *in, int n_in,
                                  aicc_cli_runner **out, compile_times *ct) {
  memset(ct, 0, sizeof *ct);
  if (a->eo.engine != AICC_ENGINE_COMPILED) return runner_build(a, NULL, in, n_in, out, &ct->st);
  ct->measured = true;
  if (a->eo.cache_dir) {
    AICC_TRY(runner_build(a, NULL, in, n_in, out, &ct->st));
  } else {
    const char *tmpdir = getenv("TMPDIR");
    char cache[4096];
    snprintf(cache, sizeof cache, "%s/aicc-bench-cache-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(cache))
      return aicc_errorf(AICC_ERR_IO, "%s: cannot create a temporary JIT cache: %s", cache,
                         strerror(errno));
    aicc_cli_runner *cold = NULL;
    aicc_status s = runner_build(a, cache, in, n_in, &cold, &ct->st);
    if (!s) {
      ct->cold_valid = true;
      ct->cold_ms = ct->st.compile_ms;
      ct->cold_cc_ms = ct->st.cc_ms;
      aicc_cli_runner_destroy(cold);
      s = runner_build(a, cache, in, n_in, out, &ct->st);
    }
    nftw(cache, rm_entry, 16, FTW_DEPTH | FTW_PHYS); /* the program keeps its code loaded */
    AICC_TRY(s);
  }
  ct->warm_ms = ct->st.compile_ms;
  ct->warm_cc_ms = ct->st.cc_ms;
  ct->warm_hit = ct->st.cache_hit;
  return NULL;
}

/* ---- output ------------------------------------------------------------- */

static void print_text(const bench_args *a, const compile_times *ct, const double *t, int n) {
  const aicc_cli_engine_opts *o = &a->eo;
  printf("%s: engine %s, %d thread%s, %d runs after %d warmup\n", a->model,
         o->engine == AICC_ENGINE_COMPILED ? "compiled" : "interp",
         o->threads ? o->threads : 1, o->threads > 1 ? "s" : "", n, a->warmup);
  if (ct->measured) {
    printf("compiled: %d kernels, %d extern steps", ct->st.kernels, ct->st.extern_steps);
    if (ct->st.extern_steps) printf(" (%s)", ct->st.extern_ops);
    if (ct->st.concats_in_place) printf(", %d concat%s in place", ct->st.concats_in_place,
                                           ct->st.concats_in_place > 1 ? "s" : "");
    printf("\n");
    if (ct->cold_valid)
      printf("compile: cold %.1f ms (C compiler %.1f ms), cached %.1f ms%s\n", ct->cold_ms,
             ct->cold_cc_ms, ct->warm_ms, ct->warm_hit ? "" : " (cache missed)");
    else
      printf("compile: %.1f ms (C compiler %.1f ms, cache %s)\n", ct->warm_ms, ct->warm_cc_ms,
             ct->warm_hit ? "hit" : "miss");
  }
  printf("run: median %.3f ms, min %.3f ms, max %.3f ms\n", median(t, n), t[0], t[n - 1]);
}

static void print_json(const bench_args *a, const compile_times *ct, const double *sorted,
                       const double *samples, int n) {
  const aicc_cli_engine_opts *o = &a->eo;
  double sum = 0;
  for (int i = 0; i < n; i++) sum += samples[i];
  printf("{\"model\": \"");
  for (const char *p = a->model; *p; p++)
    if (*p == '"' || *p == '\\') printf("\\%c", *p);
    else if ((unsigned char)*p >= 0x20) putchar(*p);
  printf("\", \"engine\": \"%s\", \"threads\": %d, \"iters\": %d, \"warmup\": %d,",
         o->engine == AICC_ENGINE_COMPILED ? "compiled" : "interp", o->threads ? o->threads : 1,
         n, a->warmup);
  printf(" \"median_ms\": %.6f, \"min_ms\": %.6f, \"max_ms\": %.6f, \"mean_ms\": %.6f,",
         median(sorted, n), sorted[0], sorted[n - 1], sum / n);
  if (ct->measured) {
    printf(" \"kernels\": %d, \"extern_steps\": %d, \"extern_ops\": \"%s\","
           " \"concats_in_place\": %d,", ct->st.kernels, ct->st.extern_steps, ct->st.extern_ops,
           ct->st.concats_in_place);
    if (ct->cold_valid)
      printf(" \"compile_cold_ms\": %.3f, \"compile_cold_cc_ms\": %.3f,", ct->cold_ms,
             ct->cold_cc_ms);
    printf(" \"compile_cached_ms\": %.3f, \"compile_cached_cc_ms\": %.3f, \"cache_hit\": %s,",
           ct->warm_ms, ct->warm_cc_ms, ct->warm_hit ? "true" : "false");
  }
  printf(" \"samples_ms\": [");
  for (int i = 0; i < n; i++) printf(i ? ", %.6f" : "%.6f", samples[i]);
  printf("]}\n");
}

/* ---- profile ------------------------------------------------------------ */

/* The characters of s, escaped for a JSON string. */
static void json_chars(FILE *f, const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
    else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
    else fputc(*p, f);
}

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  json_chars(f, s);
  fputc('"', f);
}

/* The Chrome trace event format ("X" complete events, microseconds; Google,
 * "Trace Event Format", 2016): the step events on thread 0, the task events
 * of multithreaded kernels on their pool thread. Written to a temporary
 * file beside path, then renamed. */
static aicc_status trace_write(const char *path, const char *model, int threads,
                               const aicc_rt_event *ev, size_t n) {
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
    return aicc_errorf(AICC_ERR_IO, "%s: path too long", path);
  FILE *f = fopen(tmp, "w");
  if (!f) return aicc_errorf(AICC_ERR_IO, "%s: cannot write the trace: %s", tmp, strerror(errno));
  int64_t t0 = n ? ev[0].start_ns : 0;
  for (size_t i = 0; i < n; i++)
    if (ev[i].start_ns < t0) t0 = ev[i].start_ns;
  fprintf(f, "{\"displayTimeUnit\": \"ms\", \"otherData\": {\"model\": ");
  json_string(f, model);
  fprintf(f, ", \"threads\": %d},\n\"traceEvents\": [\n", threads);
  fprintf(f, "{\"ph\": \"M\", \"pid\": 1, \"name\": \"process_name\", \"args\": {\"name\": ");
  json_string(f, model);
  fprintf(f, "}}");
  for (int t = 0; t < threads; t++)
    fprintf(f, ",\n{\"ph\": \"M\", \"pid\": 1, \"tid\": %d, \"name\": \"thread_name\", "
               "\"args\": {\"name\": \"thread %d (%s)\"}}",
            t, t, t ? "worker" : "caller: steps and tasks");
  for (size_t i = 0; i < n; i++) {
    const aicc_rt_event *e = &ev[i];
    const char *cat = e->task >= 0 ? "task" : e->is_kernel ? "kernel" : "extern";
    fprintf(f, ",\n{\"ph\": \"X\", \"pid\": 1, \"tid\": %d, \"cat\": \"%s\", \"name\": ",
            e->task < 0 ? 0 : e->thread, cat);
    fputc('"', f);
    json_chars(f, e->name);
    fputc(' ', f);
    json_chars(f, e->ops);
    fputc('"', f);
    fprintf(f, ", \"ts\": %.3f, \"dur\": %.3f, \"args\": {\"step\": %d, \"run\": %d, \"kernel\": ",
            (double)(e->start_ns - t0) / 1e3, (double)(e->end_ns - e->start_ns) / 1e3, e->step,
            e->run);
    json_string(f, e->name);
    fprintf(f, ", \"ops\": ");
    json_string(f, e->ops);
    fprintf(f, ", \"tasks\": %d", e->ntasks);
    if (e->task >= 0) fprintf(f, ", \"task\": %d, \"thread\": %d", e->task, e->thread);
    fprintf(f, "}}");
  }
  fprintf(f, "\n]}\n");
  bool bad = ferror(f) != 0;
  if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
    aicc_status s = aicc_errorf(AICC_ERR_IO, "%s: cannot write the trace: %s", path,
                                strerror(errno));
    remove(tmp);
    return s;
  }
  return NULL;
}

/* One row of --top: a plan step over the profiled runs. */
typedef struct top_row {
  int step;
  const char *name, *ops;
  bool is_kernel;
  int calls, ntasks;
  int64_t total_ns, task_ns; /* task_ns: summed over the tasks */
} top_row;

static int cmp_row(const void *x, const void *y) {
  const top_row *a = x, *b = y;
  if (a->total_ns != b->total_ns) return a->total_ns < b->total_ns ? 1 : -1;
  return a->step - b->step;
}

/* The steps by total time. run_ms: the wall time of the profiled runs (the
 * base of the percentages). Assumes one plan (bench runs one shape). */
static aicc_status top_print(FILE *f, int rows, double run_ms, const aicc_rt_event *ev,
                             size_t n) {
  int n_steps = 0;
  for (size_t i = 0; i < n; i++)
    if (ev[i].step + 1 > n_steps) n_steps = ev[i].step + 1;
  top_row *r = calloc((size_t)n_steps + 1, sizeof *r);
  if (!r) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  double steps_ms = 0;
  for (size_t i = 0; i < n; i++) {
    const aicc_rt_event *e = &ev[i];
    top_row *t = &r[e->step];
    int64_t d = e->end_ns - e->start_ns;
    if (e->task >= 0) {
      t->task_ns += d;
      continue;
    }
    *t = (top_row){e->step, e->name, e->ops, e->is_kernel, t->calls + 1, e->ntasks,
                   t->total_ns + d, t->task_ns};
    steps_ms += (double)d / 1e6;
  }
  qsort(r, (size_t)n_steps, sizeof *r, cmp_row);
  fprintf(f, "%-8s %-40s %6s %10s %6s %10s %4s %5s\n", "kernel", "ops", "calls", "total ms",
          "%run", "mean us", "thr", "use%");
  int shown = 0;
  for (int i = 0; i < n_steps && (rows == 0 || shown < rows); i++) {
    const top_row *t = &r[i];
    if (!t->calls) continue;
    char name[64], ops[64];
    snprintf(name, sizeof name, "%s%s", t->is_kernel ? "" : "extern:", t->name);
    size_t ol = strlen(t->ops);
    if (ol > 40) snprintf(ops, sizeof ops, "%.37s...", t->ops);
    else snprintf(ops, sizeof ops, "%s", t->ops);
    double total = (double)t->total_ns / 1e6;
    fprintf(f, "%-8s %-40s %6d %10.3f %6.1f %10.1f %4d", name, ops, t->calls, total,
            run_ms > 0 ? 100 * total / run_ms : 0, 1e3 * total / t->calls, t->ntasks);
    /* Of the threads' time during the step, the share spent in the kernel
     * (wake-up latency and imbalance are the rest). */
    if (t->ntasks > 1 && t->total_ns > 0)
      fprintf(f, " %5.0f\n", 100.0 * (double)t->task_ns / ((double)t->total_ns * t->ntasks));
    else
      fprintf(f, " %5s\n", "-");
    shown++;
  }
  fprintf(f, "%d steps shown of %d; steps total %.3f ms of %.3f ms run time (%.1f%%)\n", shown,
          n_steps, steps_ms, run_ms, run_ms > 0 ? 100 * steps_ms / run_ms : 0);
  free(r);
  return NULL;
}

/* ---- the command -------------------------------------------------------- */

static int args_parse(int argc, char **argv, bench_args *a) {
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    int rc;
    if (strcmp(s, "--iters") == 0 || strcmp(s, "--warmup") == 0 || strcmp(s, "--seed") == 0) {
      char *end;
      errno = 0;
      long long v = i + 1 < argc ? strtoll(argv[i + 1], &end, 10) : -1;
      bool iters = s[2] == 'i';
      if (i + 1 >= argc || !argv[i + 1][0] || *end || errno || v < (iters ? 1 : 0) ||
          v > 1000000)
        return aicc_cli_usage_error("bench", "%s needs a whole number %s", s,
                                    iters ? "from 1 to 1000000" : "from 0 to 1000000");
      i++;
      if (iters) a->iters = (int)v;
      else if (s[2] == 'w') a->warmup = (int)v;
      else a->seed = (unsigned long long)v;
    } else if (strcmp(s, "--inputs") == 0) {
      if (i + 1 >= argc || !argv[i + 1][0])
        return aicc_cli_usage_error("bench", "--inputs needs a folder");
      a->in_dir = argv[++i];
    } else if (strcmp(s, "--json") == 0) {
      a->json = true;
    } else if (strcmp(s, "--profile") == 0) {
      if (i + 1 >= argc || !argv[i + 1][0])
        return aicc_cli_usage_error("bench", "--profile needs a file");
      a->profile = argv[++i];
    } else if (strcmp(s, "--top") == 0 || strncmp(s, "--top=", 6) == 0) {
      char *end;
      errno = 0;
      long v = s[5] ? strtol(s + 6, &end, 10) : 20;
      if (s[5] && (!s[6] || *end || errno || v < 0 || v > 1000000))
        return aicc_cli_usage_error("bench", "--top=N needs a whole number from 0 to 1000000");
      a->top = (int)v;
    } else if ((rc = aicc_cli_arg_engine("bench", argc, argv, &i, &a->eo)) != -2) {
      if (rc >= 0) return rc;
    } else {
      rc = aicc_cli_arg_common("bench", usage, argc, argv, &i, &a->eo.engine, &a->model, "model");
      if (rc >= 0) return rc;
    }
  }
  if (!a->model) return aicc_cli_usage_error("bench", "no model given");
  if ((a->profile || a->top >= 0) && a->eo.engine != AICC_ENGINE_COMPILED)
    return aicc_cli_usage_error("bench", "%s needs --engine compiled",
                                a->profile ? "--profile" : "--top");
  /* --shape binds random inputs on either engine; the rest need compiled. */
  aicc_cli_engine_opts check = a->eo;
  if (check.compiled_flag && strncmp(check.compiled_flag, "--shape", 7) == 0 &&
      !check.threads && check.opt_level < 0 && !check.strict && !check.cache_dir &&
      !check.dump_loops)
    check.compiled_flag = NULL;
  return aicc_cli_engine_opts_check("bench", &check);
}

int aicc_cmd_bench(int argc, char **argv) {
  bench_args a = {.iters = 20, .warmup = 3, .seed = 1, .top = -1};
  aicc_cli_engine_opts_init(&a.eo);
  int rc = args_parse(argc, argv, &a);
  if (rc >= 0) return rc;

  /* Inputs first, from the model as declared: a shape error costs no compile. */
  aicc_model *m;
  aicc_status s = aicc_cli_model_load(a.model, &m);
  if (s) return aicc_cli_fail(s);
  aicc_tensor **in = NULL;
  int n_in = 0;
  s = inputs_make(m, &a, &in, &n_in);
  aicc_model_destroy(m);
  if (s) return aicc_cli_fail(s);

  aicc_cli_runner *r = NULL;
  compile_times ct;
  double *samples = calloc((size_t)a.iters, sizeof *samples);
  double *sorted = calloc((size_t)a.iters, sizeof *sorted);
  s = samples && sorted ? runner_prepare(&a, in, n_in, &r, &ct)
                        : aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  /* Profiled runs go through a session of our own (the runner's is not
   * ours to configure); it runs once untimed, as the runner's did. */
  aicc_rt_session *ps = NULL;
  bool profiling = a.profile || a.top >= 0;
  double ms;
  if (!s && profiling) s = aicc_rt_session_create(aicc_cli_runner_program(r), &ps);
  if (!s && profiling) s = run_once(r, ps, in, n_in, &ms);
  for (int i = 0; i < a.warmup && !s; i++) s = run_once(r, ps, in, n_in, &ms);
  if (!s && ps) s = aicc_rt_session_profile_enable(ps, true);
  for (int i = 0; i < a.iters && !s; i++) s = run_once(r, ps, in, n_in, &samples[i]);
  if (!s) {
    memcpy(sorted, samples, sizeof *sorted * (size_t)a.iters);
    qsort(sorted, (size_t)a.iters, sizeof *sorted, cmp_double);
    if (a.json) print_json(&a, &ct, sorted, samples, a.iters);
    else print_text(&a, &ct, sorted, a.iters);
  }
  if (!s && ps) {
    size_t n_ev;
    const aicc_rt_event *ev = aicc_rt_session_profile_events(ps, &n_ev);
    double run_ms = 0;
    for (int i = 0; i < a.iters; i++) run_ms += samples[i];
    if (a.profile) s = trace_write(a.profile, a.model, aicc_rt_session_threads(ps), ev, n_ev);
    if (!s && a.top >= 0) {
      fflush(stdout);
      s = top_print(a.json ? stderr : stdout, a.top, run_ms, ev, n_ev);
    }
  }
  aicc_rt_session_destroy(ps);
  for (int i = 0; i < n_in; i++) aicc_tensor_release(in[i]);
  free(in);
  free(samples);
  free(sorted);
  aicc_cli_runner_destroy(r);
  return s ? aicc_cli_fail(s) : 0;
}
