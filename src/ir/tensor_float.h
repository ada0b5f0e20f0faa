/* Narrow number formats beyond the six f32 conversions declared in
 * ir/tensor.h: conversions straight from double (no double rounding), the
 * float8e8m0 rounding modes of ONNX Cast, float4/float6 and packed sub-byte
 * element access. Pure scalar functions; no tensors are allocated here. */
#ifndef AICC_IR_TENSOR_FLOAT_H
#define AICC_IR_TENSOR_FLOAT_H

#include "ir/tensor.h"

/* Rounding of ONNX Cast's `round_mode` (float8e8m0 only). */
typedef enum aicc_round_mode {
  AICC_ROUND_UP = 0, /* the default, "up" */
  AICC_ROUND_DOWN,
  AICC_ROUND_NEAREST,
} aicc_round_mode;

/* Parses "up" / "down" / "nearest"; returns false on anything else. */
bool aicc_round_mode_parse(const char *s, aicc_round_mode *out);

/* Round-to-nearest-even from double, exactly as numpy/ml_dtypes do: one
 * rounding step for f16 (numpy), through f32 for bf16 and the narrow types
 * (ml_dtypes). Overflow gives inf for f16/bf16. */
uint16_t aicc_f64_to_f16(double d);
uint16_t aicc_f64_to_bf16(double d);

/* Every float dtype narrower than 16 bits (f8 variants, f6, f4) as raw bits
 * (low bits of the byte). Decoding an invalid dtype yields NaN. */
bool aicc_dtype_is_narrow_float(aicc_dtype dt);
float aicc_narrow_to_f32(aicc_dtype dt, uint8_t bits);
/* Encodes with RNE. `saturate` matters only for the four float8 types with
 * NaN/inf (out of range: largest finite vs NaN/inf); float4/float6 have no
 * NaN or inf and always saturate (NaN encodes as in ml_dtypes: the zero of
 * the opposite sign). F8E8M0 rounds "up". */
uint8_t aicc_f64_to_narrow(aicc_dtype dt, double d, bool saturate);
/* float8e8m0 with an explicit rounding mode (onnx.numpy_helper.to_float8e8m0:
 * the sign is ignored, NaN and inf become NaN 0xFF). */
uint8_t aicc_f32_to_f8e8m0(float f, bool saturate, aicc_round_mode mode);

float aicc_f4e2m1_to_f32(uint8_t v);
uint8_t aicc_f32_to_f4e2m1(float f);
float aicc_f6e2m3_to_f32(uint8_t v);
uint8_t aicc_f32_to_f6e2m3(float f);
float aicc_f6e3m2_to_f32(uint8_t v);
uint8_t aicc_f32_to_f6e3m2(float f);

/* Packed sub-byte storage (bits 2, 4 or 6): element i occupies bits
 * [i*bits, (i+1)*bits) of the byte stream, low bits first (ONNX layout). */
unsigned aicc_packed_get(const void *data, int bits, int64_t i);
void aicc_packed_set(void *data, int bits, int64_t i, unsigned v);
/* Two's complement value of the low `bits` bits of v. */
static inline int64_t aicc_sign_extend(uint64_t v, int bits) {
  uint64_t m = (uint64_t)1 << (bits - 1);
  v &= (m << 1) - 1;
  return (int64_t)(v ^ m) - (int64_t)m;
}

#endif
