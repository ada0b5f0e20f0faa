/* Compute definitions of the elementwise math ops: unary math, binary and
 * variadic arithmetic, logic and comparisons with numpy broadcasting, Where,
 * Cast / CastLike and inference-mode Dropout. Each says what its reference
 * kernel (elementwise_unary.c, elementwise_binary.c, cast.c, loss.c)
 * computes, value for value, in IR operators; the activations are in
 * activation.c. Ops the IR cannot say (bitwise and/or/xor) stay unlowered. */
#include "ops/lower/ewise.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

typedef const aicc_loop_expr *ex;

/* ---- dtype classes ---- */

bool aicc_lower_ew_is_float(aicc_dtype t) { return t == AICC_DTYPE_F32 || t == AICC_DTYPE_F64; }
bool aicc_lower_ew_is_int(aicc_dtype t) { return aicc_dtype_is_int(t) && aicc_lower_dtype_ok(t); }
bool aicc_lower_ew_is_uint(aicc_dtype t) {
  return aicc_lower_ew_is_int(t) && !aicc_dtype_is_signed_int(t);
}
bool aicc_lower_ew_is_number(aicc_dtype t) {
  return aicc_lower_ew_is_float(t) || aicc_lower_ew_is_int(t);
}
bool aicc_lower_ew_is_signed(aicc_dtype t) {
  return aicc_lower_ew_is_float(t) || (aicc_lower_ew_is_int(t) && aicc_dtype_is_signed_int(t));
}
static bool is_bool(aicc_dtype t) { return t == AICC_DTYPE_BOOL; }
static bool number_or_bool(aicc_dtype t) { return aicc_lower_ew_is_number(t) || is_bool(t); }

/* ---- the one-stage map ---- */

enum { MAX_OPERANDS = 64 };

aicc_status aicc_lower_ew_map(aicc_lower_ctx *c, int n_in, bool (*ok)(aicc_dtype), bool mixed,
                              aicc_lower_ew_body body, const void *p) {
  const aicc_loop_buffer *y = c->out[0];
  if (!y) return NULL;
  if (n_in > c->n_in || n_in > MAX_OPERANDS)
    return aicc_lower_unsupported(c, "%d operands", n_in);
  for (int k = 0; k < n_in; k++) {
    if (!c->in[k]) return aicc_lower_unsupported(c, "input %d is missing", k);
    aicc_dtype t = c->in[k]->type;
    if (!aicc_lower_dtype_ok(t) || (ok && !ok(t)))
      return aicc_lower_unsupported(c, "input %d dtype %s", k, aicc_dtype_text(t));
    if (!mixed && t != c->in[0]->type)
      return aicc_lower_unsupported(c, "input %d is %s, input 0 is %s", k, aicc_dtype_text(t),
                                    aicc_dtype_text(c->in[0]->type));
  }
  if (!aicc_lower_dtype_ok(y->type))
    return aicc_lower_unsupported(c, "output dtype %s", aicc_dtype_text(y->type));
  aicc_loop_stage *s = aicc_lower_stage(c, y);
  if (!s) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK], *x[MAX_OPERANDS];
  aicc_lower_axis_index(s, idx);
  for (int k = 0; k < n_in; k++) {
    if (c->in[k]->rank > y->rank)
      return aicc_lower_unsupported(c, "input %d has rank %d > output rank %d", k,
                                    c->in[k]->rank, y->rank);
    x[k] = aicc_lower_load_bcast(c, c->in[k], y->rank, idx);
  }
  aicc_lower_ew e = {c, c->lc, n_in > 0 ? c->in[0]->type : y->type, y->type, p};
  s->body = body(&e, x);
  s->inlinable = true;
  s->op_class = AICC_LOOP_CLASS_ELEMENTWISE;
  return aicc_lower_emit(c, s);
}

/* ---- expression shorthands (lc in scope) ---- */

#define BIN(op, a, b) aicc_loop_binary(lc, AICC_LOOP_##op, (a), (b))
#define SEL(q, a, b) aicc_loop_select(lc, (q), (a), (b))
#define CALL1(name, a) aicc_loop_call(lc, (name), 1, (const aicc_loop_expr *const[]){(a)})
#define CALL2(name, a, b) aicc_loop_call(lc, (name), 2, (const aicc_loop_expr *const[]){(a), (b)})

static ex kc(aicc_loop_ctx *lc, aicc_dtype t, double v) {
  return aicc_loop_type_is_int(t) ? aicc_loop_int(lc, t, (int64_t)v) : aicc_loop_float(lc, t, v);
}
#define K(v) kc(lc, t, (v))

/* ---- exact conversions ---- */

/* Float x to int64 as aicc_f64_to_i64_wrap: truncation for |x| < 2^63 (and
 * up to 2^64 for unsigned targets, wrapping), INT64_MIN for NaN and the
 * rest. The IR's own cast is exact only below 9.2e18, so values from 2^62
 * on (integers, multiples of 2^10) convert at quarter scale; every cast
 * operand is in range whatever the selects pick (codegen may evaluate both
 * arms). */
static ex float_to_i64(aicc_loop_ctx *lc, ex x, bool to_unsigned) {
  aicc_dtype f = x->type;
  ex two62 = aicc_loop_float(lc, f, 0x1p62), zero = aicc_loop_float(lc, f, 0);
  ex small = BIN(AND, BIN(LT, aicc_loop_float(lc, f, -0x1p62), x), BIN(LT, x, two62));
  ex valid = BIN(AND, BIN(GE, x, aicc_loop_float(lc, f, -0x1p63)),
                 BIN(LT, x, aicc_loop_float(lc, f, to_unsigned ? 0x1p64 : 0x1p63)));
  ex vs = aicc_loop_cast(lc, AICC_DTYPE_I64, SEL(small, x, zero));
  ex quarter = SEL(valid, BIN(MUL, x, aicc_loop_float(lc, f, 0.25)), zero);
  ex vb = BIN(MUL, aicc_loop_cast(lc, AICC_DTYPE_I64, quarter), aicc_loop_int(lc, AICC_DTYPE_I64, 4));
  return SEL(small, vs, SEL(valid, vb, aicc_loop_int(lc, AICC_DTYPE_I64, INT64_MIN)));
}

/* 64-bit int x to f32 with one rounding (C's and numpy's), where the IR's
 * cast goes through f64 and may round twice: from 2^53 on, the low 12 bits
 * are replaced by a sticky bit (2048 if any was set), which leaves the f32
 * rounding alone (f32 half-ulps there are multiples of 2^29) and makes the
 * f64 step exact. */
static ex int64_to_f32(aicc_loop_ctx *lc, ex x) {
  aicc_dtype t = x->type;
  bool u = t == AICC_DTYPE_U64;
  ex m = BIN(MOD, x, aicc_loop_int(lc, t, 4096));
  ex sticky = SEL(BIN(NE, m, aicc_loop_int(lc, t, 0)), aicc_loop_int(lc, t, 2048),
                  aicc_loop_int(lc, t, 0));
  ex r = BIN(ADD, BIN(SUB, x, m), sticky);
  ex big = BIN(GE, x, aicc_loop_int(lc, t, INT64_C(1) << 53));
  if (!u) big = BIN(OR, big, BIN(LE, x, aicc_loop_int(lc, t, -(INT64_C(1) << 53))));
  return aicc_loop_cast(lc, AICC_DTYPE_F32, SEL(big, r, x));
}

ex aicc_lower_ew_convert(aicc_loop_ctx *lc, ex x, aicc_dtype t) {
  if (!x) return NULL;
  aicc_dtype s = x->type;
  if (s == t) return x;
  if (t == AICC_DTYPE_BOOL) return aicc_loop_cast(lc, t, x); /* x != 0; NaN is true */
  bool sf = aicc_lower_ew_is_float(s), tf = aicc_lower_ew_is_float(t);
  if (sf && !tf) {
    ex v = float_to_i64(lc, x, aicc_lower_ew_is_uint(t));
    return t == AICC_DTYPE_I64 ? v : aicc_loop_cast(lc, t, v);
  }
  if (!sf && t == AICC_DTYPE_F32 && (s == AICC_DTYPE_I64 || s == AICC_DTYPE_U64))
    return int64_to_f32(lc, x);
  return aicc_loop_cast(lc, t, x); /* exact, one rounding, or an int wrap */
}

/* ---- unary math ---- */

typedef struct unary_row {
  const char *op;
  const char *intrinsic; /* float-only ops that are one intrinsic call, else NULL */
  aicc_lower_ew_body body;
  bool (*ok)(aicc_dtype);
} unary_row;

static ex u_intrinsic(const aicc_lower_ew *e, const ex *x) {
  aicc_loop_ctx *lc = e->lc;
  return CALL1(((const unary_row *)e->p)->intrinsic, x[0]);
}

static ex u_abs(const aicc_lower_ew *e, const ex *x) {
  aicc_loop_ctx *lc = e->lc;
  aicc_dtype t = e->t;
  if (aicc_lower_ew_is_float(t)) return CALL1("abs", x[0]);
  if (aicc_lower_ew_is_uint(t)) return x[0];
  return SEL(BIN(LT, x[0], K(0)), BIN(SUB, K(0), x[0]), x[0]);
}

static ex u_neg(const aicc_lower_ew *e, const ex *x) {
  aicc_loop_ctx *lc = e->lc;
  aicc_dtype t = e->t;
  /* -0.0 - x flips the sign of every float, zeros included */
  return BIN(SUB, aicc_lower_ew_is_float(t) ? K(-0.0) : K(0), x[0]);
}

static ex u_recip(const aicc_lower_ew *e, const ex *x) {
  aicc_loop_ctx *lc = e->lc;
  aicc_dtype t = e->t;
  return BIN(DIV, K(1), x[0]);
}

static ex u_sign(const aicc_lower_ew *e, const ex *x) {
  aicc_loop_ctx *lc = e->lc;
  aicc_dtype t = e->t;
  /* floats keep NaN and the sign of zero; unsigned x < 0 never holds */
  ex rest = aicc_lower_ew_is_float(t) ? x[0] : K(0);
  return SEL(BIN(GT, x[0], K(0)), K(1), SEL(BIN(LT, x[0], K(0)), K(-1), rest));
}

static ex u_not(const aicc_lower_ew *e, const ex *x) { return aicc_loop_not(e->lc, x[0]); }

static ex u_bitwise_not(const aicc_lower_ew *e, const ex *x) {
  aicc_loop_ctx *lc = e->lc;
  aicc_dtype t = e->t;
  return BIN(SUB, K(-1), x[0]); /* ~x == -1 - x in two's complement, unsigned too */
}

static ex u_isnan(const aicc_lower_ew *e, const ex *x) {
  aicc_loop_ctx *lc = e->lc;
  return BIN(NE, x[0], x[0]);
}

static ex u_isinf(const aicc_lower_ew *e, const ex *x) {
  aicc_loop_ctx *lc = e->lc;
  aicc_dtype t = e->t;
  const aicc_node *n = e->c->node;
  bool neg = aicc_node_attr_int(n, "detect_negative", 1) != 0;
  bool pos = aicc_node_attr_int(n, "detect_positive", 1) != 0;
  ex r = aicc_loop_bool(lc, false);
  if (pos) r = BIN(EQ, x[0], K(INFINITY));
  if (neg) r = pos ? BIN(OR, r, BIN(EQ, x[0], K(-INFINITY))) : BIN(EQ, x[0], K(-INFINITY));
  return r;
}

static const unary_row unary_rows[] = {
    {"Abs", NULL, u_abs, aicc_lower_ew_is_number},
    {"Neg", NULL, u_neg, aicc_lower_ew_is_signed},
    {"Reciprocal", NULL, u_recip, aicc_lower_ew_is_float},
    {"Sign", NULL, u_sign, aicc_lower_ew_is_number},
    {"Not", NULL, u_not, is_bool},
    {"BitwiseNot", NULL, u_bitwise_not, aicc_lower_ew_is_int},
    {"IsNaN", NULL, u_isnan, aicc_lower_ew_is_float},
    {"IsInf", NULL, u_isinf, aicc_lower_ew_is_float},
    {"Floor", "floor", u_intrinsic, aicc_lower_ew_is_float},
    {"Ceil", "ceil", u_intrinsic, aicc_lower_ew_is_float},
    {"Round", "round", u_intrinsic, aicc_lower_ew_is_float}, /* half to even */
    {"Sqrt", "sqrt", u_intrinsic, aicc_lower_ew_is_float},
    {"Exp", "exp", u_intrinsic, aicc_lower_ew_is_float},
    {"Log", "log", u_intrinsic, aicc_lower_ew_is_float},
    {"Sin", "sin", u_intrinsic, aicc_lower_ew_is_float},
    {"Cos", "cos", u_intrinsic, aicc_lower_ew_is_float},
    {"Tan", "tan", u_intrinsic, aicc_lower_ew_is_float},
    {"Asin", "asin", u_intrinsic, aicc_lower_ew_is_float},
    {"Acos", "acos", u_intrinsic, aicc_lower_ew_is_float},
    {"Atan", "atan", u_intrinsic, aicc_lower_ew_is_float},
    {"Sinh", "sinh", u_intrinsic, aicc_lower_ew_is_float},
    {"Cosh", "cosh", u_intrinsic, aicc_lower_ew_is_float},
    {"Asinh", "asinh", u_intrinsic, aicc_lower_ew_is_float},
    {"Acosh", "acosh", u_intrinsic, aicc_lower_ew_is_float},
    {"Atanh", "atanh", u_intrinsic, aicc_lower_ew_is_float},
    {"Erf", "erf", u_intrinsic, aicc_lower_ew_is_float},
};

static aicc_status lower_unary(aicc_lower_ctx *c) {
  for (size_t i = 0; i < sizeof unary_rows / sizeof unary_rows[0]; i++) {
    const unary_row *r = &unary_rows[i];
    if (strcmp(r->op, c->node->op_type) == 0)
      return aicc_lower_ew_map(c, 1, r->ok, false, r->body, r);
  }
  return aicc_lower_unsupported(c, "no unary row");
}

/* ---- binary arithmetic, logic and comparisons ---- */

typedef struct binary_row {
  const char *op;
  aicc_loop_op lop; /* for the rows that are one IR operator */
  aicc_lower_ew_body body;
  bool (*ok)(aicc_dtype);
} binary_row;

static ex b_op(const aicc_lower_ew *e, const ex *x) {
  return aicc_loop_binary(e->lc, ((const binary_row *)e->p)->lop, x[0], x[1]);
}

/* ONNX integer Div truncates; the IR's / floors: step back toward zero when
 * the remainder is nonzero and the signs differ (x / 0 == 0 in both). */
static ex b_div(const aicc_lower_ew *e, const ex *x) {
  aicc_loop_ctx *lc = e->lc;
  aicc_dtype t = e->t;
  ex q = BIN(DIV, x[0], x[1]);
  if (!aicc_lower_ew_is_int(t) || aicc_lower_ew_is_uint(t)) return q;
  ex r = BIN(MOD, x[0], x[1]);
  ex differ = BIN(NE, BIN(LT, x[0], K(0)), BIN(LT, x[1], K(0)));
  return SEL(BIN(AND, BIN(NE, r, K(0)), differ), BIN(ADD, q, K(1)), q);
}

/* Mod: fmod=0 takes the divisor's sign (numpy.mod), fmod=1 the dividend's
 * (C). Float fmod=0 is built from the exact fmod, as the reference does,
 * rather than the IR's x - y*floor(x/y). */
static ex b_mod(const aicc_lower_ew *e, const ex *x) {
  aicc_loop_ctx *lc = e->lc;
  aicc_dtype t = e->t;
  bool cstyle = aicc_node_attr_int(e->c->node, "fmod", 0) != 0;
  ex a = x[0], b = x[1];
  if (aicc_lower_ew_is_uint(t)) return BIN(MOD, a, b);
  if (aicc_lower_ew_is_int(t)) {
    ex r = BIN(MOD, a, b);
    if (!cstyle) return r;
    ex differ = BIN(NE, BIN(LT, a, K(0)), BIN(LT, b, K(0)));
    return SEL(BIN(AND, BIN(NE, r, K(0)), differ), BIN(SUB, r, b), r);
  }
  ex r = CALL2("fmod", a, b);
  if (cstyle) return r;
  ex neg_b = BIN(OR, BIN(LT, b, K(0)), BIN(LT, BIN(DIV, K(1), b), K(0))); /* -0.0 too */
  ex adjust = BIN(AND, BIN(NE, r, K(0)), BIN(NE, BIN(LT, r, K(0)), BIN(LT, b, K(0))));
  ex zero = SEL(neg_b, K(-0.0), K(0.0));
  return SEL(adjust, BIN(ADD, r, b), SEL(BIN(EQ, r, K(0)), zero, r));
}

/* Max / Min over floats propagate NaN (the IR's min/max do not). */
static ex max_or_min(aicc_loop_ctx *lc, ex a, ex b, bool is_max) {
  if (!aicc_lower_ew_is_float(a->type)) return is_max ? BIN(MAX, a, b) : BIN(MIN, a, b);
  ex pick = is_max ? BIN(GT, a, b) : BIN(LT, a, b);
  return SEL(BIN(NE, a, a), a, SEL(pick, a, b));
}

/* 2^k in t, for the bits of a shift amount: prod over j of 2^(2^j) where
 * bit j of y is set, j < log2(bits); y must be in range for it to matter. */
static ex pow2_of(aicc_loop_ctx *lc, aicc_dtype t, ex y, int bits) {
  ex p = K(1);
  for (int j = 0; (1 << j) < bits; j++) {
    ex bit = BIN(EQ, BIN(MOD, BIN(DIV, y, K((double)(1 << j))), K(2)), K(1));
    ex f = aicc_loop_int(lc, t, (int64_t)((uint64_t)1 << (1 << j)));
    p = BIN(MUL, p, SEL(bit, f, K(1)));
  }
  return p;
}

/* BitShift: x << y as x * 2^y (wrapping), x >> y as floor(x / 2^y) (the
 * arithmetic shift for signed x); amounts outside [0, bits) give what sign
 * extension alone gives, as the reference. */
static ex b_bitshift(const aicc_lower_ew *e, const ex *x) {
  aicc_loop_ctx *lc = e->lc;
  aicc_dtype t = e->t;
  bool right = strcmp(aicc_node_attr_string(e->c->node, "direction", ""), "RIGHT") == 0;
  int bits = aicc_dtype_get(t)->bits;
  bool u = aicc_lower_ew_is_uint(t);
  ex a = x[0], y = x[1];
  ex nonneg = u ? aicc_loop_bool(lc, true) : BIN(GE, y, K(0));
  ex p = pow2_of(lc, t, y, bits);
  if (!right) return SEL(BIN(AND, nonneg, BIN(LT, y, K(bits))), BIN(MUL, a, p), K(0));
  if (u) return SEL(BIN(LT, y, K(bits)), BIN(DIV, a, p), K(0));
  /* signed: 2^(bits-1) wraps negative, and x >> (bits-1) is the sign fill */
  ex fill = SEL(BIN(LT, a, K(0)), K(-1), K(0));
  return SEL(BIN(AND, nonneg, BIN(LT, y, K(bits - 1))), BIN(DIV, a, p), fill);
}

/* Integer a^b (b >= 0 by repeated squaring over nbits bits of b; b < 0
 * truncates to 0 unless |a| == 1), in int64 wrapping like the reference. */
static ex int_pow(aicc_loop_ctx *lc, ex a, ex b, int nbits) {
  aicc_dtype t = AICC_DTYPE_I64;
  ex r = K(1), sq = a;
  for (int j = 0; j < nbits; j++) {
    ex bit = BIN(EQ, BIN(MOD, BIN(DIV, b, K((double)(1 << j))), K(2)), K(1));
    r = BIN(MUL, r, SEL(bit, sq, K(1)));
    if (j + 1 < nbits) sq = BIN(MUL, sq, sq);
  }
  ex odd = BIN(EQ, BIN(MOD, b, K(2)), K(1));
  ex negr = SEL(BIN(EQ, a, K(1)), K(1), SEL(BIN(EQ, a, K(-1)), SEL(odd, K(-1), K(1)), K(0)));
  return SEL(BIN(LT, b, K(0)), negr, r);
}

typedef struct pow_params {
  int nbits; /* int ** int: the exponent's bit count (constant exponent) */
  bool small; /* float base, constant exponent k (one value) in pow_small's list */
  double k;
} pow_params;

/* The exponents pow_small strength-reduces. */
static bool pow_small_ok(double k) {
  return k == 0 || k == 1 || k == 2 || k == 3 || k == 4 || k == -1 || k == -2 || k == 0.5 ||
         k == -0.5;
}

/* x^k for a constant k without the pow call (which has no vector form and
 * costs ~10 ns a lane; GPT-2's tanh GELU spent half its run there): products
 * for k = 2, 3, 4 (one rounding for 2, within 2 ulp of pow for 3 and 4), 1/x
 * (one rounding) and (1/x)^2, sqrt for +-0.5. The special values stay C's
 * pow: x^0 = 1 for every x (NaN too), pow(-0, 0.5) = +0 where sqrt gives -0
 * (sqrt(x) + 0 is +0 there and sqrt(x) elsewhere), and pow(-inf, +-0.5) =
 * +inf, +0 where sqrt gives NaN. tests/codegen/ewise_math.py checks them. */
static ex pow_small(aicc_loop_ctx *lc, ex a, double k) {
  aicc_dtype t = a->type;
  if (k == 0) return K(1);
  if (k == 1) return a;
  ex sq = BIN(MUL, a, a);
  if (k == 2) return sq;
  if (k == 3) return BIN(MUL, sq, a);
  if (k == 4) return BIN(MUL, sq, sq);
  if (k == -1) return BIN(DIV, K(1), a);
  if (k == -2) { /* (1/x)^2: 1/(x*x) would be 0 where x*x overflows */
    ex r = BIN(DIV, K(1), a);
    return BIN(MUL, r, r);
  }
  ex r = BIN(ADD, CALL1("sqrt", a), K(0));
  if (k == -0.5) r = BIN(DIV, K(1), r);
  return SEL(BIN(EQ, a, K(-INFINITY)), K(k > 0 ? INFINITY : 0), r);
}

/* Pow keeps the base's dtype. Mixed operand dtypes compute in f64 like the
 * reference (exact conversions in, one conversion out). */
static ex b_pow(const aicc_lower_ew *e, const ex *x) {
  aicc_loop_ctx *lc = e->lc;
  aicc_dtype bt = x[0]->type, et = x[1]->type;
  bool bf = aicc_lower_ew_is_float(bt), ef = aicc_lower_ew_is_float(et);
  const pow_params *pp = e->p;
  if (bf && pp->small) return pow_small(lc, x[0], pp->k);
  if (bf && bt == et) return CALL2("pow", x[0], x[1]);
  if (bf || ef) {
    ex a = aicc_lower_ew_convert(lc, x[0], AICC_DTYPE_F64);
    ex b = aicc_lower_ew_convert(lc, x[1], AICC_DTYPE_F64);
    return aicc_lower_ew_convert(lc, CALL2("pow", a, b), bt);
  }
  ex a = aicc_loop_cast(lc, AICC_DTYPE_I64, x[0]), b = aicc_loop_cast(lc, AICC_DTYPE_I64, x[1]);
  return aicc_loop_cast(lc, bt, int_pow(lc, a, b, pp->nbits));
}

static bool pow_base_ok(aicc_dtype t) {
  return aicc_lower_ew_is_float(t) || t == AICC_DTYPE_I32 || t == AICC_DTYPE_I64;
}

static aicc_status lower_pow(aicc_lower_ctx *c) {
  if (!c->out[0]) return NULL;
  if (c->n_in < 2 || !c->in[0] || !c->in[1]) return aicc_lower_unsupported(c, "missing input");
  aicc_dtype bt = c->in[0]->type, et = c->in[1]->type;
  if (!pow_base_ok(bt) || !aicc_lower_dtype_ok(et) || !aicc_lower_ew_is_number(et))
    return aicc_lower_unsupported(c, "dtypes %s ** %s", aicc_dtype_text(bt), aicc_dtype_text(et));
  pow_params pp = {0};
  if (!aicc_lower_ew_is_float(bt) && !aicc_lower_ew_is_float(et)) {
    /* integer powers unroll over the exponent's bits: only for a constant
     * exponent of at most 6 bits (the unrolled tree doubles per bit) */
    const aicc_tensor *k = c->cin[1];
    if (!k) return aicc_lower_unsupported(c, "integer power with a non-constant exponent");
    int64_t hi = 0;
    for (int64_t i = 0; i < aicc_tensor_numel(k); i++) {
      int64_t v = aicc_tensor_get_i64(k, i);
      if (et == AICC_DTYPE_U64 && v < 0) hi = INT64_MAX; /* >= 2^63 */
      else if (v > hi) hi = v;
    }
    if (hi > 63) return aicc_lower_unsupported(c, "integer power with exponent %lld", (long long)hi);
    while (pp.nbits < 6 && (INT64_C(1) << pp.nbits) <= hi) pp.nbits++;
  }
  const aicc_tensor *k = c->cin[1];
  if (aicc_lower_ew_is_float(bt) && k && aicc_tensor_numel(k) > 0) {
    pp.k = aicc_tensor_get_f64(k, 0);
    pp.small = pow_small_ok(pp.k);
    for (int64_t i = 1; i < aicc_tensor_numel(k) && pp.small; i++)
      pp.small = aicc_tensor_get_f64(k, i) == pp.k;
  }
  return aicc_lower_ew_map(c, 2, NULL, true, b_pow, &pp);
}

static const binary_row binary_rows[] = {
    {"Add", AICC_LOOP_ADD, b_op, aicc_lower_ew_is_number},
    {"Sub", AICC_LOOP_SUB, b_op, aicc_lower_ew_is_number},
    {"Mul", AICC_LOOP_MUL, b_op, aicc_lower_ew_is_number},
    {"Div", AICC_LOOP_DIV, b_div, aicc_lower_ew_is_number},
    {"Mod", AICC_LOOP_MOD, b_mod, aicc_lower_ew_is_number},
    {"And", AICC_LOOP_AND, b_op, is_bool},
    {"Or", AICC_LOOP_OR, b_op, is_bool},
    {"Xor", AICC_LOOP_NE, b_op, is_bool},
    {"Equal", AICC_LOOP_EQ, b_op, number_or_bool},
    {"Less", AICC_LOOP_LT, b_op, aicc_lower_ew_is_number},
    {"Greater", AICC_LOOP_GT, b_op, aicc_lower_ew_is_number},
    {"LessOrEqual", AICC_LOOP_LE, b_op, aicc_lower_ew_is_number},
    {"GreaterOrEqual", AICC_LOOP_GE, b_op, aicc_lower_ew_is_number},
    {"BitShift", AICC_LOOP_MUL /* unused */, b_bitshift, aicc_lower_ew_is_int},
};

static aicc_status lower_binary(aicc_lower_ctx *c) {
  for (size_t i = 0; i < sizeof binary_rows / sizeof binary_rows[0]; i++) {
    const binary_row *r = &binary_rows[i];
    if (strcmp(r->op, c->node->op_type) == 0)
      return aicc_lower_ew_map(c, 2, r->ok, false, r->body, r);
  }
  return aicc_lower_unsupported(c, "no binary row");
}

/* The loop IR has no bitwise and/or/xor; spelling them bit by bit would
 * cost 8..64 terms per element, slower than the reference kernel. */
static aicc_status lower_bitwise(aicc_lower_ctx *c) {
  return aicc_lower_unsupported(c, "no bitwise operators in the loop IR");
}

/* ---- variadic Sum / Mean / Max / Min: a left fold, as the reference ---- */

static ex v_fold(const aicc_lower_ew *e, const ex *x) {
  aicc_loop_ctx *lc = e->lc;
  aicc_dtype t = e->t;
  const char *op = e->c->node->op_type;
  bool sum = strcmp(op, "Sum") == 0 || strcmp(op, "Mean") == 0;
  bool is_max = strcmp(op, "Max") == 0;
  int n = e->c->n_in;
  ex acc = x[0];
  for (int k = 1; k < n; k++) acc = sum ? BIN(ADD, acc, x[k]) : max_or_min(lc, acc, x[k], is_max);
  if (strcmp(op, "Mean") == 0) acc = BIN(DIV, acc, K(n));
  return acc;
}

static aicc_status lower_variadic(aicc_lower_ctx *c) {
  const char *op = c->node->op_type;
  bool sum = strcmp(op, "Sum") == 0 || strcmp(op, "Mean") == 0;
  return aicc_lower_ew_map(c, c->n_in, sum ? aicc_lower_ew_is_float : aicc_lower_ew_is_number,
                           false, v_fold, NULL);
}

/* ---- Where ---- */

static ex w_select(const aicc_lower_ew *e, const ex *x) {
  return aicc_loop_select(e->lc, x[0], x[1], x[2]);
}

static aicc_status lower_where(aicc_lower_ctx *c) {
  if (c->n_in < 3 || !c->in[0] || !c->in[1] || !c->in[2])
    return aicc_lower_unsupported(c, "missing input");
  if (c->in[0]->type != AICC_DTYPE_BOOL || c->in[1]->type != c->in[2]->type)
    return aicc_lower_unsupported(c, "dtypes %s, %s, %s", aicc_dtype_text(c->in[0]->type),
                                  aicc_dtype_text(c->in[1]->type),
                                  aicc_dtype_text(c->in[2]->type));
  return aicc_lower_ew_map(c, 3, NULL, true, w_select, NULL);
}

/* ---- Cast / CastLike ---- */

static ex c_convert(const aicc_lower_ew *e, const ex *x) {
  return aicc_lower_ew_convert(e->lc, x[0], e->out_t);
}

/* The output buffer already has the target dtype; saturate and round_mode
 * only concern the float8 types, which the IR lacks. */
static aicc_status lower_cast(aicc_lower_ctx *c) {
  if (c->in[0] && !aicc_lower_dtype_ok(c->in[0]->type))
    return aicc_lower_unsupported(c, "cast from %s", aicc_dtype_text(c->in[0]->type));
  if (c->out[0] && !aicc_lower_dtype_ok(c->out[0]->type))
    return aicc_lower_unsupported(c, "cast to %s", aicc_dtype_text(c->out[0]->type));
  return aicc_lower_ew_map(c, 1, NULL, false, c_convert, NULL);
}

/* ---- Dropout (inference): Y = X, mask all true ---- */

static ex d_identity(const aicc_lower_ew *e, const ex *x) {
  (void)e;
  return x[0];
}

static aicc_status lower_dropout(aicc_lower_ctx *c) {
  /* Y = X unless training with a nonzero ratio; either may be a runtime
   * input, and one known fact settles it. */
  bool ratio_known = true, training_known = true, training = false;
  double ratio = c->opset >= 12 ? 0.5 : aicc_node_attr_float(c->node, "ratio", 0.5f);
  if (c->opset >= 12 && c->n_in > 1 && c->in[1]) {
    ratio_known = c->cin[1] && aicc_tensor_numel(c->cin[1]) > 0;
    if (ratio_known) ratio = aicc_tensor_get_f64(c->cin[1], 0);
  }
  if (c->opset >= 12 && c->n_in > 2 && c->in[2]) {
    training_known = c->cin[2] && aicc_tensor_numel(c->cin[2]) > 0;
    training = training_known && aicc_tensor_get_i64(c->cin[2], 0) != 0;
  }
  if (ratio_known && (ratio < 0 || ratio >= 1)) return aicc_lower_unsupported(c, "ratio %g", ratio);
  if (!(training_known && !training) && !(ratio_known && ratio == 0))
    return aicc_lower_unsupported(c, training_known ? "training mode (random mask)"
                                                    : "training_mode is not a constant");
  if (c->in[0] && !aicc_lower_dtype_ok(c->in[0]->type))
    return aicc_lower_unsupported(c, "dtype %s", aicc_dtype_text(c->in[0]->type));
  if (c->n_out > 1 && c->out[1]) {
    aicc_loop_stage *s = aicc_lower_stage(c, c->out[1]);
    if (!s) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
    s->body = aicc_loop_bool(c->lc, true);
    s->inlinable = true;
    s->op_class = AICC_LOOP_CLASS_ELEMENTWISE;
    AICC_TRY(aicc_lower_emit(c, s));
  }
  return aicc_lower_ew_map(c, 1, NULL, false, d_identity, NULL);
}

static const aicc_lower_row rows[] = {
    {"", "Abs", lower_unary},          {"", "Neg", lower_unary},
    {"", "Reciprocal", lower_unary},   {"", "Sign", lower_unary},
    {"", "Not", lower_unary},          {"", "BitwiseNot", lower_unary},
    {"", "IsNaN", lower_unary},        {"", "IsInf", lower_unary},
    {"", "Floor", lower_unary},        {"", "Ceil", lower_unary},
    {"", "Round", lower_unary},        {"", "Sqrt", lower_unary},
    {"", "Exp", lower_unary},          {"", "Log", lower_unary},
    {"", "Sin", lower_unary},          {"", "Cos", lower_unary},
    {"", "Tan", lower_unary},          {"", "Asin", lower_unary},
    {"", "Acos", lower_unary},         {"", "Atan", lower_unary},
    {"", "Sinh", lower_unary},         {"", "Cosh", lower_unary},
    {"", "Asinh", lower_unary},        {"", "Acosh", lower_unary},
    {"", "Atanh", lower_unary},        {"", "Erf", lower_unary},
    {"", "Add", lower_binary},         {"", "Sub", lower_binary},
    {"", "Mul", lower_binary},         {"", "Div", lower_binary},
    {"", "Mod", lower_binary},         {"", "Pow", lower_pow},
    {"", "And", lower_binary},         {"", "Or", lower_binary},
    {"", "Xor", lower_binary},         {"", "Equal", lower_binary},
    {"", "Less", lower_binary},        {"", "Greater", lower_binary},
    {"", "LessOrEqual", lower_binary}, {"", "GreaterOrEqual", lower_binary},
    {"", "BitShift", lower_binary},    {"", "BitwiseAnd", lower_bitwise},
    {"", "BitwiseOr", lower_bitwise},  {"", "BitwiseXor", lower_bitwise},
    {"", "Sum", lower_variadic},       {"", "Mean", lower_variadic},
    {"", "Max", lower_variadic},       {"", "Min", lower_variadic},
    {"", "Where", lower_where},        {"", "Cast", lower_cast},
    {"", "CastLike", lower_cast},      {"", "Dropout", lower_dropout},
};

const aicc_lower_table aicc_lower_elementwise = {"elementwise", rows,
                                                 sizeof rows / sizeof rows[0]};
