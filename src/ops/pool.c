/* The pooling family: MaxPool (with indices), AveragePool, LpPool, their
 * Global forms, MaxUnpool, MaxRoiPool and RoiAlign. Windows follow
 * conv_util.c (auto_pad, ceil_mode, dilations); values compute in double,
 * with an f32 fast path for 2-D max/average pooling. */
#include "ops/conv_util.h"
#include "ops/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum pool_kind { POOL_MAX, POOL_AVG, POOL_LP };

/* ------------------------------------------------------------- inference */

static aicc_status pool_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = c->in[0] ? c->in[0]->dtype : AICC_DTYPE_UNDEFINED;
  if (!aicc_infer_has_rank(c, 0)) {
    for (int i = 0; i < c->n_out; i++)
      aicc_infer_set(c, i, i ? AICC_DTYPE_I64 : dt, -1, NULL);
    return NULL;
  }
  const aicc_type *x = c->in[0];
  int r = x->rank;
  if (r < 3) return aicc_infer_error(c, AICC_ERR_SHAPE, "input has rank %d, expected >= 3", r);
  aicc_conv_geom g;
  AICC_TRY(aicc_conv_infer_fail(c, aicc_conv_geom_read(c->node, r - 2, &g)));
  if (!g.has_kernel) return aicc_infer_error(c, AICC_ERR_INVALID, "kernel_shape is required");
  aicc_dim out[AICC_MAX_RANK];
  out[0] = x->dims[0];
  out[1] = x->dims[1];
  for (int i = 0; i < r - 2; i++) {
    int64_t in, o, lo, hi;
    out[2 + i] = aicc_dim_unknown();
    if (aicc_conv_dim_known(x, 2 + i, &in)) {
      AICC_TRY(aicc_conv_infer_fail(c, aicc_conv_out_dim(&g, i, in, &o, &lo, &hi)));
      out[2 + i] = aicc_dim_known(o);
    }
  }
  aicc_infer_set(c, 0, dt, r, out);
  if (c->n_out > 1) aicc_infer_set(c, 1, AICC_DTYPE_I64, r, out);
  return NULL;
}

static aicc_status global_pool_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = c->in[0] ? c->in[0]->dtype : AICC_DTYPE_UNDEFINED;
  if (aicc_infer_unranked(c, dt)) return NULL;
  const aicc_type *x = c->in[0];
  if (x->rank < 2)
    return aicc_infer_error(c, AICC_ERR_SHAPE, "input has rank %d, expected >= 2", x->rank);
  aicc_dim out[AICC_MAX_RANK];
  for (int i = 0; i < x->rank; i++) out[i] = i < 2 ? x->dims[i] : aicc_dim_known(1);
  aicc_infer_set(c, 0, dt, x->rank, out);
  return NULL;
}

/* --------------------------------------------------------------- kernels */

/* Generic N-D pooling over double planes. For each output point the window
 * taps are walked with an odometer; a tap inside the input contributes its
 * value, a tap in the explicit padding only counts for count_include_pad,
 * and a tap past the padding (ceil_mode's extra window) is ignored. */
static void pool_nd(const aicc_conv_geom *g, int64_t planes, enum pool_kind kind,
                    bool include_pad, double p, int storage_order, const double *x,
                    double *y, int64_t *idx) {
  int n = g->nsp;
  int64_t I = aicc_conv_prod(g->in, 0, n), O = aicc_conv_prod(g->out, 0, n);
  int64_t K = aicc_conv_prod(g->kernel, 0, n);
  int64_t oo[AICC_MAX_RANK], kk[AICC_MAX_RANK], cm_stride[AICC_MAX_RANK];
  /* Column-major strides for storage_order = 1 indices. */
  int64_t cs = 1;
  for (int d = 0; d < n; d++) {
    cm_stride[d] = cs;
    cs *= g->in[d];
  }
  for (int64_t pl = 0; pl < planes; pl++) {
    const double *xp = x + pl * I;
    memset(oo, 0, sizeof oo);
    for (int64_t o = 0; o < O; o++) {
      double acc = kind == POOL_MAX ? -INFINITY : 0;
      int64_t best = -1, count = 0, padded_count = 0;
      bool have = false;
      memset(kk, 0, sizeof kk);
      for (int64_t k = 0; k < K; k++) {
        int64_t lin = 0, cm = 0;
        bool inside = true, in_pad = true;
        for (int d = 0; d < n; d++) {
          int64_t xc = oo[d] * g->stride[d] - g->pad_lo[d] + kk[d] * g->dil[d];
          if (xc < 0 || xc >= g->in[d]) inside = false;
          if (xc < -g->pad_lo[d] || xc >= g->in[d] + g->pad_hi[d]) in_pad = false;
          lin = lin * g->in[d] + xc;
          cm += xc * cm_stride[d];
        }
        if (in_pad) padded_count++;
        if (inside) {
          double v = xp[lin];
          count++;
          if (kind == POOL_MAX) {
            if (!have || v > acc) {
              acc = v;
              best = storage_order ? cm : lin;
              have = true;
            }
          } else if (kind == POOL_AVG) {
            acc += v;
          } else {
            acc += pow(fabs(v), p);
          }
        }
        for (int d = n - 1; d >= 0; d--) {
          if (++kk[d] < g->kernel[d]) break;
          kk[d] = 0;
        }
      }
      if (kind == POOL_AVG) {
        int64_t div = include_pad ? padded_count : count;
        acc = div > 0 ? acc / (double)div : NAN;
      } else if (kind == POOL_LP) {
        acc = pow(acc, 1.0 / p);
      } else if (!have) {
        acc = 0;
      }
      y[pl * O + o] = acc;
      if (idx) idx[pl * O + o] = best < 0 ? -1 : pl * I + best;
      for (int d = n - 1; d >= 0; d--) {
        if (++oo[d] < g->out[d]) break;
        oo[d] = 0;
      }
    }
  }
}

/* f32 fast path for 1-D/2-D max and average pooling without dilation: the
 * window is clamped per output row/column instead of tested per tap. */
static void pool2d_f32(const aicc_conv_geom *g, int64_t planes, bool is_max, bool include_pad,
                       const float *x, float *y) {
  int64_t IH, IW, KH, KW, SH, SW, PH, PW, OH, OW, EH, EW;
  if (g->nsp == 1) {
    IH = KH = SH = OH = 1;
    PH = EH = 0;
    IW = g->in[0], KW = g->kernel[0], SW = g->stride[0], PW = g->pad_lo[0], OW = g->out[0];
    EW = g->pad_hi[0];
  } else {
    IH = g->in[0], KH = g->kernel[0], SH = g->stride[0], PH = g->pad_lo[0], OH = g->out[0];
    IW = g->in[1], KW = g->kernel[1], SW = g->stride[1], PW = g->pad_lo[1], OW = g->out[1];
    EH = g->pad_hi[0], EW = g->pad_hi[1];
  }
  for (int64_t pl = 0; pl < planes; pl++) {
    const float *xp = x + pl * IH * IW;
    float *yp = y + pl * OH * OW;
    for (int64_t oh = 0; oh < OH; oh++) {
      int64_t h0 = oh * SH - PH, h1 = h0 + KH;
      int64_t ph1 = h1 < IH + EH ? h1 : IH + EH; /* padded extent for count */
      int64_t hs = h0 < 0 ? 0 : h0, he = h1 < IH ? h1 : IH;
      for (int64_t ow = 0; ow < OW; ow++) {
        int64_t w0 = ow * SW - PW, w1 = w0 + KW;
        int64_t pw1 = w1 < IW + EW ? w1 : IW + EW;
        int64_t ws = w0 < 0 ? 0 : w0, we = w1 < IW ? w1 : IW;
        float acc = is_max ? -INFINITY : 0.0f;
        for (int64_t h = hs; h < he; h++) {
          const float *row = xp + h * IW;
          if (is_max) {
            for (int64_t w = ws; w < we; w++)
              if (row[w] > acc || isnan(row[w])) acc = row[w];
          } else {
            for (int64_t w = ws; w < we; w++) acc += row[w];
          }
        }
        if (!is_max) {
          int64_t div = include_pad ? (ph1 - h0) * (pw1 - w0) : (he - hs) * (we - ws);
          acc = div > 0 ? acc / (float)div : NAN;
        }
        yp[oh * OW + ow] = acc;
      }
    }
  }
}

static aicc_status pool_kernel_common(aicc_kernel_ctx *c, enum pool_kind kind) {
  aicc_tensor *x = c->in[0];
  bool int_ok = kind == POOL_MAX && (aicc_dtype_is_int(x->dtype));
  if (!aicc_dtype_is_float(x->dtype) && !int_ok)
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "unsupported dtype %s",
                             aicc_dtype_text(x->dtype));
  if (x->rank < 3)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "input has rank %d, expected >= 3", x->rank);
  aicc_conv_geom g;
  AICC_TRY(aicc_conv_kernel_fail(c, aicc_conv_geom_read(c->node, x->rank - 2, &g)));
  if (!g.has_kernel) return aicc_kernel_error(c, AICC_ERR_INVALID, "kernel_shape is required");
  AICC_TRY(aicc_conv_kernel_fail(c, aicc_conv_geom_forward(&g, x->dims + 2)));
  int64_t dims[AICC_MAX_RANK] = {x->dims[0], x->dims[1]};
  for (int i = 0; i < g.nsp; i++) dims[2 + i] = g.out[i];
  bool include_pad = aicc_node_attr_int(c->node, "count_include_pad", 0) != 0;
  int storage_order = (int)aicc_node_attr_int(c->node, "storage_order", 0);
  double p = 2;
  const aicc_attr *pa = aicc_node_attr(c->node, "p");
  if (pa) p = pa->kind == AICC_ATTR_FLOAT ? pa->f : (double)pa->i;
  aicc_tensor *y, *ind = NULL;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, x->rank, dims, &y));
  bool want_idx = kind == POOL_MAX && c->n_out > 1 && c->want[1];
  if (want_idx) AICC_TRY(aicc_kernel_output(c, 1, AICC_DTYPE_I64, x->rank, dims, &ind));
  if (aicc_tensor_numel(y) == 0) return NULL;
  int64_t planes = x->dims[0] * x->dims[1];
  bool unit_dil = true;
  for (int i = 0; i < g.nsp; i++) unit_dil &= g.dil[i] == 1;
  if (x->dtype == AICC_DTYPE_F32 && kind != POOL_LP && !want_idx && g.nsp <= 2 && unit_dil) {
    pool2d_f32(&g, planes, kind == POOL_MAX, include_pad, x->data, y->data);
    return NULL;
  }
  double *xd = aicc_conv_to_f64(x);
  double *yd = malloc(sizeof(double) * (size_t)aicc_tensor_numel(y));
  if (!xd || !yd) {
    free(xd), free(yd);
    return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  }
  pool_nd(&g, planes, kind, include_pad, p, storage_order, xd, yd,
          ind ? (int64_t *)ind->data : NULL);
  aicc_conv_from_f64(y, yd);
  free(xd), free(yd);
  return NULL;
}

static aicc_status max_pool_kernel(aicc_kernel_ctx *c) { return pool_kernel_common(c, POOL_MAX); }
static aicc_status avg_pool_kernel(aicc_kernel_ctx *c) { return pool_kernel_common(c, POOL_AVG); }
static aicc_status lp_pool_kernel(aicc_kernel_ctx *c) { return pool_kernel_common(c, POOL_LP); }

static aicc_status global_pool_common(aicc_kernel_ctx *c, enum pool_kind kind) {
  aicc_tensor *x = c->in[0];
  if (!aicc_dtype_is_float(x->dtype))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "unsupported dtype %s",
                             aicc_dtype_text(x->dtype));
  if (x->rank < 2)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "input has rank %d, expected >= 2", x->rank);
  int64_t dims[AICC_MAX_RANK];
  for (int i = 0; i < x->rank; i++) dims[i] = i < 2 ? x->dims[i] : 1;
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, x->rank, dims, &y));
  int64_t planes = x->dims[0] * x->dims[1], S = aicc_conv_prod(x->dims, 2, x->rank);
  double p = 2;
  const aicc_attr *pa = aicc_node_attr(c->node, "p");
  if (pa) p = pa->kind == AICC_ATTR_FLOAT ? pa->f : (double)pa->i;
  if (x->dtype == AICC_DTYPE_F32 && kind != POOL_LP) {
    const float *xp = x->data;
    float *yp = y->data;
    for (int64_t pl = 0; pl < planes; pl++) {
      const float *v = xp + pl * S;
      if (kind == POOL_MAX) {
        float m = S ? v[0] : 0;
        for (int64_t i = 1; i < S; i++)
          if (v[i] > m || isnan(v[i])) m = v[i];
        yp[pl] = m;
      } else {
        double s = 0; /* double accumulator: 7x7x2048 sums stay accurate */
        for (int64_t i = 0; i < S; i++) s += v[i];
        yp[pl] = (float)(s / (double)S);
      }
    }
    return NULL;
  }
  double *xd = aicc_conv_to_f64(x);
  double *yd = malloc(sizeof(double) * (size_t)(planes > 0 ? planes : 1));
  if (!xd || !yd) {
    free(xd), free(yd);
    return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  }
  for (int64_t pl = 0; pl < planes; pl++) {
    const double *v = xd + pl * S;
    double a = kind == POOL_MAX ? (S ? v[0] : 0) : 0;
    for (int64_t i = 0; i < S; i++) {
      if (kind == POOL_MAX) a = v[i] > a || isnan(v[i]) ? v[i] : a;
      else if (kind == POOL_AVG) a += v[i];
      else a += pow(fabs(v[i]), p);
    }
    yd[pl] = kind == POOL_AVG ? a / (double)S : kind == POOL_LP ? pow(a, 1.0 / p) : a;
  }
  aicc_conv_from_f64(y, yd);
  free(xd), free(yd);
  return NULL;
}

static aicc_status global_max_kernel(aicc_kernel_ctx *c) { return global_pool_common(c, POOL_MAX); }
static aicc_status global_avg_kernel(aicc_kernel_ctx *c) { return global_pool_common(c, POOL_AVG); }
static aicc_status global_lp_kernel(aicc_kernel_ctx *c) { return global_pool_common(c, POOL_LP); }

/* ------------------------------------------------------------- MaxUnpool */

/* Default output spatial size: (in - 1) * stride + kernel - pads. */
static aicc_status unpool_dims(const aicc_node *n, int rank, const int64_t *in_dims,
                               const bool *known, int64_t *out) {
  aicc_conv_geom g;
  AICC_TRY(aicc_conv_geom_read(n, rank - 2, &g));
  if (!g.has_kernel) return aicc_errorf(AICC_ERR_INVALID, "kernel_shape is required");
  for (int i = 0; i < rank - 2; i++) {
    if (!known[2 + i]) {
      out[2 + i] = -1;
      continue;
    }
    out[2 + i] = (in_dims[2 + i] - 1) * g.stride[i] + g.kernel[i] - g.pad_lo[i] - g.pad_hi[i];
    if (out[2 + i] < 0) return aicc_errorf(AICC_ERR_SHAPE, "negative output size on axis %d", i);
  }
  return NULL;
}

static aicc_status max_unpool_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = c->in[0] ? c->in[0]->dtype : AICC_DTYPE_UNDEFINED;
  if (aicc_infer_unranked(c, dt)) return NULL;
  const aicc_type *x = c->in[0];
  int r = x->rank;
  if (r < 3) return aicc_infer_error(c, AICC_ERR_SHAPE, "input has rank %d, expected >= 3", r);
  aicc_dim out[AICC_MAX_RANK];
  if (c->n_in > 2 && c->in[2]) {
    if (c->cin[2]) {
      int64_t v[AICC_MAX_RANK], n;
      AICC_TRY(aicc_conv_infer_fail(c, aicc_tensor_read_i64s(c->cin[2], v, AICC_MAX_RANK, &n)));
      if (n != r) return aicc_infer_error(c, AICC_ERR_SHAPE, "output_shape has %lld values", (long long)n);
      for (int i = 0; i < r; i++) out[i] = aicc_dim_known(v[i]);
    } else {
      for (int i = 0; i < r; i++) out[i] = aicc_dim_unknown();
    }
    aicc_infer_set(c, 0, dt, r, out);
    return NULL;
  }
  int64_t in[AICC_MAX_RANK], o[AICC_MAX_RANK];
  bool known[AICC_MAX_RANK];
  for (int i = 0; i < r; i++) known[i] = aicc_conv_dim_known(x, i, &in[i]);
  AICC_TRY(aicc_conv_infer_fail(c, unpool_dims(c->node, r, in, known, o)));
  out[0] = x->dims[0];
  out[1] = x->dims[1];
  for (int i = 2; i < r; i++) out[i] = known[i] ? aicc_dim_known(o[i]) : aicc_dim_unknown();
  aicc_infer_set(c, 0, dt, r, out);
  return NULL;
}

/* Scatters X into the default (inferred) output shape, as the reference and
 * onnxruntime do; an explicit output_shape then receives that tensor in its
 * leading corner (extra positions are zero). */
static aicc_status max_unpool_kernel(aicc_kernel_ctx *c) {
  aicc_tensor *x = c->in[0], *ind = c->in[1], *oshape = c->n_in > 2 ? c->in[2] : NULL;
  int r = x->rank;
  if (r < 3) return aicc_kernel_error(c, AICC_ERR_SHAPE, "input has rank %d, expected >= 3", r);
  if (!aicc_dtype_is_int(ind->dtype) || ind->rank != r ||
      memcmp(ind->dims, x->dims, sizeof(int64_t) * (size_t)r) != 0)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "indices must be an integer tensor shaped like X");
  int64_t idims[AICC_MAX_RANK], dims[AICC_MAX_RANK];
  bool known[AICC_MAX_RANK];
  for (int i = 0; i < r; i++) known[i] = true;
  AICC_TRY(aicc_conv_kernel_fail(c, unpool_dims(c->node, r, x->dims, known, idims)));
  idims[0] = x->dims[0];
  idims[1] = x->dims[1];
  memcpy(dims, idims, sizeof dims);
  if (oshape) {
    int64_t n;
    AICC_TRY(aicc_conv_kernel_fail(c, aicc_tensor_read_i64s(oshape, dims, AICC_MAX_RANK, &n)));
    if (n != r) return aicc_kernel_error(c, AICC_ERR_SHAPE, "output_shape has %lld values", (long long)n);
  }
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, r, dims, &y));
  int64_t ni = aicc_dims_numel(idims, r), nx = aicc_tensor_numel(x), ny = aicc_tensor_numel(y);
  double *xd = aicc_conv_to_f64(x);
  double *sd = calloc((size_t)(ni > 0 ? ni : 1), sizeof(double));
  double *yd = calloc((size_t)(ny > 0 ? ny : 1), sizeof(double));
  aicc_status s = NULL;
  if (!xd || !sd || !yd) s = aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  for (int64_t i = 0; !s && i < nx; i++) {
    int64_t k = aicc_tensor_get_i64(ind, i);
    if (k < 0 || k >= ni)
      s = aicc_kernel_error(c, AICC_ERR_INVALID, "index %lld out of range [0, %lld)",
                            (long long)k, (long long)ni);
    else sd[k] = xd[i];
  }
  if (!s && ni > 0 && ny > 0) {
    /* Copy the scattered tensor into the leading corner of y. */
    int64_t ys[AICC_MAX_RANK], pos[AICC_MAX_RANK] = {0};
    aicc_strides(dims, r, ys);
    for (int64_t i = 0; i < ni; i++) {
      int64_t off = 0;
      bool in = true;
      for (int d = 0; d < r; d++) {
        if (pos[d] >= dims[d]) in = false;
        off += pos[d] * ys[d];
      }
      if (in) yd[off] = sd[i];
      for (int d = r - 1; d >= 0; d--) {
        if (++pos[d] < idims[d]) break;
        pos[d] = 0;
      }
    }
  }
  if (!s) aicc_conv_from_f64(y, yd);
  free(xd), free(sd), free(yd);
  return s;
}

/* ------------------------------------------------------------ MaxRoiPool */

static aicc_status roi_out_infer(aicc_infer_ctx *c, int64_t ph, int64_t pw) {
  aicc_dtype dt = c->in[0] ? c->in[0]->dtype : AICC_DTYPE_UNDEFINED;
  aicc_dim out[4] = {aicc_dim_unknown(), aicc_dim_unknown(), aicc_dim_known(ph),
                     aicc_dim_known(pw)};
  if (aicc_infer_has_rank(c, 1) && c->in[1]->rank >= 1) out[0] = c->in[1]->dims[0];
  if (aicc_infer_has_rank(c, 0)) {
    if (c->in[0]->rank != 4) return aicc_infer_error(c, AICC_ERR_SHAPE, "input must be 4-D");
    out[1] = c->in[0]->dims[1];
  }
  aicc_infer_set(c, 0, dt, 4, out);
  return NULL;
}

static aicc_status max_roi_pool_infer(aicc_infer_ctx *c) {
  int64_t len = 0;
  const int64_t *ps = aicc_node_attr_ints(c->node, "pooled_shape", &len);
  if (!ps || len != 2 || ps[0] < 1 || ps[1] < 1)
    return aicc_infer_error(c, AICC_ERR_INVALID, "pooled_shape must be 2 positive values");
  return roi_out_infer(c, ps[0], ps[1]);
}

static aicc_status max_roi_pool_kernel(aicc_kernel_ctx *c) {
  aicc_tensor *x = c->in[0], *rois = c->in[1];
  int64_t len = 0;
  const int64_t *ps = aicc_node_attr_ints(c->node, "pooled_shape", &len);
  if (!ps || len != 2 || ps[0] < 1 || ps[1] < 1)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "pooled_shape must be 2 positive values");
  if (x->rank != 4 || rois->rank != 2 || rois->dims[1] != 5)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "expected X [N,C,H,W] and rois [R,5]");
  double scale = aicc_node_attr_float(c->node, "spatial_scale", 1.0f);
  int64_t R = rois->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
  int64_t PH = ps[0], PW = ps[1];
  int64_t dims[4] = {R, C, PH, PW};
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, 4, dims, &y));
  double *xd = aicc_conv_to_f64(x), *rd = aicc_conv_to_f64(rois);
  double *yd = malloc(sizeof(double) * (size_t)(R * C * PH * PW + 1));
  aicc_status s = NULL;
  if (!xd || !rd || !yd) s = aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  /* Caffe ROI pooling (Girshick 2015): ROI corners rounded to the feature
   * grid, each bin the max over floor/ceil-bounded cells, empty bins 0. */
  for (int64_t r = 0; !s && r < R; r++) {
    const double *roi = rd + r * 5;
    if (!(roi[0] >= 0 && roi[0] < (double)x->dims[0])) {
      s = aicc_kernel_error(c, AICC_ERR_INVALID, "roi %lld: batch index %g out of range",
                            (long long)r, roi[0]);
      break;
    }
    int64_t b = (int64_t)roi[0];
    if (b < 0 || b >= x->dims[0]) {
      s = aicc_kernel_error(c, AICC_ERR_INVALID, "roi %lld: batch index %lld out of range",
                            (long long)r, (long long)b);
      break;
    }
    bool finite = true;
    for (int k = 1; k < 5; k++) finite &= isfinite(roi[k] * scale) && fabs(roi[k] * scale) < 1e15;
    if (!finite) {
      s = aicc_kernel_error(c, AICC_ERR_INVALID, "roi %lld has non-finite coordinates", (long long)r);
      break;
    }
    int64_t x1 = (int64_t)round(roi[1] * scale), y1 = (int64_t)round(roi[2] * scale);
    int64_t x2 = (int64_t)round(roi[3] * scale), y2 = (int64_t)round(roi[4] * scale);
    int64_t rh = y2 - y1 + 1 > 1 ? y2 - y1 + 1 : 1, rw = x2 - x1 + 1 > 1 ? x2 - x1 + 1 : 1;
    double bh = (double)rh / (double)PH, bw = (double)rw / (double)PW;
    for (int64_t ch = 0; ch < C; ch++) {
      const double *plane = xd + (b * C + ch) * H * W;
      for (int64_t i = 0; i < PH; i++)
        for (int64_t j = 0; j < PW; j++) {
          int64_t hs = (int64_t)floor((double)i * bh) + y1, he = (int64_t)ceil((double)(i + 1) * bh) + y1;
          int64_t ws = (int64_t)floor((double)j * bw) + x1, we = (int64_t)ceil((double)(j + 1) * bw) + x1;
          hs = hs < 0 ? 0 : hs > H ? H : hs;
          he = he < 0 ? 0 : he > H ? H : he;
          ws = ws < 0 ? 0 : ws > W ? W : ws;
          we = we < 0 ? 0 : we > W ? W : we;
          double m = 0;
          bool any = false;
          for (int64_t h = hs; h < he; h++)
            for (int64_t w = ws; w < we; w++)
              if (!any || plane[h * W + w] > m) m = plane[h * W + w], any = true;
          yd[((r * C + ch) * PH + i) * PW + j] = any ? m : 0;
        }
    }
  }
  if (!s) aicc_conv_from_f64(y, yd);
  free(xd), free(rd), free(yd);
  return s;
}

/* -------------------------------------------------------------- RoiAlign */

static aicc_status roi_align_infer(aicc_infer_ctx *c) {
  int64_t oh = aicc_node_attr_int(c->node, "output_height", 1);
  int64_t ow = aicc_node_attr_int(c->node, "output_width", 1);
  if (oh < 1 || ow < 1) return aicc_infer_error(c, AICC_ERR_INVALID, "output size must be >= 1");
  AICC_TRY(roi_out_infer(c, oh, ow));
  if (aicc_infer_has_rank(c, 2) && c->in[2]->rank == 1) c->out[0].dims[0] = c->in[2]->dims[0];
  return NULL;
}

/* Bilinear sample as in onnxruntime's RoiAlign: coordinates below -1 or past
 * the size give nothing; others clamp to the border. Returns the four
 * weighted corner values (max mode takes their max, avg their sum). */
static void roi_sample(const double *plane, int64_t H, int64_t W, double y, double x,
                       double v[4]) {
  v[0] = v[1] = v[2] = v[3] = 0;
  if (!(y >= -1.0 && y <= (double)H && x >= -1.0 && x <= (double)W)) return; /* also NaN */
  if (y < 0) y = 0;
  if (x < 0) x = 0;
  int64_t yl = (int64_t)y, xl = (int64_t)x, yh, xh;
  if (yl >= H - 1) yh = yl = H - 1, y = (double)yl;
  else yh = yl + 1;
  if (xl >= W - 1) xh = xl = W - 1, x = (double)xl;
  else xh = xl + 1;
  double ly = y - (double)yl, lx = x - (double)xl, hy = 1 - ly, hx = 1 - lx;
  v[0] = hy * hx * plane[yl * W + xl];
  v[1] = hy * lx * plane[yl * W + xh];
  v[2] = ly * hx * plane[yh * W + xl];
  v[3] = ly * lx * plane[yh * W + xh];
}

static aicc_status roi_align_kernel(aicc_kernel_ctx *c) {
  aicc_tensor *x = c->in[0], *rois = c->in[1], *bi = c->in[2];
  if (!aicc_dtype_is_float(x->dtype) || x->rank != 4 || rois->rank != 2 || rois->dims[1] != 4 ||
      bi->rank != 1 || bi->dims[0] != rois->dims[0] || !aicc_dtype_is_int(bi->dtype))
    return aicc_kernel_error(c, AICC_ERR_SHAPE,
                             "expected float X [N,C,H,W], rois [R,4], batch_indices [R]");
  int64_t OH = aicc_node_attr_int(c->node, "output_height", 1);
  int64_t OW = aicc_node_attr_int(c->node, "output_width", 1);
  int64_t ratio = aicc_node_attr_int(c->node, "sampling_ratio", 0);
  double scale = aicc_node_attr_float(c->node, "spatial_scale", 1.0f);
  const char *mode = aicc_node_attr_string(c->node, "mode", "avg");
  const char *ctm = aicc_node_attr_string(c->node, "coordinate_transformation_mode",
                                          c->opset >= 16 ? "half_pixel" : "output_half_pixel");
  bool is_max = strcmp(mode, "max") == 0, half = strcmp(ctm, "half_pixel") == 0;
  if (!is_max && strcmp(mode, "avg") != 0)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "unknown mode '%s'", mode);
  if (OH < 1 || OW < 1) return aicc_kernel_error(c, AICC_ERR_INVALID, "output size must be >= 1");
  int64_t R = rois->dims[0], N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
  int64_t dims[4] = {R, C, OH, OW};
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, 4, dims, &y));
  double *xd = aicc_conv_to_f64(x), *rd = aicc_conv_to_f64(rois);
  double *yd = malloc(sizeof(double) * (size_t)(R * C * OH * OW + 1));
  aicc_status s = NULL;
  if (!xd || !rd || !yd) s = aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  /* RoiAlign (He et al. 2017, Mask R-CNN §3): each bin averages (or maxes)
   * a regular grid of bilinear samples. */
  for (int64_t r = 0; !s && r < R; r++) {
    int64_t b = aicc_tensor_get_i64(bi, r);
    if (b < 0 || b >= N) {
      s = aicc_kernel_error(c, AICC_ERR_INVALID, "batch index %lld out of range", (long long)b);
      break;
    }
    double off = half ? 0.5 : 0.0;
    double sw = rd[r * 4 + 0] * scale - off, sh = rd[r * 4 + 1] * scale - off;
    double ew = rd[r * 4 + 2] * scale - off, eh = rd[r * 4 + 3] * scale - off;
    double rw = ew - sw, rh = eh - sh;
    if (!half) {
      if (rw < 1) rw = 1;
      if (rh < 1) rh = 1;
    }
    if (!isfinite(rw) || !isfinite(rh) || fabs(rh) > 1e9 || fabs(rw) > 1e9) {
      s = aicc_kernel_error(c, AICC_ERR_INVALID, "roi %lld has non-finite or huge coordinates",
                            (long long)r);
      break;
    }
    double bh = rh / (double)OH, bw = rw / (double)OW;
    int64_t gh = ratio > 0 ? ratio : (int64_t)ceil(rh / (double)OH);
    int64_t gw = ratio > 0 ? ratio : (int64_t)ceil(rw / (double)OW);
    int64_t count = gh * gw > 1 ? gh * gw : 1;
    for (int64_t ch = 0; ch < C; ch++) {
      const double *plane = xd + (b * C + ch) * H * W;
      for (int64_t i = 0; i < OH; i++)
        for (int64_t j = 0; j < OW; j++) {
          double acc = 0;
          bool first = true;
          for (int64_t iy = 0; iy < gh; iy++) {
            double yy = sh + (double)i * bh + ((double)iy + 0.5) * bh / (double)gh;
            for (int64_t ix = 0; ix < gw; ix++) {
              double xx = sw + (double)j * bw + ((double)ix + 0.5) * bw / (double)gw;
              double v[4];
              roi_sample(plane, H, W, yy, xx, v);
              if (is_max) {
                double m = fmax(fmax(v[0], v[1]), fmax(v[2], v[3]));
                acc = first || m > acc ? m : acc;
                first = false;
              } else {
                acc += v[0] + v[1] + v[2] + v[3];
              }
            }
          }
          yd[((r * C + ch) * OH + i) * OW + j] = is_max ? acc : acc / (double)count;
        }
    }
  }
  if (!s) aicc_conv_from_f64(y, yd);
  free(xd), free(rd), free(yd);
  return s;
}

/* ------------------------------------------------------------------ rows */

static const aicc_attr_spec max_pool_attrs[] = {
    AICC_A_STRING("auto_pad"), AICC_A_INTS("kernel_shape"), AICC_A_INTS("pads"),
    AICC_A_INTS("strides"),    AICC_A_INTS("dilations"),    AICC_A_INT("ceil_mode"),
    AICC_A_INT("storage_order"), AICC_A_END,
};
static const aicc_attr_spec avg_pool_attrs[] = {
    AICC_A_STRING("auto_pad"), AICC_A_INTS("kernel_shape"), AICC_A_INTS("pads"),
    AICC_A_INTS("strides"),    AICC_A_INTS("dilations"),    AICC_A_INT("ceil_mode"),
    AICC_A_INT("count_include_pad"), AICC_A_END,
};
static const aicc_attr_spec lp_pool_attrs[] = {
    AICC_A_STRING("auto_pad"), AICC_A_INTS("kernel_shape"), AICC_A_INTS("pads"),
    AICC_A_INTS("strides"),    AICC_A_INTS("dilations"),    AICC_A_INT("ceil_mode"),
    AICC_A_INT("p"),           AICC_A_END,
};
/* LpPool-1 / GlobalLpPool-1 took p as a float. */
static const aicc_attr_spec lp_pool1_attrs[] = {
    AICC_A_STRING("auto_pad"), AICC_A_INTS("kernel_shape"), AICC_A_INTS("pads"),
    AICC_A_INTS("strides"),    AICC_A_FLOAT("p"),           AICC_A_END,
};
static const aicc_attr_spec global_lp_attrs[] = {AICC_A_INT("p"), AICC_A_END};
static const aicc_attr_spec global_lp1_attrs[] = {AICC_A_FLOAT("p"), AICC_A_END};
static const aicc_attr_spec unpool_attrs[] = {
    AICC_A_INTS("kernel_shape"), AICC_A_INTS("pads"), AICC_A_INTS("strides"), AICC_A_END,
};
static const aicc_attr_spec max_roi_attrs[] = {
    AICC_A_INTS("pooled_shape"), AICC_A_FLOAT("spatial_scale"), AICC_A_END,
};
static const aicc_attr_spec roi_align_attrs[] = {
    AICC_A_STRING("coordinate_transformation_mode"), AICC_A_STRING("mode"),
    AICC_A_INT("output_height"), AICC_A_INT("output_width"), AICC_A_INT("sampling_ratio"),
    AICC_A_FLOAT("spatial_scale"), AICC_A_END,
};

static const aicc_op ops[] = {
    /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
    {"MaxPool", "", 1, 0, 1, 1, 1, 2, max_pool_attrs, pool_infer, max_pool_kernel},
    {"AveragePool", "", 1, 0, 1, 1, 1, 1, avg_pool_attrs, pool_infer, avg_pool_kernel},
    {"LpPool", "", 1, 1, 1, 1, 1, 1, lp_pool1_attrs, pool_infer, lp_pool_kernel},
    {"LpPool", "", 2, 0, 1, 1, 1, 1, lp_pool_attrs, pool_infer, lp_pool_kernel},
    {"GlobalAveragePool", "", 1, 0, 1, 1, 1, 1, NULL, global_pool_infer, global_avg_kernel},
    {"GlobalMaxPool", "", 1, 0, 1, 1, 1, 1, NULL, global_pool_infer, global_max_kernel},
    {"GlobalLpPool", "", 1, 1, 1, 1, 1, 1, global_lp1_attrs, global_pool_infer, global_lp_kernel},
    {"GlobalLpPool", "", 2, 0, 1, 1, 1, 1, global_lp_attrs, global_pool_infer, global_lp_kernel},
    {"MaxUnpool", "", 9, 0, 2, 3, 1, 1, unpool_attrs, max_unpool_infer, max_unpool_kernel},
    {"MaxRoiPool", "", 1, 0, 2, 2, 1, 1, max_roi_attrs, max_roi_pool_infer, max_roi_pool_kernel},
    {"RoiAlign", "", 10, 0, 3, 3, 1, 1, roi_align_attrs, roi_align_infer, roi_align_kernel},
};
const aicc_op_family aicc_family_pool = {"pool", ops, sizeof ops / sizeof ops[0]};
