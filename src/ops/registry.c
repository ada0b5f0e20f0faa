/* The registry: the table of op families (generated from the files in
 * src/ops/ by CMake) and lookup by (domain, name, opset). */
#include "ops/registry.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define AICC_FAMILY(n) extern const aicc_op_family aicc_family_##n;
#include "ops_families.inc"
#undef AICC_FAMILY

static const aicc_op_family *const families[] = {
#define AICC_FAMILY(n) &aicc_family_##n,
#include "ops_families.inc"
#undef AICC_FAMILY
};

const aicc_op_family *const *aicc_op_families(size_t *count) {
  *count = sizeof families / sizeof families[0];
  return families;
}

static bool domain_eq(const char *a, const char *b) {
  /* "ai.onnx" and "" both name the default domain. */
  if (!a || strcmp(a, "ai.onnx") == 0) a = "";
  if (!b || strcmp(b, "ai.onnx") == 0) b = "";
  return strcmp(a, b) == 0;
}

const aicc_op *aicc_op_find(const char *domain, const char *name, int opset,
                            const char **why) {
  bool seen = false;
  size_t nf = sizeof families / sizeof families[0];
  for (size_t f = 0; f < nf; f++) {
    const aicc_op_family *fam = families[f];
    for (size_t i = 0; i < fam->count; i++) {
      const aicc_op *op = &fam->ops[i];
      if (strcmp(op->name, name) != 0 || !domain_eq(op->domain, domain)) continue;
      seen = true;
      if (opset >= op->since && (op->until == 0 || opset <= op->until)) return op;
    }
  }
  if (why) *why = seen ? "operator version not supported for this opset" : "unknown operator";
  return NULL;
}

aicc_status aicc_kernel_output(aicc_kernel_ctx *c, int i, aicc_dtype dt, int rank,
                               const int64_t *dims, aicc_tensor **t) {
  aicc_tensor *x = NULL;
  aicc_status s = aicc_tensor_create(dt, rank, dims, &x);
  if (s) {
    char buf[256];
    return aicc_status_wrap(s, "%s: output %d", aicc_node_describe(c->node, buf, sizeof buf), i);
  }
  if (c->out[i]) aicc_tensor_release(c->out[i]);
  c->out[i] = x;
  if (t) *t = x;
  return NULL;
}

static aicc_status node_error(const aicc_node *n, aicc_code code, const char *fmt,
                              va_list ap) {
  char buf[256];
  aicc_status s = aicc_verrorf(code, fmt, ap);
  return aicc_status_wrap(s, "%s", aicc_node_describe(n, buf, sizeof buf));
}

aicc_status aicc_kernel_error(const aicc_kernel_ctx *c, aicc_code code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  aicc_status s = node_error(c->node, code, fmt, ap);
  va_end(ap);
  return s;
}

aicc_status aicc_infer_error(const aicc_infer_ctx *c, aicc_code code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  aicc_status s = node_error(c->node, code, fmt, ap);
  va_end(ap);
  return s;
}
