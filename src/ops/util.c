/* Helpers shared by op families. */
#include "ops/util.h"

#include <string.h>

aicc_status aicc_axis_norm(int64_t axis, int rank, int64_t *out) {
  if (axis < -(int64_t)rank || axis >= (int64_t)(rank ? rank : 1) ||
      (rank == 0 && axis != 0 && axis != -1))
    return aicc_errorf(AICC_ERR_SHAPE, "axis %lld out of range for rank %d",
                       (long long)axis, rank);
  *out = axis < 0 ? axis + rank : axis;
  return NULL;
}

aicc_status aicc_broadcast_dims(int n, const int64_t *const *dims,
                                const int *ranks, int64_t *out, int *out_rank) {
  int r = 0;
  for (int k = 0; k < n; k++)
    if (ranks[k] > r) r = ranks[k];
  for (int d = 0; d < r; d++) {
    int64_t size = 1;
    for (int k = 0; k < n; k++) {
      int kd = d - (r - ranks[k]);
      if (kd < 0) continue;
      int64_t s = dims[k][kd];
      if (s == 1) continue;
      if (size != 1 && size != s)
        return aicc_errorf(AICC_ERR_SHAPE,
                           "shapes cannot broadcast: dim %d is %lld vs %lld", d,
                           (long long)size, (long long)s);
      size = s;
    }
    out[d] = size;
  }
  *out_rank = r;
  return NULL;
}

void aicc_broadcast_strides(const int64_t *in_dims, int in_rank,
                            const int64_t *out_dims, int out_rank,
                            int64_t *strides) {
  int64_t s = 1;
  for (int d = out_rank - 1; d >= 0; d--) {
    int id = d - (out_rank - in_rank);
    if (id < 0 || in_dims[id] == 1) {
      strides[d] = 0;
      if (id >= 0) s *= 1;
    } else {
      strides[d] = s;
      s *= in_dims[id];
    }
    (void)out_dims;
  }
}

void aicc_strides(const int64_t *dims, int rank, int64_t *strides) {
  int64_t s = 1;
  for (int d = rank - 1; d >= 0; d--) {
    strides[d] = s;
    s *= dims[d];
  }
}

void aicc_iter_init(aicc_iter *it, const int64_t *dims, int rank) {
  memset(it, 0, sizeof *it);
  it->rank = rank;
  memcpy(it->dims, dims, sizeof(int64_t) * (size_t)rank);
}

int aicc_iter_add(aicc_iter *it, const int64_t *strides) {
  int k = it->n++;
  memcpy(it->strides[k], strides, sizeof(int64_t) * (size_t)it->rank);
  return k;
}

int aicc_iter_add_bcast(aicc_iter *it, const int64_t *dims, int rank) {
  int64_t str[AICC_MAX_RANK];
  aicc_broadcast_strides(dims, rank, it->dims, it->rank, str);
  return aicc_iter_add(it, str);
}

void aicc_iter_next(aicc_iter *it) {
  for (int d = it->rank - 1; d >= 0; d--) {
    for (int k = 0; k < it->n; k++) it->off[k] += it->strides[k][d];
    if (++it->idx[d] < it->dims[d]) return;
    for (int k = 0; k < it->n; k++) it->off[k] -= it->strides[k][d] * it->dims[d];
    it->idx[d] = 0;
  }
}

aicc_status aicc_tensor_read_i64s(const aicc_tensor *t, int64_t *out, int64_t max,
                                  int64_t *n) {
  if (t->kind != AICC_KIND_TENSOR || !aicc_dtype_is_int(t->dtype))
    return aicc_errorf(AICC_ERR_INVALID, "expected an integer tensor, got %s",
                       aicc_dtype_text(t->dtype));
  int64_t k = aicc_tensor_numel(t);
  if (k > max)
    return aicc_errorf(AICC_ERR_INVALID, "expected at most %lld values, got %lld",
                       (long long)max, (long long)k);
  for (int64_t i = 0; i < k; i++) out[i] = aicc_tensor_get_i64(t, i);
  *n = k;
  return NULL;
}

void aicc_infer_set(aicc_infer_ctx *c, int i, aicc_dtype dt, int rank,
                    const aicc_dim *dims) {
  aicc_type *t = &c->out[i];
  memset(t, 0, sizeof *t);
  t->kind = AICC_KIND_TENSOR;
  t->dtype = dt;
  t->rank = rank;
  if (rank > 0 && dims) memcpy(t->dims, dims, sizeof(aicc_dim) * (size_t)rank);
  else if (rank > 0)
    for (int d = 0; d < rank; d++) t->dims[d] = aicc_dim_unknown();
}

aicc_status aicc_infer_same_as_input(aicc_infer_ctx *c) {
  if (c->n_in > 0 && c->in[0])
    for (int i = 0; i < c->n_out; i++) c->out[i] = *c->in[0];
  return NULL;
}

bool aicc_infer_has_rank(const aicc_infer_ctx *c, int i) {
  return i < c->n_in && c->in[i] && c->in[i]->kind != AICC_KIND_NONE &&
         c->in[i]->rank >= 0;
}

bool aicc_dim_broadcast(aicc_dim a, aicc_dim b, aicc_dim *out) {
  if (aicc_dim_is_known(a) && a.size == 1) { *out = b; return true; }
  if (aicc_dim_is_known(b) && b.size == 1) { *out = a; return true; }
  if (aicc_dim_is_known(a) && aicc_dim_is_known(b)) {
    if (a.size != b.size) return false;
    *out = a;
    return true;
  }
  if (a.sym && b.sym && strcmp(a.sym, b.sym) == 0) { *out = a; return true; }
  if (aicc_dim_is_known(a)) { *out = a; return true; }
  if (aicc_dim_is_known(b)) { *out = b; return true; }
  *out = aicc_dim_unknown();
  return true;
}

bool aicc_infer_unranked(aicc_infer_ctx *c, aicc_dtype dt) {
  if (aicc_infer_has_rank(c, 0)) return false;
  aicc_infer_set(c, 0, dt, -1, NULL);
  return true;
}

aicc_status aicc_infer_broadcast_as(aicc_infer_ctx *c, aicc_dtype dt) {
  aicc_dtype out_dt = dt;
  if (out_dt == AICC_DTYPE_UNDEFINED && c->n_in > 0 && c->in[0])
    out_dt = c->in[0]->dtype;
  int r = 0;
  for (int k = 0; k < c->n_in; k++) {
    if (!c->in[k]) continue;
    if (!aicc_infer_has_rank(c, k)) {
      aicc_infer_set(c, 0, out_dt, -1, NULL);
      return NULL;
    }
    if (c->in[k]->rank > r) r = c->in[k]->rank;
  }
  aicc_dim out[AICC_MAX_RANK];
  for (int d = 0; d < r; d++) {
    aicc_dim cur = aicc_dim_known(1);
    for (int k = 0; k < c->n_in; k++) {
      if (!c->in[k]) continue;
      int kd = d - (r - c->in[k]->rank);
      if (kd < 0) continue;
      aicc_dim s = c->in[k]->dims[kd];
      if (!aicc_dim_broadcast(cur, s, &cur))
        return aicc_infer_error(c, AICC_ERR_SHAPE,
                                "inputs cannot broadcast: dim %d is %lld vs %lld",
                                d, (long long)cur.size, (long long)s.size);
    }
    out[d] = cur;
  }
  aicc_infer_set(c, 0, out_dt, r, out);
  return NULL;
}

aicc_status aicc_infer_broadcast(aicc_infer_ctx *c) {
  return aicc_infer_broadcast_as(c, AICC_DTYPE_UNDEFINED);
}
