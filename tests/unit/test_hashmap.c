/* Unit tests for the string hash map (src/core/hashmap.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/hashmap.h"


static void hashmap_put_get(void **state) {
  aicc_hashmap m;
  aicc_hashmap_init(&m);
  assert_null(aicc_hashmap_get(&m, "x"));
  assert_false(aicc_hashmap_has(&m, "x"));
  int a = 1, b = 2;
  assert_true(aicc_hashmap_put(&m, "x", &a));
  assert_ptr_equal(aicc_hashmap_get(&m, "x"), &a);
  assert_true(aicc_hashmap_put(&m, "x", &b)); /* replace */
  assert_ptr_equal(aicc_hashmap_get(&m, "x"), &b);
  assert_int_equal(m.len, 1);
  assert_true(aicc_hashmap_put(&m, "", NULL)); /* present with a NULL value */
  assert_true(aicc_hashmap_has(&m, ""));
  assert_null(aicc_hashmap_get(&m, ""));
  aicc_hashmap_fini(&m);
}

static void hashmap_many_keys(void **state) {
  enum { N = 5000 };
  static char keys[N][16];
  aicc_hashmap m;
  aicc_hashmap_init(&m);
  for (int i = 0; i < N; i++) {
    snprintf(keys[i], sizeof keys[i], "k%d", i);
    assert_true(aicc_hashmap_put(&m, keys[i], (void *)(intptr_t)(i + 1)));
  }
  assert_int_equal(m.len, N);
  assert_true(m.len * 2 <= m.cap);
  for (int i = 0; i < N; i++) assert_int_equal((intptr_t)aicc_hashmap_get(&m, keys[i]), i + 1);
  assert_false(aicc_hashmap_has(&m, "k5000"));
  aicc_hashmap_fini(&m);
  assert_null(aicc_hashmap_get(&m, "k1"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(hashmap_put_get),
      cmocka_unit_test(hashmap_many_keys),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
