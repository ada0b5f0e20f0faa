/* The resize family: Resize (opsets 10..19+) and the deprecated Upsample.
 * Interpolation is separable: each resized axis gets a table of taps
 * (source index, weight) per output position, built once from the mode,
 * coordinate transform and antialias settings, then applied axis by axis
 * in double (as the ONNX reference does). */
#include "ops/conv_util.h"
#include "ops/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum { M_NEAREST, M_LINEAR, M_CUBIC } interp_mode;
typedef enum {
  CT_HALF_PIXEL,
  CT_PYTORCH_HALF_PIXEL,
  CT_ALIGN_CORNERS,
  CT_ASYMMETRIC,
  CT_TF_CROP_AND_RESIZE,
  CT_HALF_PIXEL_SYMMETRIC,
} coord_mode;
typedef enum {
  NM_ROUND_PREFER_FLOOR,
  NM_ROUND_PREFER_CEIL,
  NM_FLOOR,
  NM_CEIL,
  NM_SIMPLE, /* Resize-10 / Upsample: floor when upsampling, ceil when down */
} nearest_mode;

typedef struct resize_opts {
  interp_mode mode;
  coord_mode ct;
  nearest_mode nm;
  double cubic_a, extrapolation;
  bool exclude_outside, antialias;
} resize_opts;

/* The resolved plan: output dims, per-axis scales and the full roi. */
typedef struct resize_plan {
  int rank;
  int64_t out[AICC_MAX_RANK];
  double scale[AICC_MAX_RANK];
  double roi[2 * AICC_MAX_RANK];
  bool has_roi;
} resize_plan;

static bool legacy(const aicc_node *n, int opset) {
  return strcmp(n->op_type, "Upsample") == 0 || opset < 11;
}

static aicc_status read_opts(const aicc_node *n, int opset, resize_opts *o) {
  memset(o, 0, sizeof *o);
  const char *m = aicc_node_attr_string(n, "mode", "nearest");
  if (strcmp(m, "nearest") == 0) o->mode = M_NEAREST;
  else if (strcmp(m, "linear") == 0 || strcmp(m, "bilinear") == 0) o->mode = M_LINEAR;
  else if (strcmp(m, "cubic") == 0 && !legacy(n, opset)) o->mode = M_CUBIC;
  else return aicc_errorf(AICC_ERR_INVALID, "unknown mode '%s'", m);
  if (legacy(n, opset)) {
    o->ct = CT_ASYMMETRIC;
    o->nm = NM_SIMPLE;
    return NULL;
  }
  static const char *const cts[] = {"half_pixel", "pytorch_half_pixel", "align_corners",
                                    "asymmetric", "tf_crop_and_resize",
                                    "half_pixel_symmetric"};
  const char *ct = aicc_node_attr_string(n, "coordinate_transformation_mode", "half_pixel");
  int k = 0;
  while (k < 6 && strcmp(ct, cts[k]) != 0) k++;
  if (k == 6) return aicc_errorf(AICC_ERR_INVALID, "unknown coordinate_transformation_mode '%s'", ct);
  o->ct = (coord_mode)k;
  static const char *const nms[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  const char *nm = aicc_node_attr_string(n, "nearest_mode", "round_prefer_floor");
  k = 0;
  while (k < 4 && strcmp(nm, nms[k]) != 0) k++;
  if (k == 4) return aicc_errorf(AICC_ERR_INVALID, "unknown nearest_mode '%s'", nm);
  o->nm = (nearest_mode)k;
  o->cubic_a = aicc_node_attr_float(n, "cubic_coeff_a", -0.75f);
  o->extrapolation = aicc_node_attr_float(n, "extrapolation_value", 0.0f);
  o->exclude_outside = aicc_node_attr_int(n, "exclude_outside", 0) != 0;
  o->antialias = aicc_node_attr_int(n, "antialias", 0) != 0 && o->mode != M_NEAREST;
  return NULL;
}

/* A float-list input counts as absent when omitted or empty. */
static const aicc_tensor *nonempty(const aicc_tensor *t) {
  return t && aicc_tensor_numel(t) > 0 ? t : NULL;
}

/* Resolves output dims and scales. in[] may hold -1 (unknown, inference).
 * scales/sizes/roi are the constant inputs (NULL when absent). attr_scales:
 * Upsample-7's attribute. A dim stays -1 when it cannot be known. */
static aicc_status make_plan(const aicc_node *n, int opset, int rank, const int64_t *in,
                             const aicc_tensor *roi, const aicc_tensor *scales,
                             const aicc_tensor *sizes, resize_plan *p) {
  memset(p, 0, sizeof *p);
  p->rank = rank;
  int64_t axes[AICC_MAX_RANK], naxes = rank;
  int64_t alen = 0;
  const int64_t *av = legacy(n, opset) ? NULL : aicc_node_attr_ints(n, "axes", &alen);
  if (av) {
    if (alen > rank) return aicc_errorf(AICC_ERR_INVALID, "too many axes");
    naxes = alen;
    for (int64_t i = 0; i < alen; i++) {
      AICC_TRY(aicc_axis_norm(av[i], rank, &axes[i]));
      for (int64_t j = 0; j < i; j++)
        if (axes[j] == axes[i]) return aicc_errorf(AICC_ERR_INVALID, "repeated axis");
    }
  } else {
    for (int i = 0; i < rank; i++) axes[i] = i;
  }
  for (int i = 0; i < rank; i++) {
    p->out[i] = in[i];
    p->scale[i] = 1;
    p->roi[i] = 0;
    p->roi[rank + i] = 1;
  }
  if (roi) {
    int64_t k = aicc_tensor_numel(roi);
    if (k != 2 * naxes) return aicc_errorf(AICC_ERR_SHAPE, "roi has %lld values, expected %lld",
                                           (long long)k, (long long)(2 * naxes));
    for (int64_t i = 0; i < naxes; i++) {
      p->roi[axes[i]] = aicc_tensor_get_f64(roi, i);
      p->roi[rank + axes[i]] = aicc_tensor_get_f64(roi, naxes + i);
    }
    p->has_roi = true;
  }
  const aicc_attr *sa = aicc_node_attr(n, "scales");
  if (!scales && !sizes && sa && sa->kind == AICC_ATTR_FLOATS) {
    if (sa->n != rank) return aicc_errorf(AICC_ERR_SHAPE, "scales has %lld values, rank %d",
                                          (long long)sa->n, rank);
    for (int i = 0; i < rank; i++) p->scale[i] = sa->fs[i];
  } else if (!scales && !sizes && aicc_node_attr(n, "height_scale")) {
    if (rank != 4) return aicc_errorf(AICC_ERR_SHAPE, "Upsample-1 needs a 4-D input");
    p->scale[2] = aicc_node_attr_float(n, "height_scale", 1);
    p->scale[3] = aicc_node_attr_float(n, "width_scale", 1);
  } else if (scales && !sizes) {
    int64_t k = aicc_tensor_numel(scales);
    if (k != naxes) return aicc_errorf(AICC_ERR_SHAPE, "scales has %lld values, expected %lld",
                                       (long long)k, (long long)naxes);
    for (int64_t i = 0; i < naxes; i++) p->scale[axes[i]] = aicc_tensor_get_f64(scales, i);
  } else if (sizes) {
    if (scales) return aicc_errorf(AICC_ERR_INVALID, "only one of scales and sizes may be given");
    int64_t k = aicc_tensor_numel(sizes);
    if (k != naxes) return aicc_errorf(AICC_ERR_SHAPE, "sizes has %lld values, expected %lld",
                                       (long long)k, (long long)naxes);
    const char *pol = aicc_node_attr_string(n, "keep_aspect_ratio_policy", "stretch");
    bool not_larger = strcmp(pol, "not_larger") == 0, not_smaller = strcmp(pol, "not_smaller") == 0;
    if (!not_larger && !not_smaller && strcmp(pol, "stretch") != 0)
      return aicc_errorf(AICC_ERR_INVALID, "unknown keep_aspect_ratio_policy '%s'", pol);
    double agg = not_larger ? INFINITY : -INFINITY;
    bool all_known = true;
    for (int64_t i = 0; i < naxes; i++) {
      int64_t a = axes[i], sz = aicc_tensor_get_i64(sizes, i);
      if (sz < 0) return aicc_errorf(AICC_ERR_SHAPE, "negative size %lld", (long long)sz);
      p->out[a] = sz;
      if (in[a] < 0) {
        all_known = false;
        continue;
      }
      p->scale[a] = in[a] ? (double)sz / (double)in[a] : 1;
      agg = not_larger ? fmin(agg, p->scale[a]) : fmax(agg, p->scale[a]);
    }
    if (not_larger || not_smaller) {
      /* One scale for every axis; sizes rounded half up (ONNX spec). */
      for (int64_t i = 0; i < naxes; i++) {
        int64_t a = axes[i];
        p->scale[a] = all_known ? agg : 0; /* 0: unknown until run time */
        p->out[a] = all_known ? (int64_t)(agg * (double)in[a] + 0.5) : -1;
      }
    }
    return NULL;
  } else {
    return aicc_errorf(AICC_ERR_INVALID, "one of scales and sizes is required");
  }
  for (int i = 0; i < rank; i++) {
    if (!(p->scale[i] > 0)) return aicc_errorf(AICC_ERR_INVALID, "scale %g on axis %d must be > 0",
                                               p->scale[i], i);
    if (p->scale[i] == 1) continue;
    double o = floor(p->scale[i] * (double)in[i]);
    if (o > 4e18) return aicc_errorf(AICC_ERR_SHAPE, "scale %g on axis %d overflows the size",
                                     p->scale[i], i);
    p->out[i] = in[i] < 0 ? -1 : (int64_t)o;
  }
  return NULL;
}

/* Input positions of roi, scales, sizes for the node's version. */
static void input_slots(const aicc_node *n, int opset, int *roi, int *scales, int *sizes) {
  if (legacy(n, opset)) *roi = -1, *scales = 1, *sizes = -1;
  else *roi = 1, *scales = 2, *sizes = 3;
}

static aicc_status resize_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = c->in[0] ? c->in[0]->dtype : AICC_DTYPE_UNDEFINED;
  if (aicc_infer_unranked(c, dt)) return NULL;
  const aicc_type *x = c->in[0];
  int r = x->rank, ri, si, zi;
  input_slots(c->node, c->opset, &ri, &si, &zi);
  const aicc_tensor *cv[3] = {NULL, NULL, NULL};
  int slots[3] = {ri, si, zi};
  for (int k = 0; k < 3; k++) {
    int i = slots[k];
    if (i < 0 || i >= c->n_in || !c->in[i]) continue;
    if (!c->cin[i]) {
      /* Data-dependent: only axes outside the `axes` attribute are known. */
      aicc_infer_set(c, 0, dt, r, NULL);
      int64_t alen = 0;
      const int64_t *av = legacy(c->node, c->opset) ? NULL : aicc_node_attr_ints(c->node, "axes", &alen);
      for (int d = 0; av && d < r; d++) {
        bool listed = false;
        for (int64_t j = 0; j < alen; j++) listed |= av[j] == d || av[j] + r == d;
        if (!listed) c->out[0].dims[d] = x->dims[d];
      }
      return NULL;
    }
    cv[k] = nonempty(c->cin[i]);
  }
  int64_t in[AICC_MAX_RANK] = {0};
  for (int i = 0; i < r; i++)
    if (!aicc_conv_dim_known(x, i, &in[i])) in[i] = -1;
  resize_plan p;
  AICC_TRY(aicc_conv_infer_fail(c, make_plan(c->node, c->opset, r, in, cv[0], cv[1], cv[2], &p)));
  aicc_dim out[AICC_MAX_RANK];
  for (int i = 0; i < r; i++) {
    if (p.out[i] >= 0) out[i] = aicc_dim_known(p.out[i]);
    else if (p.scale[i] == 1) out[i] = x->dims[i]; /* an unresized axis keeps its symbol */
    else out[i] = aicc_dim_unknown();
  }
  aicc_infer_set(c, 0, dt, r, out);
  return NULL;
}

/* ---------------------------------------------------------------- taps */

static void cubic_coeffs(double r, double A, double *c) {
  c[0] = ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A;
  c[1] = ((A + 2) * r - (A + 3)) * r * r + 1;
  c[2] = ((A + 2) * (1 - r) - (A + 3)) * (1 - r) * (1 - r) + 1;
  c[3] = ((A * ((1 - r) + 1) - 5 * A) * ((1 - r) + 1) + 8 * A) * ((1 - r) + 1) - 4 * A;
}

static double cubic_kernel(double x, double A) {
  x = fabs(x);
  if (x <= 1) return ((A + 2) * x - (A + 3)) * x * x + 1;
  if (x < 2) return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  return 0;
}

/* Number of taps per output position for an axis with this scale. With
 * antialias the filter support widens by 1/scale when downsampling. */
static int64_t tap_count(const resize_opts *o, double scale) {
  if (o->mode == M_NEAREST) return 1;
  if (!o->antialias) return o->mode == M_LINEAR ? 2 : 4;
  double s = scale < 1 ? scale : 1;
  int64_t start = (int64_t)floor((o->mode == M_LINEAR ? -1.0 : -2.0) / s) + 1;
  return 2 - 2 * start;
}

/* Source coordinate of output index y along one axis (ONNX Resize). */
static double source_coord(const resize_opts *o, double y, double scale, int64_t in,
                           int64_t out, double r0, double r1) {
  double ow = scale * (double)in; /* the unrounded output length */
  switch (o->ct) {
  case CT_ALIGN_CORNERS:
    return ow == 1 ? 0 : y * (double)(in - 1) / (ow - 1);
  case CT_ASYMMETRIC:
    return y / scale;
  case CT_TF_CROP_AND_RESIZE:
    return (ow == 1 ? (r1 - r0) * (double)(in - 1) / 2
                    : y * (r1 - r0) * (double)(in - 1) / (ow - 1)) +
           r0 * (double)(in - 1);
  case CT_PYTORCH_HALF_PIXEL:
    return ow == 1 ? -0.5 : (y + 0.5) / scale - 0.5;
  case CT_HALF_PIXEL_SYMMETRIC: {
    double adj = (double)out / ow, center = (double)in / 2;
    return center * (1 - adj) + (y + 0.5) / scale - 0.5;
  }
  case CT_HALF_PIXEL:
  default:
    return (y + 0.5) / scale - 0.5;
  }
}

/* Fills idx/w [out * n] and ext[out] (extrapolate) for one axis. */
static void axis_taps(const resize_opts *o, int64_t in, int64_t out, double scale, double r0,
                      double r1, int64_t n, int64_t *idx, double *w, bool *ext) {
  for (int64_t y = 0; y < out; y++) {
    double x = source_coord(o, (double)y, scale, in, out, r0, r1);
    /* Keep the integer conversions below defined for NaN/huge roi values:
     * anything beyond the edges clamps to them anyway. */
    if (!(x > -4.0 - (double)in)) x = x != x ? 0 : -4.0 - (double)in;
    if (x > 2.0 * (double)in + 4) x = 2.0 * (double)in + 4;
    int64_t *ti = idx + y * n;
    double *tw = w + y * n;
    ext[y] = o->ct == CT_TF_CROP_AND_RESIZE && (x < 0 || x > (double)(in - 1));
    if (o->mode == M_NEAREST) {
      double f = floor(x), r = x - f;
      int64_t k;
      if (r == 0) k = (int64_t)f;
      else switch (o->nm) {
        case NM_ROUND_PREFER_FLOOR: k = (int64_t)f + (r > 0.5); break;
        case NM_ROUND_PREFER_CEIL: k = (int64_t)f + (r >= 0.5); break;
        case NM_FLOOR: k = (int64_t)f; break;
        case NM_CEIL: k = (int64_t)f + 1; break;
        case NM_SIMPLE:
        default: k = scale < 1 ? (int64_t)ceil(x) : (int64_t)f; break;
      }
      ti[0] = k < 0 ? 0 : k >= in ? in - 1 : k;
      tw[0] = 1;
      continue;
    }
    /* Left neighbour f with ratio in (0, 1]: an exact integer x counts as
     * ratio 1 from x - 1, which is how the reference picks its window. */
    double f = floor(x);
    if (f == x) f -= 1;
    double ratio = x - f;
    int64_t first = (int64_t)f - n / 2 + 1;
    if (!o->antialias) {
      if (o->mode == M_LINEAR) tw[0] = 1 - ratio, tw[1] = ratio;
      else cubic_coeffs(ratio, o->cubic_a, tw);
    } else {
      double s = scale < 1 ? scale : 1, sum = 0;
      for (int64_t t = 0; t < n; t++) {
        double arg = ((double)(first + t) - x) * s;
        double v = o->mode == M_LINEAR ? fmax(0, 1 - fabs(arg)) : cubic_kernel(arg, o->cubic_a);
        tw[t] = v;
        sum += v;
      }
      for (int64_t t = 0; t < n; t++) tw[t] /= sum;
    }
    if (o->exclude_outside) {
      double sum = 0;
      for (int64_t t = 0; t < n; t++) {
        if (first + t < 0 || first + t >= in) tw[t] = 0;
        sum += tw[t];
      }
      if (sum != 0)
        for (int64_t t = 0; t < n; t++) tw[t] /= sum;
    }
    for (int64_t t = 0; t < n; t++) {
      int64_t k = first + t;
      ti[t] = k < 0 ? 0 : k >= in ? in - 1 : k;
    }
  }
}

/* One separable pass: resizes axis a of src (dims cur) into dst. */
static void apply_axis(const double *src, double *dst, const int64_t *cur, int rank, int a,
                       int64_t out, int64_t n, const int64_t *idx, const double *w,
                       const bool *ext, double extrapolation) {
  int64_t outer = aicc_conv_prod(cur, 0, a), inner = aicc_conv_prod(cur, a + 1, rank);
  int64_t in = cur[a];
  for (int64_t p = 0; p < outer; p++) {
    const double *s = src + p * in * inner;
    double *d = dst + p * out * inner;
    for (int64_t y = 0; y < out; y++) {
      double *row = d + y * inner;
      if (ext[y]) {
        for (int64_t i = 0; i < inner; i++) row[i] = extrapolation;
        continue;
      }
      for (int64_t i = 0; i < inner; i++) row[i] = 0;
      for (int64_t t = 0; t < n; t++) {
        double wt = w[y * n + t];
        if (wt == 0) continue;
        const double *sr = s + idx[y * n + t] * inner;
        for (int64_t i = 0; i < inner; i++) row[i] += wt * sr[i];
      }
    }
  }
}

static aicc_status resize_kernel(aicc_kernel_ctx *c) {
  aicc_tensor *x = c->in[0];
  if (x->dtype == AICC_DTYPE_STRING || x->dtype == AICC_DTYPE_BOOL ||
      x->dtype == AICC_DTYPE_C64 || x->dtype == AICC_DTYPE_C128)
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "unsupported dtype %s",
                             aicc_dtype_text(x->dtype));
  int r = x->rank, ri, si, zi;
  if (r < 1) return aicc_kernel_error(c, AICC_ERR_SHAPE, "input must have rank >= 1");
  input_slots(c->node, c->opset, &ri, &si, &zi);
  const aicc_tensor *roi = ri >= 0 && ri < c->n_in ? nonempty(c->in[ri]) : NULL;
  const aicc_tensor *scales = si >= 0 && si < c->n_in ? nonempty(c->in[si]) : NULL;
  const aicc_tensor *sizes = zi >= 0 && zi < c->n_in ? nonempty(c->in[zi]) : NULL;
  if ((roi && !aicc_dtype_is_float(roi->dtype)) || (scales && !aicc_dtype_is_float(scales->dtype)))
    return aicc_kernel_error(c, AICC_ERR_INVALID, "roi and scales must be float tensors");
  if (sizes && !aicc_dtype_is_int(sizes->dtype))
    return aicc_kernel_error(c, AICC_ERR_INVALID, "sizes must be an integer tensor");
  resize_opts o;
  resize_plan p;
  AICC_TRY(aicc_conv_kernel_fail(c, read_opts(c->node, c->opset, &o)));
  AICC_TRY(aicc_conv_kernel_fail(c, make_plan(c->node, c->opset, r, x->dims, roi, scales, sizes, &p)));
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, r, p.out, &y));
  if (aicc_tensor_numel(y) == 0) return NULL;
  if (aicc_tensor_numel(x) == 0)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "cannot resize an empty input to a non-empty output");
  double *buf = aicc_conv_to_f64(x);
  if (!buf) return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  int64_t cur[AICC_MAX_RANK];
  memcpy(cur, x->dims, sizeof(int64_t) * (size_t)r);
  aicc_status s = NULL;
  for (int a = 0; a < r && !s; a++) {
    double r0 = p.roi[a], r1 = p.roi[r + a];
    bool trivial_roi = o.ct != CT_TF_CROP_AND_RESIZE || (fabs(r0) < 1e-9 && fabs(r1 - 1) < 1e-9);
    /* Identity along this axis: skipped, as the reference does. */
    if (p.out[a] == cur[a] && fabs(p.scale[a] - 1) <= 1e-9 && trivial_roi) continue;
    int64_t out = p.out[a], n = tap_count(&o, p.scale[a]);
    int64_t nnext = aicc_conv_prod(cur, 0, r) / cur[a] * out;
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)(out * n));
    double *w = malloc(sizeof(double) * (size_t)(out * n));
    bool *ext = malloc((size_t)out);
    double *next = malloc(sizeof(double) * (size_t)(nnext > 0 ? nnext : 1));
    if (!idx || !w || !ext || !next) {
      s = aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
    } else {
      axis_taps(&o, cur[a], out, p.scale[a], r0, r1, n, idx, w, ext);
      apply_axis(buf, next, cur, r, a, out, n, idx, w, ext, o.extrapolation);
      free(buf);
      buf = next;
      next = NULL;
      cur[a] = out;
    }
    free(idx), free(w), free(ext), free(next);
  }
  if (!s) {
    if (aicc_dtype_is_int(x->dtype)) {
      /* Integer outputs round half to even (saturation in set_f64). */
      for (int64_t i = 0, n = aicc_tensor_numel(y); i < n; i++) buf[i] = nearbyint(buf[i]);
    }
    aicc_conv_from_f64(y, buf);
  }
  free(buf);
  return s;
}

/* ------------------------------------------------------------------ rows */

static const aicc_attr_spec resize_attrs[] = {
    AICC_A_STRING("mode"),          AICC_A_STRING("coordinate_transformation_mode"),
    AICC_A_FLOAT("cubic_coeff_a"),  AICC_A_INT("exclude_outside"),
    AICC_A_FLOAT("extrapolation_value"), AICC_A_STRING("nearest_mode"),
    AICC_A_INT("antialias"),        AICC_A_INTS("axes"),
    AICC_A_STRING("keep_aspect_ratio_policy"), AICC_A_END,
};
static const aicc_attr_spec upsample_attrs[] = {
    AICC_A_STRING("mode"), AICC_A_FLOATS("scales"), AICC_A_FLOAT("height_scale"),
    AICC_A_FLOAT("width_scale"), AICC_A_END,
};

static const aicc_op ops[] = {
    /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
    {"Resize", "", 10, 0, 1, 4, 1, 1, resize_attrs, resize_infer, resize_kernel},
    {"Upsample", "", 1, 0, 1, 2, 1, 1, upsample_attrs, resize_infer, resize_kernel},
};
const aicc_op_family aicc_family_resize = {"resize", ops, sizeof ops / sizeof ops[0]};
