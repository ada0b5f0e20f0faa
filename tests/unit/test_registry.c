/* The op registry's invariants: no two rows for the same (domain, op) cover
 * a common opset version (lookup would be ambiguous), arities are sane,
 * attribute names are unique per row, and every row has inference and a
 * reference kernel (the interpreter's oracle role needs both). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ops/registry.h"

#include <stdio.h>
#include <string.h>

static bool overlaps(const aicc_op *a, const aicc_op *b) {
  int a_hi = a->until ? a->until : 1 << 30, b_hi = b->until ? b->until : 1 << 30;
  return a->since <= b_hi && b->since <= a_hi;
}

static void test_rows_unique(void **state) {
  (void)state;
  size_t nf;
  const aicc_op_family *const *f = aicc_op_families(&nf);
  int bad = 0;
  for (size_t i = 0; i < nf; i++)
    for (size_t k = 0; k < f[i]->count; k++) {
      const aicc_op *a = &f[i]->ops[k];
      for (size_t j = i; j < nf; j++)
        for (size_t m = (j == i ? k + 1 : 0); m < f[j]->count; m++) {
          const aicc_op *b = &f[j]->ops[m];
          if (strcmp(a->name, b->name) == 0 && strcmp(a->domain, b->domain) == 0 && overlaps(a, b)) {
            fprintf(stderr, "%s (%s) registered twice: families %s and %s\n", a->name, a->domain,
                    f[i]->name, f[j]->name);
            bad++;
          }
        }
    }
  assert_int_equal(bad, 0);
}

static void test_rows_well_formed(void **state) {
  (void)state;
  size_t nf, total = 0;
  const aicc_op_family *const *f = aicc_op_families(&nf);
  for (size_t i = 0; i < nf; i++)
    for (size_t k = 0; k < f[i]->count; k++, total++) {
      const aicc_op *op = &f[i]->ops[k];
      if (!op->infer || !op->kernel) fprintf(stderr, "%s lacks infer or kernel\n", op->name);
      assert_non_null(op->infer);
      assert_non_null(op->kernel);
      assert_true(op->since >= 1 && (op->until == 0 || op->until >= op->since));
      assert_true(op->min_in >= 0 && (op->max_in == AICC_VARIADIC || op->max_in >= op->min_in));
      /* min_out may be 0: RNN/GRU/LSTM have only optional outputs. */
      assert_true(op->min_out >= 0 && (op->max_out == AICC_VARIADIC || op->max_out >= op->min_out));
      for (const aicc_attr_spec *a = op->attrs; a && a->name; a++)
        for (const aicc_attr_spec *b = a + 1; b->name; b++)
          if (strcmp(a->name, b->name) == 0) fail_msg("%s: attribute %s listed twice", op->name, a->name);
    }
  assert_true(total > 150);
}

static void test_lookup_by_version(void **state) {
  (void)state;
  const char *why = NULL;
  assert_non_null(aicc_op_find("", "Add", 14, &why));
  assert_non_null(aicc_op_find("ai.onnx", "Add", 14, &why));
  assert_null(aicc_op_find("", "NoSuchOp", 14, &why));
  assert_string_equal(why, "unknown operator");
  /* Dropout before opset 7 had an is_test attribute we do not model. */
  assert_null(aicc_op_find("", "Dropout", 6, &why));
  assert_string_equal(why, "operator version not supported for this opset");
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_rows_unique),
                                     cmocka_unit_test(test_rows_well_formed),
                                     cmocka_unit_test(test_lookup_by_version)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
