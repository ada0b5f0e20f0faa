/* The reference interpreter: binds inputs (checking dtypes and binding
 * symbolic dims), runs nodes in order with the registry's kernels, checks each
 * kernel's outputs against the op's shape inference, and frees every value
 * after its last use so peak memory stays close to the live set. */
#include "interp/interp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOMEM() aicc_errorf(AICC_ERR_NOMEM, "out of memory")

/* Per-graph facts computed once per run: which values die after each node,
 * and which node outputs are used at all. */
typedef struct graph_plan {
  const aicc_graph *g;
  uint32_t **dying; /* per node: ids of values whose last use is this node */
  uint32_t *n_dying;
  bool **want; /* per node: per output, used by something */
} graph_plan;

struct aicc_interp {
  const aicc_model *m;
  aicc_tensor **slots; /* by value id */
  AICC_VEC(graph_plan *) plans;
};

static void plan_free(graph_plan *p) {
  if (!p) return;
  size_t n = p->g->nodes.len;
  for (size_t i = 0; i < n; i++) {
    if (p->dying) free(p->dying[i]);
    if (p->want) free(p->want[i]);
  }
  free(p->dying);
  free(p->n_dying);
  free(p->want);
  free(p);
}

/* Records, for every value used by the subtree of node index i (its inputs
 * and, through subgraphs, captured outer values), that it is used at i. */
static void mark_uses_graph(const aicc_graph *sub, int32_t i, int32_t *last);

static void mark_node_uses(const aicc_node *nd, int32_t i, int32_t *last) {
  for (int k = 0; k < nd->n_inputs; k++)
    if (nd->inputs[k]) last[nd->inputs[k]->id] = i;
  for (int a = 0; a < nd->n_attrs; a++) {
    if (nd->attrs[a].kind == AICC_ATTR_GRAPH) mark_uses_graph(nd->attrs[a].g, i, last);
    if (nd->attrs[a].kind == AICC_ATTR_GRAPHS)
      for (int64_t j = 0; j < nd->attrs[a].n; j++) mark_uses_graph(nd->attrs[a].gs[j], i, last);
  }
}

static void mark_uses_graph(const aicc_graph *sub, int32_t i, int32_t *last) {
  for (size_t n = 0; n < sub->nodes.len; n++) mark_node_uses(sub->nodes.data[n], i, last);
  for (size_t o = 0; o < sub->outputs.len; o++) last[sub->outputs.data[o]->id] = i;
}

static aicc_status plan_build(aicc_interp *ip, const aicc_graph *g, graph_plan **out) {
  for (size_t i = 0; i < ip->plans.len; i++)
    if (ip->plans.data[i]->g == g) {
      *out = ip->plans.data[i];
      return NULL;
    }
  size_t n = g->nodes.len;
  graph_plan *p = calloc(1, sizeof *p);
  int32_t *last = malloc(sizeof *last * (ip->m->n_values ? ip->m->n_values : 1));
  if (!p || !last) {
    free(p);
    free(last);
    return NOMEM();
  }
  p->g = g;
  p->dying = calloc(n ? n : 1, sizeof *p->dying);
  p->n_dying = calloc(n ? n : 1, sizeof *p->n_dying);
  p->want = calloc(n ? n : 1, sizeof *p->want);
  aicc_status st = NULL;
  if (!p->dying || !p->n_dying || !p->want) st = NOMEM();
  for (uint32_t v = 0; v < ip->m->n_values; v++) last[v] = -1;
  for (size_t i = 0; i < n && !st; i++) mark_node_uses(g->nodes.data[i], (int32_t)i, last);
  /* Graph outputs live to the end. */
  for (size_t o = 0; o < g->outputs.len; o++) last[g->outputs.data[o]->id] = INT32_MAX;
  for (size_t i = 0; i < n && !st; i++) {
    const aicc_node *nd = g->nodes.data[i];
    p->want[i] = calloc((size_t)nd->n_outputs + 1, sizeof(bool));
    p->dying[i] = malloc(sizeof(uint32_t) * ((size_t)nd->n_inputs + (size_t)nd->n_outputs + 1));
    if (!p->want[i] || !p->dying[i]) {
      st = NOMEM();
      break;
    }
    for (int k = 0; k < nd->n_outputs; k++) p->want[i][k] = last[nd->outputs[k]->id] != -1;
  }
  /* A value of this graph dies at its last use; values used by no node die
   * right after they are produced (or at start for inputs: handled at end). */
  for (size_t i = 0; i < n && !st; i++) {
    const aicc_node *nd = g->nodes.data[i];
    for (int k = 0; k < nd->n_outputs; k++) {
      uint32_t id = nd->outputs[k]->id;
      if (last[id] == -1) p->dying[i][p->n_dying[i]++] = id;
    }
  }
  /* Inputs of node i that are defined in g and last used at i. */
  for (size_t i = 0; i < n && !st; i++) {
    const aicc_node *nd = g->nodes.data[i];
    for (int k = 0; k < nd->n_inputs; k++) {
      const aicc_value *v = nd->inputs[k];
      if (!v || v->graph != g || last[v->id] != (int32_t)i) continue;
      bool dup = false;
      for (uint32_t j = 0; j < p->n_dying[i]; j++) dup |= p->dying[i][j] == v->id;
      if (!dup) p->dying[i][p->n_dying[i]++] = v->id;
    }
  }
  free(last);
  if (!st && !aicc_vec_push(&ip->plans, p)) st = NOMEM();
  if (st) {
    plan_free(p);
    return st;
  }
  *out = p;
  return NULL;
}

/* --- input binding --- */

typedef struct sym_binding {
  const char *sym;
  int64_t size;
} sym_binding;

static aicc_status bind_input(const aicc_model *m, const aicc_value *v, const aicc_tensor *t,
                              int index, sym_binding *syms, int *n_syms) {
  const aicc_type *ty = &v->type;
  char want[256], got[256];
  aicc_type tt = aicc_type_of(t);
  if (ty->kind != AICC_KIND_NONE && ty->kind != t->kind)
    return aicc_errorf(AICC_ERR_SHAPE, "%s: input %d '%s': expected %s, got %s", m->path,
                       index, v->name, aicc_type_describe(ty, want, sizeof want),
                       aicc_type_describe(&tt, got, sizeof got));
  if (t->kind != AICC_KIND_TENSOR) return NULL;
  if (ty->dtype != AICC_DTYPE_UNDEFINED && ty->dtype != t->dtype)
    return aicc_errorf(AICC_ERR_SHAPE, "%s: input %d '%s': expected dtype %s, got %s",
                       m->path, index, v->name, aicc_dtype_text(ty->dtype),
                       aicc_dtype_text(t->dtype));
  if (ty->rank < 0) return NULL;
  if (ty->rank != t->rank)
    return aicc_errorf(AICC_ERR_SHAPE, "%s: input %d '%s': expected shape %s, got %s",
                       m->path, index, v->name, aicc_type_describe(ty, want, sizeof want),
                       aicc_type_describe(&tt, got, sizeof got));
  for (int d = 0; d < t->rank; d++) {
    aicc_dim dim = ty->dims[d];
    if (aicc_dim_is_known(dim) && dim.size != t->dims[d])
      return aicc_errorf(AICC_ERR_SHAPE,
                         "%s: input %d '%s': dim %d is %lld, expected %lld (shape %s)",
                         m->path, index, v->name, d, (long long)t->dims[d],
                         (long long)dim.size, aicc_type_describe(ty, want, sizeof want));
    if (!dim.sym) continue;
    int k = 0;
    while (k < *n_syms && strcmp(syms[k].sym, dim.sym) != 0) k++;
    if (k == *n_syms) {
      if (k < 64) syms[(*n_syms)++] = (sym_binding){dim.sym, t->dims[d]};
    } else if (syms[k].size != t->dims[d]) {
      return aicc_errorf(AICC_ERR_SHAPE,
                         "%s: input %d '%s': dim %d ('%s') is %lld, but '%s' is %lld "
                         "from an earlier input",
                         m->path, index, v->name, d, dim.sym, (long long)t->dims[d],
                         dim.sym, (long long)syms[k].size);
    }
  }
  return NULL;
}

/* --- node execution --- */

static aicc_status with_node(aicc_status s, const aicc_node *nd) {
  if (!s || strstr(s->msg, "node '")) return s;
  char buf[256];
  return aicc_status_wrap(s, "%s", aicc_node_describe(nd, buf, sizeof buf));
}

/* Compares each kernel output with what inference predicts from the actual
 * inputs; a disagreement is a bug in one of the two. */
static aicc_status check_inferred(const aicc_node *nd, aicc_tensor *const *in,
                                  aicc_tensor *const *out, const bool *want) {
  if (!nd->op->infer) return NULL;
  int ni = nd->n_inputs, no = nd->n_outputs;
  aicc_type *in_types = calloc((size_t)ni + 1, sizeof *in_types);
  const aicc_type **in_ptrs = calloc((size_t)ni + 1, sizeof *in_ptrs);
  aicc_type *out_types = calloc((size_t)no + 1, sizeof *out_types);
  if (!in_types || !in_ptrs || !out_types) {
    free(in_types);
    free(in_ptrs);
    free(out_types);
    return NOMEM();
  }
  for (int i = 0; i < ni; i++)
    if (in[i]) {
      in_types[i] = aicc_type_of(in[i]);
      in_ptrs[i] = &in_types[i];
    }
  for (int i = 0; i < no; i++) out_types[i].rank = -1;
  aicc_infer_ctx ic = {nd, nd->opset, ni, no, in_ptrs, (const aicc_tensor *const *)in, out_types};
  aicc_status s = nd->op->infer(&ic);
  for (int i = 0; i < no && !s; i++) {
    if (!want[i] || !out[i] || out[i]->kind != AICC_KIND_TENSOR) continue;
    if (!aicc_type_is_static(&out_types[i])) continue;
    aicc_type got = aicc_type_of(out[i]);
    if (!aicc_type_equal(&got, &out_types[i])) {
      char a[256], b[256];
      s = aicc_errorf(AICC_ERR_INTERNAL,
                      "output %d: kernel produced %s but shape inference says %s", i,
                      aicc_type_describe(&got, a, sizeof a),
                      aicc_type_describe(&out_types[i], b, sizeof b));
    }
  }
  free(in_types);
  free(in_ptrs);
  free(out_types);
  return s;
}

static aicc_status run_node(aicc_interp *ip, const aicc_node *nd, const bool *want) {
  if (!nd->op->kernel)
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "operator %s has no reference kernel yet",
                       nd->op_type);
  int ni = nd->n_inputs, no = nd->n_outputs;
  aicc_tensor **in = calloc((size_t)ni + 1, sizeof *in);
  aicc_tensor **out = calloc((size_t)no + 1, sizeof *out);
  if (!in || !out) {
    free(in);
    free(out);
    return NOMEM();
  }
  aicc_status s = NULL;
  for (int i = 0; i < ni && !s; i++) {
    const aicc_value *v = nd->inputs[i];
    if (!v) continue;
    in[i] = ip->slots[v->id];
    if (!in[i])
      s = aicc_errorf(AICC_ERR_INTERNAL, "input %d '%s' has no value at run time", i, v->name);
  }
  if (!s) {
    aicc_kernel_ctx c = {nd, nd->opset, ni, no, in, out, want, ip};
    s = nd->op->kernel(&c);
  }
  for (int i = 0; i < no && !s; i++)
    if (want[i] && !out[i])
      s = aicc_errorf(AICC_ERR_INTERNAL, "kernel produced no value for output %d", i);
  if (!s) s = check_inferred(nd, in, out, want);
  if (s) {
    for (int i = 0; i < no; i++) aicc_tensor_release(out[i]);
  } else {
    for (int i = 0; i < no; i++) {
      uint32_t id = nd->outputs[i]->id;
      aicc_tensor_release(ip->slots[id]);
      ip->slots[id] = out[i];
    }
  }
  free(in);
  free(out);
  return with_node(s, nd);
}

static void release_graph_values(aicc_interp *ip, const aicc_graph *g) {
  for (size_t i = 0; i < g->inputs.len; i++) {
    uint32_t id = g->inputs.data[i]->id;
    aicc_tensor_release(ip->slots[id]);
    ip->slots[id] = NULL;
  }
  for (size_t i = 0; i < g->inits.len; i++) {
    uint32_t id = g->inits.data[i]->id;
    aicc_tensor_release(ip->slots[id]);
    ip->slots[id] = NULL;
  }
  for (size_t n = 0; n < g->nodes.len; n++) {
    const aicc_node *nd = g->nodes.data[n];
    for (int k = 0; k < nd->n_outputs; k++) {
      uint32_t id = nd->outputs[k]->id;
      aicc_tensor_release(ip->slots[id]);
      ip->slots[id] = NULL;
    }
  }
}

/* Runs g with its inputs already bound (slots set); fills outputs. */
static aicc_status run_graph(aicc_interp *ip, const aicc_graph *g, aicc_tensor **outputs,
                             int n_outputs) {
  graph_plan *p = NULL;
  AICC_TRY(plan_build(ip, g, &p));
  for (size_t i = 0; i < g->inits.len; i++) {
    const aicc_value *v = g->inits.data[i];
    if (!ip->slots[v->id]) ip->slots[v->id] = aicc_tensor_retain(v->init);
  }
  aicc_status s = NULL;
  for (size_t i = 0; i < g->nodes.len && !s; i++) {
    s = run_node(ip, g->nodes.data[i], p->want[i]);
    for (uint32_t k = 0; k < p->n_dying[i] && !s; k++) {
      aicc_tensor_release(ip->slots[p->dying[i][k]]);
      ip->slots[p->dying[i][k]] = NULL;
    }
  }
  for (int o = 0; o < n_outputs; o++) outputs[o] = NULL;
  for (int o = 0; o < n_outputs && !s; o++) {
    if ((size_t)o >= g->outputs.len) break;
    const aicc_value *v = g->outputs.data[o];
    outputs[o] = aicc_tensor_retain(ip->slots[v->id]);
    if (!outputs[o])
      s = aicc_errorf(AICC_ERR_INTERNAL, "graph output '%s' has no value", v->name);
  }
  if (s)
    for (int o = 0; o < n_outputs; o++) {
      aicc_tensor_release(outputs[o]);
      outputs[o] = NULL;
    }
  release_graph_values(ip, g);
  return s;
}

aicc_status aicc_interp_run_subgraph(aicc_interp *ip, const aicc_graph *g,
                                     aicc_tensor *const *inputs, int n_inputs,
                                     aicc_tensor **outputs, int n_outputs) {
  if ((size_t)n_inputs != g->inputs.len)
    return aicc_errorf(AICC_ERR_INVALID, "subgraph '%s' takes %zu inputs, given %d", g->name,
                       g->inputs.len, n_inputs);
  if ((size_t)n_outputs > g->outputs.len)
    return aicc_errorf(AICC_ERR_INVALID, "subgraph '%s' has %zu outputs, %d requested",
                       g->name, g->outputs.len, n_outputs);
  for (int i = 0; i < n_inputs; i++) {
    uint32_t id = g->inputs.data[i]->id;
    aicc_tensor_release(ip->slots[id]);
    ip->slots[id] = aicc_tensor_retain(inputs[i]);
  }
  return run_graph(ip, g, outputs, n_outputs);
}

aicc_status aicc_interp_run(const aicc_model *m, aicc_tensor *const *inputs, int n_inputs,
                            aicc_tensor **outputs, int n_outputs) {
  const aicc_graph *g = m->graph;
  for (int o = 0; o < n_outputs; o++) outputs[o] = NULL;
  if ((size_t)n_inputs != g->inputs.len)
    return aicc_errorf(AICC_ERR_INVALID, "%s: the model takes %zu inputs, given %d", m->path,
                       g->inputs.len, n_inputs);
  if ((size_t)n_outputs != g->outputs.len)
    return aicc_errorf(AICC_ERR_INVALID, "%s: the model has %zu outputs, %d requested",
                       m->path, g->outputs.len, n_outputs);
  aicc_interp ip = {m, NULL, {0}};
  ip.slots = calloc(m->n_values ? m->n_values : 1, sizeof *ip.slots);
  if (!ip.slots) return NOMEM();
  sym_binding syms[64];
  int n_syms = 0;
  aicc_status s = NULL;
  for (int i = 0; i < n_inputs && !s; i++) {
    const aicc_value *v = g->inputs.data[i];
    aicc_tensor *t = inputs[i];
    if (!t && v->init) continue; /* initializer listed as input: default */
    if (!t) {
      s = aicc_errorf(AICC_ERR_INVALID, "%s: input %d '%s' was not given", m->path, i, v->name);
      break;
    }
    s = bind_input(m, v, t, i, syms, &n_syms);
    if (!s) ip.slots[v->id] = aicc_tensor_retain(t);
  }
  if (!s) s = run_graph(&ip, g, outputs, n_outputs);
  else release_graph_values(&ip, g);
  for (size_t i = 0; i < ip.plans.len; i++) plan_free(ip.plans.data[i]);
  aicc_vec_free(&ip.plans);
  free(ip.slots);
  return s;
}

aicc_status aicc_interp_eval_node(const aicc_model *m, const aicc_node *n,
                                  aicc_tensor *const *inputs, aicc_tensor **outputs) {
  for (int o = 0; o < n->n_outputs; o++) outputs[o] = NULL;
  aicc_interp ip = {m, NULL, {0}};
  ip.slots = calloc(m->n_values ? m->n_values : 1, sizeof *ip.slots);
  bool *want = calloc((size_t)n->n_outputs + 1, sizeof *want);
  aicc_status s = ip.slots && want ? NULL : NOMEM();
  for (int o = 0; o < n->n_outputs && want; o++) want[o] = true;
  for (int i = 0; i < n->n_inputs && !s; i++)
    if (n->inputs[i]) {
      if (!inputs[i]) s = aicc_errorf(AICC_ERR_INTERNAL, "input %d not given", i);
      else { /* a value may feed several inputs: hold one reference */
        uint32_t id = n->inputs[i]->id;
        aicc_tensor_release(ip.slots[id]);
        ip.slots[id] = aicc_tensor_retain(inputs[i]);
      }
    }
  if (!s) s = run_node(&ip, n, want);
  for (int o = 0; o < n->n_outputs && !s; o++) {
    outputs[o] = ip.slots[n->outputs[o]->id];
    ip.slots[n->outputs[o]->id] = NULL;
  }
  if (ip.slots)
    for (uint32_t v = 0; v < m->n_values; v++) aicc_tensor_release(ip.slots[v]);
  for (size_t i = 0; i < ip.plans.len; i++) plan_free(ip.plans.data[i]);
  aicc_vec_free(&ip.plans);
  free(ip.slots);
  free(want);
  return s;
}
