/* Thread pool (pool.h). A job is `threads` tasks that the caller and the
 * workers claim one at a time from a shared word, so the caller never waits
 * for a worker that is not running yet: a worker still asleep (or
 * descheduled on a busy machine) just finds its task done by the caller.
 * The caller then waits only for tasks already started. Waiting threads
 * spin before they sleep on a condition variable, since waking a sleeping
 * thread costs tens of microseconds, more than many kernels (the
 * spin-then-block scheme of OpenMP runtimes, e.g. libgomp's
 * GOMP_SPINCOUNT): briefly, or longer while the session holds the pool
 * (during a run, whose parallel kernels may be serial ones apart) and just
 * after (the next run of a loop). A
 * spinning thread takes a core from every other runnable thread, the
 * caller's included on a busy machine, so even a held spin is bounded.
 *
 * Workers are pinned, each to its own CPU other than the one the creating
 * thread runs on (when the process may use enough CPUs; AICC_POOL_PIN=0
 * turns it off). Unpinned, Linux starts a new thread, and wakes a sleeping
 * one, on the CPU of the thread that created or woke it (here the caller,
 * which then spins or computes), and moves it only at the next load
 * balance, milliseconds later: measured on this project's 2-vCPU machine,
 * an unpinned worker took part in 3 of the first 400 back-to-back 20 us
 * kernels of a new pool, a pinned one in 370. The caller stays unpinned:
 * the scheduler moves it off a worker's CPU. */
#define _GNU_SOURCE /* sched_getcpu, pthread_attr_setaffinity_np */
#include "runtime/pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

/* How long a waiting thread spins before it sleeps: enough for the next
 * of back-to-back parallel kernels, short enough that an idle session gives
 * its cores back soon. While the pool is held, and for AICC_POOL_LINGER_NS
 * after the hold ends, a worker spins up to AICC_POOL_HOLD_NS since its
 * last task (yielding the core now and then after the first
 * AICC_POOL_SPIN_NS): that covers short serial kernels between parallel
 * ones, and the caller's work between runs of a loop over the session
 * (copying inputs and outputs), but not long serial stretches. A worker
 * that went to sleep costs the next kernel its wake-up, tens to hundreds of
 * microseconds on a virtual machine whose idle vCPU halted: more than a
 * whole task of many kernels, which the caller then runs alone. */
#ifndef AICC_POOL_SPIN_NS
#define AICC_POOL_SPIN_NS 100000
#endif
#ifndef AICC_POOL_HOLD_NS
#define AICC_POOL_HOLD_NS 1000000
#endif
#ifndef AICC_POOL_LINGER_NS
#define AICC_POOL_LINGER_NS 1000000
#endif

int64_t aicc_rt_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

typedef struct worker {
  aicc_rt_pool *pool;
  int thread;
  pthread_t th;
} worker;

/* The job word: generation in the high 32 bits, the next unclaimed task in
 * the low 32. A task is claimed by a compare-exchange that keeps the
 * generation, so a thread holding an old generation can never claim a task
 * of a newer job. */
#define JOB_GEN(w) ((uint32_t)((w) >> 32))
#define JOB_NEXT(w) ((uint32_t)(w))

struct aicc_rt_pool {
  int threads;
  worker *workers; /* threads - 1 */
  int started;     /* workers actually running */
  /* The current job. The fields are written by the caller before it
   * publishes a new generation (release) and only while no task of the
   * previous job runs; a worker reads them after it saw the generation
   * (acquire) and uses them only if its claim of a task of that generation
   * succeeds (atomics: a reader late by a whole job reads, then drops, the
   * next job's values). */
  _Atomic(aicc_rt_kernel_fn) fn;
  _Atomic(void *const *) bufs;
  _Atomic(int64_t *) ns;      /* profiling (pool.h), or NULL */
  _Atomic uint64_t job;
  atomic_int finished;        /* tasks of the job done */
  atomic_int result;          /* the first nonzero task result */
  atomic_bool quit;
  _Atomic int64_t hot_until; /* workers spin longer until then (hold) */
  atomic_uint hold_epoch;  /* bumped by each hold: wakes sleeping workers */
  /* Sleeping. A thread about to sleep announces it (sleepers,
   * caller_asleep) and then checks its condition again; the other side
   * changes the condition and then looks for announced sleepers (both
   * seq_cst), so no wake-up is lost. The mutex orders that with the wait. */
  pthread_mutex_t mu;
  pthread_cond_t wake, done;
  atomic_int sleepers;
  atomic_bool caller_asleep;
};

/* Spins while cond(p, arg) holds, at most AICC_POOL_SPIN_NS, or when
 * may_hold and the pool is hot (held, or released less than
 * AICC_POOL_LINGER_NS ago), at most AICC_POOL_HOLD_NS (yielding the core now
 * and then after the first, for a busy machine). Returns whether cond
 * stopped holding. */
static bool spin_while(bool (*cond)(aicc_rt_pool *, uint32_t), aicc_rt_pool *p, uint32_t arg,
                       bool may_hold) {
  int64_t t0 = 0;
  for (unsigned i = 1; cond(p, arg); i++) {
    CPU_RELAX();
    if (i % 128 == 0) {
      int64_t t = aicc_rt_now_ns();
      if (!t0) t0 = t;
      if (t - t0 <= AICC_POOL_SPIN_NS) continue;
      if (!may_hold || t >= atomic_load_explicit(&p->hot_until, memory_order_relaxed) ||
          t - t0 > AICC_POOL_HOLD_NS)
        return false;
      sched_yield(); /* hot: let other runnable threads in now and then */
    }
  }
  return true;
}

static bool no_new_job(aicc_rt_pool *p, uint32_t seen) {
  return JOB_GEN(atomic_load_explicit(&p->job, memory_order_acquire)) == seen &&
         !atomic_load_explicit(&p->quit, memory_order_relaxed);
}

static bool tasks_running(aicc_rt_pool *p, uint32_t n) {
  return atomic_load_explicit(&p->finished, memory_order_acquire) < (int)n;
}

/* Claims and runs tasks of generation gen (fields read as of that
 * generation) until none is left; on thread `thread`. */
static void run_tasks(aicc_rt_pool *p, uint32_t gen, int thread) {
  aicc_rt_kernel_fn fn = atomic_load_explicit(&p->fn, memory_order_relaxed);
  void *const *bufs = atomic_load_explicit(&p->bufs, memory_order_relaxed);
  int64_t *ns = atomic_load_explicit(&p->ns, memory_order_relaxed);
  int n = p->threads;
  uint64_t w = atomic_load_explicit(&p->job, memory_order_acquire);
  for (;;) {
    if (JOB_GEN(w) != gen || JOB_NEXT(w) >= (uint32_t)n) return;
    if (!atomic_compare_exchange_weak_explicit(&p->job, &w, w + 1, memory_order_acquire,
                                               memory_order_acquire))
      continue;
    int t = (int)JOB_NEXT(w);
    if (ns) ns[3 * t] = aicc_rt_now_ns();
    int r = fn(bufs, t, n);
    if (ns) {
      ns[3 * t + 1] = aicc_rt_now_ns();
      ns[3 * t + 2] = thread;
    }
    if (r) {
      int zero = 0;
      atomic_compare_exchange_strong(&p->result, &zero, r);
    }
    if (atomic_fetch_add(&p->finished, 1) == n - 1 && thread != 0 &&
        atomic_load(&p->caller_asleep)) {
      pthread_mutex_lock(&p->mu);
      pthread_cond_signal(&p->done);
      pthread_mutex_unlock(&p->mu);
    }
    w = atomic_load_explicit(&p->job, memory_order_acquire);
  }
}

static void *worker_main(void *arg) {
  worker *wk = arg;
  aicc_rt_pool *p = wk->pool;
  uint32_t seen = 0;
  for (;;) {
    /* A hold that starts after this point wakes the worker again. */
    unsigned epoch = atomic_load(&p->hold_epoch);
    if (!spin_while(no_new_job, p, seen, true)) {
      pthread_mutex_lock(&p->mu);
      atomic_fetch_add(&p->sleepers, 1);
      while (JOB_GEN(atomic_load(&p->job)) == seen && !atomic_load(&p->quit) &&
             atomic_load(&p->hold_epoch) == epoch)
        pthread_cond_wait(&p->wake, &p->mu);
      atomic_fetch_sub(&p->sleepers, 1);
      pthread_mutex_unlock(&p->mu);
    }
    if (atomic_load(&p->quit)) break;
    seen = JOB_GEN(atomic_load_explicit(&p->job, memory_order_acquire));
    run_tasks(p, seen, wk->thread);
  }
  return NULL;
}

/* The CPUs for n workers: the process's allowed CPUs in order, skipping
 * the one this thread runs on; false (no pinning) when there are too few,
 * when AICC_POOL_PIN is "0", or off Linux. */
static bool worker_cpus(int n, int *cpu) {
#ifdef __linux__
  const char *env = getenv("AICC_POOL_PIN");
  if (env && !strcmp(env, "0")) return false;
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) || CPU_COUNT(&allowed) < n + 1) return false;
  int self = sched_getcpu(), k = 0;
  for (int c = 0; c < CPU_SETSIZE && k < n; c++)
    if (CPU_ISSET(c, &allowed) && c != self) cpu[k++] = c;
  return k == n;
#else
  (void)n;
  (void)cpu;
  return false;
#endif
}

/* Starts w's thread, on CPU cpu only when cpu >= 0 (from its first
 * instruction: the attribute, not a later call). Nonzero on failure. */
static int start_worker(worker *w, int cpu) {
  pthread_attr_t attr, *ap = NULL;
#ifdef __linux__
  if (cpu >= 0 && !pthread_attr_init(&attr)) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    ap = &attr;
    if (pthread_attr_setaffinity_np(ap, sizeof one, &one)) {
      pthread_attr_destroy(ap);
      ap = NULL;
    }
  }
#else
  (void)cpu;
  (void)attr;
#endif
  int rc = pthread_create(&w->th, ap, worker_main, w);
  if (ap) pthread_attr_destroy(ap);
  return rc;
}

aicc_status aicc_rt_pool_create(int threads, aicc_rt_pool **out) {
  *out = NULL;
  if (threads < 1) threads = 1;
  aicc_rt_pool *p = calloc(1, sizeof *p);
  if (!p) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  p->threads = threads;
  atomic_init(&p->fn, NULL);
  atomic_init(&p->bufs, NULL);
  atomic_init(&p->ns, NULL);
  atomic_init(&p->job, (uint64_t)threads); /* generation 0, nothing to claim */
  atomic_init(&p->finished, 0);
  atomic_init(&p->result, 0);
  atomic_init(&p->quit, false);
  atomic_init(&p->hot_until, 0);
  atomic_init(&p->hold_epoch, 0);
  atomic_init(&p->sleepers, 0);
  atomic_init(&p->caller_asleep, false);
  if (pthread_mutex_init(&p->mu, NULL) || pthread_cond_init(&p->wake, NULL) ||
      pthread_cond_init(&p->done, NULL)) {
    free(p);
    return aicc_errorf(AICC_ERR_INTERNAL, "cannot initialize the thread pool's lock");
  }
  if (threads > 1) {
    p->workers = calloc((size_t)threads - 1, sizeof *p->workers);
    int *cpu = calloc((size_t)threads - 1, sizeof *cpu);
    if (!p->workers || !cpu) {
      free(cpu);
      aicc_rt_pool_destroy(p);
      return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
    }
    bool pin = worker_cpus(threads - 1, cpu);
    for (int i = 0; i < threads - 1; i++) {
      p->workers[i] = (worker){p, i + 1, 0};
      if (start_worker(&p->workers[i], pin ? cpu[i] : -1)) {
        free(cpu);
        aicc_rt_pool_destroy(p);
        return aicc_errorf(AICC_ERR_INTERNAL, "cannot start thread %d of %d", i + 2, threads);
      }
      p->started++;
    }
    free(cpu);
  }
  *out = p;
  return NULL;
}

void aicc_rt_pool_destroy(aicc_rt_pool *p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  atomic_store(&p->quit, true);
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

void aicc_rt_pool_hold(aicc_rt_pool *p, bool on) {
  if (p->threads == 1) return;
  if (!on) {
    atomic_store(&p->hot_until, aicc_rt_now_ns() + AICC_POOL_LINGER_NS);
    return;
  }
  atomic_store(&p->hot_until, INT64_MAX);
  atomic_fetch_add(&p->hold_epoch, 1);
  if (atomic_load(&p->sleepers) > 0) {
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
  }
}

int aicc_rt_pool_run(aicc_rt_pool *p, aicc_rt_kernel_fn fn, void *const *bufs) {
  return aicc_rt_pool_run_timed(p, fn, bufs, NULL);
}

int aicc_rt_pool_run_timed(aicc_rt_pool *p, aicc_rt_kernel_fn fn, void *const *bufs,
                           int64_t *ns) {
  int n = p->threads;
  if (n == 1) {
    if (ns) ns[0] = aicc_rt_now_ns();
    int r = fn(bufs, 0, 1);
    if (ns) {
      ns[1] = aicc_rt_now_ns();
      ns[2] = 0;
    }
    return r;
  }
  /* Every task of the previous job finished, so no worker uses these. */
  atomic_store_explicit(&p->fn, fn, memory_order_relaxed);
  atomic_store_explicit(&p->bufs, bufs, memory_order_relaxed);
  atomic_store_explicit(&p->ns, ns, memory_order_relaxed);
  atomic_store_explicit(&p->finished, 0, memory_order_relaxed);
  atomic_store_explicit(&p->result, 0, memory_order_relaxed);
  uint32_t gen = JOB_GEN(atomic_load_explicit(&p->job, memory_order_relaxed)) + 1;
  atomic_store(&p->job, (uint64_t)gen << 32); /* publishes the job (seq_cst) */
  if (atomic_load(&p->sleepers) > 0) {
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
  }
  run_tasks(p, gen, 0);
  /* Only tasks that a worker already claimed can be running now. */
  if (!spin_while(tasks_running, p, (uint32_t)n, false)) {
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->caller_asleep, true);
    while (atomic_load(&p->finished) < n) pthread_cond_wait(&p->done, &p->mu);
    atomic_store(&p->caller_asleep, false);
    pthread_mutex_unlock(&p->mu);
  }
  return atomic_load_explicit(&p->result, memory_order_relaxed);
}
