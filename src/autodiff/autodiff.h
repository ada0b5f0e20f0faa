/* Automatic differentiation on the graph IR. Reverse mode (VJP): appends to
 * a model's main graph the nodes that compute the gradient of one value
 * with respect to chosen values, one gradient rule per forward node
 * (src/ops/grad_*.c), and adds them as graph outputs. Runs no kernels. */
#ifndef AICC_AUTODIFF_AUTODIFF_H
#define AICC_AUTODIFF_AUTODIFF_H

#include "ops/registry.h"

/* The rule for an op: the row's own `grad` when set, else the table of
 * src/autodiff/rules.c. NULL when the op has none. */
aicc_grad_fn aicc_grad_rule_find(const aicc_op *op, const char *domain, const char *op_type);

typedef struct aicc_vjp_spec {
  /* Name of the value to differentiate. */
  const char *loss;
  /* false: loss must hold one element; its seed gradient is 1.
   * true: a graph input `grad_<loss>` of loss's type is added and is the
   * seed (the result is then the vector-Jacobian product with it). */
  bool seed_input;
  /* Names of the values to differentiate with respect to (graph inputs or
   * initializers of float type); n_wrt 0: every float initializer. */
  const char *const *wrt;
  int n_wrt;
} aicc_vjp_spec;

/* Appends the backward graph to m's main graph and one graph output
 * `grad_<name>` per wrt value (after the existing outputs, in wrt order;
 * zeros where the loss does not depend on it). The graph is toposorted
 * first. A node on the path from a wrt value to the loss whose op has no
 * rule is an error naming the node and op. On error m may hold unreachable
 * backward nodes (dead code, harmless) but no new outputs. */
AICC_MUST_USE aicc_status aicc_autodiff_vjp(aicc_model *m, const aicc_vjp_spec *spec);

#endif
