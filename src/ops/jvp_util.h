/* Forward-mode (JVP) rules: the rule context, the rule table lookup and a
 * builder that repeats a forward node on other operands. Most ops need no
 * code of their own: src/ops/jvp_classes.c derives their rules from four
 * classes (elementwise through the VJP rule, linear, multilinear, explicit);
 * the explicit ones live in src/ops/jvp_explicit.c. */
#ifndef AICC_OPS_JVP_UTIL_H
#define AICC_OPS_JVP_UTIL_H

#include "ops/grad_util.h"

/* A forward rule: given the tangents of the node's inputs, appends nodes
 * that compute the tangents of its outputs (built with the helpers of
 * ops/grad_util.h on the builder context `b`, whose node is the forward
 * node) and stores them in ty. A rule sets ty[i] for every output with
 * want[i]; it fails, naming the node, when an input carries a tangent it
 * cannot propagate. It never edits the forward nodes. */
typedef struct aicc_jvp_ctx {
  aicc_grad_ctx b;        /* graph and forward node, for the builders */
  aicc_value *const *tx;  /* n_inputs: tangent of input i, NULL: zero */
  aicc_value **ty;        /* n_outputs: set to the tangent of output i */
  const bool *want;       /* want[i]: the tangent of output i is needed */
} aicc_jvp_ctx;
typedef aicc_status (*aicc_jvp_fn)(aicc_jvp_ctx *c);

/* The forward rule of an op (default domain only), NULL when it has none. */
aicc_jvp_fn aicc_jvp_rule_find(const char *domain, const char *op_type);

/* Appends a node of the forward node's op with its attributes (except
 * `drop`, may be NULL) on other inputs, n_out fresh outputs typed by
 * inference. */
AICC_MUST_USE aicc_status aicc_jvp_emit_copy(aicc_jvp_ctx *c, aicc_value *const *in, int n_in,
                                             const char *drop, aicc_value **out, int n_out);

/* "node 'n' (Op): tangent: <reason>" error for a rule. */
aicc_status aicc_jvp_error(const aicc_jvp_ctx *c, aicc_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Rules written out by hand, in src/ops/jvp_explicit.c. */
#define AICC_JVP_EXPLICIT(X)                                                   \
  X(Softmax) X(LogSoftmax) X(ReduceMax) X(MaxPool) X(BatchNormalization)       \
  X(LayerNormalization) X(SoftmaxCrossEntropyLoss)
#define AICC_JVP_DECLARE(op) aicc_status aicc_jvp_##op(aicc_jvp_ctx *c);
AICC_JVP_EXPLICIT(AICC_JVP_DECLARE)
#undef AICC_JVP_DECLARE

#endif
