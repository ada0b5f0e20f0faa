/* Builders shared by the gradient rules: typed node emission, constants,
 * opset-aware ReduceSum/Unsqueeze, reshape/expand to another value's shape
 * and the single unbroadcast helper. Defines no op family. */
#include "ops/grad_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

aicc_status aicc_grad_error(const aicc_grad_ctx *c, aicc_code code, const char *fmt, ...) {
  char d[512], msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return aicc_errorf(code, "%s: gradient: %s", aicc_node_describe(c->node, d, sizeof d), msg);
}

/* Runs the new node's inference with initializer inputs as constants (the
 * shapes and axes rules pass are initializers), then stores the types; a
 * symbol name is copied into the model arena so it outlives the infer call. */
static aicc_status type_node(aicc_grad_ctx *c, aicc_node *n) {
  aicc_model *m = c->graph->model;
  const aicc_type *in[16];
  const aicc_tensor *cin[16];
  aicc_type out[8];
  if (n->n_inputs > 16 || n->n_outputs > 8)
    return aicc_grad_error(c, AICC_ERR_INTERNAL, "too many operands for %s", n->op_type);
  for (int i = 0; i < n->n_inputs; i++) {
    in[i] = n->inputs[i] ? &n->inputs[i]->type : NULL;
    cin[i] = n->inputs[i] ? n->inputs[i]->init : NULL;
  }
  for (int i = 0; i < n->n_outputs; i++) {
    memset(&out[i], 0, sizeof out[i]);
    out[i].rank = -1;
  }
  aicc_infer_ctx ic = {.node = n, .opset = n->opset, .n_in = n->n_inputs,
                       .n_out = n->n_outputs, .in = in, .cin = cin, .out = out};
  if (n->op->infer) {
    aicc_status s = n->op->infer(&ic);
    if (s) return aicc_status_wrap(s, "%s: gradient", c->node->name);
  }
  for (int i = 0; i < n->n_outputs; i++) {
    aicc_type t = out[i];
    for (int k = 0; k < t.rank && k < AICC_MAX_RANK; k++)
      if (t.dims[k].sym && !(t.dims[k].sym = aicc_arena_strdup(&m->arena, t.dims[k].sym)))
        return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
    n->outputs[i]->type = t;
  }
  return NULL;
}

static aicc_status set_attr(aicc_node *n, const aicc_grad_attr *a) {
  switch (a->kind) {
  case AICC_ATTR_INT: return aicc_node_attr_set_int(n, a->name, a->i);
  case AICC_ATTR_FLOAT: return aicc_node_attr_set_float(n, a->name, a->f);
  case AICC_ATTR_INTS: return aicc_node_attr_set_ints(n, a->name, a->is, a->n);
  case AICC_ATTR_STRING: return aicc_node_attr_set_string(n, a->name, a->s);
  default: return aicc_errorf(AICC_ERR_INTERNAL, "gradient: attribute kind %d", a->kind);
  }
}

aicc_status aicc_grad_emit(aicc_grad_ctx *c, const char *op, aicc_value *const *in, int n_in,
                           const aicc_grad_attr *attrs, aicc_value **out, int n_out) {
  aicc_value *outs[8];
  if (n_out > 8) return aicc_grad_error(c, AICC_ERR_INTERNAL, "too many outputs");
  for (int i = 0; i < n_out; i++) AICC_TRY(aicc_graph_value_add(c->graph, "", NULL, &outs[i]));
  /* Backward nodes are named after the forward node so errors point back. */
  char name[256];
  snprintf(name, sizeof name, "%s_grad", c->node->name && *c->node->name ? c->node->name : "node");
  aicc_node *n;
  AICC_TRY(aicc_graph_node_add(c->graph, name, op, "", in, n_in, outs, n_out, &n));
  for (const aicc_grad_attr *a = attrs; a && a->name; a++) AICC_TRY(set_attr(n, a));
  AICC_TRY(type_node(c, n));
  for (int i = 0; i < n_out; i++) out[i] = outs[i];
  return NULL;
}

aicc_status aicc_grad_unary(aicc_grad_ctx *c, const char *op, aicc_value *x, aicc_value **out) {
  return aicc_grad_emit(c, op, &x, 1, NULL, out, 1);
}

aicc_status aicc_grad_binary(aicc_grad_ctx *c, const char *op, aicc_value *a, aicc_value *b,
                             aicc_value **out) {
  aicc_value *in[2] = {a, b};
  return aicc_grad_emit(c, op, in, 2, NULL, out, 1);
}

aicc_status aicc_grad_scalar(aicc_grad_ctx *c, aicc_dtype dt, double v, aicc_value **out) {
  aicc_tensor *t;
  AICC_TRY(aicc_tensor_create(dt, 0, NULL, &t));
  aicc_tensor_set_f64(t, 0, v);
  return aicc_graph_init_add(c->graph, "", t, out);
}

aicc_status aicc_grad_i64s(aicc_grad_ctx *c, const int64_t *v, int64_t n, aicc_value **out) {
  aicc_tensor *t;
  AICC_TRY(aicc_tensor_create(AICC_DTYPE_I64, 1, &n, &t));
  for (int64_t i = 0; i < n; i++) ((int64_t *)t->data)[i] = v[i];
  return aicc_graph_init_add(c->graph, "", t, out);
}

static int model_opset(const aicc_grad_ctx *c) { return aicc_model_opset(c->graph->model, ""); }

aicc_status aicc_grad_reduce_sum(aicc_grad_ctx *c, aicc_value *x, const int64_t *axes, int n,
                                 bool keepdims, aicc_value **out) {
  if (n == 0) {
    *out = x;
    return NULL;
  }
  if (model_opset(c) >= 13) {
    aicc_value *ax;
    AICC_TRY(aicc_grad_i64s(c, axes, n, &ax));
    aicc_value *in[2] = {x, ax};
    aicc_grad_attr at[] = {AICC_GA_INT("keepdims", keepdims), {0}};
    return aicc_grad_emit(c, "ReduceSum", in, 2, at, out, 1);
  }
  aicc_grad_attr at[] = {AICC_GA_INTS("axes", axes, n), AICC_GA_INT("keepdims", keepdims), {0}};
  return aicc_grad_emit(c, "ReduceSum", &x, 1, at, out, 1);
}

aicc_status aicc_grad_unsqueeze(aicc_grad_ctx *c, aicc_value *x, const int64_t *axes, int n,
                                aicc_value **out) {
  if (n == 0) {
    *out = x;
    return NULL;
  }
  if (model_opset(c) >= 13) {
    aicc_value *ax;
    AICC_TRY(aicc_grad_i64s(c, axes, n, &ax));
    aicc_value *in[2] = {x, ax};
    return aicc_grad_emit(c, "Unsqueeze", in, 2, NULL, out, 1);
  }
  aicc_grad_attr at[] = {AICC_GA_INTS("axes", axes, n), {0}};
  return aicc_grad_emit(c, "Unsqueeze", &x, 1, at, out, 1);
}

/* The shape of `like` as a value: a constant when static, else Shape(like). */
static aicc_status shape_of(aicc_grad_ctx *c, const aicc_value *like, aicc_value **out) {
  const aicc_type *t = &like->type;
  if (aicc_type_is_static(t)) {
    int64_t d[AICC_MAX_RANK];
    for (int i = 0; i < t->rank; i++) d[i] = t->dims[i].size;
    return aicc_grad_i64s(c, d, t->rank, out);
  }
  return aicc_grad_unary(c, "Shape", (aicc_value *)like, out);
}

static bool same_shape(const aicc_type *a, const aicc_type *b) {
  if (a->rank < 0 || a->rank != b->rank) return false;
  for (int i = 0; i < a->rank; i++)
    if (!aicc_dim_equal(a->dims[i], b->dims[i]) ||
        (!aicc_dim_is_known(a->dims[i]) && !a->dims[i].sym))
      return false;
  return true;
}

/* x as-is when it already has like's shape, else op(x, Shape(like)). */
static aicc_status to_shape_of(aicc_grad_ctx *c, const char *op, aicc_value *x,
                               const aicc_value *like, aicc_value **out) {
  if (same_shape(&x->type, &like->type)) {
    *out = x;
    return NULL;
  }
  aicc_value *shape;
  AICC_TRY(shape_of(c, like, &shape));
  return aicc_grad_binary(c, op, x, shape, out);
}

aicc_status aicc_grad_reshape_like(aicc_grad_ctx *c, aicc_value *x, const aicc_value *like,
                                   aicc_value **out) {
  return to_shape_of(c, "Reshape", x, like, out);
}

aicc_status aicc_grad_expand_like(aicc_grad_ctx *c, aicc_value *x, const aicc_value *like,
                                  aicc_value **out) {
  return to_shape_of(c, "Expand", x, like, out);
}

aicc_status aicc_grad_unbroadcast(aicc_grad_ctx *c, aicc_value *g, const aicc_value *like,
                                  aicc_value **out) {
  const aicc_type *gt = &g->type, *lt = &like->type;
  if (gt->rank < 0 || lt->rank < 0)
    return aicc_grad_error(c, AICC_ERR_UNSUPPORTED,
                           "unbroadcast '%s' to '%s' needs known ranks", g->name, like->name);
  if (lt->rank > gt->rank)
    return aicc_grad_error(c, AICC_ERR_INTERNAL, "gradient '%s' has lower rank than '%s'",
                           g->name, like->name);
  int64_t axes[AICC_MAX_RANK];
  int n = 0, lead = gt->rank - lt->rank;
  for (int i = 0; i < gt->rank; i++) {
    if (i < lead) {
      axes[n++] = i;
      continue;
    }
    aicc_dim ld = lt->dims[i - lead], gd = gt->dims[i];
    if (aicc_dim_equal(ld, gd) && (aicc_dim_is_known(ld) || ld.sym)) continue;
    if (aicc_dim_is_known(ld) && ld.size == 1) {
      axes[n++] = i; /* broadcast from 1 (a no-op sum when g's dim is 1 too) */
      continue;
    }
    if (aicc_dim_is_known(ld) && aicc_dim_is_known(gd))
      return aicc_grad_error(c, AICC_ERR_SHAPE, "gradient '%s' does not broadcast from '%s'",
                             g->name, like->name);
    /* An unknown operand dim facing a different dim: it equals g's dim at
     * run time unless it is 1, which shapes alone cannot tell. */
    return aicc_grad_error(c, AICC_ERR_UNSUPPORTED,
                           "cannot tell whether dim %d of '%s' is broadcast", i - lead,
                           like->name);
  }
  aicc_value *r;
  AICC_TRY(aicc_grad_reduce_sum(c, g, axes, n, false, &r));
  return aicc_grad_reshape_like(c, r, like, out);
}

aicc_status aicc_grad_transpose_last2(aicc_grad_ctx *c, aicc_value *x, aicc_value **out) {
  int r = x->type.rank;
  if (r < 2) return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "transpose of '%s' needs rank >= 2", x->name);
  int64_t perm[AICC_MAX_RANK];
  for (int i = 0; i < r; i++) perm[i] = i;
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  aicc_grad_attr at[] = {AICC_GA_INTS("perm", perm, r), {0}};
  return aicc_grad_emit(c, "Transpose", &x, 1, at, out, 1);
}

aicc_status aicc_grad_label_terms(aicc_grad_ctx *c, aicc_value *dy, aicc_value *x, aicc_value *t,
                                  aicc_value *wt, aicc_value **scale, aicc_value **onehot) {
  aicc_dtype dt = x->type.dtype;
  const char *red = aicc_node_attr_string(c->node, "reduction", "mean");
  const aicc_attr *ign = aicc_node_attr(c->node, "ignore_index");
  aicc_value *safe = t, *w = NULL, *mask = NULL;
  if (ign) {
    aicc_value *iv, *z, *eq, *ne, *wi[3];
    AICC_TRY(aicc_grad_scalar(c, t->type.dtype, (double)ign->i, &iv));
    AICC_TRY(aicc_grad_scalar(c, t->type.dtype, 0, &z));
    AICC_TRY(aicc_grad_binary(c, "Equal", t, iv, &eq));
    wi[0] = eq, wi[1] = z, wi[2] = t;
    AICC_TRY(aicc_grad_emit(c, "Where", wi, 3, NULL, &safe, 1));
    AICC_TRY(aicc_grad_unary(c, "Not", eq, &ne));
    aicc_grad_attr ct[] = {AICC_GA_INT("to", dt), {0}};
    AICC_TRY(aicc_grad_emit(c, "Cast", &ne, 1, ct, &mask, 1));
    w = mask;
  }
  if (wt) {
    AICC_TRY(aicc_grad_binary(c, "Gather", wt, safe, &w));
    if (mask) AICC_TRY(aicc_grad_binary(c, "Mul", w, mask, &w));
  }
  aicc_value *s = dy;
  if (strcmp(red, "mean") == 0) {
    aicc_value *den;
    if (w) {
      int64_t all[AICC_MAX_RANK];
      for (int i = 0; i < t->type.rank; i++) all[i] = i;
      AICC_TRY(aicc_grad_reduce_sum(c, w, all, t->type.rank, false, &den));
    } else if (aicc_type_is_static(&t->type)) {
      double n = 1;
      for (int i = 0; i < t->type.rank; i++) n *= (double)t->type.dims[i].size;
      AICC_TRY(aicc_grad_scalar(c, dt, n, &den));
    } else {
      aicc_value *sz;
      AICC_TRY(aicc_grad_unary(c, "Size", t, &sz));
      aicc_grad_attr ct[] = {AICC_GA_INT("to", dt), {0}};
      AICC_TRY(aicc_grad_emit(c, "Cast", &sz, 1, ct, &den, 1));
    }
    AICC_TRY(aicc_grad_binary(c, "Div", s, den, &s));
  } else if (strcmp(red, "sum") != 0 && strcmp(red, "none") != 0) {
    return aicc_grad_error(c, AICC_ERR_INVALID, "unknown reduction '%s'", red);
  }
  if (w) AICC_TRY(aicc_grad_binary(c, "Mul", s, w, &s));
  int64_t c_axis = 1;
  if (s->type.rank > 0) AICC_TRY(aicc_grad_unsqueeze(c, s, &c_axis, 1, &s));
  aicc_value *depth, *vals;
  int64_t cdim = x->type.dims[1].size;
  AICC_TRY(aicc_grad_i64s(c, &cdim, 1, &depth));
  aicc_tensor *vt;
  int64_t two = 2;
  AICC_TRY(aicc_tensor_create(dt, 1, &two, &vt));
  aicc_tensor_set_f64(vt, 0, 0.0);
  aicc_tensor_set_f64(vt, 1, 1.0);
  AICC_TRY(aicc_graph_init_add(c->graph, "", vt, &vals));
  aicc_value *oi[3] = {safe, depth, vals};
  aicc_grad_attr ot[] = {AICC_GA_INT("axis", 1), {0}};
  AICC_TRY(aicc_grad_emit(c, "OneHot", oi, 3, ot, onehot, 1));
  *scale = s;
  return NULL;
}

const aicc_tensor *aicc_grad_const_of(const aicc_value *v) {
  if (!v) return NULL;
  if (v->init) return v->init;
  const aicc_node *p = v->producer;
  if (p && strcmp(p->op_type, "Constant") == 0) return aicc_node_attr_tensor(p, "value");
  return NULL;
}

aicc_status aicc_grad_reduce_axes(aicc_grad_ctx *c, int r, int64_t *raw, int64_t *len) {
  const aicc_node *n = c->node;
  *len = 0;
  if (n->n_inputs > 1 && n->inputs[1]) {
    const aicc_tensor *t = aicc_grad_const_of(n->inputs[1]);
    if (!t) return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "gradient needs constant axes");
    *len = aicc_tensor_numel(t);
    if (*len > r) return aicc_grad_error(c, AICC_ERR_INVALID, "too many axes");
    for (int64_t i = 0; i < *len; i++) raw[i] = aicc_tensor_get_i64(t, i);
  } else {
    const int64_t *a = aicc_node_attr_ints(n, "axes", len);
    if (*len > r) return aicc_grad_error(c, AICC_ERR_INVALID, "too many axes");
    for (int64_t i = 0; i < *len; i++) raw[i] = a[i];
  }
  return NULL;
}
