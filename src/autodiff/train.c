/* Training step graphs (train.h): loss, backward graph and optimizer
 * updates appended to the forward graph, all as ordinary ONNX ops so the
 * passes and the compiler treat them like any other nodes. */
#include "autodiff/train.h"

#include "autodiff/autodiff.h"
#include "ops/grad_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AICC_TRAINING_DOMAIN "ai.onnx.preview.training"

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

static const char *const optimizer_names[] = {
    "sgd", "momentum", "adam", "adamw", "adagrad", "onnx-momentum", "onnx-adam", "onnx-adagrad"};
_Static_assert(sizeof optimizer_names / sizeof optimizer_names[0] == AICC_OPT_ONNX_ADAGRAD + 1,
               "one name per optimizer");

bool aicc_optimizer_parse(const char *s, aicc_optimizer_kind *out) {
  for (int i = 0; i <= AICC_OPT_ONNX_ADAGRAD; i++)
    if (strcmp(s, optimizer_names[i]) == 0) {
      *out = (aicc_optimizer_kind)i;
      return true;
    }
  return false;
}

const char *aicc_optimizer_names(void) {
  return "sgd, momentum, adam, adamw, adagrad, onnx-momentum, onnx-adam, onnx-adagrad";
}

static bool is_onnx_opt(aicc_optimizer_kind k) {
  return k == AICC_OPT_ONNX_MOMENTUM || k == AICC_OPT_ONNX_ADAM || k == AICC_OPT_ONNX_ADAGRAD;
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

/* "<model path>: train: <reason>". */
__attribute__((format(printf, 3, 4))) static aicc_status terr(const builder *b, aicc_code code,
                                                              const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const char *path = b->m->path ? b->m->path : "";
  return aicc_errorf(code, "%s%strain: %s", path, *path ? ": " : "", msg);
}

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
    return terr(b, AICC_ERR_INVALID, "a value named '%s' exists already", name);
  AICC_TRY(aicc_graph_value_add(b->g, name, &x->type, out));
  aicc_node *n;
  return aicc_graph_node_add(b->g, name, "Identity", "", &x, 1, out, 1, &n);
}

/* A zero initializer shaped like p, named name, as a new state. */
static aicc_status zero_state(builder *b, const aicc_value *p, const char *name, aicc_value **out) {
  if (aicc_graph_value_find(b->g, name))
    return terr(b, AICC_ERR_INVALID, "a value named '%s' exists already", name);
  aicc_tensor *t;
  AICC_TRY(aicc_tensor_create(p->init->dtype, p->init->rank, p->init->dims, &t));
  return aicc_graph_init_add(b->g, name, t, out);
}

static aicc_status loss_node(builder *b, aicc_value *y, aicc_value *labels, aicc_value **loss) {
  if (b->spec->loss == AICC_LOSS_CROSS_ENTROPY) {
    if (aicc_model_opset(b->m, "") < 13)
      return terr(b, AICC_ERR_UNSUPPORTED,
                         "cross_entropy needs a model of opset 13 or later (this one: %d)",
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
  if (s->weight_decay != 0 && s->optimizer != AICC_OPT_ADAMW) { /* L2 */
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
  case AICC_OPT_ADAGRAD: {
    aicc_value *h, *g2, *h2, *den, *eps, *q;
    snprintf(name, sizeof name, "adagrad_h_%s", p->name);
    AICC_TRY(zero_state(b, p, name, &h));
    AICC_TRY(bin(b, "Mul", g, g, &g2));
    AICC_TRY(bin(b, "Add", h, g2, &h2));
    AICC_TRY(aicc_grad_unary(&b->c, "Sqrt", h2, &den));
    AICC_TRY(scalar(b, dt, s->eps, &eps));
    AICC_TRY(bin(b, "Add", den, eps, &den));
    AICC_TRY(bin(b, "Div", g, den, &q));
    AICC_TRY(scale(b, q, s->lr, &step));
    states[0] = h;
    news[0] = h2;
    *ns = 1;
    break;
  }
  default:
    return terr(b, AICC_ERR_INTERNAL, "optimizer %d is not a primitive one",
                       (int)s->optimizer);
  }
  return bin(b, "Sub", p, step, newp);
}

/* The update of p as one ai.onnx.preview.training node: inputs R, T, X, G
 * and the states, outputs X_new and the new states (ONNX's layout for one
 * tensor). States and the weight decay (norm_coefficient) as in update(). */
static aicc_status onnx_update(builder *b, aicc_value *p, aicc_value *g, aicc_value *r,
                               aicc_value *t, aicc_value **newp, aicc_value **states,
                               aicc_value **news, int *ns) {
  const aicc_train_spec *s = b->spec;
  const char *op = NULL;
  const char *state_names[2] = {NULL, NULL};
  switch (s->optimizer) {
  case AICC_OPT_ONNX_MOMENTUM: op = "Momentum", state_names[0] = "momentum"; break;
  case AICC_OPT_ONNX_ADAM: op = "Adam", state_names[0] = "adam_m", state_names[1] = "adam_v"; break;
  case AICC_OPT_ONNX_ADAGRAD: op = "Adagrad", state_names[0] = "adagrad_h"; break;
  default:
    return terr(b, AICC_ERR_INTERNAL, "optimizer %d is not an ONNX one",
                       (int)s->optimizer);
  }
  int n = state_names[1] ? 2 : 1;
  aicc_value *in[6] = {r, t, p, g, NULL, NULL}, *out[3];
  char name[512];
  for (int k = 0; k < n; k++) {
    snprintf(name, sizeof name, "%s_%s", state_names[k], p->name);
    AICC_TRY(zero_state(b, p, name, &states[k]));
    in[4 + k] = states[k];
  }
  for (int k = 0; k <= n; k++) AICC_TRY(aicc_graph_value_add(b->g, "", &p->type, &out[k]));
  aicc_node *nd;
  snprintf(name, sizeof name, "%s_update_%s", op, p->name);
  AICC_TRY(aicc_graph_node_add(b->g, name, op, AICC_TRAINING_DOMAIN, in, 4 + n, out, 1 + n, &nd));
  float wd = (float)s->weight_decay;
  switch (s->optimizer) {
  case AICC_OPT_ONNX_MOMENTUM:
    /* beta 1: the gradient enters v unscaled at every step, as momentum's. */
    AICC_TRY(aicc_node_attr_set_float(nd, "alpha", (float)s->momentum));
    AICC_TRY(aicc_node_attr_set_float(nd, "beta", 1.0f));
    AICC_TRY(aicc_node_attr_set_string(nd, "mode", "standard"));
    AICC_TRY(aicc_node_attr_set_float(nd, "norm_coefficient", wd));
    break;
  case AICC_OPT_ONNX_ADAM:
    AICC_TRY(aicc_node_attr_set_float(nd, "alpha", (float)s->beta1));
    AICC_TRY(aicc_node_attr_set_float(nd, "beta", (float)s->beta2));
    AICC_TRY(aicc_node_attr_set_float(nd, "epsilon", (float)s->eps));
    AICC_TRY(aicc_node_attr_set_float(nd, "norm_coefficient", wd));
    AICC_TRY(aicc_node_attr_set_float(nd, "norm_coefficient_post", 0.0f));
    break;
  default: /* Adagrad */
    AICC_TRY(aicc_node_attr_set_float(nd, "decay_factor", 0.0f));
    AICC_TRY(aicc_node_attr_set_float(nd, "epsilon", (float)s->eps));
    AICC_TRY(aicc_node_attr_set_float(nd, "norm_coefficient", wd));
    break;
  }
  *newp = out[0];
  for (int k = 0; k < n; k++) news[k] = out[1 + k];
  *ns = n;
  return NULL;
}

/* R and T of the ONNX update nodes: R = lr (f32 scalar), T = the count of
 * updates before this one, Cast<int64>(step - 1) (exact below 2^24 steps). */
static aicc_status onnx_rt(builder *b, aicc_value *step, aicc_value **r, aicc_value **t) {
  int v = aicc_model_opset(b->m, AICC_TRAINING_DOMAIN);
  if (v != 0 && v != 1)
    return terr(b, AICC_ERR_UNSUPPORTED, "the model imports %s opset %d; the "
                       "onnx-* optimizers use opset 1", AICC_TRAINING_DOMAIN, v);
  AICC_TRY(aicc_model_opset_set(b->m, AICC_TRAINING_DOMAIN, 1));
  aicc_value *one, *t0;
  AICC_TRY(scalar(b, AICC_DTYPE_F32, b->spec->lr, r));
  AICC_TRY(scalar(b, AICC_DTYPE_F32, 1.0, &one));
  AICC_TRY(bin(b, "Sub", step, one, &t0));
  aicc_grad_attr to[] = {AICC_GA_INT("to", AICC_DTYPE_I64), {0}};
  return aicc_grad_emit(&b->c, "Cast", &t0, 1, to, t, 1);
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

/* Autodiff follows float values only, so a parameter that reaches the loss
 * only through a value of another dtype (ArgMax's indices, a Cast to int)
 * would get a zero gradient and silently never train. That is an error
 * naming the node that cuts the path. Parameters that do not reach the loss
 * at all (another output's head) are left alone. g is toposorted. */
static aicc_status check_paths(builder *b, const aicc_value *loss, const aicc_train_graph *t) {
  const aicc_node_vec *ns = &b->g->nodes;
  uint32_t nv = b->m->n_values;
  bool *reach = calloc(nv, sizeof *reach), *freach = calloc(nv, sizeof *freach);
  bool *dep = calloc(nv, sizeof *dep);
  aicc_status s = NULL;
  if (!reach || !freach || !dep) s = aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  if (!s) reach[loss->id] = freach[loss->id] = true;
  for (size_t i = ns->len; !s && i-- > 0;) { /* reach: any path; freach: a float one */
    const aicc_node *n = ns->data[i];
    bool any = false, fany = false;
    for (int k = 0; k < n->n_outputs; k++) {
      const aicc_value *o = n->outputs[k];
      if (!o || n->dead) continue;
      any |= reach[o->id];
      fany |= freach[o->id] && aicc_dtype_is_float(o->type.dtype);
    }
    for (int k = 0; k < n->n_inputs; k++) {
      const aicc_value *v = n->inputs[k];
      if (!v) continue;
      reach[v->id] |= any;
      freach[v->id] |= fany && v->type.kind == AICC_KIND_TENSOR &&
                       aicc_dtype_is_float(v->type.dtype);
    }
  }
  for (int k = 0; !s && k < t->n_params; k++) {
    const aicc_value *p = t->params[k];
    if (!reach[p->id] || freach[p->id]) continue;
    memset(dep, 0, nv * sizeof *dep);
    dep[p->id] = true;
    const aicc_node *cut = NULL;
    const aicc_value *cut_out = NULL;
    for (size_t i = 0; i < ns->len && !cut; i++) {
      const aicc_node *n = ns->data[i];
      bool from_p = false, float_in = false;
      for (int j = 0; j < n->n_inputs; j++)
        if (n->inputs[j] && dep[n->inputs[j]->id]) {
          from_p = true;
          float_in |= aicc_dtype_is_float(n->inputs[j]->type.dtype);
        }
      if (!from_p || n->dead) continue;
      for (int j = 0; j < n->n_outputs; j++) {
        const aicc_value *o = n->outputs[j];
        if (!o) continue;
        dep[o->id] = true;
        if (float_in && !cut && reach[o->id] && !aicc_dtype_is_float(o->type.dtype)) {
          cut = n;
          cut_out = o;
        }
      }
    }
    char d[512];
    if (cut)
      s = aicc_errorf(AICC_ERR_UNSUPPORTED, "%s: not differentiable: its output '%s' is %s, "
                      "so parameter '%s' gets no gradient from loss '%s'",
                      aicc_node_describe(cut, d, sizeof d), cut_out->name,
                      aicc_dtype_text(cut_out->type.dtype), p->name, loss->name);
    else
      s = terr(b, AICC_ERR_UNSUPPORTED, "parameter '%s' reaches loss '%s' only through values "
               "that are not float, so it gets no gradient", p->name, loss->name);
  }
  free(reach);
  free(freach);
  free(dep);
  return s;
}

static aicc_status build(builder *b, aicc_train_graph *t) {
  aicc_graph *g = b->g;
  AICC_TRY(aicc_graph_toposort(g));
  if (g->outputs.len == 0) return terr(b, AICC_ERR_INVALID, "the model has no output");
  aicc_value *y = NULL;
  if (b->spec->output) {
    for (size_t i = 0; i < g->outputs.len; i++)
      if (strcmp(g->outputs.data[i]->name, b->spec->output) == 0) y = g->outputs.data[i];
    if (!y) return terr(b, AICC_ERR_INVALID, "the model has no output '%s'",
                               b->spec->output);
  } else {
    y = g->outputs.data[0];
  }
  if (y->type.kind != AICC_KIND_TENSOR || !aicc_dtype_is_float(y->type.dtype))
    return terr(b, AICC_ERR_INVALID, "output '%s' is not a float tensor, so no loss "
                       "can be taken of it", y->name);
  if (b->spec->loss == AICC_LOSS_CROSS_ENTROPY && y->type.rank != 2)
    return terr(b, AICC_ERR_SHAPE, "cross_entropy needs output '%s' of shape "
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
    return terr(b, AICC_ERR_INVALID, "the model has no float initializer to train");
  t->n_inputs_model = (int)g->inputs.len;
  for (size_t i = 0; i < g->inputs.len; i++)
    for (int k = 0; k < t->n_params; k++)
      if (g->inputs.data[i] == t->params[k])
        return terr(b, AICC_ERR_UNSUPPORTED, "parameter '%s' is also a graph input",
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
    return terr(b, AICC_ERR_INVALID, "the model already has a value named "
                       "'labels' or 'step'");
  AICC_TRY(aicc_graph_value_add(g, "labels", &lt, &labels));
  AICC_TRY(aicc_graph_value_add(g, "step", &st, &step));
  aicc_value *loss = NULL;
  AICC_TRY(loss_node(b, y, labels, &loss));
  aicc_value *loss_out;
  AICC_TRY(named(b, "loss", loss, &loss_out));
  AICC_TRY(check_paths(b, loss_out, t));
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
  aicc_value *lr_t = NULL, *onnx_r = NULL, *onnx_t = NULL;
  bool onnx = is_onnx_opt(b->spec->optimizer);
  if (b->spec->optimizer == AICC_OPT_ADAM || b->spec->optimizer == AICC_OPT_ADAMW)
    AICC_TRY(adam_lr(b, step, &lr_t));
  if (onnx) AICC_TRY(onnx_rt(b, step, &onnx_r, &onnx_t));
  aicc_value **newp = calloc((size_t)t->n_params, sizeof *newp);
  aicc_value **news = calloc(2 * (size_t)t->n_params + 1, sizeof *news);
  if (!newp || !news) {
    free(newp);
    free(news);
    return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  }
  for (int k = 0; k < t->n_params && !s; k++) {
    int ns = 0;
    if (onnx)
      s = onnx_update(b, t->params[k], grads[k], onnx_r, onnx_t, &newp[k],
                      t->states + t->n_states, news + t->n_states, &ns);
    else
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
