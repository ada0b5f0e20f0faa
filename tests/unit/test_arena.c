/* Unit tests for the growable arena (src/core/arena.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/arena.h"


static void arena_alloc_is_zeroed_and_aligned(void **state) {
  aicc_arena a;
  aicc_arena_init(&a);
  for (size_t align = 1; align <= 4096; align *= 2) {
    unsigned char *p = aicc_arena_alloc(&a, 37, align);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % align, 0);
    for (int i = 0; i < 37; i++) assert_int_equal(p[i], 0);
    memset(p, 0xab, 37); /* the next allocation must still come back zeroed */
  }
  aicc_arena_fini(&a);
}

static void arena_grows_without_moving(void **state) {
  aicc_arena a;
  aicc_arena_init(&a);
  int64_t *ptrs[2000];
  for (int i = 0; i < 2000; i++) {
    ptrs[i] = AICC_ARENA_NEW(&a, int64_t);
    assert_non_null(ptrs[i]);
    *ptrs[i] = i;
  }
  /* One allocation much larger than a chunk, then small ones again. */
  char *big = aicc_arena_alloc(&a, 10u << 20, 64);
  assert_non_null(big);
  big[(10u << 20) - 1] = 1;
  int64_t *after = AICC_ARENA_ARRAY(&a, int64_t, 4);
  assert_non_null(after);
  for (int i = 0; i < 2000; i++) assert_int_equal(*ptrs[i], i);
  assert_true(a.used >= 2000 * sizeof(int64_t) + (10u << 20));
  aicc_arena_fini(&a);
}

static void arena_strings(void **state) {
  aicc_arena a;
  aicc_arena_init(&a);
  char *s = aicc_arena_strdup(&a, "hello");
  assert_string_equal(s, "hello");
  assert_null(aicc_arena_strdup(&a, NULL));
  char *t = aicc_arena_strndup(&a, "abcdef", 3);
  assert_string_equal(t, "abc");
  const char raw[4] = {1, 0, 2, 0};
  char *m = aicc_arena_memdup(&a, raw, 4);
  assert_memory_equal(m, raw, 4);
  assert_non_null(aicc_arena_memdup(&a, raw, 0));
  aicc_arena_fini(&a);
  aicc_arena_fini(&a); /* idempotent */
}

static void arena_overflow_is_null(void **state) {
  aicc_arena a;
  aicc_arena_init(&a);
  assert_null(aicc_arena_alloc(&a, SIZE_MAX - 8, 64));
  aicc_arena_fini(&a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(arena_alloc_is_zeroed_and_aligned),
      cmocka_unit_test(arena_grows_without_moving),
      cmocka_unit_test(arena_strings),
      cmocka_unit_test(arena_overflow_is_null),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
