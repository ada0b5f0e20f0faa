/* Dtype-generic element movement and comparison shared by the data-movement
 * op families (see util_elem.h). */
#include "ops/util_elem.h"

#include <math.h>
#include <stdlib.h>

/* Packed sub-byte storage: element k occupies bits [k*bits, (k+1)*bits),
 * little end first; 6-bit types may straddle a byte boundary. */
static uint32_t bits_get(const uint8_t *p, int64_t k, int bits) {
  uint64_t off = (uint64_t)k * (uint64_t)bits;
  size_t byte = off / 8;
  unsigned sh = off % 8;
  uint32_t v = p[byte];
  if (sh + (unsigned)bits > 8) v |= (uint32_t)p[byte + 1] << 8;
  return (v >> sh) & ((1u << bits) - 1);
}

static void bits_put(uint8_t *p, int64_t k, int bits, uint32_t v) {
  uint64_t off = (uint64_t)k * (uint64_t)bits;
  size_t byte = off / 8;
  unsigned sh = off % 8;
  uint32_t mask = ((1u << bits) - 1) << sh;
  uint32_t w = p[byte];
  bool two = sh + (unsigned)bits > 8;
  if (two) w |= (uint32_t)p[byte + 1] << 8;
  w = (w & ~mask) | ((v << sh) & mask);
  p[byte] = (uint8_t)w;
  if (two) p[byte + 1] = (uint8_t)(w >> 8);
}

aicc_status aicc_elem_copy(aicc_tensor *dst, int64_t di, const aicc_tensor *src, int64_t si,
                           int64_t n) {
  if (n <= 0) return NULL;
  aicc_dtype dt = src->dtype;
  if (dt == AICC_DTYPE_STRING) {
    char *const *s = (char *const *)src->data;
    for (int64_t k = 0; k < n; k++) {
      size_t len = src->strlens ? src->strlens[si + k] : (s[si + k] ? strlen(s[si + k]) : 0);
      AICC_TRY(aicc_tensor_set_string(dst, di + k, s[si + k] ? s[si + k] : "", len));
    }
    return NULL;
  }
  const aicc_dtype_info *info = aicc_dtype_get(dt);
  if (!info) return aicc_errorf(AICC_ERR_INVALID, "bad dtype %d", (int)dt);
  int bits = info->bits;
  if (bits % 8 == 0) {
    size_t b = (size_t)bits / 8;
    memmove((char *)dst->data + (size_t)di * b, (const char *)src->data + (size_t)si * b,
            (size_t)n * b);
    return NULL;
  }
  /* Byte-aligned whole bytes copy directly; the tail goes bit by bit. */
  int per = 8 / bits;
  if (8 % bits == 0 && di % per == 0 && si % per == 0) {
    int64_t whole = n / per;
    memmove((uint8_t *)dst->data + di / per, (const uint8_t *)src->data + si / per, (size_t)whole);
    for (int64_t k = whole * per; k < n; k++)
      bits_put(dst->data, di + k, bits, bits_get(src->data, si + k, bits));
    return NULL;
  }
  for (int64_t k = 0; k < n; k++)
    bits_put(dst->data, di + k, bits, bits_get(src->data, si + k, bits));
  return NULL;
}

int aicc_elem_cmp(const aicc_tensor *a, int64_t i, const aicc_tensor *b, int64_t j) {
  aicc_dtype dt = a->dtype;
  if (dt == AICC_DTYPE_STRING) {
    const char *x = ((char *const *)a->data)[i], *y = ((char *const *)b->data)[j];
    size_t lx = a->strlens ? a->strlens[i] : strlen(x ? x : "");
    size_t ly = b->strlens ? b->strlens[j] : strlen(y ? y : "");
    int r = memcmp(x ? x : "", y ? y : "", lx < ly ? lx : ly);
    if (r) return r;
    return lx < ly ? -1 : lx > ly;
  }
  if (aicc_dtype_is_float(dt)) {
    if (dt == AICC_DTYPE_F32) {
      float x = ((const float *)a->data)[i], y = ((const float *)b->data)[j];
      if (isnan(x) || isnan(y)) return isnan(x) - isnan(y);
      return x < y ? -1 : x > y;
    }
    double x = aicc_tensor_get_f64(a, i), y = aicc_tensor_get_f64(b, j);
    if (isnan(x) || isnan(y)) return isnan(x) - isnan(y);
    return x < y ? -1 : x > y;
  }
  const aicc_dtype_info *info = aicc_dtype_get(dt);
  if (info && (info->kind == AICC_DK_UINT || info->kind == AICC_DK_BOOL)) {
    uint64_t x = (uint64_t)aicc_tensor_get_i64(a, i), y = (uint64_t)aicc_tensor_get_i64(b, j);
    return x < y ? -1 : x > y;
  }
  int64_t x = aicc_tensor_get_i64(a, i), y = aicc_tensor_get_i64(b, j);
  return x < y ? -1 : x > y;
}

bool aicc_infer_const_i64s(const aicc_infer_ctx *c, int i, int64_t *out, int64_t max, int64_t *n) {
  const aicc_tensor *t = aicc_infer_cin(c, i);
  if (!t || !aicc_dtype_is_int(t->dtype)) return false;
  int64_t k = aicc_tensor_numel(t);
  if (k < 0 || k > max) return false;
  for (int64_t q = 0; q < k; q++) out[q] = aicc_tensor_get_i64(t, q);
  *n = k;
  return true;
}

aicc_dim aicc_dim_product(const aicc_dim *dims, int n) {
  int64_t p = 1;
  const char *sym = NULL;
  bool unknown = false;
  for (int d = 0; d < n; d++) {
    if (aicc_dim_is_known(dims[d])) {
      if (dims[d].size == 0) return aicc_dim_known(0);
      p *= dims[d].size;
    } else if (dims[d].sym && !sym) {
      sym = dims[d].sym;
    } else {
      unknown = true;
    }
  }
  if (unknown) return aicc_dim_unknown();
  if (sym) return p == 1 ? (aicc_dim){-1, sym} : aicc_dim_unknown();
  return aicc_dim_known(p);
}

void aicc_dims_from_i64(const int64_t *d, int n, aicc_dim *out) {
  for (int k = 0; k < n; k++) out[k] = aicc_dim_known(d[k]);
}

aicc_status aicc_kernel_scalar_i64(const aicc_kernel_ctx *c, int i, int64_t *v) {
  const aicc_tensor *t = i < c->n_in ? c->in[i] : NULL;
  if (!t || t->kind != AICC_KIND_TENSOR || !aicc_dtype_is_int(t->dtype) ||
      aicc_tensor_numel(t) != 1)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "input %d must be a single integer value", i);
  *v = aicc_tensor_get_i64(t, 0);
  return NULL;
}

static inline int64_t map_at(const int64_t *const *maps, int d, int64_t o) {
  return maps && maps[d] ? maps[d][o] : o;
}

/* A piece of an output row: `len` elements from input offset `src` (row
 * relative), or fill positions when src < 0. */
typedef struct map_run {
  int64_t dst, src, len;
} map_run;

/* Splits the innermost map into maximal contiguous runs, so Tile, Pad and
 * Slice rows become a few block copies; a reversed or gathered row degrades
 * to runs of one. Returns the run count (runs has row entries). */
static int64_t map_runs(const int64_t *lm, int64_t row, map_run *runs) {
  int64_t n = 0;
  for (int64_t o = 0; o < row;) {
    int64_t s = lm ? lm[o] : o, len = 1;
    if (s < 0) {
      while (o + len < row && lm[o + len] < 0) len++;
      s = -1;
    } else {
      while (o + len < row && (lm ? lm[o + len] : o + len) == s + len) len++;
    }
    runs[n++] = (map_run){o, s, len};
    o += len;
  }
  return n;
}

aicc_status aicc_elem_map_copy(aicc_tensor *out, const int64_t *out_dims, const aicc_tensor *in,
                               const int64_t *in_dims, int rank, const int64_t *const *maps,
                               const aicc_tensor *fill) {
  int64_t total = aicc_dims_numel(out_dims, rank);
  if (total <= 0) return NULL;
  /* Trailing unit axes (Gather's inner = 1) only shorten rows: drop them. */
  while (rank > 1 && out_dims[rank - 1] == 1 && in_dims[rank - 1] == 1) rank--;
  if (rank == 0) return aicc_elem_copy(out, 0, in, 0, 1);
  int64_t in_strides[AICC_MAX_RANK], idx[AICC_MAX_RANK] = {0};
  aicc_strides(in_dims, rank, in_strides);
  size_t esz = aicc_elem_bytes(in->dtype);
  int last = rank - 1;
  int64_t row = out_dims[last];
  map_run *runs = malloc(sizeof(map_run) * (size_t)row);
  if (!runs) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  int64_t nruns = map_runs(maps ? maps[last] : NULL, row, runs);
  aicc_status s = NULL;
  int64_t rows = total / row;
  for (int64_t r = 0, dst = 0; r < rows; r++, dst += row) {
    int64_t base = 0;
    bool filled = false;
    for (int d = 0; d < last; d++) {
      int64_t m = map_at(maps, d, idx[d]);
      if (m < 0) {
        filled = true;
        break;
      }
      base += m * in_strides[d];
    }
    if (filled) {
      if (fill)
        for (int64_t o = 0; o < row; o++)
          AICC_TRY_GOTO(s, aicc_elem_copy1(esz, out, dst + o, fill, 0), done);
    } else if (esz == 4 && maps && maps[last] && nruns > row / 4) {
      /* Mostly single-element runs (gathers, reversals): a typed loop. */
      const int64_t *lm = maps[last];
      const uint32_t *src = (const uint32_t *)in->data + base;
      uint32_t *y = (uint32_t *)out->data + dst;
      uint32_t fv = fill ? *(const uint32_t *)fill->data : 0;
      for (int64_t o = 0; o < row; o++) y[o] = lm[o] >= 0 ? src[lm[o]] : fill ? fv : y[o];
    } else {
      for (int64_t k = 0; k < nruns; k++) {
        const map_run *u = &runs[k];
        if (u->src >= 0)
          AICC_TRY_GOTO(s, aicc_elem_copy(out, dst + u->dst, in, base + u->src, u->len), done);
        else if (fill)
          for (int64_t o = 0; o < u->len; o++)
            AICC_TRY_GOTO(s, aicc_elem_copy1(esz, out, dst + u->dst + o, fill, 0), done);
      }
    }
    for (int d = last - 1; d >= 0; d--) {
      if (++idx[d] < out_dims[d]) break;
      idx[d] = 0;
    }
  }
done:
  free(runs);
  return s;
}

/* Copies n elements read with a stride (the innermost transpose loop). */
static aicc_status copy_strided(size_t esz, aicc_tensor *out, int64_t dst, const aicc_tensor *in,
                                int64_t src, int64_t stride, int64_t n) {
  switch (esz) {
  case 1: {
    const uint8_t *x = (const uint8_t *)in->data + src;
    uint8_t *y = (uint8_t *)out->data + dst;
    for (int64_t i = 0; i < n; i++) y[i] = x[i * stride];
    return NULL;
  }
  case 2: {
    const uint16_t *x = (const uint16_t *)in->data + src;
    uint16_t *y = (uint16_t *)out->data + dst;
    for (int64_t i = 0; i < n; i++) y[i] = x[i * stride];
    return NULL;
  }
  case 4: {
    const uint32_t *x = (const uint32_t *)in->data + src;
    uint32_t *y = (uint32_t *)out->data + dst;
    for (int64_t i = 0; i < n; i++) y[i] = x[i * stride];
    return NULL;
  }
  case 8: {
    const uint64_t *x = (const uint64_t *)in->data + src;
    uint64_t *y = (uint64_t *)out->data + dst;
    for (int64_t i = 0; i < n; i++) y[i] = x[i * stride];
    return NULL;
  }
  default:
    for (int64_t i = 0; i < n; i++)
      AICC_TRY(aicc_elem_copy1(esz, out, dst + i, in, src + i * stride));
    return NULL;
  }
}

aicc_status aicc_elem_permute(aicc_tensor *out, const aicc_tensor *in, const int64_t *in_dims,
                              int rank, const int64_t *perm) {
  int64_t in_strides[AICC_MAX_RANK], out_dims[AICC_MAX_RANK], st[AICC_MAX_RANK];
  aicc_strides(in_dims, rank, in_strides);
  for (int d = 0; d < rank; d++) {
    out_dims[d] = in_dims[perm[d]];
    st[d] = in_strides[perm[d]];
  }
  int64_t total = aicc_dims_numel(out_dims, rank);
  if (total <= 0) return NULL;
  if (rank == 0) return aicc_elem_copy(out, 0, in, 0, 1);
  size_t esz = aicc_elem_bytes(in->dtype);
  /* A trailing run of identity-mapped axes copies as one block per row. */
  int64_t run = 1;
  int keep = rank;
  while (keep > 0 && perm[keep - 1] == keep - 1) {
    run *= out_dims[keep - 1];
    keep--;
  }
  if (keep == 0) return aicc_elem_copy(out, 0, in, 0, total);
  aicc_iter it;
  if (run > 1) {
    aicc_iter_init(&it, out_dims, keep);
    aicc_iter_add(&it, st);
    int64_t n = total / run;
    for (int64_t i = 0; i < n; i++) {
      AICC_TRY(aicc_elem_copy(out, i * run, in, it.off[0], run));
      aicc_iter_next(&it);
    }
    return NULL;
  }
  /* Rows along the last output axis read the input with a fixed stride. */
  int64_t row = out_dims[rank - 1], rstride = st[rank - 1];
  aicc_iter_init(&it, out_dims, rank - 1);
  aicc_iter_add(&it, st);
  int64_t n = total / row;
  for (int64_t i = 0; i < n; i++) {
    AICC_TRY(copy_strided(esz, out, i * row, in, it.off[0], rstride, row));
    aicc_iter_next(&it);
  }
  return NULL;
}

aicc_status aicc_kernel_wrap(const aicc_kernel_ctx *c, aicc_status s) {
  if (!s) return NULL;
  char buf[256];
  return aicc_status_wrap(s, "%s", aicc_node_describe(c->node, buf, sizeof buf));
}

aicc_status aicc_infer_wrap(const aicc_infer_ctx *c, aicc_status s) {
  if (!s) return NULL;
  char buf[256];
  return aicc_status_wrap(s, "%s", aicc_node_describe(c->node, buf, sizeof buf));
}

aicc_status aicc_axis_norm_ranked(int64_t axis, int rank, int64_t *out) {
  if (rank < 1) return aicc_errorf(AICC_ERR_SHAPE, "input must have rank >= 1");
  return aicc_axis_norm(axis, rank, out);
}

aicc_status aicc_kernel_need_tensor(const aicc_kernel_ctx *c, int i) {
  if (i >= c->n_in || !c->in[i] || c->in[i]->kind != AICC_KIND_TENSOR)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "input %d must be a tensor", i);
  return NULL;
}
