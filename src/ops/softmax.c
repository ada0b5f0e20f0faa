/* Softmax, LogSoftmax and Hardmax. Before opset 13 the input is coerced to
 * 2-D at `axis` (default 1) and normalised over the flattened trailing block;
 * from 13 it is one axis (default -1). Both reduce to an (outer, n, inner)
 * view of the data, which is all the kernels see. */
#include "ops/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum { SOFTMAX, LOGSOFTMAX, HARDMAX } smax_kind;

/* The (outer, n, inner) view: element (o, k, i) is at (o*n + k)*inner + i. */
static aicc_status smax_view(const aicc_kernel_ctx *c, const aicc_tensor *x, int64_t *outer,
                             int64_t *n, int64_t *inner) {
  bool legacy = c->opset < 13;
  int64_t axis;
  aicc_status s = aicc_axis_norm(aicc_node_attr_int(c->node, "axis", legacy ? 1 : -1),
                                 x->rank, &axis);
  if (s) {
    char buf[256];
    return aicc_status_wrap(s, "%s", aicc_node_describe(c->node, buf, sizeof buf));
  }
  *outer = 1;
  *n = 1;
  *inner = 1;
  for (int d = 0; d < x->rank; d++) {
    if (d < axis) *outer *= x->dims[d];
    else if (legacy || d == axis) *n *= x->dims[d];
    else *inner *= x->dims[d];
  }
  return NULL;
}

/* Rounds to a narrow float dtype; identity for f32/f64. The reference (and
 * the spec's expanded functions) run each step of a softmax in the input
 * precision, so bf16/f16 round after each step to agree to the last bit. */
static double rnd(aicc_dtype dt, double x) {
  if (dt == AICC_DTYPE_F16) return aicc_f16_to_f32(aicc_f32_to_f16((float)x));
  if (dt == AICC_DTYPE_BF16) return aicc_bf16_to_f32(aicc_f32_to_bf16((float)x));
  return x;
}

/* One row of n values at stride `st`, in double: the slow-path dtypes. */
static void row_f64(smax_kind kind, aicc_dtype dt, double *v, int64_t n, int64_t st) {
  if (kind == HARDMAX) {
    int64_t best = 0;
    for (int64_t k = 1; k < n; k++)
      if (v[k * st] > v[best * st]) best = k;
    for (int64_t k = 0; k < n; k++) v[k * st] = k == best ? 1.0 : 0.0;
    return;
  }
  double m = -INFINITY;
  for (int64_t k = 0; k < n; k++)
    if (v[k * st] > m) m = v[k * st];
  if (isinf(m) && m < 0) m = 0.0; /* all -inf: keep exp(-inf) = 0 rather than NaN */
  double sum = 0.0;
  if (kind == SOFTMAX) {
    /* numpy sums bfloat16 sequentially in bfloat16; f16 in float. */
    for (int64_t k = 0; k < n; k++) {
      v[k * st] = rnd(dt, exp(rnd(dt, v[k * st] - m)));
      sum = dt == AICC_DTYPE_BF16 ? rnd(dt, sum + v[k * st]) : sum + v[k * st];
    }
    sum = rnd(dt, sum);
    for (int64_t k = 0; k < n; k++) v[k * st] = v[k * st] / sum;
    return;
  }
  for (int64_t k = 0; k < n; k++) sum += exp(v[k * st] - m);
  {
    double ls = log(sum);
    for (int64_t k = 0; k < n; k++) v[k * st] = v[k * st] - m - ls;
  }
}

/* The f32 hot path: contiguous rows (inner == 1), as in every transformer. */
static void rows_f32(smax_kind kind, const float *x, float *y, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * n;
    float *yr = y + r * n;
    if (kind == HARDMAX) {
      int64_t best = 0;
      for (int64_t k = 1; k < n; k++)
        if (xr[k] > xr[best]) best = k;
      for (int64_t k = 0; k < n; k++) yr[k] = k == best ? 1.0f : 0.0f;
      continue;
    }
    float m = -INFINITY;
    for (int64_t k = 0; k < n; k++)
      if (xr[k] > m) m = xr[k];
    if (isinf(m) && m < 0) m = 0.0f;
    double sum = 0.0;
    if (kind == SOFTMAX) {
      for (int64_t k = 0; k < n; k++) {
        float e = expf(xr[k] - m);
        yr[k] = e;
        sum += e;
      }
      float inv = (float)(1.0 / sum);
      for (int64_t k = 0; k < n; k++) yr[k] *= inv;
    } else {
      for (int64_t k = 0; k < n; k++) sum += expf(xr[k] - m);
      float ls = (float)log(sum);
      for (int64_t k = 0; k < n; k++) yr[k] = xr[k] - m - ls;
    }
  }
}

static aicc_status smax_run(aicc_kernel_ctx *c, smax_kind kind) {
  const aicc_tensor *x = c->in[0];
  if (!aicc_dtype_is_float(x->dtype))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "input dtype %s is not a float",
                             aicc_dtype_text(x->dtype));
  int64_t outer = 1, n = 1, inner = 1;
  AICC_TRY(smax_view(c, x, &outer, &n, &inner));
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, x->rank, x->dims, &y));
  int64_t total = aicc_tensor_numel(x);
  if (total == 0) return NULL;
  if (x->dtype == AICC_DTYPE_F32 && inner == 1) {
    rows_f32(kind, x->data, y->data, outer, n);
    return NULL;
  }
  double *v = malloc(sizeof(double) * (size_t)total);
  if (!v) return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  for (int64_t i = 0; i < total; i++) v[i] = aicc_tensor_get_f64(x, i);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) row_f64(kind, x->dtype, v + o * n * inner + i, n, inner);
  for (int64_t i = 0; i < total; i++) aicc_tensor_set_f64(y, i, v[i]);
  free(v);
  return NULL;
}

static aicc_status softmax_kernel(aicc_kernel_ctx *c) { return smax_run(c, SOFTMAX); }
static aicc_status logsoftmax_kernel(aicc_kernel_ctx *c) { return smax_run(c, LOGSOFTMAX); }
static aicc_status hardmax_kernel(aicc_kernel_ctx *c) { return smax_run(c, HARDMAX); }

static aicc_status smax_infer(aicc_infer_ctx *c) {
  if (aicc_infer_has_rank(c, 0)) {
    int64_t axis;
    int64_t a = aicc_node_attr_int(c->node, "axis", c->opset < 13 ? 1 : -1);
    aicc_status s = aicc_axis_norm(a, c->in[0]->rank, &axis);
    if (s) {
      aicc_status_free(s);
      return aicc_infer_error(c, AICC_ERR_SHAPE, "axis %lld out of range for rank %d",
                              (long long)a, c->in[0]->rank);
    }
  }
  return aicc_infer_same_as_input(c);
}

static const aicc_attr_spec smax_attrs[] = {AICC_A_INT("axis"), AICC_A_END};

static const aicc_op ops[] = {
    /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
    {"Softmax", "", 1, 0, 1, 1, 1, 1, smax_attrs, smax_infer, softmax_kernel},
    {"LogSoftmax", "", 1, 0, 1, 1, 1, 1, smax_attrs, smax_infer, logsoftmax_kernel},
    {"Hardmax", "", 1, 0, 1, 1, 1, 1, smax_attrs, smax_infer, hardmax_kernel},
};

const aicc_op_family aicc_family_softmax = {"softmax", ops, sizeof ops / sizeof ops[0]};
