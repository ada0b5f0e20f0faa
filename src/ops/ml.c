/* Operators of the ai.onnx.ml domain: LabelEncoder, ArrayFeatureExtractor,
 * Binarizer, TreeEnsemble. Reference kernels; element access is generic. */
#include "ops/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ML "ai.onnx.ml"

/* --- LabelEncoder: a lookup table given as attribute lists or tensors --- */

/* One side (keys or values) of the table: a list attribute or a tensor. */
typedef struct table_side {
  aicc_dtype dtype;
  int64_t n;
  const aicc_attr *list;   /* FLOATS / INTS / STRINGS */
  const aicc_tensor *tens; /* or a tensor */
} table_side;

static bool table_side_get(const aicc_node *nd, const char *prefix, table_side *t) {
  static const struct { const char *suffix; aicc_dtype dt; } kinds[] = {
      {"_floats", AICC_DTYPE_F32}, {"_int64s", AICC_DTYPE_I64}, {"_strings", AICC_DTYPE_STRING}};
  char name[64];
  memset(t, 0, sizeof *t);
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    snprintf(name, sizeof name, "%s%s", prefix, kinds[k].suffix);
    const aicc_attr *a = aicc_node_attr(nd, name);
    if (a) {
      t->dtype = kinds[k].dt;
      t->n = a->n;
      t->list = a;
      return true;
    }
  }
  snprintf(name, sizeof name, "%s_tensor", prefix);
  t->tens = aicc_node_attr_tensor(nd, name);
  if (!t->tens) return false;
  t->dtype = t->tens->dtype;
  t->n = aicc_tensor_numel(t->tens);
  return true;
}

static bool side_is_string(const table_side *t) { return t->dtype == AICC_DTYPE_STRING; }

static aicc_bytes side_string(const table_side *t, int64_t i) {
  if (t->list) return t->list->ss[i];
  return (aicc_bytes){((char *const *)t->tens->data)[i], t->tens->strlens[i]};
}

static double side_f64(const table_side *t, int64_t i) {
  if (!t->list) return aicc_tensor_get_f64(t->tens, i);
  return t->list->kind == AICC_ATTR_FLOATS ? t->list->fs[i] : (double)t->list->is[i];
}

static aicc_status label_encoder_infer(aicc_infer_ctx *c) {
  table_side v;
  if (!table_side_get(c->node, "values", &v))
    return aicc_infer_error(c, AICC_ERR_INVALID, "no values_* attribute");
  if (c->in[0]) {
    c->out[0] = *c->in[0];
    c->out[0].dtype = v.dtype;
  }
  return NULL;
}

static aicc_status label_encoder_kernel(aicc_kernel_ctx *c) {
  const aicc_node *nd = c->node;
  table_side k, v;
  if (!table_side_get(nd, "keys", &k) || !table_side_get(nd, "values", &v))
    return aicc_kernel_error(c, AICC_ERR_INVALID, "needs keys_* and values_* attributes");
  if (k.n != v.n)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "%lld keys but %lld values", (long long)k.n,
                             (long long)v.n);
  const aicc_tensor *x = c->in[0];
  if (side_is_string(&k) != (x->dtype == AICC_DTYPE_STRING))
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "input dtype %s does not match the keys",
                             aicc_dtype_text(x->dtype));
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, v.dtype, x->rank, x->dims, &y));
  /* Default value: default_tensor, or the typed default_* (spec defaults). */
  const aicc_tensor *dt = aicc_node_attr_tensor(nd, "default_tensor");
  double dflt_num = v.dtype == AICC_DTYPE_I64 ? (double)aicc_node_attr_int(nd, "default_int64", -1)
                                              : aicc_node_attr_float(nd, "default_float", -0.0f);
  if (dt && !side_is_string(&v)) dflt_num = aicc_tensor_get_f64(dt, 0);
  const char *dflt_str = aicc_node_attr_string(nd, "default_string", "_Unused");
  if (dt && side_is_string(&v)) dflt_str = ((char *const *)dt->data)[0];
  for (int64_t i = 0, n = aicc_tensor_numel(x); i < n; i++) {
    int64_t hit = -1;
    for (int64_t j = 0; j < k.n && hit < 0; j++) {
      if (side_is_string(&k)) {
        aicc_bytes b = side_string(&k, j);
        if (b.len == x->strlens[i] && memcmp(b.s, ((char *const *)x->data)[i], b.len) == 0) hit = j;
      } else {
        double a = aicc_tensor_get_f64(x, i), b = side_f64(&k, j);
        if (a == b || (isnan(a) && isnan(b))) hit = j;
      }
    }
    if (side_is_string(&v)) {
      aicc_bytes b = hit >= 0 ? side_string(&v, hit) : (aicc_bytes){dflt_str, strlen(dflt_str)};
      AICC_TRY(aicc_tensor_set_string(y, i, b.s, b.len));
    } else if (v.list && v.list->kind == AICC_ATTR_INTS && hit >= 0) {
      aicc_tensor_set_i64(y, i, v.list->is[hit]);
    } else {
      aicc_tensor_set_f64(y, i, hit >= 0 ? side_f64(&v, hit) : dflt_num);
    }
  }
  return NULL;
}

/* --- ArrayFeatureExtractor: gathers along the last axis --- */

static aicc_status afe_infer(aicc_infer_ctx *c) {
  if (!aicc_infer_has_rank(c, 0)) return NULL;
  const aicc_type *x = c->in[0];
  aicc_dim d[AICC_MAX_RANK];
  memcpy(d, x->dims, sizeof(aicc_dim) * (size_t)x->rank);
  int r = x->rank ? x->rank : 1;
  d[r - 1] = c->cin[1] ? aicc_dim_known(aicc_tensor_numel(c->cin[1])) : aicc_dim_unknown();
  if (x->rank == 1) {
    d[0] = aicc_dim_known(1);
    d[1] = c->cin[1] ? aicc_dim_known(aicc_tensor_numel(c->cin[1])) : aicc_dim_unknown();
    r = 2;
  }
  aicc_infer_set(c, 0, x->dtype, r, d);
  return NULL;
}

static aicc_status afe_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *x = c->in[0], *idx = c->in[1];
  if (x->rank < 1) return aicc_kernel_error(c, AICC_ERR_SHAPE, "input must have rank >= 1");
  int64_t k = aicc_tensor_numel(idx), last = x->dims[x->rank - 1];
  int64_t rows = last ? aicc_tensor_numel(x) / last : 0;
  int64_t od[AICC_MAX_RANK];
  int r = x->rank;
  memcpy(od, x->dims, sizeof(int64_t) * (size_t)r);
  if (r == 1) {
    od[0] = 1;
    r = 2;
  }
  od[r - 1] = k;
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, r, od, &y));
  for (int64_t j = 0; j < k; j++) {
    int64_t col = aicc_tensor_get_i64(idx, j);
    if (col < 0 || col >= last)
      return aicc_kernel_error(c, AICC_ERR_INVALID, "index %lld out of range", (long long)col);
    for (int64_t i = 0; i < rows; i++) {
      if (x->dtype == AICC_DTYPE_STRING)
        AICC_TRY(aicc_tensor_set_string(y, i * k + j, ((char *const *)x->data)[i * last + col],
                                        x->strlens[i * last + col]));
      else if (aicc_dtype_is_int(x->dtype))
        aicc_tensor_set_i64(y, i * k + j, aicc_tensor_get_i64(x, i * last + col));
      else
        aicc_tensor_set_f64(y, i * k + j, aicc_tensor_get_f64(x, i * last + col));
    }
  }
  return NULL;
}

/* --- Binarizer --- */

static aicc_status binarizer_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *x = c->in[0];
  double th = aicc_node_attr_float(c->node, "threshold", 0.0f);
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, x->rank, x->dims, &y));
  for (int64_t i = 0, n = aicc_tensor_numel(x); i < n; i++)
    aicc_tensor_set_f64(y, i, aicc_tensor_get_f64(x, i) > th ? 1.0 : 0.0);
  return NULL;
}

/* --- TreeEnsemble (ml opset 5) --- */

enum { MODE_LEQ, MODE_LT, MODE_GTE, MODE_GT, MODE_EQ, MODE_NEQ, MODE_MEMBER };

typedef struct forest {
  const int64_t *feat, *tnode, *fnode, *tleaf, *fleaf, *ltarget, *roots;
  const aicc_tensor *splits, *modes, *lweights, *members, *missing;
  int64_t n_nodes, n_leaves, n_roots;
  int64_t *member_start; /* per node: offset of its set in `members` */
} forest;

static bool node_true(const forest *f, int64_t nd, const aicc_tensor *x, int64_t row,
                      int64_t cols) {
  double v = aicc_tensor_get_f64(x, row * cols + f->feat[nd]);
  if (isnan(v) && f->missing && aicc_tensor_get_i64(f->missing, nd)) return true;
  int64_t mode = aicc_tensor_get_i64(f->modes, nd);
  double s = mode == MODE_MEMBER ? 0 : aicc_tensor_get_f64(f->splits, nd);
  switch (mode) {
  case MODE_LEQ: return v <= s;
  case MODE_LT: return v < s;
  case MODE_GTE: return v >= s;
  case MODE_GT: return v > s;
  case MODE_EQ: return v == s;
  case MODE_NEQ: return v != s;
  default:
    for (int64_t k = f->member_start[nd]; k < aicc_tensor_numel(f->members); k++) {
      double m = aicc_tensor_get_f64(f->members, k);
      if (isnan(m)) break;
      if (m == v) return true;
    }
    return false;
  }
}

static aicc_status tree_ensemble_infer(aicc_infer_ctx *c) {
  if (!aicc_infer_has_rank(c, 0)) return NULL;
  aicc_dim d[2] = {c->in[0]->dims[0], aicc_dim_known(aicc_node_attr_int(c->node, "n_targets", 1))};
  aicc_infer_set(c, 0, c->in[0]->dtype, 2, d);
  return NULL;
}

static aicc_status tree_ensemble_kernel(aicc_kernel_ctx *c) {
  const aicc_node *nd = c->node;
  const aicc_tensor *x = c->in[0];
  forest f = {0};
  int64_t n1, n2, n3, n4, n5, n6, n7;
  f.feat = aicc_node_attr_ints(nd, "nodes_featureids", &n1);
  f.tnode = aicc_node_attr_ints(nd, "nodes_truenodeids", &n2);
  f.fnode = aicc_node_attr_ints(nd, "nodes_falsenodeids", &n3);
  f.tleaf = aicc_node_attr_ints(nd, "nodes_trueleafs", &n4);
  f.fleaf = aicc_node_attr_ints(nd, "nodes_falseleafs", &n5);
  f.ltarget = aicc_node_attr_ints(nd, "leaf_targetids", &n6);
  f.roots = aicc_node_attr_ints(nd, "tree_roots", &n7);
  f.splits = aicc_node_attr_tensor(nd, "nodes_splits");
  f.modes = aicc_node_attr_tensor(nd, "nodes_modes");
  f.lweights = aicc_node_attr_tensor(nd, "leaf_weights");
  f.members = aicc_node_attr_tensor(nd, "membership_values");
  f.missing = aicc_node_attr_tensor(nd, "nodes_missing_value_tracks_true");
  f.n_nodes = n1;
  f.n_leaves = n6;
  f.n_roots = n7;
  if (!f.feat || !f.tnode || !f.fnode || !f.tleaf || !f.fleaf || !f.ltarget || !f.roots ||
      !f.splits || !f.modes || !f.lweights || n2 != n1 || n3 != n1 || n4 != n1 || n5 != n1 ||
      aicc_tensor_numel(f.splits) != n1 || aicc_tensor_numel(f.modes) != n1 ||
      aicc_tensor_numel(f.lweights) != n6)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "inconsistent tree attributes");
  if (x->rank != 2) return aicc_kernel_error(c, AICC_ERR_SHAPE, "X must be [N, F]");
  int64_t N = x->dims[0], F = x->dims[1];
  int64_t T = aicc_node_attr_int(nd, "n_targets", 1);
  int64_t agg = aicc_node_attr_int(nd, "aggregate_function", 1);
  if (aicc_node_attr_int(nd, "post_transform", 0) != 0)
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "post_transform other than NONE");
  if (agg < 0 || agg > 3) return aicc_kernel_error(c, AICC_ERR_INVALID, "bad aggregate_function");
  /* Set-membership nodes take consecutive NaN-terminated runs of values. */
  f.member_start = calloc((size_t)(n1 ? n1 : 1), sizeof *f.member_start);
  if (!f.member_start) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  int64_t pos = 0;
  for (int64_t i = 0; i < n1; i++) {
    if (f.feat[i] < 0 || f.feat[i] >= F) {
      free(f.member_start);
      return aicc_kernel_error(c, AICC_ERR_INVALID, "feature id %lld out of range", (long long)f.feat[i]);
    }
    if (aicc_tensor_get_i64(f.modes, i) != MODE_MEMBER) continue;
    if (!f.members) {
      free(f.member_start);
      return aicc_kernel_error(c, AICC_ERR_INVALID, "set membership without membership_values");
    }
    f.member_start[i] = pos;
    while (pos < aicc_tensor_numel(f.members) && !isnan(aicc_tensor_get_f64(f.members, pos))) pos++;
    pos++;
  }
  int64_t od[2] = {N, T};
  aicc_tensor *y;
  aicc_status s = aicc_kernel_output(c, 0, x->dtype, 2, od, &y);
  double *acc = s ? NULL : malloc(sizeof *acc * (size_t)(T ? T : 1));
  if (!s && !acc) s = aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  for (int64_t r = 0; r < N && !s; r++) {
    double init = agg == 2 ? INFINITY : agg == 3 ? -INFINITY : 0;
    for (int64_t t = 0; t < T; t++) acc[t] = init;
    for (int64_t k = 0; k < f.n_roots && !s; k++) {
      int64_t cur = f.roots[k];
      bool leaf = f.tleaf[cur] && f.fleaf[cur] && f.tnode[cur] == f.fnode[cur];
      for (int64_t steps = 0; !leaf; steps++) {
        if (cur < 0 || cur >= n1 || steps > n1) {
          s = aicc_kernel_error(c, AICC_ERR_INVALID, "malformed tree %lld", (long long)k);
          break;
        }
        bool t = node_true(&f, cur, x, r, F);
        leaf = t ? f.tleaf[cur] : f.fleaf[cur];
        cur = t ? f.tnode[cur] : f.fnode[cur];
      }
      if (s) break;
      if (cur < 0 || cur >= n6 || f.ltarget[cur] < 0 || f.ltarget[cur] >= T) {
        s = aicc_kernel_error(c, AICC_ERR_INVALID, "leaf %lld out of range", (long long)cur);
        break;
      }
      double w = aicc_tensor_get_f64(f.lweights, cur);
      double *a = &acc[f.ltarget[cur]];
      if (agg == 0) *a += w / (double)f.n_roots;
      else if (agg == 1) *a += w;
      else if (agg == 2) *a = fmin(*a, w);
      else *a = fmax(*a, w);
    }
    for (int64_t t = 0; t < T && !s; t++) aicc_tensor_set_f64(y, r * T + t, acc[t]);
  }
  free(acc);
  free(f.member_start);
  return s;
}

static const aicc_attr_spec label_encoder_attrs[] = {
    AICC_A_FLOAT("default_float"), AICC_A_INT("default_int64"), AICC_A_STRING("default_string"),
    AICC_A_TENSOR("default_tensor"), AICC_A_FLOATS("keys_floats"), AICC_A_INTS("keys_int64s"),
    AICC_A_STRINGS("keys_strings"), AICC_A_TENSOR("keys_tensor"), AICC_A_FLOATS("values_floats"),
    AICC_A_INTS("values_int64s"), AICC_A_STRINGS("values_strings"), AICC_A_TENSOR("values_tensor"),
    AICC_A_END};
static const aicc_attr_spec binarizer_attrs[] = {AICC_A_FLOAT("threshold"), AICC_A_END};
static const aicc_attr_spec tree_attrs[] = {
    AICC_A_INT("aggregate_function"), AICC_A_INTS("leaf_targetids"), AICC_A_TENSOR("leaf_weights"),
    AICC_A_TENSOR("membership_values"), AICC_A_INT("n_targets"), AICC_A_INTS("nodes_falseleafs"),
    AICC_A_INTS("nodes_falsenodeids"), AICC_A_INTS("nodes_featureids"),
    AICC_A_TENSOR("nodes_hitrates"), AICC_A_TENSOR("nodes_missing_value_tracks_true"),
    AICC_A_TENSOR("nodes_modes"), AICC_A_TENSOR("nodes_splits"), AICC_A_INTS("nodes_trueleafs"),
    AICC_A_INTS("nodes_truenodeids"), AICC_A_INT("post_transform"), AICC_A_INTS("tree_roots"),
    AICC_A_END};

static const aicc_op ops[] = {
    {"LabelEncoder", ML, 2, 0, 1, 1, 1, 1, label_encoder_attrs, label_encoder_infer,
     label_encoder_kernel},
    {"ArrayFeatureExtractor", ML, 1, 0, 2, 2, 1, 1, NULL, afe_infer, afe_kernel},
    {"Binarizer", ML, 1, 0, 1, 1, 1, 1, binarizer_attrs, aicc_infer_same_as_input,
     binarizer_kernel},
    {"TreeEnsemble", ML, 5, 0, 1, 1, 1, 1, tree_attrs, tree_ensemble_infer, tree_ensemble_kernel},
};

const aicc_op_family aicc_family_ml = {"ml", ops, sizeof ops / sizeof ops[0]};
