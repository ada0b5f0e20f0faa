/* The "rewrite" pass: inference-time rewrites that change which ops compute a
 * result, not just its constants. A table of rules bucketed by root op:
 * BatchNormalization folded into the Conv/ConvTranspose/Gemm/MatMul before it
 * (or turned into Mul+Add), constant Add/Mul folded into Conv/Gemm bias and
 * weights, MatMul+Add -> Gemm, and the exporter-decomposed LayerNorm, GELU
 * and attention subgraphs fused back into single ops where the model's opset
 * has them (rewrite_fuse_patterns.c). Every rule re-defines its root's
 * output values, so their names and types stay; nodes it consumed are
 * removed, constants it no longer needs go at compaction. */
#include "passes/rewrite_rules.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- helpers shared with rewrite_fuse_patterns.c --- */

const aicc_tensor *aicc_rewrite_const(const aicc_value *v) {
  if (!v) return NULL;
  if (v->init) {
    const aicc_graph *g = v->graph;
    for (size_t i = 0; i < g->inputs.len; i++)
      if (g->inputs.data[i] == v) return NULL; /* overridable at run time */
    return v->init->kind == AICC_KIND_TENSOR ? v->init : NULL;
  }
  const aicc_node *p = v->producer;
  if (p && !p->dead && !*p->domain && strcmp(p->op_type, "Constant") == 0) {
    const aicc_tensor *t = aicc_node_attr_tensor(p, "value");
    return t && t->kind == AICC_KIND_TENSOR ? t : NULL;
  }
  return NULL;
}

static bool is_numeric(aicc_dtype dt) {
  return aicc_dtype_is_float(dt) || aicc_dtype_is_int(dt);
}

bool aicc_rewrite_const_scalar(const aicc_value *v, double *out) {
  const aicc_tensor *t = aicc_rewrite_const(v);
  if (!t || !is_numeric(t->dtype) || aicc_tensor_numel(t) != 1) return false;
  *out = aicc_tensor_get_f64(t, 0);
  return true;
}

aicc_node *aicc_rewrite_producer(const aicc_value *v, const char *op_type) {
  aicc_node *p = v ? v->producer : NULL;
  if (!p || p->dead || *p->domain || strcmp(p->op_type, op_type) != 0) return NULL;
  return p;
}

int aicc_rewrite_uses(const aicc_value *v) { return aicc_graph_value_use_count(v->graph, v); }

bool aicc_rewrite_is_float(aicc_dtype dt) {
  return dt == AICC_DTYPE_F32 || dt == AICC_DTYPE_F16 || dt == AICC_DTYPE_BF16 ||
         dt == AICC_DTYPE_F64;
}

aicc_status aicc_rewrite_const_new(aicc_graph *g, aicc_tensor *t, aicc_value **out) {
  return aicc_graph_init_add(g, "", t, out);
}

aicc_status aicc_rewrite_const_fill(aicc_graph *g, aicc_dtype dt, int64_t n, double x,
                                    aicc_value **out) {
  aicc_tensor *t;
  AICC_TRY(aicc_tensor_create(dt, 1, &n, &t));
  for (int64_t i = 0; i < n; i++) aicc_tensor_set_f64(t, i, x);
  return aicc_rewrite_const_new(g, t, out);
}

aicc_status aicc_rewrite_value_new(aicc_graph *g, const aicc_type *t, aicc_value **out) {
  return aicc_graph_value_add(g, "", t, out);
}

aicc_status aicc_rewrite_emit(aicc_graph *g, const char *name, const char *op,
                              aicc_value *const *in, int n_in, aicc_value *out,
                              aicc_node **node) {
  return aicc_graph_node_add(g, name, op, "", in, n_in, &out, 1, node);
}

void aicc_rewrite_drop_unused(aicc_graph *g, aicc_node *const *nodes, int n) {
  for (int i = 0; i < n; i++) {
    aicc_node *nd = nodes[i];
    if (!nd || nd->dead) continue;
    bool used = false;
    for (int k = 0; k < nd->n_outputs && !used; k++) used = aicc_rewrite_uses(nd->outputs[k]) > 0;
    if (!used) aicc_graph_node_remove(g, nd);
  }
}

/* --- per-channel affine folding --- */

static bool is_op(const aicc_node *n, const char *op) {
  return n && !n->dead && !*n->domain && strcmp(n->op_type, op) == 0;
}

/* Reads a constant that broadcasts against a rank-r value as one number per
 * channel of axis 1 (shapes [C], [1,C,1,1], [C,1,1], scalars) into out[C].
 * False when c has any other shape, so the value it combines with keeps its
 * shape. */
static bool per_channel(const aicc_tensor *c, int r, int64_t C, double *out) {
  if (!c || !is_numeric(c->dtype) || c->rank > r || r < 2) return false;
  bool along = false;
  for (int i = 0; i < c->rank; i++) {
    int axis = r - c->rank + i;
    if (c->dims[i] == 1) continue;
    if (axis != 1 || c->dims[i] != C) return false;
    along = true;
  }
  for (int64_t k = 0; k < C; k++) out[k] = aicc_tensor_get_f64(c, along ? k : 0);
  return true;
}

/* True when constant c broadcasts into type y without growing it (every
 * aligned dim of c is 1 or equals y's known dim). */
static bool bcast_into(const aicc_tensor *c, const aicc_type *y) {
  if (!c || y->rank < 0 || c->rank > y->rank) return false;
  for (int i = 0; i < c->rank; i++) {
    aicc_dim d = y->dims[y->rank - c->rank + i];
    if (c->dims[i] != 1 && !(aicc_dim_is_known(d) && d.size == c->dims[i])) return false;
  }
  return true;
}

/* A copy of constant w with every element multiplied by s[chan(index)]. */
typedef int64_t (*chan_fn)(int64_t flat, const int64_t *dims, int64_t inner, const void *arg);

static aicc_status scaled_copy(const aicc_tensor *w, const double *s, int64_t inner,
                               chan_fn chan, const void *arg, aicc_tensor **out) {
  AICC_TRY(aicc_tensor_clone(w, out));
  int64_t n = aicc_tensor_numel(w);
  for (int64_t i = 0; i < n; i++)
    aicc_tensor_set_f64(*out, i, aicc_tensor_get_f64(w, i) * s[chan(i, w->dims, inner, arg)]);
  return NULL;
}

/* Conv weight [M, C/g, k...]: the output channel is the leading index. */
static int64_t chan_conv(int64_t i, const int64_t *dims, int64_t inner, const void *arg) {
  (void)arg;
  return i / (inner * dims[1]);
}

/* ConvTranspose weight [Cin, M/g, k...]: input channel ci of group ci/(Cin/g)
 * writes output channel (ci/(Cin/g))*(M/g) + j. */
static int64_t chan_convt(int64_t i, const int64_t *dims, int64_t inner, const void *arg) {
  int64_t group = *(const int64_t *)arg, mg = dims[1];
  int64_t ci = i / (inner * mg), j = (i / inner) % mg;
  return (ci / (dims[0] / group)) * mg + j;
}

/* Gemm/MatMul weight [K,N] (channel: column) or, transposed, [N,K] (row). */
static int64_t chan_col(int64_t i, const int64_t *dims, int64_t inner, const void *arg) {
  (void)inner, (void)arg;
  return i % dims[1];
}
static int64_t chan_row(int64_t i, const int64_t *dims, int64_t inner, const void *arg) {
  (void)dims, (void)arg;
  return i / inner;
}

/* New bias[c] = old[c] * s[c] + t[c] (old, s, t may be absent). */
static aicc_status channel_bias(aicc_graph *g, aicc_dtype dt, int64_t C, const aicc_tensor *old,
                                const double *s, const double *t, aicc_value **out) {
  aicc_tensor *b;
  AICC_TRY(aicc_tensor_create(dt, 1, &C, &b));
  for (int64_t k = 0; k < C; k++)
    aicc_tensor_set_f64(b, k, (old ? aicc_tensor_get_f64(old, k) : 0) * (s ? s[k] : 1) +
                                  (t ? t[k] : 0));
  return aicc_rewrite_const_new(g, b, out);
}

/* Folds y = P(...); root(y) = y*s[c] + t[c] (c: channel axis 1 of y; s or t
 * may be NULL) into P's constant weight and bias, when P is a Conv,
 * ConvTranspose, Gemm, or a MatMul of a 2-D input by a constant 2-D weight
 * (which becomes a Gemm). The replacement defines root's output; P and root
 * go. Leaves everything alone (fired false) when P does not qualify. */
static aicc_status fold_affine(aicc_graph *g, aicc_node *root, aicc_node *p, const double *s,
                               const double *t, int64_t C, bool *fired) {
  if (!p || p->n_outputs != 1 || aicc_rewrite_uses(p->outputs[0]) != 1) return NULL;
  aicc_value *y = p->outputs[0];
  if (!aicc_rewrite_is_float(y->type.dtype)) return NULL;
  bool conv = is_op(p, "Conv"), convt = is_op(p, "ConvTranspose"), gemm = is_op(p, "Gemm"),
       matmul = is_op(p, "MatMul");
  if (!conv && !convt && !gemm && !matmul) return NULL;
  if (p->n_inputs < 2) return NULL;
  const aicc_tensor *w = aicc_rewrite_const(p->inputs[1]);
  aicc_value *bias_in = p->n_inputs > 2 ? p->inputs[2] : NULL;
  const aicc_tensor *bias = bias_in ? aicc_rewrite_const(bias_in) : NULL;
  if (bias_in && !bias) return NULL;
  if (w && w->dtype != y->type.dtype) return NULL;
  if (bias && bias->dtype != y->type.dtype) return NULL;
  aicc_model *m = g->model;
  aicc_value *in[3] = {p->inputs[0], p->inputs[1], NULL};
  aicc_tensor *nw = NULL;
  aicc_status st = NULL;
  const char *op = p->op_type;
  double beta = 1;

  if (conv || convt) {
    if (!w || w->rank < 3) return NULL;
    int64_t inner = 1, group = aicc_node_attr_int(p, "group", 1);
    for (int i = 2; i < w->rank; i++) inner *= w->dims[i];
    int64_t M = conv ? w->dims[0] : w->dims[1] * group;
    if (M != C || group < 1 || (convt && w->dims[0] % group)) return NULL;
    if (bias && (bias->rank != 1 || bias->dims[0] != C)) return NULL;
    if (s) AICC_TRY(scaled_copy(w, s, inner, conv ? chan_conv : chan_convt, &group, &nw));
  } else {
    /* Gemm / MatMul: the output is [M,N]; the channel is N. */
    const aicc_type *a = &p->inputs[0]->type;
    if (a->rank != 2 || y->type.rank != 2) return NULL;
    bool transB = gemm && aicc_node_attr_int(p, "transB", 0);
    if (matmul && (!w || w->rank != 2 || !t)) return NULL;
    if (gemm && aicc_model_opset(m, "") < 11 && !bias_in && !t) return NULL;
    const aicc_type *bt = &p->inputs[1]->type;
    if (bt->rank != 2) return NULL;
    aicc_dim nd = bt->dims[transB ? 0 : 1];
    if (!aicc_dim_is_known(nd) || nd.size != C) return NULL;
    if (s && !w) return NULL;
    /* C must broadcast to [M,N] along the channel as it already does. */
    if (bias && (bias->rank > 2 ||
                 (bias->rank >= 1 && bias->dims[bias->rank - 1] != 1 &&
                  bias->dims[bias->rank - 1] != C)))
      return NULL;
    if (s) AICC_TRY(scaled_copy(w, s, w->dims[1], transB ? chan_row : chan_col, NULL, &nw));
    if (gemm) beta = aicc_node_attr_float(p, "beta", 1.0f);
    op = "Gemm";
  }

  /* The new bias (Conv: [C]; Gemm: [C] or [Mc,C] when C had rows). */
  aicc_value *nb = bias_in;
  if (conv || convt) {
    if ((s && bias) || t) st = channel_bias(g, y->type.dtype, C, bias, s, t, &nb);
  } else if ((s && bias) || t) {
    int64_t rows = bias && bias->rank == 2 ? bias->dims[0] : 1;
    int64_t dims[2] = {rows, C};
    aicc_tensor *c;
    st = rows == 1 ? aicc_tensor_create(y->type.dtype, 1, &C, &c)
                   : aicc_tensor_create(y->type.dtype, 2, dims, &c);
    if (!st) {
      for (int64_t i = 0; i < rows; i++)
        for (int64_t k = 0; k < C; k++) {
          double old = 0;
          if (bias) {
            int64_t idx = bias->rank == 0   ? 0
                          : bias->rank == 1 ? (bias->dims[0] == 1 ? 0 : k)
                                            : (bias->dims[0] == 1 ? 0 : i) * bias->dims[1] +
                                                  (bias->dims[1] == 1 ? 0 : k);
            old = beta * aicc_tensor_get_f64(bias, idx);
          }
          aicc_tensor_set_f64(c, i * C + k, old * (s ? s[k] : 1) + (t ? t[k] : 0));
        }
      st = aicc_rewrite_const_new(g, c, &nb);
    }
  }
  if (st) goto fail;
  if (nw) {
    aicc_tensor *owned = nw;
    nw = NULL;
    if ((st = aicc_rewrite_const_new(g, owned, &in[1]))) goto fail;
  }
  in[2] = nb;

  aicc_value *out = root->outputs[0];
  aicc_graph_node_remove(g, root);
  aicc_node *n;
  if ((st = aicc_rewrite_emit(g, p->name, op, in, nb ? 3 : 2, out, &n))) goto fail;
  if (!matmul) {
    if ((st = aicc_node_attrs_copy(n, p))) goto fail;
    if (gemm && nb != bias_in && (st = aicc_node_attr_set_float(n, "beta", 1.0f))) goto fail;
  }
  aicc_rewrite_drop_unused(g, &p, 1);
  *fired = true;
  return NULL;
fail:
  aicc_tensor_release(nw);
  return st;
}

/* --- rules --- */

static bool other_outputs_unused(const aicc_node *n) {
  for (int k = 1; k < n->n_outputs; k++)
    if (n->outputs[k] && aicc_rewrite_uses(n->outputs[k]) > 0) return false;
  return true;
}

/* BatchNormalization in inference form with constant parameters: folded into
 * the Conv/ConvTranspose/Gemm/MatMul before it, else y = x*s + t (Mul, Add)
 * with s = gamma/sqrt(var+eps), t = beta - mean*s, which later passes fuse. */
static aicc_status rule_batchnorm(aicc_graph *g, aicc_node *bn, bool *fired) {
  if (bn->n_inputs != 5 || aicc_node_attr_int(bn, "training_mode", 0) != 0 ||
      aicc_node_attr_int(bn, "spatial", 1) != 1 || !other_outputs_unused(bn))
    return NULL;
  aicc_value *x = bn->inputs[0];
  int r = x->type.rank;
  if (r < 2 || !aicc_rewrite_is_float(x->type.dtype)) return NULL;
  const aicc_tensor *prm[4];
  for (int i = 0; i < 4; i++) {
    prm[i] = aicc_rewrite_const(bn->inputs[i + 1]);
    if (!prm[i] || prm[i]->rank != 1 || !aicc_rewrite_is_float(prm[i]->dtype)) return NULL;
    if (prm[i]->dims[0] != prm[0]->dims[0]) return NULL;
  }
  int64_t C = prm[0]->dims[0];
  if (!aicc_dim_is_known(x->type.dims[1]) || x->type.dims[1].size != C) return NULL;
  double eps = aicc_node_attr_float(bn, "epsilon", 1e-5f);
  double *s = malloc(sizeof *s * (size_t)(2 * C + 1)), *t = s ? s + C : NULL;
  if (!s) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  for (int64_t k = 0; k < C; k++) {
    s[k] = aicc_tensor_get_f64(prm[0], k) / sqrt(aicc_tensor_get_f64(prm[3], k) + eps);
    t[k] = aicc_tensor_get_f64(prm[1], k) - aicc_tensor_get_f64(prm[2], k) * s[k];
  }
  /* fold_affine takes Gemm/MatMul only with a 2-D result: channel = last dim. */
  aicc_status st = fold_affine(g, bn, x->producer, s, t, C, fired);
  if (st || *fired) goto done;
  if (aicc_model_opset(g->model, "") < 7) goto done; /* Mul/Add broadcast needs opset 7 */
  /* No producer to fold into: scale and shift shaped [C,1,...] for axis 1. */
  int64_t dims[AICC_MAX_RANK];
  dims[0] = C;
  for (int i = 1; i < r - 1; i++) dims[i] = 1;
  aicc_tensor *ts = NULL, *tt = NULL;
  aicc_value *vs, *vt, *mid;
  if ((st = aicc_tensor_create(x->type.dtype, r - 1, dims, &ts))) goto done;
  if ((st = aicc_tensor_create(x->type.dtype, r - 1, dims, &tt))) {
    aicc_tensor_release(ts);
    goto done;
  }
  for (int64_t k = 0; k < C; k++) {
    aicc_tensor_set_f64(ts, k, s[k]);
    aicc_tensor_set_f64(tt, k, t[k]);
  }
  if ((st = aicc_rewrite_const_new(g, ts, &vs))) {
    aicc_tensor_release(tt);
    goto done;
  }
  if ((st = aicc_rewrite_const_new(g, tt, &vt))) goto done;
  aicc_value *out = bn->outputs[0];
  if ((st = aicc_rewrite_value_new(g, &out->type, &mid))) goto done;
  aicc_graph_node_remove(g, bn);
  aicc_node *n;
  aicc_value *in1[2] = {x, vs}, *in2[2] = {mid, vt};
  /* Node names must stay unique (onnxruntime checks): suffix the BN's. */
  char nm[2][256];
  snprintf(nm[0], sizeof nm[0], "%s%s", bn->name, *bn->name ? "_scale" : "");
  snprintf(nm[1], sizeof nm[1], "%s%s", bn->name, *bn->name ? "_shift" : "");
  if ((st = aicc_rewrite_emit(g, nm[0], "Mul", in1, 2, mid, &n))) goto done;
  if ((st = aicc_rewrite_emit(g, nm[1], "Add", in2, 2, out, &n))) goto done;
  *fired = true;
done:
  free(s);
  return st;
}

/* Splits a binary root into (constant, other) when exactly one side is a
 * constant; false otherwise. */
static bool const_operand(const aicc_node *n, const aicc_tensor **c, aicc_value **other) {
  if (n->n_inputs != 2 || n->n_outputs != 1) return false;
  const aicc_tensor *c0 = aicc_rewrite_const(n->inputs[0]), *c1 = aicc_rewrite_const(n->inputs[1]);
  if (!c0 == !c1) return false;
  *c = c0 ? c0 : c1;
  *other = c0 ? n->inputs[1] : n->inputs[0];
  return true;
}

/* y*c or y+c with c one number per output channel of a Conv/ConvTranspose/
 * Gemm y: folded into its weight (scale) or bias (shift). */
static aicc_status fold_channel_const(aicc_graph *g, aicc_node *root, bool scale, bool *fired) {
  const aicc_tensor *c;
  aicc_value *y;
  if (!const_operand(root, &c, &y)) return NULL;
  aicc_node *p = y->producer;
  if (!is_op(p, "Conv") && !is_op(p, "ConvTranspose") && !is_op(p, "Gemm")) return NULL;
  int r = y->type.rank;
  if (r < 2 || !aicc_dim_is_known(y->type.dims[1]) || c->dtype != y->type.dtype) return NULL;
  int64_t C = y->type.dims[1].size;
  double *v = malloc(sizeof *v * (size_t)(C ? C : 1));
  if (!v) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  aicc_status st = NULL;
  if (per_channel(c, r, C, v))
    st = fold_affine(g, root, p, scale ? v : NULL, scale ? NULL : v, C, fired);
  free(v);
  return st;
}

static aicc_status rule_add_into_bias(aicc_graph *g, aicc_node *add, bool *fired) {
  AICC_TRY(fold_channel_const(g, add, false, fired));
  if (*fired) return NULL;
  /* Gemm without C plus a constant that broadcasts to [M,N]: that is its C. */
  const aicc_tensor *c;
  aicc_value *y;
  if (!const_operand(add, &c, &y)) return NULL;
  aicc_node *p = aicc_rewrite_producer(y, "Gemm");
  if (!p || p->n_inputs < 2 || (p->n_inputs > 2 && p->inputs[2]) || aicc_rewrite_uses(y) != 1 ||
      c->dtype != y->type.dtype ||
      c->rank > 2 || !bcast_into(c, &y->type))
    return NULL;
  aicc_value *in[3] = {p->inputs[0], p->inputs[1],
                       add->inputs[aicc_rewrite_const(add->inputs[0]) ? 0 : 1]};
  aicc_value *out = add->outputs[0];
  aicc_graph_node_remove(g, add);
  aicc_node *n;
  AICC_TRY(aicc_rewrite_emit(g, p->name, "Gemm", in, 3, out, &n));
  AICC_TRY(aicc_node_attrs_copy(n, p));
  AICC_TRY(aicc_node_attr_set_float(n, "beta", 1.0f));
  aicc_rewrite_drop_unused(g, &p, 1);
  *fired = true;
  return NULL;
}

static aicc_status rule_mul_into_weight(aicc_graph *g, aicc_node *mul, bool *fired) {
  return fold_channel_const(g, mul, true, fired);
}

/* MatMul(A, B) + c -> Gemm(A, B, c): A 2-D, B a constant 2-D weight, c a
 * constant that broadcasts to the [M,N] result (Gemm's C). */
static aicc_status rule_matmul_add(aicc_graph *g, aicc_node *add, bool *fired) {
  const aicc_tensor *c;
  aicc_value *y;
  if (!const_operand(add, &c, &y)) return NULL;
  aicc_node *p = aicc_rewrite_producer(y, "MatMul");
  if (!p || aicc_rewrite_uses(y) != 1 || !aicc_rewrite_is_float(y->type.dtype)) return NULL;
  const aicc_tensor *b = aicc_rewrite_const(p->inputs[1]);
  if (p->inputs[0]->type.rank != 2 || !b || b->rank != 2 || y->type.rank != 2) return NULL;
  if (c->dtype != y->type.dtype || c->rank > 2 || !bcast_into(c, &y->type)) return NULL;
  aicc_value *in[3] = {p->inputs[0], p->inputs[1],
                       add->inputs[aicc_rewrite_const(add->inputs[0]) ? 0 : 1]};
  aicc_value *out = add->outputs[0];
  aicc_graph_node_remove(g, add);
  aicc_node *n;
  AICC_TRY(aicc_rewrite_emit(g, p->name, "Gemm", in, 3, out, &n));
  aicc_rewrite_drop_unused(g, &p, 1);
  *fired = true;
  return NULL;
}

/* --- the rule table and the driver --- */

typedef struct rewrite_rule {
  const char *root;  /* op type of the pattern's root (default domain) */
  int min_opset;     /* default-domain opset the replacement needs */
  aicc_rewrite_fn fn;
} rewrite_rule;

static const rewrite_rule rules[] = {
    {"BatchNormalization", 1, rule_batchnorm},
    {"Add", 7, rule_add_into_bias},
    {"Add", 7, rule_matmul_add},
    {"Mul", 7, rule_mul_into_weight},
    {"Div", 17, aicc_rewrite_layernorm_core},  /* LayerNormalization-17 */
    {"Mul", 17, aicc_rewrite_layernorm_scale},
    {"Add", 17, aicc_rewrite_layernorm_bias},
    {"Mul", 20, aicc_rewrite_gelu_erf},        /* Gelu-20 */
    {"Mul", 20, aicc_rewrite_gelu_tanh},
    {"MatMul", 23, aicc_rewrite_attention},    /* Attention-23 */
};

/* Moves the nodes appended from index `from` on to index `at` (the root's
 * slot), so the replacement sits where the pattern was: its inputs are all
 * defined before the root, and the printed order stays readable. */
static void move_before(aicc_graph *g, size_t from, size_t at) {
  size_t k = g->nodes.len - from;
  if (!k || at >= from) return;
  aicc_node **tmp = malloc(sizeof *tmp * k);
  if (!tmp) return; /* order is only cosmetic here: the toposort fixes it */
  memcpy(tmp, g->nodes.data + from, sizeof *tmp * k);
  memmove(g->nodes.data + at + k, g->nodes.data + at, sizeof *tmp * (from - at));
  memcpy(g->nodes.data + at, tmp, sizeof *tmp * k);
  free(tmp);
}

static aicc_status sweep(aicc_graph *g, int opset, int64_t *changes) {
  /* A replacement is visited right after it is placed (rules chain). */
  for (size_t i = 0; i < g->nodes.len; i++) {
    aicc_node *n = g->nodes.data[i];
    if (n->dead) continue;
    if (!*n->domain)
      for (size_t r = 0; r < sizeof rules / sizeof rules[0] && !n->dead; r++) {
        if (opset < rules[r].min_opset || strcmp(n->op_type, rules[r].root) != 0) continue;
        bool fired = false;
        size_t len = g->nodes.len;
        AICC_TRY(rules[r].fn(g, n, &fired));
        if (fired) {
          (*changes)++;
          move_before(g, len, i);
          break;
        }
      }
    if (n->dead) {
      i--; /* revisit slot i: it now holds the replacement (wraps at 0, then ++) */
      continue;
    }
    for (int a = 0; a < n->n_attrs; a++) {
      if (n->attrs[a].kind == AICC_ATTR_GRAPH) AICC_TRY(sweep(n->attrs[a].g, opset, changes));
      if (n->attrs[a].kind == AICC_ATTR_GRAPHS)
        for (int64_t j = 0; j < n->attrs[a].n; j++)
          AICC_TRY(sweep(n->attrs[a].gs[j], opset, changes));
    }
  }
  return NULL;
}

static aicc_status rewrite_run(aicc_model *m, aicc_pass_ctx *ctx) {
  int opset = aicc_model_opset(m, "");
  int64_t total = 0;
  /* A rewrite can enable another (BN -> Conv, then Add into its bias). */
  for (int round = 0; round < 8; round++) {
    int64_t changes = 0;
    AICC_TRY(sweep(m->graph, opset, &changes));
    total += changes;
    if (!changes) break;
  }
  if (total) {
    aicc_graph_compact(m->graph);
    AICC_TRY(aicc_graph_toposort(m->graph));
  }
  ctx->changes += total;
  return NULL;
}

const aicc_pass aicc_pass_rewrite = {
    "rewrite", "inference rewrites: fold BatchNorm/bias/scale into Conv/Gemm, MatMul+Add->Gemm, "
               "fuse LayerNorm/GELU/attention patterns", rewrite_run};
