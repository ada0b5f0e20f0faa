/* Attention (opset 23-25: masks, causal with bottom-right offset, sliding
 * windows, GQA/MQA, KV cache concat, softcap, qk output modes) and
 * RotaryEmbedding (opset 23). Split from linalg.c by concept. Computes in
 * double on a canonical (batch, heads, seq, head_size) view; the reference,
 * not the fast path. */
#include "ops/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Copies a Q/K/V tensor into (B, H, S, D) order in double. 3-D inputs are
 * (B, S, H*D) and are split into H heads. */
static double *load_bhsd(const aicc_tensor *t, int64_t H, int64_t *S, int64_t *D) {
  int64_t B = t->dims[0];
  if (t->rank == 4) {
    *S = t->dims[2];
    *D = t->dims[3];
  } else {
    *S = t->dims[1];
    *D = t->dims[2] / H;
  }
  int64_t n = aicc_tensor_numel(t);
  double *out = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  if (!out) return NULL;
  if (t->rank == 4) {
    for (int64_t i = 0; i < n; i++) out[i] = aicc_tensor_get_f64(t, i);
    return out;
  }
  int64_t s_ = *S, d_ = *D;
  for (int64_t b = 0; b < B; b++)
    for (int64_t s = 0; s < s_; s++)
      for (int64_t h = 0; h < H; h++)
        for (int64_t d = 0; d < d_; d++)
          out[((b * H + h) * s_ + s) * d_ + d] =
              aicc_tensor_get_f64(t, (b * s_ + s) * H * d_ + h * d_ + d);
  return out;
}

typedef struct att_shape {
  int64_t B, Hq, Hkv, Sq, Skv, P, L, D, Dv;
  bool rank3;
} att_shape;

static aicc_status att_shape_get(const aicc_node *node, const aicc_type *const *in, int n_in,
                                 att_shape *a) {
  const aicc_type *q = in[0], *k = in[1], *v = in[2];
  const aicc_type *pk = n_in > 4 ? in[4] : NULL;
  if (q->rank != k->rank || q->rank != v->rank || (q->rank != 3 && q->rank != 4))
    return aicc_errorf(AICC_ERR_SHAPE, "Q, K, V must all be 3-D or all 4-D");
  memset(a, 0, sizeof *a);
  a->rank3 = q->rank == 3;
  /* -1 marks an unknown size; callers treat it as such. */
#define DS(t, i) (aicc_dim_is_known((t)->dims[i]) ? (t)->dims[i].size : -1)
  a->B = DS(q, 0);
  if (a->rank3) {
    a->Hq = aicc_node_attr_int(node, "q_num_heads", 0);
    a->Hkv = aicc_node_attr_int(node, "kv_num_heads", 0);
    if (a->Hq <= 0 || a->Hkv <= 0)
      return aicc_errorf(AICC_ERR_INVALID, "3-D inputs need q_num_heads and kv_num_heads");
    a->Sq = DS(q, 1);
    a->Skv = DS(k, 1);
    a->D = DS(q, 2) < 0 ? -1 : DS(q, 2) / a->Hq;
    a->Dv = DS(v, 2) < 0 ? -1 : DS(v, 2) / a->Hkv;
  } else {
    a->Hq = DS(q, 1);
    a->Hkv = DS(k, 1);
    a->Sq = DS(q, 2);
    a->Skv = DS(k, 2);
    a->D = DS(q, 3);
    a->Dv = DS(v, 3);
  }
  a->P = 0;
  if (pk && pk->kind != AICC_KIND_NONE) a->P = pk->rank == 4 ? DS(pk, 2) : -1;
#undef DS
  a->L = a->P < 0 || a->Skv < 0 ? -1 : a->P + a->Skv;
  return NULL;
}

/* Rounds x to dtype dt. The spec's function body (and its reference) runs in
 * the input precision, so narrow types round after every step; emulating
 * that keeps bf16 results within an ulp of theirs. */
static double rnd(aicc_dtype dt, double x) {
  switch (dt) {
  case AICC_DTYPE_F32: return (float)x;
  case AICC_DTYPE_F16: return aicc_f16_to_f32(aicc_f32_to_f16((float)x));
  case AICC_DTYPE_BF16: return aicc_bf16_to_f32(aicc_f32_to_bf16((float)x));
  default: return x;
  }
}

static aicc_dim dk(int64_t v) { return v < 0 ? aicc_dim_unknown() : aicc_dim_known(v); }

static aicc_status attention_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = c->in[0] ? c->in[0]->dtype : AICC_DTYPE_UNDEFINED;
  for (int i = 0; i < 3; i++)
    if (!aicc_infer_has_rank(c, i)) {
      for (int o = 0; o < c->n_out; o++) aicc_infer_set(c, o, dt, -1, NULL);
      return NULL;
    }
  att_shape a;
  aicc_status s = att_shape_get(c->node, c->in, c->n_in, &a);
  if (s) {
    char buf[256];
    return aicc_status_wrap(s, "%s", aicc_node_describe(c->node, buf, sizeof buf));
  }
  if (a.rank3) {
    aicc_dim y[3] = {c->in[0]->dims[0], c->in[0]->dims[1],
                     a.Dv < 0 ? aicc_dim_unknown() : aicc_dim_known(a.Hq * a.Dv)};
    aicc_infer_set(c, 0, dt, 3, y);
  } else {
    aicc_dim y[4] = {c->in[0]->dims[0], c->in[0]->dims[1], c->in[0]->dims[2], c->in[2]->dims[3]};
    aicc_infer_set(c, 0, dt, 4, y);
  }
  aicc_dtype kdt = c->in[1]->dtype, vdt = c->in[2]->dtype;
  if (c->n_out > 1) {
    aicc_dim p[4] = {dk(a.B), dk(a.Hkv), dk(a.L), dk(a.D)};
    aicc_infer_set(c, 1, kdt, 4, p);
  }
  if (c->n_out > 2) {
    aicc_dim p[4] = {dk(a.B), dk(a.Hkv), dk(a.L), dk(a.Dv)};
    aicc_infer_set(c, 2, vdt, 4, p);
  }
  if (c->n_out > 3) {
    aicc_dim p[4] = {dk(a.B), dk(a.Hq), dk(a.Sq), dk(a.L)};
    aicc_infer_set(c, 3, dt, 4, p);
  }
  return NULL;
}

/* Concatenates past (B,H,P,D) and cur (B,H,S,D) along the sequence. */
static double *concat_seq(const double *past, const double *cur, int64_t B, int64_t H,
                          int64_t P, int64_t S, int64_t D) {
  int64_t L = P + S;
  double *out = malloc(sizeof(double) * (size_t)(B * H * L * D > 0 ? B * H * L * D : 1));
  if (!out) return NULL;
  for (int64_t bh = 0; bh < B * H; bh++) {
    if (P) memcpy(out + bh * L * D, past + bh * P * D, sizeof(double) * (size_t)(P * D));
    if (S) memcpy(out + bh * L * D + P * D, cur + bh * S * D, sizeof(double) * (size_t)(S * D));
  }
  return out;
}

static aicc_status attention_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *Q = c->in[0], *K = c->in[1], *V = c->in[2];
  const aicc_tensor *mask = c->n_in > 3 ? c->in[3] : NULL;
  const aicc_tensor *pk = c->n_in > 4 ? c->in[4] : NULL, *pv = c->n_in > 5 ? c->in[5] : NULL;
  const aicc_tensor *nonpad = c->n_in > 6 ? c->in[6] : NULL;
  for (int i = 0; i < 3; i++)
    if (!aicc_dtype_is_float(c->in[i]->dtype))
      return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "input %d must be float", i);
  if (!pk != !pv)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "past_key and past_value go together");
  if (nonpad && pk)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "nonpad_kv_seqlen cannot be used with past_key");
  aicc_type ty[6];
  const aicc_type *tp[6];
  for (int i = 0; i < 6; i++) {
    tp[i] = NULL;
    if (i < c->n_in && c->in[i]) {
      ty[i] = aicc_type_of(c->in[i]);
      tp[i] = &ty[i];
    }
  }
  att_shape a;
  aicc_status s = att_shape_get(c->node, tp, c->n_in < 6 ? c->n_in : 6, &a);
  if (s) {
    char buf[256];
    return aicc_status_wrap(s, "%s", aicc_node_describe(c->node, buf, sizeof buf));
  }
  int64_t B = a.B, Hq = a.Hq, Hkv = a.Hkv, Sq, Skv, D, Dk, Dv, Sv, Dv2;
  if (Hkv <= 0 || Hq % Hkv != 0)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "q heads %lld not a multiple of kv heads %lld",
                             (long long)Hq, (long long)Hkv);
  double *q = load_bhsd(Q, Hq, &Sq, &D), *k = load_bhsd(K, Hkv, &Skv, &Dk);
  double *v = load_bhsd(V, Hkv, &Sv, &Dv);
  double *kk = NULL, *vv = NULL, *pkd = NULL, *pvd = NULL, *sc = NULL, *bias = NULL, *raw = NULL;
  aicc_tensor *Y = NULL;
  if (!q || !k || !v) goto nomem;
  if (Dk != D || Sv != Skv || K->dims[0] != B || V->dims[0] != B) {
    s = aicc_kernel_error(c, AICC_ERR_SHAPE, "Q/K/V shapes disagree");
    goto done;
  }
  int64_t P = 0;
  if (pk) {
    if (pk->rank != 4 || pv->rank != 4 || pk->dims[0] != B || pk->dims[1] != Hkv ||
        pk->dims[3] != D || pv->dims[0] != B || pv->dims[1] != Hkv || pv->dims[3] != Dv ||
        pv->dims[2] != pk->dims[2]) {
      s = aicc_kernel_error(c, AICC_ERR_SHAPE, "past_key/past_value shapes disagree with K/V");
      goto done;
    }
    P = pk->dims[2];
    int64_t dummy;
    pkd = load_bhsd(pk, Hkv, &dummy, &Dv2);
    pvd = load_bhsd(pv, Hkv, &dummy, &Dv2);
    if (!pkd || !pvd) goto nomem;
  }
  int64_t L = P + Skv;
  kk = concat_seq(pkd, k, B, Hkv, P, Skv, D);
  vv = concat_seq(pvd, v, B, Hkv, P, Skv, Dv);
  if (!kk || !vv) goto nomem;

  /* Attributes. The scale multiplies both Q and K by sqrt(scale), as the
   * spec's function body does (it bounds the magnitude of Q*K^T). */
  const aicc_attr *sa = aicc_node_attr(c->node, "scale");
  double scale = sa ? sa->f : 1.0 / sqrt((double)D);
  aicc_dtype dt = Q->dtype;
  double sq = rnd(dt, sqrt(scale));
  /* softmax_precision: the dtype the softmax runs in (default: the input's). */
  int64_t spv = aicc_node_attr_int(c->node, "softmax_precision", 0);
  aicc_dtype sdt = spv && aicc_dtype_valid((int)spv) && aicc_dtype_is_float((aicc_dtype)spv)
                       ? (aicc_dtype)spv : dt;
  int causal = aicc_node_attr_int(c->node, "is_causal", 0) != 0;
  double softcap = aicc_node_attr_float(c->node, "softcap", 0.0f);
  int mode = (int)aicc_node_attr_int(c->node, "qk_matmul_output_mode", 0);
  int64_t lw = aicc_node_attr_int(c->node, "left_window_size", -1);
  int64_t rw = aicc_node_attr_int(c->node, "right_window_size", -1);
  bool window = lw >= 0 || rw >= 0;

  /* The mask broadcasts right-aligned against (B, Hq, Sq, mask_len); keys
   * beyond mask_len are masked out (the spec pads with -inf / false). */
  int64_t mstr[4] = {0, 0, 0, 0}, mlen = 0;
  bool mbool = false;
  if (mask) {
    if (mask->rank < 1 || mask->rank > 4) {
      s = aicc_kernel_error(c, AICC_ERR_SHAPE, "attn_mask must have rank 1..4");
      goto done;
    }
    mlen = mask->dims[mask->rank - 1];
    int64_t tgt[4] = {B, Hq, Sq, mlen};
    for (int d = 0; d < mask->rank; d++) {
      int64_t want = tgt[4 - mask->rank + d];
      if (mask->dims[d] != 1 && mask->dims[d] != want) {
        s = aicc_kernel_error(c, AICC_ERR_SHAPE, "attn_mask cannot broadcast to [%lld,%lld,%lld,%lld]",
                              (long long)B, (long long)Hq, (long long)Sq, (long long)mlen);
        goto done;
      }
    }
    aicc_broadcast_strides(mask->dims, mask->rank, tgt, 4, mstr);
    mbool = mask->dtype == AICC_DTYPE_BOOL;
  }
  if (nonpad && aicc_tensor_numel(nonpad) != B) {
    s = aicc_kernel_error(c, AICC_ERR_SHAPE, "nonpad_kv_seqlen must have batch_size values");
    goto done;
  }

  int64_t ydims[4];
  if (a.rank3) {
    ydims[0] = B; ydims[1] = Sq; ydims[2] = Hq * Dv;
  } else {
    ydims[0] = B; ydims[1] = Hq; ydims[2] = Sq; ydims[3] = Dv;
  }
  s = aicc_kernel_output(c, 0, Q->dtype, a.rank3 ? 3 : 4, ydims, &Y);
  if (s) goto done;
  aicc_tensor *QK = NULL;
  if (c->n_out > 3 && c->want[3]) {
    int64_t qd[4] = {B, Hq, Sq, L};
    s = aicc_kernel_output(c, 3, Q->dtype, 4, qd, &QK);
    if (s) goto done;
  }
  for (int o = 1; o <= 2 && o < c->n_out; o++) {
    if (!c->want[o]) continue;
    int64_t pd[4] = {B, Hkv, L, o == 1 ? D : Dv};
    aicc_tensor *t;
    s = aicc_kernel_output(c, o, o == 1 ? K->dtype : V->dtype, 4, pd, &t);
    if (s) goto done;
    const double *src = o == 1 ? kk : vv;
    int64_t n = aicc_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) aicc_tensor_set_f64(t, i, src[i]);
  }
  sc = malloc(sizeof(double) * (size_t)(L > 0 ? L : 1));
  bias = malloc(sizeof(double) * (size_t)(L > 0 ? L : 1));
  raw = malloc(sizeof(double) * (size_t)(L > 0 ? L : 1));
  if (!sc || !bias || !raw) goto nomem;
  int64_t rep = Hq / Hkv;
  for (int64_t i = 0; i < B * Hq * Sq * D; i++) q[i] = rnd(dt, q[i] * sq);
  for (int64_t i = 0; i < B * Hkv * L * D; i++) kk[i] = rnd(dt, kk[i] * sq);
  for (int64_t b = 0; b < B; b++) {
    /* Offset of the query block among the keys: bottom-right alignment. */
    int64_t npad = nonpad ? aicc_tensor_get_i64(nonpad, b) : L;
    int64_t off = pk ? P : nonpad ? npad - Sq : 0;
    for (int64_t h = 0; h < Hq; h++) {
      int64_t hk = h / rep; /* GQA: kv head shared by `rep` consecutive q heads */
      const double *kh = kk + (b * Hkv + hk) * L * D, *vh = vv + (b * Hkv + hk) * L * Dv;
      for (int64_t i = 0; i < Sq; i++) {
        const double *qi = q + ((b * Hq + h) * Sq + i) * D;
        double bmax = -INFINITY;
        for (int64_t j = 0; j < L; j++) {
          double acc = 0.0;
          for (int64_t d = 0; d < D; d++) acc += qi[d] * kh[j * D + d];
          acc = rnd(dt, acc);
          raw[j] = acc;
          if (softcap > 0) acc = rnd(dt, softcap * rnd(dt, tanh(rnd(dt, acc / softcap))));
          sc[j] = acc;
          double bj = 0.0;
          if (mask) {
            if (j >= mlen) bj = -INFINITY;
            else {
              int64_t mi = b * mstr[0] + h * mstr[1] + i * mstr[2] + j * mstr[3];
              if (mbool) bj = aicc_tensor_get_i64(mask, mi) ? 0.0 : -INFINITY;
              else bj = rnd(dt, aicc_tensor_get_f64(mask, mi));
            }
          }
          if (causal && j > i + off) bj = -INFINITY;
          if (window) {
            int64_t diff = i + off - j;
            if ((lw >= 0 && diff > lw) || (rw >= 0 && -diff > rw)) bj = -INFINITY;
          }
          if (nonpad && j >= npad) bj = -INFINITY;
          bias[j] = bj;
          if (bj > bmax) bmax = bj;
        }
        double *qko = NULL;
        if (QK) {
          /* Modes 0/1 are the logits before / after softcap; 2 adds the bias. */
          for (int64_t j = 0; j < L; j++) {
            double val = mode == 0 ? raw[j] : mode == 1 ? sc[j] : rnd(dt, sc[j] + bias[j]);
            aicc_tensor_set_f64(QK, ((b * Hq + h) * Sq + i) * L + j, val);
          }
          if (mode == 3) qko = sc; /* overwritten with probabilities below */
        }
        /* Softmax of logits + bias; a row whose bias is all -inf has no key
         * to attend and yields zeros (not NaN), as the spec requires. */
        bool dead = isinf(bmax) && bmax < 0;
        double m = -INFINITY;
        for (int64_t j = 0; j < L; j++) {
          sc[j] = rnd(sdt, rnd(dt, sc[j] + bias[j]));
          if (sc[j] > m) m = sc[j];
        }
        if (isinf(m) && m < 0) m = 0.0;
        /* numpy sums bfloat16 sequentially in bfloat16; wider types are
         * summed in (at least) float precision. */
        double sum = 0.0;
        for (int64_t j = 0; j < L; j++) {
          sc[j] = rnd(sdt, exp(rnd(sdt, sc[j] - m)));
          sum = sdt == AICC_DTYPE_BF16 ? rnd(sdt, sum + sc[j]) : sum + sc[j];
        }
        sum = rnd(sdt, sum);
        if (sum == 0.0) sum = 1.0;
        for (int64_t j = 0; j < L; j++) sc[j] = dead ? 0.0 : rnd(dt, rnd(sdt, sc[j] / sum));
        if (qko)
          for (int64_t j = 0; j < L; j++)
            aicc_tensor_set_f64(QK, ((b * Hq + h) * Sq + i) * L + j, sc[j]);
        for (int64_t d = 0; d < Dv; d++) {
          double acc = 0.0;
          for (int64_t j = 0; j < L; j++) acc += sc[j] * vh[j * Dv + d];
          int64_t yi = a.rank3 ? (b * Sq + i) * Hq * Dv + h * Dv + d
                               : ((b * Hq + h) * Sq + i) * Dv + d;
          aicc_tensor_set_f64(Y, yi, acc);
        }
      }
    }
  }
  goto done;
nomem:
  s = aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
done:
  free(q); free(k); free(v); free(kk); free(vv); free(pkd); free(pvd);
  free(sc); free(bias); free(raw);
  return s;
}

/* ---- RotaryEmbedding ---- */

static aicc_status rotary_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *X = c->in[0], *cosc = c->in[1], *sinc = c->in[2];
  const aicc_tensor *pos = c->n_in > 3 ? c->in[3] : NULL;
  if (!aicc_dtype_is_float(X->dtype) || !aicc_dtype_is_float(cosc->dtype) ||
      !aicc_dtype_is_float(sinc->dtype))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "inputs must be float tensors");
  if (X->rank != 3 && X->rank != 4)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "input must be 3-D or 4-D");
  bool inter = aicc_node_attr_int(c->node, "interleaved", 0) != 0;
  int64_t B = X->dims[0], S, H, D;
  if (X->rank == 4) {
    H = X->dims[1];
    S = X->dims[2];
    D = X->dims[3];
  } else {
    H = aicc_node_attr_int(c->node, "num_heads", 0);
    S = X->dims[1];
    if (H <= 0 || X->dims[2] % H != 0)
      return aicc_kernel_error(c, AICC_ERR_INVALID, "3-D input needs num_heads dividing %lld",
                               (long long)X->dims[2]);
    D = X->dims[2] / H;
  }
  int64_t rd = aicc_node_attr_int(c->node, "rotary_embedding_dim", 0);
  if (rd == 0) rd = D;
  if (rd > D || rd % 2)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "rotary_embedding_dim %lld invalid for head size %lld",
                             (long long)rd, (long long)D);
  int64_t half = rd / 2;
  int64_t cn = aicc_tensor_numel(cosc);
  if (cosc->dims[cosc->rank - 1] != half || aicc_tensor_numel(sinc) != cn)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "cos/sin cache last dim must be %lld", (long long)half);
  if (!pos && cn != B * S * half)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "without position_ids the caches must be [B, S, %lld]",
                             (long long)half);
  if (pos && aicc_tensor_numel(pos) != B * S)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "position_ids must be [batch, seq]");
  int64_t rows = cn / (half ? half : 1);
  aicc_tensor *Y;
  AICC_TRY(aicc_kernel_output(c, 0, X->dtype, X->rank, X->dims, &Y));
  for (int64_t b = 0; b < B; b++)
    for (int64_t s = 0; s < S; s++) {
      int64_t row = b * S + s;
      if (pos) {
        row = aicc_tensor_get_i64(pos, b * S + s);
        if (row < 0 || row >= rows)
          return aicc_kernel_error(c, AICC_ERR_INVALID, "position id %lld out of range",
                                   (long long)row);
      }
      for (int64_t h = 0; h < H; h++) {
        int64_t base = X->rank == 4 ? ((b * H + h) * S + s) * D : (b * S + s) * H * D + h * D;
        for (int64_t k = 0; k < half; k++) {
          double co = aicc_tensor_get_f64(cosc, row * half + k);
          double si = aicc_tensor_get_f64(sinc, row * half + k);
          int64_t i1 = inter ? 2 * k : k, i2 = inter ? 2 * k + 1 : k + half;
          double x1 = aicc_tensor_get_f64(X, base + i1), x2 = aicc_tensor_get_f64(X, base + i2);
          aicc_tensor_set_f64(Y, base + i1, co * x1 - si * x2);
          aicc_tensor_set_f64(Y, base + i2, si * x1 + co * x2);
        }
        for (int64_t d = rd; d < D; d++)
          aicc_tensor_set_f64(Y, base + d, aicc_tensor_get_f64(X, base + d));
      }
    }
  return NULL;
}

static const aicc_attr_spec attention_attrs[] = {
    AICC_A_INT("is_causal"),      AICC_A_INT("kv_num_heads"),
    AICC_A_INT("q_num_heads"),    AICC_A_INT("qk_matmul_output_mode"),
    AICC_A_FLOAT("scale"),        AICC_A_FLOAT("softcap"),
    AICC_A_INT("softmax_precision"), AICC_A_INT("left_window_size"),
    AICC_A_INT("right_window_size"), AICC_A_END};
static const aicc_attr_spec rotary_attrs[] = {
    AICC_A_INT("interleaved"), AICC_A_INT("rotary_embedding_dim"), AICC_A_INT("num_heads"),
    AICC_A_END};

static const aicc_op ops[] = {
    /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
    {"Attention", "", 23, 0, 3, 7, 1, 4, attention_attrs, attention_infer, attention_kernel},
    {"RotaryEmbedding", "", 23, 0, 3, 4, 1, 1, rotary_attrs, aicc_infer_same_as_input,
     rotary_kernel},
};

const aicc_op_family aicc_family_attention = {"attention", ops, sizeof ops / sizeof ops[0]};
