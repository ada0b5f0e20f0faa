/* Builders for gradient rules (src/ops/grad_*.c): append typed nodes to the
 * graph of a forward node, make small constants, and reduce a broadcast
 * gradient back to its operand's shape. Every value they create gets its
 * type from the op's own inference, so the next rule sees exact shapes. */
#ifndef AICC_OPS_GRAD_UTIL_H
#define AICC_OPS_GRAD_UTIL_H

#include "ops/registry.h"

/* An attribute of a node a rule builds; lists terminated by name NULL. */
typedef struct aicc_grad_attr {
  const char *name;
  aicc_attr_kind kind; /* INT, FLOAT, INTS or STRING */
  int64_t i;
  float f;
  const int64_t *is;
  int64_t n;
  const char *s;
} aicc_grad_attr;
#define AICC_GA_INT(nm, v) {.name = (nm), .kind = AICC_ATTR_INT, .i = (v)}
#define AICC_GA_FLOAT(nm, v) {.name = (nm), .kind = AICC_ATTR_FLOAT, .f = (v)}
#define AICC_GA_INTS(nm, p, len) {.name = (nm), .kind = AICC_ATTR_INTS, .is = (p), .n = (len)}
#define AICC_GA_STRING(nm, v) {.name = (nm), .kind = AICC_ATTR_STRING, .s = (v)}

/* Appends node `op` (default domain) with n_out fresh outputs, sets attrs
 * (may be NULL), and types the outputs by inference. */
AICC_MUST_USE aicc_status aicc_grad_emit(aicc_grad_ctx *c, const char *op,
                                         aicc_value *const *in, int n_in,
                                         const aicc_grad_attr *attrs,
                                         aicc_value **out, int n_out);
/* One-output shortcuts. */
AICC_MUST_USE aicc_status aicc_grad_unary(aicc_grad_ctx *c, const char *op, aicc_value *x,
                                          aicc_value **out);
AICC_MUST_USE aicc_status aicc_grad_binary(aicc_grad_ctx *c, const char *op, aicc_value *a,
                                           aicc_value *b, aicc_value **out);

/* A scalar initializer of dtype dt holding v. */
AICC_MUST_USE aicc_status aicc_grad_scalar(aicc_grad_ctx *c, aicc_dtype dt, double v,
                                           aicc_value **out);
/* A 1-D int64 initializer. */
AICC_MUST_USE aicc_status aicc_grad_i64s(aicc_grad_ctx *c, const int64_t *v, int64_t n,
                                         aicc_value **out);

/* ReduceSum of x over axes (normalised, any order); keepdims as ONNX. Uses
 * the axes input from opset 13 and the attribute before. n 0: x itself. */
AICC_MUST_USE aicc_status aicc_grad_reduce_sum(aicc_grad_ctx *c, aicc_value *x,
                                               const int64_t *axes, int n, bool keepdims,
                                               aicc_value **out);
/* Unsqueeze x at the given (output) axes, for any opset. */
AICC_MUST_USE aicc_status aicc_grad_unsqueeze(aicc_grad_ctx *c, aicc_value *x,
                                              const int64_t *axes, int n, aicc_value **out);
/* x reshaped to like's shape (a constant shape when like's type is static,
 * else Shape(like)). x itself when the shapes are already equal. */
AICC_MUST_USE aicc_status aicc_grad_reshape_like(aicc_grad_ctx *c, aicc_value *x,
                                                 const aicc_value *like, aicc_value **out);
/* x expanded (broadcast) to like's shape. */
AICC_MUST_USE aicc_status aicc_grad_expand_like(aicc_grad_ctx *c, aicc_value *x,
                                                const aicc_value *like, aicc_value **out);
/* The one unbroadcast: g has the broadcast shape of an op whose operand is
 * `like`; sums g over the leading dims like lacks and over dims where like
 * has size 1 and g does not, then reshapes to like's shape. Fails (naming
 * the node) when a dim is unknown and the reduction cannot be decided. */
AICC_MUST_USE aicc_status aicc_grad_unbroadcast(aicc_grad_ctx *c, aicc_value *g,
                                                const aicc_value *like, aicc_value **out);
/* x with its last two dims swapped (rank >= 2 and known). */
AICC_MUST_USE aicc_status aicc_grad_transpose_last2(aicc_grad_ctx *c, aicc_value *x,
                                                    aicc_value **out);

/* "node 'n' (Op): <reason>" error for a rule. */
aicc_status aicc_grad_error(const aicc_grad_ctx *c, aicc_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Rules, defined in src/ops/grad_*.c and listed in src/autodiff/rules.c. */
#define AICC_GRAD_RULES(X)                                                     \
  X(Add) X(Sub) X(Mul) X(Div) X(Neg) X(Exp) X(Log) X(Sqrt) X(Tanh) X(Sigmoid)  \
  X(Relu) X(Identity) X(Cast)                                                  \
  X(MatMul) X(Gemm)                                                            \
  X(Reshape) X(Flatten) X(Unsqueeze) X(Squeeze) X(Transpose) X(Concat)         \
  X(Gather)                                                                    \
  X(ReduceSum) X(ReduceMean) X(Softmax) X(LogSoftmax)                          \
  X(SoftmaxCrossEntropyLoss)                                                   \
  X(Where) X(Max) X(Min) X(Abs) X(Pow) X(LeakyRelu) X(Elu) X(Softplus)        \
  X(Dropout) X(Expand) X(Split) X(Pad) X(Slice) X(ReduceMax)                   \
  X(NegativeLogLikelihoodLoss) X(Conv) X(MaxPool) X(AveragePool)              \
  X(BatchNormalization) X(LayerNormalization)
/* The constant value of v (an initializer or a Constant node's tensor), or
 * NULL when it is not constant. */
const aicc_tensor *aicc_grad_const_of(const aicc_value *v);
/* The raw (not normalised) axes of the Reduce* node being differentiated:
 * its constant axes input 1 (opset 13/18 forms) or its `axes` attribute;
 * *len 0 when there are none. r is the input's rank. */
AICC_MUST_USE aicc_status aicc_grad_reduce_axes(aicc_grad_ctx *c, int r, int64_t *raw,
                                                int64_t *len);

/* The shared part of the class-index losses (NegativeLogLikelihoodLoss,
 * SoftmaxCrossEntropyLoss) for labels t [N, d...] of scores x [N, C, d...]:
 * *scale = dy * w (divided by sum(w), or the label count without weights,
 * for reduction "mean"), unsqueezed at axis 1 to broadcast over C, where
 * w = class_weights[t] (1 without weights) and 0 at ignore_index; *onehot =
 * OneHot(t) along axis 1 with the ignored labels mapped to class 0 (their
 * scale is 0). Reads the node's reduction and ignore_index attributes. */
AICC_MUST_USE aicc_status aicc_grad_label_terms(aicc_grad_ctx *c, aicc_value *dy, aicc_value *x,
                                                aicc_value *t, aicc_value *wt,
                                                aicc_value **scale, aicc_value **onehot);

#define AICC_GRAD_DECLARE(op) aicc_status aicc_grad_##op(aicc_grad_ctx *c);
AICC_GRAD_RULES(AICC_GRAD_DECLARE)
#undef AICC_GRAD_DECLARE

#endif
