/* Gradient rules of normalisations: BatchNormalization in its inference
 * form (running statistics are inputs, so all five get gradients) and
 * LayerNormalization (statistics recomputed from x; the closed form of
 * Ba, Kiros & Hinton 2016). Gradients of the statistic outputs are not
 * supported. Defines no op family. */
#include "ops/grad_util.h"

#define X(i) (c->node->inputs[i])
#define TRY AICC_TRY

static aicc_status unsq_channel(aicc_grad_ctx *c, aicc_value *v, int r, aicc_value **out) {
  int64_t axes[AICC_MAX_RANK];
  int n = 0;
  for (int i = 1; i < r - 1; i++) axes[n++] = i;
  return aicc_grad_unsqueeze(c, v, axes, n, out);
}

/* y = scale * (x - mean) * inv + B with inv = 1/sqrt(var + eps), per
 * channel (axis 1). dx = dy * scale * inv; dB = sum dy; dscale = sum dy *
 * xhat; dmean = -dB * scale * inv; dvar = -0.5 * scale * inv^2 * dscale. */
aicc_status aicc_grad_BatchNormalization(aicc_grad_ctx *c) {
  aicc_value *x = X(0), *scale = X(1), *mean = X(3), *var = X(4), *dy = c->dy[0];
  int r = x->type.rank;
  if (r < 2) return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "gradient needs a known rank >= 2");
  if (aicc_node_attr_int(c->node, "training_mode", 0) || !aicc_node_attr_int(c->node, "spatial", 1))
    return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "gradient of the training or non-spatial form");
  for (int k = 1; k < c->node->n_outputs; k++)
    if (c->dy[k]) return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "gradient of statistic output %d", k);
  if (!dy) return NULL;
  aicc_dtype dt = x->type.dtype;
  int64_t axes[AICC_MAX_RANK];
  int n = 0;
  for (int i = 0; i < r; i++)
    if (i != 1) axes[n++] = i;
  aicc_value *eps, *ve, *sd, *one, *inv, *k, *ku;
  TRY(aicc_grad_scalar(c, dt, aicc_node_attr_float(c->node, "epsilon", 1e-5f), &eps));
  TRY(aicc_grad_scalar(c, dt, 1.0, &one));
  TRY(aicc_grad_binary(c, "Add", var, eps, &ve));
  TRY(aicc_grad_unary(c, "Sqrt", ve, &sd));
  TRY(aicc_grad_binary(c, "Div", one, sd, &inv));
  TRY(aicc_grad_binary(c, "Mul", scale, inv, &k));
  if (c->need[0]) {
    TRY(unsq_channel(c, k, r, &ku));
    TRY(aicc_grad_binary(c, "Mul", dy, ku, &c->dx[0]));
  }
  aicc_value *db = NULL, *dscale = NULL;
  if (c->need[2] || c->need[3]) TRY(aicc_grad_reduce_sum(c, dy, axes, n, false, &db));
  if (c->need[2]) c->dx[2] = db;
  if (c->need[3]) {
    aicc_value *p;
    TRY(aicc_grad_binary(c, "Mul", db, k, &p));
    TRY(aicc_grad_unary(c, "Neg", p, &c->dx[3]));
  }
  if (c->need[1] || c->need[4]) {
    aicc_value *mu, *iu, *d, *xh, *p;
    TRY(unsq_channel(c, mean, r, &mu));
    TRY(unsq_channel(c, inv, r, &iu));
    TRY(aicc_grad_binary(c, "Sub", x, mu, &d));
    TRY(aicc_grad_binary(c, "Mul", d, iu, &xh));
    TRY(aicc_grad_binary(c, "Mul", dy, xh, &p));
    TRY(aicc_grad_reduce_sum(c, p, axes, n, false, &dscale));
  }
  if (c->need[1]) c->dx[1] = dscale;
  if (c->need[4]) {
    aicc_value *h, *a, *b, *e;
    TRY(aicc_grad_scalar(c, dt, -0.5, &h));
    TRY(aicc_grad_binary(c, "Mul", k, inv, &a));
    TRY(aicc_grad_binary(c, "Mul", a, h, &b));
    TRY(aicc_grad_binary(c, "Mul", b, dscale, &e));
    c->dx[4] = e;
  }
  return NULL;
}

/* Normalised over axes [axis, r): with xhat = (x - mu) * rstd and g = dy *
 * scale, dx = rstd * (g - mean(g) - xhat * mean(g * xhat)); dscale and dB
 * sum dy * xhat and dy back to their shapes. */
aicc_status aicc_grad_LayerNormalization(aicc_grad_ctx *c) {
  aicc_value *x = X(0), *scale = X(1), *bias = c->node->n_inputs > 2 ? X(2) : NULL, *dy = c->dy[0];
  int r = x->type.rank;
  if (r < 1 || !aicc_type_is_static(&x->type))
    return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "gradient needs a static shape");
  for (int k = 1; k < c->node->n_outputs; k++)
    if (c->dy[k]) return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "gradient of statistic output %d", k);
  if (!dy) return NULL;
  int64_t axis = aicc_node_attr_int(c->node, "axis", -1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis >= r) return aicc_grad_error(c, AICC_ERR_INVALID, "bad axis");
  aicc_dtype dt = x->type.dtype;
  int64_t axes[AICC_MAX_RANK];
  int n = 0;
  double cnt = 1;
  for (int64_t i = axis; i < r; i++) axes[n++] = i, cnt *= (double)x->type.dims[i].size;
  aicc_value *nv, *eps, *one, *s, *mu, *d, *d2, *var, *ve, *sd, *rstd, *xh;
  TRY(aicc_grad_scalar(c, dt, cnt, &nv));
  TRY(aicc_grad_scalar(c, dt, aicc_node_attr_float(c->node, "epsilon", 1e-5f), &eps));
  TRY(aicc_grad_scalar(c, dt, 1.0, &one));
  TRY(aicc_grad_reduce_sum(c, x, axes, n, true, &s));
  TRY(aicc_grad_binary(c, "Div", s, nv, &mu));
  TRY(aicc_grad_binary(c, "Sub", x, mu, &d));
  TRY(aicc_grad_binary(c, "Mul", d, d, &d2));
  TRY(aicc_grad_reduce_sum(c, d2, axes, n, true, &s));
  TRY(aicc_grad_binary(c, "Div", s, nv, &var));
  TRY(aicc_grad_binary(c, "Add", var, eps, &ve));
  TRY(aicc_grad_unary(c, "Sqrt", ve, &sd));
  TRY(aicc_grad_binary(c, "Div", one, sd, &rstd));
  TRY(aicc_grad_binary(c, "Mul", d, rstd, &xh));
  if (c->need[0]) {
    aicc_value *g, *mg, *gx, *mgx, *t, *u, *v;
    TRY(aicc_grad_binary(c, "Mul", dy, scale, &g));
    TRY(aicc_grad_reduce_sum(c, g, axes, n, true, &s));
    TRY(aicc_grad_binary(c, "Div", s, nv, &mg));
    TRY(aicc_grad_binary(c, "Mul", g, xh, &gx));
    TRY(aicc_grad_reduce_sum(c, gx, axes, n, true, &s));
    TRY(aicc_grad_binary(c, "Div", s, nv, &mgx));
    TRY(aicc_grad_binary(c, "Sub", g, mg, &t));
    TRY(aicc_grad_binary(c, "Mul", xh, mgx, &u));
    TRY(aicc_grad_binary(c, "Sub", t, u, &v));
    TRY(aicc_grad_binary(c, "Mul", v, rstd, &c->dx[0]));
  }
  if (c->need[1]) {
    aicc_value *p;
    TRY(aicc_grad_binary(c, "Mul", dy, xh, &p));
    TRY(aicc_grad_unbroadcast(c, p, scale, &c->dx[1]));
  }
  if (bias && c->need[2]) TRY(aicc_grad_unbroadcast(c, dy, bias, &c->dx[2]));
  return NULL;
}
