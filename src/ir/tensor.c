/* Runtime values: creation, reference counting, element access by dtype. */
#include "ir/tensor.h"

#include "ir/tensor_float.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest tensor we allocate: beyond this a declared shape is surely bogus
 * (a hostile model) and we refuse rather than ask malloc. */
#define AICC_MAX_TENSOR_BYTES ((size_t)1 << 36)

int64_t aicc_dims_numel(const int64_t *dims, int rank) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) {
    if (dims[i] < 0) return -1;
    if (dims[i] != 0 && n > INT64_MAX / dims[i]) return -1;
    n *= dims[i];
  }
  return n;
}

static aicc_tensor *tensor_new(aicc_value_kind kind, aicc_dtype dt) {
  aicc_tensor *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->refs = 1;
  t->kind = kind;
  t->dtype = dt;
  return t;
}

aicc_status aicc_tensor_create(aicc_dtype dtype, int rank, const int64_t *dims,
                               aicc_tensor **out) {
  *out = NULL;
  if (!aicc_dtype_valid(dtype))
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "invalid dtype %d", (int)dtype);
  if (rank < 0 || rank > AICC_MAX_RANK)
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "rank %d exceeds the maximum %d", rank,
                       AICC_MAX_RANK);
  int64_t n = aicc_dims_numel(dims, rank);
  if (n < 0) return aicc_errorf(AICC_ERR_SHAPE, "invalid or overflowing shape");
  size_t bytes = aicc_dtype_storage_bytes(dtype, (size_t)n);
  if ((uint64_t)n > AICC_MAX_TENSOR_BYTES || bytes > AICC_MAX_TENSOR_BYTES)
    return aicc_errorf(AICC_ERR_SHAPE, "tensor of %lld elements is too large",
                       (long long)n);
  aicc_tensor *t = tensor_new(AICC_KIND_TENSOR, dtype);
  if (!t) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  t->rank = rank;
  if (rank) memcpy(t->dims, dims, sizeof(int64_t) * (size_t)rank);
  size_t alloc = (bytes + 63) & ~(size_t)63;
  t->data = aligned_alloc(64, alloc ? alloc : 64);
  if (!t->data) {
    free(t);
    return aicc_errorf(AICC_ERR_NOMEM, "out of memory allocating %zu bytes", bytes);
  }
  memset(t->data, 0, alloc ? alloc : 64);
  t->nbytes = bytes;
  if (dtype == AICC_DTYPE_STRING) {
    t->strlens = calloc((size_t)n ? (size_t)n : 1, sizeof(size_t));
    char **s = t->data;
    bool ok = t->strlens != NULL;
    for (int64_t i = 0; ok && i < n; i++) ok = (s[i] = calloc(1, 1)) != NULL;
    if (!ok) {
      aicc_tensor_release(t);
      return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
    }
  }
  *out = t;
  return NULL;
}

aicc_status aicc_tensor_sequence_create(aicc_dtype elem_dtype, aicc_tensor **out) {
  *out = tensor_new(AICC_KIND_SEQUENCE, elem_dtype);
  return *out ? NULL : aicc_errorf(AICC_ERR_NOMEM, "out of memory");
}

aicc_status aicc_tensor_sequence_push(aicc_tensor *seq, aicc_tensor *elem) {
  aicc_tensor **e = realloc(seq->elems, sizeof *e * (seq->n_elems + 1));
  if (!e) {
    aicc_tensor_release(elem);
    return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  }
  seq->elems = e;
  e[seq->n_elems++] = elem;
  if (seq->dtype == AICC_DTYPE_UNDEFINED) seq->dtype = elem->dtype;
  return NULL;
}

aicc_status aicc_tensor_optional_create(aicc_value_kind elem_kind, aicc_dtype dtype,
                                        aicc_tensor *elem, aicc_tensor **out) {
  aicc_tensor *t = tensor_new(AICC_KIND_OPTIONAL, dtype);
  if (!t) {
    aicc_tensor_release(elem);
    return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  }
  t->elem_kind = elem_kind;
  if (elem) {
    t->elems = malloc(sizeof *t->elems);
    if (!t->elems) {
      aicc_tensor_release(elem);
      free(t);
      return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
    }
    t->elems[0] = elem;
    t->n_elems = 1;
  }
  *out = t;
  return NULL;
}

aicc_status aicc_tensor_set_string(aicc_tensor *t, int64_t i, const char *s, size_t n) {
  char *c = malloc(n + 1);
  if (!c) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  if (n) memcpy(c, s, n);
  c[n] = 0;
  char **p = t->data;
  free(p[i]);
  p[i] = c;
  t->strlens[i] = n;
  return NULL;
}

aicc_status aicc_tensor_clone(const aicc_tensor *t, aicc_tensor **out) {
  *out = NULL;
  if (t->kind == AICC_KIND_TENSOR) {
    aicc_tensor *c;
    AICC_TRY(aicc_tensor_create(t->dtype, t->rank, t->dims, &c));
    if (t->dtype == AICC_DTYPE_STRING) {
      int64_t n = aicc_tensor_numel(t);
      for (int64_t i = 0; i < n; i++) {
        aicc_status s = aicc_tensor_set_string(c, i, ((char **)t->data)[i], t->strlens[i]);
        if (s) {
          aicc_tensor_release(c);
          return s;
        }
      }
    } else if (t->nbytes) {
      memcpy(c->data, t->data, t->nbytes);
    }
    *out = c;
    return NULL;
  }
  aicc_tensor *c = tensor_new(t->kind, t->dtype);
  if (!c) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  c->elem_kind = t->elem_kind;
  c->rank = t->rank;
  memcpy(c->dims, t->dims, sizeof c->dims);
  for (size_t i = 0; i < t->n_elems; i++) {
    aicc_tensor *e;
    aicc_status s = aicc_tensor_clone(t->elems[i], &e);
    if (!s) s = aicc_tensor_sequence_push(c, e);
    if (s) {
      aicc_tensor_release(c);
      return s;
    }
  }
  *out = c;
  return NULL;
}

/* Atomic counts: a tensor may be released on another thread than the one
 * that reads its count (a session reusing an output, session.c). */
aicc_tensor *aicc_tensor_retain(aicc_tensor *t) {
  if (t) __atomic_fetch_add(&t->refs, 1, __ATOMIC_RELAXED);
  return t;
}

void aicc_tensor_release(aicc_tensor *t) {
  if (!t || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) > 0) return;
  if (t->dtype == AICC_DTYPE_STRING && t->data && t->kind == AICC_KIND_TENSOR) {
    int64_t n = aicc_tensor_numel(t);
    char **s = t->data;
    for (int64_t i = 0; i < n; i++) free(s[i]);
  }
  for (size_t i = 0; i < t->n_elems; i++) aicc_tensor_release(t->elems[i]);
  free(t->elems);
  free(t->strlens);
  free(t->data);
  free(t);
}

/* --- element access --- */

/* Element access follows numpy's conversions exactly (the reference the
 * ONNX test data comes from): one rounding from double to f16, through f32
 * to bf16 and the narrow floats (ml_dtypes), truncation toward zero to
 * integers with NaN and out-of-range values giving INT64_MIN (x86 numpy),
 * then wrapping to the integer's width. */

int64_t aicc_f64_to_i64_wrap(double d, bool dst_unsigned) {
  if (isnan(d)) return INT64_MIN;
  d = trunc(d);
  if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) return (int64_t)d;
  if (dst_unsigned && d >= 0 && d < 18446744073709551616.0) return (int64_t)(uint64_t)d;
  return INT64_MIN;
}

double aicc_tensor_get_f64(const aicc_tensor *t, int64_t i) {
  const void *p = t->data;
  switch (t->dtype) {
  case AICC_DTYPE_F32: return ((const float *)p)[i];
  case AICC_DTYPE_F64: return ((const double *)p)[i];
  case AICC_DTYPE_F16: return aicc_f16_to_f32(((const uint16_t *)p)[i]);
  case AICC_DTYPE_BF16: return aicc_bf16_to_f32(((const uint16_t *)p)[i]);
  case AICC_DTYPE_F8E4M3FN:
  case AICC_DTYPE_F8E4M3FNUZ:
  case AICC_DTYPE_F8E5M2:
  case AICC_DTYPE_F8E5M2FNUZ:
  case AICC_DTYPE_F8E8M0: return aicc_narrow_to_f32(t->dtype, ((const uint8_t *)p)[i]);
  case AICC_DTYPE_F4E2M1: return aicc_f4e2m1_to_f32((uint8_t)aicc_packed_get(p, 4, i));
  case AICC_DTYPE_F6E2M3: return aicc_f6e2m3_to_f32((uint8_t)aicc_packed_get(p, 6, i));
  case AICC_DTYPE_F6E3M2: return aicc_f6e3m2_to_f32((uint8_t)aicc_packed_get(p, 6, i));
  case AICC_DTYPE_U64: return (double)((const uint64_t *)p)[i];
  case AICC_DTYPE_C64: return ((const float *)p)[2 * i];
  case AICC_DTYPE_C128: return ((const double *)p)[2 * i];
  case AICC_DTYPE_STRING: return strtod(((char *const *)p)[i], NULL);
  default: return (double)aicc_tensor_get_i64(t, i);
  }
}

int64_t aicc_tensor_get_i64(const aicc_tensor *t, int64_t i) {
  const void *p = t->data;
  switch (t->dtype) {
  case AICC_DTYPE_U8: return ((const uint8_t *)p)[i];
  case AICC_DTYPE_I8: return ((const int8_t *)p)[i];
  case AICC_DTYPE_U16: return ((const uint16_t *)p)[i];
  case AICC_DTYPE_I16: return ((const int16_t *)p)[i];
  case AICC_DTYPE_I32: return ((const int32_t *)p)[i];
  case AICC_DTYPE_I64: return ((const int64_t *)p)[i];
  case AICC_DTYPE_U32: return ((const uint32_t *)p)[i];
  case AICC_DTYPE_U64: return (int64_t)((const uint64_t *)p)[i];
  case AICC_DTYPE_BOOL: return ((const uint8_t *)p)[i] != 0;
  case AICC_DTYPE_U4: return aicc_packed_get(p, 4, i);
  case AICC_DTYPE_I4: return aicc_sign_extend(aicc_packed_get(p, 4, i), 4);
  case AICC_DTYPE_U2: return aicc_packed_get(p, 2, i);
  case AICC_DTYPE_I2: return aicc_sign_extend(aicc_packed_get(p, 2, i), 2);
  case AICC_DTYPE_STRING: return strtoll(((char *const *)p)[i], NULL, 10);
  default:
    if (aicc_dtype_is_float(t->dtype) || t->dtype == AICC_DTYPE_C64 ||
        t->dtype == AICC_DTYPE_C128)
      return aicc_f64_to_i64_wrap(aicc_tensor_get_f64(t, i), false);
    return 0;
  }
}

void aicc_tensor_set_f64(aicc_tensor *t, int64_t i, double v) {
  void *p = t->data;
  switch (t->dtype) {
  case AICC_DTYPE_F32: ((float *)p)[i] = (float)v; return;
  case AICC_DTYPE_F64: ((double *)p)[i] = v; return;
  case AICC_DTYPE_F16: {
    /* exact in f32 (the usual case): the bit-twiddling path rounds once */
    float f = (float)v;
    ((uint16_t *)p)[i] = ((double)f == v || v != v) ? aicc_f32_to_f16(f) : aicc_f64_to_f16(v);
    return;
  }
  case AICC_DTYPE_BF16: ((uint16_t *)p)[i] = aicc_f64_to_bf16(v); return;
  case AICC_DTYPE_F8E4M3FN:
  case AICC_DTYPE_F8E4M3FNUZ:
  case AICC_DTYPE_F8E5M2:
  case AICC_DTYPE_F8E5M2FNUZ:
  case AICC_DTYPE_F8E8M0: ((uint8_t *)p)[i] = aicc_f64_to_narrow(t->dtype, v, true); return;
  case AICC_DTYPE_F4E2M1:
  case AICC_DTYPE_F6E2M3:
  case AICC_DTYPE_F6E3M2:
    aicc_packed_set(p, aicc_dtype_get(t->dtype)->bits, i, aicc_f64_to_narrow(t->dtype, v, true));
    return;
  case AICC_DTYPE_C64:
    ((float *)p)[2 * i] = (float)v;
    ((float *)p)[2 * i + 1] = 0;
    return;
  case AICC_DTYPE_C128:
    ((double *)p)[2 * i] = v;
    ((double *)p)[2 * i + 1] = 0;
    return;
  case AICC_DTYPE_BOOL: ((uint8_t *)p)[i] = v != 0; return;
  case AICC_DTYPE_STRING: {
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%.9g", v);
    aicc_status s = aicc_tensor_set_string(t, i, buf, (size_t)n);
    aicc_status_free(s); /* out of memory: the element keeps its old value */
    return;
  }
  default:
    aicc_tensor_set_i64(t, i, aicc_f64_to_i64_wrap(v, aicc_dtype_get(t->dtype)->kind == AICC_DK_UINT));
  }
}

void aicc_tensor_set_i64(aicc_tensor *t, int64_t i, int64_t v) {
  void *p = t->data;
  switch (t->dtype) {
  case AICC_DTYPE_U8: ((uint8_t *)p)[i] = (uint8_t)v; return;
  case AICC_DTYPE_I8: ((int8_t *)p)[i] = (int8_t)v; return;
  case AICC_DTYPE_U16: ((uint16_t *)p)[i] = (uint16_t)v; return;
  case AICC_DTYPE_I16: ((int16_t *)p)[i] = (int16_t)v; return;
  case AICC_DTYPE_I32: ((int32_t *)p)[i] = (int32_t)v; return;
  case AICC_DTYPE_I64: ((int64_t *)p)[i] = v; return;
  case AICC_DTYPE_U32: ((uint32_t *)p)[i] = (uint32_t)v; return;
  case AICC_DTYPE_U64: ((uint64_t *)p)[i] = (uint64_t)v; return;
  case AICC_DTYPE_BOOL: ((uint8_t *)p)[i] = v != 0; return;
  case AICC_DTYPE_U4:
  case AICC_DTYPE_I4: aicc_packed_set(p, 4, i, (unsigned)v & 15); return;
  case AICC_DTYPE_U2:
  case AICC_DTYPE_I2: aicc_packed_set(p, 2, i, (unsigned)v & 3); return;
  case AICC_DTYPE_STRING: {
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%lld", (long long)v);
    aicc_status s = aicc_tensor_set_string(t, i, buf, (size_t)n);
    aicc_status_free(s); /* out of memory: the element keeps its old value */
    return;
  }
  default: aicc_tensor_set_f64(t, i, (double)v); return;
  }
}

const char *aicc_tensor_describe(const aicc_tensor *t, char *buf, size_t n) {
  if (!t) {
    snprintf(buf, n, "none");
    return buf;
  }
  size_t k = 0;
  const char *pre = t->kind == AICC_KIND_SEQUENCE ? "seq<" : t->kind == AICC_KIND_OPTIONAL ? "opt<" : "";
  k += (size_t)snprintf(buf + k, n - k, "%s%s[", pre, aicc_dtype_text(t->dtype));
  for (int d = 0; d < t->rank && k < n; d++)
    k += (size_t)snprintf(buf + k, n - k, d ? ",%lld" : "%lld", (long long)t->dims[d]);
  if (k < n) snprintf(buf + k, n - k, "]%s", *pre ? ">" : "");
  return buf;
}
