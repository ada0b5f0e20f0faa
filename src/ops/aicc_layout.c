/* aicc-internal layout ops (domain "ai.aicc", opset 1), introduced by the
 * layout pass (src/passes/layout.c) and never found in ONNX files we did not
 * write:
 *   LayoutTransform(x) {src, dst, channels}: NCHW <-> NCHW[b]c, where
 *     NCHW[b]c of [N,C,H,W] is [N, ceil(C/b), H, W, b] (channel c at block
 *     c/b, lane c%b). `channels` (the real C) is required to go back.
 *   ConvBlocked(x, w, bias?) {Conv's attributes, block, channels}: a 2-D
 *     group-1 Conv on NCHW[b]c tensors with weights packed OIHW[b]i[b]o
 *     ([ceil(O/b), ceil(I/b), kh, kw, b(i), b(o)]); bias stays plain [O].
 *     With channels <= b the input may also be plain NCHW [N, C, H, W] (a
 *     network's first conv reads its 3-channel image without converting
 *     it to 16 lanes, 13 of them zero); the output is blocked either way.
 *   DepthwiseBlocked(x, w, bias?) {Conv's attributes, block, channels}: a
 *     2-D depthwise Conv (group == channels, one output per input channel)
 *     on NCHW[b]c tensors with weights packed [ceil(C/b), kh, kw, b] (lane
 *     l of block cb is channel cb*b + l); bias stays plain [C].
 * Padding lanes (channels >= C of the last block) are don't-care: both ops
 * ignore them on input and write zeros on output, so layout-agnostic
 * elementwise ops (even ones that map 0 to nonzero, like Sigmoid) may run on
 * blocked tensors between them. The reference kernels unpack, run the NCHW
 * Conv kernel of the registry and pack: correctness first. */
#include "ops/conv_util.h"
#include "ops/registry.h"
#include "ops/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "NCHW" -> 0, "NCHW16c" -> 16; -1 for anything else. */
static int64_t layout_block(const char *s) {
  if (!s || strncmp(s, "NCHW", 4) != 0) return -1;
  if (!s[4]) return 0;
  char *end = NULL;
  long b = strtol(s + 4, &end, 10);
  if (end == s + 4 || strcmp(end, "c") != 0 || b < 1 || b > 256) return -1;
  return b;
}

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* Reads src/dst; exactly one of them is blocked. *to_blocked: NCHW -> blocked. */
static aicc_status lt_attrs(const aicc_node *n, int64_t *block, bool *to_blocked) {
  const char *src = aicc_node_attr_string(n, "src", NULL);
  const char *dst = aicc_node_attr_string(n, "dst", NULL);
  int64_t bs = layout_block(src), bd = layout_block(dst);
  if (bs < 0 || bd < 0 || (bs == 0) == (bd == 0))
    return aicc_errorf(AICC_ERR_INVALID,
                       "LayoutTransform converts NCHW <-> NCHW<b>c, got src='%s' dst='%s'",
                       src ? src : "", dst ? dst : "");
  *to_blocked = bs == 0;
  *block = bs ? bs : bd;
  return NULL;
}

/* Copies x [N,C,S] (S = H*W elements of esz bytes) into y [N,Cb,S,b], zeroing
 * padding lanes; or back (only the C real channels are read). */
static void lt_copy(bool to_blocked, int64_t N, int64_t C, int64_t S, int64_t b, size_t esz,
                    const char *x, char *y) {
  int64_t Cb = ceil_div(C, b);
  if (to_blocked) memset(y, 0, (size_t)(N * Cb * S * b) * esz);
  for (int64_t n = 0; n < N; n++)
    for (int64_t c = 0; c < C; c++)
      for (int64_t s = 0; s < S; s++) {
        int64_t plain = (n * C + c) * S + s;
        int64_t blk = ((n * Cb + c / b) * S + s) * b + c % b;
        if (to_blocked) memcpy(y + blk * (int64_t)esz, x + plain * (int64_t)esz, esz);
        else memcpy(y + plain * (int64_t)esz, x + blk * (int64_t)esz, esz);
      }
}

static aicc_status lt_infer(aicc_infer_ctx *c) {
  int64_t b;
  bool to_blocked;
  AICC_TRY(aicc_conv_infer_fail(c, lt_attrs(c->node, &b, &to_blocked)));
  const aicc_type *x = c->in[0];
  aicc_dtype dt = x ? x->dtype : AICC_DTYPE_UNDEFINED;
  int64_t ch = aicc_node_attr_int(c->node, "channels", -1);
  aicc_dim out[AICC_MAX_RANK];
  if (to_blocked) {
    if (!aicc_infer_has_rank(c, 0)) {
      for (int i = 0; i < 5; i++) out[i] = aicc_dim_unknown();
      out[4] = aicc_dim_known(b);
      aicc_infer_set(c, 0, dt, 5, out);
      return NULL;
    }
    if (x->rank != 4)
      return aicc_infer_error(c, AICC_ERR_SHAPE, "NCHW input has rank %d, expected 4", x->rank);
    int64_t C;
    bool known = aicc_conv_dim_known(x, 1, &C);
    if (known && ch >= 0 && ch != C)
      return aicc_infer_error(c, AICC_ERR_SHAPE, "input has %lld channels, channels=%lld",
                              (long long)C, (long long)ch);
    out[0] = x->dims[0];
    out[1] = known ? aicc_dim_known(ceil_div(C, b)) : aicc_dim_unknown();
    out[2] = x->dims[2];
    out[3] = x->dims[3];
    out[4] = aicc_dim_known(b);
    aicc_infer_set(c, 0, dt, 5, out);
    return NULL;
  }
  if (ch < 0)
    return aicc_infer_error(c, AICC_ERR_INVALID, "LayoutTransform to NCHW needs 'channels'");
  if (!aicc_infer_has_rank(c, 0)) {
    for (int i = 0; i < 4; i++) out[i] = aicc_dim_unknown();
    out[1] = aicc_dim_known(ch);
    aicc_infer_set(c, 0, dt, 4, out);
    return NULL;
  }
  int64_t Cb, lanes;
  if (x->rank != 5 || (aicc_conv_dim_known(x, 4, &lanes) && lanes != b))
    return aicc_infer_error(c, AICC_ERR_SHAPE, "blocked input must be [N,C/%lld,H,W,%lld]",
                            (long long)b, (long long)b);
  if (aicc_conv_dim_known(x, 1, &Cb) && Cb != ceil_div(ch, b))
    return aicc_infer_error(c, AICC_ERR_SHAPE, "%lld blocks cannot hold %lld channels",
                            (long long)Cb, (long long)ch);
  out[0] = x->dims[0];
  out[1] = aicc_dim_known(ch);
  out[2] = x->dims[2];
  out[3] = x->dims[3];
  aicc_infer_set(c, 0, dt, 4, out);
  return NULL;
}

static aicc_status lt_kernel(aicc_kernel_ctx *c) {
  int64_t b;
  bool to_blocked;
  AICC_TRY(aicc_conv_kernel_fail(c, lt_attrs(c->node, &b, &to_blocked)));
  const aicc_tensor *x = c->in[0];
  const aicc_dtype_info *di = aicc_dtype_get(x->dtype);
  if (x->kind != AICC_KIND_TENSOR || !di || di->bits < 8 || di->bits % 8)
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "LayoutTransform of %s",
                             aicc_dtype_text(x->dtype));
  size_t esz = (size_t)di->bits / 8;
  int64_t dims[5];
  aicc_tensor *y;
  if (to_blocked) {
    if (x->rank != 4)
      return aicc_kernel_error(c, AICC_ERR_SHAPE, "NCHW input has rank %d", x->rank);
    int64_t ch = aicc_node_attr_int(c->node, "channels", -1);
    if (ch >= 0 && ch != x->dims[1])
      return aicc_kernel_error(c, AICC_ERR_SHAPE, "input has %lld channels, channels=%lld",
                               (long long)x->dims[1], (long long)ch);
    int64_t d[5] = {x->dims[0], ceil_div(x->dims[1], b), x->dims[2], x->dims[3], b};
    memcpy(dims, d, sizeof d);
    AICC_TRY(aicc_kernel_output(c, 0, x->dtype, 5, dims, &y));
    lt_copy(true, x->dims[0], x->dims[1], x->dims[2] * x->dims[3], b, esz, x->data, y->data);
    return NULL;
  }
  int64_t ch = aicc_node_attr_int(c->node, "channels", -1);
  if (x->rank != 5 || x->dims[4] != b || ch < 0 || x->dims[1] != ceil_div(ch, b))
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "blocked input does not hold %lld channels in "
                             "blocks of %lld", (long long)ch, (long long)b);
  int64_t d[4] = {x->dims[0], ch, x->dims[2], x->dims[3]};
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, 4, d, &y));
  lt_copy(false, x->dims[0], ch, x->dims[2] * x->dims[3], b, esz, x->data, y->data);
  return NULL;
}

/* ------------------------------------------------------------ ConvBlocked */

static aicc_status cb_block(const aicc_node *n, int64_t *b, int64_t *ch) {
  *b = aicc_node_attr_int(n, "block", 16);
  *ch = aicc_node_attr_int(n, "channels", -1);
  if (*b < 1 || *b > 256) return aicc_errorf(AICC_ERR_INVALID, "block %lld", (long long)*b);
  if (*ch < 1) return aicc_errorf(AICC_ERR_INVALID, "ConvBlocked needs 'channels' >= 1");
  if (aicc_node_attr_int(n, "group", 1) != 1)
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "ConvBlocked supports group 1 only");
  return NULL;
}

static aicc_status cb_infer(aicc_infer_ctx *c) {
  int64_t b, ch;
  AICC_TRY(aicc_conv_infer_fail(c, cb_block(c->node, &b, &ch)));
  const aicc_type *x = c->in[0], *w = c->in[1];
  aicc_dtype dt = x ? x->dtype : AICC_DTYPE_UNDEFINED;
  aicc_dim out[5] = {aicc_dim_unknown(), aicc_dim_unknown(), aicc_dim_unknown(),
                     aicc_dim_unknown(), aicc_dim_known(b)};
  bool xr = aicc_infer_has_rank(c, 0), wr = aicc_infer_has_rank(c, 1);
  if (xr && x->rank != 5 && !(x->rank == 4 && ch <= b))
    return aicc_infer_error(c, AICC_ERR_SHAPE, "input has rank %d, expected 5 (NCHW%lldc)%s",
                            x->rank, (long long)b, ch <= b ? " or 4 (NCHW)" : "");
  if (wr && w->rank != 6)
    return aicc_infer_error(c, AICC_ERR_SHAPE, "weight has rank %d, expected 6 (OIHW%lldi%lldo)",
                            w->rank, (long long)b, (long long)b);
  int64_t v;
  if (xr && x->rank == 4 && aicc_conv_dim_known(x, 1, &v) && v != ch)
    return aicc_infer_error(c, AICC_ERR_SHAPE, "plain input has %lld channels, expected %lld",
                            (long long)v, (long long)ch);
  if (xr && x->rank == 5 && aicc_conv_dim_known(x, 1, &v) && v != ceil_div(ch, b))
    return aicc_infer_error(c, AICC_ERR_SHAPE, "input has %lld blocks for %lld channels",
                            (long long)v, (long long)ch);
  if (wr && aicc_conv_dim_known(w, 1, &v) && v != ceil_div(ch, b))
    return aicc_infer_error(c, AICC_ERR_SHAPE, "weight has %lld input blocks for %lld channels",
                            (long long)v, (long long)ch);
  aicc_conv_geom g;
  AICC_TRY(aicc_conv_infer_fail(c, aicc_conv_geom_read(c->node, 2, &g)));
  if (xr) out[0] = x->dims[0];
  if (wr) out[1] = w->dims[0];
  for (int i = 0; i < 2; i++) {
    int64_t k = g.kernel[i], in, o, lo, hi;
    if (!g.has_kernel && !aicc_conv_dim_known(wr ? w : NULL, 2 + i, &k)) k = -1;
    g.kernel[i] = k;
    if (k > 0 && xr && aicc_conv_dim_known(x, 2 + i, &in)) {
      AICC_TRY(aicc_conv_infer_fail(c, aicc_conv_out_dim(&g, i, in, &o, &lo, &hi)));
      out[2 + i] = aicc_dim_known(o);
    }
  }
  aicc_infer_set(c, 0, dt, 5, out);
  return NULL;
}

/* Unpacks the weight [Ob, Ib, kh, kw, b, b] to [Ob*b, C, kh, kw]. */
static void unpack_weight(const float *w, const int64_t *wd, int64_t C, float *u) {
  int64_t Ob = wd[0], Ib = wd[1], K = wd[2] * wd[3], b = wd[4], M = Ob * b;
  for (int64_t o = 0; o < M; o++)
    for (int64_t i = 0; i < C; i++)
      for (int64_t k = 0; k < K; k++)
        u[(o * C + i) * K + k] = w[(((o / b) * Ib + i / b) * K + k) * b * b + (i % b) * b + o % b];
}

static aicc_status cb_kernel(aicc_kernel_ctx *c) {
  int64_t b, ch;
  AICC_TRY(aicc_conv_kernel_fail(c, cb_block(c->node, &b, &ch)));
  const aicc_tensor *x = c->in[0], *w = c->in[1], *bias = c->n_in > 2 ? c->in[2] : NULL;
  if (x->dtype != AICC_DTYPE_F32 || w->dtype != AICC_DTYPE_F32 ||
      (bias && bias->dtype != AICC_DTYPE_F32))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "ConvBlocked is f32 only");
  bool plain = x->rank == 4 && ch <= b && x->dims[1] == ch; /* NCHW input */
  if ((!plain && (x->rank != 5 || x->dims[4] != b || x->dims[1] != ceil_div(ch, b))) ||
      w->rank != 6 || w->dims[1] != ceil_div(ch, b) || w->dims[4] != b || w->dims[5] != b)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "ConvBlocked: input/weight are not NCHW%lldc / "
                             "OIHW%lldi%lldo for %lld channels",
                             (long long)b, (long long)b, (long long)b, (long long)ch);
  int64_t M = w->dims[0] * b;
  if (bias && (bias->rank != 1 || bias->dims[0] > M || bias->dims[0] <= M - b))
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "bias of %lld channels for %lld weight blocks",
                             (long long)(bias->rank == 1 ? bias->dims[0] : -1),
                             (long long)w->dims[0]);
  const aicc_op *conv = aicc_op_find("", "Conv", 22, NULL);
  if (!conv || !conv->kernel) return aicc_kernel_error(c, AICC_ERR_INTERNAL, "no Conv kernel");
  int64_t N = x->dims[0], H = x->dims[2], W = x->dims[3];
  int64_t xd[4] = {N, ch, H, W}, wd[4] = {M, ch, w->dims[2], w->dims[3]}, bd[1] = {M};
  aicc_tensor *xu = NULL, *wu = NULL, *bu = NULL, *yu = NULL, *y = NULL;
  aicc_status s = aicc_tensor_create(AICC_DTYPE_F32, 4, xd, &xu);
  if (!s) s = aicc_tensor_create(AICC_DTYPE_F32, 4, wd, &wu);
  if (!s) s = aicc_tensor_create(AICC_DTYPE_F32, 1, bd, &bu);
  if (s) goto done;
  if (plain) memcpy(xu->data, x->data, sizeof(float) * (size_t)(N * ch * H * W));
  else lt_copy(false, N, ch, H * W, b, sizeof(float), x->data, xu->data);
  unpack_weight(w->data, w->dims, ch, wu->data);
  if (bias) memcpy(bu->data, bias->data, sizeof(float) * (size_t)bias->dims[0]);
  /* The NCHW kernel reads the geometry attributes of this node (the same
   * names as Conv's); its output has all Ob*b channels, the padded ones 0. */
  aicc_tensor *ins[3] = {xu, wu, bu};
  bool want[1] = {true};
  aicc_kernel_ctx cc = {.node = c->node, .opset = 22, .n_in = 3, .n_out = 1, .in = ins,
                        .out = &yu, .want = want, .interp = c->interp};
  if ((s = conv->kernel(&cc))) goto done;
  int64_t yd[5] = {N, w->dims[0], yu->dims[2], yu->dims[3], b};
  if ((s = aicc_kernel_output(c, 0, AICC_DTYPE_F32, 5, yd, &y))) goto done;
  lt_copy(true, N, M, yu->dims[2] * yu->dims[3], b, sizeof(float), yu->data, y->data);
done:
  aicc_tensor_release(xu);
  aicc_tensor_release(wu);
  aicc_tensor_release(bu);
  aicc_tensor_release(yu);
  return s;
}

/* ------------------------------------------------------- DepthwiseBlocked */

static aicc_status dw_block(const aicc_node *n, int64_t *b, int64_t *ch) {
  *b = aicc_node_attr_int(n, "block", 16);
  *ch = aicc_node_attr_int(n, "channels", -1);
  if (*b < 1 || *b > 256) return aicc_errorf(AICC_ERR_INVALID, "block %lld", (long long)*b);
  if (*ch < 1) return aicc_errorf(AICC_ERR_INVALID, "DepthwiseBlocked needs 'channels' >= 1");
  if (aicc_node_attr_int(n, "group", *ch) != *ch)
    return aicc_errorf(AICC_ERR_INVALID, "DepthwiseBlocked needs group == channels (%lld)",
                       (long long)*ch);
  return NULL;
}

static aicc_status dw_infer(aicc_infer_ctx *c) {
  int64_t b, ch;
  AICC_TRY(aicc_conv_infer_fail(c, dw_block(c->node, &b, &ch)));
  const aicc_type *x = c->in[0], *w = c->in[1];
  aicc_dtype dt = x ? x->dtype : AICC_DTYPE_UNDEFINED;
  aicc_dim out[5] = {aicc_dim_unknown(), aicc_dim_known(ceil_div(ch, b)), aicc_dim_unknown(),
                     aicc_dim_unknown(), aicc_dim_known(b)};
  bool xr = aicc_infer_has_rank(c, 0), wr = aicc_infer_has_rank(c, 1);
  if (xr && x->rank != 5)
    return aicc_infer_error(c, AICC_ERR_SHAPE, "input has rank %d, expected 5 (NCHW%lldc)",
                            x->rank, (long long)b);
  if (wr && w->rank != 4)
    return aicc_infer_error(c, AICC_ERR_SHAPE, "weight has rank %d, expected 4 (CHW%lldc)",
                            w->rank, (long long)b);
  int64_t v;
  if (xr && aicc_conv_dim_known(x, 1, &v) && v != ceil_div(ch, b))
    return aicc_infer_error(c, AICC_ERR_SHAPE, "input has %lld blocks for %lld channels",
                            (long long)v, (long long)ch);
  if (wr && aicc_conv_dim_known(w, 0, &v) && v != ceil_div(ch, b))
    return aicc_infer_error(c, AICC_ERR_SHAPE, "weight has %lld blocks for %lld channels",
                            (long long)v, (long long)ch);
  if (wr && aicc_conv_dim_known(w, 3, &v) && v != b)
    return aicc_infer_error(c, AICC_ERR_SHAPE, "weight has %lld lanes, block %lld",
                            (long long)v, (long long)b);
  aicc_conv_geom g;
  AICC_TRY(aicc_conv_infer_fail(c, aicc_conv_geom_read(c->node, 2, &g)));
  if (xr) out[0] = x->dims[0];
  for (int i = 0; i < 2; i++) {
    int64_t k = g.kernel[i], in, o, lo, hi;
    if (!g.has_kernel && !aicc_conv_dim_known(wr ? w : NULL, 1 + i, &k)) k = -1;
    g.kernel[i] = k;
    if (k > 0 && xr && aicc_conv_dim_known(x, 2 + i, &in)) {
      AICC_TRY(aicc_conv_infer_fail(c, aicc_conv_out_dim(&g, i, in, &o, &lo, &hi)));
      out[2 + i] = aicc_dim_known(o);
    }
  }
  aicc_infer_set(c, 0, dt, 5, out);
  return NULL;
}

/* Unpacks x, w and bias to NCHW, runs the registry's Conv kernel with this
 * node's attributes (group == channels) and packs the result. */
static aicc_status dw_kernel(aicc_kernel_ctx *c) {
  int64_t b, ch;
  AICC_TRY(aicc_conv_kernel_fail(c, dw_block(c->node, &b, &ch)));
  const aicc_tensor *x = c->in[0], *w = c->in[1], *bias = c->n_in > 2 ? c->in[2] : NULL;
  if (x->dtype != AICC_DTYPE_F32 || w->dtype != AICC_DTYPE_F32 ||
      (bias && bias->dtype != AICC_DTYPE_F32))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "DepthwiseBlocked is f32 only");
  int64_t Cb = ceil_div(ch, b);
  if (x->rank != 5 || x->dims[4] != b || x->dims[1] != Cb || w->rank != 4 || w->dims[0] != Cb ||
      w->dims[3] != b)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "DepthwiseBlocked: input/weight are not "
                             "NCHW%lldc / CHW%lldc for %lld channels",
                             (long long)b, (long long)b, (long long)ch);
  if (bias && (bias->rank != 1 || bias->dims[0] != ch))
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "bias of %lld values for %lld channels",
                             (long long)(bias->rank == 1 ? bias->dims[0] : -1), (long long)ch);
  const aicc_op *conv = aicc_op_find("", "Conv", 22, NULL);
  if (!conv || !conv->kernel) return aicc_kernel_error(c, AICC_ERR_INTERNAL, "no Conv kernel");
  int64_t N = x->dims[0], H = x->dims[2], W = x->dims[3], K = w->dims[1] * w->dims[2];
  int64_t xd[4] = {N, ch, H, W}, wd[4] = {ch, 1, w->dims[1], w->dims[2]};
  aicc_tensor *xu = NULL, *wu = NULL, *yu = NULL, *y = NULL;
  aicc_status s = aicc_tensor_create(AICC_DTYPE_F32, 4, xd, &xu);
  if (!s) s = aicc_tensor_create(AICC_DTYPE_F32, 4, wd, &wu);
  if (s) goto done;
  lt_copy(false, N, ch, H * W, b, sizeof(float), x->data, xu->data);
  const float *wp = w->data;
  float *wq = wu->data;
  for (int64_t i = 0; i < ch; i++)
    for (int64_t k = 0; k < K; k++) wq[i * K + k] = wp[((i / b) * K + k) * b + i % b];
  aicc_tensor *ins[3] = {xu, wu, bias ? c->in[2] : NULL};
  bool want[1] = {true};
  aicc_kernel_ctx cc = {.node = c->node, .opset = 22, .n_in = bias ? 3 : 2, .n_out = 1,
                        .in = ins, .out = &yu, .want = want, .interp = c->interp};
  if ((s = conv->kernel(&cc))) goto done;
  int64_t yd[5] = {N, Cb, yu->dims[2], yu->dims[3], b};
  if ((s = aicc_kernel_output(c, 0, AICC_DTYPE_F32, 5, yd, &y))) goto done;
  lt_copy(true, N, ch, yu->dims[2] * yu->dims[3], b, sizeof(float), yu->data, y->data);
done:
  aicc_tensor_release(xu);
  aicc_tensor_release(wu);
  aicc_tensor_release(yu);
  return s;
}

/* ------------------------------------------------------------------ rows */

static const aicc_attr_spec lt_attr_specs[] = {
    {"src", AICC_ATTR_STRING, true},
    {"dst", AICC_ATTR_STRING, true},
    AICC_A_INT("channels"),
    AICC_A_END,
};
static const aicc_attr_spec cb_attr_specs[] = {
    AICC_A_INT("group"),    AICC_A_INTS("pads"),      AICC_A_STRING("auto_pad"),
    AICC_A_INTS("strides"), AICC_A_INTS("dilations"), AICC_A_INTS("kernel_shape"),
    {"block", AICC_ATTR_INT, true}, {"channels", AICC_ATTR_INT, true}, AICC_A_END,
};

static const aicc_op ops[] = {
    /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
    {"LayoutTransform", "ai.aicc", 1, 0, 1, 1, 1, 1, lt_attr_specs, lt_infer, lt_kernel},
    {"ConvBlocked", "ai.aicc", 1, 0, 2, 3, 1, 1, cb_attr_specs, cb_infer, cb_kernel},
    {"DepthwiseBlocked", "ai.aicc", 1, 0, 2, 3, 1, 1, cb_attr_specs, dw_infer, dw_kernel},
};
const aicc_op_family aicc_family_aicc_layout = {"aicc_layout", ops, sizeof ops / sizeof ops[0]};
