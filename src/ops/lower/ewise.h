/* Shared pieces of the elementwise lowerings (elementwise.c, activation.c):
 * a one-stage "map" over broadcast operands, and dtype conversions that are
 * exact to the reference kernels (numpy astype), which the IR's plain cast
 * is not at the edges. Defined in elementwise.c. */
#ifndef AICC_OPS_LOWER_EWISE_H
#define AICC_OPS_LOWER_EWISE_H

#include "ops/lower.h"

/* What a map body sees: its operands are already loaded (broadcast to the
 * output's index) and of dtype t (the first input's). */
typedef struct aicc_lower_ew {
  aicc_lower_ctx *c;
  aicc_loop_ctx *lc;
  aicc_dtype t;      /* the operands' dtype */
  aicc_dtype out_t;  /* the output's dtype */
  const void *p;     /* the op's parameters */
} aicc_lower_ew;

typedef const aicc_loop_expr *(*aicc_lower_ew_body)(const aicc_lower_ew *e,
                                                    const aicc_loop_expr *const *x);

/* Defines c->out[0] (when wanted) as body(inputs 0..n_in-1), each input
 * loaded at the numpy broadcast of the output index. ok (NULL: any loop-IR
 * dtype) says which dtypes the op accepts; inputs of other dtypes, or of
 * dtypes the IR lacks, give UNSUPPORTED. All inputs must share one dtype
 * unless mixed is set. The stage is inlinable and ELEMENTWISE. */
AICC_MUST_USE aicc_status aicc_lower_ew_map(aicc_lower_ctx *c, int n_in, bool (*ok)(aicc_dtype),
                                            bool mixed, aicc_lower_ew_body body, const void *p);

/* Dtype classes among the loop-IR dtypes (aicc_lower_dtype_ok). */
bool aicc_lower_ew_is_float(aicc_dtype t);  /* f32, f64 */
bool aicc_lower_ew_is_uint(aicc_dtype t);   /* u8..u64 */
bool aicc_lower_ew_is_number(aicc_dtype t); /* ints and floats, not bool */
bool aicc_lower_ew_is_signed(aicc_dtype t); /* signed ints and floats */
bool aicc_lower_ew_is_int(aicc_dtype t);    /* ints, not bool */

/* x converted to dtype t as the reference kernels (and numpy) convert:
 * float -> int truncates, wraps through int64 (uint64 for unsigned targets),
 * and gives INT64_MIN's low bits for NaN and out-of-range values; 64-bit int
 * -> f32 rounds once; anything -> bool is x != 0. NULL when out of memory. */
const aicc_loop_expr *aicc_lower_ew_convert(aicc_loop_ctx *lc, const aicc_loop_expr *x,
                                            aicc_dtype t);

#endif
