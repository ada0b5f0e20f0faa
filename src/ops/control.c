/* Control flow: If, Loop and Scan. Kernels run their subgraphs through the
 * interpreter (aicc_interp_run_subgraph); inference reads the subgraphs'
 * declared output types. Values crossing iterations are passed by reference
 * (tensors are immutable once produced), so a loop copies only what it stacks. */
#include "ops/util.h"
#include "ops/util_elem.h"
#include "interp/interp.h"
#include "ir/tensor_float.h"

#include <stdlib.h>
#include <string.h>

/* --- helpers --- */

static aicc_status cf_wrap(const aicc_kernel_ctx *c, aicc_status s) {
  if (!s) return NULL;
  aicc_status e = aicc_kernel_error(c, aicc_status_code(s), "%s", aicc_status_message(s));
  aicc_status_free(s);
  return e;
}

/* The least type that describes both a and b: dims that differ become
 * unknown, differing ranks make the rank unknown, differing kinds or dtypes
 * leave nothing known. */
static aicc_type cf_type_merge(const aicc_type *a, const aicc_type *b) {
  aicc_type r = *a;
  if (a->kind == AICC_KIND_NONE || b->kind == AICC_KIND_NONE || a->kind != b->kind ||
      a->dtype != b->dtype || a->elem_kind != b->elem_kind) {
    memset(&r, 0, sizeof r);
    r.rank = -1;
    return r;
  }
  aicc_type_join_shape(&r, a, b);
  return r;
}

/* t with a dimension `dim` inserted at `axis` (a tensor type). */
static aicc_type cf_type_insert_dim(const aicc_type *t, int axis, aicc_dim dim) {
  aicc_type r = *t;
  r.kind = AICC_KIND_TENSOR;
  if (t->rank < 0 || t->rank >= AICC_MAX_RANK || axis < 0 || axis > t->rank) {
    r.rank = -1;
    return r;
  }
  for (int d = t->rank; d > axis; d--) r.dims[d] = t->dims[d - 1];
  r.dims[axis] = dim;
  r.rank = t->rank + 1;
  return r;
}

/* Truth value of a boolean (or numeric) single-element tensor. */
static aicc_status cf_read_bool(const aicc_kernel_ctx *c, const aicc_tensor *t,
                                const char *what, bool *out) {
  if (!t || t->kind != AICC_KIND_TENSOR || aicc_tensor_numel(t) != 1)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "%s must be a single-element tensor", what);
  *out = aicc_tensor_get_f64(t, 0) != 0;
  return NULL;
}

/* outer/inner extents of x around axis. */
static void cf_split_dims(const int64_t *dims, int rank, int axis, int64_t *outer,
                          int64_t *inner) {
  *outer = 1;
  *inner = 1;
  for (int d = 0; d < axis; d++) *outer *= dims[d];
  for (int d = axis + 1; d < rank; d++) *inner *= dims[d];
}

/* New tensor: x at index i along axis (that axis removed). */
static aicc_status cf_slice(const aicc_tensor *x, int axis, int64_t i, aicc_tensor **out) {
  int64_t dims[AICC_MAX_RANK], outer, inner;
  int r = 0;
  for (int d = 0; d < x->rank; d++)
    if (d != axis) dims[r++] = x->dims[d];
  AICC_TRY(aicc_tensor_create(x->dtype, r, dims, out));
  cf_split_dims(x->dims, x->rank, axis, &outer, &inner);
  for (int64_t o = 0; o < outer; o++) {
    aicc_status s = aicc_elem_copy(*out, o * inner, x, (o * x->dims[axis] + i) * inner, inner);
    if (s) {
      aicc_tensor_release(*out);
      *out = NULL;
      return s;
    }
  }
  return NULL;
}

/* Writes y (rank r) into Y (rank r+1) at index i along axis. */
static aicc_status cf_place(aicc_tensor *Y, int axis, int64_t i, const aicc_tensor *y) {
  int64_t outer, inner;
  cf_split_dims(Y->dims, Y->rank, axis, &outer, &inner);
  for (int64_t o = 0; o < outer; o++)
    AICC_TRY(aicc_elem_copy(Y, (o * Y->dims[axis] + i) * inner, y, o * inner, inner));
  return NULL;
}

/* Checks that y has the dtype and shape of the first slice (the stacked
 * output needs one shape). */
static aicc_status cf_check_like(const aicc_kernel_ctx *c, const aicc_tensor *y,
                                 const aicc_tensor *first, int k) {
  if (!y || y->kind != AICC_KIND_TENSOR)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "scan output %d is not a tensor", k);
  bool same = y->dtype == first->dtype && y->rank == first->rank;
  for (int d = 0; same && d < y->rank; d++) same = y->dims[d] == first->dims[d];
  if (!same) {
    char a[96], b[96];
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "scan output %d changes shape across iterations: %s vs %s",
                             k, aicc_tensor_describe(first, a, sizeof a),
                             aicc_tensor_describe(y, b, sizeof b));
  }
  return NULL;
}

/* Creates an output stacking `n` slices along axis; when there are none,
 * the slice shape comes from the declared type (unknown dims as 0). */
static aicc_status cf_stack_create(aicc_kernel_ctx *c, int oi, const aicc_tensor *first,
                                   const aicc_type *decl, int axis, int64_t n,
                                   aicc_tensor **out) {
  int64_t dims[AICC_MAX_RANK];
  aicc_dtype dt;
  int r;
  if (first) {
    dt = first->dtype;
    r = first->rank;
    memcpy(dims, first->dims, sizeof(int64_t) * (size_t)r);
  } else {
    dt = decl->dtype != AICC_DTYPE_UNDEFINED ? decl->dtype : AICC_DTYPE_F32;
    r = decl->rank < 0 ? 0 : decl->rank;
    for (int d = 0; d < r; d++) dims[d] = aicc_dim_is_known(decl->dims[d]) ? decl->dims[d].size : 0;
  }
  if (r + 1 > AICC_MAX_RANK) return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "rank too large");
  if (axis < 0) axis += r + 1;
  if (axis < 0 || axis > r)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "scan output axis out of range");
  for (int d = r; d > axis; d--) dims[d] = dims[d - 1];
  dims[axis] = n;
  return aicc_kernel_output(c, oi, dt, r + 1, dims, out);
}

static void cf_release_all(aicc_tensor **v, size_t n) {
  if (!v) return;
  for (size_t i = 0; i < n; i++) {
    aicc_tensor_release(v[i]);
    v[i] = NULL;
  }
}

/* --- If --- */

static aicc_status if_infer(aicc_infer_ctx *c) {
  aicc_graph *gt = aicc_node_attr_graph(c->node, "then_branch");
  aicc_graph *ge = aicc_node_attr_graph(c->node, "else_branch");
  if (!gt || !ge) return aicc_infer_error(c, AICC_ERR_INVALID, "missing branch");
  if ((int)gt->outputs.len != c->n_out || (int)ge->outputs.len != c->n_out)
    return aicc_infer_error(c, AICC_ERR_INVALID, "branches have %zu and %zu outputs, node has %d",
                            gt->outputs.len, ge->outputs.len, c->n_out);
  const aicc_tensor *cond = c->cin ? c->cin[0] : NULL;
  if (cond && cond->kind == AICC_KIND_TENSOR && aicc_tensor_numel(cond) == 1) {
    aicc_graph *g = aicc_tensor_get_f64(cond, 0) != 0 ? gt : ge;
    for (int i = 0; i < c->n_out; i++) c->out[i] = g->outputs.data[i]->type;
    return NULL;
  }
  for (int i = 0; i < c->n_out; i++)
    c->out[i] = cf_type_merge(&gt->outputs.data[i]->type, &ge->outputs.data[i]->type);
  return NULL;
}

static aicc_status if_kernel(aicc_kernel_ctx *c) {
  bool cond;
  AICC_TRY(cf_read_bool(c, c->in[0], "cond", &cond));
  aicc_graph *g = aicc_node_attr_graph(c->node, cond ? "then_branch" : "else_branch");
  if (!g) return aicc_kernel_error(c, AICC_ERR_INVALID, "missing branch");
  if ((int)g->outputs.len != c->n_out)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "branch has %zu outputs, node has %d",
                             g->outputs.len, c->n_out);
  return aicc_interp_run_subgraph(c->interp, g, NULL, 0, c->out, c->n_out);
}

/* --- Loop --- */

static aicc_status loop_infer(aicc_infer_ctx *c) {
  aicc_graph *g = aicc_node_attr_graph(c->node, "body");
  if (!g) return aicc_infer_error(c, AICC_ERR_INVALID, "missing body");
  int n_carried = c->n_in - 2;
  int n_scan = c->n_out - n_carried;
  if (n_carried < 0 || n_scan < 0 || (int)g->outputs.len != 1 + n_carried + n_scan)
    return aicc_infer_error(c, AICC_ERR_INVALID,
                            "body has %zu outputs, expected 1 + %d carried + %d scan",
                            g->outputs.len, n_carried, n_scan);
  for (int i = 0; i < n_carried; i++) {
    const aicc_type *bt = &g->outputs.data[1 + i]->type;
    c->out[i] = c->in[2 + i] ? cf_type_merge(c->in[2 + i], bt) : *bt;
  }
  for (int k = 0; k < n_scan; k++)
    c->out[n_carried + k] =
        cf_type_insert_dim(&g->outputs.data[1 + n_carried + k]->type, 0, aicc_dim_unknown());
  return NULL;
}

static aicc_status scalar_tensor(aicc_dtype dt, int64_t v, aicc_tensor **out) {
  AICC_TRY(aicc_tensor_create(dt, 0, NULL, out));
  aicc_tensor_set_i64(*out, 0, v);
  return NULL;
}

typedef AICC_VEC(aicc_tensor *) cf_tensor_vec;

static aicc_status loop_kernel(aicc_kernel_ctx *c) {
  aicc_graph *g = aicc_node_attr_graph(c->node, "body");
  if (!g) return aicc_kernel_error(c, AICC_ERR_INVALID, "missing body");
  int n_carried = c->n_in - 2, n_scan = c->n_out - n_carried;
  if (n_carried < 0 || n_scan < 0 || (int)g->outputs.len != 1 + n_carried + n_scan ||
      (int)g->inputs.len != 2 + n_carried)
    return aicc_kernel_error(c, AICC_ERR_INVALID,
                             "body arity %zu->%zu does not match %d carried and %d scan values",
                             g->inputs.len, g->outputs.len, n_carried, n_scan);
  int64_t max_trip = INT64_MAX;
  if (c->in[0]) {
    const aicc_tensor *m = c->in[0];
    if (m->kind != AICC_KIND_TENSOR || !aicc_dtype_is_int(m->dtype) || aicc_tensor_numel(m) != 1)
      return aicc_kernel_error(c, AICC_ERR_INVALID, "M must be an integer scalar");
    max_trip = aicc_tensor_get_i64(m, 0);
  }
  bool cond = true;
  if (c->in[1]) AICC_TRY(cf_read_bool(c, c->in[1], "cond", &cond));

  int n_body_out = 1 + n_carried + n_scan;
  aicc_tensor **args = calloc((size_t)(2 + n_carried), sizeof *args);
  aicc_tensor **res = calloc((size_t)n_body_out, sizeof *res);
  cf_tensor_vec *scans = calloc((size_t)(n_scan ? n_scan : 1), sizeof *scans);
  aicc_status s = NULL;
  if (!args || !res || !scans) s = aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  for (int i = 0; i < n_carried && !s; i++) args[2 + i] = aicc_tensor_retain(c->in[2 + i]);

  for (int64_t it = 0; !s && it < max_trip && cond; it++) {
    s = scalar_tensor(AICC_DTYPE_I64, it, &args[0]);
    if (!s) s = scalar_tensor(AICC_DTYPE_BOOL, cond, &args[1]);
    if (!s) s = aicc_interp_run_subgraph(c->interp, g, args, 2 + n_carried, res, n_body_out);
    cf_release_all(args, 2);
    if (s) break;
    s = cf_read_bool(c, res[0], "body cond output", &cond);
    for (int i = 0; i < n_carried; i++) {
      aicc_tensor_release(args[2 + i]);
      args[2 + i] = res[1 + i];
      res[1 + i] = NULL;
    }
    for (int k = 0; k < n_scan && !s; k++) {
      aicc_tensor *y = res[1 + n_carried + k];
      if (scans[k].len) s = cf_check_like(c, y, scans[k].data[0], k);
      else if (!y || y->kind != AICC_KIND_TENSOR)
        s = aicc_kernel_error(c, AICC_ERR_INVALID, "scan output %d is not a tensor", k);
      if (!s && !aicc_vec_push(&scans[k], y)) s = aicc_errorf(AICC_ERR_NOMEM, "out of memory");
      if (!s) res[1 + n_carried + k] = NULL;
    }
    cf_release_all(res, (size_t)n_body_out);
  }

  for (int i = 0; i < n_carried && !s; i++) {
    c->out[i] = args[2 + i];
    args[2 + i] = NULL;
  }
  for (int k = 0; k < n_scan && !s; k++) {
    if (!c->want[n_carried + k]) continue;
    aicc_tensor *Y;
    const aicc_tensor *first = scans[k].len ? scans[k].data[0] : NULL;
    s = cf_stack_create(c, n_carried + k, first, &g->outputs.data[1 + n_carried + k]->type, 0,
                        (int64_t)scans[k].len, &Y);
    for (size_t t = 0; t < scans[k].len && !s; t++) s = cf_place(Y, 0, (int64_t)t, scans[k].data[t]);
  }

  if (args) cf_release_all(args, (size_t)(2 + n_carried));
  if (res) cf_release_all(res, (size_t)n_body_out);
  for (int k = 0; scans && k < n_scan; k++) {
    cf_release_all(scans[k].data, scans[k].len);
    aicc_vec_free(&scans[k]);
  }
  free(args);
  free(res);
  free(scans);
  return s;
}

/* --- Scan --- */

/* One scan over `len` steps: the shared core of Scan 8 (per batch entry)
 * and Scan 9+. states: n_state references (consumed, replaced by the final
 * states); xs: scan inputs; out_scans: K stacked outputs, created here
 * unless preallocated (then `total` steps long, zero past len). */
typedef struct scan_plan {
  int n_state, n_in, n_out;      /* state vars, scan inputs, scan outputs */
  const int64_t *in_axes, *in_dirs;
  const int64_t *out_axes, *out_dirs;
} scan_plan;

static aicc_status scan_run(aicc_kernel_ctx *c, const aicc_graph *g, const scan_plan *p,
                            aicc_tensor **states, aicc_tensor *const *xs, int64_t len,
                            aicc_tensor **ys, int y_out_base, int64_t total) {
  int n_args = p->n_state + p->n_in, n_res = p->n_state + p->n_out;
  aicc_tensor **args = calloc((size_t)n_args + 1, sizeof *args);
  aicc_tensor **res = calloc((size_t)n_res + 1, sizeof *res);
  aicc_status s = args && res ? NULL : aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  for (int64_t t = 0; t < len && !s; t++) {
    for (int i = 0; i < p->n_state; i++) args[i] = states[i];
    for (int j = 0; j < p->n_in && !s; j++) {
      int64_t at = p->in_dirs[j] ? len - 1 - t : t;
      s = cf_slice(xs[j], (int)p->in_axes[j], at, &args[p->n_state + j]);
    }
    if (!s) s = aicc_interp_run_subgraph(c->interp, g, args, n_args, res, n_res);
    for (int j = 0; j < p->n_in; j++) {
      aicc_tensor_release(args[p->n_state + j]);
      args[p->n_state + j] = NULL;
    }
    if (s) break;
    for (int i = 0; i < p->n_state; i++) {
      aicc_tensor_release(states[i]);
      states[i] = res[i];
      res[i] = NULL;
    }
    for (int k = 0; k < p->n_out && !s; k++) {
      aicc_tensor *y = res[p->n_state + k];
      if (!y || y->kind != AICC_KIND_TENSOR) {
        s = aicc_kernel_error(c, AICC_ERR_INVALID, "scan output %d is not a tensor", k);
        break;
      }
      if (!ys[k]) {
        s = cf_stack_create(c, y_out_base + k, y, NULL, (int)p->out_axes[k], total, &ys[k]);
        if (s) break;
        ys[k] = aicc_tensor_retain(ys[k]);
      }
      int axis = (int)p->out_axes[k];
      if (axis < 0) axis += y->rank + 1;
      /* the stacked output must hold this slice's shape */
      bool fits = ys[k]->rank == y->rank + 1 && ys[k]->dtype == y->dtype;
      for (int d = 0, e = 0; fits && d < ys[k]->rank; d++)
        if (d != axis) fits = ys[k]->dims[d] == y->dims[e++];
      if (!fits) {
        s = aicc_kernel_error(c, AICC_ERR_SHAPE, "scan output %d changes shape across iterations", k);
        break;
      }
      s = cf_place(ys[k], axis, p->out_dirs[k] ? len - 1 - t : t, y);
    }
    cf_release_all(res, (size_t)n_res);
  }
  if (res) cf_release_all(res, (size_t)n_res);
  free(args);
  free(res);
  return s;
}

static aicc_status scan_read_axes(aicc_kernel_ctx *c, const char *name, int n,
                                  int64_t *out) {
  int64_t len;
  const int64_t *v = aicc_node_attr_ints(c->node, name, &len);
  for (int i = 0; i < n; i++) out[i] = 0;
  if (!v) return NULL;
  if (len != n)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "%s has %lld entries, expected %d", name,
                             (long long)len, n);
  memcpy(out, v, sizeof(int64_t) * (size_t)n);
  return NULL;
}

static aicc_status scan9_kernel(aicc_kernel_ctx *c) {
  aicc_graph *g = aicc_node_attr_graph(c->node, "body");
  if (!g) return aicc_kernel_error(c, AICC_ERR_INVALID, "missing body");
  int m = (int)aicc_node_attr_int(c->node, "num_scan_inputs", 0);
  int n_state = c->n_in - m, n_out = c->n_out - n_state;
  if (m <= 0 || n_state < 0 || n_out < 0 || (int)g->inputs.len != c->n_in ||
      (int)g->outputs.len != c->n_out)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "body arity %zu->%zu does not match the node",
                             g->inputs.len, g->outputs.len);
  int64_t *buf = calloc((size_t)(2 * m + 2 * n_out + 1), sizeof *buf);
  aicc_tensor **states = calloc((size_t)n_state + 1, sizeof *states);
  aicc_tensor **ys = calloc((size_t)n_out + 1, sizeof *ys);
  aicc_status s = buf && states && ys ? NULL : aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  scan_plan p = {n_state, m, n_out, buf, buf + m, buf + 2 * m, buf + 2 * m + n_out};
  if (!s) s = scan_read_axes(c, "scan_input_axes", m, buf);
  if (!s) s = scan_read_axes(c, "scan_input_directions", m, buf + m);
  if (!s) s = scan_read_axes(c, "scan_output_axes", n_out, buf + 2 * m);
  if (!s) s = scan_read_axes(c, "scan_output_directions", n_out, buf + 2 * m + n_out);
  int64_t len = -1;
  for (int j = 0; j < m && !s; j++) {
    const aicc_tensor *x = c->in[n_state + j];
    int64_t ax;
    if (!x || x->kind != AICC_KIND_TENSOR) {
      s = aicc_kernel_error(c, AICC_ERR_INVALID, "scan input %d must be a tensor", j);
      break;
    }
    s = cf_wrap(c, aicc_axis_norm(buf[j], x->rank, &ax));
    if (s) break;
    buf[j] = ax;
    if (len >= 0 && x->dims[ax] != len)
      s = aicc_kernel_error(c, AICC_ERR_SHAPE, "scan inputs differ in length (%lld vs %lld)",
                            (long long)len, (long long)x->dims[ax]);
    len = x->dims[ax];
  }
  for (int i = 0; i < n_state && !s; i++) states[i] = aicc_tensor_retain(c->in[i]);
  if (!s) s = scan_run(c, g, &p, states, c->in + n_state, len, ys, n_state, len);
  /* With zero steps, the stacked outputs take the body's declared shapes. */
  for (int k = 0; k < n_out && !s; k++)
    if (!ys[k]) {
      s = cf_stack_create(c, n_state + k, NULL, &g->outputs.data[n_state + k]->type,
                          (int)p.out_axes[k], 0, &ys[k]);
      if (!s) ys[k] = aicc_tensor_retain(ys[k]);
    }
  for (int i = 0; i < n_state && !s; i++) {
    c->out[i] = states[i];
    states[i] = NULL;
  }
  if (states) cf_release_all(states, (size_t)n_state);
  if (ys) cf_release_all(ys, (size_t)n_out);
  free(states);
  free(ys);
  free(buf);
  return s;
}

/* Scan 8: every input carries a leading batch axis; the scan axis is 1 and
 * sequence_lens (input 0, optional) bounds each batch entry's steps; the
 * stacked outputs are zero past an entry's length. */
static aicc_status scan8_kernel(aicc_kernel_ctx *c) {
  aicc_graph *g = aicc_node_attr_graph(c->node, "body");
  if (!g) return aicc_kernel_error(c, AICC_ERR_INVALID, "missing body");
  int m = (int)aicc_node_attr_int(c->node, "num_scan_inputs", 0);
  int n_state = c->n_in - 1 - m, n_out = c->n_out - n_state;
  if (m <= 0 || n_state < 0 || n_out < 0 || (int)g->inputs.len != c->n_in - 1 ||
      (int)g->outputs.len != c->n_out)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "body arity %zu->%zu does not match the node",
                             g->inputs.len, g->outputs.len);
  for (int i = 1; i < c->n_in; i++)
    if (!c->in[i] || c->in[i]->kind != AICC_KIND_TENSOR || c->in[i]->rank < 1 + (i > n_state))
      return aicc_kernel_error(c, AICC_ERR_INVALID, "input %d must be a batched tensor", i);
  int64_t batch = c->in[1]->dims[0], total = c->in[1 + n_state]->dims[1];
  for (int i = 1; i < c->n_in; i++)
    if (c->in[i]->dims[0] != batch || (i > n_state && c->in[i]->dims[1] != total))
      return aicc_kernel_error(c, AICC_ERR_SHAPE, "input %d disagrees on batch or sequence length", i);
  const aicc_tensor *lens = c->in[0];
  if (lens && (lens->kind != AICC_KIND_TENSOR || aicc_tensor_numel(lens) != batch))
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "sequence_lens must have %lld entries",
                             (long long)batch);
  int64_t dirs_len;
  const int64_t *dirs = aicc_node_attr_ints(c->node, "directions", &dirs_len);
  if (dirs && dirs_len != m)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "directions has %lld entries, expected %d",
                             (long long)dirs_len, m);
  int64_t *buf = calloc((size_t)(2 * m + 2 * n_out + 1), sizeof *buf);
  aicc_tensor **states = calloc((size_t)n_state + 1, sizeof *states);
  aicc_tensor **xs = calloc((size_t)m + 1, sizeof *xs);
  aicc_tensor **ys = calloc((size_t)n_out + 1, sizeof *ys);
  aicc_tensor **outs = calloc((size_t)c->n_out + 1, sizeof *outs);
  aicc_status s = buf && states && xs && ys && outs ? NULL : aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  scan_plan p = {n_state, m, n_out, buf, buf + m, buf + 2 * m, buf + 2 * m + n_out};
  for (int j = 0; j < m && buf; j++) buf[m + j] = dirs ? dirs[j] : 0;
  for (int64_t b = 0; b < batch && !s; b++) {
    int64_t len = lens ? aicc_tensor_get_i64(lens, b) : total;
    if (len < 0 || len > total) {
      s = aicc_kernel_error(c, AICC_ERR_INVALID, "sequence length %lld out of range", (long long)len);
      break;
    }
    for (int i = 0; i < n_state && !s; i++) s = cf_slice(c->in[1 + i], 0, b, &states[i]);
    for (int j = 0; j < m && !s; j++) s = cf_slice(c->in[1 + n_state + j], 0, b, &xs[j]);
    /* Per entry, ys are fresh [total, ...] slices that we place into the
     * batched output afterwards. */
    if (!s) s = scan_run(c, g, &p, states, xs, len, ys, n_state, total);
    for (int i = 0; i < c->n_out && !s; i++) {
      aicc_tensor *v = i < n_state ? states[i] : ys[i - n_state];
      if (!v) continue; /* a scan output with zero steps: left zero */
      if (!outs[i]) {
        int64_t dims[AICC_MAX_RANK];
        if (v->rank + 1 > AICC_MAX_RANK) {
          s = aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "rank too large");
          break;
        }
        dims[0] = batch;
        memcpy(dims + 1, v->dims, sizeof(int64_t) * (size_t)v->rank);
        s = aicc_tensor_create(v->dtype, v->rank + 1, dims, &outs[i]);
        if (s) break;
      }
      bool fits = outs[i]->rank == v->rank + 1 && outs[i]->dtype == v->dtype;
      for (int d = 0; fits && d < v->rank; d++) fits = outs[i]->dims[d + 1] == v->dims[d];
      if (!fits) s = aicc_kernel_error(c, AICC_ERR_SHAPE, "output %d differs across the batch", i);
      else s = cf_place(outs[i], 0, b, v);
    }
    if (states) cf_release_all(states, (size_t)n_state);
    if (xs) cf_release_all(xs, (size_t)m);
    if (ys) cf_release_all(ys, (size_t)n_out);
    /* the stacked outputs were registered as c->out by cf_stack_create */
    for (int k = 0; k < n_out; k++) {
      aicc_tensor_release(c->out[n_state + k]);
      c->out[n_state + k] = NULL;
    }
  }
  for (int i = 0; i < c->n_out && !s; i++) {
    if (!outs[i]) {
      /* batch 0 or zero steps everywhere: shape from the declared body types */
      const aicc_type *t = &g->outputs.data[i]->type;
      int64_t dims[AICC_MAX_RANK];
      int r = t->rank < 0 ? 0 : t->rank, extra = i < n_state ? 1 : 2;
      if (r + extra > AICC_MAX_RANK) {
        s = aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "rank too large");
        break;
      }
      dims[0] = batch;
      if (extra == 2) dims[1] = total;
      for (int d = 0; d < r; d++)
        dims[extra + d] = aicc_dim_is_known(t->dims[d]) ? t->dims[d].size : 0;
      s = aicc_tensor_create(t->dtype ? t->dtype : AICC_DTYPE_F32, r + extra, dims, &outs[i]);
      if (s) break;
    }
    c->out[i] = outs[i];
    outs[i] = NULL;
  }
  if (outs) cf_release_all(outs, (size_t)c->n_out);
  free(outs);
  free(states);
  free(xs);
  free(ys);
  free(buf);
  return s;
}

static aicc_status scan_kernel(aicc_kernel_ctx *c) {
  return c->opset < 9 ? scan8_kernel(c) : scan9_kernel(c);
}

static aicc_status scan_infer(aicc_infer_ctx *c) {
  aicc_graph *g = aicc_node_attr_graph(c->node, "body");
  if (!g) return aicc_infer_error(c, AICC_ERR_INVALID, "missing body");
  int m = (int)aicc_node_attr_int(c->node, "num_scan_inputs", 0);
  bool v8 = c->opset < 9;
  int first = v8 ? 1 : 0;
  int n_state = c->n_in - first - m, n_out = c->n_out - n_state;
  if (m <= 0 || n_state < 0 || n_out < 0 || (int)g->outputs.len != c->n_out)
    return aicc_infer_error(c, AICC_ERR_INVALID, "body has %zu outputs, node has %d",
                            g->outputs.len, c->n_out);
  /* Sequence length from the first scan input, when known. */
  aicc_dim len = aicc_dim_unknown(), batch = aicc_dim_unknown();
  const aicc_type *x0 = c->in[first + n_state];
  if (v8) {
    if (x0 && x0->rank >= 2) {
      batch = x0->dims[0];
      len = x0->dims[1];
    }
  } else if (x0 && x0->rank >= 1) {
    int64_t n;
    const int64_t *axes = aicc_node_attr_ints(c->node, "scan_input_axes", &n);
    int64_t ax = axes && n > 0 ? axes[0] : 0;
    if (ax < 0) ax += x0->rank;
    if (ax >= 0 && ax < x0->rank) len = x0->dims[ax];
  }
  for (int i = 0; i < n_state; i++) {
    const aicc_type *bt = &g->outputs.data[i]->type;
    const aicc_type *it = c->in[first + i];
    if (v8) c->out[i] = it ? *it : cf_type_insert_dim(bt, 0, batch);
    else c->out[i] = it ? cf_type_merge(it, bt) : *bt;
  }
  int64_t n_axes = 0;
  const int64_t *oaxes = v8 ? NULL : aicc_node_attr_ints(c->node, "scan_output_axes", &n_axes);
  for (int k = 0; k < n_out; k++) {
    const aicc_type *bt = &g->outputs.data[n_state + k]->type;
    if (v8) {
      aicc_type t = cf_type_insert_dim(bt, 0, len);
      c->out[n_state + k] = cf_type_insert_dim(&t, 0, batch);
      continue;
    }
    int64_t ax = oaxes && k < n_axes ? oaxes[k] : 0;
    if (ax < 0 && bt->rank >= 0) ax += bt->rank + 1;
    c->out[n_state + k] = cf_type_insert_dim(bt, (int)ax, len);
  }
  return NULL;
}

/* --- the table --- */

static const aicc_attr_spec if_attrs[] = {AICC_A_GRAPH("then_branch"),
                                          AICC_A_GRAPH("else_branch"), AICC_A_END};
static const aicc_attr_spec loop_attrs[] = {AICC_A_GRAPH("body"), AICC_A_END};
static const aicc_attr_spec scan8_attrs[] = {AICC_A_GRAPH("body"),
                                             {"num_scan_inputs", AICC_ATTR_INT, true},
                                             AICC_A_INTS("directions"), AICC_A_END};
static const aicc_attr_spec scan9_attrs[] = {
    AICC_A_GRAPH("body"),
    {"num_scan_inputs", AICC_ATTR_INT, true},
    AICC_A_INTS("scan_input_axes"),
    AICC_A_INTS("scan_input_directions"),
    AICC_A_INTS("scan_output_axes"),
    AICC_A_INTS("scan_output_directions"),
    AICC_A_END};

static const aicc_op ops[] = {
  /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
  {"If", "", 1, 0, 1, 1, 1, AICC_VARIADIC, if_attrs, if_infer, if_kernel},
  {"Loop", "", 1, 0, 2, AICC_VARIADIC, 1, AICC_VARIADIC, loop_attrs, loop_infer, loop_kernel},
  {"Scan", "", 8, 8, 2, AICC_VARIADIC, 1, AICC_VARIADIC, scan8_attrs, scan_infer, scan_kernel},
  {"Scan", "", 9, 0, 1, AICC_VARIADIC, 1, AICC_VARIADIC, scan9_attrs, scan_infer, scan_kernel},
};
const aicc_op_family aicc_family_control = {"control", ops, sizeof ops / sizeof ops[0]};
