/* Gradient rules of convolution and pooling. Conv: the data gradient is a
 * ConvTranspose of dy with the same weight and geometry (output_padding
 * restores x's size); the weight gradient is a Conv of x and dy with batch
 * and channels swapped, stride and dilation exchanged (groups 1); the bias
 * gradient sums dy. MaxPool scatters dy to the argmax indices of a second
 * MaxPool; AveragePool is a depthwise ConvTranspose of dy / count with a
 * ones kernel. Needs static shapes. Defines no op family. */
#include "ops/grad_util.h"

#include <string.h>

#define X(i) (c->node->inputs[i])
#define Y(i) (c->node->outputs[i])
#define TRY AICC_TRY

/* Geometry of a Conv/pool node with padding made explicit. */
typedef struct geom {
  int nsp;
  int64_t k[AICC_MAX_RANK], s[AICC_MAX_RANK], d[AICC_MAX_RANK], pads[2 * AICC_MAX_RANK];
} geom;

static aicc_status read_geom(aicc_grad_ctx *c, const aicc_value *x, const aicc_value *w, geom *g) {
  const aicc_type *xt = &x->type, *yt = &Y(0)->type;
  if (!aicc_type_is_static(xt) || !aicc_type_is_static(yt) || xt->rank < 3 ||
      (w && (!aicc_type_is_static(&w->type) || w->type.rank != xt->rank)))
    return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "gradient needs static shapes of rank >= 3");
  int nsp = g->nsp = xt->rank - 2;
  int64_t lk, ls, ld, lp;
  const int64_t *k = aicc_node_attr_ints(c->node, "kernel_shape", &lk);
  const int64_t *s = aicc_node_attr_ints(c->node, "strides", &ls);
  const int64_t *d = aicc_node_attr_ints(c->node, "dilations", &ld);
  const int64_t *p = aicc_node_attr_ints(c->node, "pads", &lp);
  if ((k && lk != nsp) || (s && ls != nsp) || (d && ld != nsp) || (p && lp != 2 * nsp))
    return aicc_grad_error(c, AICC_ERR_INVALID, "attribute lengths do not match the rank");
  if (!k && !w) return aicc_grad_error(c, AICC_ERR_INVALID, "no kernel_shape");
  const char *ap = aicc_node_attr_string(c->node, "auto_pad", "NOTSET");
  for (int i = 0; i < nsp; i++) {
    g->k[i] = k ? k[i] : w->type.dims[2 + i].size;
    g->s[i] = s ? s[i] : 1;
    g->d[i] = d ? d[i] : 1;
    int64_t xi = xt->dims[2 + i].size, yi = yt->dims[2 + i].size;
    int64_t total = (yi - 1) * g->s[i] + (g->k[i] - 1) * g->d[i] + 1 - xi;
    if (total < 0) total = 0;
    if (strcmp(ap, "SAME_UPPER") == 0) {
      g->pads[i] = total / 2, g->pads[nsp + i] = total - total / 2;
    } else if (strcmp(ap, "SAME_LOWER") == 0) {
      g->pads[nsp + i] = total / 2, g->pads[i] = total - total / 2;
    } else if (strcmp(ap, "VALID") == 0) {
      g->pads[i] = g->pads[nsp + i] = 0;
    } else {
      g->pads[i] = p ? p[i] : 0, g->pads[nsp + i] = p ? p[nsp + i] : 0;
    }
  }
  return NULL;
}

/* ConvTranspose(g, w) back to x's spatial size. */
static aicc_status conv_t(aicc_grad_ctx *c, aicc_value *dy, aicc_value *w, const geom *g,
                          int64_t group, const aicc_value *x, aicc_value **out) {
  int nsp = g->nsp;
  int64_t op[AICC_MAX_RANK];
  for (int i = 0; i < nsp; i++) {
    int64_t xi = x->type.dims[2 + i].size, yi = dy->type.dims[2 + i].size;
    op[i] = xi - ((yi - 1) * g->s[i] + (g->k[i] - 1) * g->d[i] + 1 - g->pads[i] - g->pads[nsp + i]);
    if (op[i] < 0) return aicc_grad_error(c, AICC_ERR_INTERNAL, "negative output_padding");
  }
  aicc_grad_attr at[] = {AICC_GA_INTS("kernel_shape", g->k, nsp), AICC_GA_INTS("strides", g->s, nsp),
                         AICC_GA_INTS("dilations", g->d, nsp), AICC_GA_INTS("pads", g->pads, 2 * nsp),
                         AICC_GA_INTS("output_padding", op, nsp), AICC_GA_INT("group", group), {0}};
  aicc_value *in[2] = {dy, w};
  return aicc_grad_emit(c, "ConvTranspose", in, 2, at, out, 1);
}

static aicc_status swap01(aicc_grad_ctx *c, aicc_value *x, aicc_value **out) {
  int64_t perm[AICC_MAX_RANK];
  int r = x->type.rank;
  for (int i = 0; i < r; i++) perm[i] = i;
  perm[0] = 1, perm[1] = 0;
  aicc_grad_attr at[] = {AICC_GA_INTS("perm", perm, r), {0}};
  return aicc_grad_emit(c, "Transpose", &x, 1, at, out, 1);
}

aicc_status aicc_grad_Conv(aicc_grad_ctx *c) {
  aicc_value *x = X(0), *w = X(1), *dy = c->dy[0];
  geom g;
  TRY(read_geom(c, x, w, &g));
  int nsp = g.nsp;
  int64_t group = aicc_node_attr_int(c->node, "group", 1);
  if (c->need[0]) TRY(conv_t(c, dy, w, &g, group, x, &c->dx[0]));
  if (c->need[1]) {
    if (group != 1)
      return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "weight gradient with group %lld",
                             (long long)group);
    /* dW[m,c,j] = sum_{n,o} dy[n,m,o] xpad[n,c,j*d + o*s]: a Conv over
     * x^T [C,N,...] with dy^T [M,N,...] as weight, stride d, dilation s. */
    aicc_value *xt, *dyt, *r;
    TRY(swap01(c, x, &xt));
    TRY(swap01(c, dy, &dyt));
    int64_t yk[AICC_MAX_RANK];
    for (int i = 0; i < nsp; i++) yk[i] = dy->type.dims[2 + i].size;
    aicc_grad_attr at[] = {AICC_GA_INTS("kernel_shape", yk, nsp), AICC_GA_INTS("strides", g.d, nsp),
                           AICC_GA_INTS("dilations", g.s, nsp),
                           AICC_GA_INTS("pads", g.pads, 2 * nsp), {0}};
    aicc_value *in[2] = {xt, dyt};
    TRY(aicc_grad_emit(c, "Conv", in, 2, at, &r, 1));
    /* Rows past the last full window give extra taps: trim to the kernel. */
    bool trim = false;
    int64_t st[AICC_MAX_RANK], en[AICC_MAX_RANK], ax[AICC_MAX_RANK];
    for (int i = 0; i < nsp; i++) {
      st[i] = 0, en[i] = g.k[i], ax[i] = 2 + i;
      trim |= r->type.dims[2 + i].size != g.k[i];
    }
    if (trim) {
      if (aicc_model_opset(c->graph->model, "") < 10)
        return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "weight gradient needs opset >= 10");
      aicc_value *si[4] = {r};
      TRY(aicc_grad_i64s(c, st, nsp, &si[1]));
      TRY(aicc_grad_i64s(c, en, nsp, &si[2]));
      TRY(aicc_grad_i64s(c, ax, nsp, &si[3]));
      TRY(aicc_grad_emit(c, "Slice", si, 4, NULL, &r, 1));
    }
    TRY(swap01(c, r, &c->dx[1]));
  }
  if (c->node->n_inputs > 2 && X(2) && c->need[2]) {
    int64_t axes[AICC_MAX_RANK];
    int n = 0;
    for (int i = 0; i < nsp + 2; i++)
      if (i != 1) axes[n++] = i;
    TRY(aicc_grad_reduce_sum(c, dy, axes, n, false, &c->dx[2]));
  }
  return NULL;
}

/* A second MaxPool with the Indices output (flat row-major indices into
 * x); dy scatter-adds there, so overlapping windows accumulate. The pool's
 * own tie rule (first maximum in the window) picks the element. */
aicc_status aicc_grad_MaxPool(aicc_grad_ctx *c) {
  aicc_value *x = X(0);
  if (!c->need[0] || !c->dy[0]) return NULL;
  if (!aicc_type_is_static(&x->type))
    return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "gradient needs a static shape");
  if (aicc_model_opset(c->graph->model, "") < 16)
    return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "MaxPool gradient needs opset >= 16");
  if (aicc_node_attr_int(c->node, "storage_order", 0) != 0)
    return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "MaxPool gradient with storage_order 1");
  aicc_grad_attr at[8];
  int na = 0;
  static const char *const ints[] = {"kernel_shape", "strides", "pads", "dilations"};
  for (int i = 0; i < 4; i++) {
    int64_t len;
    const int64_t *v = aicc_node_attr_ints(c->node, ints[i], &len);
    if (v) at[na++] = (aicc_grad_attr)AICC_GA_INTS(ints[i], v, len);
  }
  at[na++] = (aicc_grad_attr)AICC_GA_INT("ceil_mode", aicc_node_attr_int(c->node, "ceil_mode", 0));
  at[na++] = (aicc_grad_attr)AICC_GA_STRING("auto_pad", aicc_node_attr_string(c->node, "auto_pad", "NOTSET"));
  at[na] = (aicc_grad_attr){0};
  aicc_value *yi[2], *idx, *upd, *zero, *zeros, *flat, *sc;
  TRY(aicc_grad_emit(c, "MaxPool", &x, 1, at, yi, 2));
  int64_t m1 = -1, n = 1;
  for (int i = 0; i < x->type.rank; i++) n *= x->type.dims[i].size;
  TRY(aicc_grad_i64s(c, &m1, 1, &flat));
  TRY(aicc_grad_binary(c, "Reshape", yi[1], flat, &idx));
  TRY(aicc_grad_binary(c, "Reshape", c->dy[0], flat, &upd));
  TRY(aicc_grad_scalar(c, x->type.dtype, 0.0, &zero));
  TRY(aicc_grad_i64s(c, &n, 1, &sc));
  TRY(aicc_grad_binary(c, "Expand", zero, sc, &zeros));
  aicc_value *in[3] = {zeros, idx, upd};
  aicc_grad_attr st[] = {AICC_GA_INT("axis", 0), AICC_GA_STRING("reduction", "add"), {0}};
  TRY(aicc_grad_emit(c, "ScatterElements", in, 3, st, &sc, 1));
  return aicc_grad_reshape_like(c, sc, x, &c->dx[0]);
}

/* y = window sum / count: dx = ConvTranspose(dy / count, ones) depthwise.
 * count is the kernel size with count_include_pad, else K times the
 * include-pad average of ones (the in-bounds taps of each window). */
aicc_status aicc_grad_AveragePool(aicc_grad_ctx *c) {
  aicc_value *x = X(0);
  if (!c->need[0]) return NULL;
  geom g;
  TRY(read_geom(c, x, NULL, &g));
  if (aicc_node_attr_int(c->node, "ceil_mode", 0))
    return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "AveragePool gradient with ceil_mode");
  int nsp = g.nsp;
  aicc_dtype dt = x->type.dtype;
  int64_t C = x->type.dims[1].size, K = 1, wd[AICC_MAX_RANK];
  for (int i = 0; i < nsp; i++) K *= g.k[i];
  wd[0] = C, wd[1] = 1;
  for (int i = 0; i < nsp; i++) wd[2 + i] = g.k[i];
  aicc_tensor *wt;
  TRY(aicc_tensor_create(dt, nsp + 2, wd, &wt));
  for (int64_t i = 0; i < C * K; i++) aicc_tensor_set_f64(wt, i, 1.0);
  aicc_value *w, *q, *kv;
  TRY(aicc_graph_init_add(c->graph, "", wt, &w));
  TRY(aicc_grad_scalar(c, dt, (double)K, &kv));
  TRY(aicc_grad_binary(c, "Div", c->dy[0], kv, &q));
  bool any_pad = false;
  for (int i = 0; i < 2 * nsp; i++) any_pad |= g.pads[i] != 0;
  if (any_pad && !aicc_node_attr_int(c->node, "count_include_pad", 0)) {
    /* q = dy / (K * frac) where frac is the in-bounds share of a window. */
    aicc_value *one, *ones, *frac;
    TRY(aicc_grad_scalar(c, dt, 1.0, &one));
    TRY(aicc_grad_expand_like(c, one, x, &ones));
    aicc_grad_attr at[] = {AICC_GA_INTS("kernel_shape", g.k, nsp), AICC_GA_INTS("strides", g.s, nsp),
                           AICC_GA_INTS("dilations", g.d, nsp), AICC_GA_INTS("pads", g.pads, 2 * nsp),
                           AICC_GA_INT("count_include_pad", 1), {0}};
    const aicc_grad_attr *use = at;
    aicc_grad_attr at18[6];
    if (c->node->opset < 19) { /* no dilations before opset 19 */
      int n = 0;
      for (int i = 0; at[i].name; i++)
        if (strcmp(at[i].name, "dilations") != 0) at18[n++] = at[i];
      at18[n] = (aicc_grad_attr){0};
      use = at18;
    }
    TRY(aicc_grad_emit(c, "AveragePool", &ones, 1, use, &frac, 1));
    TRY(aicc_grad_binary(c, "Div", q, frac, &q));
  }
  return conv_t(c, q, w, &g, C, x, &c->dx[0]);
}
