/* Unit tests for bounds inference (src/loop/const_bounds.c, bounds.c):
 * constant intervals, symbolic ranges with relaxed variables, and the boxes a
 * statement touches -- what compute_at and split tail checks will ask. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop/bounds.h"
#include "loop/ir.h"
#include "loop/simplify.h"
#include "loop/text.h"

static void const_bounds_rules(void **state) {
  aicc_loop_ctx *ctx = aicc_loop_ctx_create();
  const aicc_loop_expr *i = aicc_loop_var(ctx, "i", AICC_DTYPE_I32);
  const aicc_loop_expr *j = aicc_loop_var(ctx, "j", AICC_DTYPE_I32);
  aicc_loop_scope si = {.var = i, .range = {0, 15}};
  aicc_loop_scope sj = {.var = j, .range = {-3, 3}, .next = &si};
#define C(k) aicc_loop_i32(ctx, k)
#define B(e) aicc_loop_const_bounds((e), &sj)
#define EQ(e, l, h)                                                            \
  do {                                                                         \
    aicc_loop_interval r_ = B(e);                                              \
    assert_int_equal(r_.lo, l);                                                \
    assert_int_equal(r_.hi, h);                                                \
  } while (0)
  EQ(i, 0, 15);
  EQ(aicc_loop_add(ctx, aicc_loop_mul(ctx, i, C(4)), j), -3, 63);
  EQ(aicc_loop_mul(ctx, j, C(-2)), -6, 6);
  EQ(aicc_loop_mul(ctx, i, j), -45, 45);
  EQ(aicc_loop_div(ctx, i, C(4)), 0, 3);
  EQ(aicc_loop_div(ctx, j, C(2)), -2, 1);   /* floor: -3/2 == -2 */
  EQ(aicc_loop_div(ctx, j, C(-2)), -2, 1);  /* 3/-2 == -2, -3/-2 == 1 */
  EQ(aicc_loop_mod(ctx, i, C(4)), 0, 3);
  EQ(aicc_loop_mod(ctx, i, C(16)), 0, 15);
  EQ(aicc_loop_mod(ctx, j, C(5)), 0, 4);
  EQ(aicc_loop_mod(ctx, i, j), -2, 2);      /* divisor may be 0 or negative */
  EQ(aicc_loop_min(ctx, i, j), -3, 3);
  EQ(aicc_loop_max(ctx, i, C(20)), 20, 20);
  EQ(aicc_loop_binary(ctx, AICC_LOOP_LT, i, j), 0, 1);
  /* Unknown variables get their type's range. */
  const aicc_loop_expr *n = aicc_loop_var(ctx, "n", AICC_DTYPE_I32);
  EQ(n, INT32_MIN, INT32_MAX);
  EQ(aicc_loop_cast(ctx, AICC_DTYPE_U8, n), 0, 255);
  EQ(aicc_loop_mod(ctx, n, C(8)), 0, 7);
  aicc_loop_interval u = aicc_loop_const_bounds(aicc_loop_var(ctx, "m", AICC_DTYPE_I64), NULL);
  assert_true(u.lo == INT64_MIN && u.hi == INT64_MAX);
  aicc_loop_ctx_destroy(ctx);
}

static char *pr(const aicc_loop_expr *e) { return e ? aicc_loop_expr_print(e) : strdup("inf"); }

static void range_is(aicc_loop_range r, const char *lo, const char *hi) {
  char *a = pr(r.min), *b = pr(r.max);
  assert_string_equal(a, lo);
  assert_string_equal(b, hi);
  free(a);
  free(b);
}

static void symbolic_bounds_of(void **state) {
  aicc_loop_ctx *ctx = aicc_loop_ctx_create();
  const aicc_loop_expr *io = aicc_loop_var(ctx, "io", AICC_DTYPE_I32);
  const aicc_loop_expr *ii = aicc_loop_var(ctx, "ii", AICC_DTYPE_I32);
  const aicc_loop_expr *n = aicc_loop_var(ctx, "n", AICC_DTYPE_I32);
  /* split i in [0, 10) by 4: io in [0, 2], ii in [0, 3] covers i up to 11 >
   * 9, so the split needs a tail guard. */
  aicc_loop_relax rio = {.var = io, .range = {C(0), C(2)}};
  aicc_loop_relax rii = {.var = ii, .range = {C(0), C(3)}, .next = &rio};
  const aicc_loop_expr *i = aicc_loop_add(ctx, aicc_loop_mul(ctx, io, C(4)), ii);
  aicc_loop_range r;
  assert_true(aicc_loop_bounds_of(ctx, i, &rii, NULL, &r));
  range_is(r, "0", "11");
  /* Relax only ii: the range stays in terms of io. */
  assert_true(aicc_loop_bounds_of(ctx, aicc_loop_sub(ctx, i, C(1)), &(aicc_loop_relax){.var = ii, .range = {C(0), C(3)}}, NULL, &r));
  range_is(r, "io*4 - 1", "io*4 + 2");
  /* Symbolic extents: i in [0, n - 1]. */
  aicc_loop_relax rn = {.var = ii, .range = {C(0), aicc_loop_sub(ctx, n, C(1))}};
  assert_true(aicc_loop_bounds_of(ctx, aicc_loop_add(ctx, aicc_loop_mul(ctx, ii, C(2)), C(1)), &rn, NULL, &r));
  range_is(r, "1", "n*2 - 1");
  assert_true(aicc_loop_bounds_of(ctx, aicc_loop_div(ctx, ii, C(-2)), &rn, NULL, &r));
  range_is(r, "(n - 1)/-2", "0");
  assert_true(aicc_loop_bounds_of(ctx, aicc_loop_min(ctx, ii, C(5)), &rn, NULL, &r));
  range_is(r, "0", "min(n - 1, 5)");
  assert_true(aicc_loop_bounds_of(ctx, aicc_loop_mod(ctx, ii, C(8)), &rn, NULL, &r));
  range_is(r, "0", "7");
  /* A load of a relaxed index is unbounded; of a fixed one, a point. */
  const aicc_loop_expr *shape[1] = {C(16)};
  const aicc_loop_buffer *A = aicc_loop_buffer_create(ctx, "A", AICC_DTYPE_I32, 1, shape);
  assert_true(aicc_loop_bounds_of(ctx, aicc_loop_load(ctx, A, &ii), &rn, NULL, &r));
  assert_null(r.min);
  assert_null(r.max);
  assert_true(aicc_loop_bounds_of(ctx, aicc_loop_load(ctx, A, &io), &rn, NULL, &r));
  range_is(r, "A[io]", "A[io]");
  /* Facts simplify the ends: with n in [8, 8], min(n, 6) - 1 is 5. */
  aicc_loop_scope fn = {.var = n, .range = {8, 8}};
  assert_true(aicc_loop_bounds_of(ctx, aicc_loop_min(ctx, ii, C(5)), &rn, &fn, &r));
  range_is(r, "0", "5");
  aicc_loop_ctx_destroy(ctx);
}

static void regions_of_tiled_stencil(void **state) {
  const char *src =
      "func blur(n: i32, A: f32[66], B: f32[64], T: f32[8, 8]) {\n"
      "  for (yo, 0, 8) {\n"
      "    for (yi, 0, 8) {\n"
      "      B[yo*8 + yi] = A[yo*8 + yi] + A[yo*8 + yi + 2]\n"
      "      T[yi, yo] = B[yo*8 + yi]\n"
      "    }\n"
      "  }\n"
      "  for (k, 0, n) {\n"
      "    evaluate A[min(k, 65)]\n"
      "  }\n"
      "}\n";
  aicc_loop_ctx *ctx = aicc_loop_ctx_create();
  aicc_loop_module m;
  aicc_status st = aicc_loop_module_parse(ctx, "t", src, strlen(src), &m);
  assert_null(st);
  const aicc_loop_stmt *body = m.funcs[0]->body;
  aicc_loop_region *regs;
  size_t nr;
  assert_null(aicc_loop_regions_touched(ctx, body, NULL, NULL, &regs, &nr));
  assert_int_equal(nr, 3);
  assert_string_equal(regs[0].buf->name, "A");
  assert_true(regs[0].read && !regs[0].written);
  range_is(regs[0].dims[0], "0", "65"); /* min(k, 65) <= 65 */
  assert_string_equal(regs[1].buf->name, "B");
  assert_true(regs[1].read && regs[1].written);
  range_is(regs[1].dims[0], "0", "63");
  assert_string_equal(regs[2].buf->name, "T");
  range_is(regs[2].dims[0], "0", "7");
  range_is(regs[2].dims[1], "0", "7");
  /* Inside one iteration of yo (compute_at granularity): in terms of yo. */
  const aicc_loop_stmt *yo_loop = body->stmts[0];
  aicc_loop_scope f = {.var = yo_loop->var, .range = {0, 7}};
  assert_null(aicc_loop_regions_touched(ctx, yo_loop->body, NULL, &f, &regs, &nr));
  assert_int_equal(nr, 3);
  range_is(regs[0].dims[0], "yo*8", "yo*8 + 9");
  range_is(regs[1].dims[0], "yo*8", "yo*8 + 7");
  range_is(regs[2].dims[1], "yo", "yo");
  aicc_loop_ctx_destroy(ctx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(const_bounds_rules),
      cmocka_unit_test(symbolic_bounds_of),
      cmocka_unit_test(regions_of_tiled_stencil),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
