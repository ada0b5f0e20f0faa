/* Helpers shared by op families: broadcasting, axis handling, typed shape
 * inference shortcuts, reading small integer tensors. Not an op family. */
#ifndef AICC_OPS_UTIL_H
#define AICC_OPS_UTIL_H

#include "ops/registry.h"

/* --- attribute schema shorthands for rows --- */
#define AICC_A_INT(n) {n, AICC_ATTR_INT, false}
#define AICC_A_FLOAT(n) {n, AICC_ATTR_FLOAT, false}
#define AICC_A_STRING(n) {n, AICC_ATTR_STRING, false}
#define AICC_A_INTS(n) {n, AICC_ATTR_INTS, false}
#define AICC_A_FLOATS(n) {n, AICC_ATTR_FLOATS, false}
#define AICC_A_STRINGS(n) {n, AICC_ATTR_STRINGS, false}
#define AICC_A_TENSOR(n) {n, AICC_ATTR_TENSOR, false}
#define AICC_A_GRAPH(n) {n, AICC_ATTR_GRAPH, true}
#define AICC_A_END {NULL, AICC_ATTR_UNDEFINED, false}

/* Normalizes a possibly negative axis into [0, rank); error if out of range. */
AICC_MUST_USE aicc_status aicc_axis_norm(int64_t axis, int rank, int64_t *out);

/* An index or axis v (negative counts from the end) normalised into [0, n);
 * false, *out untouched, when out of range. For callers with their own
 * error message (aicc_axis_norm builds one). */
static inline bool aicc_index_norm(int64_t v, int64_t n, int64_t *out) {
  if (v < 0) v += n;
  if (v < 0 || v >= n) return false;
  *out = v;
  return true;
}
/* Multidirectional (numpy) broadcast of n dims lists. */
AICC_MUST_USE aicc_status aicc_broadcast_dims(int n, const int64_t *const *dims,
                                              const int *ranks, int64_t *out,
                                              int *out_rank);
/* Broadcast of two symbolic dims: a known 1 yields the other, known sizes
 * must agree, one symbol on both sides stays, a symbol against a known size
 * yields the size (they must be equal at run time), else unknown. False
 * (and *out untouched) when both are known and differ. */
bool aicc_dim_broadcast(aicc_dim a, aicc_dim b, aicc_dim *out);
/* Element strides of `in` when broadcast to `out` (0 along broadcast dims);
 * strides has out_rank entries. in_rank <= out_rank. */
void aicc_broadcast_strides(const int64_t *in_dims, int in_rank,
                            const int64_t *out_dims, int out_rank,
                            int64_t *strides);
/* Contiguous row-major strides of dims. */
void aicc_strides(const int64_t *dims, int rank, int64_t *strides);

/* An odometer over an n-dimensional index space that tracks up to 4 linear
 * offsets with their own strides (for broadcasting and strided views). */
typedef struct aicc_iter {
  int rank;
  int64_t dims[AICC_MAX_RANK];
  int64_t idx[AICC_MAX_RANK];
  int n;
  int64_t strides[4][AICC_MAX_RANK];
  int64_t off[4];
} aicc_iter;
void aicc_iter_init(aicc_iter *it, const int64_t *dims, int rank);
/* Adds an operand with the given strides; returns its slot (0..3). */
int aicc_iter_add(aicc_iter *it, const int64_t *strides);
/* Adds an operand of the given dims, broadcast (numpy) to the iterator's
 * dims (rank <= the iterator's); returns its slot. */
int aicc_iter_add_bcast(aicc_iter *it, const int64_t *dims, int rank);
/* Advances one element (last dim fastest). */
void aicc_iter_next(aicc_iter *it);

/* Reads an integer tensor (any int dtype) into out (at most max values);
 * error if it is not an integer tensor or has more than max elements. */
AICC_MUST_USE aicc_status aicc_tensor_read_i64s(const aicc_tensor *t, int64_t *out,
                                                int64_t max, int64_t *n);

/* --- inference shortcuts --- */
/* Output i: dense tensor of dtype and dims. */
void aicc_infer_set(aicc_infer_ctx *c, int i, aicc_dtype dt, int rank,
                    const aicc_dim *dims);
/* Output i: same type as input j. */
aicc_status aicc_infer_same_as_input(aicc_infer_ctx *c);
/* Output 0: broadcast of all present inputs, dtype of input 0 (or `dt` when
 * it is not UNDEFINED, e.g. BOOL for comparisons). Symbolic dims that agree
 * stay symbolic. */
aicc_status aicc_infer_broadcast_as(aicc_infer_ctx *c, aicc_dtype dt);
aicc_status aicc_infer_broadcast(aicc_infer_ctx *c);
/* True when input i is present and its rank is known. */
bool aicc_infer_has_rank(const aicc_infer_ctx *c, int i);
/* When input 0's rank is not known: output 0 becomes dtype dt of unknown
 * rank and the result is true (inference is done). */
bool aicc_infer_unranked(aicc_infer_ctx *c, aicc_dtype dt);

#endif
