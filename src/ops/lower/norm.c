/* Compute definitions of the normalisations: Softmax, LogSoftmax, Hardmax
 * (reference: ops/softmax.c) and BatchNormalization (inference form),
 * InstanceNormalization, LayerNormalization, GroupNormalization,
 * RMSNormalization, LpNormalization, MeanVarianceNormalization and LRN
 * (reference: ops/norm.c). Each is reduction stages over the normalised
 * axes into small statistics buffers (REDUCTION), then one elementwise stage
 * for the output. Statistics are computed in f32 for f32 data (the reference
 * uses double) with two passes, mean then centred variance, which keeps the
 * f32 error near the rounding of the data. */
#include "ops/lower.h"
#include "ops/util.h"

#include <math.h>
#include <string.h>

static aicc_status nomem(void) { return aicc_errorf(AICC_ERR_NOMEM, "out of memory"); }

static bool is_float_type(aicc_dtype t) { return t == AICC_DTYPE_F32 || t == AICC_DTYPE_F64; }

static const aicc_loop_expr *cast_to(aicc_lower_ctx *c, aicc_dtype t, const aicc_loop_expr *x) {
  return x && x->type == t ? x : aicc_loop_cast(c->lc, t, x);
}

static const aicc_loop_expr *call1(aicc_lower_ctx *c, const char *f, const aicc_loop_expr *x) {
  return x ? aicc_loop_call(c->lc, f, 1, &x) : NULL;
}

static const aicc_loop_expr *fconst(aicc_lower_ctx *c, aicc_dtype t, double v) {
  return aicc_lower_const(c, t, v);
}

/* ---- statistics over a set of axes, kept as size-1 dims ----
 * A statistics buffer has X's rank with the reduced dims of extent 1; its
 * reduction stage runs over the reduced dims of extent other than 1. */

typedef struct kview {
  int rank;
  int64_t dims[AICC_MAX_LOOP_RANK];  /* X's */
  int64_t sdims[AICC_MAX_LOOP_RANK]; /* the statistics' */
  bool mask[AICC_MAX_LOOP_RANK];
  int n_r;
  int64_t rext[AICC_MAX_LOOP_RANK];
  int64_t count; /* elements per statistic */
} kview;

static aicc_status kview_init(const aicc_lower_ctx *c, const aicc_loop_buffer *x,
                              const bool *mask, kview *v) {
  if (x->rank > AICC_MAX_LOOP_RANK || !aicc_lower_dims(x, v->dims))
    return aicc_lower_unsupported(c, "input shape is not static");
  v->rank = x->rank;
  v->n_r = 0;
  v->count = 1;
  for (int d = 0; d < x->rank; d++) {
    v->mask[d] = mask[d];
    v->sdims[d] = mask[d] ? 1 : v->dims[d];
    if (!mask[d]) continue;
    v->count *= v->dims[d];
    if (v->dims[d] != 1) v->rext[v->n_r++] = v->dims[d];
  }
  return NULL;
}

/* Mask of the dims from `from` on (from <= d) or of dim `from` alone. */
static void mask_from(bool *mask, int rank, int64_t from, bool trailing) {
  for (int d = 0; d < rank; d++) mask[d] = trailing ? d >= from : d == from;
}

/* A reduction stage over the view defining buf (NULL: a new statistics
 * temporary of type t); *xi receives the index into X. */
static aicc_loop_stage *kview_stage(aicc_lower_ctx *c, const kview *v, const aicc_loop_buffer *buf,
                                    aicc_dtype t, aicc_loop_reduce kind,
                                    const aicc_loop_expr **xi) {
  if (!buf) buf = aicc_lower_temp(c, t, v->rank, v->sdims);
  aicc_loop_stage *s = buf ? aicc_lower_stage(c, buf) : NULL;
  if (!s || aicc_loop_stage_reduce(c->lc, s, kind, v->n_r, v->rext, "r")) return NULL;
  s->op_class = AICC_LOOP_CLASS_REDUCTION;
  for (int d = 0, r = 0; d < v->rank; d++)
    xi[d] = !v->mask[d] ? s->axes[d].var
            : v->dims[d] == 1 ? aicc_lower_i32(c, 0)
                              : s->raxes[r++].var;
  return s;
}

/* Statistic S (of the view's shape) at X's index idx. */
static const aicc_loop_expr *kview_load(aicc_lower_ctx *c, const kview *v,
                                        const aicc_loop_buffer *S,
                                        const aicc_loop_expr *const *idx) {
  const aicc_loop_expr *si[AICC_MAX_LOOP_RANK];
  for (int d = 0; d < v->rank; d++) si[d] = v->mask[d] ? aicc_lower_i32(c, 0) : idx[d];
  return aicc_loop_load(c->lc, S, si);
}

/* buf[axes] of a stage (its own accumulated value, for post). */
static const aicc_loop_expr *self_load(aicc_lower_ctx *c, const aicc_loop_stage *s) {
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK];
  aicc_lower_axis_index(s, idx);
  return aicc_loop_load(c->lc, s->buf, idx);
}

/* The output stage: an elementwise function of earlier buffers. */
static aicc_status emit_elementwise(aicc_lower_ctx *c, aicc_loop_stage *s) {
  s->inlinable = true;
  s->op_class = AICC_LOOP_CLASS_ELEMENTWISE;
  return aicc_lower_emit(c, s);
}

/* The mean over the view: sum(x) / count (0 for an empty view, as the
 * reference), into buf or a new temporary of type t. */
static aicc_status emit_mean(aicc_lower_ctx *c, const kview *v, const aicc_loop_buffer *X,
                             const aicc_loop_buffer *buf, aicc_dtype t,
                             const aicc_loop_buffer **out) {
  const aicc_loop_expr *xi[AICC_MAX_LOOP_RANK];
  aicc_loop_stage *s = kview_stage(c, v, buf, t, AICC_LOOP_REDUCE_SUM, xi);
  if (!s) return nomem();
  t = s->buf->type;
  s->body = cast_to(c, t, aicc_loop_load(c->lc, X, xi));
  s->post = v->count ? aicc_loop_div(c->lc, self_load(c, s), fconst(c, t, (double)v->count))
                     : fconst(c, t, 0);
  *out = s->buf;
  return aicc_lower_emit_reduce(c, s);
}

/* 1/sqrt(var + eps) over the view, var the mean of (x - mean)^2 (of x^2
 * when mean is NULL: RMSNormalization). */
static aicc_status emit_inv_std(aicc_lower_ctx *c, const kview *v, const aicc_loop_buffer *X,
                                const aicc_loop_buffer *mean, double eps,
                                const aicc_loop_buffer *buf, aicc_dtype t,
                                const aicc_loop_buffer **out) {
  const aicc_loop_expr *xi[AICC_MAX_LOOP_RANK];
  aicc_loop_stage *s = kview_stage(c, v, buf, t, AICC_LOOP_REDUCE_SUM, xi);
  if (!s) return nomem();
  t = s->buf->type;
  const aicc_loop_expr *d = cast_to(c, t, aicc_loop_load(c->lc, X, xi));
  if (mean) d = aicc_loop_sub(c->lc, d, kview_load(c, v, mean, xi));
  s->body = aicc_loop_mul(c->lc, d, d);
  const aicc_loop_expr *var =
      v->count ? aicc_loop_div(c->lc, self_load(c, s), fconst(c, t, (double)v->count))
               : fconst(c, t, 0);
  s->post = call1(c, "rsqrt", aicc_loop_add(c->lc, var, fconst(c, t, eps)));
  *out = s->buf;
  return aicc_lower_emit_reduce(c, s);
}

/* ---- Softmax, LogSoftmax, Hardmax ----
 * Before opset 13 the normalised block is every dim from `axis` on (the
 * input coerced to 2-D); from 13 the one dim `axis`. */

typedef enum { SOFTMAX, LOGSOFTMAX, HARDMAX } smax_kind;

static aicc_status smax_view(aicc_lower_ctx *c, kview *v) {
  const aicc_loop_buffer *X = c->in[0];
  if (!is_float_type(X->type))
    return aicc_lower_unsupported(c, "dtype %s", aicc_dtype_text(X->type));
  bool legacy = c->opset < 13;
  int64_t axis = aicc_node_attr_int(c->node, "axis", legacy ? 1 : -1);
  if (!aicc_index_norm(axis, X->rank, &axis))
    return aicc_lower_unsupported(c, "axis %lld out of range", (long long)axis);
  bool mask[AICC_MAX_LOOP_RANK];
  if (X->rank > AICC_MAX_LOOP_RANK) return aicc_lower_unsupported(c, "rank %d", X->rank);
  mask_from(mask, X->rank, axis, legacy);
  return kview_init(c, X, mask, v);
}

/* The position of X's index idx in its block: row-major over the reduced
 * dims. */
static const aicc_loop_expr *block_pos(aicc_lower_ctx *c, const kview *v,
                                       const aicc_loop_expr *const *idx) {
  const aicc_loop_expr *pos = NULL;
  for (int d = 0; d < v->rank; d++)
    if (v->mask[d])
      pos = pos ? aicc_loop_add(c->lc, aicc_loop_mul(c->lc, pos, aicc_lower_i32(c, v->dims[d])),
                                idx[d])
                : idx[d];
  return pos ? pos : aicc_lower_i32(c, 0);
}

/* Hardmax: 1 at the first largest element of the block, else 0. The index
 * is the position in the (flattened) block; a NaN first element wins, as in
 * the reference, other NaNs never do. */
static aicc_status lower_hardmax(aicc_lower_ctx *c, const kview *v) {
  const aicc_loop_buffer *X = c->in[0], *Y = c->out[0];
  aicc_dtype t = X->type;
  if (v->count > INT32_MAX / 2)
    return aicc_lower_unsupported(c, "block of %lld elements", (long long)v->count);
  const aicc_loop_expr *xi[AICC_MAX_LOOP_RANK], *idx[AICC_MAX_LOOP_RANK];
  aicc_loop_stage *s = kview_stage(c, v, NULL, t, AICC_LOOP_REDUCE_MAX, xi);
  if (!s) return nomem();
  s->body = aicc_loop_load(c->lc, X, xi);
  const aicc_loop_buffer *M = s->buf;
  AICC_TRY(aicc_lower_emit_reduce(c, s));

  s = kview_stage(c, v, NULL, AICC_DTYPE_I32, AICC_LOOP_REDUCE_MIN, xi);
  if (!s) return nomem();
  const aicc_loop_buffer *I = s->buf;
  const aicc_loop_expr *pos = block_pos(c, v, xi);
  const aicc_loop_expr *x = aicc_loop_load(c->lc, X, xi);
  const aicc_loop_expr *hit = aicc_loop_binary(
      c->lc, AICC_LOOP_OR, aicc_loop_binary(c->lc, AICC_LOOP_EQ, x, kview_load(c, v, M, xi)),
      aicc_loop_binary(c->lc, AICC_LOOP_AND, aicc_loop_binary(c->lc, AICC_LOOP_NE, x, x),
                       aicc_loop_binary(c->lc, AICC_LOOP_EQ, pos, aicc_lower_i32(c, 0))));
  s->body = aicc_loop_select(c->lc, hit, pos, aicc_lower_i32(c, v->count));
  AICC_TRY(aicc_lower_emit(c, s));

  s = aicc_lower_stage(c, Y);
  if (!s) return nomem();
  aicc_lower_axis_index(s, idx);
  pos = block_pos(c, v, idx);
  s->body =
      aicc_loop_select(c->lc, aicc_loop_binary(c->lc, AICC_LOOP_EQ, pos, kview_load(c, v, I, idx)),
                       fconst(c, t, 1), fconst(c, t, 0));
  return emit_elementwise(c, s);
}

/* Softmax: M = max (0 where it is -inf, so a block of -inf gives 0/0 as the
 * reference), E = exp(x - M) stored once (read by the sum and the output),
 * R = 1/sum(E), y = E*R. LogSoftmax: L = log(sum(exp(x - M))), y = (x - M) - L
 * (x - M first: folding M into L would round it at M's magnitude). */
static aicc_status lower_smax(aicc_lower_ctx *c, smax_kind kind) {
  const aicc_loop_buffer *X = c->in[0], *Y = c->out[0];
  if (!Y) return NULL;
  kview v;
  AICC_TRY(smax_view(c, &v));
  if (kind == HARDMAX) return lower_hardmax(c, &v);
  aicc_dtype t = X->type;
  const aicc_loop_expr *xi[AICC_MAX_LOOP_RANK], *idx[AICC_MAX_LOOP_RANK];
  aicc_loop_stage *s = kview_stage(c, &v, NULL, t, AICC_LOOP_REDUCE_MAX, xi);
  if (!s) return nomem();
  s->body = aicc_loop_load(c->lc, X, xi);
  const aicc_loop_expr *m = self_load(c, s);
  s->post = aicc_loop_select(c->lc,
                             aicc_loop_binary(c->lc, AICC_LOOP_EQ, m, fconst(c, t, -INFINITY)),
                             fconst(c, t, 0), m);
  const aicc_loop_buffer *M = s->buf;
  AICC_TRY(aicc_lower_emit_reduce(c, s));

  const aicc_loop_buffer *E = NULL;
  if (kind == SOFTMAX) {
    E = aicc_lower_temp(c, t, v.rank, v.dims);
    s = E ? aicc_lower_stage(c, E) : NULL;
    if (!s) return nomem();
    aicc_lower_axis_index(s, idx);
    s->body = call1(c, "exp", aicc_loop_sub(c->lc, aicc_loop_load(c->lc, X, idx),
                                            kview_load(c, &v, M, idx)));
    /* Not inlinable: recomputing exp in both readers costs more than the
     * buffer. */
    s->op_class = AICC_LOOP_CLASS_ELEMENTWISE;
    AICC_TRY(aicc_lower_emit(c, s));
  }

  s = kview_stage(c, &v, NULL, t, AICC_LOOP_REDUCE_SUM, xi);
  if (!s) return nomem();
  const aicc_loop_expr *sum = self_load(c, s);
  if (kind == SOFTMAX) {
    s->body = aicc_loop_load(c->lc, E, xi);
    s->post = aicc_loop_div(c->lc, fconst(c, t, 1), sum);
  } else {
    s->body = call1(c, "exp", aicc_loop_sub(c->lc, aicc_loop_load(c->lc, X, xi),
                                            kview_load(c, &v, M, xi)));
    s->post = call1(c, "log", sum);
  }
  const aicc_loop_buffer *S = s->buf;
  AICC_TRY(aicc_lower_emit_reduce(c, s));

  s = aicc_lower_stage(c, Y);
  if (!s) return nomem();
  aicc_lower_axis_index(s, idx);
  s->body = kind == SOFTMAX
                ? aicc_loop_mul(c->lc, aicc_loop_load(c->lc, E, idx), kview_load(c, &v, S, idx))
                : aicc_loop_sub(c->lc,
                                aicc_loop_sub(c->lc, aicc_loop_load(c->lc, X, idx),
                                              kview_load(c, &v, M, idx)),
                                kview_load(c, &v, S, idx));
  return emit_elementwise(c, s);
}

static aicc_status lower_softmax(aicc_lower_ctx *c) { return lower_smax(c, SOFTMAX); }
static aicc_status lower_logsoftmax(aicc_lower_ctx *c) { return lower_smax(c, LOGSOFTMAX); }
static aicc_status lower_hardmax_op(aicc_lower_ctx *c) { return lower_smax(c, HARDMAX); }

/* ---- LayerNormalization, RMSNormalization ---- */

/* True when p broadcasts to X's dims (numpy, right-aligned). */
static bool bcast_ok(const aicc_loop_buffer *p, const kview *v) {
  if (p->rank > v->rank) return false;
  for (int d = 0; d < p->rank; d++) {
    int64_t e = aicc_lower_dim(p, d), want = v->dims[d + v->rank - p->rank];
    if (e != 1 && e != want) return false;
  }
  return true;
}

/* The stash type of the statistics: f32 unless the attribute asks for f64;
 * f64 data always computes in f64. 0 when unsupported (f16, bf16). */
static aicc_dtype stash_type(const aicc_lower_ctx *c, aicc_dtype xt) {
  int64_t st = aicc_node_attr_int(c->node, "stash_type", AICC_DTYPE_F32);
  if (st != AICC_DTYPE_F32 && st != AICC_DTYPE_F64) return AICC_DTYPE_UNDEFINED;
  return xt == AICC_DTYPE_F64 ? AICC_DTYPE_F64 : (aicc_dtype)st;
}

/* Output o (a statistic) defined from temporary T by a cast, when T is not
 * already that output. */
static aicc_status emit_stat_output(aicc_lower_ctx *c, int o, const aicc_loop_buffer *T) {
  if (o >= c->n_out || !c->out[o] || c->out[o] == T) return NULL;
  aicc_loop_stage *s = aicc_lower_stage(c, c->out[o]);
  if (!s) return nomem();
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK];
  aicc_lower_axis_index(s, idx);
  s->body = cast_to(c, c->out[o]->type, aicc_loop_load(c->lc, T, idx));
  return emit_elementwise(c, s);
}

/* Output o when it can be the statistic's own buffer (type t). */
static const aicc_loop_buffer *stat_buf(const aicc_lower_ctx *c, int o, aicc_dtype t) {
  return o < c->n_out && c->out[o] && c->out[o]->type == t ? c->out[o] : NULL;
}

static aicc_status lower_axis_norm(aicc_lower_ctx *c, bool rms) {
  const aicc_loop_buffer *X = c->in[0], *W = c->in[1], *Y = c->out[0];
  const aicc_loop_buffer *B = !rms && c->n_in > 2 ? c->in[2] : NULL;
  if (!is_float_type(X->type) || !is_float_type(W->type) || (B && !is_float_type(B->type)))
    return aicc_lower_unsupported(c, "dtype %s", aicc_dtype_text(X->type));
  aicc_dtype t = stash_type(c, X->type);
  if (!t) return aicc_lower_unsupported(c, "stash_type");
  if (X->rank < 1 || X->rank > AICC_MAX_LOOP_RANK)
    return aicc_lower_unsupported(c, "rank %d", X->rank);
  int64_t axis = aicc_node_attr_int(c->node, "axis", -1);
  if (!aicc_index_norm(axis, X->rank, &axis))
    return aicc_lower_unsupported(c, "axis %lld out of range", (long long)axis);
  bool mask[AICC_MAX_LOOP_RANK];
  mask_from(mask, X->rank, axis, true);
  kview v;
  AICC_TRY(kview_init(c, X, mask, &v));
  if (!bcast_ok(W, &v) || (B && !bcast_ok(B, &v)))
    return aicc_lower_unsupported(c, "scale/bias do not broadcast to the input");
  double eps = aicc_node_attr_float(c->node, "epsilon", 1e-5f);
  const aicc_loop_buffer *mean = NULL, *inv = NULL;
  if (!rms) AICC_TRY(emit_mean(c, &v, X, stat_buf(c, 1, t), t, &mean));
  AICC_TRY(emit_inv_std(c, &v, X, mean, eps, rms ? NULL : stat_buf(c, 2, t), t, &inv));
  if (!rms) {
    AICC_TRY(emit_stat_output(c, 1, mean));
    AICC_TRY(emit_stat_output(c, 2, inv));
  }
  if (!Y) return NULL;
  aicc_loop_stage *s = aicc_lower_stage(c, Y);
  if (!s) return nomem();
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK];
  aicc_lower_axis_index(s, idx);
  const aicc_loop_expr *y = cast_to(c, t, aicc_loop_load(c->lc, X, idx));
  if (mean) y = aicc_loop_sub(c->lc, y, kview_load(c, &v, mean, idx));
  y = aicc_loop_mul(c->lc, y, kview_load(c, &v, inv, idx));
  y = aicc_loop_mul(c->lc, y, cast_to(c, t, aicc_lower_load_bcast(c, W, X->rank, idx)));
  if (B) y = aicc_loop_add(c->lc, y, cast_to(c, t, aicc_lower_load_bcast(c, B, X->rank, idx)));
  s->body = cast_to(c, Y->type, y);
  return emit_elementwise(c, s);
}

static aicc_status lower_layernorm(aicc_lower_ctx *c) { return lower_axis_norm(c, false); }
static aicc_status lower_rmsnorm(aicc_lower_ctx *c) { return lower_axis_norm(c, true); }

/* ---- BatchNormalization, InstanceNormalization, GroupNormalization ---- */

/* Input i is a float vector of `want` values. */
static bool param_ok(const aicc_lower_ctx *c, int i, int64_t want) {
  const aicc_loop_buffer *p = i < c->n_in ? c->in[i] : NULL;
  return p && p->rank == 1 && is_float_type(p->type) && aicc_lower_dim(p, 0) == want;
}

/* Element k of parameter vector i, in type t. */
static const aicc_loop_expr *param_at(aicc_lower_ctx *c, int i, const aicc_loop_expr *k,
                                      aicc_dtype t) {
  return cast_to(c, t, aicc_loop_load(c->lc, c->in[i], &k));
}

/* Inference form: y = (x - mean[c]) * K[c] + B[c], K = scale / sqrt(var + eps).
 * Training mode (batch statistics, running-stat outputs) stays with the
 * reference kernel. */
static aicc_status lower_batchnorm(aicc_lower_ctx *c) {
  const aicc_loop_buffer *X = c->in[0], *Y = c->out[0];
  bool training = c->opset >= 14 ? aicc_node_attr_int(c->node, "training_mode", 0) != 0
                                 : c->n_out > 1;
  if (training) return aicc_lower_unsupported(c, "training mode");
  if (!Y) return NULL;
  aicc_dtype t = X->type;
  if (!is_float_type(t) || X->rank < 1) return aicc_lower_unsupported(c, "dtype or rank of X");
  int64_t C = X->rank > 1 ? aicc_lower_dim(X, 1) : 1;
  for (int i = 1; i < 5; i++)
    if (!param_ok(c, i, C))
      return aicc_lower_unsupported(c, "input %d is not a vector of %lld floats", i, (long long)C);
  double eps = aicc_node_attr_float(c->node, "epsilon", 1e-5f);
  const aicc_loop_buffer *K = aicc_lower_temp(c, t, 1, &C);
  aicc_loop_stage *s = K ? aicc_lower_stage(c, K) : NULL;
  if (!s) return nomem();
  const aicc_loop_expr *ch = s->axes[0].var;
  s->body = aicc_loop_div(
      c->lc, param_at(c, 1, ch, t),
      call1(c, "sqrt", aicc_loop_add(c->lc, param_at(c, 4, ch, t), fconst(c, t, eps))));
  /* Not inlinable: one sqrt per channel, read N*spatial times. */
  s->op_class = AICC_LOOP_CLASS_ELEMENTWISE;
  AICC_TRY(aicc_lower_emit(c, s));

  s = aicc_lower_stage(c, Y);
  if (!s) return nomem();
  ch = X->rank > 1 ? s->axes[1].var : aicc_lower_i32(c, 0);
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK];
  aicc_lower_axis_index(s, idx);
  const aicc_loop_expr *y =
      aicc_loop_sub(c->lc, aicc_loop_load(c->lc, X, idx), param_at(c, 3, ch, t));
  y = aicc_loop_add(c->lc, aicc_loop_mul(c->lc, y, aicc_loop_load(c->lc, K, &ch)),
                    param_at(c, 2, ch, t));
  s->body = y;
  return emit_elementwise(c, s);
}

/* Instance: statistics per (n, c) over the spatial dims. */
static aicc_status lower_instancenorm(aicc_lower_ctx *c) {
  const aicc_loop_buffer *X = c->in[0], *Y = c->out[0];
  if (!Y) return NULL;
  aicc_dtype t = X->type;
  if (!is_float_type(t) || X->rank < 2 || X->rank > AICC_MAX_LOOP_RANK)
    return aicc_lower_unsupported(c, "dtype or rank of X");
  int64_t C = aicc_lower_dim(X, 1);
  if (!param_ok(c, 1, C) || !param_ok(c, 2, C))
    return aicc_lower_unsupported(c, "scale and B must be vectors of %lld floats", (long long)C);
  bool mask[AICC_MAX_LOOP_RANK];
  mask_from(mask, X->rank, 2, true);
  kview v;
  AICC_TRY(kview_init(c, X, mask, &v));
  double eps = aicc_node_attr_float(c->node, "epsilon", 1e-5f);
  const aicc_loop_buffer *mean, *inv;
  AICC_TRY(emit_mean(c, &v, X, NULL, t, &mean));
  AICC_TRY(emit_inv_std(c, &v, X, mean, eps, NULL, t, &inv));
  aicc_loop_stage *s = aicc_lower_stage(c, Y);
  if (!s) return nomem();
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK];
  aicc_lower_axis_index(s, idx);
  const aicc_loop_expr *y =
      aicc_loop_sub(c->lc, aicc_loop_load(c->lc, X, idx), kview_load(c, &v, mean, idx));
  y = aicc_loop_mul(c->lc, y, kview_load(c, &v, inv, idx));
  y = aicc_loop_mul(c->lc, y, param_at(c, 1, idx[1], t));
  s->body = aicc_loop_add(c->lc, y, param_at(c, 2, idx[1], t));
  return emit_elementwise(c, s);
}

/* Group: statistics per (n, g) over the group's channels and the spatial
 * dims, in [N, G] buffers; scale and bias per group (opset 18) or per
 * channel (21). */
static aicc_status lower_groupnorm(aicc_lower_ctx *c) {
  const aicc_loop_buffer *X = c->in[0], *Y = c->out[0];
  if (!Y) return NULL;
  aicc_dtype xt = X->type, t = stash_type(c, xt);
  if (!is_float_type(xt) || !t || X->rank < 2 || X->rank > AICC_MAX_LOOP_RANK)
    return aicc_lower_unsupported(c, "dtype, stash_type or rank of X");
  int64_t dims[AICC_MAX_LOOP_RANK];
  if (!aicc_lower_dims(X, dims)) return aicc_lower_unsupported(c, "input shape is not static");
  int64_t N = dims[0], C = dims[1], G = aicc_node_attr_int(c->node, "num_groups", 0);
  if (G <= 0 || C % G != 0)
    return aicc_lower_unsupported(c, "num_groups %lld for %lld channels", (long long)G,
                                  (long long)C);
  bool per_channel = c->opset >= 21;
  int64_t cpg = C / G, want = per_channel ? C : G;
  if (!param_ok(c, 1, want) || !param_ok(c, 2, want))
    return aicc_lower_unsupported(c, "scale and bias must be vectors of %lld floats",
                                  (long long)want);
  /* Reduction axes: the channel within the group, then the spatial dims. */
  int nr = X->rank - 1;
  int64_t rext[AICC_MAX_LOOP_RANK], cnt = cpg;
  rext[0] = cpg;
  for (int d = 2; d < X->rank; d++) {
    rext[d - 1] = dims[d];
    cnt *= dims[d];
  }
  double eps = aicc_node_attr_float(c->node, "epsilon", 1e-5f);
  const int64_t sdims[2] = {N, G};
  const aicc_loop_buffer *stat[2] = {NULL, NULL}; /* mean, 1/std */
  for (int k = 0; k < 2; k++) {
    const aicc_loop_buffer *S = aicc_lower_temp(c, t, 2, sdims);
    aicc_loop_stage *s = S ? aicc_lower_stage(c, S) : NULL;
    if (!s || aicc_loop_stage_reduce(c->lc, s, AICC_LOOP_REDUCE_SUM, nr, rext, "r")) return nomem();
    s->op_class = AICC_LOOP_CLASS_REDUCTION;
    const aicc_loop_expr *xi[AICC_MAX_LOOP_RANK];
    xi[0] = s->axes[0].var;
    xi[1] = aicc_loop_add(c->lc, aicc_loop_mul(c->lc, s->axes[1].var, aicc_lower_i32(c, cpg)),
                          s->raxes[0].var);
    for (int d = 2; d < X->rank; d++) xi[d] = s->raxes[d - 1].var;
    const aicc_loop_expr *x = cast_to(c, t, aicc_loop_load(c->lc, X, xi));
    const aicc_loop_expr *m = cnt ? aicc_loop_div(c->lc, self_load(c, s), fconst(c, t, (double)cnt))
                                  : fconst(c, t, 0);
    if (k == 0) {
      s->body = x;
      s->post = m;
    } else {
      const aicc_loop_expr *si[2] = {s->axes[0].var, s->axes[1].var};
      const aicc_loop_expr *d = aicc_loop_sub(c->lc, x, aicc_loop_load(c->lc, stat[0], si));
      s->body = aicc_loop_mul(c->lc, d, d);
      s->post = call1(c, "rsqrt", aicc_loop_add(c->lc, m, fconst(c, t, eps)));
    }
    stat[k] = S;
    AICC_TRY(aicc_lower_emit_reduce(c, s));
  }
  aicc_loop_stage *s = aicc_lower_stage(c, Y);
  if (!s) return nomem();
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK];
  aicc_lower_axis_index(s, idx);
  const aicc_loop_expr *g = aicc_loop_div(c->lc, idx[1], aicc_lower_i32(c, cpg));
  const aicc_loop_expr *si[2] = {idx[0], g}, *p = per_channel ? idx[1] : g;
  const aicc_loop_expr *y = aicc_loop_sub(c->lc, cast_to(c, t, aicc_loop_load(c->lc, X, idx)),
                                          aicc_loop_load(c->lc, stat[0], si));
  y = aicc_loop_mul(c->lc, y, aicc_loop_load(c->lc, stat[1], si));
  y = aicc_loop_add(c->lc, aicc_loop_mul(c->lc, y, param_at(c, 1, p, t)), param_at(c, 2, p, t));
  s->body = cast_to(c, xt, y);
  return emit_elementwise(c, s);
}

/* ---- LpNormalization, MeanVarianceNormalization, LRN ---- */

/* y = x / ||x||_p along axis (p 1 or 2); a zero norm gives 0. */
static aicc_status lower_lpnorm(aicc_lower_ctx *c) {
  const aicc_loop_buffer *X = c->in[0], *Y = c->out[0];
  if (!Y) return NULL;
  aicc_dtype t = X->type;
  int64_t p = aicc_node_attr_int(c->node, "p", 2), axis = aicc_node_attr_int(c->node, "axis", -1);
  if (!is_float_type(t) || X->rank > AICC_MAX_LOOP_RANK)
    return aicc_lower_unsupported(c, "dtype or rank of X");
  if (p != 1 && p != 2) return aicc_lower_unsupported(c, "p %lld", (long long)p);
  if (!aicc_index_norm(axis, X->rank, &axis))
    return aicc_lower_unsupported(c, "axis %lld out of range", (long long)axis);
  bool mask[AICC_MAX_LOOP_RANK];
  mask_from(mask, X->rank, axis, false);
  kview v;
  AICC_TRY(kview_init(c, X, mask, &v));
  const aicc_loop_expr *xi[AICC_MAX_LOOP_RANK], *idx[AICC_MAX_LOOP_RANK];
  aicc_loop_stage *s = kview_stage(c, &v, NULL, t, AICC_LOOP_REDUCE_SUM, xi);
  if (!s) return nomem();
  const aicc_loop_expr *x = aicc_loop_load(c->lc, X, xi);
  s->body = p == 1 ? call1(c, "abs", x) : aicc_loop_mul(c->lc, x, x);
  if (p == 2) s->post = call1(c, "sqrt", self_load(c, s));
  const aicc_loop_buffer *Nb = s->buf;
  AICC_TRY(aicc_lower_emit_reduce(c, s));
  s = aicc_lower_stage(c, Y);
  if (!s) return nomem();
  aicc_lower_axis_index(s, idx);
  const aicc_loop_expr *nrm = kview_load(c, &v, Nb, idx), *zero = fconst(c, t, 0);
  s->body = aicc_loop_select(c->lc, aicc_loop_binary(c->lc, AICC_LOOP_EQ, nrm, zero), zero,
                             aicc_loop_div(c->lc, aicc_loop_load(c->lc, X, idx), nrm));
  return emit_elementwise(c, s);
}

/* y = (x - E[x]) / (sqrt(Var[x]) + 1e-9) over `axes` (default 0, 2, 3).
 * The variance is centred (two passes) rather than E[x^2] - E[x]^2. */
static aicc_status lower_mvn(aicc_lower_ctx *c) {
  const aicc_loop_buffer *X = c->in[0], *Y = c->out[0];
  if (!Y) return NULL;
  aicc_dtype t = X->type;
  if (!is_float_type(t) || X->rank > AICC_MAX_LOOP_RANK)
    return aicc_lower_unsupported(c, "dtype or rank of X");
  static const int64_t dflt[] = {0, 2, 3};
  int64_t n_axes;
  const int64_t *axes = aicc_node_attr_ints(c->node, "axes", &n_axes);
  if (!axes) {
    axes = dflt;
    n_axes = 3;
  }
  bool mask[AICC_MAX_LOOP_RANK] = {false};
  for (int64_t i = 0; i < n_axes; i++) {
    int64_t a;
    if (!aicc_index_norm(axes[i], X->rank, &a))
      return aicc_lower_unsupported(c, "axis %lld out of range", (long long)axes[i]);
    mask[a] = true;
  }
  kview v;
  AICC_TRY(kview_init(c, X, mask, &v));
  const aicc_loop_buffer *mean;
  AICC_TRY(emit_mean(c, &v, X, NULL, t, &mean));
  const aicc_loop_expr *xi[AICC_MAX_LOOP_RANK], *idx[AICC_MAX_LOOP_RANK];
  aicc_loop_stage *s = kview_stage(c, &v, NULL, t, AICC_LOOP_REDUCE_SUM, xi);
  if (!s) return nomem();
  const aicc_loop_expr *d =
      aicc_loop_sub(c->lc, aicc_loop_load(c->lc, X, xi), kview_load(c, &v, mean, xi));
  s->body = aicc_loop_mul(c->lc, d, d);
  s->post = aicc_loop_add(
      c->lc, call1(c, "sqrt", aicc_loop_div(c->lc, self_load(c, s), fconst(c, t, (double)v.count))),
      fconst(c, t, 1e-9));
  const aicc_loop_buffer *den = s->buf;
  AICC_TRY(aicc_lower_emit_reduce(c, s));
  s = aicc_lower_stage(c, Y);
  if (!s) return nomem();
  aicc_lower_axis_index(s, idx);
  s->body = aicc_loop_div(
      c->lc, aicc_loop_sub(c->lc, aicc_loop_load(c->lc, X, idx), kview_load(c, &v, mean, idx)),
      kview_load(c, &v, den, idx));
  return emit_elementwise(c, s);
}

/* LRN: sq = sum of x^2 over the channel window [c - (size-1)/2, c +
 * size-1 - (size-1)/2] clipped to [0, C), y = x / (bias + alpha/size*sq)^beta. */
static aicc_status lower_lrn(aicc_lower_ctx *c) {
  const aicc_loop_buffer *X = c->in[0], *Y = c->out[0];
  if (!Y) return NULL;
  aicc_dtype t = X->type;
  if (!is_float_type(t) || X->rank < 2 || X->rank > AICC_MAX_LOOP_RANK)
    return aicc_lower_unsupported(c, "dtype or rank of X");
  int64_t size = aicc_node_attr_int(c->node, "size", 0), C = aicc_lower_dim(X, 1);
  if (size <= 0 || size > INT32_MAX / 2)
    return aicc_lower_unsupported(c, "size %lld", (long long)size);
  double alpha = aicc_node_attr_float(c->node, "alpha", 1e-4f);
  double beta = aicc_node_attr_float(c->node, "beta", 0.75f);
  double bias = aicc_node_attr_float(c->node, "bias", 1.0f);
  int64_t dims[AICC_MAX_LOOP_RANK], lo = (size - 1) / 2;
  if (!aicc_lower_dims(X, dims)) return aicc_lower_unsupported(c, "input shape is not static");
  const aicc_loop_buffer *SQ = aicc_lower_temp(c, t, X->rank, dims);
  aicc_loop_stage *s = SQ ? aicc_lower_stage(c, SQ) : NULL;
  if (!s || aicc_loop_stage_reduce(c->lc, s, AICC_LOOP_REDUCE_SUM, 1, &size, "r")) return nomem();
  s->op_class = AICC_LOOP_CLASS_POOL;
  const aicc_loop_expr *xi[AICC_MAX_LOOP_RANK], *idx[AICC_MAX_LOOP_RANK];
  aicc_lower_axis_index(s, xi);
  /* Channel ch - lo + k; loads are clamped into range (ir.h) and the guard
   * leaves the out-of-range terms out. */
  const aicc_loop_expr *ch = aicc_loop_add(
      c->lc, aicc_loop_sub(c->lc, s->axes[1].var, aicc_lower_i32(c, lo)), s->raxes[0].var);
  s->cond = aicc_loop_binary(c->lc, AICC_LOOP_AND,
                             aicc_loop_binary(c->lc, AICC_LOOP_GE, ch, aicc_lower_i32(c, 0)),
                             aicc_loop_binary(c->lc, AICC_LOOP_LT, ch, aicc_lower_i32(c, C)));
  xi[1] = aicc_loop_min(c->lc, aicc_loop_max(c->lc, ch, aicc_lower_i32(c, 0)),
                        aicc_lower_i32(c, C - 1));
  const aicc_loop_expr *x = aicc_loop_load(c->lc, X, xi);
  s->body = aicc_loop_mul(c->lc, x, x);
  AICC_TRY(aicc_lower_emit(c, s));
  s = aicc_lower_stage(c, Y);
  if (!s) return nomem();
  aicc_lower_axis_index(s, idx);
  const aicc_loop_expr *base = aicc_loop_add(
      c->lc, fconst(c, t, bias),
      aicc_loop_mul(c->lc, fconst(c, t, alpha / (double)size), aicc_loop_load(c->lc, SQ, idx)));
  const aicc_loop_expr *pw[2] = {base, fconst(c, t, beta)};
  s->body =
      aicc_loop_div(c->lc, aicc_loop_load(c->lc, X, idx), aicc_loop_call(c->lc, "pow", 2, pw));
  return emit_elementwise(c, s);
}

static const aicc_lower_row rows[] = {
    {"", "Softmax", lower_softmax},
    {"", "LogSoftmax", lower_logsoftmax},
    {"", "Hardmax", lower_hardmax_op},
    {"", "LayerNormalization", lower_layernorm},
    {"", "RMSNormalization", lower_rmsnorm},
    {"", "BatchNormalization", lower_batchnorm},
    {"", "InstanceNormalization", lower_instancenorm},
    {"", "GroupNormalization", lower_groupnorm},
    {"", "LpNormalization", lower_lpnorm},
    {"", "MeanVarianceNormalization", lower_mvn},
    {"", "LRN", lower_lrn},
};

const aicc_lower_table aicc_lower_norm = {"norm", rows, sizeof rows / sizeof rows[0]};
