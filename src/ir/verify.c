/* The verifier: structural checks of a model against SSA rules and the op
 * registry (arity, attribute schema, inferred types). It reads only; every
 * error names the graph or node and the reason. Runs after each pass in
 * debug builds and in tests. */
#include "ir/text.h"

#include "ops/registry.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per-value state, by value id. */
enum { DEF = 1, AS_INPUT = 2, AS_INIT = 4 };

typedef struct vstate {
  const aicc_model *m;
  uint8_t *st;
  uint32_t n;
  aicc_ir_consts consts;
} vstate;

static aicc_status node_err(const aicc_node *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static aicc_status node_err(const aicc_node *n, const char *fmt, ...) {
  char d[512];
  va_list ap;
  va_start(ap, fmt);
  aicc_status s = aicc_verrorf(AICC_ERR_INVALID, fmt, ap);
  va_end(ap);
  return aicc_status_wrap(s, "%s", aicc_node_describe(n, d, sizeof d));
}

static aicc_status graph_err(const vstate *vs, const aicc_graph *g, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static aicc_status graph_err(const vstate *vs, const aicc_graph *g, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  aicc_status s = aicc_verrorf(AICC_ERR_INVALID, fmt, ap);
  va_end(ap);
  const char *path = vs->m->path ? vs->m->path : "";
  return aicc_status_wrap(s, "%s%sgraph '%s'", path, *path ? ": " : "", g->name ? g->name : "");
}

static const char *vname(const aicc_value *v) { return v && v->name ? v->name : "?"; }

static bool id_ok(const vstate *vs, const aicc_value *v) { return v->id < vs->n; }

static bool encloses(const aicc_graph *outer, const aicc_graph *g) {
  for (; g; g = g->parent)
    if (g == outer) return true;
  return false;
}

static aicc_status verify_graph(vstate *vs, const aicc_graph *g);

static aicc_status check_arity(const aicc_node *n) {
  const aicc_op *op = n->op;
  if (n->n_inputs < op->min_in || (op->max_in != AICC_VARIADIC && n->n_inputs > op->max_in)) {
    if (op->max_in == AICC_VARIADIC)
      return node_err(n, "has %d inputs, expected at least %d", n->n_inputs, op->min_in);
    return node_err(n, "has %d inputs, expected %d to %d", n->n_inputs, op->min_in, op->max_in);
  }
  if (n->n_outputs < op->min_out ||
      (op->max_out != AICC_VARIADIC && n->n_outputs > op->max_out)) {
    if (op->max_out == AICC_VARIADIC)
      return node_err(n, "has %d outputs, expected at least %d", n->n_outputs, op->min_out);
    return node_err(n, "has %d outputs, expected %d to %d", n->n_outputs, op->min_out,
                    op->max_out);
  }
  return NULL;
}

static aicc_status check_attr_value(const aicc_node *n, const aicc_attr *a) {
  switch (a->kind) {
  case AICC_ATTR_TENSOR:
    if (!a->t) return node_err(n, "attribute '%s' has no tensor", a->name);
    return NULL;
  case AICC_ATTR_GRAPH:
    if (!a->g) return node_err(n, "attribute '%s' has no graph", a->name);
    if (a->g->parent != n->graph)
      return node_err(n, "subgraph '%s' does not have this node's graph as its parent", a->name);
    return NULL;
  case AICC_ATTR_FLOATS: case AICC_ATTR_INTS: case AICC_ATTR_STRINGS:
  case AICC_ATTR_TENSORS: case AICC_ATTR_GRAPHS: case AICC_ATTR_TYPE_PROTOS:
    if (a->n < 0) return node_err(n, "attribute '%s' has a negative length", a->name);
    if (a->n > 0 && !a->is) return node_err(n, "attribute '%s' has no elements", a->name);
    for (int64_t i = 0; i < a->n; i++) {
      if (a->kind == AICC_ATTR_TENSORS && !a->ts[i])
        return node_err(n, "attribute '%s' element %lld has no tensor", a->name, (long long)i);
      if (a->kind == AICC_ATTR_GRAPHS && (!a->gs[i] || a->gs[i]->parent != n->graph))
        return node_err(n, "attribute '%s' element %lld is not a subgraph of this node's graph",
                        a->name, (long long)i);
    }
    return NULL;
  default:
    return NULL;
  }
}

/* Attributes: unique, known to the row's schema, of the schema's kind, and
 * the required ones present. */
static aicc_status check_attrs(const aicc_node *n) {
  const aicc_attr_spec *spec = n->op->attrs;
  for (int i = 0; i < n->n_attrs; i++) {
    const aicc_attr *a = &n->attrs[i];
    if (!a->name) return node_err(n, "attribute %d has no name", i);
    for (int k = 0; k < i; k++)
      if (strcmp(n->attrs[k].name, a->name) == 0)
        return node_err(n, "attribute '%s' is given twice", a->name);
    const aicc_attr_spec *row = NULL;
    for (const aicc_attr_spec *r = spec; r && r->name; r++)
      if (strcmp(r->name, a->name) == 0) row = r;
    if (!row) return node_err(n, "unknown attribute '%s'", a->name);
    if (row->kind != a->kind)
      return node_err(n, "attribute '%s' is %s, expected %s", a->name,
                      aicc_attr_kind_name(a->kind), aicc_attr_kind_name(row->kind));
    AICC_TRY(check_attr_value(n, a));
  }
  for (const aicc_attr_spec *r = spec; r && r->name; r++)
    if (r->required && !aicc_node_attr(n, r->name))
      return node_err(n, "missing required attribute '%s'", r->name);
  return NULL;
}

static aicc_status check_input(vstate *vs, const aicc_graph *g, const aicc_node *n, int i) {
  const aicc_value *v = n->inputs[i];
  if (!v) return NULL;
  if (!id_ok(vs, v)) return node_err(n, "input %d (%%%s) has a bad value id", i, vname(v));
  if (vs->st[v->id] & DEF) return NULL;
  if (!encloses(v->graph, g))
    return node_err(n, "input %d (%%%s) belongs to a graph that does not enclose this node", i,
                    vname(v));
  if (v->producer && v->producer->graph == g)
    return node_err(n, "input %d (%%%s) is used before it is defined (nodes are not in topological order)",
                    i, vname(v));
  return node_err(n, "input %d (%%%s) is not defined", i, vname(v));
}

static aicc_status check_types(vstate *vs, const aicc_node *n) {
  if (!n->op->infer || n->n_outputs == 0) return NULL;
  aicc_type *out = calloc((size_t)n->n_outputs, sizeof *out);
  if (!out) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  aicc_status s = aicc_ir_node_infer(n, &vs->consts, out);
  for (int i = 0; !s && i < n->n_outputs; i++) {
    const aicc_value *v = n->outputs[i];
    aicc_type merged;
    const char *why;
    if (!aicc_ir_type_merge(&v->type, &out[i], &merged, &why)) {
      char b1[256], b2[256];
      s = node_err(n, "output %d (%%%s) is declared %s but inference gives %s (%s)", i,
                   vname(v), aicc_text_type_print(&v->type, b1, sizeof b1),
                   aicc_text_type_print(&out[i], b2, sizeof b2), why);
    }
  }
  free(out);
  return s;
}

static aicc_status verify_node(vstate *vs, const aicc_graph *g, const aicc_node *n,
                               aicc_value_vec *defined) {
  if (n->graph != g) return node_err(n, "is listed in a graph it does not belong to");
  if (!n->op) return node_err(n, "operator is not resolved in the registry");
  if (n->n_inputs < 0 || n->n_outputs < 0 || n->n_attrs < 0)
    return node_err(n, "has a negative input, output or attribute count");
  AICC_TRY(check_arity(n));
  for (int i = 0; i < n->n_inputs; i++) AICC_TRY(check_input(vs, g, n, i));
  AICC_TRY(check_attrs(n));
  /* Subgraphs see what is defined before this node, not its outputs. */
  for (int a = 0; a < n->n_attrs; a++) {
    const aicc_attr *at = &n->attrs[a];
    if (at->kind == AICC_ATTR_GRAPH) AICC_TRY(verify_graph(vs, at->g));
    if (at->kind == AICC_ATTR_GRAPHS)
      for (int64_t k = 0; k < at->n; k++) AICC_TRY(verify_graph(vs, at->gs[k]));
  }
  for (int i = 0; i < n->n_outputs; i++) {
    const aicc_value *v = n->outputs[i];
    if (!v) return node_err(n, "output %d is missing", i);
    if (!id_ok(vs, v)) return node_err(n, "output %d (%%%s) has a bad value id", i, vname(v));
    if (v->graph != g)
      return node_err(n, "output %d (%%%s) belongs to another graph", i, vname(v));
    if (v->producer != n || v->producer_index != i)
      return node_err(n, "output %d (%%%s) does not record this node as its producer", i,
                      vname(v));
    if (v->init || (vs->st[v->id] & DEF))
      return node_err(n, "output %d (%%%s) is defined more than once", i, vname(v));
    vs->st[v->id] |= DEF;
    if (!aicc_vec_push(defined, (aicc_value *)v)) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  }
  return check_types(vs, n);
}

static aicc_status verify_graph_body(vstate *vs, const aicc_graph *g, aicc_value_vec *defined) {
  for (size_t i = 0; i < g->inits.len; i++) {
    const aicc_value *v = g->inits.data[i];
    if (!v || !v->init) return graph_err(vs, g, "initializer %zu has no data", i);
    if (!id_ok(vs, v) || v->graph != g || v->producer)
      return graph_err(vs, g, "initializer %%%s is not a plain value of this graph", vname(v));
    if (vs->st[v->id] & AS_INIT)
      return graph_err(vs, g, "initializer %%%s is listed twice", vname(v));
    vs->st[v->id] |= DEF | AS_INIT;
    if (!aicc_vec_push(defined, (aicc_value *)v)) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
    aicc_type tt = aicc_type_of(v->init), merged;
    const char *why;
    if (!aicc_ir_type_merge(&v->type, &tt, &merged, &why)) {
      char b1[256], b2[256];
      return graph_err(vs, g, "initializer %%%s is declared %s but holds %s (%s)", vname(v),
                       aicc_text_type_print(&v->type, b1, sizeof b1),
                       aicc_text_type_print(&tt, b2, sizeof b2), why);
    }
  }
  for (size_t i = 0; i < g->inputs.len; i++) {
    const aicc_value *v = g->inputs.data[i];
    if (!v) return graph_err(vs, g, "input %zu is missing", i);
    if (!id_ok(vs, v) || v->graph != g || v->producer)
      return graph_err(vs, g, "input %%%s is not a plain value of this graph", vname(v));
    /* An input may also be an initializer (its default), but only once. */
    if ((vs->st[v->id] & AS_INPUT) || ((vs->st[v->id] & DEF) && !(vs->st[v->id] & AS_INIT)))
      return graph_err(vs, g, "input %%%s is defined more than once", vname(v));
    if (!(vs->st[v->id] & DEF) && !aicc_vec_push(defined, (aicc_value *)v))
      return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
    vs->st[v->id] |= DEF | AS_INPUT;
  }
  for (size_t i = 0; i < g->nodes.len; i++) {
    const aicc_node *n = g->nodes.data[i];
    if (!n) return graph_err(vs, g, "node %zu is missing", i);
    AICC_TRY(verify_node(vs, g, n, defined));
  }
  for (size_t i = 0; i < g->outputs.len; i++) {
    const aicc_value *v = g->outputs.data[i];
    if (!v) return graph_err(vs, g, "output %zu is missing", i);
    if (!id_ok(vs, v) || !(vs->st[v->id] & DEF))
      return graph_err(vs, g, "output %%%s is not defined", vname(v));
  }
  return NULL;
}

/* Verifies g; the values it defines are visible only while it is checked. */
static aicc_status verify_graph(vstate *vs, const aicc_graph *g) {
  aicc_value_vec defined = {0};
  aicc_status s = verify_graph_body(vs, g, &defined);
  for (size_t i = 0; i < defined.len; i++) vs->st[defined.data[i]->id] = 0;
  aicc_vec_free(&defined);
  return s;
}

aicc_status aicc_model_verify(const aicc_model *m) {
  if (!m || !m->graph) return aicc_errorf(AICC_ERR_INVALID, "model has no graph");
  if (m->graph->parent)
    return aicc_errorf(AICC_ERR_INVALID, "%s: the main graph has a parent", m->path ? m->path : "");
  vstate vs = {.m = m, .n = m->n_values};
  vs.st = calloc(m->n_values ? m->n_values : 1, 1);
  if (!vs.st) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  aicc_ir_consts_init(&vs.consts, m);
  aicc_status s = verify_graph(&vs, m->graph);
  aicc_ir_consts_fini(&vs.consts);
  free(vs.st);
  return s;
}
