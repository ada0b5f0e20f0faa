/* Shape-manipulation ops that only rearrange or describe data: Shape, Size,
 * Reshape, Flatten, Squeeze, Unsqueeze, Identity, Constant, ConstantOfShape,
 * Expand, Transpose, DepthToSpace, SpaceToDepth. Inference keeps symbolic
 * dims wherever the op passes them through. Slicing/padding ops: slice.c. */
#include "ops/util_elem.h"

#include <stdlib.h>
#include <string.h>

/* Output 0 with unknown rank (dtype known or not). */
static aicc_status infer_unknown(aicc_infer_ctx *c, aicc_dtype dt) {
  aicc_infer_set(c, 0, dt, -1, NULL);
  return NULL;
}

/* Dense copy of `in` under new dims (same element count). */
static aicc_status copy_reshaped(aicc_kernel_ctx *c, const aicc_tensor *in, int rank,
                                 const int64_t *dims) {
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, in->dtype, rank, dims, &y));
  if (aicc_tensor_numel(y) != aicc_tensor_numel(in))
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "cannot reshape %lld elements to %lld",
                             (long long)aicc_tensor_numel(in), (long long)aicc_tensor_numel(y));
  return aicc_elem_copy(y, 0, in, 0, aicc_tensor_numel(in));
}

/* ---- Shape, Size ---- */

/* Clamped [start, end) of Shape (opset 15 start/end attributes). */
static void shape_range(const aicc_node *n, int rank, int64_t *s, int64_t *e) {
  int64_t start = aicc_node_attr_int(n, "start", 0);
  int64_t end = aicc_node_attr_int(n, "end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  if (start < 0) start = 0;
  if (start > rank) start = rank;
  if (end < 0) end = 0;
  if (end > rank) end = rank;
  *s = start;
  *e = end > start ? end : start;
}

static aicc_status shape_infer(aicc_infer_ctx *c) {
  if (!aicc_infer_has_rank(c, 0)) {
    aicc_dim d = aicc_dim_unknown();
    aicc_infer_set(c, 0, AICC_DTYPE_I64, 1, &d);
    return NULL;
  }
  int64_t s, e;
  shape_range(c->node, c->in[0]->rank, &s, &e);
  aicc_dim d = aicc_dim_known(e - s);
  aicc_infer_set(c, 0, AICC_DTYPE_I64, 1, &d);
  return NULL;
}

static aicc_status shape_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  const aicc_tensor *x = c->in[0];
  int64_t s, e;
  shape_range(c->node, x->rank, &s, &e);
  int64_t n = e - s;
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, AICC_DTYPE_I64, 1, &n, &y));
  for (int64_t i = 0; i < n; i++) ((int64_t *)y->data)[i] = x->dims[s + i];
  return NULL;
}

static aicc_status size_infer(aicc_infer_ctx *c) {
  aicc_infer_set(c, 0, AICC_DTYPE_I64, 0, NULL);
  return NULL;
}

static aicc_status size_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, AICC_DTYPE_I64, 0, NULL, &y));
  ((int64_t *)y->data)[0] = aicc_tensor_numel(c->in[0]);
  return NULL;
}

/* ---- Reshape ---- */

/* Reads the requested shape: attribute before opset 5, input 1 after. */
static bool reshape_spec(const aicc_node *n, int opset, const aicc_tensor *shape_in, int64_t *spec,
                         int64_t *k) {
  if (opset < 5) {
    int64_t len;
    const int64_t *s = aicc_node_attr_ints(n, "shape", &len);
    if (!s || len > AICC_MAX_RANK) return false;
    memcpy(spec, s, sizeof(int64_t) * (size_t)len);
    *k = len;
    return true;
  }
  if (!shape_in || !aicc_dtype_is_int(shape_in->dtype)) return false;
  int64_t len = aicc_tensor_numel(shape_in);
  if (len < 0 || len > AICC_MAX_RANK) return false;
  for (int64_t i = 0; i < len; i++) spec[i] = aicc_tensor_get_i64(shape_in, i);
  *k = len;
  return true;
}

/* Resolves 0 (copy, unless allowzero) and -1 (inferred) against known input
 * dims. Returns an error message or NULL. */
static const char *reshape_resolve(const int64_t *in, int r, const int64_t *spec, int k,
                                   bool allowzero, int64_t *out) {
  int neg = -1;
  int64_t prod = 1, total = aicc_dims_numel(in, r);
  for (int d = 0; d < k; d++) {
    int64_t v = spec[d];
    if (v == -1) {
      if (neg >= 0) return "more than one -1 in shape";
      neg = d;
      continue;
    }
    if (v < -1) return "negative dim in shape";
    if (v == 0 && !allowzero) {
      if (d >= r) return "0 in shape refers past the input rank";
      v = in[d];
    }
    out[d] = v;
    if (__builtin_mul_overflow(prod, v, &prod)) return "shape overflows";
  }
  if (neg >= 0) {
    if (prod == 0 || total % prod) return "cannot infer the -1 dim";
    out[neg] = total / prod;
  } else if (prod != total) {
    return "element count differs";
  }
  return NULL;
}

static aicc_status reshape_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = aicc_infer_in_dtype(c, 0);
  int64_t spec[AICC_MAX_RANK], k;
  if (!reshape_spec(c->node, c->opset, aicc_infer_cin(c, 1), spec, &k)) {
    /* Unknown values: the rank is the length of the shape input. */
    if (c->opset >= 5 && aicc_infer_has_rank(c, 1) && c->in[1]->rank == 1 &&
        aicc_dim_is_known(c->in[1]->dims[0]) && c->in[1]->dims[0].size <= AICC_MAX_RANK) {
      aicc_infer_set(c, 0, dt, (int)c->in[1]->dims[0].size, NULL);
      return NULL;
    }
    return infer_unknown(c, dt);
  }
  bool allowzero = aicc_node_attr_int(c->node, "allowzero", 0) != 0;
  aicc_dim out[AICC_MAX_RANK];
  if (!aicc_infer_has_rank(c, 0)) {
    for (int d = 0; d < k; d++)
      out[d] =
          spec[d] >= 0 && (spec[d] > 0 || allowzero) ? aicc_dim_known(spec[d]) : aicc_dim_unknown();
    aicc_infer_set(c, 0, dt, (int)k, out);
    return NULL;
  }
  const aicc_type *x = c->in[0];
  /* Factor the input into a known product and a multiset of symbols; the
   * output's explicit and copied dims cancel against it, and whatever is
   * left is the -1 dim (symbolic when exactly one symbol remains). */
  const char *syms[AICC_MAX_RANK];
  int nsym = 0;
  bool in_unknown = false;
  int64_t in_prod = 1;
  for (int d = 0; d < x->rank; d++) {
    if (aicc_dim_is_known(x->dims[d]))
      in_unknown |= __builtin_mul_overflow(in_prod, x->dims[d].size, &in_prod);
    else if (x->dims[d].sym)
      syms[nsym++] = x->dims[d].sym;
    else
      in_unknown = true;
  }
  int neg = -1;
  int64_t out_prod = 1;
  bool out_unknown = false;
  for (int d = 0; d < k; d++) {
    int64_t v = spec[d];
    if (v == -1) {
      if (neg >= 0) return aicc_infer_error(c, AICC_ERR_SHAPE, "more than one -1 in shape");
      neg = d;
      continue;
    }
    if (v < -1) return aicc_infer_error(c, AICC_ERR_SHAPE, "negative dim in shape");
    if (v == 0 && !allowzero) {
      if (d >= x->rank)
        return aicc_infer_error(c, AICC_ERR_SHAPE, "0 in shape refers past the input rank");
      out[d] = x->dims[d];
      if (aicc_dim_is_known(out[d])) {
        out_unknown |= __builtin_mul_overflow(out_prod, out[d].size, &out_prod);
      } else if (out[d].sym) {
        int j = 0;
        while (j < nsym && strcmp(syms[j], out[d].sym) != 0) j++;
        if (j < nsym)
          syms[j] = syms[--nsym];
        else
          out_unknown = true;
      } else {
        out_unknown = true;
      }
      continue;
    }
    out[d] = aicc_dim_known(v);
    out_unknown |= __builtin_mul_overflow(out_prod, v, &out_prod);
  }
  if (neg >= 0) {
    out[neg] = aicc_dim_unknown();
    if (!in_unknown && !out_unknown) {
      if (nsym == 0 && out_prod != 0 && in_prod % out_prod == 0)
        out[neg] = aicc_dim_known(in_prod / out_prod);
      else if (nsym == 0 && out_prod != 0)
        return aicc_infer_error(c, AICC_ERR_SHAPE, "cannot infer the -1 dim");
      else if (nsym == 1 && in_prod == out_prod)
        out[neg] = (aicc_dim){-1, syms[0]};
    }
  } else if (!in_unknown && !out_unknown && nsym == 0 && in_prod != out_prod) {
    return aicc_infer_error(c, AICC_ERR_SHAPE, "cannot reshape %lld elements to %lld",
                            (long long)in_prod, (long long)out_prod);
  }
  aicc_infer_set(c, 0, dt, (int)k, out);
  return NULL;
}

static aicc_status reshape_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  const aicc_tensor *x = c->in[0];
  int64_t spec[AICC_MAX_RANK], k, out[AICC_MAX_RANK];
  if (c->opset >= 5) AICC_TRY(aicc_kernel_need_tensor(c, 1));
  if (!reshape_spec(c->node, c->opset, c->opset >= 5 ? c->in[1] : NULL, spec, &k))
    return aicc_kernel_error(c, AICC_ERR_INVALID, "shape must be an integer list of rank <= %d",
                             AICC_MAX_RANK);
  bool allowzero = aicc_node_attr_int(c->node, "allowzero", 0) != 0;
  const char *why = reshape_resolve(x->dims, x->rank, spec, (int)k, allowzero, out);
  if (why) return aicc_kernel_error(c, AICC_ERR_SHAPE, "%s", why);
  return copy_reshaped(c, x, (int)k, out);
}

/* ---- Flatten ---- */

static aicc_status flatten_axis(int64_t axis, int rank, int64_t *out) {
  if (axis < 0) axis += rank;
  if (axis < 0 || axis > rank)
    return aicc_errorf(AICC_ERR_SHAPE, "axis out of range for rank %d", rank);
  *out = axis;
  return NULL;
}

static aicc_status flatten_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = aicc_infer_in_dtype(c, 0);
  if (!aicc_infer_has_rank(c, 0)) {
    aicc_infer_set(c, 0, dt, 2, NULL);
    return NULL;
  }
  const aicc_type *x = c->in[0];
  int64_t axis = 0;
  aicc_status s = flatten_axis(aicc_node_attr_int(c->node, "axis", 1), x->rank, &axis);
  if (s) return aicc_infer_wrap(c, s);
  aicc_dim out[2] = {aicc_dim_product(x->dims, (int)axis),
                     aicc_dim_product(x->dims + axis, x->rank - (int)axis)};
  aicc_infer_set(c, 0, dt, 2, out);
  return NULL;
}

static aicc_status flatten_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  const aicc_tensor *x = c->in[0];
  int64_t axis = 0;
  aicc_status s = flatten_axis(aicc_node_attr_int(c->node, "axis", 1), x->rank, &axis);
  if (s) return aicc_kernel_wrap(c, s);
  int64_t d[2] = {aicc_dims_numel(x->dims, (int)axis),
                  aicc_dims_numel(x->dims + axis, x->rank - (int)axis)};
  return copy_reshaped(c, x, 2, d);
}

/* ---- Squeeze, Unsqueeze ---- */

/* Axes from the attribute (before opset 13) or input 1 (after). *have is
 * false when the op got no axes; returns false when they are not known. */
static bool axes_of(const aicc_node *n, int opset, const aicc_tensor *in1, bool in1_present,
                    int64_t *axes, int64_t *k, bool *have) {
  *have = false;
  *k = 0;
  if (opset < 13) {
    int64_t len;
    const int64_t *a = aicc_node_attr_ints(n, "axes", &len);
    if (!a) return true;
    if (len > AICC_MAX_RANK) return false;
    memcpy(axes, a, sizeof(int64_t) * (size_t)len);
    *k = len;
    *have = true;
    return true;
  }
  if (!in1_present) return true;
  if (!in1 || !aicc_dtype_is_int(in1->dtype)) return false;
  int64_t len = aicc_tensor_numel(in1);
  if (len > AICC_MAX_RANK) return false;
  for (int64_t i = 0; i < len; i++) axes[i] = aicc_tensor_get_i64(in1, i);
  *k = len;
  *have = true;
  return true;
}

/* axes_of for inference: false unless input 0's rank and the axes are known. */
static bool infer_axes(const aicc_infer_ctx *c, int64_t *axes, int64_t *k, bool *have) {
  bool in1 = c->n_in > 1 && c->in[1];
  return aicc_infer_has_rank(c, 0) &&
         axes_of(c->node, c->opset, aicc_infer_cin(c, 1), in1, axes, k, have);
}

/* axes_of for a kernel: error unless the axes are an integer list. */
static aicc_status kernel_axes(const aicc_kernel_ctx *c, int64_t *axes, int64_t *k, bool *have) {
  bool in1 = c->n_in > 1 && c->in[1];
  if (!axes_of(c->node, c->opset, in1 ? c->in[1] : NULL, in1, axes, k, have))
    return aicc_kernel_error(c, AICC_ERR_INVALID, "axes must be an integer list");
  return NULL;
}

/* Marks normalized axes in `mark` (rank entries); error on range/duplicate. */
static const char *mark_axes(const int64_t *axes, int64_t k, int rank, bool *mark) {
  memset(mark, 0, sizeof(bool) * (size_t)(rank > 0 ? rank : 1));
  for (int64_t i = 0; i < k; i++) {
    int64_t a;
    if (!aicc_index_norm(axes[i], rank, &a)) return "axis out of range";
    if (mark[a]) return "duplicate axis";
    mark[a] = true;
  }
  return NULL;
}

static aicc_status squeeze_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = aicc_infer_in_dtype(c, 0);
  int64_t axes[AICC_MAX_RANK], k;
  bool have;
  if (!infer_axes(c, axes, &k, &have)) return infer_unknown(c, dt);
  const aicc_type *x = c->in[0];
  bool mark[AICC_MAX_RANK];
  if (have) {
    const char *why = mark_axes(axes, k, x->rank, mark);
    if (why) return aicc_infer_error(c, AICC_ERR_SHAPE, "%s", why);
  } else {
    /* Squeeze every 1; a dim that is not known might be 1. */
    for (int d = 0; d < x->rank; d++) {
      if (!aicc_dim_is_known(x->dims[d])) return infer_unknown(c, dt);
      mark[d] = x->dims[d].size == 1;
    }
  }
  aicc_dim out[AICC_MAX_RANK];
  int r = 0;
  for (int d = 0; d < x->rank; d++) {
    if (!mark[d]) {
      out[r++] = x->dims[d];
    } else if (aicc_dim_is_known(x->dims[d]) && x->dims[d].size != 1) {
      return aicc_infer_error(c, AICC_ERR_SHAPE, "cannot squeeze dim %d of size %lld", d,
                              (long long)x->dims[d].size);
    }
  }
  aicc_infer_set(c, 0, dt, r, out);
  return NULL;
}

static aicc_status squeeze_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  const aicc_tensor *x = c->in[0];
  int64_t axes[AICC_MAX_RANK], k, out[AICC_MAX_RANK];
  bool have, mark[AICC_MAX_RANK];
  AICC_TRY(kernel_axes(c, axes, &k, &have));
  if (have) {
    const char *why = mark_axes(axes, k, x->rank, mark);
    if (why) return aicc_kernel_error(c, AICC_ERR_SHAPE, "%s", why);
  } else {
    for (int d = 0; d < x->rank; d++) mark[d] = x->dims[d] == 1;
  }
  int r = 0;
  for (int d = 0; d < x->rank; d++) {
    if (!mark[d])
      out[r++] = x->dims[d];
    else if (x->dims[d] != 1)
      return aicc_kernel_error(c, AICC_ERR_SHAPE, "cannot squeeze dim %d of size %lld", d,
                               (long long)x->dims[d]);
  }
  return copy_reshaped(c, x, r, out);
}

/* Output rank and the mask of inserted axes; NULL or an error message. */
static const char *unsqueeze_mask(const int64_t *axes, int64_t k, int rank, int *out_rank,
                                  bool *mark) {
  int r = rank + (int)k;
  if (r > AICC_MAX_RANK) return "output rank too large";
  *out_rank = r;
  return mark_axes(axes, k, r, mark);
}

static aicc_status unsqueeze_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = aicc_infer_in_dtype(c, 0);
  int64_t axes[AICC_MAX_RANK], k;
  bool have;
  if (!infer_axes(c, axes, &k, &have)) return infer_unknown(c, dt);
  const aicc_type *x = c->in[0];
  int r;
  bool mark[AICC_MAX_RANK];
  const char *why = unsqueeze_mask(axes, k, x->rank, &r, mark);
  if (why) return aicc_infer_error(c, AICC_ERR_SHAPE, "%s", why);
  aicc_dim out[AICC_MAX_RANK];
  for (int d = 0, j = 0; d < r; d++) out[d] = mark[d] ? aicc_dim_known(1) : x->dims[j++];
  aicc_infer_set(c, 0, dt, r, out);
  return NULL;
}

static aicc_status unsqueeze_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  const aicc_tensor *x = c->in[0];
  int64_t axes[AICC_MAX_RANK], k, out[AICC_MAX_RANK];
  bool have, mark[AICC_MAX_RANK];
  AICC_TRY(kernel_axes(c, axes, &k, &have));
  int r;
  const char *why = unsqueeze_mask(axes, k, x->rank, &r, mark);
  if (why) return aicc_kernel_error(c, AICC_ERR_SHAPE, "%s", why);
  for (int d = 0, j = 0; d < r; d++) out[d] = mark[d] ? 1 : x->dims[j++];
  return copy_reshaped(c, x, r, out);
}

/* ---- Identity ---- */

static aicc_status identity_kernel(aicc_kernel_ctx *c) {
  if (!c->in[0]) return aicc_kernel_error(c, AICC_ERR_INVALID, "missing input");
  /* Values are immutable once produced, so the output shares the input
   * (tensor, sequence or optional alike). */
  c->out[0] = aicc_tensor_retain(c->in[0]);
  return NULL;
}

/* ---- Constant, ConstantOfShape ---- */

/* The attribute that holds the value, or NULL; errors when not exactly one. */
static const aicc_attr *constant_attr(const aicc_node *n) {
  static const char *const names[] = {"value",         "value_float", "value_floats",
                                      "value_int",     "value_ints",  "value_string",
                                      "value_strings", "sparse_value"};
  const aicc_attr *found = NULL;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    const aicc_attr *a = aicc_node_attr(n, names[i]);
    if (a) {
      if (found) return NULL;
      found = a;
    }
  }
  return found;
}

static aicc_status constant_infer(aicc_infer_ctx *c) {
  const aicc_attr *a = constant_attr(c->node);
  if (!a) return aicc_infer_error(c, AICC_ERR_INVALID, "needs exactly one value attribute");
  aicc_dim n = aicc_dim_known(a->n);
  switch (a->kind) {
  case AICC_ATTR_TENSOR:
    if (!a->t) return aicc_infer_error(c, AICC_ERR_INVALID, "empty value");
    c->out[0] = aicc_type_of(a->t);
    return NULL;
  case AICC_ATTR_FLOAT: aicc_infer_set(c, 0, AICC_DTYPE_F32, 0, NULL); return NULL;
  case AICC_ATTR_FLOATS: aicc_infer_set(c, 0, AICC_DTYPE_F32, 1, &n); return NULL;
  case AICC_ATTR_INT: aicc_infer_set(c, 0, AICC_DTYPE_I64, 0, NULL); return NULL;
  case AICC_ATTR_INTS: aicc_infer_set(c, 0, AICC_DTYPE_I64, 1, &n); return NULL;
  case AICC_ATTR_STRING: aicc_infer_set(c, 0, AICC_DTYPE_STRING, 0, NULL); return NULL;
  case AICC_ATTR_STRINGS: aicc_infer_set(c, 0, AICC_DTYPE_STRING, 1, &n); return NULL;
  default:
    return aicc_infer_error(c, AICC_ERR_UNSUPPORTED, "%s values are not supported",
                            aicc_attr_kind_name(a->kind));
  }
}

static aicc_status constant_kernel(aicc_kernel_ctx *c) {
  const aicc_attr *a = constant_attr(c->node);
  if (!a) return aicc_kernel_error(c, AICC_ERR_INVALID, "needs exactly one value attribute");
  aicc_tensor *y;
  int64_t n = a->n;
  switch (a->kind) {
  case AICC_ATTR_TENSOR:
    if (!a->t) return aicc_kernel_error(c, AICC_ERR_INVALID, "empty value");
    c->out[0] = aicc_tensor_retain(a->t);
    return NULL;
  case AICC_ATTR_FLOAT:
    AICC_TRY(aicc_kernel_output(c, 0, AICC_DTYPE_F32, 0, NULL, &y));
    ((float *)y->data)[0] = a->f;
    return NULL;
  case AICC_ATTR_FLOATS:
    AICC_TRY(aicc_kernel_output(c, 0, AICC_DTYPE_F32, 1, &n, &y));
    if (n) memcpy(y->data, a->fs, sizeof(float) * (size_t)n);
    return NULL;
  case AICC_ATTR_INT:
    AICC_TRY(aicc_kernel_output(c, 0, AICC_DTYPE_I64, 0, NULL, &y));
    ((int64_t *)y->data)[0] = a->i;
    return NULL;
  case AICC_ATTR_INTS:
    AICC_TRY(aicc_kernel_output(c, 0, AICC_DTYPE_I64, 1, &n, &y));
    if (n) memcpy(y->data, a->is, sizeof(int64_t) * (size_t)n);
    return NULL;
  case AICC_ATTR_STRING:
    AICC_TRY(aicc_kernel_output(c, 0, AICC_DTYPE_STRING, 0, NULL, &y));
    return aicc_tensor_set_string(y, 0, a->s.s, a->s.len);
  case AICC_ATTR_STRINGS:
    AICC_TRY(aicc_kernel_output(c, 0, AICC_DTYPE_STRING, 1, &n, &y));
    for (int64_t i = 0; i < n; i++)
      AICC_TRY(aicc_tensor_set_string(y, i, a->ss[i].s, a->ss[i].len));
    return NULL;
  default:
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "%s values are not supported",
                             aicc_attr_kind_name(a->kind));
  }
}

static aicc_dtype cos_dtype(const aicc_node *n) {
  const aicc_tensor *v = aicc_node_attr_tensor(n, "value");
  return v ? v->dtype : AICC_DTYPE_F32;
}

static aicc_status cos_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = cos_dtype(c->node);
  int64_t dims[AICC_MAX_RANK], k;
  if (aicc_infer_const_i64s(c, 0, dims, AICC_MAX_RANK, &k)) {
    aicc_dim out[AICC_MAX_RANK];
    for (int d = 0; d < k; d++) {
      if (dims[d] < 0) return aicc_infer_error(c, AICC_ERR_SHAPE, "negative dim in shape");
      out[d] = aicc_dim_known(dims[d]);
    }
    aicc_infer_set(c, 0, dt, (int)k, out);
    return NULL;
  }
  if (aicc_infer_has_rank(c, 0) && c->in[0]->rank == 1 && aicc_dim_is_known(c->in[0]->dims[0]) &&
      c->in[0]->dims[0].size <= AICC_MAX_RANK)
    aicc_infer_set(c, 0, dt, (int)c->in[0]->dims[0].size, NULL);
  else
    aicc_infer_set(c, 0, dt, -1, NULL);
  return NULL;
}

static aicc_status cos_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  int64_t dims[AICC_MAX_RANK], k;
  aicc_status s = aicc_tensor_read_i64s(c->in[0], dims, AICC_MAX_RANK, &k);
  if (s) {
    aicc_status_free(s);
    return aicc_kernel_error(c, AICC_ERR_INVALID, "shape must be an integer list of rank <= %d",
                             AICC_MAX_RANK);
  }
  const aicc_tensor *v = aicc_node_attr_tensor(c->node, "value");
  if (v && aicc_tensor_numel(v) != 1)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "value must hold one element");
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, v ? v->dtype : AICC_DTYPE_F32, (int)k, dims, &y));
  if (!v) return NULL; /* zeros */
  int64_t n = aicc_tensor_numel(y);
  size_t esz = aicc_elem_bytes(v->dtype);
  for (int64_t i = 0; i < n; i++) AICC_TRY(aicc_elem_copy1(esz, y, i, v, 0));
  return NULL;
}

/* ---- Expand ---- */

static aicc_status expand_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = aicc_infer_in_dtype(c, 0);
  int64_t shp[AICC_MAX_RANK], k;
  if (!aicc_infer_has_rank(c, 0) || !aicc_infer_const_i64s(c, 1, shp, AICC_MAX_RANK, &k)) {
    if (aicc_infer_has_rank(c, 0) && aicc_infer_has_rank(c, 1) && c->in[1]->rank == 1 &&
        aicc_dim_is_known(c->in[1]->dims[0]) && c->in[1]->dims[0].size <= AICC_MAX_RANK) {
      int64_t n = c->in[1]->dims[0].size;
      aicc_infer_set(c, 0, dt, (int)(n > c->in[0]->rank ? n : c->in[0]->rank), NULL);
      return NULL;
    }
    return infer_unknown(c, dt);
  }
  const aicc_type *x = c->in[0];
  int r = x->rank > (int)k ? x->rank : (int)k;
  aicc_dim out[AICC_MAX_RANK];
  for (int d = 0; d < r; d++) {
    int xd = d - (r - x->rank), sd = d - (r - (int)k);
    aicc_dim a = xd >= 0 ? x->dims[xd] : aicc_dim_known(1);
    if (sd < 0 || shp[sd] == 1) {
      out[d] = a;
    } else if (aicc_dim_is_known(a) && a.size != 1 && a.size != shp[sd]) {
      return aicc_infer_error(c, AICC_ERR_SHAPE, "cannot expand dim %d of size %lld to %lld", d,
                              (long long)a.size, (long long)shp[sd]);
    } else {
      out[d] = aicc_dim_known(shp[sd]);
    }
  }
  aicc_infer_set(c, 0, dt, r, out);
  return NULL;
}

static aicc_status expand_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  AICC_TRY(aicc_kernel_need_tensor(c, 1));
  const aicc_tensor *x = c->in[0];
  int64_t shp[AICC_MAX_RANK], k, out[AICC_MAX_RANK];
  aicc_status s = aicc_tensor_read_i64s(c->in[1], shp, AICC_MAX_RANK, &k);
  if (s) {
    aicc_status_free(s);
    return aicc_kernel_error(c, AICC_ERR_INVALID, "shape must be an integer list of rank <= %d",
                             AICC_MAX_RANK);
  }
  const int64_t *dl[2] = {x->dims, shp};
  int ranks[2] = {x->rank, (int)k}, r;
  s = aicc_broadcast_dims(2, dl, ranks, out, &r);
  if (s) return aicc_kernel_wrap(c, s);
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, r, out, &y));
  /* Broadcast as an axis map: axes where x has size 1 read index 0. */
  int64_t xd[AICC_MAX_RANK], zero_len = 0;
  for (int d = 0; d < r; d++) {
    int j = d - (r - x->rank);
    xd[d] = j >= 0 ? x->dims[j] : 1;
    if (xd[d] == 1 && out[d] > zero_len) zero_len = out[d];
  }
  int64_t *zeros = calloc((size_t)(zero_len ? zero_len : 1), sizeof(int64_t));
  if (!zeros) return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  const int64_t *maps[AICC_MAX_RANK];
  for (int d = 0; d < r; d++) maps[d] = xd[d] == 1 && out[d] != 1 ? zeros : NULL;
  s = aicc_elem_map_copy(y, out, x, xd, r, maps, NULL);
  free(zeros);
  return s;
}

/* ---- Transpose ---- */

static bool transpose_perm(const aicc_node *n, int rank, int64_t *perm) {
  int64_t len;
  const int64_t *p = aicc_node_attr_ints(n, "perm", &len);
  if (!p) {
    for (int d = 0; d < rank; d++) perm[d] = rank - 1 - d;
    return true;
  }
  if (len != rank) return false;
  bool seen[AICC_MAX_RANK] = {0};
  for (int d = 0; d < rank; d++) {
    int64_t a;
    if (!aicc_index_norm(p[d], rank, &a) || seen[a]) return false;
    seen[a] = true;
    perm[d] = a;
  }
  return true;
}

static aicc_status transpose_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = aicc_infer_in_dtype(c, 0);
  if (!aicc_infer_has_rank(c, 0)) {
    int64_t len;
    if (aicc_node_attr_ints(c->node, "perm", &len) && len <= AICC_MAX_RANK) {
      aicc_infer_set(c, 0, dt, (int)len, NULL);
      return NULL;
    }
    return infer_unknown(c, dt);
  }
  const aicc_type *x = c->in[0];
  int64_t perm[AICC_MAX_RANK];
  if (!transpose_perm(c->node, x->rank, perm))
    return aicc_infer_error(c, AICC_ERR_SHAPE, "perm is not a permutation of rank %d", x->rank);
  aicc_dim out[AICC_MAX_RANK];
  for (int d = 0; d < x->rank; d++) out[d] = x->dims[perm[d]];
  aicc_infer_set(c, 0, dt, x->rank, out);
  return NULL;
}

static aicc_status transpose_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  const aicc_tensor *x = c->in[0];
  int64_t perm[AICC_MAX_RANK], out[AICC_MAX_RANK];
  if (!transpose_perm(c->node, x->rank, perm))
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "perm is not a permutation of rank %d", x->rank);
  for (int d = 0; d < x->rank; d++) out[d] = x->dims[perm[d]];
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, x->rank, out, &y));
  return aicc_elem_permute(y, x, x->dims, x->rank, perm);
}

/* ---- DepthToSpace, SpaceToDepth ---- */

/* Both are a reshape to 6-D, a transpose and a reshape back. `to_space`
 * selects the op; CRD mode orders channels before the block offsets. */
static bool d2s_crd(const aicc_node *n) {
  return strcmp(aicc_node_attr_string(n, "mode", "DCR"), "CRD") == 0;
}

static aicc_status d2s_dims(const int64_t *x, int64_t b, bool to_space, int64_t *out) {
  if (b <= 0) return aicc_errorf(AICC_ERR_INVALID, "blocksize must be positive");
  if (to_space) {
    if (x[1] % (b * b)) return aicc_errorf(AICC_ERR_SHAPE, "channels not divisible by blocksize^2");
    out[0] = x[0], out[1] = x[1] / (b * b), out[2] = x[2] * b, out[3] = x[3] * b;
  } else {
    if (x[2] % b || x[3] % b)
      return aicc_errorf(AICC_ERR_SHAPE, "spatial dims not divisible by blocksize");
    out[0] = x[0], out[1] = x[1] * b * b, out[2] = x[2] / b, out[3] = x[3] / b;
  }
  return NULL;
}

static aicc_status d2s_infer_common(aicc_infer_ctx *c, bool to_space) {
  aicc_dtype dt = aicc_infer_in_dtype(c, 0);
  if (!aicc_infer_has_rank(c, 0)) {
    aicc_infer_set(c, 0, dt, 4, NULL);
    return NULL;
  }
  const aicc_type *x = c->in[0];
  if (x->rank != 4) return aicc_infer_error(c, AICC_ERR_SHAPE, "input must be 4-D");
  int64_t b = aicc_node_attr_int(c->node, "blocksize", 0);
  if (b <= 0) return aicc_infer_error(c, AICC_ERR_INVALID, "blocksize must be positive");
  aicc_dim out[4] = {x->dims[0], aicc_dim_unknown(), aicc_dim_unknown(), aicc_dim_unknown()};
  for (int d = 1; d < 4; d++) {
    if (!aicc_dim_is_known(x->dims[d])) continue;
    int64_t v = x->dims[d].size, f = d == 1 ? b * b : b;
    bool mul = (d == 1) != to_space;
    if (!mul && v % f) return aicc_infer_error(c, AICC_ERR_SHAPE, "dim %d not divisible", d);
    out[d] = aicc_dim_known(mul ? v * f : v / f);
  }
  aicc_infer_set(c, 0, dt, 4, out);
  return NULL;
}

static aicc_status d2s_infer(aicc_infer_ctx *c) { return d2s_infer_common(c, true); }
static aicc_status s2d_infer(aicc_infer_ctx *c) { return d2s_infer_common(c, false); }

static aicc_status d2s_kernel_common(aicc_kernel_ctx *c, bool to_space) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  const aicc_tensor *x = c->in[0];
  if (x->rank != 4) return aicc_kernel_error(c, AICC_ERR_SHAPE, "input must be 4-D");
  int64_t b = aicc_node_attr_int(c->node, "blocksize", 0), out[4];
  aicc_status s = d2s_dims(x->dims, b, to_space, out);
  if (s) return aicc_kernel_wrap(c, s);
  bool crd = d2s_crd(c->node);
  int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
  int64_t v[6], perm[6];
  if (to_space) {
    int64_t Co = C / (b * b);
    if (crd) {
      int64_t vv[6] = {N, Co, b, b, H, W}, pp[6] = {0, 1, 4, 2, 5, 3};
      memcpy(v, vv, sizeof v), memcpy(perm, pp, sizeof perm);
    } else {
      int64_t vv[6] = {N, b, b, Co, H, W}, pp[6] = {0, 3, 4, 1, 5, 2};
      memcpy(v, vv, sizeof v), memcpy(perm, pp, sizeof perm);
    }
  } else {
    int64_t vv[6] = {N, C, H / b, b, W / b, b};
    memcpy(v, vv, sizeof v);
    int64_t dcr[6] = {0, 3, 5, 1, 2, 4}, crdp[6] = {0, 1, 3, 5, 2, 4};
    memcpy(perm, crd ? crdp : dcr, sizeof perm);
  }
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, 4, out, &y));
  return aicc_elem_permute(y, x, v, 6, perm);
}

static aicc_status d2s_kernel(aicc_kernel_ctx *c) { return d2s_kernel_common(c, true); }
static aicc_status s2d_kernel(aicc_kernel_ctx *c) { return d2s_kernel_common(c, false); }

/* ---- table ---- */

static const aicc_attr_spec shape_attrs[] = {AICC_A_INT("start"), AICC_A_INT("end"), AICC_A_END};
static const aicc_attr_spec reshape1_attrs[] = {AICC_A_INTS("shape"),
                                                AICC_A_INTS("consumed_inputs"), AICC_A_END};
static const aicc_attr_spec reshape_attrs[] = {AICC_A_INT("allowzero"), AICC_A_END};
static const aicc_attr_spec axis_attrs[] = {AICC_A_INT("axis"), AICC_A_END};
static const aicc_attr_spec axes_attrs[] = {AICC_A_INTS("axes"), AICC_A_END};
static const aicc_attr_spec perm_attrs[] = {AICC_A_INTS("perm"), AICC_A_END};
static const aicc_attr_spec constant_attrs[] = {AICC_A_TENSOR("value"),
                                                AICC_A_FLOAT("value_float"),
                                                AICC_A_FLOATS("value_floats"),
                                                AICC_A_INT("value_int"),
                                                AICC_A_INTS("value_ints"),
                                                AICC_A_STRING("value_string"),
                                                AICC_A_STRINGS("value_strings"),
                                                {"sparse_value", AICC_ATTR_SPARSE_TENSOR, false},
                                                AICC_A_END};
static const aicc_attr_spec cos_attrs[] = {AICC_A_TENSOR("value"), AICC_A_END};
static const aicc_attr_spec d2s_attrs[] = {
    {"blocksize", AICC_ATTR_INT, true}, AICC_A_STRING("mode"), AICC_A_END};

static const aicc_op ops[] = {
    /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
    {"Shape", "", 1, 0, 1, 1, 1, 1, shape_attrs, shape_infer, shape_kernel},
    {"Size", "", 1, 0, 1, 1, 1, 1, NULL, size_infer, size_kernel},
    {"Reshape", "", 1, 4, 1, 1, 1, 1, reshape1_attrs, reshape_infer, reshape_kernel},
    {"Reshape", "", 5, 0, 2, 2, 1, 1, reshape_attrs, reshape_infer, reshape_kernel},
    {"Flatten", "", 1, 0, 1, 1, 1, 1, axis_attrs, flatten_infer, flatten_kernel},
    {"Squeeze", "", 1, 12, 1, 1, 1, 1, axes_attrs, squeeze_infer, squeeze_kernel},
    {"Squeeze", "", 13, 0, 1, 2, 1, 1, NULL, squeeze_infer, squeeze_kernel},
    {"Unsqueeze", "", 1, 12, 1, 1, 1, 1, axes_attrs, unsqueeze_infer, unsqueeze_kernel},
    {"Unsqueeze", "", 13, 0, 2, 2, 1, 1, NULL, unsqueeze_infer, unsqueeze_kernel},
    {"Identity", "", 1, 0, 1, 1, 1, 1, NULL, aicc_infer_same_as_input, identity_kernel},
    {"Constant", "", 1, 0, 0, 0, 1, 1, constant_attrs, constant_infer, constant_kernel},
    {"ConstantOfShape", "", 9, 0, 1, 1, 1, 1, cos_attrs, cos_infer, cos_kernel},
    {"Expand", "", 8, 0, 2, 2, 1, 1, NULL, expand_infer, expand_kernel},
    {"Transpose", "", 1, 0, 1, 1, 1, 1, perm_attrs, transpose_infer, transpose_kernel},
    {"DepthToSpace", "", 1, 0, 1, 1, 1, 1, d2s_attrs, d2s_infer, d2s_kernel},
    {"SpaceToDepth", "", 1, 0, 1, 1, 1, 1, d2s_attrs, s2d_infer, s2d_kernel},
};
const aicc_op_family aicc_family_shape = {"shape", ops, sizeof ops / sizeof ops[0]};
