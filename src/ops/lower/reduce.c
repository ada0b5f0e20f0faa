/* Compute definitions of the reductions: ReduceSum/Mean/Max/Min/Prod/L1/L2/
 * LogSum/LogSumExp/SumSquare and ArgMax/ArgMin (reference: ops/reduce.c).
 * Floats accumulate in their own type (the reference uses double; the
 * difference stays far inside the 1e-4 relative tolerance); integers
 * accumulate in their own type too, which is exact modulo 2^bits for the
 * wrapping sums and products, except ReduceMean (int64, truncating division)
 * and L2/LogSum/LogSumExp (double, then truncated), as the reference does. */
#include "ops/lower.h"
#include "ops/util.h"

#include <math.h>
#include <string.h>

typedef enum {
  R_SUM, R_MEAN, R_MAX, R_MIN, R_PROD, R_L1, R_L2, R_LOGSUM, R_LOGSUMEXP, R_SUMSQUARE
} rkind;

static aicc_status nomem(void) { return aicc_errorf(AICC_ERR_NOMEM, "out of memory"); }

/* The reduced index space of one node: which input dims are reduced, the
 * output's layout (keepdims or not), and the reduction axes (reduced dims of
 * extent other than 1, outermost first; a reduced dim of extent 1 reads 0). */
typedef struct rview {
  int rank; /* input rank */
  int64_t dims[AICC_MAX_LOOP_RANK];
  bool mask[AICC_MAX_LOOP_RANK];
  bool keep;
  int n_r;
  int64_t rext[AICC_MAX_LOOP_RANK];
  int64_t count; /* elements folded into each output element */
} rview;

static aicc_status rview_init(const aicc_lower_ctx *c, const aicc_loop_buffer *x,
                              const bool *mask, bool keep, rview *v) {
  v->rank = x->rank;
  v->keep = keep;
  v->n_r = 0;
  v->count = 1;
  if (x->rank > AICC_MAX_LOOP_RANK || !aicc_lower_dims(x, v->dims))
    return aicc_lower_unsupported(c, "input shape is not static");
  for (int d = 0; d < x->rank; d++) {
    v->mask[d] = mask[d];
    if (!mask[d]) continue;
    v->count *= v->dims[d];
    if (v->dims[d] != 1) v->rext[v->n_r++] = v->dims[d];
  }
  return NULL;
}

/* The index into the input of stage s, whose axes are the output's (in the
 * view's layout) and whose reduction axes are the view's. */
static void rview_x_index(const rview *v, const aicc_loop_stage *s, aicc_lower_ctx *c,
                          const aicc_loop_expr **idx) {
  int o = 0, r = 0;
  for (int d = 0; d < v->rank; d++) {
    if (!v->mask[d]) {
      idx[d] = s->axes[o++].var;
      continue;
    }
    if (v->keep) o++;
    idx[d] = v->dims[d] == 1 ? aicc_lower_i32(c, 0) : s->raxes[r++].var;
  }
}

/* A reduction stage defining buf (output-shaped) over the view's reduction
 * axes, its body the element term(x) of the input. */
static aicc_loop_stage *rview_stage(aicc_lower_ctx *c, const rview *v,
                                    const aicc_loop_buffer *buf, aicc_loop_reduce kind) {
  aicc_loop_stage *s = aicc_lower_stage(c, buf);
  if (!s || aicc_loop_stage_reduce(c->lc, s, kind, v->n_r, v->rext, "r")) return NULL;
  s->op_class = AICC_LOOP_CLASS_REDUCTION;
  return s;
}

/* ---- Reduce* ---- */

static bool axes_as_input(rkind k, int opset) { return k == R_SUM ? opset >= 13 : opset >= 18; }

static aicc_status reduce_mask(const aicc_lower_ctx *c, rkind k, int rank, bool *mask) {
  int64_t axes[AICC_MAX_LOOP_RANK];
  int64_t n = 0;
  if (axes_as_input(k, c->opset)) {
    if (c->n_in > 1 && c->in[1]) {
      n = aicc_lower_const_ints(c, 1, axes, AICC_MAX_LOOP_RANK);
      if (n < 0) return aicc_lower_unsupported(c, "axes input is not a constant");
    }
  } else {
    const int64_t *a = aicc_node_attr_ints(c->node, "axes", &n);
    if (n > AICC_MAX_LOOP_RANK) return aicc_lower_unsupported(c, "%lld axes", (long long)n);
    if (a) memcpy(axes, a, sizeof(int64_t) * (size_t)n);
  }
  bool noop = aicc_node_attr_int(c->node, "noop_with_empty_axes", 0) != 0;
  for (int d = 0; d < rank; d++) mask[d] = n == 0 && !noop;
  for (int64_t i = 0; i < n; i++) {
    int64_t ax;
    if (!aicc_index_norm(axes[i], rank, &ax))
      return aicc_lower_unsupported(c, "axis %lld out of range", (long long)axes[i]);
    mask[ax] = true;
  }
  return NULL;
}

/* The combine kind of each reduction. */
static aicc_loop_reduce reduce_kind(rkind k) {
  switch (k) {
  case R_MAX: return AICC_LOOP_REDUCE_MAX;
  case R_MIN: return AICC_LOOP_REDUCE_MIN;
  case R_PROD: return AICC_LOOP_REDUCE_PROD;
  default: return AICC_LOOP_REDUCE_SUM;
  }
}

/* |x| for any type (the abs intrinsic takes floats only). */
static const aicc_loop_expr *abs_of(aicc_lower_ctx *c, const aicc_loop_expr *x) {
  if (!x) return NULL;
  if (!aicc_loop_type_is_int(x->type)) return aicc_loop_call(c->lc, "abs", 1, &x);
  const aicc_loop_expr *zero = aicc_lower_const(c, x->type, 0);
  return aicc_loop_select(c->lc, aicc_loop_binary(c->lc, AICC_LOOP_LT, x, zero),
                          aicc_loop_sub(c->lc, zero, x), x);
}

/* x in type t (x itself when it already is). */
static const aicc_loop_expr *cast_to(aicc_lower_ctx *c, aicc_dtype t, const aicc_loop_expr *x) {
  return x && x->type == t ? x : aicc_loop_cast(c->lc, t, x);
}

static const aicc_loop_expr *call1(aicc_lower_ctx *c, const char *f, const aicc_loop_expr *x) {
  return x ? aicc_loop_call(c->lc, f, 1, &x) : NULL;
}

/* The term folded for input element x (already in the accumulator type). */
static const aicc_loop_expr *reduce_term(aicc_lower_ctx *c, rkind k, const aicc_loop_expr *x,
                                         const aicc_loop_expr *shift) {
  switch (k) {
  case R_L1: return abs_of(c, x);
  case R_L2:
  case R_SUMSQUARE: return aicc_loop_mul(c->lc, x, x);
  case R_LOGSUMEXP: return call1(c, "exp", aicc_loop_sub(c->lc, x, shift));
  default: return x;
  }
}

/* a / n rounded toward zero (C's division, as the reference's int64 mean);
 * the IR's integer division floors. */
static const aicc_loop_expr *trunc_div(aicc_lower_ctx *c, const aicc_loop_expr *a, int64_t n) {
  if (!a) return NULL;
  const aicc_loop_expr *zero = aicc_lower_const(c, a->type, 0),
                       *d = aicc_lower_const(c, a->type, (double)n);
  const aicc_loop_expr *neg =
      aicc_loop_sub(c->lc, zero, aicc_loop_div(c->lc, aicc_loop_sub(c->lc, zero, a), d));
  return aicc_loop_select(c->lc, aicc_loop_binary(c->lc, AICC_LOOP_LT, a, zero), neg,
                          aicc_loop_div(c->lc, a, d));
}

/* The final value from the accumulated acc (NULL: acc itself). */
static const aicc_loop_expr *reduce_final(aicc_lower_ctx *c, rkind k, const aicc_loop_expr *acc,
                                          int64_t count, const aicc_loop_expr *shift) {
  bool is_int = aicc_loop_type_is_int(acc->type);
  switch (k) {
  case R_MEAN:
    if (is_int) return trunc_div(c, acc, count);
    return aicc_loop_div(c->lc, acc, aicc_lower_const(c, acc->type, (double)count));
  case R_L2: return call1(c, "sqrt", acc);
  case R_LOGSUM: return call1(c, "log", acc);
  case R_LOGSUMEXP: return aicc_loop_add(c->lc, call1(c, "log", acc), shift);
  default: return NULL;
  }
}

static aicc_status lower_reduce(aicc_lower_ctx *c, rkind k) {
  const aicc_loop_buffer *X = c->in[0], *Y = c->out[0];
  if (!Y) return NULL;
  aicc_dtype dt = X->type;
  bool is_int = aicc_loop_type_is_int(dt);
  if (!aicc_lower_dtype_ok(dt) || (dt == AICC_DTYPE_BOOL && k != R_MAX && k != R_MIN))
    return aicc_lower_unsupported(c, "dtype %s", aicc_dtype_text(dt));
  bool mask[AICC_MAX_LOOP_RANK];
  if (X->rank > AICC_MAX_LOOP_RANK) return aicc_lower_unsupported(c, "rank %d", X->rank);
  AICC_TRY(reduce_mask(c, k, X->rank, mask));
  rview v;
  AICC_TRY(rview_init(c, X, mask, aicc_node_attr_int(c->node, "keepdims", 1) != 0, &v));
  int64_t ydims[AICC_MAX_LOOP_RANK];
  if (!aicc_lower_dims(Y, ydims)) return aicc_lower_unsupported(c, "output shape is not static");

  /* The accumulator type: double where the reference goes through double for
   * integers, int64 for the integer mean, else the input's own. */
  bool via_f64 = is_int && (k == R_L2 || k == R_LOGSUM || k == R_LOGSUMEXP);
  bool mean_wide = is_int && k == R_MEAN && dt != AICC_DTYPE_I64 && dt != AICC_DTYPE_U64;
  aicc_dtype at = via_f64 ? AICC_DTYPE_F64 : mean_wide ? AICC_DTYPE_I64 : dt;
  const aicc_loop_buffer *A = at == dt ? Y : aicc_lower_temp(c, at, Y->rank, ydims);
  if (!A) return nomem();
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK], *xi[AICC_MAX_LOOP_RANK];

  if (v.n_r == 0) {
    /* Nothing to fold (count 1): one elementwise stage. LogSumExp of one
     * element is the element (with the reference's shift, too). */
    aicc_loop_stage *s = aicc_lower_stage(c, A);
    if (!s) return nomem();
    rview_x_index(&v, s, c, xi);
    const aicc_loop_expr *x = cast_to(c, at, aicc_loop_load(c->lc, X, xi));
    const aicc_loop_expr *val = x;
    if (k != R_LOGSUMEXP && x) {
      val = reduce_term(c, k, x, NULL);
      const aicc_loop_expr *f = val ? reduce_final(c, k, val, 1, NULL) : NULL;
      if (f) val = f;
    }
    s->body = val;
    s->inlinable = true;
    s->op_class = AICC_LOOP_CLASS_ELEMENTWISE;
    AICC_TRY(aicc_lower_emit(c, s));
  } else {
    const aicc_loop_buffer *M = NULL;
    if (k == R_LOGSUMEXP) {
      /* The shift: the largest value, or 0 where it is not finite (so a row
       * of -inf gives exp(-inf - 0) = 0, not NaN). */
      M = aicc_lower_temp(c, at, Y->rank, ydims);
      aicc_loop_stage *s = M ? rview_stage(c, &v, M, AICC_LOOP_REDUCE_MAX) : NULL;
      if (!s) return nomem();
      rview_x_index(&v, s, c, xi);
      s->body = cast_to(c, at, aicc_loop_load(c->lc, X, xi));
      aicc_lower_axis_index(s, idx);
      const aicc_loop_expr *m = aicc_loop_load(c->lc, M, idx);
      s->post = aicc_loop_select(
          c->lc,
          aicc_loop_binary(c->lc, AICC_LOOP_LT, call1(c, "abs", m),
                           aicc_lower_const(c, at, INFINITY)),
          m, aicc_lower_const(c, at, 0));
      AICC_TRY(aicc_lower_emit_reduce(c, s));
    }
    aicc_loop_stage *s = rview_stage(c, &v, A, reduce_kind(k));
    if (!s) return nomem();
    rview_x_index(&v, s, c, xi);
    aicc_lower_axis_index(s, idx);
    const aicc_loop_expr *shift = M ? aicc_loop_load(c->lc, M, idx) : NULL;
    s->body = reduce_term(c, k, cast_to(c, at, aicc_loop_load(c->lc, X, xi)), shift);
    s->post = reduce_final(c, k, aicc_loop_load(c->lc, A, idx), v.count, shift);
    AICC_TRY(aicc_lower_emit_reduce(c, s));
  }
  if (A == Y) return NULL;
  aicc_loop_stage *s = aicc_lower_stage(c, Y);
  if (!s) return nomem();
  aicc_lower_axis_index(s, idx);
  const aicc_loop_expr *a = aicc_loop_load(c->lc, A, idx);
  if (via_f64) {
    /* numpy's float -> int conversion on x86 (the reference's): NaN and
     * values outside int64 give INT64_MIN, then wrap to the type. */
    const aicc_loop_expr *in_range = aicc_loop_binary(
        c->lc, AICC_LOOP_AND,
        aicc_loop_binary(c->lc, AICC_LOOP_GE, a, aicc_lower_const(c, at, -0x1p63)),
        aicc_loop_binary(c->lc, AICC_LOOP_LT, a, aicc_lower_const(c, at, 0x1p63)));
    a = aicc_loop_select(c->lc, in_range, aicc_loop_cast(c->lc, AICC_DTYPE_I64, a),
                         aicc_loop_int(c->lc, AICC_DTYPE_I64, INT64_MIN));
  }
  s->body = cast_to(c, dt, a);
  s->inlinable = true;
  s->op_class = AICC_LOOP_CLASS_ELEMENTWISE;
  return aicc_lower_emit(c, s);
}

#define REDUCE_FN(NAME, KIND) \
  static aicc_status NAME(aicc_lower_ctx *c) { return lower_reduce(c, KIND); }
REDUCE_FN(lower_rsum, R_SUM)
REDUCE_FN(lower_rmean, R_MEAN)
REDUCE_FN(lower_rmax, R_MAX)
REDUCE_FN(lower_rmin, R_MIN)
REDUCE_FN(lower_rprod, R_PROD)
REDUCE_FN(lower_rl1, R_L1)
REDUCE_FN(lower_rl2, R_L2)
REDUCE_FN(lower_rlogsum, R_LOGSUM)
REDUCE_FN(lower_rlogsumexp, R_LOGSUMEXP)
REDUCE_FN(lower_rsumsquare, R_SUMSQUARE)

/* ---- ArgMax / ArgMin ----
 * Two stages: the extreme value M of each row, then the smallest key over
 * the row, where a NaN at k keys k (the reference returns the first NaN),
 * an element equal to M keys n + k (n + n-1-k for select_last_index) and
 * the rest 3n; the key decodes to the index. */

static aicc_status lower_arg(aicc_lower_ctx *c, bool is_max) {
  const aicc_loop_buffer *X = c->in[0], *Y = c->out[0];
  if (!Y) return NULL;
  aicc_dtype dt = X->type;
  if (!aicc_lower_dtype_ok(dt)) return aicc_lower_unsupported(c, "dtype %s", aicc_dtype_text(dt));
  if (X->rank > AICC_MAX_LOOP_RANK) return aicc_lower_unsupported(c, "rank %d", X->rank);
  bool mask[AICC_MAX_LOOP_RANK] = {false};
  int64_t axis = aicc_node_attr_int(c->node, "axis", 0);
  if (X->rank > 0 && !aicc_index_norm(axis, X->rank, &axis))
    return aicc_lower_unsupported(c, "axis %lld out of range", (long long)axis);
  if (X->rank > 0) mask[axis] = true;
  rview v;
  AICC_TRY(rview_init(c, X, mask, aicc_node_attr_int(c->node, "keepdims", 1) != 0, &v));
  bool last = aicc_node_attr_int(c->node, "select_last_index", 0) != 0;
  int64_t n = v.count, ydims[AICC_MAX_LOOP_RANK];
  if (!aicc_lower_dims(Y, ydims)) return aicc_lower_unsupported(c, "output shape is not static");
  if (n > INT32_MAX / 4) return aicc_lower_unsupported(c, "axis of %lld elements", (long long)n);
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK], *xi[AICC_MAX_LOOP_RANK];
  if (v.n_r == 0) { /* one element per row (or a scalar): index 0 */
    aicc_loop_stage *s = aicc_lower_stage(c, Y);
    if (!s) return nomem();
    s->body = aicc_lower_const(c, AICC_DTYPE_I64, 0);
    s->inlinable = true;
    s->op_class = AICC_LOOP_CLASS_ELEMENTWISE;
    return aicc_lower_emit(c, s);
  }
  if (n == 0) return aicc_lower_unsupported(c, "arg reduction over an empty axis");

  bool is_float = !aicc_loop_type_is_int(dt);
  const aicc_loop_buffer *M = aicc_lower_temp(c, dt, Y->rank, ydims);
  aicc_loop_stage *s = M ? rview_stage(c, &v, M, is_max ? AICC_LOOP_REDUCE_MAX
                                                       : AICC_LOOP_REDUCE_MIN)
                         : NULL;
  if (!s) return nomem();
  rview_x_index(&v, s, c, xi);
  const aicc_loop_expr *x = aicc_loop_load(c->lc, X, xi);
  /* NaN is left out of M (it is found by its own key below). */
  s->body = is_float ? aicc_loop_select(c->lc, aicc_loop_binary(c->lc, AICC_LOOP_NE, x, x),
                                        aicc_lower_const(c, dt, is_max ? -INFINITY : INFINITY), x)
                     : x;
  AICC_TRY(aicc_lower_emit_reduce(c, s));

  s = rview_stage(c, &v, Y, AICC_LOOP_REDUCE_MIN);
  if (!s) return nomem();
  rview_x_index(&v, s, c, xi);
  aicc_lower_axis_index(s, idx);
  x = aicc_loop_load(c->lc, X, xi);
  const aicc_loop_expr *k = s->raxes[0].var, *ni = aicc_lower_i32(c, n);
  const aicc_loop_expr *pos = last ? aicc_loop_sub(c->lc, aicc_lower_i32(c, n - 1), k) : k;
  const aicc_loop_expr *key = aicc_loop_select(
      c->lc, aicc_loop_binary(c->lc, AICC_LOOP_EQ, x, aicc_loop_load(c->lc, M, idx)),
      aicc_loop_add(c->lc, ni, pos), aicc_lower_i32(c, 3 * n));
  if (is_float) key = aicc_loop_select(c->lc, aicc_loop_binary(c->lc, AICC_LOOP_NE, x, x), k, key);
  s->body = aicc_loop_cast(c->lc, AICC_DTYPE_I64, key);
  const aicc_loop_expr *acc = aicc_loop_load(c->lc, Y, idx);
  const aicc_loop_expr *n64 = aicc_lower_const(c, AICC_DTYPE_I64, (double)n);
  const aicc_loop_expr *p = aicc_loop_sub(c->lc, acc, n64);
  if (last) p = aicc_loop_sub(c->lc, aicc_lower_const(c, AICC_DTYPE_I64, (double)(n - 1)), p);
  s->post = aicc_loop_select(c->lc, aicc_loop_binary(c->lc, AICC_LOOP_LT, acc, n64), acc, p);
  return aicc_lower_emit(c, s);
}

static aicc_status lower_argmax(aicc_lower_ctx *c) { return lower_arg(c, true); }
static aicc_status lower_argmin(aicc_lower_ctx *c) { return lower_arg(c, false); }

static const aicc_lower_row rows[] = {
    {"", "ReduceSum", lower_rsum},
    {"", "ReduceMean", lower_rmean},
    {"", "ReduceMax", lower_rmax},
    {"", "ReduceMin", lower_rmin},
    {"", "ReduceProd", lower_rprod},
    {"", "ReduceL1", lower_rl1},
    {"", "ReduceL2", lower_rl2},
    {"", "ReduceLogSum", lower_rlogsum},
    {"", "ReduceLogSumExp", lower_rlogsumexp},
    {"", "ReduceSumSquare", lower_rsumsquare},
    {"", "ArgMax", lower_argmax},
    {"", "ArgMin", lower_argmin},
};

const aicc_lower_table aicc_lower_reduce = {"reduce", rows, sizeof rows / sizeof rows[0]};
