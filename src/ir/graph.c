/* Graph IR construction, lookup, topological order and type helpers.
 * Op-specific knowledge stays in src/ops/; here only the registry lookup. */
#include "ir/graph.h"

#include "ir/text.h"
#include "ops/registry.h"

#include <stdio.h>
#include <string.h>

#define NOMEM() aicc_errorf(AICC_ERR_NOMEM, "out of memory")

/* --- types --- */

aicc_type aicc_type_tensor(aicc_dtype dt, int rank, const int64_t *dims) {
  aicc_type t;
  memset(&t, 0, sizeof t);
  t.kind = AICC_KIND_TENSOR;
  t.dtype = dt;
  t.rank = rank;
  for (int i = 0; i < rank; i++) t.dims[i] = aicc_dim_known(dims[i]);
  return t;
}

aicc_type aicc_type_of(const aicc_tensor *x) {
  aicc_type t = aicc_type_tensor(x->dtype, x->rank, x->dims);
  t.kind = x->kind;
  if (x->kind == AICC_KIND_OPTIONAL) {
    t.elem_kind = x->elem_kind;
    if (x->n_elems) {
      t.dtype = x->elems[0]->dtype;
      t.rank = x->elem_kind == AICC_KIND_TENSOR ? x->elems[0]->rank : -1;
      for (int i = 0; i < t.rank; i++) t.dims[i] = aicc_dim_known(x->elems[0]->dims[i]);
    } else {
      t.rank = -1;
    }
  } else if (x->kind == AICC_KIND_SEQUENCE) {
    t.rank = -1; /* elements may differ in shape */
  }
  return t;
}

bool aicc_type_is_static(const aicc_type *t) {
  if (t->kind != AICC_KIND_TENSOR || t->dtype == AICC_DTYPE_UNDEFINED || t->rank < 0)
    return false;
  for (int i = 0; i < t->rank; i++)
    if (!aicc_dim_is_known(t->dims[i])) return false;
  return true;
}

bool aicc_dim_equal(aicc_dim a, aicc_dim b) {
  if (a.sym || b.sym) return a.sym && b.sym && strcmp(a.sym, b.sym) == 0;
  return a.size == b.size;
}

void aicc_type_join_shape(aicc_type *r, const aicc_type *a, const aicc_type *b) {
  if (a->rank != b->rank || a->rank < 0) {
    r->rank = -1;
    return;
  }
  r->rank = a->rank;
  for (int d = 0; d < a->rank; d++)
    r->dims[d] = aicc_dim_equal(a->dims[d], b->dims[d]) ? a->dims[d] : aicc_dim_unknown();
}

bool aicc_type_equal(const aicc_type *a, const aicc_type *b) {
  if (a->kind != b->kind || a->dtype != b->dtype || a->rank != b->rank) return false;
  if (a->kind == AICC_KIND_OPTIONAL && a->elem_kind != b->elem_kind) return false;
  for (int i = 0; i < a->rank; i++)
    if (!aicc_dim_equal(a->dims[i], b->dims[i])) return false;
  return true;
}

const char *aicc_type_describe(const aicc_type *t, char *buf, size_t n) {
  /* One spelling for types in messages and in the text form. */
  return aicc_text_type_print(t, buf, n);
}

const char *aicc_attr_kind_name(aicc_attr_kind k) {
  static const char *const names[] = {
      "UNDEFINED", "FLOAT", "INT", "STRING", "TENSOR", "GRAPH", "FLOATS", "INTS",
      "STRINGS", "TENSORS", "GRAPHS", "SPARSE_TENSOR", "SPARSE_TENSORS",
      "TYPE_PROTO", "TYPE_PROTOS"};
  return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

/* --- model --- */

aicc_status aicc_model_create(const char *path, aicc_model **out) {
  *out = NULL;
  aicc_model *m = calloc(1, sizeof *m);
  if (!m) return NOMEM();
  aicc_arena_init(&m->arena);
  m->path = aicc_arena_strdup(&m->arena, path ? path : "");
  m->producer_name = m->producer_version = m->domain = m->doc = "";
  m->ir_version = 8;
  if (!m->path) {
    aicc_model_destroy(m);
    return NOMEM();
  }
  aicc_status s = aicc_graph_create(m, NULL, "main", &m->graph);
  if (s) {
    aicc_model_destroy(m);
    return s;
  }
  *out = m;
  return NULL;
}

void aicc_model_destroy(aicc_model *m) {
  if (!m) return;
  for (size_t i = 0; i < m->graphs.len; i++) {
    aicc_graph *g = m->graphs.data[i];
    aicc_vec_free(&g->nodes);
    aicc_vec_free(&g->inputs);
    aicc_vec_free(&g->outputs);
    aicc_vec_free(&g->inits);
    aicc_hashmap_fini(&g->names);
  }
  for (size_t i = 0; i < m->tensors.len; i++) aicc_tensor_release(m->tensors.data[i]);
  aicc_vec_free(&m->graphs);
  aicc_vec_free(&m->tensors);
  aicc_arena_fini(&m->arena);
  free(m);
}

static bool is_default_domain(const char *d) {
  return !d || !*d || strcmp(d, "ai.onnx") == 0;
}

int aicc_model_opset(const aicc_model *m, const char *domain) {
  for (int i = 0; i < m->n_opsets; i++) {
    const char *d = m->opsets[i].domain;
    if ((is_default_domain(d) && is_default_domain(domain)) ||
        (!is_default_domain(d) && !is_default_domain(domain) && strcmp(d, domain) == 0))
      return (int)m->opsets[i].version;
  }
  return 0;
}

aicc_status aicc_model_opset_set(aicc_model *m, const char *domain, int64_t version) {
  if (is_default_domain(domain)) domain = "";
  for (int i = 0; i < m->n_opsets; i++)
    if (strcmp(m->opsets[i].domain, domain) == 0) {
      m->opsets[i].version = version;
      return NULL;
    }
  aicc_opset *o = AICC_ARENA_ARRAY(&m->arena, aicc_opset, m->n_opsets + 1);
  if (!o) return NOMEM();
  if (m->n_opsets) memcpy(o, m->opsets, sizeof *o * (size_t)m->n_opsets);
  o[m->n_opsets].domain = aicc_arena_strdup(&m->arena, domain);
  o[m->n_opsets].version = version;
  if (!o[m->n_opsets].domain) return NOMEM();
  m->opsets = o;
  m->n_opsets++;
  return NULL;
}

aicc_status aicc_model_own_tensor(aicc_model *m, aicc_tensor *t) {
  if (!aicc_vec_push(&m->tensors, t)) {
    aicc_tensor_release(t);
    return NOMEM();
  }
  return NULL;
}

/* --- graphs and values --- */

aicc_status aicc_graph_create(aicc_model *m, aicc_graph *parent, const char *name,
                              aicc_graph **out) {
  *out = NULL;
  aicc_graph *g = AICC_ARENA_NEW(&m->arena, aicc_graph);
  if (!g) return NOMEM();
  g->model = m;
  g->parent = parent;
  g->name = aicc_arena_strdup(&m->arena, name ? name : "");
  if (!g->name || !aicc_vec_push(&m->graphs, g)) return NOMEM();
  aicc_hashmap_init(&g->names);
  *out = g;
  return NULL;
}

aicc_status aicc_graph_value_add(aicc_graph *g, const char *name, const aicc_type *type,
                                 aicc_value **out) {
  *out = NULL;
  aicc_model *m = g->model;
  char fresh[32];
  if (!name || !*name) {
    /* A fresh name that no ONNX producer writes by accident: "%<id>" style. */
    do snprintf(fresh, sizeof fresh, "_v%u", m->n_values++);
    while (aicc_graph_value_find(g, fresh));
    name = fresh;
  } else if (aicc_hashmap_get(&g->names, name)) {
    return aicc_errorf(AICC_ERR_INVALID, "value '%s' is defined more than once", name);
  }
  aicc_value *v = AICC_ARENA_NEW(&m->arena, aicc_value);
  if (!v || !(v->name = aicc_arena_strdup(&m->arena, name))) return NOMEM();
  v->id = m->n_values++;
  v->graph = g;
  if (type) v->type = *type;
  else v->type.rank = -1;
  if (!aicc_hashmap_put(&g->names, v->name, v)) return NOMEM();
  *out = v;
  return NULL;
}

aicc_value *aicc_graph_value_find(const aicc_graph *g, const char *name) {
  for (; g; g = g->parent) {
    aicc_value *v = aicc_hashmap_get(&g->names, name);
    if (v) return v;
  }
  return NULL;
}

aicc_status aicc_graph_input_add(aicc_graph *g, aicc_value *v) {
  return aicc_vec_push(&g->inputs, v) ? NULL : NOMEM();
}

aicc_status aicc_graph_output_add(aicc_graph *g, aicc_value *v) {
  return aicc_vec_push(&g->outputs, v) ? NULL : NOMEM();
}

aicc_status aicc_graph_init_add(aicc_graph *g, const char *name, aicc_tensor *t,
                                aicc_value **out) {
  *out = NULL;
  aicc_status s = aicc_model_own_tensor(g->model, t);
  if (s) return s;
  aicc_type ty = aicc_type_of(t);
  aicc_value *v;
  AICC_TRY(aicc_graph_value_add(g, name, &ty, &v));
  v->init = t;
  if (!aicc_vec_push(&g->inits, v)) return NOMEM();
  *out = v;
  return NULL;
}

aicc_status aicc_graph_node_add(aicc_graph *g, const char *name, const char *op_type,
                                const char *domain, aicc_value *const *inputs, int n_in,
                                aicc_value *const *outputs, int n_out, aicc_node **out) {
  *out = NULL;
  aicc_model *m = g->model;
  if (is_default_domain(domain)) domain = "";
  int opset = aicc_model_opset(m, domain);
  const char *why = NULL;
  const aicc_op *op = aicc_op_find(domain, op_type, opset, &why);
  if (!op) {
    if (opset == 0)
      return aicc_errorf(AICC_ERR_UNSUPPORTED,
                         "node '%s' (%s): domain '%s' is not imported by the model",
                         name ? name : "", op_type, domain);
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "node '%s' (%s): %s (%s%sopset %d)",
                       name ? name : "", op_type, why, domain, *domain ? " " : "",
                       opset);
  }
  aicc_node *n = AICC_ARENA_NEW(&m->arena, aicc_node);
  if (!n) return NOMEM();
  n->id = m->n_nodes++;
  n->name = aicc_arena_strdup(&m->arena, name ? name : "");
  n->op_type = aicc_arena_strdup(&m->arena, op_type);
  n->domain = aicc_arena_strdup(&m->arena, domain);
  n->op = op;
  n->opset = opset;
  n->graph = g;
  n->n_inputs = n_in;
  n->n_outputs = n_out;
  n->inputs = AICC_ARENA_ARRAY(&m->arena, aicc_value *, n_in ? n_in : 1);
  n->outputs = AICC_ARENA_ARRAY(&m->arena, aicc_value *, n_out ? n_out : 1);
  if (!n->name || !n->op_type || !n->domain || !n->inputs || !n->outputs) return NOMEM();
  if (n_in) memcpy(n->inputs, inputs, sizeof *inputs * (size_t)n_in);
  for (int i = 0; i < n_out; i++) {
    aicc_value *v = outputs[i];
    if (v->producer || v->init || v->graph != g)
      return aicc_errorf(AICC_ERR_INVALID,
                         "node '%s' (%s): output '%s' is already defined", n->name,
                         op_type, v->name);
    v->producer = n;
    v->producer_index = i;
    n->outputs[i] = v;
  }
  if (!aicc_vec_push(&g->nodes, n)) return NOMEM();
  *out = n;
  return NULL;
}

aicc_status aicc_node_attrs_alloc(aicc_node *n, int count) {
  n->attrs = AICC_ARENA_ARRAY(&n->graph->model->arena, aicc_attr, count ? count : 1);
  if (!n->attrs) return NOMEM();
  n->n_attrs = count;
  return NULL;
}

/* --- topological order --- */

/* Kahn's algorithm over the nodes of g, keeping the given order among ready
 * nodes (so an already sorted graph is unchanged). Uses of values from
 * enclosing graphs or from subgraph bodies that capture outer values count
 * as dependencies of the node holding the subgraph. */
static void collect_captures(const aicc_graph *sub, const aicc_graph *g,
                             aicc_value_vec *deps) {
  for (size_t i = 0; i < sub->nodes.len; i++) {
    const aicc_node *n = sub->nodes.data[i];
    for (int k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] && n->inputs[k]->graph == g)
        if (!aicc_vec_push(deps, n->inputs[k])) return;
    for (int a = 0; a < n->n_attrs; a++) {
      if (n->attrs[a].kind == AICC_ATTR_GRAPH) collect_captures(n->attrs[a].g, g, deps);
      if (n->attrs[a].kind == AICC_ATTR_GRAPHS)
        for (int64_t j = 0; j < n->attrs[a].n; j++) collect_captures(n->attrs[a].gs[j], g, deps);
    }
  }
  for (size_t i = 0; i < sub->outputs.len; i++)
    if (sub->outputs.data[i]->graph == g) aicc_vec_push(deps, sub->outputs.data[i]);
}

static void node_deps(const aicc_node *n, aicc_value_vec *deps) {
  deps->len = 0;
  for (int k = 0; k < n->n_inputs; k++)
    if (n->inputs[k] && !aicc_vec_push(deps, n->inputs[k])) return;
  for (int a = 0; a < n->n_attrs; a++) {
    if (n->attrs[a].kind == AICC_ATTR_GRAPH) collect_captures(n->attrs[a].g, n->graph, deps);
    if (n->attrs[a].kind == AICC_ATTR_GRAPHS)
      for (int64_t j = 0; j < n->attrs[a].n; j++)
        collect_captures(n->attrs[a].gs[j], n->graph, deps);
  }
}

aicc_status aicc_graph_toposort(aicc_graph *g) {
  size_t n = g->nodes.len;
  aicc_model *m = g->model;
  /* index of each node in g, by node id */
  int32_t *pos = calloc(m->n_nodes ? m->n_nodes : 1, sizeof *pos);
  uint32_t *pending = calloc(n ? n : 1, sizeof *pending);
  aicc_node **order = malloc(sizeof *order * (n ? n : 1));
  aicc_value_vec deps = {0};
  AICC_VEC(uint32_t) *users = calloc(n ? n : 1, sizeof *users);
  aicc_status st = NULL;
  if (!pos || !pending || !order || !users) {
    st = NOMEM();
    goto done;
  }
  for (size_t i = 0; i < n; i++) pos[g->nodes.data[i]->id] = (int32_t)i + 1;
  for (size_t i = 0; i < n; i++) {
    node_deps(g->nodes.data[i], &deps);
    for (size_t k = 0; k < deps.len; k++) {
      aicc_node *p = deps.data[k]->producer;
      if (!p || p->graph != g) continue;
      uint32_t pi = (uint32_t)pos[p->id] - 1;
      if (!aicc_vec_push(&users[pi], (uint32_t)i)) {
        st = NOMEM();
        goto done;
      }
      pending[i]++;
    }
  }
  /* Ready nodes are taken in original order: scan with a cursor and a
   * min-index worklist kept as a simple sorted insertion. */
  size_t done_n = 0;
  uint32_t *ready = malloc(sizeof *ready * (n ? n : 1));
  size_t nready = 0;
  if (!ready) {
    st = NOMEM();
    goto done;
  }
  for (size_t i = n; i-- > 0;)
    if (!pending[i]) ready[nready++] = (uint32_t)i; /* stack, smallest on top */
  while (nready) {
    uint32_t i = ready[--nready];
    order[done_n++] = g->nodes.data[i];
    for (size_t k = 0; k < users[i].len; k++) {
      uint32_t u = users[i].data[k];
      if (--pending[u] == 0) {
        /* insert keeping the stack sorted descending so the smallest pops */
        size_t j = nready++;
        while (j > 0 && ready[j - 1] < u) {
          ready[j] = ready[j - 1];
          j--;
        }
        ready[j] = u;
      }
    }
  }
  free(ready);
  if (done_n != n) {
    for (size_t i = 0; i < n; i++)
      if (pending[i]) {
        const aicc_node *c = g->nodes.data[i];
        st = aicc_errorf(AICC_ERR_INVALID, "node '%s' (%s): the graph has a cycle through this node",
                         c->name, c->op_type);
        goto done;
      }
  }
  if (n) memcpy(g->nodes.data, order, sizeof *order * n);
  for (size_t i = 0; i < n && !st; i++) {
    aicc_node *nd = g->nodes.data[i];
    for (int a = 0; a < nd->n_attrs && !st; a++) {
      if (nd->attrs[a].kind == AICC_ATTR_GRAPH) st = aicc_graph_toposort(nd->attrs[a].g);
      if (nd->attrs[a].kind == AICC_ATTR_GRAPHS)
        for (int64_t j = 0; j < nd->attrs[a].n && !st; j++)
          st = aicc_graph_toposort(nd->attrs[a].gs[j]);
    }
  }
done:
  if (users)
    for (size_t i = 0; i < n; i++) aicc_vec_free(&users[i]);
  free(users);
  aicc_vec_free(&deps);
  free(pos);
  free(pending);
  free(order);
  return st;
}

/* --- attributes --- */

const aicc_attr *aicc_node_attr(const aicc_node *n, const char *name) {
  for (int i = 0; i < n->n_attrs; i++)
    if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
  return NULL;
}

int64_t aicc_node_attr_int(const aicc_node *n, const char *name, int64_t dflt) {
  const aicc_attr *a = aicc_node_attr(n, name);
  return a && a->kind == AICC_ATTR_INT ? a->i : dflt;
}

float aicc_node_attr_float(const aicc_node *n, const char *name, float dflt) {
  const aicc_attr *a = aicc_node_attr(n, name);
  return a && a->kind == AICC_ATTR_FLOAT ? a->f : dflt;
}

const int64_t *aicc_node_attr_ints(const aicc_node *n, const char *name, int64_t *len) {
  const aicc_attr *a = aicc_node_attr(n, name);
  if (!a || a->kind != AICC_ATTR_INTS) {
    *len = 0;
    return NULL;
  }
  *len = a->n;
  return a->is;
}

const float *aicc_node_attr_floats(const aicc_node *n, const char *name, int64_t *len) {
  const aicc_attr *a = aicc_node_attr(n, name);
  if (!a || a->kind != AICC_ATTR_FLOATS) {
    *len = 0;
    return NULL;
  }
  *len = a->n;
  return a->fs;
}

const char *aicc_node_attr_string(const aicc_node *n, const char *name, const char *dflt) {
  const aicc_attr *a = aicc_node_attr(n, name);
  return a && a->kind == AICC_ATTR_STRING ? a->s.s : dflt;
}

aicc_graph *aicc_node_attr_graph(const aicc_node *n, const char *name) {
  const aicc_attr *a = aicc_node_attr(n, name);
  return a && a->kind == AICC_ATTR_GRAPH ? a->g : NULL;
}

const aicc_tensor *aicc_node_attr_tensor(const aicc_node *n, const char *name) {
  const aicc_attr *a = aicc_node_attr(n, name);
  return a && a->kind == AICC_ATTR_TENSOR ? a->t : NULL;
}

const char *aicc_node_describe(const aicc_node *n, char *buf, size_t len) {
  const char *path = n->graph->model->path;
  if (*n->name || n->n_outputs == 0)
    snprintf(buf, len, "%s%snode '%s' (%s)", path, *path ? ": " : "", n->name, n->op_type);
  else /* unnamed (common in exported models): name it by its first output */
    snprintf(buf, len, "%s%snode producing '%s' (%s)", path, *path ? ": " : "",
             n->outputs[0]->name, n->op_type);
  return buf;
}

/* --- rewriting --- */

static int replace_in_graph(aicc_graph *g, const aicc_value *from, aicc_value *to) {
  int n = 0;
  for (size_t i = 0; i < g->nodes.len; i++) {
    aicc_node *nd = g->nodes.data[i];
    if (nd->dead) continue;
    for (int k = 0; k < nd->n_inputs; k++)
      if (nd->inputs[k] == from) {
        nd->inputs[k] = to;
        n++;
      }
    for (int a = 0; a < nd->n_attrs; a++) {
      if (nd->attrs[a].kind == AICC_ATTR_GRAPH) n += replace_in_graph(nd->attrs[a].g, from, to);
      if (nd->attrs[a].kind == AICC_ATTR_GRAPHS)
        for (int64_t j = 0; j < nd->attrs[a].n; j++) n += replace_in_graph(nd->attrs[a].gs[j], from, to);
    }
  }
  for (size_t o = 0; o < g->outputs.len; o++)
    if (g->outputs.data[o] == from) {
      g->outputs.data[o] = to;
      n++;
    }
  return n;
}

int aicc_graph_value_replace_uses(aicc_graph *g, const aicc_value *from, aicc_value *to) {
  return replace_in_graph(g, from, to);
}

int aicc_graph_value_use_count(const aicc_graph *g, const aicc_value *v) {
  int n = 0;
  for (size_t i = 0; i < g->nodes.len; i++) {
    const aicc_node *nd = g->nodes.data[i];
    if (nd->dead) continue;
    for (int k = 0; k < nd->n_inputs; k++) n += nd->inputs[k] == v;
    for (int a = 0; a < nd->n_attrs; a++) {
      if (nd->attrs[a].kind == AICC_ATTR_GRAPH) n += aicc_graph_value_use_count(nd->attrs[a].g, v);
      if (nd->attrs[a].kind == AICC_ATTR_GRAPHS)
        for (int64_t j = 0; j < nd->attrs[a].n; j++)
          n += aicc_graph_value_use_count(nd->attrs[a].gs[j], v);
    }
  }
  for (size_t o = 0; o < g->outputs.len; o++) n += g->outputs.data[o] == v;
  return n;
}

void aicc_graph_node_remove(aicc_graph *g, aicc_node *n) {
  (void)g;
  n->dead = true;
  for (int k = 0; k < n->n_outputs; k++)
    if (n->outputs[k]->producer == n) n->outputs[k]->producer = NULL;
}

void aicc_graph_compact(aicc_graph *g) {
  size_t w = 0;
  for (size_t i = 0; i < g->nodes.len; i++)
    if (!g->nodes.data[i]->dead) g->nodes.data[w++] = g->nodes.data[i];
  g->nodes.len = w;
  for (size_t i = 0; i < g->nodes.len; i++) {
    aicc_node *nd = g->nodes.data[i];
    for (int a = 0; a < nd->n_attrs; a++) {
      if (nd->attrs[a].kind == AICC_ATTR_GRAPH) aicc_graph_compact(nd->attrs[a].g);
      if (nd->attrs[a].kind == AICC_ATTR_GRAPHS)
        for (int64_t j = 0; j < nd->attrs[a].n; j++) aicc_graph_compact(nd->attrs[a].gs[j]);
    }
  }
  w = 0;
  for (size_t i = 0; i < g->inits.len; i++) {
    aicc_value *v = g->inits.data[i];
    bool is_input = false;
    for (size_t k = 0; k < g->inputs.len && !is_input; k++) is_input = g->inputs.data[k] == v;
    if (is_input || aicc_graph_value_use_count(g, v) > 0) g->inits.data[w++] = v;
    else aicc_hashmap_put(&g->names, v->name, NULL); /* the name is free again */
  }
  g->inits.len = w;
}

/* Returns the attribute slot named `name` on n, growing the array if new. */
static aicc_status attr_slot(aicc_node *n, const char *name, aicc_attr **out) {
  for (int i = 0; i < n->n_attrs; i++)
    if (strcmp(n->attrs[i].name, name) == 0) {
      *out = &n->attrs[i];
      memset(&(*out)->n, 0, sizeof **out - offsetof(aicc_attr, n));
      return NULL;
    }
  aicc_arena *ar = &n->graph->model->arena;
  aicc_attr *a = AICC_ARENA_ARRAY(ar, aicc_attr, n->n_attrs + 1);
  if (!a) return NOMEM();
  if (n->n_attrs) memcpy(a, n->attrs, sizeof *a * (size_t)n->n_attrs);
  a[n->n_attrs].name = aicc_arena_strdup(ar, name);
  if (!a[n->n_attrs].name) return NOMEM();
  n->attrs = a;
  *out = &a[n->n_attrs++];
  return NULL;
}

aicc_status aicc_node_attr_set_int(aicc_node *n, const char *name, int64_t v) {
  aicc_attr *a;
  AICC_TRY(attr_slot(n, name, &a));
  a->kind = AICC_ATTR_INT;
  a->i = v;
  return NULL;
}

aicc_status aicc_node_attr_set_float(aicc_node *n, const char *name, float v) {
  aicc_attr *a;
  AICC_TRY(attr_slot(n, name, &a));
  a->kind = AICC_ATTR_FLOAT;
  a->f = v;
  return NULL;
}

aicc_status aicc_node_attr_set_ints(aicc_node *n, const char *name, const int64_t *v,
                                    int64_t len) {
  aicc_attr *a;
  AICC_TRY(attr_slot(n, name, &a));
  a->kind = AICC_ATTR_INTS;
  a->n = len;
  a->is = aicc_arena_memdup(&n->graph->model->arena, v, sizeof *v * (size_t)len);
  return a->is ? NULL : NOMEM();
}

aicc_status aicc_node_attr_set_string(aicc_node *n, const char *name, const char *v) {
  aicc_attr *a;
  AICC_TRY(attr_slot(n, name, &a));
  a->kind = AICC_ATTR_STRING;
  a->s.len = strlen(v);
  a->s.s = aicc_arena_strdup(&n->graph->model->arena, v);
  return a->s.s ? NULL : NOMEM();
}

aicc_status aicc_node_attrs_copy(aicc_node *dst, const aicc_node *src) {
  AICC_TRY(aicc_node_attrs_alloc(dst, src->n_attrs));
  if (src->n_attrs) memcpy(dst->attrs, src->attrs, sizeof *src->attrs * (size_t)src->n_attrs);
  return NULL;
}

const aicc_tensor *aicc_value_const_init(const aicc_value *v) {
  if (!v || !v->init) return NULL;
  for (size_t i = 0; v->graph && i < v->graph->inputs.len; i++)
    if (v->graph->inputs.data[i] == v) return NULL;
  return v->init;
}
