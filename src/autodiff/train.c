/* Training step graphs (train.h): loss, backward graph and optimizer
 * updates appended to the forward graph, all as ordinary ONNX ops so the
 * passes and the compiler treat them like any other nodes. */
#include "autodiff/train.h"

#include "autodiff/autodiff.h"
#include "ops/grad_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

aicc_train_spec aicc_train_spec_default(void) {
  return (aicc_train_spec){NULL, AICC_LOSS_CROSS_ENTROPY, AICC_OPT_ADAM, 1e-3, 0.9, 0.9, 0.999,
                           1e-8, 0.0};
}

bool aicc_loss_parse(const char *s, aicc_loss_kind *out) {
  if (strcmp(s, "cross_entropy") == 0) *out = AICC_LOSS_CROSS_ENTROPY;
  else if (strcmp(s, "mse") == 0) *out = AICC_LOSS_MSE;
  else return false;
  return true;
}

bool aicc_optimizer_parse(const char *s, aicc_optimizer_kind *out) {
  static const char *const names[] = {"sgd", "momentum", "adam", "adamw"};
  for (int i = 0; i < 4; i++)
    if (strcmp(s, names[i]) == 0) {
      *out = (aicc_optimizer_kind)i;
      return true;
    }
  return false;
}

void aicc_train_graph_fini(aicc_train_graph *t) {
  free(t->params);
  free(t->states);
  memset(t, 0, sizeof *t);
}

typedef struct builder {
  aicc_model *m;
  aicc_graph *g;
  aicc_node fake; /* names the nodes built here ("train_grad") and messages */
  aicc_grad_ctx c;
  const aicc_train_spec *spec;
} builder;

static aicc_status scalar(builder *b, aicc_dtype dt, double v, aicc_value **out) {
  return aicc_grad_scalar(&b->c, dt, v, out);
}

static aicc_status bin(builder *b, const char *op, aicc_value *x, aicc_value *y,
                       aicc_value **out) {
  return aicc_grad_binary(&b->c, op, x, y, out);
}

/* x * k for a constant k. */
static aicc_status scale(builder *b, aicc_value *x, double k, aicc_value **out) {
  aicc_value *kv;
  AICC_TRY(scalar(b, x->type.dtype, k, &kv));
  return bin(b, "Mul", x, kv, out);
}

/* out = Identity(x) under a chosen name (new values get readable names). */
static aicc_status named(builder *b, const char *name, aicc_value *x, aicc_value **out) {
  if (aicc_graph_value_find(b->g, name))
    return aicc_errorf(AICC_ERR_INVALID, "train: a value named '%s' exists already", name);
  AICC_TRY(aicc_graph_value_add(b->g, name, &x->type, out));
  aicc_node *n;
  return aicc_graph_node_add(b->g, name, "Identity", "", &x, 1, out, 1, &n);
}

/* A zero initializer shaped like p, named name, as a new state. */
static aicc_status zero_state(builder *b, const aicc_value *p, const char *name, aicc_value **out) {
  if (aicc_graph_value_find(b->g, name))
    return aicc_errorf(AICC_ERR_INVALID, "train: a value named '%s' exists already", name);
  aicc_tensor *t;
  AICC_TRY(aicc_tensor_create(p->init->dtype, p->init->rank, p->init->dims, &t));
  return aicc_graph_init_add(b->g, name, t, out);
}

static aicc_status loss_node(builder *b, aicc_value *y, aicc_value *labels, aicc_value **loss) {
  if (b->spec->loss == AICC_LOSS_CROSS_ENTROPY) {
    if (aicc_model_opset(b->m, "") < 13)
      return aicc_errorf(AICC_ERR_UNSUPPORTED,
                         "train: cross_entropy needs a model of opset 13 or later (this one: %d)",
                         aicc_model_opset(b->m, ""));
    aicc_value *in[2] = {y, labels}, *out[1];
    aicc_grad_attr attrs[] = {AICC_GA_STRING("reduction", "mean"), {0}};
    AICC_TRY(aicc_grad_emit(&b->c, "SoftmaxCrossEntropyLoss", in, 2, attrs, out, 1));
    *loss = out[0];
    return NULL;
  }
  aicc_value *d, *sq;
  AICC_TRY(bin(b, "Sub", y, labels, &d));
  AICC_TRY(bin(b, "Mul", d, d, &sq));
  aicc_value *out[1];
  aicc_grad_attr attrs[] = {AICC_GA_INT("keepdims", 0), {0}};
  AICC_TRY(aicc_grad_emit(&b->c, "ReduceMean", &sq, 1, attrs, out, 1));
  *loss = out[0];
  return NULL;
}

/* The update of one parameter p with gradient g. New values are appended
 * to newp (one) and to states/newstates (zero to two). lr_t: Adam's
 * bias-corrected step size (a value), else NULL. */
static aicc_status update(builder *b, aicc_value *p, aicc_value *g, aicc_value *lr_t,
                          aicc_value **newp, aicc_value **states, aicc_value **news, int *ns) {
  const aicc_train_spec *s = b->spec;
  aicc_dtype dt = p->type.dtype;
  char name[512];
  *ns = 0;
  if (s->weight_decay != 0 && s->optimizer != AICC_OPT_ADAMW) {
    aicc_value *wd;
    AICC_TRY(scale(b, p, s->weight_decay, &wd));
    AICC_TRY(bin(b, "Add", g, wd, &g));
  }
  aicc_value *step = NULL; /* what p moves by, before the sign */
  switch (s->optimizer) {
  case AICC_OPT_SGD: AICC_TRY(scale(b, g, s->lr, &step)); break;
  case AICC_OPT_MOMENTUM: {
    aicc_value *v, *mv, *v2;
    snprintf(name, sizeof name, "momentum_%s", p->name);
    AICC_TRY(zero_state(b, p, name, &v));
    AICC_TRY(scale(b, v, s->momentum, &mv));
    AICC_TRY(bin(b, "Add", mv, g, &v2));
    states[0] = v;
    news[0] = v2;
    *ns = 1;
    AICC_TRY(scale(b, v2, s->lr, &step));
    break;
  }
  case AICC_OPT_ADAM:
  case AICC_OPT_ADAMW: {
    aicc_value *m, *v, *m1, *m2, *m3, *v1, *g2, *v2, *v3, *den, *eps, *q;
    snprintf(name, sizeof name, "adam_m_%s", p->name);
    AICC_TRY(zero_state(b, p, name, &m));
    snprintf(name, sizeof name, "adam_v_%s", p->name);
    AICC_TRY(zero_state(b, p, name, &v));
    AICC_TRY(scale(b, m, s->beta1, &m1));
    AICC_TRY(scale(b, g, 1 - s->beta1, &m2));
    AICC_TRY(bin(b, "Add", m1, m2, &m3));
    AICC_TRY(scale(b, v, s->beta2, &v1));
    AICC_TRY(bin(b, "Mul", g, g, &g2));
    AICC_TRY(scale(b, g2, 1 - s->beta2, &v2));
    AICC_TRY(bin(b, "Add", v1, v2, &v3));
    AICC_TRY(aicc_grad_unary(&b->c, "Sqrt", v3, &den));
    AICC_TRY(scalar(b, dt, s->eps, &eps));
    AICC_TRY(bin(b, "Add", den, eps, &den));
    AICC_TRY(bin(b, "Div", m3, den, &q));
    AICC_TRY(bin(b, "Mul", q, lr_t, &step));
    if (s->optimizer == AICC_OPT_ADAMW && s->weight_decay != 0) {
      aicc_value *wd;
      AICC_TRY(scale(b, p, s->lr * s->weight_decay, &wd));
      AICC_TRY(bin(b, "Add", step, wd, &step));
    }
    states[0] = m, states[1] = v;
    news[0] = m3, news[1] = v3;
    *ns = 2;
    break;
  }
  }
  return bin(b, "Sub", p, step, newp);
}

/* lr * sqrt(1 - beta2^t) / (1 - beta1^t) from the step input t. */
static aicc_status adam_lr(builder *b, aicc_value *t, aicc_value **out) {
  aicc_value *b1, *b2, *p1, *p2, *one, *c1, *c2, *r, *lr;
  AICC_TRY(scalar(b, AICC_DTYPE_F32, b->spec->beta1, &b1));
  AICC_TRY(scalar(b, AICC_DTYPE_F32, b->spec->beta2, &b2));
  AICC_TRY(scalar(b, AICC_DTYPE_F32, 1.0, &one));
  AICC_TRY(bin(b, "Pow", b1, t, &p1));
  AICC_TRY(bin(b, "Pow", b2, t, &p2));
  AICC_TRY(bin(b, "Sub", one, p1, &c1));
  AICC_TRY(bin(b, "Sub", one, p2, &c2));
  AICC_TRY(aicc_grad_unary(&b->c, "Sqrt", c2, &r));
  AICC_TRY(bin(b, "Div", r, c1, &r));
  AICC_TRY(scalar(b, AICC_DTYPE_F32, b->spec->lr, &lr));
  return bin(b, "Mul", r, lr, out);
}

static aicc_status build(builder *b, aicc_train_graph *t) {
  aicc_graph *g = b->g;
  AICC_TRY(aicc_graph_toposort(g));
  if (g->outputs.len == 0) return aicc_errorf(AICC_ERR_INVALID, "train: the model has no output");
  aicc_value *y = NULL;
  if (b->spec->output) {
    for (size_t i = 0; i < g->outputs.len; i++)
      if (strcmp(g->outputs.data[i]->name, b->spec->output) == 0) y = g->outputs.data[i];
    if (!y) return aicc_errorf(AICC_ERR_INVALID, "train: the model has no output '%s'",
                               b->spec->output);
  } else {
    y = g->outputs.data[0];
  }
  if (y->type.kind != AICC_KIND_TENSOR || !aicc_dtype_is_float(y->type.dtype))
    return aicc_errorf(AICC_ERR_INVALID, "train: output '%s' is not a float tensor, so no loss "
                       "can be taken of it", y->name);
  if (b->spec->loss == AICC_LOSS_CROSS_ENTROPY && y->type.rank != 2)
    return aicc_errorf(AICC_ERR_SHAPE, "train: cross_entropy needs output '%s' of shape "
                       "[batch, classes], it has rank %d", y->name, y->type.rank);
  /* Parameters: float initializers of rank >= 1. */
  t->params = calloc(g->inits.len + 1, sizeof *t->params);
  t->states = calloc(2 * g->inits.len + 1, sizeof *t->states);
  if (!t->params || !t->states) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < g->inits.len; i++) {
    aicc_value *v = g->inits.data[i];
    if (v->init && aicc_dtype_is_float(v->init->dtype) && v->init->rank >= 1)
      t->params[t->n_params++] = v;
  }
  if (!t->n_params)
    return aicc_errorf(AICC_ERR_INVALID, "train: the model has no float initializer to train");
  t->n_inputs_model = (int)g->inputs.len;
  for (size_t i = 0; i < g->inputs.len; i++)
    for (int k = 0; k < t->n_params; k++)
      if (g->inputs.data[i] == t->params[k])
        return aicc_errorf(AICC_ERR_UNSUPPORTED, "train: parameter '%s' is also a graph input",
                           t->params[k]->name);
  /* labels and step. */
  aicc_type lt = y->type;
  if (b->spec->loss == AICC_LOSS_CROSS_ENTROPY) {
    lt.dtype = AICC_DTYPE_I64;
    lt.rank = 1;
  }
  aicc_value *labels, *step;
  aicc_type st = aicc_type_tensor(AICC_DTYPE_F32, 0, NULL);
  if (aicc_graph_value_find(g, "labels") || aicc_graph_value_find(g, "step"))
    return aicc_errorf(AICC_ERR_INVALID, "train: the model already has a value named "
                       "'labels' or 'step'");
  AICC_TRY(aicc_graph_value_add(g, "labels", &lt, &labels));
  AICC_TRY(aicc_graph_value_add(g, "step", &st, &step));
  aicc_value *loss = NULL;
  AICC_TRY(loss_node(b, y, labels, &loss));
  aicc_value *loss_out;
  AICC_TRY(named(b, "loss", loss, &loss_out));
  /* Backward. */
  const char **wrt = calloc((size_t)t->n_params, sizeof *wrt);
  if (!wrt) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  for (int k = 0; k < t->n_params; k++) wrt[k] = t->params[k]->name;
  aicc_vjp_spec vs = {"loss", false, wrt, t->n_params};
  size_t n_out_before = g->outputs.len;
  aicc_status s = aicc_autodiff_vjp(b->m, &vs);
  free(wrt);
  AICC_TRY(s);
  aicc_value **grads = g->outputs.data + n_out_before; /* grad_<p>, in wrt order */
  aicc_value *lr_t = NULL;
  if (b->spec->optimizer == AICC_OPT_ADAM || b->spec->optimizer == AICC_OPT_ADAMW)
    AICC_TRY(adam_lr(b, step, &lr_t));
  aicc_value **newp = calloc((size_t)t->n_params, sizeof *newp);
  aicc_value **news = calloc(2 * (size_t)t->n_params + 1, sizeof *news);
  if (!newp || !news) {
    free(newp);
    free(news);
    return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  }
  for (int k = 0; k < t->n_params && !s; k++) {
    int ns = 0;
    s = update(b, t->params[k], grads[k], lr_t, &newp[k], t->states + t->n_states,
               news + t->n_states, &ns);
    t->n_states += ns;
  }
  /* Inputs: the model's, labels, step, params, states. Outputs: loss, y,
   * new params, new states. */
  g->outputs.len = 0;
  char name[512];
  if (!s) s = aicc_graph_input_add(g, labels);
  if (!s) s = aicc_graph_input_add(g, step);
  t->labels_input = t->n_inputs_model;
  t->step_input = t->n_inputs_model + 1;
  t->params_input = t->n_inputs_model + 2;
  t->states_input = t->params_input + t->n_params;
  for (int k = 0; k < t->n_params && !s; k++) s = aicc_graph_input_add(g, t->params[k]);
  for (int k = 0; k < t->n_states && !s; k++) s = aicc_graph_input_add(g, t->states[k]);
  if (!s) s = aicc_graph_output_add(g, loss_out);
  if (!s) s = aicc_graph_output_add(g, y);
  t->loss_output = 0;
  t->model_output = 1;
  t->params_output = 2;
  t->states_output = 2 + t->n_params;
  for (int k = 0; k < t->n_params && !s; k++) {
    aicc_value *o;
    snprintf(name, sizeof name, "new_%s", t->params[k]->name);
    s = named(b, name, newp[k], &o);
    if (!s) s = aicc_graph_output_add(g, o);
  }
  for (int k = 0; k < t->n_states && !s; k++) {
    aicc_value *o;
    snprintf(name, sizeof name, "new_%s", t->states[k]->name);
    s = named(b, name, news[k], &o);
    if (!s) s = aicc_graph_output_add(g, o);
  }
  free(newp);
  free(news);
  AICC_TRY(s);
  AICC_TRY(aicc_graph_toposort(g));
  return aicc_model_infer(b->m);
}

aicc_status aicc_train_graph_build(aicc_model *m, const aicc_train_spec *spec,
                                   aicc_train_graph *out) {
  memset(out, 0, sizeof *out);
  builder b = {.m = m, .g = m->graph, .spec = spec};
  b.fake = (aicc_node){.name = "train", .op_type = "Identity", .domain = "", .graph = m->graph};
  b.c = (aicc_grad_ctx){.graph = m->graph, .node = &b.fake};
  aicc_status s = build(&b, out);
  if (s) aicc_train_graph_fini(out);
  return s;
}
