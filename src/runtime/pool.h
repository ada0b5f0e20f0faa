/* A session's thread pool: threads - 1 worker pthreads plus the calling
 * thread. It runs one kernel at a time on every task (static partition:
 * task t of n runs chunk t of the kernel's parallel loop). Owns no global
 * state; one pool belongs to one session. */
#ifndef AICC_RUNTIME_POOL_H
#define AICC_RUNTIME_POOL_H

#include "runtime/plan.h"

typedef struct aicc_rt_pool aicc_rt_pool;

/* threads >= 1 (1: no workers, everything runs on the caller). */
AICC_MUST_USE aicc_status aicc_rt_pool_create(int threads, aicc_rt_pool **out);
/* Joins the workers. NULL is ignored. */
void aicc_rt_pool_destroy(aicc_rt_pool *p);
int aicc_rt_pool_threads(const aicc_rt_pool *p);
/* Calls fn(bufs, t, n) for every task t of n = threads, concurrently, and
 * waits for all of them. Returns 0, or a nonzero result of some task. */
int aicc_rt_pool_run(aicc_rt_pool *p, aicc_rt_kernel_fn fn, void *const *bufs);

#endif
