/* Ops that select elements by index or by predicate: Gather, GatherElements,
 * GatherND, OneHot, Compress, NonZero, Trilu, ReverseSequence, EyeLike.
 * Data-dependent output shapes are inferred from constant inputs. Sorting
 * ops (TopK, Unique) live in sort.c; scatters in scatter.c. */
#include "ops/util_elem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static aicc_status need_int(const aicc_kernel_ctx *c, int i) {
  AICC_TRY(aicc_kernel_need_tensor(c, i));
  if (!aicc_dtype_is_int(c->in[i]->dtype))
    return aicc_kernel_error(c, AICC_ERR_INVALID, "input %d must be integers, got %s", i,
                             aicc_dtype_text(c->in[i]->dtype));
  return NULL;
}

/* ---- Gather ---- */

static aicc_status gather_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = aicc_infer_in_dtype(c, 0);
  if (!aicc_infer_has_rank(c, 0) || !aicc_infer_has_rank(c, 1))
    return aicc_infer_set(c, 0, dt, -1, NULL), NULL;
  const aicc_type *x = c->in[0], *ind = c->in[1];
  int64_t axis;
  AICC_TRY(aicc_infer_wrap(
      c, aicc_axis_norm_ranked(aicc_node_attr_int(c->node, "axis", 0), x->rank, &axis)));
  int r = x->rank + ind->rank - 1;
  if (r > AICC_MAX_RANK) return aicc_infer_error(c, AICC_ERR_SHAPE, "output rank too large");
  aicc_dim out[AICC_MAX_RANK];
  int k = 0;
  for (int d = 0; d < axis; d++) out[k++] = x->dims[d];
  for (int d = 0; d < ind->rank; d++) out[k++] = ind->dims[d];
  for (int d = (int)axis + 1; d < x->rank; d++) out[k++] = x->dims[d];
  aicc_infer_set(c, 0, dt, r, out);
  return NULL;
}

static aicc_status gather_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  AICC_TRY(need_int(c, 1));
  const aicc_tensor *x = c->in[0], *ind = c->in[1];
  int64_t axis;
  AICC_TRY(aicc_kernel_wrap(
      c, aicc_axis_norm_ranked(aicc_node_attr_int(c->node, "axis", 0), x->rank, &axis)));
  int r = x->rank + ind->rank - 1;
  if (r > AICC_MAX_RANK) return aicc_kernel_error(c, AICC_ERR_SHAPE, "output rank too large");
  int64_t out[AICC_MAX_RANK];
  int k = 0;
  for (int d = 0; d < axis; d++) out[k++] = x->dims[d];
  for (int d = 0; d < ind->rank; d++) out[k++] = ind->dims[d];
  for (int d = (int)axis + 1; d < x->rank; d++) out[k++] = x->dims[d];
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, r, out, &y));
  int64_t ni = aicc_tensor_numel(ind), n = x->dims[axis];
  if (aicc_tensor_numel(y) == 0) return NULL;
  int64_t *map = malloc(sizeof(int64_t) * (size_t)ni);
  if (!map) return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  for (int64_t i = 0; i < ni; i++) {
    int64_t v = aicc_tensor_get_i64(ind, i);
    if (!aicc_index_norm(v, n, &map[i])) {
      free(map);
      return aicc_kernel_error(c, AICC_ERR_INVALID, "index %lld out of range [-%lld, %lld)",
                               (long long)v, (long long)n, (long long)n);
    }
  }
  /* View x as [outer, n, inner] and y as [outer, ni, inner]. */
  int64_t vin[3] = {aicc_dims_prod(x->dims, 0, (int)axis), n,
                    aicc_dims_prod(x->dims, (int)axis + 1, x->rank)};
  int64_t vout[3] = {vin[0], ni, vin[2]};
  const int64_t *maps[3] = {NULL, map, NULL};
  aicc_status s = aicc_elem_map_copy(y, vout, x, vin, 3, maps, NULL);
  free(map);
  return s;
}

/* ---- GatherElements ---- */

static aicc_status gather_el_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = aicc_infer_in_dtype(c, 0);
  if (!aicc_infer_has_rank(c, 1)) return aicc_infer_set(c, 0, dt, -1, NULL), NULL;
  aicc_infer_set(c, 0, dt, c->in[1]->rank, c->in[1]->dims);
  return NULL;
}

static aicc_status gather_el_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  AICC_TRY(need_int(c, 1));
  const aicc_tensor *x = c->in[0], *ind = c->in[1];
  if (x->rank != ind->rank)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "data and indices differ in rank");
  int64_t axis;
  AICC_TRY(aicc_kernel_wrap(
      c, aicc_axis_norm_ranked(aicc_node_attr_int(c->node, "axis", 0), x->rank, &axis)));
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, ind->rank, ind->dims, &y));
  int64_t n = aicc_tensor_numel(ind);
  if (n == 0) return NULL;
  int64_t st[AICC_MAX_RANK], base[AICC_MAX_RANK];
  aicc_strides(x->dims, x->rank, st);
  memcpy(base, st, sizeof st);
  base[axis] = 0;
  aicc_iter it;
  aicc_iter_init(&it, ind->dims, ind->rank);
  aicc_iter_add(&it, base);
  size_t esz = aicc_elem_bytes(x->dtype);
  for (int64_t i = 0; i < n; i++) {
    int64_t v = aicc_tensor_get_i64(ind, i), q;
    if (!aicc_index_norm(v, x->dims[axis], &q))
      return aicc_kernel_error(c, AICC_ERR_INVALID, "index %lld out of range", (long long)v);
    AICC_TRY(aicc_elem_copy1(esz, y, i, x, it.off[0] + q * st[axis]));
    aicc_iter_next(&it);
  }
  return NULL;
}

/* ---- GatherND ---- */

static aicc_status gather_nd_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = aicc_infer_in_dtype(c, 0);
  if (!aicc_infer_has_rank(c, 0) || !aicc_infer_has_rank(c, 1))
    return aicc_infer_set(c, 0, dt, -1, NULL), NULL;
  const aicc_type *x = c->in[0], *ind = c->in[1];
  int64_t b = aicc_node_attr_int(c->node, "batch_dims", 0);
  if (ind->rank < 1 || b < 0 || b >= ind->rank || b >= x->rank)
    return aicc_infer_error(c, AICC_ERR_SHAPE, "bad batch_dims or ranks");
  aicc_dim kd = ind->dims[ind->rank - 1];
  if (!aicc_dim_is_known(kd)) return aicc_infer_set(c, 0, dt, -1, NULL), NULL;
  int64_t k = kd.size;
  if (b + k > x->rank) return aicc_infer_error(c, AICC_ERR_SHAPE, "index tuple too long");
  int r = ind->rank - 1 + x->rank - (int)(b + k);
  aicc_dim out[AICC_MAX_RANK];
  int q = 0;
  for (int d = 0; d < ind->rank - 1; d++) out[q++] = ind->dims[d];
  for (int d = (int)(b + k); d < x->rank; d++) out[q++] = x->dims[d];
  aicc_infer_set(c, 0, dt, r, out);
  return NULL;
}

static aicc_status gather_nd_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  AICC_TRY(need_int(c, 1));
  const aicc_tensor *x = c->in[0], *ind = c->in[1];
  int64_t b = aicc_node_attr_int(c->node, "batch_dims", 0);
  if (ind->rank < 1 || b < 0 || b >= ind->rank || b >= x->rank)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "bad batch_dims or ranks");
  int64_t k = ind->dims[ind->rank - 1];
  if (k < 1 || b + k > x->rank)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "bad index tuple length");
  for (int d = 0; d < b; d++)
    if (x->dims[d] != ind->dims[d])
      return aicc_kernel_error(c, AICC_ERR_SHAPE, "batch dim %d differs", d);
  int r = ind->rank - 1 + x->rank - (int)(b + k);
  int64_t out[AICC_MAX_RANK];
  int q = 0;
  for (int d = 0; d < ind->rank - 1; d++) out[q++] = ind->dims[d];
  for (int d = (int)(b + k); d < x->rank; d++) out[q++] = x->dims[d];
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, r, out, &y));
  int64_t st[AICC_MAX_RANK];
  aicc_strides(x->dims, x->rank, st);
  int64_t batches = aicc_dims_prod(x->dims, 0, (int)b);
  int64_t per_batch = aicc_dims_prod(ind->dims, (int)b, ind->rank - 1); /* tuples per batch */
  int64_t slice = aicc_dims_prod(x->dims, (int)(b + k), x->rank);
  int64_t batch_stride = b > 0 ? st[b - 1] : 0;
  for (int64_t bi = 0, t = 0; bi < batches; bi++) {
    for (int64_t j = 0; j < per_batch; j++, t++) {
      int64_t off = bi * batch_stride;
      for (int64_t e = 0; e < k; e++) {
        int64_t v = aicc_tensor_get_i64(ind, t * k + e), w;
        if (!aicc_index_norm(v, x->dims[b + e], &w))
          return aicc_kernel_error(c, AICC_ERR_INVALID, "index %lld out of range", (long long)v);
        off += w * st[b + e];
      }
      AICC_TRY(aicc_elem_copy(y, t * slice, x, off, slice));
    }
  }
  return NULL;
}

/* ---- OneHot ---- */

/* Depth may be a float tensor; non-finite or huge values read as -1. */
static int64_t onehot_depth(const aicc_tensor *t) {
  if (!aicc_dtype_is_float(t->dtype)) return aicc_tensor_get_i64(t, 0);
  double d = aicc_tensor_get_f64(t, 0);
  return d >= 0 && d < 9e18 ? (int64_t)d : -1;
}

static aicc_status onehot_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = aicc_infer_in_dtype(c, 2);
  if (aicc_infer_unranked(c, dt)) return NULL;
  const aicc_type *ind = c->in[0];
  int r = ind->rank + 1;
  if (r > AICC_MAX_RANK) return aicc_infer_error(c, AICC_ERR_SHAPE, "output rank too large");
  int64_t axis;
  AICC_TRY(aicc_infer_wrap(c, aicc_axis_norm(aicc_node_attr_int(c->node, "axis", -1), r, &axis)));
  const aicc_tensor *dep = aicc_infer_cin(c, 1);
  aicc_dim out[AICC_MAX_RANK];
  for (int d = 0, j = 0; d < r; d++) {
    if (d == axis)
      out[d] = dep && aicc_tensor_numel(dep) == 1 && onehot_depth(dep) > 0
                   ? aicc_dim_known(onehot_depth(dep))
                   : aicc_dim_unknown();
    else
      out[d] = ind->dims[j++];
  }
  aicc_infer_set(c, 0, dt, r, out);
  return NULL;
}

static aicc_status onehot_kernel(aicc_kernel_ctx *c) {
  for (int i = 0; i < 3; i++) AICC_TRY(aicc_kernel_need_tensor(c, i));
  const aicc_tensor *ind = c->in[0], *dep = c->in[1], *val = c->in[2];
  if (aicc_tensor_numel(dep) != 1)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "depth must be a scalar");
  if (aicc_tensor_numel(val) != 2)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "values must hold 2 elements");
  int64_t depth = onehot_depth(dep);
  if (depth < 1) return aicc_kernel_error(c, AICC_ERR_SHAPE, "depth must be positive");
  int r = ind->rank + 1;
  if (r > AICC_MAX_RANK) return aicc_kernel_error(c, AICC_ERR_SHAPE, "output rank too large");
  int64_t axis;
  AICC_TRY(aicc_kernel_wrap(c, aicc_axis_norm(aicc_node_attr_int(c->node, "axis", -1), r, &axis)));
  int64_t out[AICC_MAX_RANK];
  for (int d = 0, j = 0; d < r; d++) out[d] = d == axis ? depth : ind->dims[j++];
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, val->dtype, r, out, &y));
  int64_t n = aicc_tensor_numel(y);
  size_t esz = aicc_elem_bytes(val->dtype);
  for (int64_t i = 0; i < n; i++) AICC_TRY(aicc_elem_copy1(esz, y, i, val, 0));
  /* Index i of `indices` = (outer o, inner q) around the inserted axis. */
  int64_t inner = aicc_dims_prod(ind->dims, (int)axis, ind->rank), ni = aicc_tensor_numel(ind);
  bool fl = aicc_dtype_is_float(ind->dtype);
  for (int64_t i = 0; i < ni; i++) {
    int64_t v;
    if (fl) {
      /* Float indices match only when integral (the reference compares). */
      double f = aicc_tensor_get_f64(ind, i);
      if (f != floor(f) || !(fabs(f) < 9e18)) continue;
      v = (int64_t)f;
    } else {
      v = aicc_tensor_get_i64(ind, i);
    }
    if (!aicc_index_norm(v, depth, &v)) continue; /* out of range: all "off" */
    int64_t o = i / inner, q = i % inner;
    AICC_TRY(aicc_elem_copy1(esz, y, (o * depth + v) * inner + q, val, 1));
  }
  return NULL;
}

/* ---- Compress ---- */

/* Number of selected slices: true entries of the condition within dim. */
static int64_t compress_count(const aicc_tensor *cond, int64_t dim) {
  int64_t n = aicc_tensor_numel(cond), k = 0;
  for (int64_t i = 0; i < n && i < dim; i++) k += aicc_tensor_get_i64(cond, i) != 0;
  return k;
}

static aicc_status compress_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = aicc_infer_in_dtype(c, 0);
  const aicc_attr *ax = aicc_node_attr(c->node, "axis");
  const aicc_tensor *cond = aicc_infer_cin(c, 1);
  if (!ax) {
    aicc_dim d = aicc_dim_unknown();
    if (cond && aicc_infer_has_rank(c, 0)) {
      aicc_dim n = aicc_dim_product(c->in[0]->dims, c->in[0]->rank);
      if (aicc_dim_is_known(n)) d = aicc_dim_known(compress_count(cond, n.size));
    }
    aicc_infer_set(c, 0, dt, 1, &d);
    return NULL;
  }
  if (aicc_infer_unranked(c, dt)) return NULL;
  const aicc_type *x = c->in[0];
  int64_t axis;
  AICC_TRY(aicc_infer_wrap(c, aicc_axis_norm_ranked(ax->i, x->rank, &axis)));
  aicc_dim out[AICC_MAX_RANK];
  memcpy(out, x->dims, sizeof(aicc_dim) * (size_t)x->rank);
  out[axis] = cond && aicc_dim_is_known(x->dims[axis])
                  ? aicc_dim_known(compress_count(cond, x->dims[axis].size))
                  : aicc_dim_unknown();
  aicc_infer_set(c, 0, dt, x->rank, out);
  return NULL;
}

static aicc_status compress_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  AICC_TRY(aicc_kernel_need_tensor(c, 1));
  const aicc_tensor *x = c->in[0], *cond = c->in[1];
  if (cond->rank != 1) return aicc_kernel_error(c, AICC_ERR_SHAPE, "condition must be 1-D");
  const aicc_attr *ax = aicc_node_attr(c->node, "axis");
  int64_t vin[3], vout[3];
  int r;
  int64_t out[AICC_MAX_RANK];
  if (!ax) {
    vin[0] = 1, vin[1] = aicc_tensor_numel(x), vin[2] = 1;
    out[0] = compress_count(cond, vin[1]);
    r = 1;
  } else {
    int64_t axis;
    AICC_TRY(aicc_kernel_wrap(c, aicc_axis_norm_ranked(ax->i, x->rank, &axis)));
    vin[0] = aicc_dims_prod(x->dims, 0, (int)axis), vin[1] = x->dims[axis];
    vin[2] = aicc_dims_prod(x->dims, (int)axis + 1, x->rank);
    r = x->rank;
    memcpy(out, x->dims, sizeof(int64_t) * (size_t)r);
    out[axis] = compress_count(cond, vin[1]);
  }
  int64_t k = compress_count(cond, vin[1]);
  vout[0] = vin[0], vout[1] = k, vout[2] = vin[2];
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, r, out, &y));
  if (aicc_tensor_numel(y) == 0) return NULL;
  int64_t *map = malloc(sizeof(int64_t) * (size_t)k);
  if (!map) return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  for (int64_t i = 0, j = 0; i < vin[1] && i < aicc_tensor_numel(cond); i++)
    if (aicc_tensor_get_i64(cond, i)) map[j++] = i;
  const int64_t *maps[3] = {NULL, map, NULL};
  aicc_status s = aicc_elem_map_copy(y, vout, x, vin, 3, maps, NULL);
  free(map);
  return s;
}

/* ---- NonZero ---- */

static bool elem_nonzero(const aicc_tensor *x, int64_t i) {
  if (aicc_dtype_is_float(x->dtype)) return aicc_tensor_get_f64(x, i) != 0.0;
  if (x->dtype == AICC_DTYPE_STRING) return ((char *const *)x->data)[i][0] != 0;
  return aicc_tensor_get_i64(x, i) != 0;
}

static int64_t nonzero_count(const aicc_tensor *x) {
  int64_t n = aicc_tensor_numel(x), k = 0;
  for (int64_t i = 0; i < n; i++) k += elem_nonzero(x, i);
  return k;
}

static aicc_status nonzero_infer(aicc_infer_ctx *c) {
  aicc_dim out[2] = {aicc_dim_unknown(), aicc_dim_unknown()};
  if (aicc_infer_has_rank(c, 0)) out[0] = aicc_dim_known(c->in[0]->rank);
  const aicc_tensor *x = aicc_infer_cin(c, 0);
  if (x) out[1] = aicc_dim_known(nonzero_count(x));
  aicc_infer_set(c, 0, AICC_DTYPE_I64, 2, out);
  return NULL;
}

static aicc_status nonzero_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  const aicc_tensor *x = c->in[0];
  /* A scalar has no coordinates: [0, nnz], as ONNX inference and the
   * reference give. */
  int r = x->rank;
  const int64_t *dims = x->dims;
  int64_t k = nonzero_count(x), out[2] = {r, k};
  if (r == 0) return aicc_kernel_output(c, 0, AICC_DTYPE_I64, 2, out, NULL);
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, AICC_DTYPE_I64, 2, out, &y));
  int64_t n = aicc_tensor_numel(x), idx[AICC_MAX_RANK] = {0};
  int64_t *p = y->data;
  for (int64_t i = 0, j = 0; i < n; i++) {
    if (elem_nonzero(x, i)) {
      for (int d = 0; d < r; d++) p[d * k + j] = idx[d];
      j++;
    }
    for (int d = r - 1; d >= 0; d--) {
      if (++idx[d] < dims[d]) break;
      idx[d] = 0;
    }
  }
  return NULL;
}

/* ---- Trilu ---- */

static aicc_status trilu_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  const aicc_tensor *x = c->in[0];
  if (x->rank < 2) return aicc_kernel_error(c, AICC_ERR_SHAPE, "input must have rank >= 2");
  int64_t k = 0;
  if (c->n_in > 1 && c->in[1]) AICC_TRY(aicc_kernel_scalar_i64(c, 1, &k));
  bool upper = aicc_node_attr_int(c->node, "upper", 1) != 0;
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, x->rank, x->dims, &y));
  int64_t rows = x->dims[x->rank - 2], cols = x->dims[x->rank - 1];
  /* Past +-(rows + cols) every k behaves alike; clamping avoids overflow. */
  int64_t lim = rows + cols + 1;
  k = k > lim ? lim : k < -lim ? -lim : k;
  int64_t mats = aicc_dims_prod(x->dims, 0, x->rank - 2);
  /* Row i keeps columns j with j - i >= k (upper) or j - i <= k (lower). */
  for (int64_t m = 0; m < mats; m++)
    for (int64_t i = 0; i < rows; i++) {
      int64_t lo = upper ? i + k : 0, hi = upper ? cols : i + k + 1;
      if (lo < 0) lo = 0;
      if (hi > cols) hi = cols;
      if (hi <= lo) continue;
      int64_t off = (m * rows + i) * cols + lo;
      AICC_TRY(aicc_elem_copy(y, off, x, off, hi - lo));
    }
  return NULL;
}

/* ---- ReverseSequence ---- */

static aicc_status revseq_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  AICC_TRY(need_int(c, 1));
  const aicc_tensor *x = c->in[0], *lens = c->in[1];
  int64_t ba = aicc_node_attr_int(c->node, "batch_axis", 1);
  int64_t ta = aicc_node_attr_int(c->node, "time_axis", 0);
  if (x->rank < 2 || !((ba == 0 && ta == 1) || (ba == 1 && ta == 0)))
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "batch_axis/time_axis must be 0 and 1, rank >= 2");
  int64_t batch = x->dims[ba], time = x->dims[ta];
  if (aicc_tensor_numel(lens) != batch)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "sequence_lens must have one entry per batch");
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, x->rank, x->dims, &y));
  int64_t n = aicc_tensor_numel(x);
  AICC_TRY(aicc_elem_copy(y, 0, x, 0, n));
  int64_t inner = aicc_dims_prod(x->dims, 2, x->rank);
  int64_t st_t = (ta == 0 ? batch : 1) * inner, st_b = (ba == 0 ? time : 1) * inner;
  for (int64_t b = 0; b < batch; b++) {
    int64_t len = aicc_tensor_get_i64(lens, b);
    if (len < 0 || len > time)
      return aicc_kernel_error(c, AICC_ERR_INVALID, "sequence length %lld out of range",
                               (long long)len);
    for (int64_t t = 0; t < len; t++)
      AICC_TRY(aicc_elem_copy(y, b * st_b + t * st_t, x, b * st_b + (len - 1 - t) * st_t, inner));
  }
  return NULL;
}

/* ---- EyeLike ---- */

static aicc_dtype eyelike_dtype(const aicc_node *n, aicc_dtype in) {
  int64_t dt = aicc_node_attr_int(n, "dtype", 0);
  return dt ? (aicc_dtype)dt : in;
}

static aicc_status eyelike_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = eyelike_dtype(c->node, aicc_infer_in_dtype(c, 0));
  if (!aicc_dtype_valid(dt) && dt != AICC_DTYPE_UNDEFINED)
    return aicc_infer_error(c, AICC_ERR_INVALID, "bad dtype %d", (int)dt);
  if (!aicc_infer_has_rank(c, 0)) {
    aicc_infer_set(c, 0, dt, 2, NULL);
    return NULL;
  }
  if (c->in[0]->rank != 2) return aicc_infer_error(c, AICC_ERR_SHAPE, "input must be 2-D");
  aicc_infer_set(c, 0, dt, 2, c->in[0]->dims);
  return NULL;
}

static aicc_status eyelike_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  const aicc_tensor *x = c->in[0];
  if (x->rank != 2) return aicc_kernel_error(c, AICC_ERR_SHAPE, "input must be 2-D");
  aicc_dtype dt = eyelike_dtype(c->node, x->dtype);
  if (!aicc_dtype_valid(dt) || dt == AICC_DTYPE_STRING)
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "unsupported dtype %d", (int)dt);
  int64_t k = aicc_node_attr_int(c->node, "k", 0);
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, dt, 2, x->dims, &y));
  for (int64_t i = 0; i < x->dims[0]; i++) {
    int64_t j = i + k;
    if (j >= 0 && j < x->dims[1]) aicc_tensor_set_f64(y, i * x->dims[1] + j, 1.0);
  }
  return NULL;
}

/* ---- table ---- */

static const aicc_attr_spec axis_attrs[] = {AICC_A_INT("axis"), AICC_A_END};
static const aicc_attr_spec gather_nd_attrs[] = {AICC_A_INT("batch_dims"), AICC_A_END};
static const aicc_attr_spec trilu_attrs[] = {AICC_A_INT("upper"), AICC_A_END};
static const aicc_attr_spec revseq_attrs[] = {AICC_A_INT("batch_axis"), AICC_A_INT("time_axis"),
                                              AICC_A_END};
static const aicc_attr_spec eyelike_attrs[] = {AICC_A_INT("dtype"), AICC_A_INT("k"), AICC_A_END};

static const aicc_op ops[] = {
    /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
    {"Gather", "", 1, 0, 2, 2, 1, 1, axis_attrs, gather_infer, gather_kernel},
    {"GatherElements", "", 11, 0, 2, 2, 1, 1, axis_attrs, gather_el_infer, gather_el_kernel},
    {"GatherND", "", 11, 0, 2, 2, 1, 1, gather_nd_attrs, gather_nd_infer, gather_nd_kernel},
    {"OneHot", "", 9, 0, 3, 3, 1, 1, axis_attrs, onehot_infer, onehot_kernel},
    {"Compress", "", 9, 0, 2, 2, 1, 1, axis_attrs, compress_infer, compress_kernel},
    {"NonZero", "", 9, 0, 1, 1, 1, 1, NULL, nonzero_infer, nonzero_kernel},
    {"Trilu", "", 14, 0, 1, 2, 1, 1, trilu_attrs, aicc_infer_same_as_input, trilu_kernel},
    {"ReverseSequence", "", 10, 0, 2, 2, 1, 1, revseq_attrs, aicc_infer_same_as_input,
     revseq_kernel},
    {"EyeLike", "", 9, 0, 1, 1, 1, 1, eyelike_attrs, eyelike_infer, eyelike_kernel},
};
const aicc_op_family aicc_family_index = {"index", ops, sizeof ops / sizeof ops[0]};
