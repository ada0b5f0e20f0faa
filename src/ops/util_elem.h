/* Dtype-generic element movement and comparison for the data-movement ops
 * (shape, slice, index, sort, scatter, generate families): copy runs of elements whatever
 * their width (bytes, packed sub-byte, owned strings), order elements, and
 * read constant integer inputs during inference. Not an op family. */
#ifndef AICC_OPS_UTIL_ELEM_H
#define AICC_OPS_UTIL_ELEM_H

#include "ops/util.h"

#include <string.h>

/* Copies n consecutive elements src[si..si+n) to dst[di..di+n). Both tensors
 * have the same dtype. Strings are duplicated (dst owns its copies). Fails
 * only on out of memory for strings. */
AICC_MUST_USE aicc_status aicc_elem_copy(aicc_tensor *dst, int64_t di, const aicc_tensor *src,
                                         int64_t si, int64_t n);

/* Axis-map copy, the core of Slice, Pad, Tile, Gather, CenterCropPad...:
 * out[o_0..o_{r-1}] = in[map_0[o_0], ..., map_{r-1}[o_{r-1}]], both tensors
 * viewed row-major with the given dims (the views may differ from the
 * tensors' own dims, e.g. Gather's [outer, n, inner]). maps[d] NULL is the
 * identity; an entry -1 is a fill position: it gets fill[0] when fill is
 * non-NULL (same dtype) and is left as created (zero) otherwise. Map entries
 * must lie in [-1, in_dims[d]). */
AICC_MUST_USE aicc_status aicc_elem_map_copy(aicc_tensor *out, const int64_t *out_dims,
                                             const aicc_tensor *in, const int64_t *in_dims,
                                             int rank, const int64_t *const *maps,
                                             const aicc_tensor *fill);

/* Permuted copy (Transpose): out dims[d] = in_dims[perm[d]], in viewed with
 * in_dims. */
AICC_MUST_USE aicc_status aicc_elem_permute(aicc_tensor *out, const aicc_tensor *in,
                                            const int64_t *in_dims, int rank, const int64_t *perm);

/* Bytes per element when the dtype is byte-addressable, else 0 (strings and
 * packed sub-byte dtypes). */
static inline size_t aicc_elem_bytes(aicc_dtype dt) {
  if (dt == AICC_DTYPE_STRING) return 0;
  const aicc_dtype_info *info = aicc_dtype_get(dt);
  if (!info || info->bits % 8) return 0;
  return (size_t)info->bits / 8;
}

/* One element copy; the hot loop of gathers and transposes. esz is
 * aicc_elem_bytes(dtype): nonzero takes the direct path. */
static inline aicc_status aicc_elem_copy1(size_t esz, aicc_tensor *dst, int64_t di,
                                          const aicc_tensor *src, int64_t si) {
  switch (esz) {
  case 1: ((uint8_t *)dst->data)[di] = ((const uint8_t *)src->data)[si]; return NULL;
  case 2: ((uint16_t *)dst->data)[di] = ((const uint16_t *)src->data)[si]; return NULL;
  case 4: ((uint32_t *)dst->data)[di] = ((const uint32_t *)src->data)[si]; return NULL;
  case 8: ((uint64_t *)dst->data)[di] = ((const uint64_t *)src->data)[si]; return NULL;
  case 0: return aicc_elem_copy(dst, di, src, si, 1);
  default:
    memcpy((char *)dst->data + (size_t)di * esz, (const char *)src->data + (size_t)si * esz, esz);
    return NULL;
  }
}

/* Total order on elements of a numeric, bool or string tensor pair of the
 * same dtype: <0, 0, >0. NaN sorts after every number and equals NaN (as
 * numpy's sort does); strings compare bytewise. */
int aicc_elem_cmp(const aicc_tensor *a, int64_t i, const aicc_tensor *b, int64_t j);

/* Reads constant input i of an inference context as int64s (NULL tensor, a
 * non-integer dtype or more than max values: returns false). */
bool aicc_infer_const_i64s(const aicc_infer_ctx *c, int i, int64_t *out, int64_t max, int64_t *n);
/* Constant value of input i, or NULL. */
static inline const aicc_tensor *aicc_infer_cin(const aicc_infer_ctx *c, int i) {
  if (i >= c->n_in || !c->cin || !c->in || !c->in[i]) return NULL;
  const aicc_tensor *t = c->cin[i];
  return t && t->kind == AICC_KIND_TENSOR ? t : NULL;
}
/* True when input i is a present tensor of known dtype (rank may be -1). */
static inline bool aicc_infer_has_type(const aicc_infer_ctx *c, int i) {
  return i < c->n_in && c->in[i] && c->in[i]->kind != AICC_KIND_NONE;
}
/* dtype of input i, UNDEFINED when absent or unknown. */
static inline aicc_dtype aicc_infer_in_dtype(const aicc_infer_ctx *c, int i) {
  return aicc_infer_has_type(c, i) ? c->in[i]->dtype : AICC_DTYPE_UNDEFINED;
}
/* Error naming the node unless kernel input i is a present dense tensor. */
AICC_MUST_USE aicc_status aicc_kernel_need_tensor(const aicc_kernel_ctx *c, int i);
/* Product of dims[a..b) (1 when empty). */
static inline int64_t aicc_dims_prod(const int64_t *dims, int a, int b) {
  int64_t p = 1;
  for (int d = a; d < b; d++) p *= dims[d];
  return p;
}
/* Product of dims; symbolic when exactly one factor is a symbol and the
 * rest are 1, unknown when any other factor is unknown. */
aicc_dim aicc_dim_product(const aicc_dim *dims, int n);
/* Scalar i64 dims list as aicc_dims (all known). */
void aicc_dims_from_i64(const int64_t *d, int n, aicc_dim *out);

/* Prefixes an error from a helper with the node ("node 'x' (Op): ...");
 * takes s; NULL passes through. */
aicc_status aicc_kernel_wrap(const aicc_kernel_ctx *c, aicc_status s);
aicc_status aicc_infer_wrap(const aicc_infer_ctx *c, aicc_status s);

/* aicc_axis_norm for ops that need rank >= 1 (a scalar has no axis). */
AICC_MUST_USE aicc_status aicc_axis_norm_ranked(int64_t axis, int rank, int64_t *out);

/* Reads a scalar (or 1-element) integer input of a kernel. */
AICC_MUST_USE aicc_status aicc_kernel_scalar_i64(const aicc_kernel_ctx *c, int i, int64_t *v);

#endif
