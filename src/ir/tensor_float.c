/* Scalar conversions between f32/f64 and the narrow float formats (f16, bf16,
 * the float8 family, float6, float4), plus packed sub-byte access. Semantics
 * follow ONNX Cast (onnx/defs Cast doc) and ml_dtypes, which generate the
 * reference outputs: round to nearest even in one step from the source value. */
#include "ir/tensor_float.h"

#include <math.h>
#include <string.h>

static uint32_t f32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}
static float bits_f32(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

/* ---- a generic binary minifloat, described by one row ---- */

typedef enum nan_style {
  NAN_IEEE, /* exponent all ones: inf (mantissa 0) or NaN */
  NAN_FN,   /* only S.1111.111 is NaN; no inf (E4M3FN) */
  NAN_FNUZ, /* only 1.0000.000 is NaN; no inf, no negative zero */
  NAN_NONE, /* every code is finite (float4, float6) */
} nan_style;

typedef struct minifloat {
  int ebits, mbits, bias;
  uint32_t max_mag; /* encoding of the largest finite magnitude */
  nan_style nan;
} minifloat;

static const minifloat FMT_F16 = {5, 10, 15, 0x7BFF, NAN_IEEE};
static const minifloat FMT_E4M3FN = {4, 3, 7, 0x7E, NAN_FN};
static const minifloat FMT_E4M3FNUZ = {4, 3, 8, 0x7F, NAN_FNUZ};
static const minifloat FMT_E5M2 = {5, 2, 15, 0x7B, NAN_IEEE};
static const minifloat FMT_E5M2FNUZ = {5, 2, 16, 0x7F, NAN_FNUZ};
static const minifloat FMT_F4E2M1 = {2, 1, 1, 0x7, NAN_NONE};
static const minifloat FMT_F6E2M3 = {2, 3, 1, 0x1F, NAN_NONE};
static const minifloat FMT_F6E3M2 = {3, 2, 3, 0x1F, NAN_NONE};

static const minifloat *fmt_of(aicc_dtype dt) {
  switch (dt) {
  case AICC_DTYPE_F16: return &FMT_F16;
  case AICC_DTYPE_F8E4M3FN: return &FMT_E4M3FN;
  case AICC_DTYPE_F8E4M3FNUZ: return &FMT_E4M3FNUZ;
  case AICC_DTYPE_F8E5M2: return &FMT_E5M2;
  case AICC_DTYPE_F8E5M2FNUZ: return &FMT_E5M2FNUZ;
  case AICC_DTYPE_F4E2M1: return &FMT_F4E2M1;
  case AICC_DTYPE_F6E2M3: return &FMT_F6E2M3;
  case AICC_DTYPE_F6E3M2: return &FMT_F6E3M2;
  default: return NULL;
  }
}

static double mf_decode(const minifloat *f, uint32_t v) {
  uint32_t sbit = 1u << (f->ebits + f->mbits);
  uint32_t emask = (1u << f->ebits) - 1, mmask = (1u << f->mbits) - 1;
  v &= (sbit << 1) - 1;
  bool neg = (v & sbit) != 0;
  uint32_t mag = v & (sbit - 1);
  uint32_t e = mag >> f->mbits, m = mag & mmask;
  switch (f->nan) {
  case NAN_IEEE:
    if (e == emask) return m ? NAN : (neg ? -INFINITY : INFINITY);
    break;
  case NAN_FN:
    if (mag == sbit - 1) return NAN;
    break;
  case NAN_FNUZ:
    if (v == sbit) return NAN;
    break;
  case NAN_NONE: break;
  }
  double r = e ? ldexp((double)(m | (1u << f->mbits)), (int)e - f->bias - f->mbits)
               : ldexp((double)m, 1 - f->bias - f->mbits);
  return neg ? -r : r;
}

/* Magnitude code for a NaN of the format (sign added by the caller). */
static uint32_t mf_nan(const minifloat *f) {
  switch (f->nan) {
  case NAN_IEEE: return (((1u << f->ebits) - 1) << f->mbits) | (1u << (f->mbits - 1));
  case NAN_FN: return (1u << (f->ebits + f->mbits)) - 1;
  default: return 0;
  }
}

/* Encodes d with one round-to-nearest-even step. Out of range: `saturate`
 * gives the largest finite value, else inf (IEEE style) or NaN. */
static uint32_t mf_encode(const minifloat *f, double d, bool saturate) {
  uint32_t sbit = 1u << (f->ebits + f->mbits);
  bool neg = signbit(d) != 0;
  uint32_t sign = neg ? sbit : 0;
  if (isnan(d)) {
    if (f->nan == NAN_FNUZ) return sbit;
    /* ml_dtypes maps NaN to the zero of the opposite sign for the formats
     * without NaN (float4/float6); ONNX's reference outputs come from it. */
    if (f->nan == NAN_NONE) return neg ? 0 : sbit;
    return sign | mf_nan(f);
  }
  if (f->nan == NAN_NONE) saturate = true;
  uint32_t over; /* the code for an out-of-range magnitude */
  if (saturate) over = sign | f->max_mag;
  else if (f->nan == NAN_IEEE) over = sign | (((1u << f->ebits) - 1) << f->mbits);
  else if (f->nan == NAN_FN) over = sign | mf_nan(f);
  else over = sbit;
  if (isinf(d)) return over;
  if (d == 0) return f->nan == NAN_FNUZ ? 0 : sign;

  int ex;
  double fr = frexp(fabs(d), &ex); /* |d| = fr * 2^ex, fr in [0.5, 1) */
  int e = ex - 1;                  /* |d| = 1.xxx * 2^e */
  if (e > (1 << f->ebits)) return over;
  uint64_t mant = (uint64_t)ldexp(fr, 53); /* 53 significant bits, exact */
  int emin = 1 - f->bias;
  int eff = e < emin ? emin : e;
  /* q = |d| / 2^(eff - mbits), rounded to nearest even */
  int shift = 52 - f->mbits + (eff - e);
  uint64_t q;
  if (shift > 60) {
    q = 0;
  } else {
    q = mant >> shift;
    uint64_t rem = mant & (((uint64_t)1 << shift) - 1);
    uint64_t half = (uint64_t)1 << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) q++;
  }
  if (q == 0) return f->nan == NAN_FNUZ ? 0 : sign;
  /* Subnormals encode as q itself; normals as ((eff+bias-1) << mbits) + q,
   * which carries a mantissa overflow into the exponent for free. */
  int64_t code = ((int64_t)(eff + f->bias - 1) << f->mbits) + (int64_t)q;
  if (code > (int64_t)f->max_mag) return over;
  return sign | (uint32_t)code;
}

/* ---- f16 and bf16: bit-twiddling fast paths ---- */

float aicc_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  uint32_t e = (h >> 10) & 0x1F, m = h & 0x3FF;
  if (e == 0x1F) return bits_f32(sign | 0x7F800000 | (m << 13));
  if (e == 0) {
    /* subnormal: m * 2^-24, exact in f32 */
    float r = (float)m * 0x1p-24f;
    return sign ? -r : r;
  }
  return bits_f32(sign | ((e + 112) << 23) | (m << 13));
}

uint16_t aicc_f32_to_f16(float f) {
  uint32_t x = f32_bits(f);
  uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
  x &= 0x7FFFFFFF;
  if (x >= 0x7F800000) {
    /* inf, or NaN keeping its top payload bits as numpy does (and staying a
     * NaN when those bits are all zero) */
    if (x == 0x7F800000) return sign | 0x7C00;
    uint16_t m = (uint16_t)((x >> 13) & 0x3FF);
    return sign | 0x7C00 | (m ? m : 1);
  }
  if (x >= 0x477FF000) return sign | 0x7C00; /* >= 65520 rounds to inf */
  if (x < 0x38800000) {                      /* below 2^-14: subnormal or 0 */
    if (x < 0x33000000) return sign;         /* <= half the smallest subnormal */
    uint32_t m = (x & 0x7FFFFF) | 0x800000;
    int shift = 126 - (int)(x >> 23);
    uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) q++;
    return sign | (uint16_t)q;
  }
  uint32_t r = x - 0x38000000; /* rebias exponent 127 -> 15 */
  r += 0xFFF + ((r >> 13) & 1);
  return sign | (uint16_t)(r >> 13);
}

float aicc_bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

uint16_t aicc_f32_to_bf16(float f) {
  uint32_t x = f32_bits(f);
  if ((x & 0x7FFFFFFF) > 0x7F800000) /* canonical quiet NaN, as ml_dtypes */
    return (uint16_t)(((x >> 16) & 0x8000) | 0x7FC0);
  x += 0x7FFF + ((x >> 16) & 1);
  return (uint16_t)(x >> 16);
}

uint16_t aicc_f64_to_f16(double d) {
  if (isnan(d)) return aicc_f32_to_f16((float)d);
  return (uint16_t)mf_encode(&FMT_F16, d, false);
}

/* ml_dtypes converts double to bfloat16 (and to the float8/6/4 types)
 * through float32, so the reference outputs carry that double rounding;
 * we match them rather than rounding once. */
uint16_t aicc_f64_to_bf16(double d) { return aicc_f32_to_bf16((float)d); }

/* ---- float8, float6, float4 ---- */

bool aicc_round_mode_parse(const char *s, aicc_round_mode *out) {
  if (!s || strcmp(s, "up") == 0) *out = AICC_ROUND_UP;
  else if (strcmp(s, "down") == 0) *out = AICC_ROUND_DOWN;
  else if (strcmp(s, "nearest") == 0) *out = AICC_ROUND_NEAREST;
  else return false;
  return true;
}

/* Mirrors onnx.numpy_helper.to_float8e8m0 bit for bit: the result is the
 * f32 exponent field, moved up by one when the mode rounds up. */
uint8_t aicc_f32_to_f8e8m0(float f, bool saturate, aicc_round_mode mode) {
  uint32_t x = f32_bits(f);
  uint32_t e = (x >> 23) & 0xFF;
  if (e == 0xFF) return 0xFF;
  bool up = false;
  if (mode == AICC_ROUND_NEAREST) {
    bool g = (x & 0x400000) != 0, r = (x & 0x200000) != 0, s = (x & 0x1FFFFF) != 0;
    up = g && (r || s || e > 0);
  } else if (mode == AICC_ROUND_UP) {
    up = (x & 0x7FFFFF) != 0;
  }
  if (up && saturate && e == 0xFE) up = false;
  return (uint8_t)(e + (up ? 1 : 0));
}

bool aicc_dtype_is_narrow_float(aicc_dtype dt) {
  switch (dt) {
  case AICC_DTYPE_F8E4M3FN:
  case AICC_DTYPE_F8E4M3FNUZ:
  case AICC_DTYPE_F8E5M2:
  case AICC_DTYPE_F8E5M2FNUZ:
  case AICC_DTYPE_F8E8M0:
  case AICC_DTYPE_F4E2M1:
  case AICC_DTYPE_F6E2M3:
  case AICC_DTYPE_F6E3M2: return true;
  default: return false;
  }
}

float aicc_narrow_to_f32(aicc_dtype dt, uint8_t bits) {
  if (dt == AICC_DTYPE_F8E8M0)
    return bits == 0xFF ? NAN : ldexpf(1.0f, (int)bits - 127);
  const minifloat *f = fmt_of(dt);
  if (!f || dt == AICC_DTYPE_F16) return NAN;
  return (float)mf_decode(f, bits);
}

uint8_t aicc_f64_to_narrow(aicc_dtype dt, double d, bool saturate) {
  if (dt == AICC_DTYPE_F8E8M0)
    return aicc_f32_to_f8e8m0((float)d, saturate, AICC_ROUND_UP);
  const minifloat *f = fmt_of(dt);
  if (!f || dt == AICC_DTYPE_F16) return 0;
  return (uint8_t)mf_encode(f, (double)(float)d, saturate);
}

float aicc_f8_to_f32(aicc_dtype dt, uint8_t v) { return aicc_narrow_to_f32(dt, v); }

uint8_t aicc_f32_to_f8(aicc_dtype dt, float f, bool saturate) {
  return aicc_f64_to_narrow(dt, (double)f, saturate);
}

float aicc_f4e2m1_to_f32(uint8_t v) { return (float)mf_decode(&FMT_F4E2M1, v); }
uint8_t aicc_f32_to_f4e2m1(float f) { return (uint8_t)mf_encode(&FMT_F4E2M1, f, true); }
float aicc_f6e2m3_to_f32(uint8_t v) { return (float)mf_decode(&FMT_F6E2M3, v); }
uint8_t aicc_f32_to_f6e2m3(float f) { return (uint8_t)mf_encode(&FMT_F6E2M3, f, true); }
float aicc_f6e3m2_to_f32(uint8_t v) { return (float)mf_decode(&FMT_F6E3M2, v); }
uint8_t aicc_f32_to_f6e3m2(float f) { return (uint8_t)mf_encode(&FMT_F6E3M2, f, true); }

/* ---- packed sub-byte storage ---- */

unsigned aicc_packed_get(const void *data, int bits, int64_t i) {
  const uint8_t *p = data;
  uint64_t bit = (uint64_t)i * (uint64_t)bits;
  uint64_t byte = bit >> 3;
  unsigned sh = (unsigned)(bit & 7);
  unsigned w = p[byte];
  if (sh + (unsigned)bits > 8) w |= (unsigned)p[byte + 1] << 8;
  return (w >> sh) & ((1u << bits) - 1);
}

void aicc_packed_set(void *data, int bits, int64_t i, unsigned v) {
  uint8_t *p = data;
  uint64_t bit = (uint64_t)i * (uint64_t)bits;
  uint64_t byte = bit >> 3;
  unsigned sh = (unsigned)(bit & 7);
  unsigned mask = ((1u << bits) - 1) << sh;
  v = (v << sh) & mask;
  p[byte] = (uint8_t)((p[byte] & ~mask) | v);
  if (sh + (unsigned)bits > 8)
    p[byte + 1] = (uint8_t)((p[byte + 1] & ~(mask >> 8)) | (v >> 8));
}
