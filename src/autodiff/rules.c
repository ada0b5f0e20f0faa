/* The gradient-rule table: op name -> rule of src/ops/grad_*.c. The family
 * tables of src/ops/ leave their `grad` field NULL (their rows are shared
 * with other work in flight), so the rules attach here by name; a row that
 * sets `grad` takes precedence. Default domain only. */
#include "autodiff/autodiff.h"
#include "ops/grad_util.h"

#include <string.h>

typedef struct grad_row {
  const char *name;
  aicc_grad_fn fn;
} grad_row;

#define AICC_GRAD_ROW(op) {#op, aicc_grad_##op},
static const grad_row rows[] = {AICC_GRAD_RULES(AICC_GRAD_ROW)};
#undef AICC_GRAD_ROW

aicc_grad_fn aicc_grad_rule_find(const aicc_op *op, const char *domain, const char *op_type) {
  if (op && op->grad) return op->grad;
  if (domain && *domain && strcmp(domain, "ai.onnx") != 0) return NULL;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
    if (strcmp(rows[i].name, op_type) == 0) return rows[i].fn;
  return NULL;
}
