/* Forward rules written out by hand, for ops whose Jacobian is neither
 * diagonal nor the op itself: the normalised exponentials, the arg-max
 * selections (ReduceMax, MaxPool: the tangent at the element the forward
 * picked, with the same tie rule as their VJP), the normalisations and the
 * softmax cross-entropy. Defines no op family. */
#include "ops/jvp_util.h"

#include <string.h>

#define X(i) (c->b.node->inputs[i])
#define Y(i) (c->b.node->outputs[i])
#define T(i) (c->tx[i])
#define B (&c->b)
#define TRY AICC_TRY

static aicc_status add_term(aicc_jvp_ctx *c, aicc_value **sum, aicc_value *t) {
  if (*sum) return aicc_grad_binary(B, "Add", *sum, t, sum);
  *sum = t;
  return NULL;
}

static aicc_status only_input0(aicc_jvp_ctx *c) {
  for (int k = 1; k < c->b.node->n_inputs; k++)
    if (T(k)) return aicc_jvp_error(c, AICC_ERR_UNSUPPORTED, "no tangent rule for input %d ('%s')", k, X(k)->name);
  return NULL;
}

/* The axes Softmax/LogSoftmax normalise over: one axis from opset 13, all
 * axes from `axis` on before (the input was coerced to 2-D). */
static aicc_status softmax_axes(aicc_jvp_ctx *c, int64_t *axes, int *n) {
  int r = X(0)->type.rank;
  if (r < 0) return aicc_jvp_error(c, AICC_ERR_UNSUPPORTED, "needs a known rank");
  bool v13 = c->b.node->opset >= 13;
  int64_t a = aicc_node_attr_int(c->b.node, "axis", v13 ? -1 : 1);
  if (a < 0) a += r;
  if (a < 0 || (a >= r && r > 0)) return aicc_jvp_error(c, AICC_ERR_INVALID, "bad axis");
  *n = 0;
  for (int64_t i = a; i < (v13 ? a + 1 : r); i++) axes[(*n)++] = i;
  return NULL;
}

/* ty = y * (t - sum(y * t)). */
aicc_status aicc_jvp_Softmax(aicc_jvp_ctx *c) {
  int64_t axes[AICC_MAX_RANK];
  int n;
  TRY(softmax_axes(c, axes, &n));
  aicc_value *p, *s, *d;
  TRY(aicc_grad_binary(B, "Mul", Y(0), T(0), &p));
  TRY(aicc_grad_reduce_sum(B, p, axes, n, true, &s));
  TRY(aicc_grad_binary(B, "Sub", T(0), s, &d));
  return aicc_grad_binary(B, "Mul", Y(0), d, &c->ty[0]);
}

/* t - sum(prob * t) over axes. */
static aicc_status log_softmax_fwd(aicc_jvp_ctx *c, aicc_value *t, aicc_value *prob,
                                   const int64_t *axes, int n, aicc_value **out) {
  aicc_value *p, *s;
  TRY(aicc_grad_binary(B, "Mul", prob, t, &p));
  TRY(aicc_grad_reduce_sum(B, p, axes, n, true, &s));
  return aicc_grad_binary(B, "Sub", t, s, out);
}

aicc_status aicc_jvp_LogSoftmax(aicc_jvp_ctx *c) {
  int64_t axes[AICC_MAX_RANK];
  int n;
  TRY(softmax_axes(c, axes, &n));
  aicc_value *prob;
  TRY(aicc_grad_unary(B, "Exp", Y(0), &prob));
  return log_softmax_fwd(c, T(0), prob, axes, n, &c->ty[0]);
}

/* The selection mask M (x's shape, 1 at the element each output picked)
 * is the VJP rule's image of ones; the tangent is sum(M * t) over the
 * reduced axes, so forward and reverse mode break ties alike. */
aicc_status aicc_jvp_ReduceMax(aicc_jvp_ctx *c) {
  TRY(only_input0(c));
  aicc_value *x = X(0);
  int r = x->type.rank;
  if (r < 0) return aicc_jvp_error(c, AICC_ERR_UNSUPPORTED, "needs a known rank");
  int64_t raw[AICC_MAX_RANK], len = 0, axes[AICC_MAX_RANK];
  TRY(aicc_grad_reduce_axes(B, r, raw, &len));
  if (len == 0 && aicc_node_attr_int(c->b.node, "noop_with_empty_axes", 0)) {
    c->ty[0] = T(0);
    return NULL;
  }
  bool red[AICC_MAX_RANK] = {0};
  for (int64_t i = 0; i < len; i++) {
    int64_t a = raw[i] < 0 ? raw[i] + r : raw[i];
    if (a < 0 || a >= r) return aicc_jvp_error(c, AICC_ERR_INVALID, "bad axis");
    red[a] = true;
  }
  int n = 0;
  for (int i = 0; i < r; i++)
    if (red[i] || len == 0) axes[n++] = i;
  aicc_value *one, *ones, *mask, *p, *dy[8] = {0}, *dx[8] = {0};
  bool need[8] = {true};
  TRY(aicc_grad_scalar(B, x->type.dtype, 1.0, &one));
  TRY(aicc_grad_expand_like(B, one, Y(0), &ones));
  dy[0] = ones;
  aicc_grad_ctx g = {.graph = c->b.graph, .node = c->b.node, .dy = dy, .dx = dx, .need = need};
  TRY(aicc_grad_ReduceMax(&g));
  mask = dx[0];
  TRY(aicc_grad_binary(B, "Mul", mask, T(0), &p));
  return aicc_grad_reduce_sum(B, p, axes, n, aicc_node_attr_int(c->b.node, "keepdims", 1) != 0,
                              &c->ty[0]);
}

/* A second MaxPool gives the flat row-major indices of the picked
 * elements (storage_order 0); the tangent gathers t there. */
aicc_status aicc_jvp_MaxPool(aicc_jvp_ctx *c) {
  if (aicc_node_attr_int(c->b.node, "storage_order", 0) != 0)
    return aicc_jvp_error(c, AICC_ERR_UNSUPPORTED, "MaxPool with storage_order 1");
  if (c->b.node->opset < 8)
    return aicc_jvp_error(c, AICC_ERR_UNSUPPORTED, "MaxPool tangent needs opset >= 8 (Indices)");
  if (c->b.node->n_outputs > 1 && c->want[1])
    return aicc_jvp_error(c, AICC_ERR_UNSUPPORTED, "Indices output has no tangent");
  aicc_value *x = X(0), *yi[2], *flat, *tf;
  TRY(aicc_jvp_emit_copy(c, &x, 1, NULL, yi, 2));
  int64_t m1 = -1;
  TRY(aicc_grad_i64s(B, &m1, 1, &flat));
  TRY(aicc_grad_binary(B, "Reshape", T(0), flat, &tf));
  return aicc_grad_binary(B, "Gather", tf, yi[1], &c->ty[0]);
}

static aicc_status unsq_channel(aicc_jvp_ctx *c, aicc_value *v, int r, aicc_value **out) {
  int64_t axes[AICC_MAX_RANK];
  int n = 0;
  for (int i = 1; i < r - 1; i++) axes[n++] = i;
  return aicc_grad_unsqueeze(B, v, axes, n, out);
}

/* Inference form, y = (x - mean) * k + B with inv = 1/sqrt(var + eps) and
 * k = scale * inv per channel. With xh = (x - mean) * inv:
 *   ty = tx * k + xh * (tscale - 0.5 * scale * inv^2 * tvar) + (tB - tmean * k). */
aicc_status aicc_jvp_BatchNormalization(aicc_jvp_ctx *c) {
  const aicc_node *nd = c->b.node;
  aicc_value *x = X(0), *scale = X(1), *mean = X(3), *var = X(4);
  int r = x->type.rank;
  if (r < 2) return aicc_jvp_error(c, AICC_ERR_UNSUPPORTED, "needs a known rank >= 2");
  if (aicc_node_attr_int(nd, "training_mode", 0) || !aicc_node_attr_int(nd, "spatial", 1))
    return aicc_jvp_error(c, AICC_ERR_UNSUPPORTED, "tangent of the training or non-spatial form");
  for (int k = 1; k < nd->n_outputs; k++)
    if (c->want[k]) return aicc_jvp_error(c, AICC_ERR_UNSUPPORTED, "tangent of statistic output %d", k);
  aicc_dtype dt = x->type.dtype;
  aicc_value *eps, *one, *ve, *sd, *inv, *k, *sum = NULL, *a = NULL, *b = NULL, *u;
  TRY(aicc_grad_scalar(B, dt, aicc_node_attr_float(nd, "epsilon", 1e-5f), &eps));
  TRY(aicc_grad_scalar(B, dt, 1.0, &one));
  TRY(aicc_grad_binary(B, "Add", var, eps, &ve));
  TRY(aicc_grad_unary(B, "Sqrt", ve, &sd));
  TRY(aicc_grad_binary(B, "Div", one, sd, &inv));
  TRY(aicc_grad_binary(B, "Mul", scale, inv, &k));
  if (T(0)) {
    TRY(unsq_channel(c, k, r, &u));
    TRY(aicc_grad_binary(B, "Mul", T(0), u, &sum));
  }
  if (T(1)) a = T(1);
  if (T(4)) {
    aicc_value *h, *p, *q;
    TRY(aicc_grad_scalar(B, dt, -0.5, &h));
    TRY(aicc_grad_binary(B, "Mul", k, inv, &p));
    TRY(aicc_grad_binary(B, "Mul", p, h, &p));
    TRY(aicc_grad_binary(B, "Mul", p, T(4), &q));
    TRY(add_term(c, &a, q));
  }
  if (a) { /* xh * a */
    aicc_value *mu, *iu, *d, *xh, *au, *p;
    TRY(unsq_channel(c, mean, r, &mu));
    TRY(unsq_channel(c, inv, r, &iu));
    TRY(aicc_grad_binary(B, "Sub", x, mu, &d));
    TRY(aicc_grad_binary(B, "Mul", d, iu, &xh));
    TRY(unsq_channel(c, a, r, &au));
    TRY(aicc_grad_binary(B, "Mul", xh, au, &p));
    TRY(add_term(c, &sum, p));
  }
  if (T(2)) b = T(2);
  if (T(3)) {
    aicc_value *p, *q;
    TRY(aicc_grad_binary(B, "Mul", T(3), k, &p));
    TRY(aicc_grad_unary(B, "Neg", p, &q));
    TRY(add_term(c, &b, q));
  }
  if (b) {
    aicc_value *bu;
    TRY(unsq_channel(c, b, r, &bu));
    TRY(add_term(c, &sum, bu));
  }
  return aicc_grad_expand_like(B, sum, Y(0), &c->ty[0]); /* tB alone is per channel */
}

/* Normalised over axes [axis, r): with xh = (x - mu) * rstd,
 *   txh = rstd * (tx - mean(tx) - xh * mean(tx * xh)),
 *   ty = txh * scale + xh * tscale + tB. */
aicc_status aicc_jvp_LayerNormalization(aicc_jvp_ctx *c) {
  const aicc_node *nd = c->b.node;
  aicc_value *x = X(0), *scale = X(1);
  int r = x->type.rank;
  if (r < 1 || !aicc_type_is_static(&x->type))
    return aicc_jvp_error(c, AICC_ERR_UNSUPPORTED, "needs a static shape");
  for (int k = 1; k < nd->n_outputs; k++)
    if (c->want[k]) return aicc_jvp_error(c, AICC_ERR_UNSUPPORTED, "tangent of statistic output %d", k);
  int64_t axis = aicc_node_attr_int(nd, "axis", -1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis >= r) return aicc_jvp_error(c, AICC_ERR_INVALID, "bad axis");
  aicc_dtype dt = x->type.dtype;
  int64_t axes[AICC_MAX_RANK];
  int n = 0;
  double cnt = 1;
  for (int64_t i = axis; i < r; i++) axes[n++] = i, cnt *= (double)x->type.dims[i].size;
  aicc_value *nv, *eps, *one, *s, *mu, *d, *d2, *var, *ve, *sd, *rstd, *xh, *sum = NULL;
  TRY(aicc_grad_scalar(B, dt, cnt, &nv));
  TRY(aicc_grad_scalar(B, dt, aicc_node_attr_float(nd, "epsilon", 1e-5f), &eps));
  TRY(aicc_grad_scalar(B, dt, 1.0, &one));
  TRY(aicc_grad_reduce_sum(B, x, axes, n, true, &s));
  TRY(aicc_grad_binary(B, "Div", s, nv, &mu));
  TRY(aicc_grad_binary(B, "Sub", x, mu, &d));
  TRY(aicc_grad_binary(B, "Mul", d, d, &d2));
  TRY(aicc_grad_reduce_sum(B, d2, axes, n, true, &s));
  TRY(aicc_grad_binary(B, "Div", s, nv, &var));
  TRY(aicc_grad_binary(B, "Add", var, eps, &ve));
  TRY(aicc_grad_unary(B, "Sqrt", ve, &sd));
  TRY(aicc_grad_binary(B, "Div", one, sd, &rstd));
  TRY(aicc_grad_binary(B, "Mul", d, rstd, &xh));
  if (T(0)) {
    aicc_value *mt, *tx2, *mtx, *a, *b, *e, *txh, *p;
    TRY(aicc_grad_reduce_sum(B, T(0), axes, n, true, &s));
    TRY(aicc_grad_binary(B, "Div", s, nv, &mt));
    TRY(aicc_grad_binary(B, "Mul", T(0), xh, &tx2));
    TRY(aicc_grad_reduce_sum(B, tx2, axes, n, true, &s));
    TRY(aicc_grad_binary(B, "Div", s, nv, &mtx));
    TRY(aicc_grad_binary(B, "Sub", T(0), mt, &a));
    TRY(aicc_grad_binary(B, "Mul", xh, mtx, &b));
    TRY(aicc_grad_binary(B, "Sub", a, b, &e));
    TRY(aicc_grad_binary(B, "Mul", e, rstd, &txh));
    TRY(aicc_grad_binary(B, "Mul", txh, scale, &p));
    TRY(add_term(c, &sum, p));
  }
  if (T(1)) {
    aicc_value *p;
    TRY(aicc_grad_binary(B, "Mul", xh, T(1), &p));
    TRY(add_term(c, &sum, p));
  }
  if (nd->n_inputs > 2 && T(2)) TRY(add_term(c, &sum, T(2)));
  return aicc_grad_expand_like(B, sum, Y(0), &c->ty[0]); /* tB alone is smaller */
}

/* log_prob's tangent is LogSoftmax's along C: tlp = tx - sum(prob * tx);
 * the loss is -w * log_prob[label] reduced, so its tangent is
 * NegativeLogLikelihoodLoss of tlp with the same labels, weights, ignore
 * index and reduction. */
aicc_status aicc_jvp_SoftmaxCrossEntropyLoss(aicc_jvp_ctx *c) {
  TRY(only_input0(c));
  const aicc_node *nd = c->b.node;
  aicc_value *x = X(0), *t = X(1), *wt = nd->n_inputs > 2 ? X(2) : NULL, *lp, *prob, *tlp;
  if (x->type.rank < 2) return aicc_jvp_error(c, AICC_ERR_UNSUPPORTED, "needs scores of rank >= 2");
  const aicc_attr *ign = aicc_node_attr(nd, "ignore_index");
  if (nd->n_outputs > 1 && Y(1)) {
    lp = Y(1);
  } else { /* a second loss node yields log_prob, at any rank and opset */
    aicc_value *ls[2], *in[3] = {x, t, wt};
    aicc_grad_attr at[3] = {AICC_GA_STRING("reduction", "none")};
    if (ign) at[1] = (aicc_grad_attr)AICC_GA_INT("ignore_index", ign->i);
    TRY(aicc_grad_emit(B, "SoftmaxCrossEntropyLoss", in, wt ? 3 : 2, at, ls, 2));
    lp = ls[1];
  }
  int64_t c_axis = 1;
  TRY(aicc_grad_unary(B, "Exp", lp, &prob));
  TRY(log_softmax_fwd(c, T(0), prob, &c_axis, 1, &tlp));
  if (c->want[0]) {
    aicc_value *in[3] = {tlp, t, wt};
    aicc_grad_attr at[3] = {
        AICC_GA_STRING("reduction", aicc_node_attr_string(nd, "reduction", "mean"))};
    if (ign) at[1] = (aicc_grad_attr)AICC_GA_INT("ignore_index", ign->i);
    TRY(aicc_grad_emit(B, "NegativeLogLikelihoodLoss", in, wt ? 3 : 2, at, &c->ty[0], 1));
  }
  if (nd->n_outputs > 1 && c->want[1]) c->ty[1] = tlp;
  return NULL;
}
