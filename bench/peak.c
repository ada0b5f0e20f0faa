/* Machine ceilings for the benchmark ratios: peak FP32 FMA throughput and
 * memory bandwidth, on 1 thread and on T threads. Built by bench/run.py with
 * -O3 -march=native; prints one JSON object.
 *
 * FMA: 24 independent chains of _mm512_fmadd_ps per thread, enough to hide
 * the FMA latency (4 cycles) on two 512-bit pipes (8 in flight) with room to
 * spare; 256-bit vectors or fewer chains measure half the machine.
 * Bandwidth: the STREAM triad a[i] = b[i] + s * c[i] (McCalpin), 12 bytes
 * counted per element as STREAM counts them, best of several passes. */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHAINS 24

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- FMA peak ------------------------------------------------------------ */

typedef struct fma_job {
  long iters;
  float sink;
} fma_job;

static void *fma_worker(void *arg) {
  fma_job *j = arg;
  __m512 acc[CHAINS];
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int c = 0; c < CHAINS; c++) acc[c] = _mm512_set1_ps((float)c * 0.01f);
  for (long i = 0; i < j->iters; i++) {
#pragma GCC unroll 24
    for (int c = 0; c < CHAINS; c++) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
  }
  __m512 s = acc[0];
  for (int c = 1; c < CHAINS; c++) s = _mm512_add_ps(s, acc[c]);
  j->sink = _mm512_reduce_add_ps(s);
  return NULL;
}

/* GFLOP/s of `threads` threads each running iters rounds (best of reps). */
static double fma_gflops(int threads, long iters, int reps) {
  double best = 0;
  for (int r = 0; r < reps; r++) {
    pthread_t tid[64];
    fma_job jobs[64];
    double t0 = now_s();
    for (int t = 0; t < threads; t++) {
      jobs[t].iters = iters;
      pthread_create(&tid[t], NULL, fma_worker, &jobs[t]);
    }
    for (int t = 0; t < threads; t++) pthread_join(tid[t], NULL);
    double dt = now_s() - t0;
    double flops = (double)threads * (double)iters * CHAINS * 16 * 2;
    if (flops / dt / 1e9 > best) best = flops / dt / 1e9;
  }
  return best;
}

/* ---- triad --------------------------------------------------------------- */

typedef struct triad_job {
  float *a, *b, *c;
  size_t lo, hi;
} triad_job;

static void *triad_worker(void *arg) {
  triad_job *j = arg;
  const float s = 3.0f;
  for (size_t i = j->lo; i < j->hi; i++) j->a[i] = j->b[i] + s * j->c[i];
  return NULL;
}

static double triad_gbs(int threads, size_t n, int reps, float *a, float *b, float *c) {
  double best = 0;
  for (int r = 0; r < reps; r++) {
    pthread_t tid[64];
    triad_job jobs[64];
    double t0 = now_s();
    for (int t = 0; t < threads; t++) {
      jobs[t] = (triad_job){a, b, c, n * (size_t)t / (size_t)threads,
                            n * (size_t)(t + 1) / (size_t)threads};
      pthread_create(&tid[t], NULL, triad_worker, &jobs[t]);
    }
    for (int t = 0; t < threads; t++) pthread_join(tid[t], NULL);
    double dt = now_s() - t0;
    double gbs = 12.0 * (double)n / dt / 1e9;
    if (gbs > best) best = gbs;
  }
  return best;
}

/* First-touch each array from the threads that will use it. */
static void *touch_worker(void *arg) {
  triad_job *j = arg;
  for (size_t i = j->lo; i < j->hi; i++) j->a[i] = j->b[i] = j->c[i] = 1.0f;
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2;
  if (threads < 1 || threads > 64) threads = 2;
  const long iters = 20000000; /* ~0.3 s per thread at 200 GFLOP/s */
  double f1 = fma_gflops(1, iters, 5);
  double fn = fma_gflops(threads, iters, 5);

  const size_t n = (size_t)48 << 20; /* 48 Mi floats: 192 MiB per array, far past L3 */
  float *a = aligned_alloc(64, n * 4), *b = aligned_alloc(64, n * 4), *c = aligned_alloc(64, n * 4);
  if (!a || !b || !c) {
    fprintf(stderr, "peak: out of memory\n");
    return 1;
  }
  pthread_t tid[64];
  triad_job jobs[64];
  for (int t = 0; t < threads; t++) {
    jobs[t] = (triad_job){a, b, c, n * (size_t)t / (size_t)threads,
                          n * (size_t)(t + 1) / (size_t)threads};
    pthread_create(&tid[t], NULL, touch_worker, &jobs[t]);
  }
  for (int t = 0; t < threads; t++) pthread_join(tid[t], NULL);
  double b1 = triad_gbs(1, n, 5, a, b, c);
  double bn = triad_gbs(threads, n, 5, a, b, c);
  printf("{\"fma_chains\": %d, \"fma_gflops_1t\": %.2f, \"fma_gflops_%dt\": %.2f, "
         "\"triad_gbs_1t\": %.2f, \"triad_gbs_%dt\": %.2f, \"threads\": %d, \"check\": %g}\n",
         CHAINS, f1, threads, fn, b1, threads, bn, threads, (double)a[n / 2]);
  free(a);
  free(b);
  free(c);
  return 0;
}
