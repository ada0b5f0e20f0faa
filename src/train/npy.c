/* NPY reader and writer (npy.h). The format: magic "\x93NUMPY", a version
 * byte pair, a little-endian header length (2 bytes in 1.0, 4 in 2.0/3.0),
 * then a Python dict literal {'descr': '<f4', 'fortran_order': False,
 * 'shape': (N, 8), } padded with spaces to a multiple of 64 and ended by
 * '\n', then the raw data. */
#include "train/npy.h"

#include "core/file.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
  const char *descr;
  aicc_dtype dtype;
} descrs[] = {
    {"|b1", AICC_DTYPE_BOOL}, {"|i1", AICC_DTYPE_I8},  {"|u1", AICC_DTYPE_U8},
    {"<i1", AICC_DTYPE_I8},   {"<u1", AICC_DTYPE_U8},  {"<i2", AICC_DTYPE_I16},
    {"<u2", AICC_DTYPE_U16},  {"<i4", AICC_DTYPE_I32}, {"<u4", AICC_DTYPE_U32},
    {"<i8", AICC_DTYPE_I64},  {"<u8", AICC_DTYPE_U64}, {"<f2", AICC_DTYPE_F16},
    {"<f4", AICC_DTYPE_F32},  {"<f8", AICC_DTYPE_F64},
};

/* Finds 'key': in the header dict and returns a pointer just past the colon
 * and blanks, or NULL. */
static const char *dict_value(const char *h, const char *key) {
  char pat[32];
  snprintf(pat, sizeof pat, "'%s'", key);
  const char *p = strstr(h, pat);
  if (!p) return NULL;
  p += strlen(pat);
  while (*p == ' ') p++;
  if (*p != ':') return NULL;
  p++;
  while (*p == ' ') p++;
  return p;
}

aicc_status aicc_npy_parse(const char *name, const void *data, size_t len, aicc_tensor **out) {
  const unsigned char *b = data;
  *out = NULL;
  if (len < 10 || memcmp(b, "\x93NUMPY", 6) != 0)
    return aicc_errorf(AICC_ERR_INVALID, "%s: not an NPY file (bad magic)", name);
  int major = b[6];
  size_t hlen, hstart;
  if (major == 1) {
    hlen = (size_t)b[8] | (size_t)b[9] << 8;
    hstart = 10;
  } else if (major == 2 || major == 3) {
    if (len < 12) return aicc_errorf(AICC_ERR_INVALID, "%s: truncated NPY header", name);
    hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
    hstart = 12;
  } else {
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "%s: NPY version %d.%d is not supported", name,
                       major, b[7]);
  }
  if (hlen > len - hstart)
    return aicc_errorf(AICC_ERR_INVALID, "%s: NPY header runs past the end of the file", name);
  char *h = malloc(hlen + 1);
  if (!h) return aicc_errorf(AICC_ERR_NOMEM, "%s: out of memory", name);
  memcpy(h, b + hstart, hlen);
  h[hlen] = 0;
  aicc_status st = NULL;
  const char *d = dict_value(h, "descr"), *fo = dict_value(h, "fortran_order"),
             *sh = dict_value(h, "shape");
  if (!d || !fo || !sh) {
    st = aicc_errorf(AICC_ERR_INVALID, "%s: NPY header lacks descr, fortran_order or shape",
                     name);
    goto done;
  }
  if (strncmp(fo, "False", 5) != 0) {
    st = aicc_errorf(AICC_ERR_UNSUPPORTED, "%s: fortran_order arrays are not supported "
                     "(save with numpy.ascontiguousarray)", name);
    goto done;
  }
  aicc_dtype dt = AICC_DTYPE_UNDEFINED;
  for (size_t i = 0; i < sizeof descrs / sizeof descrs[0]; i++) {
    size_t l = strlen(descrs[i].descr);
    if ((d[0] == '\'' || d[0] == '"') && strncmp(d + 1, descrs[i].descr, l) == 0 &&
        d[1 + l] == d[0])
      dt = descrs[i].dtype;
  }
  if (dt == AICC_DTYPE_UNDEFINED) {
    char shown[24];
    size_t l = strcspn(d, ",}");
    snprintf(shown, sizeof shown, "%.*s", (int)(l < 20 ? l : 20), d);
    st = aicc_errorf(AICC_ERR_UNSUPPORTED, "%s: NPY dtype %s is not supported "
                     "(little-endian bool, ints and floats are)", name, shown);
    goto done;
  }
  if (*sh != '(') {
    st = aicc_errorf(AICC_ERR_INVALID, "%s: NPY shape is not a tuple", name);
    goto done;
  }
  int64_t dims[AICC_MAX_RANK];
  int rank = 0;
  const char *p = sh + 1;
  for (;;) {
    while (*p == ' ' || *p == ',') p++;
    if (*p == ')') break;
    if (!isdigit((unsigned char)*p) || rank == AICC_MAX_RANK) {
      st = aicc_errorf(AICC_ERR_INVALID, "%s: bad NPY shape (rank over %d or not integers)",
                       name, AICC_MAX_RANK);
      goto done;
    }
    errno = 0;
    char *end;
    long long v = strtoll(p, &end, 10);
    if (errno || v < 0) {
      st = aicc_errorf(AICC_ERR_INVALID, "%s: bad NPY dimension", name);
      goto done;
    }
    dims[rank++] = v;
    p = end;
  }
  aicc_tensor *t = NULL;
  if ((st = aicc_tensor_create(dt, rank, dims, &t))) goto done;
  size_t body = len - hstart - hlen;
  if (body < t->nbytes) {
    st = aicc_errorf(AICC_ERR_INVALID, "%s: NPY data is %zu bytes, the shape needs %zu", name,
                     body, t->nbytes);
    aicc_tensor_release(t);
    goto done;
  }
  memcpy(t->data, b + hstart + hlen, t->nbytes);
  if (dt == AICC_DTYPE_BOOL)
    for (size_t i = 0; i < t->nbytes; i++) ((unsigned char *)t->data)[i] = ((unsigned char *)t->data)[i] != 0;
  *out = t;
done:
  free(h);
  return st;
}

aicc_status aicc_npy_load(const char *path, aicc_tensor **out) {
  *out = NULL;
  char *buf;
  size_t n;
  AICC_TRY(aicc_file_read(path, &buf, &n));
  aicc_status st = aicc_npy_parse(path, buf, n, out);
  free(buf);
  return st;
}

aicc_status aicc_npy_save(const char *path, const aicc_tensor *t) {
  const char *descr = NULL;
  for (size_t i = 0; i < sizeof descrs / sizeof descrs[0]; i++)
    if (descrs[i].dtype == t->dtype && !descr) descr = descrs[i].descr;
  if (t->kind != AICC_KIND_TENSOR || !descr)
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "%s: only numeric tensors can be saved as NPY",
                       path);
  char h[512];
  int n = snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
  for (int i = 0; i < t->rank; i++)
    n += snprintf(h + n, sizeof h - (size_t)n, "%lld,%s", (long long)t->dims[i],
                  i + 1 < t->rank ? " " : "");
  n += snprintf(h + n, sizeof h - (size_t)n, "), }");
  size_t total = 10 + (size_t)n + 1;
  size_t pad = (64 - total % 64) % 64;
  size_t hlen = (size_t)n + pad + 1;
  size_t len = 10 + hlen + t->nbytes;
  unsigned char *buf = malloc(len);
  if (!buf) return aicc_errorf(AICC_ERR_NOMEM, "%s: out of memory", path);
  memcpy(buf, "\x93NUMPY\x01\x00", 8);
  buf[8] = (unsigned char)(hlen & 0xff);
  buf[9] = (unsigned char)(hlen >> 8);
  memcpy(buf + 10, h, (size_t)n);
  memset(buf + 10 + n, ' ', pad);
  buf[10 + hlen - 1] = '\n';
  if (t->nbytes) memcpy(buf + 10 + hlen, t->data, t->nbytes);
  aicc_status st = aicc_file_write_atomic(path, buf, len);
  free(buf);
  return st;
}
