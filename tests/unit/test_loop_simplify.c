/* Unit tests for the loop IR simplifier (src/loop/simplify.c): rules one by
 * one through the text form, and a seeded randomized check that simplifying
 * preserves values (and that constant and symbolic bounds contain them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop/bounds.h"
#include "loop/eval.h"
#include "loop/ir.h"
#include "loop/simplify.h"
#include "loop/text.h"

/* Simplifies EXPR inside `for (i, 0, 16) { for (j, 0, 4) { ... } }` with
 * scalar params x, y, n (i32) and buffer A: f32[16, 4]; returns the printed
 * result (static storage). */
static const char *simp_str(const char *expr) {
  static char out[512];
  char src[1024];
  snprintf(src, sizeof src,
           "func f(x: i32, y: i32, n: i32, A: f32[16, 4]) {\n"
           "  for (i, 0, 16) {\n    for (j, 0, 4) {\n      evaluate %s\n    }\n  }\n}\n",
           expr);
  aicc_loop_ctx *ctx = aicc_loop_ctx_create();
  aicc_loop_module m;
  aicc_status st = aicc_loop_module_parse(ctx, "t", src, strlen(src), &m);
  if (st) {
    snprintf(out, sizeof out, "error: %s", aicc_status_message(st));
    aicc_status_free(st);
    aicc_loop_ctx_destroy(ctx);
    return out;
  }
  const aicc_loop_stmt *s = aicc_loop_stmt_simplify(ctx, m.funcs[0]->body, NULL);
  while (s && (s->kind == AICC_LOOP_FOR || s->kind == AICC_LOOP_LET)) s = s->body;
  if (s && s->kind == AICC_LOOP_EVALUATE) {
    char *p = aicc_loop_expr_print(s->value);
    snprintf(out, sizeof out, "%s", p);
    free(p);
  } else {
    snprintf(out, sizeof out, "<stmt kind %d>", s ? (int)s->kind : -1);
  }
  aicc_loop_ctx_destroy(ctx);
  return out;
}

#define CHECK_SIMP(in, want) assert_string_equal(simp_str(in), want)

static void simplify_folding(void **state) {
  CHECK_SIMP("3 + 4*5", "23");
  CHECK_SIMP("-7 / 2", "-4");
  CHECK_SIMP("-7 % 2", "1");
  CHECK_SIMP("7 % -2", "-1");
  CHECK_SIMP("x / 0", "0");
  CHECK_SIMP("x % 0", "0");
  CHECK_SIMP("2147483647 + 1", "-2147483648");
  CHECK_SIMP("1.5 * 2.0", "3.0");
  CHECK_SIMP("i32(2.75)", "2");
  CHECK_SIMP("f64(3)", "3.0f64");
  CHECK_SIMP("3 < 4 && !(2 == 2)", "false");
  CHECK_SIMP("min(3, -2) + max(3, -2)", "1");
}

static void simplify_canonical(void **state) {
  CHECK_SIMP("x*2 + x*3", "x*5");
  CHECK_SIMP("3 + x", "x + 3");
  CHECK_SIMP("y + x", "x + y");
  CHECK_SIMP("(x + 1)*3 - 2*(x - 1)", "x + 5");
  CHECK_SIMP("x - x", "0");
  CHECK_SIMP("0 - x", "0 - x");
  CHECK_SIMP("y - x + 4", "y - x + 4");
  CHECK_SIMP("3 - x - y", "3 - x - y");
  CHECK_SIMP("y*x + x*y", "x*y*2");
  CHECK_SIMP("(x + 2) + (y - 2)", "x + y");
  CHECK_SIMP("x*1 + 0", "x");
  CHECK_SIMP("x*0", "0");
  CHECK_SIMP("min(x, x)", "x");
  CHECK_SIMP("max(y, x)", "max(x, y)");
  CHECK_SIMP("min(3, x)", "min(x, 3)");
  CHECK_SIMP("min(min(x, 5), 3)", "min(x, 3)");
  CHECK_SIMP("select(true, x, y)", "x");
  CHECK_SIMP("select(x < y, n, n)", "n");
  CHECK_SIMP("select(!(x == y), x, y)", "select(x == y, y, x)");
  CHECK_SIMP("!!(x < y)", "x < y");
  CHECK_SIMP("x > y", "y < x");
  CHECK_SIMP("x <= 4", "x < 5");
  CHECK_SIMP("x + 3 < y", "x < y - 3");
  CHECK_SIMP("!(x < y)", "y < x + 1");
  CHECK_SIMP("x == y", "x == y");
  CHECK_SIMP("0 - x < 5", "-5 < x");
  CHECK_SIMP("0 < x", "0 < x");
  CHECK_SIMP("x*2 < 7", "x < 4");
  CHECK_SIMP("x*2 == 7", "false");
  CHECK_SIMP("x*2 == 8", "x == 4");
  CHECK_SIMP("x < y && true", "x < y");
  CHECK_SIMP("x < y || true", "true");
  CHECK_SIMP("x < y && !(x < y)", "false");
  CHECK_SIMP("(x/4)/8", "x/32");
  CHECK_SIMP("(x%8)%4", "x%4");
  CHECK_SIMP("(x*6 + 4)/2", "x*3 + 2");
  CHECK_SIMP("(x*6 + 5)%3", "2");
  CHECK_SIMP("(x + 7)/4", "(x + 3)/4 + 1");
  /* Floats: folding and exact identities only, never reassociation. */
  CHECK_SIMP("1.0*A[i, j] + 0.0", "A[i, j] + 0.0");
  CHECK_SIMP("A[i, j] - 0.0", "A[i, j]");
  CHECK_SIMP("(A[i, j] + 1.0) + 2.0", "A[i, j] + 1.0 + 2.0");
}

static void simplify_bounds(void **state) {
  CHECK_SIMP("i / 16", "0");
  CHECK_SIMP("i % 16", "i");
  CHECK_SIMP("min(i, 20)", "i");
  CHECK_SIMP("max(i, 20)", "20");
  CHECK_SIMP("max(i, -1)", "i");
  CHECK_SIMP("min(i, 7)", "min(i, 7)");
  CHECK_SIMP("(i*4 + j) / 4", "i");
  CHECK_SIMP("(i*4 + j) % 4", "j");
  CHECK_SIMP("(i*4 + j + 8) / 4", "i + 2");
  CHECK_SIMP("(j + 16) % 4", "j");
  CHECK_SIMP("i < 16", "true");
  CHECK_SIMP("i < 15", "i < 15");
  CHECK_SIMP("i*4 + j < 64", "true");
  CHECK_SIMP("0 <= i", "true");
  CHECK_SIMP("i == 20", "false");
  CHECK_SIMP("min(i, i + 1)", "i");
  CHECK_SIMP("max(j*4, i)", "max(i, j*4)");
  CHECK_SIMP("select(i < 16, i, x)", "i");
  CHECK_SIMP("j / x", "j/x"); /* x may be 0 or negative */
}

static void simplify_stmts(void **state) {
  const char *src =
      "func f(n: i32, A: f32[16]) {\n"
      "  for (i, 0, 16) {\n"
      "    for (k, 0, 1) {\n"
      "      A[i + k] = 1.0\n"
      "    }\n"
      "    for (z, 3, 0) {\n"
      "      A[z] = 2.0\n"
      "    }\n"
      "    if (i < 16) {\n"
      "      let t = i*2 {\n"
      "        A[t / 2] = 3.0\n"
      "      }\n"
      "    } else {\n"
      "      A[0] = 4.0\n"
      "    }\n"
      "  }\n"
      "}\n";
  aicc_loop_ctx *ctx = aicc_loop_ctx_create();
  aicc_loop_module m;
  aicc_status st = aicc_loop_module_parse(ctx, "t", src, strlen(src), &m);
  assert_null(st);
  const aicc_loop_stmt *s = aicc_loop_stmt_simplify(ctx, m.funcs[0]->body, NULL);
  char *p = aicc_loop_stmt_print(s, 0);
  assert_string_equal(p, "for (i, 0, 16) {\n"
                         "  A[i] = 1.0\n"
                         "  A[i] = 3.0\n"
                         "}\n");
  free(p);
  /* A let is not inlined under a loop that rebinds its value's variable. */
  const char *shadow =
      "func g(A: f32[16]) {\n"
      "  for (i, 0, 4) {\n"
      "    let t = i {\n"
      "      for (i, 0, 2) {\n"
      "        A[t + i] = 1.0\n"
      "      }\n"
      "    }\n"
      "  }\n"
      "}\n";
  st = aicc_loop_module_parse(ctx, "t", shadow, strlen(shadow), &m);
  assert_null(st);
  p = aicc_loop_stmt_print(aicc_loop_stmt_simplify(ctx, m.funcs[0]->body, NULL), 0);
  assert_string_equal(p, "for (i, 0, 4) {\n"
                         "  let t = i {\n"
                         "    for (i, 0, 2) {\n"
                         "      A[i + t] = 1.0\n"
                         "    }\n"
                         "  }\n"
                         "}\n");
  free(p);
  aicc_loop_ctx_destroy(ctx);
}

/* ---- randomized check ---- */

static uint64_t rng;
static uint32_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)(rng >> 11);
}
static int64_t rnd_in(int64_t lo, int64_t hi) { return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1)); }

enum { NV = 3 };
static const aicc_loop_expr *vars[NV];
static aicc_dtype ty; /* i32 or i64, per case */

static const aicc_loop_expr *K(aicc_loop_ctx *ctx, int64_t v) { return aicc_loop_int(ctx, ty, v); }

static const aicc_loop_expr *gen_bool(aicc_loop_ctx *ctx, int depth);

/* Values stay far from the i32 limits: leaves within +-30, products only by
 * small constants, depth at most 5. */
static const aicc_loop_expr *gen_int(aicc_loop_ctx *ctx, int depth) {
  if (depth <= 0 || rnd() % 4 == 0) {
    if (rnd() % 3) return vars[rnd() % NV];
    return K(ctx, rnd_in(-30, 30));
  }
  const aicc_loop_expr *a = gen_int(ctx, depth - 1);
  aicc_dtype other = ty == AICC_DTYPE_I32 ? AICC_DTYPE_I64 : AICC_DTYPE_I32;
  switch (rnd() % 11) {
  case 0: return aicc_loop_add(ctx, a, gen_int(ctx, depth - 1));
  case 1: return aicc_loop_sub(ctx, a, gen_int(ctx, depth - 1));
  case 2: return aicc_loop_mul(ctx, a, K(ctx, rnd_in(-4, 4)));
  case 3: return aicc_loop_div(ctx, a, rnd() % 2 ? K(ctx, rnd_in(-9, 9)) : gen_int(ctx, depth - 1));
  case 4: return aicc_loop_mod(ctx, a, rnd() % 2 ? K(ctx, rnd_in(-9, 9)) : gen_int(ctx, depth - 1));
  case 5: return aicc_loop_min(ctx, a, gen_int(ctx, depth - 1));
  case 6: return aicc_loop_max(ctx, a, gen_int(ctx, depth - 1));
  case 7: return aicc_loop_select(ctx, gen_bool(ctx, depth - 1), a, gen_int(ctx, depth - 1));
  case 8: return aicc_loop_add(ctx, aicc_loop_mul(ctx, a, K(ctx, rnd_in(1, 8))), vars[rnd() % NV]);
  case 9: { /* (a/c)*c and a - a%c: the div-mul shapes split produces */
    const aicc_loop_expr *c = K(ctx, rnd_in(1, 8));
    return rnd() % 2 ? aicc_loop_mul(ctx, aicc_loop_div(ctx, a, c), c)
                     : aicc_loop_sub(ctx, a, aicc_loop_mod(ctx, a, c));
  }
  default: return aicc_loop_cast(ctx, ty, aicc_loop_cast(ctx, other, a));
  }
}

static const aicc_loop_expr *gen_bool(aicc_loop_ctx *ctx, int depth) {
  static const aicc_loop_op cmps[] = {AICC_LOOP_EQ, AICC_LOOP_NE, AICC_LOOP_LT,
                                      AICC_LOOP_LE, AICC_LOOP_GT, AICC_LOOP_GE};
  if (depth <= 0 || rnd() % 2) return aicc_loop_binary(ctx, cmps[rnd() % 6], gen_int(ctx, depth - 1), gen_int(ctx, depth - 1));
  switch (rnd() % 4) {
  case 0: return aicc_loop_binary(ctx, AICC_LOOP_AND, gen_bool(ctx, depth - 1), gen_bool(ctx, depth - 1));
  case 1: return aicc_loop_binary(ctx, AICC_LOOP_OR, gen_bool(ctx, depth - 1), gen_bool(ctx, depth - 1));
  case 2: return aicc_loop_not(ctx, gen_bool(ctx, depth - 1));
  default: return aicc_loop_bool(ctx, rnd() % 2);
  }
}

static void show_failure(int c, const char *what, const aicc_loop_expr *e, const aicc_loop_expr *s,
                         const aicc_loop_binding *env) {
  char *a = aicc_loop_expr_print(e), *b = aicc_loop_expr_print(s);
  print_error("case %d (%s): x=%lld y=%lld z=%lld\n  %s\n  -> %s\n", c, what,
              (long long)env[0].value, (long long)env[1].value, (long long)env[2].value, a, b);
  free(a), free(b);
  fail();
}

/* Thousands of random expressions over x, y, z with random ranges (or none:
 * a variable outside the scope is unbounded): the simplified form must
 * evaluate the same at random points of the ranges, be a fixed point, and
 * lie within the constant bounds and the symbolic bounds (relaxing a random
 * subset of the variables, the rest staying symbolic). x/0 == x%0 == 0 is
 * part of the semantics, so random divisors may be zero. */
static void simplify_random_preserves_values(void **state) {
  enum { POINTS = 24 };
  /* A fixed seed, so failures reproduce; AICC_LOOP_SEED / AICC_LOOP_CASES
   * explore further by hand. */
  int CASES = getenv("AICC_LOOP_CASES") ? atoi(getenv("AICC_LOOP_CASES")) : 20000;
  rng = getenv("AICC_LOOP_SEED") ? strtoull(getenv("AICC_LOOP_SEED"), NULL, 0) | 1 : 0x9e3779b97f4a7c15ull;
  aicc_loop_ctx *ctx = aicc_loop_ctx_create();
  const char *names[NV] = {"x", "y", "z"};
  long checked = 0, shrunk = 0, sym_bounded = 0;
  for (int c = 0; c < CASES; c++) {
    ty = c % 4 == 3 ? AICC_DTYPE_I64 : AICC_DTYPE_I32;
    for (int v = 0; v < NV; v++) vars[v] = aicc_loop_var(ctx, names[v], ty);
    aicc_loop_scope scope[NV], facts[NV];
    aicc_loop_relax relax[NV];
    const aicc_loop_scope *sc = NULL, *fc = NULL;
    const aicc_loop_relax *rx = NULL;
    int64_t lo[NV], hi[NV];
    for (int v = 0; v < NV; v++) {
      lo[v] = rnd_in(-20, 20);
      hi[v] = lo[v] + rnd_in(0, 30);
      bool in_scope = rnd() % 5 != 0;
      if (!in_scope) lo[v] = -60, hi[v] = 60; /* sampled wider, unknown to the simplifier */
      if (in_scope) {
        scope[v] = (aicc_loop_scope){.var = vars[v], .range = {lo[v], hi[v]}, .next = sc};
        sc = &scope[v];
      }
      if (in_scope && rnd() % 2) {
        relax[v] = (aicc_loop_relax){.var = vars[v], .range = {K(ctx, lo[v]), K(ctx, hi[v])}, .next = rx};
        rx = &relax[v];
      } else if (in_scope) {
        facts[v] = scope[v];
        facts[v].next = fc;
        fc = &facts[v];
      }
    }
    const aicc_loop_expr *e = rnd() % 4 ? gen_int(ctx, 5) : gen_bool(ctx, 4);
    assert_non_null(e);
    const aicc_loop_expr *s = aicc_loop_simplify(ctx, e, sc);
    assert_non_null(s);
    aicc_loop_binding env[NV] = {{vars[0], 0}, {vars[1], 0}, {vars[2], 0}};
    /* The text form round-trips random trees: parsing the printed expression
     * gives back the same interned node (precedence, negative literals). */
    for (int k = 0; k < 2; k++) {
      char *text = aicc_loop_expr_print(k ? s : e), src[8192];
      snprintf(src, sizeof src, "func f(x: %s, y: %s, z: %s) {\n  evaluate %s\n}\n",
               aicc_dtype_text(ty), aicc_dtype_text(ty), aicc_dtype_text(ty), text);
      aicc_loop_module m;
      aicc_status st = aicc_loop_module_parse(ctx, "rand", src, strlen(src), &m);
      if (st) fail_msg("%s\n%s", aicc_status_message(st), src);
      if (m.funcs[0]->body->value != (k ? s : e)) show_failure(c, "text round trip", k ? s : e, m.funcs[0]->body->value, env);
      free(text);
    }
    if (aicc_loop_simplify(ctx, s, sc) != s) show_failure(c, "not a fixed point", s, aicc_loop_simplify(ctx, s, sc), env);
    aicc_loop_interval cb = aicc_loop_const_bounds(e, sc);
    aicc_loop_range sb;
    assert_true(aicc_loop_bounds_of(ctx, e, rx, fc, &sb));
    if (sb.min && sb.max) sym_bounded++;
    for (int p = 0; p < POINTS; p++) {
      for (int v = 0; v < NV; v++) env[v].value = rnd_in(lo[v], hi[v]);
      int64_t want, got, smin = INT64_MIN, smax = INT64_MAX;
      assert_true(aicc_loop_eval_int(e, env, NV, &want));
      assert_true(aicc_loop_eval_int(s, env, NV, &got));
      if (sb.min) assert_true(aicc_loop_eval_int(sb.min, env, NV, &smin));
      if (sb.max) assert_true(aicc_loop_eval_int(sb.max, env, NV, &smax));
      if (want != got) show_failure(c, "value changed", e, s, env);
      if (want < cb.lo || want > cb.hi) show_failure(c, "outside constant bounds", e, e, env);
      if (want < smin || want > smax) {
        char *a = sb.min ? aicc_loop_expr_print(sb.min) : NULL, *b = sb.max ? aicc_loop_expr_print(sb.max) : NULL;
        print_error("symbolic bounds [%s, %s] = [%lld, %lld], value %lld\n", a ? a : "-inf",
                    b ? b : "+inf", (long long)smin, (long long)smax, (long long)want);
        free(a), free(b);
        show_failure(c, "outside symbolic bounds", e, e, env);
      }
      checked++;
    }
    char *a = aicc_loop_expr_print(e), *b = aicc_loop_expr_print(s);
    if (strlen(b) < strlen(a)) shrunk++;
    free(a), free(b);
  }
  print_message("randomized: %d expressions, %ld evaluations, %ld shrunk, %ld with finite symbolic bounds\n",
                CASES, checked, shrunk, sym_bounded);
  aicc_loop_ctx_destroy(ctx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(simplify_folding),
      cmocka_unit_test(simplify_canonical),
      cmocka_unit_test(simplify_bounds),
      cmocka_unit_test(simplify_stmts),
      cmocka_unit_test(simplify_random_preserves_values),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
