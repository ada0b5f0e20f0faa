/* rt_concurrent: sessions run concurrently. Two programs (cases A and B)
 * with two sessions each, each session on its own pthread, run the cases'
 * inputs ITERS times and compare every run with the interpreter's outputs.
 * The threads share the input tensors and the programs (read-only): this is
 * the contract of runtime.h, and under ThreadSanitizer (the _tsan build of
 * this file) any data race between sessions fails the test.
 *
 *   rt_concurrent [--iters N] [--threads T] [--cache DIR] CASE_A CASE_B
 *
 * Program A is compiled for T threads per session (its pool runs parallel
 * kernels), B for 1. A case whose model has symbolic dims specializes at
 * the first run, which its sessions race to do. */
#include "rt_case.h"

#include "interp/interp.h"
#include "runtime/runtime.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct job {
  const char *label;
  rt_case *c;
  aicc_tensor **want;
  aicc_rt_program *prog;
  int iters;
  int failed;
  char why[512];
} job;

static void *run_job(void *arg) {
  job *j = arg;
  aicc_rt_session *s = NULL;
  aicc_status st = aicc_rt_session_create(j->prog, &s);
  int n = j->c->n_outputs;
  aicc_tensor **got = calloc((size_t)n + 1, sizeof *got);
  for (int it = 0; it < j->iters && !st && !j->failed; it++) {
    st = aicc_rt_session_run(s, j->c->inputs, j->c->n_inputs, got, n);
    char why[400];
    if (!st && !rt_outputs_match(j->want, got, n, 1e-3, 1e-4, why, sizeof why)) {
      snprintf(j->why, sizeof j->why, "iteration %d: %s", it, why);
      j->failed = 1;
    }
    rt_outputs_release(got, n);
  }
  if (st) {
    snprintf(j->why, sizeof j->why, "%s", aicc_status_message(st));
    j->failed = 1;
    aicc_status_free(st);
  }
  free(got);
  aicc_rt_session_destroy(s);
  return NULL;
}

static int load(const char *dir, rt_case *c, aicc_tensor ***want, aicc_model **m) {
  aicc_status st = rt_case_load(dir, c, m);
  if (!st) {
    *want = calloc((size_t)c->n_outputs + 1, sizeof **want);
    st = aicc_interp_run(*m, c->inputs, c->n_inputs, *want, c->n_outputs);
  }
  if (st) {
    fprintf(stderr, "%s: %s\n", dir, aicc_status_message(st));
    aicc_status_free(st);
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  int iters = 20, threads = 2;
  const char *cache = NULL;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "--iters") == 0 && i + 1 < argc) iters = atoi(argv[++i]);
    else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
    else if (strcmp(argv[i], "--cache") == 0 && i + 1 < argc) cache = argv[++i];
    else break;
  }
  if (argc - i != 2) {
    fprintf(stderr, "usage: rt_concurrent [--iters N] [--threads T] [--cache DIR] CASE_A CASE_B\n");
    return 2;
  }
  rt_case ca, cb;
  aicc_tensor **wa = NULL, **wb = NULL;
  aicc_model *ma = NULL, *mb = NULL;
  if (load(argv[i], &ca, &wa, &ma) || load(argv[i + 1], &cb, &wb, &mb)) return 1;
  aicc_rt_options oa = {.threads = threads, .opt_level = -1, .cache_dir = cache,
                        .cflags = "-Werror"};
  aicc_rt_options ob = oa;
  ob.threads = 1;
  aicc_rt_program *pa = NULL, *pb = NULL;
  aicc_status st = aicc_rt_compile(ma, &oa, &pa);
  if (!st) st = aicc_rt_compile(mb, &ob, &pb);
  if (st) {
    fprintf(stderr, "compile: %s\n", aicc_status_message(st));
    aicc_status_free(st);
    return 1;
  }
  job jobs[4] = {
      {"A session 1", &ca, wa, pa, iters, 0, ""},
      {"A session 2", &ca, wa, pa, iters, 0, ""},
      {"B session 1", &cb, wb, pb, iters, 0, ""},
      {"B session 2", &cb, wb, pb, iters, 0, ""},
  };
  pthread_t th[4];
  for (int k = 0; k < 4; k++)
    if (pthread_create(&th[k], NULL, run_job, &jobs[k])) {
      fprintf(stderr, "cannot start a thread\n");
      return 1;
    }
  int failed = 0;
  for (int k = 0; k < 4; k++) {
    pthread_join(th[k], NULL);
    if (jobs[k].failed) {
      printf("FAIL %s: %s\n", jobs[k].label, jobs[k].why);
      failed = 1;
    }
  }
  aicc_rt_stats sa, sb;
  aicc_rt_program_stats(pa, &sa);
  aicc_rt_program_stats(pb, &sb);
  printf("A: %d kernels, %d extern, %d specialization(s); B: %d kernels, %d extern; "
         "%d iterations x 4 sessions: %s\n",
         sa.kernels, sa.extern_steps, sa.specializations, sb.kernels, sb.extern_steps, iters,
         failed ? "FAILED" : "all match the interpreter");
  if (sa.specializations != 1) {
    printf("FAIL: program A has %d specializations, expected 1\n", sa.specializations);
    failed = 1;
  }
  rt_outputs_release(wa, ca.n_outputs);
  rt_outputs_release(wb, cb.n_outputs);
  free(wa);
  free(wb);
  aicc_rt_program_destroy(pa);
  aicc_rt_program_destroy(pb);
  rt_case_fini(&ca);
  rt_case_fini(&cb);
  return failed;
}
