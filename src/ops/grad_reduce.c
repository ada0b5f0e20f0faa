/* Gradient rules of reductions and normalised exponentials: ReduceSum and
 * ReduceMean broadcast dy back over the reduced axes; Softmax, LogSoftmax
 * and SoftmaxCrossEntropyLoss use their closed forms (softmax minus the
 * one-hot target for the loss). Defines no op family. */
#include "ops/grad_util.h"

#include <string.h>

#define X(i) (c->node->inputs[i])
#define Y(i) (c->node->outputs[i])
#define TRY AICC_TRY

/* The normalised, sorted axes a Reduce* node reduces over (all when it
 * names none); *identity when it reduces nothing (noop_with_empty_axes). */
static aicc_status reduce_axes(aicc_grad_ctx *c, int64_t *axes, int *n, bool *identity) {
  int r = X(0)->type.rank;
  *identity = false;
  *n = 0;
  if (r < 0) return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "gradient needs a known rank");
  int64_t raw[AICC_MAX_RANK], len = 0;
  TRY(aicc_grad_reduce_axes(c, r, raw, &len));
  bool mark[AICC_MAX_RANK] = {0};
  if (len == 0) {
    if (aicc_node_attr_int(c->node, "noop_with_empty_axes", 0)) {
      *identity = true;
      return NULL;
    }
    for (int i = 0; i < r; i++) mark[i] = true;
  }
  for (int64_t i = 0; i < len; i++) {
    int64_t a = raw[i] < 0 ? raw[i] + r : raw[i];
    if (a < 0 || a >= r) return aicc_grad_error(c, AICC_ERR_INVALID, "bad axis %lld", (long long)raw[i]);
    mark[a] = true;
  }
  for (int i = 0; i < r; i++)
    if (mark[i]) axes[(*n)++] = i;
  return NULL;
}

/* dy broadcast back to x's shape (keepdims 0 gets the axes re-inserted). */
static aicc_status reduce_back(aicc_grad_ctx *c, aicc_value **out, bool *identity,
                               int64_t *axes_out, int *n_out) {
  int64_t axes[AICC_MAX_RANK];
  int n;
  TRY(reduce_axes(c, axes, &n, identity));
  aicc_value *g = c->dy[0];
  if (*identity) {
    *out = g;
    return NULL;
  }
  if (!aicc_node_attr_int(c->node, "keepdims", 1)) TRY(aicc_grad_unsqueeze(c, g, axes, n, &g));
  if (axes_out) memcpy(axes_out, axes, sizeof axes[0] * (size_t)n);
  if (n_out) *n_out = n;
  return aicc_grad_expand_like(c, g, X(0), out);
}

aicc_status aicc_grad_ReduceSum(aicc_grad_ctx *c) {
  bool id = false;
  return reduce_back(c, &c->dx[0], &id, NULL, NULL);
}

/* The mean's count is a constant when the reduced dims are known, else
 * Size(x) / Size(y) at run time. */
aicc_status aicc_grad_ReduceMean(aicc_grad_ctx *c) {
  bool id = false;
  int64_t axes[AICC_MAX_RANK] = {0};
  int n = 0;
  aicc_value *g;
  TRY(reduce_back(c, &g, &id, axes, &n));
  if (id) {
    c->dx[0] = g;
    return NULL;
  }
  aicc_dtype dt = X(0)->type.dtype;
  double count = 1;
  bool known = true;
  for (int i = 0; i < n; i++) {
    aicc_dim d = X(0)->type.dims[axes[i]];
    if (aicc_dim_is_known(d)) count *= (double)d.size;
    else known = false;
  }
  aicc_value *k;
  if (known) {
    TRY(aicc_grad_scalar(c, dt, count, &k));
  } else {
    aicc_value *sx, *sy, *q;
    TRY(aicc_grad_unary(c, "Size", X(0), &sx));
    TRY(aicc_grad_unary(c, "Size", Y(0), &sy));
    TRY(aicc_grad_binary(c, "Div", sx, sy, &q));
    aicc_grad_attr at[] = {AICC_GA_INT("to", dt), {0}};
    TRY(aicc_grad_emit(c, "Cast", &q, 1, at, &k, 1));
  }
  return aicc_grad_binary(c, "Div", g, k, &c->dx[0]);
}

/* The axes Softmax/LogSoftmax normalise over: one axis from opset 13, all
 * axes from `axis` on before (the input was coerced to 2-D). */
static aicc_status softmax_axes(aicc_grad_ctx *c, int64_t *axes, int *n) {
  int r = X(0)->type.rank;
  if (r < 0) return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "gradient needs a known rank");
  bool v13 = c->node->opset >= 13;
  int64_t a = aicc_node_attr_int(c->node, "axis", v13 ? -1 : 1);
  if (a < 0) a += r;
  if (a < 0 || (a >= r && r > 0)) return aicc_grad_error(c, AICC_ERR_INVALID, "bad axis");
  *n = 0;
  for (int64_t i = a; i < (v13 ? a + 1 : r); i++) axes[(*n)++] = i;
  return NULL;
}

/* dx = y * (dy - sum(dy * y)). */
aicc_status aicc_grad_Softmax(aicc_grad_ctx *c) {
  int64_t axes[AICC_MAX_RANK];
  int n;
  TRY(softmax_axes(c, axes, &n));
  aicc_value *p, *s, *d;
  TRY(aicc_grad_binary(c, "Mul", c->dy[0], Y(0), &p));
  TRY(aicc_grad_reduce_sum(c, p, axes, n, true, &s));
  TRY(aicc_grad_binary(c, "Sub", c->dy[0], s, &d));
  return aicc_grad_binary(c, "Mul", Y(0), d, &c->dx[0]);
}

/* dx = dy - exp(y) * sum(dy). */
static aicc_status log_softmax_back(aicc_grad_ctx *c, aicc_value *dy, aicc_value *prob,
                                    const int64_t *axes, int n, aicc_value **out) {
  aicc_value *s, *p;
  TRY(aicc_grad_reduce_sum(c, dy, axes, n, true, &s));
  TRY(aicc_grad_binary(c, "Mul", prob, s, &p));
  return aicc_grad_binary(c, "Sub", dy, p, out);
}

aicc_status aicc_grad_LogSoftmax(aicc_grad_ctx *c) {
  int64_t axes[AICC_MAX_RANK];
  int n;
  TRY(softmax_axes(c, axes, &n));
  aicc_value *prob;
  TRY(aicc_grad_unary(c, "Exp", Y(0), &prob));
  return log_softmax_back(c, c->dy[0], prob, axes, n, &c->dx[0]);
}

/* Scores x [N,C,d...], labels t [N,d...], optional class weights W [C].
 * With w = W[t] (1 without W) zeroed where t == ignore_index, the loss's
 * gradient is s * (softmax(x) - onehot(t)) along C, where s = dy * w
 * (reduction none/sum) or dy * w / sum(w) (mean; sum(w) is the count of
 * labels when neither W nor ignore_index is given). The log_prob output
 * adds LogSoftmax's rule. Probabilities come from a second loss node that
 * yields log_prob, so any rank works at any opset. */
aicc_status aicc_grad_SoftmaxCrossEntropyLoss(aicc_grad_ctx *c) {
  if (!c->need[0]) return NULL;
  aicc_value *x = X(0), *t = X(1), *wt = c->node->n_inputs > 2 ? X(2) : NULL;
  int r = x->type.rank;
  if (r < 2 || !aicc_dim_is_known(x->type.dims[1]))
    return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "gradient needs scores of rank >= 2 with known C");
  const aicc_attr *ign = aicc_node_attr(c->node, "ignore_index");

  /* log-probabilities and probabilities */
  aicc_value *ls[2], *prob, *in[3] = {x, t, wt};
  aicc_grad_attr at[3] = {AICC_GA_STRING("reduction", "none")};
  if (ign) at[1] = (aicc_grad_attr)AICC_GA_INT("ignore_index", ign->i);
  TRY(aicc_grad_emit(c, "SoftmaxCrossEntropyLoss", in, wt ? 3 : 2, at, ls, 2));
  TRY(aicc_grad_unary(c, "Exp", ls[1], &prob));
  int64_t c_axis = 1;
  aicc_value *dx = NULL;

  if (c->dy[0]) { /* (softmax - onehot) * scale */
    aicc_value *s, *oh, *diff;
    TRY(aicc_grad_label_terms(c, c->dy[0], x, t, wt, &s, &oh));
    TRY(aicc_grad_binary(c, "Sub", prob, oh, &diff));
    TRY(aicc_grad_binary(c, "Mul", diff, s, &dx));
  }
  if (c->node->n_outputs > 1 && c->dy[1]) {
    aicc_value *d2;
    TRY(log_softmax_back(c, c->dy[1], prob, &c_axis, 1, &d2));
    if (dx) TRY(aicc_grad_binary(c, "Add", dx, d2, &dx));
    else dx = d2;
  }
  c->dx[0] = dx;
  return NULL;
}
