/* Training graphs: forward + loss + backward (VJP) + optimizer update
 * joined into one graph, so a training step is optimised and compiled like
 * any other graph. The model's float initializers are the parameters. The
 * step graph reads, beside the model's own inputs:
 *   labels   int64 [N] class indices (cross_entropy) or the output's shape (mse)
 *   step     f32 scalar, the 1-based step number (Adam's bias correction;
 *            the onnx-* optimizers feed their T input Cast(step - 1), the
 *            count of updates done before this one, as the ONNX spec reads)
 *   each parameter, and each optimizer state (initializers listed as inputs)
 * and writes: loss (f32 scalar), the model's output, then the new value of
 * every parameter and state, in the order of aicc_train_graph's lists. A
 * driver feeds the new values back as the next step's inputs (the runtime
 * updates them in its own memory). */
#ifndef AICC_AUTODIFF_TRAIN_H
#define AICC_AUTODIFF_TRAIN_H

#include "ops/registry.h"

typedef enum aicc_loss_kind { AICC_LOSS_CROSS_ENTROPY, AICC_LOSS_MSE } aicc_loss_kind;
/* The primitive optimizers are built from elementwise ONNX ops; the onnx-*
 * ones are one ai.onnx.preview.training node per parameter (the model then
 * imports that domain's opset 1). Weight decay is an L2 term added to the
 * gradient (the ONNX ops' norm_coefficient) except for adamw. */
typedef enum aicc_optimizer_kind {
  AICC_OPT_SGD,      /* p -= lr*g */
  AICC_OPT_MOMENTUM, /* v = mu*v + g; p -= lr*v */
  AICC_OPT_ADAM,     /* Kingma & Ba 2015, bias-corrected; eps added to sqrt(v) */
  AICC_OPT_ADAMW,    /* Loshchilov & Hutter 2019: decoupled weight decay */
  AICC_OPT_ADAGRAD,  /* Duchi et al. 2011: h += g^2; p -= lr*g/(sqrt(h)+eps) */
  AICC_OPT_ONNX_MOMENTUM, /* Momentum, alpha = mu, beta = 1: same as momentum */
  AICC_OPT_ONNX_ADAM,     /* Adam, alpha/beta = beta1/beta2: bias correction with
                             T = step - 1, so none at the first update and then
                             one step behind adam's (see README) */
  AICC_OPT_ONNX_ADAGRAD,  /* Adagrad, decay_factor 0: same as adagrad */
} aicc_optimizer_kind;

typedef struct aicc_train_spec {
  const char *output; /* model output the loss reads; NULL: the first */
  aicc_loss_kind loss;
  aicc_optimizer_kind optimizer;
  double lr, momentum, beta1, beta2, eps, weight_decay;
} aicc_train_spec;

/* Defaults: cross_entropy, adam, lr 1e-3, momentum 0.9, betas 0.9/0.999,
 * eps 1e-8, weight decay 0. */
aicc_train_spec aicc_train_spec_default(void);
/* Parses "cross_entropy"|"mse" / "sgd"|"momentum"|"adam"|"adamw"|"adagrad"|
 * "onnx-momentum"|"onnx-adam"|"onnx-adagrad". */
bool aicc_loss_parse(const char *s, aicc_loss_kind *out);
bool aicc_optimizer_parse(const char *s, aicc_optimizer_kind *out);
/* The names aicc_optimizer_parse accepts, ", "-separated (for messages). */
const char *aicc_optimizer_names(void);

typedef struct aicc_train_graph {
  int n_inputs_model;   /* the model's own (non-initializer) inputs come first */
  int labels_input, step_input; /* input indices */
  int n_params, n_states;
  aicc_value **params;  /* parameter values (initializers), in input order */
  aicc_value **states;  /* optimizer states (initializers), in input order */
  int params_input, states_input;   /* input index of params[0] / states[0] */
  int loss_output, model_output;    /* output indices */
  int params_output, states_output; /* output index of the first new param / state */
} aicc_train_graph;

/* Rewrites m into its training step graph. Errors name the reason: no
 * float initializer, an output that is not a float tensor, a model output
 * whose rank does not suit the loss, an op without a gradient rule on the
 * path, a parameter that reaches the loss only through a value that is not
 * float (ArgMax, a Cast to int: no gradient flows). On error m is left
 * half-rewritten (destroy it). out's arrays are malloc'ed
 * (aicc_train_graph_fini). */
AICC_MUST_USE aicc_status aicc_train_graph_build(aicc_model *m, const aicc_train_spec *spec,
                                                 aicc_train_graph *out);
void aicc_train_graph_fini(aicc_train_graph *t);

#endif
