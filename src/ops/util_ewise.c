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

aicc_ew_val aicc_ew_load(const aicc_tensor *t, int64_t i, aicc_ew_cls cls) {
  aicc_ew_val v;
  if (cls == AICC_EW_F) {
    v.f = aicc_tensor_get_f64(t, i);
  } else if (aicc_dtype_is_float(t->dtype)) {
    v.i = aicc_f64_to_i64_wrap(aicc_tensor_get_f64(t, i), cls == AICC_EW_U);
  } else {
    v.i = aicc_tensor_get_i64(t, i);
  }
  return v;
}

void aicc_ew_store(aicc_tensor *t, int64_t i, aicc_ew_val v, aicc_ew_cls cls) {
  if (cls == AICC_EW_F) aicc_tensor_set_f64(t, i, v.f);
  else if (cls == AICC_EW_U && aicc_dtype_is_float(t->dtype)) aicc_tensor_set_f64(t, i, (double)v.u);
  else aicc_tensor_set_i64(t, i, v.i);
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
