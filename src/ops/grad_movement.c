/* Gradient rules of window and broadcast ops: Expand sums dy back, Split
 * concatenates the outputs' gradients, Pad (constant mode) slices dy, and
 * Slice rebuilds x's shape from dy with reversal, zero interleaving for
 * steps and padding. Needs constant slice/pad operands and static shapes
 * where they set sizes. Defines no op family. */
#include "ops/grad_util.h"

#include <string.h>

#define X(i) (c->node->inputs[i])
#define Y(i) (c->node->outputs[i])
#define TRY AICC_TRY

static int opset_of(const aicc_grad_ctx *c) { return aicc_model_opset(c->graph->model, ""); }

/* Reads an int list from input k (when present) or attribute `name`.
 * *n -1: neither is given. */
static aicc_status ints_of(aicc_grad_ctx *c, int k, const char *name, int64_t *v, int *n) {
  *n = -1;
  if (k >= 0 && c->node->n_inputs > k && X(k)) {
    const aicc_tensor *t = aicc_grad_const_of(X(k));
    if (!t) return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "gradient needs constant input %d", k);
    int64_t len = aicc_tensor_numel(t);
    if (len > 2 * AICC_MAX_RANK) return aicc_grad_error(c, AICC_ERR_INVALID, "input %d too long", k);
    for (int64_t i = 0; i < len; i++) v[i] = aicc_tensor_get_i64(t, i);
    *n = (int)len;
    return NULL;
  }
  int64_t len;
  const int64_t *a = name ? aicc_node_attr_ints(c->node, name, &len) : NULL;
  if (a) {
    if (len > 2 * AICC_MAX_RANK) return aicc_grad_error(c, AICC_ERR_INVALID, "%s too long", name);
    for (int64_t i = 0; i < len; i++) v[i] = a[i];
    *n = (int)len;
  }
  return NULL;
}

static aicc_status need_static(aicc_grad_ctx *c, const aicc_value *v) {
  if (!aicc_type_is_static(&v->type))
    return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "gradient needs the static shape of '%s'", v->name);
  return NULL;
}

/* Slice of x along one axis, [start, end) with step, for any opset. */
static aicc_status slice_axis(aicc_grad_ctx *c, aicc_value *x, int64_t axis, int64_t start,
                              int64_t end, int64_t step, aicc_value **out) {
  if (opset_of(c) >= 10) {
    aicc_value *in[5] = {x};
    TRY(aicc_grad_i64s(c, &start, 1, &in[1]));
    TRY(aicc_grad_i64s(c, &end, 1, &in[2]));
    TRY(aicc_grad_i64s(c, &axis, 1, &in[3]));
    TRY(aicc_grad_i64s(c, &step, 1, &in[4]));
    return aicc_grad_emit(c, "Slice", in, step == 1 ? 4 : 5, NULL, out, 1);
  }
  if (step != 1) return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "strided slice needs opset >= 10");
  aicc_grad_attr at[] = {AICC_GA_INTS("starts", &start, 1), AICC_GA_INTS("ends", &end, 1),
                         AICC_GA_INTS("axes", &axis, 1), {0}};
  return aicc_grad_emit(c, "Slice", &x, 1, at, out, 1);
}

/* Zero padding of x along one axis, for any opset. */
static aicc_status pad_axis(aicc_grad_ctx *c, aicc_value *x, int axis, int64_t lo, int64_t hi,
                            aicc_value **out) {
  if (lo == 0 && hi == 0) {
    *out = x;
    return NULL;
  }
  int r = x->type.rank;
  int64_t pads[2 * AICC_MAX_RANK] = {0};
  pads[axis] = lo;
  pads[r + axis] = hi;
  if (opset_of(c) >= 11) {
    aicc_value *in[2] = {x};
    TRY(aicc_grad_i64s(c, pads, 2 * r, &in[1]));
    return aicc_grad_emit(c, "Pad", in, 2, NULL, out, 1);
  }
  aicc_grad_attr at[] = {AICC_GA_INTS("pads", pads, 2 * r), {0}};
  return aicc_grad_emit(c, "Pad", &x, 1, at, out, 1);
}

static aicc_status zeros_like(aicc_grad_ctx *c, const aicc_value *like, aicc_value **out) {
  aicc_value *z;
  TRY(aicc_grad_scalar(c, like->type.dtype, 0.0, &z));
  return aicc_grad_expand_like(c, z, like, out);
}

aicc_status aicc_grad_Expand(aicc_grad_ctx *c) {
  return aicc_grad_unbroadcast(c, c->dy[0], X(0), &c->dx[0]);
}

/* The inputs' gradients are the outputs' concatenated along the axis; an
 * output without a gradient contributes zeros of its shape. */
aicc_status aicc_grad_Split(aicc_grad_ctx *c) {
  if (!c->need[0]) return NULL;
  int n = c->node->n_outputs;
  aicc_value *parts[16];
  if (n > 16) return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "too many outputs");
  for (int i = 0; i < n; i++) {
    if (c->dy[i]) parts[i] = c->dy[i];
    else {
      TRY(need_static(c, Y(i)));
      TRY(zeros_like(c, Y(i), &parts[i]));
    }
  }
  if (n == 1) {
    c->dx[0] = parts[0];
    return NULL;
  }
  aicc_grad_attr at[] = {AICC_GA_INT("axis", aicc_node_attr_int(c->node, "axis", 0)), {0}};
  return aicc_grad_emit(c, "Concat", parts, n, at, &c->dx[0], 1);
}

/* Constant mode only. Per axis with pads (p, q): dx is dy[max(p,0) : ...]
 * of x's kept extent, padded back with zeros where a negative pad cropped
 * x. Pads come from input 1 (opset 11+, with optional axes input 3) or the
 * `pads` attribute. */
aicc_status aicc_grad_Pad(aicc_grad_ctx *c) {
  if (!c->need[0]) return NULL;
  const char *mode = aicc_node_attr_string(c->node, "mode", "constant");
  if (strcmp(mode, "constant") != 0)
    return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "gradient of Pad mode '%s'", mode);
  aicc_value *x = X(0);
  TRY(need_static(c, x));
  int r = x->type.rank, n, na;
  int64_t raw[2 * AICC_MAX_RANK], axes[2 * AICC_MAX_RANK], pads[2 * AICC_MAX_RANK] = {0};
  TRY(ints_of(c, c->node->opset >= 11 ? 1 : -1, "pads", raw, &n));
  TRY(ints_of(c, c->node->opset >= 18 ? 3 : -1, NULL, axes, &na));
  if (na < 0) {
    na = r;
    for (int i = 0; i < r; i++) axes[i] = i;
  }
  if (n != 2 * na) return aicc_grad_error(c, AICC_ERR_INVALID, "pads has %d values for %d axes", n, na);
  for (int i = 0; i < na; i++) {
    int64_t a = axes[i] < 0 ? axes[i] + r : axes[i];
    if (a < 0 || a >= r) return aicc_grad_error(c, AICC_ERR_INVALID, "bad axis");
    pads[a] = raw[i], pads[r + a] = raw[na + i];
  }
  aicc_value *g = c->dy[0];
  for (int a = 0; a < r; a++) {
    int64_t p = pads[a], q = pads[r + a], dim = x->type.dims[a].size;
    if (p == 0 && q == 0) continue;
    int64_t cl = p < 0 ? -p : 0, ch = q < 0 ? -q : 0, kept = dim - cl - ch;
    int64_t s = p > 0 ? p : 0;
    if (kept <= 0) return zeros_like(c, x, &c->dx[0]);
    if (p > 0 || q > 0) TRY(slice_axis(c, g, a, s, s + kept, 1, &g));
    TRY(pad_axis(c, g, a, cl, ch, &g));
  }
  c->dx[0] = g;
  return NULL;
}

/* Per sliced axis (start, count, step, clamped as ONNX does): reverse dy
 * for a negative step, spread it |step| apart with zeros (unsqueeze, pad,
 * reshape, trim), then pad it out to x's extent. */
aicc_status aicc_grad_Slice(aicc_grad_ctx *c) {
  if (!c->need[0]) return NULL;
  aicc_value *x = X(0);
  TRY(need_static(c, x));
  int r = x->type.rank, ns, ne, na, nt;
  int64_t st[2 * AICC_MAX_RANK], en[2 * AICC_MAX_RANK], ax[2 * AICC_MAX_RANK], sp[2 * AICC_MAX_RANK];
  bool v10 = c->node->opset >= 10;
  TRY(ints_of(c, v10 ? 1 : -1, v10 ? NULL : "starts", st, &ns));
  TRY(ints_of(c, v10 ? 2 : -1, v10 ? NULL : "ends", en, &ne));
  TRY(ints_of(c, v10 ? 3 : -1, v10 ? NULL : "axes", ax, &na));
  TRY(ints_of(c, v10 ? 4 : -1, NULL, sp, &nt));
  if (ns < 0 || ns != ne || (na >= 0 && na != ns) || (nt >= 0 && nt != ns))
    return aicc_grad_error(c, AICC_ERR_INVALID, "inconsistent slice operands");
  aicc_value *g = c->dy[0];
  for (int i = 0; i < ns; i++) {
    int64_t a = na >= 0 ? ax[i] : i, step = nt >= 0 ? sp[i] : 1;
    if (a < 0) a += r;
    if (a < 0 || a >= r || step == 0) return aicc_grad_error(c, AICC_ERR_INVALID, "bad slice axis or step");
    int64_t dim = x->type.dims[a].size, b = st[i], e = en[i];
    if (b < 0) b += dim;
    if (e < 0) e += dim;
    int64_t count;
    if (step > 0) {
      b = b < 0 ? 0 : b > dim ? dim : b;
      e = e < 0 ? 0 : e > dim ? dim : e;
      count = e > b ? (e - b + step - 1) / step : 0;
    } else {
      b = b < 0 ? 0 : b > dim - 1 ? dim - 1 : b;
      e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
      count = b > e ? (b - e - step - 1) / -step : 0;
    }
    if (count == 0) return zeros_like(c, x, &c->dx[0]);
    int64_t as = step > 0 ? step : -step, first = step > 0 ? b : b + (count - 1) * step;
    if (step < 0) TRY(slice_axis(c, g, a, -1, INT64_MIN, -1, &g));
    if (as > 1 && count > 1) {
      int64_t ua = a + 1, shape[AICC_MAX_RANK];
      aicc_value *s;
      TRY(need_static(c, g));
      for (int k = 0; k < r; k++) shape[k] = g->type.dims[k].size;
      shape[a] = count * as;
      TRY(aicc_grad_unsqueeze(c, g, &ua, 1, &g));
      TRY(pad_axis(c, g, (int)ua, 0, as - 1, &g));
      TRY(aicc_grad_i64s(c, shape, r, &s));
      TRY(aicc_grad_binary(c, "Reshape", g, s, &g));
      TRY(slice_axis(c, g, a, 0, (count - 1) * as + 1, 1, &g));
    }
    TRY(pad_axis(c, g, (int)a, first, dim - (first + (count - 1) * as + 1), &g));
  }
  c->dx[0] = g;
  return NULL;
}
