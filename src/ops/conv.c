/* The convolution family: Conv, ConvTranspose, ConvInteger, QLinearConv and
 * DeformConv. f32 Conv runs as im2col + the blocked GEMM (1x1 stride-1 convs
 * skip im2col; depthwise convs run a direct loop); other float dtypes take
 * the same path in double. Window arithmetic lives in conv_util.c. */
#include "ops/conv_util.h"
#include "ops/gemm_ref.h"
#include "ops/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- drivers */

static void gemm_f32(int ta, int tb, int64_t M, int64_t N, int64_t K, const float *A,
                     int64_t lda, const float *B, int64_t ldb, float *C, int64_t ldc) {
  aicc_sgemm_ref(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, ldc);
}
static void gemm_f64(int ta, int tb, int64_t M, int64_t N, int64_t K, const double *A,
                     int64_t lda, const double *B, int64_t ldb, double *C, int64_t ldc) {
  aicc_conv_dgemm(ta, tb, M, N, K, A, lda, B, ldb, 0.0, C, ldc);
}

/* 1-D convs run as 2-D with a unit H axis. */
#define GEOM_2D(g)                                                                 \
  int64_t IH, IW, KH, KW, SH, SW, DH, DW, PH, PW, OH, OW;                          \
  if ((g)->nsp == 1) {                                                             \
    IH = KH = SH = DH = OH = 1;                                                    \
    PH = 0;                                                                        \
    IW = (g)->in[0], KW = (g)->kernel[0], SW = (g)->stride[0], DW = (g)->dil[0];   \
    PW = (g)->pad_lo[0], OW = (g)->out[0];                                         \
  } else {                                                                         \
    IH = (g)->in[0], KH = (g)->kernel[0], SH = (g)->stride[0], DH = (g)->dil[0];   \
    PH = (g)->pad_lo[0], OH = (g)->out[0];                                         \
    IW = (g)->in[1], KW = (g)->kernel[1], SW = (g)->stride[1], DW = (g)->dil[1];   \
    PW = (g)->pad_lo[1], OW = (g)->out[1];                                         \
  }

/* [lo, hi) of output positions o with 0 <= o*S + off < I. */
static void valid_range(int64_t off, int64_t S, int64_t I, int64_t O, int64_t *lo,
                        int64_t *hi) {
  int64_t a = off >= 0 ? 0 : (-off + S - 1) / S;
  int64_t b = I - off <= 0 ? 0 : (I - off + S - 1) / S;
  if (b > O) b = O;
  if (a > b) a = b;
  *lo = a;
  *hi = b;
}

/* Depthwise (one input channel per group): a direct loop that sweeps each
 * kernel tap over the output plane, so the inner loop is a contiguous axpy
 * for stride 1 (MobileNet's 3x3 depthwise layers). */
#define DEFINE_DEPTHWISE(T, SFX)                                                   \
  static void depthwise_##SFX(const aicc_conv_geom *g, int64_t N, int64_t C,       \
                              int64_t M, const T *x, const T *w, const T *b,       \
                              T *y) {                                              \
    GEOM_2D(g);                                                                    \
    int64_t mult = M / C;                                                          \
    for (int64_t n = 0; n < N; n++)                                                \
      for (int64_t m = 0; m < M; m++) {                                            \
        const T *xp = x + (n * C + m / mult) * IH * IW;                            \
        T *yp = y + (n * M + m) * OH * OW;                                         \
        const T *wk = w + m * KH * KW;                                             \
        T bias = b ? b[m] : (T)0;                                                  \
        for (int64_t i = 0; i < OH * OW; i++) yp[i] = bias;                        \
        for (int64_t kh = 0; kh < KH; kh++) {                                      \
          int64_t offh = kh * DH - PH, oh0, oh1;                                   \
          valid_range(offh, SH, IH, OH, &oh0, &oh1);                               \
          for (int64_t kw = 0; kw < KW; kw++) {                                    \
            T wv = wk[kh * KW + kw];                                               \
            int64_t offw = kw * DW - PW, ow0, ow1;                                 \
            valid_range(offw, SW, IW, OW, &ow0, &ow1);                             \
            for (int64_t oh = oh0; oh < oh1; oh++) {                               \
              const T *src = xp + (oh * SH + offh) * IW + offw;                    \
              T *dst = yp + oh * OW;                                               \
              if (SW == 1)                                                         \
                for (int64_t ow = ow0; ow < ow1; ow++) dst[ow] += wv * src[ow];    \
              else                                                                 \
                for (int64_t ow = ow0; ow < ow1; ow++) dst[ow] += wv * src[ow * SW]; \
            }                                                                      \
          }                                                                        \
        }                                                                          \
      }                                                                            \
  }
DEFINE_DEPTHWISE(float, f32)
DEFINE_DEPTHWISE(double, f64)

/* Grouped conv as im2col + GEMM per (image, group): Y_g[Mg, O] =
 * W_g[Mg, Cg*K] x cols[Cg*K, O]. cols has Cg*K*O elements (unused for 1x1). */
#define DEFINE_CONV_RUN(T, SFX)                                                    \
  static void conv_run_##SFX(const aicc_conv_geom *g, int64_t N, int64_t C,        \
                             int64_t M, int64_t G, const T *x, const T *w,         \
                             const T *b, T *y, T *cols) {                          \
    int n_sp = g->nsp;                                                             \
    int64_t I = aicc_conv_prod(g->in, 0, n_sp), O = aicc_conv_prod(g->out, 0, n_sp); \
    int64_t K = aicc_conv_prod(g->kernel, 0, n_sp), Cg = C / G, Mg = M / G;        \
    if (Cg == 1 && n_sp <= 2 && G == C) {                                          \
      depthwise_##SFX(g, N, C, M, x, w, b, y);                                     \
      return;                                                                      \
    }                                                                              \
    bool pointwise = true;                                                         \
    for (int i = 0; i < n_sp; i++)                                                 \
      if (g->kernel[i] != 1 || g->stride[i] != 1 || g->pad_lo[i] != 0 ||           \
          g->out[i] != g->in[i])                                                   \
        pointwise = false;                                                         \
    for (int64_t n = 0; n < N; n++)                                                \
      for (int64_t gi = 0; gi < G; gi++) {                                         \
        const T *xg = x + (n * C + gi * Cg) * I;                                   \
        T *yg = y + (n * M + gi * Mg) * O;                                         \
        const T *B = xg;                                                           \
        if (!pointwise) {                                                          \
          aicc_conv_im2col_##SFX(g, Cg, xg, cols);                                 \
          B = cols;                                                                \
        }                                                                          \
        gemm_##SFX(0, 0, Mg, O, Cg * K, w + gi * Mg * Cg * K, Cg * K, B, O, yg, O); \
        if (b)                                                                     \
          for (int64_t m = 0; m < Mg; m++) {                                       \
            T bv = b[gi * Mg + m];                                                 \
            T *row = yg + m * O;                                                   \
            for (int64_t o = 0; o < O; o++) row[o] += bv;                          \
          }                                                                        \
      }                                                                            \
  }
DEFINE_CONV_RUN(float, f32)
DEFINE_CONV_RUN(double, f64)

/* ConvTranspose per (image, group): cols[Mg*K, Ix] = W_g^T x X_g, then
 * col2im scatters the columns into the output image. Here g->in is the
 * output image and g->out the input grid (the adjoint of Conv). */
#define DEFINE_CONVT_RUN(T, SFX)                                                   \
  static void convt_run_##SFX(const aicc_conv_geom *g, int64_t N, int64_t C,       \
                              int64_t M, int64_t G, const T *x, const T *w,        \
                              const T *b, T *y, T *cols) {                         \
    int n_sp = g->nsp;                                                             \
    int64_t Y = aicc_conv_prod(g->in, 0, n_sp), X = aicc_conv_prod(g->out, 0, n_sp); \
    int64_t K = aicc_conv_prod(g->kernel, 0, n_sp), Cg = C / G, Mg = M / G;        \
    for (int64_t n = 0; n < N; n++)                                                \
      for (int64_t gi = 0; gi < G; gi++) {                                         \
        const T *xg = x + (n * C + gi * Cg) * X;                                   \
        T *yg = y + (n * M + gi * Mg) * Y;                                         \
        gemm_##SFX(1, 0, Mg * K, X, Cg, w + gi * Cg * Mg * K, Mg * K, xg, X, cols, X); \
        for (int64_t m = 0; m < Mg; m++) {                                         \
          T bv = b ? b[gi * Mg + m] : (T)0;                                        \
          for (int64_t i = 0; i < Y; i++) yg[m * Y + i] = bv;                      \
        }                                                                          \
        aicc_conv_col2im_##SFX(g, Mg, cols, yg);                                   \
      }                                                                            \
  }
DEFINE_CONVT_RUN(float, f32)
DEFINE_CONVT_RUN(double, f64)

/* ------------------------------------------------------------- inference */

/* Conv-like output: [N, M, spatial...] from X (input xi), W (input wi). */
static aicc_status infer_conv_like(aicc_infer_ctx *c, int xi, int wi, aicc_dtype dt) {
  if (!aicc_infer_has_rank(c, xi)) {
    aicc_infer_set(c, 0, dt, -1, NULL);
    return NULL;
  }
  const aicc_type *x = c->in[xi];
  const aicc_type *w = aicc_infer_has_rank(c, wi) ? c->in[wi] : NULL;
  int r = x->rank;
  if (r < 3) return aicc_infer_error(c, AICC_ERR_SHAPE, "input has rank %d, expected >= 3", r);
  if (w && w->rank != r)
    return aicc_infer_error(c, AICC_ERR_SHAPE, "weight has rank %d, input has rank %d",
                            w->rank, r);
  aicc_conv_geom g;
  AICC_TRY(aicc_conv_infer_fail(c, aicc_conv_geom_read(c->node, r - 2, &g)));
  aicc_dim out[AICC_MAX_RANK];
  out[0] = x->dims[0];
  out[1] = w ? w->dims[0] : aicc_dim_unknown();
  for (int i = 0; i < r - 2; i++) {
    int64_t k = g.kernel[i], in, o, lo, hi;
    if (!g.has_kernel && !aicc_conv_dim_known(w, 2 + i, &k)) k = -1;
    g.kernel[i] = k;
    out[2 + i] = aicc_dim_unknown();
    if (k > 0 && aicc_conv_dim_known(x, 2 + i, &in)) {
      AICC_TRY(aicc_conv_infer_fail(c, aicc_conv_out_dim(&g, i, in, &o, &lo, &hi)));
      out[2 + i] = aicc_dim_known(o);
    }
  }
  aicc_infer_set(c, 0, dt, r, out);
  return NULL;
}

static aicc_status conv_infer(aicc_infer_ctx *c) {
  return infer_conv_like(c, 0, 1, c->in[0] ? c->in[0]->dtype : AICC_DTYPE_UNDEFINED);
}
static aicc_status conv_integer_infer(aicc_infer_ctx *c) {
  return infer_conv_like(c, 0, 1, AICC_DTYPE_I32);
}
static aicc_status qlinear_conv_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = c->n_in > 7 && c->in[7] ? c->in[7]->dtype
                  : c->in[0]             ? c->in[0]->dtype
                                         : AICC_DTYPE_UNDEFINED;
  return infer_conv_like(c, 0, 3, dt);
}

/* Spatial output_shape may be given with or without the N, C prefix. */
static const int64_t *convt_output_shape(const aicc_node *n, int nsp) {
  int64_t len = 0;
  const int64_t *v = aicc_node_attr_ints(n, "output_shape", &len);
  if (!v) return NULL;
  if (len == nsp) return v;
  if (len == nsp + 2) return v + 2;
  return NULL;
}

static aicc_status convt_geom(const aicc_node *n, int nsp, aicc_conv_geom *g,
                              int64_t *out_pad, const int64_t **oshape) {
  AICC_TRY(aicc_conv_geom_read(n, nsp, g));
  int64_t len = 0;
  const int64_t *op = aicc_node_attr_ints(n, "output_padding", &len);
  if (op && len != nsp)
    return aicc_errorf(AICC_ERR_INVALID, "output_padding has %lld values, expected %d",
                       (long long)len, nsp);
  for (int i = 0; i < nsp; i++) out_pad[i] = op ? op[i] : 0;
  *oshape = convt_output_shape(n, nsp);
  if (aicc_node_attr(n, "output_shape") && !*oshape)
    return aicc_errorf(AICC_ERR_INVALID, "output_shape has the wrong length");
  for (int i = 0; *oshape && i < nsp; i++)
    if ((*oshape)[i] < 0)
      return aicc_errorf(AICC_ERR_INVALID, "output_shape[%d] is negative", i);
  return NULL;
}

static aicc_status conv_transpose_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = c->in[0] ? c->in[0]->dtype : AICC_DTYPE_UNDEFINED;
  if (aicc_infer_unranked(c, dt)) return NULL;
  const aicc_type *x = c->in[0];
  const aicc_type *w = aicc_infer_has_rank(c, 1) ? c->in[1] : NULL;
  int r = x->rank, nsp = r - 2;
  if (r < 3) return aicc_infer_error(c, AICC_ERR_SHAPE, "input has rank %d, expected >= 3", r);
  if (w && w->rank != r)
    return aicc_infer_error(c, AICC_ERR_SHAPE, "weight has rank %d, input has rank %d",
                            w->rank, r);
  aicc_conv_geom g;
  int64_t out_pad[AICC_MAX_RANK];
  const int64_t *oshape;
  AICC_TRY(aicc_conv_infer_fail(c, convt_geom(c->node, nsp, &g, out_pad, &oshape)));
  int64_t group = aicc_node_attr_int(c->node, "group", 1), wm;
  aicc_dim out[AICC_MAX_RANK];
  out[0] = x->dims[0];
  out[1] = aicc_conv_dim_known(w, 1, &wm) ? aicc_dim_known(wm * group) : aicc_dim_unknown();
  for (int i = 0; i < nsp; i++) {
    int64_t k = g.kernel[i], in, o, lo, hi;
    if (!g.has_kernel && !aicc_conv_dim_known(w, 2 + i, &k)) k = -1;
    g.kernel[i] = k;
    out[2 + i] = aicc_dim_unknown();
    if (oshape) out[2 + i] = aicc_dim_known(oshape[i]);
    else if (k > 0 && aicc_conv_dim_known(x, 2 + i, &in)) {
      AICC_TRY(aicc_conv_infer_fail(
          c, aicc_conv_transpose_dim(&g, i, in, out_pad[i], -1, &o, &lo, &hi)));
      out[2 + i] = aicc_dim_known(o);
    }
  }
  aicc_infer_set(c, 0, dt, r, out);
  return NULL;
}

/* --------------------------------------------------------------- kernels */

/* Checks X [N, C, ...] and W [M, C/G, k...] (or [C, M/G, k...] when
 * transposed) and fills the kernel sizes of g. */
static aicc_status check_xw(const aicc_kernel_ctx *c, const aicc_tensor *x,
                            const aicc_tensor *w, bool transposed, aicc_conv_geom *g,
                            int64_t *N, int64_t *C, int64_t *M, int64_t *G) {
  if (x->rank < 3 || w->rank != x->rank)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "input rank %d / weight rank %d: expected "
                             "equal ranks >= 3", x->rank, w->rank);
  int nsp = x->rank - 2;
  if (g->nsp != nsp) return aicc_kernel_error(c, AICC_ERR_INTERNAL, "geometry rank mismatch");
  int64_t group = aicc_node_attr_int(c->node, "group", 1);
  if (group < 1) return aicc_kernel_error(c, AICC_ERR_INVALID, "group %lld < 1", (long long)group);
  *N = x->dims[0];
  *C = x->dims[1];
  *G = group;
  if (!transposed) {
    *M = w->dims[0];
    if (w->dims[1] * group != *C || *M % group != 0)
      return aicc_kernel_error(c, AICC_ERR_SHAPE,
                               "input has %lld channels, weight expects %lld x group %lld "
                               "(output channels %lld)",
                               (long long)*C, (long long)w->dims[1], (long long)group,
                               (long long)*M);
  } else {
    *M = w->dims[1] * group;
    if (w->dims[0] != *C || *C % group != 0)
      return aicc_kernel_error(c, AICC_ERR_SHAPE,
                               "input has %lld channels, weight has %lld (group %lld)",
                               (long long)*C, (long long)w->dims[0], (long long)group);
  }
  for (int i = 0; i < nsp; i++) {
    if (g->has_kernel && g->kernel[i] != w->dims[2 + i])
      return aicc_kernel_error(c, AICC_ERR_SHAPE, "kernel_shape[%d] = %lld but weight has %lld",
                               i, (long long)g->kernel[i], (long long)w->dims[2 + i]);
    g->kernel[i] = w->dims[2 + i];
    if (g->kernel[i] < 1)
      return aicc_kernel_error(c, AICC_ERR_SHAPE, "empty kernel on axis %d", i);
  }
  return NULL;
}

static aicc_status check_bias(const aicc_kernel_ctx *c, const aicc_tensor *b, int64_t M) {
  if (b && (b->rank != 1 || b->dims[0] != M))
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "bias must have shape [%lld]", (long long)M);
  return NULL;
}

/* Runs a forward conv in double on converted buffers; y is [N, M, out...]. */
static aicc_status conv_f64(const aicc_kernel_ctx *c, const aicc_conv_geom *g, int64_t N,
                            int64_t C, int64_t M, int64_t G, const double *x,
                            const double *w, const double *b, double *y) {
  int64_t cols_n = (C / G) * aicc_conv_prod(g->kernel, 0, g->nsp) *
                   aicc_conv_prod(g->out, 0, g->nsp);
  double *cols = malloc(sizeof(double) * (size_t)(cols_n > 0 ? cols_n : 1));
  if (!cols) return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory for im2col");
  conv_run_f64(g, N, C, M, G, x, w, b, y, cols);
  free(cols);
  return NULL;
}

static aicc_status conv_kernel(aicc_kernel_ctx *c) {
  aicc_tensor *x = c->in[0], *w = c->in[1], *b = c->n_in > 2 ? c->in[2] : NULL;
  if (!aicc_dtype_is_float(x->dtype) || w->dtype != x->dtype || (b && b->dtype != x->dtype))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "Conv needs matching float inputs, got %s/%s",
                             aicc_dtype_text(x->dtype), aicc_dtype_text(w->dtype));
  aicc_conv_geom g;
  int64_t N, C, M, G;
  AICC_TRY(aicc_conv_kernel_fail(c, aicc_conv_geom_read(c->node, x->rank - 2, &g)));
  AICC_TRY(check_xw(c, x, w, false, &g, &N, &C, &M, &G));
  AICC_TRY(check_bias(c, b, M));
  AICC_TRY(aicc_conv_kernel_fail(c, aicc_conv_geom_forward(&g, x->dims + 2)));
  int64_t dims[AICC_MAX_RANK] = {N, M};
  for (int i = 0; i < g.nsp; i++) dims[2 + i] = g.out[i];
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, x->rank, dims, &y));
  if (aicc_tensor_numel(y) == 0) return NULL;
  if (x->dtype == AICC_DTYPE_F32) {
    int64_t cols_n = (C / G) * aicc_conv_prod(g.kernel, 0, g.nsp) * aicc_conv_prod(g.out, 0, g.nsp);
    float *cols = malloc(sizeof(float) * (size_t)(cols_n > 0 ? cols_n : 1));
    if (!cols) return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory for im2col");
    conv_run_f32(&g, N, C, M, G, x->data, w->data, b ? b->data : NULL, y->data, cols);
    free(cols);
    return NULL;
  }
  double *xd = aicc_conv_to_f64(x), *wd = aicc_conv_to_f64(w);
  double *bd = b ? aicc_conv_to_f64(b) : NULL;
  double *yd = malloc(sizeof(double) * (size_t)aicc_tensor_numel(y));
  aicc_status s = NULL;
  if (!xd || !wd || (b && !bd) || !yd) s = aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  else s = conv_f64(c, &g, N, C, M, G, xd, wd, bd, yd);
  if (!s) aicc_conv_from_f64(y, yd);
  free(xd), free(wd), free(bd), free(yd);
  return s;
}

static aicc_status conv_transpose_kernel(aicc_kernel_ctx *c) {
  aicc_tensor *x = c->in[0], *w = c->in[1], *b = c->n_in > 2 ? c->in[2] : NULL;
  if (!aicc_dtype_is_float(x->dtype) || w->dtype != x->dtype || (b && b->dtype != x->dtype))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED,
                             "ConvTranspose needs matching float inputs, got %s/%s",
                             aicc_dtype_text(x->dtype), aicc_dtype_text(w->dtype));
  if (x->rank < 3)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "input has rank %d, expected >= 3", x->rank);
  int nsp = x->rank - 2;
  aicc_conv_geom g;
  int64_t out_pad[AICC_MAX_RANK], N, C, M, G;
  const int64_t *oshape;
  AICC_TRY(aicc_conv_kernel_fail(c, convt_geom(c->node, nsp, &g, out_pad, &oshape)));
  AICC_TRY(check_xw(c, x, w, true, &g, &N, &C, &M, &G));
  AICC_TRY(check_bias(c, b, M));
  /* Geometry of the adjoint conv: image = output, column grid = input. */
  for (int i = 0; i < nsp; i++) {
    int64_t o, lo, hi;
    AICC_TRY(aicc_conv_kernel_fail(c, aicc_conv_transpose_dim(&g, i, x->dims[2 + i], out_pad[i],
                                                              oshape ? oshape[i] : -1, &o,
                                                              &lo, &hi)));
    g.in[i] = o;
    g.out[i] = x->dims[2 + i];
    g.pad_lo[i] = lo;
    g.pad_hi[i] = hi;
  }
  int64_t dims[AICC_MAX_RANK] = {N, M};
  for (int i = 0; i < nsp; i++) dims[2 + i] = g.in[i];
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, x->rank, dims, &y));
  if (aicc_tensor_numel(y) == 0) return NULL;
  int64_t cols_n = (M / G) * aicc_conv_prod(g.kernel, 0, nsp) * aicc_conv_prod(g.out, 0, nsp);
  if (x->dtype == AICC_DTYPE_F32) {
    float *cols = malloc(sizeof(float) * (size_t)(cols_n > 0 ? cols_n : 1));
    if (!cols) return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory for col2im");
    convt_run_f32(&g, N, C, M, G, x->data, w->data, b ? b->data : NULL, y->data, cols);
    free(cols);
    return NULL;
  }
  double *xd = aicc_conv_to_f64(x), *wd = aicc_conv_to_f64(w);
  double *bd = b ? aicc_conv_to_f64(b) : NULL;
  double *yd = malloc(sizeof(double) * (size_t)aicc_tensor_numel(y));
  double *cols = malloc(sizeof(double) * (size_t)(cols_n > 0 ? cols_n : 1));
  aicc_status s = NULL;
  if (!xd || !wd || (b && !bd) || !yd || !cols)
    s = aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  else {
    convt_run_f64(&g, N, C, M, G, xd, wd, bd, yd, cols);
    aicc_conv_from_f64(y, yd);
  }
  free(xd), free(wd), free(bd), free(yd), free(cols);
  return s;
}

/* Zero point / scale tensors: a scalar (or 1-element) or one value per
 * output channel. Returns the value for channel m. */
static aicc_status check_per_channel(const aicc_kernel_ctx *c, const aicc_tensor *t,
                                     int64_t M, const char *what) {
  if (!t) return NULL;
  int64_t n = aicc_tensor_numel(t);
  if (n != 1 && !(t->rank == 1 && n == M))
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "%s must be a scalar or have %lld values",
                             what, (long long)M);
  return NULL;
}
static double per_channel(const aicc_tensor *t, int64_t m) {
  if (!t) return 0;
  return aicc_tensor_get_f64(t, aicc_tensor_numel(t) == 1 ? 0 : m);
}

/* Integer conv accumulation in double: exact while |sum| < 2^53, which holds
 * for 8-bit operands and any practical kernel size. Writes acc[N*M*O]. */
static aicc_status int_conv_acc(aicc_kernel_ctx *c, const aicc_tensor *x,
                                const aicc_tensor *xzp, const aicc_tensor *w,
                                const aicc_tensor *wzp, aicc_conv_geom *g, int64_t *dims,
                                double **acc_out, int64_t *M_out) {
  int64_t N, C, M, G;
  AICC_TRY(aicc_conv_kernel_fail(c, aicc_conv_geom_read(c->node, x->rank - 2, g)));
  AICC_TRY(check_xw(c, x, w, false, g, &N, &C, &M, &G));
  AICC_TRY(aicc_conv_kernel_fail(c, aicc_conv_geom_forward(g, x->dims + 2)));
  if (xzp && aicc_tensor_numel(xzp) != 1)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "x_zero_point must be a scalar");
  AICC_TRY(check_per_channel(c, wzp, M, "w_zero_point"));
  dims[0] = N;
  dims[1] = M;
  for (int i = 0; i < g->nsp; i++) dims[2 + i] = g->out[i];
  double *xd = aicc_conv_to_f64(x), *wd = aicc_conv_to_f64(w);
  int64_t ny = aicc_dims_numel(dims, x->rank);
  double *yd = malloc(sizeof(double) * (size_t)(ny > 0 ? ny : 1));
  aicc_status s = NULL;
  if (!xd || !wd || !yd) s = aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  if (!s) {
    double xz = xzp ? aicc_tensor_get_f64(xzp, 0) : 0;
    for (int64_t i = 0, n = aicc_tensor_numel(x); i < n; i++) xd[i] -= xz;
    int64_t per = aicc_tensor_numel(w) / (M ? M : 1);
    for (int64_t m = 0; m < M; m++) {
      double wz = per_channel(wzp, m);
      for (int64_t i = 0; i < per; i++) wd[m * per + i] -= wz;
    }
    if (ny > 0) s = conv_f64(c, g, N, C, M, G, xd, wd, NULL, yd);
  }
  free(xd), free(wd);
  if (s) {
    free(yd);
    return s;
  }
  *acc_out = yd;
  *M_out = M;
  return NULL;
}

static bool is_8bit(aicc_dtype dt) { return dt == AICC_DTYPE_U8 || dt == AICC_DTYPE_I8; }

static aicc_status conv_integer_kernel(aicc_kernel_ctx *c) {
  aicc_tensor *x = c->in[0], *w = c->in[1];
  aicc_tensor *xzp = c->n_in > 2 ? c->in[2] : NULL, *wzp = c->n_in > 3 ? c->in[3] : NULL;
  if (!is_8bit(x->dtype) || !is_8bit(w->dtype))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "ConvInteger needs 8-bit inputs, got %s/%s",
                             aicc_dtype_text(x->dtype), aicc_dtype_text(w->dtype));
  aicc_conv_geom g;
  int64_t dims[AICC_MAX_RANK], M;
  double *acc;
  AICC_TRY(int_conv_acc(c, x, xzp, w, wzp, &g, dims, &acc, &M));
  aicc_tensor *y;
  aicc_status s = aicc_kernel_output(c, 0, AICC_DTYPE_I32, x->rank, dims, &y);
  if (!s) {
    int32_t *p = y->data;
    for (int64_t i = 0, n = aicc_tensor_numel(y); i < n; i++) p[i] = (int32_t)llround(acc[i]);
  }
  free(acc);
  return s;
}

static aicc_status qlinear_conv_kernel(aicc_kernel_ctx *c) {
  aicc_tensor *x = c->in[0], *xs = c->in[1], *xzp = c->in[2], *w = c->in[3];
  aicc_tensor *ws = c->in[4], *wzp = c->in[5], *ys = c->in[6], *yzp = c->in[7];
  aicc_tensor *b = c->n_in > 8 ? c->in[8] : NULL;
  if (!is_8bit(x->dtype) || !is_8bit(w->dtype) || (yzp && !is_8bit(yzp->dtype)))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "QLinearConv needs 8-bit tensors");
  if (!xs || !ws || !ys || aicc_tensor_numel(xs) != 1 || aicc_tensor_numel(ys) != 1)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "x_scale and y_scale must be scalars");
  aicc_conv_geom g;
  int64_t dims[AICC_MAX_RANK], M;
  double *acc;
  AICC_TRY(int_conv_acc(c, x, xzp, w, wzp, &g, dims, &acc, &M));
  aicc_status s = check_per_channel(c, ws, M, "w_scale");
  if (!s && b && aicc_tensor_numel(b) != M)
    s = aicc_kernel_error(c, AICC_ERR_SHAPE, "bias must have %lld values", (long long)M);
  aicc_dtype ydt = yzp ? yzp->dtype : x->dtype;
  aicc_tensor *y = NULL;
  if (!s) s = aicc_kernel_output(c, 0, ydt, x->rank, dims, &y);
  if (!s) {
    int64_t O = aicc_conv_prod(dims, 2, x->rank);
    double lo = ydt == AICC_DTYPE_I8 ? -128 : 0, hi = ydt == AICC_DTYPE_I8 ? 127 : 255;
    double zp = yzp ? aicc_tensor_get_f64(yzp, 0) : 0;
    float xsc = (float)aicc_tensor_get_f64(xs, 0), ysc = (float)aicc_tensor_get_f64(ys, 0);
    for (int64_t n = 0; n < dims[0]; n++)
      for (int64_t m = 0; m < M; m++) {
        /* onnxruntime requantizes with a float multiplier per channel. */
        float scale = xsc * (float)per_channel(ws, m) / ysc;
        double bias = b ? aicc_tensor_get_f64(b, m) : 0;
        for (int64_t o = 0; o < O; o++) {
          int64_t i = (n * M + m) * O + o;
          double v = nearbyint((double)((float)(acc[i] + bias) * scale)) + zp;
          aicc_tensor_set_f64(y, i, v < lo ? lo : v > hi ? hi : v);
        }
      }
  }
  free(acc);
  return s;
}

/* Bilinear sample of plane p [H, W] at (h, w), zero outside (GridSample
 * with zeros padding and align_corners, as DeformConv specifies). */
static double bilinear_zero(const double *p, int64_t H, int64_t W, double h, double w) {
  if (!(h > -2 && h < (double)H + 1 && w > -2 && w < (double)W + 1)) return 0; /* also NaN */
  double h0 = floor(h), w0 = floor(w);
  double fh = h - h0, fw = w - w0, v = 0;
  for (int dy = 0; dy < 2; dy++)
    for (int dx = 0; dx < 2; dx++) {
      int64_t yy = (int64_t)h0 + dy, xx = (int64_t)w0 + dx;
      if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
      v += (dy ? fh : 1 - fh) * (dx ? fw : 1 - fw) * p[yy * W + xx];
    }
  return v;
}

static aicc_status deform_conv_kernel(aicc_kernel_ctx *c) {
  aicc_tensor *x = c->in[0], *w = c->in[1], *off = c->in[2];
  aicc_tensor *b = c->n_in > 3 ? c->in[3] : NULL, *mask = c->n_in > 4 ? c->in[4] : NULL;
  if (!aicc_dtype_is_float(x->dtype) || w->dtype != x->dtype || off->dtype != x->dtype)
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "DeformConv needs matching float inputs");
  if (x->rank != 4)
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "DeformConv supports 2-D inputs only");
  aicc_conv_geom g;
  int64_t N, C, M, G;
  AICC_TRY(aicc_conv_kernel_fail(c, aicc_conv_geom_read(c->node, 2, &g)));
  AICC_TRY(check_xw(c, x, w, false, &g, &N, &C, &M, &G));
  AICC_TRY(check_bias(c, b, M));
  AICC_TRY(aicc_conv_kernel_fail(c, aicc_conv_geom_forward(&g, x->dims + 2)));
  int64_t OG = aicc_node_attr_int(c->node, "offset_group", 1);
  int64_t KH = g.kernel[0], KW = g.kernel[1], K = KH * KW, OH = g.out[0], OW = g.out[1];
  int64_t O = OH * OW, IH = x->dims[2], IW = x->dims[3];
  if (OG < 1 || C % OG != 0)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "offset_group %lld does not divide %lld channels",
                             (long long)OG, (long long)C);
  if (off->rank != 4 || off->dims[0] != N || off->dims[1] != OG * 2 * K || off->dims[2] != OH ||
      off->dims[3] != OW)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "offset must be [%lld,%lld,%lld,%lld]",
                             (long long)N, (long long)(OG * 2 * K), (long long)OH, (long long)OW);
  if (mask && (aicc_tensor_numel(mask) != N * OG * K * O))
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "mask must be [%lld,%lld,%lld,%lld]",
                             (long long)N, (long long)(OG * K), (long long)OH, (long long)OW);
  int64_t dims[4] = {N, M, OH, OW};
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, 4, dims, &y));
  int64_t Cg = C / G, Mg = M / G, cpo = C / OG;
  double *xd = aicc_conv_to_f64(x), *wd = aicc_conv_to_f64(w), *od = aicc_conv_to_f64(off);
  double *md = mask ? aicc_conv_to_f64(mask) : NULL, *bd = b ? aicc_conv_to_f64(b) : NULL;
  double *yd = malloc(sizeof(double) * (size_t)(N * M * O + 1));
  double *cols = malloc(sizeof(double) * (size_t)(Cg * K * O + 1));
  aicc_status s = NULL;
  if (!xd || !wd || !od || (mask && !md) || (b && !bd) || !yd || !cols) {
    s = aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
    goto done;
  }
  for (int64_t n = 0; n < N; n++)
    for (int64_t gi = 0; gi < G; gi++) {
      /* Deformable im2col: tap (kh, kw) of output o samples the input at
       * its regular position plus the learned offset, scaled by the mask. */
      for (int64_t ci = 0; ci < Cg; ci++) {
        int64_t ch = gi * Cg + ci, og = ch / cpo;
        const double *plane = xd + (n * C + ch) * IH * IW;
        for (int64_t k = 0; k < K; k++) {
          int64_t kh = k / KW, kw = k % KW;
          const double *oh_off = od + (((n * OG + og) * K + k) * 2 + 0) * O;
          const double *ow_off = od + (((n * OG + og) * K + k) * 2 + 1) * O;
          const double *mk = md ? md + ((n * OG + og) * K + k) * O : NULL;
          double *row = cols + (ci * K + k) * O;
          for (int64_t o = 0; o < O; o++) {
            int64_t oh = o / OW, ow = o % OW;
            double hh = (double)(oh * g.stride[0] - g.pad_lo[0] + kh * g.dil[0]) + oh_off[o];
            double ww = (double)(ow * g.stride[1] - g.pad_lo[1] + kw * g.dil[1]) + ow_off[o];
            double v = bilinear_zero(plane, IH, IW, hh, ww);
            row[o] = mk ? v * mk[o] : v;
          }
        }
      }
      double *yg = yd + (n * M + gi * Mg) * O;
      aicc_conv_dgemm(0, 0, Mg, O, Cg * K, wd + gi * Mg * Cg * K, Cg * K, cols, O, 0.0, yg, O);
      if (bd)
        for (int64_t m = 0; m < Mg; m++)
          for (int64_t o = 0; o < O; o++) yg[m * O + o] += bd[gi * Mg + m];
    }
  aicc_conv_from_f64(y, yd);
done:
  free(xd), free(wd), free(od), free(md), free(bd), free(yd), free(cols);
  return s;
}

static aicc_status deform_conv_infer(aicc_infer_ctx *c) {
  return infer_conv_like(c, 0, 1, c->in[0] ? c->in[0]->dtype : AICC_DTYPE_UNDEFINED);
}

/* ---------------------------------------------------- CausalConvWithState */

/* Rounds v to the precision of dt (the reference casts the conv result to
 * the input dtype before the fused activation). */
static double round_to(aicc_dtype dt, double v) {
  if (dt == AICC_DTYPE_F32) return (float)v;
  if (dt == AICC_DTYPE_F16) return aicc_f16_to_f32(aicc_f32_to_f16((float)v));
  if (dt == AICC_DTYPE_BF16) return aicc_bf16_to_f32(aicc_f32_to_bf16((float)v));
  return v;
}

static aicc_status causal_conv_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = c->in[0] ? c->in[0]->dtype : AICC_DTYPE_UNDEFINED;
  if (!aicc_infer_has_rank(c, 0)) {
    aicc_infer_set(c, 0, dt, -1, NULL);
    aicc_infer_set(c, 1, dt, -1, NULL);
    return NULL;
  }
  const aicc_type *x = c->in[0];
  if (x->rank != 3) return aicc_infer_error(c, AICC_ERR_SHAPE, "input must be rank 3");
  aicc_infer_set(c, 0, dt, 3, x->dims);
  int64_t k;
  aicc_dim st[3] = {x->dims[0], x->dims[1], aicc_dim_unknown()};
  if (aicc_conv_dim_known(aicc_infer_has_rank(c, 1) ? c->in[1] : NULL, 2, &k))
    st[2] = aicc_dim_known(k - 1);
  aicc_infer_set(c, 1, dt, 3, st);
  return NULL;
}

/* Stateful causal depthwise 1-D conv (Mamba / Gated DeltaNet): the past
 * state is prepended as left padding and its tail is the new state. */
static aicc_status causal_conv_kernel(aicc_kernel_ctx *c) {
  aicc_tensor *x = c->in[0], *w = c->in[1];
  aicc_tensor *b = c->n_in > 2 ? c->in[2] : NULL, *past = c->n_in > 3 ? c->in[3] : NULL;
  if (!aicc_dtype_is_float(x->dtype) || w->dtype != x->dtype || (b && b->dtype != x->dtype) ||
      (past && past->dtype != x->dtype))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "needs matching float inputs");
  const char *act = aicc_node_attr_string(c->node, "activation", "none");
  bool silu = strcmp(act, "silu") == 0 || strcmp(act, "swish") == 0;
  if (!silu && strcmp(act, "none") != 0)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "unknown activation '%s'", act);
  if (x->rank != 3 || w->rank != 3)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "input and weight must be rank 3");
  int64_t B = x->dims[0], C = x->dims[1], L = x->dims[2], K = w->dims[2];
  if (w->dims[0] != C || w->dims[1] != 1 || K < 1)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "weight must be [%lld, 1, k]", (long long)C);
  if (past && (past->rank != 3 || past->dims[0] != B || past->dims[1] != C || past->dims[2] != K - 1))
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "past_state must be [%lld, %lld, %lld]",
                             (long long)B, (long long)C, (long long)(K - 1));
  AICC_TRY(check_bias(c, b, C));
  int64_t yd_dims[3] = {B, C, L}, sd_dims[3] = {B, C, K - 1};
  aicc_tensor *y, *st;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, 3, yd_dims, &y));
  AICC_TRY(aicc_kernel_output(c, 1, x->dtype, 3, sd_dims, &st));
  int64_t P = L + K - 1;
  double *xd = aicc_conv_to_f64(x), *wd = aicc_conv_to_f64(w);
  double *bd = b ? aicc_conv_to_f64(b) : NULL, *pd = past ? aicc_conv_to_f64(past) : NULL;
  double *pad = malloc(sizeof(double) * (size_t)(P > 0 ? P : 1));
  double *yd = malloc(sizeof(double) * (size_t)(B * C * L + 1));
  double *sd = malloc(sizeof(double) * (size_t)(B * C * (K - 1) + 1));
  aicc_status s = NULL;
  if (!xd || !wd || (b && !bd) || (past && !pd) || !pad || !yd || !sd) {
    s = aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  } else {
    for (int64_t bc = 0; bc < B * C; bc++) {
      int64_t ch = bc % C;
      for (int64_t i = 0; i < K - 1; i++) pad[i] = pd ? pd[bc * (K - 1) + i] : 0;
      memcpy(pad + K - 1, xd + bc * L, sizeof(double) * (size_t)L);
      for (int64_t t = 0; t < L; t++) {
        double acc = bd ? bd[ch] : 0;
        for (int64_t k = 0; k < K; k++) acc += wd[ch * K + k] * pad[t + k];
        if (silu) {
          float v = (float)round_to(x->dtype, acc);
          acc = (double)(v * (1.0f / (1.0f + expf(-v))));
        }
        yd[bc * L + t] = acc;
      }
      memcpy(sd + bc * (K - 1), pad + L, sizeof(double) * (size_t)(K - 1));
    }
    aicc_conv_from_f64(y, yd);
    aicc_conv_from_f64(st, sd);
  }
  free(xd), free(wd), free(bd), free(pd), free(pad), free(yd), free(sd);
  return s;
}

/* ------------------------------------------------------------------ rows */

static const aicc_attr_spec conv_attrs[] = {
    AICC_A_INT("group"),   AICC_A_INTS("pads"),      AICC_A_STRING("auto_pad"),
    AICC_A_INTS("strides"), AICC_A_INTS("dilations"), AICC_A_INTS("kernel_shape"),
    AICC_A_END,
};
static const aicc_attr_spec convt_attrs[] = {
    AICC_A_INT("group"),          AICC_A_INTS("pads"),         AICC_A_STRING("auto_pad"),
    AICC_A_INTS("strides"),       AICC_A_INTS("dilations"),    AICC_A_INTS("kernel_shape"),
    AICC_A_INTS("output_padding"), AICC_A_INTS("output_shape"), AICC_A_END,
};
static const aicc_attr_spec deform_attrs[] = {
    AICC_A_INT("group"),         AICC_A_INTS("pads"),      AICC_A_INT("offset_group"),
    AICC_A_INTS("strides"),      AICC_A_INTS("dilations"), AICC_A_INTS("kernel_shape"),
    AICC_A_END,
};

static const aicc_attr_spec causal_attrs[] = {AICC_A_STRING("activation"), AICC_A_END};

static const aicc_op ops[] = {
    /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
    {"Conv", "", 1, 0, 2, 3, 1, 1, conv_attrs, conv_infer, conv_kernel},
    {"ConvTranspose", "", 1, 0, 2, 3, 1, 1, convt_attrs, conv_transpose_infer,
     conv_transpose_kernel},
    {"ConvInteger", "", 10, 0, 2, 4, 1, 1, conv_attrs, conv_integer_infer, conv_integer_kernel},
    {"QLinearConv", "", 10, 0, 8, 9, 1, 1, conv_attrs, qlinear_conv_infer, qlinear_conv_kernel},
    {"DeformConv", "", 19, 0, 3, 5, 1, 1, deform_attrs, deform_conv_infer, deform_conv_kernel},
    {"CausalConvWithState", "", 27, 0, 2, 4, 2, 2, causal_attrs, causal_conv_infer,
     causal_conv_kernel},
};
const aicc_op_family aicc_family_conv = {"conv", ops, sizeof ops / sizeof ops[0]};
