/* Constant interval analysis of integer loop-IR expressions (Halide's
 * Simplify ConstBounds, TVM's ConstIntBoundAnalyzer): the facts the
 * simplifier proves its div/mod/min/max/compare rewrites with. Infinite ends
 * are INT64_MIN / INT64_MAX and arithmetic saturates through __int128. */
#include "loop/simplify.h"

#define NEG_INF INT64_MIN
#define POS_INF INT64_MAX

typedef aicc_loop_interval ival;

static int64_t sat(__int128 v) {
  if (v <= (__int128)NEG_INF) return NEG_INF;
  if (v >= (__int128)POS_INF) return POS_INF;
  return (int64_t)v;
}

static ival type_range(aicc_dtype t) {
  if (t == AICC_DTYPE_BOOL) return (ival){0, 1};
  const aicc_dtype_info *info = aicc_dtype_get(t);
  if (!info || !aicc_dtype_is_int(t)) return AICC_LOOP_UNBOUNDED;
  int bits = info->bits;
  if (aicc_dtype_is_signed_int(t))
    return bits >= 64 ? AICC_LOOP_UNBOUNDED
                      : (ival){-((int64_t)1 << (bits - 1)), ((int64_t)1 << (bits - 1)) - 1};
  return bits >= 63 ? (ival){0, POS_INF} : (ival){0, ((int64_t)1 << bits) - 1};
}

static ival add(ival a, ival b) {
  ival r;
  r.lo = (a.lo == NEG_INF || b.lo == NEG_INF) ? NEG_INF : sat((__int128)a.lo + b.lo);
  r.hi = (a.hi == POS_INF || b.hi == POS_INF) ? POS_INF : sat((__int128)a.hi + b.hi);
  return r;
}

static ival neg(ival a) {
  return (ival){a.hi == POS_INF ? NEG_INF : -a.hi, a.lo == NEG_INF ? POS_INF : sat(-(__int128)a.lo)};
}

static bool ival_finite(ival a) { return a.lo != NEG_INF && a.hi != POS_INF; }

static ival mul_const(ival a, int64_t c) {
  if (c == 0) return (ival){0, 0};
  if (c < 0) return mul_const(neg(a), c == NEG_INF ? POS_INF : -c);
  return (ival){a.lo == NEG_INF ? NEG_INF : sat((__int128)a.lo * c),
                a.hi == POS_INF ? POS_INF : sat((__int128)a.hi * c)};
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

static ival mul(ival a, ival b) {
  if (b.lo == b.hi) return mul_const(a, b.lo);
  if (a.lo == a.hi) return mul_const(b, a.lo);
  if (!ival_finite(a) || !ival_finite(b)) return AICC_LOOP_UNBOUNDED;
  __int128 c[4] = {(__int128)a.lo * b.lo, (__int128)a.lo * b.hi, (__int128)a.hi * b.lo,
                   (__int128)a.hi * b.hi};
  __int128 lo = c[0], hi = c[0];
  for (int k = 1; k < 4; k++) {
    if (c[k] < lo) lo = c[k];
    if (c[k] > hi) hi = c[k];
  }
  return (ival){sat(lo), sat(hi)};
}

static int64_t fdiv_end(int64_t v, int64_t c) {
  if (v == NEG_INF || v == POS_INF) return (v == NEG_INF) == (c > 0) ? NEG_INF : POS_INF;
  return aicc_loop_floordiv(v, c);
}

static ival divide(ival a, ival b) {
  if (b.lo == b.hi && b.lo != 0) {
    int64_t c = b.lo;
    if (c > 0) return (ival){fdiv_end(a.lo, c), fdiv_end(a.hi, c)};
    return (ival){fdiv_end(a.hi, c), fdiv_end(a.lo, c)};
  }
  /* floor(a/b) is monotone in each argument over a divisor range of one
   * sign, so the corners bound it. */
  if (ival_finite(a) && ival_finite(b) && (b.lo > 0 || b.hi < 0)) {
    int64_t c[4] = {aicc_loop_floordiv(a.lo, b.lo), aicc_loop_floordiv(a.lo, b.hi),
                    aicc_loop_floordiv(a.hi, b.lo), aicc_loop_floordiv(a.hi, b.hi)};
    return (ival){min64(min64(c[0], c[1]), min64(c[2], c[3])),
                  max64(max64(c[0], c[1]), max64(c[2], c[3]))};
  }
  if (b.lo > 0 && a.lo >= 0) return (ival){0, a.hi}; /* 0 <= a/b <= a */
  return AICC_LOOP_UNBOUNDED;
}

static ival modulo(ival a, ival b) {
  if (b.lo > 0) {
    /* a % b lies in [0, b-1], and is a itself when 0 <= a < b. */
    if (a.lo >= 0 && b.lo != POS_INF && a.hi < b.lo) return a;
    ival r = {0, b.hi == POS_INF ? POS_INF : b.hi - 1};
    if (a.lo >= 0) r.hi = min64(r.hi, a.hi);
    return r;
  }
  if (b.hi < 0) return (ival){b.lo == NEG_INF ? NEG_INF : b.lo + 1, 0};
  /* The divisor may be 0 (x % 0 == 0) or of either sign. */
  if (ival_finite(b)) return (ival){min64(0, b.lo + 1), max64(0, b.hi - 1)};
  return AICC_LOOP_UNBOUNDED;
}

static ival join(ival a, ival b) { return (ival){min64(a.lo, b.lo), max64(a.hi, b.hi)}; }

static ival intersect(ival a, ival b) {
  ival r = {max64(a.lo, b.lo), min64(a.hi, b.hi)};
  return r.lo <= r.hi ? r : a;
}

aicc_loop_interval aicc_loop_const_bounds(const aicc_loop_expr *e, const aicc_loop_scope *scope) {
  if (!e || !aicc_loop_type_is_int(e->type)) return AICC_LOOP_UNBOUNDED;
  /* Unsigned 64-bit values above INT64_MAX do not fit the interval. */
  if (e->type == AICC_DTYPE_U64) return AICC_LOOP_UNBOUNDED;
  ival tr = type_range(e->type);
  switch (e->op) {
  case AICC_LOOP_INT: return (ival){e->v.i, e->v.i};
  case AICC_LOOP_VAR:
    for (const aicc_loop_scope *s = scope; s; s = s->next)
      if (s->var == e) return s->replace ? aicc_loop_const_bounds(s->replace, s->next)
                                         : intersect(s->range, tr);
    return tr;
  default: break;
  }
  if (e->op >= AICC_LOOP_EQ && e->op <= AICC_LOOP_NOT) return (ival){0, 1};
  /* Arithmetic on small types wraps: trust only the type's own range there. */
  bool wide = e->type == AICC_DTYPE_I32 || e->type == AICC_DTYPE_I64;
  if (!wide) return tr;
  ival a = e->nargs > 0 ? aicc_loop_const_bounds(e->args[0], scope) : tr;
  ival b = e->nargs > 1 ? aicc_loop_const_bounds(e->args[1], scope) : tr;
  ival r;
  switch (e->op) {
  case AICC_LOOP_ADD: r = add(a, b); break;
  case AICC_LOOP_SUB: r = add(a, neg(b)); break;
  case AICC_LOOP_MUL: r = mul(a, b); break;
  case AICC_LOOP_DIV: r = divide(a, b); break;
  case AICC_LOOP_MOD: r = modulo(a, b); break;
  case AICC_LOOP_MIN: r = (ival){min64(a.lo, b.lo), min64(a.hi, b.hi)}; break;
  case AICC_LOOP_MAX: r = (ival){max64(a.lo, b.lo), max64(a.hi, b.hi)}; break;
  case AICC_LOOP_SELECT: r = join(b, aicc_loop_const_bounds(e->args[2], scope)); break;
  case AICC_LOOP_CAST: {
    ival s = aicc_loop_type_is_int(e->args[0]->type) ? a : AICC_LOOP_UNBOUNDED;
    r = (s.lo >= tr.lo && s.hi <= tr.hi) ? s : tr;
    return r;
  }
  default: return tr;
  }
  return intersect(r, tr);
}
