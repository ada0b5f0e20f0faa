/* Thread pool (pool.h): workers sleep on a condition variable until the
 * caller publishes a job (a generation counter), run their one task, and
 * count themselves done. The caller runs task 0 meanwhile. */
#include "runtime/pool.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct worker {
  aicc_rt_pool *pool;
  int task;
  pthread_t th;
} worker;

struct aicc_rt_pool {
  int threads;
  worker *workers; /* threads - 1 */
  int started;     /* workers actually running */
  pthread_mutex_t mu;
  pthread_cond_t wake, done;
  /* The current job, guarded by mu. */
  uint64_t generation;
  aicc_rt_kernel_fn fn;
  void *const *bufs;
  int pending; /* workers still running the job */
  int result;
  bool quit;
};

static void *worker_main(void *arg) {
  worker *w = arg;
  aicc_rt_pool *p = w->pool;
  uint64_t seen = 0;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (!p->quit && p->generation == seen) pthread_cond_wait(&p->wake, &p->mu);
    if (p->quit) break;
    seen = p->generation;
    aicc_rt_kernel_fn fn = p->fn;
    void *const *bufs = p->bufs;
    int n = p->threads;
    pthread_mutex_unlock(&p->mu);
    int r = fn(bufs, w->task, n);
    pthread_mutex_lock(&p->mu);
    if (r && !p->result) p->result = r;
    if (--p->pending == 0) pthread_cond_signal(&p->done);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

aicc_status aicc_rt_pool_create(int threads, aicc_rt_pool **out) {
  *out = NULL;
  if (threads < 1) threads = 1;
  aicc_rt_pool *p = calloc(1, sizeof *p);
  if (!p) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  p->threads = threads;
  if (pthread_mutex_init(&p->mu, NULL) || pthread_cond_init(&p->wake, NULL) ||
      pthread_cond_init(&p->done, NULL)) {
    free(p);
    return aicc_errorf(AICC_ERR_INTERNAL, "cannot initialize the thread pool's lock");
  }
  if (threads > 1) {
    p->workers = calloc((size_t)threads - 1, sizeof *p->workers);
    if (!p->workers) {
      aicc_rt_pool_destroy(p);
      return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < threads - 1; i++) {
      p->workers[i] = (worker){p, i + 1, 0};
      if (pthread_create(&p->workers[i].th, NULL, worker_main, &p->workers[i])) {
        aicc_rt_pool_destroy(p);
        return aicc_errorf(AICC_ERR_INTERNAL, "cannot start thread %d of %d", i + 2, threads);
      }
      p->started++;
    }
  }
  *out = p;
  return NULL;
}

void aicc_rt_pool_destroy(aicc_rt_pool *p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  p->quit = true;
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mu);
  for (int i = 0; i < p->started; i++) pthread_join(p->workers[i].th, NULL);
  pthread_cond_destroy(&p->wake);
  pthread_cond_destroy(&p->done);
  pthread_mutex_destroy(&p->mu);
  free(p->workers);
  free(p);
}

int aicc_rt_pool_threads(const aicc_rt_pool *p) { return p->threads; }

int aicc_rt_pool_run(aicc_rt_pool *p, aicc_rt_kernel_fn fn, void *const *bufs) {
  if (p->threads == 1) return fn(bufs, 0, 1);
  pthread_mutex_lock(&p->mu);
  p->fn = fn;
  p->bufs = bufs;
  p->pending = p->threads - 1;
  p->result = 0;
  p->generation++;
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mu);
  int r = fn(bufs, 0, p->threads);
  pthread_mutex_lock(&p->mu);
  while (p->pending > 0) pthread_cond_wait(&p->done, &p->mu);
  if (!r) r = p->result;
  pthread_mutex_unlock(&p->mu);
  return r;
}
