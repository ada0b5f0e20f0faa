/* Constant propagation and folding. A node whose inputs are all constants
 * (initializers that are not graph inputs, or values folded earlier in this
 * run) is evaluated with the reference kernel and its outputs become
 * initializers; Constant nodes become initializers. Shape subgraphs fold too:
 * Shape/Size of a value whose dims are known from inference, and data
 * movement on partly known shapes (Shape -> Gather/Slice/Concat/... ) wherever
 * the elements that reach the result are known. Folding never changes
 * results: a kernel error means "leave the node", never a failed pass. */
#include "passes/pass.h"

#include "interp/interp.h"
#include "ir/text.h"

#include <stdlib.h>
#include <string.h>

/* Elements of a partly known shape tensor that stand for an unknown dim.
 * No real shape holds values this negative, and data movement copies them
 * unchanged, so "no sentinel in the result" means "fully known". */
#define SENTINEL_MAX (INT64_MIN + ((int64_t)1 << 40))

typedef struct fold_state {
  aicc_model *m;
  aicc_pass_ctx *ctx;
  bool *is_input;         /* by value id: a graph input (never constant) */
  aicc_tensor **partial;  /* by value id: i64 shape data with sentinels */
  uint32_t n_values;
} fold_state;

static bool is_random(const aicc_node *n) {
  static const char *const ops[] = {"RandomNormal",     "RandomUniform", "RandomNormalLike",
                                    "RandomUniformLike", "Bernoulli",     "Multinomial"};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (strcmp(n->op_type, ops[i]) == 0) return true;
  /* Dropout with a training_mode input may draw a random mask. */
  return strcmp(n->op_type, "Dropout") == 0 && n->n_inputs > 2 && n->inputs[2];
}

static bool has_subgraph(const aicc_node *n) {
  for (int a = 0; a < n->n_attrs; a++)
    if (n->attrs[a].kind == AICC_ATTR_GRAPH || n->attrs[a].kind == AICC_ATTR_GRAPHS) return true;
  return false;
}

static void mark_inputs(fold_state *st, const aicc_graph *g) {
  for (size_t i = 0; i < g->inputs.len; i++) st->is_input[g->inputs.data[i]->id] = true;
  for (size_t i = 0; i < g->nodes.len; i++) {
    const aicc_node *n = g->nodes.data[i];
    for (int a = 0; a < n->n_attrs; a++) {
      if (n->attrs[a].kind == AICC_ATTR_GRAPH) mark_inputs(st, n->attrs[a].g);
      if (n->attrs[a].kind == AICC_ATTR_GRAPHS)
        for (int64_t j = 0; j < n->attrs[a].n; j++) mark_inputs(st, n->attrs[a].gs[j]);
    }
  }
}

static const aicc_tensor *const_of(const fold_state *st, const aicc_value *v) {
  if (!v || !v->init || v->id >= st->n_values || st->is_input[v->id]) return NULL;
  return v->init;
}

static int64_t type_bytes(const aicc_type *t) {
  if (t->kind != AICC_KIND_TENSOR || !aicc_type_is_static(t)) return -1;
  int64_t dims[AICC_MAX_RANK];
  for (int d = 0; d < t->rank; d++) dims[d] = t->dims[d].size;
  int64_t n = aicc_dims_numel(dims, t->rank);
  if (n < 0) return -1;
  return (int64_t)aicc_dtype_storage_bytes(t->dtype, (size_t)n);
}

/* Turns v into an initializer holding t (takes the reference). The value
 * keeps its name, id, declared type and every use, so graph outputs keep
 * their names and nothing needs redirecting. The caller removed (or will
 * remove) the producer. */
static aicc_status make_init(fold_state *st, aicc_value *v, aicc_tensor *t) {
  AICC_TRY(aicc_model_own_tensor(st->m, t));
  v->producer = NULL;
  v->producer_index = 0;
  v->init = t;
  if (!aicc_vec_push(&v->graph->inits, v)) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  st->ctx->const_bytes_folded += (int64_t)t->nbytes;
  return NULL;
}

/* True when t fits the value's declared type (dtype, rank, known dims). */
static bool fits_type(const aicc_value *v, const aicc_tensor *t) {
  if (t->kind != AICC_KIND_TENSOR) return false;
  aicc_type tt = aicc_type_of(t), merged;
  const char *why;
  if (v->type.kind == AICC_KIND_NONE) return true;
  return aicc_ir_type_merge(&v->type, &tt, &merged, &why);
}

/* Replaces node n by its outputs `outs` (new references, all taken). On any
 * mismatch the node stays and the tensors are released. */
static aicc_status replace_node(fold_state *st, aicc_graph *g, aicc_node *n, aicc_tensor **outs) {
  int64_t bytes = 0;
  bool ok = true;
  for (int o = 0; o < n->n_outputs && ok; o++) {
    ok = outs[o] && fits_type(n->outputs[o], outs[o]);
    if (ok) bytes += (int64_t)outs[o]->nbytes;
  }
  if (!ok || bytes > st->ctx->fold_max_bytes) {
    for (int o = 0; o < n->n_outputs; o++) aicc_tensor_release(outs[o]);
    return NULL;
  }
  aicc_value **vals = n->outputs;
  aicc_graph_node_remove(g, n);
  aicc_status s = NULL;
  for (int o = 0; o < n->n_outputs; o++) {
    if (!s) s = make_init(st, vals[o], outs[o]);
    else aicc_tensor_release(outs[o]);
  }
  st->ctx->changes++;
  return s;
}

/* --- partly known shapes --- */

static bool has_sentinel(const aicc_tensor *t) {
  const int64_t *d = t->data;
  int64_t n = aicc_tensor_numel(t);
  for (int64_t i = 0; i < n; i++)
    if (d[i] < SENTINEL_MAX) return true;
  return false;
}

/* Shape(x) {start, end}: the (partly known) dims of x, sliced as the op does. */
static aicc_status eval_shape(const aicc_node *n, aicc_tensor **out) {
  *out = NULL;
  const aicc_type *t = &n->inputs[0]->type;
  if (t->kind != AICC_KIND_TENSOR || t->rank < 0) return NULL;
  int64_t r = t->rank, start = aicc_node_attr_int(n, "start", 0),
          end = aicc_node_attr_int(n, "end", r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = start < 0 ? 0 : start > r ? r : start;
  end = end < 0 ? 0 : end > r ? r : end;
  int64_t len = end > start ? end - start : 0;
  AICC_TRY(aicc_tensor_create(AICC_DTYPE_I64, 1, &len, out));
  int64_t *d = (*out)->data;
  for (int64_t i = 0; i < len; i++) {
    aicc_dim dim = t->dims[start + i];
    d[i] = aicc_dim_is_known(dim) ? dim.size : INT64_MIN + start + i;
  }
  return NULL;
}

/* Ops that only move elements of their data input(s): running them on a
 * partly known shape keeps every sentinel recognisable. `data_mask` has bit
 * i set for inputs that may be partial (the rest must be real constants). */
typedef struct mover {
  const char *op;
  unsigned data_mask;
} mover;

static const mover movers[] = {
    {"Gather", 1u},    {"Slice", 1u},    {"Concat", ~0u},   {"Unsqueeze", 1u},
    {"Squeeze", 1u},   {"Reshape", 1u},  {"Identity", 1u},  {"Flatten", 1u},
    {"Expand", 1u},    {"Tile", 1u},     {"GatherElements", 1u},
};

static const mover *mover_of(const aicc_node *n) {
  if (n->domain[0]) return NULL;
  for (size_t i = 0; i < sizeof movers / sizeof movers[0]; i++)
    if (strcmp(movers[i].op, n->op_type) == 0) return &movers[i];
  return NULL;
}

/* Tries to evaluate n on partly known shape inputs. On success with a fully
 * known result, folds; with a partial one, records it in st->partial. */
static aicc_status try_partial(fold_state *st, aicc_graph *g, aicc_node *n) {
  aicc_tensor *res = NULL;
  if (!n->domain[0] && strcmp(n->op_type, "Shape") == 0 && n->n_inputs == 1 && n->inputs[0]) {
    AICC_TRY(eval_shape(n, &res));
  } else if (!n->domain[0] && strcmp(n->op_type, "Size") == 0 && n->n_inputs == 1 &&
             n->inputs[0]) {
    const aicc_type *t = &n->inputs[0]->type;
    if (t->kind != AICC_KIND_TENSOR || t->rank < 0) return NULL;
    int64_t prod = 1;
    for (int i = 0; i < t->rank; i++) {
      if (!aicc_dim_is_known(t->dims[i])) return NULL;
      prod *= t->dims[i].size;
    }
    AICC_TRY(aicc_tensor_create(AICC_DTYPE_I64, 0, NULL, &res));
    ((int64_t *)res->data)[0] = prod;
  } else {
    const mover *mv = mover_of(n);
    if (!mv || n->n_outputs != 1) return NULL;
    bool any_partial = false;
    aicc_tensor *ins[16];
    if (n->n_inputs > 16) return NULL;
    for (int i = 0; i < n->n_inputs; i++) {
      const aicc_value *v = n->inputs[i];
      ins[i] = NULL;
      if (!v) continue;
      const aicc_tensor *c = const_of(st, v);
      aicc_tensor *p = v->id < st->n_values ? st->partial[v->id] : NULL;
      if (p && (i >= 32 || !(mv->data_mask >> i & 1u))) return NULL;
      if (!c && !p) return NULL;
      any_partial |= p != NULL;
      ins[i] = p ? p : (aicc_tensor *)c;
    }
    if (!any_partial) return NULL;
    aicc_tensor *out = NULL;
    aicc_status s = aicc_interp_eval_node(st->m, n, ins, &out);
    if (s) {
      aicc_status_free(s); /* not foldable: leave the node alone */
      return NULL;
    }
    res = out;
  }
  if (!res) return NULL;
  if (res->kind != AICC_KIND_TENSOR || res->dtype != AICC_DTYPE_I64) {
    aicc_tensor_release(res);
    return NULL;
  }
  if (!has_sentinel(res)) return replace_node(st, g, n, &res);
  uint32_t id = n->outputs[0]->id;
  if (id < st->n_values) {
    aicc_tensor_release(st->partial[id]);
    st->partial[id] = res;
  } else {
    aicc_tensor_release(res);
  }
  return NULL;
}

/* --- the pass --- */

static aicc_status fold_graph(fold_state *st, aicc_graph *g, bool shapes);

static aicc_status fold_node(fold_state *st, aicc_graph *g, aicc_node *n, bool shapes) {
  if (n->dead || !n->op || is_random(n)) return NULL;
  if (has_subgraph(n)) {
    for (int a = 0; a < n->n_attrs; a++) {
      if (n->attrs[a].kind == AICC_ATTR_GRAPH) AICC_TRY(fold_graph(st, n->attrs[a].g, false));
      if (n->attrs[a].kind == AICC_ATTR_GRAPHS)
        for (int64_t j = 0; j < n->attrs[a].n; j++)
          AICC_TRY(fold_graph(st, n->attrs[a].gs[j], false));
    }
    return NULL;
  }
  if (n->n_outputs < 1) return NULL;
  bool all_const = true;
  for (int i = 0; i < n->n_inputs && all_const; i++)
    all_const = !n->inputs[i] || const_of(st, n->inputs[i]);
  if (!all_const) return shapes ? try_partial(st, g, n) : NULL;
  /* Don't materialise what is known in advance to be too big. */
  int64_t known = 0;
  for (int o = 0; o < n->n_outputs; o++) {
    int64_t b = type_bytes(&n->outputs[o]->type);
    if (b > 0) known += b;
  }
  if (known > st->ctx->fold_max_bytes) return NULL;
  aicc_tensor *ins[64], **in = ins;
  aicc_tensor *outs_buf[8], **outs = outs_buf;
  if (n->n_inputs > 64) in = calloc((size_t)n->n_inputs, sizeof *in);
  if (n->n_outputs > 8) outs = calloc((size_t)n->n_outputs, sizeof *outs);
  aicc_status s = NULL;
  if (!in || !outs) s = aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  for (int i = 0; i < n->n_inputs && !s; i++)
    in[i] = n->inputs[i] ? (aicc_tensor *)const_of(st, n->inputs[i]) : NULL;
  if (!s) {
    aicc_status e = aicc_interp_eval_node(st->m, n, in, outs);
    if (e) aicc_status_free(e); /* a kernel error means "don't fold" */
    else s = replace_node(st, g, n, outs);
  }
  if (in != ins) free(in);
  if (outs != outs_buf) free(outs);
  return s;
}

static aicc_status fold_graph(fold_state *st, aicc_graph *g, bool shapes) {
  size_t len = g->nodes.len;
  for (size_t i = 0; i < len; i++) AICC_TRY(fold_node(st, g, g->nodes.data[i], shapes));
  return NULL;
}

static aicc_status fold_run(aicc_model *m, aicc_pass_ctx *ctx) {
  /* Fresh types: shape folding reads dims that earlier passes may have
   * made known. */
  AICC_TRY(aicc_model_infer(m));
  fold_state st = {m, ctx, NULL, NULL, m->n_values};
  st.is_input = calloc(st.n_values + 1, sizeof *st.is_input);
  st.partial = calloc(st.n_values + 1, sizeof *st.partial);
  aicc_status s = NULL;
  if (!st.is_input || !st.partial) s = aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  if (!s) {
    mark_inputs(&st, m->graph);
    /* Shape folding only in the main graph: the declared types of loop
     * bodies' inputs describe the first iteration at best. */
    s = fold_graph(&st, m->graph, true);
  }
  if (st.partial)
    for (uint32_t i = 0; i < st.n_values; i++) aicc_tensor_release(st.partial[i]);
  free(st.partial);
  free(st.is_input);
  return s;
}

const aicc_pass aicc_pass_fold = {"fold", "constant propagation and folding (shape subgraphs too)",
                                  fold_run};
