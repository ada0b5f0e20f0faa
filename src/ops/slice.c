/* Ops that cut, join or border tensors along axes: Concat, Split, Slice,
 * Tile, Pad, CenterCropPad. All kernels move elements generically (any
 * dtype, strings and packed sub-byte included) through the axis-map copy in
 * util_elem.h; inference is exact when the controlling inputs are constant. */
#include "ops/util_elem.h"

#include <stdlib.h>
#include <string.h>

/* Reads integer input i of a kernel (max AICC_MAX_RANK * 2 values). */
static aicc_status read_ints(const aicc_kernel_ctx *c, int i, int64_t *v, int64_t *n) {
  AICC_TRY(aicc_kernel_need_tensor(c, i));
  aicc_status s = aicc_tensor_read_i64s(c->in[i], v, 2 * AICC_MAX_RANK, n);
  if (s) {
    aicc_status_free(s);
    return aicc_kernel_error(c, AICC_ERR_INVALID, "input %d must be a short integer list", i);
  }
  return NULL;
}

/* Product of dims[a..b). */
/* One buffer for the per-axis maps of aicc_elem_map_copy: map[d] gets
 * out[d] entries for the caller to fill. Returns the buffer to free, NULL
 * when out of memory. */
static int64_t *maps_alloc(const int64_t *out, int rank, int64_t **map) {
  int64_t total = 0;
  for (int d = 0; d < rank; d++) total += out[d];
  int64_t *buf = malloc(sizeof(int64_t) * (size_t)(total ? total : 1));
  int64_t off = 0;
  for (int d = 0; buf && d < rank; off += out[d], d++) map[d] = buf + off;
  return buf;
}

/* Copies x into y (dims out) through the filled maps, then frees buf. */
static aicc_status maps_copy(aicc_tensor *y, const int64_t *out, const aicc_tensor *x,
                             int64_t *const *map, int64_t *buf, const aicc_tensor *fill) {
  aicc_status s =
      aicc_elem_map_copy(y, out, x, x->dims, x->rank, (const int64_t *const *)map, fill);
  free(buf);
  return s;
}

/* ---- Concat ---- */

static int64_t concat_axis_attr(const aicc_node *n, int opset) {
  return aicc_node_attr_int(n, "axis", opset < 4 ? 1 : 0);
}

static aicc_status concat_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = AICC_DTYPE_UNDEFINED;
  int rank = -1;
  for (int i = 0; i < c->n_in; i++) {
    if (!aicc_infer_has_type(c, i)) continue;
    if (dt == AICC_DTYPE_UNDEFINED) dt = c->in[i]->dtype;
    if (c->in[i]->rank >= 0) rank = c->in[i]->rank;
  }
  if (rank < 0) {
    aicc_infer_set(c, 0, dt, -1, NULL);
    return NULL;
  }
  int64_t axis;
  AICC_TRY(
      aicc_infer_wrap(c, aicc_axis_norm_ranked(concat_axis_attr(c->node, c->opset), rank, &axis)));
  aicc_dim out[AICC_MAX_RANK];
  for (int d = 0; d < rank; d++) out[d] = aicc_dim_unknown();
  int64_t sum = 0;
  bool sum_known = true;
  for (int i = 0; i < c->n_in; i++) {
    if (!aicc_infer_has_rank(c, i)) {
      sum_known = false;
      continue;
    }
    const aicc_type *t = c->in[i];
    if (t->rank != rank) return aicc_infer_error(c, AICC_ERR_SHAPE, "inputs differ in rank");
    for (int d = 0; d < rank; d++) {
      aicc_dim v = t->dims[d];
      if (d == axis) {
        if (aicc_dim_is_known(v))
          sum += v.size;
        else
          sum_known = false;
        continue;
      }
      if (aicc_dim_is_known(v)) {
        if (aicc_dim_is_known(out[d]) && out[d].size != v.size)
          return aicc_infer_error(c, AICC_ERR_SHAPE, "inputs differ in dim %d", d);
        out[d] = v;
      } else if (v.sym && !aicc_dim_is_known(out[d]) && !out[d].sym) {
        out[d] = v;
      }
    }
  }
  /* Inputs with unknown rank count toward the axis but not the others. */
  for (int i = 0; i < c->n_in; i++)
    if (!c->in[i] || c->in[i]->kind == AICC_KIND_NONE) sum_known = false;
  out[axis] = sum_known ? aicc_dim_known(sum) : aicc_dim_unknown();
  if (!sum_known && c->n_in == 1 && aicc_infer_has_rank(c, 0)) out[axis] = c->in[0]->dims[axis];
  aicc_infer_set(c, 0, dt, rank, out);
  return NULL;
}

static aicc_status concat_kernel(aicc_kernel_ctx *c) {
  for (int i = 0; i < c->n_in; i++) AICC_TRY(aicc_kernel_need_tensor(c, i));
  const aicc_tensor *x0 = c->in[0];
  int rank = x0->rank;
  int64_t axis;
  AICC_TRY(
      aicc_kernel_wrap(c, aicc_axis_norm_ranked(concat_axis_attr(c->node, c->opset), rank, &axis)));
  int64_t out[AICC_MAX_RANK];
  memcpy(out, x0->dims, sizeof(int64_t) * (size_t)rank);
  out[axis] = 0;
  for (int i = 0; i < c->n_in; i++) {
    const aicc_tensor *t = c->in[i];
    if (t->rank != rank || t->dtype != x0->dtype)
      return aicc_kernel_error(c, AICC_ERR_SHAPE, "input %d differs in rank or dtype", i);
    for (int d = 0; d < rank; d++)
      if (d != axis && t->dims[d] != x0->dims[d])
        return aicc_kernel_error(c, AICC_ERR_SHAPE, "input %d differs in dim %d", i, d);
    out[axis] += t->dims[axis];
  }
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x0->dtype, rank, out, &y));
  int64_t outer = aicc_dims_prod(out, 0, (int)axis),
          inner = aicc_dims_prod(out, (int)axis + 1, rank);
  int64_t row = out[axis] * inner;
  for (int64_t o = 0; o < outer; o++) {
    int64_t pos = o * row;
    for (int i = 0; i < c->n_in; i++) {
      int64_t len = c->in[i]->dims[axis] * inner;
      AICC_TRY(aicc_elem_copy(y, pos, c->in[i], o * len, len));
      pos += len;
    }
  }
  return NULL;
}

/* ---- Split ---- */

/* Sizes of the n_out parts along an axis of size dim. The split list comes
 * from the attribute (opset < 13, or input 1 in opset 1) or input 1; with
 * none, equal parts (the last smaller when uneven, as opset 18 allows).
 * Returns false when the list is not known (non-constant input). */
static const char *split_sizes(const aicc_node *n, int opset, int n_out, const aicc_tensor *in1,
                               bool in1_present, int64_t dim, int64_t *sizes, bool *known) {
  *known = true;
  int64_t len = 0;
  const int64_t *attr = opset < 13 ? aicc_node_attr_ints(n, "split", &len) : NULL;
  if (attr || in1_present) {
    if (!attr) {
      if (!in1 || !aicc_dtype_is_int(in1->dtype)) {
        *known = false;
        return NULL;
      }
      len = aicc_tensor_numel(in1);
    }
    if (len != n_out) return "split has a different length than the number of outputs";
    int64_t sum = 0;
    for (int i = 0; i < n_out; i++) {
      sizes[i] = attr ? attr[i] : aicc_tensor_get_i64(in1, i);
      if (sizes[i] < 0) return "negative split size";
      sum += sizes[i];
    }
    if (dim >= 0 && sum != dim) return "split sizes do not add up to the dim";
    return NULL;
  }
  int64_t parts = opset >= 18 ? aicc_node_attr_int(n, "num_outputs", n_out) : n_out;
  if (parts != n_out) return "num_outputs differs from the number of outputs";
  if (dim < 0) {
    *known = false;
    return NULL;
  }
  int64_t chunk = (dim + parts - 1) / parts;
  for (int i = 0; i < n_out; i++) {
    int64_t left = dim - chunk * i;
    sizes[i] = left < 0 ? 0 : left < chunk ? left : chunk;
  }
  return NULL;
}

static aicc_status split_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = aicc_infer_in_dtype(c, 0);
  if (!aicc_infer_has_rank(c, 0)) {
    for (int i = 0; i < c->n_out; i++) aicc_infer_set(c, i, dt, -1, NULL);
    return NULL;
  }
  const aicc_type *x = c->in[0];
  int64_t axis;
  AICC_TRY(aicc_infer_wrap(
      c, aicc_axis_norm_ranked(aicc_node_attr_int(c->node, "axis", 0), x->rank, &axis)));
  aicc_dim ad = x->dims[axis];
  int64_t *sizes = calloc((size_t)c->n_out + 1, sizeof(int64_t));
  if (!sizes) return aicc_infer_error(c, AICC_ERR_NOMEM, "out of memory");
  bool known;
  bool in1 = c->n_in > 1 && c->in[1];
  const char *why = split_sizes(c->node, c->opset, c->n_out, aicc_infer_cin(c, 1), in1,
                                aicc_dim_is_known(ad) ? ad.size : -1, sizes, &known);
  if (why) {
    free(sizes);
    return aicc_infer_error(c, AICC_ERR_SHAPE, "%s", why);
  }
  for (int i = 0; i < c->n_out; i++) {
    aicc_dim out[AICC_MAX_RANK];
    memcpy(out, x->dims, sizeof(aicc_dim) * (size_t)x->rank);
    out[axis] = known ? aicc_dim_known(sizes[i]) : c->n_out == 1 ? ad : aicc_dim_unknown();
    aicc_infer_set(c, i, dt, x->rank, out);
  }
  free(sizes);
  return NULL;
}

static aicc_status split_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  const aicc_tensor *x = c->in[0];
  int64_t axis;
  AICC_TRY(aicc_kernel_wrap(
      c, aicc_axis_norm_ranked(aicc_node_attr_int(c->node, "axis", 0), x->rank, &axis)));
  int64_t *sizes = calloc((size_t)c->n_out + 1, sizeof(int64_t));
  if (!sizes) return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  bool known;
  bool in1 = c->n_in > 1 && c->in[1];
  const char *why = split_sizes(c->node, c->opset, c->n_out, in1 ? c->in[1] : NULL, in1,
                                x->dims[axis], sizes, &known);
  aicc_status s = NULL;
  if (why || !known) {
    s = aicc_kernel_error(c, AICC_ERR_SHAPE, "%s", why ? why : "split must be integers");
    goto done;
  }
  int64_t outer = aicc_dims_prod(x->dims, 0, (int)axis),
          inner = aicc_dims_prod(x->dims, (int)axis + 1, x->rank);
  int64_t row = x->dims[axis] * inner, pos = 0;
  for (int i = 0; i < c->n_out; i++) {
    int64_t dims[AICC_MAX_RANK];
    memcpy(dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
    dims[axis] = sizes[i];
    aicc_tensor *y;
    AICC_TRY_GOTO(s, aicc_kernel_output(c, i, x->dtype, x->rank, dims, &y), done);
    int64_t len = sizes[i] * inner;
    for (int64_t o = 0; o < outer; o++)
      AICC_TRY_GOTO(s, aicc_elem_copy(y, o * len, x, o * row + pos, len), done);
    pos += len;
  }
done:
  free(sizes);
  return s;
}

/* ---- Slice ---- */

typedef struct slice_spec {
  int64_t starts[AICC_MAX_RANK], ends[AICC_MAX_RANK], axes[AICC_MAX_RANK], steps[AICC_MAX_RANK];
  int64_t n;
} slice_spec;

/* Gathers starts/ends/axes/steps: attributes before opset 10, inputs after.
 * get(i) returns input i's constant value (NULL if unknown); present(i)
 * says whether the optional input was given. Returns false when unknown. */
static const char *slice_read(const aicc_node *node, int opset, const aicc_tensor *const *in,
                              const bool *present, int rank, slice_spec *sp, bool *known) {
  *known = true;
  int64_t ns, ne, na = -1, nt = -1;
  if (opset < 10) {
    const int64_t *s = aicc_node_attr_ints(node, "starts", &ns);
    const int64_t *e = aicc_node_attr_ints(node, "ends", &ne);
    int64_t la;
    const int64_t *a = aicc_node_attr_ints(node, "axes", &la);
    if (!s || !e) return "starts and ends are required";
    if (ns > AICC_MAX_RANK || ne != ns || (a && la != ns))
      return "starts/ends/axes differ in length";
    memcpy(sp->starts, s, sizeof(int64_t) * (size_t)ns);
    memcpy(sp->ends, e, sizeof(int64_t) * (size_t)ns);
    if (a) memcpy(sp->axes, a, sizeof(int64_t) * (size_t)ns), na = ns;
  } else {
    for (int i = 1; i <= 4; i++)
      if (present[i] && (!in[i] || !aicc_dtype_is_int(in[i]->dtype) ||
                         aicc_tensor_numel(in[i]) > AICC_MAX_RANK)) {
        *known = false;
        return NULL;
      }
    if (!present[1] || !present[2]) return "starts and ends are required";
    ns = aicc_tensor_numel(in[1]);
    ne = aicc_tensor_numel(in[2]);
    for (int64_t i = 0; i < ns; i++) sp->starts[i] = aicc_tensor_get_i64(in[1], i);
    for (int64_t i = 0; i < ne; i++) sp->ends[i] = aicc_tensor_get_i64(in[2], i);
    if (present[3]) {
      na = aicc_tensor_numel(in[3]);
      for (int64_t i = 0; i < na; i++) sp->axes[i] = aicc_tensor_get_i64(in[3], i);
    }
    if (present[4]) {
      nt = aicc_tensor_numel(in[4]);
      for (int64_t i = 0; i < nt; i++) sp->steps[i] = aicc_tensor_get_i64(in[4], i);
    }
    if (ne != ns || (na >= 0 && na != ns) || (nt >= 0 && nt != ns))
      return "starts/ends/axes/steps differ in length";
  }
  sp->n = ns;
  bool seen[AICC_MAX_RANK] = {0};
  for (int64_t i = 0; i < ns; i++) {
    if (na < 0) sp->axes[i] = i;
    if (nt < 0) sp->steps[i] = 1;
    int64_t a;
    if (!aicc_index_norm(sp->axes[i], rank, &a)) return "axis out of range";
    if (seen[a]) return "duplicate axis";
    seen[a] = true;
    sp->axes[i] = a;
    if (sp->steps[i] == 0) return "step must not be 0";
  }
  return NULL;
}

/* Clamped start and output length of one sliced axis of size dim. */
static void slice_axis(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t *s0,
                       int64_t *len) {
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  if (step > 0) {
    start = start < 0 ? 0 : start > dim ? dim : start;
    end = end < 0 ? 0 : end > dim ? dim : end;
    *len = end > start ? (end - start - 1) / step + 1 : 0;
  } else {
    start = start < 0 ? -1 : start > dim - 1 ? dim - 1 : start;
    end = end < -1 ? -1 : end > dim - 1 ? dim - 1 : end;
    if (step == INT64_MIN) step = -INT64_MAX;
    *len = start > end ? (start - end - 1) / (-step) + 1 : 0;
  }
  *s0 = start;
}

static aicc_status slice_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = aicc_infer_in_dtype(c, 0);
  if (aicc_infer_unranked(c, dt)) return NULL;
  const aicc_type *x = c->in[0];
  const aicc_tensor *in[5] = {NULL};
  bool present[5] = {false};
  for (int i = 1; i < 5 && i < c->n_in; i++) {
    present[i] = c->in[i] != NULL;
    in[i] = aicc_infer_cin(c, i);
  }
  slice_spec sp;
  bool known;
  const char *why = slice_read(c->node, c->opset, in, present, x->rank, &sp, &known);
  if (why) return aicc_infer_error(c, AICC_ERR_SHAPE, "%s", why);
  aicc_dim out[AICC_MAX_RANK];
  memcpy(out, x->dims, sizeof(aicc_dim) * (size_t)x->rank);
  if (!known) {
    for (int d = 0; d < x->rank; d++) out[d] = aicc_dim_unknown();
  } else {
    for (int64_t i = 0; i < sp.n; i++) {
      int64_t a = sp.axes[i];
      if (aicc_dim_is_known(x->dims[a])) {
        int64_t s0, len;
        slice_axis(x->dims[a].size, sp.starts[i], sp.ends[i], sp.steps[i], &s0, &len);
        out[a] = aicc_dim_known(len);
      } else if (!(sp.starts[i] == 0 && sp.steps[i] == 1 && sp.ends[i] >= INT32_MAX)) {
        /* Only the whole-axis slice x[0:MAX] keeps a symbolic dim. */
        out[a] = aicc_dim_unknown();
      }
    }
  }
  aicc_infer_set(c, 0, dt, x->rank, out);
  return NULL;
}

static aicc_status slice_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  const aicc_tensor *x = c->in[0];
  const aicc_tensor *in[5] = {NULL};
  bool present[5] = {false};
  for (int i = 1; i < 5 && i < c->n_in; i++) {
    present[i] = c->in[i] != NULL;
    in[i] = c->in[i];
  }
  slice_spec sp;
  bool known;
  const char *why = slice_read(c->node, c->opset, in, present, x->rank, &sp, &known);
  if (why || !known)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "%s",
                             why ? why : "slice inputs must be integers");
  int64_t start[AICC_MAX_RANK] = {0}, step[AICC_MAX_RANK], out[AICC_MAX_RANK];
  for (int d = 0; d < x->rank; d++) step[d] = 1, out[d] = x->dims[d];
  for (int64_t i = 0; i < sp.n; i++) {
    int64_t a = sp.axes[i];
    slice_axis(x->dims[a], sp.starts[i], sp.ends[i], sp.steps[i], &start[a], &out[a]);
    step[a] = sp.steps[i];
  }
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, x->rank, out, &y));
  if (aicc_tensor_numel(y) == 0) return NULL;
  int64_t *map[AICC_MAX_RANK], *buf = maps_alloc(out, x->rank, map);
  if (!buf) return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  for (int d = 0; d < x->rank; d++)
    for (int64_t o = 0; o < out[d]; o++) map[d][o] = start[d] + o * step[d];
  return maps_copy(y, out, x, map, buf, NULL);
}

/* ---- Tile ---- */

static aicc_status tile_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = aicc_infer_in_dtype(c, 0);
  if (aicc_infer_unranked(c, dt)) return NULL;
  const aicc_type *x = c->in[0];
  int64_t rep[AICC_MAX_RANK], k;
  aicc_dim out[AICC_MAX_RANK];
  if (!aicc_infer_const_i64s(c, 1, rep, AICC_MAX_RANK, &k)) {
    for (int d = 0; d < x->rank; d++) out[d] = aicc_dim_unknown();
  } else {
    if (k != x->rank)
      return aicc_infer_error(c, AICC_ERR_SHAPE, "repeats length differs from rank");
    for (int d = 0; d < x->rank; d++) {
      if (rep[d] < 0) return aicc_infer_error(c, AICC_ERR_SHAPE, "negative repeat");
      out[d] = rep[d] == 1                     ? x->dims[d]
               : rep[d] == 0                   ? aicc_dim_known(0)
               : aicc_dim_is_known(x->dims[d]) ? aicc_dim_known(x->dims[d].size * rep[d])
                                               : aicc_dim_unknown();
    }
  }
  aicc_infer_set(c, 0, dt, x->rank, out);
  return NULL;
}

static aicc_status tile_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  const aicc_tensor *x = c->in[0];
  int64_t rep[2 * AICC_MAX_RANK], k, out[AICC_MAX_RANK];
  AICC_TRY(read_ints(c, 1, rep, &k));
  if (k != x->rank) return aicc_kernel_error(c, AICC_ERR_SHAPE, "repeats length differs from rank");
  for (int d = 0; d < x->rank; d++) {
    if (rep[d] < 0) return aicc_kernel_error(c, AICC_ERR_SHAPE, "negative repeat");
    if (__builtin_mul_overflow(x->dims[d], rep[d], &out[d]))
      return aicc_kernel_error(c, AICC_ERR_SHAPE, "tiled dim %d overflows", d);
  }
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, x->rank, out, &y));
  if (aicc_tensor_numel(y) == 0) return NULL;
  int64_t *map[AICC_MAX_RANK], *buf = maps_alloc(out, x->rank, map);
  if (!buf) return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  for (int d = 0; d < x->rank; d++)
    for (int64_t o = 0; o < out[d]; o++) map[d][o] = o % x->dims[d];
  return maps_copy(y, out, x, map, buf, NULL);
}

/* ---- Pad ---- */

typedef enum pad_mode { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP } pad_mode;

static bool pad_mode_of(const aicc_node *n, pad_mode *m) {
  const char *s = aicc_node_attr_string(n, "mode", "constant");
  if (strcmp(s, "constant") == 0)
    *m = PAD_CONSTANT;
  else if (strcmp(s, "reflect") == 0)
    *m = PAD_REFLECT;
  else if (strcmp(s, "edge") == 0)
    *m = PAD_EDGE;
  else if (strcmp(s, "wrap") == 0)
    *m = PAD_WRAP;
  else
    return false;
  return true;
}

/* Per-axis begin/end pads (rank entries each) from the attribute (opset <
 * 11: "paddings" in opset 1, "pads" after) or inputs pads/axes. */
static const char *pad_amounts(const aicc_node *n, int opset, const aicc_tensor *pads_in,
                               bool axes_present, const aicc_tensor *axes_in, int rank, int64_t *pb,
                               int64_t *pe, bool *known) {
  *known = true;
  int64_t raw[2 * AICC_MAX_RANK], np, axes[AICC_MAX_RANK], na = rank;
  if (opset < 11) {
    const int64_t *a = aicc_node_attr_ints(n, opset < 2 ? "paddings" : "pads", &np);
    if (!a) return "pads are required";
    if (np > 2 * AICC_MAX_RANK) return "too many pads";
    memcpy(raw, a, sizeof(int64_t) * (size_t)np);
  } else {
    if (!pads_in || !aicc_dtype_is_int(pads_in->dtype) ||
        (axes_present && (!axes_in || !aicc_dtype_is_int(axes_in->dtype)))) {
      *known = false;
      return NULL;
    }
    np = aicc_tensor_numel(pads_in);
    if (np > 2 * AICC_MAX_RANK) return "too many pads";
    for (int64_t i = 0; i < np; i++) raw[i] = aicc_tensor_get_i64(pads_in, i);
  }
  if (axes_present && opset >= 18) {
    na = aicc_tensor_numel(axes_in);
    if (na > AICC_MAX_RANK) return "too many axes";
    for (int64_t i = 0; i < na; i++) axes[i] = aicc_tensor_get_i64(axes_in, i);
  } else {
    for (int d = 0; d < rank; d++) axes[d] = d;
  }
  if (np != 2 * na) return "pads must have twice as many entries as axes";
  memset(pb, 0, sizeof(int64_t) * (size_t)rank);
  memset(pe, 0, sizeof(int64_t) * (size_t)rank);
  for (int64_t i = 0; i < na; i++) {
    int64_t a;
    if (!aicc_index_norm(axes[i], rank, &a)) return "axis out of range";
    pb[a] = raw[i];
    pe[a] = raw[na + i];
  }
  return NULL;
}

static aicc_status pad_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = aicc_infer_in_dtype(c, 0);
  if (aicc_infer_unranked(c, dt)) return NULL;
  const aicc_type *x = c->in[0];
  int64_t pb[AICC_MAX_RANK], pe[AICC_MAX_RANK];
  bool known, axes_present = c->n_in > 3 && c->in[3];
  const char *why = pad_amounts(c->node, c->opset, aicc_infer_cin(c, 1), axes_present,
                                aicc_infer_cin(c, 3), x->rank, pb, pe, &known);
  if (why) return aicc_infer_error(c, AICC_ERR_SHAPE, "%s", why);
  aicc_dim out[AICC_MAX_RANK];
  for (int d = 0; d < x->rank; d++) {
    aicc_dim v = x->dims[d];
    if (!known)
      out[d] = aicc_dim_unknown();
    else if (pb[d] == 0 && pe[d] == 0)
      out[d] = v;
    else if (aicc_dim_is_known(v)) {
      int64_t n;
      if (__builtin_add_overflow(v.size, pb[d], &n) || __builtin_add_overflow(n, pe[d], &n))
        return aicc_infer_error(c, AICC_ERR_SHAPE, "padded dim %d overflows", d);
      if (n < 0) return aicc_infer_error(c, AICC_ERR_SHAPE, "pads crop below zero");
      out[d] = aicc_dim_known(n);
    } else
      out[d] = aicc_dim_unknown();
  }
  aicc_infer_set(c, 0, dt, x->rank, out);
  return NULL;
}

/* Source index for padded position i (relative to the kept range of size n). */
static int64_t pad_src(pad_mode m, int64_t i, int64_t n) {
  if (i >= 0 && i < n) return i;
  switch (m) {
  case PAD_EDGE: return i < 0 ? 0 : n - 1;
  case PAD_WRAP: return ((i % n) + n) % n;
  case PAD_REFLECT: {
    if (n == 1) return 0;
    int64_t period = 2 * (n - 1);
    i = ((i % period) + period) % period;
    return i >= n ? period - i : i;
  }
  default: return -1;
  }
}

static aicc_status pad_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  const aicc_tensor *x = c->in[0];
  pad_mode mode;
  if (!pad_mode_of(c->node, &mode)) return aicc_kernel_error(c, AICC_ERR_INVALID, "unknown mode");
  int64_t pb[AICC_MAX_RANK], pe[AICC_MAX_RANK], out[AICC_MAX_RANK];
  bool known, axes_present = c->n_in > 3 && c->in[3];
  const char *why = pad_amounts(c->node, c->opset, c->n_in > 1 ? c->in[1] : NULL, axes_present,
                                axes_present ? c->in[3] : NULL, x->rank, pb, pe, &known);
  if (why || !known)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "%s", why ? why : "pads must be integers");
  for (int d = 0; d < x->rank; d++) {
    if (__builtin_add_overflow(x->dims[d], pb[d], &out[d]) ||
        __builtin_add_overflow(out[d], pe[d], &out[d]) || out[d] > INT64_MAX / 2)
      return aicc_kernel_error(c, AICC_ERR_SHAPE, "padded dim %d overflows", d);
    if (out[d] < 0) return aicc_kernel_error(c, AICC_ERR_SHAPE, "pads crop below zero");
  }
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, x->rank, out, &y));
  if (aicc_tensor_numel(y) == 0) return NULL;
  /* The fill value: input 2 (opset >= 11) or the float attribute. */
  aicc_tensor *fill = NULL;
  aicc_status s = NULL;
  if (mode == PAD_CONSTANT) {
    if (c->opset >= 11 && c->n_in > 2 && c->in[2] && aicc_tensor_numel(c->in[2]) > 0) {
      if (c->in[2]->dtype != x->dtype)
        return aicc_kernel_error(c, AICC_ERR_SHAPE, "constant_value dtype differs from data");
      fill = aicc_tensor_retain(c->in[2]);
    } else if (c->opset < 11 && aicc_node_attr_float(c->node, "value", 0.f) != 0.f) {
      AICC_TRY(aicc_kernel_wrap(c, aicc_tensor_create(x->dtype, 0, NULL, &fill)));
      aicc_tensor_set_f64(fill, 0, aicc_node_attr_float(c->node, "value", 0.f));
    }
  }
  int64_t *map[AICC_MAX_RANK], *buf = maps_alloc(out, x->rank, map);
  if (!buf) {
    s = aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
    goto done;
  }
  for (int d = 0; d < x->rank; d++) {
    /* Negative pads crop first; the rest pads the kept range [lo, hi). */
    int64_t lo = pb[d] < 0 ? -pb[d] : 0, hi = x->dims[d] - (pe[d] < 0 ? -pe[d] : 0);
    int64_t n = hi - lo, before = pb[d] > 0 ? pb[d] : 0;
    if (n <= 0 && mode != PAD_CONSTANT && out[d] > 0) {
      s = aicc_kernel_error(c, AICC_ERR_SHAPE, "cannot %s-pad an empty axis",
                            aicc_node_attr_string(c->node, "mode", "constant"));
      goto done;
    }
    for (int64_t o = 0; o < out[d]; o++) {
      int64_t q = pad_src(mode, o - before, n);
      map[d][o] = q < 0 ? -1 : lo + q;
    }
  }
  s = maps_copy(y, out, x, map, buf, fill);
  buf = NULL;
done:
  free(buf);
  if (fill) aicc_tensor_release(fill);
  return s;
}

/* ---- CenterCropPad ---- */

static const char *ccp_axes(const aicc_node *n, int rank, int64_t k, int64_t *axes) {
  int64_t na;
  const int64_t *a = aicc_node_attr_ints(n, "axes", &na);
  if (!a) {
    if (k != rank) return "shape length differs from rank";
    for (int d = 0; d < rank; d++) axes[d] = d;
    return NULL;
  }
  if (na != k) return "shape length differs from axes";
  for (int64_t i = 0; i < na; i++) {
    if (!aicc_index_norm(a[i], rank, &axes[i])) return "axis out of range";
  }
  return NULL;
}

static aicc_status ccp_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = aicc_infer_in_dtype(c, 0);
  if (aicc_infer_unranked(c, dt)) return NULL;
  const aicc_type *x = c->in[0];
  aicc_dim out[AICC_MAX_RANK];
  memcpy(out, x->dims, sizeof(aicc_dim) * (size_t)x->rank);
  int64_t shp[AICC_MAX_RANK], k, axes[AICC_MAX_RANK];
  if (!aicc_infer_const_i64s(c, 1, shp, AICC_MAX_RANK, &k)) {
    int64_t na;
    const int64_t *a = aicc_node_attr_ints(c->node, "axes", &na);
    for (int d = 0; d < x->rank; d++) {
      bool hit = !a;
      for (int64_t i = 0; a && i < na; i++) hit |= a[i] == d || a[i] + x->rank == d;
      if (hit) out[d] = aicc_dim_unknown();
    }
  } else {
    const char *why = ccp_axes(c->node, x->rank, k, axes);
    if (why) return aicc_infer_error(c, AICC_ERR_SHAPE, "%s", why);
    for (int64_t i = 0; i < k; i++) out[axes[i]] = aicc_dim_known(shp[i]);
  }
  aicc_infer_set(c, 0, dt, x->rank, out);
  return NULL;
}

static aicc_status ccp_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  const aicc_tensor *x = c->in[0];
  int64_t shp[2 * AICC_MAX_RANK], k, axes[AICC_MAX_RANK], out[AICC_MAX_RANK];
  AICC_TRY(read_ints(c, 1, shp, &k));
  const char *why = ccp_axes(c->node, x->rank, k, axes);
  if (why) return aicc_kernel_error(c, AICC_ERR_SHAPE, "%s", why);
  memcpy(out, x->dims, sizeof(int64_t) * (size_t)x->rank);
  for (int64_t i = 0; i < k; i++) {
    if (shp[i] < 0) return aicc_kernel_error(c, AICC_ERR_SHAPE, "negative target size");
    out[axes[i]] = shp[i];
  }
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, x->rank, out, &y));
  if (aicc_tensor_numel(y) == 0) return NULL;
  int64_t *map[AICC_MAX_RANK], *buf = maps_alloc(out, x->rank, map);
  if (!buf) return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  for (int d = 0; d < x->rank; d++) {
    /* Crop keeps the centre (offset rounded down); pad centres the input
     * the same way, with zeros around it. */
    int64_t n = x->dims[d], shift = out[d] < n ? (n - out[d]) / 2 : -((out[d] - n) / 2);
    for (int64_t o = 0; o < out[d]; o++) {
      int64_t q = o + shift;
      map[d][o] = q >= 0 && q < n ? q : -1;
    }
  }
  return maps_copy(y, out, x, map, buf, NULL);
}

/* ---- table ---- */

static const aicc_attr_spec axis_attrs[] = {AICC_A_INT("axis"), AICC_A_END};
static const aicc_attr_spec split_attrs[] = {AICC_A_INT("axis"), AICC_A_INTS("split"),
                                             AICC_A_INT("num_outputs"), AICC_A_END};
static const aicc_attr_spec slice1_attrs[] = {AICC_A_INTS("starts"), AICC_A_INTS("ends"),
                                              AICC_A_INTS("axes"), AICC_A_END};
static const aicc_attr_spec pad1_attrs[] = {AICC_A_INTS("paddings"), AICC_A_STRING("mode"),
                                            AICC_A_FLOAT("value"), AICC_A_END};
static const aicc_attr_spec pad2_attrs[] = {AICC_A_INTS("pads"), AICC_A_STRING("mode"),
                                            AICC_A_FLOAT("value"), AICC_A_END};
static const aicc_attr_spec pad11_attrs[] = {AICC_A_STRING("mode"), AICC_A_END};
static const aicc_attr_spec ccp_attrs[] = {AICC_A_INTS("axes"), AICC_A_END};

static const aicc_op ops[] = {
    /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
    {"Concat", "", 1, 0, 1, AICC_VARIADIC, 1, 1, axis_attrs, concat_infer, concat_kernel},
    {"Split", "", 1, 0, 1, 2, 1, AICC_VARIADIC, split_attrs, split_infer, split_kernel},
    {"Slice", "", 1, 9, 1, 1, 1, 1, slice1_attrs, slice_infer, slice_kernel},
    {"Slice", "", 10, 0, 3, 5, 1, 1, NULL, slice_infer, slice_kernel},
    {"Tile", "", 6, 0, 2, 2, 1, 1, NULL, tile_infer, tile_kernel},
    {"Pad", "", 1, 1, 1, 1, 1, 1, pad1_attrs, pad_infer, pad_kernel},
    {"Pad", "", 2, 10, 1, 1, 1, 1, pad2_attrs, pad_infer, pad_kernel},
    {"Pad", "", 11, 0, 2, 4, 1, 1, pad11_attrs, pad_infer, pad_kernel},
    {"CenterCropPad", "", 18, 0, 2, 2, 1, 1, ccp_attrs, ccp_infer, ccp_kernel},
};
const aicc_op_family aicc_family_slice = {"slice", ops, sizeof ops / sizeof ops[0]};
