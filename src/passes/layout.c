/* Layout transformation: runs 2-D f32 group-1 convolutions in the blocked
 * layout NCHW16c (one AVX-512 f32 vector of channels innermost) with weights
 * pre-packed OIHW16i16o, as in Liu et al., "Optimizing CNN Model Inference
 * on CPUs", USENIX ATC 2019 (layout choice per op, blocked layouts kept
 * across a chain of convs and the layout-oblivious ops between them, with
 * conversions only at region boundaries). The ops are ai.aicc::ConvBlocked,
 * ai.aicc::DepthwiseBlocked (weights packed [C/16, kh, kw, 16]: each tap is
 * one vector of 16 channels) and ai.aicc::LayoutTransform
 * (src/ops/aicc_layout.c).
 *
 * Works on the main graph only (subgraphs are left alone; a value read in a
 * subgraph counts as a plain use), in phases:
 *   1. forward: every eligible Conv (static C/H/W, f32, 2-D, constant
 *      weight, group 1 or depthwise with group == C == O; other grouped
 *      convs stay NCHW) is blocked;
 *      a layout-agnostic op (elementwise; Concat on channels when all inputs
 *      but the last fill whole blocks; 2-D MaxPool/AveragePool, run as 3-D
 *      pools with a one-lane window, and GlobalAveragePool/GlobalMaxPool, run
 *      as such a pool of the whole image) is blocked when one input comes from a
 *      blocked node and every other input is blocked too, a numel-1 scalar,
 *      a constant (per-channel or full shape, repacked at compile time) or a
 *      plain value of a fitting shape (converted by one LayoutTransform);
 *   2. backward: an elementwise op whose result feeds no blocked node and
 *      that needed a conversion of a plain input goes back to NCHW (keeping
 *      it blocked would cost two conversions instead of one);
 *   3. rewrite: blocked nodes get new blocked outputs; each original value
 *      keeps its name and NCHW type and, when anything still reads it plain
 *      (a plain node, a subgraph, a graph output), is produced by one
 *      LayoutTransform back; each plain value read blocked gets one
 *      LayoutTransform to NCHW16c, shared by all its blocked readers;
 *      except that a dense conv reads a plain input of fewer than 16
 *      channels as it is (ConvBlocked takes NCHW then): a network's first
 *      conv on a 3-channel image would otherwise convert it to 16 lanes, 13
 *      of them zero, a pass over 5x the image's bytes that costs as much
 *      as the conv;
 *   4. LayoutTransform pairs that meet (A->B then B->A) cancel.
 * Graph outputs never change layout. Padding lanes (channels past C in the
 * last block) are don't-care: ConvBlocked and LayoutTransform ignore them
 * on input and write zeros, so elementwise ops that turn 0 into nonzero
 * (Sigmoid, Clip with min > 0, Add of a bias) may run on blocked tensors. */
#include "passes/pass.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BLOCK = 16, MAX_IN = 16 };
static const char *const DOMAIN = "ai.aicc";
static const char *const BLOCKED_NAME = "NCHW16c";

typedef enum in_class { IN_BAD = -1, IN_NONE, IN_BLOCKED, IN_SCALAR, IN_CONST, IN_PLAIN } in_class;

typedef struct lctx {
  aicc_model *m;
  aicc_graph *g;
  uint32_t nv;           /* ids of values that existed when the pass began */
  bool *blocked_prod;    /* value produced by a node chosen for blocking */
  int32_t *blocked_uses; /* input slots of blocked nodes that read the value blocked */
  int32_t *uses;         /* all uses (nodes, subgraphs, graph outputs) */
  aicc_value **blk;      /* the value's blocked version, once made */
  int64_t convs, elems, to_blocked, to_plain, cancelled;
} lctx;

static const char *const unary_ops[] = {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip",
                                        "HardSigmoid", "HardSwish", "Elu", "Neg", "Abs"};
static const char *const binary_ops[] = {"Add", "Sub", "Mul", "Div"};

static bool in_list(const char *op, const char *const *list, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(op, list[i]) == 0) return true;
  return false;
}

static bool default_domain(const aicc_node *n) { return !n->domain || !*n->domain; }

/* Ops that may run blocked as standard ops: elementwise (unary ones' extra
 * inputs must be scalars), Concat on channels (blocks concatenate when all
 * inputs but the last fill whole blocks), and 2-D max/average pooling (run
 * as 3-D pooling over [H, W, lanes] with a window of 1 lane). */
typedef enum nkind { NK_NONE, NK_UNARY, NK_BINARY, NK_CONCAT, NK_POOL, NK_GPOOL } nkind;

static bool ints_len(const aicc_node *n, const char *name, int64_t want) {
  int64_t len;
  return !aicc_node_attr_ints(n, name, &len) || len == want;
}

static bool static_nchw(const aicc_type *t, int64_t *d);

static nkind node_kind(const aicc_node *n) {
  if (!default_domain(n) || n->n_outputs != 1 || n->n_inputs < 1 || n->n_inputs > MAX_IN)
    return NK_NONE;
  if (in_list(n->op_type, unary_ops, sizeof unary_ops / sizeof *unary_ops)) return NK_UNARY;
  if (n->n_inputs == 2 && in_list(n->op_type, binary_ops, sizeof binary_ops / sizeof *binary_ops))
    return NK_BINARY;
  if (strcmp(n->op_type, "Concat") == 0) {
    int64_t axis = aicc_node_attr_int(n, "axis", 0);
    return axis == 1 || axis == -3 ? NK_CONCAT : NK_NONE;
  }
  if ((strcmp(n->op_type, "MaxPool") == 0 || strcmp(n->op_type, "AveragePool") == 0) &&
      n->n_inputs == 1) {
    int64_t len;
    if (!aicc_node_attr_ints(n, "kernel_shape", &len) || len != 2) return NK_NONE;
    if (!ints_len(n, "strides", 2) || !ints_len(n, "pads", 4) || !ints_len(n, "dilations", 2))
      return NK_NONE;
    return NK_POOL;
  }
  /* Global pooling runs as the 2-D pool of the whole H x W window: the
   * conversion back is then of C values, not C*H*W (MobileNetV2's last
   * 1280 x 7 x 7, a scalar transpose, cost as much as a conv). */
  if ((strcmp(n->op_type, "GlobalAveragePool") == 0 || strcmp(n->op_type, "GlobalMaxPool") == 0) &&
      n->n_inputs == 1 && n->inputs[0]) {
    int64_t d[4];
    return static_nchw(&n->inputs[0]->type, d) ? NK_GPOOL : NK_NONE;
  }
  return NK_NONE;
}

/* An f32 tensor [N,C,H,W] with C, H, W known (N may be symbolic): fills
 * d with C, H, W in d[1..3] (d[0] is N's size or -1). */
static bool static_nchw(const aicc_type *t, int64_t *d) {
  if (t->kind != AICC_KIND_TENSOR || t->dtype != AICC_DTYPE_F32 || t->rank != 4) return false;
  for (int i = 1; i < 4; i++)
    if (!aicc_dim_is_known(t->dims[i])) return false;
  if (!aicc_dim_is_known(t->dims[0]) && !t->dims[0].sym) return false;
  for (int i = 0; i < 4; i++) d[i] = t->dims[i].size;
  return true;
}

/* Same [N,C,H,W] (N the same size or the same symbol). */
static bool dims_eq(const aicc_type *t, const aicc_type *ref) {
  int64_t e[4];
  if (!static_nchw(t, e) || !static_nchw(ref, e)) return false;
  for (int i = 0; i < 4; i++)
    if (!aicc_dim_equal(t->dims[i], ref->dims[i])) return false;
  return true;
}

static int64_t blocks(int64_t c) { return (c + BLOCK - 1) / BLOCK; }

/* [N, ceil(C/16), H, W, 16] of an NCHW type (N keeps its symbol). */
static aicc_type blocked_type(const aicc_type *t) {
  aicc_type b = *t;
  b.rank = 5;
  b.dims[1] = aicc_dim_known(blocks(t->dims[1].size));
  b.dims[4] = aicc_dim_known(BLOCK);
  return b;
}

typedef enum conv_kind { CK_NONE, CK_DENSE, CK_DEPTHWISE } conv_kind;

/* Whether n is a Conv the pass blocks: group 1 (ConvBlocked) or depthwise,
 * group == C == O with weight [C, 1, kh, kw] (DepthwiseBlocked). */
static conv_kind conv_of(const aicc_node *n) {
  if (!default_domain(n) || strcmp(n->op_type, "Conv") != 0 || n->n_outputs != 1 ||
      n->n_inputs < 2 || n->n_inputs > 3 || !n->inputs[0] || !n->inputs[1])
    return CK_NONE;
  int64_t x[4], y[4];
  const aicc_value *w = n->inputs[1], *b = n->n_inputs > 2 ? n->inputs[2] : NULL;
  if (!static_nchw(&n->inputs[0]->type, x) || !static_nchw(&n->outputs[0]->type, y))
    return CK_NONE;
  int64_t group = aicc_node_attr_int(n, "group", 1);
  bool dw = group > 1 && group == x[1] && y[1] == x[1];
  if (!aicc_value_const_init(w) || w->init->kind != AICC_KIND_TENSOR ||
      w->init->dtype != AICC_DTYPE_F32 || w->init->rank != 4 ||
      w->init->dims[1] != (dw ? 1 : x[1]) || w->init->dims[0] != y[1])
    return CK_NONE;
  if (b && (!aicc_value_const_init(b) || b->init->kind != AICC_KIND_TENSOR ||
            b->init->dtype != AICC_DTYPE_F32 || b->init->rank != 1 || b->init->dims[0] != y[1]))
    return CK_NONE;
  if (dw) return CK_DEPTHWISE;
  return group == 1 ? CK_DENSE : CK_NONE;
}

static bool conv_ok(const aicc_node *n) { return conv_of(n) != CK_NONE; }

static bool all_ones(const aicc_type *t) {
  if (t->rank < 0 || t->rank > 4 || !aicc_type_is_static(t)) return false;
  for (int i = 0; i < t->rank; i++)
    if (t->dims[i].size != 1) return false;
  return true;
}

/* A constant broadcasting per channel against [N,C,H,W]: [C,1,1] or [1,C,1,1]. */
static bool per_channel(const aicc_tensor *t, int64_t C) {
  if (t->rank == 3) return t->dims[0] == C && t->dims[1] == 1 && t->dims[2] == 1;
  return t->rank == 4 && t->dims[0] == 1 && t->dims[1] == C && t->dims[2] == 1 && t->dims[3] == 1;
}

/* How input v of an elementwise node with NCHW output dims d could be read
 * in a blocked region. */
static in_class classify(const lctx *c, const aicc_value *v, const aicc_type *ref) {
  if (!v) return IN_NONE;
  int64_t d[4];
  if (!static_nchw(ref, d)) return IN_BAD;
  const aicc_type *t = &v->type;
  if (t->kind != AICC_KIND_TENSOR || t->dtype != AICC_DTYPE_F32) return IN_BAD;
  if (v->id < c->nv && c->blocked_prod[v->id] && dims_eq(t, ref)) return IN_BLOCKED;
  if (all_ones(t)) return IN_SCALAR;
  if (aicc_value_const_init(v) && v->init->kind == AICC_KIND_TENSOR &&
      v->init->dtype == AICC_DTYPE_F32 && (per_channel(v->init, d[1]) || dims_eq(t, ref)))
    return IN_CONST;
  if (v->id < c->nv && !c->blocked_prod[v->id] && dims_eq(t, ref)) return IN_PLAIN;
  return IN_BAD;
}

/* An input of a Concat or pool: N (and for Concat H, W) must match the
 * output's; the channel count may differ. */
static in_class classify_nchw(const lctx *c, const aicc_value *v, const aicc_type *out,
                              bool same_hw) {
  int64_t d[4], e[4];
  if (!v || v->id >= c->nv || !static_nchw(&v->type, d) || !static_nchw(out, e) ||
      !aicc_dim_equal(v->type.dims[0], out->dims[0]) || (same_hw && (d[2] != e[2] || d[3] != e[3])))
    return IN_BAD;
  return c->blocked_prod[v->id] ? IN_BLOCKED : IN_PLAIN;
}

/* How input k of node n (of kind `kind`) would be read in a blocked region. */
static in_class input_class(const lctx *c, const aicc_node *n, nkind kind, int k) {
  const aicc_type *out = &n->outputs[0]->type;
  const aicc_value *v = n->inputs[k];
  switch (kind) {
  case NK_CONCAT:
    if (k < n->n_inputs - 1 && v && v->type.rank == 4 && aicc_dim_is_known(v->type.dims[1]) &&
        v->type.dims[1].size % BLOCK != 0)
      return IN_BAD; /* its padding would land inside the result */
    return classify_nchw(c, v, out, true);
  case NK_POOL:
  case NK_GPOOL: return classify_nchw(c, v, out, false);
  case NK_UNARY: {
    in_class ic = classify(c, v, out);
    return k > 0 && ic != IN_SCALAR && ic != IN_NONE ? IN_BAD : ic;
  }
  case NK_BINARY: return classify(c, v, out);
  case NK_NONE: break;
  }
  return IN_BAD;
}

/* Whether node n (not a conv) can run blocked now; *plain counts the inputs
 * that would need a conversion. */
static bool elem_ok(const lctx *c, const aicc_node *n, nkind kind, int *plain) {
  int64_t d[4];
  *plain = 0;
  if (kind == NK_NONE || !static_nchw(&n->outputs[0]->type, d)) return false;
  int nb = 0;
  for (int k = 0; k < n->n_inputs; k++) {
    in_class ic = input_class(c, n, kind, k);
    if (ic == IN_BAD || (k == 0 && ic == IN_NONE)) return false;
    nb += ic == IN_BLOCKED;
    *plain += ic == IN_PLAIN;
  }
  return nb > 0;
}

static void count_blocked_uses(lctx *c, const aicc_node *n, int delta) {
  if (conv_ok(n)) {
    const aicc_value *x = n->inputs[0];
    if (c->blocked_prod[x->id]) c->blocked_uses[x->id] += delta;
    return;
  }
  nkind kind = node_kind(n);
  for (int k = 0; k < n->n_inputs; k++)
    if (input_class(c, n, kind, k) == IN_BLOCKED) c->blocked_uses[n->inputs[k]->id] += delta;
}

/* Pool attributes over [H, W, lanes]: the lane axis gets window 1, stride 1,
 * dilation 1 and no padding. */
static aicc_status pool_attrs(aicc_node *nn, const aicc_node *n) {
  int64_t len, v[6];
  const int64_t *k = aicc_node_attr_ints(n, "kernel_shape", &len);
  v[0] = k[0], v[1] = k[1], v[2] = 1;
  AICC_TRY(aicc_node_attr_set_ints(nn, "kernel_shape", v, 3));
  const int64_t *st = aicc_node_attr_ints(n, "strides", &len);
  v[0] = st ? st[0] : 1, v[1] = st ? st[1] : 1, v[2] = 1;
  AICC_TRY(aicc_node_attr_set_ints(nn, "strides", v, 3));
  const int64_t *dl = aicc_node_attr_ints(n, "dilations", &len);
  if (dl) {
    v[0] = dl[0], v[1] = dl[1], v[2] = 1;
    AICC_TRY(aicc_node_attr_set_ints(nn, "dilations", v, 3));
  }
  const int64_t *p = aicc_node_attr_ints(n, "pads", &len);
  if (p) {
    int64_t q[6] = {p[0], p[1], 0, p[2], p[3], 0};
    AICC_TRY(aicc_node_attr_set_ints(nn, "pads", q, 6));
  }
  return NULL;
}

static void count_uses(const aicc_graph *g, int32_t *uses, uint32_t nv) {
  for (size_t i = 0; i < g->nodes.len; i++) {
    const aicc_node *n = g->nodes.data[i];
    if (n->dead) continue;
    for (int k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] && n->inputs[k]->id < nv) uses[n->inputs[k]->id]++;
    for (int a = 0; a < n->n_attrs; a++) {
      if (n->attrs[a].kind == AICC_ATTR_GRAPH) count_uses(n->attrs[a].g, uses, nv);
      if (n->attrs[a].kind == AICC_ATTR_GRAPHS)
        for (int64_t j = 0; j < n->attrs[a].n; j++) count_uses(n->attrs[a].gs[j], uses, nv);
    }
  }
  for (size_t o = 0; o < g->outputs.len; o++)
    if (g->outputs.data[o]->id < nv) uses[g->outputs.data[o]->id]++;
}

/* --- building --- */

/* A new value named base+suffix (or a fresh name when that is taken). */
static aicc_status new_value(aicc_graph *g, const char *base, const char *suffix,
                             const aicc_type *t, aicc_value **out) {
  char name[256];
  snprintf(name, sizeof name, "%s%s", base, suffix);
  return aicc_graph_value_add(g, aicc_graph_value_find(g, name) ? "" : name, t, out);
}

static aicc_status add_transform(lctx *c, aicc_value *in, aicc_value *out, bool to_blocked,
                                 int64_t channels) {
  aicc_node *n;
  AICC_TRY(aicc_graph_node_add(c->g, "", "LayoutTransform", DOMAIN, &in, 1, &out, 1, &n));
  AICC_TRY(aicc_node_attr_set_string(n, "src", to_blocked ? "NCHW" : BLOCKED_NAME));
  AICC_TRY(aicc_node_attr_set_string(n, "dst", to_blocked ? BLOCKED_NAME : "NCHW"));
  AICC_TRY(aicc_node_attr_set_int(n, "channels", channels));
  if (to_blocked) c->to_blocked++;
  else c->to_plain++;
  return NULL;
}

/* The blocked version of plain value v (one LayoutTransform, shared). */
static aicc_status to_blocked(lctx *c, aicc_value *v, aicc_value **out) {
  if (!c->blk[v->id]) {
    int64_t d[4];
    if (!static_nchw(&v->type, d)) return aicc_errorf(AICC_ERR_INTERNAL, "layout: not NCHW");
    aicc_type t = blocked_type(&v->type);
    aicc_value *b;
    AICC_TRY(new_value(c->g, v->name, "_16c", &t, &b));
    AICC_TRY(add_transform(c, v, b, true, d[1]));
    c->blk[v->id] = b;
  }
  *out = c->blk[v->id];
  return NULL;
}

static aicc_status add_init(lctx *c, const char *base, aicc_tensor *t, aicc_value **out) {
  char name[256];
  snprintf(name, sizeof name, "%s_16c", base);
  aicc_status s =
      aicc_graph_init_add(c->g, aicc_graph_value_find(c->g, name) ? "" : name, t, out);
  if (s) aicc_tensor_release(t);
  return s;
}

/* Packs constant v ([C,1,1], [1,C,1,1] or [N,C,H,W] against output dims d)
 * as a blocked constant with zero padding lanes. */
static aicc_status const_blocked(lctx *c, aicc_value *v, const int64_t *d, aicc_value **out) {
  if (c->blk[v->id]) {
    *out = c->blk[v->id];
    return NULL;
  }
  const aicc_tensor *s = v->init;
  bool full = s->rank == 4 && !per_channel(s, d[1]);
  int64_t N = full ? s->dims[0] : 1, C = d[1], S = full ? d[2] * d[3] : 1, Cb = blocks(C);
  int64_t bd[5] = {N, Cb, full ? d[2] : 1, full ? d[3] : 1, BLOCK};
  aicc_tensor *t;
  AICC_TRY(aicc_tensor_create(AICC_DTYPE_F32, 5, bd, &t));
  const float *x = s->data;
  float *y = t->data;
  for (int64_t n = 0; n < N; n++)
    for (int64_t ch = 0; ch < C; ch++)
      for (int64_t i = 0; i < S; i++)
        y[((n * Cb + ch / BLOCK) * S + i) * BLOCK + ch % BLOCK] = x[(n * C + ch) * S + i];
  AICC_TRY(add_init(c, v->name, t, out));
  c->blk[v->id] = *out;
  return NULL;
}

/* OIHW -> OIHW16i16o: [Ob, Ib, kh, kw, 16(i), 16(o)], zero padded. */
static aicc_status pack_weight(lctx *c, aicc_value *w, aicc_value **out) {
  if (c->blk[w->id]) {
    *out = c->blk[w->id];
    return NULL;
  }
  const aicc_tensor *s = w->init;
  int64_t O = s->dims[0], I = s->dims[1], K = s->dims[2] * s->dims[3];
  int64_t Ob = blocks(O), Ib = blocks(I);
  int64_t bd[6] = {Ob, Ib, s->dims[2], s->dims[3], BLOCK, BLOCK};
  aicc_tensor *t;
  AICC_TRY(aicc_tensor_create(AICC_DTYPE_F32, 6, bd, &t));
  const float *x = s->data;
  float *y = t->data;
  for (int64_t o = 0; o < O; o++)
    for (int64_t i = 0; i < I; i++)
      for (int64_t k = 0; k < K; k++)
        y[(((o / BLOCK) * Ib + i / BLOCK) * K + k) * BLOCK * BLOCK + (i % BLOCK) * BLOCK +
          o % BLOCK] = x[(o * I + i) * K + k];
  AICC_TRY(add_init(c, w->name, t, out));
  c->blk[w->id] = *out;
  return NULL;
}

/* Depthwise [C, 1, kh, kw] -> [Cb, kh, kw, 16], zero padded. */
static aicc_status pack_depthwise(lctx *c, aicc_value *w, aicc_value **out) {
  if (c->blk[w->id]) {
    *out = c->blk[w->id];
    return NULL;
  }
  const aicc_tensor *s = w->init;
  int64_t C = s->dims[0], K = s->dims[2] * s->dims[3];
  int64_t bd[4] = {blocks(C), s->dims[2], s->dims[3], BLOCK};
  aicc_tensor *t;
  AICC_TRY(aicc_tensor_create(AICC_DTYPE_F32, 4, bd, &t));
  const float *x = s->data;
  float *y = t->data;
  for (int64_t ch = 0; ch < C; ch++)
    for (int64_t k = 0; k < K; k++) y[((ch / BLOCK) * K + k) * BLOCK + ch % BLOCK] = x[ch * K + k];
  AICC_TRY(add_init(c, w->name, t, out));
  c->blk[w->id] = *out;
  return NULL;
}

/* ConvBlocked's bias [O] -> [ceil(O/16)*16], zero padded, so it reads a
 * whole vector of biases per output block with no bounds select (a padding
 * stage in the kernel would be a second root and keep the conv's loop from
 * running in parallel). */
static aicc_status pad_bias(lctx *c, aicc_value *bv, aicc_value **out) {
  const aicc_tensor *s = bv->init;
  int64_t O = s->dims[0], n = blocks(O) * BLOCK;
  if (n == O) {
    *out = bv;
    return NULL;
  }
  if (c->blk[bv->id]) {
    *out = c->blk[bv->id];
    return NULL;
  }
  aicc_tensor *t;
  AICC_TRY(aicc_tensor_create(AICC_DTYPE_F32, 1, &n, &t));
  float *y = t->data;
  const float *x = s->data;
  for (int64_t o = 0; o < n; o++) y[o] = o < O ? x[o] : 0.0f;
  AICC_TRY(add_init(c, bv->name, t, out));
  c->blk[bv->id] = *out;
  return NULL;
}

/* Replaces blocked node n by its blocked form; its old output keeps its
 * name and type and is made by a LayoutTransform back when read plain. */
static aicc_status rewrite_node(lctx *c, aicc_node *n) {
  aicc_value *y = n->outputs[0];
  int64_t d[4];
  if (!static_nchw(&y->type, d)) return aicc_errorf(AICC_ERR_INTERNAL, "layout: output");
  aicc_value *ins[MAX_IN] = {NULL};
  conv_kind ck = conv_of(n);
  bool conv = ck != CK_NONE;
  nkind kind = conv ? NK_NONE : node_kind(n);
  if (n->n_inputs > MAX_IN) return aicc_errorf(AICC_ERR_INTERNAL, "layout: arity");
  if (conv) {
    aicc_value *x = n->inputs[0];
    if (c->blocked_prod[x->id]) ins[0] = c->blk[x->id];
    else if (ck == CK_DENSE && x->type.dims[1].size < BLOCK) ins[0] = x; /* see below */
    else AICC_TRY(to_blocked(c, x, &ins[0]));
    if (ck == CK_DEPTHWISE) AICC_TRY(pack_depthwise(c, n->inputs[1], &ins[1]));
    else AICC_TRY(pack_weight(c, n->inputs[1], &ins[1]));
    if (n->n_inputs > 2 && ck == CK_DENSE) AICC_TRY(pad_bias(c, n->inputs[2], &ins[2]));
    else if (n->n_inputs > 2) ins[2] = n->inputs[2]; /* DepthwiseBlocked's bias stays [C] */
  } else {
    for (int k = 0; k < n->n_inputs; k++) {
      aicc_value *v = n->inputs[k];
      switch (input_class(c, n, kind, k)) {
      case IN_BLOCKED: ins[k] = c->blk[v->id]; break;
      case IN_CONST: AICC_TRY(const_blocked(c, v, d, &ins[k])); break;
      case IN_PLAIN: AICC_TRY(to_blocked(c, v, &ins[k])); break;
      case IN_SCALAR:
      case IN_NONE: ins[k] = v; break;
      case IN_BAD: return aicc_errorf(AICC_ERR_INTERNAL, "layout: input %d of %s", k, n->op_type);
      }
    }
  }
  for (int k = 0; k < n->n_inputs; k++)
    if (n->inputs[k] && !ins[k])
      return aicc_errorf(AICC_ERR_INTERNAL, "layout: no blocked value for %s", n->inputs[k]->name);
  aicc_type bt = blocked_type(&y->type);
  aicc_value *yb;
  AICC_TRY(new_value(c->g, y->name, "_16c", &bt, &yb));
  aicc_node *nn;
  const char *op = ck == CK_DEPTHWISE ? "DepthwiseBlocked" : conv ? "ConvBlocked" : n->op_type;
  if (kind == NK_GPOOL) op = strcmp(n->op_type, "GlobalMaxPool") == 0 ? "MaxPool" : "AveragePool";
  AICC_TRY(aicc_graph_node_add(c->g, n->name, op,
                               conv ? DOMAIN : n->domain, ins, n->n_inputs, &yb, 1, &nn));
  AICC_TRY(aicc_node_attrs_copy(nn, n));
  if (conv) {
    AICC_TRY(aicc_node_attr_set_int(nn, "block", BLOCK));
    AICC_TRY(aicc_node_attr_set_int(nn, "channels", n->inputs[0]->type.dims[1].size));
    c->convs++;
  } else {
    if (kind == NK_CONCAT) AICC_TRY(aicc_node_attr_set_int(nn, "axis", 1));
    if (kind == NK_POOL) AICC_TRY(pool_attrs(nn, n));
    if (kind == NK_GPOOL) {
      const aicc_type *xt = &n->inputs[0]->type;
      int64_t k[3] = {xt->dims[2].size, xt->dims[3].size, 1};
      AICC_TRY(aicc_node_attr_set_ints(nn, "kernel_shape", k, 3));
    }
    c->elems++;
  }
  nn->group = n->group;
  c->blk[y->id] = yb;
  aicc_graph_node_remove(c->g, n);
  if (c->uses[y->id] > c->blocked_uses[y->id]) AICC_TRY(add_transform(c, yb, y, false, d[1]));
  return NULL;
}

/* --- cancellation --- */

static bool is_transform(const aicc_node *n) {
  return n && !n->dead && n->domain && strcmp(n->domain, DOMAIN) == 0 &&
         strcmp(n->op_type, "LayoutTransform") == 0;
}

static bool is_graph_output(const aicc_graph *g, const aicc_value *v) {
  for (size_t o = 0; o < g->outputs.len; o++)
    if (g->outputs.data[o] == v) return true;
  return false;
}

/* B(A(x)) where B undoes A: B's readers read x. x and B's result have the
 * same type (for blocked x its padding lanes may differ: don't-care). */
static int64_t cancel_pairs(aicc_graph *g) {
  int64_t n_cancel = 0;
  for (size_t i = 0; i < g->nodes.len; i++) {
    aicc_node *b = g->nodes.data[i];
    if (!is_transform(b) || !b->inputs[0]) continue;
    aicc_node *a = b->inputs[0]->producer;
    if (!is_transform(a) || !a->inputs[0]) continue;
    const char *as = aicc_node_attr_string(a, "src", ""), *ad = aicc_node_attr_string(a, "dst", "");
    const char *bs = aicc_node_attr_string(b, "src", ""), *bd = aicc_node_attr_string(b, "dst", "");
    if (strcmp(as, bd) != 0 || strcmp(ad, bs) != 0) continue;
    aicc_value *x = a->inputs[0], *y = b->outputs[0];
    if (!aicc_type_equal(&x->type, &y->type) || is_graph_output(g, y)) continue;
    aicc_graph_value_replace_uses(g, y, x);
    aicc_graph_node_remove(g, b);
    if (aicc_graph_value_use_count(g, a->outputs[0]) == 0) aicc_graph_node_remove(g, a);
    n_cancel++;
  }
  return n_cancel;
}

/* A fusion group that a LayoutTransform now splits (a member reads, through
 * the transform, another member's result) is dissolved: groups must stay
 * connected trees. */
static void fix_groups(aicc_graph *g) {
  for (size_t i = 0; i < g->nodes.len; i++) {
    aicc_node *n = g->nodes.data[i];
    if (n->dead || !n->group) continue;
    for (int k = 0; k < n->n_inputs; k++) {
      aicc_node *t = n->inputs[k] ? n->inputs[k]->producer : NULL;
      if (!is_transform(t) || !t->inputs[0] || !t->inputs[0]->producer) continue;
      int32_t grp = n->group;
      if (t->inputs[0]->producer->group != grp) continue;
      for (size_t j = 0; j < g->nodes.len; j++)
        if (g->nodes.data[j]->group == grp) g->nodes.data[j]->group = 0;
      break;
    }
  }
}

static aicc_status layout_main(lctx *c, aicc_pass_ctx *ctx) {
  aicc_graph *g = c->g;
  size_t nn = g->nodes.len;
  bool *blocked = calloc(nn ? nn : 1, sizeof *blocked);
  if (!blocked) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  count_uses(g, c->uses, c->nv);
  /* 1. forward */
  size_t n_blocked = 0;
  for (size_t i = 0; i < nn; i++) {
    aicc_node *n = g->nodes.data[i];
    int plain;
    if (n->dead) continue;
    if (conv_ok(n) || elem_ok(c, n, node_kind(n), &plain)) {
      blocked[i] = true;
      count_blocked_uses(c, n, +1);
      c->blocked_prod[n->outputs[0]->id] = true;
      n_blocked++;
    }
  }
  /* 2. backward: drop elementwise ops that only move a conversion later at
   * the price of another one */
  for (size_t i = nn; i-- > 0;) {
    aicc_node *n = g->nodes.data[i];
    int plain;
    if (!blocked[i] || conv_ok(n)) continue;
    uint32_t y = n->outputs[0]->id;
    if (c->blocked_uses[y] > 0 || !elem_ok(c, n, node_kind(n), &plain) || plain == 0) continue;
    count_blocked_uses(c, n, -1);
    c->blocked_prod[y] = false;
    blocked[i] = false;
    n_blocked--;
  }
  aicc_status s = NULL;
  if (n_blocked > 0) s = aicc_model_opset_set(c->m, DOMAIN, 1);
  /* 3. rewrite, in order (producers first). New nodes are appended; then
   * each replaced node's place gets the nodes its rewrite made (conversions
   * in, the blocked node, the conversion back), so the order stays valid
   * and reads naturally. */
  size_t *made = calloc(nn + 1, sizeof *made); /* made[i]..made[i+1]: nodes of node i */
  if (!made && !s) s = aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < nn && !s; i++) {
    made[i] = g->nodes.len;
    if (blocked[i]) s = rewrite_node(c, g->nodes.data[i]);
  }
  if (!s) {
    made[nn] = g->nodes.len;
    aicc_node **order = malloc(sizeof *order * (g->nodes.len ? g->nodes.len : 1));
    if (!order) s = aicc_errorf(AICC_ERR_NOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < nn && order; i++) {
      for (size_t j = made[i]; j < made[i + 1]; j++) order[k++] = g->nodes.data[j];
      order[k++] = g->nodes.data[i];
    }
    if (order) memcpy(g->nodes.data, order, sizeof *order * k);
    free(order);
  }
  free(made);
  free(blocked);
  AICC_TRY(s);
  /* 4. cancel */
  c->cancelled = cancel_pairs(g);
  AICC_TRY(aicc_graph_toposort(g));
  fix_groups(g);
  ctx->changes += c->convs + c->elems + c->cancelled;
  snprintf(ctx->notes, sizeof ctx->notes,
           "%lld convs and %lld elementwise ops blocked, %lld to NCHW16c, %lld to NCHW, "
           "%lld pairs cancelled",
           (long long)c->convs, (long long)c->elems, (long long)c->to_blocked,
           (long long)c->to_plain, (long long)c->cancelled);
  return NULL;
}

static aicc_status layout_run(aicc_model *m, aicc_pass_ctx *ctx) {
  lctx c = {.m = m, .g = m->graph, .nv = m->n_values};
  size_t n = m->n_values ? m->n_values : 1;
  c.blocked_prod = calloc(n, sizeof *c.blocked_prod);
  c.blocked_uses = calloc(n, sizeof *c.blocked_uses);
  c.uses = calloc(n, sizeof *c.uses);
  c.blk = calloc(n, sizeof *c.blk);
  aicc_status s = NULL;
  if (!c.blocked_prod || !c.blocked_uses || !c.uses || !c.blk)
    s = aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  if (!s) s = aicc_graph_toposort(m->graph);
  if (!s) s = layout_main(&c, ctx);
  free(c.blocked_prod);
  free(c.blocked_uses);
  free(c.uses);
  free(c.blk);
  return s;
}

const aicc_pass aicc_pass_layout = {
    "layout", "run 2-D (and depthwise) convs in NCHW16c with packed weights, converting only at region edges",
    layout_run};
