/* Unit tests for the dtype table (src/core/dtype.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/dtype.h"


static void dtype_table(void **state) {
  for (int d = 1; d < AICC_DTYPE_COUNT; d++) {
    const aicc_dtype_info *info = aicc_dtype_get(d);
    assert_non_null(info);
    const char *t = aicc_dtype_text((aicc_dtype)d);
    assert_string_equal(t, info->text);
    assert_int_equal(aicc_dtype_from_text(t, strlen(t)), d);
  }
  assert_null(aicc_dtype_get(0));
  assert_null(aicc_dtype_get(AICC_DTYPE_COUNT));
  assert_null(aicc_dtype_get(-1));
  assert_false(aicc_dtype_valid(0));
  assert_false(aicc_dtype_valid(AICC_DTYPE_COUNT));
  assert_int_equal(aicc_dtype_from_text("f3", 2), AICC_DTYPE_UNDEFINED);
  assert_int_equal(aicc_dtype_from_text("f32x", 4), AICC_DTYPE_UNDEFINED);
  assert_int_equal(aicc_dtype_from_text("f32x", 3), AICC_DTYPE_F32);
  assert_int_equal(aicc_dtype_from_text("", 0), AICC_DTYPE_UNDEFINED);
  assert_string_equal(aicc_dtype_get(AICC_DTYPE_F32)->onnx_name, "FLOAT");
  assert_int_equal(AICC_DTYPE_BF16, 16); /* numbered as TensorProto.DataType */
}

static void dtype_storage(void **state) {
  assert_int_equal(aicc_dtype_storage_bytes(AICC_DTYPE_F32, 3), 12);
  assert_int_equal(aicc_dtype_storage_bytes(AICC_DTYPE_C128, 2), 32);
  assert_int_equal(aicc_dtype_storage_bytes(AICC_DTYPE_BOOL, 5), 5);
  assert_int_equal(aicc_dtype_storage_bytes(AICC_DTYPE_I4, 3), 2); /* packed, rounded up */
  assert_int_equal(aicc_dtype_storage_bytes(AICC_DTYPE_U2, 5), 2);
  assert_int_equal(aicc_dtype_storage_bytes(AICC_DTYPE_F4E2M1, 0), 0);
  assert_int_equal(aicc_dtype_storage_bytes(AICC_DTYPE_STRING, 4), 4 * sizeof(char *));
}

static void dtype_classes(void **state) {
  assert_true(aicc_dtype_is_float(AICC_DTYPE_F16));
  assert_true(aicc_dtype_is_float(AICC_DTYPE_F8E5M2));
  assert_false(aicc_dtype_is_float(AICC_DTYPE_I32));
  assert_false(aicc_dtype_is_float(AICC_DTYPE_C64));
  assert_true(aicc_dtype_is_int(AICC_DTYPE_U8));
  assert_true(aicc_dtype_is_int(AICC_DTYPE_I4));
  assert_false(aicc_dtype_is_int(AICC_DTYPE_BOOL));
  assert_false(aicc_dtype_is_int(AICC_DTYPE_STRING));
  assert_true(aicc_dtype_is_signed_int(AICC_DTYPE_I64));
  assert_false(aicc_dtype_is_signed_int(AICC_DTYPE_U64));
  assert_false(aicc_dtype_is_float(AICC_DTYPE_UNDEFINED));
  assert_false(aicc_dtype_is_int(9999));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(dtype_table),
      cmocka_unit_test(dtype_storage),
      cmocka_unit_test(dtype_classes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
