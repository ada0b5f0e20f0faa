/* Ops that generate values: Range, CumSum, CumProd, and the random ops RandomNormal,
 * RandomUniform, RandomNormalLike, RandomUniformLike, Bernoulli, Multinomial.
 * Random ops use xoshiro256** (Blackman & Vigna 2018) seeded by the "seed"
 * attribute through splitmix64. Without a seed the stream is still fixed
 * (derived from the node's first output name), so runs are reproducible and
 * two random nodes differ; the spec lets the implementation pick the seed.
 * They cannot reproduce numpy's streams. */
#include "core/rng.h"
#include "ops/util_elem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Range ---- */

/* Element count of Range, computed exactly for integers and as numpy's
 * arange does (ceil of the quotient in double) for floats. */
static const char *range_count(const aicc_tensor *s, const aicc_tensor *l, const aicc_tensor *d,
                               int64_t *n) {
  if (aicc_tensor_numel(s) != 1 || aicc_tensor_numel(l) != 1 || aicc_tensor_numel(d) != 1)
    return "start, limit and delta must be scalars";
  if (aicc_dtype_is_float(s->dtype)) {
    double a = aicc_tensor_get_f64(s, 0), b = aicc_tensor_get_f64(l, 0),
           st = aicc_tensor_get_f64(d, 0);
    if (st == 0 || isnan(st)) return "delta must be nonzero";
    double q = ceil((b - a) / st);
    if (!(q < 9e18)) return "too many elements";
    *n = q > 0 ? (int64_t)q : 0;
    return NULL;
  }
  if (!aicc_dtype_is_int(s->dtype)) return "unsupported dtype";
  int64_t a = aicc_tensor_get_i64(s, 0), b = aicc_tensor_get_i64(l, 0),
          st = aicc_tensor_get_i64(d, 0);
  if (st == 0) return "delta must be nonzero";
  if (st > 0)
    *n = b > a ? (int64_t)(((uint64_t)b - (uint64_t)a - 1) / (uint64_t)st + 1) : 0;
  else
    *n = a > b ? (int64_t)(((uint64_t)a - (uint64_t)b - 1) / ((uint64_t)(-(st + 1)) + 1) + 1) : 0;
  return NULL;
}

static aicc_status range_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = aicc_infer_in_dtype(c, 0);
  const aicc_tensor *s = aicc_infer_cin(c, 0), *l = aicc_infer_cin(c, 1), *d = aicc_infer_cin(c, 2);
  aicc_dim n = aicc_dim_unknown();
  if (s && l && d) {
    int64_t k;
    const char *why = range_count(s, l, d, &k);
    if (why) return aicc_infer_error(c, AICC_ERR_INVALID, "%s", why);
    n = aicc_dim_known(k);
  }
  aicc_infer_set(c, 0, dt, 1, &n);
  return NULL;
}

static aicc_status range_kernel(aicc_kernel_ctx *c) {
  for (int i = 0; i < 3; i++) AICC_TRY(aicc_kernel_need_tensor(c, i));
  const aicc_tensor *s = c->in[0], *l = c->in[1], *d = c->in[2];
  if (l->dtype != s->dtype || d->dtype != s->dtype)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "start, limit and delta differ in dtype");
  int64_t n;
  const char *why = range_count(s, l, d, &n);
  if (why) return aicc_kernel_error(c, AICC_ERR_INVALID, "%s", why);
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, s->dtype, 1, &n, &y));
  if (aicc_dtype_is_float(s->dtype)) {
    double a = aicc_tensor_get_f64(s, 0), st = aicc_tensor_get_f64(d, 0);
    /* stash_type FLOAT (opset 27) computes narrow floats in f32 first. */
    bool in_f32 = c->opset >= 27 && aicc_node_attr_int(c->node, "stash_type", 11) == 1 &&
                  (s->dtype == AICC_DTYPE_F16 || s->dtype == AICC_DTYPE_BF16);
    for (int64_t i = 0; i < n; i++) {
      double v = a + (double)i * st;
      if (in_f32) v = (float)((float)a + (float)i * (float)st);
      aicc_tensor_set_f64(y, i, v);
    }
  } else {
    uint64_t a = (uint64_t)aicc_tensor_get_i64(s, 0), st = (uint64_t)aicc_tensor_get_i64(d, 0);
    for (int64_t i = 0; i < n; i++) aicc_tensor_set_i64(y, i, (int64_t)(a + (uint64_t)i * st));
  }
  return NULL;
}

/* ---- CumSum, CumProd ---- */

static aicc_status cumulative(aicc_kernel_ctx *c, bool product) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  const aicc_tensor *x = c->in[0];
  int64_t ax;
  AICC_TRY(aicc_kernel_scalar_i64(c, 1, &ax));
  int64_t axis;
  AICC_TRY(aicc_kernel_wrap(c, aicc_axis_norm(ax, x->rank, &axis)));
  const aicc_dtype_info *info = aicc_dtype_get(x->dtype);
  if (!info ||
      !(info->kind == AICC_DK_FLOAT || info->kind == AICC_DK_INT || info->kind == AICC_DK_UINT))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "%s of %s", c->node->op_type,
                             aicc_dtype_text(x->dtype));
  bool excl = aicc_node_attr_int(c->node, "exclusive", 0) != 0;
  bool rev = aicc_node_attr_int(c->node, "reverse", 0) != 0;
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, x->dtype, x->rank, x->dims, &y));
  int64_t n = x->rank ? x->dims[axis] : 1, outer = 1, inner = 1;
  for (int d = 0; d < axis; d++) outer *= x->dims[d];
  for (int d = (int)axis + 1; d < x->rank; d++) inner *= x->dims[d];
  bool fl = info->kind == AICC_DK_FLOAT;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t q = 0; q < inner; q++) {
      int64_t base = o * n * inner + q;
      /* The running sum lives in the output's dtype (read back after each
       * store) so narrow floats round at every step, as numpy does. */
      double accf = product ? 1 : 0;
      uint64_t acci = product ? 1 : 0;
      for (int64_t t = 0; t < n; t++) {
        int64_t j = base + (rev ? n - 1 - t : t) * inner;
        if (fl) {
          double v = aicc_tensor_get_f64(x, j);
          if (excl) {
            double prev = accf;
            aicc_tensor_set_f64(y, j, product ? prev * v : prev + v);
            accf = aicc_tensor_get_f64(y, j);
            aicc_tensor_set_f64(y, j, prev);
          } else {
            aicc_tensor_set_f64(y, j, product ? accf * v : accf + v);
            accf = aicc_tensor_get_f64(y, j);
          }
        } else {
          uint64_t v = (uint64_t)aicc_tensor_get_i64(x, j);
          uint64_t next = product ? acci * v : acci + v;
          aicc_tensor_set_i64(y, j, (int64_t)(excl ? acci : next));
          acci = next;
        }
      }
    }
  return NULL;
}

static aicc_status cumsum_kernel(aicc_kernel_ctx *c) { return cumulative(c, false); }
static aicc_status cumprod_kernel(aicc_kernel_ctx *c) { return cumulative(c, true); }

/* ---- random ---- */


static double rng_normal(aicc_rng *r) {
  /* Box-Muller; 1 - u keeps the log argument in (0, 1]. */
  double u = 1.0 - aicc_rng_uniform(r), v = aicc_rng_uniform(r);
  return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

static void rng_seed(aicc_rng *r, const aicc_kernel_ctx *c) {
  const aicc_attr *a = aicc_node_attr(c->node, "seed");
  uint64_t x;
  if (a && !isnan(a->f)) {
    x = (uint64_t)(int64_t)a->f;
  } else {
    /* Unseeded: FNV-1a of the first output's name, a stable per-node seed. */
    x = 1469598103934665603ull;
    for (const char *p = c->node->outputs[0]->name; *p; p++) x = (x ^ (unsigned char)*p) * 1099511628211ull;
  }
  aicc_rng_seed(r, x);
}

static bool random_dtype_ok(aicc_dtype dt) { return aicc_dtype_is_float(dt); }

/* Output dtype: the "dtype" attribute, else the input's (Like ops), else f32. */
static aicc_dtype random_dtype(const aicc_node *n, aicc_dtype in) {
  int64_t dt = aicc_node_attr_int(n, "dtype", 0);
  return dt ? (aicc_dtype)dt : in != AICC_DTYPE_UNDEFINED ? in : AICC_DTYPE_F32;
}

static aicc_status random_infer(aicc_infer_ctx *c) {
  bool like = c->n_in > 0;
  aicc_dtype dt = random_dtype(c->node, like ? aicc_infer_in_dtype(c, 0) : AICC_DTYPE_UNDEFINED);
  if (!aicc_dtype_valid(dt)) return aicc_infer_error(c, AICC_ERR_INVALID, "bad dtype");
  if (like) {
    if (aicc_infer_unranked(c, dt)) return NULL;
    aicc_infer_set(c, 0, dt, c->in[0]->rank, c->in[0]->dims);
    return NULL;
  }
  int64_t k;
  const int64_t *shape = aicc_node_attr_ints(c->node, "shape", &k);
  if (!shape || k > AICC_MAX_RANK)
    return aicc_infer_error(c, AICC_ERR_INVALID, "bad shape attribute");
  aicc_dim out[AICC_MAX_RANK];
  for (int d = 0; d < k; d++) {
    if (shape[d] < 0) return aicc_infer_error(c, AICC_ERR_SHAPE, "negative dim");
    out[d] = aicc_dim_known(shape[d]);
  }
  aicc_infer_set(c, 0, dt, (int)k, out);
  return NULL;
}

/* Shared body of RandomNormal/Uniform(Like): normal selects the law. */
static aicc_status random_common(aicc_kernel_ctx *c, bool normal) {
  bool like = c->n_in > 0;
  if (like) AICC_TRY(aicc_kernel_need_tensor(c, 0));
  aicc_dtype dt = random_dtype(c->node, like ? c->in[0]->dtype : AICC_DTYPE_UNDEFINED);
  if (!random_dtype_ok(dt))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "dtype %s", aicc_dtype_text(dt));
  int64_t k = 0;
  const int64_t *dims;
  if (like) {
    dims = c->in[0]->dims;
    k = c->in[0]->rank;
  } else {
    dims = aicc_node_attr_ints(c->node, "shape", &k);
    if (!dims || k > AICC_MAX_RANK)
      return aicc_kernel_error(c, AICC_ERR_INVALID, "bad shape attribute");
  }
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, dt, (int)k, dims, &y));
  aicc_rng r;
  rng_seed(&r, c);
  double p0 = normal ? aicc_node_attr_float(c->node, "mean", 0.f)
                     : aicc_node_attr_float(c->node, "low", 0.f);
  double p1 = normal ? aicc_node_attr_float(c->node, "scale", 1.f)
                     : aicc_node_attr_float(c->node, "high", 1.f);
  int64_t n = aicc_tensor_numel(y);
  for (int64_t i = 0; i < n; i++) {
    double v = normal ? p0 + p1 * rng_normal(&r) : p0 + (p1 - p0) * aicc_rng_uniform(&r);
    aicc_tensor_set_f64(y, i, v);
  }
  return NULL;
}

static aicc_status random_normal_kernel(aicc_kernel_ctx *c) { return random_common(c, true); }
static aicc_status random_uniform_kernel(aicc_kernel_ctx *c) { return random_common(c, false); }

static aicc_status bernoulli_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  const aicc_tensor *p = c->in[0];
  if (!aicc_dtype_is_float(p->dtype))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "probabilities must be floats");
  aicc_dtype dt = random_dtype(c->node, p->dtype);
  if (!aicc_dtype_valid(dt) || dt == AICC_DTYPE_STRING)
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "dtype %d", (int)dt);
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, dt, p->rank, p->dims, &y));
  aicc_rng r;
  rng_seed(&r, c);
  int64_t n = aicc_tensor_numel(y);
  for (int64_t i = 0; i < n; i++)
    aicc_tensor_set_f64(y, i, aicc_rng_uniform(&r) < aicc_tensor_get_f64(p, i) ? 1.0 : 0.0);
  return NULL;
}

static aicc_dtype multinomial_dtype(const aicc_node *n) {
  return (aicc_dtype)aicc_node_attr_int(n, "dtype", AICC_DTYPE_I32);
}

static aicc_status multinomial_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = multinomial_dtype(c->node);
  aicc_dim out[2] = {aicc_dim_unknown(),
                     aicc_dim_known(aicc_node_attr_int(c->node, "sample_size", 1))};
  if (aicc_infer_has_rank(c, 0)) {
    if (c->in[0]->rank != 2) return aicc_infer_error(c, AICC_ERR_SHAPE, "input must be 2-D");
    out[0] = c->in[0]->dims[0];
  }
  aicc_infer_set(c, 0, dt, 2, out);
  return NULL;
}

static aicc_status multinomial_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(aicc_kernel_need_tensor(c, 0));
  const aicc_tensor *x = c->in[0];
  if (x->rank != 2 || !aicc_dtype_is_float(x->dtype))
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "input must be 2-D floats");
  aicc_dtype dt = multinomial_dtype(c->node);
  if (dt != AICC_DTYPE_I32 && dt != AICC_DTYPE_I64)
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "dtype must be int32 or int64");
  int64_t samples = aicc_node_attr_int(c->node, "sample_size", 1);
  if (samples < 0) return aicc_kernel_error(c, AICC_ERR_INVALID, "negative sample_size");
  int64_t out[2] = {x->dims[0], samples}, classes = x->dims[1];
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, dt, 2, out, &y));
  double *cdf = malloc(sizeof(double) * (size_t)(classes ? classes : 1));
  if (!cdf) return aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
  aicc_rng r;
  rng_seed(&r, c);
  for (int64_t b = 0; b < x->dims[0]; b++) {
    /* Input rows are unnormalized log-probabilities: softmax, then invert
     * the cumulative distribution. */
    double mx = -INFINITY, sum = 0;
    for (int64_t k = 0; k < classes; k++) mx = fmax(mx, aicc_tensor_get_f64(x, b * classes + k));
    for (int64_t k = 0; k < classes; k++) {
      sum += exp(aicc_tensor_get_f64(x, b * classes + k) - mx);
      cdf[k] = sum;
    }
    for (int64_t s = 0; s < samples; s++) {
      double u = aicc_rng_uniform(&r) * sum;
      int64_t k = 0;
      while (k < classes - 1 && cdf[k] <= u) k++;
      aicc_tensor_set_i64(y, b * samples + s, k);
    }
  }
  free(cdf);
  return NULL;
}

/* ---- table ---- */

static const aicc_attr_spec range_attrs[] = {AICC_A_INT("stash_type"), AICC_A_END};
static const aicc_attr_spec cumsum_attrs[] = {AICC_A_INT("exclusive"), AICC_A_INT("reverse"),
                                              AICC_A_END};
static const aicc_attr_spec rnormal_attrs[] = {AICC_A_INTS("shape"), AICC_A_INT("dtype"),
                                               AICC_A_FLOAT("mean"), AICC_A_FLOAT("scale"),
                                               AICC_A_FLOAT("seed"), AICC_A_END};
static const aicc_attr_spec runiform_attrs[] = {AICC_A_INTS("shape"), AICC_A_INT("dtype"),
                                                AICC_A_FLOAT("low"),  AICC_A_FLOAT("high"),
                                                AICC_A_FLOAT("seed"), AICC_A_END};
static const aicc_attr_spec rnormal_like_attrs[] = {AICC_A_INT("dtype"), AICC_A_FLOAT("mean"),
                                                    AICC_A_FLOAT("scale"), AICC_A_FLOAT("seed"),
                                                    AICC_A_END};
static const aicc_attr_spec runiform_like_attrs[] = {AICC_A_INT("dtype"), AICC_A_FLOAT("low"),
                                                     AICC_A_FLOAT("high"), AICC_A_FLOAT("seed"),
                                                     AICC_A_END};
static const aicc_attr_spec bernoulli_attrs[] = {AICC_A_INT("dtype"), AICC_A_FLOAT("seed"),
                                                 AICC_A_END};
static const aicc_attr_spec multinomial_attrs[] = {AICC_A_INT("dtype"), AICC_A_INT("sample_size"),
                                                   AICC_A_FLOAT("seed"), AICC_A_END};

static const aicc_op ops[] = {
    /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
    {"Range", "", 11, 0, 3, 3, 1, 1, range_attrs, range_infer, range_kernel},
    {"CumSum", "", 11, 0, 2, 2, 1, 1, cumsum_attrs, aicc_infer_same_as_input, cumsum_kernel},
    {"CumProd", "", 26, 0, 2, 2, 1, 1, cumsum_attrs, aicc_infer_same_as_input, cumprod_kernel},
    {"RandomNormal", "", 1, 0, 0, 0, 1, 1, rnormal_attrs, random_infer, random_normal_kernel},
    {"RandomUniform", "", 1, 0, 0, 0, 1, 1, runiform_attrs, random_infer, random_uniform_kernel},
    {"RandomNormalLike", "", 1, 0, 1, 1, 1, 1, rnormal_like_attrs, random_infer,
     random_normal_kernel},
    {"RandomUniformLike", "", 1, 0, 1, 1, 1, 1, runiform_like_attrs, random_infer,
     random_uniform_kernel},
    {"Bernoulli", "", 15, 0, 1, 1, 1, 1, bernoulli_attrs, random_infer, bernoulli_kernel},
    {"Multinomial", "", 7, 0, 1, 1, 1, 1, multinomial_attrs, multinomial_infer, multinomial_kernel},
};
const aicc_op_family aicc_family_generate = {"generate", ops, sizeof ops / sizeof ops[0]};
