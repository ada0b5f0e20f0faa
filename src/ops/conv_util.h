/* Window arithmetic shared by the conv, pool, resize and image families:
 * reading kernel/stride/dilation/pad attributes, output sizes under auto_pad
 * and ceil_mode (forward and transposed), dense im2col/col2im, and bulk
 * dtype conversion to double. Inference and kernels both call it, so the two
 * agree on every shape. No op rows live here. */
#ifndef AICC_OPS_CONV_UTIL_H
#define AICC_OPS_CONV_UTIL_H

#include "ops/registry.h"

typedef enum aicc_auto_pad {
  AICC_AUTO_PAD_NOTSET = 0,
  AICC_AUTO_PAD_SAME_UPPER,
  AICC_AUTO_PAD_SAME_LOWER,
  AICC_AUTO_PAD_VALID,
} aicc_auto_pad;

/* The window geometry of one conv/pool node over `nsp` spatial axes.
 * kernel[i] <= 0 means "not known yet" (taken from the weight shape later). */
typedef struct aicc_conv_geom {
  int nsp;
  aicc_auto_pad auto_pad;
  bool ceil_mode;
  bool has_kernel;
  int64_t kernel[AICC_MAX_RANK];
  int64_t stride[AICC_MAX_RANK];
  int64_t dil[AICC_MAX_RANK];
  int64_t pad_lo[AICC_MAX_RANK], pad_hi[AICC_MAX_RANK];
  /* Filled by aicc_conv_geom_forward / _transpose: */
  int64_t in[AICC_MAX_RANK];
  int64_t out[AICC_MAX_RANK];
} aicc_conv_geom;

/* Reads kernel_shape (when present), strides, dilations, pads, auto_pad and
 * ceil_mode of node n for nsp spatial axes, checking lengths and signs.
 * Errors are plain statuses; callers add the node. */
AICC_MUST_USE aicc_status aicc_conv_geom_read(const aicc_node *n, int nsp,
                                              aicc_conv_geom *g);

/* Effective window extent: (k - 1) * d + 1. */
static inline int64_t aicc_conv_window(int64_t k, int64_t d) { return (k - 1) * d + 1; }

/* Output size of axis i for input size `in` (forward conv / pooling), with
 * the pads actually used (auto_pad resolved). ceil_mode follows the ONNX
 * rule that the last window must start inside the input or its left pad.
 * Error when the window does not fit. */
AICC_MUST_USE aicc_status aicc_conv_out_dim(const aicc_conv_geom *g, int i, int64_t in,
                                            int64_t *out, int64_t *lo, int64_t *hi);
/* All axes: in[] from `in`, fills g->in, g->out, g->pad_lo, g->pad_hi. */
AICC_MUST_USE aicc_status aicc_conv_geom_forward(aicc_conv_geom *g, const int64_t *in);

/* ConvTranspose axis i: output size and the pads used. out_shape < 0: not
 * given. out_pad: output_padding[i]. A negative hi pad extends the output
 * at the end (output_shape larger than the natural size). */
AICC_MUST_USE aicc_status aicc_conv_transpose_dim(const aicc_conv_geom *g, int i,
                                                  int64_t in, int64_t out_pad,
                                                  int64_t out_shape, int64_t *out,
                                                  int64_t *lo, int64_t *hi);

/* Dense im2col over nsp spatial axes: img is [C, in...], cols becomes
 * [C * prod(kernel), prod(out)]; positions in the padding read 0. Uses
 * g->kernel, stride, dil, pad_lo, in, out. */
void aicc_conv_im2col_f32(const aicc_conv_geom *g, int64_t C, const float *img, float *cols);
void aicc_conv_im2col_f64(const aicc_conv_geom *g, int64_t C, const double *img, double *cols);
/* The adjoint: adds cols [C * prod(kernel), prod(out)] into img [C, in...]
 * (img must be initialised). Here g->in is the image size (the "output" of
 * ConvTranspose / Col2Im) and g->out the column grid. */
void aicc_conv_col2im_f32(const aicc_conv_geom *g, int64_t C, const float *cols, float *img);
void aicc_conv_col2im_f64(const aicc_conv_geom *g, int64_t C, const double *cols, double *img);

/* Row-major f64 GEMM, C = A(MxK) * B(KxN) + beta * C, with transposes as in
 * aicc_sgemm_ref. The double path of the reference kernels. */
void aicc_conv_dgemm(int transA, int transB, int64_t M, int64_t N, int64_t K,
                     const double *A, int64_t lda, const double *B, int64_t ldb,
                     double beta, double *C, int64_t ldc);

/* Bulk conversions of a dense tensor to/from double (fast paths for f32 and
 * f64; others element by element). `to` returns a malloc'ed array (NULL on
 * allocation failure; a 1-element array for empty tensors). `from` saturates
 * integer dtypes to their range. */
double *aicc_conv_to_f64(const aicc_tensor *t);
void aicc_conv_from_f64(aicc_tensor *t, const double *v);
/* The same to float (f32 copied, others through aicc_tensor_get_f64). */
float *aicc_conv_to_f32(const aicc_tensor *t);
/* Number of spatial elements: product of dims[from..rank). */
int64_t aicc_conv_prod(const int64_t *dims, int from, int rank);

/* Inference helpers: copies a dim (keeping symbols); makes an unknown dim. */
static inline bool aicc_conv_dim_known(const aicc_type *t, int i, int64_t *v) {
  if (!t || t->rank <= i || !aicc_dim_is_known(t->dims[i])) return false;
  *v = t->dims[i].size;
  return true;
}

/* Re-issues a plain status s (taken) as an error naming the node. */
aicc_status aicc_conv_infer_fail(const aicc_infer_ctx *c, aicc_status s);
aicc_status aicc_conv_kernel_fail(const aicc_kernel_ctx *c, aicc_status s);

#endif
