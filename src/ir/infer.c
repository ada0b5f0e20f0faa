/* Shape and type inference over a model: walks each graph in order, runs
 * each op's infer function (from the registry row) and merges the result
 * into the output values' types. Op knowledge stays in src/ops/; this file
 * only walks, gathers constant inputs and merges. */
#include "ir/text.h"

#include "ops/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- constant inputs ---- */

void aicc_ir_consts_init(aicc_ir_consts *c, const aicc_model *m) {
  c->m = m;
  c->made = NULL;
  c->n = 0;
}

void aicc_ir_consts_fini(aicc_ir_consts *c) {
  for (uint32_t i = 0; i < c->n; i++) aicc_tensor_release(c->made[i]);
  free(c->made);
  c->made = NULL;
  c->n = 0;
}

/* A tensor built from Constant's scalar/list attribute forms. */
static aicc_tensor *const_from_attr(const aicc_attr *a) {
  aicc_tensor *t = NULL;
  aicc_status s = NULL;
  int64_t n = a->n;
  switch (a->kind) {
  case AICC_ATTR_FLOAT:
    s = aicc_tensor_create(AICC_DTYPE_F32, 0, NULL, &t);
    if (!s) ((float *)t->data)[0] = a->f;
    break;
  case AICC_ATTR_INT:
    s = aicc_tensor_create(AICC_DTYPE_I64, 0, NULL, &t);
    if (!s) ((int64_t *)t->data)[0] = a->i;
    break;
  case AICC_ATTR_FLOATS:
    s = aicc_tensor_create(AICC_DTYPE_F32, 1, &n, &t);
    if (!s && n > 0) memcpy(t->data, a->fs, sizeof(float) * (size_t)n);
    break;
  case AICC_ATTR_INTS:
    s = aicc_tensor_create(AICC_DTYPE_I64, 1, &n, &t);
    if (!s && n > 0) memcpy(t->data, a->is, sizeof(int64_t) * (size_t)n);
    break;
  case AICC_ATTR_STRING:
    s = aicc_tensor_create(AICC_DTYPE_STRING, 0, NULL, &t);
    if (!s) s = aicc_tensor_set_string(t, 0, a->s.s ? a->s.s : "", a->s.s ? a->s.len : 0);
    break;
  case AICC_ATTR_STRINGS:
    s = aicc_tensor_create(AICC_DTYPE_STRING, 1, &n, &t);
    for (int64_t i = 0; !s && i < n; i++)
      s = aicc_tensor_set_string(t, i, a->ss[i].s ? a->ss[i].s : "", a->ss[i].s ? a->ss[i].len : 0);
    break;
  default:
    return NULL;
  }
  if (s) {
    /* No constant known: inference just sees less. */
    aicc_status_free(s);
    aicc_tensor_release(t);
    return NULL;
  }
  return t;
}

const aicc_tensor *aicc_ir_const_of(aicc_ir_consts *c, const aicc_value *v) {
  if (!v) return NULL;
  if (v->init) return v->init;
  const aicc_node *p = v->producer;
  if (!p || v->producer_index != 0 || !p->op_type || strcmp(p->op_type, "Constant") != 0 ||
      (p->domain && *p->domain) || p->n_attrs != 1)
    return NULL;
  const aicc_attr *a = &p->attrs[0];
  if (a->kind == AICC_ATTR_TENSOR && a->name && strcmp(a->name, "value") == 0) return a->t;
  if (!a->name || strncmp(a->name, "value_", 6) != 0) return NULL;
  if (v->id < c->n && c->made[v->id]) return c->made[v->id];
  if (v->id >= c->n) {
    uint32_t n = c->m->n_values > v->id ? c->m->n_values : v->id + 1;
    aicc_tensor **made = realloc(c->made, sizeof *made * n);
    if (!made) return NULL;
    memset(made + c->n, 0, sizeof *made * (n - c->n));
    c->made = made;
    c->n = n;
  }
  c->made[v->id] = const_from_attr(a);
  return c->made[v->id];
}

/* ---- one node ---- */

aicc_status aicc_ir_node_infer(const aicc_node *n, aicc_ir_consts *consts, aicc_type *out) {
  for (int i = 0; i < n->n_outputs; i++) {
    memset(&out[i], 0, sizeof out[i]);
    out[i].rank = -1;
  }
  if (!n->op || !n->op->infer) return NULL;
  int n_in = n->n_inputs;
  const aicc_type **in = calloc(n_in ? (size_t)n_in : 1, sizeof *in);
  const aicc_tensor **cin = calloc(n_in ? (size_t)n_in : 1, sizeof *cin);
  aicc_status s = NULL;
  if (!in || !cin) {
    s = aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  } else {
    for (int i = 0; i < n_in; i++) {
      const aicc_value *v = n->inputs[i];
      in[i] = v ? &v->type : NULL;
      cin[i] = consts ? aicc_ir_const_of(consts, v) : NULL;
    }
    aicc_infer_ctx c = {
        .node = n,
        .opset = n->opset,
        .n_in = n_in,
        .n_out = n->n_outputs,
        .in = in,
        .cin = cin,
        .out = out,
    };
    s = n->op->infer(&c);
  }
  free(in);
  free(cin);
  return s;
}

/* ---- merging ---- */

static bool dim_known(aicc_dim d) { return aicc_dim_is_known(d); }

bool aicc_ir_type_merge(const aicc_type *declared, const aicc_type *inferred, aicc_type *out,
                        const char **why) {
  const char *dummy;
  if (!why) why = &dummy;
  *why = NULL;
  if (inferred->kind == AICC_KIND_NONE) {
    *out = *declared;
    return true;
  }
  if (declared->kind == AICC_KIND_NONE) {
    *out = *inferred;
    return true;
  }
  if (declared->kind != inferred->kind) {
    *why = "different kinds";
    return false;
  }
  aicc_type r = *declared;
  if (r.kind == AICC_KIND_OPTIONAL) {
    if (r.elem_kind == AICC_KIND_NONE) {
      r.elem_kind = inferred->elem_kind;
    } else if (inferred->elem_kind != AICC_KIND_NONE && inferred->elem_kind != r.elem_kind) {
      *why = "different optional contents";
      return false;
    }
  }
  if (r.dtype == AICC_DTYPE_UNDEFINED) {
    r.dtype = inferred->dtype;
  } else if (inferred->dtype != AICC_DTYPE_UNDEFINED && inferred->dtype != r.dtype) {
    *why = "different dtypes";
    return false;
  }
  if (r.rank < 0) {
    r.rank = inferred->rank;
    if (r.rank > AICC_MAX_RANK) r.rank = -1;
    for (int i = 0; i < r.rank; i++) r.dims[i] = inferred->dims[i];
  } else if (inferred->rank >= 0) {
    if (inferred->rank != r.rank) {
      *why = "different ranks";
      return false;
    }
    for (int i = 0; i < r.rank && i < AICC_MAX_RANK; i++) {
      aicc_dim d = r.dims[i], f = inferred->dims[i];
      if (dim_known(d) && dim_known(f) && d.size != f.size) {
        *why = "different dimensions";
        return false;
      }
      if (dim_known(d)) continue;
      if (dim_known(f) || (!d.sym && f.sym)) r.dims[i] = f;
    }
  }
  *out = r;
  return true;
}

/* ---- the walk ---- */

static aicc_status infer_graph(aicc_model *m, aicc_graph *g, aicc_ir_consts *consts);

/* Symbols an infer function made up must outlive it: copy them into the
 * model's arena unless they are already the declared ones. */
static bool own_symbols(aicc_model *m, aicc_type *t, const aicc_type *before) {
  for (int i = 0; i < t->rank && i < AICC_MAX_RANK; i++) {
    const char *s = t->dims[i].sym;
    if (!s || (i < before->rank && before->dims[i].sym == s)) continue;
    if (!(t->dims[i].sym = aicc_arena_strdup(&m->arena, s))) return false;
  }
  return true;
}

static aicc_status infer_node(aicc_model *m, aicc_node *n, aicc_ir_consts *consts) {
  for (int a = 0; a < n->n_attrs; a++) {
    const aicc_attr *at = &n->attrs[a];
    if (at->kind == AICC_ATTR_GRAPH && at->g) AICC_TRY(infer_graph(m, at->g, consts));
    if (at->kind == AICC_ATTR_GRAPHS)
      for (int64_t k = 0; k < at->n; k++)
        if (at->gs[k]) AICC_TRY(infer_graph(m, at->gs[k], consts));
  }
  if (!n->op || !n->op->infer) return NULL;
  aicc_type *out = calloc(n->n_outputs ? (size_t)n->n_outputs : 1, sizeof *out);
  if (!out) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  aicc_status s = aicc_ir_node_infer(n, consts, out);
  for (int i = 0; !s && i < n->n_outputs; i++) {
    aicc_value *v = n->outputs[i];
    if (!v) continue;
    aicc_type merged;
    const char *why;
    if (!aicc_ir_type_merge(&v->type, &out[i], &merged, &why)) {
      char b1[256], b2[256], d[512];
      s = aicc_errorf(AICC_ERR_SHAPE, "%s: output %d (%%%s): declared %s but inference gives %s (%s)",
                      aicc_node_describe(n, d, sizeof d), i, v->name,
                      aicc_text_type_print(&v->type, b1, sizeof b1),
                      aicc_text_type_print(&out[i], b2, sizeof b2), why);
      break;
    }
    if (!own_symbols(m, &merged, &v->type)) {
      s = aicc_errorf(AICC_ERR_NOMEM, "out of memory");
      break;
    }
    v->type = merged;
  }
  free(out);
  return s;
}

static aicc_status infer_graph(aicc_model *m, aicc_graph *g, aicc_ir_consts *consts) {
  for (size_t i = 0; i < g->nodes.len; i++) AICC_TRY(infer_node(m, g->nodes.data[i], consts));
  return NULL;
}

aicc_status aicc_model_infer(aicc_model *m) {
  if (!m->graph) return aicc_errorf(AICC_ERR_INVALID, "model has no graph");
  aicc_ir_consts consts;
  aicc_ir_consts_init(&consts, m);
  aicc_status s = infer_graph(m, m->graph, &consts);
  aicc_ir_consts_fini(&consts);
  return s;
}
