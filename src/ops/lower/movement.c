/* Compute definitions of data-movement ops: each output element is a load of
 * an input at a remapped index (Identity, Reshape, Flatten, Squeeze,
 * Unsqueeze, Transpose, Expand, Tile, Concat, Split, Slice, Pad,
 * CenterCropPad, DepthToSpace, SpaceToDepth), plus the shape-derived
 * constants Shape, Size and ConstantOfShape. Index-driven ops (Gather, ...)
 * live in index.c. Semantics follow the reference kernels in shape.c and
 * slice.c; a configuration that needs a non-constant control input is
 * UNSUPPORTED. select evaluates both operands, so every load here is in
 * bounds for every output point (clamped where a select picks among loads). */
#include "ops/lower.h"

#include <string.h>

/* ---- shared helpers ---- */

static aicc_status nomem(void) { return aicc_errorf(AICC_ERR_NOMEM, "out of memory"); }

/* Checks input 0 and every wanted output (same dtype as input 0 when
 * same_type), the common precondition of a pure data movement. */
static aicc_status need_io(aicc_lower_ctx *c, bool same_type) {
  AICC_TRY(aicc_lower_need_buf(c, c->in[0], "input 0"));
  for (int i = 0; i < c->n_out; i++) {
    if (!c->out[i]) continue;
    AICC_TRY(aicc_lower_need_buf(c, c->out[i], "output"));
    if (same_type && c->out[i]->type != c->in[0]->type)
      return aicc_lower_unsupported(c, "output dtype differs from the input's");
  }
  return NULL;
}

static const aicc_loop_expr *k32(aicc_lower_ctx *c, int64_t v) { return aicc_lower_i32(c, v); }

/* e + k, e * k without the no-op forms (keeps printed stages readable). */
static const aicc_loop_expr *add_k(aicc_lower_ctx *c, const aicc_loop_expr *e, int64_t k) {
  if (k == 0 || !e) return e;
  return aicc_loop_add(c->lc, e, aicc_loop_int(c->lc, e->type, k));
}
static const aicc_loop_expr *mul_k(aicc_lower_ctx *c, const aicc_loop_expr *e, int64_t k) {
  if (k == 1 || !e) return e;
  return aicc_loop_mul(c->lc, e, aicc_loop_int(c->lc, e->type, k));
}

/* Sets body and the movement hints and appends s. An empty buffer gets a
 * zero body: no point is ever computed, and its index expressions may
 * name positions (like dim - 1 == -1) that exist nowhere. */
static aicc_status emit_stage(aicc_lower_ctx *c, aicc_loop_stage *s, const aicc_loop_expr *body,
                              int op_class) {
  if (!s || !body) return nomem();
  s->body = aicc_lower_numel(s->buf) == 0 ? aicc_lower_const(c, s->buf->type, 0) : body;
  s->inlinable = true;
  s->op_class = op_class;
  return aicc_lower_emit(c, s);
}

static aicc_status emit_move(aicc_lower_ctx *c, aicc_loop_stage *s, const aicc_loop_expr *body) {
  return emit_stage(c, s, body, AICC_LOOP_CLASS_MOVEMENT);
}

/* A stage for buf with its axis variables in idx. */
static aicc_loop_stage *stage_of(aicc_lower_ctx *c, const aicc_loop_buffer *buf,
                                 const aicc_loop_expr **idx) {
  aicc_loop_stage *s = aicc_lower_stage(c, buf);
  if (s) aicc_lower_axis_index(s, idx);
  return s;
}

/* Normalises axis a (negative counts from the end) into [0, rank). */
static bool axis_norm(int64_t a, int rank, int64_t *out) {
  if (a < 0) a += rank;
  if (a < 0 || a >= rank) return false;
  *out = a;
  return true;
}

/* ---- Identity ---- */

static aicc_status lower_identity(aicc_lower_ctx *c) {
  if (!c->out[0]) return NULL;
  AICC_TRY(need_io(c, true));
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK];
  aicc_loop_stage *s = stage_of(c, c->out[0], idx);
  return emit_move(c, s, s ? aicc_loop_load(c->lc, c->in[0], idx) : NULL);
}

/* ---- Reshape, Flatten, Squeeze, Unsqueeze ---- */

/* The coordinates `to_idx` in dims `to` (rank tr) of the element at `idx`
 * in dims `from` (rank fr), both row-major views of one element sequence.
 * Rather than one flat offset split over every output dim, the dims are cut
 * into the shortest runs whose products agree (dims of size 1 aside): a dim
 * kept as is maps straight through, and only runs that really merge or
 * split dims pay a multiply-add, a divide or a modulo. */
static void reshape_index(aicc_lower_ctx *c, const int64_t *from, int fr,
                          const aicc_loop_expr *const *idx, const int64_t *to, int tr,
                          const aicc_loop_expr **to_idx) {
  for (int j = 0; j < tr; j++) to_idx[j] = k32(c, 0);
  int64_t total = 1;
  for (int i = 0; i < fr; i++) total *= from[i];
  if (total == 0) return;
  int i = 0, j = 0;
  for (;;) {
    while (i < fr && from[i] == 1) i++;
    while (j < tr && to[j] == 1) j++;
    if (i >= fr || j >= tr) return; /* the rest are dims of size 1 */
    /* One run: from[i0..i) and to[j0..j) with equal products. */
    int i0 = i, j0 = j;
    int64_t pf = from[i++], pt = to[j++];
    while (pf != pt) {
      if (pf < pt && i < fr) pf *= from[i++];
      else if (pt < pf && j < tr) pt *= to[j++];
      else return; /* counts differ: the caller checked they do not */
    }
    /* The run's flat offset, over the from side. */
    const aicc_loop_expr *flat = NULL;
    int64_t stride = 1;
    for (int a = i - 1; a >= i0; a--) {
      if (from[a] == 1) continue;
      const aicc_loop_expr *term = mul_k(c, idx[a], stride);
      flat = flat ? aicc_loop_add(c->lc, term, flat) : term;
      stride *= from[a];
    }
    /* Split it over the to side: to[b] = flat / stride_b % to[b], the
     * modulo dropped on the run's outermost dim (flat / stride_b < to[b]). */
    stride = 1;
    for (int b = j - 1; b >= j0; b--) {
      if (to[b] == 1) continue;
      const aicc_loop_expr *v = stride == 1 ? flat : aicc_loop_div(c->lc, flat, k32(c, stride));
      if (stride * to[b] != pt) v = aicc_loop_mod(c->lc, v, k32(c, to[b]));
      to_idx[b] = v;
      stride *= to[b];
    }
  }
}

/* Every op whose output is its input's elements in the same row-major
 * order under other dims: the output's inferred static shape says all
 * there is to know, so the shape/axes inputs need not be constant. */
static aicc_status lower_reshape(aicc_lower_ctx *c) {
  if (!c->out[0]) return NULL;
  AICC_TRY(need_io(c, true));
  const aicc_loop_buffer *in = c->in[0], *out = c->out[0];
  int64_t fd[AICC_MAX_LOOP_RANK], td[AICC_MAX_LOOP_RANK];
  (void)aicc_lower_dims(in, fd);
  (void)aicc_lower_dims(out, td);
  if (aicc_lower_numel(in) != aicc_lower_numel(out))
    return aicc_lower_unsupported(c, "output holds %lld elements, input %lld",
                                  (long long)aicc_lower_numel(out), (long long)aicc_lower_numel(in));
  /* Merged runs' flat offsets are i32 like every index. */
  if (aicc_lower_numel(in) > INT32_MAX) return aicc_lower_unsupported(c, "2^31 elements or more");
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK], *src[AICC_MAX_LOOP_RANK];
  aicc_loop_stage *s = stage_of(c, out, idx);
  if (!s) return nomem();
  reshape_index(c, td, out->rank, idx, fd, in->rank, src);
  return emit_move(c, s, aicc_loop_load(c->lc, in, src));
}

/* ---- Transpose ---- */

static aicc_status lower_transpose(aicc_lower_ctx *c) {
  if (!c->out[0]) return NULL;
  AICC_TRY(need_io(c, true));
  const aicc_loop_buffer *in = c->in[0];
  int r = in->rank;
  int64_t perm[AICC_MAX_LOOP_RANK], len;
  const int64_t *p = aicc_node_attr_ints(c->node, "perm", &len);
  bool seen[AICC_MAX_LOOP_RANK] = {0};
  if (p && len != r) return aicc_lower_unsupported(c, "perm has %lld entries for rank %d",
                                                   (long long)len, r);
  for (int d = 0; d < r; d++) {
    if (!p) {
      perm[d] = r - 1 - d;
    } else if (!axis_norm(p[d], r, &perm[d]) || seen[perm[d]]) {
      return aicc_lower_unsupported(c, "perm is not a permutation");
    }
    seen[perm[d]] = true;
  }
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK], *src[AICC_MAX_LOOP_RANK];
  aicc_loop_stage *s = stage_of(c, c->out[0], idx);
  if (!s) return nomem();
  for (int d = 0; d < r; d++) src[perm[d]] = idx[d];
  return emit_move(c, s, aicc_loop_load(c->lc, in, src));
}

/* ---- Expand, Tile ---- */

static aicc_status lower_expand(aicc_lower_ctx *c) {
  if (!c->out[0]) return NULL;
  AICC_TRY(need_io(c, true));
  if (c->in[0]->rank > c->out[0]->rank) return aicc_lower_unsupported(c, "output rank too small");
  for (int d = 0; d < c->in[0]->rank; d++) {
    int64_t xd = aicc_lower_dim(c->in[0], d);
    if (xd != 1 && xd != aicc_lower_dim(c->out[0], c->out[0]->rank - c->in[0]->rank + d))
      return aicc_lower_unsupported(c, "dim %d of size %lld does not broadcast", d, (long long)xd);
  }
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK];
  aicc_loop_stage *s = stage_of(c, c->out[0], idx);
  if (!s) return nomem();
  return emit_move(c, s, aicc_lower_load_bcast(c, c->in[0], c->out[0]->rank, idx));
}

/* out[i] = in[i % dim]: the repeats are implied by the output shape. */
static aicc_status lower_tile(aicc_lower_ctx *c) {
  if (!c->out[0]) return NULL;
  AICC_TRY(need_io(c, true));
  const aicc_loop_buffer *in = c->in[0], *out = c->out[0];
  if (in->rank != out->rank) return aicc_lower_unsupported(c, "output rank differs");
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK], *src[AICC_MAX_LOOP_RANK];
  aicc_loop_stage *s = stage_of(c, out, idx);
  if (!s) return nomem();
  for (int d = 0; d < in->rank; d++) {
    int64_t n = aicc_lower_dim(in, d), o = aicc_lower_dim(out, d);
    if (n > 0 && o % n) return aicc_lower_unsupported(c, "dim %d is not a whole multiple", d);
    src[d] = n == 1 ? k32(c, 0) : n == o ? idx[d] : aicc_loop_mod(c->lc, idx[d], k32(c, n));
  }
  return emit_move(c, s, aicc_loop_load(c->lc, in, src));
}

/* ---- Concat, Split ---- */

/* out[.., i, ..] = input k at i - offset_k, chosen by a chain of selects on
 * the concat axis; each load's axis index is clamped into its input. */
static aicc_status lower_concat(aicc_lower_ctx *c) {
  if (!c->out[0]) return NULL;
  const aicc_loop_buffer *out = c->out[0];
  AICC_TRY(aicc_lower_need_buf(c, out, "output"));
  int r = out->rank;
  int64_t axis;
  if (!axis_norm(aicc_node_attr_int(c->node, "axis", c->opset < 4 ? 1 : 0), r, &axis))
    return aicc_lower_unsupported(c, "axis out of range");
  int64_t off[64 + 1];
  int used[64], nu = 0;
  if (c->n_in > 64) return aicc_lower_unsupported(c, "more than 64 inputs");
  int64_t pos = 0;
  for (int i = 0; i < c->n_in; i++) {
    AICC_TRY(aicc_lower_need_buf(c, c->in[i], "an input"));
    const aicc_loop_buffer *x = c->in[i];
    if (x->type != out->type || x->rank != r)
      return aicc_lower_unsupported(c, "input %d differs in dtype or rank", i);
    for (int d = 0; d < r; d++)
      if (d != axis && aicc_lower_dim(x, d) != aicc_lower_dim(out, d))
        return aicc_lower_unsupported(c, "input %d differs in dim %d", i, d);
    int64_t e = aicc_lower_dim(x, (int)axis);
    if (e > 0) off[nu] = pos, used[nu++] = i;
    pos += e;
  }
  off[nu] = pos;
  if (pos != aicc_lower_dim(out, (int)axis))
    return aicc_lower_unsupported(c, "inputs do not add up to the output");
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK], *src[AICC_MAX_LOOP_RANK];
  aicc_loop_stage *s = stage_of(c, out, idx);
  if (!s) return nomem();
  if (nu == 0) return emit_move(c, s, aicc_lower_const(c, out->type, 0)); /* empty */
  const aicc_loop_expr *ia = idx[axis], *body = NULL;
  for (int k = nu - 1; k >= 0; k--) {
    int64_t e = off[k + 1] - off[k];
    const aicc_loop_expr *q = add_k(c, ia, -off[k]);
    if (k > 0) q = aicc_loop_max(c->lc, q, k32(c, 0));
    if (k < nu - 1) q = aicc_loop_min(c->lc, q, k32(c, e - 1));
    memcpy(src, idx, sizeof(idx[0]) * (size_t)r);
    src[axis] = q;
    const aicc_loop_expr *v = aicc_loop_load(c->lc, c->in[used[k]], src);
    body = body ? aicc_loop_select(c->lc, aicc_loop_binary(c->lc, AICC_LOOP_LT, ia,
                                                           k32(c, off[k + 1])),
                                   v, body)
                : v;
  }
  return emit_move(c, s, body);
}

/* Split sizes as the reference reads them: attribute (opset < 13), input 1
 * (constant here), or equal parts with a smaller last one. */
static aicc_status split_sizes(aicc_lower_ctx *c, int64_t dim, int64_t *sizes) {
  int n = c->n_out;
  int64_t len = 0;
  const int64_t *attr = c->opset < 13 ? aicc_node_attr_ints(c->node, "split", &len) : NULL;
  if (attr) {
    if (len != n) return aicc_lower_unsupported(c, "split length differs from the outputs");
    memcpy(sizes, attr, sizeof(int64_t) * (size_t)n);
  } else if (c->n_in > 1 && c->in[1]) {
    if (aicc_lower_const_ints(c, 1, sizes, n + 1) != n)
      return aicc_lower_unsupported(c, "split is not a constant of one entry per output");
  } else {
    int64_t parts = c->opset >= 18 ? aicc_node_attr_int(c->node, "num_outputs", n) : n;
    if (parts != n) return aicc_lower_unsupported(c, "num_outputs differs from the outputs");
    int64_t chunk = (dim + parts - 1) / parts;
    for (int i = 0; i < n; i++) {
      int64_t left = dim - chunk * i;
      sizes[i] = left < 0 ? 0 : left < chunk ? left : chunk;
    }
  }
  int64_t sum = 0;
  for (int i = 0; i < n; i++) {
    if (sizes[i] < 0) return aicc_lower_unsupported(c, "negative split size");
    sum += sizes[i];
  }
  if (sum != dim) return aicc_lower_unsupported(c, "split sizes do not add up to the dim");
  return NULL;
}

static aicc_status lower_split(aicc_lower_ctx *c) {
  AICC_TRY(need_io(c, true));
  const aicc_loop_buffer *in = c->in[0];
  int r = in->rank;
  int64_t axis;
  if (!axis_norm(aicc_node_attr_int(c->node, "axis", 0), r, &axis))
    return aicc_lower_unsupported(c, "axis out of range");
  if (c->n_out > 256) return aicc_lower_unsupported(c, "more than 256 outputs");
  int64_t sizes[257];
  AICC_TRY(split_sizes(c, aicc_lower_dim(in, (int)axis), sizes));
  int64_t pos = 0;
  for (int k = 0; k < c->n_out; pos += sizes[k], k++) {
    const aicc_loop_buffer *out = c->out[k];
    if (!out) continue;
    if (out->rank != r || aicc_lower_dim(out, (int)axis) != sizes[k])
      return aicc_lower_unsupported(c, "output %d's shape disagrees with the split", k);
    const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK];
    aicc_loop_stage *s = stage_of(c, out, idx);
    if (!s) return nomem();
    idx[axis] = add_k(c, idx[axis], pos);
    AICC_TRY(emit_move(c, s, aicc_loop_load(c->lc, in, idx)));
  }
  return NULL;
}

/* ---- Slice ---- */

/* starts/ends/axes/steps: attributes before opset 10, constant inputs 1..4
 * after. Fills per-axis first index and step (rank entries). */
static aicc_status slice_params(aicc_lower_ctx *c, const int64_t *dims, int rank, int64_t *start,
                                int64_t *step, int64_t *len) {
  int64_t st[AICC_MAX_LOOP_RANK], en[AICC_MAX_LOOP_RANK], ax[AICC_MAX_LOOP_RANK],
      sp[AICC_MAX_LOOP_RANK];
  int64_t ns, ne, na = -1, nt = -1;
  if (c->opset < 10) {
    const int64_t *s = aicc_node_attr_ints(c->node, "starts", &ns);
    const int64_t *e = aicc_node_attr_ints(c->node, "ends", &ne);
    int64_t la;
    const int64_t *a = aicc_node_attr_ints(c->node, "axes", &la);
    if (!s || !e || ns != ne || ns > rank || (a && la != ns))
      return aicc_lower_unsupported(c, "bad starts/ends/axes attributes");
    memcpy(st, s, sizeof(int64_t) * (size_t)ns);
    memcpy(en, e, sizeof(int64_t) * (size_t)ns);
    if (a) memcpy(ax, a, sizeof(int64_t) * (size_t)ns), na = ns;
  } else {
    ns = aicc_lower_const_ints(c, 1, st, AICC_MAX_LOOP_RANK);
    ne = aicc_lower_const_ints(c, 2, en, AICC_MAX_LOOP_RANK);
    if (ns < 0 || ne < 0) return aicc_lower_unsupported(c, "starts/ends are not constant");
    if (c->n_in > 3 && c->in[3] && (na = aicc_lower_const_ints(c, 3, ax, AICC_MAX_LOOP_RANK)) < 0)
      return aicc_lower_unsupported(c, "axes are not constant");
    if (c->n_in > 4 && c->in[4] && (nt = aicc_lower_const_ints(c, 4, sp, AICC_MAX_LOOP_RANK)) < 0)
      return aicc_lower_unsupported(c, "steps are not constant");
    if (ne != ns || (na >= 0 && na != ns) || (nt >= 0 && nt != ns))
      return aicc_lower_unsupported(c, "starts/ends/axes/steps differ in length");
  }
  bool seen[AICC_MAX_LOOP_RANK] = {0};
  for (int d = 0; d < rank; d++) start[d] = 0, step[d] = 1, len[d] = dims[d];
  for (int64_t i = 0; i < ns; i++) {
    int64_t a = i, k = nt < 0 ? 1 : sp[i];
    if (na >= 0 && !axis_norm(ax[i], rank, &a)) return aicc_lower_unsupported(c, "bad axis");
    if (seen[a] || k == 0) return aicc_lower_unsupported(c, "duplicate axis or zero step");
    seen[a] = true;
    /* Clamping as the reference's slice_axis does. */
    int64_t n = dims[a], b = st[i], e = en[i];
    if (b < 0) b += n;
    if (e < 0) e += n;
    if (k > 0) {
      b = b < 0 ? 0 : b > n ? n : b;
      e = e < 0 ? 0 : e > n ? n : e;
      len[a] = e > b ? (e - b - 1) / k + 1 : 0;
    } else {
      b = b < 0 ? -1 : b > n - 1 ? n - 1 : b;
      e = e < -1 ? -1 : e > n - 1 ? n - 1 : e;
      if (k == INT64_MIN) k = -INT64_MAX;
      len[a] = b > e ? (b - e - 1) / (-k) + 1 : 0;
    }
    start[a] = b;
    /* A step past the dim only ever takes its first element; keep the
     * index arithmetic in i32. */
    step[a] = len[a] > 1 ? k : 1;
  }
  return NULL;
}

static aicc_status lower_slice(aicc_lower_ctx *c) {
  if (!c->out[0]) return NULL;
  AICC_TRY(need_io(c, true));
  const aicc_loop_buffer *in = c->in[0], *out = c->out[0];
  int r = in->rank;
  int64_t dims[AICC_MAX_LOOP_RANK], start[AICC_MAX_LOOP_RANK], step[AICC_MAX_LOOP_RANK],
      len[AICC_MAX_LOOP_RANK];
  (void)aicc_lower_dims(in, dims);
  AICC_TRY(slice_params(c, dims, r, start, step, len));
  if (out->rank != r) return aicc_lower_unsupported(c, "output rank differs");
  for (int d = 0; d < r; d++)
    if (len[d] != aicc_lower_dim(out, d))
      return aicc_lower_unsupported(c, "output dim %d disagrees with the slice", d);
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK];
  aicc_loop_stage *s = stage_of(c, out, idx);
  if (!s) return nomem();
  for (int d = 0; d < r; d++) idx[d] = add_k(c, mul_k(c, idx[d], step[d]), start[d]);
  return emit_move(c, s, aicc_loop_load(c->lc, in, idx));
}

/* ---- Pad, CenterCropPad ---- */

typedef enum pad_mode { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP } pad_mode;

/* Per-axis begin/end pads: attribute before opset 11 ("paddings" in opset
 * 1), constant inputs pads (1) and axes (3, opset 18) after. */
static aicc_status pad_amounts(aicc_lower_ctx *c, int rank, int64_t *pb, int64_t *pe) {
  int64_t raw[2 * AICC_MAX_LOOP_RANK], np, axes[AICC_MAX_LOOP_RANK], na = rank;
  if (c->opset < 11) {
    const int64_t *a = aicc_node_attr_ints(c->node, c->opset < 2 ? "paddings" : "pads", &np);
    if (!a || np > 2 * AICC_MAX_LOOP_RANK) return aicc_lower_unsupported(c, "bad pads attribute");
    memcpy(raw, a, sizeof(int64_t) * (size_t)np);
  } else if ((np = aicc_lower_const_ints(c, 1, raw, 2 * AICC_MAX_LOOP_RANK)) < 0) {
    return aicc_lower_unsupported(c, "pads are not constant");
  }
  if (c->opset >= 18 && c->n_in > 3 && c->in[3]) {
    if ((na = aicc_lower_const_ints(c, 3, axes, AICC_MAX_LOOP_RANK)) < 0)
      return aicc_lower_unsupported(c, "axes are not constant");
  } else {
    for (int d = 0; d < rank; d++) axes[d] = d;
  }
  if (np != 2 * na) return aicc_lower_unsupported(c, "pads and axes differ in length");
  memset(pb, 0, sizeof(int64_t) * (size_t)rank);
  memset(pe, 0, sizeof(int64_t) * (size_t)rank);
  for (int64_t i = 0; i < na; i++) {
    int64_t a;
    if (!axis_norm(axes[i], rank, &a)) return aicc_lower_unsupported(c, "axis out of range");
    pb[a] = raw[i];
    pe[a] = raw[na + i];
  }
  return NULL;
}

/* The fill value of constant mode: input 2 (a load, it need not be
 * constant), the opset < 11 attribute, or zero. */
static aicc_status pad_value(aicc_lower_ctx *c, const aicc_loop_expr **v) {
  aicc_dtype t = c->out[0]->type;
  if (c->opset >= 11 && c->n_in > 2 && c->in[2] && aicc_lower_numel(c->in[2]) > 0) {
    const aicc_loop_buffer *b = c->in[2];
    AICC_TRY(aicc_lower_need_buf(c, b, "constant_value"));
    if (b->type != t) return aicc_lower_unsupported(c, "constant_value dtype differs");
    const aicc_loop_expr *zero[AICC_MAX_LOOP_RANK];
    for (int i = 0; i < b->rank; i++) zero[i] = k32(c, 0);
    *v = aicc_loop_load(c->lc, b, zero);
  } else if (c->opset < 11) {
    *v = aicc_lower_const(c, t, aicc_node_attr_float(c->node, "value", 0.f));
  } else {
    *v = aicc_lower_const(c, t, 0);
  }
  return *v ? NULL : nomem();
}

static aicc_status lower_pad(aicc_lower_ctx *c) {
  if (!c->out[0]) return NULL;
  AICC_TRY(need_io(c, true));
  const aicc_loop_buffer *in = c->in[0], *out = c->out[0];
  int r = in->rank;
  const char *ms = aicc_node_attr_string(c->node, "mode", "constant");
  pad_mode mode = strcmp(ms, "reflect") == 0 ? PAD_REFLECT
                  : strcmp(ms, "edge") == 0  ? PAD_EDGE
                  : strcmp(ms, "wrap") == 0  ? PAD_WRAP
                                             : PAD_CONSTANT;
  if (mode == PAD_CONSTANT && strcmp(ms, "constant") != 0)
    return aicc_lower_unsupported(c, "mode '%s'", ms);
  int64_t pb[AICC_MAX_LOOP_RANK], pe[AICC_MAX_LOOP_RANK];
  AICC_TRY(pad_amounts(c, r, pb, pe));
  if (out->rank != r) return aicc_lower_unsupported(c, "output rank differs");
  const aicc_loop_expr *fill = NULL;
  if (mode == PAD_CONSTANT) AICC_TRY(pad_value(c, &fill));
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK], *src[AICC_MAX_LOOP_RANK], *inside = NULL;
  aicc_loop_stage *s = stage_of(c, out, idx);
  if (!s) return nomem();
  bool empty_src = false;
  for (int d = 0; d < r; d++) {
    /* Negative pads crop first; the rest pads the kept range [lo, lo + n). */
    int64_t dim = aicc_lower_dim(in, d);
    int64_t lo = pb[d] < 0 ? -pb[d] : 0, n = dim - lo - (pe[d] < 0 ? -pe[d] : 0);
    int64_t before = pb[d] > 0 ? pb[d] : 0;
    if (dim + pb[d] + pe[d] != aicc_lower_dim(out, d))
      return aicc_lower_unsupported(c, "output dim %d disagrees with the pads", d);
    if (n <= 0) {
      if (mode != PAD_CONSTANT && aicc_lower_dim(out, d) > 0)
        return aicc_lower_unsupported(c, "cannot %s-pad an empty axis", ms);
      empty_src = true;
      continue;
    }
    const aicc_loop_expr *q = add_k(c, idx[d], -before); /* position in the kept range */
    if (pb[d] <= 0 && pe[d] <= 0) {
      src[d] = add_k(c, q, lo);
      continue;
    }
    switch (mode) {
    case PAD_CONSTANT: {
      const aicc_loop_expr *in_range =
          pb[d] > 0 && pe[d] > 0
              ? aicc_loop_binary(c->lc, AICC_LOOP_AND,
                                 aicc_loop_binary(c->lc, AICC_LOOP_GE, q, k32(c, 0)),
                                 aicc_loop_binary(c->lc, AICC_LOOP_LT, q, k32(c, n)))
          : pb[d] > 0 ? aicc_loop_binary(c->lc, AICC_LOOP_GE, q, k32(c, 0))
                      : aicc_loop_binary(c->lc, AICC_LOOP_LT, q, k32(c, n));
      inside = inside ? aicc_loop_binary(c->lc, AICC_LOOP_AND, inside, in_range) : in_range;
      q = pb[d] > 0 ? aicc_loop_max(c->lc, q, k32(c, 0)) : q;
      q = pe[d] > 0 ? aicc_loop_min(c->lc, q, k32(c, n - 1)) : q;
      break;
    }
    case PAD_EDGE:
      q = pb[d] > 0 ? aicc_loop_max(c->lc, q, k32(c, 0)) : q;
      q = pe[d] > 0 ? aicc_loop_min(c->lc, q, k32(c, n - 1)) : q;
      break;
    case PAD_WRAP: q = aicc_loop_mod(c->lc, q, k32(c, n)); break;
    case PAD_REFLECT:
      /* Period 2(n-1); the mirror of m in [0, 2(n-1)) is min(m, 2(n-1) - m). */
      if (n == 1) {
        q = k32(c, 0);
      } else {
        const aicc_loop_expr *m = aicc_loop_mod(c->lc, q, k32(c, 2 * (n - 1)));
        q = aicc_loop_min(c->lc, m, aicc_loop_sub(c->lc, k32(c, 2 * (n - 1)), m));
      }
      break;
    }
    src[d] = add_k(c, q, lo);
  }
  if (empty_src) return emit_move(c, s, fill); /* nothing of the input is kept */
  const aicc_loop_expr *body = aicc_loop_load(c->lc, in, src);
  if (inside) body = aicc_loop_select(c->lc, inside, body, fill);
  return emit_move(c, s, body);
}

/* Crops or zero-pads each axis around its centre (the output shape gives
 * the target sizes, so input 1 need not be constant). */
static aicc_status lower_center_crop_pad(aicc_lower_ctx *c) {
  if (!c->out[0]) return NULL;
  AICC_TRY(need_io(c, true));
  const aicc_loop_buffer *in = c->in[0], *out = c->out[0];
  if (out->rank != in->rank) return aicc_lower_unsupported(c, "output rank differs");
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK], *inside = NULL;
  aicc_loop_stage *s = stage_of(c, out, idx);
  if (!s) return nomem();
  const aicc_loop_expr *zero = aicc_lower_const(c, out->type, 0);
  for (int d = 0; d < in->rank; d++) {
    int64_t n = aicc_lower_dim(in, d), o = aicc_lower_dim(out, d);
    int64_t shift = o < n ? (n - o) / 2 : -((o - n) / 2);
    if (n == 0) return emit_move(c, s, zero);
    const aicc_loop_expr *q = add_k(c, idx[d], shift);
    if (shift < 0 || o + shift > n) {
      const aicc_loop_expr *ok = aicc_loop_binary(
          c->lc, AICC_LOOP_AND, aicc_loop_binary(c->lc, AICC_LOOP_GE, q, k32(c, 0)),
          aicc_loop_binary(c->lc, AICC_LOOP_LT, q, k32(c, n)));
      inside = inside ? aicc_loop_binary(c->lc, AICC_LOOP_AND, inside, ok) : ok;
      q = aicc_lower_clamp(c, q, 0, n - 1);
    }
    idx[d] = q;
  }
  const aicc_loop_expr *body = aicc_loop_load(c->lc, in, idx);
  if (inside) body = aicc_loop_select(c->lc, inside, body, zero);
  return emit_move(c, s, body);
}

/* ---- DepthToSpace, SpaceToDepth ---- */

/* Written straight from the reference's reshape-transpose-reshape (shape.c):
 * DCR reads channel (bh*b + bw)*C' + c, CRD reads c*b*b + bh*b + bw. */
static aicc_status lower_d2s_common(aicc_lower_ctx *c, bool to_space) {
  if (!c->out[0]) return NULL;
  AICC_TRY(need_io(c, true));
  const aicc_loop_buffer *in = c->in[0], *out = c->out[0];
  int64_t b = aicc_node_attr_int(c->node, "blocksize", 0);
  if (in->rank != 4 || out->rank != 4 || b <= 0)
    return aicc_lower_unsupported(c, "needs 4-D tensors and a positive blocksize");
  int64_t xd[4], yd[4];
  (void)aicc_lower_dims(in, xd);
  (void)aicc_lower_dims(out, yd);
  /* big: the side with b*b times the channels (and 1/b of each spatial dim) */
  const int64_t *big = to_space ? xd : yd, *small = to_space ? yd : xd;
  if (xd[0] != yd[0] || big[1] != small[1] * b * b || small[2] != big[2] * b ||
      small[3] != big[3] * b)
    return aicc_lower_unsupported(c, "output shape disagrees with the blocksize");
  bool crd = strcmp(aicc_node_attr_string(c->node, "mode", "DCR"), "CRD") == 0;
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK], *src[4];
  aicc_loop_stage *s = stage_of(c, out, idx);
  if (!s) return nomem();
  const aicc_loop_expr *kb = k32(c, b);
  src[0] = idx[0];
  if (to_space) {
    /* out [N, C', H*b, W*b] from in [N, C'*b*b, H, W]. */
    int64_t co = aicc_lower_dim(out, 1);
    const aicc_loop_expr *bh = aicc_loop_mod(c->lc, idx[2], kb);
    const aicc_loop_expr *bw = aicc_loop_mod(c->lc, idx[3], kb);
    const aicc_loop_expr *blk = aicc_loop_add(c->lc, mul_k(c, bh, b), bw);
    src[1] = crd ? aicc_loop_add(c->lc, mul_k(c, idx[1], b * b), blk)
                 : aicc_loop_add(c->lc, mul_k(c, blk, co), idx[1]);
    src[2] = aicc_loop_div(c->lc, idx[2], kb);
    src[3] = aicc_loop_div(c->lc, idx[3], kb);
  } else {
    /* out [N, C*b*b, H/b, W/b] from in [N, C, H, W]. */
    int64_t ci = aicc_lower_dim(in, 1);
    const aicc_loop_expr *ch, *blk;
    if (crd) {
      ch = aicc_loop_div(c->lc, idx[1], k32(c, b * b));
      blk = aicc_loop_mod(c->lc, idx[1], k32(c, b * b));
    } else {
      ch = aicc_loop_mod(c->lc, idx[1], k32(c, ci));
      blk = aicc_loop_div(c->lc, idx[1], k32(c, ci));
    }
    const aicc_loop_expr *bh = aicc_loop_div(c->lc, blk, kb), *bw = aicc_loop_mod(c->lc, blk, kb);
    src[1] = ch;
    src[2] = aicc_loop_add(c->lc, mul_k(c, idx[2], b), bh);
    src[3] = aicc_loop_add(c->lc, mul_k(c, idx[3], b), bw);
  }
  return emit_move(c, s, aicc_loop_load(c->lc, in, src));
}

static aicc_status lower_d2s(aicc_lower_ctx *c) { return lower_d2s_common(c, true); }
static aicc_status lower_s2d(aicc_lower_ctx *c) { return lower_d2s_common(c, false); }

/* ---- Shape, Size, ConstantOfShape ---- */

/* Shape: the static dims of input 0 in [start, end) as an i64 vector, a
 * select chain on the position (ranks are small). Any input dtype works:
 * the input is never read. */
static aicc_status lower_shape(aicc_lower_ctx *c) {
  if (!c->out[0]) return NULL;
  const aicc_loop_buffer *in = c->in[0], *out = c->out[0];
  int64_t dims[AICC_MAX_LOOP_RANK];
  if (!in || in->rank > AICC_MAX_LOOP_RANK || !aicc_lower_dims(in, dims))
    return aicc_lower_unsupported(c, "input has no static shape");
  AICC_TRY(aicc_lower_need_buf(c, out, "output"));
  int r = in->rank;
  int64_t a = aicc_node_attr_int(c->node, "start", 0), e = aicc_node_attr_int(c->node, "end", r);
  if (a < 0) a += r;
  if (e < 0) e += r;
  a = a < 0 ? 0 : a > r ? r : a;
  e = e < a ? a : e > r ? r : e;
  if (out->rank != 1 || aicc_lower_dim(out, 0) != e - a)
    return aicc_lower_unsupported(c, "output shape disagrees with start/end");
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK];
  aicc_loop_stage *s = stage_of(c, out, idx);
  if (!s) return nomem();
  const aicc_loop_expr *body = NULL;
  for (int64_t i = e - 1; i >= a; i--) {
    const aicc_loop_expr *v = aicc_loop_int(c->lc, out->type, dims[i]);
    body = body ? aicc_loop_select(
                      c->lc, aicc_loop_binary(c->lc, AICC_LOOP_EQ, idx[0], k32(c, i - a)), v, body)
                : v;
  }
  return emit_stage(c, s, body ? body : aicc_lower_const(c, out->type, 0),
                    AICC_LOOP_CLASS_ELEMENTWISE);
}

static aicc_status lower_size(aicc_lower_ctx *c) {
  if (!c->out[0]) return NULL;
  int64_t dims[AICC_MAX_LOOP_RANK];
  if (!c->in[0] || c->in[0]->rank > AICC_MAX_LOOP_RANK || !aicc_lower_dims(c->in[0], dims))
    return aicc_lower_unsupported(c, "input has no static shape");
  AICC_TRY(aicc_lower_need_buf(c, c->out[0], "output"));
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK];
  aicc_loop_stage *s = stage_of(c, c->out[0], idx);
  if (!s) return nomem();
  return emit_stage(c, s, aicc_loop_int(c->lc, c->out[0]->type, aicc_lower_numel(c->in[0])),
                    AICC_LOOP_CLASS_ELEMENTWISE);
}

/* The output shape is static, so input 0 is never read; the value is the
 * one-element tensor attribute (f32 zero when absent). */
static aicc_status lower_constant_of_shape(aicc_lower_ctx *c) {
  if (!c->out[0]) return NULL;
  const aicc_loop_buffer *out = c->out[0];
  AICC_TRY(aicc_lower_need_buf(c, out, "output"));
  const aicc_tensor *v = aicc_node_attr_tensor(c->node, "value");
  const aicc_loop_expr *body;
  if (!v) {
    body = aicc_lower_const(c, out->type, 0);
  } else {
    if (v->dtype != out->type || aicc_tensor_numel(v) != 1)
      return aicc_lower_unsupported(c, "value is not one element of the output dtype");
    body = aicc_loop_type_is_int(out->type)
               ? aicc_loop_int(c->lc, out->type, aicc_tensor_get_i64(v, 0))
               : aicc_loop_float(c->lc, out->type, aicc_tensor_get_f64(v, 0));
  }
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK];
  aicc_loop_stage *s = stage_of(c, out, idx);
  return emit_stage(c, s, body, AICC_LOOP_CLASS_ELEMENTWISE);
}

/* ---- table ---- */

static const aicc_lower_row rows[] = {
    {"", "Identity", lower_identity},
    {"", "Reshape", lower_reshape},
    {"", "Flatten", lower_reshape},
    {"", "Squeeze", lower_reshape},
    {"", "Unsqueeze", lower_reshape},
    {"", "Transpose", lower_transpose},
    {"", "Expand", lower_expand},
    {"", "Tile", lower_tile},
    {"", "Concat", lower_concat},
    {"", "Split", lower_split},
    {"", "Slice", lower_slice},
    {"", "Pad", lower_pad},
    {"", "CenterCropPad", lower_center_crop_pad},
    {"", "DepthToSpace", lower_d2s},
    {"", "SpaceToDepth", lower_s2d},
    {"", "Shape", lower_shape},
    {"", "Size", lower_size},
    {"", "ConstantOfShape", lower_constant_of_shape},
};

const aicc_lower_table aicc_lower_movement = {"movement", rows, sizeof rows / sizeof rows[0]};
