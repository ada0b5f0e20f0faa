/* Unit tests for status values and AICC_TRY (src/core/status.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/status.h"


static aicc_status fails_with(int x) {
  if (x) return aicc_errorf(AICC_ERR_SHAPE, "bad %d", x);
  return NULL;
}

static aicc_status tries(int x, int *reached) {
  AICC_TRY(fails_with(x));
  *reached = 1;
  return NULL;
}

static void status_basics(void **state) {
  assert_int_equal(aicc_status_code(NULL), AICC_OK);
  assert_string_equal(aicc_status_message(NULL), "ok");
  aicc_status_free(NULL);
  aicc_status s = aicc_errorf(AICC_ERR_INVALID, "value %s is %d", "x", 3);
  assert_int_equal(aicc_status_code(s), AICC_ERR_INVALID);
  assert_string_equal(aicc_status_message(s), "value x is 3");
  s = aicc_status_wrap(s, "model.onnx: node '%s'", "conv");
  assert_string_equal(aicc_status_message(s), "model.onnx: node 'conv': value x is 3");
  assert_int_equal(aicc_status_code(s), AICC_ERR_INVALID);
  aicc_status_free(s);
  assert_null(aicc_status_wrap(NULL, "ctx"));
  assert_non_null(aicc_version());
}

static void status_try(void **state) {
  int reached = 0;
  assert_null(tries(0, &reached));
  assert_int_equal(reached, 1);
  reached = 0;
  aicc_status s = tries(7, &reached);
  assert_int_equal(reached, 0);
  assert_int_equal(aicc_status_code(s), AICC_ERR_SHAPE);
  assert_string_equal(aicc_status_message(s), "bad 7");
  aicc_status_free(s);
}

static void status_long_message(void **state) {
  char big[5000];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = 0;
  aicc_status s = aicc_errorf(AICC_ERR_IO, "%s", big);
  assert_int_equal(strlen(aicc_status_message(s)), sizeof big - 1);
  aicc_status_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(status_basics),
      cmocka_unit_test(status_try),
      cmocka_unit_test(status_long_message),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
