/* Unit tests for the loop IR core (src/loop/expr.c, stmt.c) and its text
 * form (print.c, parse.c): interning, type checks, floor semantics, exact
 * round trips and one-line parse errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "loop/ir.h"
#include "loop/text.h"
#include "loop/verify.h"

static void ir_interning(void **state) {
  aicc_loop_ctx *ctx = aicc_loop_ctx_create();
  const aicc_loop_expr *x = aicc_loop_var(ctx, "x", AICC_DTYPE_I32);
  const aicc_loop_expr *x2 = aicc_loop_var(ctx, "x", AICC_DTYPE_I32);
  const aicc_loop_expr *x64 = aicc_loop_var(ctx, "x", AICC_DTYPE_I64);
  assert_ptr_equal(x, x2);
  assert_ptr_not_equal(x, x64);
  const aicc_loop_expr *a = aicc_loop_add(ctx, aicc_loop_mul(ctx, x, aicc_loop_i32(ctx, 4)), aicc_loop_i32(ctx, 1));
  const aicc_loop_expr *b = aicc_loop_add(ctx, aicc_loop_mul(ctx, x2, aicc_loop_i32(ctx, 4)), aicc_loop_i32(ctx, 1));
  assert_ptr_equal(a, b);
  assert_int_equal(aicc_loop_expr_compare(a, b), 0);
  /* Constants are wrapped to their type before interning. */
  assert_ptr_equal(aicc_loop_i32(ctx, 1ll << 32), aicc_loop_i32(ctx, 0));
  assert_int_equal(aicc_loop_int(ctx, AICC_DTYPE_U8, 300)->v.i, 44);
  assert_int_equal(aicc_loop_int(ctx, AICC_DTYPE_I8, 200)->v.i, -56);
  assert_ptr_equal(aicc_loop_float(ctx, AICC_DTYPE_F32, 0.1), aicc_loop_float(ctx, AICC_DTYPE_F32, (float)0.1));
  assert_ptr_not_equal(aicc_loop_float(ctx, AICC_DTYPE_F32, 0.0), aicc_loop_float(ctx, AICC_DTYPE_F32, -0.0));
  /* Many distinct nodes: the table grows and keeps identities. */
  const aicc_loop_expr *first[5000];
  for (int i = 0; i < 5000; i++) first[i] = aicc_loop_add(ctx, x, aicc_loop_i32(ctx, i));
  for (int i = 0; i < 5000; i++) assert_ptr_equal(first[i], aicc_loop_add(ctx, x, aicc_loop_i32(ctx, i)));
  /* Substitution rebuilds through interning. */
  const aicc_loop_expr *y = aicc_loop_var(ctx, "y", AICC_DTYPE_I32);
  assert_ptr_equal(aicc_loop_expr_substitute(ctx, a, x, y),
                   aicc_loop_add(ctx, aicc_loop_mul(ctx, y, aicc_loop_i32(ctx, 4)), aicc_loop_i32(ctx, 1)));
  assert_true(aicc_loop_expr_uses_var(a, x));
  assert_false(aicc_loop_expr_uses_var(a, y));
  aicc_loop_ctx_destroy(ctx);
}

static void ir_type_checks(void **state) {
  aicc_loop_ctx *ctx = aicc_loop_ctx_create();
  const aicc_loop_expr *x = aicc_loop_var(ctx, "x", AICC_DTYPE_I32);
  const aicc_loop_expr *f = aicc_loop_var(ctx, "f", AICC_DTYPE_F32);
  assert_null(aicc_loop_add(ctx, x, f));
  assert_null(aicc_loop_binary(ctx, AICC_LOOP_AND, x, x));
  assert_null(aicc_loop_select(ctx, x, x, x));
  assert_null(aicc_loop_add(ctx, x, NULL)); /* NULL propagates */
  const aicc_loop_expr *args[1] = {f};
  assert_non_null(aicc_loop_call(ctx, "exp", 1, args));
  assert_null(aicc_loop_call(ctx, "nope", 1, args));
  assert_null(aicc_loop_call(ctx, "pow", 1, args));
  const aicc_loop_expr *shape[2] = {aicc_loop_i32(ctx, 4), aicc_loop_i32(ctx, 8)};
  const aicc_loop_buffer *buf = aicc_loop_buffer_create(ctx, "A", AICC_DTYPE_F32, 2, shape);
  const aicc_loop_expr *idx[2] = {x, f};
  assert_null(aicc_loop_load(ctx, buf, idx));
  idx[1] = x;
  assert_non_null(aicc_loop_load(ctx, buf, idx));
  assert_null(aicc_loop_store(ctx, buf, idx, x)); /* i32 into an f32 buffer */
  assert_null(aicc_loop_for(ctx, f, x, x, AICC_LOOP_SERIAL, aicc_loop_seq(ctx, 0, NULL)));
  aicc_loop_ctx_destroy(ctx);
}

static void ir_floor_semantics(void **state) {
  assert_int_equal(aicc_loop_floordiv(7, 2), 3);
  assert_int_equal(aicc_loop_floordiv(-7, 2), -4);
  assert_int_equal(aicc_loop_floordiv(7, -2), -4);
  assert_int_equal(aicc_loop_floordiv(-7, -2), 3);
  assert_int_equal(aicc_loop_floormod(-7, 2), 1);
  assert_int_equal(aicc_loop_floormod(7, -2), -1);
  assert_int_equal(aicc_loop_floormod(-8, 2), 0);
  assert_int_equal(aicc_loop_floordiv(5, 0), 0);
  assert_int_equal(aicc_loop_floormod(5, 0), 0);
  assert_int_equal(aicc_loop_floordiv(INT64_MIN, -1), INT64_MIN); /* wraps, no trap */
  assert_int_equal(aicc_loop_floormod(INT64_MIN, -1), 0);
}

static void ir_seq_flattens(void **state) {
  aicc_loop_ctx *ctx = aicc_loop_ctx_create();
  const aicc_loop_stmt *e1 = aicc_loop_evaluate(ctx, aicc_loop_i32(ctx, 1));
  const aicc_loop_stmt *e2 = aicc_loop_evaluate(ctx, aicc_loop_i32(ctx, 2));
  const aicc_loop_stmt *inner[2] = {e1, e2};
  const aicc_loop_stmt *outer[3] = {aicc_loop_seq(ctx, 2, inner), aicc_loop_seq(ctx, 0, NULL), e1};
  const aicc_loop_stmt *s = aicc_loop_seq(ctx, 3, outer);
  assert_int_equal(s->kind, AICC_LOOP_SEQ);
  assert_int_equal(s->n, 3);
  assert_ptr_equal(aicc_loop_seq(ctx, 1, &e2), e2);
  aicc_loop_ctx_destroy(ctx);
}

static const char *roundtrip_src =
    "func add(N: i32, A: f32[N, 16], C: f32[N, 16]) {\n"
    "  parallel for (i, 0, N) {\n"
    "    vectorized for (j, 0, 16) {\n"
    "      C[i, j] = A[i, j]*2.0 + 1.0\n"
    "    }\n"
    "  }\n"
    "  allocate T: i64[4] {\n"
    "    let k = 3i64 {\n"
    "      T[k - 3i64] = select(N < 4, 0i64, i64(N)/k)\n"
    "    }\n"
    "  }\n"
    "  if (0 < N) {\n"
    "    evaluate exp(A[0, 0])\n"
    "  } else {\n"
    "    evaluate min(N, 3)%2\n"
    "  }\n"
    "  unrolled for (u, -2, 3) {\n"
    "    evaluate (u + 1)*(u - 1) - -3 - (u - (N - u))\n"
    "    evaluate !(u < 0 || u == 1) && true != false\n"
    "    evaluate fma(-0.0, 1e+30, inf) + nan + 0.1 + -inf\n"
    "    evaluate 0.1f64 + -1.5e-07f64 + f64(u) + nanf64\n"
    "    evaluate 255u8 + 0u8\n"
    "    evaluate 18446744073709551615u64 + 1u64\n"
    "    evaluate 9223372036854775807i64 + -9223372036854775808i64\n"
    "    evaluate -128i8 < 127i8\n"
    "  }\n"
    "  for (e, 0, 0) {\n"
    "  }\n"
    "}\n"
    "\n"
    "func empty() {\n"
    "}\n";

static char *rt(aicc_loop_ctx *ctx, const char *src, aicc_status *err) {
  aicc_loop_module m;
  *err = aicc_loop_module_parse(ctx, "rt.loop", src, strlen(src), &m);
  return *err ? NULL : aicc_loop_module_print(&m);
}

static void text_roundtrip(void **state) {
  aicc_loop_ctx *ctx = aicc_loop_ctx_create();
  aicc_status err;
  char *once = rt(ctx, roundtrip_src, &err);
  if (err) fail_msg("%s", aicc_status_message(err));
  assert_string_equal(once, roundtrip_src);
  /* Loose spacing and comments parse to the same text. */
  char *loose = rt(ctx,
                   "// comment\nfunc f ( x : i32 , B:f32[ 8 ] ) { for(i,0,8){ B[ i ] = f32( (x) ) * 2.0 } }",
                   &err);
  assert_null(err);
  assert_string_equal(loose, "func f(x: i32, B: f32[8]) {\n  for (i, 0, 8) {\n    B[i] = f32(x)*2.0\n  }\n}\n");
  /* Parenthesization of built trees: a - (b - c), (a + b)*c, a/(b*c). */
  const aicc_loop_expr *a = aicc_loop_var(ctx, "a", AICC_DTYPE_I32), *b = aicc_loop_var(ctx, "b", AICC_DTYPE_I32),
                       *c = aicc_loop_var(ctx, "c", AICC_DTYPE_I32);
  char *p = aicc_loop_expr_print(aicc_loop_sub(ctx, a, aicc_loop_sub(ctx, b, c)));
  assert_string_equal(p, "a - (b - c)");
  free(p);
  p = aicc_loop_expr_print(aicc_loop_mul(ctx, aicc_loop_add(ctx, a, b), c));
  assert_string_equal(p, "(a + b)*c");
  free(p);
  p = aicc_loop_expr_print(aicc_loop_div(ctx, a, aicc_loop_mul(ctx, b, c)));
  assert_string_equal(p, "a/(b*c)");
  free(p);
  free(once);
  free(loose);
  aicc_loop_ctx_destroy(ctx);
}

static void expect_error(const char *src, const char *want) {
  aicc_loop_ctx *ctx = aicc_loop_ctx_create();
  aicc_loop_module m;
  aicc_status st = aicc_loop_module_parse(ctx, "bad.loop", src, strlen(src), &m);
  assert_non_null(st);
  assert_int_equal(aicc_status_code(st), AICC_ERR_INVALID);
  assert_string_equal(aicc_status_message(st), want);
  assert_null(strchr(aicc_status_message(st), '\n'));
  aicc_status_free(st);
  aicc_loop_ctx_destroy(ctx);
}

static void text_errors(void **state) {
  expect_error("func f() {\n  evaluate x\n}\n", "bad.loop:2:12: undefined variable 'x'");
  expect_error("func f(x: i32) {\n  evaluate x + 1.0\n}\n", "bad.loop:2:14: type mismatch in +: i32 vs f32");
  expect_error("func f(A: f32[4]) {\n  A[0, 1] = 1.0\n}\n", "bad.loop:2:3: buffer 'A' has 1 dimensions, got 2 indices");
  expect_error("func f(A: f32[4]) {\n  A[0] = 1\n}\n", "bad.loop:2:10: stored value has type i32, buffer 'A' holds f32");
  expect_error("func f() {\n  for (i, 0, 4 {\n  }\n}\n", "bad.loop:2:16: expected ')' after the loop extent, got '{'");
  expect_error("func f() {\n  evaluate 300i8\n}\n", "bad.loop:2:12: integer literal out of range for i8");
  expect_error("func f() {\n  evaluate 99999999999999999999\n}\n", "bad.loop:2:12: integer literal out of range");
  expect_error("func f() {\n  evaluate 1q\n}\n", "bad.loop:2:12: bad literal suffix 'q'");
  expect_error("func f() {\n  evaluate foo(1)\n}\n", "bad.loop:2:12: unknown function 'foo'");
  expect_error("func f() {\n  evaluate exp(1)\n}\n", "bad.loop:2:12: exp needs float operands");
  expect_error("func f() {\n  evaluate 1 @ 2\n}\n", "bad.loop:2:14: unexpected character '@'");
  expect_error("func f() {\n  evaluate 1\n", "bad.loop:3:1: expected '}' to close a block, got end of input");
  expect_error("func f(x: i32, x: i32) {\n}\n", "bad.loop:1:16: parameter 'x' defined twice");
  expect_error("func f() {\n  if (1) {\n  }\n}\n", "bad.loop:2:7: an if condition must be bool, got i32");
  expect_error("func f(x: q32) {\n}\n", "bad.loop:1:11: expected a type (i32, f32, ...), got 'q32'");
  expect_error("func f() {\n  for (i, 0, 4) {\n  }\n  evaluate i\n}\n", "bad.loop:4:12: undefined variable 'i'");
  expect_error("oops", "bad.loop:1:1: expected 'func', got 'oops'");
}

static void verify_scopes(void **state) {
  aicc_loop_ctx *ctx = aicc_loop_ctx_create();
  const aicc_loop_expr *n = aicc_loop_var(ctx, "n", AICC_DTYPE_I32);
  const aicc_loop_expr *i = aicc_loop_var(ctx, "i", AICC_DTYPE_I32);
  const aicc_loop_expr *shape[1] = {n};
  const aicc_loop_buffer *A = aicc_loop_buffer_create(ctx, "A", AICC_DTYPE_I32, 1, shape);
  const aicc_loop_buffer *T = aicc_loop_buffer_create(ctx, "T", AICC_DTYPE_I32, 1, shape);
  aicc_loop_param params[2] = {{.var = n}, {.buf = A}};
  aicc_loop_func f = {.name = "f", .nparams = 2, .params = params};
  const aicc_loop_stmt *store = aicc_loop_store(ctx, A, &i, aicc_loop_load(ctx, A, &i));
  f.body = aicc_loop_for(ctx, i, aicc_loop_i32(ctx, 0), n, AICC_LOOP_SERIAL, store);
  assert_null(aicc_loop_func_verify(&f));
  /* i used outside its loop */
  const aicc_loop_stmt *two[2] = {f.body, store};
  f.body = aicc_loop_seq(ctx, 2, two);
  aicc_status st = aicc_loop_func_verify(&f);
  assert_non_null(st);
  assert_string_equal(aicc_status_message(st), "func 'f': variable 'i' used in a store index is not bound there");
  aicc_status_free(st);
  /* T is neither a parameter nor allocated */
  f.body = aicc_loop_for(ctx, i, aicc_loop_i32(ctx, 0), n, AICC_LOOP_SERIAL,
                         aicc_loop_store(ctx, A, &i, aicc_loop_load(ctx, T, &i)));
  st = aicc_loop_func_verify(&f);
  assert_non_null(st);
  assert_string_equal(aicc_status_message(st), "func 'f': buffer 'T' loaded in a stored value is not declared there");
  aicc_status_free(st);
  /* ...but fine inside its allocation */
  f.body = aicc_loop_allocate(ctx, T, f.body);
  assert_null(aicc_loop_func_verify(&f));
  aicc_loop_ctx_destroy(ctx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(ir_interning),    cmocka_unit_test(ir_type_checks),
      cmocka_unit_test(ir_floor_semantics), cmocka_unit_test(ir_seq_flattens),
      cmocka_unit_test(text_roundtrip),  cmocka_unit_test(text_errors),
      cmocka_unit_test(verify_scopes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
