/* Cast and CastLike between every pair of ONNX dtypes (strings included):
 * floats round to nearest even, the float8 types honour `saturate`, float8e8m0
 * honours `round_mode`; float -> int truncates then wraps, as numpy's astype
 * (which produces the reference outputs) does. Numbers print as numpy's str. */
#include "ops/util_elem.h"
#include "ops/util_ewise.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct cast_opts {
  bool saturate;
  aicc_round_mode mode;
} cast_opts;

/* ---- numbers to strings (numpy str(): shortest round-trip digits) ---- */

/* Shortest "%.*e" form of v that reads back as the same value of `dt`. */
static bool reads_back(aicc_dtype dt, double v, const char *s) {
  double r = strtod(s, NULL);
  switch (dt) {
  case AICC_DTYPE_F64: return r == v;
  case AICC_DTYPE_F16: return aicc_f64_to_f16(r) == aicc_f64_to_f16(v);
  case AICC_DTYPE_BF16: return aicc_f64_to_bf16(r) == aicc_f64_to_bf16(v);
  default: return (float)r == (float)v;
  }
}

static int format_float(aicc_dtype dt, double v, char *out, size_t cap) {
  if (isnan(v)) return snprintf(out, cap, "nan");
  if (isinf(v)) return snprintf(out, cap, v < 0 ? "-inf" : "inf");
  if (v == 0) return snprintf(out, cap, signbit(v) ? "-0.0" : "0.0");
  char e[64];
  for (int p = 0; p < 17; p++) {
    snprintf(e, sizeof e, "%.*e", p, v);
    if (reads_back(dt, v, e)) break;
  }
  /* e = "[-]d.ddde[+-]xx": split into sign, digits and exponent */
  bool neg = e[0] == '-';
  const char *q = e + neg;
  char digits[32];
  int nd = 0;
  for (; *q && *q != 'e'; q++)
    if (isdigit((unsigned char)*q)) digits[nd++] = *q;
  while (nd > 1 && digits[nd - 1] == '0') nd--;
  digits[nd] = 0;
  int exp10 = atoi(q + 1);
  double a = fabs(v);
  char *o = out;
  size_t left = cap;
#define PUT(...)                                                               \
  do {                                                                         \
    int w_ = snprintf(o, left, __VA_ARGS__);                                   \
    if (w_ < 0 || (size_t)w_ >= left) return (int)(cap - 1);                   \
    o += w_, left -= (size_t)w_;                                               \
  } while (0)
  if (neg) PUT("-");
  /* numpy switches to scientific at 1e3 (half), 1e7 (float), 1e16 (double) */
  double cutoff = dt == AICC_DTYPE_F16 ? 1e3 : dt == AICC_DTYPE_F64 ? 1e16 : 1e7;
  if (a >= 1e-4 && a < cutoff) {
    /* positional, always with a fractional part ("100.0") */
    if (exp10 >= 0) {
      for (int k = 0; k <= exp10; k++) PUT("%c", k < nd ? digits[k] : '0');
      PUT(".");
      if (nd > exp10 + 1) PUT("%s", digits + exp10 + 1);
      else PUT("0");
    } else {
      PUT("0.");
      for (int k = 0; k < -exp10 - 1; k++) PUT("0");
      PUT("%s", digits);
    }
  } else {
    PUT("%c", digits[0]);
    if (nd > 1) PUT(".%s", digits + 1);
    PUT("e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
  }
#undef PUT
  return (int)(o - out);
}

static aicc_status to_string(aicc_kernel_ctx *c, const aicc_tensor *x, aicc_tensor *y) {
  int64_t n = aicc_tensor_numel(x);
  aicc_ew_cls cls = aicc_ew_cls_of(x->dtype);
  char buf[96];
  for (int64_t i = 0; i < n; i++) {
    int len;
    if (x->dtype == AICC_DTYPE_BOOL)
      len = snprintf(buf, sizeof buf, "%s", aicc_tensor_get_i64(x, i) ? "True" : "False");
    else if (cls == AICC_EW_F)
      len = format_float(x->dtype, aicc_tensor_get_f64(x, i), buf, sizeof buf);
    else if (cls == AICC_EW_U)
      len = snprintf(buf, sizeof buf, "%llu", (unsigned long long)aicc_tensor_get_i64(x, i));
    else
      len = snprintf(buf, sizeof buf, "%lld", (long long)aicc_tensor_get_i64(x, i));
    AICC_TRY(aicc_kernel_wrap(c, aicc_tensor_set_string(y, i, buf, (size_t)len)));
  }
  return NULL;
}

/* ---- strings to numbers ---- */

/* Parses "3.14", "1E8", "+INF", "-inf", "NaN" (case-insensitive). */
static double parse_double(const char *s) {
  while (isspace((unsigned char)*s)) s++;
  const char *t = s + (*s == '+' || *s == '-');
  if (strncasecmp(t, "inf", 3) == 0) return *s == '-' ? -INFINITY : INFINITY;
  if (strncasecmp(t, "nan", 3) == 0) return NAN;
  return strtod(s, NULL);
}

/* Integers read exactly when the text is an integer, else truncate. */
static bool parse_int(const char *s, int64_t *v, bool is_unsigned) {
  char *end;
  errno = 0;
  if (is_unsigned && *s != '-') {
    unsigned long long u = strtoull(s, &end, 10);
    *v = (int64_t)u;
  } else {
    *v = strtoll(s, &end, 10);
  }
  while (end && isspace((unsigned char)*end)) end++;
  return end != s && end && *end == 0 && errno == 0;
}

/* ---- numbers to numbers ---- */

static void store_float(aicc_tensor *y, int64_t i, double d, const cast_opts *o) {
  switch (y->dtype) {
  case AICC_DTYPE_F8E4M3FN:
  case AICC_DTYPE_F8E4M3FNUZ:
  case AICC_DTYPE_F8E5M2:
  case AICC_DTYPE_F8E5M2FNUZ:
    ((uint8_t *)y->data)[i] = aicc_f64_to_narrow(y->dtype, d, o->saturate);
    return;
  case AICC_DTYPE_F8E8M0:
    ((uint8_t *)y->data)[i] = aicc_f32_to_f8e8m0((float)d, o->saturate, o->mode);
    return;
  default: aicc_tensor_set_f64(y, i, d); return;
  }
}

static void cast_elem(const aicc_tensor *x, int64_t i, aicc_tensor *y, const cast_opts *o) {
  aicc_ew_cls sc = aicc_ew_cls_of(x->dtype), dc = aicc_ew_cls_of(y->dtype);
  if (y->dtype == AICC_DTYPE_BOOL) {
    bool b = sc == AICC_EW_F ? aicc_tensor_get_f64(x, i) != 0 : aicc_tensor_get_i64(x, i) != 0;
    ((uint8_t *)y->data)[i] = b;
    return;
  }
  if (dc == AICC_EW_F) {
    if (sc == AICC_EW_F) {
      store_float(y, i, aicc_tensor_get_f64(x, i), o);
      return;
    }
    int64_t v = aicc_tensor_get_i64(x, i);
    if (y->dtype == AICC_DTYPE_F32) /* one rounding, as numpy's int -> float32 */
      ((float *)y->data)[i] = sc == AICC_EW_U ? (float)(uint64_t)v : (float)v;
    else
      store_float(y, i, sc == AICC_EW_U ? (double)(uint64_t)v : (double)v, o);
    return;
  }
  if (sc == AICC_EW_F)
    aicc_tensor_set_i64(y, i, aicc_f64_to_i64_wrap(aicc_tensor_get_f64(x, i), dc == AICC_EW_U));
  else
    aicc_tensor_set_i64(y, i, aicc_tensor_get_i64(x, i));
}

static aicc_status from_string(aicc_kernel_ctx *c, const aicc_tensor *x, aicc_tensor *y,
                               const cast_opts *o) {
  int64_t n = aicc_tensor_numel(x);
  char *const *s = x->data;
  aicc_ew_cls dc = aicc_ew_cls_of(y->dtype);
  for (int64_t i = 0; i < n; i++) {
    const char *str = s[i] ? s[i] : "";
    if (y->dtype == AICC_DTYPE_STRING) {
      size_t len = x->strlens ? x->strlens[i] : strlen(str);
      AICC_TRY(aicc_kernel_wrap(c, aicc_tensor_set_string(y, i, str, len)));
      continue;
    }
    int64_t v;
    if (dc != AICC_EW_F && y->dtype != AICC_DTYPE_BOOL && parse_int(str, &v, dc == AICC_EW_U)) {
      aicc_tensor_set_i64(y, i, v);
      continue;
    }
    double d = parse_double(str);
    if (y->dtype == AICC_DTYPE_BOOL) ((uint8_t *)y->data)[i] = d != 0;
    else if (dc == AICC_EW_F) store_float(y, i, d, o);
    else aicc_tensor_set_i64(y, i, aicc_f64_to_i64_wrap(d, dc == AICC_EW_U));
  }
  return NULL;
}

static bool castable(aicc_dtype dt) {
  return dt == AICC_DTYPE_STRING || aicc_ew_is_numeric(dt);
}

static aicc_status cast_run(aicc_kernel_ctx *c, aicc_dtype to, const cast_opts *o) {
  AICC_TRY(aicc_ew_check_input(c, 0, castable));
  if (!aicc_dtype_valid((int)to) || !castable(to))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "cannot cast to dtype %d", (int)to);
  const aicc_tensor *x = c->in[0];
  aicc_tensor *y = NULL;
  AICC_TRY(aicc_kernel_output(c, 0, to, x->rank, x->dims, &y));
  int64_t n = aicc_tensor_numel(x);
  if (n == 0) return NULL;
  if (x->dtype == AICC_DTYPE_STRING) return from_string(c, x, y, o);
  if (to == AICC_DTYPE_STRING) return to_string(c, x, y);
  if (x->dtype == to && to != AICC_DTYPE_F8E8M0) {
    memcpy(y->data, x->data, aicc_dtype_storage_bytes(to, (size_t)n));
    return NULL;
  }
  /* fast paths for the common float conversions */
  if (x->dtype == AICC_DTYPE_F32 && to == AICC_DTYPE_F16) {
    const float *a = x->data;
    uint16_t *b = y->data;
    for (int64_t i = 0; i < n; i++) b[i] = aicc_f32_to_f16(a[i]);
    return NULL;
  }
  if (x->dtype == AICC_DTYPE_F16 && to == AICC_DTYPE_F32) {
    const uint16_t *a = x->data;
    float *b = y->data;
    for (int64_t i = 0; i < n; i++) b[i] = aicc_f16_to_f32(a[i]);
    return NULL;
  }
  if (x->dtype == AICC_DTYPE_F32 && to == AICC_DTYPE_F64) {
    const float *a = x->data;
    double *b = y->data;
    for (int64_t i = 0; i < n; i++) b[i] = a[i];
    return NULL;
  }
  for (int64_t i = 0; i < n; i++) cast_elem(x, i, y, o);
  return NULL;
}

static aicc_status cast_opts_read(const aicc_kernel_ctx *c, cast_opts *o) {
  o->saturate = aicc_node_attr_int(c->node, "saturate", 1) != 0;
  const char *m = aicc_node_attr_string(c->node, "round_mode", "up");
  if (!aicc_round_mode_parse(m, &o->mode))
    return aicc_kernel_error(c, AICC_ERR_INVALID, "round_mode must be up, down or nearest, got '%s'", m);
  return NULL;
}

static aicc_status cast_kernel(aicc_kernel_ctx *c) {
  const aicc_attr *to = aicc_node_attr(c->node, "to");
  if (!to || to->kind != AICC_ATTR_INT)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "attribute 'to' is required");
  cast_opts o;
  AICC_TRY(cast_opts_read(c, &o));
  return cast_run(c, (aicc_dtype)to->i, &o);
}

static aicc_status castlike_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_ew_check_input(c, 1, castable));
  cast_opts o;
  AICC_TRY(cast_opts_read(c, &o));
  return cast_run(c, c->in[1]->dtype, &o);
}

static aicc_status cast_infer(aicc_infer_ctx *c) {
  const aicc_attr *to = aicc_node_attr(c->node, "to");
  if (!to || to->kind != AICC_ATTR_INT || !aicc_dtype_valid((int)to->i) ||
      !castable((aicc_dtype)to->i))
    return aicc_infer_error(c, AICC_ERR_INVALID, "attribute 'to' is missing or not a dtype");
  if (!c->in[0]) return NULL;
  c->out[0] = *c->in[0];
  c->out[0].dtype = (aicc_dtype)to->i;
  return NULL;
}

static aicc_status castlike_infer(aicc_infer_ctx *c) {
  if (!c->in[0] || !c->in[1] || c->in[1]->kind == AICC_KIND_NONE) return NULL;
  c->out[0] = *c->in[0];
  c->out[0].dtype = c->in[1]->dtype;
  return NULL;
}

static const aicc_attr_spec cast_attrs[] = {{"to", AICC_ATTR_INT, true}, AICC_A_INT("saturate"),
                                            AICC_A_STRING("round_mode"), AICC_A_END};
static const aicc_attr_spec castlike_attrs[] = {AICC_A_INT("saturate"),
                                                AICC_A_STRING("round_mode"), AICC_A_END};

static const aicc_op ops[] = {
    /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
    {"Cast", "", 1, 0, 1, 1, 1, 1, cast_attrs, cast_infer, cast_kernel},
    {"CastLike", "", 15, 0, 2, 2, 1, 1, castlike_attrs, castlike_infer, castlike_kernel},
};
const aicc_op_family aicc_family_cast = {"cast", ops, sizeof ops / sizeof ops[0]};
