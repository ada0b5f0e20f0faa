/* Compute definitions of ops that pick elements by index or position:
 * Gather, GatherElements, GatherND, TensorScatter, OneHot, ReverseSequence
 * (indices read at run time), Trilu, EyeLike and Range. Semantics follow the reference
 * kernels in index.c and generate.c. An index read from a tensor is a load:
 * it is made non-negative (ONNX counts negative indices from the end) and
 * clamped into range, so the data load it feeds is in bounds whatever the
 * index holds (the reference reports an out-of-range index as an error;
 * compiled code reads the nearest valid element instead). */
#include "ops/lower.h"

#include <string.h>

/* ---- helpers (the ones shared with movement.c live in lower_util.c) ---- */

static aicc_status nomem(void) { return aicc_errorf(AICC_ERR_NOMEM, "out of memory"); }

/* An integer (or bool) buffer of indices. */
static aicc_status need_index_buf(aicc_lower_ctx *c, const aicc_loop_buffer *b, const char *what) {
  AICC_TRY(aicc_lower_need_buf(c, b, what));
  if (!aicc_loop_type_is_int(b->type))
    return aicc_lower_unsupported(c, "%s dtype %s is not an integer", what,
                                  aicc_dtype_text(b->type));
  return NULL;
}

static const aicc_loop_expr *k32(aicc_lower_ctx *c, int64_t v) { return aicc_lower_i32(c, v); }

static const aicc_loop_expr *cmp(aicc_lower_ctx *c, aicc_loop_op op, const aicc_loop_expr *a,
                                 const aicc_loop_expr *b) {
  return aicc_loop_binary(c->lc, op, a, b);
}

/* An integer read as a value of i32 or i64: those stay, narrower or
 * unsigned types widen to i64 (as the reference reads every index through
 * aicc_tensor_get_i64), so adding a dim cannot wrap. */
static const aicc_loop_expr *as_wide_int(aicc_lower_ctx *c, const aicc_loop_expr *v) {
  if (!v || v->type == AICC_DTYPE_I32 || v->type == AICC_DTYPE_I64) return v;
  return aicc_loop_cast(c->lc, AICC_DTYPE_I64, v);
}

/* The i32 position along an axis of size n >= 1 named by index value v:
 * v + n when v < 0, then clamped into [0, n) (see the top comment). */
static const aicc_loop_expr *index_in(aicc_lower_ctx *c, const aicc_loop_expr *v, int64_t n) {
  v = as_wide_int(c, v);
  if (!v) return NULL;
  const aicc_loop_expr *zero = aicc_loop_int(c->lc, v->type, 0);
  const aicc_loop_expr *wrapped =
      aicc_loop_add(c->lc, v, aicc_loop_int(c->lc, v->type, n));
  v = aicc_lower_clamp(c, aicc_loop_select(c->lc, cmp(c, AICC_LOOP_LT, v, zero), wrapped, v), 0, n - 1);
  return v && v->type != AICC_DTYPE_I32 ? aicc_loop_cast(c->lc, AICC_DTYPE_I32, v) : v;
}

/* Appends s (body, hints). An empty buffer gets a zero body: no point is
 * computed, and its index expressions may name positions that exist
 * nowhere. */
static aicc_status emit_stage(aicc_lower_ctx *c, aicc_loop_stage *s, const aicc_loop_expr *body,
                              int op_class) {
  if (!s || !body) return nomem();
  s->body = aicc_lower_numel(s->buf) == 0 ? aicc_lower_const(c, s->buf->type, 0) : body;
  s->inlinable = true;
  s->op_class = op_class;
  return aicc_lower_emit(c, s);
}

static aicc_loop_stage *stage_of(aicc_lower_ctx *c, const aicc_loop_buffer *buf,
                                 const aicc_loop_expr **idx) {
  aicc_loop_stage *s = aicc_lower_stage(c, buf);
  if (s) aicc_lower_axis_index(s, idx);
  return s;
}

static bool axis_norm(int64_t a, int rank, int64_t *out) {
  if (a < 0) a += rank;
  if (a < 0 || a >= rank) return false;
  *out = a;
  return true;
}

/* Loads element 0 of a one-element buffer (any rank). */
static const aicc_loop_expr *load_scalar(aicc_lower_ctx *c, const aicc_loop_buffer *b) {
  const aicc_loop_expr *zero[AICC_MAX_LOOP_RANK];
  for (int i = 0; i < b->rank; i++) zero[i] = k32(c, 0);
  return aicc_loop_load(c->lc, b, zero);
}

/* Checks that out has the given dims. */
static bool dims_are(const aicc_loop_buffer *out, int rank, const int64_t *dims) {
  if (out->rank != rank) return false;
  for (int d = 0; d < rank; d++)
    if (aicc_lower_dim(out, d) != dims[d]) return false;
  return true;
}

/* ---- Gather, GatherElements, GatherND, TensorScatter ---- */

/* out[outer, j.., inner] = data[outer, indices[j..], inner]. */
static aicc_status lower_gather(aicc_lower_ctx *c) {
  if (!c->out[0]) return NULL;
  const aicc_loop_buffer *x = c->in[0], *ind = c->in[1], *out = c->out[0];
  AICC_TRY(aicc_lower_need_buf(c, x, "data"));
  AICC_TRY(need_index_buf(c, ind, "indices"));
  AICC_TRY(aicc_lower_need_buf(c, out, "output"));
  int r = x->rank, q = ind->rank;
  int64_t axis, dims[AICC_MAX_LOOP_RANK];
  if (!axis_norm(aicc_node_attr_int(c->node, "axis", 0), r, &axis))
    return aicc_lower_unsupported(c, "axis out of range");
  if (r + q - 1 > AICC_MAX_LOOP_RANK) return aicc_lower_unsupported(c, "output rank too large");
  int k = 0;
  for (int d = 0; d < axis; d++) dims[k++] = aicc_lower_dim(x, d);
  for (int d = 0; d < q; d++) dims[k++] = aicc_lower_dim(ind, d);
  for (int d = (int)axis + 1; d < r; d++) dims[k++] = aicc_lower_dim(x, d);
  if (out->type != x->type || !dims_are(out, k, dims))
    return aicc_lower_unsupported(c, "output type disagrees with data and indices");
  int64_t n = aicc_lower_dim(x, (int)axis);
  if (n == 0 && aicc_lower_numel(out) > 0) return aicc_lower_unsupported(c, "gathers from an empty axis");
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK], *src[AICC_MAX_LOOP_RANK];
  aicc_loop_stage *s = stage_of(c, out, idx);
  if (!s) return nomem();
  const aicc_loop_expr *v = aicc_loop_load(c->lc, ind, idx + axis);
  for (int d = 0; d < axis; d++) src[d] = idx[d];
  src[axis] = index_in(c, v, n);
  for (int d = (int)axis + 1; d < r; d++) src[d] = idx[d + q - 1];
  return emit_stage(c, s, aicc_loop_load(c->lc, x, src), AICC_LOOP_CLASS_MOVEMENT);
}

/* out[i] = data[i with i[axis] replaced by indices[i]]. */
static aicc_status lower_gather_elements(aicc_lower_ctx *c) {
  if (!c->out[0]) return NULL;
  const aicc_loop_buffer *x = c->in[0], *ind = c->in[1], *out = c->out[0];
  AICC_TRY(aicc_lower_need_buf(c, x, "data"));
  AICC_TRY(need_index_buf(c, ind, "indices"));
  AICC_TRY(aicc_lower_need_buf(c, out, "output"));
  int r = x->rank;
  int64_t axis, dims[AICC_MAX_LOOP_RANK];
  if (ind->rank != r) return aicc_lower_unsupported(c, "data and indices differ in rank");
  if (!axis_norm(aicc_node_attr_int(c->node, "axis", 0), r, &axis))
    return aicc_lower_unsupported(c, "axis out of range");
  (void)aicc_lower_dims(ind, dims);
  if (out->type != x->type || !dims_are(out, r, dims))
    return aicc_lower_unsupported(c, "output type disagrees with data and indices");
  for (int d = 0; d < r; d++)
    if (d != axis && dims[d] > aicc_lower_dim(x, d))
      return aicc_lower_unsupported(c, "indices exceed data in dim %d", d);
  int64_t n = aicc_lower_dim(x, (int)axis);
  if (n == 0 && aicc_lower_numel(out) > 0) return aicc_lower_unsupported(c, "gathers from an empty axis");
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK], *src[AICC_MAX_LOOP_RANK];
  aicc_loop_stage *s = stage_of(c, out, idx);
  if (!s) return nomem();
  memcpy(src, idx, sizeof(idx[0]) * (size_t)r);
  src[axis] = index_in(c, aicc_loop_load(c->lc, ind, idx), n);
  return emit_stage(c, s, aicc_loop_load(c->lc, x, src), AICC_LOOP_CLASS_MOVEMENT);
}

/* out[j.., rest..] = data[batch.., indices[j.., 0..k), rest..] where the
 * first batch_dims of j are the batch coordinates. */
static aicc_status lower_gather_nd(aicc_lower_ctx *c) {
  if (!c->out[0]) return NULL;
  const aicc_loop_buffer *x = c->in[0], *ind = c->in[1], *out = c->out[0];
  AICC_TRY(aicc_lower_need_buf(c, x, "data"));
  AICC_TRY(need_index_buf(c, ind, "indices"));
  AICC_TRY(aicc_lower_need_buf(c, out, "output"));
  int r = x->rank, q = ind->rank;
  int64_t b = aicc_node_attr_int(c->node, "batch_dims", 0);
  if (q < 1 || b < 0 || b >= q || b >= r) return aicc_lower_unsupported(c, "bad batch_dims");
  int64_t k = aicc_lower_dim(ind, q - 1), dims[AICC_MAX_LOOP_RANK];
  if (k < 1 || b + k > r) return aicc_lower_unsupported(c, "bad index tuple length");
  if (q - 1 + r - (b + k) > AICC_MAX_LOOP_RANK)
    return aicc_lower_unsupported(c, "output rank too large");
  for (int d = 0; d < b; d++)
    if (aicc_lower_dim(x, d) != aicc_lower_dim(ind, d))
      return aicc_lower_unsupported(c, "batch dim %d differs", d);
  int o = 0;
  for (int d = 0; d < q - 1; d++) dims[o++] = aicc_lower_dim(ind, d);
  for (int d = (int)(b + k); d < r; d++) dims[o++] = aicc_lower_dim(x, d);
  if (out->type != x->type || !dims_are(out, o, dims))
    return aicc_lower_unsupported(c, "output type disagrees with data and indices");
  for (int d = (int)b; d < b + k; d++)
    if (aicc_lower_dim(x, d) == 0 && aicc_lower_numel(out) > 0)
      return aicc_lower_unsupported(c, "gathers from an empty axis");
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK], *src[AICC_MAX_LOOP_RANK], *ii[AICC_MAX_LOOP_RANK];
  aicc_loop_stage *s = stage_of(c, out, idx);
  if (!s) return nomem();
  memcpy(ii, idx, sizeof(idx[0]) * (size_t)(q - 1));
  for (int d = 0; d < b; d++) src[d] = idx[d];
  for (int64_t e = 0; e < k; e++) {
    ii[q - 1] = k32(c, e);
    src[b + e] = index_in(c, aicc_loop_load(c->lc, ind, ii), aicc_lower_dim(x, (int)(b + e)));
  }
  for (int d = (int)(b + k); d < r; d++) src[d] = idx[q - 1 + d - (b + k)];
  return emit_stage(c, s, aicc_loop_load(c->lc, x, src), AICC_LOOP_CLASS_MOVEMENT);
}

/* TensorScatter writes update into a copy of past_cache along axis at a
 * per-batch start (wrapping modulo the axis in circular mode); read the
 * other way round, out[b, .., t, ..] is update at u = t - start[b] (mod L)
 * when 0 <= u < U, else the cache. */
static aicc_status lower_tensor_scatter(aicc_lower_ctx *c) {
  if (!c->out[0]) return NULL;
  const aicc_loop_buffer *cache = c->in[0], *upd = c->in[1], *out = c->out[0];
  const aicc_loop_buffer *wi = c->n_in > 2 ? c->in[2] : NULL;
  AICC_TRY(aicc_lower_need_buf(c, cache, "past_cache"));
  AICC_TRY(aicc_lower_need_buf(c, upd, "update"));
  AICC_TRY(aicc_lower_need_buf(c, out, "output"));
  if (wi) AICC_TRY(need_index_buf(c, wi, "write_indices"));
  const char *mode = aicc_node_attr_string(c->node, "mode", "linear");
  bool circular = strcmp(mode, "circular") == 0;
  if (!circular && strcmp(mode, "linear") != 0)
    return aicc_lower_unsupported(c, "mode '%s'", mode);
  int r = cache->rank;
  int64_t axis, dims[AICC_MAX_LOOP_RANK];
  if (!axis_norm(aicc_node_attr_int(c->node, "axis", -2), r, &axis) || axis == 0)
    return aicc_lower_unsupported(c, "axis out of range");
  (void)aicc_lower_dims(cache, dims);
  if (upd->rank != r || upd->type != cache->type || out->type != cache->type ||
      !dims_are(out, r, dims) || (wi && (wi->rank != 1 || aicc_lower_dim(wi, 0) != dims[0])))
    return aicc_lower_unsupported(c, "shapes disagree");
  for (int d = 0; d < r; d++)
    if (d != axis ? aicc_lower_dim(upd, d) != dims[d] : aicc_lower_dim(upd, d) > dims[d])
      return aicc_lower_unsupported(c, "update does not fit past_cache at dim %d", d);
  int64_t L = dims[axis], U = aicc_lower_dim(upd, (int)axis);
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK], *src[AICC_MAX_LOOP_RANK];
  aicc_loop_stage *s = stage_of(c, out, idx);
  if (!s) return nomem();
  const aicc_loop_expr *old = aicc_loop_load(c->lc, cache, idx);
  if (U == 0) return emit_stage(c, s, old, AICC_LOOP_CLASS_MOVEMENT);
  const aicc_loop_expr *start = wi ? as_wide_int(c, aicc_loop_load(c->lc, wi, idx)) : k32(c, 0);
  if (!start) return nomem();
  const aicc_loop_expr *t = idx[axis];
  if (start->type != AICC_DTYPE_I32) t = aicc_loop_cast(c->lc, start->type, t);
  const aicc_loop_expr *u = aicc_loop_sub(c->lc, t, start);
  if (circular) u = aicc_loop_mod(c->lc, u, aicc_loop_int(c->lc, start->type, L));
  const aicc_loop_expr *hit = cmp(c, AICC_LOOP_LT, u, aicc_loop_int(c->lc, start->type, U));
  if (!circular)
    hit = aicc_loop_binary(c->lc, AICC_LOOP_AND,
                           cmp(c, AICC_LOOP_GE, u, aicc_loop_int(c->lc, start->type, 0)), hit);
  u = aicc_lower_clamp(c, u, 0, U - 1);
  if (u && u->type != AICC_DTYPE_I32) u = aicc_loop_cast(c->lc, AICC_DTYPE_I32, u);
  memcpy(src, idx, sizeof(idx[0]) * (size_t)r);
  src[axis] = u;
  const aicc_loop_expr *body =
      aicc_loop_select(c->lc, hit, aicc_loop_load(c->lc, upd, src), old);
  return emit_stage(c, s, body, AICC_LOOP_CLASS_MOVEMENT);
}

/* ---- OneHot ---- */

/* out[.., j, ..] = values[1] where indices[..] names j (directly or counted
 * from the end), else values[0]. Depth is the output's dim on the axis. */
static aicc_status lower_onehot(aicc_lower_ctx *c) {
  if (!c->out[0]) return NULL;
  const aicc_loop_buffer *ind = c->in[0], *val = c->in[2], *out = c->out[0];
  AICC_TRY(aicc_lower_need_buf(c, ind, "indices"));
  AICC_TRY(aicc_lower_need_buf(c, val, "values"));
  AICC_TRY(aicc_lower_need_buf(c, out, "output"));
  if (ind->type == AICC_DTYPE_BOOL) return aicc_lower_unsupported(c, "bool indices");
  int r = ind->rank + 1;
  int64_t axis;
  if (!axis_norm(aicc_node_attr_int(c->node, "axis", -1), r, &axis))
    return aicc_lower_unsupported(c, "axis out of range");
  if (val->rank != 1 || aicc_lower_dim(val, 0) != 2 || val->type != out->type)
    return aicc_lower_unsupported(c, "values must be 2 elements of the output dtype");
  if (out->rank != r) return aicc_lower_unsupported(c, "output rank differs");
  for (int d = 0, j = 0; d < r; d++)
    if (d != axis && aicc_lower_dim(out, d) != aicc_lower_dim(ind, j++))
      return aicc_lower_unsupported(c, "output dims disagree with indices");
  int64_t depth = aicc_lower_dim(out, (int)axis);
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK], *ii[AICC_MAX_LOOP_RANK];
  aicc_loop_stage *s = stage_of(c, out, idx);
  if (!s) return nomem();
  for (int d = 0, j = 0; d < r; d++)
    if (d != axis) ii[j++] = idx[d];
  const aicc_loop_expr *v = aicc_loop_load(c->lc, ind, ii), *jv;
  /* v names j when v == j or v == j - depth; float indices match only when
   * integral, which comparing with the integer-valued j does by itself. */
  if (aicc_loop_type_is_int(v->type)) {
    v = as_wide_int(c, v);
    jv = v->type == AICC_DTYPE_I32 ? idx[axis] : aicc_loop_cast(c->lc, v->type, idx[axis]);
  } else {
    jv = aicc_loop_cast(c->lc, v->type, idx[axis]);
  }
  const aicc_loop_expr *jm = aicc_loop_sub(c->lc, jv, aicc_lower_const(c, v->type, (double)depth));
  const aicc_loop_expr *hit = aicc_loop_binary(c->lc, AICC_LOOP_OR, cmp(c, AICC_LOOP_EQ, v, jv),
                                               cmp(c, AICC_LOOP_EQ, v, jm));
  const aicc_loop_expr *on = aicc_loop_load(c->lc, val, (const aicc_loop_expr *[]){k32(c, 1)});
  const aicc_loop_expr *off = aicc_loop_load(c->lc, val, (const aicc_loop_expr *[]){k32(c, 0)});
  return emit_stage(c, s, aicc_loop_select(c->lc, hit, on, off), AICC_LOOP_CLASS_ELEMENTWISE);
}

/* ---- ReverseSequence ---- */

/* Along the time axis, the first lens[b] steps of batch b are reversed. */
static aicc_status lower_reverse_sequence(aicc_lower_ctx *c) {
  if (!c->out[0]) return NULL;
  const aicc_loop_buffer *x = c->in[0], *lens = c->in[1], *out = c->out[0];
  AICC_TRY(aicc_lower_need_buf(c, x, "input"));
  AICC_TRY(need_index_buf(c, lens, "sequence_lens"));
  AICC_TRY(aicc_lower_need_buf(c, out, "output"));
  int64_t ba = aicc_node_attr_int(c->node, "batch_axis", 1);
  int64_t ta = aicc_node_attr_int(c->node, "time_axis", 0), dims[AICC_MAX_LOOP_RANK];
  if (x->rank < 2 || !((ba == 0 && ta == 1) || (ba == 1 && ta == 0)))
    return aicc_lower_unsupported(c, "batch_axis/time_axis must be 0 and 1");
  (void)aicc_lower_dims(x, dims);
  if (out->type != x->type || !dims_are(out, x->rank, dims) || lens->rank != 1 ||
      aicc_lower_dim(lens, 0) != dims[ba])
    return aicc_lower_unsupported(c, "shapes disagree");
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK], *src[AICC_MAX_LOOP_RANK];
  aicc_loop_stage *s = stage_of(c, out, idx);
  if (!s) return nomem();
  const aicc_loop_expr *len =
      aicc_lower_clamp(c, as_wide_int(c, aicc_loop_load(c->lc, lens, &idx[ba])), 0, dims[ta]);
  if (len && len->type != AICC_DTYPE_I32) len = aicc_loop_cast(c->lc, AICC_DTYPE_I32, len);
  const aicc_loop_expr *t = idx[ta];
  memcpy(src, idx, sizeof(idx[0]) * (size_t)x->rank);
  src[ta] = aicc_loop_select(c->lc, cmp(c, AICC_LOOP_LT, t, len),
                             aicc_loop_sub(c->lc, aicc_loop_sub(c->lc, len, k32(c, 1)), t), t);
  return emit_stage(c, s, aicc_loop_load(c->lc, x, src), AICC_LOOP_CLASS_MOVEMENT);
}

/* ---- Trilu, EyeLike ---- */

/* Keeps row i, column j where j - i >= k (upper) or j - i <= k (lower).
 * k (input 1) may be a run-time value; past +-(rows + cols) every k acts
 * alike, so it is clamped there before it becomes an i32. */
static aicc_status lower_trilu(aicc_lower_ctx *c) {
  if (!c->out[0]) return NULL;
  const aicc_loop_buffer *x = c->in[0], *out = c->out[0];
  AICC_TRY(aicc_lower_need_buf(c, x, "input"));
  AICC_TRY(aicc_lower_need_buf(c, out, "output"));
  int r = x->rank;
  int64_t dims[AICC_MAX_LOOP_RANK];
  (void)aicc_lower_dims(x, dims);
  if (r < 2 || out->type != x->type || !dims_are(out, r, dims))
    return aicc_lower_unsupported(c, "needs rank >= 2 and an output like the input");
  int64_t lim = dims[r - 2] + dims[r - 1] + 1, kc = 0;
  const aicc_loop_expr *k = NULL;
  if (c->n_in > 1 && c->in[1]) {
    if (aicc_lower_const_ints(c, 1, &kc, 1) != 1) {
      AICC_TRY(need_index_buf(c, c->in[1], "k"));
      if (aicc_lower_numel(c->in[1]) != 1) return aicc_lower_unsupported(c, "k is not a scalar");
      k = aicc_lower_clamp(c, as_wide_int(c, load_scalar(c, c->in[1])), -lim, lim);
      if (k && k->type != AICC_DTYPE_I32) k = aicc_loop_cast(c->lc, AICC_DTYPE_I32, k);
    }
  }
  kc = kc > lim ? lim : kc < -lim ? -lim : kc;
  if (!k) k = k32(c, kc);
  bool upper = aicc_node_attr_int(c->node, "upper", 1) != 0;
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK];
  aicc_loop_stage *s = stage_of(c, out, idx);
  if (!s) return nomem();
  /* j >= i + k, or j <= i + k */
  const aicc_loop_expr *ik = aicc_loop_add(c->lc, idx[r - 2], k);
  if (k->op == AICC_LOOP_INT && k->v.i == 0) ik = idx[r - 2];
  const aicc_loop_expr *keep = cmp(c, upper ? AICC_LOOP_GE : AICC_LOOP_LE, idx[r - 1], ik);
  const aicc_loop_expr *body = aicc_loop_select(c->lc, keep, aicc_loop_load(c->lc, x, idx),
                                                aicc_lower_const(c, out->type, 0));
  return emit_stage(c, s, body, AICC_LOOP_CLASS_ELEMENTWISE);
}

/* out[i, j] = 1 where j == i + k, else 0; the input is never read. */
static aicc_status lower_eyelike(aicc_lower_ctx *c) {
  if (!c->out[0]) return NULL;
  const aicc_loop_buffer *out = c->out[0];
  AICC_TRY(aicc_lower_need_buf(c, out, "output"));
  if (out->rank != 2) return aicc_lower_unsupported(c, "output must be 2-D");
  int64_t lim = aicc_lower_dim(out, 0) + aicc_lower_dim(out, 1) + 1;
  int64_t k = aicc_node_attr_int(c->node, "k", 0);
  k = k > lim ? lim : k < -lim ? -lim : k;
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK];
  aicc_loop_stage *s = stage_of(c, out, idx);
  if (!s) return nomem();
  const aicc_loop_expr *ik = k ? aicc_loop_add(c->lc, idx[0], k32(c, k)) : idx[0];
  const aicc_loop_expr *body =
      aicc_loop_select(c->lc, cmp(c, AICC_LOOP_EQ, idx[1], ik), aicc_lower_const(c, out->type, 1),
                       aicc_lower_const(c, out->type, 0));
  return emit_stage(c, s, body, AICC_LOOP_CLASS_ELEMENTWISE);
}

/* ---- Range ---- */

/* out[i] = start + i * delta (start and delta are loads; the count is the
 * output's static length). Floats are computed in f64 and rounded once, as
 * the reference does; integers wrap in their type, as its uint64 sum does
 * after narrowing. */
static aicc_status lower_range(aicc_lower_ctx *c) {
  if (!c->out[0]) return NULL;
  const aicc_loop_buffer *out = c->out[0], *st = c->in[0], *dl = c->in[2];
  AICC_TRY(aicc_lower_need_buf(c, out, "output"));
  AICC_TRY(aicc_lower_need_buf(c, st, "start"));
  AICC_TRY(aicc_lower_need_buf(c, dl, "delta"));
  aicc_dtype t = out->type;
  if (out->rank != 1 || st->type != t || dl->type != t || aicc_lower_numel(st) != 1 ||
      aicc_lower_numel(dl) != 1 || t == AICC_DTYPE_BOOL)
    return aicc_lower_unsupported(c, "start and delta must be scalars of the output dtype");
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK], *body;
  aicc_loop_stage *s = stage_of(c, out, idx);
  if (!s) return nomem();
  const aicc_loop_expr *a = load_scalar(c, st), *d = load_scalar(c, dl);
  if (aicc_loop_type_is_int(t)) {
    const aicc_loop_expr *i = t == AICC_DTYPE_I32 ? idx[0] : aicc_loop_cast(c->lc, t, idx[0]);
    body = aicc_loop_add(c->lc, a, aicc_loop_mul(c->lc, i, d));
  } else {
    aicc_dtype w = AICC_DTYPE_F64;
    if (t != w) a = aicc_loop_cast(c->lc, w, a), d = aicc_loop_cast(c->lc, w, d);
    body = aicc_loop_add(c->lc, a, aicc_loop_mul(c->lc, aicc_loop_cast(c->lc, w, idx[0]), d));
    if (t != w) body = aicc_loop_cast(c->lc, t, body);
  }
  return emit_stage(c, s, body, AICC_LOOP_CLASS_ELEMENTWISE);
}

/* ---- table ---- */

static const aicc_lower_row rows[] = {
    {"", "Gather", lower_gather},
    {"", "GatherElements", lower_gather_elements},
    {"", "GatherND", lower_gather_nd},
    {"", "TensorScatter", lower_tensor_scatter},
    {"", "OneHot", lower_onehot},
    {"", "ReverseSequence", lower_reverse_sequence},
    {"", "Trilu", lower_trilu},
    {"", "EyeLike", lower_eyelike},
    {"", "Range", lower_range},
};

const aicc_lower_table aicc_lower_index = {"index", rows, sizeof rows / sizeof rows[0]};
