/* Compute definitions of the activation functions (Relu ... Swish, Clip,
 * Shrink, PRelu): one elementwise stage each, with the formulas and NaN
 * behaviour of the reference kernels in src/ops/activation.c. Attributes
 * become constants of the operand dtype (f32 attributes are exact in it). */
#include "ops/lower/ewise.h"

#include <math.h>
#include <string.h>

typedef const aicc_loop_expr *ex;

#define BIN(op, a, b) aicc_loop_binary(lc, AICC_LOOP_##op, (a), (b))
#define SEL(q, a, b) aicc_loop_select(lc, (q), (a), (b))
#define CALL1(name, a) aicc_loop_call(lc, (name), 1, (const aicc_loop_expr *const[]){(a)})
#define K(v) aicc_lower_const(e->c, e->t, (v))
/* The usual prologue of a body: the ctx, and x as the one operand. */
#define BODY_VARS                                                              \
  aicc_loop_ctx *lc = e->lc;                                                   \
  ex v = x[0];                                                                 \
  (void)lc

static double attr(const aicc_lower_ew *e, const char *name, float dflt) {
  return (double)aicc_node_attr_float(e->c->node, name, dflt);
}

/* v < 0 ? 0 : v > 1 ? 1 : v (NaN stays NaN, unlike fmin/fmax) */
static ex clamp01(const aicc_lower_ew *e, ex v) {
  aicc_loop_ctx *lc = e->lc;
  return SEL(BIN(LT, v, K(0)), K(0), SEL(BIN(GT, v, K(1)), K(1), v));
}

/* log(1 + e^v) without overflow: max(v, 0) + log1p(exp(-|v|)) */
static ex softplus(const aicc_lower_ew *e, ex v) {
  aicc_loop_ctx *lc = e->lc;
  ex m = BIN(SUB, K(0), CALL1("abs", v));
  return BIN(ADD, BIN(MAX, v, K(0)), CALL1("log1p", CALL1("exp", m)));
}

static ex expm1_times(const aicc_lower_ew *e, double alpha, ex v) {
  aicc_loop_ctx *lc = e->lc;
  return BIN(MUL, K(alpha), CALL1("expm1", v));
}

static ex a_relu(const aicc_lower_ew *e, const ex *x) {
  BODY_VARS;
  if (!aicc_lower_ew_is_float(e->t)) return BIN(MAX, v, K(0));
  return SEL(BIN(LE, v, K(0)), K(0), v); /* NaN passes through */
}

static ex a_leaky(const aicc_lower_ew *e, const ex *x) {
  BODY_VARS;
  return SEL(BIN(GT, v, K(0)), v, BIN(MUL, v, K(attr(e, "alpha", 0.01f))));
}

static ex a_elu(const aicc_lower_ew *e, const ex *x) {
  BODY_VARS;
  return SEL(BIN(GT, v, K(0)), v, expm1_times(e, attr(e, "alpha", 1.0f), v));
}

static ex a_selu(const aicc_lower_ew *e, const ex *x) {
  BODY_VARS;
  double alpha = attr(e, "alpha", 1.67326319217681884765625f);
  double gamma = attr(e, "gamma", 1.05070102214813232421875f);
  return BIN(MUL, K(gamma), SEL(BIN(GT, v, K(0)), v, expm1_times(e, alpha, v)));
}

/* max(0, x) + min(0, alpha * expm1(x / alpha)), with the reference's fmax /
 * fmin (the IR's min and max). */
static ex a_celu(const aicc_lower_ew *e, const ex *x) {
  BODY_VARS;
  double alpha = attr(e, "alpha", 1.0f);
  ex neg = expm1_times(e, alpha, BIN(DIV, v, K(alpha)));
  return BIN(ADD, BIN(MAX, K(0), v), BIN(MIN, K(0), neg));
}

static ex a_sigmoid(const aicc_lower_ew *e, const ex *x) {
  BODY_VARS;
  return CALL1("sigmoid", v);
}

static ex a_hard_sigmoid(const aicc_lower_ew *e, const ex *x) {
  BODY_VARS;
  ex y = BIN(ADD, BIN(MUL, K(attr(e, "alpha", 0.2f)), v), K(attr(e, "beta", 0.5f)));
  return clamp01(e, y);
}

static ex a_hard_swish(const aicc_lower_ew *e, const ex *x) {
  BODY_VARS;
  return BIN(MUL, v, clamp01(e, BIN(ADD, BIN(DIV, v, K(6)), K(0.5))));
}

static ex a_tanh(const aicc_lower_ew *e, const ex *x) {
  BODY_VARS;
  return CALL1("tanh", v);
}

static ex a_softplus(const aicc_lower_ew *e, const ex *x) { return softplus(e, x[0]); }

static ex a_softsign(const aicc_lower_ew *e, const ex *x) {
  BODY_VARS;
  return BIN(DIV, v, BIN(ADD, K(1), CALL1("abs", v)));
}

/* Gelu: 0.5 x (1 + erf(x / sqrt 2)), or with approximate="tanh"
 * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
static ex a_gelu(const aicc_lower_ew *e, const ex *x) {
  BODY_VARS;
  bool approx = *(const bool *)e->p;
  ex inner;
  if (approx) {
    ex cube = BIN(MUL, BIN(MUL, BIN(MUL, K(0.044715), v), v), v);
    inner = CALL1("tanh", BIN(MUL, K(sqrt(2.0 / M_PI)), BIN(ADD, v, cube)));
  } else if (e->t == AICC_DTYPE_F32) { /* the reference's f32 and f64 spellings */
    inner = CALL1("erf", BIN(MUL, v, K(M_SQRT1_2)));
  } else {
    inner = CALL1("erf", BIN(DIV, v, K(M_SQRT2)));
  }
  return BIN(MUL, BIN(MUL, K(0.5), v), BIN(ADD, K(1), inner));
}

static ex a_mish(const aicc_lower_ew *e, const ex *x) {
  BODY_VARS;
  return BIN(MUL, v, CALL1("tanh", softplus(e, v)));
}

static ex a_thresholded_relu(const aicc_lower_ew *e, const ex *x) {
  BODY_VARS;
  return SEL(BIN(GT, v, K(attr(e, "alpha", 1.0f))), v, K(0));
}

static ex a_swish(const aicc_lower_ew *e, const ex *x) {
  BODY_VARS;
  return BIN(MUL, v, CALL1("sigmoid", BIN(MUL, K(attr(e, "alpha", 1.0f)), v)));
}

/* Shrink computes in double for every dtype (ints convert back exactly as
 * the reference's store does); f32 arithmetic rounds the same. */
static ex a_shrink(const aicc_lower_ew *e, const ex *x) {
  aicc_loop_ctx *lc = e->lc;
  bool is_float = aicc_lower_ew_is_float(e->t);
  ex v = is_float ? x[0] : aicc_lower_ew_convert(lc, x[0], AICC_DTYPE_F64);
  aicc_lower_ew f = *e;
  if (!is_float) f.t = AICC_DTYPE_F64;
  e = &f;
  double bias = attr(e, "bias", 0.0f), lambd = attr(e, "lambd", 0.5f);
  ex y = SEL(BIN(LT, v, K(-lambd)), BIN(ADD, v, K(bias)),
             SEL(BIN(GT, v, K(lambd)), BIN(SUB, v, K(bias)), K(0)));
  return is_float ? y : aicc_lower_ew_convert(lc, y, e->c->in[0]->type);
}

/* PRelu: the slope broadcasts to X (unsigned X is never negative, and
 * x > 0 ? x : x * s gives 0 at 0 either way). */
static ex a_prelu(const aicc_lower_ew *e, const ex *x) {
  aicc_loop_ctx *lc = e->lc;
  return SEL(BIN(GT, x[0], K(0)), x[0], BIN(MUL, x[0], x[1]));
}

typedef struct act_row {
  const char *op;
  aicc_lower_ew_body body;
  bool (*ok)(aicc_dtype);
} act_row;

static const act_row act_rows[] = {
    {"Relu", a_relu, aicc_lower_ew_is_signed},
    {"LeakyRelu", a_leaky, aicc_lower_ew_is_float},
    {"Elu", a_elu, aicc_lower_ew_is_float},
    {"Selu", a_selu, aicc_lower_ew_is_float},
    {"Celu", a_celu, aicc_lower_ew_is_float},
    {"Sigmoid", a_sigmoid, aicc_lower_ew_is_float},
    {"HardSigmoid", a_hard_sigmoid, aicc_lower_ew_is_float},
    {"HardSwish", a_hard_swish, aicc_lower_ew_is_float},
    {"Tanh", a_tanh, aicc_lower_ew_is_float},
    {"Softplus", a_softplus, aicc_lower_ew_is_float},
    {"Softsign", a_softsign, aicc_lower_ew_is_float},
    {"Mish", a_mish, aicc_lower_ew_is_float},
    {"ThresholdedRelu", a_thresholded_relu, aicc_lower_ew_is_float},
    {"Swish", a_swish, aicc_lower_ew_is_float},
    {"Shrink", a_shrink, aicc_lower_ew_is_number},
};

static aicc_status lower_act(aicc_lower_ctx *c) {
  for (size_t i = 0; i < sizeof act_rows / sizeof act_rows[0]; i++) {
    const act_row *r = &act_rows[i];
    if (strcmp(r->op, c->node->op_type) == 0)
      return aicc_lower_ew_map(c, 1, r->ok, false, r->body, r);
  }
  return aicc_lower_unsupported(c, "no activation row");
}

static aicc_status lower_gelu(aicc_lower_ctx *c) {
  const char *a = aicc_node_attr_string(c->node, "approximate", "none");
  bool approx = strcmp(a, "tanh") == 0;
  if (!approx && strcmp(a, "none") != 0) return aicc_lower_unsupported(c, "approximate '%s'", a);
  return aicc_lower_ew_map(c, 1, aicc_lower_ew_is_float, false, a_gelu, &approx);
}

static bool prelu_ok(aicc_dtype t) {
  return aicc_lower_ew_is_float(t) || t == AICC_DTYPE_I32 || t == AICC_DTYPE_I64 ||
         t == AICC_DTYPE_U32 || t == AICC_DTYPE_U64;
}

static aicc_status lower_prelu(aicc_lower_ctx *c) {
  const aicc_loop_buffer *x = c->in[0], *y = c->out[0];
  if (x && y) { /* the output must have X's shape (slope broadcasts to X) */
    bool same = x->rank == y->rank;
    for (int i = 0; same && i < x->rank; i++) same = aicc_lower_dim(x, i) == aicc_lower_dim(y, i);
    if (!same) return aicc_lower_unsupported(c, "slope does not broadcast to X");
  }
  return aicc_lower_ew_map(c, 2, prelu_ok, false, a_prelu, NULL);
}

/* ---- Clip: attribute bounds before opset 11, scalar inputs after ---- */

typedef struct clip_bounds {
  ex lo, hi; /* NULL: unbounded */
} clip_bounds;

static ex a_clip(const aicc_lower_ew *e, const ex *x) {
  aicc_loop_ctx *lc = e->lc;
  const clip_bounds *b = e->p;
  ex v = x[0];
  if (b->lo) v = SEL(BIN(LT, v, b->lo), b->lo, v);
  if (b->hi) v = SEL(BIN(GT, v, b->hi), b->hi, v);
  return v;
}

/* Bound input k: its constant value when known, else a load of its one
 * element; NULL in *out when absent or empty (no bound). */
static aicc_status clip_bound(aicc_lower_ctx *c, int k, ex *out) {
  *out = NULL;
  const aicc_loop_buffer *b = k < c->n_in ? c->in[k] : NULL;
  if (!b) return NULL;
  if (b->type != c->in[0]->type)
    return aicc_lower_unsupported(c, "bound %d is %s, X is %s", k, aicc_dtype_text(b->type),
                                  aicc_dtype_text(c->in[0]->type));
  int64_t n = 1;
  for (int i = 0; i < b->rank; i++) n *= aicc_lower_dim(b, i);
  if (n == 0) return NULL;
  if (n != 1) return aicc_lower_unsupported(c, "bound %d is not a scalar", k);
  const aicc_tensor *t = c->cin[k];
  if (t && aicc_lower_ew_is_float(b->type)) {
    *out = aicc_loop_float(c->lc, b->type, aicc_tensor_get_f64(t, 0));
  } else if (t) {
    *out = aicc_loop_int(c->lc, b->type, aicc_tensor_get_i64(t, 0));
  } else {
    const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK];
    for (int i = 0; i < b->rank; i++) idx[i] = aicc_lower_i32(c, 0);
    *out = aicc_loop_load(c->lc, b, idx);
  }
  return *out ? NULL : aicc_errorf(AICC_ERR_NOMEM, "out of memory");
}

static aicc_status lower_clip(aicc_lower_ctx *c) {
  if (!c->in[0]) return aicc_lower_unsupported(c, "missing input");
  aicc_dtype t = c->in[0]->type;
  clip_bounds b = {NULL, NULL};
  if (c->opset < 11) {
    /* the reference applies attribute bounds to floats only */
    if (!aicc_lower_ew_is_float(t)) return aicc_lower_unsupported(c, "dtype %s", aicc_dtype_text(t));
    const aicc_attr *lo = aicc_node_attr(c->node, "min"), *hi = aicc_node_attr(c->node, "max");
    if (lo) b.lo = aicc_loop_float(c->lc, t, (double)aicc_node_attr_float(c->node, "min", 0));
    if (hi) b.hi = aicc_loop_float(c->lc, t, (double)aicc_node_attr_float(c->node, "max", 0));
  } else {
    if (aicc_lower_dtype_ok(t)) {
      AICC_TRY(clip_bound(c, 1, &b.lo));
      AICC_TRY(clip_bound(c, 2, &b.hi));
    }
  }
  return aicc_lower_ew_map(c, 1, aicc_lower_ew_is_number, false, a_clip, &b);
}

static const aicc_lower_row rows[] = {
    {"", "Relu", lower_act},        {"", "LeakyRelu", lower_act},
    {"", "Elu", lower_act},         {"", "Selu", lower_act},
    {"", "Celu", lower_act},        {"", "Sigmoid", lower_act},
    {"", "HardSigmoid", lower_act}, {"", "HardSwish", lower_act},
    {"", "Tanh", lower_act},        {"", "Softplus", lower_act},
    {"", "Softsign", lower_act},    {"", "Mish", lower_act},
    {"", "ThresholdedRelu", lower_act}, {"", "Swish", lower_act},
    {"", "Shrink", lower_act},      {"", "Gelu", lower_gelu},
    {"", "PRelu", lower_prelu},     {"", "Clip", lower_clip},
};

const aicc_lower_table aicc_lower_activation = {"activation", rows, sizeof rows / sizeof rows[0]};
