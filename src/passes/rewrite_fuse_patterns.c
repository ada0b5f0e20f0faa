/* Rules of the "rewrite" pass that fuse exporter-decomposed subgraphs back
 * into single ops: LayerNormalization (ReduceMean/Sub/Pow/.../Div, then its
 * scale and shift), Gelu (the Erf form and the tanh approximation, in any
 * association of the Mul chain) and Attention (Softmax(Q K^T * s + mask) V).
 * The rule table in rewrite.c gates each on the opset that has the op. */
#include "passes/rewrite_rules.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool near(double a, double b) { return fabs(a - b) <= 1e-5 * fabs(b); }

/* --- LayerNormalization --- */

/* The axes of a ReduceMean with keepdims=1 over a rank-r input, when they
 * are the suffix axis..r-1 (attribute before opset 18, constant input from
 * 18; no axes: all of them). */
static bool reduce_suffix(const aicc_node *rm, int r, int *axis) {
  if (aicc_node_attr_int(rm, "keepdims", 1) != 1 || rm->n_outputs != 1) return false;
  int64_t n = 0, buf[AICC_MAX_RANK];
  const int64_t *ax = aicc_node_attr_ints(rm, "axes", &n);
  if (!ax && rm->n_inputs > 1 && rm->inputs[1]) {
    const aicc_tensor *t = aicc_rewrite_const(rm->inputs[1]);
    if (!t || t->rank != 1 || t->dims[0] > AICC_MAX_RANK || !aicc_dtype_is_int(t->dtype))
      return false;
    n = t->dims[0];
    for (int64_t i = 0; i < n; i++) buf[i] = aicc_tensor_get_i64(t, i);
    ax = buf;
  } else if (!ax && rm->n_inputs > 1) {
    return false;
  }
  if (!n) {
    if (aicc_node_attr_int(rm, "noop_with_empty_axes", 0)) return false;
    *axis = 0;
    return r >= 1;
  }
  bool seen[AICC_MAX_RANK] = {false};
  for (int64_t i = 0; i < n; i++) {
    int64_t a = ax[i] < 0 ? ax[i] + r : ax[i];
    if (a < 0 || a >= r || seen[a]) return false;
    seen[a] = true;
  }
  int first = r - (int)n;
  for (int a = first; a < r; a++)
    if (!seen[a]) return false;
  *axis = first;
  return true;
}

/* x / sqrt(mean((x - mean(x))^2) + eps) over a trailing block of axes ->
 * LayerNormalization(x, 1, 0); the following Mul/Add rules take gamma/beta. */
aicc_status aicc_rewrite_layernorm_core(aicc_graph *g, aicc_node *div, bool *fired) {
  if (div->n_inputs != 2) return NULL;
  aicc_node *sub = aicc_rewrite_producer(div->inputs[0], "Sub");
  aicc_node *sq_root = aicc_rewrite_producer(div->inputs[1], "Sqrt");
  if (!sub || !sq_root) return NULL;
  aicc_value *x = sub->inputs[0], *d = sub->outputs[0];
  int r = x->type.rank, axis, axis2;
  if (r < 1 || !aicc_rewrite_is_float(x->type.dtype)) return NULL;
  aicc_node *rm1 = aicc_rewrite_producer(sub->inputs[1], "ReduceMean");
  if (!rm1 || rm1->inputs[0] != x || !reduce_suffix(rm1, r, &axis)) return NULL;
  aicc_node *add = aicc_rewrite_producer(sq_root->inputs[0], "Add");
  if (!add) return NULL;
  double eps;
  aicc_value *var;
  if (aicc_rewrite_const_scalar(add->inputs[1], &eps)) var = add->inputs[0];
  else if (aicc_rewrite_const_scalar(add->inputs[0], &eps)) var = add->inputs[1];
  else return NULL;
  aicc_node *rm2 = aicc_rewrite_producer(var, "ReduceMean");
  if (!rm2 || !reduce_suffix(rm2, r, &axis2) || axis2 != axis) return NULL;
  aicc_node *sq = aicc_rewrite_producer(rm2->inputs[0], "Pow");
  double e;
  int d_uses = 2;
  if (sq) {
    if (sq->inputs[0] != d || !aicc_rewrite_const_scalar(sq->inputs[1], &e) || e != 2.0)
      return NULL;
  } else {
    sq = aicc_rewrite_producer(rm2->inputs[0], "Mul");
    if (!sq || sq->inputs[0] != d || sq->inputs[1] != d) return NULL;
    d_uses = 3;
  }
  /* Every intermediate feeds only the pattern. */
  if (aicc_rewrite_uses(d) != d_uses || aicc_rewrite_uses(rm1->outputs[0]) != 1 ||
      aicc_rewrite_uses(sq->outputs[0]) != 1 || aicc_rewrite_uses(var) != 1 ||
      aicc_rewrite_uses(add->outputs[0]) != 1 || aicc_rewrite_uses(sq_root->outputs[0]) != 1)
    return NULL;
  int64_t dims[AICC_MAX_RANK];
  for (int i = axis; i < r; i++) {
    if (!aicc_dim_is_known(x->type.dims[i])) return NULL;
    dims[i - axis] = x->type.dims[i].size;
  }
  aicc_tensor *ones, *zeros;
  aicc_value *in[3];
  AICC_TRY(aicc_tensor_create(x->type.dtype, r - axis, dims, &ones));
  int64_t n = aicc_tensor_numel(ones);
  for (int64_t i = 0; i < n; i++) aicc_tensor_set_f64(ones, i, 1.0);
  AICC_TRY(aicc_rewrite_const_new(g, ones, &in[1]));
  AICC_TRY(aicc_tensor_create(x->type.dtype, r - axis, dims, &zeros));
  AICC_TRY(aicc_rewrite_const_new(g, zeros, &in[2]));
  in[0] = x;
  aicc_value *out = div->outputs[0];
  aicc_graph_node_remove(g, div);
  aicc_node *ln;
  AICC_TRY(aicc_rewrite_emit(g, div->name, "LayerNormalization", in, 3, out, &ln));
  AICC_TRY(aicc_node_attr_set_int(ln, "axis", axis));
  AICC_TRY(aicc_node_attr_set_float(ln, "epsilon", (float)eps));
  aicc_node *gone[] = {sq_root, add, rm2, sq, sub, rm1};
  aicc_rewrite_drop_unused(g, gone, 6);
  *fired = true;
  return NULL;
}

/* Element `flat` of the normalized block (dims nd[0..n)) read from c, which
 * broadcasts against it right-aligned. */
static double bcast_get(const aicc_tensor *c, const int64_t *nd, int n, int64_t flat) {
  int64_t idx = 0, stride = 1;
  for (int i = n - 1, j = c->rank - 1; i >= 0; i--, j--) {
    int64_t coord = flat % nd[i];
    flat /= nd[i];
    if (j < 0) continue;
    if (c->dims[j] != 1) idx += coord * stride;
    stride *= c->dims[j];
  }
  return aicc_tensor_get_f64(c, idx);
}

/* LayerNormalization(x, s, b) followed by *gamma or +beta, both constants
 * over the normalized axes only: s' = s*gamma, b' = b*gamma, or b' = b+beta. */
static aicc_status layernorm_affine(aicc_graph *g, aicc_node *root, bool scale, bool *fired) {
  if (root->n_inputs != 2) return NULL;
  int side = -1;
  for (int i = 0; i < 2 && side < 0; i++)
    if (aicc_rewrite_producer(root->inputs[i], "LayerNormalization") &&
        aicc_rewrite_const(root->inputs[1 - i]))
      side = i;
  if (side < 0) return NULL;
  aicc_value *y = root->inputs[side];
  aicc_node *ln = y->producer;
  const aicc_tensor *c = aicc_rewrite_const(root->inputs[1 - side]);
  if (y->producer_index != 0 || aicc_rewrite_uses(y) != 1 || c->dtype != y->type.dtype) return NULL;
  for (int k = 1; k < ln->n_outputs; k++)
    if (ln->outputs[k] && aicc_rewrite_uses(ln->outputs[k])) return NULL;
  const aicc_tensor *s = aicc_rewrite_const(ln->inputs[1]);
  aicc_value *b_in = ln->n_inputs > 2 ? ln->inputs[2] : NULL;
  const aicc_tensor *b = b_in ? aicc_rewrite_const(b_in) : NULL;
  if (!s || (b_in && !b)) return NULL;
  int r = y->type.rank;
  int64_t axis = aicc_node_attr_int(ln, "axis", -1);
  if (axis < 0) axis += r;
  if (r < 1 || axis < 0 || axis >= r || c->rank > r) return NULL;
  int n = r - (int)axis;
  int64_t nd[AICC_MAX_RANK];
  for (int i = 0; i < n; i++) {
    if (!aicc_dim_is_known(y->type.dims[axis + i])) return NULL;
    nd[i] = y->type.dims[axis + i].size;
  }
  /* c may vary only along the normalized axes, and must not grow them. */
  for (int j = 0; j < c->rank; j++) {
    int a = r - c->rank + j;
    if (c->dims[j] != 1 && (a < axis || c->dims[j] != nd[a - axis])) return NULL;
  }
  if (s->rank > n || (b && b->rank > n)) return NULL;
  aicc_tensor *ns, *nb;
  AICC_TRY(aicc_tensor_create(y->type.dtype, n, nd, &ns));
  aicc_status st = aicc_tensor_create(y->type.dtype, n, nd, &nb);
  if (st) {
    aicc_tensor_release(ns);
    return st;
  }
  int64_t cnt = aicc_tensor_numel(ns);
  for (int64_t i = 0; i < cnt; i++) {
    double sv = bcast_get(s, nd, n, i), bv = b ? bcast_get(b, nd, n, i) : 0,
           cv = bcast_get(c, nd, n, i);
    aicc_tensor_set_f64(ns, i, scale ? sv * cv : sv);
    aicc_tensor_set_f64(nb, i, scale ? bv * cv : bv + cv);
  }
  aicc_value *in[3] = {ln->inputs[0], NULL, NULL};
  if ((st = aicc_rewrite_const_new(g, ns, &in[1]))) {
    aicc_tensor_release(nb);
    return st;
  }
  AICC_TRY(aicc_rewrite_const_new(g, nb, &in[2]));
  aicc_value *out = root->outputs[0];
  aicc_graph_node_remove(g, root);
  aicc_node *n2;
  AICC_TRY(aicc_rewrite_emit(g, ln->name, "LayerNormalization", in, 3, out, &n2));
  AICC_TRY(aicc_node_attrs_copy(n2, ln));
  aicc_rewrite_drop_unused(g, &ln, 1);
  *fired = true;
  return NULL;
}

aicc_status aicc_rewrite_layernorm_scale(aicc_graph *g, aicc_node *root, bool *fired) {
  return layernorm_affine(g, root, true, fired);
}

aicc_status aicc_rewrite_layernorm_bias(aicc_graph *g, aicc_node *root, bool *fired) {
  return layernorm_affine(g, root, false, fired);
}

/* --- GELU --- */

enum { MAX_LEAVES = 8 };

/* The operands of a tree of Muls (inner Muls used only by the tree), so
 * every association order of a product looks the same. */
typedef struct mul_tree {
  aicc_value *leaf[MAX_LEAVES];
  int n;
  aicc_node *inner[MAX_LEAVES];
  int ni;
  double k; /* product of the scalar-constant leaves */
  int nk;   /* how many there were */
} mul_tree;

static bool mul_flatten_value(aicc_value *v, mul_tree *t) {
  aicc_node *p = aicc_rewrite_producer(v, "Mul");
  double c;
  if (p && p->n_inputs == 2 && aicc_rewrite_uses(v) == 1) {
    if (t->ni == MAX_LEAVES) return false;
    t->inner[t->ni++] = p;
    return mul_flatten_value(p->inputs[0], t) && mul_flatten_value(p->inputs[1], t);
  }
  if (aicc_rewrite_const_scalar(v, &c)) {
    t->k *= c;
    t->nk++;
    return true;
  }
  if (t->n == MAX_LEAVES) return false;
  t->leaf[t->n++] = v;
  return true;
}

/* Flattens the Mul tree rooted at node n (n itself may have many uses). */
static bool mul_flatten(const aicc_node *n, mul_tree *t) {
  memset(t, 0, sizeof *t);
  t->k = 1;
  return n->n_inputs == 2 && mul_flatten_value(n->inputs[0], t) &&
         mul_flatten_value(n->inputs[1], t);
}

/* a = Add(1, f(z)) (either order; or a two-input Sum, as ONNX's own Gelu
 * function body writes it) with f = `fn`, a and f(z) used once: returns the
 * node of f, else NULL. */
static aicc_node *one_plus(aicc_value *a, const char *fn, aicc_node **add) {
  aicc_node *p = aicc_rewrite_producer(a, "Add");
  if (!p) p = aicc_rewrite_producer(a, "Sum");
  double one;
  if (!p || p->n_inputs != 2 || aicc_rewrite_uses(a) != 1) return NULL;
  for (int i = 0; i < 2; i++) {
    aicc_node *f = aicc_rewrite_producer(p->inputs[i], fn);
    if (f && aicc_rewrite_const_scalar(p->inputs[1 - i], &one) && one == 1.0 &&
        aicc_rewrite_uses(f->outputs[0]) == 1) {
      *add = p;
      return f;
    }
  }
  return NULL;
}

/* Replaces root by Gelu(x) (approximate="tanh" when tanh) and drops the
 * listed nodes that are now unused. */
static aicc_status emit_gelu(aicc_graph *g, aicc_node *root, aicc_value *x, bool tanh_form,
                             aicc_node **gone, int n_gone, bool *fired) {
  aicc_value *out = root->outputs[0];
  /* Gelu(x) has x's type: a pattern whose constants broadcast x to a larger
   * shape (or change its dtype) is not a Gelu of x. */
  if (!aicc_type_equal(&x->type, &out->type)) return NULL;
  aicc_graph_node_remove(g, root);
  aicc_node *n;
  AICC_TRY(aicc_rewrite_emit(g, root->name, "Gelu", &x, 1, out, &n));
  if (tanh_form) AICC_TRY(aicc_node_attr_set_string(n, "approximate", "tanh"));
  aicc_rewrite_drop_unused(g, gone, n_gone);
  *fired = true;
  return NULL;
}

/* x * 0.5 * (1 + Erf(x / sqrt(2))) in any association (Div by sqrt 2 or Mul
 * by 1/sqrt 2) -> Gelu(x). */
aicc_status aicc_rewrite_gelu_erf(aicc_graph *g, aicc_node *root, bool *fired) {
  mul_tree t;
  if (!mul_flatten(root, &t) || t.n != 2 || t.nk < 1 || !near(t.k, 0.5)) return NULL;
  for (int i = 0; i < 2; i++) {
    aicc_value *x = t.leaf[1 - i];
    aicc_node *add, *erf = one_plus(t.leaf[i], "Erf", &add);
    if (!erf || !aicc_rewrite_is_float(x->type.dtype)) continue;
    aicc_value *z = erf->inputs[0];
    aicc_node *scale = aicc_rewrite_producer(z, "Div");
    double k;
    if (scale) {
      if (scale->inputs[0] != x || !aicc_rewrite_const_scalar(scale->inputs[1], &k) ||
          !near(k, sqrt(2.0)))
        continue;
    } else {
      mul_tree zt;
      scale = aicc_rewrite_producer(z, "Mul");
      if (!scale || !mul_flatten(scale, &zt) || zt.n != 1 || zt.leaf[0] != x ||
          !near(zt.k, 1 / sqrt(2.0)))
        continue;
    }
    if (aicc_rewrite_uses(z) != 1) continue;
    aicc_node *gone[MAX_LEAVES + 3];
    int ng = 0;
    for (int j = 0; j < t.ni; j++) gone[ng++] = t.inner[j];
    gone[ng++] = add;
    gone[ng++] = erf;
    gone[ng++] = scale;
    return emit_gelu(g, root, x, false, gone, ng, fired);
  }
  return NULL;
}

/* 0.5 * x * (1 + Tanh(sqrt(2/pi) * (x + 0.044715 * x^3))) -> Gelu(x,
 * approximate="tanh"); x^3 as Pow(x, 3) or x*x*x. */
aicc_status aicc_rewrite_gelu_tanh(aicc_graph *g, aicc_node *root, bool *fired) {
  mul_tree t;
  if (!mul_flatten(root, &t) || t.n != 2 || t.nk < 1 || !near(t.k, 0.5)) return NULL;
  for (int i = 0; i < 2; i++) {
    aicc_value *x = t.leaf[1 - i];
    aicc_node *add, *th = one_plus(t.leaf[i], "Tanh", &add);
    if (!th || !aicc_rewrite_is_float(x->type.dtype)) continue;
    /* sqrt(2/pi) * w, w = x + 0.044715 * x^3 */
    aicc_node *outer = aicc_rewrite_producer(th->inputs[0], "Mul");
    mul_tree ut, ct;
    if (!outer || aicc_rewrite_uses(th->inputs[0]) != 1 || !mul_flatten(outer, &ut) ||
        ut.n != 1 || !near(ut.k, sqrt(2.0 / 3.14159265358979323846)))
      continue;
    aicc_node *inner_add = aicc_rewrite_producer(ut.leaf[0], "Add");
    if (!inner_add || aicc_rewrite_uses(ut.leaf[0]) != 1) continue;
    int xi = inner_add->inputs[0] == x ? 0 : inner_add->inputs[1] == x ? 1 : -1;
    if (xi < 0) continue;
    aicc_value *cube_term = inner_add->inputs[1 - xi];
    aicc_node *cm = aicc_rewrite_producer(cube_term, "Mul");
    if (!cm || aicc_rewrite_uses(cube_term) != 1 || !mul_flatten(cm, &ct) ||
        !near(ct.k, 0.044715))
      continue;
    aicc_node *pw = NULL;
    double e;
    if (ct.n == 1) {
      pw = aicc_rewrite_producer(ct.leaf[0], "Pow");
      if (!pw || pw->inputs[0] != x || !aicc_rewrite_const_scalar(pw->inputs[1], &e) ||
          e != 3.0 || aicc_rewrite_uses(ct.leaf[0]) != 1)
        continue;
    } else if (!(ct.n == 3 && ct.leaf[0] == x && ct.leaf[1] == x && ct.leaf[2] == x)) {
      continue;
    }
    aicc_node *gone[3 * MAX_LEAVES + 5];
    int ng = 0;
    for (int j = 0; j < t.ni; j++) gone[ng++] = t.inner[j];
    gone[ng++] = add;
    gone[ng++] = th;
    for (int j = 0; j < ut.ni; j++) gone[ng++] = ut.inner[j];
    gone[ng++] = inner_add;
    for (int j = 0; j < ct.ni; j++) gone[ng++] = ct.inner[j];
    if (pw) gone[ng++] = pw;
    return emit_gelu(g, root, x, true, gone, ng, fired);
  }
  return NULL;
}

/* --- attention --- */

/* How mask type m fits the 4-D scores type s: 0 not at all; 1 as it is
 * (it broadcasts into s without growing it, with its last two dims [Sq,Skv]
 * in full); 2 after an Expand of its (static, size 1) dim -2 to Sq. The spec
 * allows any broadcast, but onnxruntime's Attention rejects [..., 1, Skv]. */
static int mask_fits(const aicc_type *m, const aicc_type *s) {
  if (m->kind != AICC_KIND_TENSOR || m->rank < 2 || m->rank > 4) return 0;
  int fit = 1;
  for (int i = 0; i < m->rank; i++) {
    aicc_dim md = m->dims[i], sd = s->dims[4 - m->rank + i];
    bool one = aicc_dim_is_known(md) && md.size == 1;
    if (aicc_dim_equal(md, sd) && (aicc_dim_is_known(md) || md.sym)) continue;
    if (i == m->rank - 2 && one && aicc_dim_is_known(sd)) fit = 2;
    else if (i >= m->rank - 2 || !one) return 0;
  }
  if (fit == 2) /* the Expand's shape is a constant: every dim known */
    for (int i = 0; i < m->rank; i++)
      if (!aicc_dim_is_known(m->dims[i])) return 0;
  return fit;
}

/* Expands the mask's dim -2 to Sq (see mask_fits). */
static aicc_status mask_expand(aicc_graph *g, aicc_value *mask, const aicc_type *s,
                               aicc_value **out) {
  int r = mask->type.rank;
  int64_t shape[4];
  for (int i = 0; i < r; i++) shape[i] = mask->type.dims[i].size;
  shape[r - 2] = s->dims[2].size;
  int64_t rr = r;
  aicc_tensor *t;
  AICC_TRY(aicc_tensor_create(AICC_DTYPE_I64, 1, &rr, &t));
  for (int i = 0; i < r; i++) aicc_tensor_set_i64(t, i, shape[i]);
  aicc_value *in[2] = {mask, NULL};
  AICC_TRY(aicc_rewrite_const_new(g, t, &in[1]));
  aicc_type ty = mask->type;
  ty.dims[r - 2] = aicc_dim_known(shape[r - 2]);
  AICC_TRY(aicc_rewrite_value_new(g, &ty, out));
  aicc_node *n;
  return aicc_rewrite_emit(g, "", "Expand", in, 2, *out, &n);
}

/* Softmax(MatMul(Q, Transpose(K)) * scale [+ mask], axis=-1) @ V with 4-D
 * Q [B,H,Sq,D], K [B,H,Skv,D], V [B,H,Skv,Dv] -> Attention(Q, K, V, mask)
 * {scale}. K^T's Transpose is rewritten to produce K itself. */
aicc_status aicc_rewrite_attention(aicc_graph *g, aicc_node *root, bool *fired) {
  if (root->n_inputs != 2) return NULL;
  aicc_value *p = root->inputs[0], *v = root->inputs[1];
  aicc_node *sm = aicc_rewrite_producer(p, "Softmax");
  if (!sm || aicc_rewrite_uses(p) != 1) return NULL;
  int64_t sax = aicc_node_attr_int(sm, "axis", -1);
  if (sax != -1 && sax != 3) return NULL;
  aicc_value *s = sm->inputs[0], *mask = NULL;
  int fit = 0;
  aicc_node *gone[4] = {sm, NULL, NULL, NULL};
  int ng = 1;
  if (s->type.rank != 4 || !aicc_rewrite_is_float(s->type.dtype)) return NULL;
  /* optional additive mask */
  aicc_node *madd = aicc_rewrite_producer(s, "Add");
  aicc_value *scaled = s;
  if (madd) {
    if (aicc_rewrite_uses(s) != 1) return NULL;
    for (int i = 0; i < 2 && !mask; i++) {
      aicc_node *q = madd->inputs[i]->producer;
      if (q && !q->dead && !*q->domain &&
          (!strcmp(q->op_type, "Mul") || !strcmp(q->op_type, "Div") ||
           !strcmp(q->op_type, "MatMul")) &&
          (fit = mask_fits(&madd->inputs[1 - i]->type, &s->type)) &&
          madd->inputs[1 - i]->type.dtype == s->type.dtype) {
        scaled = madd->inputs[i];
        mask = madd->inputs[1 - i];
      }
    }
    if (!mask) return NULL;
    gone[ng++] = madd;
  }
  /* optional scale: Mul by c or Div by c (scalar constants) */
  double scale = 1, c;
  aicc_value *qk = scaled;
  aicc_node *sc = aicc_rewrite_producer(scaled, "Mul");
  if (!sc) sc = aicc_rewrite_producer(scaled, "Div");
  if (sc) {
    bool div = !strcmp(sc->op_type, "Div");
    if (aicc_rewrite_uses(scaled) != 1) return NULL;
    if (aicc_rewrite_const_scalar(sc->inputs[1], &c)) qk = sc->inputs[0];
    else if (!div && aicc_rewrite_const_scalar(sc->inputs[0], &c)) qk = sc->inputs[1];
    else return NULL;
    if (c == 0) return NULL;
    scale = div ? 1 / c : c;
    gone[ng++] = sc;
  }
  aicc_node *mm = aicc_rewrite_producer(qk, "MatMul");
  if (!mm || aicc_rewrite_uses(qk) != 1) return NULL;
  gone[ng++] = mm;
  aicc_value *q = mm->inputs[0], *kt = mm->inputs[1];
  const aicc_type *qt = &q->type, *ktt = &kt->type, *vt = &v->type;
  if (qt->rank != 4 || ktt->rank != 4 || vt->rank != 4) return NULL;
  /* Batch and heads must agree exactly (Attention does not broadcast them the
   * way MatMul would); K^T is [B,H,D,Skv]; V is [B,H,Skv,Dv]. */
  for (int i = 0; i < 2; i++)
    if (!aicc_dim_equal(qt->dims[i], ktt->dims[i]) || !aicc_dim_equal(qt->dims[i], vt->dims[i]) ||
        !aicc_dim_is_known(qt->dims[i]))
      return NULL;
  if (!aicc_dim_equal(qt->dims[3], ktt->dims[2]) || !aicc_dim_equal(ktt->dims[3], vt->dims[2]))
    return NULL;
  if (qt->dtype != s->type.dtype || ktt->dtype != qt->dtype || vt->dtype != qt->dtype)
    return NULL;
  /* K itself: Transpose(K0, perm) with the last two entries swapped back. */
  aicc_node *tr = aicc_rewrite_producer(kt, "Transpose");
  aicc_value *k0 = kt;
  int64_t perm[4] = {0, 1, 3, 2};
  if (tr && aicc_rewrite_uses(kt) == 1) {
    int64_t np = 0;
    const int64_t *pp = aicc_node_attr_ints(tr, "perm", &np);
    if (!pp || np != 4) return NULL;
    memcpy(perm, pp, sizeof perm);
    int64_t tmp = perm[2];
    perm[2] = perm[3];
    perm[3] = tmp;
    k0 = tr->inputs[0];
  } else {
    tr = NULL;
  }
  aicc_type ktype = *ktt;
  ktype.dims[2] = ktt->dims[3];
  ktype.dims[3] = ktt->dims[2];
  aicc_value *k = k0;
  bool identity = perm[0] == 0 && perm[1] == 1 && perm[2] == 2 && perm[3] == 3;
  if (!identity) AICC_TRY(aicc_rewrite_value_new(g, &ktype, &k));
  aicc_value *out = root->outputs[0];
  aicc_graph_node_remove(g, root);
  aicc_node *n;
  if (!identity) {
    AICC_TRY(aicc_rewrite_emit(g, tr ? tr->name : "", "Transpose", &k0, 1, k, &n));
    AICC_TRY(aicc_node_attr_set_ints(n, "perm", perm, 4));
  }
  if (fit == 2) AICC_TRY(mask_expand(g, mask, &s->type, &mask));
  aicc_value *in[4] = {q, k, v, mask};
  AICC_TRY(aicc_rewrite_emit(g, root->name, "Attention", in, mask ? 4 : 3, out, &n));
  AICC_TRY(aicc_node_attr_set_float(n, "scale", (float)scale));
  aicc_rewrite_drop_unused(g, gone, ng);
  if (tr) aicc_rewrite_drop_unused(g, &tr, 1);
  *fired = true;
  return NULL;
}
