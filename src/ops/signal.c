/* Signal processing ops: DFT, STFT, the Hann/Hamming/Blackman windows and
 * MelWeightMatrix. Complex values are a trailing dim of 2 (re, im); a real
 * signal has a trailing dim of 1. Transforms are direct O(n^2) sums in
 * double: the reference, not the fast path. */
#include "ops/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

/* out[k] = sum_j in[j] * e^(sign * 2*pi*i*j*k/n) for k < n_out, where in has
 * n_in <= n entries (zero padded to n). */
static void dft_direct(const double *re, const double *im, int64_t n_in, int64_t n,
                       int64_t n_out, double sign, double *ore, double *oim) {
  for (int64_t k = 0; k < n_out; k++) {
    double sr = 0, si = 0;
    for (int64_t j = 0; j < n_in && j < n; j++) {
      double a = sign * 2 * PI * (double)((j * k) % n) / (double)n;
      double c = cos(a), s = sin(a);
      sr += re[j] * c - im[j] * s;
      si += re[j] * s + im[j] * c;
    }
    ore[k] = sr;
    oim[k] = si;
  }
}

/* --- DFT --- */

typedef struct dft_params {
  int64_t axis, n;
  bool inverse, onesided;
} dft_params;

static aicc_status dft_params_get(const aicc_node *nd, int opset, const aicc_tensor *const *cin,
                                  int n_in, int rank, const aicc_dim *dims, dft_params *p,
                                  bool *known) {
  *known = true;
  int64_t axis = opset >= 20 ? -2 : aicc_node_attr_int(nd, "axis", 1);
  if (opset >= 20 && n_in > 2 && cin[2]) axis = aicc_tensor_get_i64(cin[2], 0);
  else if (opset >= 20 && n_in > 2 && !cin[2] && nd->inputs[2]) *known = false;
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank - 1)
    return aicc_errorf(AICC_ERR_SHAPE, "DFT axis %lld is out of range", (long long)axis);
  p->axis = axis;
  p->inverse = aicc_node_attr_int(nd, "inverse", 0) != 0;
  p->onesided = aicc_node_attr_int(nd, "onesided", 0) != 0;
  if (n_in > 1 && nd->inputs[1]) {
    if (cin[1]) p->n = aicc_tensor_get_i64(cin[1], 0);
    else *known = false;
  } else if (!aicc_dim_is_known(dims[axis])) {
    *known = false;
  } else {
    p->n = p->inverse && p->onesided ? 2 * (dims[axis].size - 1) : dims[axis].size;
  }
  if (*known && p->n < 1) return aicc_errorf(AICC_ERR_INVALID, "DFT length must be positive");
  return NULL;
}

static aicc_status dft_infer(aicc_infer_ctx *c) {
  if (!aicc_infer_has_rank(c, 0)) return NULL;
  const aicc_type *x = c->in[0];
  dft_params p;
  bool known;
  aicc_status s = dft_params_get(c->node, c->opset, c->cin, c->n_in, x->rank, x->dims, &p, &known);
  if (s) return aicc_status_wrap(s, "%s", c->node->name);
  aicc_dim d[AICC_MAX_RANK];
  memcpy(d, x->dims, sizeof(aicc_dim) * (size_t)x->rank);
  if (!known) {
    aicc_infer_set(c, 0, x->dtype, x->rank, NULL);
    return NULL;
  }
  bool irfft = p.inverse && p.onesided;
  d[p.axis] = aicc_dim_known(p.onesided && !p.inverse ? p.n / 2 + 1 : p.n);
  d[x->rank - 1] = aicc_dim_known(irfft ? 1 : 2);
  aicc_infer_set(c, 0, x->dtype, x->rank, d);
  return NULL;
}

static aicc_status dft_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *x = c->in[0];
  if (x->rank < 2 || (x->dims[x->rank - 1] != 1 && x->dims[x->rank - 1] != 2))
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "input must end in a dim of 1 (real) or 2 (complex)");
  aicc_type t = aicc_type_of(x);
  dft_params p;
  bool known;
  aicc_status s = dft_params_get(c->node, c->opset, (const aicc_tensor *const *)c->in, c->n_in,
                                 x->rank, t.dims, &p, &known);
  if (s) return aicc_kernel_error(c, aicc_status_code(s), "%s", aicc_status_message(s));
  bool complex_in = x->dims[x->rank - 1] == 2, irfft = p.inverse && p.onesided;
  int64_t L = x->dims[p.axis], n = p.n;
  int64_t n_out = p.onesided && !p.inverse ? n / 2 + 1 : n;
  int64_t odims[AICC_MAX_RANK];
  memcpy(odims, x->dims, sizeof(int64_t) * (size_t)x->rank);
  odims[p.axis] = n_out;
  odims[x->rank - 1] = irfft ? 1 : 2;
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, x->rank, odims, &y));
  /* Strides (in complex/real elements) of the signal axis and the outer index. */
  int64_t inner = 1;
  for (int d = (int)p.axis + 1; d < x->rank - 1; d++) inner *= x->dims[d];
  int64_t outer = 1;
  for (int d = 0; d < p.axis; d++) outer *= x->dims[d];
  int64_t cin_w = complex_in ? 2 : 1, cout_w = irfft ? 1 : 2;
  int64_t buf_n = (n > L ? n : L) + 1;
  double *re = calloc((size_t)buf_n * 4, sizeof *re);
  if (!re) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  double *im = re + buf_n, *ore = im + buf_n, *oim = ore + buf_n;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      int64_t m = L < n ? L : n;
      memset(re, 0, sizeof *re * (size_t)buf_n * 2);
      for (int64_t j = 0; j < L; j++) {
        int64_t e = ((o * L + j) * inner + i) * cin_w;
        re[j] = aicc_tensor_get_f64(x, e);
        im[j] = complex_in ? aicc_tensor_get_f64(x, e + 1) : 0;
      }
      if (irfft) {
        /* Rebuild the Hermitian spectrum from the one-sided half. */
        for (int64_t k = 0; k < n; k++) {
          int64_t h = k <= n / 2 ? k : n - k;
          bool conj = k > n / 2;
          double r = h < L ? re[h] : 0, q = h < L ? im[h] : 0;
          if (h == 0 || (n % 2 == 0 && h == n / 2)) q = 0;
          ore[k] = r;
          oim[k] = conj ? -q : q;
        }
        memcpy(re, ore, sizeof *re * (size_t)n);
        memcpy(im, oim, sizeof *im * (size_t)n);
        m = n;
      }
      dft_direct(re, im, m, n, n_out, p.inverse ? 1.0 : -1.0, ore, oim);
      for (int64_t k = 0; k < n_out; k++) {
        int64_t e = ((o * n_out + k) * inner + i) * cout_w;
        double scale = p.inverse ? 1.0 / (double)n : 1.0;
        aicc_tensor_set_f64(y, e, ore[k] * scale);
        if (!irfft) aicc_tensor_set_f64(y, e + 1, oim[k] * scale);
      }
    }
  free(re);
  return NULL;
}

/* --- STFT --- */

static aicc_status stft_shape(const aicc_tensor *const *cin, const aicc_type *x,
                              const aicc_type *window, bool has_fl, bool onesided,
                              int64_t *frames, int64_t *bins, int64_t *fl_out, bool *known) {
  *known = false;
  if (x->rank != 3 || !aicc_dim_is_known(x->dims[1]) || !cin[1]) return NULL;
  int64_t step = aicc_tensor_get_i64(cin[1], 0), fl;
  if (has_fl) {
    if (!cin[3]) return NULL;
    fl = aicc_tensor_get_i64(cin[3], 0);
  } else if (window && window->rank == 1 && aicc_dim_is_known(window->dims[0])) {
    fl = window->dims[0].size;
  } else {
    return NULL;
  }
  if (step < 1 || fl < 1 || fl > x->dims[1].size)
    return aicc_errorf(AICC_ERR_INVALID, "STFT frame_step %lld / frame_length %lld do not fit a "
                       "signal of %lld", (long long)step, (long long)fl, (long long)x->dims[1].size);
  *frames = 1 + (x->dims[1].size - fl) / step;
  *bins = onesided ? fl / 2 + 1 : fl;
  *fl_out = fl;
  *known = true;
  return NULL;
}

static aicc_status stft_infer(aicc_infer_ctx *c) {
  if (!aicc_infer_has_rank(c, 0)) return NULL;
  const aicc_type *x = c->in[0];
  bool onesided = aicc_node_attr_int(c->node, "onesided", 1) != 0;
  bool has_fl = c->n_in > 3 && c->in[3];
  const aicc_type *w = c->n_in > 2 ? c->in[2] : NULL;
  int64_t frames, bins, fl;
  bool known;
  aicc_status s = stft_shape(c->cin, x, w, has_fl, onesided, &frames, &bins, &fl, &known);
  if (s) return aicc_status_wrap(s, "%s", c->node->name);
  aicc_dim d[4] = {x->dims[0], aicc_dim_unknown(), aicc_dim_unknown(), aicc_dim_known(2)};
  if (known) {
    d[1] = aicc_dim_known(frames);
    d[2] = aicc_dim_known(bins);
  }
  aicc_infer_set(c, 0, x->dtype, 4, d);
  return NULL;
}

static aicc_status stft_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *x = c->in[0];
  const aicc_tensor *w = c->n_in > 2 ? c->in[2] : NULL;
  if (x->rank != 3 || (x->dims[2] != 1 && x->dims[2] != 2))
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "signal must be [batch, length, 1 or 2]");
  bool onesided = aicc_node_attr_int(c->node, "onesided", 1) != 0;
  aicc_type xt = aicc_type_of(x), wt;
  if (w) wt = aicc_type_of(w);
  int64_t frames, bins, fl;
  bool known;
  aicc_status s = stft_shape((const aicc_tensor *const *)c->in, &xt, w ? &wt : NULL,
                             c->n_in > 3 && c->in[3], onesided, &frames, &bins, &fl, &known);
  if (s) return aicc_kernel_error(c, AICC_ERR_INVALID, "%s", aicc_status_message(s));
  if (!known) return aicc_kernel_error(c, AICC_ERR_INVALID, "needs a window or frame_length");
  if (w && aicc_tensor_numel(w) != fl)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "window length differs from frame_length");
  int64_t step = aicc_tensor_get_i64(c->in[1], 0), B = x->dims[0], L = x->dims[1];
  int64_t cw = x->dims[2];
  int64_t od[4] = {B, frames, bins, 2};
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, 4, od, &y));
  double *re = malloc(sizeof *re * (size_t)(fl * 2 + bins * 2));
  if (!re) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  double *im = re + fl, *ore = im + fl, *oim = ore + bins;
  for (int64_t b = 0; b < B; b++)
    for (int64_t f = 0; f < frames; f++) {
      for (int64_t j = 0; j < fl; j++) {
        int64_t e = (b * L + f * step + j) * cw;
        double wv = w ? aicc_tensor_get_f64(w, j) : 1.0;
        re[j] = aicc_tensor_get_f64(x, e) * wv;
        im[j] = cw == 2 ? aicc_tensor_get_f64(x, e + 1) * wv : 0;
      }
      dft_direct(re, im, fl, fl, bins, -1.0, ore, oim);
      for (int64_t k = 0; k < bins; k++) {
        int64_t e = ((b * frames + f) * bins + k) * 2;
        aicc_tensor_set_f64(y, e, ore[k]);
        aicc_tensor_set_f64(y, e + 1, oim[k]);
      }
    }
  free(re);
  return NULL;
}

/* --- windows --- */

typedef enum { WIN_HANN, WIN_HAMMING, WIN_BLACKMAN } window_kind;

static aicc_status window_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = (aicc_dtype)aicc_node_attr_int(c->node, "output_datatype", AICC_DTYPE_F32);
  if (!aicc_dtype_valid(dt)) return aicc_infer_error(c, AICC_ERR_INVALID, "bad output_datatype");
  aicc_dim d = c->cin[0] ? aicc_dim_known(aicc_tensor_get_i64(c->cin[0], 0)) : aicc_dim_unknown();
  aicc_infer_set(c, 0, dt, 1, &d);
  return NULL;
}

static aicc_status window_kernel(aicc_kernel_ctx *c, window_kind kind) {
  aicc_dtype dt = (aicc_dtype)aicc_node_attr_int(c->node, "output_datatype", AICC_DTYPE_F32);
  int64_t n = aicc_tensor_get_i64(c->in[0], 0);
  if (n < 0) return aicc_kernel_error(c, AICC_ERR_INVALID, "negative window size");
  bool periodic = aicc_node_attr_int(c->node, "periodic", 1) != 0;
  double N = periodic ? (double)n : (double)n - 1;
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, dt, 1, &n, &y));
  for (int64_t i = 0; i < n; i++) {
    double a = 2 * PI * (double)i / N, v;
    if (kind == WIN_HANN) v = sin(PI * (double)i / N) * sin(PI * (double)i / N);
    else if (kind == WIN_HAMMING) v = 25.0 / 46.0 - (21.0 / 46.0) * cos(a);
    else v = 0.42 - 0.5 * cos(a) + 0.08 * cos(2 * a);
    aicc_tensor_set_f64(y, i, v);
  }
  return NULL;
}

static aicc_status hann_kernel(aicc_kernel_ctx *c) { return window_kernel(c, WIN_HANN); }
static aicc_status hamming_kernel(aicc_kernel_ctx *c) { return window_kernel(c, WIN_HAMMING); }
static aicc_status blackman_kernel(aicc_kernel_ctx *c) { return window_kernel(c, WIN_BLACKMAN); }

/* --- MelWeightMatrix: triangular filters on the mel scale --- */

static aicc_status mel_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = (aicc_dtype)aicc_node_attr_int(c->node, "output_datatype", AICC_DTYPE_F32);
  aicc_dim d[2] = {aicc_dim_unknown(), aicc_dim_unknown()};
  if (c->cin[1]) d[0] = aicc_dim_known(aicc_tensor_get_i64(c->cin[1], 0) / 2 + 1);
  if (c->cin[0]) d[1] = aicc_dim_known(aicc_tensor_get_i64(c->cin[0], 0));
  aicc_infer_set(c, 0, dt, 2, d);
  return NULL;
}

static aicc_status mel_kernel(aicc_kernel_ctx *c) {
  aicc_dtype dt = (aicc_dtype)aicc_node_attr_int(c->node, "output_datatype", AICC_DTYPE_F32);
  int64_t mel = aicc_tensor_get_i64(c->in[0], 0), dft = aicc_tensor_get_i64(c->in[1], 0);
  int64_t rate = aicc_tensor_get_i64(c->in[2], 0);
  double lo = aicc_tensor_get_f64(c->in[3], 0), hi = aicc_tensor_get_f64(c->in[4], 0);
  if (mel < 1 || dft < 1 || rate < 1 || lo < 0 || hi < lo)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "invalid mel filter parameters");
  int64_t bins = dft / 2 + 1, od[2] = {bins, mel};
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, dt, 2, od, &y));
  int64_t *fb = malloc(sizeof *fb * (size_t)(mel + 2));
  if (!fb) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  double lm = 2595 * log10(1 + lo / 700), hm = 2595 * log10(1 + hi / 700);
  double step = (hm - lm) / (double)(mel + 2);
  for (int64_t i = 0; i < mel + 2; i++) {
    double hz = 700 * (pow(10, ((double)i * step + lm) / 2595) - 1);
    fb[i] = (int64_t)floor((double)(dft + 1) * hz / (double)rate);
  }
  aicc_status s = NULL;
  for (int64_t i = 0; i < mel && !s; i++) {
    int64_t l = fb[i], m = fb[i + 1], h = fb[i + 2];
    if (l < 0 || h >= bins + 1 || m >= bins) {
      s = aicc_kernel_error(c, AICC_ERR_INVALID, "mel filter %lld falls outside the spectrum",
                            (long long)i);
      break;
    }
    if (m == l) aicc_tensor_set_f64(y, m * mel + i, 1.0);
    else
      for (int64_t j = l; j <= m; j++)
        aicc_tensor_set_f64(y, j * mel + i, (double)(j - l) / (double)(m - l));
    if (h > m)
      for (int64_t j = m; j < h; j++)
        aicc_tensor_set_f64(y, j * mel + i, (double)(h - j) / (double)(h - m));
  }
  free(fb);
  return s;
}

static const aicc_attr_spec dft_attrs[] = {AICC_A_INT("axis"), AICC_A_INT("inverse"),
                                           AICC_A_INT("onesided"), AICC_A_END};
static const aicc_attr_spec stft_attrs[] = {AICC_A_INT("onesided"), AICC_A_END};
static const aicc_attr_spec window_attrs[] = {AICC_A_INT("output_datatype"), AICC_A_INT("periodic"),
                                              AICC_A_END};
static const aicc_attr_spec mel_attrs[] = {AICC_A_INT("output_datatype"), AICC_A_END};

static const aicc_op ops[] = {
    {"DFT", "", 17, 0, 1, 3, 1, 1, dft_attrs, dft_infer, dft_kernel},
    {"STFT", "", 17, 0, 2, 4, 1, 1, stft_attrs, stft_infer, stft_kernel},
    {"HannWindow", "", 17, 0, 1, 1, 1, 1, window_attrs, window_infer, hann_kernel},
    {"HammingWindow", "", 17, 0, 1, 1, 1, 1, window_attrs, window_infer, hamming_kernel},
    {"BlackmanWindow", "", 17, 0, 1, 1, 1, 1, window_attrs, window_infer, blackman_kernel},
    {"MelWeightMatrix", "", 17, 0, 5, 5, 1, 1, mel_attrs, mel_infer, mel_kernel},
};

const aicc_op_family aicc_family_signal = {"signal", ops, sizeof ops / sizeof ops[0]};
