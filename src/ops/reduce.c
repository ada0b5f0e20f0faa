/* Reductions: ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare
 * and ArgMax/ArgMin. Axes come from an attribute in old opsets and from an
 * optional input later (ReduceSum from 13, the rest from 18). The kernel
 * coalesces the index space into alternating kept/reduced runs and folds each
 * element into an accumulator: double for floats, int64 for integers. */
#include "ops/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
  R_SUM, R_MEAN, R_MAX, R_MIN, R_PROD, R_L1, R_L2, R_LOGSUM, R_LOGSUMEXP, R_SUMSQUARE
} rkind;

/* True when this op version takes axes as input 1 instead of an attribute. */
static bool axes_as_input(rkind k, int opset) {
  return k == R_SUM ? opset >= 13 : opset >= 18;
}

/* Resolves the reduced axes into mask[rank]. *known is false when the axes
 * are an input whose value is not constant (inference only). */
static aicc_status axes_resolve(const aicc_node *node, rkind k, int opset,
                                const aicc_tensor *axes_in, bool axes_given, int rank,
                                bool *mask, bool *known) {
  int64_t axes[AICC_MAX_RANK];
  int64_t n = 0;
  *known = true;
  if (axes_as_input(k, opset)) {
    if (axes_given && !axes_in) {
      *known = false;
      return NULL;
    }
    if (axes_in) AICC_TRY(aicc_tensor_read_i64s(axes_in, axes, AICC_MAX_RANK, &n));
  } else {
    const int64_t *a = aicc_node_attr_ints(node, "axes", &n);
    if (n > AICC_MAX_RANK)
      return aicc_errorf(AICC_ERR_INVALID, "%lld axes for rank %d", (long long)n, rank);
    if (a) memcpy(axes, a, sizeof(int64_t) * (size_t)n);
  }
  bool noop = aicc_node_attr_int(node, "noop_with_empty_axes", 0) != 0;
  for (int d = 0; d < rank; d++) mask[d] = n == 0 && !noop;
  for (int64_t i = 0; i < n; i++) {
    int64_t ax;
    AICC_TRY(aicc_axis_norm(axes[i], rank, &ax));
    if (rank > 0) mask[ax] = true;
  }
  return NULL;
}

static aicc_status reduce_infer_kind(aicc_infer_ctx *c, rkind k) {
  aicc_dtype dt = c->in[0] ? c->in[0]->dtype : AICC_DTYPE_UNDEFINED;
  bool keep = aicc_node_attr_int(c->node, "keepdims", 1) != 0;
  if (aicc_infer_unranked(c, dt)) return NULL;
  const aicc_type *x = c->in[0];
  bool given = c->n_in > 1 && c->in[1] && c->in[1]->kind != AICC_KIND_NONE;
  bool mask[AICC_MAX_RANK], known;
  aicc_status s = axes_resolve(c->node, k, c->opset, given ? c->cin[1] : NULL, given,
                               x->rank, mask, &known);
  if (s) {
    char buf[256];
    return aicc_status_wrap(s, "%s", aicc_node_describe(c->node, buf, sizeof buf));
  }
  if (!known) {
    /* Unknown axes: the rank survives only with keepdims. */
    aicc_infer_set(c, 0, dt, keep ? x->rank : -1, NULL);
    return NULL;
  }
  aicc_dim out[AICC_MAX_RANK];
  int r = 0;
  for (int d = 0; d < x->rank; d++) {
    if (!mask[d]) out[r++] = x->dims[d];
    else if (keep) out[r++] = aicc_dim_known(1);
  }
  aicc_infer_set(c, 0, dt, r, out);
  return NULL;
}

/* ---- the reduction loop ---- */

/* The coalesced index space: runs of kept / reduced dims merged, size-1 dims
 * dropped. ostr: element stride in the output (0 along reduced runs). */
typedef struct rplan {
  int rank;
  int64_t dims[AICC_MAX_RANK];
  int64_t ostr[AICC_MAX_RANK];
} rplan;

static void rplan_make(const int64_t *dims, int rank, const bool *mask, rplan *p) {
  int64_t ostr_full[AICC_MAX_RANK];
  int64_t s = 1;
  for (int d = rank - 1; d >= 0; d--) {
    ostr_full[d] = mask[d] ? 0 : s;
    if (!mask[d]) s *= dims[d];
  }
  p->rank = 0;
  for (int d = 0; d < rank; d++) {
    if (dims[d] == 1) continue;
    int r = p->rank;
    /* Merge with the previous run when both are reduced, or both kept (kept
     * dims are consecutive in the output, so their strides chain). */
    if (r > 0 && (ostr_full[d] == 0) == (p->ostr[r - 1] == 0) &&
        (ostr_full[d] == 0 || p->ostr[r - 1] == ostr_full[d] * dims[d])) {
      p->dims[r - 1] *= dims[d];
      p->ostr[r - 1] = ostr_full[d];
      continue;
    }
    p->dims[r] = dims[d];
    p->ostr[r] = ostr_full[d];
    p->rank++;
  }
  if (p->rank == 0) {
    p->rank = 1;
    p->dims[0] = 1;
    p->ostr[0] = 0;
  }
}

#define C_ADD(a, v, m) a += v
#define C_ABSF(a, v, m) a += fabs(v)
#define C_ABSI(a, v, m) a += (v < 0 ? -v : v)
#define C_SQ(a, v, m) a += v * v
#define C_EXPM(a, v, m) a += exp(v - m)
#define C_MUL(a, v, m) a *= v
#define C_MAX(a, v, m) if (v > a || v != v) a = v
#define C_MIN(a, v, m) if (v < a || v != v) a = v

/* One pass folding x (input layout of p) into acc (output layout); mx is the
 * per-output shift for C_EXPM. */
#define DEF_RED(NAME, T, A, COMBINE)                                           \
  static void NAME(const T *x, const rplan *p, A *acc, const A *mx) {          \
    int r = p->rank;                                                           \
    int64_t inner = p->dims[r - 1], st = p->ostr[r - 1];                       \
    int64_t idx[AICC_MAX_RANK] = {0};                                          \
    int64_t outer = 1, o = 0, i = 0;                                           \
    for (int d = 0; d < r - 1; d++) outer *= p->dims[d];                       \
    for (int64_t q = 0; q < outer; q++) {                                      \
      if (st == 0) {                                                           \
        A a = acc[o], m = mx ? mx[o] : 0;                                      \
        (void)m;                                                               \
        for (int64_t j = 0; j < inner; j++) {                                  \
          A v = (A)x[i + j];                                                   \
          COMBINE(a, v, m);                                                    \
        }                                                                      \
        acc[o] = a;                                                            \
      } else {                                                                 \
        for (int64_t j = 0; j < inner; j++) {                                  \
          A a = acc[o + j * st], m = mx ? mx[o + j * st] : 0;                  \
          (void)m;                                                             \
          A v = (A)x[i + j];                                                   \
          COMBINE(a, v, m);                                                    \
          acc[o + j * st] = a;                                                 \
        }                                                                      \
      }                                                                        \
      i += inner;                                                              \
      for (int d = r - 2; d >= 0; d--) {                                       \
        o += p->ostr[d];                                                       \
        if (++idx[d] < p->dims[d]) break;                                      \
        o -= p->ostr[d] * p->dims[d];                                          \
        idx[d] = 0;                                                            \
      }                                                                        \
    }                                                                          \
  }

#define DEF_FLOAT_REDS(SUF, T)                                                 \
  DEF_RED(red_add_##SUF, T, double, C_ADD)                                     \
  DEF_RED(red_abs_##SUF, T, double, C_ABSF)                                    \
  DEF_RED(red_sq_##SUF, T, double, C_SQ)                                       \
  DEF_RED(red_expm_##SUF, T, double, C_EXPM)                                   \
  DEF_RED(red_mul_##SUF, T, double, C_MUL)                                     \
  DEF_RED(red_max_##SUF, T, double, C_MAX)                                     \
  DEF_RED(red_min_##SUF, T, double, C_MIN)
DEF_FLOAT_REDS(f32, float)
DEF_FLOAT_REDS(f64, double)
DEF_RED(red_add_i64, int64_t, int64_t, C_ADD)
DEF_RED(red_abs_i64, int64_t, int64_t, C_ABSI)
DEF_RED(red_sq_i64, int64_t, int64_t, C_SQ)
DEF_RED(red_mul_i64, int64_t, int64_t, C_MUL)
DEF_RED(red_max_i64, int64_t, int64_t, C_MAX)
DEF_RED(red_min_i64, int64_t, int64_t, C_MIN)

typedef void (*red_f32_fn)(const float *, const rplan *, double *, const double *);
typedef void (*red_f64_fn)(const double *, const rplan *, double *, const double *);
typedef void (*red_i64_fn)(const int64_t *, const rplan *, int64_t *, const int64_t *);

/* Smallest and largest value of an integer (or bool) dtype, for the empty
 * Max/Min identities. */
static void int_range(aicc_dtype dt, int64_t *lo, int64_t *hi) {
  switch (dt) {
  case AICC_DTYPE_BOOL: *lo = 0; *hi = 1; break;
  case AICC_DTYPE_I8: *lo = INT8_MIN; *hi = INT8_MAX; break;
  case AICC_DTYPE_U8: *lo = 0; *hi = UINT8_MAX; break;
  case AICC_DTYPE_I16: *lo = INT16_MIN; *hi = INT16_MAX; break;
  case AICC_DTYPE_U16: *lo = 0; *hi = UINT16_MAX; break;
  case AICC_DTYPE_I32: *lo = INT32_MIN; *hi = INT32_MAX; break;
  case AICC_DTYPE_U32: *lo = 0; *hi = UINT32_MAX; break;
  case AICC_DTYPE_U64: *lo = 0; *hi = INT64_MAX; break;
  default: *lo = INT64_MIN; *hi = INT64_MAX; break;
  }
}

static aicc_status reduce_run(aicc_kernel_ctx *c, rkind k) {
  const aicc_tensor *x = c->in[0];
  aicc_dtype dt = x->dtype;
  bool isf = aicc_dtype_is_float(dt);
  if (!isf && !aicc_dtype_is_int(dt) && dt != AICC_DTYPE_BOOL)
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "cannot reduce %s", aicc_dtype_text(dt));
  bool mask[AICC_MAX_RANK], known;
  const aicc_tensor *axes_in = c->n_in > 1 ? c->in[1] : NULL;
  aicc_status s = axes_resolve(c->node, k, c->opset, axes_in, axes_in != NULL, x->rank,
                               mask, &known);
  if (s) {
    char buf[256];
    return aicc_status_wrap(s, "%s", aicc_node_describe(c->node, buf, sizeof buf));
  }
  bool keep = aicc_node_attr_int(c->node, "keepdims", 1) != 0;
  int64_t odims[AICC_MAX_RANK], count = 1;
  int orank = 0;
  for (int d = 0; d < x->rank; d++) {
    if (!mask[d]) odims[orank++] = x->dims[d];
    else {
      count *= x->dims[d];
      if (keep) odims[orank++] = 1;
    }
  }
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, dt, orank, odims, &y));
  int64_t on = aicc_tensor_numel(y), xn = aicc_tensor_numel(x);
  if (on == 0) return NULL;
  rplan p;
  rplan_make(x->dims, x->rank, mask, &p);

  /* Integer arithmetic where the result is exact in integers; the log/sqrt
   * reductions of integers go through double and truncate on store. */
  bool intpath = !isf && k != R_L2 && k != R_LOGSUM && k != R_LOGSUMEXP;
  if (intpath) {
    int64_t *xv = malloc(sizeof(int64_t) * (size_t)(xn > 0 ? xn : 1));
    int64_t *acc = malloc(sizeof(int64_t) * (size_t)on);
    if (!xv || !acc) {
      free(xv); free(acc);
      return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
    }
    for (int64_t i = 0; i < xn; i++) xv[i] = aicc_tensor_get_i64(x, i);
    int64_t lo, hi, init = 0;
    int_range(dt, &lo, &hi);
    red_i64_fn fn = red_add_i64;
    switch (k) {
    case R_PROD: init = 1; fn = red_mul_i64; break;
    case R_MAX: init = lo; fn = red_max_i64; break;
    case R_MIN: init = hi; fn = red_min_i64; break;
    case R_L1: fn = red_abs_i64; break;
    case R_SUMSQUARE: fn = red_sq_i64; break;
    default: break;
    }
    for (int64_t i = 0; i < on; i++) acc[i] = init;
    if (xn > 0) fn(xv, &p, acc, NULL);
    for (int64_t i = 0; i < on; i++) {
      int64_t v = acc[i];
      if (k == R_MEAN) v = count ? v / count : 0;
      aicc_tensor_set_i64(y, i, v);
    }
    free(xv);
    free(acc);
    return NULL;
  }

  double *xd = NULL;
  if (dt != AICC_DTYPE_F32) {
    xd = malloc(sizeof(double) * (size_t)(xn > 0 ? xn : 1));
    if (!xd) return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < xn; i++) xd[i] = aicc_tensor_get_f64(x, i);
  }
  double *acc = malloc(sizeof(double) * (size_t)on);
  double *mx = k == R_LOGSUMEXP ? malloc(sizeof(double) * (size_t)on) : NULL;
  if (!acc || (k == R_LOGSUMEXP && !mx)) {
    free(xd); free(acc); free(mx);
    return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  }
#define RUN(OP, MX)                                                            \
  do {                                                                         \
    if (xn == 0) break;                                                        \
    if (xd) red_##OP##_f64(xd, &p, acc, MX);                                   \
    else red_##OP##_f32(x->data, &p, acc, MX);                                 \
  } while (0)
  double init = k == R_PROD ? 1.0 : k == R_MAX ? -INFINITY : k == R_MIN ? INFINITY : 0.0;
  if (k == R_LOGSUMEXP) {
    /* Shift by the largest finite value for stability (as numpy's reference
     * does); a row with none keeps shift 0 so exp(-inf) stays 0. */
    for (int64_t i = 0; i < on; i++) mx[i] = -INFINITY;
    RUN(max, NULL);
    for (int64_t i = 0; i < on; i++)
      if (!isfinite(mx[i])) mx[i] = 0.0;
    init = 0.0;
  }
  for (int64_t i = 0; i < on; i++) acc[i] = init;
  switch (k) {
  case R_SUM: case R_MEAN: case R_LOGSUM: RUN(add, NULL); break;
  case R_MAX: RUN(max, NULL); break;
  case R_MIN: RUN(min, NULL); break;
  case R_PROD: RUN(mul, NULL); break;
  case R_L1: RUN(abs, NULL); break;
  case R_L2: case R_SUMSQUARE: RUN(sq, NULL); break;
  case R_LOGSUMEXP: RUN(expm, mx); break;
  }
#undef RUN
  for (int64_t i = 0; i < on; i++) {
    double v = acc[i];
    switch (k) {
    case R_MEAN: v = v / (double)count; break;
    case R_L2: v = sqrt(v); break;
    case R_LOGSUM: v = log(v); break;
    case R_LOGSUMEXP: v = log(v) + mx[i]; break;
    default: break;
    }
    if (dt == AICC_DTYPE_F32) ((float *)y->data)[i] = (float)v;
    else aicc_tensor_set_f64(y, i, v);
  }
  free(xd);
  free(acc);
  free(mx);
  return NULL;
}

#define REDUCE_OP(NAME, KIND)                                                  \
  static aicc_status NAME##_kernel(aicc_kernel_ctx *c) { return reduce_run(c, KIND); } \
  static aicc_status NAME##_infer(aicc_infer_ctx *c) { return reduce_infer_kind(c, KIND); }
REDUCE_OP(rsum, R_SUM)
REDUCE_OP(rmean, R_MEAN)
REDUCE_OP(rmax, R_MAX)
REDUCE_OP(rmin, R_MIN)
REDUCE_OP(rprod, R_PROD)
REDUCE_OP(rl1, R_L1)
REDUCE_OP(rl2, R_L2)
REDUCE_OP(rlogsum, R_LOGSUM)
REDUCE_OP(rlogsumexp, R_LOGSUMEXP)
REDUCE_OP(rsumsquare, R_SUMSQUARE)

/* ---- ArgMax / ArgMin ---- */

static aicc_status arg_infer(aicc_infer_ctx *c) {
  if (!aicc_infer_has_rank(c, 0)) {
    aicc_infer_set(c, 0, AICC_DTYPE_I64, -1, NULL);
    return NULL;
  }
  const aicc_type *x = c->in[0];
  int64_t axis;
  aicc_status s = aicc_axis_norm(aicc_node_attr_int(c->node, "axis", 0), x->rank, &axis);
  if (s) {
    char buf[256];
    return aicc_status_wrap(s, "%s", aicc_node_describe(c->node, buf, sizeof buf));
  }
  bool keep = aicc_node_attr_int(c->node, "keepdims", 1) != 0;
  aicc_dim out[AICC_MAX_RANK];
  int r = 0;
  for (int d = 0; d < x->rank; d++) {
    if (d != axis) out[r++] = x->dims[d];
    else if (keep) out[r++] = aicc_dim_known(1);
  }
  aicc_infer_set(c, 0, AICC_DTYPE_I64, r, out);
  return NULL;
}

static aicc_status arg_run(aicc_kernel_ctx *c, bool is_max) {
  const aicc_tensor *x = c->in[0];
  if (!aicc_dtype_is_float(x->dtype) && !aicc_dtype_is_int(x->dtype) &&
      x->dtype != AICC_DTYPE_BOOL)
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "cannot take arg of %s",
                             aicc_dtype_text(x->dtype));
  int64_t axis;
  aicc_status s = aicc_axis_norm(aicc_node_attr_int(c->node, "axis", 0), x->rank, &axis);
  if (s) {
    char buf[256];
    return aicc_status_wrap(s, "%s", aicc_node_describe(c->node, buf, sizeof buf));
  }
  if (x->rank == 0) axis = -1;
  bool keep = aicc_node_attr_int(c->node, "keepdims", 1) != 0;
  bool last = aicc_node_attr_int(c->node, "select_last_index", 0) != 0;
  int64_t odims[AICC_MAX_RANK], outer = 1, n = 1, inner = 1;
  int r = 0;
  for (int d = 0; d < x->rank; d++) {
    if (d < axis) outer *= x->dims[d];
    else if (d == axis) n = x->dims[d];
    else inner *= x->dims[d];
    if (d != axis) odims[r++] = x->dims[d];
    else if (keep) odims[r++] = 1;
  }
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, AICC_DTYPE_I64, r, odims, &y));
  if (aicc_tensor_numel(y) == 0) return NULL;
  if (n == 0)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "arg reduction over an empty axis");
  bool isf = aicc_dtype_is_float(x->dtype);
  int64_t *out = y->data;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      int64_t base = o * n * inner + i, best = 0;
      if (isf) {
        double bv = aicc_tensor_get_f64(x, base);
        for (int64_t k = 1; k < n && bv == bv; k++) {
          double v = aicc_tensor_get_f64(x, base + k * inner);
          /* NaN wins (numpy returns the first NaN). */
          bool better = v != v || (is_max ? v > bv : v < bv) || (last && v == bv);
          if (better) { bv = v; best = k; }
        }
      } else {
        int64_t bv = aicc_tensor_get_i64(x, base);
        for (int64_t k = 1; k < n; k++) {
          int64_t v = aicc_tensor_get_i64(x, base + k * inner);
          if ((is_max ? v > bv : v < bv) || (last && v == bv)) { bv = v; best = k; }
        }
      }
      out[o * inner + i] = best;
    }
  return NULL;
}

static aicc_status argmax_kernel(aicc_kernel_ctx *c) { return arg_run(c, true); }
static aicc_status argmin_kernel(aicc_kernel_ctx *c) { return arg_run(c, false); }

/* ---- table ---- */

static const aicc_attr_spec reduce_attrs[] = {
    AICC_A_INTS("axes"), AICC_A_INT("keepdims"), AICC_A_INT("noop_with_empty_axes"),
    AICC_A_END};
static const aicc_attr_spec arg_attrs[] = {
    AICC_A_INT("axis"), AICC_A_INT("keepdims"), AICC_A_INT("select_last_index"), AICC_A_END};

#define REDUCE_ROW(OPNAME, NAME)                                               \
  {OPNAME, "", 1, 0, 1, 2, 1, 1, reduce_attrs, NAME##_infer, NAME##_kernel}

static const aicc_op ops[] = {
    /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
    REDUCE_ROW("ReduceSum", rsum),
    REDUCE_ROW("ReduceMean", rmean),
    REDUCE_ROW("ReduceMax", rmax),
    REDUCE_ROW("ReduceMin", rmin),
    REDUCE_ROW("ReduceProd", rprod),
    REDUCE_ROW("ReduceL1", rl1),
    REDUCE_ROW("ReduceL2", rl2),
    REDUCE_ROW("ReduceLogSum", rlogsum),
    REDUCE_ROW("ReduceLogSumExp", rlogsumexp),
    REDUCE_ROW("ReduceSumSquare", rsumsquare),
    {"ArgMax", "", 1, 0, 1, 1, 1, 1, arg_attrs, arg_infer, argmax_kernel},
    {"ArgMin", "", 1, 0, 1, 1, 1, 1, arg_attrs, arg_infer, argmin_kernel},
};

const aicc_op_family aicc_family_reduce = {"reduce", ops, sizeof ops / sizeof ops[0]};
