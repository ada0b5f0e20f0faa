/* The dtype table: one row per ONNX tensor element type, numbered as
 * TensorProto.DataType so import needs no mapping. Sub-byte types (int4,
 * uint4, float4e2m1, int2, uint2) are packed little-end-first in storage. */
#ifndef AICC_CORE_DTYPE_H
#define AICC_CORE_DTYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AICC_DTYPES(X)                                                         \
  /* enum        onnx-id text      onnx name         bits  kind */             \
  X(UNDEFINED, 0, "undef", "UNDEFINED", 0, AICC_DK_NONE)                       \
  X(F32, 1, "f32", "FLOAT", 32, AICC_DK_FLOAT)                                 \
  X(U8, 2, "u8", "UINT8", 8, AICC_DK_UINT)                                     \
  X(I8, 3, "i8", "INT8", 8, AICC_DK_INT)                                       \
  X(U16, 4, "u16", "UINT16", 16, AICC_DK_UINT)                                 \
  X(I16, 5, "i16", "INT16", 16, AICC_DK_INT)                                   \
  X(I32, 6, "i32", "INT32", 32, AICC_DK_INT)                                   \
  X(I64, 7, "i64", "INT64", 64, AICC_DK_INT)                                   \
  X(STRING, 8, "str", "STRING", 0, AICC_DK_STRING)                             \
  X(BOOL, 9, "bool", "BOOL", 8, AICC_DK_BOOL)                                  \
  X(F16, 10, "f16", "FLOAT16", 16, AICC_DK_FLOAT)                              \
  X(F64, 11, "f64", "DOUBLE", 64, AICC_DK_FLOAT)                               \
  X(U32, 12, "u32", "UINT32", 32, AICC_DK_UINT)                                \
  X(U64, 13, "u64", "UINT64", 64, AICC_DK_UINT)                                \
  X(C64, 14, "c64", "COMPLEX64", 64, AICC_DK_COMPLEX)                          \
  X(C128, 15, "c128", "COMPLEX128", 128, AICC_DK_COMPLEX)                      \
  X(BF16, 16, "bf16", "BFLOAT16", 16, AICC_DK_FLOAT)                           \
  X(F8E4M3FN, 17, "f8e4m3fn", "FLOAT8E4M3FN", 8, AICC_DK_FLOAT)                \
  X(F8E4M3FNUZ, 18, "f8e4m3fnuz", "FLOAT8E4M3FNUZ", 8, AICC_DK_FLOAT)          \
  X(F8E5M2, 19, "f8e5m2", "FLOAT8E5M2", 8, AICC_DK_FLOAT)                      \
  X(F8E5M2FNUZ, 20, "f8e5m2fnuz", "FLOAT8E5M2FNUZ", 8, AICC_DK_FLOAT)          \
  X(U4, 21, "u4", "UINT4", 4, AICC_DK_UINT)                                    \
  X(I4, 22, "i4", "INT4", 4, AICC_DK_INT)                                      \
  X(F4E2M1, 23, "f4e2m1", "FLOAT4E2M1", 4, AICC_DK_FLOAT)                      \
  X(F8E8M0, 24, "f8e8m0", "FLOAT8E8M0", 8, AICC_DK_FLOAT)                      \
  X(U2, 25, "u2", "UINT2", 2, AICC_DK_UINT)                                    \
  X(I2, 26, "i2", "INT2", 2, AICC_DK_INT)                                      \
  X(F6E2M3, 27, "f6e2m3", "FLOAT6E2M3", 6, AICC_DK_FLOAT)                      \
  X(F6E3M2, 28, "f6e3m2", "FLOAT6E3M2", 6, AICC_DK_FLOAT)

typedef enum aicc_dtype_kind {
  AICC_DK_NONE,
  AICC_DK_FLOAT,
  AICC_DK_INT,
  AICC_DK_UINT,
  AICC_DK_BOOL,
  AICC_DK_STRING,
  AICC_DK_COMPLEX,
} aicc_dtype_kind;

typedef enum aicc_dtype {
#define AICC_DTYPE_ENUM_(e, id, text, onnx, bits, kind) AICC_DTYPE_##e = id,
  AICC_DTYPES(AICC_DTYPE_ENUM_)
#undef AICC_DTYPE_ENUM_
  AICC_DTYPE_COUNT
} aicc_dtype;

typedef struct aicc_dtype_info {
  const char *text;      /* short name used by the text IR: "f32" */
  const char *onnx_name; /* TensorProto.DataType name: "FLOAT" */
  int bits;              /* storage bits per element; 0 for strings */
  aicc_dtype_kind kind;
} aicc_dtype_info;

/* Returns the row for dt, or NULL when dt is not a known dtype. */
const aicc_dtype_info *aicc_dtype_get(int dt);
bool aicc_dtype_valid(int dt);
const char *aicc_dtype_text(aicc_dtype dt);
/* Looks up a text name ("f32"); returns AICC_DTYPE_UNDEFINED when unknown. */
aicc_dtype aicc_dtype_from_text(const char *s, size_t n);
/* Bytes needed for n elements (rounding sub-byte types up); strings: n pointers. */
size_t aicc_dtype_storage_bytes(aicc_dtype dt, size_t n);
bool aicc_dtype_is_float(aicc_dtype dt);
bool aicc_dtype_is_int(aicc_dtype dt); /* signed or unsigned integer, not bool */
bool aicc_dtype_is_signed_int(aicc_dtype dt);

#endif
