/* Ops that order data: TopK and Unique. Both sort indices with a stable
 * merge sort so ties resolve by position, as the ONNX reference does
 * (lexsort by value, then index). Unique handles every dtype, strings
 * included, and infers its data-dependent shapes from a constant input. */
#include "ops/util_elem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef int (*idx_cmp)(const void *ctx, int64_t a, int64_t b);

/* Stable bottom-up merge sort of a[0..n) (tmp has n entries). */
static void merge_sort(int64_t *a, int64_t *tmp, int64_t n, idx_cmp cmp, const void *ctx) {
  int64_t *src = a, *dst = tmp;
  for (int64_t w = 1; w < n; w *= 2) {
    for (int64_t lo = 0; lo < n; lo += 2 * w) {
      int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      int64_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) dst[k++] = cmp(ctx, src[j], src[i]) < 0 ? src[j++] : src[i++];
      while (i < mid) dst[k++] = src[i++];
      while (j < hi) dst[k++] = src[j++];
    }
    int64_t *t = src;
    src = dst;
    dst = t;
  }
  if (src != a) memcpy(a, src, sizeof(int64_t) * (size_t)n);
}

/* ---- TopK ---- */

/* One line of keys, widened so comparisons are exact for every dtype. */
typedef struct topk_line {
  int kind; /* 0 float, 1 signed, 2 unsigned */
  bool largest;
  const double *f;
  const int64_t *i;
} topk_line;

static int topk_cmp(const void *ctx, int64_t a, int64_t b) {
  const topk_line *l = ctx;
  int r;
  if (l->kind == 0) {
    double x = l->f[a], y = l->f[b];
    /* NaN orders above every number: first when largest, last otherwise. */
    if (isnan(x) || isnan(y))
      r = isnan(x) - isnan(y);
    else
      r = x < y ? -1 : x > y;
  } else if (l->kind == 1) {
    r = l->i[a] < l->i[b] ? -1 : l->i[a] > l->i[b];
  } else {
    uint64_t x = (uint64_t)l->i[a], y = (uint64_t)l->i[b];
    r = x < y ? -1 : x > y;
  }
  if (l->largest) r = -r;
  return r ? r : (a < b ? -1 : a > b);
}

static bool topk_k(const aicc_node *n, int opset, const aicc_tensor *kin, int64_t *k) {
  if (opset < 10) {
    const aicc_attr *a = aicc_node_attr(n, "k");
    if (!a) return false;
    *k = a->i;
    return true;
  }
  if (!kin || !aicc_dtype_is_int(kin->dtype) || aicc_tensor_numel(kin) != 1) return false;
  *k = aicc_tensor_get_i64(kin, 0);
  return true;
}

static aicc_status topk_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = aicc_infer_in_dtype(c, 0);
  if (!aicc_infer_has_rank(c, 0)) {
    aicc_infer_set(c, 0, dt, -1, NULL);
    aicc_infer_set(c, 1, AICC_DTYPE_I64, -1, NULL);
    return NULL;
  }
  const aicc_type *x = c->in[0];
  int64_t axis, k;
  AICC_TRY(
      aicc_infer_wrap(c, aicc_axis_norm(aicc_node_attr_int(c->node, "axis", -1), x->rank, &axis)));
  aicc_dim out[AICC_MAX_RANK];
  memcpy(out, x->dims, sizeof(aicc_dim) * (size_t)x->rank);
  if (topk_k(c->node, c->opset, aicc_infer_cin(c, 1), &k)) {
    if (k < 0 || (aicc_dim_is_known(x->dims[axis]) && k > x->dims[axis].size))
      return aicc_infer_error(c, AICC_ERR_SHAPE, "k = %lld out of range", (long long)k);
    out[axis] = aicc_dim_known(k);
  } else {
    out[axis] = aicc_dim_unknown();
  }
  aicc_infer_set(c, 0, dt, x->rank, out);
  aicc_infer_set(c, 1, AICC_DTYPE_I64, x->rank, out);
  return NULL;
}

static aicc_status topk_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  const aicc_tensor *x = c->in[0];
  if (x->dtype == AICC_DTYPE_STRING || x->dtype == AICC_DTYPE_C64 || x->dtype == AICC_DTYPE_C128)
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "TopK of %s", aicc_dtype_text(x->dtype));
  int64_t axis, k;
  AICC_TRY(
      aicc_kernel_wrap(c, aicc_axis_norm(aicc_node_attr_int(c->node, "axis", -1), x->rank, &axis)));
  if (!topk_k(c->node, c->opset, c->n_in > 1 ? c->in[1] : NULL, &k))
    return aicc_kernel_error(c, AICC_ERR_INVALID, "k must be a single integer");
  int64_t n = x->rank ? x->dims[axis] : 1;
  if (k < 0 || k > n)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "k = %lld out of range", (long long)k);
  int64_t out[AICC_MAX_RANK];
  memcpy(out, x->dims, sizeof(int64_t) * (size_t)x->rank);
  if (x->rank) out[axis] = k;
  aicc_tensor *yv, *yi;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, x->rank, out, &yv));
  AICC_TRY(aicc_kernel_output(c, 1, AICC_DTYPE_I64, x->rank, out, &yi));
  int64_t outer = aicc_dims_prod(x->dims, 0, (int)axis),
          inner = aicc_dims_prod(x->dims, (int)axis + 1, x->rank);
  if (k == 0 || outer * inner == 0) return NULL;
  topk_line line = {.largest = aicc_node_attr_int(c->node, "largest", 1) != 0};
  const aicc_dtype_info *info = aicc_dtype_get(x->dtype);
  line.kind = aicc_dtype_is_float(x->dtype) ? 0 : info->kind == AICC_DK_INT ? 1 : 2;
  double *f = malloc(sizeof(double) * (size_t)n);
  int64_t *iv = malloc(sizeof(int64_t) * (size_t)n), *ord = malloc(sizeof(int64_t) * (size_t)n);
  int64_t *tmp = malloc(sizeof(int64_t) * (size_t)n);
  aicc_status s = NULL;
  if (!f || !iv || !ord || !tmp) {
    s = aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
    goto done;
  }
  line.f = f, line.i = iv;
  size_t esz = aicc_elem_bytes(x->dtype);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t q = 0; q < inner; q++) {
      int64_t base = o * n * inner + q;
      for (int64_t j = 0; j < n; j++) {
        if (line.kind == 0)
          f[j] = aicc_tensor_get_f64(x, base + j * inner);
        else
          iv[j] = aicc_tensor_get_i64(x, base + j * inner);
        ord[j] = j;
      }
      merge_sort(ord, tmp, n, topk_cmp, &line);
      int64_t obase = o * k * inner + q;
      for (int64_t j = 0; j < k; j++) {
        AICC_TRY_GOTO(s, aicc_elem_copy1(esz, yv, obase + j * inner, x, base + ord[j] * inner),
                      done);
        ((int64_t *)yi->data)[obase + j * inner] = ord[j];
      }
    }
done:
  free(f), free(iv), free(ord), free(tmp);
  return s;
}

/* ---- Unique ---- */

/* Items are elements (no axis) or slices along the axis; a slice compares
 * lexicographically in row-major order of the remaining dims. */
typedef struct unique_items {
  const aicc_tensor *x;
  int64_t n, outer, inner; /* items; with axis: x viewed as [outer, n, inner] */
  bool by_axis;
} unique_items;

static int unique_cmp(const void *ctx, int64_t a, int64_t b) {
  const unique_items *u = ctx;
  if (!u->by_axis) return aicc_elem_cmp(u->x, a, u->x, b);
  for (int64_t o = 0; o < u->outer; o++)
    for (int64_t q = 0; q < u->inner; q++) {
      int64_t base = o * u->n * u->inner + q;
      int r = aicc_elem_cmp(u->x, base + a * u->inner, u->x, base + b * u->inner);
      if (r) return r;
    }
  return 0;
}

typedef struct unique_result {
  int64_t groups;
  int64_t *first; /* per group: index of its first occurrence */
  int64_t *inv;   /* per item: its group */
  int64_t *count; /* per group */
} unique_result;

static void unique_free(unique_result *r) {
  free(r->first), free(r->inv), free(r->count);
  memset(r, 0, sizeof *r);
}

static aicc_status unique_run(const aicc_tensor *x, const aicc_node *node, bool *by_axis,
                              int64_t *axis, unique_result *res) {
  memset(res, 0, sizeof *res);
  if (x->dtype == AICC_DTYPE_C64 || x->dtype == AICC_DTYPE_C128)
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "Unique of complex values");
  unique_items u = {.x = x};
  const aicc_attr *ax = aicc_node_attr(node, "axis");
  *by_axis = ax != NULL;
  if (ax) {
    AICC_TRY(aicc_axis_norm(ax->i, x->rank, axis));
    if (x->rank == 0) return aicc_errorf(AICC_ERR_SHAPE, "axis given for a scalar");
    u.by_axis = true;
    u.n = x->dims[*axis];
    u.outer = aicc_dims_prod(x->dims, 0, (int)*axis);
    u.inner = aicc_dims_prod(x->dims, (int)*axis + 1, x->rank);
  } else {
    u.n = aicc_tensor_numel(x);
  }
  int64_t n = u.n;
  size_t sz = sizeof(int64_t) * (size_t)(n ? n : 1);
  int64_t *ord = malloc(sz), *tmp = malloc(sz), *gid = malloc(sz);
  res->first = malloc(sz), res->inv = malloc(sz), res->count = malloc(sz);
  if (!ord || !tmp || !gid || !res->first || !res->inv || !res->count) {
    free(ord), free(tmp), free(gid);
    unique_free(res);
    return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  }
  for (int64_t i = 0; i < n; i++) ord[i] = i;
  merge_sort(ord, tmp, n, unique_cmp, &u);
  /* Groups in sorted order; stability makes each group's first entry its
   * earliest occurrence. */
  int64_t g = -1;
  for (int64_t i = 0; i < n; i++) {
    if (i == 0 || unique_cmp(&u, ord[i - 1], ord[i]) != 0) {
      g++;
      res->first[g] = ord[i];
      res->count[g] = 0;
    }
    res->count[g]++;
    gid[ord[i]] = g;
  }
  res->groups = g + 1;
  bool sorted = aicc_node_attr_int(node, "sorted", 1) != 0;
  if (!sorted) {
    /* Renumber groups by first occurrence. */
    int64_t *rank = tmp, *count = ord, next = 0;
    for (int64_t i = 0; i < res->groups; i++) rank[i] = -1;
    for (int64_t i = 0; i < n; i++) {
      int64_t q = gid[i];
      if (rank[q] < 0) rank[q] = next++;
    }
    for (int64_t q = 0; q < res->groups; q++) count[rank[q]] = res->count[q];
    memcpy(res->count, count, sizeof(int64_t) * (size_t)res->groups);
    for (int64_t i = 0; i < n; i++) gid[i] = rank[gid[i]];
    for (int64_t i = n - 1; i >= 0; i--) res->first[gid[i]] = i;
  }
  memcpy(res->inv, gid, sizeof(int64_t) * (size_t)n);
  free(ord), free(tmp), free(gid);
  return NULL;
}

static aicc_status unique_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = aicc_infer_in_dtype(c, 0);
  const aicc_attr *ax = aicc_node_attr(c->node, "axis");
  const aicc_tensor *x = aicc_infer_cin(c, 0);
  aicc_dim g = aicc_dim_unknown(), items = aicc_dim_unknown();
  int64_t axis = 0;
  if (x) {
    unique_result r;
    bool by_axis;
    AICC_TRY(aicc_infer_wrap(c, unique_run(x, c->node, &by_axis, &axis, &r)));
    g = aicc_dim_known(r.groups);
    unique_free(&r);
  }
  if (aicc_infer_has_rank(c, 0)) {
    const aicc_type *t = c->in[0];
    if (ax) {
      AICC_TRY(aicc_infer_wrap(c, aicc_axis_norm(ax->i, t->rank, &axis)));
      items = t->dims[axis];
      aicc_dim out[AICC_MAX_RANK];
      memcpy(out, t->dims, sizeof(aicc_dim) * (size_t)t->rank);
      out[axis] = g;
      aicc_infer_set(c, 0, dt, t->rank, out);
    } else {
      items = aicc_dim_product(t->dims, t->rank);
      aicc_infer_set(c, 0, dt, 1, &g);
    }
  } else {
    aicc_infer_set(c, 0, dt, ax ? -1 : 1, ax ? NULL : &g);
  }
  if (c->n_out > 1) aicc_infer_set(c, 1, AICC_DTYPE_I64, 1, &g);
  if (c->n_out > 2) aicc_infer_set(c, 2, AICC_DTYPE_I64, 1, &items);
  if (c->n_out > 3) aicc_infer_set(c, 3, AICC_DTYPE_I64, 1, &g);
  return NULL;
}

static aicc_status unique_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  const aicc_tensor *x = c->in[0];
  unique_result r;
  bool by_axis;
  int64_t axis = 0;
  AICC_TRY(aicc_kernel_wrap(c, unique_run(x, c->node, &by_axis, &axis, &r)));
  aicc_status s = NULL;
  aicc_tensor *y;
  int64_t items = by_axis ? x->dims[axis] : aicc_tensor_numel(x);
  if (by_axis) {
    int64_t out[AICC_MAX_RANK];
    memcpy(out, x->dims, sizeof(int64_t) * (size_t)x->rank);
    out[axis] = r.groups;
    AICC_TRY_GOTO(s, aicc_kernel_output(c, 0, x->dtype, x->rank, out, &y), done);
    int64_t vin[3] = {aicc_dims_prod(x->dims, 0, (int)axis), x->dims[axis],
                      aicc_dims_prod(x->dims, (int)axis + 1, x->rank)};
    int64_t vout[3] = {vin[0], r.groups, vin[2]};
    const int64_t *maps[3] = {NULL, r.first, NULL};
    AICC_TRY_GOTO(s, aicc_elem_map_copy(y, vout, x, vin, 3, maps, NULL), done);
  } else {
    AICC_TRY_GOTO(s, aicc_kernel_output(c, 0, x->dtype, 1, &r.groups, &y), done);
    size_t esz = aicc_elem_bytes(x->dtype);
    for (int64_t q = 0; q < r.groups; q++)
      AICC_TRY_GOTO(s, aicc_elem_copy1(esz, y, q, x, r.first[q]), done);
  }
  const int64_t *src[3] = {r.first, r.inv, r.count};
  int64_t len[3] = {r.groups, items, r.groups};
  for (int o = 1; o < 4 && o < c->n_out; o++) {
    if (c->want && !c->want[o]) continue;
    aicc_tensor *t;
    AICC_TRY_GOTO(s, aicc_kernel_output(c, o, AICC_DTYPE_I64, 1, &len[o - 1], &t), done);
    if (len[o - 1]) memcpy(t->data, src[o - 1], sizeof(int64_t) * (size_t)len[o - 1]);
  }
done:
  unique_free(&r);
  return s;
}

/* ---- table ---- */

static const aicc_attr_spec topk1_attrs[] = {AICC_A_INT("axis"), AICC_A_INT("k"), AICC_A_END};
static const aicc_attr_spec topk_attrs[] = {AICC_A_INT("axis"), AICC_A_INT("largest"),
                                            AICC_A_INT("sorted"), AICC_A_END};
static const aicc_attr_spec unique_attrs[] = {AICC_A_INT("axis"), AICC_A_INT("sorted"), AICC_A_END};

static const aicc_op ops[] = {
    /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
    {"TopK", "", 1, 9, 1, 1, 2, 2, topk1_attrs, topk_infer, topk_kernel},
    {"TopK", "", 10, 0, 2, 2, 2, 2, topk_attrs, topk_infer, topk_kernel},
    {"Unique", "", 11, 0, 1, 1, 1, 4, unique_attrs, unique_infer, unique_kernel},
};
const aicc_op_family aicc_family_sort = {"sort", ops, sizeof ops / sizeof ops[0]};
