/* rt_pool_test: the session thread pool (src/runtime/pool.h). For 1..4
 * threads, many jobs in a row: every task of every job runs exactly once
 * with the right task count, jobs never overlap, and a task's nonzero
 * result comes back. Runs under ThreadSanitizer in the _tsan build. */
#include "runtime/pool.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct job_state {
  atomic_int runs[8];
  atomic_int active;
  atomic_int overlap;
  int expect_n;
  int fail_task; /* -1: none */
  int plain[8];  /* written by task t only: checked after the job */
} job_state;

static int task_fn(void *const *bufs, int task, int ntasks) {
  job_state *s = bufs[0];
  if (atomic_fetch_add(&s->active, 1) >= ntasks) atomic_store(&s->overlap, 1);
  if (ntasks != s->expect_n || task < 0 || task >= ntasks) atomic_store(&s->overlap, 1);
  else {
    atomic_fetch_add(&s->runs[task], 1);
    s->plain[task] += task + 1;
  }
  atomic_fetch_sub(&s->active, 1);
  return task == s->fail_task ? 7 : 0;
}

int main(void) {
  int failed = 0;
  for (int threads = 1; threads <= 4; threads++) {
    aicc_rt_pool *p = NULL;
    aicc_status st = aicc_rt_pool_create(threads, &p);
    if (st) {
      printf("FAIL pool of %d: %s\n", threads, aicc_status_message(st));
      aicc_status_free(st);
      return 1;
    }
    job_state s = {0};
    s.expect_n = threads;
    s.fail_task = -1;
    void *bufs[1] = {&s};
    const int jobs = 2000;
    for (int j = 0; j < jobs; j++)
      if (aicc_rt_pool_run(p, task_fn, bufs) != 0) failed = 1;
    for (int t = 0; t < threads; t++)
      if (atomic_load(&s.runs[t]) != jobs || s.plain[t] != jobs * (t + 1)) {
        printf("FAIL %d threads: task %d ran %d times\n", threads, t, atomic_load(&s.runs[t]));
        failed = 1;
      }
    if (atomic_load(&s.overlap)) {
      printf("FAIL %d threads: wrong task count or overlapping jobs\n", threads);
      failed = 1;
    }
    s.fail_task = threads - 1;
    if (aicc_rt_pool_run(p, task_fn, bufs) != 7) {
      printf("FAIL %d threads: a task's error was lost\n", threads);
      failed = 1;
    }
    aicc_rt_pool_destroy(p);
  }
  printf("%s\n", failed ? "pool: FAILED" : "pool: ok (1..4 threads, 2000 jobs each)");
  return failed;
}
