/* Runtime values: dense tensors, sequences of tensors and optionals. They hold
 * initializers in the graph IR and every value the interpreter computes.
 * Reference counted (runtime boundary): _create returns one reference,
 * _retain adds one, _release drops one and frees at zero. */
#ifndef AICC_IR_TENSOR_H
#define AICC_IR_TENSOR_H

#include "core/dtype.h"
#include "core/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AICC_MAX_RANK 16

typedef enum aicc_value_kind {
  AICC_KIND_NONE = 0, /* missing optional input, or not known yet */
  AICC_KIND_TENSOR,
  AICC_KIND_SEQUENCE,
  AICC_KIND_OPTIONAL,
} aicc_value_kind;

typedef struct aicc_tensor {
  int refs;
  aicc_value_kind kind;
  aicc_dtype dtype; /* element dtype; for sequences/optionals, of the elements */
  int rank;
  int64_t dims[AICC_MAX_RANK];
  /* AICC_KIND_TENSOR: numel elements, 64-byte aligned, owned. Strings are
   * char* (NUL-terminated, each malloc'ed, owned) plus their byte lengths in
   * strlens (strings may hold NUL bytes). Sub-byte dtypes are packed. */
  void *data;
  size_t nbytes;
  size_t *strlens;
  /* AICC_KIND_SEQUENCE: n_elems tensors. AICC_KIND_OPTIONAL: 0 (None) or 1.
   * Each element is one reference held by this value. */
  struct aicc_tensor **elems;
  size_t n_elems;
  aicc_value_kind elem_kind; /* OPTIONAL: kind of the contained value */
} aicc_tensor;

/* Number of elements of a dims list (1 for rank 0). Returns -1 on overflow
 * or a negative dim. */
int64_t aicc_dims_numel(const int64_t *dims, int rank);
static inline int64_t aicc_tensor_numel(const aicc_tensor *t) {
  return aicc_dims_numel(t->dims, t->rank);
}

/* New dense tensor with zeroed data (empty strings for STRING). Returns a new
 * reference in *out. Fails cleanly on a bad dtype, rank or size. */
AICC_MUST_USE aicc_status aicc_tensor_create(aicc_dtype dtype, int rank,
                                             const int64_t *dims, aicc_tensor **out);
/* New sequence of the given element dtype with no elements. */
AICC_MUST_USE aicc_status aicc_tensor_sequence_create(aicc_dtype elem_dtype,
                                                      aicc_tensor **out);
/* Appends elem to a sequence; takes the caller's reference. */
AICC_MUST_USE aicc_status aicc_tensor_sequence_push(aicc_tensor *seq, aicc_tensor *elem);
/* New optional holding elem (takes it), or None when elem is NULL. */
AICC_MUST_USE aicc_status aicc_tensor_optional_create(aicc_value_kind elem_kind,
                                                      aicc_dtype dtype,
                                                      aicc_tensor *elem,
                                                      aicc_tensor **out);
/* Deep copy; returns a new reference. */
AICC_MUST_USE aicc_status aicc_tensor_clone(const aicc_tensor *t, aicc_tensor **out);
/* Sets a string element (copies n bytes of s). */
AICC_MUST_USE aicc_status aicc_tensor_set_string(aicc_tensor *t, int64_t i,
                                                 const char *s, size_t n);

aicc_tensor *aicc_tensor_retain(aicc_tensor *t);
void aicc_tensor_release(aicc_tensor *t);

/* Element access across dtypes (slow path: one switch per element), with
 * numpy's conversion rules. Floats of every width (f16, bf16, f8, f6, f4)
 * convert through double; integers keep all 64 bits in the _i64 forms; bools
 * read as 0/1; strings parse/print numbers. */
double aicc_tensor_get_f64(const aicc_tensor *t, int64_t i);
int64_t aicc_tensor_get_i64(const aicc_tensor *t, int64_t i);
void aicc_tensor_set_f64(aicc_tensor *t, int64_t i, double v);
void aicc_tensor_set_i64(aicc_tensor *t, int64_t i, int64_t v);
/* numpy's float -> integer conversion on x86: truncate toward zero; NaN and
 * values out of range give INT64_MIN, except that values in [2^63, 2^64) fit
 * when the destination is unsigned. */
int64_t aicc_f64_to_i64_wrap(double d, bool dst_unsigned);

/* Scalar conversions between f32 and the narrow float formats (round to
 * nearest even; `saturate` clamps out-of-range values to the largest finite
 * value for the float8 types, as ONNX Cast does by default). */
float aicc_f16_to_f32(uint16_t h);
uint16_t aicc_f32_to_f16(float f);
float aicc_bf16_to_f32(uint16_t h);
uint16_t aicc_f32_to_bf16(float f);
float aicc_f8_to_f32(aicc_dtype dt, uint8_t v);
uint8_t aicc_f32_to_f8(aicc_dtype dt, float f, bool saturate);

/* Result of comparing an actual value with an expected one. */
typedef struct aicc_compare_result {
  bool match;
  double max_abs, max_rel; /* over float elements; 0 for exact dtypes */
  int64_t n_bad;           /* elements outside tolerance */
  char why[160];           /* first reason for a mismatch ("" when match) */
} aicc_compare_result;

/* Compares like numpy.testing.assert_allclose (the ONNX backend runner):
 * |actual - expected| <= atol + rtol * |expected| for floats (NaN matches
 * NaN, infinities must be equal), exact for integers, bools and strings;
 * dtype and shape must agree; sequences and optionals compare elementwise. */
void aicc_tensor_compare(const aicc_tensor *expected, const aicc_tensor *actual,
                         double rtol, double atol, aicc_compare_result *r);

/* Formats "f32[2,3]" into buf (for messages). Returns buf. */
const char *aicc_tensor_describe(const aicc_tensor *t, char *buf, size_t n);

#endif
