/* Reverse-mode differentiation (VJP) of a model's main graph: marks the
 * nodes between the wrt values and the loss, walks them in reverse
 * topological order calling each op's gradient rule, sums the gradients of
 * values with several uses with Add, and exposes `grad_<name>` outputs.
 * Builds nodes only; running them is the interpreter's or compiler's job. */
#include "autodiff/autodiff.h"
#include "ops/grad_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct vjp {
  aicc_model *m;
  aicc_graph *g;
  const aicc_vjp_spec *spec;
  uint32_t nv;         /* value ids below this existed before the transform */
  bool *dep, *reach;   /* by value id: depends on a wrt value / reaches the loss */
  aicc_value **grad;   /* by value id: accumulated gradient so far */
  aicc_value **wrt;
  int n_wrt;
} vjp;

static bool is_float(const aicc_value *v) {
  return v->type.kind == AICC_KIND_TENSOR && aicc_dtype_is_float(v->type.dtype);
}

static aicc_status resolve_wrt(vjp *s) {
  const aicc_vjp_spec *sp = s->spec;
  size_t cap = sp->n_wrt ? (size_t)sp->n_wrt : s->g->inits.len;
  s->wrt = calloc(cap ? cap : 1, sizeof *s->wrt);
  if (!s->wrt) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  if (!sp->n_wrt) {
    for (size_t i = 0; i < s->g->inits.len; i++)
      if (is_float(s->g->inits.data[i])) s->wrt[s->n_wrt++] = s->g->inits.data[i];
    return NULL;
  }
  for (int i = 0; i < sp->n_wrt; i++) {
    aicc_value *v = aicc_hashmap_get(&s->g->names, sp->wrt[i]);
    if (!v) return aicc_errorf(AICC_ERR_INVALID, "autodiff: no value '%s' to differentiate with respect to", sp->wrt[i]);
    if (!is_float(v))
      return aicc_errorf(AICC_ERR_INVALID, "autodiff: '%s' is not a float tensor", v->name);
    s->wrt[s->n_wrt++] = v;
  }
  return NULL;
}

/* dep: forward from the wrt values; reach: backward from the loss. Only
 * nodes with both an input that depends and an output that reaches need a
 * rule, so an op without one elsewhere in the graph is no error. */
static void mark(vjp *s, const aicc_value *loss) {
  const aicc_node_vec *ns = &s->g->nodes;
  for (int i = 0; i < s->n_wrt; i++) s->dep[s->wrt[i]->id] = true;
  for (size_t i = 0; i < ns->len; i++) {
    const aicc_node *n = ns->data[i];
    bool any = false;
    for (int k = 0; k < n->n_inputs && !any; k++) any = n->inputs[k] && s->dep[n->inputs[k]->id];
    if (!n->dead && any)
      for (int k = 0; k < n->n_outputs; k++)
        if (n->outputs[k] && is_float(n->outputs[k])) s->dep[n->outputs[k]->id] = true;
  }
  s->reach[loss->id] = true;
  for (size_t i = ns->len; i-- > 0;) {
    const aicc_node *n = ns->data[i];
    bool any = false;
    for (int k = 0; k < n->n_outputs && !any; k++) any = n->outputs[k] && s->reach[n->outputs[k]->id];
    if (!n->dead && any)
      for (int k = 0; k < n->n_inputs; k++)
        if (n->inputs[k]) s->reach[n->inputs[k]->id] = true;
  }
}

/* The seed gradient of the loss: ones of its (one-element) shape, or a new
 * graph input grad_<loss>. */
static aicc_status seed(vjp *s, aicc_value *loss, aicc_value **out) {
  char name[512];
  snprintf(name, sizeof name, "grad_%s", loss->name);
  if (s->spec->seed_input) {
    if (aicc_graph_value_find(s->g, name))
      return aicc_errorf(AICC_ERR_INVALID, "autodiff: a value named '%s' exists already", name);
    AICC_TRY(aicc_graph_value_add(s->g, name, &loss->type, out));
    return aicc_graph_input_add(s->g, *out);
  }
  const aicc_type *t = &loss->type;
  int64_t dims[AICC_MAX_RANK];
  bool one = t->rank >= 0;
  for (int i = 0; one && i < t->rank; i++) {
    one = aicc_dim_is_known(t->dims[i]) && t->dims[i].size == 1;
    dims[i] = 1;
  }
  if (!one) {
    char b[128];
    return aicc_errorf(AICC_ERR_SHAPE,
                       "autodiff: loss '%s' has type %s; a loss must hold one element "
                       "(or differentiate with a seed gradient input)",
                       loss->name, aicc_type_describe(t, b, sizeof b));
  }
  aicc_tensor *ones;
  AICC_TRY(aicc_tensor_create(t->dtype, t->rank, dims, &ones));
  aicc_tensor_set_f64(ones, 0, 1.0);
  return aicc_graph_init_add(s->g, "", ones, out);
}

aicc_status aicc_autodiff_check_result(const aicc_node *n, const char *rule, const char *role,
                                       int k, const aicc_value *v, const aicc_value *r) {
  const aicc_type *a = &v->type, *b = &r->type;
  bool ok = b->kind == AICC_KIND_TENSOR && b->dtype == a->dtype;
  if (ok && aicc_type_is_static(a) && aicc_type_is_static(b)) ok = aicc_type_equal(a, b);
  if (ok) return NULL;
  char d[512], t1[128], t2[128];
  return aicc_errorf(AICC_ERR_INTERNAL, "%s: %s rule gives %s for %s %d of type %s",
                     aicc_node_describe(n, d, sizeof d), rule, aicc_type_describe(b, t2, sizeof t2),
                     role, k, aicc_type_describe(a, t1, sizeof t1));
}

static aicc_status check_dx(const aicc_node *n, int k, const aicc_value *x, const aicc_value *dx) {
  return aicc_autodiff_check_result(n, "gradient", "input", k, x, dx);
}

static aicc_status backward_node(vjp *s, aicc_node *n) {
  aicc_value *dy[16] = {0}, *dx[32] = {0};
  bool need[32] = {0}, any_dy = false, any_need = false;
  if (n->n_outputs > 16 || n->n_inputs > 32) {
    char d[512];
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "%s: too many operands to differentiate",
                       aicc_node_describe(n, d, sizeof d));
  }
  for (int k = 0; k < n->n_outputs; k++)
    if (n->outputs[k] && n->outputs[k]->id < s->nv && (dy[k] = s->grad[n->outputs[k]->id]))
      any_dy = true;
  for (int k = 0; k < n->n_inputs; k++) {
    const aicc_value *v = n->inputs[k];
    need[k] = v && v->id < s->nv && s->dep[v->id] && s->reach[v->id] && is_float(v);
    any_need |= need[k];
  }
  if (!any_dy || !any_need) return NULL;
  aicc_grad_fn rule = aicc_grad_rule_find(n->op, n->domain, n->op_type);
  if (!rule) {
    char d[512];
    return aicc_errorf(AICC_ERR_UNSUPPORTED,
                       "%s: no gradient rule for %s (the node is on the path to loss '%s')",
                       aicc_node_describe(n, d, sizeof d), n->op_type, s->spec->loss);
  }
  aicc_grad_ctx c = {.graph = s->g, .node = n, .dy = dy, .dx = dx, .need = need};
  AICC_TRY(rule(&c));
  for (int k = 0; k < n->n_inputs; k++) {
    if (!need[k]) continue;
    if (!dx[k]) { /* never a silent zero: the rule does not cover this input */
      char d[512];
      return aicc_errorf(AICC_ERR_UNSUPPORTED,
                         "%s: the gradient rule of %s gives no gradient for input %d ('%s')",
                         aicc_node_describe(n, d, sizeof d), n->op_type, k, n->inputs[k]->name);
    }
    aicc_value *x = n->inputs[k];
    AICC_TRY(check_dx(n, k, x, dx[k]));
    aicc_value **acc = &s->grad[x->id];
    if (*acc) AICC_TRY(aicc_grad_binary(&c, "Add", *acc, dx[k], acc));
    else *acc = dx[k];
  }
  return NULL;
}

/* grad_<name> = Identity(gradient), or zeros where the loss does not
 * depend on the value. */
static aicc_status add_outputs(vjp *s) {
  for (int i = 0; i < s->n_wrt; i++) {
    aicc_value *v = s->wrt[i], *gv = s->grad[v->id], *out;
    char name[512];
    snprintf(name, sizeof name, "grad_%s", v->name);
    if (aicc_graph_value_find(s->g, name))
      return aicc_errorf(AICC_ERR_INVALID, "autodiff: a value named '%s' exists already", name);
    /* A context for the builders; the "node" only names messages. */
    aicc_node fake = {.name = "autodiff", .op_type = "Identity", .domain = "", .graph = s->g};
    aicc_grad_ctx c = {.graph = s->g, .node = &fake};
    if (!gv) {
      aicc_value *zero;
      AICC_TRY(aicc_grad_scalar(&c, v->type.dtype, 0.0, &zero));
      AICC_TRY(aicc_grad_expand_like(&c, zero, v, &gv));
    }
    AICC_TRY(aicc_graph_value_add(s->g, name, &gv->type, &out));
    aicc_node *n;
    AICC_TRY(aicc_graph_node_add(s->g, name, "Identity", "", &gv, 1, &out, 1, &n));
    AICC_TRY(aicc_graph_output_add(s->g, out));
  }
  return NULL;
}

static aicc_status run(vjp *s) {
  aicc_graph *g = s->g;
  AICC_TRY(aicc_graph_toposort(g));
  aicc_value *loss = s->spec->loss ? aicc_hashmap_get(&g->names, s->spec->loss) : NULL;
  if (!loss) return aicc_errorf(AICC_ERR_INVALID, "autodiff: no loss value '%s'",
                                s->spec->loss ? s->spec->loss : "(null)");
  if (!is_float(loss))
    return aicc_errorf(AICC_ERR_INVALID, "autodiff: loss '%s' is not a float tensor", loss->name);
  AICC_TRY(resolve_wrt(s));
  s->nv = s->m->n_values;
  s->dep = calloc(s->nv, sizeof *s->dep);
  s->reach = calloc(s->nv, sizeof *s->reach);
  s->grad = calloc(s->nv, sizeof *s->grad);
  if (!s->dep || !s->reach || !s->grad) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  mark(s, loss);
  AICC_TRY(seed(s, loss, &s->grad[loss->id]));
  /* Rules append to g->nodes; walk only the forward nodes. */
  size_t nn = g->nodes.len;
  for (size_t i = nn; i-- > 0;) {
    aicc_node *n = g->nodes.data[i];
    if (!n->dead) AICC_TRY(backward_node(s, n));
  }
  return add_outputs(s);
}

aicc_status aicc_autodiff_vjp(aicc_model *m, const aicc_vjp_spec *spec) {
  if (!m || !m->graph || !spec) return aicc_errorf(AICC_ERR_INVALID, "autodiff: no model");
  vjp s = {.m = m, .g = m->graph, .spec = spec};
  aicc_status st = run(&s);
  free(s.dep);
  free(s.reach);
  free(s.grad);
  free(s.wrt);
  return st;
}
