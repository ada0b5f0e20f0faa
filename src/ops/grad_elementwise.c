/* Gradient rules of elementwise ops: binary arithmetic with numpy
 * broadcasting (gradients summed back through aicc_grad_unbroadcast), unary
 * math and activations (written with the forward output where that is
 * cheaper), Identity and float-to-float Cast. Defines no op family. */
#include "ops/grad_util.h"

#define X(i) (c->node->inputs[i])
#define Y(i) (c->node->outputs[i])
#define TRY AICC_TRY

static aicc_dtype dt_of(const aicc_value *v) { return v->type.dtype; }

aicc_status aicc_grad_Add(aicc_grad_ctx *c) {
  for (int i = 0; i < 2; i++)
    if (c->need[i]) TRY(aicc_grad_unbroadcast(c, c->dy[0], X(i), &c->dx[i]));
  return NULL;
}

aicc_status aicc_grad_Sub(aicc_grad_ctx *c) {
  if (c->need[0]) TRY(aicc_grad_unbroadcast(c, c->dy[0], X(0), &c->dx[0]));
  if (c->need[1]) {
    aicc_value *n;
    TRY(aicc_grad_unary(c, "Neg", c->dy[0], &n));
    TRY(aicc_grad_unbroadcast(c, n, X(1), &c->dx[1]));
  }
  return NULL;
}

aicc_status aicc_grad_Mul(aicc_grad_ctx *c) {
  for (int i = 0; i < 2; i++)
    if (c->need[i]) {
      aicc_value *p;
      TRY(aicc_grad_binary(c, "Mul", c->dy[0], X(1 - i), &p));
      TRY(aicc_grad_unbroadcast(c, p, X(i), &c->dx[i]));
    }
  return NULL;
}

/* y = a / b: da = dy / b, db = -dy * y / b. */
aicc_status aicc_grad_Div(aicc_grad_ctx *c) {
  aicc_value *q;
  TRY(aicc_grad_binary(c, "Div", c->dy[0], X(1), &q));
  if (c->need[0]) TRY(aicc_grad_unbroadcast(c, q, X(0), &c->dx[0]));
  if (c->need[1]) {
    aicc_value *p, *n;
    TRY(aicc_grad_binary(c, "Mul", q, Y(0), &p));
    TRY(aicc_grad_unary(c, "Neg", p, &n));
    TRY(aicc_grad_unbroadcast(c, n, X(1), &c->dx[1]));
  }
  return NULL;
}

aicc_status aicc_grad_Neg(aicc_grad_ctx *c) { return aicc_grad_unary(c, "Neg", c->dy[0], &c->dx[0]); }

aicc_status aicc_grad_Exp(aicc_grad_ctx *c) { return aicc_grad_binary(c, "Mul", c->dy[0], Y(0), &c->dx[0]); }

aicc_status aicc_grad_Log(aicc_grad_ctx *c) { return aicc_grad_binary(c, "Div", c->dy[0], X(0), &c->dx[0]); }

/* d sqrt(x) = dy * 0.5 / y. */
aicc_status aicc_grad_Sqrt(aicc_grad_ctx *c) {
  aicc_value *half, *q;
  TRY(aicc_grad_scalar(c, dt_of(Y(0)), 0.5, &half));
  TRY(aicc_grad_binary(c, "Div", c->dy[0], Y(0), &q));
  return aicc_grad_binary(c, "Mul", q, half, &c->dx[0]);
}

/* d tanh(x) = dy * (1 - y^2). */
aicc_status aicc_grad_Tanh(aicc_grad_ctx *c) {
  aicc_value *one, *y2, *d;
  TRY(aicc_grad_scalar(c, dt_of(Y(0)), 1.0, &one));
  TRY(aicc_grad_binary(c, "Mul", Y(0), Y(0), &y2));
  TRY(aicc_grad_binary(c, "Sub", one, y2, &d));
  return aicc_grad_binary(c, "Mul", c->dy[0], d, &c->dx[0]);
}

/* d sigmoid(x) = dy * y * (1 - y). */
aicc_status aicc_grad_Sigmoid(aicc_grad_ctx *c) {
  aicc_value *one, *om, *d, *p;
  TRY(aicc_grad_scalar(c, dt_of(Y(0)), 1.0, &one));
  TRY(aicc_grad_binary(c, "Sub", one, Y(0), &om));
  TRY(aicc_grad_binary(c, "Mul", Y(0), om, &d));
  TRY(aicc_grad_binary(c, "Mul", c->dy[0], d, &p));
  c->dx[0] = p;
  return NULL;
}

/* d relu(x) = dy where x > 0, else 0 (the subgradient 0 at x == 0, as the
 * frameworks choose). */
aicc_status aicc_grad_Relu(aicc_grad_ctx *c) {
  aicc_value *zero, *pos, *in[3];
  TRY(aicc_grad_scalar(c, dt_of(X(0)), 0.0, &zero));
  TRY(aicc_grad_binary(c, "Greater", X(0), zero, &pos));
  in[0] = pos, in[1] = c->dy[0], in[2] = zero;
  return aicc_grad_emit(c, "Where", in, 3, NULL, &c->dx[0], 1);
}

aicc_status aicc_grad_Identity(aicc_grad_ctx *c) {
  c->dx[0] = c->dy[0];
  return NULL;
}

/* Float to float: the gradient casts back to the input's type. A cast from
 * or to a non-float type carries no gradient. */
aicc_status aicc_grad_Cast(aicc_grad_ctx *c) {
  if (!aicc_dtype_is_float(dt_of(X(0))) || !aicc_dtype_is_float(dt_of(Y(0))))
    return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "Cast from %s to %s is not differentiable",
                           aicc_dtype_text(dt_of(X(0))), aicc_dtype_text(dt_of(Y(0))));
  if (dt_of(X(0)) == dt_of(Y(0))) {
    c->dx[0] = c->dy[0];
    return NULL;
  }
  aicc_grad_attr at[] = {AICC_GA_INT("to", dt_of(X(0))), {0}};
  return aicc_grad_emit(c, "Cast", c->dy, 1, at, &c->dx[0], 1);
}
