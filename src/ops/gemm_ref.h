/* A portable, cache-blocked f32 GEMM shared by the reference kernels (MatMul,
 * Gemm, Conv via im2col). Correct for any sizes and strides; fast enough for
 * interpreting real models. Not the compiled path: codegen owns that. */
#ifndef AICC_OPS_GEMM_REF_H
#define AICC_OPS_GEMM_REF_H

#include <stdint.h>

/* C = alpha * op(A) * op(B) + beta * C, row-major, op(X) = X or X^T.
 * op(A) is M x K, op(B) is K x N, C is M x N. lda/ldb/ldc are row strides in
 * elements of the matrices as stored (A is K x M when transA). When beta is 0,
 * C is not read (NaNs in C do not propagate), as BLAS specifies. */
void aicc_sgemm_ref(int transA, int transB, int64_t M, int64_t N, int64_t K,
                    float alpha, const float *A, int64_t lda, const float *B,
                    int64_t ldb, float beta, float *C, int64_t ldc);

#endif
