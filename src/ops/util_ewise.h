/* The elementwise engine shared by the cast, elementwise_* and activation
 * families: typed loads/stores across every numeric dtype, and broadcasting
 * unary/binary/ternary drivers with f32 fast paths. Not an op family. */
#ifndef AICC_OPS_UTIL_EWISE_H
#define AICC_OPS_UTIL_EWISE_H

#include "ir/tensor_float.h"
#include "ops/util.h"

/* The arithmetic class a dtype computes in: floats in double, signed ints
 * and bool in int64, unsigned ints in uint64 (so uint64 keeps its top bit). */
typedef enum aicc_ew_cls { AICC_EW_F, AICC_EW_I, AICC_EW_U } aicc_ew_cls;

typedef union aicc_ew_val {
  double f;
  int64_t i;
  uint64_t u;
} aicc_ew_val;

aicc_ew_cls aicc_ew_cls_of(aicc_dtype dt);
/* True for the dtypes elementwise math handles (numbers and bool). */
bool aicc_ew_is_numeric(aicc_dtype dt);

/* Element i of a numeric/bool tensor as double / as int64 bits. */
aicc_ew_val aicc_ew_load(const aicc_tensor *t, int64_t i, aicc_ew_cls cls);
void aicc_ew_store(aicc_tensor *t, int64_t i, aicc_ew_val v, aicc_ew_cls cls);

/* Per-element callbacks; `cls` is the computation class, ud the op's data. */
typedef aicc_ew_val (*aicc_ew_unop)(aicc_ew_val x, aicc_ew_cls cls, const void *ud);
typedef aicc_ew_val (*aicc_ew_binop)(aicc_ew_val a, aicc_ew_val b, aicc_ew_cls cls,
                                     const void *ud);
/* f32 fast paths over a contiguous run. For binary ops the operand strides
 * are 0 (broadcast) or 1. */
typedef void (*aicc_ew_f32_unop)(const float *x, float *y, int64_t n, const void *ud);
typedef void (*aicc_ew_f32_binop)(const float *a, int64_t sa, const float *b,
                                  int64_t sb, float *y, int64_t n);

/* y = op(x): x converted to class `cls`, the result (class out_cls) stored
 * into a new tensor of out_dt with x's shape. f32 (may be NULL) is used when
 * x and the output are both f32. Returns a new reference in *out. */
AICC_MUST_USE aicc_status aicc_ew_unary(const aicc_kernel_ctx *c, const aicc_tensor *x,
                                        aicc_ew_cls cls, aicc_dtype out_dt,
                                        aicc_ew_cls out_cls, aicc_ew_unop op,
                                        aicc_ew_f32_unop f32, const void *ud,
                                        aicc_tensor **out);

/* y = op(a, b) with numpy broadcasting. a and b load in class `cls`. */
AICC_MUST_USE aicc_status aicc_ew_binary(const aicc_kernel_ctx *c, const aicc_tensor *a,
                                         const aicc_tensor *b, aicc_ew_cls cls,
                                         aicc_dtype out_dt, aicc_ew_cls out_cls,
                                         aicc_ew_binop op, aicc_ew_f32_binop f32,
                                         const void *ud, aicc_tensor **out);

/* Broadcast shape of n tensors (error names the node). */
AICC_MUST_USE aicc_status aicc_ew_bcast_dims(const aicc_kernel_ctx *c, int n,
                                             const aicc_tensor *const *ts,
                                             int64_t *dims, int *rank);

/* Checks that input i is a dense tensor of a dtype accepted by `ok`. */
AICC_MUST_USE aicc_status aicc_ew_check_input(const aicc_kernel_ctx *c, int i,
                                              bool (*ok)(aicc_dtype));
bool aicc_ew_dt_float(aicc_dtype dt);     /* f16, bf16, f32, f64 */
bool aicc_ew_dt_number(aicc_dtype dt);    /* ints and the four floats */
bool aicc_ew_dt_signed(aicc_dtype dt);    /* signed ints and the four floats */
bool aicc_ew_dt_int(aicc_dtype dt);       /* 8..64-bit ints */
bool aicc_ew_dt_bool(aicc_dtype dt);

#endif
