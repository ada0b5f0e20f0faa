/* Binary and variadic elementwise ops with numpy broadcasting: arithmetic
 * (Add Sub Mul Div Pow Mod), logic (And Or Xor), comparisons, bitwise ops
 * and shifts, Sum Mean Max Min, and Where. Integer semantics follow the ONNX
 * reference: Div truncates (C), Mod is Python-style unless fmod=1. */
#include "ops/util_ewise.h"
#include "ops/util_elem.h"

#include <math.h>
#include <string.h>

typedef struct binary_def {
  double (*f)(double, double);
  int64_t (*i)(int64_t, int64_t);
  uint64_t (*u)(uint64_t, uint64_t);
  aicc_ew_f32_binop f32;
  bool (*ok)(aicc_dtype);
  bool to_bool; /* comparisons: the result is bool */
} binary_def;

static aicc_ew_val binary_apply(aicc_ew_val a, aicc_ew_val b, aicc_ew_cls cls, const void *ud) {
  const binary_def *d = ud;
  aicc_ew_val r;
  switch (cls) {
  case AICC_EW_F:
    if (d->to_bool) r.i = (int64_t)d->f(a.f, b.f);
    else r.f = d->f(a.f, b.f);
    break;
  case AICC_EW_I: r.i = d->i(a.i, b.i); break;
  default: r.u = d->u(a.u, b.u); break;
  }
  return r;
}

static aicc_status check_same_dtype(const aicc_kernel_ctx *c) {
  for (int k = 1; k < c->n_in; k++)
    if (c->in[k] && c->in[k]->dtype != c->in[0]->dtype)
      return aicc_kernel_error(c, AICC_ERR_SHAPE, "input %d is %s, input 0 is %s", k,
                               aicc_dtype_text(c->in[k]->dtype),
                               aicc_dtype_text(c->in[0]->dtype));
  return NULL;
}

static aicc_status binary_run(aicc_kernel_ctx *c, const binary_def *d, const void *ud_override,
                              aicc_ew_binop op) {
  AICC_TRY(aicc_ew_check_input(c, 0, d->ok));
  AICC_TRY(aicc_ew_check_input(c, 1, d->ok));
  AICC_TRY(check_same_dtype(c));
  aicc_dtype dt = c->in[0]->dtype;
  aicc_ew_cls cls = aicc_ew_cls_of(dt);
  if ((cls == AICC_EW_F && !d->f) || (cls == AICC_EW_I && !d->i) || (cls == AICC_EW_U && !d->u))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "dtype %s not supported",
                             aicc_dtype_text(dt));
  aicc_dtype out_dt = d->to_bool ? AICC_DTYPE_BOOL : dt;
  aicc_ew_cls out_cls = d->to_bool ? AICC_EW_I : cls;
  return aicc_ew_binary(c, c->in[0], c->in[1], cls, out_dt, out_cls,
                        op ? op : binary_apply, d->f32, ud_override ? ud_override : d,
                        &c->out[0]);
}

/* f32 loops specialised on the operand strides (0: broadcast scalar). */
#define F32_BIN(name, expr)                                                    \
  static void name##_f32(const float *a, int64_t sa, const float *b, int64_t sb, \
                         float *y, int64_t n) {                                \
    if (sa && sb) {                                                            \
      for (int64_t k = 0; k < n; k++) {                                        \
        float x = a[k], z = b[k];                                              \
        y[k] = (expr);                                                         \
      }                                                                        \
    } else if (sa) {                                                           \
      float z = b[0];                                                          \
      for (int64_t k = 0; k < n; k++) {                                        \
        float x = a[k];                                                        \
        y[k] = (expr);                                                         \
      }                                                                        \
    } else if (sb) {                                                           \
      float x = a[0];                                                          \
      for (int64_t k = 0; k < n; k++) {                                        \
        float z = b[k];                                                        \
        y[k] = (expr);                                                         \
      }                                                                        \
    } else {                                                                   \
      float x = a[0], z = b[0], v = (expr);                                    \
      for (int64_t k = 0; k < n; k++) y[k] = v;                                \
    }                                                                          \
  }

F32_BIN(add, x + z)
F32_BIN(sub, x - z)
F32_BIN(mul, x * z)
F32_BIN(div, x / z)
F32_BIN(max, (isnan(x) || isnan(z)) ? x + z : (x > z ? x : z))
F32_BIN(min, (isnan(x) || isnan(z)) ? x + z : (x < z ? x : z))

/* ---- arithmetic; signed math wraps through uint64 (no UB) ---- */

static double f_add(double a, double b) { return a + b; }
static int64_t i_add(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
static uint64_t u_add(uint64_t a, uint64_t b) { return a + b; }
static double f_sub(double a, double b) { return a - b; }
static int64_t i_sub(int64_t a, int64_t b) { return (int64_t)((uint64_t)a - (uint64_t)b); }
static uint64_t u_sub(uint64_t a, uint64_t b) { return a - b; }
static double f_mul(double a, double b) { return a * b; }
static int64_t i_mul(int64_t a, int64_t b) { return (int64_t)((uint64_t)a * (uint64_t)b); }
static uint64_t u_mul(uint64_t a, uint64_t b) { return a * b; }
static double f_div(double a, double b) { return a / b; }
/* Integer division by zero yields 0 (numpy's result) instead of a trap. */
static int64_t i_div(int64_t a, int64_t b) {
  if (b == 0) return 0;
  if (b == -1) return (int64_t)(0 - (uint64_t)a); /* INT64_MIN / -1 wraps */
  return a / b;
}
static uint64_t u_div(uint64_t a, uint64_t b) { return b ? a / b : 0; }

static double f_max(double a, double b) { return (isnan(a) || isnan(b)) ? NAN : a > b ? a : b; }
static int64_t i_max(int64_t a, int64_t b) { return a > b ? a : b; }
static uint64_t u_max(uint64_t a, uint64_t b) { return a > b ? a : b; }
static double f_min(double a, double b) { return (isnan(a) || isnan(b)) ? NAN : a < b ? a : b; }
static int64_t i_min(int64_t a, int64_t b) { return a < b ? a : b; }
static uint64_t u_min(uint64_t a, uint64_t b) { return a < b ? a : b; }

static const binary_def add_def = {f_add, i_add, u_add, add_f32, aicc_ew_dt_number, false};
static const binary_def sub_def = {f_sub, i_sub, u_sub, sub_f32, aicc_ew_dt_number, false};
static const binary_def mul_def = {f_mul, i_mul, u_mul, mul_f32, aicc_ew_dt_number, false};
static const binary_def div_def = {f_div, i_div, u_div, div_f32, aicc_ew_dt_number, false};
static const binary_def max_def = {f_max, i_max, u_max, max_f32, aicc_ew_dt_number, false};
static const binary_def min_def = {f_min, i_min, u_min, min_f32, aicc_ew_dt_number, false};

static aicc_status add_kernel(aicc_kernel_ctx *c) { return binary_run(c, &add_def, NULL, NULL); }
static aicc_status sub_kernel(aicc_kernel_ctx *c) { return binary_run(c, &sub_def, NULL, NULL); }
static aicc_status mul_kernel(aicc_kernel_ctx *c) { return binary_run(c, &mul_def, NULL, NULL); }
static aicc_status div_kernel(aicc_kernel_ctx *c) { return binary_run(c, &div_def, NULL, NULL); }

/* ---- Mod ---- */

/* numpy.mod: the result takes the sign of the divisor (ONNX fmod=0). */
static double f_pymod(double a, double b) {
  double r = fmod(a, b);
  if (isnan(r)) return r;
  if (r != 0) {
    if ((r < 0) != (b < 0)) r += b;
  } else {
    r = copysign(0.0, b);
  }
  return r;
}
static int64_t i_pymod(int64_t a, int64_t b) {
  if (b == 0 || b == -1) return 0;
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}
static int64_t i_cmod(int64_t a, int64_t b) { return (b == 0 || b == -1) ? 0 : a % b; }
static uint64_t u_mod(uint64_t a, uint64_t b) { return b ? a % b : 0; }

static const binary_def pymod_def = {f_pymod, i_pymod, u_mod, NULL, aicc_ew_dt_number, false};
static const binary_def cmod_def = {fmod, i_cmod, u_mod, NULL, aicc_ew_dt_number, false};

static aicc_status mod_kernel(aicc_kernel_ctx *c) {
  bool cstyle = aicc_node_attr_int(c->node, "fmod", 0) != 0;
  return binary_run(c, cstyle ? &cmod_def : &pymod_def, NULL, NULL);
}

/* ---- Pow: the base dtype rules; integer ** integer stays integral ---- */

static int64_t i_pow(int64_t a, int64_t b) {
  if (b < 0) /* trunc(a^b): only |a| == 1 survives */
    return a == 1 ? 1 : a == -1 ? ((b & 1) ? -1 : 1) : 0;
  uint64_t r = 1, x = (uint64_t)a;
  for (uint64_t e = (uint64_t)b; e; e >>= 1) {
    if (e & 1) r *= x;
    x *= x;
  }
  return (int64_t)r;
}

F32_BIN(pow, powf(x, z))

static aicc_ew_val pow_apply(aicc_ew_val a, aicc_ew_val b, aicc_ew_cls cls, const void *ud) {
  (void)ud;
  aicc_ew_val r;
  if (cls == AICC_EW_F) r.f = pow(a.f, b.f);
  else r.i = i_pow(a.i, b.i);
  return r;
}

static bool pow_base_ok(aicc_dtype dt) {
  return aicc_ew_dt_float(dt) || dt == AICC_DTYPE_I32 || dt == AICC_DTYPE_I64;
}

static aicc_status pow_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_ew_check_input(c, 0, pow_base_ok));
  AICC_TRY(aicc_ew_check_input(c, 1, aicc_ew_dt_number));
  aicc_dtype dt = c->in[0]->dtype;
  bool ints = aicc_ew_cls_of(dt) != AICC_EW_F && aicc_ew_cls_of(c->in[1]->dtype) != AICC_EW_F;
  aicc_ew_cls cls = ints ? AICC_EW_I : AICC_EW_F;
  return aicc_ew_binary(c, c->in[0], c->in[1], cls, dt, cls, pow_apply, pow_f32, NULL,
                        &c->out[0]);
}

/* ---- comparisons and logic (bool results) ---- */

#define CMP_FNS(name, op)                                                      \
  static double f_##name(double a, double b) { return a op b; }                \
  static int64_t i_##name(int64_t a, int64_t b) { return a op b; }             \
  static uint64_t u_##name(uint64_t a, uint64_t b) { return a op b; }
#define CMP(name, op)                                                          \
  CMP_FNS(name, op)                                                            \
  static const binary_def name##_def = {f_##name, i_##name, u_##name, NULL,    \
                                        aicc_ew_dt_number, true};

CMP_FNS(eq, ==) /* Equal also takes bools: its def is eqb_def below */
CMP(lt, <)
CMP(gt, >)
CMP(le, <=)
CMP(ge, >=)

static bool number_or_bool(aicc_dtype dt) { return aicc_ew_dt_number(dt) || dt == AICC_DTYPE_BOOL; }
static const binary_def eqb_def = {f_eq, i_eq, u_eq, NULL, number_or_bool, true};

static int64_t i_and(int64_t a, int64_t b) { return a && b; }
static int64_t i_or(int64_t a, int64_t b) { return a || b; }
static int64_t i_xor(int64_t a, int64_t b) { return (a != 0) != (b != 0); }
static const binary_def and_def = {NULL, i_and, NULL, NULL, aicc_ew_dt_bool, false};
static const binary_def or_def = {NULL, i_or, NULL, NULL, aicc_ew_dt_bool, false};
static const binary_def xor_def = {NULL, i_xor, NULL, NULL, aicc_ew_dt_bool, false};

static int64_t i_band(int64_t a, int64_t b) { return a & b; }
static uint64_t u_band(uint64_t a, uint64_t b) { return a & b; }
static int64_t i_bor(int64_t a, int64_t b) { return a | b; }
static uint64_t u_bor(uint64_t a, uint64_t b) { return a | b; }
static int64_t i_bxor(int64_t a, int64_t b) { return a ^ b; }
static uint64_t u_bxor(uint64_t a, uint64_t b) { return a ^ b; }
static const binary_def band_def = {NULL, i_band, u_band, NULL, aicc_ew_dt_int, false};
static const binary_def bor_def = {NULL, i_bor, u_bor, NULL, aicc_ew_dt_int, false};
static const binary_def bxor_def = {NULL, i_bxor, u_bxor, NULL, aicc_ew_dt_int, false};

/* Equal on strings: bytewise, lengths included. */
static aicc_status equal_strings(aicc_kernel_ctx *c) {
  const aicc_tensor *a = c->in[0], *b = c->in[1];
  const aicc_tensor *ts[2] = {a, b};
  int64_t dims[AICC_MAX_RANK];
  int rank;
  AICC_TRY(aicc_ew_bcast_dims(c, 2, ts, dims, &rank));
  aicc_tensor *y = NULL;
  AICC_TRY(aicc_kernel_output(c, 0, AICC_DTYPE_BOOL, rank, dims, &y));
  int64_t n = aicc_tensor_numel(y);
  if (n == 0) return NULL;
  aicc_iter it;
  aicc_iter_init(&it, dims, rank);
  aicc_iter_add_bcast(&it, a->dims, a->rank);
  aicc_iter_add_bcast(&it, b->dims, b->rank);
  char *const *sa_ = a->data, *const *sb_ = b->data;
  uint8_t *o = y->data;
  for (int64_t k = 0; k < n; k++, aicc_iter_next(&it)) {
    int64_t i = it.off[0], j = it.off[1];
    size_t la = a->strlens ? a->strlens[i] : strlen(sa_[i]);
    size_t lb = b->strlens ? b->strlens[j] : strlen(sb_[j]);
    o[k] = la == lb && memcmp(sa_[i], sb_[j], la) == 0;
  }
  return NULL;
}

static aicc_status equal_kernel(aicc_kernel_ctx *c) {
  if (c->in[0] && c->in[0]->kind == AICC_KIND_TENSOR && c->in[0]->dtype == AICC_DTYPE_STRING) {
    AICC_TRY(aicc_ew_check_input(c, 1, NULL));
    AICC_TRY(check_same_dtype(c));
    return equal_strings(c);
  }
  return binary_run(c, &eqb_def, NULL, NULL);
}
static aicc_status less_kernel(aicc_kernel_ctx *c) { return binary_run(c, &lt_def, NULL, NULL); }
static aicc_status greater_kernel(aicc_kernel_ctx *c) { return binary_run(c, &gt_def, NULL, NULL); }
static aicc_status le_kernel(aicc_kernel_ctx *c) { return binary_run(c, &le_def, NULL, NULL); }
static aicc_status ge_kernel(aicc_kernel_ctx *c) { return binary_run(c, &ge_def, NULL, NULL); }
static aicc_status and_kernel(aicc_kernel_ctx *c) { return binary_run(c, &and_def, NULL, NULL); }
static aicc_status or_kernel(aicc_kernel_ctx *c) { return binary_run(c, &or_def, NULL, NULL); }
static aicc_status xor_kernel(aicc_kernel_ctx *c) { return binary_run(c, &xor_def, NULL, NULL); }
static aicc_status band_kernel(aicc_kernel_ctx *c) { return binary_run(c, &band_def, NULL, NULL); }
static aicc_status bor_kernel(aicc_kernel_ctx *c) { return binary_run(c, &bor_def, NULL, NULL); }
static aicc_status bxor_kernel(aicc_kernel_ctx *c) { return binary_run(c, &bxor_def, NULL, NULL); }

/* ---- BitShift: out-of-range amounts give what sign extension alone gives ---- */

typedef struct shift_params {
  int bits;
  bool right;
} shift_params;

static aicc_ew_val shift_apply(aicc_ew_val a, aicc_ew_val b, aicc_ew_cls cls, const void *ud) {
  const shift_params *p = ud;
  bool out_of_range = cls == AICC_EW_U ? b.u >= (uint64_t)p->bits : (b.i < 0 || b.i >= p->bits);
  aicc_ew_val r;
  if (p->right) {
    if (out_of_range) r.i = (cls == AICC_EW_I && a.i < 0) ? -1 : 0;
    else if (cls == AICC_EW_U) r.u = a.u >> b.u;
    else r.i = a.i >> b.i; /* loads sign-extend: arithmetic shift */
  } else {
    r.u = out_of_range ? 0 : a.u << (cls == AICC_EW_U ? b.u : (uint64_t)b.i);
  }
  return r;
}

static aicc_status bitshift_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_ew_check_input(c, 0, aicc_ew_dt_int));
  AICC_TRY(aicc_ew_check_input(c, 1, aicc_ew_dt_int));
  AICC_TRY(check_same_dtype(c));
  const char *dir = aicc_node_attr_string(c->node, "direction", "");
  shift_params p = {aicc_dtype_get(c->in[0]->dtype)->bits, strcmp(dir, "RIGHT") == 0};
  if (!p.right && strcmp(dir, "LEFT") != 0)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "direction must be LEFT or RIGHT, got '%s'", dir);
  aicc_ew_cls cls = aicc_ew_cls_of(c->in[0]->dtype);
  return aicc_ew_binary(c, c->in[0], c->in[1], cls, c->in[0]->dtype, cls, shift_apply, NULL,
                        &p, &c->out[0]);
}

/* ---- variadic Sum / Mean / Max / Min: a left fold, as the reference ---- */

static aicc_status fold(aicc_kernel_ctx *c, const binary_def *d, bool mean) {
  for (int k = 0; k < c->n_in; k++) AICC_TRY(aicc_ew_check_input(c, k, d->ok));
  AICC_TRY(check_same_dtype(c));
  aicc_dtype dt = c->in[0]->dtype;
  aicc_ew_cls cls = aicc_ew_cls_of(dt);
  aicc_tensor *acc = aicc_tensor_retain(c->in[0]);
  for (int k = 1; k < c->n_in; k++) {
    aicc_tensor *next = NULL;
    aicc_status s = aicc_ew_binary(c, acc, c->in[k], cls, dt, cls, binary_apply, d->f32, d, &next);
    aicc_tensor_release(acc);
    if (s) return s;
    acc = next;
  }
  if (mean || c->n_in == 1) {
    /* a fresh output (never alias an input), divided for Mean */
    aicc_tensor *y = NULL;
    aicc_status s = aicc_tensor_create(dt, acc->rank, acc->dims, &y);
    if (s) {
      aicc_tensor_release(acc);
      return aicc_kernel_wrap(c, s);
    }
    int64_t n = aicc_tensor_numel(acc);
    if (mean && dt == AICC_DTYPE_F32) {
      const float *a = acc->data;
      float *o = y->data, inv = (float)c->n_in;
      for (int64_t i = 0; i < n; i++) o[i] = a[i] / inv;
    } else if (mean) {
      for (int64_t i = 0; i < n; i++)
        aicc_tensor_set_f64(y, i, aicc_tensor_get_f64(acc, i) / c->n_in);
    } else if (n > 0) {
      memcpy(y->data, acc->data, aicc_dtype_storage_bytes(dt, (size_t)n));
    }
    aicc_tensor_release(acc);
    acc = y;
  }
  if (c->out[0]) aicc_tensor_release(c->out[0]);
  c->out[0] = acc;
  return NULL;
}

static const binary_def sum_def = {f_add, i_add, u_add, add_f32, aicc_ew_dt_float, false};
static aicc_status sum_kernel(aicc_kernel_ctx *c) { return fold(c, &sum_def, false); }
static aicc_status mean_kernel(aicc_kernel_ctx *c) { return fold(c, &sum_def, true); }
static aicc_status max_kernel(aicc_kernel_ctx *c) { return fold(c, &max_def, false); }
static aicc_status min_kernel(aicc_kernel_ctx *c) { return fold(c, &min_def, false); }

/* ---- Where ---- */

static aicc_status where_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_ew_check_input(c, 0, aicc_ew_dt_bool));
  AICC_TRY(aicc_ew_check_input(c, 1, NULL));
  AICC_TRY(aicc_ew_check_input(c, 2, NULL));
  const aicc_tensor *cond = c->in[0], *x = c->in[1], *y = c->in[2];
  if (x->dtype != y->dtype)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "X is %s, Y is %s", aicc_dtype_text(x->dtype),
                             aicc_dtype_text(y->dtype));
  const aicc_tensor *ts[3] = {cond, x, y};
  int64_t dims[AICC_MAX_RANK];
  int rank;
  AICC_TRY(aicc_ew_bcast_dims(c, 3, ts, dims, &rank));
  aicc_tensor *o = NULL;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, rank, dims, &o));
  int64_t n = aicc_tensor_numel(o);
  if (n == 0) return NULL;
  aicc_iter it;
  aicc_iter_init(&it, dims, rank);
  aicc_iter_add_bcast(&it, cond->dims, cond->rank);
  aicc_iter_add_bcast(&it, x->dims, x->rank);
  aicc_iter_add_bcast(&it, y->dims, y->rank);
  const uint8_t *cd = cond->data;
  size_t esz = aicc_elem_bytes(x->dtype);
  for (int64_t k = 0; k < n; k++, aicc_iter_next(&it)) {
    if (cd[it.off[0]]) AICC_TRY(aicc_kernel_wrap(c, aicc_elem_copy1(esz, o, k, x, it.off[1])));
    else AICC_TRY(aicc_kernel_wrap(c, aicc_elem_copy1(esz, o, k, y, it.off[2])));
  }
  return NULL;
}

static aicc_status infer_where(aicc_infer_ctx *c) {
  if (!c->in[1] || c->in[1]->kind == AICC_KIND_NONE) return NULL;
  return aicc_infer_broadcast_as(c, c->in[1]->dtype);
}

static aicc_status infer_bool(aicc_infer_ctx *c) {
  return aicc_infer_broadcast_as(c, AICC_DTYPE_BOOL);
}

static const aicc_attr_spec mod_attrs[] = {AICC_A_INT("fmod"), AICC_A_END};
static const aicc_attr_spec shift_attrs[] = {{"direction", AICC_ATTR_STRING, true}, AICC_A_END};
static const aicc_attr_spec legacy_attrs[] = {AICC_A_INTS("consumed_inputs"), AICC_A_END};

#define BC aicc_infer_broadcast
#define V AICC_VARIADIC
static const aicc_op ops[] = {
    /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
    {"Add", "", 7, 0, 2, 2, 1, 1, NULL, BC, add_kernel},
    {"Sub", "", 7, 0, 2, 2, 1, 1, NULL, BC, sub_kernel},
    {"Mul", "", 7, 0, 2, 2, 1, 1, NULL, BC, mul_kernel},
    {"Div", "", 7, 0, 2, 2, 1, 1, NULL, BC, div_kernel},
    {"Pow", "", 7, 0, 2, 2, 1, 1, NULL, BC, pow_kernel},
    {"Mod", "", 10, 0, 2, 2, 1, 1, mod_attrs, BC, mod_kernel},
    {"And", "", 7, 0, 2, 2, 1, 1, NULL, infer_bool, and_kernel},
    {"Or", "", 7, 0, 2, 2, 1, 1, NULL, infer_bool, or_kernel},
    {"Xor", "", 7, 0, 2, 2, 1, 1, NULL, infer_bool, xor_kernel},
    {"Equal", "", 7, 0, 2, 2, 1, 1, NULL, infer_bool, equal_kernel},
    {"Less", "", 7, 0, 2, 2, 1, 1, NULL, infer_bool, less_kernel},
    {"Greater", "", 7, 0, 2, 2, 1, 1, NULL, infer_bool, greater_kernel},
    {"LessOrEqual", "", 12, 0, 2, 2, 1, 1, NULL, infer_bool, le_kernel},
    {"GreaterOrEqual", "", 12, 0, 2, 2, 1, 1, NULL, infer_bool, ge_kernel},
    {"BitShift", "", 11, 0, 2, 2, 1, 1, shift_attrs, BC, bitshift_kernel},
    {"BitwiseAnd", "", 18, 0, 2, 2, 1, 1, NULL, BC, band_kernel},
    {"BitwiseOr", "", 18, 0, 2, 2, 1, 1, NULL, BC, bor_kernel},
    {"BitwiseXor", "", 18, 0, 2, 2, 1, 1, NULL, BC, bxor_kernel},
    /* Sum/Mean/Max/Min before opset 8 did not broadcast; one row serves all */
    {"Sum", "", 1, 0, 1, V, 1, 1, legacy_attrs, BC, sum_kernel},
    {"Mean", "", 1, 0, 1, V, 1, 1, legacy_attrs, BC, mean_kernel},
    {"Max", "", 1, 0, 1, V, 1, 1, legacy_attrs, BC, max_kernel},
    {"Min", "", 1, 0, 1, V, 1, 1, legacy_attrs, BC, min_kernel},
    {"Where", "", 9, 0, 3, 3, 1, 1, NULL, infer_where, where_kernel},
};
const aicc_op_family aicc_family_elementwise_binary = {"elementwise_binary", ops,
                                                       sizeof ops / sizeof ops[0]};
