/* Algebraic simplification: a table of rewrite rules {root op, guard,
 * replacement, name}, bucketed by root op (sorted once, found by binary
 * search). Guards are exact: a rule fires only when the rewritten graph
 * computes the same values (same dtype, same shape, same bits) for every
 * input, with one accepted exception noted at add_zero. The rules and their
 * table live at the end of this file; the machinery comes first. */
#include "passes/pass.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- context */

typedef struct rw {
  aicc_model *m;
  aicc_pass_ctx *ctx;
  bool appended; /* nodes were appended to some graph: toposort at the end */
} rw;

/* What a guard found, for its replacement. */
typedef struct rule_match {
  aicc_value *x;              /* the value the root's output becomes */
  const aicc_tensor *c;       /* the constant operand, where there is one */
  int64_t perm[AICC_MAX_RANK]; /* composed Transpose permutation */
  int rank;
} rule_match;

typedef bool (*rule_guard_fn)(const aicc_node *n, rule_match *mt);
typedef aicc_status (*rule_apply_fn)(rw *c, aicc_node *n, rule_match *mt);

typedef struct rule {
  const char *op; /* root op (default ONNX domain) */
  rule_guard_fn guard;
  rule_apply_fn apply;
  const char *name;
} rule;

/* ---------------------------------------------------------------- helpers */

static bool in_list(const aicc_value_vec *l, const aicc_value *v) {
  for (size_t i = 0; i < l->len; i++)
    if (l->data[i] == v) return true;
  return false;
}

static bool is_output(const aicc_value *v) { return in_list(&v->graph->outputs, v); }

/* The constant value of v: an initializer that is not an (overridable)
 * graph input, or the tensor of a Constant node's `value`. */
static const aicc_tensor *const_of(const aicc_value *v) {
  if (!v) return NULL;
  if (v->init) return in_list(&v->graph->inputs, v) ? NULL : v->init;
  const aicc_node *p = v->producer;
  if (p && !p->dead && !p->domain[0] && strcmp(p->op_type, "Constant") == 0)
    return aicc_node_attr_tensor(p, "value");
  return NULL;
}

/* The live producer of v when it is `op`, else NULL. */
static const aicc_node *producer_is(const aicc_value *v, const char *op) {
  if (!v || !v->producer || v->producer->dead) return NULL;
  const aicc_node *p = v->producer;
  return !p->domain[0] && strcmp(p->op_type, op) == 0 ? p : NULL;
}

static bool numeric(aicc_dtype dt) {
  return aicc_dtype_is_float(dt) || aicc_dtype_is_int(dt) || dt == AICC_DTYPE_BOOL;
}

/* Every element of t equals v (numerically; -0.0 counts as 0). */
static bool all_equal(const aicc_tensor *t, double v) {
  if (!t || t->kind != AICC_KIND_TENSOR || !numeric(t->dtype)) return false;
  int64_t n = aicc_tensor_numel(t);
  for (int64_t i = 0; i < n; i++)
    if (aicc_tensor_get_f64(t, i) != v) return false;
  return true;
}

/* Reads an integer list from a constant 0-d/1-d tensor. */
static bool const_ints(const aicc_value *v, int64_t *out, int *n, int cap) {
  const aicc_tensor *t = const_of(v);
  if (!t || t->kind != AICC_KIND_TENSOR || !aicc_dtype_is_int(t->dtype) || t->rank > 1)
    return false;
  int64_t len = aicc_tensor_numel(t);
  if (len > cap) return false;
  for (int64_t i = 0; i < len; i++) out[i] = aicc_tensor_get_i64(t, i);
  *n = (int)len;
  return true;
}

static bool dim_fixed(aicc_dim d) { return aicc_dim_is_known(d) || d.sym; }

/* True when a tensor of type `small` broadcast against one of type `big`
 * leaves big's shape unchanged: every aligned dim of small is 1 or the same
 * (known size or same symbol) as big's. Dtypes must match too. */
static bool broadcasts_into(const aicc_type *small, const aicc_type *big) {
  if (small->kind != AICC_KIND_TENSOR || big->kind != AICC_KIND_TENSOR) return false;
  if (small->dtype != big->dtype || small->rank < 0 || big->rank < small->rank) return false;
  for (int i = 0; i < small->rank; i++) {
    aicc_dim s = small->dims[small->rank - 1 - i], b = big->dims[big->rank - 1 - i];
    if (aicc_dim_is_known(s) && s.size == 1) continue;
    if (!dim_fixed(s) || !dim_fixed(b) || !aicc_dim_equal(s, b)) return false;
  }
  return true;
}

/* The root's output may take x's place without a type change. */
static bool out_compatible(const aicc_node *n, const aicc_value *x) {
  const aicc_type *o = &n->outputs[0]->type, *t = &x->type;
  if (o->kind != AICC_KIND_NONE && o->kind != t->kind) return false;
  if (o->dtype != AICC_DTYPE_UNDEFINED && o->dtype != t->dtype) return false;
  if (o->rank >= 0 && t->rank >= 0 && o->rank != t->rank) return false;
  return true;
}

/* x can take the place of `out` by renaming (see forward): x is made by a
 * node of out's graph and is not itself a graph output. */
static bool renamable(const aicc_value *out, const aicc_value *x) {
  return x->producer && !x->producer->dead && x->graph == out->graph && !is_output(x);
}

/* A fresh value name in g derived from base. */
static const char *fresh_name(const aicc_graph *g, const char *base, const char *suffix,
                              char *buf, size_t n) {
  snprintf(buf, n, "%s_%s", base, suffix);
  for (int k = 1; aicc_graph_value_find(g, buf); k++) snprintf(buf, n, "%s_%s%d", base, suffix, k);
  return buf;
}

static aicc_status add_const(aicc_graph *g, const char *base, const char *suffix, aicc_tensor *t,
                             aicc_value **out) {
  char name[256];
  return aicc_graph_init_add(g, fresh_name(g, base, suffix, name, sizeof name), t, out);
}

/* Puts nn (just appended to g) in the slot of the dead node `old`, which
 * it replaces: nn's inputs are all defined before `old` was, so the order
 * stays topological and the printed graph keeps its shape. */
static void take_slot(rw *c, aicc_graph *g, aicc_node *old, aicc_node *nn) {
  for (size_t i = g->nodes.len; i-- > 0;)
    if (g->nodes.data[i] == old && g->nodes.data[g->nodes.len - 1] == nn) {
      g->nodes.data[i] = nn;
      g->nodes.len--;
      return;
    }
  c->appended = true; /* not found: sort at the end */
}

/* Makes every use of `out` a use of x. When out is a graph output its name
 * is the model's interface and must stay: if x is made by a node of the same
 * graph, that node produces `out` instead (x's uses follow); otherwise (x is
 * an input, an initializer, an outer value or another output: ONNX needs
 * distinct names) an Identity x -> out is appended. The caller removes the
 * root node afterwards (or before, for the Identity case: see forward). */
static aicc_status forward_value(rw *c, aicc_value *out, aicc_value *x) {
  aicc_graph *g = out->graph;
  if (!is_output(out)) {
    aicc_graph_value_replace_uses(g, out, x);
    return NULL;
  }
  if (renamable(out, x)) {
    aicc_node *p = x->producer;
    int k = x->producer_index;
    aicc_graph_value_replace_uses(g, x, out);
    p->outputs[k] = out;
    out->producer = p;
    out->producer_index = k;
    x->producer = NULL;
    return NULL;
  }
  aicc_node *old = out->producer;
  if (old && !old->dead) aicc_graph_node_remove(g, old);
  out->producer = NULL;
  aicc_node *id;
  AICC_TRY(aicc_graph_node_add(g, "", "Identity", "", &x, 1, &out, 1, &id));
  if (old) take_slot(c, g, old, id);
  else c->appended = true;
  return NULL;
}

/* Replaces the root n by mt->x (its only used output). */
static aicc_status apply_forward(rw *c, aicc_node *n, rule_match *mt) {
  AICC_TRY(forward_value(c, n->outputs[0], mt->x));
  if (!n->dead) aicc_graph_node_remove(n->graph, n);
  return NULL;
}

/* Points the root's data input at mt->x (it looks through its producer). */
static aicc_status apply_set_input0(rw *c, aicc_node *n, rule_match *mt) {
  (void)c;
  n->inputs[0] = mt->x;
  return NULL;
}

/* Replaces n by a node of another op on new inputs, same outputs and name. */
static aicc_status replace_op(rw *c, aicc_node *n, const char *op, aicc_value *const *ins,
                              int n_in) {
  aicc_graph *g = n->graph;
  aicc_graph_node_remove(g, n);
  aicc_node *nn;
  AICC_TRY(aicc_graph_node_add(g, n->name, op, "", ins, n_in, n->outputs, n->n_outputs, &nn));
  take_slot(c, g, n, nn);
  return NULL;
}

/* Operand order of a commutative binary root: the constant side and x. */
static bool binary_const(const aicc_node *n, bool commutative, double v, rule_match *mt) {
  if (n->n_inputs != 2 || !n->inputs[0] || !n->inputs[1]) return false;
  for (int side = 1; side >= (commutative ? 0 : 1); side--) {
    const aicc_value *cv = n->inputs[side];
    aicc_value *x = n->inputs[1 - side];
    const aicc_tensor *t = const_of(cv);
    if (!t || !all_equal(t, v)) continue;
    aicc_type ct = aicc_type_of(t);
    if (!broadcasts_into(&ct, &x->type) || !out_compatible(n, x)) continue;
    mt->x = x;
    mt->c = t;
    return true;
  }
  return false;
}

/* ------------------------------------------------------------- arithmetic */

/* x + 0 -> x. For floats this turns x = -0.0 into -0.0 where the graph gave
 * +0.0 (-0 + +0 = +0): accepted, as by every DL compiler (XLA, TVM, ORT). */
static bool g_add_zero(const aicc_node *n, rule_match *mt) { return binary_const(n, true, 0, mt); }
static bool g_sub_zero(const aicc_node *n, rule_match *mt) { return binary_const(n, false, 0, mt); }
/* x * 1, x / 1 and x ^ 1 are exact for every value (NaN, inf, -0 included). */
static bool g_mul_one(const aicc_node *n, rule_match *mt) { return binary_const(n, true, 1, mt); }
static bool g_div_one(const aicc_node *n, rule_match *mt) { return binary_const(n, false, 1, mt); }

static bool g_pow_one(const aicc_node *n, rule_match *mt) {
  if (n->n_inputs != 2 || !n->inputs[0] || !n->inputs[1]) return false;
  const aicc_tensor *t = const_of(n->inputs[1]);
  if (!t || !all_equal(t, 1)) return false;
  aicc_type ct = aicc_type_of(t);
  ct.dtype = n->inputs[0]->type.dtype; /* the exponent may have its own dtype */
  if (!broadcasts_into(&ct, &n->inputs[0]->type) || !out_compatible(n, n->inputs[0])) return false;
  mt->x = n->inputs[0];
  return true;
}

/* Sub(x, c) -> Add(x, -c): x - c is defined as x + (-c) in IEEE arithmetic,
 * and negation is exact; for signed integers only when no element is the
 * minimum (whose negation overflows). */
static bool g_sub_const(const aicc_node *n, rule_match *mt) {
  if (n->n_inputs != 2 || !n->inputs[0] || !n->inputs[1] || const_of(n->inputs[0])) return false;
  const aicc_tensor *t = const_of(n->inputs[1]);
  if (!t || t->kind != AICC_KIND_TENSOR) return false;
  if (aicc_dtype_is_signed_int(t->dtype)) {
    int64_t min = t->dtype == AICC_DTYPE_I64 ? INT64_MIN
                  : -((int64_t)1 << (aicc_dtype_get(t->dtype)->bits - 1));
    for (int64_t i = 0; i < aicc_tensor_numel(t); i++)
      if (aicc_tensor_get_i64(t, i) == min) return false;
  } else if (!aicc_dtype_is_float(t->dtype) || aicc_dtype_get(t->dtype)->bits < 16) {
    return false; /* unsigned: no negation; narrow floats: keep it simple */
  }
  mt->x = n->inputs[0];
  mt->c = t;
  return true;
}

static aicc_status a_sub_to_add(rw *c, aicc_node *n, rule_match *mt) {
  aicc_tensor *neg;
  AICC_TRY(aicc_tensor_clone(mt->c, &neg));
  int64_t len = aicc_tensor_numel(neg);
  for (int64_t i = 0; i < len; i++) {
    if (aicc_dtype_is_float(neg->dtype))
      aicc_tensor_set_f64(neg, i, -aicc_tensor_get_f64(neg, i));
    else
      aicc_tensor_set_i64(neg, i, -aicc_tensor_get_i64(neg, i));
  }
  aicc_value *nv, *ins[2] = {mt->x, NULL};
  AICC_TRY(add_const(n->graph, n->inputs[1]->name, "neg", neg, &nv));
  ins[1] = nv;
  return replace_op(c, n, "Add", ins, 2);
}

/* Div(x, c) -> Mul(x, 1/c) when every c is a power of two whose reciprocal
 * the dtype holds exactly: then x/c and x*(1/c) are the same exact real
 * number before rounding, so they round alike. (Mul by a power of two is
 * already the cheap form and stays as it is.) */
static bool g_div_pow2(const aicc_node *n, rule_match *mt) {
  if (n->n_inputs != 2 || !n->inputs[0] || !n->inputs[1]) return false;
  const aicc_tensor *t = const_of(n->inputs[1]);
  if (!t || t->kind != AICC_KIND_TENSOR || !aicc_dtype_is_float(t->dtype)) return false;
  if (aicc_dtype_get(t->dtype)->bits < 16 || t->dtype != n->inputs[0]->type.dtype) return false;
  aicc_tensor *probe;
  int64_t one = 1;
  aicc_status s = aicc_tensor_create(t->dtype, 1, &one, &probe);
  if (s) {
    aicc_status_free(s);
    return false;
  }
  bool ok = true;
  for (int64_t i = 0; i < aicc_tensor_numel(t) && ok; i++) {
    double v = aicc_tensor_get_f64(t, i);
    int e;
    ok = isfinite(v) && v != 0 && fabs(frexp(v, &e)) == 0.5;
    if (ok) {
      aicc_tensor_set_f64(probe, 0, 1.0 / v);
      ok = aicc_tensor_get_f64(probe, 0) == 1.0 / v;
    }
  }
  aicc_tensor_release(probe);
  if (!ok) return false;
  mt->x = n->inputs[0];
  mt->c = t;
  return true;
}

static aicc_status a_div_to_mul(rw *c, aicc_node *n, rule_match *mt) {
  aicc_tensor *r;
  AICC_TRY(aicc_tensor_clone(mt->c, &r));
  for (int64_t i = 0; i < aicc_tensor_numel(r); i++)
    aicc_tensor_set_f64(r, i, 1.0 / aicc_tensor_get_f64(r, i));
  aicc_value *rv, *ins[2] = {mt->x, NULL};
  AICC_TRY(add_const(n->graph, n->inputs[1]->name, "recip", r, &rv));
  ins[1] = rv;
  return replace_op(c, n, "Mul", ins, 2);
}

/* Neg(Neg(x)) and Not(Not(x)): both are involutions (integer negation wraps
 * in two's complement, so even the minimum comes back). */
static bool involution(const aicc_node *n, const char *op, rule_match *mt) {
  const aicc_node *p = n->n_inputs == 1 ? producer_is(n->inputs[0], op) : NULL;
  if (!p || !p->inputs[0] || !out_compatible(n, p->inputs[0])) return false;
  mt->x = p->inputs[0];
  return true;
}
static bool g_neg_neg(const aicc_node *n, rule_match *mt) { return involution(n, "Neg", mt); }
static bool g_not_not(const aicc_node *n, rule_match *mt) { return involution(n, "Not", mt); }

/* Where(c, a, b) with c constant all true (false) -> a (b), when the other
 * operands do not widen the result by broadcasting. */
static bool g_where_const(const aicc_node *n, rule_match *mt) {
  if (n->n_inputs != 3 || !n->inputs[0] || !n->inputs[1] || !n->inputs[2]) return false;
  const aicc_tensor *t = const_of(n->inputs[0]);
  if (!t || t->dtype != AICC_DTYPE_BOOL) return false;
  int pick = all_equal(t, 1) ? 1 : all_equal(t, 0) ? 2 : 0;
  if (!pick) return false;
  aicc_value *x = n->inputs[pick], *other = n->inputs[3 - pick];
  aicc_type ct = aicc_type_of(t);
  ct.dtype = x->type.dtype;
  if (!broadcasts_into(&ct, &x->type) || !broadcasts_into(&other->type, &x->type) ||
      !out_compatible(n, x))
    return false;
  mt->x = x;
  return true;
}

/* ----------------------------------------------------------- data movement */

/* The permutation of a Transpose whose input has rank r (default: reversed). */
static bool perm_of(const aicc_node *n, int r, int64_t *perm) {
  int64_t len;
  const int64_t *p = aicc_node_attr_ints(n, "perm", &len);
  if (!p) {
    if (r < 0) return false;
    for (int i = 0; i < r; i++) perm[i] = r - 1 - i;
    return true;
  }
  if (len != r || r > AICC_MAX_RANK) return false;
  for (int i = 0; i < r; i++) perm[i] = p[i];
  return true;
}

static bool is_identity_perm(const int64_t *p, int r) {
  for (int i = 0; i < r; i++)
    if (p[i] != i) return false;
  return true;
}

static bool g_transpose_identity(const aicc_node *n, rule_match *mt) {
  int64_t perm[AICC_MAX_RANK];
  aicc_value *x = n->inputs[0];
  int r = x->type.rank;
  if (r < 0) {
    int64_t len;
    if (!aicc_node_attr_ints(n, "perm", &len)) return false;
    r = (int)len;
  }
  if (!perm_of(n, r, perm) || !is_identity_perm(perm, r) || !out_compatible(n, x)) return false;
  mt->x = x;
  return true;
}

/* Transpose(Transpose(x, p), q) -> Transpose(x, r) with r[i] = p[q[i]]:
 * output dim i is the middle's dim q[i], which is x's dim p[q[i]]. */
static bool g_transpose_transpose(const aicc_node *n, rule_match *mt) {
  const aicc_node *in = producer_is(n->inputs[0], "Transpose");
  if (!in || !in->inputs[0]) return false;
  int r = in->inputs[0]->type.rank;
  int64_t p[AICC_MAX_RANK], q[AICC_MAX_RANK];
  if (r < 0 || !perm_of(in, r, p) || !perm_of(n, r, q)) return false;
  for (int i = 0; i < r; i++) {
    if (q[i] < 0 || q[i] >= r || p[q[i]] < 0 || p[q[i]] >= r) return false;
    mt->perm[i] = p[q[i]];
  }
  mt->rank = r;
  mt->x = in->inputs[0];
  return out_compatible(n, mt->x);
}

static aicc_status a_transpose_compose(rw *c, aicc_node *n, rule_match *mt) {
  if (is_identity_perm(mt->perm, mt->rank)) return apply_forward(c, n, mt);
  n->inputs[0] = mt->x;
  return aicc_node_attr_set_ints(n, "perm", mt->perm, mt->rank);
}

/* Reshape(Reshape(x, a), b) -> Reshape(x, b) when b is constant and has no 0
 * that would copy a dim of the middle shape. */
static bool g_reshape_reshape(const aicc_node *n, rule_match *mt) {
  const aicc_node *in = producer_is(n->inputs[0], "Reshape");
  if (!in || !in->inputs[0] || n->n_inputs < 2) return false;
  int64_t b[AICC_MAX_RANK];
  int nb;
  if (!const_ints(n->inputs[1], b, &nb, AICC_MAX_RANK)) return false;
  if (!aicc_node_attr_int(n, "allowzero", 0))
    for (int i = 0; i < nb; i++)
      if (b[i] == 0) return false;
  mt->x = in->inputs[0];
  return true;
}

/* Reshape(x, b) where b names x's own shape: every entry is x's known dim,
 * a 0 copying it (allowzero=0), or one -1 whose size is then forced to be
 * x's dim (same rank, same element count, all other dims equal). */
static bool g_reshape_same(const aicc_node *n, rule_match *mt) {
  aicc_value *x = n->inputs[0];
  if (n->n_inputs < 2 || x->type.kind != AICC_KIND_TENSOR || !out_compatible(n, x)) return false;
  int64_t b[AICC_MAX_RANK];
  int nb, minus = 0;
  if (!const_ints(n->inputs[1], b, &nb, AICC_MAX_RANK) || nb != x->type.rank) return false;
  bool allowzero = aicc_node_attr_int(n, "allowzero", 0) != 0;
  for (int i = 0; i < nb; i++) {
    aicc_dim d = x->type.dims[i];
    if (b[i] == 0 && !allowzero) continue;
    if (b[i] == -1 && ++minus == 1) continue;
    if (!aicc_dim_is_known(d) || d.size != b[i]) return false;
  }
  mt->x = x;
  return true;
}

static bool g_expand_same(const aicc_node *n, rule_match *mt) {
  aicc_value *x = n->inputs[0];
  if (n->n_inputs < 2 || x->type.kind != AICC_KIND_TENSOR || x->type.rank < 0) return false;
  int64_t s[AICC_MAX_RANK];
  int ns;
  if (!const_ints(n->inputs[1], s, &ns, AICC_MAX_RANK) || ns > x->type.rank) return false;
  for (int i = 0; i < ns; i++) {
    aicc_dim d = x->type.dims[x->type.rank - 1 - i];
    int64_t v = s[ns - 1 - i];
    if (v != 1 && !(aicc_dim_is_known(d) && d.size == v)) return false;
  }
  if (!out_compatible(n, x)) return false;
  mt->x = x;
  return true;
}

static bool g_cast_same(const aicc_node *n, rule_match *mt) {
  aicc_value *x = n->inputs[0];
  if (x->type.kind != AICC_KIND_TENSOR || x->type.dtype == AICC_DTYPE_UNDEFINED) return false;
  int64_t to = aicc_node_attr_int(n, "to", -1);
  if (to != (int64_t)x->type.dtype || !out_compatible(n, x)) return false;
  mt->x = x;
  return true;
}

static bool g_castlike_same(const aicc_node *n, rule_match *mt) {
  aicc_value *x = n->inputs[0];
  if (n->n_inputs < 2 || !n->inputs[1] || x->type.kind != AICC_KIND_TENSOR) return false;
  if (x->type.dtype == AICC_DTYPE_UNDEFINED || x->type.dtype != n->inputs[1]->type.dtype)
    return false;
  if (!out_compatible(n, x)) return false;
  mt->x = x;
  return true;
}

/* Bits of a float dtype's significand (with the hidden bit), 0 otherwise. */
static int mantissa_bits(aicc_dtype dt) {
  switch (dt) {
  case AICC_DTYPE_F16: return 11;
  case AICC_DTYPE_BF16: return 8;
  case AICC_DTYPE_F32: return 24;
  case AICC_DTYPE_F64: return 53;
  default: return 0;
  }
}

/* Every value of `from` is exactly representable in `mid`. */
static bool lossless(aicc_dtype from, aicc_dtype mid) {
  int fb = aicc_dtype_get(from) ? aicc_dtype_get(from)->bits : 0;
  int mb = aicc_dtype_get(mid) ? aicc_dtype_get(mid)->bits : 0;
  bool fs = aicc_dtype_is_signed_int(from), ms = aicc_dtype_is_signed_int(mid);
  if (fb < 8 && from != AICC_DTYPE_BOOL) return false; /* sub-byte types: skip */
  if (from == AICC_DTYPE_BOOL) return (aicc_dtype_is_int(mid) && mb >= 8) || mantissa_bits(mid);
  if (aicc_dtype_is_int(from)) {
    if (aicc_dtype_is_int(mid)) return fs ? ms && mb >= fb : (ms ? mb > fb : mb >= fb);
    return mantissa_bits(mid) >= (fs ? fb - 1 : fb);
  }
  if (mantissa_bits(from) && mantissa_bits(mid)) {
    if (from == AICC_DTYPE_F16) return mid == AICC_DTYPE_F32 || mid == AICC_DTYPE_F64;
    if (from == AICC_DTYPE_BF16) return mid == AICC_DTYPE_F32 || mid == AICC_DTYPE_F64;
    if (from == AICC_DTYPE_F32) return mid == AICC_DTYPE_F64;
  }
  return false;
}

/* Cast(Cast(x, T1), T2) -> Cast(x, T2) when x -> T1 loses nothing: then the
 * outer cast sees x's exact values either way. Not into strings (their
 * printed form could depend on the source type). */
static bool g_cast_cast(const aicc_node *n, rule_match *mt) {
  const aicc_node *in = producer_is(n->inputs[0], "Cast");
  if (!in || !in->inputs[0]) return false;
  aicc_dtype from = in->inputs[0]->type.dtype;
  int64_t mid = aicc_node_attr_int(in, "to", -1), to = aicc_node_attr_int(n, "to", -1);
  if (in->inputs[0]->type.kind != AICC_KIND_TENSOR || !aicc_dtype_valid((int)mid)) return false;
  if (to == AICC_DTYPE_STRING || from == AICC_DTYPE_STRING) return false;
  if (!lossless(from, (aicc_dtype)mid)) return false;
  mt->x = in->inputs[0];
  return true;
}

static bool g_identity(const aicc_node *n, rule_match *mt) {
  aicc_value *x = n->inputs[0];
  /* A graph output fed by an input (or another output) needs this node. */
  if (is_output(n->outputs[0]) && !renamable(n->outputs[0], x)) return false;
  mt->x = x;
  return true;
}

/* Dropout in inference (no training_mode, or a constant false one) is the
 * identity; its mask, if used, is all true. */
static bool g_dropout(const aicc_node *n, rule_match *mt) {
  aicc_value *x = n->inputs[0];
  if (n->n_inputs > 2 && n->inputs[2]) {
    const aicc_tensor *t = const_of(n->inputs[2]);
    if (!t || !all_equal(t, 0)) return false;
  }
  if (n->n_outputs > 1 && aicc_graph_value_use_count(n->graph, n->outputs[1]) > 0 &&
      !aicc_type_is_static(&x->type))
    return false;
  if (!out_compatible(n, x)) return false;
  mt->x = x;
  return true;
}

static aicc_status a_dropout(rw *c, aicc_node *n, rule_match *mt) {
  if (n->n_outputs > 1 && aicc_graph_value_use_count(n->graph, n->outputs[1]) > 0) {
    aicc_value *mask = n->outputs[1], *ones;
    aicc_dtype dt = mask->type.dtype != AICC_DTYPE_UNDEFINED ? mask->type.dtype : AICC_DTYPE_BOOL;
    int64_t dims[AICC_MAX_RANK];
    for (int i = 0; i < mt->x->type.rank; i++) dims[i] = mt->x->type.dims[i].size;
    aicc_tensor *t;
    AICC_TRY(aicc_tensor_create(dt, mt->x->type.rank, dims, &t));
    for (int64_t i = 0; i < aicc_tensor_numel(t); i++) aicc_tensor_set_f64(t, i, 1);
    AICC_TRY(add_const(n->graph, mask->name, "ones", t, &ones));
    AICC_TRY(forward_value(c, mask, ones));
  }
  return apply_forward(c, n, mt);
}

/* Axes of Squeeze/Unsqueeze (attribute before opset 13, input after). */
static bool axes_of(const aicc_node *n, int64_t *axes, int *na) {
  if (n->opset >= 13) {
    if (n->n_inputs < 2 || !n->inputs[1]) {
      *na = 0;
      return true;
    }
    return const_ints(n->inputs[1], axes, na, AICC_MAX_RANK);
  }
  int64_t len;
  const int64_t *a = aicc_node_attr_ints(n, "axes", &len);
  if (len > AICC_MAX_RANK) return false;
  for (int64_t i = 0; i < len; i++) axes[i] = a[i];
  *na = (int)len;
  return true;
}

/* Normalises axes against rank r into a bit set; false on a bad/duplicate axis. */
static bool axis_set(const int64_t *axes, int na, int r, uint32_t *set) {
  *set = 0;
  for (int i = 0; i < na; i++) {
    int64_t a = axes[i] < 0 ? axes[i] + r : axes[i];
    if (a < 0 || a >= r || (*set >> a & 1u)) return false;
    *set |= 1u << a;
  }
  return true;
}

/* Squeeze(Unsqueeze(x, a), a) -> x. */
static bool g_squeeze_unsqueeze(const aicc_node *n, rule_match *mt) {
  const aicc_node *in = producer_is(n->inputs[0], "Unsqueeze");
  if (!in || !in->inputs[0] || in->inputs[0]->type.rank < 0) return false;
  int64_t a[AICC_MAX_RANK], b[AICC_MAX_RANK];
  int na, nb;
  if (!axes_of(in, a, &na) || !axes_of(n, b, &nb) || na == 0 || nb == 0) return false;
  int r = in->inputs[0]->type.rank + na;
  uint32_t sa, sb;
  if (r > AICC_MAX_RANK || !axis_set(a, na, r, &sa) || !axis_set(b, nb, r, &sb) || sa != sb)
    return false;
  mt->x = in->inputs[0];
  return out_compatible(n, mt->x);
}

/* Unsqueeze(Squeeze(x, a), a) -> x (the squeezed dims were 1). Squeeze
 * without axes counts when every dim of x is known. */
static bool g_unsqueeze_squeeze(const aicc_node *n, rule_match *mt) {
  const aicc_node *in = producer_is(n->inputs[0], "Squeeze");
  if (!in || !in->inputs[0]) return false;
  const aicc_type *xt = &in->inputs[0]->type;
  int r = xt->rank;
  if (r < 0 || r > AICC_MAX_RANK) return false;
  int64_t a[AICC_MAX_RANK], b[AICC_MAX_RANK];
  int na, nb;
  if (!axes_of(in, a, &na) || !axes_of(n, b, &nb) || nb == 0) return false;
  uint32_t sa = 0, sb;
  if (na == 0) {
    for (int i = 0; i < r; i++) {
      if (!aicc_dim_is_known(xt->dims[i])) return false;
      if (xt->dims[i].size == 1) sa |= 1u << i;
    }
  } else if (!axis_set(a, na, r, &sa)) {
    return false;
  }
  if (!axis_set(b, nb, r, &sb) || sa != sb) return false;
  mt->x = in->inputs[0];
  return out_compatible(n, mt->x);
}

static bool g_concat_single(const aicc_node *n, rule_match *mt) {
  if (n->n_inputs != 1 || !n->inputs[0] || !out_compatible(n, n->inputs[0])) return false;
  mt->x = n->inputs[0];
  return true;
}

/* Slice that selects everything: on every sliced axis step 1, a start that
 * clamps to 0 and an end that clamps to the dim. Bounds beyond 2^62 cover
 * any dim (no tensor has that many elements). */
static bool g_slice_all(const aicc_node *n, rule_match *mt) {
  aicc_value *x = n->inputs[0];
  int r = x->type.rank;
  if (r < 0 || x->type.kind != AICC_KIND_TENSOR) return false;
  int64_t st[AICC_MAX_RANK], en[AICC_MAX_RANK], ax[AICC_MAX_RANK], sp[AICC_MAX_RANK];
  int ns, ne, na = -1, nsp = -1;
  if (n->opset >= 10) {
    if (n->n_inputs < 3 || !const_ints(n->inputs[1], st, &ns, AICC_MAX_RANK) ||
        !const_ints(n->inputs[2], en, &ne, AICC_MAX_RANK))
      return false;
    if (n->n_inputs > 3 && n->inputs[3] && !const_ints(n->inputs[3], ax, &na, AICC_MAX_RANK))
      return false;
    if (n->n_inputs > 4 && n->inputs[4] && !const_ints(n->inputs[4], sp, &nsp, AICC_MAX_RANK))
      return false;
  } else {
    int64_t l1, l2, l3 = -1;
    const int64_t *s = aicc_node_attr_ints(n, "starts", &l1), *e = aicc_node_attr_ints(n, "ends", &l2);
    const int64_t *a = aicc_node_attr_ints(n, "axes", &l3);
    if (!s || !e || l1 > AICC_MAX_RANK || l2 != l1 || (a && l3 != l1)) return false;
    ns = ne = (int)l1;
    memcpy(st, s, sizeof *st * (size_t)l1);
    memcpy(en, e, sizeof *en * (size_t)l1);
    if (a) {
      na = (int)l3;
      memcpy(ax, a, sizeof *ax * (size_t)l3);
    }
  }
  if (ns != ne || (na >= 0 && na != ns) || (nsp >= 0 && nsp != ns)) return false;
  const int64_t big = (int64_t)1 << 62;
  for (int k = 0; k < ns; k++) {
    int64_t axis = na >= 0 ? ax[k] : k;
    if (axis < 0) axis += r;
    if (axis < 0 || axis >= r) return false;
    if (nsp >= 0 && sp[k] != 1) return false;
    aicc_dim d = x->type.dims[axis];
    bool known = aicc_dim_is_known(d);
    bool start_ok = st[k] == 0 || st[k] <= -big || (known && st[k] < 0 && st[k] + d.size <= 0);
    bool end_ok = en[k] >= big || (known && en[k] >= d.size);
    if (!start_ok || !end_ok) return false;
  }
  if (!out_compatible(n, x)) return false;
  mt->x = x;
  return true;
}

/* --------------------------------------------------------------- layout */

/* Gemm(A, B) with transB=1 (transA=1) and B (A) a constant matrix -> the
 * transposed constant with the flag cleared: the same products summed in
 * the same order, so exact. A GEMM packs its B panels from row-major
 * memory; transB=1 makes every run gather the weight column by column
 * (MobileNetV2's final FC: a third of its run). The constant may be shared
 * with other nodes, so the transposed copy is a new initializer (the old
 * one goes at compaction when nothing else reads it). mt->rank: bit 0 for
 * A, bit 1 for B. */
static const aicc_tensor *gemm_trans_const(const aicc_node *n, int k, const char *attr) {
  if (n->n_inputs <= k || !n->inputs[k] || !aicc_node_attr_int(n, attr, 0)) return NULL;
  const aicc_tensor *t = const_of(n->inputs[k]);
  if (!t || t->kind != AICC_KIND_TENSOR || t->rank != 2 || !aicc_dtype_get(t->dtype)) return NULL;
  int bits = aicc_dtype_get(t->dtype)->bits;
  return bits >= 8 && bits % 8 == 0 ? t : NULL; /* not strings, not packed sub-byte */
}

static bool g_gemm_const_trans(const aicc_node *n, rule_match *mt) {
  if (n->n_inputs < 2 || n->n_outputs != 1) return false;
  mt->rank = (gemm_trans_const(n, 0, "transA") ? 1 : 0) |
             (gemm_trans_const(n, 1, "transB") ? 2 : 0);
  return mt->rank != 0;
}

/* A new constant holding t transposed (t is 2-D, whole bytes per element). */
static aicc_status transposed_const(aicc_graph *g, const aicc_value *v, const aicc_tensor *t,
                                    aicc_value **out) {
  int64_t r = t->dims[0], c = t->dims[1], dims[2] = {c, r};
  size_t es = (size_t)aicc_dtype_get(t->dtype)->bits / 8;
  aicc_tensor *tt;
  AICC_TRY(aicc_tensor_create(t->dtype, 2, dims, &tt));
  const unsigned char *src = t->data;
  unsigned char *dst = tt->data;
  for (size_t i = 0; i < (size_t)r; i++)
    for (size_t j = 0; j < (size_t)c; j++)
      memcpy(dst + (j * (size_t)r + i) * es, src + (i * (size_t)c + j) * es, es);
  return add_const(g, v->name, "T", tt, out);
}

static aicc_status a_gemm_const_trans(rw *c, aicc_node *n, rule_match *mt) {
  (void)c;
  static const char *const attr[2] = {"transA", "transB"};
  for (int k = 0; k < 2; k++) {
    if (!(mt->rank >> k & 1)) continue;
    aicc_value *nv;
    AICC_TRY(transposed_const(n->graph, n->inputs[k], const_of(n->inputs[k]), &nv));
    n->inputs[k] = nv;
    AICC_TRY(aicc_node_attr_set_int(n, attr[k], 0));
  }
  return NULL;
}

/* ------------------------------------------------------------------ table */

/* Within one root op, rows are tried in order: the first whose guard holds
 * fires (so Sub(x, 0) -> x wins over Sub(x, c) -> Add(x, -c)). */
static const rule rules[] = {
    {"Add", g_add_zero, apply_forward, "add_zero"},
    {"Sub", g_sub_zero, apply_forward, "sub_zero"},
    {"Sub", g_sub_const, a_sub_to_add, "sub_const_to_add"},
    {"Mul", g_mul_one, apply_forward, "mul_one"},
    {"Div", g_div_one, apply_forward, "div_one"},
    {"Div", g_div_pow2, a_div_to_mul, "div_pow2_to_mul"},
    {"Pow", g_pow_one, apply_forward, "pow_one"},
    {"Neg", g_neg_neg, apply_forward, "neg_neg"},
    {"Not", g_not_not, apply_forward, "not_not"},
    {"Where", g_where_const, apply_forward, "where_const_cond"},
    {"Transpose", g_transpose_identity, apply_forward, "transpose_identity"},
    {"Transpose", g_transpose_transpose, a_transpose_compose, "transpose_transpose"},
    {"Reshape", g_reshape_same, apply_forward, "reshape_same"},
    {"Reshape", g_reshape_reshape, apply_set_input0, "reshape_reshape"},
    {"Expand", g_expand_same, apply_forward, "expand_same"},
    {"Cast", g_cast_same, apply_forward, "cast_same"},
    {"Cast", g_cast_cast, apply_set_input0, "cast_cast"},
    {"CastLike", g_castlike_same, apply_forward, "castlike_same"},
    {"Identity", g_identity, apply_forward, "identity"},
    {"Dropout", g_dropout, a_dropout, "dropout_inference"},
    {"Squeeze", g_squeeze_unsqueeze, apply_forward, "squeeze_unsqueeze"},
    {"Unsqueeze", g_unsqueeze_squeeze, apply_forward, "unsqueeze_squeeze"},
    {"Concat", g_concat_single, apply_forward, "concat_single"},
    {"Slice", g_slice_all, apply_forward, "slice_all"},
    {"Gemm", g_gemm_const_trans, a_gemm_const_trans, "gemm_const_trans"},
};
enum { N_RULES = sizeof rules / sizeof rules[0] };

/* The buckets: rule indices sorted by root op (stable), found by bsearch. */
typedef struct rule_index {
  int order[N_RULES];
} rule_index;

static int cmp_rule(const void *a, const void *b) {
  int ia = *(const int *)a, ib = *(const int *)b;
  int c = strcmp(rules[ia].op, rules[ib].op);
  return c ? c : ia - ib;
}

static void rule_index_build(rule_index *ix) {
  for (int i = 0; i < N_RULES; i++) ix->order[i] = i;
  qsort(ix->order, N_RULES, sizeof ix->order[0], cmp_rule);
}

/* First position in the index whose op is `op`, or -1. */
static int rule_bucket(const rule_index *ix, const char *op) {
  int lo = 0, hi = N_RULES;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (strcmp(rules[ix->order[mid]].op, op) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo < N_RULES && strcmp(rules[ix->order[lo]].op, op) == 0 ? lo : -1;
}

/* ------------------------------------------------------------------- pass */

static aicc_status simplify_graph(rw *c, const rule_index *ix, aicc_graph *g, int64_t *changes,
                                  int64_t *fired) {
  size_t len = g->nodes.len;
  for (size_t i = 0; i < len; i++) {
    aicc_node *n = g->nodes.data[i];
    if (n->dead) continue;
    for (int a = 0; a < n->n_attrs; a++) {
      if (n->attrs[a].kind == AICC_ATTR_GRAPH)
        AICC_TRY(simplify_graph(c, ix, n->attrs[a].g, changes, fired));
      if (n->attrs[a].kind == AICC_ATTR_GRAPHS)
        for (int64_t j = 0; j < n->attrs[a].n; j++)
          AICC_TRY(simplify_graph(c, ix, n->attrs[a].gs[j], changes, fired));
    }
    if (n->domain[0] || n->n_inputs < 1 || !n->inputs[0] || n->n_outputs < 1) continue;
    int b = rule_bucket(ix, n->op_type);
    for (int k = b; k >= 0 && k < N_RULES && strcmp(rules[ix->order[k]].op, n->op_type) == 0;
         k++) {
      const rule *r = &rules[ix->order[k]];
      rule_match mt;
      memset(&mt, 0, sizeof mt);
      if (!r->guard(n, &mt)) continue;
      aicc_status s = r->apply(c, n, &mt);
      if (s) {
        char buf[256];
        return aicc_status_wrap(s, "rule %s on %s", r->name, aicc_node_describe(n, buf, sizeof buf));
      }
      (*changes)++;
      fired[ix->order[k]]++;
      break;
    }
  }
  return NULL;
}

static aicc_status simplify_run(aicc_model *m, aicc_pass_ctx *ctx) {
  AICC_TRY(aicc_model_infer(m)); /* guards read shapes */
  rule_index ix;
  rule_index_build(&ix);
  rw c = {m, ctx, false};
  int64_t fired[N_RULES] = {0};
  /* Rules enable each other (Neg(Neg(Neg(x)))); a few rounds here save the
   * fixpoint group the work. */
  for (int round = 0; round < 8; round++) {
    int64_t changes = 0;
    AICC_TRY(simplify_graph(&c, &ix, m->graph, &changes, fired));
    ctx->changes += changes;
    if (c.appended) {
      aicc_graph_compact(m->graph);
      AICC_TRY(aicc_graph_toposort(m->graph));
      c.appended = false;
    }
    if (!changes) break;
  }
  /* Which rules fired, for --stats: "identity=3 add_zero=1". */
  size_t used = 0;
  ctx->notes[0] = 0;
  for (int i = 0; i < N_RULES && used < sizeof ctx->notes; i++)
    if (fired[i]) {
      int w = snprintf(ctx->notes + used, sizeof ctx->notes - used, "%s%s=%lld", used ? " " : "",
                       rules[i].name, (long long)fired[i]);
      if (w < 0) break;
      used += (size_t)w;
    }
  return NULL;
}

const aicc_pass aicc_pass_simplify = {"simplify", "algebraic simplification (rewrite-rule table)",
                                      simplify_run};
