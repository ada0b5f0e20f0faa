/* Gradient rules of pointwise selections and activations: Where, Max/Min
 * (ties go to the first input holding the extreme), Abs, Pow, LeakyRelu,
 * Elu, Softplus and Dropout (identity at inference; the mask scaled by
 * 1/(1-ratio) in training). Defines no op family. */
#include "ops/grad_util.h"

#include <string.h>

#define X(i) (c->node->inputs[i])
#define Y(i) (c->node->outputs[i])
#define TRY AICC_TRY

static aicc_dtype dt_of(const aicc_value *v) { return v->type.dtype; }

static aicc_status where(aicc_grad_ctx *c, aicc_value *cond, aicc_value *a, aicc_value *b,
                         aicc_value **out) {
  aicc_value *in[3] = {cond, a, b};
  return aicc_grad_emit(c, "Where", in, 3, NULL, out, 1);
}

/* y = Where(cond, a, b): da = dy where cond, db = dy elsewhere, each summed
 * back to its operand's shape. */
aicc_status aicc_grad_Where(aicc_grad_ctx *c) {
  aicc_value *zero, *g;
  TRY(aicc_grad_scalar(c, dt_of(c->dy[0]), 0.0, &zero));
  if (c->need[1]) {
    TRY(where(c, X(0), c->dy[0], zero, &g));
    TRY(aicc_grad_unbroadcast(c, g, X(1), &c->dx[1]));
  }
  if (c->need[2]) {
    TRY(where(c, X(0), zero, c->dy[0], &g));
    TRY(aicc_grad_unbroadcast(c, g, X(2), &c->dx[2]));
  }
  return NULL;
}

/* Max/Min of any number of inputs: input i gets dy where it equals y and no
 * earlier input does (pick-first on ties, so the gradients sum to dy). */
static aicc_status extreme(aicc_grad_ctx *c) {
  aicc_value *zero, *taken = NULL;
  TRY(aicc_grad_scalar(c, dt_of(c->dy[0]), 0.0, &zero));
  for (int i = 0; i < c->node->n_inputs; i++) {
    aicc_value *eq, *sel = NULL, *g;
    bool later = false;
    for (int j = i + 1; j < c->node->n_inputs; j++) later |= c->need[j];
    if (!c->need[i] && !later) break;
    TRY(aicc_grad_binary(c, "Equal", X(i), Y(0), &eq));
    if (taken) {
      aicc_value *nt;
      TRY(aicc_grad_unary(c, "Not", taken, &nt));
      TRY(aicc_grad_binary(c, "And", eq, nt, &sel));
      if (later) TRY(aicc_grad_binary(c, "Or", taken, eq, &taken));
    } else {
      sel = taken = eq;
    }
    if (c->need[i]) {
      TRY(where(c, sel, c->dy[0], zero, &g));
      TRY(aicc_grad_unbroadcast(c, g, X(i), &c->dx[i]));
    }
  }
  return NULL;
}

aicc_status aicc_grad_Max(aicc_grad_ctx *c) { return extreme(c); }
aicc_status aicc_grad_Min(aicc_grad_ctx *c) { return extreme(c); }

/* d|x| = dy * sign(x) (0 at x == 0). */
aicc_status aicc_grad_Abs(aicc_grad_ctx *c) {
  aicc_value *s;
  TRY(aicc_grad_unary(c, "Sign", X(0), &s));
  return aicc_grad_binary(c, "Mul", c->dy[0], s, &c->dx[0]);
}

/* y = a^b: da = dy * b * a^(b-1), db = dy * y * ln(a) (real only for a > 0;
 * NaN elsewhere, as the frameworks give). An exponent of another dtype is
 * cast to a's for the base's gradient. */
aicc_status aicc_grad_Pow(aicc_grad_ctx *c) {
  aicc_value *a = X(0), *b = X(1);
  if (c->need[0]) {
    aicc_value *bf = b, *one, *bm1, *p, *q, *g;
    if (dt_of(b) != dt_of(a)) {
      aicc_grad_attr at[] = {AICC_GA_INT("to", dt_of(a)), {0}};
      TRY(aicc_grad_emit(c, "Cast", &b, 1, at, &bf, 1));
    }
    TRY(aicc_grad_scalar(c, dt_of(a), 1.0, &one));
    TRY(aicc_grad_binary(c, "Sub", bf, one, &bm1));
    TRY(aicc_grad_binary(c, "Pow", a, bm1, &p));
    TRY(aicc_grad_binary(c, "Mul", p, bf, &q));
    TRY(aicc_grad_binary(c, "Mul", c->dy[0], q, &g));
    TRY(aicc_grad_unbroadcast(c, g, a, &c->dx[0]));
  }
  if (c->need[1]) {
    aicc_value *l, *p, *g;
    TRY(aicc_grad_unary(c, "Log", a, &l));
    if (dt_of(l) != dt_of(b)) {
      aicc_grad_attr at[] = {AICC_GA_INT("to", dt_of(b)), {0}};
      TRY(aicc_grad_emit(c, "Cast", &l, 1, at, &l, 1));
    }
    aicc_value *yb = Y(0);
    if (dt_of(yb) != dt_of(b)) {
      aicc_grad_attr at[] = {AICC_GA_INT("to", dt_of(b)), {0}};
      TRY(aicc_grad_emit(c, "Cast", &yb, 1, at, &yb, 1));
    }
    aicc_value *dyb = c->dy[0];
    if (dt_of(dyb) != dt_of(b)) {
      aicc_grad_attr at[] = {AICC_GA_INT("to", dt_of(b)), {0}};
      TRY(aicc_grad_emit(c, "Cast", &dyb, 1, at, &dyb, 1));
    }
    TRY(aicc_grad_binary(c, "Mul", yb, l, &p));
    TRY(aicc_grad_binary(c, "Mul", dyb, p, &g));
    TRY(aicc_grad_unbroadcast(c, g, b, &c->dx[1]));
  }
  return NULL;
}

/* dx = dy where x > 0, alpha * dy elsewhere. */
aicc_status aicc_grad_LeakyRelu(aicc_grad_ctx *c) {
  aicc_value *zero, *alpha, *pos, *s;
  TRY(aicc_grad_scalar(c, dt_of(X(0)), 0.0, &zero));
  TRY(aicc_grad_scalar(c, dt_of(X(0)), aicc_node_attr_float(c->node, "alpha", 0.01f), &alpha));
  TRY(aicc_grad_binary(c, "Greater", X(0), zero, &pos));
  TRY(aicc_grad_binary(c, "Mul", c->dy[0], alpha, &s));
  return where(c, pos, c->dy[0], s, &c->dx[0]);
}

/* y = alpha * (exp(x) - 1) for x <= 0, whose derivative is y + alpha. */
aicc_status aicc_grad_Elu(aicc_grad_ctx *c) {
  aicc_value *zero, *alpha, *pos, *d, *s;
  TRY(aicc_grad_scalar(c, dt_of(X(0)), 0.0, &zero));
  TRY(aicc_grad_scalar(c, dt_of(X(0)), aicc_node_attr_float(c->node, "alpha", 1.0f), &alpha));
  TRY(aicc_grad_binary(c, "Greater", X(0), zero, &pos));
  TRY(aicc_grad_binary(c, "Add", Y(0), alpha, &d));
  TRY(aicc_grad_binary(c, "Mul", c->dy[0], d, &s));
  return where(c, pos, c->dy[0], s, &c->dx[0]);
}

/* d log(1 + exp(x)) = sigmoid(x). */
aicc_status aicc_grad_Softplus(aicc_grad_ctx *c) {
  aicc_value *s;
  TRY(aicc_grad_unary(c, "Sigmoid", X(0), &s));
  return aicc_grad_binary(c, "Mul", c->dy[0], s, &c->dx[0]);
}

/* Opset 12+: training_mode (input 2) must be a constant; false or absent is
 * the identity. In training, y = x * mask / (1 - ratio) with the mask the
 * node's second output (so the rule reuses the forward draw). Before opset
 * 12 Dropout is always the identity at inference. */
aicc_status aicc_grad_Dropout(aicc_grad_ctx *c) {
  if (!c->need[0]) return NULL;
  bool training = false;
  if (c->node->opset >= 12 && c->node->n_inputs > 2 && X(2)) {
    const aicc_tensor *t = aicc_grad_const_of(X(2));
    if (!t) return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "gradient needs a constant training_mode");
    training = aicc_tensor_get_i64(t, 0) != 0;
  }
  double ratio = 0.5;
  if (c->node->opset >= 12) {
    if (c->node->n_inputs > 1 && X(1)) {
      const aicc_tensor *t = aicc_grad_const_of(X(1));
      if (!t) return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "gradient needs a constant ratio");
      ratio = aicc_tensor_get_f64(t, 0);
    }
  } else {
    ratio = aicc_node_attr_float(c->node, "ratio", 0.5f);
  }
  if (!training || ratio == 0) {
    c->dx[0] = c->dy[0];
    return NULL;
  }
  if (c->node->n_outputs < 2 || !Y(1))
    return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "training gradient needs the mask output");
  if (ratio >= 1) return aicc_grad_error(c, AICC_ERR_INVALID, "ratio %g leaves no gradient", ratio);
  aicc_value *m = Y(1), *k, *g;
  aicc_grad_attr at[] = {AICC_GA_INT("to", dt_of(X(0))), {0}};
  TRY(aicc_grad_emit(c, "Cast", &m, 1, at, &m, 1));
  TRY(aicc_grad_scalar(c, dt_of(X(0)), 1.0 / (1.0 - ratio), &k));
  TRY(aicc_grad_binary(c, "Mul", m, k, &m));
  TRY(aicc_grad_binary(c, "Mul", c->dy[0], m, &g));
  c->dx[0] = g;
  return NULL;
}
