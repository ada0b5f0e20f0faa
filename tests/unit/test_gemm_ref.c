/* aicc_sgemm_ref against a double-precision triple loop: every transpose
 * combination, alpha/beta, and sizes that are not multiples of the tiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ops/gemm_ref.h"

#include <math.h>
#include <stdlib.h>

static float frand(unsigned *s) {
  *s = *s * 1103515245u + 12345u;
  return (float)((*s >> 8) & 0xffff) / 65536.0f - 0.5f;
}

static void check(int M, int N, int K, int ta, int tb) {
  unsigned seed = (unsigned)(M * 131 + N * 7 + K + ta * 3 + tb);
  float *A = malloc(sizeof(float) * (size_t)(M * K + 1)), *B = malloc(sizeof(float) * (size_t)(K * N + 1));
  float *C = malloc(sizeof(float) * (size_t)(M * N + 1));
  double *R = malloc(sizeof(double) * (size_t)(M * N + 1));
  for (int i = 0; i < M * K; i++) A[i] = frand(&seed);
  for (int i = 0; i < K * N; i++) B[i] = frand(&seed);
  for (int i = 0; i < M * N; i++) C[i] = frand(&seed);
  int lda = ta ? M : K, ldb = tb ? K : N;
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      double r = 0;
      for (int k = 0; k < K; k++)
        r += (double)(ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? B[j * ldb + k] : B[k * ldb + j]);
      R[i * N + j] = 1.5 * r + 0.5 * C[i * N + j];
    }
  aicc_sgemm_ref(ta, tb, M, N, K, 1.5f, A, lda, B, ldb, 0.5f, C, N);
  double worst = 0;
  for (int i = 0; i < M * N; i++) worst = fmax(worst, fabs(C[i] - R[i]));
  /* f32 accumulation of K products of magnitude <= 1/4 */
  assert_true(worst <= 1e-5 * (K + 1));
  free(A);
  free(B);
  free(C);
  free(R);
}

static void test_shapes(void **state) {
  (void)state;
  static const int sizes[][3] = {{1, 1, 1},    {3, 5, 7},       {17, 33, 65},  {100, 200, 300},
                                 {7, 1000, 3}, {1, 300, 500},   {129, 257, 513}, {300, 1, 700}};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    for (int ta = 0; ta < 2; ta++)
      for (int tb = 0; tb < 2; tb++) check(sizes[s][0], sizes[s][1], sizes[s][2], ta, tb);
}

static void test_beta_zero_ignores_garbage(void **state) {
  (void)state;
  float A[4] = {1, 2, 3, 4}, B[4] = {1, 0, 0, 1}, C[4] = {NAN, NAN, NAN, NAN};
  aicc_sgemm_ref(0, 0, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);
  assert_true(C[0] == 1 && C[1] == 2 && C[2] == 3 && C[3] == 4);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_shapes),
                                     cmocka_unit_test(test_beta_zero_ignores_garbage)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
