/* Unit tests for dynamic arrays (src/core/vec.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/vec.h"


static void vec_push_reserve(void **state) {
  AICC_VEC(int) v = {0};
  for (int i = 0; i < 1000; i++) assert_true(aicc_vec_push(&v, i));
  assert_int_equal(v.len, 1000);
  assert_true(v.cap >= 1000);
  for (int i = 0; i < 1000; i++) assert_int_equal(v.data[i], i);
  assert_true(aicc_vec_reserve(&v, 5000));
  assert_true(v.cap >= 5000);
  assert_int_equal(v.len, 1000);
  aicc_vec_free(&v);
  assert_null(v.data);
  assert_int_equal(v.len, 0);
  assert_int_equal(v.cap, 0);
}

static void vec_overflow_fails(void **state) {
  AICC_VEC(int64_t) v = {0};
  assert_false(aicc_vec_reserve(&v, SIZE_MAX / 4));
  assert_null(v.data);
  aicc_vec_free(&v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(vec_push_reserve),
      cmocka_unit_test(vec_overflow_fails),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
