/* Recurrent layers: RNN, GRU and LSTM (ONNX gate layouts, every direction,
 * activation lists with alpha/beta, clip, sequence_lens, initial states,
 * peepholes, layout 0/1, GRU linear_before_reset). The kernel works in f32
 * (other float dtypes convert in and out); matrix-vector products run as
 * row updates over pre-transposed weights so the inner loop vectorizes. */
#include "ops/conv_util.h"
#include "ops/rnn_act.h"
#include "ops/util.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef aicc_rnn_cell rnn_kind;

static int rnn_gates(rnn_kind k) { return k == AICC_RNN_SIMPLE ? 1 : k == AICC_RNN_GRU ? 3 : 4; }

/* --- activations --- */

typedef aicc_rnn_act act;

/* Name, whether it takes alpha / beta, and their defaults. */
static const struct {
  const char *name;
  aicc_rnn_act_fn fn;
  bool has_alpha, has_beta;
  float alpha, beta;
} act_table[] = {
    {"relu", AICC_ACT_RELU, false, false, 0, 0},
    {"tanh", AICC_ACT_TANH, false, false, 0, 0},
    {"sigmoid", AICC_ACT_SIGMOID, false, false, 0, 0},
    {"affine", AICC_ACT_AFFINE, true, true, 1.0f, 0.0f},
    {"leakyrelu", AICC_ACT_LEAKY_RELU, true, false, 0.01f, 0},
    {"thresholdedrelu", AICC_ACT_THRESHOLDED_RELU, true, false, 1.0f, 0},
    {"scaledtanh", AICC_ACT_SCALED_TANH, true, true, 1.0f, 1.0f},
    {"hardsigmoid", AICC_ACT_HARD_SIGMOID, true, true, 0.2f, 0.5f},
    {"elu", AICC_ACT_ELU, true, false, 1.0f, 0},
    {"softsign", AICC_ACT_SOFTSIGN, false, false, 0, 0},
    {"softplus", AICC_ACT_SOFTPLUS, false, false, 0, 0},
};

static inline float act_apply(const act *a, float x) {
  switch (a->fn) {
  case AICC_ACT_RELU: return x > 0 ? x : 0;
  case AICC_ACT_TANH: return tanhf(x);
  case AICC_ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
  case AICC_ACT_AFFINE: return a->alpha * x + a->beta;
  case AICC_ACT_LEAKY_RELU: return x >= 0 ? x : a->alpha * x;
  case AICC_ACT_THRESHOLDED_RELU: return x > a->alpha ? x : 0;
  case AICC_ACT_SCALED_TANH: return a->alpha * tanhf(a->beta * x);
  case AICC_ACT_HARD_SIGMOID: {
    float v = a->alpha * x + a->beta;
    return v < 0 ? 0 : v > 1 ? 1 : v;
  }
  case AICC_ACT_ELU: return x >= 0 ? x : a->alpha * (expf(x) - 1.0f);
  case AICC_ACT_SOFTSIGN: return x / (1.0f + fabsf(x));
  case AICC_ACT_SOFTPLUS: return x > 20 ? x : log1pf(expf(x));
  }
  return x;
}

/* ops/rnn_act.h: the one reader of the activation attributes. */
aicc_status aicc_rnn_read_acts(const aicc_node *n, aicc_rnn_cell kind, int ndir, aicc_rnn_act *out) {
  static const char *defaults[3][3] = {{"tanh"}, {"sigmoid", "tanh"}, {"sigmoid", "tanh", "tanh"}};
  int per = aicc_rnn_nact(kind);
  const aicc_attr *names = aicc_node_attr(n, "activations");
  int64_t na = 0, nb = 0;
  const float *alphas = aicc_node_attr_floats(n, "activation_alpha", &na);
  const float *betas = aicc_node_attr_floats(n, "activation_beta", &nb);
  int64_t ai = 0, bi = 0;
  int64_t given = names && names->kind == AICC_ATTR_STRINGS ? names->n : 0;
  if (given && given != per && given != per * ndir)
    return aicc_errorf(AICC_ERR_INVALID, "activations has %lld entries, expected %d",
                       (long long)given, per * ndir);
  for (int i = 0; i < per * ndir; i++) {
    const char *s = given ? names->ss[given == per ? i % per : i].s : defaults[kind][i % per];
    char low[32];
    size_t k = 0;
    for (; s[k] && k + 1 < sizeof low; k++) low[k] = (char)tolower((unsigned char)s[k]);
    low[k] = 0;
    size_t t = 0, nt = sizeof act_table / sizeof act_table[0];
    while (t < nt && strcmp(act_table[t].name, low) != 0) t++;
    if (t == nt) return aicc_errorf(AICC_ERR_UNSUPPORTED, "unknown activation '%s'", s);
    out[i].fn = act_table[t].fn;
    out[i].alpha = act_table[t].alpha;
    out[i].beta = act_table[t].beta;
    if (act_table[t].has_alpha && alphas && ai < na) out[i].alpha = alphas[ai++];
    if (act_table[t].has_beta && betas && bi < nb) out[i].beta = betas[bi++];
  }
  return NULL;
}

static int rnn_num_dirs(const aicc_node *n, bool *reverse, bool *ok) {
  const char *d = aicc_node_attr_string(n, "direction", "forward");
  *ok = true;
  *reverse = false;
  if (strcmp(d, "forward") == 0) return 1;
  if (strcmp(d, "reverse") == 0) {
    *reverse = true;
    return 1;
  }
  if (strcmp(d, "bidirectional") == 0) return 2;
  *ok = false;
  return 1;
}

/* --- inference --- */

static aicc_status rnn_infer_kind(aicc_infer_ctx *c, rnn_kind kind) {
  const aicc_type *x = c->in[0];
  aicc_dtype dt = x ? x->dtype : AICC_DTYPE_UNDEFINED;
  bool rev, ok;
  int ndir = rnn_num_dirs(c->node, &rev, &ok);
  if (!ok) return aicc_infer_error(c, AICC_ERR_INVALID, "unknown direction");
  int64_t hs = aicc_node_attr_int(c->node, "hidden_size", -1);
  aicc_dim H = hs > 0 ? aicc_dim_known(hs) : aicc_dim_unknown();
  if (hs <= 0 && aicc_infer_has_rank(c, 2) && c->in[2]->rank == 3) H = c->in[2]->dims[2];
  bool batch_first = aicc_node_attr_int(c->node, "layout", 0) != 0;
  aicc_dim T = aicc_dim_unknown(), B = aicc_dim_unknown(), D = aicc_dim_known(ndir);
  if (aicc_infer_has_rank(c, 0)) {
    if (x->rank != 3) return aicc_infer_error(c, AICC_ERR_SHAPE, "X must have rank 3");
    T = x->dims[batch_first ? 1 : 0];
    B = x->dims[batch_first ? 0 : 1];
  }
  aicc_dim y[4], yh[3];
  if (batch_first) {
    y[0] = B, y[1] = T, y[2] = D, y[3] = H;
    yh[0] = B, yh[1] = D, yh[2] = H;
  } else {
    y[0] = T, y[1] = D, y[2] = B, y[3] = H;
    yh[0] = D, yh[1] = B, yh[2] = H;
  }
  if (c->n_out > 0) aicc_infer_set(c, 0, dt, 4, y);
  for (int i = 1; i < c->n_out; i++) aicc_infer_set(c, i, dt, 3, yh);
  (void)kind;
  return NULL;
}

static aicc_status rnn_infer(aicc_infer_ctx *c) { return rnn_infer_kind(c, AICC_RNN_SIMPLE); }
static aicc_status gru_infer(aicc_infer_ctx *c) { return rnn_infer_kind(c, AICC_RNN_GRU); }
static aicc_status lstm_infer(aicc_infer_ctx *c) { return rnn_infer_kind(c, AICC_RNN_LSTM); }

/* --- kernel --- */

static void from_f32(aicc_tensor *t, const float *v) {
  int64_t n = aicc_tensor_numel(t);
  if (t->dtype == AICC_DTYPE_F32) memcpy(t->data, v, sizeof *v * (size_t)n);
  else
    for (int64_t i = 0; i < n; i++) aicc_tensor_set_f64(t, i, v[i]);
}

/* Eight floats as one value: GCC/Clang lower it to whatever SIMD width the
 * target has, so the update loop vectorizes at -O2 without -ffast-math. */
typedef float rnn_v8 __attribute__((vector_size(32)));

/* Unaligned load (a macro: passing vectors by value draws -Wpsabi). */
#define V8_LOAD(v, p) memcpy(&(v), (p), sizeof(rnn_v8))

/* For each of nb vectors v_b (row b of V, stride ldv):
 *   out_b[j - c0] += sum_k v_b[k] * Mt[k * ld + j],  j in [c0, c1)
 * a batch of vector-matrix products over a transposed weight (row per
 * input). Four weight rows are combined per pass so each output element is
 * loaded and stored once per four rows, and the rows stay in cache across
 * the batch. */
static void vec_mat(float *out, int64_t ldo, const float *V, int64_t ldv, int64_t nb,
                    int64_t n, const float *Mt, int64_t ld, int64_t c0, int64_t c1) {
  int64_t w = c1 - c0, k = 0;
  for (; k + 4 <= n; k += 4) {
    const float *r0 = Mt + k * ld + c0, *r1 = r0 + ld, *r2 = r1 + ld, *r3 = r2 + ld;
    for (int64_t b = 0; b < nb; b++) {
      const float *v = V + b * ldv + k;
      float s0 = v[0], s1 = v[1], s2 = v[2], s3 = v[3];
      float *o = out + b * ldo;
      int64_t j = 0;
      for (; j + 8 <= w; j += 8) {
        rnn_v8 acc, a0, a1, a2, a3;
        V8_LOAD(acc, o + j);
        V8_LOAD(a0, r0 + j);
        V8_LOAD(a1, r1 + j);
        V8_LOAD(a2, r2 + j);
        V8_LOAD(a3, r3 + j);
        acc += s0 * a0 + s1 * a1 + s2 * a2 + s3 * a3;
        memcpy(o + j, &acc, sizeof acc);
      }
      for (; j < w; j++) o[j] += s0 * r0[j] + s1 * r1[j] + s2 * r2[j] + s3 * r3[j];
    }
  }
  for (; k < n; k++) {
    const float *r0 = Mt + k * ld + c0;
    for (int64_t b = 0; b < nb; b++) {
      float s0 = V[b * ldv + k], *o = out + b * ldo;
      for (int64_t j = 0; j < w; j++) o[j] += s0 * r0[j];
    }
  }
}

/* Transposes src [rows][cols] (row-major) to dst [cols][rows]. */
static void transpose(float *dst, const float *src, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; r++)
    for (int64_t k = 0; k < cols; k++) dst[k * rows + r] = src[r * cols + k];
}

static inline float clipf(float x, float c) { return x > c ? c : x < -c ? -c : x; }

typedef struct rnn_problem {
  rnn_kind kind;
  int ndir;
  bool reverse_only, batch_first, lbr, input_forget;
  int64_t T, B, I, H, G;
  float clip;
  act acts[6];
} rnn_problem;

static aicc_status rnn_kernel_kind(aicc_kernel_ctx *c, rnn_kind kind) {
  const aicc_tensor *X = c->in[0], *W = c->in[1], *R = c->in[2];
  const aicc_tensor *Bt = c->n_in > 3 ? c->in[3] : NULL;
  const aicc_tensor *SL = c->n_in > 4 ? c->in[4] : NULL;
  const aicc_tensor *H0 = c->n_in > 5 ? c->in[5] : NULL;
  const aicc_tensor *C0 = kind == AICC_RNN_LSTM && c->n_in > 6 ? c->in[6] : NULL;
  const aicc_tensor *P = kind == AICC_RNN_LSTM && c->n_in > 7 ? c->in[7] : NULL;
  if (!aicc_dtype_is_float(X->dtype))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "X of dtype %s", aicc_dtype_text(X->dtype));
  rnn_problem p = {.kind = kind};
  bool ok;
  p.ndir = rnn_num_dirs(c->node, &p.reverse_only, &ok);
  if (!ok) return aicc_kernel_error(c, AICC_ERR_INVALID, "unknown direction");
  p.batch_first = aicc_node_attr_int(c->node, "layout", 0) != 0;
  p.lbr = aicc_node_attr_int(c->node, "linear_before_reset", 0) != 0;
  p.input_forget = aicc_node_attr_int(c->node, "input_forget", 0) != 0;
  p.clip = aicc_node_attr(c->node, "clip") ? aicc_node_attr_float(c->node, "clip", FLT_MAX) : FLT_MAX;
  p.G = rnn_gates(kind);
  if (X->rank != 3 || W->rank != 3 || R->rank != 3)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "X, W and R must have rank 3");
  p.T = X->dims[p.batch_first ? 1 : 0];
  p.B = X->dims[p.batch_first ? 0 : 1];
  p.I = X->dims[2];
  p.H = R->dims[2];
  int64_t hs = aicc_node_attr_int(c->node, "hidden_size", p.H);
  int64_t T = p.T, B = p.B, I = p.I, H = p.H, G = p.G, D = p.ndir, GH = G * H;
  if (hs != H || W->dims[0] != D || R->dims[0] != D || W->dims[1] != GH || W->dims[2] != I ||
      R->dims[1] != GH)
    return aicc_kernel_error(c, AICC_ERR_SHAPE,
                             "weights do not match: W [%lld,%lld,%lld], R [%lld,%lld,%lld], "
                             "expected %lld directions, %lld gates of hidden size %lld, input %lld",
                             (long long)W->dims[0], (long long)W->dims[1], (long long)W->dims[2],
                             (long long)R->dims[0], (long long)R->dims[1], (long long)R->dims[2],
                             (long long)D, (long long)G, (long long)hs, (long long)I);
  if (Bt && aicc_tensor_numel(Bt) != D * 2 * GH)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "B must be [%lld, %lld]", (long long)D, (long long)(2 * GH));
  if (SL && aicc_tensor_numel(SL) != B)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "sequence_lens must have %lld entries", (long long)B);
  if (H0 && aicc_tensor_numel(H0) != D * B * H)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "initial_h has the wrong size");
  if (C0 && aicc_tensor_numel(C0) != D * B * H)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "initial_c has the wrong size");
  if (P && aicc_tensor_numel(P) != D * 3 * H)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "P must be [%lld, %lld]", (long long)D, (long long)(3 * H));
  aicc_status s = aicc_rnn_read_acts(c->node, kind, (int)D, p.acts);
  if (s) {
    aicc_status e = aicc_kernel_error(c, aicc_status_code(s), "%s", aicc_status_message(s));
    aicc_status_free(s);
    return e;
  }
  int64_t *lens = malloc(sizeof *lens * (size_t)(B + 1));
  if (!lens) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  for (int64_t b = 0; b < B; b++) {
    lens[b] = SL ? aicc_tensor_get_i64(SL, b) : T;
    if (lens[b] < 0 || lens[b] > T) {
      long long bad = (long long)lens[b];
      free(lens);
      return aicc_kernel_error(c, AICC_ERR_INVALID, "sequence length %lld out of range [0, %lld]",
                               bad, (long long)T);
    }
  }

  /* Outputs (created zeroed: steps past a sequence's length stay zero). */
  int64_t ydims[4], hdims[3];
  if (p.batch_first) {
    ydims[0] = B, ydims[1] = T, ydims[2] = D, ydims[3] = H;
    hdims[0] = B, hdims[1] = D, hdims[2] = H;
  } else {
    ydims[0] = T, ydims[1] = D, ydims[2] = B, ydims[3] = H;
    hdims[0] = D, hdims[1] = B, hdims[2] = H;
  }
  float *x = aicc_conv_to_f32(X), *w = aicc_conv_to_f32(W), *r = aicc_conv_to_f32(R);
  float *bias = Bt ? aicc_conv_to_f32(Bt) : calloc((size_t)(D * 2 * GH), sizeof(float));
  float *h0 = H0 ? aicc_conv_to_f32(H0) : NULL, *c0 = C0 ? aicc_conv_to_f32(C0) : NULL;
  float *pp = P ? aicc_conv_to_f32(P) : NULL;
  float *y = calloc((size_t)(T * D * B * H + 1), sizeof(float));
  float *yh = calloc((size_t)(D * B * H + 1), sizeof(float));
  float *yc = calloc((size_t)(D * B * H + 1), sizeof(float));
  float *wt = malloc(sizeof(float) * (size_t)(I * GH + 1));
  float *rt = malloc(sizeof(float) * (size_t)(H * GH + 1));
  float *xw = malloc(sizeof(float) * (size_t)(T * B * GH + 1));
  float *hr = malloc(sizeof(float) * (size_t)(B * GH + 1));
  float *tmp = malloc(sizeof(float) * (size_t)(B * H + 1));
  float *hbuf = malloc(sizeof(float) * (size_t)(B * H + 1));
  float *cbuf = malloc(sizeof(float) * (size_t)(B * H + 1));
  s = NULL;
  if (!x || !w || !r || !bias || (H0 && !h0) || (C0 && !c0) || (P && !pp) || !y || !yh || !yc ||
      !wt || !rt || !xw || !hr || !tmp || !hbuf || !cbuf)
    s = aicc_errorf(AICC_ERR_NOMEM, "out of memory");

  for (int64_t d = 0; d < D && !s; d++) {
    bool reverse = p.reverse_only || d == 1;
    const act *f = &p.acts[d * aicc_rnn_nact(kind)];
    const float *wb = bias + d * 2 * GH, *rb = wb + GH;
    transpose(wt, w + d * GH * I, GH, I);
    transpose(rt, r + d * GH * H, GH, H);
    /* Input projections for every step: xw = x W^T + Wb. */
    for (int64_t t = 0; t < T; t++)
      for (int64_t b = 0; b < B; b++) {
        float *row = xw + (t * B + b) * GH;
        memcpy(row, wb, sizeof(float) * (size_t)GH);
        const float *xr = x + (p.batch_first ? (b * T + t) : (t * B + b)) * I;
        vec_mat(row, 0, xr, 0, 1, I, wt, GH, 0, GH);
      }
    for (int64_t b = 0; b < B; b++)
      for (int64_t j = 0; j < H; j++) {
        int64_t hi = p.batch_first ? (b * D + d) * H + j : (d * B + b) * H + j;
        hbuf[b * H + j] = h0 ? h0[hi] : 0;
        cbuf[b * H + j] = c0 ? c0[hi] : 0;
      }
    const float *pi = pp ? pp + d * 3 * H : NULL, *po = pi ? pi + H : NULL, *pf = pi ? pi + 2 * H : NULL;
    /* GRU without linear_before_reset applies R_h to r . h, so its first
     * pass covers only the z and r columns. */
    int64_t ncols = kind == AICC_RNN_GRU && !p.lbr ? 2 * H : GH;
    for (int64_t st = 0; st < T; st++) {
      /* Recurrent projections of every batch entry at once: hr = h R^T + Rb
       * (entries already past their length are computed and ignored). */
      for (int64_t b = 0; b < B; b++) memcpy(hr + b * GH, rb, sizeof(float) * (size_t)GH);
      vec_mat(hr, GH, hbuf, H, B, H, rt, GH, 0, ncols);
      if (kind == AICC_RNN_GRU) {
        /* z into tmp, r in place over its projection */
        for (int64_t b = 0; b < B; b++) {
          if (st >= lens[b]) continue;
          int64_t t = reverse ? lens[b] - 1 - st : st;
          const float *xg = xw + (t * B + b) * GH;
          float *hrb = hr + b * GH, *zg = tmp + b * H, *rg = hrb + H;
          for (int64_t j = 0; j < H; j++) zg[j] = act_apply(&f[0], clipf(xg[j] + hrb[j], p.clip));
          for (int64_t j = 0; j < H; j++) rg[j] = act_apply(&f[0], clipf(xg[H + j] + rg[j], p.clip));
          if (!p.lbr) {
            /* r . h goes in the (now free) z block; the h block restarts at Rb_h */
            for (int64_t j = 0; j < H; j++) hrb[j] = rg[j] * hbuf[b * H + j];
          }
        }
        if (!p.lbr) vec_mat(hr + 2 * H, GH, hr, GH, B, H, rt, GH, 2 * H, GH);
      }
      for (int64_t b = 0; b < B; b++) {
        if (st >= lens[b]) continue;
        int64_t t = reverse ? lens[b] - 1 - st : st;
        float *hp = hbuf + b * H, *cp = cbuf + b * H, *hrb = hr + b * GH;
        const float *xg = xw + (t * B + b) * GH;
        if (kind == AICC_RNN_SIMPLE) {
          for (int64_t j = 0; j < H; j++) hp[j] = act_apply(&f[0], clipf(xg[j] + hrb[j], p.clip));
        } else if (kind == AICC_RNN_GRU) {
          const float *zg = tmp + b * H, *rg = hrb + H, *hh = hrb + 2 * H;
          for (int64_t j = 0; j < H; j++) {
            /* default: (r . h) R_h^T + Rb_h; linear_before_reset: r . (h R_h^T + Rb_h) */
            float pre = p.lbr ? xg[2 * H + j] + rg[j] * hh[j] : xg[2 * H + j] + hh[j];
            float hc = act_apply(&f[1], clipf(pre, p.clip));
            hp[j] = (1.0f - zg[j]) * hc + zg[j] * hp[j];
          }
        } else {
          /* gates i, o, f, c */
          for (int64_t j = 0; j < H; j++) {
            float cprev = cp[j];
            float ig = act_apply(&f[0], clipf(xg[j] + hrb[j] + (pi ? pi[j] * cprev : 0), p.clip));
            float fg = act_apply(
                &f[0], clipf(xg[2 * H + j] + hrb[2 * H + j] + (pf ? pf[j] * cprev : 0), p.clip));
            if (p.input_forget) fg = 1.0f - ig;
            float cg = act_apply(&f[1], clipf(xg[3 * H + j] + hrb[3 * H + j], p.clip));
            float cn = fg * cprev + ig * cg;
            float og =
                act_apply(&f[0], clipf(xg[H + j] + hrb[H + j] + (po ? po[j] * cn : 0), p.clip));
            cp[j] = cn;
            hp[j] = og * act_apply(&f[2], cn);
          }
        }
        float *yo = y + (p.batch_first ? ((b * T + t) * D + d) * H : ((t * D + d) * B + b) * H);
        memcpy(yo, hp, sizeof(float) * (size_t)H);
      }
    }
    for (int64_t b = 0; b < B; b++) {
      int64_t o = p.batch_first ? (b * D + d) * H : (d * B + b) * H;
      memcpy(yh + o, hbuf + b * H, sizeof(float) * (size_t)H);
      memcpy(yc + o, cbuf + b * H, sizeof(float) * (size_t)H);
    }
  }

  aicc_tensor *out;
  if (!s && c->n_out > 0 && c->want[0] && !(s = aicc_kernel_output(c, 0, X->dtype, 4, ydims, &out)))
    from_f32(out, y);
  if (!s && c->n_out > 1 && c->want[1] && !(s = aicc_kernel_output(c, 1, X->dtype, 3, hdims, &out)))
    from_f32(out, yh);
  if (!s && c->n_out > 2 && c->want[2] && !(s = aicc_kernel_output(c, 2, X->dtype, 3, hdims, &out)))
    from_f32(out, yc);
  free(lens);
  free(x);
  free(w);
  free(r);
  free(bias);
  free(h0);
  free(c0);
  free(pp);
  free(y);
  free(yh);
  free(yc);
  free(wt);
  free(rt);
  free(xw);
  free(hr);
  free(tmp);
  free(hbuf);
  free(cbuf);
  return s;
}

static aicc_status rnn_kernel(aicc_kernel_ctx *c) { return rnn_kernel_kind(c, AICC_RNN_SIMPLE); }
static aicc_status gru_kernel(aicc_kernel_ctx *c) { return rnn_kernel_kind(c, AICC_RNN_GRU); }
static aicc_status lstm_kernel(aicc_kernel_ctx *c) { return rnn_kernel_kind(c, AICC_RNN_LSTM); }

/* --- the table --- */

#define RNN_COMMON_ATTRS                                                       \
  AICC_A_FLOATS("activation_alpha"), AICC_A_FLOATS("activation_beta"),         \
      AICC_A_STRINGS("activations"), AICC_A_FLOAT("clip"),                     \
      AICC_A_STRING("direction"), AICC_A_INT("hidden_size"),                   \
      AICC_A_INT("layout"), AICC_A_INT("output_sequence")

static const aicc_attr_spec rnn_attrs[] = {RNN_COMMON_ATTRS, AICC_A_END};
static const aicc_attr_spec gru_attrs[] = {RNN_COMMON_ATTRS, AICC_A_INT("linear_before_reset"),
                                           AICC_A_END};
static const aicc_attr_spec lstm_attrs[] = {RNN_COMMON_ATTRS, AICC_A_INT("input_forget"),
                                            AICC_A_END};

static const aicc_op ops[] = {
  /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
  {"RNN", "", 1, 0, 3, 6, 0, 2, rnn_attrs, rnn_infer, rnn_kernel},
  {"GRU", "", 1, 0, 3, 6, 0, 2, gru_attrs, gru_infer, gru_kernel},
  {"LSTM", "", 1, 0, 3, 8, 0, 3, lstm_attrs, lstm_infer, lstm_kernel},
};
const aicc_op_family aicc_family_rnn = {"rnn", ops, sizeof ops / sizeof ops[0]};
