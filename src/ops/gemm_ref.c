/* Cache-blocked f32 GEMM for the reference kernels, after the BLIS layering
 * (Van Zee & van de Geijn 2015, §3): pack a KC x NC panel of B and an MC x KC
 * block of A into micro-panels, then run an MR x NR register-tile kernel.
 * The kernel is written with GCC vector extensions and built twice, plain and
 * for AVX2+FMA, picked at run time. Not an op family. */
#include "ops/gemm_ref.h"

#include "ops/registry.h"

#include <stdlib.h>
#include <string.h>

enum {
  MR = 6,    /* rows of the register tile */
  NR = 16,   /* cols of the register tile: two 8-float vectors */
  KC = 256,  /* depth of a packed panel: an A micro-panel stays in L1 */
  MC = 96,   /* rows of the packed A block (multiple of MR): L2 resident */
  NC = 2048, /* cols of the packed B panel (multiple of NR): L3 resident */
};

typedef float v8f __attribute__((vector_size(32)));

static inline float a_at(int transA, const float *A, int64_t lda, int64_t i, int64_t k) {
  return transA ? A[k * lda + i] : A[i * lda + k];
}

/* Packs rows [i0, i0+mc) x depth [k0, k0+kc) of alpha*op(A) into slivers of MR
 * rows, k-major within a sliver; rows past the block are zero. */
static void pack_a(int transA, const float *A, int64_t lda, int64_t i0,
                   int64_t mc, int64_t k0, int64_t kc, float alpha, float *out) {
  for (int64_t s = 0; s < mc; s += MR) {
    float *o = out + s * kc;
    int64_t rows = mc - s < MR ? mc - s : MR;
    for (int64_t k = 0; k < kc; k++) {
      for (int64_t i = 0; i < rows; i++)
        o[k * MR + i] = alpha * a_at(transA, A, lda, i0 + s + i, k0 + k);
      for (int64_t i = rows; i < MR; i++) o[k * MR + i] = 0.0f;
    }
  }
}

/* Packs depth [k0, k0+kc) x cols [j0, j0+nc) of op(B) into slivers of NR
 * cols, k-major within a sliver; cols past the block are zero. */
static void pack_b(int transB, const float *B, int64_t ldb, int64_t k0, int64_t kc,
                   int64_t j0, int64_t nc, float *out) {
  for (int64_t t = 0; t < nc; t += NR) {
    float *o = out + t * kc;
    int64_t cols = nc - t < NR ? nc - t : NR;
    for (int64_t k = 0; k < kc; k++) {
      float *ok = o + k * NR;
      if (!transB) {
        const float *b = B + (k0 + k) * ldb + j0 + t;
        for (int64_t j = 0; j < cols; j++) ok[j] = b[j];
      } else {
        const float *b = B + (j0 + t) * ldb + k0 + k;
        for (int64_t j = 0; j < cols; j++) ok[j] = b[j * ldb];
      }
      for (int64_t j = cols; j < NR; j++) ok[j] = 0.0f;
    }
  }
}

/* The macro-kernel: C[mc x nc] += Apack * Bpack, tile by tile. Defined by a
 * macro so the same source compiles for several targets. */
#define AICC_GEMM_BLOCK(NAME, ATTR)                                             \
  ATTR static void NAME(int64_t kc, int64_t mc, int64_t nc, const float *ap,   \
                        const float *bp, float *C, int64_t ldc) {              \
    for (int64_t jr = 0; jr < nc; jr += NR) {                                  \
      const float *b0 = bp + jr * kc;                                          \
      int64_t nr = nc - jr < NR ? nc - jr : NR;                                \
      for (int64_t ir = 0; ir < mc; ir += MR) {                                \
        const float *a = ap + ir * kc;                                         \
        const float *b = b0;                                                   \
        int64_t mr = mc - ir < MR ? mc - ir : MR;                              \
        v8f acc[MR][2];                                                        \
        memset(acc, 0, sizeof acc);                                            \
        for (int64_t k = 0; k < kc; k++) {                                     \
          v8f bv0, bv1;                                                        \
          memcpy(&bv0, b, sizeof bv0);                                         \
          memcpy(&bv1, b + 8, sizeof bv1);                                     \
          _Pragma("GCC unroll 6") for (int i = 0; i < MR; i++) {               \
            acc[i][0] += a[i] * bv0;                                           \
            acc[i][1] += a[i] * bv1;                                           \
          }                                                                    \
          a += MR;                                                             \
          b += NR;                                                             \
        }                                                                      \
        float *c = C + ir * ldc + jr;                                          \
        if (nr == NR) {                                                        \
          for (int64_t i = 0; i < mr; i++) {                                   \
            v8f c0, c1;                                                        \
            memcpy(&c0, c + i * ldc, sizeof c0);                               \
            memcpy(&c1, c + i * ldc + 8, sizeof c1);                           \
            c0 += acc[i][0];                                                   \
            c1 += acc[i][1];                                                   \
            memcpy(c + i * ldc, &c0, sizeof c0);                               \
            memcpy(c + i * ldc + 8, &c1, sizeof c1);                           \
          }                                                                    \
        } else {                                                               \
          float tmp[MR][NR];                                                   \
          memcpy(tmp, acc, sizeof tmp);                                        \
          for (int64_t i = 0; i < mr; i++)                                     \
            for (int64_t j = 0; j < nr; j++) c[i * ldc + j] += tmp[i][j];      \
        }                                                                      \
      }                                                                        \
    }                                                                          \
  }

AICC_GEMM_BLOCK(block_generic, )
#if defined(__x86_64__) && defined(__GNUC__)
AICC_GEMM_BLOCK(block_avx2, __attribute__((target("avx2,fma"))))
#endif

typedef void (*block_fn)(int64_t, int64_t, int64_t, const float *, const float *,
                         float *, int64_t);

static block_fn pick_block(void) {
#if defined(__x86_64__) && defined(__GNUC__)
  /* __builtin_cpu_supports is cheap after the first call (reads a cached
   * cpuid result), so no mutable global of ours is needed. */
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return block_avx2;
#endif
  return block_generic;
}

/* C = beta*C, with beta 0 writing zeros (C may hold garbage or NaN). */
static void scale_c(int64_t M, int64_t N, float beta, float *C, int64_t ldc) {
  if (beta == 1.0f) return;
  for (int64_t i = 0; i < M; i++) {
    float *c = C + i * ldc;
    if (beta == 0.0f) memset(c, 0, sizeof(float) * (size_t)N);
    else
      for (int64_t j = 0; j < N; j++) c[j] *= beta;
  }
}

/* Unblocked fallback (tiny problems, or when packing memory is unavailable). */
static void gemm_naive(int transA, int transB, int64_t M, int64_t N, int64_t K,
                       float alpha, const float *A, int64_t lda, const float *B,
                       int64_t ldb, float *C, int64_t ldc) {
  for (int64_t i = 0; i < M; i++)
    for (int64_t k = 0; k < K; k++) {
      float a = alpha * a_at(transA, A, lda, i, k);
      if (a == 0.0f) continue;
      float *c = C + i * ldc;
      if (!transB) {
        const float *b = B + k * ldb;
        for (int64_t j = 0; j < N; j++) c[j] += a * b[j];
      } else {
        for (int64_t j = 0; j < N; j++) c[j] += a * B[j * ldb + k];
      }
    }
}

/* One row of C against B^T: N dot products of contiguous rows, the shape of
 * a fully connected layer at batch 1. Eight partial sums keep it vectorizable
 * without reassociation flags. */
static void gemv_rows(int64_t N, int64_t K, float alpha, const float *a, int64_t astride,
                      const float *B, int64_t ldb, float *c) {
  for (int64_t j = 0; j < N; j++) {
    const float *b = B + j * ldb;
    float s[8] = {0};
    int64_t k = 0;
    if (astride == 1)
      for (; k + 8 <= K; k += 8)
        for (int u = 0; u < 8; u++) s[u] += a[k + u] * b[k + u];
    float t = 0.0f;
    for (; k < K; k++) t += a[k * astride] * b[k];
    for (int u = 0; u < 8; u++) t += s[u];
    c[j] += alpha * t;
  }
}

void aicc_sgemm_ref(int transA, int transB, int64_t M, int64_t N, int64_t K,
                    float alpha, const float *A, int64_t lda, const float *B,
                    int64_t ldb, float beta, float *C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  scale_c(M, N, beta, C, ldc);
  if (K <= 0 || alpha == 0.0f) return;
  if (M == 1 && transB) {
    gemv_rows(N, K, alpha, A, transA ? lda : 1, B, ldb, C);
    return;
  }
  if (M * N * K < 4096) {
    gemm_naive(transA, transB, M, N, K, alpha, A, lda, B, ldb, C, ldc);
    return;
  }
  int64_t nc_max = N < NC ? ((N + NR - 1) / NR) * NR : NC;
  int64_t kc_max = K < KC ? K : KC;
  int64_t mc_max = M < MC ? ((M + MR - 1) / MR) * MR : MC;
  float *bp = aligned_alloc(64, (((size_t)(kc_max * nc_max) * sizeof(float) + 63) / 64) * 64);
  float *ap = aligned_alloc(64, (((size_t)(kc_max * mc_max) * sizeof(float) + 63) / 64) * 64);
  if (!ap || !bp) {
    free(ap);
    free(bp);
    gemm_naive(transA, transB, M, N, K, alpha, A, lda, B, ldb, C, ldc);
    return;
  }
  block_fn block = pick_block();
  for (int64_t jc = 0; jc < N; jc += NC) {
    int64_t nc = N - jc < NC ? N - jc : NC;
    for (int64_t pc = 0; pc < K; pc += KC) {
      int64_t kc = K - pc < KC ? K - pc : KC;
      pack_b(transB, B, ldb, pc, kc, jc, nc, bp);
      for (int64_t ic = 0; ic < M; ic += MC) {
        int64_t mc = M - ic < MC ? M - ic : MC;
        pack_a(transA, A, lda, ic, mc, pc, kc, alpha, ap);
        block(kc, mc, nc, ap, bp, C + ic * ldc + jc, ldc);
      }
    }
  }
  free(ap);
  free(bp);
}
