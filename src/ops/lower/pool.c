/* Compute definitions of pooling: MaxPool (with its Indices output),
 * AveragePool, LpPool and their Global forms. Window taps outside the input
 * are left out with the stage's cond (so loads stay in bounds); AveragePool
 * divides in `post` by a closed-form count of the taps. The window geometry
 * is ops/conv_util.h's and the reference kernels are in ops/pool.c. */
#include "ops/conv_util.h"
#include "ops/lower.h"

#include <stdint.h>

enum pool_kind { POOL_MAX, POOL_AVG, POOL_LP };

static aicc_status oom(void) { return aicc_errorf(AICC_ERR_NOMEM, "out of memory"); }

static const aicc_loop_expr *i32(aicc_lower_ctx *c, int64_t v) { return aicc_lower_i32(c, v); }

/* ceil(a / d) for d >= 1 (the IR's division floors). */
static const aicc_loop_expr *ceil_div(aicc_lower_ctx *c, const aicc_loop_expr *a, int64_t d) {
  return d == 1 ? a : aicc_loop_div(c->lc, aicc_lower_add_k(c, a, d - 1), i32(c, d));
}

/* The exponent p of LpPool / GlobalLpPool (a float before opset 2). */
static double lp_exponent(const aicc_node *n) {
  const aicc_attr *pa = aicc_node_attr(n, "p");
  if (!pa) return 2;
  return pa->kind == AICC_ATTR_FLOAT ? pa->f : (double)pa->i;
}

/* The term LpPool sums (|v|^p) and the result it takes of the sum. */
static const aicc_loop_expr *lp_term(aicc_lower_ctx *c, const aicc_loop_expr *v, double p) {
  aicc_loop_ctx *lc = c->lc;
  if (p == 2) return aicc_loop_mul(lc, v, v);
  const aicc_loop_expr *a = aicc_loop_call(lc, "abs", 1, &v);
  if (p == 1) return a;
  const aicc_loop_expr *args[2] = {a, aicc_lower_const(c, v->type, p)};
  return aicc_loop_call(lc, "pow", 2, args);
}

static const aicc_loop_expr *lp_root(aicc_lower_ctx *c, const aicc_loop_expr *acc, double p) {
  if (p == 1) return acc;
  if (p == 2) return aicc_loop_call(c->lc, "sqrt", 1, &acc);
  const aicc_loop_expr *args[2] = {acc, aicc_lower_const(c, acc->type, 1.0 / p)};
  return aicc_loop_call(c->lc, "pow", 2, args);
}

static bool pool_dtype_ok(enum pool_kind kind, aicc_dtype t) {
  if (!aicc_lower_dtype_ok(t) || t == AICC_DTYPE_BOOL) return false;
  return kind == POOL_MAX || aicc_dtype_is_float(t);
}

/* ---- windowed pools ---- */

typedef struct pool_win {
  aicc_conv_geom g;
  int64_t xd[AICC_MAX_LOOP_RANK];
  /* Per output point: the tap positions pos[d] (built on a stage) and the
   * bool of the taps inside the input. */
  const aicc_loop_expr *pos[AICC_MAX_LOOP_RANK];
  const aicc_loop_expr *cond;
} pool_win;

static aicc_status pool_geom(aicc_lower_ctx *c, const aicc_loop_buffer *x,
                             const aicc_loop_buffer *y, pool_win *w) {
  int r = x->rank;
  int64_t yd[AICC_MAX_LOOP_RANK];
  if (r < 3 || r > AICC_MAX_LOOP_RANK || y->rank != r || !aicc_lower_dims(x, w->xd) ||
      !aicc_lower_dims(y, yd))
    return aicc_lower_unsupported(c, "input and output need equal static ranks >= 3");
  aicc_status s = aicc_conv_geom_read(c->node, r - 2, &w->g);
  if (!s) s = w->g.has_kernel ? aicc_conv_geom_forward(&w->g, w->xd + 2)
                              : aicc_errorf(AICC_ERR_INVALID, "kernel_shape is required");
  if (s) {
    char buf[256];
    return aicc_status_wrap(s, "%s", aicc_node_describe(c->node, buf, sizeof buf));
  }
  bool same = yd[0] == w->xd[0] && yd[1] == w->xd[1];
  for (int d = 0; d < r - 2; d++) same = same && yd[2 + d] == w->g.out[d];
  if (!same) return aicc_lower_unsupported(c, "output shape differs from the geometry");
  return NULL;
}

/* Adds the window's reduction axes to s (over [n, c, o...]) and fills the
 * tap positions and their in-bounds condition. */
static aicc_status pool_taps(aicc_lower_ctx *c, aicc_loop_stage *s, aicc_loop_reduce kind,
                             pool_win *w) {
  const aicc_conv_geom *g = &w->g;
  AICC_TRY(aicc_loop_stage_reduce(c->lc, s, kind, g->nsp, g->kernel, "r"));
  const aicc_loop_expr *cond = aicc_loop_bool(c->lc, true);
  for (int d = 0; d < g->nsp; d++) {
    int64_t st = g->stride[d], dl = g->dil[d], pl = g->pad_lo[d], K = g->kernel[d];
    const aicc_loop_expr *base = aicc_lower_mul_k(c, s->axes[2 + d].var, st);
    const aicc_loop_expr *pos =
        aicc_lower_add_k(c, K == 1 ? base : aicc_loop_add(c->lc, base, aicc_lower_mul_k(c, s->raxes[d].var, dl)), -pl);
    int64_t pmax = (g->out[d] - 1) * st - pl + (K - 1) * dl;
    if (pl > 0) cond = aicc_lower_and(c, cond, aicc_loop_binary(c->lc, AICC_LOOP_GE, pos, i32(c, 0)));
    if (pmax >= g->in[d])
      cond = aicc_lower_and(c, cond, aicc_loop_binary(c->lc, AICC_LOOP_LT, pos, i32(c, g->in[d])));
    w->pos[d] = pos;
  }
  if (!cond) return oom();
  w->cond = cond == aicc_loop_bool(c->lc, true) ? NULL : cond;
  return NULL;
}

/* The number of taps of output point o on axis d whose position lies in
 * [lo, hi): k in [0, K) with lo <= o*s - pad + k*dil < hi. */
static const aicc_loop_expr *axis_count(aicc_lower_ctx *c, const aicc_conv_geom *g, int d,
                                        const aicc_loop_expr *o, int64_t lo, int64_t hi) {
  int64_t st = g->stride[d], dl = g->dil[d], pl = g->pad_lo[d], K = g->kernel[d];
  int64_t pmax = (g->out[d] - 1) * st - pl + (K - 1) * dl;
  bool cut_lo = -pl < lo, cut_hi = pmax >= hi;
  if (!cut_lo && !cut_hi) return i32(c, K);
  aicc_loop_ctx *lc = c->lc;
  const aicc_loop_expr *base = aicc_lower_add_k(c, aicc_lower_mul_k(c, o, st), -pl);
  const aicc_loop_expr *k0 = i32(c, 0), *k1 = i32(c, K);
  if (cut_lo)
    k0 = aicc_loop_max(lc, ceil_div(c, aicc_loop_sub(lc, i32(c, lo), base), dl), i32(c, 0));
  if (cut_hi)
    k1 = aicc_loop_min(lc, ceil_div(c, aicc_loop_sub(lc, i32(c, hi), base), dl), i32(c, K));
  return aicc_loop_max(lc, cut_lo ? aicc_loop_sub(lc, k1, k0) : k1, i32(c, 0));
}

/* MaxPool's Indices: the flat index (n*C + c)*I + the row-major (or, with
 * storage_order 1, column-major) position of the first tap holding the
 * maximum, found as the minimum row-major position among the taps equal to
 * Y (row-major positions grow with the tap order). -1 when no tap is in. */
static aicc_status max_indices(aicc_lower_ctx *c, const aicc_loop_buffer *x,
                               const aicc_loop_buffer *y, const aicc_loop_buffer *ind,
                               pool_win *w) {
  if (ind->type != AICC_DTYPE_I64) return aicc_lower_unsupported(c, "Indices not int64");
  int64_t so = aicc_node_attr_int(c->node, "storage_order", 0);
  aicc_loop_ctx *lc = c->lc;
  aicc_loop_stage *s = aicc_lower_stage(c, ind);
  if (!s) return oom();
  AICC_TRY(pool_taps(c, s, AICC_LOOP_REDUCE_MIN, w));
  int nsp = w->g.nsp;
  const aicc_loop_expr *ax[AICC_MAX_LOOP_RANK], *xi[AICC_MAX_LOOP_RANK];
  aicc_lower_axis_index(s, ax);
  xi[0] = ax[0];
  xi[1] = ax[1];
  const aicc_loop_expr *lin = NULL;
  for (int d = 0; d < nsp; d++) {
    xi[2 + d] = w->pos[d];
    lin = lin ? aicc_loop_add(lc, aicc_lower_mul_k(c, lin, w->xd[2 + d]), w->pos[d]) : w->pos[d];
  }
  const aicc_loop_expr *big = aicc_loop_int(lc, AICC_DTYPE_I64, INT64_MAX);
  const aicc_loop_expr *eq =
      aicc_loop_binary(lc, AICC_LOOP_EQ, aicc_loop_load(lc, x, xi), aicc_loop_load(lc, y, ax));
  s->body = aicc_loop_select(lc, eq, aicc_loop_cast(lc, AICC_DTYPE_I64, lin), big);
  s->cond = w->cond;
  /* post: the plane offset plus the position, re-laid out for storage_order 1. */
  const aicc_loop_expr *acc = aicc_loop_load(lc, ind, ax), *p = acc;
  int64_t plane = 1;
  for (int d = 0; d < nsp; d++) plane *= w->xd[2 + d];
  if (so == 1) {
    int64_t rs = plane, cs = 1;
    p = aicc_loop_int(lc, AICC_DTYPE_I64, 0);
    for (int d = 0; d < nsp; d++) {
      rs /= w->xd[2 + d];
      const aicc_loop_expr *coord =
          aicc_loop_mod(lc, aicc_loop_div(lc, acc, aicc_loop_int(lc, AICC_DTYPE_I64, rs)),
                        aicc_loop_int(lc, AICC_DTYPE_I64, w->xd[2 + d]));
      p = aicc_loop_add(lc, p, aicc_loop_mul(lc, coord, aicc_loop_int(lc, AICC_DTYPE_I64, cs)));
      cs *= w->xd[2 + d];
    }
  }
  const aicc_loop_expr *pl = aicc_loop_cast(
      lc, AICC_DTYPE_I64, aicc_loop_add(lc, aicc_lower_mul_k(c, ax[0], w->xd[1]), ax[1]));
  p = aicc_loop_add(lc, aicc_loop_mul(lc, pl, aicc_loop_int(lc, AICC_DTYPE_I64, plane)), p);
  s->post = aicc_loop_select(lc, aicc_loop_binary(lc, AICC_LOOP_EQ, acc, big),
                             aicc_loop_int(lc, AICC_DTYPE_I64, -1), p);
  if (!s->post) return oom();
  s->op_class = AICC_LOOP_CLASS_POOL;
  return aicc_lower_emit(c, s);
}

static aicc_status lower_pool(aicc_lower_ctx *c, enum pool_kind kind) {
  const aicc_loop_buffer *x = c->in[0], *y = c->out[0];
  const aicc_loop_buffer *ind = kind == POOL_MAX && c->n_out > 1 ? c->out[1] : NULL;
  if (!pool_dtype_ok(kind, x->type))
    return aicc_lower_unsupported(c, "pooling of %s", aicc_dtype_text(x->type));
  if (!y) return aicc_lower_unsupported(c, "Indices without the values");
  pool_win w;
  AICC_TRY(pool_geom(c, x, y, &w));
  const aicc_conv_geom *g = &w.g;
  int nsp = g->nsp;
  aicc_loop_ctx *lc = c->lc;
  aicc_loop_stage *s = aicc_lower_stage(c, y);
  if (!s) return oom();
  AICC_TRY(pool_taps(c, s, kind == POOL_MAX ? AICC_LOOP_REDUCE_MAX : AICC_LOOP_REDUCE_SUM, &w));
  const aicc_loop_expr *ax[AICC_MAX_LOOP_RANK], *xi[AICC_MAX_LOOP_RANK];
  aicc_lower_axis_index(s, ax);
  xi[0] = ax[0];
  xi[1] = ax[1];
  for (int d = 0; d < nsp; d++) xi[2 + d] = w.pos[d];
  const aicc_loop_expr *v = aicc_loop_load(lc, x, xi), *acc = aicc_loop_load(lc, y, ax);
  double p = lp_exponent(c->node);
  if (kind == POOL_LP && !(p > 0)) return aicc_lower_unsupported(c, "p = %g", p);
  s->body = kind == POOL_LP ? lp_term(c, v, p) : v;
  s->cond = w.cond;
  if (kind == POOL_LP && p != 1) {
    s->post = lp_root(c, acc, p);
    if (!s->post) return oom();
  } else if (kind == POOL_AVG) {
    /* Taps counted: those inside the input, or with count_include_pad those
     * inside the explicit padding too (not ceil_mode's extra columns). */
    bool include_pad = aicc_node_attr_int(c->node, "count_include_pad", 0) != 0;
    const aicc_loop_expr *cnt = NULL;
    for (int d = 0; d < nsp; d++) {
      int64_t lo = include_pad ? -g->pad_lo[d] : 0;
      int64_t hi = include_pad ? g->in[d] + g->pad_hi[d] : g->in[d];
      const aicc_loop_expr *k = axis_count(c, g, d, ax[2 + d], lo, hi);
      cnt = cnt ? aicc_loop_mul(lc, cnt, k) : k;
    }
    s->post = aicc_loop_div(lc, acc, aicc_loop_cast(lc, y->type, cnt));
    if (!s->post) return oom();
  }
  s->op_class = AICC_LOOP_CLASS_POOL;
  AICC_TRY(aicc_lower_emit(c, s));
  if (ind) return max_indices(c, x, y, ind, &w);
  return NULL;
}

static aicc_status lower_max_pool(aicc_lower_ctx *c) { return lower_pool(c, POOL_MAX); }
static aicc_status lower_avg_pool(aicc_lower_ctx *c) { return lower_pool(c, POOL_AVG); }
static aicc_status lower_lp_pool(aicc_lower_ctx *c) { return lower_pool(c, POOL_LP); }

/* ---- global pools: one reduction over all spatial axes ---- */

static aicc_status lower_global(aicc_lower_ctx *c, enum pool_kind kind) {
  const aicc_loop_buffer *x = c->in[0], *y = c->out[0];
  if (!y) return NULL;
  if (!aicc_dtype_is_float(x->type) || !aicc_lower_dtype_ok(x->type) || y->type != x->type)
    return aicc_lower_unsupported(c, "pooling of %s", aicc_dtype_text(x->type));
  int r = x->rank;
  int64_t xd[AICC_MAX_LOOP_RANK], yd[AICC_MAX_LOOP_RANK], S = 1;
  if (r < 3 || r > AICC_MAX_LOOP_RANK || y->rank != r || !aicc_lower_dims(x, xd) ||
      !aicc_lower_dims(y, yd))
    return aicc_lower_unsupported(c, "input and output need equal static ranks >= 3");
  for (int d = 2; d < r; d++) S *= xd[d];
  if (S == 0) return aicc_lower_unsupported(c, "empty spatial extent");
  double p = lp_exponent(c->node);
  if (kind == POOL_LP && !(p > 0)) return aicc_lower_unsupported(c, "p = %g", p);
  aicc_loop_ctx *lc = c->lc;
  aicc_loop_stage *s = aicc_lower_stage(c, y);
  if (!s) return oom();
  AICC_TRY(aicc_loop_stage_reduce(lc, s,
                                  kind == POOL_MAX ? AICC_LOOP_REDUCE_MAX : AICC_LOOP_REDUCE_SUM,
                                  r - 2, xd + 2, "r"));
  const aicc_loop_expr *ax[AICC_MAX_LOOP_RANK], *xi[AICC_MAX_LOOP_RANK];
  aicc_lower_axis_index(s, ax);
  xi[0] = ax[0];
  xi[1] = ax[1];
  for (int d = 2; d < r; d++) xi[d] = s->raxes[d - 2].var;
  const aicc_loop_expr *v = aicc_loop_load(lc, x, xi), *acc = aicc_loop_load(lc, y, ax);
  s->body = kind == POOL_LP ? lp_term(c, v, p) : v;
  if (kind == POOL_AVG) s->post = aicc_loop_div(lc, acc, aicc_lower_const(c, y->type, (double)S));
  if (kind == POOL_LP && p != 1) s->post = lp_root(c, acc, p);
  s->op_class = AICC_LOOP_CLASS_POOL;
  return aicc_lower_emit(c, s);
}

static aicc_status lower_global_max(aicc_lower_ctx *c) { return lower_global(c, POOL_MAX); }
static aicc_status lower_global_avg(aicc_lower_ctx *c) { return lower_global(c, POOL_AVG); }
static aicc_status lower_global_lp(aicc_lower_ctx *c) { return lower_global(c, POOL_LP); }

static const aicc_lower_row rows[] = {
    {"", "MaxPool", lower_max_pool},
    {"", "AveragePool", lower_avg_pool},
    {"", "LpPool", lower_lp_pool},
    {"", "GlobalMaxPool", lower_global_max},
    {"", "GlobalAveragePool", lower_global_avg},
    {"", "GlobalLpPool", lower_global_lp},
};

const aicc_lower_table aicc_lower_pool = {"pool", rows, sizeof rows / sizeof rows[0]};
