/* Building blocks of recent language models (opsets 24-28): SwiGLU,
 * TensorScatter (KV-cache writes), LinearAttention (recurrent linear
 * attention with linear / gated / delta / gated-delta state updates) and
 * FlexAttention. (CausalConvWithState lives with the convolutions.) Reference
 * kernels compute in float32 or double as the ONNX reference does. */
#include "ops/util.h"

#include "interp/interp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* --- SwiGLU: A * sigmoid(alpha * A) * B, shapes equal --- */

static aicc_status swiglu_infer(aicc_infer_ctx *c) {
  if (c->in[0] && c->in[1] && aicc_type_is_static(c->in[0]) && aicc_type_is_static(c->in[1]) &&
      !aicc_type_equal(c->in[0], c->in[1]))
    return aicc_infer_error(c, AICC_ERR_SHAPE, "A and B must have the same shape and dtype");
  return aicc_infer_same_as_input(c);
}

static aicc_status swiglu_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *a = c->in[0], *b = c->in[1];
  if (a->dtype != b->dtype || a->rank != b->rank ||
      memcmp(a->dims, b->dims, sizeof(int64_t) * (size_t)a->rank) != 0)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "A and B must have the same shape and dtype");
  double alpha = aicc_node_attr_float(c->node, "alpha", 1.0f);
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, a->dtype, a->rank, a->dims, &y));
  for (int64_t i = 0, n = aicc_tensor_numel(a); i < n; i++) {
    double x = aicc_tensor_get_f64(a, i);
    aicc_tensor_set_f64(y, i, x / (1 + exp(-alpha * x)) * aicc_tensor_get_f64(b, i));
  }
  return NULL;
}

/* --- TensorScatter: writes `update` into a copy of `past_cache` along
 * `axis` at per-batch positions (linear or circular) --- */

static aicc_status tensor_scatter_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *cache = c->in[0], *upd = c->in[1];
  const aicc_tensor *wi = c->n_in > 2 ? c->in[2] : NULL;
  const char *mode = aicc_node_attr_string(c->node, "mode", "linear");
  bool circular = strcmp(mode, "circular") == 0;
  if (!circular && strcmp(mode, "linear") != 0)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "mode '%s' is not linear or circular", mode);
  int r = cache->rank;
  int64_t axis;
  aicc_status s = aicc_axis_norm(aicc_node_attr_int(c->node, "axis", -2), r, &axis);
  if (s) return aicc_kernel_error(c, AICC_ERR_SHAPE, "%s", aicc_status_message(s));
  if (upd->rank != r || upd->dtype != cache->dtype || axis == 0)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "update must match past_cache except along axis");
  for (int d = 0; d < r; d++)
    if (d != axis ? upd->dims[d] != cache->dims[d] : upd->dims[d] > cache->dims[d])
      return aicc_kernel_error(c, AICC_ERR_SHAPE, "update does not fit past_cache at dim %d", d);
  aicc_tensor *y;
  AICC_TRY(aicc_tensor_clone(cache, &y));
  c->out[0] = y;
  int64_t outer = 1, inner = 1, esz = (int64_t)aicc_dtype_storage_bytes(cache->dtype, 1);
  for (int d = 1; d < axis; d++) outer *= cache->dims[d];
  for (int d = (int)axis + 1; d < r; d++) inner *= cache->dims[d];
  int64_t L = cache->dims[axis], U = upd->dims[axis];
  for (int64_t b = 0; b < cache->dims[0]; b++) {
    int64_t start = wi ? aicc_tensor_get_i64(wi, b) : 0;
    for (int64_t o = 0; o < outer; o++)
      for (int64_t u = 0; u < U; u++) {
        int64_t pos = start + u;
        if (circular) pos %= L;
        if (pos < 0 || pos >= L)
          return aicc_kernel_error(c, AICC_ERR_INVALID, "write index %lld out of range",
                                   (long long)pos);
        int64_t dst = ((b * outer + o) * L + pos) * inner, src = ((b * outer + o) * U + u) * inner;
        memcpy((char *)y->data + dst * esz, (const char *)upd->data + src * esz,
               (size_t)(inner * esz));
      }
  }
  return NULL;
}

/* --- LinearAttention --- */

typedef struct la_shape {
  int64_t B, T, Hq, Hkv, dk, dv;
} la_shape;

static aicc_status la_shape_get(const aicc_node *n, const aicc_dim *q, const aicc_dim *v,
                                la_shape *s, bool *known) {
  s->Hq = aicc_node_attr_int(n, "q_num_heads", 0);
  s->Hkv = aicc_node_attr_int(n, "kv_num_heads", 0);
  if (s->Hq <= 0 || s->Hkv <= 0 || s->Hq % s->Hkv)
    return aicc_errorf(AICC_ERR_INVALID, "q_num_heads must be a positive multiple of kv_num_heads");
  *known = aicc_dim_is_known(q[0]) && aicc_dim_is_known(q[1]) && aicc_dim_is_known(q[2]) &&
           aicc_dim_is_known(v[2]);
  if (!*known) return NULL;
  s->B = q[0].size;
  s->T = q[1].size;
  if (q[2].size % s->Hq || v[2].size % s->Hkv)
    return aicc_errorf(AICC_ERR_SHAPE, "hidden sizes are not divisible by the head counts");
  s->dk = q[2].size / s->Hq;
  s->dv = v[2].size / s->Hkv;
  return NULL;
}

static aicc_status la_infer(aicc_infer_ctx *c) {
  for (int i = 0; i < 3; i++)
    if (!aicc_infer_has_rank(c, i)) return NULL;
  if (c->in[0]->rank != 3 || c->in[2]->rank != 3)
    return aicc_infer_error(c, AICC_ERR_SHAPE, "query/key/value must be rank 3");
  la_shape s;
  bool known;
  aicc_status st = la_shape_get(c->node, c->in[0]->dims, c->in[2]->dims, &s, &known);
  if (st) return aicc_status_wrap(st, "node '%s' (LinearAttention)", c->node->name);
  aicc_dtype dt = c->in[0]->dtype;
  if (!known) {
    aicc_infer_set(c, 0, dt, 3, NULL);
    return NULL;
  }
  aicc_dim o[3] = {aicc_dim_known(s.B), aicc_dim_known(s.T), aicc_dim_known(s.Hq * s.dv)};
  aicc_infer_set(c, 0, dt, 3, o);
  if (c->n_out > 1) {
    aicc_dim d[4] = {aicc_dim_known(s.B), aicc_dim_known(s.Hkv), aicc_dim_known(s.dk),
                     aicc_dim_known(s.dv)};
    aicc_dtype sdt = c->n_in > 3 && c->in[3] ? c->in[3]->dtype : dt;
    aicc_infer_set(c, 1, sdt, 4, d);
  }
  return NULL;
}

static aicc_status la_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *q = c->in[0], *k = c->in[1], *v = c->in[2];
  const aicc_tensor *past = c->n_in > 3 ? c->in[3] : NULL, *decay = c->n_in > 4 ? c->in[4] : NULL;
  const aicc_tensor *beta = c->n_in > 5 ? c->in[5] : NULL;
  if (q->rank != 3 || k->rank != 3 || v->rank != 3)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "query/key/value must be rank 3");
  aicc_type qt = aicc_type_of(q), vt = aicc_type_of(v);
  la_shape s;
  bool known;
  aicc_status st = la_shape_get(c->node, qt.dims, vt.dims, &s, &known);
  if (st) return aicc_kernel_error(c, aicc_status_code(st), "%s", aicc_status_message(st));
  const char *rule = aicc_node_attr_string(c->node, "update_rule", "gated_delta");
  bool gating = strcmp(rule, "gated") == 0 || strcmp(rule, "gated_delta") == 0;
  bool delta = strcmp(rule, "delta") == 0 || strcmp(rule, "gated_delta") == 0;
  if (!gating && !delta && strcmp(rule, "linear") != 0)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "unknown update_rule '%s'", rule);
  if (gating != (decay != NULL) || delta != (beta != NULL))
    return aicc_kernel_error(c, AICC_ERR_INVALID, "update_rule '%s' %s decay and %s beta", rule,
                             gating ? "needs" : "forbids", delta ? "needs" : "forbids");
  int64_t B = s.B, T = s.T, Hq = s.Hq, Hkv = s.Hkv, dk = s.dk, dv = s.dv, G = Hq / Hkv;
  if (k->dims[0] != B || k->dims[1] != T || k->dims[2] != Hkv * dk || v->dims[0] != B || v->dims[1] != T)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "key/value shapes do not match query");
  int64_t dlast = decay ? decay->dims[decay->rank - 1] : 0, blast = beta ? beta->dims[beta->rank - 1] : 0;
  if (decay && (decay->rank != 3 || (dlast != Hkv && dlast != Hkv * dk)))
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "decay must be [B, T, H_kv] or [B, T, H_kv*d_k]");
  if (beta && (beta->rank != 3 || (blast != Hkv && blast != 1)))
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "beta must be [B, T, H_kv] or [B, T, 1]");
  if (past && (past->rank != 4 || past->dims[0] != B || past->dims[1] != Hkv || past->dims[2] != dk ||
               past->dims[3] != dv))
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "past_state must be [B, H_kv, d_k, d_v]");
  double scale = aicc_node_attr_float(c->node, "scale", 0.0f);
  if (scale == 0) scale = 1.0 / sqrt((double)dk);
  int64_t od[3] = {B, T, Hq * dv}, sd[4] = {B, Hkv, dk, dv};
  aicc_tensor *y, *ps = NULL;
  AICC_TRY(aicc_kernel_output(c, 0, q->dtype, 3, od, &y));
  if (c->n_out > 1 && c->want[1])
    AICC_TRY(aicc_kernel_output(c, 1, past ? past->dtype : q->dtype, 4, sd, &ps));
  int64_t ns = B * Hkv * dk * dv;
  float *S = calloc((size_t)(ns + dv * 2 + 1), sizeof *S);
  if (!S) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  float *vt_ = S + ns, *ret = vt_ + dv;
  for (int64_t i = 0; past && i < ns; i++) S[i] = (float)aicc_tensor_get_f64(past, i);
  for (int64_t t = 0; t < T; t++) {
    for (int64_t b = 0; b < B; b++)
      for (int64_t h = 0; h < Hkv; h++) {
        float *Sh = S + (b * Hkv + h) * dk * dv;
        int64_t kr = (b * T + t) * Hkv * dk + h * dk, vr = (b * T + t) * Hkv * dv + h * dv;
        if (gating)
          for (int64_t d = 0; d < dk; d++) {
            int64_t gi = (b * T + t) * dlast + (dlast == Hkv ? h : h * dk + d);
            float g = expf((float)aicc_tensor_get_f64(decay, gi));
            for (int64_t m = 0; m < dv; m++) Sh[d * dv + m] *= g;
          }
        for (int64_t m = 0; m < dv; m++) vt_[m] = (float)aicc_tensor_get_f64(v, vr + m);
        if (delta) {
          float bt = (float)aicc_tensor_get_f64(beta, (b * T + t) * blast + (blast == 1 ? 0 : h));
          for (int64_t m = 0; m < dv; m++) {
            float r = 0;
            for (int64_t d = 0; d < dk; d++) r += Sh[d * dv + m] * (float)aicc_tensor_get_f64(k, kr + d);
            ret[m] = r;
          }
          for (int64_t m = 0; m < dv; m++) vt_[m] = bt * (vt_[m] - ret[m]);
        }
        for (int64_t d = 0; d < dk; d++) {
          float kd = (float)aicc_tensor_get_f64(k, kr + d);
          for (int64_t m = 0; m < dv; m++) Sh[d * dv + m] += kd * vt_[m];
        }
        /* Read: every query head of this KV group sees the same state. */
        for (int64_t g = 0; g < G; g++) {
          int64_t hq = h * G + g, qr = (b * T + t) * Hq * dk + hq * dk;
          for (int64_t m = 0; m < dv; m++) {
            float o = 0;
            for (int64_t d = 0; d < dk; d++) o += (float)aicc_tensor_get_f64(q, qr + d) * Sh[d * dv + m];
            aicc_tensor_set_f64(y, (b * T + t) * Hq * dv + hq * dv + m, (float)scale * o);
          }
        }
      }
  }
  for (int64_t i = 0; ps && i < ns; i++) aicc_tensor_set_f64(ps, i, S[i]);
  free(S);
  return NULL;
}

/* --- FlexAttention (ai.onnx.preview): softmax(mod(Q K^T * scale)) V with
 * optional score_mod / prob_mod subgraphs applied to the whole score and
 * probability tensors; GQA by repeating KV heads. --- */

static aicc_status flex_infer(aicc_infer_ctx *c) {
  if (!aicc_infer_has_rank(c, 0) || !aicc_infer_has_rank(c, 2)) return NULL;
  const aicc_type *q = c->in[0], *v = c->in[2];
  if (q->rank != 4 || v->rank != 4) return aicc_infer_error(c, AICC_ERR_SHAPE, "Q, K, V must be rank 4");
  aicc_dim d[4] = {q->dims[0], q->dims[1], q->dims[2], v->dims[3]};
  aicc_infer_set(c, 0, v->dtype, 4, d);
  return NULL;
}

/* Runs a one-input, one-output modifier subgraph on x (takes x). */
static aicc_status run_mod(aicc_kernel_ctx *c, const char *name, aicc_tensor **x) {
  aicc_graph *g = aicc_node_attr_graph(c->node, name);
  if (!g) return NULL;
  aicc_tensor *out = NULL;
  aicc_status s = aicc_interp_run_subgraph(c->interp, g, x, 1, &out, 1);
  aicc_tensor_release(*x);
  *x = out;
  if (!s && !out) s = aicc_errorf(AICC_ERR_INTERNAL, "%s produced no value", name);
  return s;
}

static aicc_status flex_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *q = c->in[0], *k = c->in[1], *v = c->in[2];
  if (q->rank != 4 || k->rank != 4 || v->rank != 4)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "Q, K, V must be rank 4");
  int64_t B = q->dims[0], Hq = q->dims[1], L = q->dims[2], E = q->dims[3];
  int64_t Hkv = k->dims[1], S = k->dims[2], Ev = v->dims[3];
  if (k->dims[0] != B || v->dims[0] != B || v->dims[1] != Hkv || v->dims[2] != S || k->dims[3] != E ||
      Hkv <= 0 || Hq % Hkv)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "Q/K/V shapes do not agree");
  const aicc_attr *sa = aicc_node_attr(c->node, "scale");
  double scale = sa ? sa->f : 1.0 / sqrt((double)E);
  aicc_dtype cdt = aicc_node_attr_int(c->node, "softmax_precision", 0)
                       ? (aicc_dtype)aicc_node_attr_int(c->node, "softmax_precision", 0)
                       : (q->dtype == AICC_DTYPE_F64 ? AICC_DTYPE_F64 : AICC_DTYPE_F32);
  int64_t sd[4] = {B, Hq, L, S}, G = Hq / Hkv;
  aicc_tensor *sc;
  AICC_TRY(aicc_tensor_create(cdt, 4, sd, &sc));
  for (int64_t b = 0; b < B; b++)
    for (int64_t h = 0; h < Hq; h++)
      for (int64_t i = 0; i < L; i++)
        for (int64_t j = 0; j < S; j++) {
          double acc = 0;
          for (int64_t e = 0; e < E; e++)
            acc += aicc_tensor_get_f64(q, ((b * Hq + h) * L + i) * E + e) *
                   aicc_tensor_get_f64(k, ((b * Hkv + h / G) * S + j) * E + e);
          aicc_tensor_set_f64(sc, ((b * Hq + h) * L + i) * S + j, acc * scale);
        }
  aicc_status s = run_mod(c, "score_mod", &sc);
  if (!s && (sc->kind != AICC_KIND_TENSOR || aicc_tensor_numel(sc) != B * Hq * L * S))
    s = aicc_kernel_error(c, AICC_ERR_SHAPE, "score_mod must keep the score shape");
  for (int64_t r = 0; !s && r < B * Hq * L; r++) {
    double mx = -INFINITY, sum = 0;
    for (int64_t j = 0; j < S; j++) mx = fmax(mx, aicc_tensor_get_f64(sc, r * S + j));
    for (int64_t j = 0; j < S; j++) sum += exp(aicc_tensor_get_f64(sc, r * S + j) - mx);
    for (int64_t j = 0; j < S; j++)
      aicc_tensor_set_f64(sc, r * S + j, exp(aicc_tensor_get_f64(sc, r * S + j) - mx) / sum);
  }
  if (!s) s = run_mod(c, "prob_mod", &sc);
  if (!s && (sc->kind != AICC_KIND_TENSOR || aicc_tensor_numel(sc) != B * Hq * L * S))
    s = aicc_kernel_error(c, AICC_ERR_SHAPE, "prob_mod must keep the probability shape");
  int64_t od[4] = {B, Hq, L, Ev};
  aicc_tensor *y;
  if (!s) s = aicc_kernel_output(c, 0, v->dtype, 4, od, &y);
  for (int64_t b = 0; !s && b < B; b++)
    for (int64_t h = 0; h < Hq; h++)
      for (int64_t i = 0; i < L; i++)
        for (int64_t e = 0; e < Ev; e++) {
          double acc = 0;
          for (int64_t j = 0; j < S; j++)
            acc += aicc_tensor_get_f64(sc, ((b * Hq + h) * L + i) * S + j) *
                   aicc_tensor_get_f64(v, ((b * Hkv + h / G) * S + j) * Ev + e);
          aicc_tensor_set_f64(y, ((b * Hq + h) * L + i) * Ev + e, acc);
        }
  aicc_tensor_release(sc);
  return s;
}

static const aicc_attr_spec swiglu_attrs[] = {AICC_A_FLOAT("alpha"), AICC_A_END};
static const aicc_attr_spec scatter_attrs[] = {AICC_A_STRING("mode"), AICC_A_INT("axis"), AICC_A_END};
static const aicc_attr_spec la_attrs[] = {AICC_A_INT("chunk_size"), AICC_A_INT("kv_num_heads"),
                                          AICC_A_INT("q_num_heads"), AICC_A_FLOAT("scale"),
                                          AICC_A_STRING("update_rule"), AICC_A_END};

static const aicc_attr_spec flex_attrs[] = {
    AICC_A_FLOAT("scale"), AICC_A_INT("softmax_precision"), {"score_mod", AICC_ATTR_GRAPH, false},
    {"prob_mod", AICC_ATTR_GRAPH, false}, AICC_A_END};

static const aicc_op ops[] = {
    {"FlexAttention", "ai.onnx.preview", 1, 0, 3, 3, 1, 1, flex_attrs, flex_infer, flex_kernel},
    {"SwiGLU", "", 28, 0, 2, 2, 1, 1, swiglu_attrs, swiglu_infer, swiglu_kernel},
    {"TensorScatter", "", 24, 0, 2, 3, 1, 1, scatter_attrs, aicc_infer_same_as_input,
     tensor_scatter_kernel},
    {"LinearAttention", "", 27, 0, 3, 6, 1, 2, la_attrs, la_infer, la_kernel},
};

const aicc_op_family aicc_family_llm = {"llm", ops, sizeof ops / sizeof ops[0]};
