/* Optimizer update ops of the ai.onnx.preview.training domain: Adagrad, Adam,
 * Momentum (standard and Nesterov). Each updates n tensors at once: inputs
 * are R, T, then n X's, n G's and the n state tensors per state; outputs are
 * the n new X's followed by the new states. Computed in double. */
#include "ops/util.h"

#include <math.h>
#include <string.h>

#define TRAINING "ai.onnx.preview.training"

/* Number of optimized tensors given `states` state tensors per X. */
static int n_groups(int n_in, int states) { return (n_in - 2) / (2 + states); }

/* n_in = 2 + n*(2+S) and n_out = n*(1+S), so n = n_in - 2 - n_out. Output
 * s*n+k mirrors X_k (s = 0) or state s of X_k. */
static aicc_status update_infer(aicc_infer_ctx *c) {
  int n = c->n_in - 2 - c->n_out;
  if (n < 1) return aicc_infer_error(c, AICC_ERR_INVALID, "input/output counts do not match");
  for (int o = 0; o < c->n_out; o++) {
    int s = o / n, k = o % n;
    int in = 2 + (s == 0 ? k : (s + 1) * n + k);
    if (in < c->n_in && c->in[in]) c->out[o] = *c->in[in];
  }
  return NULL;
}

static aicc_status check_update(aicc_kernel_ctx *c, int states, int *n) {
  int g = n_groups(c->n_in, states);
  if (g < 1 || c->n_in != 2 + g * (2 + states) || c->n_out != g * (1 + states))
    return aicc_kernel_error(c, AICC_ERR_INVALID,
                             "expected 2 + %d*n inputs and %d*n outputs", 2 + states, 1 + states);
  for (int i = 2; i < c->n_in; i++) {
    const aicc_tensor *t = c->in[i];
    const aicc_tensor *x = c->in[2 + (i - 2) % g];
    if (!t || t->kind != AICC_KIND_TENSOR || !aicc_dtype_is_float(t->dtype) ||
        aicc_tensor_numel(t) != aicc_tensor_numel(x))
      return aicc_kernel_error(c, AICC_ERR_SHAPE, "input %d must be a float tensor shaped like X", i);
  }
  *n = g;
  return NULL;
}

/* Creates the outputs as copies of the shapes of their inputs. */
static aicc_status make_outputs(aicc_kernel_ctx *c, int n, int states, aicc_tensor **out) {
  for (int s = 0; s <= states; s++)
    for (int k = 0; k < n; k++) {
      const aicc_tensor *src = c->in[2 + (s == 0 ? k : (s + 1) * n + k)];
      AICC_TRY(aicc_kernel_output(c, s * n + k, src->dtype, src->rank, src->dims,
                                  &out[s * n + k]));
    }
  return NULL;
}

static aicc_status adagrad_kernel(aicc_kernel_ctx *c) {
  int n;
  AICC_TRY(check_update(c, 1, &n));
  double r = aicc_tensor_get_f64(c->in[0], 0);
  double t = (double)aicc_tensor_get_i64(c->in[1], 0);
  double decay = aicc_node_attr_float(c->node, "decay_factor", 0.0f);
  double eps = aicc_node_attr_float(c->node, "epsilon", 0.0f);
  double norm = aicc_node_attr_float(c->node, "norm_coefficient", 0.0f);
  double lr = r / (1 + t * decay);
  aicc_tensor *out[2 * 64];
  if (n > 64) return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "more than 64 tensors");
  AICC_TRY(make_outputs(c, n, 1, out));
  for (int k = 0; k < n; k++) {
    const aicc_tensor *x = c->in[2 + k], *g = c->in[2 + n + k], *h = c->in[2 + 2 * n + k];
    for (int64_t i = 0, e = aicc_tensor_numel(x); i < e; i++) {
      double xv = aicc_tensor_get_f64(x, i);
      double gr = norm * xv + aicc_tensor_get_f64(g, i);
      double hn = aicc_tensor_get_f64(h, i) + gr * gr;
      aicc_tensor_set_f64(out[k], i, xv - lr * gr / (sqrt(hn) + eps));
      aicc_tensor_set_f64(out[n + k], i, hn);
    }
  }
  return NULL;
}

static aicc_status adam_kernel(aicc_kernel_ctx *c) {
  int n;
  AICC_TRY(check_update(c, 2, &n));
  double r = aicc_tensor_get_f64(c->in[0], 0);
  int64_t t = aicc_tensor_get_i64(c->in[1], 0);
  double alpha = aicc_node_attr_float(c->node, "alpha", 0.9f);
  double beta = aicc_node_attr_float(c->node, "beta", 0.999f);
  double eps = aicc_node_attr_float(c->node, "epsilon", 0.0f);
  double norm = aicc_node_attr_float(c->node, "norm_coefficient", 0.0f);
  double post = aicc_node_attr_float(c->node, "norm_coefficient_post", 0.0f);
  /* Bias correction of both moments once steps have been taken. */
  double lr = t > 0 ? r * sqrt(1 - pow(beta, (double)t)) / (1 - pow(alpha, (double)t)) : r;
  aicc_tensor *out[3 * 64];
  if (n > 64) return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "more than 64 tensors");
  AICC_TRY(make_outputs(c, n, 2, out));
  for (int k = 0; k < n; k++) {
    const aicc_tensor *x = c->in[2 + k], *g = c->in[2 + n + k];
    const aicc_tensor *v = c->in[2 + 2 * n + k], *h = c->in[2 + 3 * n + k];
    for (int64_t i = 0, e = aicc_tensor_numel(x); i < e; i++) {
      double xv = aicc_tensor_get_f64(x, i);
      double gr = norm * xv + aicc_tensor_get_f64(g, i);
      double vn = alpha * aicc_tensor_get_f64(v, i) + (1 - alpha) * gr;
      double hn = beta * aicc_tensor_get_f64(h, i) + (1 - beta) * gr * gr;
      double xn = xv - lr * (vn / (sqrt(hn) + eps));
      aicc_tensor_set_f64(out[k], i, (1 - post) * xn);
      aicc_tensor_set_f64(out[n + k], i, vn);
      aicc_tensor_set_f64(out[2 * n + k], i, hn);
    }
  }
  return NULL;
}

static aicc_status momentum_kernel(aicc_kernel_ctx *c) {
  int n;
  AICC_TRY(check_update(c, 1, &n));
  const aicc_node *nd = c->node;
  const char *mode = aicc_node_attr_string(nd, "mode", "standard");
  bool nesterov = strcmp(mode, "nesterov") == 0;
  if (!nesterov && strcmp(mode, "standard") != 0)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "mode '%s' is not standard or nesterov", mode);
  double r = aicc_tensor_get_f64(c->in[0], 0);
  int64_t t = aicc_tensor_get_i64(c->in[1], 0);
  double alpha = aicc_node_attr_float(nd, "alpha", 0.0f);
  double beta = aicc_node_attr_float(nd, "beta", 0.0f);
  double norm = aicc_node_attr_float(nd, "norm_coefficient", 0.0f);
  double b = t > 0 ? beta : 1.0; /* the first step takes the whole gradient */
  aicc_tensor *out[2 * 64];
  if (n > 64) return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "more than 64 tensors");
  AICC_TRY(make_outputs(c, n, 1, out));
  for (int k = 0; k < n; k++) {
    const aicc_tensor *x = c->in[2 + k], *g = c->in[2 + n + k], *v = c->in[2 + 2 * n + k];
    for (int64_t i = 0, e = aicc_tensor_numel(x); i < e; i++) {
      double xv = aicc_tensor_get_f64(x, i);
      double gr = norm * xv + aicc_tensor_get_f64(g, i);
      double vn = alpha * aicc_tensor_get_f64(v, i) + b * gr;
      double xn = nesterov ? xv - r * (gr + alpha * vn) : xv - r * vn;
      aicc_tensor_set_f64(out[k], i, xn);
      aicc_tensor_set_f64(out[n + k], i, vn);
    }
  }
  return NULL;
}

static const aicc_attr_spec adagrad_attrs[] = {AICC_A_FLOAT("decay_factor"), AICC_A_FLOAT("epsilon"),
                                               AICC_A_FLOAT("norm_coefficient"), AICC_A_END};
static const aicc_attr_spec adam_attrs[] = {AICC_A_FLOAT("alpha"), AICC_A_FLOAT("beta"),
                                            AICC_A_FLOAT("epsilon"), AICC_A_FLOAT("norm_coefficient"),
                                            AICC_A_FLOAT("norm_coefficient_post"), AICC_A_END};
static const aicc_attr_spec momentum_attrs[] = {
    {"alpha", AICC_ATTR_FLOAT, true}, {"beta", AICC_ATTR_FLOAT, true},
    {"mode", AICC_ATTR_STRING, true}, {"norm_coefficient", AICC_ATTR_FLOAT, true}, AICC_A_END};

/* Gradient (ai.onnx.preview.training): the gradients of y with respect to
 * xs. Output k has the type of input k (the node's inputs are the xs, then
 * the zs). The node is not run: the `gradient` pass (src/passes/gradient.c)
 * expands it into backward nodes before any engine sees it. */
static aicc_status gradient_infer(aicc_infer_ctx *c) {
  for (int k = 0; k < c->n_out; k++) {
    if (k >= c->n_in || !c->in[k])
      return aicc_infer_error(c, AICC_ERR_INVALID, "output %d has no matching x input", k);
    c->out[k] = *c->in[k];
  }
  return NULL;
}

static aicc_status gradient_kernel(aicc_kernel_ctx *c) {
  return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED,
                           "Gradient nodes are expanded by the 'gradient' pass, not run");
}

static const aicc_attr_spec gradient_attrs[] = {
    {"xs", AICC_ATTR_STRINGS, true}, {"y", AICC_ATTR_STRING, true},
    {"zs", AICC_ATTR_STRINGS, false}, AICC_A_END};

static const aicc_op ops[] = {
    {"Gradient", TRAINING, 1, 0, 1, AICC_VARIADIC, 1, AICC_VARIADIC, gradient_attrs,
     gradient_infer, gradient_kernel},
    {"Adagrad", TRAINING, 1, 0, 5, AICC_VARIADIC, 2, AICC_VARIADIC, adagrad_attrs, update_infer,
     adagrad_kernel},
    {"Adam", TRAINING, 1, 0, 6, AICC_VARIADIC, 3, AICC_VARIADIC, adam_attrs, update_infer,
     adam_kernel},
    {"Momentum", TRAINING, 1, 0, 5, AICC_VARIADIC, 2, AICC_VARIADIC, momentum_attrs, update_infer,
     momentum_kernel},
};

const aicc_op_family aicc_family_training = {"training", ops, sizeof ops / sizeof ops[0]};
