/* Normalisations: BatchNormalization (inference and training mode),
 * InstanceNormalization, LayerNormalization, GroupNormalization (opset 18:
 * scale per group; 21: per channel), RMSNormalization, LpNormalization,
 * MeanVarianceNormalization, LRN. Statistics are computed in double with two
 * passes (mean, then centred variance), so results do not depend on the
 * input dtype's precision; f32 reads and writes skip the generic accessors. */
#include "ops/conv_util.h"
#include "ops/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

/* Broadcasts parameter p to dims (unidirectionally) into a new double array.
 * NULL p yields `dflt` everywhere. Returns NULL on a shape mismatch (*bad
 * set) or out of memory. */
static double *expand(const aicc_tensor *p, const int64_t *dims, int rank, double dflt,
                      bool *bad) {
  *bad = false;
  int64_t n = aicc_dims_numel(dims, rank);
  double *out = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  if (!out) return NULL;
  if (!p) {
    for (int64_t i = 0; i < n; i++) out[i] = dflt;
    return out;
  }
  if (p->rank > rank) goto mismatch;
  for (int d = 0; d < p->rank; d++) {
    int64_t want = dims[d + rank - p->rank];
    if (p->dims[d] != 1 && p->dims[d] != want) goto mismatch;
  }
  aicc_iter it;
  aicc_iter_init(&it, dims, rank);
  aicc_iter_add_bcast(&it, p->dims, p->rank);
  for (int64_t i = 0; i < n; i++, aicc_iter_next(&it)) out[i] = aicc_tensor_get_f64(p, it.off[0]);
  return out;
mismatch:
  free(out);
  *bad = true;
  return NULL;
}

static bool float_input(const aicc_tensor *t) {
  return t && t->kind == AICC_KIND_TENSOR && aicc_dtype_is_float(t->dtype);
}

/* The common checks of the N x C x spatial normalisations: inputs
 * 0..n_float-1 are float tensors, X (input 0) has rank >= min_rank; *N, *C
 * and *S are X's batch, channels (1 for rank 1) and spatial size. */
static aicc_status ncs_dims(const aicc_kernel_ctx *c, int n_float, int min_rank, int64_t *N,
                            int64_t *C, int64_t *S) {
  for (int i = 0; i < n_float; i++)
    if (!float_input(c->in[i]))
      return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "input %d must be a float tensor", i);
  const aicc_tensor *X = c->in[0];
  if (X->rank < min_rank)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "input rank must be >= %d", min_rank);
  *N = X->dims[0], *C = X->rank > 1 ? X->dims[1] : 1, *S = 1;
  for (int d = 2; d < X->rank; d++) *S *= X->dims[d];
  return NULL;
}

static aicc_status oom(const aicc_kernel_ctx *c) {
  return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
}

static aicc_status wrap_node(aicc_status s, const aicc_node *n) {
  char buf[256];
  return aicc_status_wrap(s, "%s", aicc_node_describe(n, buf, sizeof buf));
}

/* Mean and (biased) variance of n values at stride 1. */
static void stats(const double *x, int64_t n, double *mean, double *var) {
  double s = 0.0;
  for (int64_t i = 0; i < n; i++) s += x[i];
  double m = n ? s / (double)n : 0.0, v = 0.0;
  for (int64_t i = 0; i < n; i++) v += (x[i] - m) * (x[i] - m);
  *mean = m;
  *var = n ? v / (double)n : 0.0;
}

/* ---- BatchNormalization ---- */

static aicc_status batchnorm_infer(aicc_infer_ctx *c) {
  if (!c->in[0]) return NULL;
  c->out[0] = *c->in[0];
  aicc_dim ch = aicc_infer_has_rank(c, 0) && c->in[0]->rank >= 2 ? c->in[0]->dims[1]
                                                                  : aicc_dim_unknown();
  for (int i = 1; i < c->n_out; i++) {
    const aicc_type *src = c->n_in > 3 && c->in[3] ? c->in[3] : c->in[0];
    aicc_infer_set(c, i, src->dtype, 1, &ch);
  }
  return NULL;
}

static aicc_status batchnorm_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *X = c->in[0];
  int64_t N, C, S;
  AICC_TRY(ncs_dims(c, 5, 1, &N, &C, &S));
  for (int i = 1; i < 5; i++)
    if (aicc_tensor_numel(c->in[i]) != C)
      return aicc_kernel_error(c, AICC_ERR_SHAPE, "input %d has %lld values, expected %lld", i,
                               (long long)aicc_tensor_numel(c->in[i]), (long long)C);
  float eps = aicc_node_attr_float(c->node, "epsilon", 1e-5f);
  float mom = aicc_node_attr_float(c->node, "momentum", 0.9f);
  bool training = c->opset >= 14 ? aicc_node_attr_int(c->node, "training_mode", 0) != 0
                                 : c->n_out > 1;
  aicc_tensor *Y;
  AICC_TRY(aicc_kernel_output(c, 0, X->dtype, X->rank, X->dims, &Y));
  double *x = aicc_conv_to_f64(X), *sc = aicc_conv_to_f64(c->in[1]),
         *b = aicc_conv_to_f64(c->in[2]);
  double *rm = aicc_conv_to_f64(c->in[3]), *rv = aicc_conv_to_f64(c->in[4]);
  double *bm = malloc(sizeof(double) * (size_t)(C ? C : 1));
  double *bv = malloc(sizeof(double) * (size_t)(C ? C : 1));
  aicc_status s = NULL;
  if (!x || !sc || !b || !rm || !rv || !bm || !bv) {
    s = oom(c);
    goto done;
  }
  if (training) {
    /* Batch statistics over N and the spatial dims (biased variance). */
    for (int64_t ch = 0; ch < C; ch++) {
      double sum = 0.0, sq = 0.0, cnt = (double)(N * S);
      for (int64_t n = 0; n < N; n++)
        for (int64_t i = 0; i < S; i++) sum += x[(n * C + ch) * S + i];
      double m = cnt > 0 ? sum / cnt : 0.0;
      for (int64_t n = 0; n < N; n++)
        for (int64_t i = 0; i < S; i++) {
          double d = x[(n * C + ch) * S + i] - m;
          sq += d * d;
        }
      bm[ch] = m;
      bv[ch] = cnt > 0 ? sq / cnt : 0.0;
    }
  } else {
    memcpy(bm, rm, sizeof(double) * (size_t)C);
    memcpy(bv, rv, sizeof(double) * (size_t)C);
  }
  for (int64_t n = 0; n < N; n++)
    for (int64_t ch = 0; ch < C; ch++) {
      double k = sc[ch] / sqrt(bv[ch] + eps), m = bm[ch], bb = b[ch];
      double *p = x + (n * C + ch) * S;
      for (int64_t i = 0; i < S; i++) p[i] = (p[i] - m) * k + bb;
    }
  aicc_conv_from_f64(Y, x);
  if (training) {
    /* Outputs 1, 2: running statistics updated with momentum; (opset < 14)
     * outputs 3, 4: the batch mean and variance. */
    const int64_t cd[1] = {C};
    for (int o = 1; o < c->n_out && o < 5; o++) {
      if (!c->want[o]) continue;
      aicc_tensor *t;
      s = aicc_kernel_output(c, o, c->in[3]->dtype, 1, cd, &t);
      if (s) goto done;
      for (int64_t ch = 0; ch < C; ch++) {
        double v = o == 1   ? rm[ch] * mom + bm[ch] * (1.0 - mom)
                   : o == 2 ? rv[ch] * mom + bv[ch] * (1.0 - mom)
                   : o == 3 ? bm[ch]
                            : bv[ch];
        aicc_tensor_set_f64(t, ch, v);
      }
    }
  }
done:
  free(x); free(sc); free(b); free(rm); free(rv); free(bm); free(bv);
  return s;
}

/* ---- Instance / Group normalisation: rows of (N*groups) x cols ---- */

/* Normalises rows of x in place: rows*cols values, each row to zero mean and
 * unit variance (with eps). */
static void rows_normalize(double *x, int64_t rows, int64_t cols, double eps) {
  for (int64_t r = 0; r < rows; r++) {
    double m, v;
    stats(x + r * cols, cols, &m, &v);
    double k = 1.0 / sqrt(v + eps);
    for (int64_t i = 0; i < cols; i++) x[r * cols + i] = (x[r * cols + i] - m) * k;
  }
}

/* Instance/Group normalisation inputs: scale (input 1) and bias (input 2,
 * called `bias` in the error) must have `want` values each. Creates output
 * 0 like X and loads X, scale and bias as doubles (caller frees). */
static aicc_status affine_load(aicc_kernel_ctx *c, int64_t want, const char *bias,
                               aicc_tensor **Y, double **x, double **sc, double **b) {
  const aicc_tensor *X = c->in[0];
  if (aicc_tensor_numel(c->in[1]) != want || aicc_tensor_numel(c->in[2]) != want)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "scale and %s must have %lld values", bias,
                             (long long)want);
  AICC_TRY(aicc_kernel_output(c, 0, X->dtype, X->rank, X->dims, Y));
  *x = aicc_conv_to_f64(X), *sc = aicc_conv_to_f64(c->in[1]), *b = aicc_conv_to_f64(c->in[2]);
  if (!*x || !*sc || !*b) {
    free(*x); free(*sc); free(*b);
    return oom(c);
  }
  return NULL;
}

static aicc_status instancenorm_kernel(aicc_kernel_ctx *c) {
  int64_t N, C, S;
  AICC_TRY(ncs_dims(c, 3, 2, &N, &C, &S));
  aicc_tensor *Y;
  double *x, *sc, *b;
  AICC_TRY(affine_load(c, C, "B", &Y, &x, &sc, &b));
  rows_normalize(x, N * C, S, aicc_node_attr_float(c->node, "epsilon", 1e-5f));
  for (int64_t r = 0; r < N * C; r++)
    for (int64_t i = 0; i < S; i++) x[r * S + i] = x[r * S + i] * sc[r % C] + b[r % C];
  aicc_conv_from_f64(Y, x);
  free(x); free(sc); free(b);
  return NULL;
}

static aicc_status groupnorm_kernel(aicc_kernel_ctx *c) {
  int64_t N, C, S;
  AICC_TRY(ncs_dims(c, 3, 2, &N, &C, &S));
  int64_t G = aicc_node_attr_int(c->node, "num_groups", 0);
  if (G <= 0 || C % G != 0)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "num_groups %lld does not divide %lld channels",
                             (long long)G, (long long)C);
  /* Opset 18 has one scale/bias per group; 21 one per channel. */
  bool per_channel = c->opset >= 21;
  int64_t want = per_channel ? C : G;
  aicc_tensor *Y;
  double *x, *sc, *b;
  AICC_TRY(affine_load(c, want, "bias", &Y, &x, &sc, &b));
  int64_t cpg = C / G;
  rows_normalize(x, N * G, cpg * S, aicc_node_attr_float(c->node, "epsilon", 1e-5f));
  for (int64_t n = 0; n < N; n++)
    for (int64_t ch = 0; ch < C; ch++) {
      int64_t k = per_channel ? ch : ch / cpg;
      double *p = x + (n * C + ch) * S;
      for (int64_t i = 0; i < S; i++) p[i] = p[i] * sc[k] + b[k];
    }
  aicc_conv_from_f64(Y, x);
  free(x); free(sc); free(b);
  return NULL;
}

/* ---- LayerNormalization / RMSNormalization ---- */

static aicc_dtype stash_dtype(const aicc_node *n) {
  int64_t st = aicc_node_attr_int(n, "stash_type", 1);
  return aicc_dtype_valid((int)st) && aicc_dtype_is_float((aicc_dtype)st) ? (aicc_dtype)st
                                                                          : AICC_DTYPE_F32;
}

static aicc_status layernorm_infer(aicc_infer_ctx *c) {
  if (!c->in[0]) return NULL;
  c->out[0] = *c->in[0];
  if (c->n_out < 2) return NULL;
  aicc_dtype st = stash_dtype(c->node);
  if (!aicc_infer_has_rank(c, 0)) {
    for (int i = 1; i < c->n_out; i++) aicc_infer_set(c, i, st, -1, NULL);
    return NULL;
  }
  const aicc_type *x = c->in[0];
  int64_t axis;
  aicc_status s = aicc_axis_norm(aicc_node_attr_int(c->node, "axis", -1), x->rank, &axis);
  if (s) return wrap_node(s, c->node);
  aicc_dim d[AICC_MAX_RANK];
  for (int i = 0; i < x->rank; i++) d[i] = i < axis ? x->dims[i] : aicc_dim_known(1);
  for (int i = 1; i < c->n_out; i++) aicc_infer_set(c, i, st, x->rank, d);
  return NULL;
}

/* Shared by LayerNormalization (rms=false) and RMSNormalization (rms=true):
 * rows are the dims before `axis`, the normalised block the dims from it. */
static aicc_status axis_norm_run(aicc_kernel_ctx *c, bool rms) {
  const aicc_tensor *X = c->in[0], *W = c->in[1];
  const aicc_tensor *B = !rms && c->n_in > 2 ? c->in[2] : NULL;
  if (!float_input(X) || !float_input(W) || (B && !float_input(B)))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "inputs must be float tensors");
  if (X->rank < 1) return aicc_kernel_error(c, AICC_ERR_SHAPE, "input rank must be >= 1");
  int64_t axis;
  aicc_status s = aicc_axis_norm(aicc_node_attr_int(c->node, "axis", -1), X->rank, &axis);
  if (s) return wrap_node(s, c->node);
  double eps = aicc_node_attr_float(c->node, "epsilon", 1e-5f);
  int64_t rows = 1, cols = 1;
  for (int d = 0; d < X->rank; d++) {
    if (d < axis) rows *= X->dims[d];
    else cols *= X->dims[d];
  }
  /* Scale and bias usually cover the normalised block; when they reach into
   * the leading dims they are expanded over the whole input. */
  int nr = X->rank - (int)axis;
  bool full = W->rank > nr || (B && B->rank > nr);
  const int64_t *pd = full ? X->dims : X->dims + axis;
  int prank = full ? X->rank : nr;
  aicc_tensor *Y;
  AICC_TRY(aicc_kernel_output(c, 0, X->dtype, X->rank, X->dims, &Y));
  bool bad1, bad2;
  double *x = aicc_conv_to_f64(X), *w = expand(W, pd, prank, 1.0, &bad1),
         *b = expand(B, pd, prank, 0.0, &bad2);
  double *mean = malloc(sizeof(double) * (size_t)(rows ? rows : 1));
  double *inv = malloc(sizeof(double) * (size_t)(rows ? rows : 1));
  if (bad1 || bad2) {
    s = aicc_kernel_error(c, AICC_ERR_SHAPE, "scale/bias cannot broadcast to the input");
    goto done;
  }
  if (!x || !w || !b || !mean || !inv) {
    s = oom(c);
    goto done;
  }
  for (int64_t r = 0; r < rows; r++) {
    double *p = x + r * cols;
    double m = 0.0, v;
    if (rms) {
      double sq = 0.0;
      for (int64_t i = 0; i < cols; i++) sq += p[i] * p[i];
      v = cols ? sq / (double)cols : 0.0;
    } else {
      stats(p, cols, &m, &v);
    }
    double k = 1.0 / sqrt(v + eps);
    const double *wr = full ? w + r * cols : w, *br = full ? b + r * cols : b;
    for (int64_t i = 0; i < cols; i++) p[i] = (p[i] - m) * k * wr[i] + br[i];
    mean[r] = m;
    inv[r] = k;
  }
  aicc_conv_from_f64(Y, x);
  if (!rms) {
    int64_t sd[AICC_MAX_RANK];
    for (int d = 0; d < X->rank; d++) sd[d] = d < axis ? X->dims[d] : 1;
    for (int o = 1; o < c->n_out && o < 3; o++) {
      if (!c->want[o]) continue;
      aicc_tensor *t;
      s = aicc_kernel_output(c, o, stash_dtype(c->node), X->rank, sd, &t);
      if (s) goto done;
      aicc_conv_from_f64(t, o == 1 ? mean : inv);
    }
  }
done:
  free(x); free(w); free(b); free(mean); free(inv);
  return s;
}

static aicc_status layernorm_kernel(aicc_kernel_ctx *c) { return axis_norm_run(c, false); }
static aicc_status rmsnorm_kernel(aicc_kernel_ctx *c) { return axis_norm_run(c, true); }

/* ---- LpNormalization ---- */

static aicc_status lpnorm_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *X = c->in[0];
  if (!float_input(X))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "input must be a float tensor");
  int64_t axis, p = aicc_node_attr_int(c->node, "p", 2);
  if (p != 1 && p != 2)
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "p must be 1 or 2, got %lld", (long long)p);
  aicc_status s = aicc_axis_norm(aicc_node_attr_int(c->node, "axis", -1), X->rank, &axis);
  if (s) return wrap_node(s, c->node);
  int64_t outer = 1, n = 1, inner = 1;
  for (int d = 0; d < X->rank; d++) {
    if (d < axis) outer *= X->dims[d];
    else if (d == axis) n = X->dims[d];
    else inner *= X->dims[d];
  }
  aicc_tensor *Y;
  AICC_TRY(aicc_kernel_output(c, 0, X->dtype, X->rank, X->dims, &Y));
  double *x = aicc_conv_to_f64(X);
  if (!x) return oom(c);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      double *q = x + o * n * inner + i, acc = 0.0;
      for (int64_t k = 0; k < n; k++) acc += p == 1 ? fabs(q[k * inner]) : q[k * inner] * q[k * inner];
      double norm = p == 1 ? acc : sqrt(acc);
      /* A zero norm gives a zero output (opset 22), not NaN. */
      for (int64_t k = 0; k < n; k++) q[k * inner] = norm == 0.0 ? 0.0 : q[k * inner] / norm;
    }
  aicc_conv_from_f64(Y, x);
  free(x);
  return NULL;
}

/* ---- MeanVarianceNormalization ---- */

static aicc_status mvn_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *X = c->in[0];
  if (!float_input(X))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "input must be a float tensor");
  int64_t n_axes;
  static const int64_t dflt[] = {0, 2, 3};
  const int64_t *axes = aicc_node_attr_ints(c->node, "axes", &n_axes);
  if (!axes) {
    axes = dflt;
    n_axes = 3;
  }
  bool mask[AICC_MAX_RANK] = {false};
  for (int64_t i = 0; i < n_axes; i++) {
    int64_t a;
    aicc_status s = aicc_axis_norm(axes[i], X->rank, &a);
    if (s) return wrap_node(s, c->node);
    mask[a] = true;
  }
  /* Statistics live in a keepdims-shaped buffer, indexed by broadcast. */
  int64_t sdims[AICC_MAX_RANK], sstr[AICC_MAX_RANK], sn = 1, cnt = 1;
  for (int d = 0; d < X->rank; d++) {
    sdims[d] = mask[d] ? 1 : X->dims[d];
    sn *= sdims[d];
    if (mask[d]) cnt *= X->dims[d];
  }
  aicc_broadcast_strides(sdims, X->rank, X->dims, X->rank, sstr);
  aicc_tensor *Y;
  AICC_TRY(aicc_kernel_output(c, 0, X->dtype, X->rank, X->dims, &Y));
  int64_t n = aicc_tensor_numel(X);
  double *x = aicc_conv_to_f64(X), *s1 = calloc((size_t)sn, sizeof(double)),
         *s2 = calloc((size_t)sn, sizeof(double));
  if (!x || !s1 || !s2) {
    free(x); free(s1); free(s2);
    return oom(c);
  }
  aicc_iter it;
  aicc_iter_init(&it, X->dims, X->rank);
  aicc_iter_add(&it, sstr);
  for (int64_t i = 0; i < n; i++, aicc_iter_next(&it)) {
    s1[it.off[0]] += x[i];
    s2[it.off[0]] += x[i] * x[i];
  }
  /* As the function body: (X - E[X]) / (sqrt(E[X^2] - E[X]^2) + 1e-9). */
  for (int64_t j = 0; j < sn; j++) {
    double m = s1[j] / (double)cnt, v = s2[j] / (double)cnt - m * m;
    s1[j] = m;
    s2[j] = sqrt(v > 0 ? v : 0) + 1e-9;
  }
  aicc_iter_init(&it, X->dims, X->rank);
  aicc_iter_add(&it, sstr);
  for (int64_t i = 0; i < n; i++, aicc_iter_next(&it))
    x[i] = (x[i] - s1[it.off[0]]) / s2[it.off[0]];
  aicc_conv_from_f64(Y, x);
  free(x); free(s1); free(s2);
  return NULL;
}

/* ---- LRN ---- */

static aicc_status lrn_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *X = c->in[0];
  if (!float_input(X))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "input must be a float tensor");
  if (X->rank < 2) return aicc_kernel_error(c, AICC_ERR_SHAPE, "input rank must be >= 2");
  int64_t size = aicc_node_attr_int(c->node, "size", 0);
  if (size <= 0) return aicc_kernel_error(c, AICC_ERR_INVALID, "size must be positive");
  double alpha = aicc_node_attr_float(c->node, "alpha", 1e-4f);
  double beta = aicc_node_attr_float(c->node, "beta", 0.75f);
  double bias = aicc_node_attr_float(c->node, "bias", 1.0f);
  int64_t N = X->dims[0], C = X->dims[1], S = 1;
  for (int d = 2; d < X->rank; d++) S *= X->dims[d];
  aicc_tensor *Y;
  AICC_TRY(aicc_kernel_output(c, 0, X->dtype, X->rank, X->dims, &Y));
  double *x = aicc_conv_to_f64(X),
         *y = malloc(sizeof(double) * (size_t)(N * C * S > 0 ? N * C * S : 1));
  if (!x || !y) {
    free(x); free(y);
    return oom(c);
  }
  /* Window over channels [c - floor((size-1)/2), c + ceil((size-1)/2)]. */
  int64_t lo = (size - 1) / 2, hi = size - 1 - lo;
  for (int64_t n = 0; n < N; n++)
    for (int64_t ch = 0; ch < C; ch++) {
      int64_t b = ch - lo < 0 ? 0 : ch - lo, e = ch + hi >= C ? C - 1 : ch + hi;
      for (int64_t i = 0; i < S; i++) {
        double sq = 0.0;
        for (int64_t k = b; k <= e; k++) {
          double v = x[(n * C + k) * S + i];
          sq += v * v;
        }
        int64_t at = (n * C + ch) * S + i;
        y[at] = x[at] / pow(bias + alpha / (double)size * sq, beta);
      }
    }
  aicc_conv_from_f64(Y, y);
  free(x); free(y);
  return NULL;
}

/* ---- table ---- */

static const aicc_attr_spec bn_attrs[] = {
    AICC_A_FLOAT("epsilon"), AICC_A_FLOAT("momentum"), AICC_A_INT("training_mode"),
    AICC_A_INT("is_test"),   AICC_A_INT("spatial"),    AICC_A_INTS("consumed_inputs"),
    AICC_A_END};
static const aicc_attr_spec in_attrs[] = {AICC_A_FLOAT("epsilon"),
                                          AICC_A_INTS("consumed_inputs"), AICC_A_END};
static const aicc_attr_spec ln_attrs[] = {AICC_A_INT("axis"), AICC_A_FLOAT("epsilon"),
                                          AICC_A_INT("stash_type"), AICC_A_END};
static const aicc_attr_spec gn_attrs[] = {
    {"num_groups", AICC_ATTR_INT, true}, AICC_A_FLOAT("epsilon"), AICC_A_INT("stash_type"),
    AICC_A_END};
static const aicc_attr_spec lp_attrs[] = {AICC_A_INT("axis"), AICC_A_INT("p"), AICC_A_END};
static const aicc_attr_spec mvn_attrs[] = {AICC_A_INTS("axes"), AICC_A_END};
static const aicc_attr_spec lrn_attrs[] = {
    AICC_A_FLOAT("alpha"), AICC_A_FLOAT("beta"), AICC_A_FLOAT("bias"),
    {"size", AICC_ATTR_INT, true}, AICC_A_END};

static const aicc_op ops[] = {
    /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
    {"BatchNormalization", "", 1, 0, 5, 5, 1, 5, bn_attrs, batchnorm_infer, batchnorm_kernel},
    {"InstanceNormalization", "", 1, 0, 3, 3, 1, 1, in_attrs, aicc_infer_same_as_input,
     instancenorm_kernel},
    {"LayerNormalization", "", 17, 0, 2, 3, 1, 3, ln_attrs, layernorm_infer, layernorm_kernel},
    {"GroupNormalization", "", 18, 0, 3, 3, 1, 1, gn_attrs, aicc_infer_same_as_input,
     groupnorm_kernel},
    {"RMSNormalization", "", 23, 0, 2, 2, 1, 1, ln_attrs, aicc_infer_same_as_input,
     rmsnorm_kernel},
    {"LpNormalization", "", 1, 0, 1, 1, 1, 1, lp_attrs, aicc_infer_same_as_input, lpnorm_kernel},
    {"MeanVarianceNormalization", "", 9, 0, 1, 1, 1, 1, mvn_attrs, aicc_infer_same_as_input,
     mvn_kernel},
    {"LRN", "", 1, 0, 1, 1, 1, 1, lrn_attrs, aicc_infer_same_as_input, lrn_kernel},
};

const aicc_op_family aicc_family_norm = {"norm", ops, sizeof ops / sizeof ops[0]};
