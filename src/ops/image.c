/* The image family: GridSample (opsets 16/20/22, N-D), AffineGrid and
 * Col2Im. Sampling computes in double; Col2Im reuses the shared col2im of
 * conv_util.c, so it is exactly the adjoint of Conv's im2col. */
#include "ops/conv_util.h"
#include "ops/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ GridSample */

typedef enum { GS_NEAREST, GS_LINEAR, GS_CUBIC } gs_mode;
typedef enum { GS_ZEROS, GS_BORDER, GS_REFLECTION } gs_pad;

static aicc_status gs_read(const aicc_node *n, gs_mode *mode, gs_pad *pad, bool *align) {
  const char *m = aicc_node_attr_string(n, "mode", "linear");
  if (strcmp(m, "nearest") == 0) *mode = GS_NEAREST;
  else if (strcmp(m, "linear") == 0 || strcmp(m, "bilinear") == 0) *mode = GS_LINEAR;
  else if (strcmp(m, "cubic") == 0 || strcmp(m, "bicubic") == 0) *mode = GS_CUBIC;
  else return aicc_errorf(AICC_ERR_INVALID, "unknown mode '%s'", m);
  const char *p = aicc_node_attr_string(n, "padding_mode", "zeros");
  if (strcmp(p, "zeros") == 0) *pad = GS_ZEROS;
  else if (strcmp(p, "border") == 0) *pad = GS_BORDER;
  else if (strcmp(p, "reflection") == 0) *pad = GS_REFLECTION;
  else return aicc_errorf(AICC_ERR_INVALID, "unknown padding_mode '%s'", p);
  *align = aicc_node_attr_int(n, "align_corners", 0) != 0;
  return NULL;
}

static aicc_status grid_sample_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = c->in[0] ? c->in[0]->dtype : AICC_DTYPE_UNDEFINED;
  if (!aicc_infer_has_rank(c, 0) || !aicc_infer_has_rank(c, 1)) {
    int r = aicc_infer_has_rank(c, 0) ? c->in[0]->rank : -1;
    aicc_infer_set(c, 0, dt, r, NULL);
    return NULL;
  }
  const aicc_type *x = c->in[0], *g = c->in[1];
  if (x->rank < 3 || g->rank != x->rank)
    return aicc_infer_error(c, AICC_ERR_SHAPE, "X rank %d and grid rank %d must match (>= 3)",
                            x->rank, g->rank);
  aicc_dim out[AICC_MAX_RANK];
  out[0] = x->dims[0];
  out[1] = x->dims[1];
  for (int i = 2; i < x->rank; i++) out[i] = g->dims[i - 1];
  aicc_infer_set(c, 0, dt, x->rank, out);
  return NULL;
}

/* Reflects x into [lo, hi] by bouncing off the nearer border. Computed in
 * double throughout so huge coordinates cannot overflow an integer. */
static double gs_reflect(double x, double lo, double hi) {
  double rng = hi - lo;
  if (!(rng > 0)) return lo;
  if (x < lo) {
    double dx = lo - x, n = floor(dx / rng), r = dx - n * rng;
    return fmod(n, 2) == 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    double dx = x - hi, n = floor(dx / rng), r = dx - n * rng;
    return fmod(n, 2) == 0 ? hi - r : lo + r;
  }
  return x;
}

/* Maps an integer tap to a source index, or -1 (reads 0). */
static int64_t gs_index(int64_t i, int64_t size, gs_pad pad, double lo, double hi) {
  if (pad == GS_ZEROS) return i >= 0 && i < size ? i : -1;
  if (pad == GS_BORDER) return i < 0 ? 0 : i >= size ? size - 1 : i;
  int64_t k = (int64_t)gs_reflect((double)i, lo, hi);
  return k < 0 ? 0 : k >= size ? size - 1 : k;
}

static void gs_cubic(double t, double *c) {
  const double A = -0.75;
  t = fabs(t);
  c[0] = ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A;
  c[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
  c[2] = ((A + 2) * (1 - t) - (A + 3)) * (1 - t) * (1 - t) + 1;
  c[3] = ((A * (2 - t) - 5 * A) * (2 - t) + 8 * A) * (2 - t) - 4 * A;
}

static aicc_status grid_sample_kernel(aicc_kernel_ctx *c) {
  aicc_tensor *x = c->in[0], *grid = c->in[1];
  if (!aicc_dtype_is_float(x->dtype) || !aicc_dtype_is_float(grid->dtype))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "GridSample needs float inputs");
  int r = x->rank, nd = r - 2;
  if (r < 3 || grid->rank != r || grid->dims[0] != x->dims[0] || grid->dims[r - 1] != nd)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "grid must be [N, spatial..., %d]", nd);
  gs_mode mode = GS_LINEAR;
  gs_pad pad = GS_ZEROS;
  bool align = false;
  AICC_TRY(aicc_conv_kernel_fail(c, gs_read(c->node, &mode, &pad, &align)));
  int64_t N = x->dims[0], C = x->dims[1], dims[AICC_MAX_RANK] = {N, C};
  for (int i = 0; i < nd; i++) dims[2 + i] = grid->dims[1 + i];
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, r, dims, &y));
  int64_t O = aicc_conv_prod(dims, 2, r), I = aicc_conv_prod(x->dims, 2, r);
  if (aicc_tensor_numel(y) == 0) return NULL;
  double *xd = aicc_conv_to_f64(x), *gd = aicc_conv_to_f64(grid);
  double *yd = malloc(sizeof(double) * (size_t)aicc_tensor_numel(y));
  if (!xd || !gd || !yd) {
    free(xd), free(gd), free(yd);
    return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  }
  const int64_t *sz = x->dims + 2;
  int64_t istr[AICC_MAX_RANK];
  aicc_strides(sz, nd, istr);
  int ntap = mode == GS_NEAREST ? 1 : mode == GS_LINEAR ? 2 : 4;
  int64_t combos = 1;
  for (int d = 0; d < nd; d++) combos *= ntap;
  for (int64_t n = 0; n < N; n++)
    for (int64_t o = 0; o < O; o++) {
      /* Taps per axis: source index (-1 = zero) and weight. The grid's last
       * dim lists coordinates x, y, z: innermost axis first. */
      int64_t tidx[AICC_MAX_RANK][4];
      double tw[AICC_MAX_RANK][4];
      const double *gp = gd + (n * O + o) * nd;
      for (int d = 0; d < nd; d++) {
        double v = gp[nd - 1 - d];
        int64_t L = sz[d];
        double xc = align ? (v + 1) / 2.0 * (double)(L - 1) : ((v + 1) * (double)L - 1) / 2.0;
        xc = (double)(float)xc; /* the reference keeps coordinates in float32 */
        double lo = align ? 0 : -0.5, hi = align ? (double)L - 1 : (double)L - 0.5;
        /* Non-finite grid values sample the padding, never index memory. */
        if (!isfinite(xc)) xc = lo - 4;
        if (mode == GS_NEAREST) xc = nearbyint(xc);
        if (xc < lo || xc > hi) {
          if (pad == GS_BORDER) xc = xc < 0 ? 0 : xc > (double)(L - 1) ? (double)(L - 1) : xc;
          else if (pad == GS_REFLECTION) xc = gs_reflect(xc, lo, hi);
        }
        /* Beyond two pixels outside every tap is padding: clamp so the
         * integer conversions below stay in range. */
        if (xc < -(double)L - 4) xc = -(double)L - 4;
        if (xc > 2 * (double)L + 4) xc = 2 * (double)L + 4;
        if (mode == GS_NEAREST) {
          tidx[d][0] = gs_index((int64_t)xc, L, pad, lo, hi);
          tw[d][0] = 1;
          continue;
        }
        double f = floor(xc), t = xc - f;
        int64_t base = (int64_t)f - (mode == GS_CUBIC ? 1 : 0);
        if (mode == GS_LINEAR) tw[d][0] = 1 - t, tw[d][1] = t;
        else gs_cubic(t, tw[d]);
        for (int k = 0; k < ntap; k++) tidx[d][k] = gs_index(base + k, L, pad, lo, hi);
      }
      for (int64_t ch = 0; ch < C; ch++) {
        const double *plane = xd + (n * C + ch) * I;
        double acc = 0;
        for (int64_t cb = 0; cb < combos; cb++) {
          int64_t rem = cb, off = 0;
          double w = 1;
          for (int d = nd - 1; d >= 0; d--) {
            int k = (int)(rem % ntap);
            rem /= ntap;
            if (tidx[d][k] < 0) {
              w = 0;
              break;
            }
            w *= tw[d][k];
            off += tidx[d][k] * istr[d];
          }
          if (w != 0) acc += w * plane[off];
        }
        yd[(n * C + ch) * O + o] = acc;
      }
    }
  aicc_conv_from_f64(y, yd);
  free(xd), free(gd), free(yd);
  return NULL;
}

/* ------------------------------------------------------------ AffineGrid */

static aicc_status affine_grid_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = c->in[0] ? c->in[0]->dtype : AICC_DTYPE_UNDEFINED;
  if (c->cin[1]) {
    int64_t v[8], n;
    AICC_TRY(aicc_conv_infer_fail(c, aicc_tensor_read_i64s(c->cin[1], v, 8, &n)));
    if (n != 4 && n != 5)
      return aicc_infer_error(c, AICC_ERR_SHAPE, "size must have 4 or 5 values, got %lld", (long long)n);
    aicc_dim out[6];
    out[0] = aicc_dim_known(v[0]);
    if (aicc_infer_has_rank(c, 0) && c->in[0]->rank == 3) out[0] = c->in[0]->dims[0];
    for (int i = 2; i < n; i++) out[i - 1] = aicc_dim_known(v[i]);
    out[n - 1] = aicc_dim_known(n - 2);
    aicc_infer_set(c, 0, dt, (int)n, out);
    return NULL;
  }
  int r = aicc_infer_has_rank(c, 1) && c->in[1]->rank == 1 && aicc_dim_is_known(c->in[1]->dims[0])
              ? (int)c->in[1]->dims[0].size
              : -1;
  aicc_infer_set(c, 0, dt, r, NULL);
  return NULL;
}

static aicc_status affine_grid_kernel(aicc_kernel_ctx *c) {
  aicc_tensor *theta = c->in[0], *size = c->in[1];
  if (!aicc_dtype_is_float(theta->dtype))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "theta must be a float tensor");
  int64_t v[8], n;
  AICC_TRY(aicc_conv_kernel_fail(c, aicc_tensor_read_i64s(size, v, 8, &n)));
  if (n != 4 && n != 5)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "size must have 4 or 5 values, got %lld", (long long)n);
  int nd = (int)n - 2;
  int64_t N = v[0];
  if (theta->rank != 3 || theta->dims[0] != N || theta->dims[1] != nd || theta->dims[2] != nd + 1)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "theta must be [%lld, %d, %d]", (long long)N, nd,
                             nd + 1);
  bool align = aicc_node_attr_int(c->node, "align_corners", 0) != 0;
  int64_t dims[6] = {N};
  for (int i = 0; i < nd; i++) dims[1 + i] = v[2 + i];
  dims[1 + nd] = nd;
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, theta->dtype, nd + 2, dims, &y));
  int64_t P = aicc_conv_prod(v, 2, (int)n);
  double *td = aicc_conv_to_f64(theta);
  double *yd = malloc(sizeof(double) * (size_t)(N * P * nd + 1));
  if (!td || !yd) {
    free(td), free(yd);
    return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  }
  for (int64_t b = 0; b < N; b++) {
    const double *th = td + b * nd * (nd + 1);
    for (int64_t p = 0; p < P; p++) {
      /* Homogeneous base point (x, y[, z], 1): x runs along the last axis. */
      double base[4];
      int64_t rem = p;
      for (int d = nd - 1; d >= 0; d--) {
        int64_t L = v[2 + d], i = rem % L;
        rem /= L;
        double t = align ? (L > 1 ? -1 + 2.0 * (double)i / (double)(L - 1) : -1)
                         : (2.0 * (double)i + 1) / (double)L - 1;
        base[nd - 1 - d] = t;
      }
      base[nd] = 1;
      for (int k = 0; k < nd; k++) {
        double s = 0;
        for (int j = 0; j <= nd; j++) s += th[k * (nd + 1) + j] * base[j];
        yd[(b * P + p) * nd + k] = s;
      }
    }
  }
  aicc_conv_from_f64(y, yd);
  free(td), free(yd);
  return NULL;
}

/* ---------------------------------------------------------------- Col2Im */

/* Geometry from image_shape / block_shape and the attributes. */
static aicc_status col2im_geom(const aicc_node *node, const aicc_tensor *img,
                               const aicc_tensor *blk, aicc_conv_geom *g) {
  int64_t iv[AICC_MAX_RANK], bv[AICC_MAX_RANK], ni, nb;
  AICC_TRY(aicc_tensor_read_i64s(img, iv, AICC_MAX_RANK / 2, &ni));
  AICC_TRY(aicc_tensor_read_i64s(blk, bv, AICC_MAX_RANK / 2, &nb));
  if (ni != nb || ni < 1)
    return aicc_errorf(AICC_ERR_SHAPE, "image_shape (%lld) and block_shape (%lld) must match",
                       (long long)ni, (long long)nb);
  AICC_TRY(aicc_conv_geom_read(node, (int)ni, g));
  for (int i = 0; i < ni; i++) {
    if (bv[i] < 1) return aicc_errorf(AICC_ERR_SHAPE, "block_shape[%d] must be >= 1", i);
    g->kernel[i] = bv[i];
  }
  return aicc_conv_geom_forward(g, iv);
}

static aicc_status col2im_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = c->in[0] ? c->in[0]->dtype : AICC_DTYPE_UNDEFINED;
  if (!c->cin[1] || !c->cin[2]) {
    int r = c->in[1] && c->in[1]->rank == 1 && aicc_dim_is_known(c->in[1]->dims[0])
                ? (int)c->in[1]->dims[0].size + 2
                : -1;
    aicc_infer_set(c, 0, dt, r, NULL);
    return NULL;
  }
  aicc_conv_geom g;
  AICC_TRY(aicc_conv_infer_fail(c, col2im_geom(c->node, c->cin[1], c->cin[2], &g)));
  aicc_dim out[AICC_MAX_RANK];
  out[0] = aicc_infer_has_rank(c, 0) ? c->in[0]->dims[0] : aicc_dim_unknown();
  out[1] = aicc_dim_unknown();
  int64_t cb, K = aicc_conv_prod(g.kernel, 0, g.nsp);
  if (aicc_conv_dim_known(c->in[0], 1, &cb)) {
    if (cb % K != 0)
      return aicc_infer_error(c, AICC_ERR_SHAPE, "input dim 1 (%lld) not divisible by %lld",
                              (long long)cb, (long long)K);
    out[1] = aicc_dim_known(cb / K);
  }
  for (int i = 0; i < g.nsp; i++) out[2 + i] = aicc_dim_known(g.in[i]);
  aicc_infer_set(c, 0, dt, g.nsp + 2, out);
  return NULL;
}

static aicc_status col2im_kernel(aicc_kernel_ctx *c) {
  aicc_tensor *x = c->in[0];
  if (!aicc_dtype_is_float(x->dtype) && !aicc_dtype_is_int(x->dtype))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "unsupported dtype %s",
                             aicc_dtype_text(x->dtype));
  aicc_conv_geom g;
  AICC_TRY(aicc_conv_kernel_fail(c, col2im_geom(c->node, c->in[1], c->in[2], &g)));
  int64_t K = aicc_conv_prod(g.kernel, 0, g.nsp), L = aicc_conv_prod(g.out, 0, g.nsp);
  if (x->rank != 3 || x->dims[1] % K != 0 || x->dims[2] != L)
    return aicc_kernel_error(c, AICC_ERR_SHAPE,
                             "input must be [N, C*%lld, %lld] for this image and block",
                             (long long)K, (long long)L);
  int64_t N = x->dims[0], C = x->dims[1] / K, dims[AICC_MAX_RANK] = {N, C};
  for (int i = 0; i < g.nsp; i++) dims[2 + i] = g.in[i];
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, g.nsp + 2, dims, &y));
  int64_t I = aicc_conv_prod(g.in, 0, g.nsp);
  double *xd = aicc_conv_to_f64(x);
  double *yd = calloc((size_t)(N * C * I + 1), sizeof(double));
  if (!xd || !yd) {
    free(xd), free(yd);
    return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  }
  for (int64_t n = 0; n < N; n++) aicc_conv_col2im_f64(&g, C, xd + n * C * K * L, yd + n * C * I);
  aicc_conv_from_f64(y, yd);
  free(xd), free(yd);
  return NULL;
}

/* ------------------------------------------------------------------ rows */

static const aicc_attr_spec gs_attrs[] = {
    AICC_A_INT("align_corners"), AICC_A_STRING("mode"), AICC_A_STRING("padding_mode"), AICC_A_END,
};
static const aicc_attr_spec affine_attrs[] = {AICC_A_INT("align_corners"), AICC_A_END};
static const aicc_attr_spec col2im_attrs[] = {
    AICC_A_INTS("dilations"), AICC_A_INTS("pads"), AICC_A_INTS("strides"), AICC_A_END,
};

static const aicc_op ops[] = {
    /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
    {"GridSample", "", 16, 0, 2, 2, 1, 1, gs_attrs, grid_sample_infer, grid_sample_kernel},
    {"AffineGrid", "", 20, 0, 2, 2, 1, 1, affine_attrs, affine_grid_infer, affine_grid_kernel},
    {"Col2Im", "", 18, 0, 3, 3, 1, 1, col2im_attrs, col2im_infer, col2im_kernel},
};
const aicc_op_family aicc_family_image = {"image", ops, sizeof ops / sizeof ops[0]};
