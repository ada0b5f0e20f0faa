/* Linear algebra ops: MatMul (numpy batching and 1-D promotion), Gemm,
 * MatMulInteger, Det. f32 products go through the blocked aicc_sgemm_ref;
 * other dtypes take exact slow paths (double for floats, int64 for integers).
 * Einsum and Attention live in their own files. */
#include "ops/conv_util.h"
#include "ops/gemm_ref.h"
#include "ops/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- dtype helpers ---- */

static bool is_numeric(aicc_dtype dt) {
  return aicc_dtype_is_float(dt) || aicc_dtype_is_int(dt);
}

/* Whole-tensor copies in a computation dtype; caller frees. NULL on OOM. */
static int64_t *read_i64(const aicc_tensor *t) {
  int64_t n = aicc_tensor_numel(t);
  int64_t *p = malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
  if (!p) return NULL;
  for (int64_t i = 0; i < n; i++) p[i] = aicc_tensor_get_i64(t, i);
  return p;
}

/* False only when both dims are known and differ. */
static bool dims_may_equal(aicc_dim a, aicc_dim b) {
  return !(aicc_dim_is_known(a) && aicc_dim_is_known(b) && a.size != b.size);
}

/* ---- MatMul shape rules (shared by MatMul and MatMulInteger) ---- */

/* Infers numpy matmul: 1-D operands are promoted (and the added dim removed),
 * leading dims broadcast. */
static aicc_status mm_infer_shape(aicc_infer_ctx *c, aicc_dtype out_dt) {
  if (!aicc_infer_has_rank(c, 0) || !aicc_infer_has_rank(c, 1)) {
    aicc_infer_set(c, 0, out_dt, -1, NULL);
    return NULL;
  }
  const aicc_type *a = c->in[0], *b = c->in[1];
  if (a->rank < 1 || b->rank < 1)
    return aicc_infer_error(c, AICC_ERR_SHAPE, "MatMul operands need rank >= 1");
  aicc_dim ka = a->dims[a->rank - 1];
  aicc_dim kb = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
  if (!dims_may_equal(ka, kb))
    return aicc_infer_error(c, AICC_ERR_SHAPE, "MatMul inner dims differ: %lld vs %lld",
                            (long long)ka.size, (long long)kb.size);
  int na = a->rank > 2 ? a->rank - 2 : 0, nb = b->rank > 2 ? b->rank - 2 : 0;
  int nbatch = na > nb ? na : nb;
  aicc_dim out[AICC_MAX_RANK];
  for (int d = 0; d < nbatch; d++) {
    int da = d - (nbatch - na), db = d - (nbatch - nb);
    aicc_dim x = da >= 0 ? a->dims[da] : aicc_dim_known(1);
    aicc_dim y = db >= 0 ? b->dims[db] : aicc_dim_known(1);
    if (!aicc_dim_broadcast(x, y, &out[d]))
      return aicc_infer_error(c, AICC_ERR_SHAPE, "MatMul batch dims cannot broadcast");
  }
  int r = nbatch;
  if (a->rank >= 2) out[r++] = a->dims[a->rank - 2];
  if (b->rank >= 2) out[r++] = b->dims[b->rank - 1];
  aicc_infer_set(c, 0, out_dt, r, out);
  return NULL;
}

typedef struct mm_plan {
  int64_t M, N, K;
  int nbatch;                     /* broadcast batch rank */
  int64_t bdims[AICC_MAX_RANK];   /* batch dims of the output */
  int64_t astr[AICC_MAX_RANK];    /* per batch dim: element offset in A */
  int64_t bstr[AICC_MAX_RANK];    /* per batch dim: element offset in B */
  int out_rank;
  int64_t out_dims[AICC_MAX_RANK];
  int64_t batches;
  bool b_shared;                  /* B has no batch: A's batches fold into M */
} mm_plan;

static aicc_status mm_plan_make(const aicc_kernel_ctx *c, const aicc_tensor *A,
                                const aicc_tensor *B, mm_plan *p) {
  memset(p, 0, sizeof *p);
  if (A->rank < 1 || B->rank < 1)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "MatMul operands need rank >= 1");
  p->M = A->rank == 1 ? 1 : A->dims[A->rank - 2];
  p->K = A->dims[A->rank - 1];
  int64_t kb = B->rank == 1 ? B->dims[0] : B->dims[B->rank - 2];
  p->N = B->rank == 1 ? 1 : B->dims[B->rank - 1];
  if (kb != p->K)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "MatMul inner dims differ: %lld vs %lld",
                             (long long)p->K, (long long)kb);
  int na = A->rank > 2 ? A->rank - 2 : 0, nb = B->rank > 2 ? B->rank - 2 : 0;
  int n = na > nb ? na : nb;
  p->nbatch = n;
  /* Matrix-granular strides of the batch dims, 0 where broadcast. */
  int64_t sa = p->M * p->K, sb = p->K * p->N;
  for (int d = n - 1; d >= 0; d--) {
    int da = d - (n - na), db = d - (n - nb);
    int64_t xa = da >= 0 ? A->dims[da] : 1, xb = db >= 0 ? B->dims[db] : 1;
    if (xa != xb && xa != 1 && xb != 1)
      return aicc_kernel_error(c, AICC_ERR_SHAPE,
                               "MatMul batch dims cannot broadcast: %lld vs %lld",
                               (long long)xa, (long long)xb);
    p->bdims[d] = xa == 1 ? xb : xa;
    p->astr[d] = xa == 1 ? 0 : sa;
    p->bstr[d] = xb == 1 ? 0 : sb;
    sa *= xa;
    sb *= xb;
  }
  p->batches = 1;
  for (int d = 0; d < n; d++) p->batches *= p->bdims[d];
  int r = 0;
  for (int d = 0; d < n; d++) p->out_dims[r++] = p->bdims[d];
  if (A->rank >= 2) p->out_dims[r++] = p->M;
  if (B->rank >= 2) p->out_dims[r++] = p->N;
  p->out_rank = r;
  p->b_shared = nb == 0;
  return NULL;
}

/* Runs the body for every output batch with its index and A/B offsets. */
#define MM_FOR_BATCHES(p, bi, aoff, boff, ...)                                 \
  do {                                                                         \
    aicc_iter it_;                                                             \
    aicc_iter_init(&it_, (p)->bdims, (p)->nbatch);                             \
    aicc_iter_add(&it_, (p)->astr);                                            \
    aicc_iter_add(&it_, (p)->bstr);                                            \
    for (int64_t bi = 0; bi < (p)->batches; bi++, aicc_iter_next(&it_)) {      \
      int64_t aoff = it_.off[0], boff = it_.off[1];                            \
      __VA_ARGS__;                                                             \
    }                                                                          \
  } while (0)

static aicc_status matmul_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = c->in[0] ? c->in[0]->dtype : AICC_DTYPE_UNDEFINED;
  return mm_infer_shape(c, dt);
}

static aicc_status matmul_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *A = c->in[0], *B = c->in[1];
  if (A->dtype != B->dtype || !is_numeric(A->dtype))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "MatMul of %s and %s",
                             aicc_dtype_text(A->dtype), aicc_dtype_text(B->dtype));
  mm_plan p;
  AICC_TRY(mm_plan_make(c, A, B, &p));
  aicc_tensor *Y;
  AICC_TRY(aicc_kernel_output(c, 0, A->dtype, p.out_rank, p.out_dims, &Y));
  int64_t M = p.M, N = p.N, K = p.K, mn = M * N;
  if (aicc_tensor_numel(Y) == 0) return NULL;
  aicc_dtype dt = A->dtype;
  if (dt == AICC_DTYPE_F32 || dt == AICC_DTYPE_F16 || dt == AICC_DTYPE_BF16) {
    /* Narrow floats are widened to f32 (accumulating in f32 as numpy does). */
    float *a = dt == AICC_DTYPE_F32 ? A->data : aicc_conv_to_f32(A);
    float *b = dt == AICC_DTYPE_F32 ? B->data : aicc_conv_to_f32(B);
    float *y = dt == AICC_DTYPE_F32 ? Y->data : malloc(sizeof(float) * (size_t)aicc_tensor_numel(Y));
    if (!a || !b || !y) {
      if (dt != AICC_DTYPE_F32) { free(a); free(b); free(y); }
      return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
    }
    if (p.b_shared) {
      /* All of A's rows against one B: one big GEMM. */
      aicc_sgemm_ref(0, 0, p.batches * M, N, K, 1.0f, a, K, b, N, 0.0f, y, N);
    } else {
      MM_FOR_BATCHES(&p, bi, ao, bo,
                     aicc_sgemm_ref(0, 0, M, N, K, 1.0f, a + ao, K, b + bo, N, 0.0f,
                                    y + bi * mn, N));
    }
    if (dt != AICC_DTYPE_F32) {
      int64_t n = aicc_tensor_numel(Y);
      for (int64_t i = 0; i < n; i++) aicc_tensor_set_f64(Y, i, y[i]);
      free(a);
      free(b);
      free(y);
    }
    return NULL;
  }
  if (aicc_dtype_is_float(dt)) {
    double *a = aicc_conv_to_f64(A), *b = aicc_conv_to_f64(B);
    double *row = malloc(sizeof(double) * (size_t)(N > 0 ? N : 1));
    if (!a || !b || !row) {
      free(a); free(b); free(row);
      return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
    }
    MM_FOR_BATCHES(&p, bi, ao, bo, {
      for (int64_t i = 0; i < M; i++) {
        for (int64_t j = 0; j < N; j++) row[j] = 0.0;
        for (int64_t k = 0; k < K; k++) {
          double x = a[ao + i * K + k];
          const double *br = b + bo + k * N;
          for (int64_t j = 0; j < N; j++) row[j] += x * br[j];
        }
        for (int64_t j = 0; j < N; j++) aicc_tensor_set_f64(Y, bi * mn + i * N + j, row[j]);
      }
    });
    free(a); free(b); free(row);
    return NULL;
  }
  /* Integers: wraparound arithmetic in 64 bits, truncated on store. */
  int64_t *a = read_i64(A), *b = read_i64(B);
  uint64_t *row = malloc(sizeof(uint64_t) * (size_t)(N > 0 ? N : 1));
  if (!a || !b || !row) {
    free(a); free(b); free(row);
    return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  }
  MM_FOR_BATCHES(&p, bi, ao, bo, {
    for (int64_t i = 0; i < M; i++) {
      for (int64_t j = 0; j < N; j++) row[j] = 0;
      for (int64_t k = 0; k < K; k++) {
        uint64_t x = (uint64_t)a[ao + i * K + k];
        const int64_t *br = b + bo + k * N;
        for (int64_t j = 0; j < N; j++) row[j] += x * (uint64_t)br[j];
      }
      for (int64_t j = 0; j < N; j++) aicc_tensor_set_i64(Y, bi * mn + i * N + j, (int64_t)row[j]);
    }
  });
  free(a); free(b); free(row);
  return NULL;
}

/* ---- MatMulInteger ---- */

static aicc_status matmul_integer_infer(aicc_infer_ctx *c) {
  return mm_infer_shape(c, AICC_DTYPE_I32);
}

/* Zero points: scalar (per tensor), or per row of A (M values) / per column
 * of B (N values). A rank>=3 per-batch form is accepted when it has exactly
 * M (resp. N) elements. */
static aicc_status zero_points(const aicc_kernel_ctx *c, const aicc_tensor *z, int64_t want,
                               const char *what, int64_t **out) {
  *out = NULL;
  if (!z) return NULL;
  if (z->dtype != AICC_DTYPE_I8 && z->dtype != AICC_DTYPE_U8)
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "%s zero point must be int8/uint8", what);
  int64_t n = aicc_tensor_numel(z);
  if (n != 1 && n != want)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "%s zero point has %lld values, expected 1 or %lld",
                             what, (long long)n, (long long)want);
  int64_t *v = malloc(sizeof(int64_t) * (size_t)want);
  if (!v) return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  for (int64_t i = 0; i < want; i++) v[i] = aicc_tensor_get_i64(z, n == 1 ? 0 : i);
  *out = v;
  return NULL;
}

static aicc_status matmul_integer_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *A = c->in[0], *B = c->in[1];
  for (int i = 0; i < 2; i++)
    if (c->in[i]->dtype != AICC_DTYPE_I8 && c->in[i]->dtype != AICC_DTYPE_U8)
      return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "MatMulInteger input %d is %s", i,
                               aicc_dtype_text(c->in[i]->dtype));
  mm_plan p;
  AICC_TRY(mm_plan_make(c, A, B, &p));
  aicc_tensor *Y;
  AICC_TRY(aicc_kernel_output(c, 0, AICC_DTYPE_I32, p.out_rank, p.out_dims, &Y));
  int64_t M = p.M, N = p.N, K = p.K;
  int64_t *za = NULL, *zb = NULL;
  AICC_TRY(zero_points(c, c->n_in > 2 ? c->in[2] : NULL, M, "A", &za));
  aicc_status s = zero_points(c, c->n_in > 3 ? c->in[3] : NULL, N, "B", &zb);
  if (s) { free(za); return s; }
  int64_t *a = read_i64(A), *b = read_i64(B);
  int32_t *y = Y->data;
  if (!a || !b) {
    free(a); free(b); free(za); free(zb);
    return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  }
  MM_FOR_BATCHES(&p, bi, ao, bo, {
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) {
        int64_t acc = 0, zai = za ? za[i] : 0, zbj = zb ? zb[j] : 0;
        for (int64_t k = 0; k < K; k++)
          acc += (a[ao + i * K + k] - zai) * (b[bo + k * N + j] - zbj);
        y[bi * M * N + i * N + j] = (int32_t)acc;
      }
  });
  free(a); free(b); free(za); free(zb);
  return NULL;
}

/* ---- Gemm ---- */

static aicc_status gemm_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = c->in[0] ? c->in[0]->dtype : AICC_DTYPE_UNDEFINED;
  if (!aicc_infer_has_rank(c, 0) || !aicc_infer_has_rank(c, 1)) {
    aicc_infer_set(c, 0, dt, 2, NULL);
    return NULL;
  }
  const aicc_type *a = c->in[0], *b = c->in[1];
  if (a->rank != 2 || b->rank != 2)
    return aicc_infer_error(c, AICC_ERR_SHAPE, "Gemm needs 2-D A and B (got ranks %d, %d)",
                            a->rank, b->rank);
  int ta = aicc_node_attr_int(c->node, "transA", 0) != 0;
  int tb = aicc_node_attr_int(c->node, "transB", 0) != 0;
  aicc_dim ka = a->dims[ta ? 0 : 1], kb = b->dims[tb ? 1 : 0];
  if (!dims_may_equal(ka, kb))
    return aicc_infer_error(c, AICC_ERR_SHAPE, "Gemm inner dims differ: %lld vs %lld",
                            (long long)ka.size, (long long)kb.size);
  aicc_dim out[2] = {a->dims[ta ? 1 : 0], b->dims[tb ? 0 : 1]};
  aicc_infer_set(c, 0, dt, 2, out);
  return NULL;
}

static aicc_status gemm_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *A = c->in[0], *B = c->in[1];
  const aicc_tensor *C = c->n_in > 2 ? c->in[2] : NULL;
  if (A->dtype != B->dtype || !is_numeric(A->dtype) || (C && C->dtype != A->dtype))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "Gemm of %s and %s",
                             aicc_dtype_text(A->dtype), aicc_dtype_text(B->dtype));
  if (A->rank != 2 || B->rank != 2)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "Gemm needs 2-D A and B (got ranks %d, %d)",
                             A->rank, B->rank);
  int ta = aicc_node_attr_int(c->node, "transA", 0) != 0;
  int tb = aicc_node_attr_int(c->node, "transB", 0) != 0;
  float alpha = aicc_node_attr_float(c->node, "alpha", 1.0f);
  float beta = aicc_node_attr_float(c->node, "beta", 1.0f);
  int64_t M = A->dims[ta ? 1 : 0], K = A->dims[ta ? 0 : 1];
  int64_t kb = B->dims[tb ? 1 : 0], N = B->dims[tb ? 0 : 1];
  if (K != kb)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "Gemm inner dims differ: %lld vs %lld",
                             (long long)K, (long long)kb);
  int64_t odims[2] = {M, N};
  int64_t cstr[2] = {0, 0};
  if (C) {
    if (C->rank > 2)
      return aicc_kernel_error(c, AICC_ERR_SHAPE, "Gemm C has rank %d", C->rank);
    for (int d = 0; d < C->rank; d++) {
      int64_t want = odims[d + 2 - C->rank];
      if (C->dims[d] != 1 && C->dims[d] != want)
        return aicc_kernel_error(c, AICC_ERR_SHAPE, "Gemm C cannot broadcast to [%lld,%lld]",
                                 (long long)M, (long long)N);
    }
    aicc_broadcast_strides(C->dims, C->rank, odims, 2, cstr);
  }
  aicc_tensor *Y;
  AICC_TRY(aicc_kernel_output(c, 0, A->dtype, 2, odims, &Y));
  if (M == 0 || N == 0) return NULL;
  int64_t lda = A->dims[1], ldb = B->dims[1];
  if (A->dtype == AICC_DTYPE_F32) {
    float *y = Y->data;
    if (C && beta != 0.0f) {
      const float *cd = C->data;
      for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) y[i * N + j] = cd[i * cstr[0] + j * cstr[1]];
    }
    aicc_sgemm_ref(ta, tb, M, N, K, alpha, A->data, lda, B->data, ldb,
                   C && beta != 0.0f ? beta : 0.0f, y, N);
    return NULL;
  }
  bool isf = aicc_dtype_is_float(A->dtype);
  double *a = isf ? aicc_conv_to_f64(A) : NULL, *b = isf ? aicc_conv_to_f64(B) : NULL;
  int64_t *ai = isf ? NULL : read_i64(A), *bi = isf ? NULL : read_i64(B);
  if (isf ? (!a || !b) : (!ai || !bi)) {
    free(a); free(b); free(ai); free(bi);
    return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  }
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) {
      int64_t ci = i * cstr[0] + j * cstr[1];
      if (isf) {
        double acc = 0;
        for (int64_t k = 0; k < K; k++)
          acc += a[ta ? k * lda + i : i * lda + k] * b[tb ? j * ldb + k : k * ldb + j];
        double v = alpha * acc;
        if (C && beta != 0.0f) v += beta * aicc_tensor_get_f64(C, ci);
        aicc_tensor_set_f64(Y, i * N + j, v);
      } else {
        /* Integer Gemm: alpha/beta apply as (truncated) integer factors. */
        int64_t acc = 0;
        for (int64_t k = 0; k < K; k++)
          acc += ai[ta ? k * lda + i : i * lda + k] * bi[tb ? j * ldb + k : k * ldb + j];
        int64_t v = (int64_t)alpha * acc;
        if (C && beta != 0.0f) v += (int64_t)beta * aicc_tensor_get_i64(C, ci);
        aicc_tensor_set_i64(Y, i * N + j, v);
      }
    }
  free(a); free(b); free(ai); free(bi);
  return NULL;
}

/* ---- Det ---- */

static aicc_status det_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = c->in[0] ? c->in[0]->dtype : AICC_DTYPE_UNDEFINED;
  if (aicc_infer_unranked(c, dt)) return NULL;
  const aicc_type *x = c->in[0];
  if (x->rank < 2)
    return aicc_infer_error(c, AICC_ERR_SHAPE, "Det needs rank >= 2, got %d", x->rank);
  if (!dims_may_equal(x->dims[x->rank - 1], x->dims[x->rank - 2]))
    return aicc_infer_error(c, AICC_ERR_SHAPE, "Det needs square matrices");
  aicc_infer_set(c, 0, dt, x->rank - 2, x->dims);
  return NULL;
}

/* LU decomposition with partial pivoting (Golub & Van Loan, Alg. 3.4.1). */
static double det_lu(double *a, int64_t n) {
  double det = 1.0;
  for (int64_t k = 0; k < n; k++) {
    int64_t piv = k;
    for (int64_t i = k + 1; i < n; i++)
      if (fabs(a[i * n + k]) > fabs(a[piv * n + k])) piv = i;
    if (a[piv * n + k] == 0.0) return 0.0;
    if (piv != k) {
      for (int64_t j = 0; j < n; j++) {
        double t = a[k * n + j];
        a[k * n + j] = a[piv * n + j];
        a[piv * n + j] = t;
      }
      det = -det;
    }
    double d = a[k * n + k];
    det *= d;
    for (int64_t i = k + 1; i < n; i++) {
      double f = a[i * n + k] / d;
      if (f == 0.0) continue;
      for (int64_t j = k + 1; j < n; j++) a[i * n + j] -= f * a[k * n + j];
    }
  }
  return det;
}

static aicc_status det_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *X = c->in[0];
  if (!aicc_dtype_is_float(X->dtype))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "Det of %s", aicc_dtype_text(X->dtype));
  if (X->rank < 2 || X->dims[X->rank - 1] != X->dims[X->rank - 2])
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "Det needs square matrices in the last two dims");
  aicc_tensor *Y;
  AICC_TRY(aicc_kernel_output(c, 0, X->dtype, X->rank - 2, X->dims, &Y));
  int64_t n = X->dims[X->rank - 1], nb = aicc_tensor_numel(Y);
  double *a = aicc_conv_to_f64(X);
  double *m = malloc(sizeof(double) * (size_t)(n * n > 0 ? n * n : 1));
  if (!a || !m) {
    free(a); free(m);
    return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  }
  for (int64_t b = 0; b < nb; b++) {
    memcpy(m, a + b * n * n, sizeof(double) * (size_t)(n * n));
    aicc_tensor_set_f64(Y, b, det_lu(m, n));
  }
  free(a); free(m);
  return NULL;
}

/* ---- table ---- */

static const aicc_attr_spec gemm_attrs[] = {
    AICC_A_FLOAT("alpha"), AICC_A_FLOAT("beta"), AICC_A_INT("transA"),
    AICC_A_INT("transB"),  AICC_A_INT("broadcast"), AICC_A_END};

static const aicc_op ops[] = {
    /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
    {"MatMul", "", 1, 0, 2, 2, 1, 1, NULL, matmul_infer, matmul_kernel},
    {"MatMulInteger", "", 10, 0, 2, 4, 1, 1, NULL, matmul_integer_infer, matmul_integer_kernel},
    {"Gemm", "", 1, 0, 2, 3, 1, 1, gemm_attrs, gemm_infer, gemm_kernel},
    {"Det", "", 11, 0, 1, 1, 1, 1, NULL, det_infer, det_kernel},
};

const aicc_op_family aicc_family_linalg = {"linalg", ops, sizeof ops / sizeof ops[0]};
