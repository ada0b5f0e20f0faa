/* Activation functions: Relu LeakyRelu PRelu Elu Selu Celu Sigmoid
 * HardSigmoid HardSwish Tanh Softplus Softsign Gelu Mish ThresholdedRelu
 * Swish Clip Shrink. Formulas follow the ONNX reference (onnx/reference/ops
 * and the function bodies in onnx/defs); f32 has inlined fast loops. */
#include "ops/util_ewise.h"

#include <math.h>
#include <string.h>

typedef struct act_params {
  double alpha, beta, gamma;
  bool tanh_approx;        /* Gelu approximate="tanh" */
  double lo, hi;           /* Clip bounds (float dtypes) */
  int64_t ilo, ihi;        /* Clip bounds (signed ints) */
  uint64_t ulo, uhi;       /* Clip bounds (unsigned ints) */
} act_params;

typedef struct act_def {
  double (*f)(double, const act_params *);
  int64_t (*i)(int64_t, const act_params *); /* NULL: ints not allowed */
  void (*f32)(const float *, float *, int64_t, const act_params *);
  bool (*ok)(aicc_dtype);
} act_def;

typedef struct act_call {
  const act_def *d;
  const act_params *p;
} act_call;

static aicc_ew_val act_apply(aicc_ew_val x, aicc_ew_cls cls, const void *ud) {
  const act_call *k = ud;
  aicc_ew_val r;
  if (cls == AICC_EW_F) r.f = k->d->f(x.f, k->p);
  else r.i = k->d->i(x.i, k->p);
  return r;
}

static void act_f32(const float *x, float *y, int64_t n, const void *ud) {
  const act_call *k = ud;
  k->d->f32(x, y, n, k->p);
}

static aicc_status act_run(aicc_kernel_ctx *c, const act_def *d, const act_params *p) {
  AICC_TRY(aicc_ew_check_input(c, 0, d->ok));
  const aicc_tensor *x = c->in[0];
  aicc_ew_cls cls = aicc_ew_cls_of(x->dtype);
  if (cls != AICC_EW_F && !d->i)
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "dtype %s not supported",
                             aicc_dtype_text(x->dtype));
  act_call k = {d, p};
  return aicc_ew_unary(c, x, cls, x->dtype, cls, act_apply, d->f32 ? act_f32 : NULL, &k,
                       &c->out[0]);
}

#define F32_ACT(name, expr)                                                    \
  static void name##_f32(const float *x, float *y, int64_t n, const act_params *p) { \
    (void)p;                                                                   \
    for (int64_t k = 0; k < n; k++) {                                          \
      float v = x[k];                                                          \
      y[k] = (expr);                                                           \
    }                                                                          \
  }

/* ---- scalar definitions (double) ---- */

static double f_relu(double x, const act_params *p) { (void)p; return x > 0 || isnan(x) ? x : 0.0; }
static int64_t i_relu(int64_t x, const act_params *p) { (void)p; return x > 0 ? x : 0; }
static double f_leaky(double x, const act_params *p) { return x > 0 ? x : x * p->alpha; }
static double f_elu(double x, const act_params *p) { return x > 0 ? x : p->alpha * expm1(x); }
static double f_selu(double x, const act_params *p) {
  return (x > 0 ? x : p->alpha * expm1(x)) * p->gamma;
}
static double f_celu(double x, const act_params *p) {
  return fmax(0.0, x) + fmin(0.0, p->alpha * expm1(x / p->alpha));
}
static double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + exp(-x));
  double e = exp(x);
  return e / (1.0 + e);
}
static double f_sigmoid(double x, const act_params *p) { (void)p; return sigmoid(x); }
static double clamp01(double v) { return v < 0 ? 0 : v > 1 ? 1 : v; }
static double f_hsigmoid(double x, const act_params *p) { return clamp01(p->alpha * x + p->beta); }
static double f_hswish(double x, const act_params *p) { (void)p; return x * clamp01(x / 6.0 + 0.5); }
static double f_tanh(double x, const act_params *p) { (void)p; return tanh(x); }
/* log(1 + e^x) without overflow (numpy.logaddexp(0, x)) */
static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static double f_softplus(double x, const act_params *p) { (void)p; return softplus(x); }
static double f_softsign(double x, const act_params *p) { (void)p; return x / (1.0 + fabs(x)); }
static double f_gelu(double x, const act_params *p) {
  if (p->tanh_approx)
    return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
  return 0.5 * x * (1.0 + erf(x / M_SQRT2));
}
static double f_mish(double x, const act_params *p) { (void)p; return x * tanh(softplus(x)); }
static double f_thrrelu(double x, const act_params *p) { return x > p->alpha ? x : 0.0; }
static double f_swish(double x, const act_params *p) { return x * sigmoid(p->alpha * x); }
/* Shrink: ints compute in double like the reference, then truncate. */
static double f_shrink(double x, const act_params *p) {
  return x < -p->gamma ? x + p->beta : x > p->gamma ? x - p->beta : 0.0;
}
static double f_clip(double x, const act_params *p) {
  if (x < p->lo) x = p->lo;
  if (x > p->hi) x = p->hi;
  return x;
}
static int64_t i_clip(int64_t x, const act_params *p) {
  if (x < p->ilo) x = p->ilo;
  if (x > p->ihi) x = p->ihi;
  return x;
}

/* ---- f32 loops ---- */

static inline float sigmoidf_(float v) {
  if (v >= 0) return 1.0f / (1.0f + expf(-v));
  float e = expf(v);
  return e / (1.0f + e);
}
static inline float softplusf_(float v) { return v > 0 ? v + log1pf(expf(-v)) : log1pf(expf(v)); }
static inline float clamp01f(float v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

F32_ACT(relu, v > 0 || v != v ? v : 0.0f)
F32_ACT(leaky, v > 0 ? v : v * (float)p->alpha)
F32_ACT(elu, v > 0 ? v : (float)p->alpha * expm1f(v))
F32_ACT(selu, (float)p->gamma * (v > 0 ? v : (float)p->alpha * expm1f(v)))
F32_ACT(sigmoid, sigmoidf_(v))
F32_ACT(hsigmoid, clamp01f((float)p->alpha * v + (float)p->beta))
F32_ACT(hswish, v * clamp01f(v / 6.0f + 0.5f))
F32_ACT(tanh, tanhf(v))
F32_ACT(softplus, softplusf_(v))
F32_ACT(softsign, v / (1.0f + fabsf(v)))
F32_ACT(mish, v * tanhf(softplusf_(v)))
F32_ACT(thrrelu, v > (float)p->alpha ? v : 0.0f)
F32_ACT(swish, v * sigmoidf_((float)p->alpha * v))

static void gelu_f32(const float *x, float *y, int64_t n, const act_params *p) {
  if (p->tanh_approx) {
    const float k = 0.7978845608028654f; /* sqrt(2/pi) */
    for (int64_t i = 0; i < n; i++) {
      float v = x[i];
      y[i] = 0.5f * v * (1.0f + tanhf(k * (v + 0.044715f * v * v * v)));
    }
  } else {
    for (int64_t i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
  }
}

static void clip_f32(const float *x, float *y, int64_t n, const act_params *p) {
  float lo = (float)p->lo, hi = (float)p->hi;
  for (int64_t i = 0; i < n; i++) {
    float v = x[i];
    v = v < lo ? lo : v;
    y[i] = v > hi ? hi : v;
  }
}

/* Relu / Neg-like signed types: floats and signed ints. */
static bool relu_ok(aicc_dtype dt) { return aicc_ew_dt_signed(dt); }

static const act_def relu_def = {f_relu, i_relu, relu_f32, relu_ok};
static const act_def leaky_def = {f_leaky, NULL, leaky_f32, aicc_ew_dt_float};
static const act_def elu_def = {f_elu, NULL, elu_f32, aicc_ew_dt_float};
static const act_def selu_def = {f_selu, NULL, selu_f32, aicc_ew_dt_float};
static const act_def celu_def = {f_celu, NULL, NULL, aicc_ew_dt_float};
static const act_def sigmoid_def = {f_sigmoid, NULL, sigmoid_f32, aicc_ew_dt_float};
static const act_def hsigmoid_def = {f_hsigmoid, NULL, hsigmoid_f32, aicc_ew_dt_float};
static const act_def hswish_def = {f_hswish, NULL, hswish_f32, aicc_ew_dt_float};
static const act_def tanh_def = {f_tanh, NULL, tanh_f32, aicc_ew_dt_float};
static const act_def softplus_def = {f_softplus, NULL, softplus_f32, aicc_ew_dt_float};
static const act_def softsign_def = {f_softsign, NULL, softsign_f32, aicc_ew_dt_float};
static const act_def gelu_def = {f_gelu, NULL, gelu_f32, aicc_ew_dt_float};
static const act_def mish_def = {f_mish, NULL, mish_f32, aicc_ew_dt_float};
static const act_def thrrelu_def = {f_thrrelu, NULL, thrrelu_f32, aicc_ew_dt_float};
static const act_def swish_def = {f_swish, NULL, swish_f32, aicc_ew_dt_float};

static double attr_f(const aicc_kernel_ctx *c, const char *name, float dflt) {
  return (double)aicc_node_attr_float(c->node, name, dflt);
}

static aicc_status relu_kernel(aicc_kernel_ctx *c) {
  act_params p = {0};
  return act_run(c, &relu_def, &p);
}
static aicc_status leaky_kernel(aicc_kernel_ctx *c) {
  act_params p = {.alpha = attr_f(c, "alpha", 0.01f)};
  return act_run(c, &leaky_def, &p);
}
static aicc_status elu_kernel(aicc_kernel_ctx *c) {
  act_params p = {.alpha = attr_f(c, "alpha", 1.0f)};
  return act_run(c, &elu_def, &p);
}
static aicc_status selu_kernel(aicc_kernel_ctx *c) {
  act_params p = {.alpha = attr_f(c, "alpha", 1.67326319217681884765625f),
                  .gamma = attr_f(c, "gamma", 1.05070102214813232421875f)};
  return act_run(c, &selu_def, &p);
}
static aicc_status celu_kernel(aicc_kernel_ctx *c) {
  act_params p = {.alpha = attr_f(c, "alpha", 1.0f)};
  return act_run(c, &celu_def, &p);
}
static aicc_status sigmoid_kernel(aicc_kernel_ctx *c) {
  act_params p = {0};
  return act_run(c, &sigmoid_def, &p);
}
static aicc_status hsigmoid_kernel(aicc_kernel_ctx *c) {
  act_params p = {.alpha = attr_f(c, "alpha", 0.2f), .beta = attr_f(c, "beta", 0.5f)};
  return act_run(c, &hsigmoid_def, &p);
}
static aicc_status hswish_kernel(aicc_kernel_ctx *c) {
  act_params p = {0};
  return act_run(c, &hswish_def, &p);
}
static aicc_status tanh_kernel(aicc_kernel_ctx *c) {
  act_params p = {0};
  return act_run(c, &tanh_def, &p);
}
static aicc_status softplus_kernel(aicc_kernel_ctx *c) {
  act_params p = {0};
  return act_run(c, &softplus_def, &p);
}
static aicc_status softsign_kernel(aicc_kernel_ctx *c) {
  act_params p = {0};
  return act_run(c, &softsign_def, &p);
}
static aicc_status gelu_kernel(aicc_kernel_ctx *c) {
  const char *a = aicc_node_attr_string(c->node, "approximate", "none");
  act_params p = {.tanh_approx = strcmp(a, "tanh") == 0};
  if (!p.tanh_approx && strcmp(a, "none") != 0)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "approximate must be none or tanh, got '%s'", a);
  return act_run(c, &gelu_def, &p);
}
static aicc_status mish_kernel(aicc_kernel_ctx *c) {
  act_params p = {0};
  return act_run(c, &mish_def, &p);
}
static aicc_status thrrelu_kernel(aicc_kernel_ctx *c) {
  act_params p = {.alpha = attr_f(c, "alpha", 1.0f)};
  return act_run(c, &thrrelu_def, &p);
}
static aicc_status swish_kernel(aicc_kernel_ctx *c) {
  act_params p = {.alpha = attr_f(c, "alpha", 1.0f)};
  return act_run(c, &swish_def, &p);
}

/* Shrink accepts ints too; it computes in double (beta = bias, gamma = lambd). */
static aicc_ew_val shrink_apply(aicc_ew_val x, aicc_ew_cls cls, const void *ud) {
  (void)cls;
  return (aicc_ew_val){.f = f_shrink(x.f, ud)};
}
static aicc_status shrink_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_ew_check_input(c, 0, aicc_ew_dt_number));
  act_params p = {.beta = attr_f(c, "bias", 0.0f), .gamma = attr_f(c, "lambd", 0.5f)};
  return aicc_ew_unary(c, c->in[0], AICC_EW_F, c->in[0]->dtype, AICC_EW_F, shrink_apply, NULL,
                       &p, &c->out[0]);
}

/* ---- Clip: attributes before opset 11, optional scalar inputs after ---- */

static aicc_ew_val clip_apply(aicc_ew_val x, aicc_ew_cls cls, const void *ud) {
  const act_params *p = ud;
  aicc_ew_val r = x;
  if (cls == AICC_EW_F) {
    r.f = f_clip(x.f, p);
  } else if (cls == AICC_EW_I) {
    r.i = i_clip(x.i, p);
  } else {
    if (r.u < p->ulo) r.u = p->ulo;
    if (r.u > p->uhi) r.u = p->uhi;
  }
  return r;
}
static void clip_f32_ud(const float *x, float *y, int64_t n, const void *ud) {
  clip_f32(x, y, n, ud);
}

static aicc_status clip_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_ew_check_input(c, 0, aicc_ew_dt_number));
  const aicc_tensor *x = c->in[0];
  aicc_ew_cls cls = aicc_ew_cls_of(x->dtype);
  act_params p = {.lo = -INFINITY, .hi = INFINITY, .ilo = INT64_MIN, .ihi = INT64_MAX,
                  .ulo = 0, .uhi = UINT64_MAX};
  if (c->opset < 11) {
    p.lo = attr_f(c, "min", -INFINITY);
    p.hi = attr_f(c, "max", INFINITY);
  } else {
    for (int k = 1; k < 3 && k < c->n_in; k++) {
      const aicc_tensor *b = c->in[k];
      if (!b) continue;
      if (b->kind != AICC_KIND_TENSOR || b->dtype != x->dtype)
        return aicc_kernel_error(c, AICC_ERR_SHAPE, "input %d must be a %s tensor", k,
                                 aicc_dtype_text(x->dtype));
      int64_t n = aicc_tensor_numel(b);
      if (n == 0) continue; /* an empty bound means "no bound" */
      if (n != 1)
        return aicc_kernel_error(c, AICC_ERR_SHAPE, "input %d must be a scalar", k);
      /* only the view matching cls is meaningful (the others alias it) */
      aicc_ew_val v = aicc_ew_load(b, 0, cls);
      if (k == 1) {
        p.lo = v.f, p.ilo = v.i, p.ulo = v.u;
      } else {
        p.hi = v.f, p.ihi = v.i, p.uhi = v.u;
      }
    }
  }
  return aicc_ew_unary(c, x, cls, x->dtype, cls, clip_apply, clip_f32_ud, &p, &c->out[0]);
}

/* ---- PRelu: slope broadcasts to X (unidirectionally) ---- */

static aicc_ew_val prelu_apply(aicc_ew_val a, aicc_ew_val b, aicc_ew_cls cls, const void *ud) {
  (void)ud;
  aicc_ew_val r;
  if (cls == AICC_EW_F) r.f = a.f > 0 ? a.f : a.f * b.f;
  else if (cls == AICC_EW_I) r.i = a.i > 0 ? a.i : (int64_t)((uint64_t)a.i * (uint64_t)b.i);
  else r.u = a.u; /* unsigned values are never negative */
  return r;
}

static void prelu_f32(const float *a, int64_t sa, const float *b, int64_t sb, float *y,
                      int64_t n) {
  for (int64_t k = 0; k < n; k++) {
    float x = a[k * sa], s = b[k * sb];
    y[k] = x > 0 ? x : x * s;
  }
}

static bool prelu_ok(aicc_dtype dt) {
  return aicc_ew_dt_float(dt) || dt == AICC_DTYPE_I32 || dt == AICC_DTYPE_I64 ||
         dt == AICC_DTYPE_U32 || dt == AICC_DTYPE_U64;
}

static aicc_status prelu_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_ew_check_input(c, 0, prelu_ok));
  AICC_TRY(aicc_ew_check_input(c, 1, prelu_ok));
  const aicc_tensor *x = c->in[0], *s = c->in[1];
  if (s->dtype != x->dtype)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "slope is %s, X is %s",
                             aicc_dtype_text(s->dtype), aicc_dtype_text(x->dtype));
  aicc_ew_cls cls = aicc_ew_cls_of(x->dtype);
  aicc_tensor *y = NULL;
  AICC_TRY(aicc_ew_binary(c, x, s, cls, x->dtype, cls, prelu_apply, prelu_f32, NULL, &y));
  if (y->rank != x->rank || memcmp(y->dims, x->dims, sizeof(int64_t) * (size_t)x->rank)) {
    aicc_tensor_release(y);
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "slope does not broadcast to X's shape");
  }
  c->out[0] = y;
  return NULL;
}

static const aicc_attr_spec legacy_attrs[] = {AICC_A_INTS("consumed_inputs"), AICC_A_END};
static const aicc_attr_spec alpha_attrs[] = {AICC_A_FLOAT("alpha"),
                                             AICC_A_INTS("consumed_inputs"), AICC_A_END};
static const aicc_attr_spec selu_attrs[] = {AICC_A_FLOAT("alpha"), AICC_A_FLOAT("gamma"),
                                            AICC_A_INTS("consumed_inputs"), AICC_A_END};
static const aicc_attr_spec hsig_attrs[] = {AICC_A_FLOAT("alpha"), AICC_A_FLOAT("beta"),
                                            AICC_A_INTS("consumed_inputs"), AICC_A_END};
static const aicc_attr_spec gelu_attrs[] = {AICC_A_STRING("approximate"), AICC_A_END};
static const aicc_attr_spec shrink_attrs[] = {AICC_A_FLOAT("bias"), AICC_A_FLOAT("lambd"),
                                              AICC_A_END};
static const aicc_attr_spec clip_attrs[] = {AICC_A_FLOAT("min"), AICC_A_FLOAT("max"),
                                            AICC_A_INTS("consumed_inputs"), AICC_A_END};

#define SAME aicc_infer_same_as_input
static const aicc_op ops[] = {
    /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
    {"Relu", "", 1, 0, 1, 1, 1, 1, legacy_attrs, SAME, relu_kernel},
    {"LeakyRelu", "", 1, 0, 1, 1, 1, 1, alpha_attrs, SAME, leaky_kernel},
    {"PRelu", "", 7, 0, 2, 2, 1, 1, NULL, SAME, prelu_kernel},
    {"Elu", "", 1, 0, 1, 1, 1, 1, alpha_attrs, SAME, elu_kernel},
    {"Selu", "", 1, 0, 1, 1, 1, 1, selu_attrs, SAME, selu_kernel},
    {"Celu", "", 12, 0, 1, 1, 1, 1, alpha_attrs, SAME, celu_kernel},
    {"Sigmoid", "", 1, 0, 1, 1, 1, 1, legacy_attrs, SAME, sigmoid_kernel},
    {"HardSigmoid", "", 1, 0, 1, 1, 1, 1, hsig_attrs, SAME, hsigmoid_kernel},
    {"HardSwish", "", 14, 0, 1, 1, 1, 1, NULL, SAME, hswish_kernel},
    {"Tanh", "", 1, 0, 1, 1, 1, 1, legacy_attrs, SAME, tanh_kernel},
    {"Softplus", "", 1, 0, 1, 1, 1, 1, NULL, SAME, softplus_kernel},
    {"Softsign", "", 1, 0, 1, 1, 1, 1, NULL, SAME, softsign_kernel},
    {"Gelu", "", 20, 0, 1, 1, 1, 1, gelu_attrs, SAME, gelu_kernel},
    {"Mish", "", 18, 0, 1, 1, 1, 1, NULL, SAME, mish_kernel},
    {"ThresholdedRelu", "", 10, 0, 1, 1, 1, 1, alpha_attrs, SAME, thrrelu_kernel},
    {"Swish", "", 24, 0, 1, 1, 1, 1, alpha_attrs, SAME, swish_kernel},
    {"Clip", "", 1, 0, 1, 3, 1, 1, clip_attrs, SAME, clip_kernel},
    {"Shrink", "", 9, 0, 1, 1, 1, 1, shrink_attrs, SAME, shrink_kernel},
};
const aicc_op_family aicc_family_activation = {"activation", ops, sizeof ops / sizeof ops[0]};
