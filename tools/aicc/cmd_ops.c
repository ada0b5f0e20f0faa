/* aicc ops: list the registry's operators by family. */
#include "cli.h"

#include "ops/registry.h"

#include <stdio.h>

static const char usage[] =
    "usage: aicc ops\n\n"
    "Lists every operator row in the registry: family, domain, name, opset\n"
    "range, and which pieces (inference, reference kernel) it has.\n";

int aicc_cmd_ops(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (aicc_cli_is_help(argv[i])) {
      fputs(usage, stdout);
      return 0;
    }
    return aicc_cli_usage_error("ops", "unexpected argument '%s'", argv[i]);
  }
  size_t nf, total = 0;
  const aicc_op_family *const *f = aicc_op_families(&nf);
  for (size_t i = 0; i < nf; i++)
    for (size_t k = 0; k < f[i]->count; k++) {
      const aicc_op *op = &f[i]->ops[k];
      char range[32];
      if (op->until) snprintf(range, sizeof range, "%d-%d", op->since, op->until);
      else snprintf(range, sizeof range, "%d+", op->since);
      printf("%-12s %-26s %-22s %-7s %s%s\n", f[i]->name, *op->domain ? op->domain : "ai.onnx",
             op->name, range, op->infer ? "infer " : "", op->kernel ? "kernel" : "");
      total++;
    }
  printf("%zu operators in %zu families\n", total, nf);
  return 0;
}
