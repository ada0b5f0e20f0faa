/* The elementwise engine (see util_ewise.h): typed element access with the
 * exact narrow-float conversions of ir/tensor_float.h, and broadcasting
 * drivers that walk rows (last dim innermost) so fast paths see runs. */
#include "ops/util_ewise.h"

#include <math.h>
#include <string.h>

aicc_ew_cls aicc_ew_cls_of(aicc_dtype dt) {
  if (aicc_dtype_is_float(dt)) return AICC_EW_F;
  const aicc_dtype_info *info = aicc_dtype_get(dt);
  if (info && info->kind == AICC_DK_UINT) return AICC_EW_U;
  return AICC_EW_I;
}

bool aicc_ew_is_numeric(aicc_dtype dt) {
  const aicc_dtype_info *info = aicc_dtype_get(dt);
  if (!info) return false;
  return info->kind == AICC_DK_FLOAT || info->kind == AICC_DK_INT ||
         info->kind == AICC_DK_UINT || info->kind == AICC_DK_BOOL;
}

static int dt_bits(aicc_dtype dt) {
  const aicc_dtype_info *info = aicc_dtype_get(dt);
  return info ? info->bits : 0;
}

double aicc_ew_load_f64(const aicc_tensor *t, int64_t i) {
  const void *p = t->data;
  switch (t->dtype) {
  case AICC_DTYPE_F32: return ((const float *)p)[i];
  case AICC_DTYPE_F64: return ((const double *)p)[i];
  case AICC_DTYPE_F16: return aicc_f16_to_f32(((const uint16_t *)p)[i]);
  case AICC_DTYPE_BF16: return aicc_bf16_to_f32(((const uint16_t *)p)[i]);
  case AICC_DTYPE_F8E4M3FN:
  case AICC_DTYPE_F8E4M3FNUZ:
  case AICC_DTYPE_F8E5M2:
  case AICC_DTYPE_F8E5M2FNUZ:
  case AICC_DTYPE_F8E8M0: return aicc_narrow_to_f32(t->dtype, ((const uint8_t *)p)[i]);
  case AICC_DTYPE_F4E2M1: return aicc_f4e2m1_to_f32((uint8_t)aicc_packed_get(p, 4, i));
  case AICC_DTYPE_F6E2M3: return aicc_f6e2m3_to_f32((uint8_t)aicc_packed_get(p, 6, i));
  case AICC_DTYPE_F6E3M2: return aicc_f6e3m2_to_f32((uint8_t)aicc_packed_get(p, 6, i));
  case AICC_DTYPE_U64: return (double)((const uint64_t *)p)[i];
  case AICC_DTYPE_C64: return ((const float *)p)[2 * i];
  case AICC_DTYPE_C128: return ((const double *)p)[2 * i];
  default: return (double)aicc_ew_load_i64(t, i);
  }
}

int64_t aicc_ew_load_i64(const aicc_tensor *t, int64_t i) {
  const void *p = t->data;
  switch (t->dtype) {
  case AICC_DTYPE_U8: return ((const uint8_t *)p)[i];
  case AICC_DTYPE_I8: return ((const int8_t *)p)[i];
  case AICC_DTYPE_U16: return ((const uint16_t *)p)[i];
  case AICC_DTYPE_I16: return ((const int16_t *)p)[i];
  case AICC_DTYPE_I32: return ((const int32_t *)p)[i];
  case AICC_DTYPE_I64: return ((const int64_t *)p)[i];
  case AICC_DTYPE_U32: return ((const uint32_t *)p)[i];
  case AICC_DTYPE_U64: return (int64_t)((const uint64_t *)p)[i];
  case AICC_DTYPE_BOOL: return ((const uint8_t *)p)[i] != 0;
  case AICC_DTYPE_U4: return aicc_packed_get(p, 4, i);
  case AICC_DTYPE_I4: return aicc_sign_extend(aicc_packed_get(p, 4, i), 4);
  case AICC_DTYPE_U2: return aicc_packed_get(p, 2, i);
  case AICC_DTYPE_I2: return aicc_sign_extend(aicc_packed_get(p, 2, i), 2);
  default:
    if (aicc_dtype_is_float(t->dtype) || t->dtype == AICC_DTYPE_C64 ||
        t->dtype == AICC_DTYPE_C128)
      return aicc_ew_f64_to_i64(aicc_ew_load_f64(t, i), false);
    return 0;
  }
}

aicc_ew_val aicc_ew_load(const aicc_tensor *t, int64_t i, aicc_ew_cls cls) {
  aicc_ew_val v;
  if (cls == AICC_EW_F) {
    v.f = aicc_ew_load_f64(t, i);
  } else if (aicc_dtype_is_float(t->dtype)) {
    v.i = aicc_ew_f64_to_i64(aicc_ew_load_f64(t, i), cls == AICC_EW_U);
  } else {
    v.i = aicc_ew_load_i64(t, i);
  }
  return v;
}

int64_t aicc_ew_f64_to_i64(double d, bool dst_unsigned) {
  if (isnan(d)) return INT64_MIN;
  d = trunc(d);
  if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) return (int64_t)d;
  if (dst_unsigned && d >= 0 && d < 18446744073709551616.0) return (int64_t)(uint64_t)d;
  return INT64_MIN;
}

void aicc_ew_store_i64(aicc_tensor *t, int64_t i, int64_t v) {
  void *p = t->data;
  switch (t->dtype) {
  case AICC_DTYPE_U8: ((uint8_t *)p)[i] = (uint8_t)v; return;
  case AICC_DTYPE_I8: ((int8_t *)p)[i] = (int8_t)v; return;
  case AICC_DTYPE_U16: ((uint16_t *)p)[i] = (uint16_t)v; return;
  case AICC_DTYPE_I16: ((int16_t *)p)[i] = (int16_t)v; return;
  case AICC_DTYPE_I32: ((int32_t *)p)[i] = (int32_t)v; return;
  case AICC_DTYPE_I64: ((int64_t *)p)[i] = v; return;
  case AICC_DTYPE_U32: ((uint32_t *)p)[i] = (uint32_t)v; return;
  case AICC_DTYPE_U64: ((uint64_t *)p)[i] = (uint64_t)v; return;
  case AICC_DTYPE_BOOL: ((uint8_t *)p)[i] = v != 0; return;
  case AICC_DTYPE_U4:
  case AICC_DTYPE_I4: aicc_packed_set(p, 4, i, (unsigned)v & 15); return;
  case AICC_DTYPE_U2:
  case AICC_DTYPE_I2: aicc_packed_set(p, 2, i, (unsigned)v & 3); return;
  default: aicc_ew_store_f64(t, i, (double)v); return;
  }
}

void aicc_ew_store_f64(aicc_tensor *t, int64_t i, double v) {
  void *p = t->data;
  switch (t->dtype) {
  case AICC_DTYPE_F32: ((float *)p)[i] = (float)v; return;
  case AICC_DTYPE_F64: ((double *)p)[i] = v; return;
  case AICC_DTYPE_F16: {
    /* exact in f32 (the usual case): the bit-twiddling path rounds once */
    float f = (float)v;
    ((uint16_t *)p)[i] = ((double)f == v || v != v) ? aicc_f32_to_f16(f) : aicc_f64_to_f16(v);
    return;
  }
  case AICC_DTYPE_BF16: ((uint16_t *)p)[i] = aicc_f64_to_bf16(v); return;
  case AICC_DTYPE_F8E4M3FN:
  case AICC_DTYPE_F8E4M3FNUZ:
  case AICC_DTYPE_F8E5M2:
  case AICC_DTYPE_F8E5M2FNUZ:
  case AICC_DTYPE_F8E8M0: ((uint8_t *)p)[i] = aicc_f64_to_narrow(t->dtype, v, true); return;
  case AICC_DTYPE_F4E2M1:
  case AICC_DTYPE_F6E2M3:
  case AICC_DTYPE_F6E3M2:
    aicc_packed_set(p, dt_bits(t->dtype), i, aicc_f64_to_narrow(t->dtype, v, true));
    return;
  case AICC_DTYPE_C64:
    ((float *)p)[2 * i] = (float)v;
    ((float *)p)[2 * i + 1] = 0;
    return;
  case AICC_DTYPE_C128:
    ((double *)p)[2 * i] = v;
    ((double *)p)[2 * i + 1] = 0;
    return;
  case AICC_DTYPE_BOOL: ((uint8_t *)p)[i] = v != 0; return;
  case AICC_DTYPE_STRING: return;
  default: aicc_ew_store_i64(t, i, aicc_ew_f64_to_i64(v, aicc_ew_cls_of(t->dtype) == AICC_EW_U));
  }
}

void aicc_ew_store(aicc_tensor *t, int64_t i, aicc_ew_val v, aicc_ew_cls cls) {
  if (cls == AICC_EW_F) aicc_ew_store_f64(t, i, v.f);
  else if (cls == AICC_EW_U && aicc_dtype_is_float(t->dtype)) aicc_ew_store_f64(t, i, (double)v.u);
  else aicc_ew_store_i64(t, i, v.i);
}

/* ---- dtype predicates for input checks ---- */

bool aicc_ew_dt_float(aicc_dtype dt) {
  return dt == AICC_DTYPE_F32 || dt == AICC_DTYPE_F64 || dt == AICC_DTYPE_F16 ||
         dt == AICC_DTYPE_BF16;
}
bool aicc_ew_dt_int(aicc_dtype dt) {
  return aicc_dtype_is_int(dt) && dt_bits(dt) >= 8;
}
bool aicc_ew_dt_number(aicc_dtype dt) { return aicc_ew_dt_float(dt) || aicc_ew_dt_int(dt); }
bool aicc_ew_dt_signed(aicc_dtype dt) {
  return aicc_ew_dt_float(dt) || (aicc_ew_dt_int(dt) && aicc_dtype_is_signed_int(dt));
}
bool aicc_ew_dt_bool(aicc_dtype dt) { return dt == AICC_DTYPE_BOOL; }

aicc_status aicc_ew_check_input(const aicc_kernel_ctx *c, int i, bool (*ok)(aicc_dtype)) {
  if (i >= c->n_in || !c->in[i])
    return aicc_kernel_error(c, AICC_ERR_INVALID, "input %d is missing", i);
  const aicc_tensor *t = c->in[i];
  if (t->kind != AICC_KIND_TENSOR)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "input %d is not a tensor", i);
  if (ok && !ok(t->dtype))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "input %d: dtype %s not supported",
                             i, aicc_dtype_text(t->dtype));
  return NULL;
}

/* ---- drivers ---- */

aicc_status aicc_ew_bcast_dims(const aicc_kernel_ctx *c, int n, const aicc_tensor *const *ts,
                               int64_t *dims, int *rank) {
  const int64_t *d[8];
  int r[8];
  if (n > 8) return aicc_kernel_error(c, AICC_ERR_INTERNAL, "too many broadcast operands");
  for (int k = 0; k < n; k++) {
    d[k] = ts[k]->dims;
    r[k] = ts[k]->rank;
  }
  aicc_status s = aicc_broadcast_dims(n, d, r, dims, rank);
  if (s) {
    char buf[256];
    return aicc_status_wrap(s, "%s", aicc_node_describe(c->node, buf, sizeof buf));
  }
  return NULL;
}

static aicc_status new_tensor(const aicc_kernel_ctx *c, aicc_dtype dt, int rank,
                              const int64_t *dims, aicc_tensor **out) {
  aicc_status s = aicc_tensor_create(dt, rank, dims, out);
  if (s) {
    char buf[256];
    return aicc_status_wrap(s, "%s", aicc_node_describe(c->node, buf, sizeof buf));
  }
  return NULL;
}

aicc_status aicc_ew_unary(const aicc_kernel_ctx *c, const aicc_tensor *x, aicc_ew_cls cls,
                          aicc_dtype out_dt, aicc_ew_cls out_cls, aicc_ew_unop op,
                          aicc_ew_f32_unop f32, const void *ud, aicc_tensor **out) {
  aicc_tensor *y = NULL;
  AICC_TRY(new_tensor(c, out_dt, x->rank, x->dims, &y));
  int64_t n = aicc_tensor_numel(x);
  if (f32 && x->dtype == AICC_DTYPE_F32 && out_dt == AICC_DTYPE_F32) {
    f32((const float *)x->data, (float *)y->data, n, ud);
  } else {
    for (int64_t i = 0; i < n; i++)
      aicc_ew_store(y, i, op(aicc_ew_load(x, i, cls), cls, ud), out_cls);
  }
  *out = y;
  return NULL;
}

aicc_status aicc_ew_binary(const aicc_kernel_ctx *c, const aicc_tensor *a, const aicc_tensor *b,
                           aicc_ew_cls cls, aicc_dtype out_dt, aicc_ew_cls out_cls,
                           aicc_ew_binop op, aicc_ew_f32_binop f32, const void *ud,
                           aicc_tensor **out) {
  const aicc_tensor *ts[2] = {a, b};
  int64_t dims[AICC_MAX_RANK];
  int rank;
  AICC_TRY(aicc_ew_bcast_dims(c, 2, ts, dims, &rank));
  aicc_tensor *y = NULL;
  AICC_TRY(new_tensor(c, out_dt, rank, dims, &y));
  int64_t n = aicc_tensor_numel(y);
  *out = y;
  if (n == 0) return NULL;
  bool fast = f32 && a->dtype == AICC_DTYPE_F32 && b->dtype == AICC_DTYPE_F32 &&
              out_dt == AICC_DTYPE_F32;
  const float *fa = a->data, *fb = b->data;
  float *fy = y->data;
  int64_t na = aicc_tensor_numel(a), nb = aicc_tensor_numel(b);
  if (fast && (na == n || na == 1) && (nb == n || nb == 1)) {
    /* same shape, or a scalar operand: one run */
    f32(fa, na == 1 ? 0 : 1, fb, nb == 1 ? 0 : 1, fy, n);
    return NULL;
  }
  /* Walk rows of the last output dim; an operand's stride along it is 0 or 1. */
  int64_t one = 1;
  const int64_t *odims = rank ? dims : &one;
  int orank = rank ? rank : 1;
  int64_t sa[AICC_MAX_RANK], sb[AICC_MAX_RANK];
  aicc_broadcast_strides(a->dims, a->rank, odims, orank, sa);
  aicc_broadcast_strides(b->dims, b->rank, odims, orank, sb);
  if (rank == 0) sa[0] = sb[0] = 0;
  int64_t inner = odims[orank - 1], ia = sa[orank - 1], ib = sb[orank - 1];
  aicc_iter it;
  aicc_iter_init(&it, odims, orank - 1);
  aicc_iter_add(&it, sa);
  aicc_iter_add(&it, sb);
  int64_t rows = n / inner;
  for (int64_t r = 0; r < rows; r++, aicc_iter_next(&it)) {
    int64_t oa = it.off[0], ob = it.off[1], oy = r * inner;
    if (fast) {
      f32(fa + oa, ia, fb + ob, ib, fy + oy, inner);
      continue;
    }
    for (int64_t k = 0; k < inner; k++)
      aicc_ew_store(y, oy + k,
                    op(aicc_ew_load(a, oa + k * ia, cls), aicc_ew_load(b, ob + k * ib, cls),
                       cls, ud),
                    out_cls);
  }
  return NULL;
}
