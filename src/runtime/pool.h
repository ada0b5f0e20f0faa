/* A session's thread pool: threads - 1 worker pthreads plus the calling
 * thread. It runs one kernel at a time as n = threads tasks (task t of n
 * runs chunk t of the kernel's parallel loop); the threads claim the tasks,
 * so the caller runs those no worker took in time. Owns no global state;
 * one pool belongs to one session. */
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
/* While held, and for about a millisecond after, idle workers spin longer
 * before they sleep (up to about a millisecond since their last task,
 * pool.c), and holding wakes sleeping ones. A session holds its pool during
 * a run that has parallel kernels, from before it copies the inputs. */
void aicc_rt_pool_hold(aicc_rt_pool *p, bool on);
/* aicc_rt_pool_run that also times each task (profiling): ns[3t] and
 * ns[3t + 1] get the CLOCK_MONOTONIC start and end of task t, ns[3t + 2]
 * the pool thread that ran it (0: the caller). ns holds 3 * threads. */
int aicc_rt_pool_run_timed(aicc_rt_pool *p, aicc_rt_kernel_fn fn, void *const *bufs,
                           int64_t *ns);
/* CLOCK_MONOTONIC in nanoseconds. */
int64_t aicc_rt_now_ns(void);

#endif
