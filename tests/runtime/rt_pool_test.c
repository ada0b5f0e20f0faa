/* rt_pool_test: the session thread pool (src/runtime/pool.h). For 1..4
 * threads, many jobs in a row (half of them with the pool held): every
 * task of every job runs exactly once with the right task count, jobs never
 * overlap, and a task's nonzero result comes back. Then that the workers
 * really run tasks: a job whose tasks wait for each other (a barrier)
 * finishes only if every task runs on its own thread at the same time, and
 * the timed run names distinct threads; jobs far apart (workers asleep) and
 * back to back, held and not. Runs under ThreadSanitizer in the _tsan
 * build. */
#include "runtime/pool.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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

/* Every task waits (at most 5 s) until all ntasks arrived. */
typedef struct barrier_state {
  atomic_int arrived;
  atomic_int timeouts;
} barrier_state;

static int barrier_fn(void *const *bufs, int task, int ntasks) {
  (void)task;
  barrier_state *b = bufs[0];
  atomic_fetch_add(&b->arrived, 1);
  int64_t t0 = aicc_rt_now_ns();
  while (atomic_load(&b->arrived) < ntasks)
    if (aicc_rt_now_ns() - t0 > 5000000000LL) {
      atomic_fetch_add(&b->timeouts, 1);
      break;
    }
  return 0;
}

static int check_concurrent(int threads) {
  aicc_rt_pool *p = NULL;
  aicc_status st = aicc_rt_pool_create(threads, &p);
  if (st) {
    aicc_status_free(st);
    return 1;
  }
  int failed = 0;
  for (int j = 0; j < 40 && !failed; j++) {
    /* Jobs 20.. with the pool held (workers spin through the gaps). */
    if (j == 20) aicc_rt_pool_hold(p, true);
    if (j % 2 == 0) nanosleep(&(struct timespec){0, 5000000}, NULL); /* workers fall asleep */
    barrier_state b = {0};
    void *bufs[1] = {&b};
    int64_t ns[3 * 8];
    aicc_rt_pool_run_timed(p, barrier_fn, bufs, ns);
    int seen = 0;
    for (int t = 0; t < threads; t++) {
      int th = (int)ns[3 * t + 2];
      if (th < 0 || th >= threads || (seen >> th & 1) || ns[3 * t + 1] < ns[3 * t]) failed = 1;
      else seen |= 1 << th;
    }
    if (atomic_load(&b.timeouts)) failed = 1;
    if (failed)
      printf("FAIL %d threads, job %d: the tasks did not run at once on distinct threads\n",
             threads, j);
  }
  aicc_rt_pool_hold(p, false);
  aicc_rt_pool_destroy(p);
  return failed;
}

int main(void) {
  int failed = 0;
  for (int threads = 2; threads <= 4; threads++) failed |= check_concurrent(threads);
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
    for (int j = 0; j < jobs; j++) {
      if (j == jobs / 2) aicc_rt_pool_hold(p, true);
      if (aicc_rt_pool_run(p, task_fn, bufs) != 0) failed = 1;
    }
    aicc_rt_pool_hold(p, false);
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
  printf("%s\n", failed ? "pool: FAILED"
                        : "pool: ok (1..4 threads, 2000 jobs each; tasks run concurrently)");
  return failed;
}
