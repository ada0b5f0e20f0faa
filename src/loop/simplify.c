/* The loop-IR arithmetic simplifier (see simplify.h for what it does and the
 * Halide/TVM designs it follows). Bottom-up: operands are simplified first,
 * then one rule set per root op. Integer sums go through a linear form
 * (sum of coefficient * term + constant), the canonical form of TVM's
 * CanonicalSimplifier (SumExpr) reduced to what index arithmetic needs. */
#include "loop/simplify_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Short local names for the internal entry points (simplify_impl.h). */
#define simp aicc_loop_simp_expr_
#define learn aicc_loop_simp_learn_
#define has_load aicc_loop_simp_has_load_

/* ---- helpers ---- */

/* Types whose +, -, * we put in canonical form: signed ints. (Bool arithmetic
 * saturates at 1 and unsigned sums would print huge coefficients for
 * subtraction, so those are only folded.) */
static bool is_ring(aicc_dtype t) { return aicc_dtype_is_signed_int(t); }
/* Types where bounds, floor div/mod and order reasoning apply. */
static bool is_signed(aicc_dtype t) { return aicc_dtype_is_signed_int(t); }


static bool float_const(const expr *e, double *v) {
  if (!e || e->op != AICC_LOOP_FLOAT) return false;
  *v = e->v.f;
  return true;
}

static int64_t wadd(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
static int64_t wmul(int64_t a, int64_t b) { return (int64_t)((uint64_t)a * (uint64_t)b); }

/* ---- constant folding ---- */

static const expr *fold_int(simp_state *s, aicc_loop_op op, aicc_dtype t, int64_t a, int64_t b) {
  bool u = !aicc_dtype_is_signed_int(t) && t != AICC_DTYPE_BOOL;
  uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
  int64_t r;
  switch (op) {
  case AICC_LOOP_ADD: r = wadd(a, b); break;
  case AICC_LOOP_SUB: r = (int64_t)(ua - ub); break;
  case AICC_LOOP_MUL: r = wmul(a, b); break;
  case AICC_LOOP_DIV: r = u ? (int64_t)(ub ? ua / ub : 0) : aicc_loop_floordiv(a, b); break;
  case AICC_LOOP_MOD: r = u ? (int64_t)(ub ? ua % ub : 0) : aicc_loop_floormod(a, b); break;
  case AICC_LOOP_MIN: r = u ? (ua < ub ? a : b) : (a < b ? a : b); break;
  case AICC_LOOP_MAX: r = u ? (ua > ub ? a : b) : (a > b ? a : b); break;
  case AICC_LOOP_EQ: return aicc_loop_bool(s->ctx, a == b);
  case AICC_LOOP_NE: return aicc_loop_bool(s->ctx, a != b);
  case AICC_LOOP_LT: return aicc_loop_bool(s->ctx, u ? ua < ub : a < b);
  case AICC_LOOP_LE: return aicc_loop_bool(s->ctx, u ? ua <= ub : a <= b);
  case AICC_LOOP_GT: return aicc_loop_bool(s->ctx, u ? ua > ub : a > b);
  case AICC_LOOP_GE: return aicc_loop_bool(s->ctx, u ? ua >= ub : a >= b);
  case AICC_LOOP_AND: return aicc_loop_bool(s->ctx, a && b);
  case AICC_LOOP_OR: return aicc_loop_bool(s->ctx, a || b);
  default: return NULL;
  }
  return mk_int(s, t, r);
}

static const expr *fold_float(simp_state *s, aicc_loop_op op, aicc_dtype t, double a, double b) {
  if (t != AICC_DTYPE_F32 && t != AICC_DTYPE_F64) return NULL; /* f16/bf16: leave to codegen */
  double r;
  switch (op) {
  case AICC_LOOP_ADD: r = a + b; break;
  case AICC_LOOP_SUB: r = a - b; break;
  case AICC_LOOP_MUL: r = a * b; break;
  case AICC_LOOP_DIV: r = a / b; break;
  case AICC_LOOP_MIN: r = fmin(a, b); break;
  case AICC_LOOP_MAX: r = fmax(a, b); break;
  case AICC_LOOP_EQ: return aicc_loop_bool(s->ctx, a == b);
  case AICC_LOOP_NE: return aicc_loop_bool(s->ctx, a != b);
  case AICC_LOOP_LT: return aicc_loop_bool(s->ctx, a < b);
  case AICC_LOOP_LE: return aicc_loop_bool(s->ctx, a <= b);
  case AICC_LOOP_GT: return aicc_loop_bool(s->ctx, a > b);
  case AICC_LOOP_GE: return aicc_loop_bool(s->ctx, a >= b);
  default: return NULL; /* float % is left alone */
  }
  if (t == AICC_DTYPE_F32) r = (double)(float)r; /* f32 arithmetic rounds each op */
  return aicc_loop_float(s->ctx, t, r);
}

/* ---- linear forms ---- */

typedef struct {
  const expr *t;
  int64_t c;
} term;

typedef struct {
  term *v;
  size_t n, cap;
  int64_t k; /* constant part */
  aicc_dtype type;
} lin;

static void lin_add_term(simp_state *s, lin *l, const expr *t, int64_t c) {
  for (size_t i = 0; i < l->n; i++)
    if (l->v[i].t == t) {
      l->v[i].c = wadd(l->v[i].c, c);
      return;
    }
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 8;
    term *v = realloc(l->v, cap * sizeof *v);
    if (!v) {
      s->oom = true;
      return;
    }
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = (term){t, c};
}

static void linearize(simp_state *s, lin *l, const expr *e, int64_t scale) {
  int64_t c;
  if (int_const(e, &c)) {
    l->k = wadd(l->k, wmul(scale, c));
    return;
  }
  switch (e->op) {
  case AICC_LOOP_ADD:
    linearize(s, l, e->args[0], scale);
    linearize(s, l, e->args[1], scale);
    return;
  case AICC_LOOP_SUB:
    linearize(s, l, e->args[0], scale);
    linearize(s, l, e->args[1], wmul(scale, -1));
    return;
  case AICC_LOOP_MUL:
    if (int_const(e->args[1], &c)) {
      linearize(s, l, e->args[0], wmul(scale, c));
      return;
    }
    if (int_const(e->args[0], &c)) {
      linearize(s, l, e->args[1], wmul(scale, c));
      return;
    }
    break;
  default: break;
  }
  lin_add_term(s, l, e, scale);
}

static lin lin_of(simp_state *s, const expr *e) {
  lin l = {.type = e->type};
  linearize(s, &l, e, 1);
  return l;
}

/* Larger coefficients first (io*4 + ii, the outer index of a split first),
 * then the canonical expression order. */
static int term_cmp(const void *a, const void *b) {
  const term *x = a, *y = b;
  uint64_t cx = x->c < 0 ? 0 - (uint64_t)x->c : (uint64_t)x->c;
  uint64_t cy = y->c < 0 ? 0 - (uint64_t)y->c : (uint64_t)y->c;
  if (cx != cy) return cx > cy ? -1 : 1;
  return aicc_loop_expr_compare(x->t, y->t);
}

static const expr *scaled(simp_state *s, const expr *t, int64_t c, aicc_dtype ty) {
  return c == 1 ? t : aicc_loop_mul(s->ctx, t, mk_int(s, ty, c));
}

/* Rebuilds the canonical expression of l: positive terms in canonical order,
 * then negative ones subtracted, then the constant. Frees l. */
static const expr *lin_build(simp_state *s, lin *l) {
  aicc_dtype ty = l->type;
  size_t m = 0;
  for (size_t i = 0; i < l->n; i++) {
    l->v[i].c = aicc_loop_int_wrap(ty, l->v[i].c);
    if (l->v[i].c != 0) l->v[m++] = l->v[i];
  }
  l->n = m;
  l->k = aicc_loop_int_wrap(ty, l->k);
  if (l->n > 1) qsort(l->v, l->n, sizeof *l->v, term_cmp);
  const expr *acc = NULL;
  /* Unsigned "negative" coefficients are large positive ones: no subtraction. */
  bool sgn = is_signed(ty);
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < l->n; i++) {
      bool negc = sgn && l->v[i].c < 0;
      if (negc != (pass == 1)) continue;
      if (!acc) {
        /* No positive term: start from the constant (c - x reads best). */
        if (negc) acc = mk_int(s, ty, l->k);
        else {
          acc = scaled(s, l->v[i].t, l->v[i].c, ty);
          continue;
        }
      }
      acc = negc ? aicc_loop_sub(s->ctx, acc, scaled(s, l->v[i].t, -l->v[i].c, ty))
                 : aicc_loop_add(s->ctx, acc, scaled(s, l->v[i].t, l->v[i].c, ty));
    }
  bool started_with_k = false;
  if (l->n && sgn) {
    started_with_k = true;
    for (size_t i = 0; i < l->n; i++) started_with_k = started_with_k && l->v[i].c < 0;
  }
  if (!acc) acc = mk_int(s, ty, l->k);
  else if (l->k != 0 && !started_with_k)
    acc = sgn && l->k < 0 && l->k != INT64_MIN ? aicc_loop_sub(s->ctx, acc, mk_int(s, ty, -l->k))
                                               : aicc_loop_add(s->ctx, acc, mk_int(s, ty, l->k));
  free(l->v);
  l->v = NULL;
  return acc;
}

/* A canonical product of non-constant factors (sorted), times a constant. */
static void collect_factors(const expr *e, const expr **f, size_t *n, size_t cap, int64_t *k,
                            bool *overflow) {
  int64_t c;
  if (int_const(e, &c)) {
    *k = wmul(*k, c);
  } else if (e->op == AICC_LOOP_MUL) {
    collect_factors(e->args[0], f, n, cap, k, overflow);
    collect_factors(e->args[1], f, n, cap, k, overflow);
  } else if (*n < cap) {
    f[(*n)++] = e;
  } else {
    *overflow = true;
  }
}

static int expr_ptr_cmp(const void *a, const void *b) {
  return aicc_loop_expr_compare(*(const expr *const *)a, *(const expr *const *)b);
}

static const expr *canonical_mul(simp_state *s, const expr *e) {
  const expr *f[32];
  size_t n = 0;
  int64_t k = 1;
  bool overflow = false;
  collect_factors(e, f, &n, 32, &k, &overflow);
  if (overflow) return e;
  qsort(f, n, sizeof f[0], expr_ptr_cmp);
  const expr *p = f[0];
  for (size_t i = 1; i < n; i++) p = aicc_loop_mul(s->ctx, p, f[i]);
  lin l = {.type = e->type};
  lin_add_term(s, &l, p, k);
  return lin_build(s, &l);
}

/* Splits l by divisor c: terms whose coefficient c divides go to *q (divided),
 * the rest stays in l; the constant is split as k = c*kq + kr. */
static void lin_split(simp_state *s, lin *l, int64_t c, lin *q) {
  size_t m = 0;
  for (size_t i = 0; i < l->n; i++) {
    if (aicc_loop_floormod(l->v[i].c, c) == 0) lin_add_term(s, q, l->v[i].t, l->v[i].c / c);
    else l->v[m++] = l->v[i];
  }
  l->n = m;
  q->k = wadd(q->k, aicc_loop_floordiv(l->k, c));
  l->k = aicc_loop_floormod(l->k, c);
}


/* Bounds of a linear form, expanding (x/d)*k*d into k*(x - x%d) first, as
 * x%d lies in [0, d-1]: ((n + 3)/4)*4 - n is then bounded by [0, 3]
 * (Halide's div-mul rules). Frees l. */
static aicc_loop_interval lin_bounds(simp_state *s, lin *l) {
  /* The expansion loses the tie between x/d and x (x in [0, 3]: x/4*4 is 0,
   * x - x%4 only [-3, 3]), so intersect with the plain bounds. */
  aicc_loop_interval plain = AICC_LOOP_UNBOUNDED;
  bool expands = false;
  for (size_t i = 0; i < l->n; i++) {
    int64_t d;
    const expr *t = l->v[i].t;
    expands = expands || (t->op == AICC_LOOP_DIV && int_const(t->args[1], &d) && d > 0 &&
                          d < INT32_MAX && l->v[i].c % d == 0);
  }
  if (expands) {
    lin c = {.type = l->type, .k = l->k};
    for (size_t i = 0; i < l->n; i++) lin_add_term(s, &c, l->v[i].t, l->v[i].c);
    const expr *pe = lin_build(s, &c);
    if (pe) plain = bounds(s, pe);
  }
  for (size_t i = 0, n0 = l->n; i < n0; i++) {
    const expr *t = l->v[i].t;
    int64_t d;
    if (t->op == AICC_LOOP_DIV && int_const(t->args[1], &d) && d > 0 && d < INT32_MAX &&
        l->v[i].c % d == 0) {
      int64_t k = l->v[i].c / d;
      l->v[i].c = 0;
      linearize(s, l, t->args[0], k);
      lin_add_term(s, l, aicc_loop_mod(s->ctx, t->args[0], t->args[1]), -k);
    }
  }
  const expr *d = lin_build(s, l);
  aicc_loop_interval r = d ? bounds(s, d) : AICC_LOOP_UNBOUNDED;
  if (plain.lo > r.lo) r.lo = plain.lo;
  if (plain.hi < r.hi) r.hi = plain.hi;
  return r;
}

/* The scope entry giving var a symbolic range usable here: none when the
 * innermost entry replaces var, or when an entry above it rebinds a variable
 * its range mentions (the range would be read in the wrong scope). */
static const aicc_loop_scope *sym_entry(simp_state *s, const expr *var) {
  for (const aicc_loop_scope *e = s->scope; e; e = e->next) {
    if (e->var != var) continue;
    if (e->replace || !e->min_expr || !e->max_expr) return NULL;
    /* for (i, i + 1, 4): the range's i is the outer one. */
    if (aicc_loop_expr_uses_var(e->min_expr, var) || aicc_loop_expr_uses_var(e->max_expr, var))
      return NULL;
    for (const aicc_loop_scope *u = s->scope; u != e; u = u->next)
      if (aicc_loop_expr_uses_var(e->min_expr, u->var) || aicc_loop_expr_uses_var(e->max_expr, u->var))
        return NULL;
    return e;
  }
  return NULL;
}

/* l with each variable term replaced by its symbolic max (upper = true, for
 * positive coefficients; min for negative ones) or left alone. */
static lin lin_relax(simp_state *s, const lin *l, bool upper, bool *any) {
  lin r = {.type = l->type, .k = l->k};
  for (size_t i = 0; i < l->n; i++) {
    const aicc_loop_scope *e = l->v[i].t->op == AICC_LOOP_VAR ? sym_entry(s, l->v[i].t) : NULL;
    if (e) {
      *any = true;
      linearize(s, &r, (l->v[i].c > 0) == upper ? e->max_expr : e->min_expr, l->v[i].c);
    } else {
      lin_add_term(s, &r, l->v[i].t, l->v[i].c);
    }
  }
  return r;
}

/* Bounds of a - b as one canonical difference (so x - x is exactly 0), also
 * trying the symbolic ranges of enclosing loops for each end. */
static aicc_loop_interval diff_bounds(simp_state *s, const expr *a, const expr *b) {
  lin l = lin_of(s, a);
  linearize(s, &l, b, -1);
  bool any = false;
  lin hi = lin_relax(s, &l, true, &any), lo = lin_relax(s, &l, false, &any);
  aicc_loop_interval r = lin_bounds(s, &l);
  if (any) {
    aicc_loop_interval h = lin_bounds(s, &hi), w = lin_bounds(s, &lo);
    if (h.hi < r.hi) r.hi = h.hi;
    if (w.lo > r.lo) r.lo = w.lo;
  } else {
    free(hi.v);
    free(lo.v);
  }
  return r;
}

/* ---- rules per op ---- */

static const expr *simp_div(simp_state *s, const expr *a, const expr *b, aicc_dtype t) {
  int64_t c;
  if (!int_const(b, &c)) {
    aicc_loop_interval ba = bounds(s, a), bb = bounds(s, b);
    if (is_signed(t) && ba.lo >= 0 && bb.lo > ba.hi) return mk_int(s, t, 0);
    return aicc_loop_div(s->ctx, a, b);
  }
  if (c == 0) return mk_int(s, t, 0);
  if (c == 1) return a;
  if (!is_signed(t)) return aicc_loop_div(s->ctx, a, b);
  /* (x / c1) / c2 == x / (c1*c2) for positive constants (floor division). */
  int64_t c1;
  if (a->op == AICC_LOOP_DIV && c > 0 && int_const(a->args[1], &c1) && c1 > 0 &&
      (__int128)c1 * c <= INT32_MAX)
    return simp_div(s, a->args[0], mk_int(s, t, c1 * c), t);
  /* (c*A + R) / c == A + R / c, and R / c is a constant when R's bounds
   * fall within one multiple of c. */
  lin r = lin_of(s, a), q = {.type = t};
  lin_split(s, &r, c, &q);
  const expr *rest;
  if (r.n == 0) {
    free(r.v);
    rest = mk_int(s, t, aicc_loop_floordiv(r.k, c));
  } else {
    const expr *re = lin_build(s, &r);
    aicc_loop_interval rb = bounds(s, re);
    if (rb.lo != INT64_MIN && rb.hi != INT64_MAX &&
        aicc_loop_floordiv(rb.lo, c) == aicc_loop_floordiv(rb.hi, c))
      rest = mk_int(s, t, aicc_loop_floordiv(rb.lo, c));
    else if (re != a && re->op == AICC_LOOP_DIV)
      rest = simp_div(s, re, b, t); /* the nested-division rule may apply now */
    else
      rest = aicc_loop_div(s->ctx, re, b);
  }
  if (q.n == 0 && q.k == 0) {
    free(q.v);
    return rest;
  }
  linearize(s, &q, rest, 1);
  return lin_build(s, &q);
}

static const expr *simp_mod(simp_state *s, const expr *a, const expr *b, aicc_dtype t) {
  int64_t c;
  if (!int_const(b, &c)) {
    aicc_loop_interval ba = bounds(s, a), bb = bounds(s, b);
    if (is_signed(t) && ba.lo >= 0 && bb.lo > ba.hi) return a;
    return aicc_loop_mod(s->ctx, a, b);
  }
  if (c == 0 || c == 1 || (c == -1 && is_signed(t))) return mk_int(s, t, 0);
  if (!is_signed(t)) return aicc_loop_mod(s->ctx, a, b);
  /* (x % c1) % c2 == x % c2 when c2 divides c1 (both positive). */
  int64_t c1;
  if (a->op == AICC_LOOP_MOD && c > 0 && int_const(a->args[1], &c1) && c1 > 0 && c1 % c == 0)
    return simp_mod(s, a->args[0], b, t);
  lin r = lin_of(s, a), q = {.type = t};
  lin_split(s, &r, c, &q);
  free(q.v);
  if (r.n == 0) {
    free(r.v);
    return mk_int(s, t, r.k);
  }
  const expr *re = lin_build(s, &r);
  aicc_loop_interval rb = bounds(s, re);
  if (rb.lo != INT64_MIN && rb.hi != INT64_MAX &&
      aicc_loop_floordiv(rb.lo, c) == aicc_loop_floordiv(rb.hi, c)) {
    lin l = lin_of(s, re);
    l.k = wadd(l.k, -wmul(c, aicc_loop_floordiv(rb.lo, c)));
    return lin_build(s, &l);
  }
  if (re != a && re->op == AICC_LOOP_MOD) return simp_mod(s, re, b, t);
  return aicc_loop_mod(s->ctx, re, b);
}

/* Whether a <= b is provable from the bounds of a - b (signed ints). */
static bool provably_le(simp_state *s, const expr *a, const expr *b) {
  return a == b || diff_bounds(s, a, b).hi <= 0;
}

static const expr *simp_minmax(simp_state *s, aicc_loop_op op, const expr *a, const expr *b,
                               aicc_dtype t) {
  if (a == b) return a;
  bool is_min = op == AICC_LOOP_MIN;
  /* Commutative: order the operands (constants sort last). */
  if (aicc_loop_expr_compare(a, b) > 0) {
    const expr *x = a;
    a = b;
    b = x;
  }
  if (is_signed(t)) {
    /* min(a, b) is a when a <= b; max(a, b) is a when b <= a. */
    if (is_min ? provably_le(s, a, b) : provably_le(s, b, a)) return a;
    if (is_min ? provably_le(s, b, a) : provably_le(s, a, b)) return b;
    /* min(min(x, c1), c2) -> min(x, min(c1, c2)) */
    int64_t c1, c2;
    if (a->op == op && int_const(a->args[1], &c1) && int_const(b, &c2))
      return simp_minmax(s, op, a->args[0],
                         mk_int(s, t, is_min ? (c1 < c2 ? c1 : c2) : (c1 > c2 ? c1 : c2)), t);
    /* min(x, min(y, z)) where x and y compare: keep the smaller of the two. */
    for (int side = 0; side < 2; side++) {
      const expr *outer = side ? b : a, *inner = side ? a : b;
      if (inner->op != op) continue;
      for (int k = 0; k < 2; k++) {
        const expr *y = inner->args[k], *z = inner->args[1 - k];
        /* op(outer, y) is decided: outer redundant, or y redundant. */
        if (is_min ? provably_le(s, y, outer) : provably_le(s, outer, y)) return inner;
        if (is_min ? provably_le(s, outer, y) : provably_le(s, y, outer))
          return simp_minmax(s, op, outer, z, t);
      }
    }
  }
  return aicc_loop_binary(s->ctx, op, a, b);
}

static int64_t gcd64(int64_t a, int64_t b) {
  if (a < 0) a = -a;
  if (b < 0) b = -b;
  while (b) {
    int64_t r = a % b;
    a = b;
    b = r;
  }
  return a;
}

/* Signed integer comparison a OP b with OP in {EQ, NE, LT}, canonicalised to
 * (terms) OP constant, decided by bounds when possible. */
static const expr *simp_int_cmp(simp_state *s, aicc_loop_op op, const expr *a, const expr *b) {
  aicc_dtype t = a->type;
  lin l = lin_of(s, a);
  linearize(s, &l, b, -1);
  /* The difference d = terms + k: compare terms with -k. */
  const expr *d = lin_build(s, &l);
  if (!d) return NULL;
  aicc_loop_interval db = diff_bounds(s, d, mk_int(s, t, 0));
  if (op == AICC_LOOP_LT) {
    if (db.hi < 0) return aicc_loop_bool(s->ctx, true);
    if (db.lo >= 0) return aicc_loop_bool(s->ctx, false);
  } else {
    bool ne0 = db.lo > 0 || db.hi < 0, is0 = db.lo == 0 && db.hi == 0;
    if (ne0 || is0) return aicc_loop_bool(s->ctx, (op == AICC_LOOP_EQ) == is0);
  }
  l = lin_of(s, d);
  int64_t k = l.k, g = 0;
  l.k = 0;
  for (size_t i = 0; i < l.n; i++) g = gcd64(g, l.v[i].c);
  int64_t rhs = -k;
  /* Divide through by the gcd of the coefficients: 2*x < 7 -> x < 4. */
  if (g > 1 && g < INT32_MAX) {
    if (op != AICC_LOOP_LT && aicc_loop_floormod(rhs, g) != 0) {
      free(l.v);
      return aicc_loop_bool(s->ctx, op == AICC_LOOP_NE);
    }
    for (size_t i = 0; i < l.n; i++) l.v[i].c /= g;
    rhs = op == AICC_LOOP_LT ? -aicc_loop_floordiv(-rhs, g) : rhs / g;
  }
  /* Positive terms left, negated negative terms and the constant right:
   * x - y + 3 < 0 reads x < y - 3; with no positive term, -n < r reads
   * -r < n (for ==, n == -r). */
  lin pos = {.type = t}, neg = {.type = t};
  for (size_t i = 0; i < l.n; i++) {
    if (l.v[i].c > 0) lin_add_term(s, &pos, l.v[i].t, l.v[i].c);
    else lin_add_term(s, &neg, l.v[i].t, -l.v[i].c);
  }
  free(l.v);
  if (pos.n == 0) {
    free(pos.v);
    const expr *n = lin_build(s, &neg), *k = mk_int(s, t, wmul(rhs, -1));
    return op == AICC_LOOP_LT ? aicc_loop_binary(s->ctx, op, k, n)
                              : aicc_loop_binary(s->ctx, op, n, k);
  }
  neg.k = rhs;
  const expr *lhs = lin_build(s, &pos);
  return aicc_loop_binary(s->ctx, op, lhs, lin_build(s, &neg));
}

static const expr *simp_cmp(simp_state *s, aicc_loop_op op, const expr *a, const expr *b) {
  aicc_dtype t = a->type;
  /* a > b is b < a; a >= b is b <= a (exact for floats too). */
  if (op == AICC_LOOP_GT || op == AICC_LOOP_GE) {
    const expr *x = a;
    a = b;
    b = x;
    op = op == AICC_LOOP_GT ? AICC_LOOP_LT : AICC_LOOP_LE;
  }
  if (is_signed(t)) {
    if (op == AICC_LOOP_LE) /* a <= b is a < b + 1 (no overflow assumed) */
      return simp_int_cmp(s, AICC_LOOP_LT, a, aicc_loop_add(s->ctx, b, mk_int(s, t, 1)));
    return simp_int_cmp(s, op, a, b);
  }
  if (a == b && aicc_loop_type_is_int(t))
    return aicc_loop_bool(s->ctx, op == AICC_LOOP_EQ || op == AICC_LOOP_LE);
  if ((op == AICC_LOOP_EQ || op == AICC_LOOP_NE) && aicc_loop_expr_compare(a, b) > 0) {
    const expr *x = a;
    a = b;
    b = x;
  }
  return aicc_loop_binary(s->ctx, op, a, b);
}

static const expr *simp_not(simp_state *s, const expr *a) {
  int64_t v;
  if (int_const(a, &v)) return aicc_loop_bool(s->ctx, !v);
  if (a->op == AICC_LOOP_NOT) return a->args[0];
  const expr *x = a->nargs == 2 ? a->args[0] : NULL, *y = a->nargs == 2 ? a->args[1] : NULL;
  if (a->op == AICC_LOOP_EQ) return simp_cmp(s, AICC_LOOP_NE, x, y);
  if (a->op == AICC_LOOP_NE) return simp_cmp(s, AICC_LOOP_EQ, x, y);
  /* !(x < y) is y <= x only without NaN: integers. */
  if (a->op == AICC_LOOP_LT && aicc_loop_type_is_int(x->type)) return simp_cmp(s, AICC_LOOP_LE, y, x);
  if (a->op == AICC_LOOP_LE && aicc_loop_type_is_int(x->type)) return simp_cmp(s, AICC_LOOP_LT, y, x);
  return aicc_loop_not(s->ctx, a);
}

static const expr *simp_logic(simp_state *s, aicc_loop_op op, const expr *a, const expr *b) {
  bool is_and = op == AICC_LOOP_AND;
  int64_t v;
  if (aicc_loop_expr_compare(a, b) > 0) {
    const expr *x = a;
    a = b;
    b = x;
  }
  if (int_const(b, &v)) { /* constants sort last */
    if (int_const(a, NULL)) return fold_int(s, op, AICC_DTYPE_BOOL, a->v.i, v);
    return (v != 0) == is_and ? a : b; /* x && true -> x; x && false -> false */
  }
  if (a == b) return a;
  /* x && !x, x || !x (the negation in its simplified form: !(x < y) is y < x + 1). */
  if ((a->op == AICC_LOOP_NOT && a->args[0] == b) || (b->op == AICC_LOOP_NOT && b->args[0] == a) ||
      simp_not(s, a) == b)
    return aicc_loop_bool(s->ctx, !is_and);
  /* Each side under the facts the other gives: in a && b, b may assume a
   * (x < 2 && 9 < x -> false); in a || b, b may assume !a. Only for a side
   * without loads: && does not short-circuit (both sides are evaluated, as
   * in vector code), so a load must stay in bounds whatever the other side. */
  if (s->logic_depth < 4) {
    for (int side = 0; side < 2; side++) {
      const expr *given = side ? b : a, *other = side ? a : b;
      aicc_loop_scope f[8];
      size_t nf = 0;
      if (has_load(other)) continue;
      learn(s, given, is_and, f, &nf);
      if (!nf) continue;
      const aicc_loop_scope *outer = s->scope;
      for (size_t i = 0; i < nf; i++) f[i].next = i ? &f[i - 1] : outer;
      s->scope = &f[nf - 1];
      s->logic_depth++;
      const expr *o2 = simp(s, other);
      s->scope = outer;
      const expr *r = NULL;
      if (o2 && o2 != other) r = side ? simp_logic(s, op, o2, b) : simp_logic(s, op, a, o2);
      s->logic_depth--;
      if (r) return r;
    }
  }
  return aicc_loop_binary(s->ctx, op, a, b);
}

static const expr *simp_cast(simp_state *s, aicc_dtype t, const expr *a) {
  if (a->type == t) return a;
  int64_t v;
  double f;
  if (int_const(a, &v)) {
    if (aicc_loop_type_is_int(t)) return mk_int(s, t, v);
    double d = a->type == AICC_DTYPE_U64 ? (double)(uint64_t)v : (double)v;
    if (t == AICC_DTYPE_F32 || t == AICC_DTYPE_F64) return aicc_loop_float(s->ctx, t, d);
  }
  if (float_const(a, &f)) {
    if (t == AICC_DTYPE_BOOL) return aicc_loop_bool(s->ctx, f != 0);
    if (t == AICC_DTYPE_F32 || t == AICC_DTYPE_F64) return aicc_loop_float(s->ctx, t, f);
    /* Float to int truncates (C); fold only where C defines it. */
    if (aicc_dtype_is_signed_int(t) && isfinite(f) && fabs(f) < 9.2e18) {
      int64_t iv = (int64_t)f;
      if (aicc_loop_int_wrap(t, iv) == iv) return mk_int(s, t, iv);
    }
  }
  return aicc_loop_cast(s->ctx, t, a);
}

static const expr *simp_arith(simp_state *s, aicc_loop_op op, const expr *a, const expr *b) {
  aicc_dtype t = a->type;
  int64_t x, y;
  double fx, fy;
  if (int_const(a, &x) && int_const(b, &y)) return fold_int(s, op, t, x, y);
  if (float_const(a, &fx) && float_const(b, &fy)) {
    const expr *r = fold_float(s, op, t, fx, fy);
    if (r) return r;
  }
  if (is_ring(t)) {
    switch (op) {
    case AICC_LOOP_ADD: case AICC_LOOP_SUB: {
      const expr *e = aicc_loop_binary(s->ctx, op, a, b);
      if (!e) return NULL;
      lin l = lin_of(s, e);
      return lin_build(s, &l);
    }
    case AICC_LOOP_MUL: {
      if (int_const(a, NULL)) {
        const expr *z = a;
        a = b;
        b = z;
      }
      const expr *e = aicc_loop_mul(s->ctx, a, b);
      if (!e) return NULL;
      if (int_const(b, NULL)) {
        lin l = lin_of(s, e);
        return lin_build(s, &l);
      }
      return canonical_mul(s, e);
    }
    case AICC_LOOP_DIV: return simp_div(s, a, b, t);
    case AICC_LOOP_MOD: return simp_mod(s, a, b, t);
    default: break;
    }
  }
  if (op == AICC_LOOP_MIN || op == AICC_LOOP_MAX) return simp_minmax(s, op, a, b, t);
  /* Floats (and bool arithmetic): exact identities only. */
  if ((op == AICC_LOOP_ADD || op == AICC_LOOP_MUL) && aicc_loop_expr_is_const(a) &&
      !aicc_loop_expr_is_const(b)) {
    const expr *z = a; /* commutative: constant right */
    a = b;
    b = z;
  }
  if (float_const(b, &fy)) {
    if ((op == AICC_LOOP_MUL || op == AICC_LOOP_DIV) && fy == 1.0) return a;
    if (op == AICC_LOOP_SUB && fy == 0.0 && !signbit(fy)) return a;
    if (op == AICC_LOOP_ADD && fy == 0.0 && signbit(fy)) return a; /* x + -0.0 */
  }
  return aicc_loop_binary(s->ctx, op, a, b);
}

static const expr *simp_select(simp_state *s, const expr *c, const expr *a, const expr *b) {
  int64_t v;
  if (int_const(c, &v)) return v ? a : b;
  if (a == b) return a;
  if (c->op == AICC_LOOP_NOT) return aicc_loop_select(s->ctx, c->args[0], b, a);
  if (c->op == AICC_LOOP_NE) /* canonical condition: == */
    return aicc_loop_select(s->ctx, aicc_loop_binary(s->ctx, AICC_LOOP_EQ, c->args[0], c->args[1]), b, a);
  if (a->type == AICC_DTYPE_BOOL) {
    int64_t va, vb;
    if (int_const(a, &va) && int_const(b, &vb)) return va ? c : simp_not(s, c);
  }
  return aicc_loop_select(s->ctx, c, a, b);
}

const expr *aicc_loop_simp_expr_(simp_state *s, const expr *e) {
  if (!e || s->oom) return NULL;
  if (e->op == AICC_LOOP_VAR) {
    for (const aicc_loop_scope *sc = s->scope; sc; sc = sc->next)
      if (sc->var == e) {
        if (sc->replace) return sc->replace;
        if (sc->range.lo == sc->range.hi && aicc_loop_type_is_int(e->type))
          return mk_int(s, e->type, sc->range.lo);
        break;
      }
    return e;
  }
  if (e->nargs == 0) return e;
  const expr *stack[8], **args = e->nargs <= 8 ? stack : malloc(e->nargs * sizeof *args);
  if (!args) return NULL;
  for (uint32_t k = 0; k < e->nargs; k++) {
    args[k] = simp(s, e->args[k]);
    if (!args[k]) {
      if (args != stack) free(args);
      return NULL;
    }
  }
  const expr *r;
  switch (e->op) {
  case AICC_LOOP_ADD: case AICC_LOOP_SUB: case AICC_LOOP_MUL: case AICC_LOOP_DIV:
  case AICC_LOOP_MOD: case AICC_LOOP_MIN: case AICC_LOOP_MAX:
    r = simp_arith(s, e->op, args[0], args[1]);
    break;
  case AICC_LOOP_EQ: case AICC_LOOP_NE: case AICC_LOOP_LT: case AICC_LOOP_LE:
  case AICC_LOOP_GT: case AICC_LOOP_GE: {
    int64_t x, y;
    double fx, fy;
    if (int_const(args[0], &x) && int_const(args[1], &y))
      r = fold_int(s, e->op, args[0]->type, x, y);
    else if (float_const(args[0], &fx) && float_const(args[1], &fy))
      r = fold_float(s, e->op, args[0]->type, fx, fy);
    else
      r = NULL;
    if (!r) r = simp_cmp(s, e->op, args[0], args[1]);
    break;
  }
  case AICC_LOOP_AND: case AICC_LOOP_OR: r = simp_logic(s, e->op, args[0], args[1]); break;
  case AICC_LOOP_NOT: r = simp_not(s, args[0]); break;
  case AICC_LOOP_SELECT: r = simp_select(s, args[0], args[1], args[2]); break;
  case AICC_LOOP_CAST: r = simp_cast(s, e->type, args[0]); break;
  default: r = aicc_loop_expr_with_args(s->ctx, e, args); break;
  }
  if (args != stack) free(args);
  if (!r) s->oom = true;
  return r;
}

const aicc_loop_expr *aicc_loop_simplify(aicc_loop_ctx *ctx, const aicc_loop_expr *e,
                                         const aicc_loop_scope *scope) {
  simp_state s = {.ctx = ctx, .scope = scope};
  const expr *r = simp(&s, e);
  return s.oom ? NULL : r;
}

/* ---- used by the statement simplifier (simplify_stmt.c) ---- */

bool aicc_loop_simp_has_load_(const expr *e) {
  if (e->op == AICC_LOOP_LOAD) return true;
  for (uint32_t k = 0; k < e->nargs; k++)
    if (aicc_loop_simp_has_load_(e->args[k])) return true;
  return false;
}

/* Lets of constants, variables and var*c + k are substituted (as Halide's
 * simplifier does), so div/mod rules see through them. */
bool aicc_loop_simp_inline_let_(simp_state *s, const expr *v) {
  if (aicc_loop_expr_is_const(v) || v->op == AICC_LOOP_VAR) return true;
  if (!is_ring(v->type)) return false;
  lin l = lin_of(s, v);
  bool simple = l.n == 1 && l.v[0].t->op == AICC_LOOP_VAR;
  free(l.v);
  return simple;
}

/* Facts an if condition gives its branches: from canonical comparisons of a
 * variable with a constant (v < c, c < v, v == c), through && in the then
 * branch and for a single comparison in the else branch. Lets tail guards
 * such as `if (i < 10)` simplify the code they guard. */
void aicc_loop_simp_learn_(simp_state *s, const expr *c, bool holds, aicc_loop_scope *f, size_t *nf) {
  if (holds && c->op == AICC_LOOP_AND) {
    aicc_loop_simp_learn_(s, c->args[0], true, f, nf);
    aicc_loop_simp_learn_(s, c->args[1], true, f, nf);
    return;
  }
  if (*nf >= 8 || c->nargs != 2 || !is_signed(c->args[0]->type)) return;
  const expr *a = c->args[0], *b = c->args[1], *v;
  int64_t k;
  aicc_loop_interval r = AICC_LOOP_UNBOUNDED;
  if (c->op == AICC_LOOP_LT && a->op == AICC_LOOP_VAR && int_const(b, &k)) {
    v = a; /* v < k */
    if (holds) r.hi = k - 1;
    else r.lo = k;
  } else if (c->op == AICC_LOOP_LT && b->op == AICC_LOOP_VAR && int_const(a, &k)) {
    v = b; /* k < v */
    if (holds) r.lo = k + 1;
    else r.hi = k;
  } else if (c->op == AICC_LOOP_EQ && holds && a->op == AICC_LOOP_VAR && int_const(b, &k)) {
    v = a;
    r.lo = r.hi = k;
  } else {
    return;
  }
  aicc_loop_interval cur = aicc_loop_const_bounds(v, s->scope);
  for (size_t i = 0; i < *nf; i++)
    if (f[i].var == v) cur = f[i].range;
  if (r.lo < cur.lo) r.lo = cur.lo;
  if (r.hi > cur.hi) r.hi = cur.hi;
  if (r.lo > r.hi) return; /* a dead branch; leave it alone */
  f[*nf] = (aicc_loop_scope){.var = v, .range = r};
  /* A fact narrows the same variable: keep its loop's symbolic range. */
  const aicc_loop_scope *se = sym_entry(s, v);
  if (se) f[*nf].min_expr = se->min_expr, f[*nf].max_expr = se->max_expr;
  (*nf)++;
}

