/* Loop IR -> C99: scalar expressions and statements, one C function per loop
 * func (the kernel ABI of codegen.h), and the translation unit around them.
 * Vectorized loops go to simd.c; helper definitions (floor division, the
 * NaN rules of min/max, ...) are written on first use. This file prints C; it
 * never runs a compiler. */
#include "codegen/codegen_impl.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop/text.h"

/* Stack temporaries up to this size each (and this much live in total);
 * larger ones are malloc'ed. */
enum { STACK_TEMP_MAX = 16 * 1024, STACK_LIVE_MAX = 64 * 1024 };

/* ---- literals ---- */

static void int_literal(cg_text *t, aicc_dtype type, int64_t v) {
  switch (type) {
  case AICC_DTYPE_BOOL: cg_put(t, v ? "1" : "0"); return;
  case AICC_DTYPE_I32:
    if (v == INT32_MIN) cg_put(t, "(-2147483647 - 1)");
    else if (v < 0) cg_printf(t, "(%" PRId64 ")", v);
    else cg_printf(t, "%" PRId64, v);
    return;
  case AICC_DTYPE_I64:
    if (v == INT64_MIN) cg_put(t, "(-INT64_C(9223372036854775807) - 1)");
    else if (v < 0) cg_printf(t, "(-INT64_C(%" PRId64 "))", -v);
    else cg_printf(t, "INT64_C(%" PRId64 ")", v);
    return;
  case AICC_DTYPE_U32: cg_printf(t, "%" PRIu64 "u", (uint64_t)(uint32_t)v); return;
  case AICC_DTYPE_U64: cg_printf(t, "UINT64_C(%" PRIu64 ")", (uint64_t)v); return;
  default: cg_printf(t, "((%s)%" PRId64 ")", cg_ctype(type), v); return;
  }
}

void cg_float_literal(cg_text *t, aicc_dtype type, double v) {
  bool f32 = type == AICC_DTYPE_F32;
  if (isnan(v)) {
    cg_put(t, f32 ? "((float)NAN)" : "((double)NAN)");
    return;
  }
  if (isinf(v)) {
    cg_printf(t, "(%s(%s)INFINITY)", v < 0 ? "-" : "", f32 ? "float" : "double");
    return;
  }
  char s[64];
  snprintf(s, sizeof s, f32 ? "%.9g" : "%.17g", v);
  if (!strpbrk(s, ".e")) strcat(s, ".0");
  if (f32) strcat(s, "f");
  if (v < 0 || (v == 0 && signbit(v))) cg_printf(t, "(%s)", s);
  else cg_put(t, s);
}

/* ---- helpers (scalar) ---- */

static const char *type_tag(aicc_dtype t) { return aicc_dtype_text(t); }
static bool is_unsigned(aicc_dtype t) {
  return t == AICC_DTYPE_BOOL || (aicc_dtype_is_int(t) && !aicc_dtype_is_signed_int(t));
}
static bool is_64(aicc_dtype t) { return t == AICC_DTYPE_I64 || t == AICC_DTYPE_U64; }

/* Floor division and modulo with x/0 == x%0 == 0 (ir.h). i8/i16/i32 use the
 * i32 forms and u8/u16/u32/bool the u32 forms; callers cast back. */
static const char *divmod_helper(cg *g, aicc_loop_op op, aicc_dtype t) {
  char name[64], def[1024];
  bool div = op == AICC_LOOP_DIV;
  if (is_unsigned(t)) {
    const char *w = is_64(t) ? "uint64_t" : "uint32_t";
    snprintf(name, sizeof name, "aicc_%s_%s", div ? "udiv" : "umod", is_64(t) ? "u64" : "u32");
    snprintf(def, sizeof def, "static inline %s %s(%s a, %s b) { return b ? a %c b : 0; }\n",
             w, name, w, w, div ? '/' : '%');
    return cg_helper(g, name, def);
  }
  const char *w = is_64(t) ? "int64_t" : "int32_t", *u = is_64(t) ? "uint64_t" : "uint32_t";
  snprintf(name, sizeof name, "aicc_%s_%s", div ? "fdiv" : "fmod", is_64(t) ? "i64" : "i32");
  if (div)
    snprintf(def, sizeof def,
             "static inline %s %s(%s a, %s b) {\n"
             "  if (b == 0) return 0;\n"
             "  if (b == -1) return (%s)(0u - (%s)a); /* MIN / -1 wraps */\n"
             "  %s q = a / b;\n"
             "  return (a %% b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;\n"
             "}\n",
             w, name, w, w, w, u, w);
  else
    snprintf(def, sizeof def,
             "static inline %s %s(%s a, %s b) {\n"
             "  if (b == 0 || b == -1) return 0;\n"
             "  %s r = a %% b;\n"
             "  return (r != 0 && (r < 0) != (b < 0)) ? r + b : r;\n"
             "}\n",
             w, name, w, w, w);
  return cg_helper(g, name, def);
}

static const char *select_helper(cg *g, aicc_dtype t) {
  char name[64], def[512];
  const char *c = cg_ctype(t);
  snprintf(name, sizeof name, "aicc_sel_%s", type_tag(t));
  snprintf(def, sizeof def, "static inline %s %s(int c, %s a, %s b) { return c ? a : b; }\n", c,
           name, c, c);
  return cg_helper(g, name, def);
}

static const char *minmax_helper(cg *g, aicc_loop_op op, aicc_dtype t) {
  char name[64], def[512];
  const char *c = cg_ctype(t);
  bool mn = op == AICC_LOOP_MIN;
  snprintf(name, sizeof name, "aicc_%s_%s", mn ? "min" : "max", type_tag(t));
  snprintf(def, sizeof def, "static inline %s %s(%s a, %s b) { return a %c b ? a : b; }\n", c,
           name, c, c, mn ? '<' : '>');
  return cg_helper(g, name, def);
}

/* Float `%`: x - y*floor(x/y), x when y == 0; f32 computes in double and
 * rounds once, as the IR defines it. */
const char *cg_modfloor_fn(cg *g, aicc_dtype t) {
  if (t == AICC_DTYPE_F32)
    return cg_helper(g, "aicc_modfloor_f32",
                     "static inline float aicc_modfloor_f32(float x, float y) {\n"
                     "  double a = x, b = y;\n"
                     "  return b != 0.0 ? (float)(a - b * floor(a / b)) : x;\n"
                     "}\n");
  return cg_helper(g, "aicc_modfloor_f64",
                   "static inline double aicc_modfloor_f64(double x, double y) {\n"
                   "  return y != 0.0 ? x - y * floor(x / y) : x;\n"
                   "}\n");
}

static const char *zsub_helper(cg *g, aicc_dtype t) {
  if (t == AICC_DTYPE_F32)
    return cg_helper(g, "aicc_zsub_f32",
                     "static inline float aicc_zsub_f32(float x) { return 0.0f - x; }\n");
  return cg_helper(g, "aicc_zsub_f64",
                   "static inline double aicc_zsub_f64(double x) { return 0.0 - x; }\n");
}

/* Float to integer: truncation toward zero; NaN and |x| >= 9.2e18 give 0
 * (the interpreter's rule); narrower types then wrap. */
static const char *f2i_helper(cg *g) {
  return cg_helper(g, "aicc_f2i",
                   "static inline int64_t aicc_f2i(double x) {\n"
                   "  return fabs(x) < 9.2e18 ? (int64_t)x : 0;\n"
                   "}\n");
}

static const struct {
  const char *ir, *f32, *f64; /* NULL: a helper below */
} math_fns[] = {
    {"exp", "expf", "exp"},       {"expm1", "expm1f", "expm1"}, {"log", "logf", "log"},
    {"log1p", "log1pf", "log1p"}, {"sqrt", "sqrtf", "sqrt"},    {"rsqrt", NULL, NULL},
    {"tanh", "tanhf", "tanh"},    {"sigmoid", NULL, NULL},      {"erf", "erff", "erf"},
    {"abs", "fabsf", "fabs"},     {"sign", NULL, NULL},         {"floor", "floorf", "floor"},
    {"ceil", "ceilf", "ceil"},    {"trunc", "truncf", "trunc"},
    {"round", "nearbyintf", "nearbyint"}, /* half to even in the default rounding mode */
    {"sin", "sinf", "sin"},       {"cos", "cosf", "cos"},       {"tan", "tanf", "tan"},
    {"asin", "asinf", "asin"},    {"acos", "acosf", "acos"},    {"atan", "atanf", "atan"},
    {"sinh", "sinhf", "sinh"},    {"cosh", "coshf", "cosh"},    {"asinh", "asinhf", "asinh"},
    {"acosh", "acoshf", "acosh"}, {"atanh", "atanhf", "atanh"}, {"pow", "powf", "pow"},
    {"atan2", "atan2f", "atan2"}, {"fmod", "fmodf", "fmod"},    {"fma", "fmaf", "fma"},
};

const char *cg_intrinsic_fn(cg *g, const char *name, aicc_dtype t) {
  bool f32 = t == AICC_DTYPE_F32;
  for (size_t i = 0; i < sizeof math_fns / sizeof math_fns[0]; i++) {
    if (strcmp(math_fns[i].ir, name) != 0) continue;
    if (math_fns[i].f32) return f32 ? math_fns[i].f32 : math_fns[i].f64;
    const char *c = f32 ? "float" : "double", *sfx = f32 ? "f32" : "f64", *lit = f32 ? "f" : "";
    char hname[64], def[512];
    snprintf(hname, sizeof hname, "aicc_%s_%s", name, sfx);
    if (strcmp(name, "rsqrt") == 0)
      snprintf(def, sizeof def, "static inline %s %s(%s x) { return 1.0%s / sqrt%s(x); }\n", c,
               hname, c, lit, lit);
    else if (strcmp(name, "sigmoid") == 0)
      snprintf(def, sizeof def,
               "static inline %s %s(%s x) { return 1.0%s / (1.0%s + exp%s(-x)); }\n", c, hname, c,
               lit, lit, lit);
    else /* sign: keeps NaN and the sign of zero */
      snprintf(def, sizeof def,
               "static inline %s %s(%s x) { return x > 0 ? 1.0%s : x < 0 ? -1.0%s : x; }\n", c,
               hname, c, lit, lit);
    return cg_helper(g, hname, def);
  }
  cg_fail(g, AICC_ERR_UNSUPPORTED, "unknown intrinsic '%s'", name);
  return "aicc_unknown";
}

/* ---- expressions ---- */

bool cg_nonneg(const cg *g, const aicc_loop_expr *e) {
  int64_t c;
  if (is_unsigned(e->type)) return true;
  switch (e->op) {
  case AICC_LOOP_INT: return e->v.i >= 0;
  case AICC_LOOP_VAR: {
    const cg_bind *b = cg_lookup(g, e);
    return b && b->nonneg;
  }
  case AICC_LOOP_ADD:
  case AICC_LOOP_MUL:
  case AICC_LOOP_MIN: return cg_nonneg(g, e->args[0]) && cg_nonneg(g, e->args[1]);
  case AICC_LOOP_MAX: return cg_nonneg(g, e->args[0]) || cg_nonneg(g, e->args[1]);
  case AICC_LOOP_DIV:
    return cg_nonneg(g, e->args[0]) && aicc_loop_expr_is_int_const(e->args[1], &c) && c > 0;
  case AICC_LOOP_MOD: return aicc_loop_expr_is_int_const(e->args[1], &c) && c > 0;
  case AICC_LOOP_SELECT: return cg_nonneg(g, e->args[1]) && cg_nonneg(g, e->args[2]);
  default: return false;
  }
}

static void args2(cg *g, const aicc_loop_expr *e, const char *fn, bool index) {
  cg_printf(g->out, "%s(", fn);
  cg_expr(g, e->args[0], index);
  cg_put(g->out, ", ");
  cg_expr(g, e->args[1], index);
  cg_put(g->out, ")");
}

static void cast_expr(cg *g, const aicc_loop_expr *e, bool index) {
  aicc_dtype to = e->type, from = e->args[0]->type;
  const aicc_loop_expr *a = e->args[0];
  cg_text *o = g->out;
  if (to == AICC_DTYPE_BOOL) { /* anything != 0 (NaN included) */
    cg_put(o, "(");
    cg_expr(g, a, index);
    cg_put(o, " != 0)");
  } else if (cg_is_float(from) && cg_is_float(to)) {
    cg_printf(o, "((%s)", cg_ctype(to));
    cg_expr(g, a, index);
    cg_put(o, ")");
  } else if (cg_is_float(from)) {
    cg_printf(o, "((%s)%s(", cg_ctype(to), f2i_helper(g));
    cg_expr(g, a, index);
    cg_put(o, "))");
  } else if (cg_is_float(to)) {
    /* 64-bit ints go through double first, as the interpreter rounds. */
    cg_printf(o, "((%s)%s", cg_ctype(to), is_64(from) && to == AICC_DTYPE_F32 ? "(double)" : "");
    cg_expr(g, a, index);
    cg_put(o, ")");
  } else {
    cg_printf(o, "((%s)", cg_ctype(to));
    cg_expr(g, a, index);
    cg_put(o, ")");
  }
}

static const char *c_op(aicc_loop_op op) {
  switch (op) {
  case AICC_LOOP_ADD: return "+";
  case AICC_LOOP_SUB: return "-";
  case AICC_LOOP_MUL: return "*";
  case AICC_LOOP_DIV: return "/";
  case AICC_LOOP_MOD: return "%";
  case AICC_LOOP_EQ: return "==";
  case AICC_LOOP_NE: return "!=";
  case AICC_LOOP_LT: return "<";
  case AICC_LOOP_LE: return "<=";
  case AICC_LOOP_GT: return ">";
  case AICC_LOOP_GE: return ">=";
  case AICC_LOOP_AND: return "&&";
  case AICC_LOOP_OR: return "||";
  default: return "?";
  }
}

static void binary_expr(cg *g, const aicc_loop_expr *e, bool index) {
  cg_text *o = g->out;
  aicc_loop_op op = e->op;
  aicc_dtype t = e->args[0]->type;
  const aicc_loop_expr *a = e->args[0], *b = e->args[1];
  if (op >= AICC_LOOP_EQ && op <= AICC_LOOP_OR) {
    cg_put(o, "(");
    cg_expr(g, a, index);
    cg_printf(o, " %s ", c_op(op));
    cg_expr(g, b, index);
    cg_put(o, ")");
    return;
  }
  if (cg_is_float(t)) {
    if (op == AICC_LOOP_MIN || op == AICC_LOOP_MAX) {
      args2(g, e, cg_fminmax_fn(g, t, op == AICC_LOOP_MAX), index);
    } else if (op == AICC_LOOP_MOD) {
      args2(g, e, cg_modfloor_fn(g, t), index);
    } else if (op == AICC_LOOP_SUB && a->op == AICC_LOOP_FLOAT && a->v.f == 0 && !signbit(a->v.f)) {
      /* GCC 12 folds `0.0 - (double)i` (and `0.0 - fabs(x)`) to a negation,
       * which is -0.0 for i == 0; a call hides the literal from that fold. */
      cg_printf(o, "%s(", zsub_helper(g, t));
      cg_expr(g, b, index);
      cg_put(o, ")");
    } else {
      cg_put(o, "(");
      cg_expr(g, a, index);
      cg_printf(o, " %s ", c_op(op));
      cg_expr(g, b, index);
      cg_put(o, ")");
    }
    return;
  }
  if (op == AICC_LOOP_MIN || op == AICC_LOOP_MAX) {
    args2(g, e, minmax_helper(g, op, t), index);
    return;
  }
  const char *ct = cg_ctype(t);
  if (op == AICC_LOOP_DIV || op == AICC_LOOP_MOD) {
    int64_t c;
    if (!is_unsigned(t) && aicc_loop_expr_is_int_const(b, &c) && c > 0 &&
        cg_nonneg(g, a)) { /* floor == truncation here */
      cg_put(o, "(");
      cg_expr(g, a, index);
      cg_printf(o, " %s ", c_op(op));
      cg_expr(g, b, index);
      cg_put(o, ")");
      return;
    }
    const char *h = divmod_helper(g, op, t);
    bool exact = t == AICC_DTYPE_I32 || t == AICC_DTYPE_I64 || t == AICC_DTYPE_U32 ||
                 t == AICC_DTYPE_U64; /* the helper's own type */
    if (t == AICC_DTYPE_BOOL) cg_put(o, "(");
    else if (!exact) cg_printf(o, "((%s)", ct);
    args2(g, e, h, index);
    if (t == AICC_DTYPE_BOOL || !exact) cg_put(o, t == AICC_DTYPE_BOOL ? " != 0)" : ")");
    return;
  }
  /* +, -, *: addressing and control arithmetic on i32/i64 is plain signed C
   * (the IR assumes it does not overflow, and compilers analyze it better);
   * everything else wraps through the unsigned type of its width. */
  bool plain = index && (t == AICC_DTYPE_I32 || t == AICC_DTYPE_I64) &&
               !(aicc_loop_expr_is_const(a) && aicc_loop_expr_is_const(b));
  if (plain) {
    cg_put(o, "(");
    cg_expr(g, a, index);
    cg_printf(o, " %s ", c_op(op));
    cg_expr(g, b, index);
    cg_put(o, ")");
    return;
  }
  const char *u = is_64(t) ? "uint64_t" : "uint32_t";
  if (t == AICC_DTYPE_BOOL) cg_put(o, "((");
  else cg_printf(o, "((%s)(", ct);
  cg_printf(o, "(%s)", u);
  cg_expr(g, a, index);
  cg_printf(o, " %s (%s)", c_op(op), u);
  cg_expr(g, b, index);
  cg_put(o, t == AICC_DTYPE_BOOL ? ") != 0)" : "))");
}

void cg_offset(cg *g, const aicc_loop_buffer *b, const aicc_loop_expr *const *index) {
  const cg_buffer_info *bi = cg_buffer(g, b);
  if (!bi) {
    cg_fail(g, AICC_ERR_INVALID, "buffer '%s' is not bound", b->name);
    return;
  }
  int64_t konst = 0;
  bool any = false;
  for (int k = 0; k < b->rank; k++) {
    int64_t ext = 0, c;
    (void)aicc_loop_expr_is_int_const(b->shape[k], &ext);
    if (ext == 1) continue; /* an in-bounds index is 0 */
    if (aicc_loop_expr_is_int_const(index[k], &c)) {
      konst += c * bi->strides[k];
      continue;
    }
    if (any) cg_put(g->out, " + ");
    any = true;
    bool wide = index[k]->type == AICC_DTYPE_I64;
    if (!wide) cg_put(g->out, "(int64_t)");
    cg_expr(g, index[k], true);
    if (bi->strides[k] != 1) cg_printf(g->out, " * %" PRId64, bi->strides[k]);
  }
  if (!any) cg_printf(g->out, "%" PRId64, konst);
  else if (konst > 0) cg_printf(g->out, " + %" PRId64, konst);
  else if (konst < 0) cg_printf(g->out, " - %" PRId64, -konst);
}

void cg_expr(cg *g, const aicc_loop_expr *e, bool index) {
  if (g->err) return;
  cg_text *o = g->out;
  if (!cg_ctype(e->type)) {
    cg_fail(g, AICC_ERR_UNSUPPORTED, "dtype %s has no C form", aicc_dtype_text(e->type));
    return;
  }
  switch (e->op) {
  case AICC_LOOP_INT: int_literal(o, e->type, e->v.i); return;
  case AICC_LOOP_FLOAT: cg_float_literal(o, e->type, e->v.f); return;
  case AICC_LOOP_VAR: {
    const cg_bind *b = cg_lookup(g, e);
    if (!b) cg_fail(g, AICC_ERR_UNSUPPORTED, "variable '%s' is not bound", e->v.name);
    else if (b->vector) cg_fail(g, AICC_ERR_INTERNAL, "vector '%s' in scalar code", e->v.name);
    else cg_put(o, b->cname);
    return;
  }
  case AICC_LOOP_LOAD: {
    const cg_buffer_info *bi = cg_buffer(g, e->buf);
    if (!bi) {
      cg_fail(g, AICC_ERR_INVALID, "buffer '%s' is not bound", e->buf->name);
      return;
    }
    cg_printf(o, "%s[", bi->cname);
    cg_offset(g, e->buf, e->args);
    cg_put(o, "]");
    return;
  }
  case AICC_LOOP_CALL: {
    if (!cg_is_float(e->type)) {
      cg_fail(g, AICC_ERR_UNSUPPORTED, "intrinsic '%s' of type %s", e->v.name, aicc_dtype_text(e->type));
      return;
    }
    cg_printf(o, "%s(", cg_intrinsic_fn(g, e->v.name, e->type));
    for (uint32_t k = 0; k < e->nargs; k++) {
      if (k) cg_put(o, ", ");
      cg_expr(g, e->args[k], false);
    }
    cg_put(o, ")");
    return;
  }
  case AICC_LOOP_SELECT:
    if (!index) {
      /* A value select goes through a helper so both operands are evaluated
       * before the choice, as the IR defines it. Written as `c ? a : b` with
       * loads in the arms, GCC 12.2 at -O3 on AVX-512 turns the arms' loads
       * into masked loads with the wrong mask inside nested loops (ONNX
       * test_prelu_example gave -0); with the operands evaluated first it
       * only blends. */
      cg_printf(o, "%s(", select_helper(g, e->type));
      cg_expr(g, e->args[0], false);
      cg_put(o, ", ");
      cg_expr(g, e->args[1], false);
      cg_put(o, ", ");
      cg_expr(g, e->args[2], false);
      cg_put(o, ")");
      return;
    }
    cg_put(o, "(");
    cg_expr(g, e->args[0], index);
    cg_put(o, " ? ");
    cg_expr(g, e->args[1], index);
    cg_put(o, " : ");
    cg_expr(g, e->args[2], index);
    cg_put(o, ")");
    return;
  case AICC_LOOP_CAST: cast_expr(g, e, index); return;
  case AICC_LOOP_NOT:
    cg_put(o, "(!");
    cg_expr(g, e->args[0], index);
    cg_put(o, ")");
    return;
  default: binary_expr(g, e, index); return;
  }
}

/* ---- statements ---- */

/* Whether the C for s reads var (evaluate statements are dropped, so they
 * do not count; a rebinding hides the outer var). */
bool cg_stmt_uses(const aicc_loop_stmt *s, const aicc_loop_expr *var) {
  if (!s) return false;
  switch (s->kind) {
  case AICC_LOOP_FOR:
    return aicc_loop_expr_uses_var(s->min, var) || aicc_loop_expr_uses_var(s->extent, var) ||
           (s->var != var && cg_stmt_uses(s->body, var));
  case AICC_LOOP_LET:
    return aicc_loop_expr_uses_var(s->value, var) || (s->var != var && cg_stmt_uses(s->body, var));
  case AICC_LOOP_IF:
    return aicc_loop_expr_uses_var(s->value, var) || cg_stmt_uses(s->body, var) ||
           cg_stmt_uses(s->otherwise, var);
  case AICC_LOOP_ALLOCATE: return cg_stmt_uses(s->body, var);
  case AICC_LOOP_STORE:
    if (aicc_loop_expr_uses_var(s->value, var)) return true;
    for (int k = 0; k < s->buf->rank; k++)
      if (aicc_loop_expr_uses_var(s->index[k], var)) return true;
    return false;
  case AICC_LOOP_SEQ:
    for (size_t i = 0; i < s->n; i++)
      if (cg_stmt_uses(s->stmts[i], var)) return true;
    return false;
  case AICC_LOOP_EVALUATE: return false;
  }
  return false;
}

static bool push_buffer(cg *g, const aicc_loop_buffer *b, const char *cname) {
  if (g->nbufs == g->bufs_cap) {
    size_t cap = g->bufs_cap ? 2 * g->bufs_cap : 16;
    cg_buffer_info *n = realloc(g->bufs, cap * sizeof *n);
    if (!n) {
      cg_fail(g, AICC_ERR_NOMEM, "out of memory");
      return false;
    }
    g->bufs = n;
    g->bufs_cap = cap;
  }
  int64_t *st = malloc((size_t)(b->rank ? b->rank : 1) * sizeof *st);
  if (!st) {
    cg_fail(g, AICC_ERR_NOMEM, "out of memory");
    return false;
  }
  int64_t s = 1;
  for (int k = b->rank; k-- > 0;) {
    int64_t ext;
    if (!aicc_loop_expr_is_int_const(b->shape[k], &ext) || ext < 0) {
      free(st);
      cg_fail(g, AICC_ERR_UNSUPPORTED, "buffer '%s' has a non-constant extent (dim %d)", b->name, k);
      return false;
    }
    st[k] = b->strides ? b->strides[k] : s;
    if (ext && s > INT64_MAX / 16 / ext) {
      free(st);
      cg_fail(g, AICC_ERR_UNSUPPORTED, "buffer '%s' is too large", b->name);
      return false;
    }
    s *= ext;
  }
  g->bufs[g->nbufs++] = (cg_buffer_info){b, cname, st, false};
  return true;
}

static void pop_buffers(cg *g, size_t to) {
  while (g->nbufs > to) free(g->bufs[--g->nbufs].strides);
}

static void shape_comment(cg_text *o, const aicc_loop_buffer *b) {
  cg_printf(o, "/* %s: %s[", b->name, aicc_dtype_text(b->type));
  for (int k = 0; k < b->rank; k++) {
    int64_t e = 0;
    (void)aicc_loop_expr_is_int_const(b->shape[k], &e);
    cg_printf(o, "%s%" PRId64, k ? ", " : "", e);
  }
  cg_put(o, "]");
  for (int k = 0; b->strides && k < b->rank; k++)
    cg_printf(o, "%s%" PRId64 "%s", k ? ", " : " strides [", b->strides[k],
              k + 1 == b->rank ? "]" : "");
  cg_put(o, " */");
}

static void buffer_use(const aicc_loop_stmt *s, const aicc_loop_buffer *b, bool *read, bool *written);

static int64_t align64(int64_t n) { return (n + 63) & ~(int64_t)63; }

static int64_t temp_bytes(const aicc_loop_buffer *b) {
  return aicc_loop_buffer_numel(b) * (int64_t)(aicc_dtype_get(b->type)->bits / 8);
}

/* Whether a temporary of `bytes` goes on the stack while `live` bytes of
 * stack temporaries are live (else it is a heap temporary). */
static bool on_stack(int64_t bytes, int64_t live) {
  return bytes <= STACK_TEMP_MAX && live + bytes <= STACK_LIVE_MAX;
}

/* The scratch bytes s needs with `live` bytes of stack temporaries live: the
 * most, over every nesting of allocates, of the heap temporaries live at once
 * (each rounded up to 64 bytes). It mirrors allocate_stmt's choices. */
static int64_t scratch_need(const aicc_loop_stmt *s, int64_t live) {
  if (!s) return 0;
  switch (s->kind) {
  case AICC_LOOP_FOR:
  case AICC_LOOP_LET: return scratch_need(s->body, live);
  case AICC_LOOP_IF: {
    int64_t a = scratch_need(s->body, live), b = scratch_need(s->otherwise, live);
    return a > b ? a : b;
  }
  case AICC_LOOP_SEQ: {
    int64_t m = 0;
    for (size_t i = 0; i < s->n; i++) {
      int64_t k = scratch_need(s->stmts[i], live);
      if (k > m) m = k;
    }
    return m;
  }
  case AICC_LOOP_ALLOCATE: {
    bool read = false, written = false;
    buffer_use(s->body, s->buf, &read, &written);
    if (!read && !written) return scratch_need(s->body, live);
    int64_t bytes = temp_bytes(s->buf);
    if (on_stack(bytes, live)) return scratch_need(s->body, live + bytes);
    return align64(bytes) + scratch_need(s->body, live);
  }
  case AICC_LOOP_STORE:
  case AICC_LOOP_EVALUATE: return 0;
  }
  return 0;
}

int64_t aicc_codegen_func_scratch(const aicc_loop_func *f) {
  return f ? scratch_need(f->body, 0) : 0;
}

/* A heap temporary lives at a fixed offset of the call's scratch (the
 * offsets of those live at once are disjoint), or, when the caller gave no
 * scratch, in its own malloc'ed block (codegen.h). */
static void allocate_stmt(cg *g, const aicc_loop_stmt *s) {
  const aicc_loop_buffer *b = s->buf;
  const char *ct = cg_storage_type(b->type);
  if (!ct) {
    cg_fail(g, AICC_ERR_UNSUPPORTED, "buffer '%s' of dtype %s", b->name, aicc_dtype_text(b->type));
    return;
  }
  bool read = false, written = false;
  buffer_use(s->body, b, &read, &written);
  if (!read && !written) { /* never touched: no storage */
    cg_stmt(g, s->body);
    return;
  }
  const char *name = cg_cname(g, b, b->name);
  size_t nb = g->nbufs;
  if (!push_buffer(g, b, name)) return;
  int64_t n = aicc_loop_buffer_numel(b);
  int64_t bytes = temp_bytes(b);
  cg_line(g, "{");
  g->indent++;
  for (int i = 0; i < g->indent; i++) cg_put(g->out, "  ");
  if (on_stack(bytes, g->stack_bytes)) {
    cg_printf(g->out, "%s %s[%" PRId64 "] AICC_ALIGN64; ", ct, name, n ? n : 1);
    shape_comment(g->out, b);
    cg_put(g->out, "\n");
    g->stack_bytes += bytes;
    cg_stmt(g, s->body);
    g->stack_bytes -= bytes;
  } else {
    int64_t off = g->scratch_live;
    if (!g->scratch || off + align64(bytes) > g->scratch_max) {
      cg_fail(g, AICC_ERR_INTERNAL, "temporary '%s' does not fit the func's scratch", b->name);
      return;
    }
    char raw[128];
    snprintf(raw, sizeof raw, "%s_raw", name);
    const char *rawn = cg_fresh(g, raw);
    cg_printf(g->out, "void *%s = %s ? NULL : malloc((size_t)%" PRId64 " + 63); ", rawn,
              g->scratch, bytes);
    shape_comment(g->out, b);
    cg_put(g->out, "\n");
    cg_line(g, "if (!%s && !%s) {", g->scratch, rawn);
    for (size_t i = g->nheap; i-- > 0;) cg_line(g, "  free(%s);", g->heap[i].raw);
    cg_line(g, "  return 1;");
    cg_line(g, "}");
    cg_line(g, "%s *restrict %s = (%s *)(%s ? %s + %" PRId64 " : (char *)(((uintptr_t)%s + 63) & ~(uintptr_t)63));",
            ct, name, ct, g->scratch, g->scratch, off, rawn);
    if (g->nheap == g->heap_cap) {
      size_t cap = g->heap_cap ? 2 * g->heap_cap : 8;
      cg_heap *h = realloc(g->heap, cap * sizeof *h);
      if (!h) {
        cg_fail(g, AICC_ERR_NOMEM, "out of memory");
        return;
      }
      g->heap = h;
      g->heap_cap = cap;
    }
    g->heap[g->nheap++] = (cg_heap){rawn};
    g->scratch_live += align64(bytes);
    cg_stmt(g, s->body);
    g->scratch_live -= align64(bytes);
    g->nheap--;
    cg_line(g, "free(%s);", rawn);
  }
  g->indent--;
  cg_line(g, "}");
  pop_buffers(g, nb);
}

static void let_stmt(cg *g, const aicc_loop_stmt *s) {
  if (!cg_stmt_uses(s->body, s->var)) { /* pure value, never read: no C */
    cg_stmt(g, s->body);
    return;
  }
  const char *ct = cg_ctype(s->var->type);
  if (!ct) {
    cg_fail(g, AICC_ERR_UNSUPPORTED, "variable '%s' of dtype %s", s->var->v.name,
            aicc_dtype_text(s->var->type));
    return;
  }
  const char *name = cg_cname(g, s->var, s->var->v.name);
  cg_line(g, "{");
  g->indent++;
  for (int i = 0; i < g->indent; i++) cg_put(g->out, "  ");
  cg_printf(g->out, "const %s %s = ", ct, name);
  cg_expr(g, s->value, !cg_is_float(s->var->type));
  cg_put(g->out, ";\n");
  size_t mark = g->nscope;
  if (cg_push(g, (cg_bind){.var = s->var, .cname = name, .nonneg = cg_nonneg(g, s->value)})) {
    cg_stmt(g, s->body);
    cg_pop(g, mark);
  }
  g->indent--;
  cg_line(g, "}");
}

static void indent_put(cg *g) {
  for (int i = 0; i < g->indent; i++) cg_put(g->out, "  ");
}

/* `for (T v = min[, v_end = min + extent]; v < end; v += step)` and the
 * body. For the parallel loop, [min, min + extent) is cut to this task's
 * contiguous chunk. */
static void for_stmt(cg *g, const aicc_loop_stmt *s) {
  const char *ct = cg_ctype(s->var->type);
  if (!ct || !aicc_loop_type_is_int(s->var->type) || s->var->type == AICC_DTYPE_BOOL) {
    cg_fail(g, AICC_ERR_UNSUPPORTED, "loop variable '%s' of dtype %s", s->var->v.name,
            aicc_dtype_text(s->var->type));
    return;
  }
  if (s->for_kind == AICC_LOOP_VECTORIZED && !g->vec) {
    const char *why = "the isa is scalar";
    if (g->opt->isa != AICC_CODEGEN_SCALAR && cg_simd_loop(g, s, &why)) return;
    if (g->err) return;
    cg_line(g, "/* vectorized %s: scalar (%s) */", s->var->v.name, why);
    cg_line(g, "AICC_GCC_PRAGMA(GCC ivdep)");
  }
  int64_t ext = 0, mn = 0;
  bool cext = aicc_loop_expr_is_int_const(s->extent, &ext);
  bool zero_min = aicc_loop_expr_is_int_const(s->min, &mn) && mn == 0;
  if (s->for_kind == AICC_LOOP_UNROLLED && cext && ext > 1 && ext <= 64)
    cg_line(g, "AICC_GCC_PRAGMA(GCC unroll %" PRId64 ")", ext);
  const char *v = cg_cname(g, s->var, s->var->v.name);
  size_t mark = g->nscope;
  if (s->for_kind == AICC_LOOP_PARALLEL && !g->vec) {
    char b[128];
    snprintf(b, sizeof b, "%s_lo", v);
    const char *lo = cg_fresh(g, b);
    snprintf(b, sizeof b, "%s_hi", v);
    const char *hi = cg_fresh(g, b);
    snprintf(b, sizeof b, "%s_n", v);
    const char *n = cg_fresh(g, b);
    cg_line(g, "{");
    g->indent++;
    indent_put(g);
    cg_printf(g->out, "const int64_t %s = (int64_t)(", n);
    cg_expr(g, s->extent, true);
    cg_put(g->out, ");\n");
    cg_line(g, "/* this task's chunk of %s: [%s*task/ntasks, %s*(task+1)/ntasks) */", v, n, n);
    indent_put(g);
    cg_printf(g->out, "const %s %s = (%s)(", ct, lo, ct);
    cg_expr(g, s->min, true);
    cg_printf(g->out, " + (%s > 0 ? %s * task / ntasks : 0));\n", n, n);
    indent_put(g);
    cg_printf(g->out, "const %s %s = (%s)(", ct, hi, ct);
    cg_expr(g, s->min, true);
    cg_printf(g->out, " + (%s > 0 ? %s * (task + 1) / ntasks : 0));\n", n, n);
    cg_line(g, "for (%s %s = %s; %s < %s; %s++) {", ct, v, lo, v, hi, v);
  } else {
    indent_put(g);
    cg_printf(g->out, "for (%s %s = ", ct, v);
    cg_expr(g, s->min, true);
    if (zero_min) {
      cg_printf(g->out, "; %s < ", v);
      cg_expr(g, s->extent, true);
      cg_printf(g->out, "; %s++) {\n", v);
    } else {
      char b[128];
      snprintf(b, sizeof b, "%s_end", v);
      const char *end = cg_fresh(g, b);
      cg_printf(g->out, ", %s = ", end);
      cg_expr(g, s->min, true);
      cg_put(g->out, " + ");
      cg_expr(g, s->extent, true);
      cg_printf(g->out, "; %s < %s; %s++) {\n", v, end, v);
    }
  }
  if (cg_push(g, (cg_bind){.var = s->var, .cname = v, .nonneg = cg_nonneg(g, s->min)})) {
    g->indent++;
    cg_stmt(g, s->body);
    g->indent--;
    cg_pop(g, mark);
  }
  cg_line(g, "}");
  if (s->for_kind == AICC_LOOP_PARALLEL && !g->vec) {
    g->indent--;
    cg_line(g, "}");
  }
}

void cg_stmt(cg *g, const aicc_loop_stmt *s) {
  if (g->err || !s) return;
  switch (s->kind) {
  case AICC_LOOP_FOR: for_stmt(g, s); return;
  case AICC_LOOP_LET:
    if (g->vec && cg_simd_depends(g, s->value)) cg_simd_let(g, s);
    else let_stmt(g, s);
    return;
  case AICC_LOOP_IF:
    indent_put(g);
    cg_put(g->out, "if (");
    cg_expr(g, s->value, true);
    cg_put(g->out, ") {\n");
    g->indent++;
    cg_stmt(g, s->body);
    g->indent--;
    if (s->otherwise) {
      cg_line(g, "} else {");
      g->indent++;
      cg_stmt(g, s->otherwise);
      g->indent--;
    }
    cg_line(g, "}");
    return;
  case AICC_LOOP_ALLOCATE: allocate_stmt(g, s); return;
  case AICC_LOOP_STORE: {
    if (g->vec) {
      cg_simd_store(g, s);
      return;
    }
    const cg_buffer_info *bi = cg_buffer(g, s->buf);
    if (!bi) {
      cg_fail(g, AICC_ERR_INVALID, "buffer '%s' is not bound", s->buf->name);
      return;
    }
    indent_put(g);
    cg_printf(g->out, "%s[", bi->cname);
    cg_offset(g, s->buf, s->index);
    cg_put(g->out, "] = ");
    cg_expr(g, s->value, false);
    cg_put(g->out, ";\n");
    return;
  }
  case AICC_LOOP_SEQ:
    for (size_t i = 0; i < s->n; i++) cg_stmt(g, s->stmts[i]);
    return;
  case AICC_LOOP_EVALUATE: return; /* no effects to keep */
  }
}

/* ---- funcs ---- */

static void count_parallel(const aicc_loop_stmt *s, int *n) {
  if (!s) return;
  switch (s->kind) {
  case AICC_LOOP_FOR:
    if (s->for_kind == AICC_LOOP_PARALLEL) (*n)++;
    count_parallel(s->body, n);
    return;
  case AICC_LOOP_LET:
  case AICC_LOOP_ALLOCATE: count_parallel(s->body, n); return;
  case AICC_LOOP_IF:
    count_parallel(s->body, n);
    count_parallel(s->otherwise, n);
    return;
  case AICC_LOOP_SEQ:
    for (size_t i = 0; i < s->n; i++) count_parallel(s->stmts[i], n);
    return;
  default: return;
  }
}

bool aicc_codegen_func_parallel(const aicc_loop_func *f) {
  int n = 0;
  count_parallel(f ? f->body : NULL, &n);
  return n > 0;
}

/* The threading rule of codegen.h: at most one parallel loop, enclosed by
 * allocate/let statements only. */
static void check_parallel(cg *g, const aicc_loop_func *f) {
  int n = 0;
  count_parallel(f->body, &n);
  if (n == 0) return;
  if (n > 1) {
    cg_fail(g, AICC_ERR_UNSUPPORTED, "%d parallel loops (at most one per func)", n);
    return;
  }
  const aicc_loop_stmt *s = f->body;
  while (s->kind == AICC_LOOP_LET || s->kind == AICC_LOOP_ALLOCATE) s = s->body;
  if (s->kind != AICC_LOOP_FOR || s->for_kind != AICC_LOOP_PARALLEL)
    cg_fail(g, AICC_ERR_UNSUPPORTED,
            "the parallel loop must be the whole body, under allocate/let statements only");
}

static void scan_buffers(const aicc_loop_expr *e, const aicc_loop_buffer *b, bool *read) {
  if (e->op == AICC_LOOP_LOAD && e->buf == b) *read = true;
  for (uint32_t k = 0; k < e->nargs && !*read; k++) scan_buffers(e->args[k], b, read);
}

/* Whether s loads or stores b (evaluate statements are dropped). */
static void buffer_use(const aicc_loop_stmt *s, const aicc_loop_buffer *b, bool *read, bool *written) {
  if (!s) return;
  switch (s->kind) {
  case AICC_LOOP_FOR:
    scan_buffers(s->min, b, read);
    scan_buffers(s->extent, b, read);
    buffer_use(s->body, b, read, written);
    return;
  case AICC_LOOP_LET:
    scan_buffers(s->value, b, read);
    buffer_use(s->body, b, read, written);
    return;
  case AICC_LOOP_IF:
    scan_buffers(s->value, b, read);
    buffer_use(s->body, b, read, written);
    buffer_use(s->otherwise, b, read, written);
    return;
  case AICC_LOOP_ALLOCATE: buffer_use(s->body, b, read, written); return;
  case AICC_LOOP_STORE:
    if (s->buf == b) *written = true;
    scan_buffers(s->value, b, read);
    for (int k = 0; k < s->buf->rank; k++) scan_buffers(s->index[k], b, read);
    return;
  case AICC_LOOP_SEQ:
    for (size_t i = 0; i < s->n; i++) buffer_use(s->stmts[i], b, read, written);
    return;
  case AICC_LOOP_EVALUATE: return;
  }
}

static void reset_func(cg *g) {
  for (size_t i = 0; i < g->nnames; i++) free(g->names[i].cname);
  g->nnames = 0;
  pop_buffers(g, 0);
  g->nscope = 0;
  g->nheap = 0;
  g->stack_bytes = 0;
  g->scratch = NULL;
  g->scratch_live = 0;
  g->scratch_max = 0;
  g->vec = NULL;
  g->func_simd = false;
}

static void emit_func(cg *g, const aicc_loop_func *f, const char *fname, cg_text *dst) {
  cg_text body = {0};
  g->func = f;
  g->out = &body;
  g->indent = 1;
  check_parallel(g, f);
  bool parallel = aicc_codegen_func_parallel(f);
  bool any_buf = false;
  for (size_t i = 0; i < f->nparams && !g->err; i++) {
    const aicc_loop_param *p = &f->params[i];
    if (!p->buf) {
      cg_fail(g, AICC_ERR_UNSUPPORTED, "scalar parameter '%s' (params must be buffers)",
              p->var ? p->var->v.name : "?");
      break;
    }
    const char *ct = cg_storage_type(p->buf->type);
    if (!ct) {
      cg_fail(g, AICC_ERR_UNSUPPORTED, "buffer '%s' of dtype %s", p->buf->name,
              aicc_dtype_text(p->buf->type));
      break;
    }
    const char *name = cg_cname(g, p->buf, p->buf->name);
    if (!push_buffer(g, p->buf, name)) break;
    bool read = false, written = false;
    buffer_use(f->body, p->buf, &read, &written);
    if (!read && !written) {
      cg_line(g, "/* bufs[%zu]: %s, unused */", i, p->buf->name);
      continue;
    }
    any_buf = true;
    indent_put(g);
    const char *cq = written ? "" : "const ";
    cg_printf(&body, "%s%s *restrict %s = (%s%s *)bufs[%zu]; ", cq, ct, name, cq, ct, i);
    shape_comment(&body, p->buf);
    cg_put(&body, "\n");
  }
  g->scratch_max = aicc_codegen_func_scratch(f);
  if (g->scratch_max > 0 && !g->err) {
    any_buf = true;
    g->scratch = cg_fresh(g, "scratch");
    cg_line(g, "/* bufs[%zu]: scratch, %" PRId64 " bytes a task (NULL: malloc) */", f->nparams,
            g->scratch_max);
    cg_line(g, "char *%s = bufs[%zu] ? (char *)bufs[%zu] + (size_t)task * %" PRId64 " : NULL;",
            g->scratch, f->nparams, f->nparams, g->scratch_max);
  }
  if (!any_buf) cg_line(g, "(void)bufs;");
  if (!parallel) cg_line(g, "(void)task;\n  (void)ntasks;");
  cg_stmt(g, f->body);
  cg_line(g, "return 0;");
  if (!g->err) {
    if (g->opt->comments) {
      char *txt = aicc_loop_func_print(f);
      if (!txt) cg_fail(g, AICC_ERR_NOMEM, "out of memory");
      else {
        char *line = txt;
        while (*line) {
          char *nl = strchr(line, '\n');
          size_t len = nl ? (size_t)(nl - line) : strlen(line);
          cg_put(dst, "// ");
          cg_putn(dst, line, len);
          cg_put(dst, "\n");
          line += len + (nl ? 1 : 0);
        }
        free(txt);
      }
    }
    cg_printf(dst, "int %s(void *const *bufs, int task, int ntasks);\n", fname);
    if (g->func_simd) cg_printf(dst, "%s\n", g->opt->isa == AICC_CODEGEN_AVX512 ? "AICC_TARGET_AVX512" : "AICC_TARGET_AVX2");
    cg_printf(dst, "int %s(void *const *bufs, int task, int ntasks) {\n", fname);
    if (body.data) cg_put(dst, body.data);
    cg_put(dst, "}\n\n");
  }
  cg_text_free(&body);
  reset_func(g);
}

static const char prelude[] =
    "#include <math.h>\n"
    "#include <stdint.h>\n"
    "#include <stdlib.h>\n"
    "%s"
    "\n"
    "/* The IR may compare an unsigned value with 0 or a variable with itself;\n"
    " * those are meant, not mistakes. */\n"
    "#if defined(__GNUC__)\n"
    "#pragma GCC diagnostic ignored \"-Wtype-limits\"\n"
    "#pragma GCC diagnostic ignored \"-Wtautological-compare\"\n"
    "#define AICC_ALIGN64 __attribute__((aligned(64)))\n"
    "#define AICC_TARGET_AVX512 \\\n"
    "  __attribute__((target(\"avx512f,avx512dq,avx512bw,avx512vl,avx2,fma\")))\n"
    "#define AICC_TARGET_AVX2 __attribute__((target(\"avx2,fma\")))\n"
    "#else\n"
    "#define AICC_ALIGN64\n"
    "#define AICC_TARGET_AVX512\n"
    "#define AICC_TARGET_AVX2\n"
    "#endif\n"
    "#if defined(__GNUC__) && !defined(__clang__)\n"
    "#define AICC_GCC_PRAGMA(x) _Pragma(#x)\n"
    "#else\n"
    "#define AICC_GCC_PRAGMA(x)\n"
    "#endif\n\n";

aicc_status aicc_codegen_c(const aicc_loop_func *const *funcs, size_t n,
                           const aicc_codegen_options *opt, char **src, size_t *len) {
  aicc_codegen_options defaults = {0};
  if (!opt) opt = &defaults;
  if (src) *src = NULL;
  if (len) *len = 0;
  if (!src) return aicc_errorf(AICC_ERR_INVALID, "codegen: no output pointer");
  cg g = {.opt = opt};
  cg_text fns = {0};
  char **fnames = calloc(n ? n : 1, sizeof *fnames);
  if (!fnames) return aicc_errorf(AICC_ERR_NOMEM, "codegen: out of memory");
  for (size_t i = 0; i < n && !g.err; i++) {
    const aicc_loop_func *f = funcs[i];
    char id[256];
    aicc_codegen_ident(f->name, id, sizeof id);
    g.func = f;
    for (size_t j = 0; j < i; j++)
      if (strcmp(fnames[j], id) == 0) cg_fail(&g, AICC_ERR_UNSUPPORTED, "C name '%s' is used twice", id);
    for (const char *const *kw = (const char *const[]){"auto", "break", "case", "char", "const",
             "continue", "default", "do", "double", "else", "enum", "extern", "float", "for",
             "goto", "if", "inline", "int", "long", "register", "restrict", "return", "short",
             "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned",
             "void", "volatile", "while", "main", NULL};
         *kw; kw++)
      if (strcmp(*kw, id) == 0) cg_fail(&g, AICC_ERR_UNSUPPORTED, "C name '%s' is reserved", id);
    fnames[i] = malloc(strlen(id) + 1);
    if (!fnames[i]) {
      cg_fail(&g, AICC_ERR_NOMEM, "out of memory");
      break;
    }
    strcpy(fnames[i], id);
    if (!g.err) emit_func(&g, f, id, &fns);
  }
  cg_text all = {0};
  if (!g.err) {
    cg_put(&all, "/* Generated by aicc codegen (loop IR -> C99). */\n");
    cg_printf(&all, prelude, g.uses_simd ? "#include <immintrin.h>\n" : "");
    if (g.helpers.data) cg_put(&all, g.helpers.data);
    if (fns.data) cg_put(&all, fns.data);
    if (all.oom || fns.oom || g.helpers.oom) cg_fail(&g, AICC_ERR_NOMEM, "out of memory");
  }
  for (size_t i = 0; i < n; i++) free(fnames[i]);
  free(fnames);
  reset_func(&g);
  free(g.names);
  free(g.bufs);
  free(g.scope);
  free(g.heap);
  for (size_t i = 0; i < g.nhelpers; i++) free(g.helper_names[i]);
  free(g.helper_names);
  cg_text_free(&g.helpers);
  cg_text_free(&fns);
  if (g.err) {
    cg_text_free(&all);
    return g.err;
  }
  *src = all.data ? all.data : calloc(1, 1);
  if (len) *len = all.len;
  return NULL;
}
