/* Linear quantization: QuantizeLinear, DequantizeLinear (per-tensor,
 * per-axis and blocked; integer, int4/int2 and narrow float targets),
 * DynamicQuantizeLinear and QLinearMatMul. Arithmetic follows the onnx
 * reference (numpy promotion rules decide each intermediate precision).
 * QLinearConv lives with the conv family. */
#include "ops/util.h"
#include "ir/tensor_float.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static aicc_status q_wrap(const aicc_kernel_ctx *c, aicc_status s) {
  if (!s) return NULL;
  aicc_status e = aicc_kernel_error(c, aicc_status_code(s), "%s", aicc_status_message(s));
  aicc_status_free(s);
  return e;
}

/* --- element access for every quantized dtype --- */

static bool is_f8(aicc_dtype dt) {
  return dt == AICC_DTYPE_F8E4M3FN || dt == AICC_DTYPE_F8E4M3FNUZ || dt == AICC_DTYPE_F8E5M2 ||
         dt == AICC_DTYPE_F8E5M2FNUZ;
}

static unsigned narrow_raw(const aicc_tensor *t, int64_t i) {
  int bits = aicc_dtype_get(t->dtype)->bits;
  return bits < 8 ? aicc_packed_get(t->data, bits, i) : ((const uint8_t *)t->data)[i];
}

/* Element i as a double, for every numeric dtype including f6. */
static double q_get(const aicc_tensor *t, int64_t i) {
  if (aicc_dtype_is_narrow_float(t->dtype)) return aicc_narrow_to_f32(t->dtype, narrow_raw(t, i));
  return aicc_tensor_get_f64(t, i);
}

static void q_set_narrow(aicc_tensor *t, int64_t i, double v, bool saturate) {
  int bits = aicc_dtype_get(t->dtype)->bits;
  uint8_t b = aicc_f64_to_narrow(t->dtype, v, saturate);
  if (bits < 8) aicc_packed_set(t->data, bits, i, b);
  else ((uint8_t *)t->data)[i] = b;
}

/* Rounds v to the precision of a float dtype (numpy arithmetic in that type). */
static double round_to(aicc_dtype dt, double v) {
  switch (dt) {
  case AICC_DTYPE_F32: return (float)v;
  case AICC_DTYPE_F16: return aicc_f16_to_f32(aicc_f64_to_f16(v));
  case AICC_DTYPE_BF16: return aicc_bf16_to_f32(aicc_f64_to_bf16(v));
  default: return v;
  }
}

/* numpy's result dtype for arithmetic between two of our operand dtypes. */
static aicc_dtype promote(aicc_dtype a, aicc_dtype b) {
  if (a == b) return aicc_dtype_is_float(a) ? a : AICC_DTYPE_F64;
  if (a == AICC_DTYPE_F64 || b == AICC_DTYPE_F64) return AICC_DTYPE_F64;
  /* int32 with a float below 64 bits widens to double */
  if (aicc_dtype_is_int(a) && aicc_dtype_get(a)->bits >= 32) return AICC_DTYPE_F64;
  if (aicc_dtype_is_int(b) && aicc_dtype_get(b)->bits >= 32) return AICC_DTYPE_F64;
  return AICC_DTYPE_F32;
}

static bool int_range(aicc_dtype dt, int64_t *lo, int64_t *hi) {
  switch (dt) {
  case AICC_DTYPE_U8: *lo = 0; *hi = 255; return true;
  case AICC_DTYPE_I8: *lo = -128; *hi = 127; return true;
  case AICC_DTYPE_U16: *lo = 0; *hi = 65535; return true;
  case AICC_DTYPE_I16: *lo = -32768; *hi = 32767; return true;
  case AICC_DTYPE_U4: *lo = 0; *hi = 15; return true;
  case AICC_DTYPE_I4: *lo = -8; *hi = 7; return true;
  case AICC_DTYPE_U2: *lo = 0; *hi = 3; return true;
  case AICC_DTYPE_I2: *lo = -2; *hi = 1; return true;
  case AICC_DTYPE_I32: *lo = INT32_MIN; *hi = INT32_MAX; return true;
  default: return false;
  }
}

static bool is_quant_target(aicc_dtype dt) {
  int64_t lo, hi;
  return (int_range(dt, &lo, &hi) && dt != AICC_DTYPE_I32) || aicc_dtype_is_narrow_float(dt);
}

/* --- granularity: how a scale/zero-point index follows an x index --- */

/* x is viewed as [outer, D, inner] around the axis. Per-tensor: one value;
 * per-axis: index a; blocked: scale is [outer, S, inner] and index
 * (o * S + a / B) * inner + i. */
typedef struct q_layout {
  int mode; /* 0 per-tensor, 1 per-axis, 2 blocked */
  int64_t outer, D, inner, S, B;
} q_layout;

static aicc_status q_layout_make(const aicc_tensor *x, const aicc_tensor *scale,
                                 const aicc_tensor *zp, int64_t axis_attr, int64_t block,
                                 q_layout *L) {
  memset(L, 0, sizeof *L);
  L->outer = L->D = L->inner = 1;
  if (zp) {
    bool same = zp->rank == scale->rank;
    for (int d = 0; same && d < zp->rank; d++) same = zp->dims[d] == scale->dims[d];
    if (!same && !(aicc_tensor_numel(zp) == 1 && aicc_tensor_numel(scale) == 1))
      return aicc_errorf(AICC_ERR_SHAPE, "zero point and scale differ in shape");
  }
  if (aicc_tensor_numel(scale) == 1) {
    L->outer = aicc_tensor_numel(x);
    return NULL;
  }
  int64_t axis;
  AICC_TRY(aicc_axis_norm(axis_attr, x->rank, &axis));
  for (int d = 0; d < axis; d++) L->outer *= x->dims[d];
  L->D = x->dims[axis];
  for (int d = (int)axis + 1; d < x->rank; d++) L->inner *= x->dims[d];
  if (block <= 0) {
    if (scale->rank != 1 || scale->dims[0] != L->D)
      return aicc_errorf(AICC_ERR_SHAPE, "per-axis scale must be 1-D of length %lld",
                         (long long)L->D);
    L->mode = 1;
    return NULL;
  }
  if (scale->rank != x->rank)
    return aicc_errorf(AICC_ERR_SHAPE, "blocked scale must have the rank of the input");
  for (int d = 0; d < x->rank; d++)
    if (d != axis && scale->dims[d] != x->dims[d])
      return aicc_errorf(AICC_ERR_SHAPE, "blocked scale differs from the input on dim %d", d);
  L->S = scale->dims[axis];
  L->B = block;
  if (L->S * block < L->D || (L->S - 1) * block >= L->D)
    return aicc_errorf(AICC_ERR_SHAPE, "block_size %lld does not fit %lld blocks over %lld",
                       (long long)block, (long long)L->S, (long long)L->D);
  L->mode = 2;
  return NULL;
}

static inline int64_t q_index(const q_layout *L, int64_t o, int64_t a, int64_t i) {
  switch (L->mode) {
  case 1: return a;
  case 2: return (o * L->S + a / L->B) * L->inner + i;
  default: return 0;
  }
}

/* --- QuantizeLinear --- */

static aicc_dtype quant_out_dtype(const aicc_node *n, const aicc_type *zp) {
  if (zp && zp->kind != AICC_KIND_NONE) return zp->dtype;
  int64_t od = aicc_node_attr_int(n, "output_dtype", 0);
  return od ? (aicc_dtype)od : AICC_DTYPE_U8;
}

static aicc_status quantize_infer(aicc_infer_ctx *c) {
  const aicc_type *zp = c->n_in > 2 ? c->in[2] : NULL;
  aicc_dtype dt = quant_out_dtype(c->node, zp);
  if (!aicc_dtype_valid(dt) || !is_quant_target(dt))
    return aicc_infer_error(c, AICC_ERR_UNSUPPORTED, "cannot quantize to %s", aicc_dtype_text(dt));
  if (!c->in[0]) return NULL;
  aicc_infer_set(c, 0, dt, c->in[0]->rank, c->in[0]->dims);
  return NULL;
}

static aicc_status quantize_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *x = c->in[0], *sc = c->in[1];
  const aicc_tensor *zp = c->n_in > 2 ? c->in[2] : NULL;
  aicc_dtype ot = zp ? zp->dtype : AICC_DTYPE_UNDEFINED;
  int64_t od = aicc_node_attr_int(c->node, "output_dtype", 0);
  if (zp && od && od != ot)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "output_dtype %lld disagrees with the zero point (%s)",
                             (long long)od, aicc_dtype_text(ot));
  if (!zp) ot = od ? (aicc_dtype)od : AICC_DTYPE_U8;
  if (!aicc_dtype_valid(ot) || !is_quant_target(ot))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "cannot quantize to %s", aicc_dtype_text(ot));
  if (!aicc_dtype_is_float(x->dtype) && x->dtype != AICC_DTYPE_I32)
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "cannot quantize %s", aicc_dtype_text(x->dtype));
  if (!aicc_dtype_is_float(sc->dtype) && sc->dtype != AICC_DTYPE_I32)
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "scale of dtype %s", aicc_dtype_text(sc->dtype));
  q_layout L;
  int64_t axis = aicc_node_attr_int(c->node, "axis", 1);
  int64_t block = c->opset >= 21 ? aicc_node_attr_int(c->node, "block_size", 0) : 0;
  AICC_TRY(q_wrap(c, q_layout_make(x, sc, zp, axis, block, &L)));
  bool saturate = aicc_node_attr_int(c->node, "saturate", 1) != 0;
  int64_t prec = aicc_node_attr_int(c->node, "precision", 0);
  aicc_dtype div_t = prec ? (aicc_dtype)prec : promote(x->dtype, sc->dtype);
  if (!aicc_dtype_valid(div_t) || !aicc_dtype_is_float(div_t))
    return aicc_kernel_error(c, AICC_ERR_INVALID, "precision %lld is not a float dtype", (long long)prec);
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, ot, x->rank, x->dims, &y));
  int64_t lo = 0, hi = 0;
  bool integer = int_range(ot, &lo, &hi);
  bool f8 = is_f8(ot);
  /* Fast path: f32 -> 8-bit integers with f32 scales (the common case). */
  bool fast = x->dtype == AICC_DTYPE_F32 && sc->dtype == AICC_DTYPE_F32 && div_t == AICC_DTYPE_F32 &&
              (ot == AICC_DTYPE_U8 || ot == AICC_DTYPE_I8);
  const float *xf = x->data, *sf = sc->data;
  int64_t k = 0;
  for (int64_t o = 0; o < L.outer; o++)
    for (int64_t a = 0; a < L.D; a++)
      for (int64_t i = 0; i < L.inner; i++, k++) {
        int64_t si = q_index(&L, o, a, i);
        if (fast) {
          float q = xf[k] / sf[si];
          double v = rint(q) + (zp ? (double)aicc_tensor_get_i64(zp, si) : 0.0);
          v = v < lo ? lo : v > hi ? hi : v;
          if (ot == AICC_DTYPE_U8) ((uint8_t *)y->data)[k] = (uint8_t)v;
          else ((int8_t *)y->data)[k] = (int8_t)v;
          continue;
        }
        double q = round_to(div_t, round_to(div_t, q_get(x, k)) / round_to(div_t, q_get(sc, si)));
        if (integer) {
          double v = isnan(q) ? (double)lo : rint(q) + (zp ? (double)aicc_tensor_get_i64(zp, si) : 0.0);
          v = v < lo ? lo : v > hi ? hi : v;
          aicc_tensor_set_i64(y, k, (int64_t)v);
        } else if (f8) {
          /* float8: the zero point is required to be 0 and is not added */
          q_set_narrow(y, k, q, saturate);
        } else {
          double z = zp ? q_get(zp, si) : 0.0;
          q_set_narrow(y, k, round_to(div_t == AICC_DTYPE_F64 ? AICC_DTYPE_F64 : AICC_DTYPE_F32, q + z),
                       true);
        }
      }
  return NULL;
}

/* --- DequantizeLinear --- */

static aicc_dtype dequant_out_dtype(const aicc_infer_ctx *ic, const aicc_kernel_ctx *kc,
                                    aicc_dtype scale_dt) {
  const aicc_node *n = ic ? ic->node : kc->node;
  int64_t od = aicc_node_attr_int(n, "output_dtype", 0);
  return od ? (aicc_dtype)od : scale_dt;
}

static aicc_status dequantize_infer(aicc_infer_ctx *c) {
  if (!c->in[0] || !c->in[1]) return NULL;
  aicc_dtype dt = dequant_out_dtype(c, NULL, c->in[1]->dtype);
  aicc_infer_set(c, 0, dt, c->in[0]->rank, c->in[0]->dims);
  return NULL;
}

static aicc_status dequantize_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *x = c->in[0], *sc = c->in[1];
  const aicc_tensor *zp = c->n_in > 2 ? c->in[2] : NULL;
  aicc_dtype ot = dequant_out_dtype(NULL, c, sc->dtype);
  if (!aicc_dtype_valid(ot) || !aicc_dtype_is_float(ot))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "cannot dequantize to %s", aicc_dtype_text(ot));
  if (!aicc_dtype_is_float(sc->dtype))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "scale of dtype %s", aicc_dtype_text(sc->dtype));
  bool narrow = aicc_dtype_is_narrow_float(x->dtype);
  int64_t lo, hi;
  if (!narrow && !int_range(x->dtype, &lo, &hi))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "cannot dequantize %s", aicc_dtype_text(x->dtype));
  /* The zero point of float8 and float4 inputs is required to be zero and
   * is ignored (as the reference does). */
  bool use_zp = zp && !is_f8(x->dtype) && x->dtype != AICC_DTYPE_F4E2M1;
  if (use_zp && zp->dtype != x->dtype)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "zero point is %s, input is %s",
                             aicc_dtype_text(zp->dtype), aicc_dtype_text(x->dtype));
  q_layout L;
  int64_t axis = aicc_node_attr_int(c->node, "axis", 1);
  int64_t block = c->opset >= 21 ? aicc_node_attr_int(c->node, "block_size", 0) : 0;
  AICC_TRY(q_wrap(c, q_layout_make(x, sc, zp, axis, block, &L)));
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, ot, x->rank, x->dims, &y));
  /* x.astype(f32) - zp, times the scale: f32 arithmetic unless an int32
   * operand widens it to double. */
  bool wide = x->dtype == AICC_DTYPE_I32 || sc->dtype == AICC_DTYPE_F64;
  bool fast = ot == AICC_DTYPE_F32 && sc->dtype == AICC_DTYPE_F32 &&
              (x->dtype == AICC_DTYPE_U8 || x->dtype == AICC_DTYPE_I8);
  int64_t k = 0;
  for (int64_t o = 0; o < L.outer; o++)
    for (int64_t a = 0; a < L.D; a++)
      for (int64_t i = 0; i < L.inner; i++, k++) {
        int64_t si = q_index(&L, o, a, i);
        if (fast) {
          float xv = x->dtype == AICC_DTYPE_U8 ? ((const uint8_t *)x->data)[k]
                                               : ((const int8_t *)x->data)[k];
          float z = use_zp ? (float)aicc_tensor_get_i64(zp, si) : 0.0f;
          ((float *)y->data)[k] = (xv - z) * ((const float *)sc->data)[si];
          continue;
        }
        double xv = (float)q_get(x, k);
        double dx = use_zp ? xv - q_get(zp, si) : xv;
        double v = dx * q_get(sc, si);
        if (!wide) v = (float)((float)dx * (float)q_get(sc, si));
        aicc_tensor_set_f64(y, k, v);
      }
  return NULL;
}

/* --- DynamicQuantizeLinear --- */

static aicc_status dyn_quant_infer(aicc_infer_ctx *c) {
  if (c->in[0]) aicc_infer_set(c, 0, AICC_DTYPE_U8, c->in[0]->rank, c->in[0]->dims);
  aicc_infer_set(c, 1, AICC_DTYPE_F32, 0, NULL);
  aicc_infer_set(c, 2, AICC_DTYPE_U8, 0, NULL);
  return NULL;
}

static aicc_status dyn_quant_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *x = c->in[0];
  if (x->dtype != AICC_DTYPE_F32)
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "input must be f32, got %s",
                             aicc_dtype_text(x->dtype));
  int64_t n = aicc_tensor_numel(x);
  const float *xf = x->data;
  /* The range always includes 0 so that 0 is exactly representable. */
  float mx = 0, mn = 0;
  for (int64_t i = 0; i < n; i++) {
    if (xf[i] > mx) mx = xf[i];
    if (xf[i] < mn) mn = xf[i];
  }
  float scale = (mx == mn ? 1.0f : mx - mn) / 255.0f;
  float zpf = 0.0f - mn / scale;
  zpf = zpf < 0 ? 0 : zpf > 255 ? 255 : zpf;
  float zpi = rintf(zpf);
  aicc_tensor *y, *ys, *yz;
  AICC_TRY(aicc_kernel_output(c, 0, AICC_DTYPE_U8, x->rank, x->dims, &y));
  AICC_TRY(aicc_kernel_output(c, 1, AICC_DTYPE_F32, 0, NULL, &ys));
  AICC_TRY(aicc_kernel_output(c, 2, AICC_DTYPE_U8, 0, NULL, &yz));
  for (int64_t i = 0; i < n; i++) {
    float v = rintf(xf[i] / scale) + zpi;
    v = v < 0 ? 0 : v > 255 ? 255 : v;
    ((uint8_t *)y->data)[i] = (uint8_t)v;
  }
  ((float *)ys->data)[0] = scale;
  ((uint8_t *)yz->data)[0] = (uint8_t)zpi;
  return NULL;
}

/* --- QLinearMatMul --- */

static aicc_status qmatmul_infer(aicc_infer_ctx *c) {
  const aicc_type *a = c->in[0], *b = c->in[3];
  aicc_dtype dt = c->in[7] ? c->in[7]->dtype : a ? a->dtype : AICC_DTYPE_UNDEFINED;
  if (!aicc_infer_has_rank(c, 0) || !aicc_infer_has_rank(c, 3) || a->rank < 1 || b->rank < 1) {
    aicc_infer_set(c, 0, dt, -1, NULL);
    return NULL;
  }
  /* MatMul shape rules: 1-D operands are promoted then the axis dropped. */
  int ra = a->rank, rb = b->rank;
  int rbatch = (ra > 2 ? ra - 2 : 0) > (rb > 2 ? rb - 2 : 0) ? ra - 2 : (rb > 2 ? rb - 2 : 0);
  aicc_dim out[AICC_MAX_RANK];
  int r = 0;
  for (int d = 0; d < rbatch; d++) {
    int da = d - (rbatch - (ra - 2)), db = d - (rbatch - (rb - 2));
    aicc_dim x = da >= 0 && ra > 2 ? a->dims[da] : aicc_dim_known(1);
    aicc_dim y = db >= 0 && rb > 2 ? b->dims[db] : aicc_dim_known(1);
    if (aicc_dim_is_known(x) && x.size == 1) out[r++] = y;
    else if (aicc_dim_is_known(y) && y.size == 1) out[r++] = x;
    else if (aicc_dim_is_known(x)) out[r++] = x;
    else out[r++] = y;
  }
  if (ra >= 2) out[r++] = a->dims[ra - 2];
  if (rb >= 2) out[r++] = b->dims[rb - 1];
  aicc_infer_set(c, 0, dt, r, out);
  return NULL;
}

/* Scale/zero-point entry for a row (A side) or column (B side): a scalar,
 * or one value per row/column. */
static aicc_status qmm_param(const aicc_tensor *t, int64_t n, const char *what) {
  if (!t) return NULL;
  int64_t k = aicc_tensor_numel(t);
  if (k != 1 && k != n)
    return aicc_errorf(AICC_ERR_SHAPE, "%s has %lld values, expected 1 or %lld", what,
                       (long long)k, (long long)n);
  return NULL;
}

static aicc_status qmatmul_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *a = c->in[0], *as = c->in[1], *az = c->in[2];
  const aicc_tensor *b = c->in[3], *bs = c->in[4], *bz = c->in[5];
  const aicc_tensor *ys = c->in[6], *yz = c->in[7];
  if (a->rank < 1 || b->rank < 1 || a->rank > AICC_MAX_RANK - 1 || b->rank > AICC_MAX_RANK - 1)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "operands must have rank >= 1");
  aicc_dtype ot = yz ? yz->dtype : a->dtype;
  int64_t lo, hi;
  if (!int_range(ot, &lo, &hi) || ot == AICC_DTYPE_I32 || !aicc_dtype_is_int(a->dtype) ||
      !aicc_dtype_is_int(b->dtype))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "QLinearMatMul on %s x %s -> %s",
                             aicc_dtype_text(a->dtype), aicc_dtype_text(b->dtype), aicc_dtype_text(ot));
  /* Promote 1-D operands as MatMul does. */
  int64_t ad[AICC_MAX_RANK], bd[AICC_MAX_RANK];
  int ra = a->rank, rb = b->rank;
  memcpy(ad, a->dims, sizeof(int64_t) * (size_t)ra);
  memcpy(bd, b->dims, sizeof(int64_t) * (size_t)rb);
  if (ra == 1) { ad[1] = ad[0]; ad[0] = 1; ra = 2; }
  if (rb == 1) { bd[1] = 1; rb = 2; }
  int64_t M = ad[ra - 2], K = ad[ra - 1], N = bd[rb - 1];
  if (bd[rb - 2] != K)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "inner dims differ: %lld vs %lld", (long long)K,
                             (long long)bd[rb - 2]);
  AICC_TRY(q_wrap(c, qmm_param(as, M, "a_scale")));
  AICC_TRY(q_wrap(c, qmm_param(az, M, "a_zero_point")));
  AICC_TRY(q_wrap(c, qmm_param(bs, N, "b_scale")));
  AICC_TRY(q_wrap(c, qmm_param(bz, N, "b_zero_point")));
  AICC_TRY(q_wrap(c, qmm_param(ys, 1, "y_scale")));
  AICC_TRY(q_wrap(c, qmm_param(yz, 1, "y_zero_point")));
  /* Batch broadcast. */
  int nb = (ra > rb ? ra : rb) - 2;
  int64_t batch[AICC_MAX_RANK], sa[AICC_MAX_RANK], sb[AICC_MAX_RANK], nbatch = 1;
  {
    int64_t stride_a = M * K, stride_b = K * N;
    for (int d = nb - 1; d >= 0; d--) {
      int da = d - (nb - (ra - 2)), db = d - (nb - (rb - 2));
      int64_t xa = da >= 0 ? ad[da] : 1, xb = db >= 0 ? bd[db] : 1;
      if (xa != xb && xa != 1 && xb != 1)
        return aicc_kernel_error(c, AICC_ERR_SHAPE, "batch dims cannot broadcast");
      batch[d] = xa > xb ? xa : xb;
      sa[d] = xa == 1 ? 0 : stride_a;
      sb[d] = xb == 1 ? 0 : stride_b;
      stride_a *= xa;
      stride_b *= xb;
      nbatch *= batch[d];
    }
  }
  int64_t od[AICC_MAX_RANK];
  int r = 0;
  for (int d = 0; d < nb; d++) od[r++] = batch[d];
  if (a->rank >= 2) od[r++] = M;
  if (b->rank >= 2) od[r++] = N;
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, ot, r, od, &y));
  /* Integer operands minus zero points, as int32. */
  int32_t *A = malloc(sizeof *A * (size_t)(aicc_tensor_numel(a) + 1));
  int32_t *B = malloc(sizeof *B * (size_t)(aicc_tensor_numel(b) + 1));
  double *mult = malloc(sizeof *mult * (size_t)(M * N + 1));
  if (!A || !B || !mult) {
    free(A);
    free(B);
    free(mult);
    return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  }
  int64_t na = aicc_tensor_numel(a), nbn = aicc_tensor_numel(b);
  for (int64_t i = 0; i < na; i++) {
    int64_t row = (i / K) % M;
    A[i] = (int32_t)(aicc_tensor_get_i64(a, i) -
                     (az ? aicc_tensor_get_i64(az, aicc_tensor_numel(az) == 1 ? 0 : row) : 0));
  }
  for (int64_t i = 0; i < nbn; i++) {
    int64_t col = i % N;
    B[i] = (int32_t)(aicc_tensor_get_i64(b, i) -
                     (bz ? aicc_tensor_get_i64(bz, aicc_tensor_numel(bz) == 1 ? 0 : col) : 0));
  }
  /* a_scale * b_scale / y_scale in the scales' precision, then applied to
   * the int32 accumulator in double (numpy: int32 * float -> float64). */
  aicc_dtype st = promote(promote(as->dtype, bs->dtype), ys->dtype);
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) {
      double s1 = q_get(as, aicc_tensor_numel(as) == 1 ? 0 : i);
      double s2 = q_get(bs, aicc_tensor_numel(bs) == 1 ? 0 : j);
      mult[i * N + j] = round_to(st, round_to(st, s1 * s2) / q_get(ys, 0));
    }
  double zy = yz ? (double)aicc_tensor_get_i64(yz, 0) : 0.0;
  int64_t idx[AICC_MAX_RANK] = {0};
  for (int64_t bi = 0; bi < nbatch; bi++) {
    int64_t oa = 0, ob = 0;
    for (int d = 0; d < nb; d++) {
      oa += idx[d] * sa[d];
      ob += idx[d] * sb[d];
    }
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) {
        int64_t acc = 0;
        for (int64_t k = 0; k < K; k++) acc += (int64_t)A[oa + i * K + k] * B[ob + k * N + j];
        double v = rint((double)(int32_t)acc * mult[i * N + j] + zy);
        v = v < lo ? lo : v > hi ? hi : v;
        aicc_tensor_set_i64(y, (bi * M + i) * N + j, (int64_t)v);
      }
    for (int d = nb - 1; d >= 0; d--) {
      if (++idx[d] < batch[d]) break;
      idx[d] = 0;
    }
  }
  free(A);
  free(B);
  free(mult);
  return NULL;
}

/* --- the table --- */

static const aicc_attr_spec quant_attrs[] = {
    AICC_A_INT("axis"), AICC_A_INT("saturate"), AICC_A_INT("block_size"),
    AICC_A_INT("output_dtype"), AICC_A_INT("precision"), AICC_A_END};
static const aicc_attr_spec dequant_attrs[] = {AICC_A_INT("axis"), AICC_A_INT("block_size"),
                                               AICC_A_INT("output_dtype"), AICC_A_END};

static const aicc_op ops[] = {
  /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
  {"QuantizeLinear", "", 10, 0, 2, 3, 1, 1, quant_attrs, quantize_infer, quantize_kernel},
  {"DequantizeLinear", "", 10, 0, 2, 3, 1, 1, dequant_attrs, dequantize_infer, dequantize_kernel},
  {"DynamicQuantizeLinear", "", 11, 0, 1, 1, 3, 3, NULL, dyn_quant_infer, dyn_quant_kernel},
  {"QLinearMatMul", "", 10, 0, 8, 8, 1, 1, NULL, qmatmul_infer, qmatmul_kernel},
};
const aicc_op_family aicc_family_quant = {"quant", ops, sizeof ops / sizeof ops[0]};
