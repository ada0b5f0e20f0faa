/* Loss and training-time ops: NegativeLogLikelihoodLoss,
 * SoftmaxCrossEntropyLoss, Dropout. Reference kernels compute in double. */
#include "ops/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* --- shared: reduction of per-element losses with class weights --- */

typedef enum { RED_NONE, RED_SUM, RED_MEAN } reduction;

static aicc_status parse_reduction(const aicc_node *n, reduction *r) {
  const char *s = aicc_node_attr_string(n, "reduction", "mean");
  if (strcmp(s, "none") == 0) *r = RED_NONE;
  else if (strcmp(s, "sum") == 0) *r = RED_SUM;
  else if (strcmp(s, "mean") == 0) *r = RED_MEAN;
  else return aicc_errorf(AICC_ERR_INVALID, "reduction '%s' is not none, sum or mean", s);
  return NULL;
}

/* Shapes: input [N, C, d1..dk], target [N, d1..dk], weight [C]. */
static aicc_status loss_infer(aicc_infer_ctx *c) {
  reduction r;
  aicc_status s = parse_reduction(c->node, &r);
  if (s) return aicc_status_wrap(s, "%s", c->node->op_type);
  aicc_dtype dt = c->in[0]->dtype;
  if (r != RED_NONE) aicc_infer_set(c, 0, dt, 0, NULL);
  else if (aicc_infer_has_rank(c, 1)) aicc_infer_set(c, 0, dt, c->in[1]->rank, c->in[1]->dims);
  else aicc_infer_set(c, 0, dt, -1, NULL);
  if (c->n_out > 1) c->out[1] = *c->in[0]; /* log_prob */
  return NULL;
}

static aicc_status check_loss_shapes(aicc_kernel_ctx *c, const aicc_tensor *x,
                                     const aicc_tensor *t, const aicc_tensor *w) {
  if (x->rank < 2) return aicc_kernel_error(c, AICC_ERR_SHAPE, "input needs rank >= 2");
  if (!aicc_dtype_is_float(x->dtype))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "input must be a float tensor");
  if (!aicc_dtype_is_int(t->dtype))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "target must be an integer tensor");
  bool ok = t->rank == x->rank - 1 && t->dims[0] == x->dims[0];
  for (int d = 1; ok && d < t->rank; d++) ok = t->dims[d] == x->dims[d + 1];
  if (!ok) return aicc_kernel_error(c, AICC_ERR_SHAPE, "target shape does not match input [N, C, ...]");
  if (w && (w->rank != 1 || w->dims[0] != x->dims[1]))
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "weight must have shape [C]");
  return NULL;
}

/* logp: [N, C, D] log-probabilities (double). Writes the reduced loss. */
static aicc_status reduce_loss(aicc_kernel_ctx *c, const double *logp, const aicc_tensor *x,
                               const aicc_tensor *t, const aicc_tensor *w) {
  reduction r;
  AICC_TRY(parse_reduction(c->node, &r));
  const aicc_attr *ia = aicc_node_attr(c->node, "ignore_index");
  int64_t N = x->dims[0], C = x->dims[1], NC = N * C;
  int64_t D = NC != 0 ? aicc_tensor_numel(x) / NC : 0;
  aicc_tensor *out;
  if (r == RED_NONE) AICC_TRY(aicc_kernel_output(c, 0, x->dtype, t->rank, t->dims, &out));
  else AICC_TRY(aicc_kernel_output(c, 0, x->dtype, 0, NULL, &out));
  double sum = 0, wsum = 0;
  for (int64_t i = 0; i < N; i++)
    for (int64_t d = 0; d < D; d++) {
      int64_t k = i * D + d;
      int64_t cls = aicc_tensor_get_i64(t, k);
      double wt = 0, l = 0;
      if (!(ia && cls == ia->i)) {
        if (cls < 0 || cls >= C)
          return aicc_kernel_error(c, AICC_ERR_INVALID, "target %lld out of range [0, %lld)",
                                   (long long)cls, (long long)C);
        wt = w ? aicc_tensor_get_f64(w, cls) : 1.0;
        l = -wt * logp[(i * C + cls) * D + d];
      }
      if (r == RED_NONE) aicc_tensor_set_f64(out, k, l);
      sum += l;
      wsum += wt;
    }
  if (r == RED_SUM) aicc_tensor_set_f64(out, 0, sum);
  if (r == RED_MEAN) aicc_tensor_set_f64(out, 0, sum / wsum);
  return NULL;
}

static aicc_status nll_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *x = c->in[0], *t = c->in[1], *w = c->n_in > 2 ? c->in[2] : NULL;
  AICC_TRY(check_loss_shapes(c, x, t, w));
  int64_t n = aicc_tensor_numel(x);
  double *v = malloc(sizeof *v * (size_t)(n ? n : 1));
  if (!v) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  for (int64_t i = 0; i < n; i++) v[i] = aicc_tensor_get_f64(x, i);
  aicc_status s = reduce_loss(c, v, x, t, w);
  free(v);
  return s;
}

static aicc_status sce_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *x = c->in[0], *t = c->in[1], *w = c->n_in > 2 ? c->in[2] : NULL;
  AICC_TRY(check_loss_shapes(c, x, t, w));
  int64_t n = aicc_tensor_numel(x), N = x->dims[0], C = x->dims[1], NC = N * C;
  int64_t D = NC != 0 ? n / NC : 0;
  double *lp = malloc(sizeof *lp * (size_t)(n ? n : 1));
  if (!lp) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  /* log_softmax over the class axis, numerically stable. */
  for (int64_t i = 0; i < N; i++)
    for (int64_t d = 0; d < D; d++) {
      double mx = -INFINITY, se = 0;
      for (int64_t k = 0; k < C; k++) mx = fmax(mx, aicc_tensor_get_f64(x, (i * C + k) * D + d));
      for (int64_t k = 0; k < C; k++) se += exp(aicc_tensor_get_f64(x, (i * C + k) * D + d) - mx);
      double lse = mx + log(se);
      for (int64_t k = 0; k < C; k++)
        lp[(i * C + k) * D + d] = aicc_tensor_get_f64(x, (i * C + k) * D + d) - lse;
    }
  aicc_status s = reduce_loss(c, lp, x, t, w);
  if (!s && c->n_out > 1 && c->want[1]) {
    aicc_tensor *o;
    s = aicc_kernel_output(c, 1, x->dtype, x->rank, x->dims, &o);
    for (int64_t i = 0; !s && i < n; i++) aicc_tensor_set_f64(o, i, lp[i]);
  }
  free(lp);
  return s;
}

/* --- Dropout --- */

static aicc_status dropout_infer(aicc_infer_ctx *c) {
  c->out[0] = *c->in[0];
  if (c->n_out > 1) {
    c->out[1] = *c->in[0];
    c->out[1].dtype = AICC_DTYPE_BOOL;
  }
  return NULL;
}

/* splitmix64: a small, seedable generator; the order of draws is the
 * element order, so a fixed seed gives a fixed mask. */
static uint64_t splitmix64(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static aicc_status dropout_kernel(aicc_kernel_ctx *c) {
  aicc_tensor *x = c->in[0];
  double ratio = c->opset >= 12 ? 0.5 : aicc_node_attr_float(c->node, "ratio", 0.5f);
  bool training = false;
  if (c->opset >= 12) {
    if (c->n_in > 1 && c->in[1]) ratio = aicc_tensor_get_f64(c->in[1], 0);
    if (c->n_in > 2 && c->in[2]) training = aicc_tensor_get_i64(c->in[2], 0) != 0;
  }
  if (ratio < 0 || ratio >= 1)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "ratio %g is not in [0, 1)", ratio);
  int64_t n = aicc_tensor_numel(x);
  aicc_tensor *mask = NULL;
  if (c->n_out > 1 && c->want[1])
    AICC_TRY(aicc_kernel_output(c, 1, AICC_DTYPE_BOOL, x->rank, x->dims, &mask));
  if (!training || ratio == 0) {
    c->out[0] = aicc_tensor_retain(x);
    if (mask) memset(mask->data, 1, (size_t)n);
    return NULL;
  }
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, x->rank, x->dims, &y));
  uint64_t state = (uint64_t)aicc_node_attr_int(c->node, "seed", 0);
  double scale = 1.0 / (1.0 - ratio);
  for (int64_t i = 0; i < n; i++) {
    bool keep = (double)(splitmix64(&state) >> 11) * 0x1.0p-53 >= ratio;
    aicc_tensor_set_f64(y, i, keep ? aicc_tensor_get_f64(x, i) * scale : 0.0);
    if (mask) ((uint8_t *)mask->data)[i] = keep;
  }
  return NULL;
}

static const aicc_attr_spec loss_attrs[] = {AICC_A_INT("ignore_index"), AICC_A_STRING("reduction"),
                                            AICC_A_END};
static const aicc_attr_spec dropout_attrs[] = {AICC_A_FLOAT("ratio"), AICC_A_INT("seed"),
                                               AICC_A_INT("is_test"), AICC_A_END};

static const aicc_op ops[] = {
    {"NegativeLogLikelihoodLoss", "", 12, 0, 2, 3, 1, 1, loss_attrs, loss_infer, nll_kernel},
    {"SoftmaxCrossEntropyLoss", "", 12, 0, 2, 3, 1, 2, loss_attrs, loss_infer, sce_kernel},
    {"Dropout", "", 7, 0, 1, 3, 1, 2, dropout_attrs, dropout_infer, dropout_kernel},
};

const aicc_op_family aicc_family_loss = {"loss", ops, sizeof ops / sizeof ops[0]};
