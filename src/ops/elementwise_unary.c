/* Unary elementwise math: Abs Neg Reciprocal Floor Ceil Round Sign Sqrt Exp
 * Log, the trigonometric and hyperbolic functions, Erf, IsNaN IsInf, Not and
 * BitwiseNot. Floats compute in double (f32 with an f32 fast path), integers
 * in 64 bits and wrap on store. Activations live in activation.c. */
#include "ops/util_ewise.h"

#include <math.h>

typedef struct unary_def {
  double (*f)(double);     /* float math; NULL: floats not allowed */
  int64_t (*i)(int64_t);   /* signed ints and bool; NULL: not allowed */
  uint64_t (*u)(uint64_t); /* unsigned ints; NULL: not allowed */
  aicc_ew_f32_unop f32;    /* fast path, may be NULL */
  bool (*ok)(aicc_dtype);  /* accepted input dtypes */
} unary_def;

static aicc_ew_val unary_apply(aicc_ew_val x, aicc_ew_cls cls, const void *ud) {
  const unary_def *d = ud;
  aicc_ew_val r;
  switch (cls) {
  case AICC_EW_F: r.f = d->f(x.f); break;
  case AICC_EW_I: r.i = d->i(x.i); break;
  default: r.u = d->u(x.u); break;
  }
  return r;
}

static aicc_status run_unary(aicc_kernel_ctx *c, const unary_def *d) {
  AICC_TRY(aicc_ew_check_input(c, 0, d->ok));
  const aicc_tensor *x = c->in[0];
  aicc_ew_cls cls = aicc_ew_cls_of(x->dtype);
  if ((cls == AICC_EW_F && !d->f) || (cls == AICC_EW_I && !d->i) || (cls == AICC_EW_U && !d->u))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "dtype %s not supported",
                             aicc_dtype_text(x->dtype));
  return aicc_ew_unary(c, x, cls, x->dtype, cls, unary_apply, d->f32, d, &c->out[0]);
}

/* f32 loops with the expression inlined, so the compiler can vectorize. */
#define F32_LOOP(name, expr)                                                   \
  static void name##_f32(const float *x, float *y, int64_t n, const void *ud) { \
    (void)ud;                                                                  \
    for (int64_t k = 0; k < n; k++) {                                          \
      float v = x[k];                                                          \
      y[k] = (expr);                                                           \
    }                                                                          \
  }

/* ---- scalar functions ---- */

static double f_neg(double x) { return -x; }
static double f_recip(double x) { return 1.0 / x; }
static double f_sign(double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : x; }
/* Round half to even (numpy.round), whatever the current rounding mode. */
static double f_round(double x) {
  double r = round(x);
  if (fabs(x - trunc(x)) == 0.5) r = 2.0 * round(x / 2.0);
  return r;
}
static float f32_round(float x) { return (float)f_round(x); }

static int64_t i_abs(int64_t x) { return x < 0 ? (int64_t)(0 - (uint64_t)x) : x; }
static uint64_t u_id(uint64_t x) { return x; }
static int64_t i_neg(int64_t x) { return (int64_t)(0 - (uint64_t)x); }
static int64_t i_sign(int64_t x) { return (x > 0) - (x < 0); }
static uint64_t u_sign(uint64_t x) { return x != 0; }
static int64_t i_not(int64_t x) { return !x; }
static int64_t i_bnot(int64_t x) { return ~x; }
static uint64_t u_bnot(uint64_t x) { return ~x; }

F32_LOOP(abs, fabsf(v))
F32_LOOP(neg, -v)
F32_LOOP(recip, 1.0f / v)
F32_LOOP(floor, floorf(v))
F32_LOOP(ceil, ceilf(v))
F32_LOOP(round, f32_round(v))
F32_LOOP(sign, v > 0 ? 1.0f : v < 0 ? -1.0f : v)
F32_LOOP(sqrt, sqrtf(v))
F32_LOOP(exp, expf(v))
F32_LOOP(log, logf(v))
F32_LOOP(sin, sinf(v))
F32_LOOP(cos, cosf(v))
F32_LOOP(tan, tanf(v))
F32_LOOP(asin, asinf(v))
F32_LOOP(acos, acosf(v))
F32_LOOP(atan, atanf(v))
F32_LOOP(sinh, sinhf(v))
F32_LOOP(cosh, coshf(v))
F32_LOOP(asinh, asinhf(v))
F32_LOOP(acosh, acoshf(v))
F32_LOOP(atanh, atanhf(v))
F32_LOOP(erf, erff(v))

#define FLOAT_OP(name, fn)                                                     \
  static const unary_def name##_def = {fn, NULL, NULL, name##_f32, aicc_ew_dt_float}; \
  static aicc_status name##_kernel(aicc_kernel_ctx *c) { return run_unary(c, &name##_def); }

FLOAT_OP(recip, f_recip)
FLOAT_OP(floor, floor)
FLOAT_OP(ceil, ceil)
FLOAT_OP(round, f_round)
FLOAT_OP(sqrt, sqrt)
FLOAT_OP(exp, exp)
FLOAT_OP(log, log)
FLOAT_OP(sin, sin)
FLOAT_OP(cos, cos)
FLOAT_OP(tan, tan)
FLOAT_OP(asin, asin)
FLOAT_OP(acos, acos)
FLOAT_OP(atan, atan)
FLOAT_OP(sinh, sinh)
FLOAT_OP(cosh, cosh)
FLOAT_OP(asinh, asinh)
FLOAT_OP(acosh, acosh)
FLOAT_OP(atanh, atanh)
FLOAT_OP(erf, erf)

static const unary_def abs_def = {fabs, i_abs, u_id, abs_f32, aicc_ew_dt_number};
static const unary_def neg_def = {f_neg, i_neg, NULL, neg_f32, aicc_ew_dt_signed};
static const unary_def sign_def = {f_sign, i_sign, u_sign, sign_f32, aicc_ew_dt_number};
static const unary_def not_def = {NULL, i_not, NULL, NULL, aicc_ew_dt_bool};
static const unary_def bnot_def = {NULL, i_bnot, u_bnot, NULL, aicc_ew_dt_int};

static aicc_status abs_kernel(aicc_kernel_ctx *c) { return run_unary(c, &abs_def); }
static aicc_status neg_kernel(aicc_kernel_ctx *c) { return run_unary(c, &neg_def); }
static aicc_status sign_kernel(aicc_kernel_ctx *c) { return run_unary(c, &sign_def); }
static aicc_status not_kernel(aicc_kernel_ctx *c) { return run_unary(c, &not_def); }
static aicc_status bnot_kernel(aicc_kernel_ctx *c) { return run_unary(c, &bnot_def); }

/* ---- IsNaN / IsInf: any float dtype (the float8 family included) to bool ---- */

typedef struct isinf_params {
  bool neg, pos;
} isinf_params;

static aicc_ew_val isnan_apply(aicc_ew_val x, aicc_ew_cls cls, const void *ud) {
  (void)cls, (void)ud;
  return (aicc_ew_val){.i = isnan(x.f) != 0};
}

static aicc_ew_val isinf_apply(aicc_ew_val x, aicc_ew_cls cls, const void *ud) {
  const isinf_params *p = ud;
  (void)cls;
  return (aicc_ew_val){.i = isinf(x.f) && (x.f > 0 ? p->pos : p->neg)};
}

static bool any_float(aicc_dtype dt) { return aicc_dtype_is_float(dt); }

static aicc_status isnan_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_ew_check_input(c, 0, any_float));
  return aicc_ew_unary(c, c->in[0], AICC_EW_F, AICC_DTYPE_BOOL, AICC_EW_I, isnan_apply,
                       NULL, NULL, &c->out[0]);
}

static aicc_status isinf_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_ew_check_input(c, 0, any_float));
  isinf_params p = {aicc_node_attr_int(c->node, "detect_negative", 1) != 0,
                    aicc_node_attr_int(c->node, "detect_positive", 1) != 0};
  return aicc_ew_unary(c, c->in[0], AICC_EW_F, AICC_DTYPE_BOOL, AICC_EW_I, isinf_apply,
                       NULL, &p, &c->out[0]);
}

static aicc_status infer_bool_same(aicc_infer_ctx *c) {
  if (!c->in[0]) return NULL;
  c->out[0] = *c->in[0];
  c->out[0].dtype = AICC_DTYPE_BOOL;
  return NULL;
}

/* Opset 1 rows carried a legacy `consumed_inputs` attribute; accept it. */
static const aicc_attr_spec legacy_attrs[] = {AICC_A_INTS("consumed_inputs"), AICC_A_END};
static const aicc_attr_spec isinf_attrs[] = {AICC_A_INT("detect_negative"),
                                             AICC_A_INT("detect_positive"), AICC_A_END};

#define SAME aicc_infer_same_as_input
static const aicc_op ops[] = {
    /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
    {"Abs", "", 1, 0, 1, 1, 1, 1, legacy_attrs, SAME, abs_kernel},
    {"Neg", "", 1, 0, 1, 1, 1, 1, legacy_attrs, SAME, neg_kernel},
    {"Reciprocal", "", 1, 0, 1, 1, 1, 1, legacy_attrs, SAME, recip_kernel},
    {"Floor", "", 1, 0, 1, 1, 1, 1, legacy_attrs, SAME, floor_kernel},
    {"Ceil", "", 1, 0, 1, 1, 1, 1, legacy_attrs, SAME, ceil_kernel},
    {"Round", "", 11, 0, 1, 1, 1, 1, NULL, SAME, round_kernel},
    {"Sign", "", 9, 0, 1, 1, 1, 1, NULL, SAME, sign_kernel},
    {"Sqrt", "", 1, 0, 1, 1, 1, 1, legacy_attrs, SAME, sqrt_kernel},
    {"Exp", "", 1, 0, 1, 1, 1, 1, legacy_attrs, SAME, exp_kernel},
    {"Log", "", 1, 0, 1, 1, 1, 1, legacy_attrs, SAME, log_kernel},
    {"Sin", "", 7, 0, 1, 1, 1, 1, NULL, SAME, sin_kernel},
    {"Cos", "", 7, 0, 1, 1, 1, 1, NULL, SAME, cos_kernel},
    {"Tan", "", 7, 0, 1, 1, 1, 1, NULL, SAME, tan_kernel},
    {"Asin", "", 7, 0, 1, 1, 1, 1, NULL, SAME, asin_kernel},
    {"Acos", "", 7, 0, 1, 1, 1, 1, NULL, SAME, acos_kernel},
    {"Atan", "", 7, 0, 1, 1, 1, 1, NULL, SAME, atan_kernel},
    {"Sinh", "", 9, 0, 1, 1, 1, 1, NULL, SAME, sinh_kernel},
    {"Cosh", "", 9, 0, 1, 1, 1, 1, NULL, SAME, cosh_kernel},
    {"Asinh", "", 9, 0, 1, 1, 1, 1, NULL, SAME, asinh_kernel},
    {"Acosh", "", 9, 0, 1, 1, 1, 1, NULL, SAME, acosh_kernel},
    {"Atanh", "", 9, 0, 1, 1, 1, 1, NULL, SAME, atanh_kernel},
    {"Erf", "", 9, 0, 1, 1, 1, 1, NULL, SAME, erf_kernel},
    {"IsNaN", "", 9, 0, 1, 1, 1, 1, NULL, infer_bool_same, isnan_kernel},
    {"IsInf", "", 10, 0, 1, 1, 1, 1, isinf_attrs, infer_bool_same, isinf_kernel},
    {"Not", "", 1, 0, 1, 1, 1, 1, NULL, SAME, not_kernel},
    {"BitwiseNot", "", 18, 0, 1, 1, 1, 1, NULL, SAME, bnot_kernel},
};
const aicc_op_family aicc_family_elementwise_unary = {"elementwise_unary", ops,
                                                      sizeof ops / sizeof ops[0]};
