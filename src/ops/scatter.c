/* Scatter ops: Scatter (deprecated alias of ScatterElements without
 * reduction), ScatterElements and ScatterND, with the none/add/mul/max/min
 * reductions. The output is a copy of data with updates written in index
 * order, so duplicate indices behave as the reference (last write wins). */
#include "ops/util_elem.h"

#include <math.h>
#include <string.h>

typedef enum reduction { RED_NONE, RED_ADD, RED_MUL, RED_MAX, RED_MIN } reduction;

static bool reduction_of(const aicc_node *n, reduction *r) {
  const char *s = aicc_node_attr_string(n, "reduction", "none");
  if (strcmp(s, "none") == 0)
    *r = RED_NONE;
  else if (strcmp(s, "add") == 0)
    *r = RED_ADD;
  else if (strcmp(s, "mul") == 0)
    *r = RED_MUL;
  else if (strcmp(s, "max") == 0)
    *r = RED_MAX;
  else if (strcmp(s, "min") == 0)
    *r = RED_MIN;
  else
    return false;
  return true;
}

/* y[yi] = y[yi] (op) u[ui]. Floats combine in double (exact for the
 * narrower formats before rounding back); integers in 64-bit two's
 * complement, unsigned ones compared as unsigned. */
static aicc_status combine(reduction red, size_t esz, aicc_tensor *y, int64_t yi,
                           const aicc_tensor *u, int64_t ui) {
  if (red == RED_NONE) return aicc_elem_copy1(esz, y, yi, u, ui);
  if (aicc_dtype_is_float(y->dtype)) {
    double a = aicc_tensor_get_f64(y, yi), b = aicc_tensor_get_f64(u, ui), r;
    switch (red) {
    case RED_ADD: r = a + b; break;
    case RED_MUL: r = a * b; break;
    case RED_MAX: r = isnan(a) || isnan(b) ? NAN : a > b ? a : b; break;
    default: r = isnan(a) || isnan(b) ? NAN : a < b ? a : b; break;
    }
    aicc_tensor_set_f64(y, yi, r);
    return NULL;
  }
  const aicc_dtype_info *info = aicc_dtype_get(y->dtype);
  if (!info ||
      !(info->kind == AICC_DK_INT || info->kind == AICC_DK_UINT || info->kind == AICC_DK_BOOL))
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "reduction on %s", aicc_dtype_text(y->dtype));
  uint64_t a = (uint64_t)aicc_tensor_get_i64(y, yi), b = (uint64_t)aicc_tensor_get_i64(u, ui), r;
  bool is_signed = info->kind == AICC_DK_INT;
  bool less = is_signed ? (int64_t)a < (int64_t)b : a < b;
  switch (red) {
  case RED_ADD: r = info->kind == AICC_DK_BOOL ? (a || b) : a + b; break;
  case RED_MUL: r = a * b; break;
  case RED_MAX: r = less ? b : a; break;
  default: r = less ? a : b; break;
  }
  aicc_tensor_set_i64(y, yi, (int64_t)r);
  return NULL;
}

/* ---- Scatter, ScatterElements ---- */

static aicc_status scatter_el_kernel(aicc_kernel_ctx *c) {
  for (int i = 0; i < 3; i++) AICC_TRY(aicc_kernel_need_tensor(c, i));
  const aicc_tensor *x = c->in[0], *ind = c->in[1], *upd = c->in[2];
  reduction red = RED_NONE;
  if (!reduction_of(c->node, &red))
    return aicc_kernel_error(c, AICC_ERR_INVALID, "unknown reduction");
  if (!aicc_dtype_is_int(ind->dtype))
    return aicc_kernel_error(c, AICC_ERR_INVALID, "indices must be integers");
  if (x->rank != ind->rank || ind->rank != upd->rank || upd->dtype != x->dtype)
    return aicc_kernel_error(c, AICC_ERR_SHAPE,
                             "data, indices and updates must agree in rank/dtype");
  for (int d = 0; d < ind->rank; d++)
    if (ind->dims[d] != upd->dims[d])
      return aicc_kernel_error(c, AICC_ERR_SHAPE, "indices and updates differ in shape");
  int64_t axis;
  AICC_TRY(aicc_kernel_wrap(
      c, aicc_axis_norm_ranked(aicc_node_attr_int(c->node, "axis", 0), x->rank, &axis)));
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, x->rank, x->dims, &y));
  AICC_TRY(aicc_elem_copy(y, 0, x, 0, aicc_tensor_numel(x)));
  int64_t n = aicc_tensor_numel(ind);
  if (n == 0) return NULL;
  int64_t st[AICC_MAX_RANK], base[AICC_MAX_RANK];
  aicc_strides(x->dims, x->rank, st);
  memcpy(base, st, sizeof st);
  base[axis] = 0;
  for (int d = 0; d < x->rank; d++)
    if (d != axis && ind->dims[d] > x->dims[d])
      return aicc_kernel_error(c, AICC_ERR_SHAPE, "indices dim %d exceeds data", d);
  aicc_iter it;
  aicc_iter_init(&it, ind->dims, ind->rank);
  aicc_iter_add(&it, base);
  size_t esz = aicc_elem_bytes(x->dtype);
  int64_t dim = x->dims[axis];
  for (int64_t i = 0; i < n; i++) {
    int64_t v = aicc_tensor_get_i64(ind, i);
    if (!aicc_index_norm(v, dim, &v))
      return aicc_kernel_error(c, AICC_ERR_INVALID, "index %lld out of range", (long long)v);
    AICC_TRY(aicc_kernel_wrap(c, combine(red, esz, y, it.off[0] + v * st[axis], upd, i)));
    aicc_iter_next(&it);
  }
  return NULL;
}

/* ---- ScatterND ---- */

static aicc_status scatter_nd_kernel(aicc_kernel_ctx *c) {
  for (int i = 0; i < 3; i++) AICC_TRY(aicc_kernel_need_tensor(c, i));
  const aicc_tensor *x = c->in[0], *ind = c->in[1], *upd = c->in[2];
  reduction red = RED_NONE;
  if (!reduction_of(c->node, &red))
    return aicc_kernel_error(c, AICC_ERR_INVALID, "unknown reduction");
  if (!aicc_dtype_is_int(ind->dtype) || ind->rank < 1)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "indices must be integers of rank >= 1");
  int64_t k = ind->dims[ind->rank - 1];
  if (k < 1 || k > x->rank) return aicc_kernel_error(c, AICC_ERR_SHAPE, "bad index tuple length");
  /* updates shape = indices.shape[:-1] + data.shape[k:] */
  int ur = ind->rank - 1 + x->rank - (int)k;
  bool ok = upd->rank == ur && upd->dtype == x->dtype;
  for (int d = 0; ok && d < ind->rank - 1; d++) ok = upd->dims[d] == ind->dims[d];
  for (int d = (int)k; ok && d < x->rank; d++) ok = upd->dims[ind->rank - 1 + d - k] == x->dims[d];
  if (!ok) return aicc_kernel_error(c, AICC_ERR_SHAPE, "updates shape does not match");
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, x->rank, x->dims, &y));
  AICC_TRY(aicc_elem_copy(y, 0, x, 0, aicc_tensor_numel(x)));
  int64_t st[AICC_MAX_RANK];
  aicc_strides(x->dims, x->rank, st);
  int64_t tuples = aicc_dims_numel(ind->dims, ind->rank - 1);
  int64_t slice = aicc_dims_numel(x->dims + k, x->rank - (int)k);
  size_t esz = aicc_elem_bytes(x->dtype);
  for (int64_t t = 0; t < tuples; t++) {
    int64_t off = 0;
    for (int64_t e = 0; e < k; e++) {
      int64_t v = aicc_tensor_get_i64(ind, t * k + e);
      if (!aicc_index_norm(v, x->dims[e], &v))
        return aicc_kernel_error(c, AICC_ERR_INVALID, "index %lld out of range", (long long)v);
      off += v * st[e];
    }
    if (red == RED_NONE) {
      AICC_TRY(aicc_elem_copy(y, off, upd, t * slice, slice));
    } else {
      for (int64_t j = 0; j < slice; j++)
        AICC_TRY(aicc_kernel_wrap(c, combine(red, esz, y, off + j, upd, t * slice + j)));
    }
  }
  return NULL;
}

/* ---- table ---- */

static const aicc_attr_spec scatter_attrs[] = {AICC_A_INT("axis"), AICC_A_END};
static const aicc_attr_spec scatter_el_attrs[] = {AICC_A_INT("axis"), AICC_A_STRING("reduction"),
                                                  AICC_A_END};
static const aicc_attr_spec scatter_nd_attrs[] = {AICC_A_STRING("reduction"), AICC_A_END};

static const aicc_op ops[] = {
    /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
    {"Scatter", "", 9, 10, 3, 3, 1, 1, scatter_attrs, aicc_infer_same_as_input, scatter_el_kernel},
    {"ScatterElements", "", 11, 0, 3, 3, 1, 1, scatter_el_attrs, aicc_infer_same_as_input,
     scatter_el_kernel},
    {"ScatterND", "", 11, 0, 3, 3, 1, 1, scatter_nd_attrs, aicc_infer_same_as_input,
     scatter_nd_kernel},
};
const aicc_op_family aicc_family_scatter = {"scatter", ops, sizeof ops / sizeof ops[0]};
