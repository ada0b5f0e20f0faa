/* Compute definitions of the convolutions: Conv, ConvInteger, QLinearConv,
 * ConvTranspose, and the layout pass's ai.aicc ConvBlocked (NCHW[b]c input,
 * OIHW[b]i[b]o weight), DepthwiseBlocked (NCHW[b]c input, [C/b, kh, kw, b]
 * weight: every tap a vector of b lanes) and LayoutTransform. Conv and ConvBlocked read a
 * zero-padded copy of the input (a temp stage, pad_input), so their
 * reduction has no condition and the default schedule (loop/schedule_conv.c)
 * can keep a register block of vectors; the integer convs and ConvTranspose
 * leave the taps in the padding out with the stage's cond. The window
 * geometry is ops/conv_util.h's, as in the reference kernels (ops/conv.c,
 * ops/aicc_layout.c). */
#include "ops/conv_util.h"
#include "ops/lower.h"

#include <string.h>

static aicc_status oom(void) { return aicc_errorf(AICC_ERR_NOMEM, "out of memory"); }

static bool is_8bit(aicc_dtype t) { return t == AICC_DTYPE_I8 || t == AICC_DTYPE_U8; }

/* A geometry error (bad attributes) named after the node. */
static aicc_status node_fail(const aicc_lower_ctx *c, aicc_status s) {
  if (!s) return NULL;
  char buf[256];
  return aicc_status_wrap(s, "%s", aicc_node_describe(c->node, buf, sizeof buf));
}

/* cond && 0 <= p < n for p in [pmin, pmax], leaving out halves that hold
 * for every p. */
static const aicc_loop_expr *and_in_range(aicc_lower_ctx *c, const aicc_loop_expr *cond,
                                          const aicc_loop_expr *p, int64_t pmin, int64_t pmax,
                                          int64_t n) {
  if (pmin < 0)
    cond = aicc_lower_and(c, cond, aicc_loop_binary(c->lc, AICC_LOOP_GE, p, aicc_lower_i32(c, 0)));
  if (pmax >= n)
    cond = aicc_lower_and(c, cond, aicc_loop_binary(c->lc, AICC_LOOP_LT, p, aicc_lower_i32(c, n)));
  return cond;
}

/* and_in_range with p compared as a value of float type t (exact: |p| is
 * far below 2^24). */
static const aicc_loop_expr *and_in_range_f(aicc_lower_ctx *c, const aicc_loop_expr *cond,
                                            const aicc_loop_expr *p, aicc_dtype t, int64_t pmin,
                                            int64_t pmax, int64_t n) {
  const aicc_loop_expr *pf = aicc_loop_cast(c->lc, t, p);
  if (pmin < 0)
    cond = aicc_lower_and(c, cond, aicc_loop_binary(c->lc, AICC_LOOP_GE, pf,
                                                    aicc_lower_const(c, t, 0)));
  if (pmax >= n)
    cond = aicc_lower_and(c, cond, aicc_loop_binary(c->lc, AICC_LOOP_LT, pf,
                                                    aicc_lower_const(c, t, (double)n)));
  return cond;
}

/* Sets s->cond from a condition built with and2 (true: none). */
static aicc_status set_cond(aicc_lower_ctx *c, aicc_loop_stage *s, const aicc_loop_expr *cond) {
  if (!cond) return oom();
  s->cond = cond == aicc_loop_bool(c->lc, true) ? NULL : cond;
  return NULL;
}

/* in[i] when present, else NULL. */
static const aicc_loop_buffer *input(const aicc_lower_ctx *c, int i) {
  return i < c->n_in ? c->in[i] : NULL;
}

/* ---- padded copies ---- */

/* How a padded copy of an input is laid out: spatial dims [sp, sp + nsp)
 * get lo[d] cells in front and run to ext[d] (the window's reach). With
 * phase > 1 the last spatial dim is split by it, phase outermost: the copy
 * holds [.., phase, ext] with cell (f, j) at padded position j*phase + f, so
 * a window of stride `phase` reads consecutive cells of one phase. When
 * lane_dim >= 0 the input is blocked (lane dim lane_dim of `block` lanes,
 * block dim block_dim) and the lanes of channels >= real are written as 0
 * too, so a reduction over whole blocks adds nothing for them.
 *
 * With fcols (no phase), the last spatial dim's range check is made in
 * floats: an integer comparison that varies across the lanes would keep the
 * copy scalar, and its read of the input, x[clamp(p - lo)], is a load of
 * consecutive elements that codegen masks at the clamp (an NCHW input read by
 * broadcasts: the reader's index stays affine, the pads being real zeros). */
typedef struct pad_spec {
  int sp, nsp;
  int64_t lo[AICC_MAX_LOOP_RANK], ext[AICC_MAX_LOOP_RANK];
  int64_t phase;
  double fill;
  int lane_dim, block_dim;
  int64_t block, real;
  bool fcols;
} pad_spec;

/* Whether spatial dim d of x (extent n) needs padding under ps. */
static bool pad_dim_needed(const pad_spec *ps, int d, int64_t n) {
  return ps->lo[d] > 0 || ps->ext[d] > n || (d == ps->nsp - 1 && ps->phase > 1);
}

/* A temp stage xp = x padded as ps says, read with indices that are always
 * inside x (the positions in the padding are clamped and selected away), so
 * the conv that reads xp needs no condition. Sets *out to x itself when
 * nothing needs padding. The stage is elementwise: it vectorizes over its
 * innermost dim when no condition varies along it (blocked layouts) or,
 * with fcols, as a masked load of each input row; else in NCHW the column
 * clamp keeps it scalar, an O(input) pass. */
static aicc_status pad_input(aicc_lower_ctx *c, const aicc_loop_buffer *x, const pad_spec *ps,
                             const aicc_loop_buffer **out) {
  aicc_loop_ctx *lc = c->lc;
  int64_t xd[AICC_MAX_LOOP_RANK], pd[AICC_MAX_LOOP_RANK];
  *out = x;
  int ph = ps->phase > 1 ? 1 : 0; /* the extra dim of the phase */
  if (x->rank + ph > AICC_MAX_LOOP_RANK || !aicc_lower_dims(x, xd))
    return aicc_lower_unsupported(c, "input has no static shape");
  bool any = false;
  for (int d = 0; d < ps->nsp; d++) any = any || pad_dim_needed(ps, d, xd[ps->sp + d]);
  bool ragged = ps->lane_dim >= 0 && ps->real % ps->block != 0 &&
                xd[ps->block_dim] * ps->block > ps->real;
  if (!any && !ragged) return NULL;
  /* dims of xp: x's, the padded ones extended, the phase before the last. */
  int last = ps->sp + ps->nsp - 1;
  for (int i = 0, j = 0; i < x->rank; i++, j++) {
    int d = i - ps->sp;
    bool spatial = d >= 0 && d < ps->nsp;
    if (ph && i == last) pd[j++] = ps->phase;
    pd[j] = spatial && pad_dim_needed(ps, d, xd[i]) ? ps->ext[d] : xd[i];
  }
  const aicc_loop_buffer *xp = aicc_lower_temp(c, x->type, x->rank + ph, pd);
  aicc_loop_stage *s = xp ? aicc_lower_stage(c, xp) : NULL;
  if (!s) return oom();
  const aicc_loop_expr *ax[AICC_MAX_LOOP_RANK], *idx[AICC_MAX_LOOP_RANK];
  aicc_lower_axis_index(s, ax);
  const aicc_loop_expr *cond = aicc_loop_bool(lc, true);
  for (int i = 0; i < x->rank; i++) {
    int d = i - ps->sp, j = i > last ? i + ph : i;
    idx[i] = ax[j];
    if (d < 0 || d >= ps->nsp || !pad_dim_needed(ps, d, xd[i])) continue;
    /* The padded position, its range, and the input index it stands for. */
    const aicc_loop_expr *pos = ax[j];
    int64_t n = pd[j];
    if (ph && i == last) {
      pos = aicc_loop_add(lc, aicc_lower_mul_k(c, ax[j + 1], ps->phase), ax[j]);
      n = pd[j + 1] * ps->phase;
    }
    const aicc_loop_expr *q = aicc_lower_add_k(c, pos, -ps->lo[d]);
    if (ps->fcols && !ph && i == last)
      cond = and_in_range_f(c, cond, q, x->type, -ps->lo[d], n - 1 - ps->lo[d], xd[i]);
    else
      cond = and_in_range(c, cond, q, -ps->lo[d], n - 1 - ps->lo[d], xd[i]);
    if (ps->lo[d] > 0) q = aicc_loop_max(lc, q, aicc_lower_i32(c, 0));
    if (n - ps->lo[d] > xd[i]) q = aicc_loop_min(lc, q, aicc_lower_i32(c, xd[i] - 1));
    idx[i] = q;
  }
  if (ragged) {
    /* The channel of a lane, compared in floats: an integer comparison that
     * varies across the lanes would keep the copy from vectorizing. */
    const aicc_loop_expr *ch = aicc_loop_add(
        lc, aicc_lower_mul_k(c, ax[ps->block_dim], ps->block), ax[ps->lane_dim]);
    const aicc_loop_expr *chf = aicc_loop_cast(lc, x->type, ch);
    cond = aicc_lower_and(c, cond, aicc_loop_binary(lc, AICC_LOOP_LT, chf,
                                          aicc_lower_const(c, x->type, (double)ps->real)));
  }
  if (!cond) return oom();
  const aicc_loop_expr *v = aicc_loop_load(lc, x, idx);
  s->body = cond == aicc_loop_bool(lc, true)
                ? v
                : aicc_loop_select(lc, cond, v, aicc_lower_const(c, x->type, ps->fill));
  if (!s->body) return oom();
  s->op_class = AICC_LOOP_CLASS_MOVEMENT;
  AICC_TRY(aicc_lower_emit(c, s));
  *out = xp;
  return NULL;
}

/* ---- forward convolution ---- */

typedef struct conv_plan {
  aicc_conv_geom g;
  int64_t N, C, M, G;
} conv_plan;

/* The 2-d window of a blocked conv: the node's attributes, its kernel from
 * the weight's spatial dims kd, checked against the output's spatial dims. */
static aicc_status blocked_geom(aicc_lower_ctx *c, const int64_t *kd, const int64_t *xsp,
                                const int64_t *ysp, aicc_conv_geom *g) {
  AICC_TRY(node_fail(c, aicc_conv_geom_read(c->node, 2, g)));
  for (int d = 0; d < 2; d++) {
    if (g->has_kernel && g->kernel[d] != kd[d])
      return aicc_lower_unsupported(c, "kernel_shape differs from the weight");
    g->kernel[d] = kd[d];
  }
  AICC_TRY(node_fail(c, aicc_conv_geom_forward(g, xsp)));
  if (ysp[0] != g->out[0] || ysp[1] != g->out[1])
    return aicc_lower_unsupported(c, "output shape differs from the geometry");
  return NULL;
}

/* Reads and checks a forward conv of x [N, C, in...] by w [M, C/G, k...]
 * into y [N, M, out...]. */
static aicc_status conv_plan_make(aicc_lower_ctx *c, const aicc_loop_buffer *x,
                                  const aicc_loop_buffer *w, const aicc_loop_buffer *y,
                                  conv_plan *p) {
  int r = x->rank;
  int64_t xd[AICC_MAX_LOOP_RANK], wd[AICC_MAX_LOOP_RANK], yd[AICC_MAX_LOOP_RANK];
  if (r < 3 || r > AICC_MAX_LOOP_RANK || w->rank != r || y->rank != r ||
      !aicc_lower_dims(x, xd) || !aicc_lower_dims(w, wd) || !aicc_lower_dims(y, yd))
    return aicc_lower_unsupported(c, "input, weight and output need equal static ranks >= 3");
  AICC_TRY(node_fail(c, aicc_conv_geom_read(c->node, r - 2, &p->g)));
  p->G = aicc_node_attr_int(c->node, "group", 1);
  p->N = xd[0];
  p->C = xd[1];
  p->M = wd[0];
  if (p->G < 1 || wd[1] * p->G != p->C || p->M % p->G != 0)
    return aicc_lower_unsupported(c, "channels do not match the weight and group");
  for (int i = 0; i < r - 2; i++) {
    if (p->g.has_kernel && p->g.kernel[i] != wd[2 + i])
      return aicc_lower_unsupported(c, "kernel_shape differs from the weight");
    p->g.kernel[i] = wd[2 + i];
  }
  AICC_TRY(node_fail(c, aicc_conv_geom_forward(&p->g, xd + 2)));
  bool same = yd[0] == p->N && yd[1] == p->M;
  for (int i = 0; i < r - 2; i++) same = same && yd[2 + i] == p->g.out[i];
  if (!same) return aicc_lower_unsupported(c, "output shape differs from the geometry");
  return NULL;
}

/* The pads of a forward window: lo as the geometry says, and each padded
 * extent just reaching the last tap of the last output. */
static void window_pads(const aicc_conv_geom *g, pad_spec *ps) {
  for (int d = 0; d < g->nsp; d++) {
    ps->lo[d] = g->pad_lo[d];
    ps->ext[d] = (g->out[d] - 1) * g->stride[d] + (g->kernel[d] - 1) * g->dil[d] + 1;
  }
}

/* Makes s (over y [n, m, o...]) a SUM over the window [ci, k...] and fills
 * the index of x [n, ch, pos...] and of w [m, ci, k...]. With padded, x is
 * the padded copy (conv_pad) and every tap is inside it; else s->cond is set
 * to the taps inside the input. */
static aicc_status conv_taps(aicc_lower_ctx *c, const conv_plan *p, bool padded,
                             int64_t phase, aicc_loop_stage *s, const aicc_loop_expr **xi,
                             const aicc_loop_expr **wi) {
  const aicc_conv_geom *g = &p->g;
  int nsp = g->nsp;
  int64_t Cg = p->C / p->G, Mg = p->M / p->G, ext[AICC_MAX_LOOP_RANK];
  ext[0] = Cg;
  for (int d = 0; d < nsp; d++) ext[1 + d] = g->kernel[d];
  AICC_TRY(aicc_loop_stage_reduce(c->lc, s, AICC_LOOP_REDUCE_SUM, 1 + nsp, ext, "r"));
  const aicc_loop_expr *n = s->axes[0].var, *m = s->axes[1].var;
  const aicc_loop_expr *ci = Cg == 1 ? aicc_lower_i32(c, 0) : s->raxes[0].var;
  /* The group of output channel m, and the input channel of tap ci in it. */
  const aicc_loop_expr *grp = NULL, *ch = ci;
  if (p->G > 1) grp = Mg == 1 ? m : aicc_loop_div(c->lc, m, aicc_lower_i32(c, Mg));
  if (grp) ch = Cg == 1 ? grp : aicc_loop_add(c->lc, aicc_lower_mul_k(c, grp, Cg), ci);
  xi[0] = n;
  xi[1] = ch;
  wi[0] = m;
  wi[1] = ci;
  const aicc_loop_expr *cond = aicc_loop_bool(c->lc, true);
  for (int d = 0; d < nsp; d++) {
    const aicc_loop_expr *o = s->axes[2 + d].var, *k = s->raxes[1 + d].var;
    int64_t st = g->stride[d], dl = g->dil[d], pl = padded ? 0 : g->pad_lo[d];
    const aicc_loop_expr *pos =
        aicc_lower_add_k(c, aicc_loop_add(c->lc, aicc_lower_mul_k(c, o, st), aicc_lower_mul_k(c, k, dl)), -pl);
    if (g->kernel[d] == 1) pos = aicc_lower_add_k(c, aicc_lower_mul_k(c, o, st), -pl);
    int64_t pmax = (g->out[d] - 1) * st - pl + (g->kernel[d] - 1) * dl;
    if (!padded) cond = and_in_range(c, cond, pos, -pl, pmax, g->in[d]);
    xi[2 + d] = pos;
    wi[2 + d] = g->kernel[d] == 1 ? aicc_lower_i32(c, 0) : k;
    if (d == nsp - 1 && phase > 1) {
      /* The phase-split copy (pad_spec): position o*phase + k*dl is cell
       * (k*dl % phase, o + k*dl / phase). */
      const aicc_loop_expr *kd = aicc_lower_mul_k(c, k, dl), *f = aicc_lower_i32(c, phase);
      xi[2 + d] = g->kernel[d] == 1 ? aicc_lower_i32(c, 0) : aicc_loop_mod(c->lc, kd, f);
      xi[3 + d] = g->kernel[d] == 1 ? o : aicc_loop_add(c->lc, o, aicc_loop_div(c->lc, kd, f));
    }
  }
  return set_cond(c, s, cond);
}

/* Output columns of an NCHW conv are computed in whole groups of this many
 * (one f32 AVX-512 vector) into a wider temp when the width is not a
 * multiple: a vector over columns then needs no scalar tail, and the copy
 * to the output inlines into the group's epilogue. */
enum { COL_GROUP = 16 };

/* Conv in NCHW: the input padded (and, for a column stride s > 1, split into
 * s column phases so each tap reads consecutive cells) by a temp stage, the
 * columns rounded up to COL_GROUP, so the reduction stage has no condition
 * and its column loop is contiguous in every load. */
static aicc_status lower_conv(aicc_lower_ctx *c) {
  const aicc_loop_buffer *x = c->in[0], *w = c->in[1], *y = c->out[0];
  if (!y) return NULL;
  const aicc_loop_buffer *b = input(c, 2);
  if (!aicc_dtype_is_float(x->type) || !aicc_lower_dtype_ok(x->type) || w->type != x->type ||
      (b && b->type != x->type) || y->type != x->type)
    return aicc_lower_unsupported(c, "Conv of %s", aicc_dtype_text(x->type));
  conv_plan p;
  AICC_TRY(conv_plan_make(c, x, w, y, &p));
  int nsp = p.g.nsp, last = nsp - 1;
  int64_t OW = p.g.out[last], sw = p.g.stride[last];
  int64_t span = (p.g.kernel[last] - 1) * p.g.dil[last];
  int64_t OWr = OW >= 4 && OW % COL_GROUP ? (OW + COL_GROUP - 1) / COL_GROUP * COL_GROUP : OW;
  pad_spec ps = {.sp = 2, .nsp = nsp, .phase = 1, .fill = 0, .lane_dim = -1, .block_dim = -1};
  window_pads(&p.g, &ps);
  ps.ext[last] = (OWr - 1) * sw + span + 1;
  if (sw > 1 && y->rank < AICC_MAX_LOOP_RANK) {
    ps.phase = sw;
    ps.ext[last] = OWr + span / sw;
  }
  AICC_TRY(pad_input(c, x, &ps, &x));
  const aicc_loop_buffer *yw = y;
  if (OWr != OW) {
    int64_t dims[AICC_MAX_LOOP_RANK];
    if (!aicc_lower_dims(y, dims)) return aicc_lower_unsupported(c, "output has no static shape");
    dims[y->rank - 1] = OWr;
    if (!(yw = aicc_lower_temp(c, y->type, y->rank, dims))) return oom();
  }
  aicc_loop_stage *s = aicc_lower_stage(c, yw);
  if (!s) return oom();
  const aicc_loop_expr *xi[AICC_MAX_LOOP_RANK], *wi[AICC_MAX_LOOP_RANK];
  AICC_TRY(conv_taps(c, &p, true, ps.phase, s, xi, wi));
  aicc_loop_ctx *lc = c->lc;
  const aicc_loop_expr *ax[AICC_MAX_LOOP_RANK];
  aicc_lower_axis_index(s, ax);
  s->body = aicc_loop_mul(lc, aicc_loop_load(lc, x, xi), aicc_loop_load(lc, w, wi));
  if (b) {
    const aicc_loop_expr *bv;
    AICC_TRY(aicc_lower_load_per(c, 2, p.M, ax[1], &bv));
    s->post = aicc_loop_add(lc, aicc_loop_load(lc, yw, ax), bv);
    if (!s->post) return oom();
  }
  s->op_class = AICC_LOOP_CLASS_CONV;
  AICC_TRY(aicc_lower_emit(c, s));
  if (yw == y) return NULL;
  aicc_loop_stage *cp = aicc_lower_stage(c, y);
  if (!cp) return oom();
  aicc_lower_axis_index(cp, ax);
  cp->body = aicc_loop_load(lc, yw, ax);
  if (!cp->body) return oom();
  cp->inlinable = true;
  cp->op_class = AICC_LOOP_CLASS_MOVEMENT;
  return aicc_lower_emit(c, cp);
}

/* acc (i32, shaped like the output) = sum (x - xz) * (w - wz[m]) over the
 * window, for ConvInteger and QLinearConv (inputs x, xz, w, wz by index). */
static aicc_status int_conv_stage(aicc_lower_ctx *c, int xn, int xzn, int wn, int wzn,
                                  const aicc_loop_buffer *acc, conv_plan *p) {
  const aicc_loop_buffer *x = c->in[xn], *w = c->in[wn];
  const aicc_loop_buffer *xz = input(c, xzn), *wz = input(c, wzn);
  if (!is_8bit(x->type) || !is_8bit(w->type) || (xz && !is_8bit(xz->type)) ||
      (wz && !is_8bit(wz->type)))
    return aicc_lower_unsupported(c, "needs 8-bit inputs and zero points");
  AICC_TRY(conv_plan_make(c, x, w, acc, p));
  aicc_loop_stage *s = aicc_lower_stage(c, acc);
  if (!s) return oom();
  const aicc_loop_expr *xi[AICC_MAX_LOOP_RANK], *wi[AICC_MAX_LOOP_RANK];
  AICC_TRY(conv_taps(c, p, false, 1, s, xi, wi));
  aicc_loop_ctx *lc = c->lc;
  const aicc_loop_expr *xv = aicc_loop_cast(lc, AICC_DTYPE_I32, aicc_loop_load(lc, x, xi));
  const aicc_loop_expr *wv = aicc_loop_cast(lc, AICC_DTYPE_I32, aicc_loop_load(lc, w, wi));
  const aicc_loop_expr *zx, *zw;
  AICC_TRY(aicc_lower_load_per(c, xzn, 1, NULL, &zx));
  AICC_TRY(aicc_lower_load_per(c, wzn, p->M, s->axes[1].var, &zw));
  if (zx) xv = aicc_loop_sub(lc, xv, aicc_loop_cast(lc, AICC_DTYPE_I32, zx));
  if (zw) wv = aicc_loop_sub(lc, wv, aicc_loop_cast(lc, AICC_DTYPE_I32, zw));
  s->body = aicc_loop_mul(lc, xv, wv);
  s->op_class = AICC_LOOP_CLASS_CONV;
  return aicc_lower_emit(c, s);
}

static aicc_status lower_conv_integer(aicc_lower_ctx *c) {
  if (!c->out[0]) return NULL;
  if (c->out[0]->type != AICC_DTYPE_I32) return aicc_lower_unsupported(c, "output not int32");
  conv_plan p;
  return int_conv_stage(c, 0, 2, 1, 3, c->out[0], &p);
}

/* QLinearConv (x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B?): the
 * int32 conv, then as onnxruntime requantizes: with the f32 multiplier
 * xs * ws[m] / ys, y = saturate(round(f32(acc + B[m]) * mult) + yz). */
static aicc_status lower_qlinear_conv(aicc_lower_ctx *c) {
  const aicc_loop_buffer *y = c->out[0];
  if (!y) return NULL;
  if (c->n_in < 8 || !is_8bit(y->type)) return aicc_lower_unsupported(c, "output not 8-bit");
  static const int scales[3] = {1, 4, 6};
  for (int i = 0; i < 3; i++)
    if (!c->in[scales[i]] || c->in[scales[i]]->type != AICC_DTYPE_F32)
      return aicc_lower_unsupported(c, "scales must be f32");
  const aicc_loop_buffer *b = input(c, 8);
  if (b && b->type != AICC_DTYPE_I32) return aicc_lower_unsupported(c, "bias not int32");
  int64_t dims[AICC_MAX_LOOP_RANK];
  if (y->rank > AICC_MAX_LOOP_RANK || !aicc_lower_dims(y, dims))
    return aicc_lower_unsupported(c, "output has no static shape");
  const aicc_loop_buffer *acc = aicc_lower_temp(c, AICC_DTYPE_I32, y->rank, dims);
  if (!acc) return oom();
  conv_plan p;
  AICC_TRY(int_conv_stage(c, 0, 2, 3, 5, acc, &p));
  aicc_loop_ctx *lc = c->lc;
  aicc_loop_stage *s = aicc_lower_stage(c, y);
  if (!s) return oom();
  const aicc_loop_expr *ax[AICC_MAX_LOOP_RANK], *xs, *ws, *ys, *yz, *bv;
  aicc_lower_axis_index(s, ax);
  AICC_TRY(aicc_lower_load_per(c, 1, 1, NULL, &xs));
  AICC_TRY(aicc_lower_load_per(c, 4, p.M, ax[1], &ws));
  AICC_TRY(aicc_lower_load_per(c, 6, 1, NULL, &ys));
  AICC_TRY(aicc_lower_load_per(c, 7, 1, NULL, &yz));
  AICC_TRY(aicc_lower_load_per(c, 8, p.M, ax[1], &bv));
  const aicc_loop_expr *a = aicc_loop_load(lc, acc, ax);
  if (bv) a = aicc_loop_add(lc, a, bv);
  const aicc_loop_expr *mult = aicc_loop_div(lc, aicc_loop_mul(lc, xs, ws), ys);
  const aicc_loop_expr *v = aicc_loop_mul(lc, aicc_loop_cast(lc, AICC_DTYPE_F32, a), mult);
  const aicc_loop_expr *args[1] = {aicc_loop_cast(lc, AICC_DTYPE_F64, v)};
  v = aicc_loop_call(lc, "round", 1, args);
  if (yz) v = aicc_loop_add(lc, v, aicc_loop_cast(lc, AICC_DTYPE_F64, yz));
  double lo = y->type == AICC_DTYPE_I8 ? -128 : 0, hi = y->type == AICC_DTYPE_I8 ? 127 : 255;
  v = aicc_loop_max(lc, aicc_loop_min(lc, v, aicc_loop_float(lc, AICC_DTYPE_F64, hi)),
                    aicc_loop_float(lc, AICC_DTYPE_F64, lo));
  s->body = aicc_loop_cast(lc, y->type, v);
  s->inlinable = true;
  return aicc_lower_emit(c, s);
}

/* ---- ConvTranspose ---- */

/* y[n, m, o...] = B[m] + sum over (ci, k...) of x[n, ch, i...] * w[ch, m', k...]
 * where o = i * stride - pad + k * dilation: a tap contributes when
 * o + pad - k * dilation is a multiple of the stride inside the input (the
 * gather form of the reference's col2im scatter). */
static aicc_status lower_conv_transpose(aicc_lower_ctx *c) {
  const aicc_loop_buffer *x = c->in[0], *w = c->in[1], *y = c->out[0], *b = input(c, 2);
  if (!y) return NULL;
  if (!aicc_dtype_is_float(x->type) || !aicc_lower_dtype_ok(x->type) || w->type != x->type ||
      (b && b->type != x->type) || y->type != x->type)
    return aicc_lower_unsupported(c, "ConvTranspose of %s", aicc_dtype_text(x->type));
  int r = x->rank, nsp = r - 2;
  int64_t xd[AICC_MAX_LOOP_RANK], wd[AICC_MAX_LOOP_RANK], yd[AICC_MAX_LOOP_RANK];
  if (r < 3 || r > AICC_MAX_LOOP_RANK || w->rank != r || y->rank != r ||
      !aicc_lower_dims(x, xd) || !aicc_lower_dims(w, wd) || !aicc_lower_dims(y, yd))
    return aicc_lower_unsupported(c, "input, weight and output need equal static ranks >= 3");
  aicc_conv_geom g;
  AICC_TRY(node_fail(c, aicc_conv_geom_read(c->node, nsp, &g)));
  int64_t G = aicc_node_attr_int(c->node, "group", 1), C = xd[1];
  if (G < 1 || wd[0] != C || C % G != 0)
    return aicc_lower_unsupported(c, "channels do not match the weight and group");
  int64_t Cg = C / G, Mg = wd[1], M = Mg * G;
  int64_t len = 0, oplen = 0;
  const int64_t *oshape = aicc_node_attr_ints(c->node, "output_shape", &len);
  const int64_t *opad = aicc_node_attr_ints(c->node, "output_padding", &oplen);
  if (oshape && len == nsp + 2) oshape += 2;
  else if (oshape && len != nsp) return aicc_lower_unsupported(c, "output_shape length");
  if (opad && oplen != nsp) return aicc_lower_unsupported(c, "output_padding length");
  if (yd[0] != xd[0] || yd[1] != M) return aicc_lower_unsupported(c, "unexpected output shape");
  for (int d = 0; d < nsp; d++) {
    if (g.has_kernel && g.kernel[d] != wd[2 + d])
      return aicc_lower_unsupported(c, "kernel_shape differs from the weight");
    g.kernel[d] = wd[2 + d];
    int64_t o, lo, hi;
    AICC_TRY(node_fail(c, aicc_conv_transpose_dim(&g, d, xd[2 + d], opad ? opad[d] : 0,
                                                  oshape ? oshape[d] : -1, &o, &lo, &hi)));
    if (o != yd[2 + d]) return aicc_lower_unsupported(c, "unexpected output shape");
    g.pad_lo[d] = lo;
  }
  aicc_loop_ctx *lc = c->lc;
  aicc_loop_stage *s = aicc_lower_stage(c, y);
  if (!s) return oom();
  int64_t ext[AICC_MAX_LOOP_RANK];
  ext[0] = Cg;
  for (int d = 0; d < nsp; d++) ext[1 + d] = g.kernel[d];
  AICC_TRY(aicc_loop_stage_reduce(lc, s, AICC_LOOP_REDUCE_SUM, 1 + nsp, ext, "r"));
  const aicc_loop_expr *m = s->axes[1].var, *ci = s->raxes[0].var;
  const aicc_loop_expr *xi[AICC_MAX_LOOP_RANK], *wi[AICC_MAX_LOOP_RANK];
  const aicc_loop_expr *ch = ci, *mw = m;
  if (G > 1) {
    const aicc_loop_expr *mg = aicc_lower_i32(c, Mg);
    const aicc_loop_expr *grp = Mg == 1 ? m : aicc_loop_div(lc, m, mg);
    ch = Cg == 1 ? grp : aicc_loop_add(lc, aicc_lower_mul_k(c, grp, Cg), ci);
    mw = Mg == 1 ? aicc_lower_i32(c, 0) : aicc_loop_mod(lc, m, mg);
  }
  xi[0] = s->axes[0].var;
  xi[1] = ch;
  wi[0] = ch;
  wi[1] = mw;
  const aicc_loop_expr *cond = aicc_loop_bool(lc, true);
  for (int d = 0; d < nsp; d++) {
    const aicc_loop_expr *o = s->axes[2 + d].var, *k = s->raxes[1 + d].var;
    int64_t st = g.stride[d], dl = g.dil[d], pl = g.pad_lo[d];
    const aicc_loop_expr *num = aicc_lower_add_k(c, aicc_loop_sub(lc, o, aicc_lower_mul_k(c, k, dl)), pl);
    int64_t nmin = pl - (g.kernel[d] - 1) * dl, nmax = yd[2 + d] - 1 + pl;
    const aicc_loop_expr *i = num;
    if (st != 1) {
      const aicc_loop_expr *sv = aicc_lower_i32(c, st);
      cond = aicc_lower_and(c, cond, aicc_loop_binary(lc, AICC_LOOP_EQ, aicc_loop_mod(lc, num, sv),
                                            aicc_lower_i32(c, 0)));
      i = aicc_loop_div(lc, num, sv);
    }
    cond = and_in_range(c, cond, i, aicc_loop_floordiv(nmin, st), aicc_loop_floordiv(nmax, st),
                        xd[2 + d]);
    xi[2 + d] = i;
    wi[2 + d] = k;
  }
  AICC_TRY(set_cond(c, s, cond));
  s->body = aicc_loop_mul(lc, aicc_loop_load(lc, x, xi), aicc_loop_load(lc, w, wi));
  if (b) {
    const aicc_loop_expr *ax[AICC_MAX_LOOP_RANK], *bv;
    aicc_lower_axis_index(s, ax);
    AICC_TRY(aicc_lower_load_per(c, 2, M, m, &bv));
    s->post = aicc_loop_add(lc, aicc_loop_load(lc, y, ax), bv);
    if (!s->post) return oom();
  }
  s->op_class = AICC_LOOP_CLASS_CONV;
  return aicc_lower_emit(c, s);
}

/* ---- ai.aicc layout ops ---- */

/* "NCHW" -> 0, "NCHW16c" -> 16; -1 for anything else (as aicc_layout.c). */
static int64_t layout_block(const char *s) {
  if (!s || strncmp(s, "NCHW", 4) != 0) return -1;
  if (!s[4]) return 0;
  int64_t b = 0;
  const char *p = s + 4;
  for (; *p >= '0' && *p <= '9' && b <= 256; p++) b = b * 10 + (*p - '0');
  if (p == s + 4 || strcmp(p, "c") != 0 || b < 1 || b > 256) return -1;
  return b;
}

/* NCHW [N, C, H, W] <-> NCHW[b]c [N, ceil(C/b), H, W, b]; padding lanes of
 * the blocked form are written as zeros. */
static aicc_status lower_layout_transform(aicc_lower_ctx *c) {
  const aicc_loop_buffer *x = c->in[0], *y = c->out[0];
  if (!y) return NULL;
  int64_t bs = layout_block(aicc_node_attr_string(c->node, "src", NULL));
  int64_t bd = layout_block(aicc_node_attr_string(c->node, "dst", NULL));
  if (bs < 0 || bd < 0 || (bs == 0) == (bd == 0))
    return aicc_lower_unsupported(c, "src/dst layouts");
  if (!aicc_lower_dtype_ok(x->type) || y->type != x->type)
    return aicc_lower_unsupported(c, "LayoutTransform of %s", aicc_dtype_text(x->type));
  bool to_blocked = bs == 0;
  int64_t b = to_blocked ? bd : bs;
  int64_t xd[5], yd[5];
  if (x->rank != (to_blocked ? 4 : 5) || y->rank != (to_blocked ? 5 : 4) ||
      !aicc_lower_dims(x, xd) || !aicc_lower_dims(y, yd))
    return aicc_lower_unsupported(c, "unexpected ranks");
  int64_t C = to_blocked ? xd[1] : yd[1];
  const int64_t *blk = to_blocked ? yd : xd;
  if (blk[1] != (C + b - 1) / b || blk[4] != b)
    return aicc_lower_unsupported(c, "blocked shape does not hold %lld channels", (long long)C);
  aicc_loop_ctx *lc = c->lc;
  aicc_loop_stage *s = aicc_lower_stage(c, y);
  if (!s) return oom();
  const aicc_loop_expr *ax[5], *ix[5];
  aicc_lower_axis_index(s, ax);
  const aicc_loop_expr *bv = aicc_lower_i32(c, b);
  if (to_blocked) {
    const aicc_loop_expr *ch = aicc_loop_add(lc, aicc_loop_mul(lc, ax[1], bv), ax[4]);
    bool ragged = C % b != 0;
    const aicc_loop_expr *ix4[4] = {ax[0], ragged ? aicc_loop_min(lc, ch, aicc_lower_i32(c, C - 1))
                                                  : ch,
                                    ax[2], ax[3]};
    s->body = aicc_loop_load(lc, x, ix4);
    if (ragged)
      s->body = aicc_loop_select(lc, aicc_loop_binary(lc, AICC_LOOP_LT, ch, aicc_lower_i32(c, C)),
                                 s->body, aicc_lower_const(c, x->type, 0));
  } else {
    ix[0] = ax[0];
    ix[1] = aicc_loop_div(lc, ax[1], bv);
    ix[2] = ax[2];
    ix[3] = ax[3];
    ix[4] = aicc_loop_mod(lc, ax[1], bv);
    s->body = aicc_loop_load(lc, x, ix);
  }
  s->inlinable = true;
  s->op_class = AICC_LOOP_CLASS_MOVEMENT;
  return aicc_lower_emit(c, s);
}

/* bias [O] extended with zeros to n values (a temp stage), so the blocked
 * output's lanes read it without a bound check. */
static aicc_status pad_bias(aicc_lower_ctx *c, const aicc_loop_buffer *bias, int64_t n,
                            const aicc_loop_buffer **out) {
  aicc_loop_ctx *lc = c->lc;
  int64_t m = aicc_lower_dim(bias, 0);
  const aicc_loop_buffer *t = aicc_lower_temp(c, bias->type, 1, &n);
  aicc_loop_stage *s = t ? aicc_lower_stage(c, t) : NULL;
  if (!s) return oom();
  const aicc_loop_expr *o = s->axes[0].var;
  const aicc_loop_expr *oc = aicc_loop_min(lc, o, aicc_lower_i32(c, m - 1));
  s->body = aicc_loop_select(lc, aicc_loop_binary(lc, AICC_LOOP_LT, o, aicc_lower_i32(c, m)),
                             aicc_loop_load(lc, bias, &oc), aicc_lower_const(c, bias->type, 0));
  if (!s->body) return oom();
  s->op_class = AICC_LOOP_CLASS_MOVEMENT;
  *out = t;
  return aicc_lower_emit(c, s);
}

/* The blocked convolutions take x, w, the bias and y in one float type. */
static aicc_status blocked_types(aicc_lower_ctx *c, const char *op) {
  const aicc_loop_buffer *x = c->in[0], *w = c->in[1], *y = c->out[0], *bias = input(c, 2);
  if (!aicc_dtype_is_float(x->type) || !aicc_lower_dtype_ok(x->type) || w->type != x->type ||
      (bias && bias->type != x->type) || y->type != x->type)
    return aicc_lower_unsupported(c, "%s of %s", op, aicc_dtype_text(x->type));
  return NULL;
}

/* ConvBlocked(x [N, Cb, H, W, b], w [Ob, Cb, kh, kw, b(i), b(o)], B? [O]):
 * y [N, Ob, OH, OW, b] sums over the `channels` real input channels only
 * (input padding lanes are ignored); B applies to the first O outputs (the
 * layout pass pads it to Ob*b with zeros, so no padding stage is needed).
 * With channels <= b, x may be plain NCHW [N, C, H, W]: channel c is then
 * input lane c (the padded copy is NCHW too), so a 3-channel first conv
 * reads its image as it is, with 3 lanes in the reduction. */
static aicc_status lower_conv_blocked(aicc_lower_ctx *c) {
  const aicc_loop_buffer *x = c->in[0], *w = c->in[1], *y = c->out[0], *bias = input(c, 2);
  if (!y) return NULL;
  AICC_TRY(blocked_types(c, "ConvBlocked"));
  int64_t b = aicc_node_attr_int(c->node, "block", 16);
  int64_t ch = aicc_node_attr_int(c->node, "channels", -1);
  if (aicc_node_attr_int(c->node, "group", 1) != 1) return aicc_lower_unsupported(c, "group");
  int64_t xd[5], wd[6], yd[5], bd[1] = {0};
  bool plain = x->rank == 4; /* NCHW input, channels <= b */
  if ((x->rank != 5 && !plain) || w->rank != 6 || y->rank != 5 || (bias && bias->rank != 1) ||
      !aicc_lower_dims(x, xd) || !aicc_lower_dims(w, wd) || !aicc_lower_dims(y, yd) ||
      (bias && !aicc_lower_dims(bias, bd)))
    return aicc_lower_unsupported(c, "unexpected ranks");
  if (plain) { /* as one block of `channels` lanes */
    if (xd[1] != ch || ch > b) return aicc_lower_unsupported(c, "plain input of %lld channels",
                                                             (long long)xd[1]);
    xd[4] = b;
    xd[1] = 1;
  }
  if (b < 1 || ch < 1 || xd[4] != b || xd[1] != (ch + b - 1) / b || wd[1] != xd[1] ||
      wd[4] != b || wd[5] != b || yd[0] != xd[0] || yd[1] != wd[0] || yd[4] != b ||
      (bias && (bd[0] > wd[0] * b || bd[0] <= (wd[0] - 1) * b)))
    return aicc_lower_unsupported(c, "shapes are not NCHW%lldc / OIHW%lldi%lldo", (long long)b,
                                  (long long)b, (long long)b);
  conv_plan p;
  AICC_TRY(blocked_geom(c, wd + 2, xd + 2, yd + 2, &p.g));
  aicc_loop_ctx *lc = c->lc;
  /* With one input block, the lanes past `channels` are left out of the
   * reduction; with several, the padded copy zeroes them. */
  int64_t lanes = xd[1] == 1 && ch < b ? ch : b;
  pad_spec ps = {.sp = 2, .nsp = 2, .fill = 0, .lane_dim = plain ? -1 : 4,
                 .block_dim = plain ? -1 : 1, .block = b, .real = lanes == b ? ch : b,
                 .fcols = plain};
  window_pads(&p.g, &ps);
  AICC_TRY(pad_input(c, x, &ps, &x));
  const aicc_loop_buffer *bfull = NULL;
  if (bias && bd[0] != wd[0] * b) AICC_TRY(pad_bias(c, bias, wd[0] * b, &bfull));
  aicc_loop_stage *s = aicc_lower_stage(c, y);
  if (!s) return oom();
  /* Reduction axes: input block, kh, kw, input lane (innermost in x and w). */
  int64_t ext[4] = {xd[1], wd[2], wd[3], lanes};
  AICC_TRY(aicc_loop_stage_reduce(lc, s, AICC_LOOP_REDUCE_SUM, 4, ext, "r"));
  const aicc_loop_expr *ax[5];
  aicc_lower_axis_index(s, ax);
  const aicc_loop_expr *cb = s->raxes[0].var, *il = s->raxes[3].var;
  const aicc_loop_expr *xi[5] = {ax[0], cb, NULL, NULL, il};
  const aicc_loop_expr *wi[6] = {ax[1], cb, s->raxes[1].var, s->raxes[2].var, il, ax[4]};
  for (int d = 0; d < 2; d++)
    xi[2 + d] = aicc_loop_add(lc, aicc_lower_mul_k(c, ax[2 + d], p.g.stride[d]),
                              aicc_lower_mul_k(c, s->raxes[1 + d].var, p.g.dil[d]));
  if (plain) xi[1] = il; /* [n, channel, row, col] */
  s->body = aicc_loop_mul(lc, aicc_loop_load(lc, x, xi), aicc_loop_load(lc, w, wi));
  if (bias) {
    const aicc_loop_expr *o = aicc_loop_add(lc, aicc_loop_mul(lc, ax[1], aicc_lower_i32(c, b)),
                                            ax[4]);
    const aicc_loop_expr *bv = aicc_loop_load(lc, bfull ? bfull : bias, &o);
    s->post = aicc_loop_add(lc, aicc_loop_load(lc, y, ax), bv);
    if (!s->post) return oom();
  }
  s->op_class = AICC_LOOP_CLASS_CONV;
  return aicc_lower_emit(c, s);
}

/* DepthwiseBlocked(x [N, Cb, H, W, b], w [Cb, kh, kw, b], B? [C]):
 * y [N, Cb, OH, OW, b], lane l of block cb being channel cb*b + l. Every
 * tap is a load of b consecutive lanes of the padded copy times b weights,
 * so the lane axis vectorizes without a condition; the lanes past
 * `channels` come out 0 (zero weights, zeroed input lanes and bias). */
static aicc_status lower_depthwise_blocked(aicc_lower_ctx *c) {
  const aicc_loop_buffer *x = c->in[0], *w = c->in[1], *y = c->out[0], *bias = input(c, 2);
  if (!y) return NULL;
  AICC_TRY(blocked_types(c, "DepthwiseBlocked"));
  int64_t b = aicc_node_attr_int(c->node, "block", 16);
  int64_t ch = aicc_node_attr_int(c->node, "channels", -1);
  if (aicc_node_attr_int(c->node, "group", ch) != ch) return aicc_lower_unsupported(c, "group");
  int64_t xd[5], wd[4], yd[5], bd[1] = {0};
  if (x->rank != 5 || w->rank != 4 || y->rank != 5 || (bias && bias->rank != 1) ||
      !aicc_lower_dims(x, xd) || !aicc_lower_dims(w, wd) || !aicc_lower_dims(y, yd) ||
      (bias && !aicc_lower_dims(bias, bd)))
    return aicc_lower_unsupported(c, "unexpected ranks");
  int64_t Cb = b > 0 ? (ch + b - 1) / b : 0;
  if (b < 1 || ch < 1 || xd[4] != b || xd[1] != Cb || wd[0] != Cb || wd[3] != b ||
      yd[0] != xd[0] || yd[1] != Cb || yd[4] != b || (bias && bd[0] != ch))
    return aicc_lower_unsupported(c, "shapes are not NCHW%lldc / CHW%lldc", (long long)b,
                                  (long long)b);
  conv_plan p;
  AICC_TRY(blocked_geom(c, wd + 1, xd + 2, yd + 2, &p.g));
  aicc_loop_ctx *lc = c->lc;
  pad_spec ps = {.sp = 2, .nsp = 2, .fill = 0, .lane_dim = 4, .block_dim = 1, .block = b,
                 .real = ch};
  window_pads(&p.g, &ps);
  AICC_TRY(pad_input(c, x, &ps, &x));
  const aicc_loop_buffer *bfull = NULL;
  if (bias && bd[0] != Cb * b) AICC_TRY(pad_bias(c, bias, Cb * b, &bfull));
  aicc_loop_stage *s = aicc_lower_stage(c, y);
  if (!s) return oom();
  int64_t ext[2] = {wd[1], wd[2]};
  AICC_TRY(aicc_loop_stage_reduce(lc, s, AICC_LOOP_REDUCE_SUM, 2, ext, "r"));
  const aicc_loop_expr *ax[5];
  aicc_lower_axis_index(s, ax);
  const aicc_loop_expr *xi[5] = {ax[0], ax[1], NULL, NULL, ax[4]};
  const aicc_loop_expr *wi[4] = {ax[1], s->raxes[0].var, s->raxes[1].var, ax[4]};
  for (int d = 0; d < 2; d++)
    xi[2 + d] = aicc_loop_add(lc, aicc_lower_mul_k(c, ax[2 + d], p.g.stride[d]),
                              aicc_lower_mul_k(c, s->raxes[d].var, p.g.dil[d]));
  s->body = aicc_loop_mul(lc, aicc_loop_load(lc, x, xi), aicc_loop_load(lc, w, wi));
  if (bias) {
    const aicc_loop_expr *o = aicc_loop_add(lc, aicc_loop_mul(lc, ax[1], aicc_lower_i32(c, b)),
                                            ax[4]);
    const aicc_loop_expr *bv = aicc_loop_load(lc, bfull ? bfull : bias, &o);
    s->post = aicc_loop_add(lc, aicc_loop_load(lc, y, ax), bv);
    if (!s->post) return oom();
  }
  s->op_class = AICC_LOOP_CLASS_CONV;
  return aicc_lower_emit(c, s);
}

static const aicc_lower_row rows[] = {
    {"", "Conv", lower_conv},
    {"", "ConvInteger", lower_conv_integer},
    {"", "QLinearConv", lower_qlinear_conv},
    {"", "ConvTranspose", lower_conv_transpose},
    {"ai.aicc", "ConvBlocked", lower_conv_blocked},
    {"ai.aicc", "DepthwiseBlocked", lower_depthwise_blocked},
    {"ai.aicc", "LayoutTransform", lower_layout_transform},
};

const aicc_lower_table aicc_lower_conv = {"conv", rows, sizeof rows / sizeof rows[0]};
