/* rt_check: the compiled engine against the reference interpreter on ONNX
 * test cases (model.onnx + test_data_set_0):
 *
 *   rt_check [--threads N] [-O N] [--strict] [--dump] [--cache DIR]
 *            [--cflags FLAGS] [--runs R] [--rtol R] [--atol A] CASE_DIR...
 *
 * For each case the model is compiled (aicc_rt_compile), run R times in
 * one session (default 2: the second run reuses the arena and the outputs)
 * and compared with aicc_interp_run. Before it releases a run's outputs the
 * check overwrites them with NaN bytes (a caller may write its outputs), so
 * a reused output the next run does not write whole fails. Then one more
 * run while the last outputs are held: they must stay intact and the new
 * ones be other tensors. Then the model is compiled again to time the
 * cached path. One
 * line per case:
 *   ok CASE: K kernels, E extern (ops); compile C ms (cc X ms), again A ms (cache hit)
 *   FAIL CASE: reason
 * Exit status 1 when any case fails. */
#include "rt_case.h"

#include "interp/interp.h"
#include "runtime/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static aicc_rt_options opts;
static int runs = 2;
static double rel_tol = 1e-4, abs_tol = 1e-5;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int fail(const char *dir, aicc_status s, const char *why) {
  printf("FAIL %s: %s\n", dir, s ? aicc_status_message(s) : why);
  aicc_status_free(s);
  return 1;
}

/* Overwrites the caller's outputs (all bytes 0xff: NaN floats) before they
 * are released. */
static void scribble(aicc_tensor **t, int n) {
  for (int i = 0; i < n; i++)
    if (t[i] && t[i]->kind == AICC_KIND_TENSOR && t[i]->dtype != AICC_DTYPE_STRING && t[i]->data)
      memset(t[i]->data, 0xff, t[i]->nbytes);
}

/* One run while the outputs `held` of the previous one are kept: both must
 * match, and no new output may share memory with a held one. */
static aicc_status run_held(aicc_rt_session *sess, rt_case *c, aicc_tensor **want,
                            aicc_tensor **held, char *why, size_t cap) {
  int n = c->n_outputs;
  aicc_tensor **got = calloc((size_t)n + 1, sizeof *got);
  if (!got) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  aicc_status s = aicc_rt_session_run(sess, c->inputs, c->n_inputs, got, n);
  char w[400];
  if (!s && !rt_outputs_match(want, got, n, rel_tol, abs_tol, w, sizeof w))
    snprintf(why, cap, "run with the outputs held: %s", w);
  else if (!s && !rt_outputs_match(want, held, n, rel_tol, abs_tol, w, sizeof w))
    snprintf(why, cap, "held outputs changed by the next run: %s", w);
  else if (!s)
    for (int i = 0; i < n; i++)
      if (got[i] && held[i] && got[i]->data && got[i]->data == held[i]->data)
        snprintf(why, cap, "output %d of the next run reuses a held output's memory", i);
  rt_outputs_release(got, n);
  free(got);
  return s;
}

static int check(const char *dir) {
  rt_case c;
  aicc_model *m = NULL, *m2 = NULL;
  aicc_status s = rt_case_load(dir, &c, &m);
  if (s) return fail(dir, s, NULL);
  int n = c.n_outputs;
  aicc_tensor **want = calloc((size_t)n + 1, sizeof *want);
  aicc_tensor **got = calloc((size_t)n + 1, sizeof *got);
  aicc_rt_program *p = NULL, *p2 = NULL;
  aicc_rt_session *sess = NULL;
  int rc = 0;
  s = aicc_interp_run(m, c.inputs, c.n_inputs, want, n);
  if (s) {
    rc = fail(dir, aicc_status_wrap(s, "interpreter"), NULL);
    aicc_model_destroy(m);
    goto done;
  }
  s = aicc_rt_compile(m, &opts, &p); /* takes m */
  if (!s) s = aicc_rt_session_create(p, &sess);
  for (int r = 0; r < runs && !s; r++) {
    scribble(got, n);
    rt_outputs_release(got, n);
    s = aicc_rt_session_run(sess, c.inputs, c.n_inputs, got, n);
    char why[400];
    if (!s && !rt_outputs_match(want, got, n, rel_tol, abs_tol, why, sizeof why)) {
      char msg[460];
      snprintf(msg, sizeof msg, "run %d: %s", r, why);
      rc = fail(dir, NULL, msg);
      goto done;
    }
  }
  char held_why[460] = "";
  if (!s) s = run_held(sess, &c, want, got, held_why, sizeof held_why);
  if (s || held_why[0]) {
    rc = fail(dir, s, held_why);
    goto done;
  }
  aicc_rt_stats st;
  aicc_rt_program_stats(p, &st);
  double t0 = now_ms();
  s = rt_case_model(&c, &m2);
  if (!s) s = aicc_rt_compile(m2, &opts, &p2);
  /* A model with symbolic dims compiles at its first run. */
  aicc_rt_session *s2 = NULL;
  if (!s) s = aicc_rt_session_create(p2, &s2);
  rt_outputs_release(got, n);
  if (!s) s = aicc_rt_session_run(s2, c.inputs, c.n_inputs, got, n);
  aicc_rt_session_destroy(s2);
  double again = now_ms() - t0;
  if (s) {
    rc = fail(dir, aicc_status_wrap(s, "second compile"), NULL);
    goto done;
  }
  aicc_rt_stats st2;
  aicc_rt_program_stats(p2, &st2);
  printf("ok %s: %d kernels, %d extern%s%s%s; compile %.1f ms (cc %.1f ms), compile+run again %.1f ms%s; "
         "arena %lld B\n",
         dir, st.kernels, st.extern_steps, st.extern_steps ? " (" : "", st.extern_ops,
         st.extern_steps ? ")" : "", st.compile_ms, st.cc_ms, again,
         st2.cache_hit ? " (cache hit)" : "", (long long)st.arena_bytes);
done:
  rt_outputs_release(want, n);
  rt_outputs_release(got, n);
  free(want);
  free(got);
  aicc_rt_session_destroy(sess);
  aicc_rt_program_destroy(p);
  aicc_rt_program_destroy(p2);
  rt_case_fini(&c);
  fflush(stdout);
  return rc;
}

int main(int argc, char **argv) {
  opts.threads = 1;
  opts.opt_level = -1;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--threads") == 0 && v) opts.threads = atoi(argv[++i]);
    else if (strcmp(a, "-O") == 0 && v) opts.opt_level = atoi(argv[++i]);
    else if (strcmp(a, "--strict") == 0) opts.strict = true;
    else if (strcmp(a, "--dump") == 0) opts.dump_loops = stderr;
    else if (strcmp(a, "--cache") == 0 && v) opts.cache_dir = argv[++i];
    else if (strcmp(a, "--cflags") == 0 && v) opts.cflags = argv[++i];
    else if (strcmp(a, "--shapes") == 0 && v) opts.input_shapes = argv[++i];
    else if (strcmp(a, "--runs") == 0 && v) runs = atoi(argv[++i]);
    else if (strcmp(a, "--rtol") == 0 && v) rel_tol = atof(argv[++i]);
    else if (strcmp(a, "--atol") == 0 && v) abs_tol = atof(argv[++i]);
    else {
      fprintf(stderr, "usage: rt_check [--threads N] [-O N] [--strict] [--dump] [--cache DIR] "
                      "[--cflags F] [--shapes S] [--runs R] [--rtol R] [--atol A] CASE_DIR...\n");
      return 2;
    }
  }
  int failed = 0, total = 0;
  for (; i < argc; i++, total++) failed += check(argv[i]);
  printf("%d cases, %d failed\n", total, failed);
  return failed ? 1 : 0;
}
