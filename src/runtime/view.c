/* Tensor views for the executor: tensor structs over memory the run does
 * not own (arena slices, shared constants, callers' buffers), so reference
 * kernels and callers never share a reference count across threads. */
#include "runtime/plan.h"

#include <stdlib.h>
#include <string.h>

aicc_status aicc_rt_view_create(aicc_dtype dtype, int rank, const int64_t *dims, void *data,
                                aicc_tensor **out) {
  *out = NULL;
  if (rank < 0 || rank > AICC_MAX_RANK)
    return aicc_errorf(AICC_ERR_INVALID, "rank %d is out of range", rank);
  aicc_tensor *v = calloc(1, sizeof *v);
  if (!v) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  v->refs = 1;
  v->kind = AICC_KIND_TENSOR;
  v->dtype = dtype;
  v->rank = rank;
  for (int i = 0; i < rank; i++) v->dims[i] = dims[i];
  int64_t n = aicc_dims_numel(dims, rank);
  v->nbytes = n > 0 ? aicc_dtype_storage_bytes(dtype, (size_t)n) : 0;
  v->data = data;
  *out = v;
  return NULL;
}

void aicc_rt_view_free(aicc_tensor *v) {
  /* The data is borrowed: only the struct is ours. Kernels that retained
   * the view dropped their references (aicc_rt_detach) before this. */
  free(v);
}

aicc_status aicc_rt_private_ref(const aicc_tensor *t, aicc_tensor **out, bool *is_view) {
  *is_view = false;
  if (t->kind == AICC_KIND_TENSOR && t->dtype != AICC_DTYPE_STRING) {
    AICC_TRY(aicc_rt_view_create(t->dtype, t->rank, t->dims, t->data, out));
    (*out)->nbytes = t->nbytes;
    *is_view = true;
    return NULL;
  }
  return aicc_tensor_clone(t, out);
}

static bool is_view(const aicc_tensor *t, aicc_tensor *const *views, int n) {
  for (int i = 0; i < n; i++)
    if (views[i] == t) return true;
  return false;
}

aicc_status aicc_rt_detach(aicc_tensor **t, aicc_tensor *const *views, int n) {
  aicc_tensor *x = *t;
  if (!x || n == 0) return NULL;
  if (is_view(x, views, n)) {
    aicc_tensor *c = NULL;
    AICC_TRY(aicc_tensor_clone(x, &c));
    aicc_tensor_release(x); /* the view's count: the caller still holds one */
    *t = c;
    return NULL;
  }
  for (size_t i = 0; i < x->n_elems; i++) AICC_TRY(aicc_rt_detach(&x->elems[i], views, n));
  return NULL;
}
