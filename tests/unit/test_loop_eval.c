/* Unit tests for the loop-IR reference interpreter (src/loop/eval.c), and a
 * seeded randomized check that statement simplification (loop ranges, if
 * facts, let inlining, extent-1 loops) leaves every buffer unchanged, and that
 * random statements round-trip through the text form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop/eval.h"
#include "loop/ir.h"
#include "loop/simplify.h"
#include "loop/text.h"
#include "loop/verify.h"

static aicc_loop_module parse(aicc_loop_ctx *ctx, const char *src) {
  aicc_loop_module m;
  aicc_status st = aicc_loop_module_parse(ctx, "t", src, strlen(src), &m);
  if (st) fail_msg("%s", aicc_status_message(st));
  return m;
}

static void eval_program(void **state) {
  const char *src =
      "func f(n: i32, A: i32[8], F: f32[2], D: f64[1]) {\n"
      "  for (i, 0, n) {\n"
      "    A[i] = (i - 3)/2*10 + (i - 3)%2\n"
      "  }\n"
      "  allocate T: i32[2, 2] {\n"
      "    for (y, 0, 2) {\n"
      "      for (x, 0, 2) {\n"
      "        T[y, x] = y*2 + x\n"
      "      }\n"
      "    }\n"
      "    A[7] = T[1, 0] + T[1, 1] + i32(f32(7)/2.0)\n"
      "  }\n"
      "  F[0] = 16777216.0 + 1.0\n"
      "  F[1] = sqrt(f32(A[0] + 20))\n"
      "  D[0] = 16777216.0f64 + 1.0f64\n"
      "}\n";
  aicc_loop_ctx *ctx = aicc_loop_ctx_create();
  aicc_loop_module m = parse(ctx, src);
  const aicc_loop_func *f = m.funcs[0];
  int64_t a[8] = {0};
  double fl[2] = {0}, d[1] = {0};
  aicc_loop_buffer_data bufs[3] = {{f->params[1].buf, a, 8}, {f->params[2].buf, fl, 2}, {f->params[3].buf, d, 1}};
  aicc_loop_binding env[1] = {{f->params[0].var, 6}};
  assert_null(aicc_loop_stmt_run(f->body, env, 1, bufs, 3));
  /* floor division and modulo: (i-3) = -3..2 */
  int64_t want[8] = {-19, -10, -9, 0, 1, 10, 0, 2 + 3 + 3};
  for (int i = 0; i < 8; i++) assert_int_equal(a[i], want[i]);
  assert_true(fl[0] == 16777216.0); /* f32 rounds after each op */
  assert_true(fl[1] == 1.0);        /* sqrt(-19 + 20) */
  assert_true(d[0] == 16777217.0);
  /* Out of bounds is an error naming the buffer and index. */
  env[0].value = 9;
  aicc_status st = aicc_loop_stmt_run(f->body, env, 1, bufs, 3);
  assert_non_null(st);
  assert_string_equal(aicc_status_message(st), "loop interpreter: A index 0 is 8, outside [0, 8)");
  aicc_status_free(st);
  /* Unbound parameters are errors too. */
  st = aicc_loop_stmt_run(f->body, NULL, 0, bufs, 3);
  assert_non_null(st);
  assert_string_equal(aicc_status_message(st), "loop interpreter: variable 'n' is not bound");
  aicc_status_free(st);
  aicc_loop_ctx_destroy(ctx);
}

static void eval_float_mod_and_intrinsics(void **state) {
  const char *src =
      "func g(F: f64[6]) {\n"
      "  F[0] = -7.0f64 % 2.0f64\n"
      "  F[1] = fmod(-7.0f64, 2.0f64)\n"
      "  F[2] = 5.0f64 % 0.0f64\n"
      "  F[3] = round(2.5f64) + round(3.5f64)\n"
      "  F[4] = fma(2.0f64, 3.0f64, 1.0f64) + sign(-0.5f64)\n"
      "  F[5] = f64(i32(-2.75f64))\n"
      "}\n";
  aicc_loop_ctx *ctx = aicc_loop_ctx_create();
  aicc_loop_module m = parse(ctx, src);
  double f[6] = {0};
  aicc_loop_buffer_data b = {m.funcs[0]->params[0].buf, f, 6};
  assert_null(aicc_loop_stmt_run(m.funcs[0]->body, NULL, 0, &b, 1));
  assert_true(f[0] == 1.0);  /* floor modulo, like ints */
  assert_true(f[1] == -1.0); /* C fmod truncates */
  assert_true(f[2] == 5.0);  /* x % 0.0 == x */
  assert_true(f[3] == 6.0);  /* half to even: 2 + 4 */
  assert_true(f[4] == 6.0);
  assert_true(f[5] == -2.0); /* float to int truncates */
  aicc_loop_ctx_destroy(ctx);
}

/* ---- random statements ---- */

static uint64_t rng;
static uint32_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)(rng >> 11);
}
static int64_t rnd_in(int64_t lo, int64_t hi) { return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1)); }

typedef struct {
  aicc_loop_ctx *ctx;
  const aicc_loop_expr *vars[16];
  int nvars, fresh;
  const aicc_loop_buffer *A, *B;
} gen;

#define I(k) aicc_loop_i32(g->ctx, k)

static const aicc_loop_expr *gen_int(gen *g, int depth) {
  if (depth <= 0 || rnd() % 3 == 0) return rnd() % 4 ? g->vars[rnd() % g->nvars] : I(rnd_in(-9, 9));
  const aicc_loop_expr *a = gen_int(g, depth - 1), *b = gen_int(g, depth - 1);
  switch (rnd() % 8) {
  case 0: return aicc_loop_add(g->ctx, a, b);
  case 1: return aicc_loop_sub(g->ctx, a, b);
  case 2: return aicc_loop_mul(g->ctx, a, I(rnd_in(-3, 5)));
  case 3: return aicc_loop_div(g->ctx, a, rnd() % 2 ? I(rnd_in(1, 6)) : b);
  case 4: return aicc_loop_mod(g->ctx, a, rnd() % 2 ? I(rnd_in(1, 6)) : b);
  case 5: return aicc_loop_min(g->ctx, a, b);
  case 6: return aicc_loop_max(g->ctx, a, b);
  default: {
    const aicc_loop_expr *ix = aicc_loop_mod(g->ctx, a, I(16));
    return aicc_loop_load(g->ctx, g->A, &ix);
  }
  }
}

static const aicc_loop_expr *gen_cond(gen *g) {
  static const aicc_loop_op ops[] = {AICC_LOOP_LT, AICC_LOOP_LE, AICC_LOOP_EQ, AICC_LOOP_NE, AICC_LOOP_GT};
  const aicc_loop_expr *rhs = rnd() % 2 ? I(rnd_in(-3, 6)) : gen_int(g, 1);
  const aicc_loop_expr *c = aicc_loop_binary(g->ctx, ops[rnd() % 5], g->vars[rnd() % g->nvars], rhs);
  if (rnd() % 3 == 0) c = aicc_loop_binary(g->ctx, AICC_LOOP_AND, c, aicc_loop_binary(g->ctx, AICC_LOOP_LT, gen_int(g, 1), gen_int(g, 1)));
  return c;
}

static const aicc_loop_stmt *gen_stmt(gen *g, int depth) {
  char name[16];
  switch (depth <= 0 ? 5 : rnd() % 6) {
  case 0: case 1: {
    if (g->nvars >= 16) break;
    snprintf(name, sizeof name, "v%d", g->fresh++);
    const aicc_loop_expr *v = aicc_loop_var(g->ctx, name, AICC_DTYPE_I32);
    if (rnd() % 4 == 0) v = g->vars[rnd() % g->nvars]; /* shadow an outer variable */
    const aicc_loop_expr *min = rnd() % 4 ? I(rnd_in(-3, 3)) : gen_int(g, 1);
    /* Mostly constant extents; sometimes symbolic ones (possibly <= 0). */
    const aicc_loop_expr *ext = rnd() % 3 ? I(rnd_in(0, 5)) : aicc_loop_min(g->ctx, gen_int(g, 1), I(6));
    g->vars[g->nvars++] = v;
    const aicc_loop_stmt *body = gen_stmt(g, depth - 1);
    g->nvars--;
    return aicc_loop_for(g->ctx, v, min, ext, (aicc_loop_for_kind)(rnd() % 4), body);
  }
  case 2: {
    const aicc_loop_expr *c = gen_cond(g);
    const aicc_loop_stmt *t = gen_stmt(g, depth - 1);
    return aicc_loop_if(g->ctx, c, t, rnd() % 2 ? gen_stmt(g, depth - 1) : NULL);
  }
  case 3: {
    if (g->nvars >= 16) break;
    snprintf(name, sizeof name, "t%d", g->fresh++);
    const aicc_loop_expr *v = aicc_loop_var(g->ctx, name, AICC_DTYPE_I32);
    if (rnd() % 4 == 0) v = g->vars[rnd() % g->nvars]; /* shadow an outer variable */
    const aicc_loop_expr *val = gen_int(g, 2);
    g->vars[g->nvars++] = v;
    const aicc_loop_stmt *body = gen_stmt(g, depth - 1);
    g->nvars--;
    return aicc_loop_let(g->ctx, v, val, body);
  }
  case 4: {
    const aicc_loop_stmt *s[3];
    int n = 1 + (int)(rnd() % 3);
    for (int k = 0; k < n; k++) s[k] = gen_stmt(g, depth - 1);
    return aicc_loop_seq(g->ctx, (size_t)n, s);
  }
  default: break;
  }
  /* A store: A[e % 16] = A[...] + e, or B[e % 4, e % 4] = e. */
  if (rnd() % 2) {
    const aicc_loop_expr *ix = aicc_loop_mod(g->ctx, gen_int(g, 2), I(16));
    return aicc_loop_store(g->ctx, g->A, &ix, aicc_loop_add(g->ctx, gen_int(g, 2), gen_int(g, 2)));
  }
  const aicc_loop_expr *ix[2] = {aicc_loop_mod(g->ctx, gen_int(g, 2), I(4)), aicc_loop_mod(g->ctx, gen_int(g, 2), I(4))};
  return aicc_loop_store(g->ctx, g->B, ix, gen_int(g, 3));
}

static void stmt_random_simplify_preserves_buffers(void **state) {
  int CASES = getenv("AICC_LOOP_CASES") ? atoi(getenv("AICC_LOOP_CASES")) : 5000;
  rng = getenv("AICC_LOOP_SEED") ? strtoull(getenv("AICC_LOOP_SEED"), NULL, 0) | 1 : 0x2545f4914f6cdd1dull;
  aicc_loop_ctx *ctx = aicc_loop_ctx_create();
  const char *src = "func f(x: i32, A: i32[16], B: i32[4, 4]) {\n}\n";
  aicc_loop_module m = parse(ctx, src);
  aicc_loop_func *f = m.funcs[0];
  gen g = {.ctx = ctx, .A = f->params[1].buf, .B = f->params[2].buf};
  long changed = 0;
  for (int c = 0; c < CASES; c++) {
    if (getenv("AICC_LOOP_TRACE")) fprintf(stderr, "case %d\n", c);
    g.vars[0] = f->params[0].var;
    g.nvars = 1;
    const aicc_loop_stmt *s = gen_stmt(&g, 4);
    assert_non_null(s);
    const aicc_loop_stmt *t = aicc_loop_stmt_simplify(ctx, s, NULL);
    assert_non_null(t);
    /* Text round trip of the random statement, inside the func. */
    f->body = s;
    char *p1 = aicc_loop_func_print(f);
    if (getenv("AICC_LOOP_TRACE")) fprintf(stderr, "%s", p1);
    aicc_loop_module m2 = parse(ctx, p1);
    char *p2 = aicc_loop_func_print(m2.funcs[0]);
    assert_string_equal(p1, p2);
    free(p2);
    aicc_status vs = aicc_loop_func_verify(f);
    assert_null(vs);
    f->body = t;
    vs = aicc_loop_func_verify(f);
    if (vs) fail_msg("%s", aicc_status_message(vs));
    int64_t a0[16], b0[16], a1[16], b1[16];
    for (int i = 0; i < 16; i++) a0[i] = a1[i] = rnd_in(-20, 20), b0[i] = b1[i] = rnd_in(-20, 20);
    aicc_loop_binding env[1] = {{f->params[0].var, rnd_in(-5, 5)}};
    aicc_loop_buffer_data d0[2] = {{g.A, a0, 16}, {g.B, b0, 16}}, d1[2] = {{g.A, a1, 16}, {g.B, b1, 16}};
    aicc_status e0 = aicc_loop_stmt_run(s, env, 1, d0, 2), e1 = aicc_loop_stmt_run(t, env, 1, d1, 2);
    assert_null(e0);
    if (e1) {
      char *p3 = aicc_loop_stmt_print(t, 2);
      fprintf(stderr, "case %d (x = %lld): %s\n%s--- simplified:\n%s", c, (long long)env[0].value,
              aicc_status_message(e1), p1, p3);
      free(p3);
      fail();
    }
    if (memcmp(a0, a1, sizeof a0) || memcmp(b0, b1, sizeof b0)) {
      char *p3 = aicc_loop_stmt_print(t, 2);
      fprintf(stderr, "case %d (x = %lld): simplified statement computes different buffers\n%s--- simplified:\n%s",
                  c, (long long)env[0].value, p1, p3);
      free(p3);
      fail();
    }
    char *p3 = aicc_loop_stmt_print(t, 2), *p4 = aicc_loop_stmt_print(s, 2);
    if (strcmp(p3, p4)) changed++;
    if (getenv("AICC_LOOP_FIXPOINT")) { /* statement-level fixed point (exploratory) */
      char *p5 = aicc_loop_stmt_print(aicc_loop_stmt_simplify(ctx, t, NULL), 2);
      if (strcmp(p3, p5)) fprintf(stderr, "case %d: not a fixed point\n%s--- again:\n%s", c, p3, p5);
      free(p5);
    }
    free(p3);
    free(p4);
    free(p1);
  }
  print_message("random statements: %d nests run before and after simplification, %ld changed\n",
                CASES, changed);
  aicc_loop_ctx_destroy(ctx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(eval_program),
      cmocka_unit_test(eval_float_mod_and_intrinsics),
      cmocka_unit_test(stmt_random_simplify_preserves_buffers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
