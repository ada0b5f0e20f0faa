/* Window arithmetic, im2col/col2im and bulk conversions shared by the conv,
 * pool, resize and image families (see conv_util.h). Pure helpers: no op
 * rows, no allocation beyond the conversion buffers callers free. */
#include "ops/conv_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static aicc_status read_ints(const aicc_node *n, const char *name, int want,
                             int64_t dflt, int64_t min, int64_t *out, bool *present) {
  int64_t len = 0;
  const int64_t *v = aicc_node_attr_ints(n, name, &len);
  if (present) *present = v != NULL;
  if (!v) {
    for (int i = 0; i < want; i++) out[i] = dflt;
    return NULL;
  }
  if (len != want)
    return aicc_errorf(AICC_ERR_INVALID, "attribute '%s' has %lld values, expected %d", name,
                       (long long)len, want);
  for (int i = 0; i < want; i++) {
    if (v[i] < min)
      return aicc_errorf(AICC_ERR_INVALID, "attribute '%s'[%d] is %lld, must be >= %lld",
                         name, i, (long long)v[i], (long long)min);
    out[i] = v[i];
  }
  return NULL;
}

aicc_status aicc_conv_geom_read(const aicc_node *n, int nsp, aicc_conv_geom *g) {
  memset(g, 0, sizeof *g);
  if (nsp < 1 || 2 * nsp > AICC_MAX_RANK)
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "%d spatial axes not supported", nsp);
  g->nsp = nsp;
  AICC_TRY(read_ints(n, "kernel_shape", nsp, 0, 1, g->kernel, &g->has_kernel));
  AICC_TRY(read_ints(n, "strides", nsp, 1, 1, g->stride, NULL));
  AICC_TRY(read_ints(n, "dilations", nsp, 1, 1, g->dil, NULL));
  int64_t pads[2 * AICC_MAX_RANK];
  /* Negative pads are legal for ConvTranspose-like crops only in exotic
   * models; we accept them and let the size check catch nonsense. */
  AICC_TRY(read_ints(n, "pads", 2 * nsp, 0, INT64_MIN, pads, NULL));
  for (int i = 0; i < nsp; i++) {
    g->pad_lo[i] = pads[i];
    g->pad_hi[i] = pads[nsp + i];
  }
  const char *ap = aicc_node_attr_string(n, "auto_pad", "NOTSET");
  if (strcmp(ap, "NOTSET") == 0 || ap[0] == 0) g->auto_pad = AICC_AUTO_PAD_NOTSET;
  else if (strcmp(ap, "SAME_UPPER") == 0) g->auto_pad = AICC_AUTO_PAD_SAME_UPPER;
  else if (strcmp(ap, "SAME_LOWER") == 0) g->auto_pad = AICC_AUTO_PAD_SAME_LOWER;
  else if (strcmp(ap, "VALID") == 0) g->auto_pad = AICC_AUTO_PAD_VALID;
  else return aicc_errorf(AICC_ERR_INVALID, "unknown auto_pad '%s'", ap);
  g->ceil_mode = aicc_node_attr_int(n, "ceil_mode", 0) != 0;
  return NULL;
}

aicc_status aicc_conv_out_dim(const aicc_conv_geom *g, int i, int64_t in, int64_t *out,
                              int64_t *lo, int64_t *hi) {
  int64_t k = g->kernel[i], s = g->stride[i], w = aicc_conv_window(k, g->dil[i]);
  if (k <= 0 || s <= 0) return aicc_errorf(AICC_ERR_SHAPE, "bad kernel or stride on axis %d", i);
  int64_t l = g->pad_lo[i], h = g->pad_hi[i];
  if (g->auto_pad == AICC_AUTO_PAD_SAME_UPPER || g->auto_pad == AICC_AUTO_PAD_SAME_LOWER) {
    /* SAME: output = ceil(in / stride); the total pad is split with the odd
     * element at the end (UPPER) or the beginning (LOWER). */
    int64_t o = (in + s - 1) / s;
    int64_t total = (o - 1) * s + w - in;
    if (total < 0) total = 0;
    if (g->auto_pad == AICC_AUTO_PAD_SAME_UPPER) {
      l = total / 2;
      h = total - l;
    } else {
      h = total / 2;
      l = total - h;
    }
    *out = o;
    *lo = l;
    *hi = h;
    return NULL;
  }
  if (g->auto_pad == AICC_AUTO_PAD_VALID) l = h = 0;
  int64_t span = in + l + h - w;
  if (span < 0)
    return aicc_errorf(AICC_ERR_SHAPE,
                       "axis %d: window %lld larger than padded input %lld", i,
                       (long long)w, (long long)(in + l + h));
  int64_t o;
  if (g->ceil_mode) {
    o = (span + s - 1) / s + 1;
    /* The last window must start inside the input or the left padding
     * (PyTorch and onnxruntime drop a window that starts in the right pad). */
    if ((o - 1) * s >= in + l) o--;
  } else {
    o = span / s + 1;
  }
  *out = o;
  *lo = l;
  *hi = h;
  return NULL;
}

aicc_status aicc_conv_geom_forward(aicc_conv_geom *g, const int64_t *in) {
  for (int i = 0; i < g->nsp; i++) {
    int64_t o, l, h;
    AICC_TRY(aicc_conv_out_dim(g, i, in[i], &o, &l, &h));
    g->in[i] = in[i];
    g->out[i] = o;
    g->pad_lo[i] = l;
    g->pad_hi[i] = h;
  }
  g->auto_pad = AICC_AUTO_PAD_NOTSET; /* pads are now explicit */
  return NULL;
}

aicc_status aicc_conv_transpose_dim(const aicc_conv_geom *g, int i, int64_t in,
                                    int64_t out_pad, int64_t out_shape, int64_t *out,
                                    int64_t *lo, int64_t *hi) {
  int64_t s = g->stride[i], w = aicc_conv_window(g->kernel[i], g->dil[i]);
  int64_t natural = s * (in - 1) + out_pad + w;
  bool upper = g->auto_pad == AICC_AUTO_PAD_SAME_UPPER;
  bool same = upper || g->auto_pad == AICC_AUTO_PAD_SAME_LOWER;
  if (out_shape >= 0 || same) {
    /* ConvTranspose spec: total_padding = natural - output_shape, split with
     * the odd element at the end for SAME_UPPER, at the start otherwise. A
     * negative total (output_shape past the natural size) extends the end. */
    int64_t o = out_shape >= 0 ? out_shape : in * s;
    int64_t total = natural - o;
    if (total < 0) {
      *lo = 0;
      *hi = total;
    } else if (upper) {
      *lo = total / 2;
      *hi = total - *lo;
    } else {
      *hi = total / 2;
      *lo = total - *hi;
    }
    *out = o;
    return NULL;
  }
  int64_t l = g->auto_pad == AICC_AUTO_PAD_VALID ? 0 : g->pad_lo[i];
  int64_t h = g->auto_pad == AICC_AUTO_PAD_VALID ? 0 : g->pad_hi[i];
  int64_t o = natural - l - h;
  if (o < 0)
    return aicc_errorf(AICC_ERR_SHAPE, "axis %d: negative output size %lld", i, (long long)o);
  *out = o;
  *lo = l;
  *hi = h;
  return NULL;
}

int64_t aicc_conv_prod(const int64_t *dims, int from, int rank) {
  int64_t p = 1;
  for (int i = from; i < rank; i++) p *= dims[i];
  return p;
}

/* ---- im2col / col2im ----
 * One body per element type and direction, written once as a macro. The
 * 1-D and 2-D cases run through the 2-D loop (an H axis of size 1); more
 * spatial axes use an odometer. ACC(dst, src) is "=" for im2col and "+="
 * for col2im, with the roles of image and columns swapped. */

#define AICC_CONV_COLS_2D(T, IM2COL)                                                  \
  do {                                                                             \
    int64_t IH, IW, KH, KW, SH, SW, DH, DW, PH, PW, OH, OW;                        \
    if (g->nsp == 1) {                                                             \
      IH = KH = SH = DH = OH = 1;                                                  \
      PH = 0;                                                                      \
      IW = g->in[0], KW = g->kernel[0], SW = g->stride[0], DW = g->dil[0];         \
      PW = g->pad_lo[0], OW = g->out[0];                                           \
    } else {                                                                       \
      IH = g->in[0], KH = g->kernel[0], SH = g->stride[0], DH = g->dil[0];         \
      PH = g->pad_lo[0], OH = g->out[0];                                           \
      IW = g->in[1], KW = g->kernel[1], SW = g->stride[1], DW = g->dil[1];         \
      PW = g->pad_lo[1], OW = g->out[1];                                           \
    }                                                                              \
    for (int64_t c = 0; c < C; c++)                                                \
      for (int64_t kh = 0; kh < KH; kh++)                                          \
        for (int64_t kw = 0; kw < KW; kw++) {                                      \
          T *row = (T *)cols + ((c * KH + kh) * KW + kw) * OH * OW;                \
          /* ow range whose input column is inside [0, IW). */                     \
          int64_t off = kw * DW - PW;                                              \
          int64_t ow0 = off >= 0 ? 0 : (-off + SW - 1) / SW;                       \
          int64_t ow1 = IW - off <= 0 ? 0 : (IW - off + SW - 1) / SW;              \
          if (ow1 > OW) ow1 = OW;                                                  \
          if (ow0 > ow1) ow0 = ow1;                                                \
          for (int64_t oh = 0; oh < OH; oh++) {                                    \
            T *r = row + oh * OW;                                                  \
            int64_t ih = oh * SH - PH + kh * DH;                                   \
            if (ih < 0 || ih >= IH) {                                              \
              if (IM2COL) memset(r, 0, sizeof(T) * (size_t)OW);                    \
              continue;                                                            \
            }                                                                      \
            T *src = (T *)img + (c * IH + ih) * IW + off;                          \
            if (IM2COL) {                                                          \
              for (int64_t ow = 0; ow < ow0; ow++) r[ow] = 0;                      \
              if (SW == 1)                                                         \
                memcpy(r + ow0, src + ow0, sizeof(T) * (size_t)(ow1 - ow0));       \
              else                                                                 \
                for (int64_t ow = ow0; ow < ow1; ow++) r[ow] = src[ow * SW];       \
              for (int64_t ow = ow1; ow < OW; ow++) r[ow] = 0;                     \
            } else {                                                               \
              for (int64_t ow = ow0; ow < ow1; ow++) src[ow * SW] += r[ow];        \
            }                                                                      \
          }                                                                        \
        }                                                                          \
  } while (0)

#define AICC_CONV_COLS_ND(T, IM2COL)                                                  \
  do {                                                                             \
    int n = g->nsp;                                                                \
    int64_t K = aicc_conv_prod(g->kernel, 0, n), O = aicc_conv_prod(g->out, 0, n); \
    int64_t I = aicc_conv_prod(g->in, 0, n);                                       \
    int64_t kk[AICC_MAX_RANK], oo[AICC_MAX_RANK];                                  \
    for (int64_t c = 0; c < C; c++) {                                              \
      memset(kk, 0, sizeof kk);                                                    \
      for (int64_t k = 0; k < K; k++) {                                            \
        T *row = (T *)cols + (c * K + k) * O;                                      \
        memset(oo, 0, sizeof oo);                                                  \
        for (int64_t o = 0; o < O; o++) {                                          \
          int64_t lin = 0;                                                         \
          bool inside = true;                                                      \
          for (int d = 0; d < n; d++) {                                            \
            int64_t x = oo[d] * g->stride[d] - g->pad_lo[d] + kk[d] * g->dil[d];   \
            if (x < 0 || x >= g->in[d]) inside = false;                            \
            lin = lin * g->in[d] + x;                                              \
          }                                                                        \
          T *src = (T *)img + c * I;                                               \
          if (IM2COL) row[o] = inside ? src[lin] : 0;                              \
          else if (inside) src[lin] += row[o];                                     \
          for (int d = n - 1; d >= 0; d--) {                                       \
            if (++oo[d] < g->out[d]) break;                                        \
            oo[d] = 0;                                                             \
          }                                                                        \
        }                                                                          \
        for (int d = n - 1; d >= 0; d--) {                                         \
          if (++kk[d] < g->kernel[d]) break;                                       \
          kk[d] = 0;                                                               \
        }                                                                          \
      }                                                                            \
    }                                                                              \
  } while (0)

void aicc_conv_im2col_f32(const aicc_conv_geom *g, int64_t C, const float *img, float *cols) {
  if (g->nsp <= 2) AICC_CONV_COLS_2D(float, 1);
  else AICC_CONV_COLS_ND(float, 1);
}
void aicc_conv_im2col_f64(const aicc_conv_geom *g, int64_t C, const double *img, double *cols) {
  if (g->nsp <= 2) AICC_CONV_COLS_2D(double, 1);
  else AICC_CONV_COLS_ND(double, 1);
}
void aicc_conv_col2im_f32(const aicc_conv_geom *g, int64_t C, const float *cols, float *img) {
  if (g->nsp <= 2) AICC_CONV_COLS_2D(float, 0);
  else AICC_CONV_COLS_ND(float, 0);
}
void aicc_conv_col2im_f64(const aicc_conv_geom *g, int64_t C, const double *cols, double *img) {
  if (g->nsp <= 2) AICC_CONV_COLS_2D(double, 0);
  else AICC_CONV_COLS_ND(double, 0);
}

void aicc_conv_dgemm(int transA, int transB, int64_t M, int64_t N, int64_t K,
                     const double *A, int64_t lda, const double *B, int64_t ldb,
                     double beta, double *C, int64_t ldc) {
  for (int64_t i = 0; i < M; i++) {
    double *c = C + i * ldc;
    if (beta == 0) memset(c, 0, sizeof(double) * (size_t)N);
    else if (beta != 1)
      for (int64_t j = 0; j < N; j++) c[j] *= beta;
    if (!transB) {
      for (int64_t k = 0; k < K; k++) {
        double a = transA ? A[k * lda + i] : A[i * lda + k];
        if (a == 0) continue;
        const double *b = B + k * ldb;
        for (int64_t j = 0; j < N; j++) c[j] += a * b[j];
      }
    } else {
      for (int64_t j = 0; j < N; j++) {
        double s = 0;
        const double *b = B + j * ldb;
        for (int64_t k = 0; k < K; k++) s += (transA ? A[k * lda + i] : A[i * lda + k]) * b[k];
        c[j] += s;
      }
    }
  }
}

double *aicc_conv_to_f64(const aicc_tensor *t) {
  int64_t n = aicc_tensor_numel(t);
  if (n < 0) return NULL;
  double *v = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  if (!v) return NULL;
  if (t->dtype == AICC_DTYPE_F32) {
    const float *p = t->data;
    for (int64_t i = 0; i < n; i++) v[i] = p[i];
  } else if (t->dtype == AICC_DTYPE_F64) {
    if (n) memcpy(v, t->data, sizeof(double) * (size_t)n);
  } else {
    for (int64_t i = 0; i < n; i++) v[i] = aicc_tensor_get_f64(t, i);
  }
  return v;
}

float *aicc_conv_to_f32(const aicc_tensor *t) {
  int64_t n = aicc_tensor_numel(t);
  float *v = malloc(sizeof *v * (size_t)(n > 0 ? n : 1));
  if (!v) return NULL;
  if (t->dtype == AICC_DTYPE_F32) {
    if (n > 0) memcpy(v, t->data, sizeof *v * (size_t)n);
  } else {
    for (int64_t i = 0; i < n; i++) v[i] = (float)aicc_tensor_get_f64(t, i);
  }
  return v;
}

void aicc_conv_from_f64(aicc_tensor *t, const double *v) {
  int64_t n = aicc_tensor_numel(t);
  if (t->dtype == AICC_DTYPE_F32) {
    float *p = t->data;
    for (int64_t i = 0; i < n; i++) p[i] = (float)v[i];
  } else if (t->dtype == AICC_DTYPE_F64) {
    if (n) memcpy(t->data, v, sizeof(double) * (size_t)n);
  } else if (aicc_dtype_is_int(t->dtype)) {
    /* Saturate to the integer range (the ONNX reference's saturate_cast). */
    int bits = aicc_dtype_get(t->dtype)->bits;
    bool sgn = aicc_dtype_is_signed_int(t->dtype);
    double hi = sgn ? ldexp(1.0, bits - 1) - 1 : ldexp(1.0, bits) - 1;
    double lo = sgn ? -ldexp(1.0, bits - 1) : 0;
    for (int64_t i = 0; i < n; i++) {
      double x = v[i] != v[i] ? 0 : v[i] < lo ? lo : v[i] > hi ? hi : v[i];
      if (bits == 64) aicc_tensor_set_f64(t, i, x);
      else aicc_tensor_set_i64(t, i, (int64_t)x);
    }
  } else {
    for (int64_t i = 0; i < n; i++) aicc_tensor_set_f64(t, i, v[i]);
  }
}

aicc_status aicc_conv_infer_fail(const aicc_infer_ctx *c, aicc_status s) {
  if (!s) return NULL;
  aicc_status e = aicc_infer_error(c, aicc_status_code(s), "%s", aicc_status_message(s));
  aicc_status_free(s);
  return e;
}

aicc_status aicc_conv_kernel_fail(const aicc_kernel_ctx *c, aicc_status s) {
  if (!s) return NULL;
  aicc_status e = aicc_kernel_error(c, aicc_status_code(s), "%s", aicc_status_message(s));
  aicc_status_free(s);
  return e;
}
