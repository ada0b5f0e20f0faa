/* Forward-mode differentiation (JVP) of a model's main graph: seeds a
 * tangent input per wrt value, walks the nodes in topological order calling
 * each op's forward rule (src/ops/jvp_*.c) where a tangent flows in and one
 * is wanted out, and exposes `tan_<name>` outputs. Builds nodes only;
 * running them is the interpreter's or compiler's job. */
#include "autodiff/autodiff.h"
#include "ops/jvp_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct jvp {
  aicc_model *m;
  aicc_graph *g;
  const aicc_jvp_spec *spec;
  uint32_t nv;         /* value ids below this existed before the transform */
  bool *dep, *reach;   /* by value id: depends on a wrt value / reaches a wanted value */
  aicc_value **tan;    /* by value id: tangent, NULL: zero */
  aicc_value **wrt, **of, **seed;
  int n_wrt, n_of;
} jvp;

static bool is_float(const aicc_value *v) {
  return v && v->type.kind == AICC_KIND_TENSOR && aicc_dtype_is_float(v->type.dtype);
}

static aicc_status find_float(jvp *s, const char *name, const char *what, aicc_value **out) {
  aicc_value *v = name ? aicc_hashmap_get(&s->g->names, name) : NULL;
  if (!v) return aicc_errorf(AICC_ERR_INVALID, "autodiff: no value '%s' %s", name ? name : "(null)", what);
  if (!is_float(v)) return aicc_errorf(AICC_ERR_INVALID, "autodiff: '%s' is not a float tensor", v->name);
  *out = v;
  return NULL;
}

static aicc_status resolve(jvp *s) {
  const aicc_jvp_spec *sp = s->spec;
  aicc_graph *g = s->g;
  size_t cw = sp->n_wrt ? (size_t)sp->n_wrt : g->inputs.len;
  size_t co = sp->n_of ? (size_t)sp->n_of : g->outputs.len;
  s->wrt = calloc(cw + 1, sizeof *s->wrt);
  s->seed = calloc(cw + 1, sizeof *s->seed);
  s->of = calloc(co + 1, sizeof *s->of);
  if (!s->wrt || !s->seed || !s->of) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  if (!sp->n_wrt) {
    for (size_t i = 0; i < g->inputs.len; i++)
      if (is_float(g->inputs.data[i]) && !g->inputs.data[i]->init) s->wrt[s->n_wrt++] = g->inputs.data[i];
  }
  for (int i = 0; i < sp->n_wrt; i++) {
    aicc_value *v;
    AICC_TRY(find_float(s, sp->wrt[i], "to take a tangent of", &v));
    if (v->producer)
      return aicc_errorf(AICC_ERR_INVALID,
                         "autodiff: '%s' is computed by a node; tangents start at graph inputs or initializers",
                         v->name);
    for (int k = 0; k < s->n_wrt; k++)
      if (s->wrt[k] == v) return aicc_errorf(AICC_ERR_INVALID, "autodiff: '%s' is named twice", v->name);
    s->wrt[s->n_wrt++] = v;
  }
  if (!sp->n_of) {
    for (size_t i = 0; i < g->outputs.len; i++)
      if (is_float(g->outputs.data[i])) s->of[s->n_of++] = g->outputs.data[i];
  }
  for (int i = 0; i < sp->n_of; i++) AICC_TRY(find_float(s, sp->of[i], "to differentiate", &s->of[s->n_of++]));
  return NULL;
}

/* dep: forward from the wrt values; reach: backward from the wanted ones.
 * Only nodes with an input that depends and an output that reaches need a
 * rule, so an op without one elsewhere in the graph is no error. */
static void mark(jvp *s) {
  const aicc_node_vec *ns = &s->g->nodes;
  for (int i = 0; i < s->n_wrt; i++) s->dep[s->wrt[i]->id] = true;
  for (size_t i = 0; i < ns->len; i++) {
    const aicc_node *n = ns->data[i];
    bool any = false;
    for (int k = 0; k < n->n_inputs && !any; k++) any = n->inputs[k] && s->dep[n->inputs[k]->id];
    if (!n->dead && any)
      for (int k = 0; k < n->n_outputs; k++)
        if (is_float(n->outputs[k])) s->dep[n->outputs[k]->id] = true;
  }
  for (int i = 0; i < s->n_of; i++) s->reach[s->of[i]->id] = true;
  for (size_t i = ns->len; i-- > 0;) {
    const aicc_node *n = ns->data[i];
    bool any = false;
    for (int k = 0; k < n->n_outputs && !any; k++) any = n->outputs[k] && s->reach[n->outputs[k]->id];
    if (!n->dead && any)
      for (int k = 0; k < n->n_inputs; k++)
        if (n->inputs[k]) s->reach[n->inputs[k]->id] = true;
  }
}

static aicc_status check_ty(const aicc_node *n, int k, const aicc_value *y, const aicc_value *ty) {
  return aicc_autodiff_check_result(n, "forward", "output", k, y, ty);
}

static aicc_status forward_node(jvp *s, aicc_node *n) {
  aicc_value *tx[32] = {0}, *ty[16] = {0};
  bool want[16] = {0}, any_tx = false, any_want = false;
  if (n->n_outputs > 16 || n->n_inputs > 32) {
    char d[512];
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "%s: too many operands to differentiate",
                       aicc_node_describe(n, d, sizeof d));
  }
  for (int k = 0; k < n->n_inputs; k++) {
    const aicc_value *v = n->inputs[k];
    if (v && v->id < s->nv && is_float(v) && (tx[k] = s->tan[v->id])) any_tx = true;
  }
  for (int k = 0; k < n->n_outputs; k++) {
    const aicc_value *v = n->outputs[k];
    want[k] = v && v->id < s->nv && s->dep[v->id] && s->reach[v->id] && is_float(v);
    any_want |= want[k];
  }
  if (!any_tx || !any_want) return NULL;
  aicc_jvp_fn rule = aicc_jvp_rule_find(n->domain, n->op_type);
  if (!rule) {
    char d[512];
    return aicc_errorf(AICC_ERR_UNSUPPORTED,
                       "%s: no forward-mode (JVP) rule for %s (the node is on a path from a tangent input "
                       "to a wanted tangent)",
                       aicc_node_describe(n, d, sizeof d), n->op_type);
  }
  aicc_jvp_ctx c = {.b = {.graph = s->g, .node = n}, .tx = tx, .ty = ty, .want = want};
  AICC_TRY(rule(&c));
  for (int k = 0; k < n->n_outputs; k++) {
    if (!want[k]) continue;
    if (!ty[k]) { /* never a silent zero: the rule does not cover this output */
      char d[512];
      return aicc_errorf(AICC_ERR_UNSUPPORTED, "%s: the forward rule of %s gives no tangent for output %d ('%s')",
                         aicc_node_describe(n, d, sizeof d), n->op_type, k, n->outputs[k]->name);
    }
    AICC_TRY(check_ty(n, k, n->outputs[k], ty[k]));
    s->tan[n->outputs[k]->id] = ty[k];
  }
  return NULL;
}

static aicc_status check_new_name(const jvp *s, const char *name) {
  if (aicc_graph_value_find(s->g, name))
    return aicc_errorf(AICC_ERR_INVALID, "autodiff: a value named '%s' exists already", name);
  return NULL;
}

/* One value tan_<wrt> per wrt value; made graph inputs only once the walk
 * succeeded. */
static aicc_status make_seeds(jvp *s) {
  for (int i = 0; i < s->n_wrt; i++) {
    char name[512];
    snprintf(name, sizeof name, "tan_%s", s->wrt[i]->name);
    AICC_TRY(check_new_name(s, name));
    AICC_TRY(aicc_graph_value_add(s->g, name, &s->wrt[i]->type, &s->seed[i]));
    s->tan[s->wrt[i]->id] = s->seed[i];
  }
  return NULL;
}

/* tan_<name> = Identity(tangent), or zeros where it depends on no wrt value. */
static aicc_status add_outputs(jvp *s) {
  aicc_value **outs = calloc((size_t)s->n_of + 1, sizeof *outs);
  if (!outs) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  aicc_status st = NULL;
  for (int i = 0; i < s->n_of && !st; i++) {
    aicc_value *v = s->of[i], *tv = s->tan[v->id];
    char name[512];
    snprintf(name, sizeof name, "tan_%s", v->name);
    if ((st = check_new_name(s, name))) break;
    for (int k = 0; k < i && !st; k++)
      if (s->of[k] == v) st = aicc_errorf(AICC_ERR_INVALID, "autodiff: '%s' is named twice", v->name);
    /* A context for the builders; the "node" only names messages. */
    aicc_node fake = {.name = "autodiff", .op_type = "Identity", .domain = "", .graph = s->g};
    aicc_grad_ctx c = {.graph = s->g, .node = &fake};
    if (!st && !tv) {
      aicc_value *zero;
      if (!(st = aicc_grad_scalar(&c, v->type.dtype, 0.0, &zero)))
        st = aicc_grad_expand_like(&c, zero, v, &tv);
    }
    aicc_node *n;
    if (!st) st = aicc_graph_value_add(s->g, name, &tv->type, &outs[i]);
    if (!st) st = aicc_graph_node_add(s->g, name, "Identity", "", &tv, 1, &outs[i], 1, &n);
  }
  for (int i = 0; i < s->n_wrt && !st; i++) st = aicc_graph_input_add(s->g, s->seed[i]);
  for (int i = 0; i < s->n_of && !st; i++) st = aicc_graph_output_add(s->g, outs[i]);
  free(outs);
  return st;
}

static aicc_status run(jvp *s) {
  aicc_graph *g = s->g;
  AICC_TRY(aicc_graph_toposort(g));
  AICC_TRY(resolve(s));
  s->nv = s->m->n_values;
  s->dep = calloc(s->nv, sizeof *s->dep);
  s->reach = calloc(s->nv, sizeof *s->reach);
  s->tan = calloc(s->nv, sizeof *s->tan);
  if (!s->dep || !s->reach || !s->tan) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  mark(s);
  AICC_TRY(make_seeds(s));
  /* Rules append to g->nodes; walk only the forward nodes. */
  size_t nn = g->nodes.len;
  for (size_t i = 0; i < nn; i++) {
    aicc_node *n = g->nodes.data[i];
    if (!n->dead) AICC_TRY(forward_node(s, n));
  }
  return add_outputs(s);
}

aicc_status aicc_autodiff_jvp(aicc_model *m, const aicc_jvp_spec *spec) {
  if (!m || !m->graph || !spec) return aicc_errorf(AICC_ERR_INVALID, "autodiff: no model");
  jvp s = {.m = m, .g = m->graph, .spec = spec};
  aicc_status st = run(&s);
  free(s.dep);
  free(s.reach);
  free(s.tan);
  free(s.wrt);
  free(s.of);
  free(s.seed);
  return st;
}
