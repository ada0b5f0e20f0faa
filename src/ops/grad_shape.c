/* Gradient rules of data-movement ops: the reshapes (Reshape, Flatten,
 * Unsqueeze, Squeeze) reshape dy back, Transpose applies the inverse
 * permutation, Concat slices dy, and Gather scatter-adds dy into zeros
 * (ScatterND with reduction=add, so repeated indices accumulate). Defines
 * no op family. */
#include "ops/grad_util.h"

#define X(i) (c->node->inputs[i])
#define TRY AICC_TRY

static aicc_status reshape_back(aicc_grad_ctx *c) {
  return aicc_grad_reshape_like(c, c->dy[0], X(0), &c->dx[0]);
}

aicc_status aicc_grad_Reshape(aicc_grad_ctx *c) { return reshape_back(c); }
aicc_status aicc_grad_Flatten(aicc_grad_ctx *c) { return reshape_back(c); }
aicc_status aicc_grad_Unsqueeze(aicc_grad_ctx *c) { return reshape_back(c); }
aicc_status aicc_grad_Squeeze(aicc_grad_ctx *c) { return reshape_back(c); }

static aicc_status transpose(aicc_grad_ctx *c, aicc_value *x, const int64_t *perm, int r,
                             aicc_value **out) {
  aicc_grad_attr at[] = {AICC_GA_INTS("perm", perm, r), {0}};
  return aicc_grad_emit(c, "Transpose", &x, 1, at, out, 1);
}

aicc_status aicc_grad_Transpose(aicc_grad_ctx *c) {
  int r = X(0)->type.rank;
  if (r < 0) return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "Transpose gradient needs a known rank");
  int64_t len, perm[AICC_MAX_RANK], inv[AICC_MAX_RANK];
  const int64_t *p = aicc_node_attr_ints(c->node, "perm", &len);
  for (int i = 0; i < r; i++) perm[i] = p && len == r ? p[i] : r - 1 - i;
  for (int i = 0; i < r; i++) {
    if (perm[i] < 0 || perm[i] >= r) return aicc_grad_error(c, AICC_ERR_INVALID, "bad perm");
    inv[perm[i]] = i;
  }
  return transpose(c, c->dy[0], inv, r, &c->dx[0]);
}

/* Each input's gradient is its slice of dy along the axis; the sizes along
 * the axis must be known. */
aicc_status aicc_grad_Concat(aicc_grad_ctx *c) {
  aicc_value *g = c->dy[0];
  int r = g->type.rank;
  int64_t axis = aicc_node_attr_int(c->node, "axis", 0);
  if (r < 0) return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "Concat gradient needs a known rank");
  if (axis < 0) axis += r;
  if (axis < 0 || axis >= r) return aicc_grad_error(c, AICC_ERR_INVALID, "bad axis");
  bool inputs_form = aicc_model_opset(c->graph->model, "") >= 10;
  int64_t start = 0;
  for (int i = 0; i < c->node->n_inputs; i++) {
    const aicc_type *t = &X(i)->type;
    if (t->rank != r || !aicc_dim_is_known(t->dims[axis]))
      return aicc_grad_error(c, AICC_ERR_UNSUPPORTED,
                             "Concat gradient needs the size of input %d along the axis", i);
    int64_t end = start + t->dims[axis].size;
    if (c->need[i]) {
      if (inputs_form) {
        aicc_value *in[4] = {g};
        TRY(aicc_grad_i64s(c, &start, 1, &in[1]));
        TRY(aicc_grad_i64s(c, &end, 1, &in[2]));
        TRY(aicc_grad_i64s(c, &axis, 1, &in[3]));
        TRY(aicc_grad_emit(c, "Slice", in, 4, NULL, &c->dx[i], 1));
      } else {
        aicc_grad_attr at[] = {AICC_GA_INTS("starts", &start, 1), AICC_GA_INTS("ends", &end, 1),
                               AICC_GA_INTS("axes", &axis, 1), {0}};
        TRY(aicc_grad_emit(c, "Slice", &g, 1, at, &c->dx[i], 1));
      }
    }
    start = end;
  }
  return NULL;
}

/* y = Gather(data, idx, axis=k): y's dims are data[:k] + idx + data[k+1:].
 * Moving the index dims of dy to the front and the axis of data to the
 * front makes it ScatterND(zeros, idx[..., None], dy', add); a transpose
 * puts the axis back. */
aicc_status aicc_grad_Gather(aicc_grad_ctx *c) {
  if (!c->need[0]) return NULL;
  aicc_value *data = X(0), *idx = X(1), *g = c->dy[0];
  int r = data->type.rank, q = idx->type.rank;
  if (r < 1 || q < 0 || g->type.rank != r - 1 + q)
    return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "Gather gradient needs known ranks");
  if (aicc_model_opset(c->graph->model, "") < 16)
    return aicc_grad_error(c, AICC_ERR_UNSUPPORTED,
                           "Gather gradient needs opset >= 16 (ScatterND reduction=add)");
  int64_t k = aicc_node_attr_int(c->node, "axis", 0);
  if (k < 0) k += r;
  if (k < 0 || k >= r) return aicc_grad_error(c, AICC_ERR_INVALID, "bad axis");
  aicc_value *zero, *zeros, *ind, *out;
  TRY(aicc_grad_scalar(c, data->type.dtype, 0.0, &zero));
  TRY(aicc_grad_expand_like(c, zero, data, &zeros));
  int64_t last = q;
  TRY(aicc_grad_unsqueeze(c, idx, &last, 1, &ind));
  int64_t pd[AICC_MAX_RANK], pg[2 * AICC_MAX_RANK], inv[AICC_MAX_RANK];
  int n = 0;
  if (k != 0) {
    /* data: [k, 0..k-1, k+1..]; dy: [k..k+q-1, 0..k-1, k+q..]. */
    pd[n++] = k;
    for (int i = 0; i < r; i++)
      if (i != k) pd[n++] = i;
    for (int i = 0; i < r; i++) inv[pd[i]] = i;
    n = 0;
    for (int i = 0; i < q; i++) pg[n++] = k + i;
    for (int i = 0; i < k; i++) pg[n++] = i;
    for (int i = (int)k + q; i < r - 1 + q; i++) pg[n++] = i;
    TRY(transpose(c, zeros, pd, r, &zeros));
    TRY(transpose(c, g, pg, n, &g));
  }
  aicc_value *in[3] = {zeros, ind, g};
  aicc_grad_attr at[] = {AICC_GA_STRING("reduction", "add"), {0}};
  TRY(aicc_grad_emit(c, "ScatterND", in, 3, at, &out, 1));
  if (k != 0) TRY(transpose(c, out, inv, r, &out));
  c->dx[0] = out;
  return NULL;
}
