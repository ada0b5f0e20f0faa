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

/* Checks a rule's result r for value v (the k-th input or output of n, as
 * `role` says): its dtype and, where both are known, its shape must be v's;
 * a wrong one would surface much later as a confusing kernel error. */
AICC_MUST_USE aicc_status aicc_autodiff_check_result(const aicc_node *n, const char *rule,
                                                     const char *role, int k,
                                                     const aicc_value *v, const aicc_value *r);

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

/* --- forward mode (JVP) --- */

typedef struct aicc_jvp_spec {
  /* Names of the values that carry tangents (graph inputs or initializers
   * of float type); n_wrt 0: every float graph input that is not also an
   * initializer. */
  const char *const *wrt;
  int n_wrt;
  /* Names of the values whose tangents are wanted (float tensors); n_of 0:
   * every float graph output. */
  const char *const *of;
  int n_of;
} aicc_jvp_spec;

/* Appends to m's main graph the nodes that compute the Jacobian-vector
 * product: one graph input `tan_<name>` of the value's type per wrt value
 * (after the existing inputs, in wrt order) and one graph output
 * `tan_<name>` per wanted value (after the existing outputs, in order;
 * zeros where it does not depend on any wrt value). Nodes are visited in
 * topological order, one forward rule each (src/ops/jvp_*.c, found by
 * aicc_jvp_rule_find of ops/jvp_util.h); a value with
 * no tangent is a zero tangent. A node on a path from a wrt value to a
 * wanted value whose op has no forward rule is an error naming the node and
 * op. On error m may hold unreachable tangent nodes but no new inputs or
 * outputs. */
AICC_MUST_USE aicc_status aicc_autodiff_jvp(aicc_model *m, const aicc_jvp_spec *spec);

#endif
