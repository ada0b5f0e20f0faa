/* Gradient rules that route dy to chosen elements: ReduceMax (to the first
 * maximum in row-major order of the reduced axes; ties get no share) and
 * NegativeLogLikelihoodLoss (to the target class of each label, scaled by
 * its weight and the reduction). Defines no op family. */
#include "ops/grad_util.h"

#include <string.h>

#define X(i) (c->node->inputs[i])
#define TRY AICC_TRY

/* Pick-first: x is transposed so the reduced axes come last, flattened to
 * [kept..., R]; ArgMax (select_last_index 0) finds the first maximum and
 * Equal with 0..R-1 makes the one-hot mask that routes dy. Needs x's shape
 * static and constant axes. */
aicc_status aicc_grad_ReduceMax(aicc_grad_ctx *c) {
  aicc_value *x = X(0);
  if (!aicc_type_is_static(&x->type))
    return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "ReduceMax gradient needs a static shape");
  int r = x->type.rank;
  int64_t raw[AICC_MAX_RANK], len = 0;
  TRY(aicc_grad_reduce_axes(c, r, raw, &len));
  bool red[AICC_MAX_RANK] = {0};
  if (len == 0) {
    if (aicc_node_attr_int(c->node, "noop_with_empty_axes", 0)) {
      c->dx[0] = c->dy[0];
      return NULL;
    }
    for (int i = 0; i < r; i++) red[i] = true;
  }
  for (int64_t i = 0; i < len; i++) {
    int64_t a = raw[i] < 0 ? raw[i] + r : raw[i];
    if (a < 0 || a >= r) return aicc_grad_error(c, AICC_ERR_INVALID, "bad axis");
    red[a] = true;
  }
  int64_t perm[AICC_MAX_RANK], inv[AICC_MAX_RANK], tdims[AICC_MAX_RANK], flat[AICC_MAX_RANK];
  int np = 0, nk = 0;
  int64_t R = 1;
  for (int i = 0; i < r; i++)
    if (!red[i]) perm[np++] = i, flat[nk++] = x->type.dims[i].size;
  for (int i = 0; i < r; i++)
    if (red[i]) perm[np++] = i, R *= x->type.dims[i].size;
  bool ident = true;
  for (int i = 0; i < r; i++) {
    inv[perm[i]] = i;
    tdims[i] = x->type.dims[perm[i]].size;
    ident &= perm[i] == i;
  }
  aicc_value *xt = x, *xf, *sh, *am, *iota, *mask, *dyf, *zero, *g;
  if (!ident) {
    aicc_grad_attr at[] = {AICC_GA_INTS("perm", perm, r), {0}};
    TRY(aicc_grad_emit(c, "Transpose", &x, 1, at, &xt, 1));
  }
  flat[nk] = R;
  TRY(aicc_grad_i64s(c, flat, nk + 1, &sh));
  TRY(aicc_grad_binary(c, "Reshape", xt, sh, &xf));
  aicc_grad_attr aa[] = {AICC_GA_INT("axis", nk), AICC_GA_INT("keepdims", 1), {0}};
  TRY(aicc_grad_emit(c, "ArgMax", &xf, 1, aa, &am, 1));
  {
    aicc_tensor *t;
    TRY(aicc_tensor_create(AICC_DTYPE_I64, 1, &R, &t));
    for (int64_t i = 0; i < R; i++) ((int64_t *)t->data)[i] = i;
    TRY(aicc_graph_init_add(c->graph, "", t, &iota));
  }
  TRY(aicc_grad_binary(c, "Equal", am, iota, &mask));
  flat[nk] = 1;
  TRY(aicc_grad_i64s(c, flat, nk + 1, &sh));
  TRY(aicc_grad_binary(c, "Reshape", c->dy[0], sh, &dyf));
  TRY(aicc_grad_scalar(c, x->type.dtype, 0.0, &zero));
  aicc_value *wi[3] = {mask, dyf, zero};
  TRY(aicc_grad_emit(c, "Where", wi, 3, NULL, &g, 1));
  TRY(aicc_grad_i64s(c, tdims, r, &sh));
  TRY(aicc_grad_binary(c, "Reshape", g, sh, &g));
  if (!ident) {
    aicc_grad_attr at[] = {AICC_GA_INTS("perm", inv, r), {0}};
    TRY(aicc_grad_emit(c, "Transpose", &g, 1, at, &g, 1));
  }
  c->dx[0] = g;
  return NULL;
}

/* Scores x [N,C,d...], labels t [N,d...], optional class weights W [C]:
 * loss_i = -w_i x[i, t_i] with w_i = W[t_i] (1 without W), 0 where t_i is
 * ignore_index. dx = -s * onehot(t) along C with s = dy * w, divided by
 * sum(w) for reduction mean. */
aicc_status aicc_grad_NegativeLogLikelihoodLoss(aicc_grad_ctx *c) {
  if (!c->need[0]) return NULL;
  aicc_value *x = X(0), *t = X(1), *wt = c->node->n_inputs > 2 ? X(2) : NULL;
  if (x->type.rank < 2 || !aicc_dim_is_known(x->type.dims[1]))
    return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "gradient needs scores of rank >= 2 with known C");
  aicc_value *s, *oh, *p;
  TRY(aicc_grad_label_terms(c, c->dy[0], x, t, wt, &s, &oh));
  TRY(aicc_grad_binary(c, "Mul", oh, s, &p));
  TRY(aicc_grad_unary(c, "Neg", p, &p)); /* the loss is minus the picked score */
  c->dx[0] = p;
  return NULL;
}
