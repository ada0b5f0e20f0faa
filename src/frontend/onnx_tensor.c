/* TensorProto <-> aicc_tensor: every ONNX encoding (raw_data, the typed
 * fields, external data confined to the model's folder, sparse), with sizes
 * checked against the data before any allocation, so a hostile dims list
 * cannot make us allocate. Also whole-file read and atomic write. */
#include "frontend/onnx_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* raw_data is little-endian; we copy it as is. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the ONNX frontend assumes a little-endian host"
#endif

/* Sparse tensors declare a dense shape that no data backs; cap what we are
 * willing to densify (fuzz builds cap lower so the fuzzer's RSS limit holds). */
#ifdef AICC_FUZZ_LIMITS
#define MAX_SPARSE_DENSE_BYTES ((size_t)16 << 20)
#else
#define MAX_SPARSE_DENSE_BYTES ((size_t)1 << 32)
#endif

/* --- files --- */

static aicc_status read_all(int fd, void *dst, size_t n, off_t off) {
  uint8_t *p = dst;
  while (n) {
    size_t chunk = n > ((size_t)1 << 30) ? ((size_t)1 << 30) : n;
    ssize_t r = off >= 0 ? pread(fd, p, chunk, off) : read(fd, p, chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return aicc_errorf(AICC_ERR_IO, "read failed (%s)", strerror(errno));
    if (r == 0) return aicc_errorf(AICC_ERR_IO, "file ended early");
    p += r;
    n -= (size_t)r;
    if (off >= 0) off += r;
  }
  return NULL;
}

aicc_status aicc_onnx_file_read(const char *path, uint8_t **data, size_t *len) {
  *data = NULL;
  *len = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return aicc_errorf(AICC_ERR_IO, "cannot open (%s)", strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return aicc_errorf(AICC_ERR_IO, "not a regular file");
  }
  if ((uint64_t)st.st_size > AICC_ONNX_MAX_FILE) {
    close(fd);
    return aicc_errorf(AICC_ERR_INVALID,
                       "file is %lld bytes; protobuf files are limited to 2 GiB "
                       "(larger models keep their weights in external data)",
                       (long long)st.st_size);
  }
  size_t n = (size_t)st.st_size;
  uint8_t *buf = malloc(n ? n : 1);
  if (!buf) {
    close(fd);
    return aicc_errorf(AICC_ERR_NOMEM, "out of memory reading %zu bytes", n);
  }
  aicc_status s = read_all(fd, buf, n, 0);
  close(fd);
  if (s) {
    free(buf);
    return s;
  }
  *data = buf;
  *len = n;
  return NULL;
}

/* --- helpers --- */

void aicc_onnx_ext_fini(aicc_onnx_ext *e) {
  free(e->base_real);
  e->base_real = NULL;
}

static const char *dims_text(const int64_t *dims, size_t n, char *buf, size_t len) {
  size_t k = 0;
  k += (size_t)snprintf(buf, len, "[");
  for (size_t i = 0; i < n && k < len; i++)
    k += (size_t)snprintf(buf + k, len - k, "%s%lld", i ? "," : "", (long long)dims[i]);
  if (k < len) snprintf(buf + k, len - k, "]");
  return buf;
}

/* Validates dtype and dims of a TensorProto and computes its element count
 * and storage bytes. */
static aicc_status check_header(const Onnx__TensorProto *tp, const char *what,
                                int64_t *numel, size_t *bytes) {
  int dt = tp->has_data_type ? tp->data_type : 0;
  if (dt == AICC_DTYPE_UNDEFINED || !aicc_dtype_valid(dt))
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "%s has unknown data type %d", what, dt);
  if (tp->n_dims > AICC_MAX_RANK)
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "%s has rank %zu, above the maximum %d", what,
                       tp->n_dims, AICC_MAX_RANK);
  for (size_t i = 0; i < tp->n_dims; i++)
    if (tp->dims[i] < 0)
      return aicc_errorf(AICC_ERR_INVALID, "%s has negative dim %lld", what,
                         (long long)tp->dims[i]);
  int64_t n = aicc_dims_numel(tp->dims, (int)tp->n_dims);
  /* Bound numel so that byte counts (up to 16 bytes per element) and the
   * doubled counts of complex types cannot overflow. */
  if (n < 0 || n > INT64_MAX / 32) {
    char b[128];
    return aicc_errorf(AICC_ERR_INVALID, "%s has dims %s whose element count overflows",
                       what, dims_text(tp->dims, tp->n_dims, b, sizeof b));
  }
  if (tp->segment)
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "%s is segmented, which is not supported", what);
  *numel = n;
  *bytes = dt == AICC_DTYPE_STRING ? 0 : aicc_dtype_storage_bytes(dt, (size_t)n);
  return NULL;
}

static aicc_status count_mismatch(const Onnx__TensorProto *tp, const char *what,
                                  int64_t numel, const char *field, size_t have,
                                  size_t want) {
  char b[128];
  return aicc_errorf(AICC_ERR_INVALID,
                     "%s: dims %s hold %lld elements (%zu %s) but %s has %zu", what,
                     dims_text(tp->dims, tp->n_dims, b, sizeof b), (long long)numel, want,
                     strcmp(field, "raw_data") == 0 || strcmp(field, "external data") == 0
                         ? "bytes"
                         : "values",
                     field, have);
}

/* --- external data --- */

static const char *ext_key(const Onnx__TensorProto *tp, const char *key) {
  for (size_t i = 0; i < tp->n_external_data; i++) {
    const Onnx__StringStringEntryProto *e = tp->external_data[i];
    if (e && e->key && strcmp(e->key, key) == 0) return aicc_onnx_str(e->value);
  }
  return NULL;
}

static bool parse_u64(const char *s, uint64_t *out) {
  if (!s || !*s) return false;
  uint64_t v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return false;
    if (v > (UINT64_MAX - 9) / 10) return false;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  *out = v;
  return true;
}

/* Checks the location (relative, no "..", inside the model's folder after
 * resolving symlinks) and the byte range, and opens the file. */
static aicc_status ext_open(aicc_onnx_ext *e, const Onnx__TensorProto *tp, const char *what,
                            size_t need, int *fd_out, off_t *off_out) {
  *fd_out = -1;
  const char *loc = ext_key(tp, "location");
  if (!e || !e->base_dir)
    return aicc_errorf(AICC_ERR_INVALID,
                       "%s uses external data, which is refused when the model is not "
                       "loaded from a file",
                       what);
  if (!loc || !*loc)
    return aicc_errorf(AICC_ERR_INVALID, "%s uses external data but has no location", what);
  if (loc[0] == '/' || loc[0] == '\\')
    return aicc_errorf(AICC_ERR_INVALID,
                       "external data location '%s' of %s is an absolute path; it must be "
                       "relative to the model's folder",
                       loc, what);
  for (const char *p = loc; *p;) {
    size_t n = strcspn(p, "/\\");
    if (n == 2 && p[0] == '.' && p[1] == '.')
      return aicc_errorf(AICC_ERR_INVALID,
                         "external data location '%s' of %s contains '..'; it must stay "
                         "inside the model's folder",
                         loc, what);
    p += n;
    if (*p) p++;
  }
  if (!e->base_real) {
    e->base_real = realpath(e->base_dir, NULL);
    if (!e->base_real)
      return aicc_errorf(AICC_ERR_IO, "cannot resolve the model's folder '%s' (%s)",
                         e->base_dir, strerror(errno));
  }
  size_t bl = strlen(e->base_dir), ll = strlen(loc);
  char *joined = malloc(bl + ll + 2);
  if (!joined) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  memcpy(joined, e->base_dir, bl);
  joined[bl] = '/';
  memcpy(joined + bl + 1, loc, ll + 1);
  char *real = realpath(joined, NULL);
  int err = errno;
  free(joined);
  if (!real)
    return aicc_errorf(AICC_ERR_IO, "external data file '%s' of %s: %s", loc, what,
                       err == ENOENT ? "not found" : strerror(err));
  size_t rl = strlen(e->base_real);
  bool inside = strncmp(real, e->base_real, rl) == 0 &&
                (real[rl] == '/' || (rl == 1 && e->base_real[0] == '/'));
  aicc_status s = NULL;
  if (!inside) {
    s = aicc_errorf(AICC_ERR_INVALID,
                    "external data location '%s' of %s resolves outside the model's folder",
                    loc, what);
    free(real);
    return s;
  }
  int fd = open(real, O_RDONLY | O_CLOEXEC);
  free(real);
  struct stat st;
  if (fd < 0)
    return aicc_errorf(AICC_ERR_IO, "cannot open external data file '%s' of %s (%s)", loc,
                       what, strerror(errno));
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return aicc_errorf(AICC_ERR_IO, "external data file '%s' of %s is not a regular file",
                       loc, what);
  }
  uint64_t size = (uint64_t)st.st_size, off = 0, len = need;
  const char *so = ext_key(tp, "offset"), *sl = ext_key(tp, "length");
  if (so && !parse_u64(so, &off))
    s = aicc_errorf(AICC_ERR_INVALID, "%s has a bad external data offset '%s'", what, so);
  else if (sl && !parse_u64(sl, &len))
    s = aicc_errorf(AICC_ERR_INVALID, "%s has a bad external data length '%s'", what, sl);
  else if (len != need)
    s = aicc_errorf(AICC_ERR_INVALID, "%s: external data length is %llu bytes, expected %zu",
                    what, (unsigned long long)len, need);
  else if (off > size || len > size - off || off > (uint64_t)INT64_MAX)
    s = aicc_errorf(AICC_ERR_IO,
                    "external data file '%s' is too short for %s: needs bytes %llu..%llu, "
                    "the file has %llu",
                    loc, what, (unsigned long long)off, (unsigned long long)(off + len),
                    (unsigned long long)size);
  if (s) {
    close(fd);
    return s;
  }
  *fd_out = fd;
  *off_out = (off_t)off;
  return NULL;
}

/* --- decode --- */

/* Packs one 6-bit element into an LSB-first bitstream. */
static void put6(uint8_t *p, size_t nbytes, int64_t i, unsigned v) {
  size_t bit = (size_t)i * 6, b = bit / 8;
  unsigned sh = bit % 8;
  unsigned w = (v & 0x3f) << sh;
  p[b] |= (uint8_t)w;
  if (b + 1 < nbytes) p[b + 1] |= (uint8_t)(w >> 8);
}

static unsigned get6(const uint8_t *p, size_t nbytes, int64_t i) {
  size_t bit = (size_t)i * 6, b = bit / 8;
  unsigned w = p[b] | (b + 1 < nbytes ? (unsigned)p[b + 1] << 8 : 0);
  return (w >> (bit % 8)) & 0x3f;
}

/* Fills t from the typed repeated field that ONNX uses for its dtype. */
static aicc_status decode_typed(const Onnx__TensorProto *tp, const char *what, int64_t n,
                                aicc_tensor **out) {
  aicc_dtype dt = (aicc_dtype)tp->data_type;
  size_t un = (size_t)n, want = un;
  size_t have;
  const char *field;
  int bits = aicc_dtype_get(dt)->bits;
  switch (dt) {
  case AICC_DTYPE_F32: field = "float_data", have = tp->n_float_data; break;
  case AICC_DTYPE_C64: field = "float_data", have = tp->n_float_data, want = 2 * un; break;
  case AICC_DTYPE_F64: field = "double_data", have = tp->n_double_data; break;
  case AICC_DTYPE_C128: field = "double_data", have = tp->n_double_data, want = 2 * un; break;
  case AICC_DTYPE_I64: field = "int64_data", have = tp->n_int64_data; break;
  case AICC_DTYPE_U32:
  case AICC_DTYPE_U64: field = "uint64_data", have = tp->n_uint64_data; break;
  case AICC_DTYPE_STRING: field = "string_data", have = tp->n_string_data; break;
  default:
    field = "int32_data", have = tp->n_int32_data;
    /* 4- and 2-bit types are packed into bytes, one byte per int32. */
    if (bits == 4 || bits == 2) want = aicc_dtype_storage_bytes(dt, un);
    break;
  }
  if (have != want) return count_mismatch(tp, what, n, field, have, want);
  aicc_tensor *t;
  AICC_TRY(aicc_tensor_create(dt, (int)tp->n_dims, tp->dims, &t));
  uint8_t *d = t->data;
  switch (dt) {
  case AICC_DTYPE_F32:
  case AICC_DTYPE_C64:
    if (want) memcpy(d, tp->float_data, want * sizeof(float));
    break;
  case AICC_DTYPE_F64:
  case AICC_DTYPE_C128:
    if (want) memcpy(d, tp->double_data, want * sizeof(double));
    break;
  case AICC_DTYPE_I64:
    if (want) memcpy(d, tp->int64_data, want * sizeof(int64_t));
    break;
  case AICC_DTYPE_U64:
    if (want) memcpy(d, tp->uint64_data, want * sizeof(uint64_t));
    break;
  case AICC_DTYPE_U32:
    for (size_t i = 0; i < un; i++) ((uint32_t *)d)[i] = (uint32_t)tp->uint64_data[i];
    break;
  case AICC_DTYPE_STRING:
    for (size_t i = 0; i < un; i++) {
      aicc_status s = aicc_tensor_set_string(t, (int64_t)i, (const char *)tp->string_data[i].data,
                                             tp->string_data[i].len);
      if (s) {
        aicc_tensor_release(t);
        return s;
      }
    }
    break;
  case AICC_DTYPE_BOOL:
    for (size_t i = 0; i < un; i++) d[i] = tp->int32_data[i] != 0;
    break;
  default:
    if (bits == 6) {
      for (size_t i = 0; i < un; i++) put6(d, t->nbytes, (int64_t)i, (unsigned)tp->int32_data[i]);
    } else if (bits < 8 || bits == 8) {
      for (size_t i = 0; i < want; i++) d[i] = (uint8_t)tp->int32_data[i];
    } else if (bits == 16) {
      for (size_t i = 0; i < un; i++) ((uint16_t *)d)[i] = (uint16_t)tp->int32_data[i];
    } else if (bits == 32) {
      if (un) memcpy(d, tp->int32_data, un * sizeof(int32_t));
    } else {
      aicc_tensor_release(t);
      return aicc_errorf(AICC_ERR_UNSUPPORTED, "%s: data type %s cannot be stored in %s",
                         what, aicc_dtype_get(dt)->onnx_name, field);
    }
    break;
  }
  *out = t;
  return NULL;
}

aicc_status aicc_onnx_tensor_decode(const Onnx__TensorProto *tp, aicc_onnx_ext *ext,
                                    const char *what, aicc_tensor **out) {
  *out = NULL;
  int64_t n = 0;
  size_t bytes = 0;
  AICC_TRY(check_header(tp, what, &n, &bytes));
  aicc_dtype dt = (aicc_dtype)tp->data_type;
  bool external = tp->has_data_location &&
                  tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  if ((external || tp->has_raw_data) && dt == AICC_DTYPE_STRING)
    return aicc_errorf(AICC_ERR_INVALID, "%s: string tensors must use string_data", what);
  if (external) {
    int fd = -1;
    off_t off = 0;
    AICC_TRY(ext_open(ext, tp, what, bytes, &fd, &off));
    aicc_tensor *t;
    aicc_status s = aicc_tensor_create(dt, (int)tp->n_dims, tp->dims, &t);
    if (!s) {
      s = aicc_status_wrap(read_all(fd, t->data, bytes, off), "%s: external data", what);
      if (s) aicc_tensor_release(t);
    }
    close(fd);
    if (s) return s;
    *out = t;
    return NULL;
  }
  if (tp->has_raw_data) {
    if (tp->raw_data.len != bytes)
      return count_mismatch(tp, what, n, "raw_data", tp->raw_data.len, bytes);
    aicc_tensor *t;
    AICC_TRY(aicc_tensor_create(dt, (int)tp->n_dims, tp->dims, &t));
    if (bytes) memcpy(t->data, tp->raw_data.data, bytes);
    *out = t;
    return NULL;
  }
  return decode_typed(tp, what, n, out);
}

/* Copies element si of src into element di of dst (same dtype). */
static aicc_status copy_elem(aicc_tensor *dst, int64_t di, const aicc_tensor *src, int64_t si) {
  int bits = aicc_dtype_get(dst->dtype)->bits;
  if (dst->dtype == AICC_DTYPE_STRING)
    return aicc_tensor_set_string(dst, di, ((char **)src->data)[si], src->strlens[si]);
  if (bits >= 8) {
    size_t b = (size_t)bits / 8;
    memcpy((uint8_t *)dst->data + (size_t)di * b, (const uint8_t *)src->data + (size_t)si * b, b);
  } else if (bits == 6) {
    put6(dst->data, dst->nbytes, di, get6(src->data, src->nbytes, si));
  } else {
    int per = 8 / bits;
    unsigned mask = (1u << bits) - 1;
    unsigned v = (((const uint8_t *)src->data)[si / per] >> ((si % per) * bits)) & mask;
    uint8_t *p = (uint8_t *)dst->data + di / per;
    int sh = (int)(di % per) * bits;
    *p = (uint8_t)((*p & ~(mask << sh)) | (v << sh));
  }
  return NULL;
}

aicc_status aicc_onnx_sparse_decode(const Onnx__SparseTensorProto *sp, aicc_onnx_ext *ext,
                                    const char *what, aicc_tensor **out) {
  *out = NULL;
  if (!sp->values || !sp->indices)
    return aicc_errorf(AICC_ERR_INVALID, "sparse %s lacks values or indices", what);
  int rank = (int)sp->n_dims;
  if (sp->n_dims > AICC_MAX_RANK)
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "sparse %s has rank %zu, above the maximum %d",
                       what, sp->n_dims, AICC_MAX_RANK);
  int64_t dense_n = aicc_dims_numel(sp->dims, rank);
  char b[128];
  if (dense_n < 0 || dense_n > INT64_MAX / 32)
    return aicc_errorf(AICC_ERR_INVALID, "sparse %s has invalid dims %s", what,
                       dims_text(sp->dims, sp->n_dims, b, sizeof b));
  aicc_tensor *vals = NULL, *idx = NULL, *t = NULL;
  aicc_status s = aicc_onnx_tensor_decode(sp->values, ext, what, &vals);
  if (!s) s = aicc_onnx_tensor_decode(sp->indices, ext, what, &idx);
  if (s) goto fail;
  int64_t nnz = aicc_tensor_numel(vals);
  size_t dense_bytes = aicc_dtype_storage_bytes(vals->dtype, (size_t)dense_n);
  if (dense_bytes > MAX_SPARSE_DENSE_BYTES) {
    s = aicc_errorf(AICC_ERR_UNSUPPORTED, "sparse %s has dims %s: %zu bytes when dense, too large",
                    what, dims_text(sp->dims, sp->n_dims, b, sizeof b), dense_bytes);
    goto fail;
  }
  bool linear = idx->rank == 1 && idx->dims[0] == nnz;
  bool coords = idx->rank == 2 && idx->dims[0] == nnz && idx->dims[1] == rank;
  if (vals->rank != 1 || idx->dtype != AICC_DTYPE_I64 || (!linear && !coords)) {
    s = aicc_errorf(AICC_ERR_INVALID,
                    "sparse %s: values must be [NNZ] and indices int64 [NNZ] or [NNZ, %d]",
                    what, rank);
    goto fail;
  }
  s = aicc_tensor_create(vals->dtype, rank, sp->dims, &t);
  if (s) goto fail;
  const int64_t *ix = idx->data;
  for (int64_t k = 0; k < nnz; k++) {
    int64_t lin = 0;
    if (linear) {
      lin = ix[k];
    } else {
      for (int d = 0; d < rank; d++) {
        int64_t c = ix[k * rank + d];
        if (c < 0 || c >= sp->dims[d]) {
          lin = -1;
          break;
        }
        lin = lin * sp->dims[d] + c;
      }
    }
    if (lin < 0 || lin >= dense_n) {
      s = aicc_errorf(AICC_ERR_INVALID, "sparse %s: index of value %lld is out of range", what,
                      (long long)k);
      goto fail;
    }
    s = copy_elem(t, lin, vals, k);
    if (s) goto fail;
  }
  aicc_tensor_release(vals);
  aicc_tensor_release(idx);
  *out = t;
  return NULL;
fail:
  aicc_tensor_release(vals);
  aicc_tensor_release(idx);
  aicc_tensor_release(t);
  return s;
}

/* --- encode --- */

aicc_status aicc_onnx_tensor_encode(const aicc_tensor *t, const char *name, aicc_arena *a,
                                    Onnx__TensorProto *tp) {
  if (t->kind != AICC_KIND_TENSOR)
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "tensor '%s' is a sequence or optional",
                       name ? name : "");
  tp->has_data_type = 1;
  tp->data_type = (int32_t)t->dtype;
  tp->n_dims = (size_t)t->rank;
  tp->dims = AICC_ARENA_ARRAY(a, int64_t, t->rank ? t->rank : 1);
  if (name && *name) tp->name = aicc_arena_strdup(a, name);
  if (!tp->dims || (name && *name && !tp->name)) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  if (t->rank) memcpy(tp->dims, t->dims, sizeof(int64_t) * (size_t)t->rank);
  if (t->dtype == AICC_DTYPE_STRING) {
    int64_t n = aicc_tensor_numel(t);
    tp->n_string_data = (size_t)n;
    tp->string_data = AICC_ARENA_ARRAY(a, ProtobufCBinaryData, n ? n : 1);
    if (!tp->string_data) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < n; i++) {
      tp->string_data[i].data = (uint8_t *)((char **)t->data)[i];
      tp->string_data[i].len = t->strlens[i];
    }
    return NULL;
  }
  tp->has_raw_data = 1;
  tp->raw_data.data = t->data;
  tp->raw_data.len = t->nbytes;
  return NULL;
}

aicc_status aicc_onnx_sparse_encode(const aicc_tensor *t, const char *name, aicc_arena *a,
                                    Onnx__SparseTensorProto *sp) {
  /* Every element is listed: a valid (if not compact) sparse tensor, and
   * exact for every dtype without a notion of "zero" per type. */
  int64_t n = aicc_tensor_numel(t);
  Onnx__TensorProto *vals = AICC_ARENA_NEW(a, Onnx__TensorProto);
  Onnx__TensorProto *idx = AICC_ARENA_NEW(a, Onnx__TensorProto);
  int64_t *ix = AICC_ARENA_ARRAY(a, int64_t, n ? n : 1);
  int64_t *dims = AICC_ARENA_ARRAY(a, int64_t, t->rank ? t->rank : 1);
  if (!vals || !idx || !ix || !dims) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  onnx__tensor_proto__init(vals);
  onnx__tensor_proto__init(idx);
  AICC_TRY(aicc_onnx_tensor_encode(t, name, a, vals));
  vals->n_dims = 1;
  vals->dims[0] = n; /* encode allocated at least one dim slot */
  for (int64_t i = 0; i < n; i++) ix[i] = i;
  idx->has_data_type = 1;
  idx->data_type = AICC_DTYPE_I64;
  idx->n_dims = 1;
  idx->dims = AICC_ARENA_NEW(a, int64_t);
  if (!idx->dims) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  idx->dims[0] = n;
  idx->has_raw_data = 1;
  idx->raw_data.data = (uint8_t *)ix;
  idx->raw_data.len = sizeof(int64_t) * (size_t)n;
  if (t->rank) memcpy(dims, t->dims, sizeof(int64_t) * (size_t)t->rank);
  sp->values = vals;
  sp->indices = idx;
  sp->n_dims = (size_t)t->rank;
  sp->dims = dims;
  return NULL;
}
