/* The forward-rule table: op name -> rule. Most rules come from three
 * classes driven by table rows; the rest are written out in
 * src/ops/jvp_explicit.c.
 *  - elementwise (diagonal Jacobian per input): the VJP rule applied with
 *    dy = tangent is the tangent's image, provided the input has the
 *    output's shape; a broadcast input is first Expanded (primal and
 *    tangent) on a clone of the node;
 *  - linear: the op itself applied to the tangents (other operands kept,
 *    zeros for a missing tangent where it is linear in several inputs);
 *  - multilinear: the sum over factors of the op with that factor replaced
 *    by its tangent; a bias-like input rides in the first term only.
 * Defines no op family. */
#include "ops/jvp_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define TRY AICC_TRY

aicc_status aicc_jvp_error(const aicc_jvp_ctx *c, aicc_code code, const char *fmt, ...) {
  char d[512], msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return aicc_errorf(code, "%s: tangent: %s", aicc_node_describe(c->b.node, d, sizeof d), msg);
}

aicc_status aicc_jvp_emit_copy(aicc_jvp_ctx *c, aicc_value *const *in, int n_in, const char *drop,
                               aicc_value **out, int n_out) {
  const aicc_node *n = c->b.node;
  aicc_grad_attr at[33];
  int k = 0;
  if (n->n_attrs > 32) return aicc_jvp_error(c, AICC_ERR_UNSUPPORTED, "too many attributes");
  for (int i = 0; i < n->n_attrs; i++) {
    const aicc_attr *a = &n->attrs[i];
    if (drop && strcmp(a->name, drop) == 0) continue;
    switch (a->kind) {
    case AICC_ATTR_INT: at[k++] = (aicc_grad_attr)AICC_GA_INT(a->name, a->i); break;
    case AICC_ATTR_FLOAT: at[k++] = (aicc_grad_attr)AICC_GA_FLOAT(a->name, a->f); break;
    case AICC_ATTR_INTS: at[k++] = (aicc_grad_attr)AICC_GA_INTS(a->name, a->is, a->n); break;
    case AICC_ATTR_STRING: at[k++] = (aicc_grad_attr)AICC_GA_STRING(a->name, a->s.s); break;
    default:
      return aicc_jvp_error(c, AICC_ERR_UNSUPPORTED, "cannot repeat attribute '%s' of kind %s",
                            a->name, aicc_attr_kind_name(a->kind));
    }
  }
  at[k] = (aicc_grad_attr){0};
  while (n_in > 0 && !in[n_in - 1]) n_in--; /* trailing omitted inputs */
  return aicc_grad_emit(&c->b, n->op_type, in, n_in, at, out, n_out);
}

static bool is_float(const aicc_value *v) {
  return v && v->type.kind == AICC_KIND_TENSOR && aicc_dtype_is_float(v->type.dtype);
}

/* Same known (or same symbolic) dims. */
static bool same_shape(const aicc_type *a, const aicc_type *b) {
  if (a->rank < 0 || a->rank != b->rank) return false;
  for (int i = 0; i < a->rank; i++)
    if (!aicc_dim_equal(a->dims[i], b->dims[i]) ||
        (!aicc_dim_is_known(a->dims[i]) && !a->dims[i].sym))
      return false;
  return true;
}

static aicc_status zeros_like(aicc_jvp_ctx *c, const aicc_value *like, aicc_value **out) {
  aicc_value *z;
  TRY(aicc_grad_scalar(&c->b, like->type.dtype, 0.0, &z));
  return aicc_grad_expand_like(&c->b, z, like, out);
}

static aicc_status add_term(aicc_jvp_ctx *c, aicc_value **sum, aicc_value *t) {
  if (*sum) return aicc_grad_binary(&c->b, "Add", *sum, t, sum);
  *sum = t;
  return NULL;
}

/* An input carrying a tangent that the op's class does not propagate. */
static aicc_status check_inputs(aicc_jvp_ctx *c, uint32_t ok) {
  const aicc_node *n = c->b.node;
  for (int k = 0; k < n->n_inputs; k++)
    if (c->tx[k] && !(k < 32 && (ok >> k) & 1))
      return aicc_jvp_error(c, AICC_ERR_UNSUPPORTED, "no tangent rule for input %d ('%s') of %s", k,
                            n->inputs[k]->name, n->op_type);
  return NULL;
}

enum { MAX_IN = 16, MAX_OUT = 8 };

static aicc_status check_arity(aicc_jvp_ctx *c) {
  if (c->b.node->n_inputs > MAX_IN || c->b.node->n_outputs > MAX_OUT)
    return aicc_jvp_error(c, AICC_ERR_UNSUPPORTED, "too many operands");
  return NULL;
}

/* Diagonal Jacobian: the VJP rule with dy = tangent gives f'(x) * t. */
static aicc_status elementwise(aicc_jvp_ctx *c, aicc_grad_fn vjp) {
  const aicc_node *n = c->b.node;
  aicc_value *y = n->outputs[0], *sum = NULL;
  TRY(check_arity(c));
  for (int k = 0; k < n->n_inputs; k++) {
    if (!c->tx[k]) continue;
    aicc_value *ins[MAX_IN], *dy[MAX_OUT] = {0}, *dx[MAX_IN] = {0}, *t = c->tx[k];
    bool need[MAX_IN] = {0};
    memcpy(ins, n->inputs, sizeof ins[0] * (size_t)n->n_inputs);
    aicc_node clone = *n;
    clone.inputs = ins;
    if (!same_shape(&ins[k]->type, &y->type)) {
      TRY(aicc_grad_expand_like(&c->b, ins[k], y, &ins[k]));
      TRY(aicc_grad_expand_like(&c->b, t, y, &t));
    }
    dy[0] = t;
    need[k] = true;
    aicc_grad_ctx g = {.graph = c->b.graph, .node = &clone, .dy = dy, .dx = dx, .need = need};
    TRY(vjp(&g));
    if (!dx[k]) return aicc_jvp_error(c, AICC_ERR_INTERNAL, "no derivative for input %d", k);
    aicc_value *d = dx[k];
    if (d->type.dtype != y->type.dtype) {
      aicc_grad_attr at[] = {AICC_GA_INT("to", y->type.dtype), {0}};
      TRY(aicc_grad_emit(&c->b, "Cast", &d, 1, at, &d, 1));
    }
    TRY(add_term(c, &sum, d));
  }
  c->ty[0] = sum;
  return NULL;
}

/* Linear in the inputs of `lin`; inputs of `omit` are dropped (Pad's
 * constant value must be 0 for the tangent) with attribute `drop`. */
static aicc_status linear(aicc_jvp_ctx *c, uint32_t lin, uint32_t omit, const char *drop) {
  const aicc_node *n = c->b.node;
  aicc_value *ins[MAX_IN], *outs[MAX_OUT];
  TRY(check_arity(c));
  TRY(check_inputs(c, lin));
  for (int k = 0; k < n->n_inputs; k++) {
    ins[k] = n->inputs[k];
    if ((omit >> k) & 1) ins[k] = NULL;
    else if (((lin >> k) & 1) && is_float(ins[k])) {
      if (c->tx[k]) ins[k] = c->tx[k];
      else TRY(zeros_like(c, n->inputs[k], &ins[k]));
    }
  }
  TRY(aicc_jvp_emit_copy(c, ins, n->n_inputs, drop, outs, n->n_outputs));
  for (int i = 0; i < n->n_outputs; i++)
    if (is_float(n->outputs[i])) c->ty[i] = outs[i];
  return NULL;
}

/* Multilinear in the inputs of `fac`, plus a bias input (-1: none) that is
 * linear and enters the first term only. */
static aicc_status multilinear(aicc_jvp_ctx *c, uint32_t fac, int bias) {
  const aicc_node *n = c->b.node;
  bool has_bias = bias >= 0 && bias < n->n_inputs && n->inputs[bias];
  aicc_value *tb = has_bias ? c->tx[bias] : NULL, *sum = NULL;
  TRY(check_arity(c));
  TRY(check_inputs(c, fac | (has_bias ? 1u << bias : 0)));
  int first = -1;
  for (int k = 0; k < n->n_inputs; k++) {
    if (!((fac >> k) & 1)) continue;
    if (first < 0) first = k;
    if (!c->tx[k] && !(tb && k == first)) continue;
    aicc_value *ins[MAX_IN], *term;
    memcpy(ins, n->inputs, sizeof ins[0] * (size_t)n->n_inputs);
    if (c->tx[k]) ins[k] = c->tx[k];
    else TRY(zeros_like(c, n->inputs[k], &ins[k])); /* the bias alone */
    if (has_bias) {
      ins[bias] = tb;
      if (!tb && bias < n->op->min_in) TRY(zeros_like(c, n->inputs[bias], &ins[bias]));
      tb = NULL; /* used */
    }
    TRY(aicc_jvp_emit_copy(c, ins, n->n_inputs, NULL, &term, 1));
    TRY(add_term(c, &sum, term));
  }
  c->ty[0] = sum;
  return NULL;
}

/* Class members: X(op) for elementwise (the op's VJP rule), L(op, lin,
 * omit, drop) for linear, M(op, factors, bias) for multilinear. */
#define JVP_ELEMENTWISE(X)                                                     \
  X(Add) X(Sub) X(Mul) X(Div) X(Exp) X(Log) X(Sqrt) X(Tanh) X(Sigmoid) X(Relu) \
  X(Where) X(Max) X(Min) X(Abs) X(Pow) X(LeakyRelu) X(Elu) X(Softplus)          \
  X(Dropout)
#define JVP_LINEAR(L)                                                          \
  L(Neg, 1, 0, NULL) L(Identity, 1, 0, NULL) L(Cast, 1, 0, NULL)               \
  L(Reshape, 1, 0, NULL) L(Flatten, 1, 0, NULL) L(Unsqueeze, 1, 0, NULL)       \
  L(Squeeze, 1, 0, NULL) L(Transpose, 1, 0, NULL) L(Gather, 1, 0, NULL)        \
  L(ReduceSum, 1, 0, NULL) L(ReduceMean, 1, 0, NULL) L(Expand, 1, 0, NULL)     \
  L(Split, 1, 0, NULL) L(Slice, 1, 0, NULL) L(AveragePool, 1, 0, NULL)         \
  L(Pad, 1, 1u << 2, "value") L(NegativeLogLikelihoodLoss, 1, 0, NULL)         \
  L(Concat, 0xffffffffu, 0, NULL)
#define JVP_MULTILINEAR(M) M(MatMul, 3, -1) M(Gemm, 3, 2) M(Conv, 3, 2)

#define DEF_EW(op)                                                             \
  static aicc_status jvp_ew_##op(aicc_jvp_ctx *c) { return elementwise(c, aicc_grad_##op); }
#define DEF_LIN(op, lin, omit, drop)                                           \
  static aicc_status jvp_lin_##op(aicc_jvp_ctx *c) { return linear(c, lin, omit, drop); }
#define DEF_MUL(op, fac, bias)                                                 \
  static aicc_status jvp_mul_##op(aicc_jvp_ctx *c) { return multilinear(c, fac, bias); }
JVP_ELEMENTWISE(DEF_EW)
JVP_LINEAR(DEF_LIN)
JVP_MULTILINEAR(DEF_MUL)

typedef struct jvp_row {
  const char *name;
  aicc_jvp_fn fn;
} jvp_row;

#define ROW_EW(op) {#op, jvp_ew_##op},
#define ROW_LIN(op, lin, omit, drop) {#op, jvp_lin_##op},
#define ROW_MUL(op, fac, bias) {#op, jvp_mul_##op},
#define ROW_FN(op) {#op, aicc_jvp_##op},
static const jvp_row rows[] = {JVP_ELEMENTWISE(ROW_EW) JVP_LINEAR(ROW_LIN)
                                   JVP_MULTILINEAR(ROW_MUL) AICC_JVP_EXPLICIT(ROW_FN)};

aicc_jvp_fn aicc_jvp_rule_find(const char *domain, const char *op_type) {
  if (domain && *domain && strcmp(domain, "ai.onnx") != 0) return NULL;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
    if (strcmp(rows[i].name, op_type) == 0) return rows[i].fn;
  return NULL;
}
