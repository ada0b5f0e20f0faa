/* Default rules for convolution and pooling stages (schedule.h's
 * aicc_schedule_default calls them for the CONV and POOL classes): a
 * register block of output vectors accumulated in a local buffer, with the
 * reduction loops outside it, as in Goto's GEMM micro-kernel and its
 * direct-convolution form (Georganas et al., "Anatomy of High-Performance
 * Deep Learning Convolutions on SIMD Architectures", SC 2018, §3):
 *
 *   [outer pure loops, u1o, u2o] [reduction loops] [u2i, u1i unrolled] [vi vectorized]
 *
 * vi is the innermost output axis (output channels in NCHW16c, columns in
 * NCHW), contiguous in every load that depends on it. u1 and u2 are output
 * axes some load does not depend on, so one loaded value serves a row of the
 * block: in NCHW16c the weight vector is reused across columns (u1) and the
 * broadcast input across output-channel blocks (u2). A stage that reads a
 * padded copy of its input made in the kernel gets its rows in bands, the
 * copy made once per band (band_rows). The rules read the stage only; a
 * stage they do not fit (an inlined input, a strided vector axis, too few
 * lanes) goes back to the generic rules. */
#include <stdio.h>
#include <string.h>

#include "loop/schedule_impl.h"

enum {
  MAX_LOOPS = AICC_SCHED_MAX_NAMES, /* reorder names every loop */
  MAX_ACC = 24,                     /* accumulator vectors of a block (of 32 registers) */
  MAX_ACC_ROW = 14,                 /* the same when no operand is shared (depthwise) */
  PAR_MIN = 1 << 15,                /* as the generic rules: work worth a parallel loop */
  MAX_LOADS = 32,
  BAND_BYTES = 96 << 10, /* a band's padded copy, at most (L1d is 48 KiB, L2 1 MiB) */
};

/* ---- what the body reads ---- */

/* The coefficient of var in integer expression e when e is affine in the
 * stage's variables; false otherwise. */
static bool coef_of(const aicc_loop_expr *e, const aicc_loop_expr *var, int64_t *c) {
  int64_t a, b, k;
  switch (e->op) {
  case AICC_LOOP_INT: *c = 0; return true;
  case AICC_LOOP_VAR: *c = e == var; return true;
  case AICC_LOOP_ADD:
  case AICC_LOOP_SUB:
    if (!coef_of(e->args[0], var, &a) || !coef_of(e->args[1], var, &b)) return false;
    *c = e->op == AICC_LOOP_ADD ? a + b : a - b;
    return true;
  case AICC_LOOP_MUL:
    if (aicc_loop_expr_is_int_const(e->args[0], &k) && coef_of(e->args[1], var, &b)) {
      *c = k * b;
      return true;
    }
    if (aicc_loop_expr_is_int_const(e->args[1], &k) && coef_of(e->args[0], var, &a)) {
      *c = k * a;
      return true;
    }
    return false;
  default: *c = 0; return !aicc_loop_expr_uses_var(e, var);
  }
}

typedef struct load_info {
  const aicc_loop_buffer *buf;
  uint32_t dep; /* bit i: depends on pure axis i */
  bool contig;  /* every dim that depends on the vector axis is the last, with coefficient 1 */
} load_info;

typedef struct body_info {
  int n;
  load_info loads[MAX_LOADS];
  bool ok; /* false: too many loads */
} body_info;

static void collect(const aicc_loop_stage *s, const aicc_loop_expr *e, int v, body_info *bi) {
  if (!e) return;
  if (e->op == AICC_LOOP_LOAD && e->buf != s->buf) {
    if (bi->n == MAX_LOADS) {
      bi->ok = false;
      return;
    }
    load_info *li = &bi->loads[bi->n++];
    li->buf = e->buf;
    li->dep = 0;
    li->contig = true;
    int rank = e->buf->rank;
    for (int a = 0; a < s->n_axes && a < 32; a++)
      for (int d = 0; d < rank; d++)
        if (aicc_loop_expr_uses_var(e->args[d], s->axes[a].var)) li->dep |= 1u << a;
    for (int d = 0; d < rank; d++) {
      int64_t c;
      if (!aicc_loop_expr_uses_var(e->args[d], s->axes[v].var)) continue;
      if (d != rank - 1 || !coef_of(e->args[d], s->axes[v].var, &c) || c != 1) li->contig = false;
    }
  }
  for (uint32_t i = 0; i < e->nargs; i++) collect(s, e->args[i], v, bi);
}

/* Whether buf is a stage the generic rules inline (its loads then stand for
 * its body, which this analysis does not look through). */
static bool inlined_buffer(const aicc_loop_kernel *k, const aicc_loop_buffer *buf) {
  const aicc_loop_stage *p = aicc_loop_kernel_stage_of(k, buf);
  return p && p->inlinable && !aicc_loop_kernel_is_param(k, buf) &&
         p->reduce == AICC_LOOP_REDUCE_NONE && !p->cond;
}

/* ---- records over a list of loop names ---- */

typedef struct rctx {
  aicc_schedule *out;
  const char *stage;
  int n;
  char name[MAX_LOOPS][64];
  int64_t ext[MAX_LOOPS];
  bool red[MAX_LOOPS];
  bool tail[MAX_LOOPS]; /* the outer loop of a split with a tail: never fused (it is partitioned) */
} rctx;

static aicc_status add(rctx *r, aicc_sched_kind kind, int nn, const char *const *names, int ni,
                       const int64_t *ints) {
  aicc_sched_step st = {.kind = kind, .stage = r->stage, .n_names = nn, .n_ints = ni};
  for (int i = 0; i < nn; i++) st.names[i] = names[i];
  for (int i = 0; i < ni; i++) st.ints[i] = ints[i];
  return aicc_schedule_add(r->out, &st);
}

static int find(const rctx *r, const char *name) {
  for (int i = 0; i < r->n; i++)
    if (!strcmp(r->name[i], name)) return i;
  return -1;
}

/* Splits loop at into <name>o, <name>i (both new names: axis names are
 * i<k>/r<k>, so these never collide with them). */
static aicc_status split(rctx *r, int at, int64_t f) {
  if (r->n == MAX_LOOPS) return aicc_errorf(AICC_ERR_INTERNAL, "conv rules: too many loops");
  char o[64], in[64];
  snprintf(o, sizeof o, "%.60so", r->name[at]);
  snprintf(in, sizeof in, "%.60si", r->name[at]);
  const char *names[3] = {r->name[at], o, in};
  AICC_TRY(add(r, AICC_SCHED_SPLIT, 3, names, 1, &f));
  memmove(&r->name[at + 2], &r->name[at + 1], (size_t)(r->n - at - 1) * sizeof r->name[0]);
  memmove(&r->ext[at + 2], &r->ext[at + 1], (size_t)(r->n - at - 1) * sizeof r->ext[0]);
  memmove(&r->red[at + 2], &r->red[at + 1], (size_t)(r->n - at - 1) * sizeof r->red[0]);
  memmove(&r->tail[at + 2], &r->tail[at + 1], (size_t)(r->n - at - 1) * sizeof r->tail[0]);
  int64_t e = r->ext[at];
  snprintf(r->name[at], 64, "%s", o);
  snprintf(r->name[at + 1], 64, "%s", in);
  r->ext[at] = (e + f - 1) / f;
  r->ext[at + 1] = f;
  r->red[at + 1] = r->red[at];
  r->tail[at + 1] = false;
  r->tail[at] = r->tail[at] || e % f != 0;
  r->n++;
  return NULL;
}

/* Puts the loops in the order of perm (indices into the current list). */
static aicc_status reorder(rctx *r, const int *perm) {
  rctx old = *r;
  const char *names[MAX_LOOPS];
  bool same = true;
  for (int i = 0; i < r->n; i++) {
    same = same && perm[i] == i;
    snprintf(r->name[i], 64, "%s", old.name[perm[i]]);
    r->ext[i] = old.ext[perm[i]];
    r->red[i] = old.red[perm[i]];
    r->tail[i] = old.tail[perm[i]];
    names[i] = r->name[i];
  }
  return same ? NULL : add(r, AICC_SCHED_REORDER, r->n, names, 0, NULL);
}

/* Fuses the first n loops into one. */
static aicc_status fuse_leading(rctx *r, int n) {
  for (int i = 1; i < n; i++) {
    char f[64];
    snprintf(f, sizeof f, "%.30s_%.30s", r->name[0], r->name[1]);
    if (find(r, f) >= 0 || strlen(r->name[0]) + strlen(r->name[1]) > 60)
      snprintf(f, sizeof f, "fused%d", i);
    const char *names[3] = {r->name[0], r->name[1], f};
    AICC_TRY(add(r, AICC_SCHED_FUSE, 3, names, 0, NULL));
    snprintf(r->name[0], 64, "%s", f);
    r->ext[0] *= r->ext[1];
    memmove(&r->name[1], &r->name[2], (size_t)(r->n - 2) * sizeof r->name[0]);
    memmove(&r->ext[1], &r->ext[2], (size_t)(r->n - 2) * sizeof r->ext[0]);
    memmove(&r->red[1], &r->red[2], (size_t)(r->n - 2) * sizeof r->red[0]);
    memmove(&r->tail[1], &r->tail[2], (size_t)(r->n - 2) * sizeof r->tail[0]);
    r->n--;
  }
  return NULL;
}

static aicc_status mark(rctx *r, aicc_sched_kind kind, const char *loop) {
  return add(r, kind, 1, &loop, 0, NULL);
}

/* ---- block sizes ---- */

/* A block of at most m points along an axis of extent e: all of it when it
 * fits, else the size in [m/2, m] with the fewest tiles, preferring one
 * that divides e (no tail block). */
static int64_t block_of(int64_t e, int64_t m) {
  if (m < 1) m = 1;
  if (e <= m) return e;
  int64_t best = m, best_cost = INT64_MAX;
  for (int64_t f = m; f >= 1 && f * 2 >= m; f--) {
    int64_t cost = 2 * ((e + f - 1) / f) + (e % f != 0);
    if (cost < best_cost) best = f, best_cost = cost;
  }
  return best;
}

/* The first load of buffer b in e (NULL: none). */
static const aicc_loop_expr *find_load(const aicc_loop_expr *e, const aicc_loop_buffer *b) {
  if (!e) return NULL;
  if (e->op == AICC_LOOP_LOAD && e->buf == b) return e;
  for (uint32_t i = 0; i < e->nargs; i++) {
    const aicc_loop_expr *f = find_load(e->args[i], b);
    if (f) return f;
  }
  return NULL;
}

/* Row bands for a stage that reads a temp of its kernel (the padded copy of
 * the input, pad_input in ops/lower/conv.c) by rows: the copy is computed
 * at the loop over (batch, channel block, band of rows) and serves every
 * output row and output-channel block of the band, so each input element
 * is copied (band + window - 1) / band times instead of once per output row
 * and block. Only when every other pure loop outside the register block is
 * one the copy depends on (the batch, a depthwise channel block) or is
 * wholly inside the block: an output-channel loop outside would have to go
 * inside the band, and the parallel loop over bands alone may then be too
 * short for a small image (a dense conv's copy of 16 lanes costs a few
 * percent of its FMAs anyway; a depthwise conv's, one load per FMA, or a
 * 3-channel first conv's costs about as much as the conv). Sets *rows to the
 * band's height (the whole extent: no split), 0 when bands do not apply
 * (then the copy is computed per output row at the parallel loop). */
static void band_rows(const aicc_loop_kernel *k, const aicc_loop_stage *s, const body_info *bi,
                      int nb, int v, int u1, int u2, int64_t b2, const aicc_sched_target *t,
                      int64_t *rows) {
  *rows = 0;
  int ra = v - 2;
  if (ra < 0 || u1 != v - 1 || ra == u2 || s->axes[ra].extent < 2) return;
  uint32_t dep = 0; /* the axes the copy's load depends on */
  const aicc_loop_buffer *tb = NULL;
  for (int i = 0; i < nb; i++) {
    const aicc_loop_buffer *b = bi->loads[i].buf;
    if (aicc_loop_kernel_stage_of(k, b) && !aicc_loop_kernel_is_param(k, b) &&
        (bi->loads[i].dep & (1u << ra)))
      dep |= bi->loads[i].dep, tb = b;
  }
  if (!dep) return;
  /* The copy's rows: their bytes, the input rows an output row steps over,
   * and the halo, for a band's copy to stay near L1 (a larger one, read
   * from L2, costs more than the rows it saves). */
  const aicc_loop_expr *ld = find_load(s->body, tb);
  int64_t row_bytes = 0, step = 0, halo = 0;
  const aicc_dtype_info *ti = aicc_dtype_get(tb->type);
  for (int d = 0; ld && d < tb->rank && !row_bytes; d++) {
    int64_t hp, c, e;
    if (!aicc_loop_expr_uses_var(ld->args[d], s->axes[ra].var)) continue;
    if (!coef_of(ld->args[d], s->axes[ra].var, &c) || c < 1 ||
        !aicc_loop_expr_is_int_const(tb->shape[d], &hp))
      return;
    row_bytes = ti && ti->bits >= 8 ? ti->bits / 8 : 4;
    for (int j = 0; j < tb->rank; j++) { /* the dims after the row's, and the reduced ones */
      bool pure = false;
      for (int a = 0; a < s->n_axes; a++)
        pure = pure || aicc_loop_expr_uses_var(ld->args[j], s->axes[a].var);
      if (j == d || (j < d && pure)) continue;
      if (!aicc_loop_expr_is_int_const(tb->shape[j], &e)) return;
      row_bytes *= e;
    }
    step = c;
    halo = hp - s->axes[ra].extent * c;
  }
  /* A strided window copies each input row 1.5 (3x3, stride 2) times per
   * output row anyway: for a copy of whole vectors (depthwise), bands then
   * lose more to the copy leaving L1 than they save (MobileNetV2's 112x112
   * stride-2 depthwise conv: 118 us per row, 153 us in bands of 4). The
   * copy of an input read by broadcasts (the first conv's NCHW image: 3
   * channels, a few KiB a row) gains. */
  if (!row_bytes || (step != 1 && (dep & (1u << v)))) return;
  if (halo < 0) halo = 0;
  int64_t others = 1;
  for (int a = 0; a < v; a++) {
    if (a == ra || a == u1 || s->axes[a].extent < 2) continue;
    if (a == u2 && b2 == s->axes[a].extent) continue;
    if (!(dep & (1u << a))) return;
    others *= s->axes[a].extent;
  }
  /* Up to 8 rows, fewer when 4 bands per thread need them; a height that
   * divides the rows (a band loop with a tail could not be fused). */
  int64_t OH = s->axes[ra].extent, nt = t->threads > 0 ? t->threads : 1;
  int64_t want = OH * others / (4 * nt), m = want < 1 ? 1 : want > 8 ? 8 : want;
  while (m > 1 && (m * step + halo) * row_bytes > BAND_BYTES) m--;
  if (OH <= m) {
    *rows = OH;
    return;
  }
  for (int64_t f = m; f >= 2 && 2 * f >= m; f--) /* a band of 1 row: as without bands */
    if (OH % f == 0) {
      *rows = f;
      return;
    }
}

/* Whether the loop over blocks along u2 (output channels) should be the
 * outermost: when the operand that depends on u2 (the weights) is larger
 * than half of L2 while everything else the body loads (the input, every
 * image of the batch) fits in half of it, and some outer axis (the batch)
 * does not index the weights. In axis order each image streams all the
 * weights again from beyond L2; with u2's blocks outside, a block's
 * weights stay in L2 across the images and the input is what is re-read,
 * from L2. (SqueezeNet's last conv at batch 8: 2 MiB of weights, 400 KiB
 * of input.) */
static bool u2_first(const aicc_loop_stage *s, const body_info *bi, int nb, int u2,
                     const aicc_sched_target *t) {
  int64_t l2 = t->l2_bytes > 0 ? t->l2_bytes : 1 << 20, w = 0, x = 0;
  uint32_t wdep = 0;
  for (int i = 0; i < nb; i++) {
    const aicc_loop_buffer *b = bi->loads[i].buf;
    bool seen = false;
    for (int j = 0; j < i; j++) seen = seen || bi->loads[j].buf == b;
    if (seen) continue;
    const aicc_dtype_info *ti = aicc_dtype_get(b->type);
    int64_t n = aicc_loop_buffer_numel(b);
    if (!n || n > (INT64_C(1) << 40) || !ti || ti->bits < 8) return false;
    n *= ti->bits / 8;
    if (bi->loads[i].dep & (1u << u2)) w += n, wdep |= bi->loads[i].dep;
    else x += n;
  }
  bool outer_free = false; /* an axis before u2 the weights do not depend on */
  for (int a = 0; a < u2; a++) outer_free = outer_free || (s->axes[a].extent > 1 && !(wdep & (1u << a)));
  return outer_free && w > l2 / 2 && x <= l2 / 2;
}

/* An accumulator buffer name no buffer of k has. */
static void acc_name(const aicc_loop_kernel *k, const char *stage, char *out, size_t n) {
  snprintf(out, n, "%.80s_acc", stage);
  for (int i = 1;; i++) {
    bool taken = false;
    for (size_t j = 0; j < k->n_params; j++) taken = taken || !strcmp(k->params[j]->name, out);
    for (size_t j = 0; j < k->n_stages; j++) taken = taken || !strcmp(k->stages[j]->name, out);
    if (!taken) return;
    snprintf(out, n, "%.80s_acc%d", stage, i);
  }
}

aicc_status aicc_sched_conv_rules(const aicc_loop_kernel *k, const aicc_loop_stage *s,
                                  const aicc_sched_target *t, bool par, aicc_schedule *out,
                                  char *outer, bool *handled) {
  *handled = false;
  outer[0] = 0;
  int P = s->n_axes, R = s->n_raxes;
  if (s->reduce == AICC_LOOP_REDUCE_NONE || s->reduce == AICC_LOOP_REDUCE_PROD || P < 2 ||
      P > 30 || P + R + 4 > MAX_LOOPS || s->cond)
    return NULL;
  const aicc_dtype_info *info = aicc_dtype_get(s->buf->type);
  int64_t L = info && info->bits >= 8 && t->vector_bits > 0 ? t->vector_bits / info->bits : 0;
  int v = P - 1;
  if (L < 2 || s->axes[v].extent < L || !aicc_dtype_is_float(s->buf->type)) return NULL;
  body_info bi = {.ok = true};
  collect(s, s->body, v, &bi);
  int nb = bi.n; /* loads of the body proper; post's come after them */
  collect(s, s->post, v, &bi);
  if (!bi.ok) return NULL;
  for (int i = 0; i < bi.n; i++)
    if (inlined_buffer(k, bi.loads[i].buf) || !bi.loads[i].contig) return NULL;

  /* u1: the innermost axis some load does not depend on; u2: the innermost
   * other one that a load u1 depends on does not depend on. */
  int u1 = -1, u2 = -1;
  for (int a = v - 1; a >= 0 && u1 < 0; a--) {
    if (s->axes[a].extent < 2) continue;
    for (int i = 0; i < nb; i++)
      if (!(bi.loads[i].dep & (1u << a))) u1 = a;
  }
  for (int a = v - 1; a >= 0 && u1 >= 0 && u2 < 0; a--) {
    if (a == u1 || s->axes[a].extent < 2) continue;
    for (int i = 0; i < nb; i++)
      if (!(bi.loads[i].dep & (1u << a)) && (bi.loads[i].dep & (1u << u1))) u2 = a;
  }
  int64_t vext = s->axes[v].extent, nvec = vext >= 2 * L && vext % (2 * L) == 0 ? 2 : 1;
  int64_t budget = MAX_ACC / nvec;
  /* A block whose every point loads its own vector along u1 and that has no
   * u2 (a depthwise window: no operand is shared) keeps fewer accumulators:
   * the compiler keeps the window's overlapping input vectors in registers
   * across the taps (predictive commoning), and 24 accumulators plus those
   * spill to the stack on every FMA. */
  for (int i = 0; i < nb && u1 >= 0 && u2 < 0; i++)
    if ((bi.loads[i].dep & (1u << u1)) && (bi.loads[i].dep & (1u << v)) && budget > MAX_ACC_ROW)
      budget = MAX_ACC_ROW;
  int64_t b2 = u2 >= 0 ? block_of(s->axes[u2].extent, 4) : 1;
  if (b2 > budget / 2) b2 = budget / 2 > 0 ? budget / 2 : 1;
  int64_t b1 = u1 >= 0 ? block_of(s->axes[u1].extent, budget / b2) : 1;

  rctx r = {.out = out, .stage = s->name};
  for (int i = 0; i < P + R; i++) {
    const aicc_loop_axis *ax = i < P ? &s->axes[i] : &s->raxes[i - P];
    snprintf(r.name[i], 64, "%s", ax->var->v.name);
    r.ext[i] = ax->extent;
    r.red[i] = i >= P;
  }
  r.n = P + R;
  char vn[64], u1n[64], u2n[64];
  snprintf(vn, sizeof vn, "%s", r.name[v]);
  snprintf(u1n, sizeof u1n, "%s", u1 >= 0 ? r.name[u1] : "");
  snprintf(u2n, sizeof u2n, "%s", u2 >= 0 ? r.name[u2] : "");
  int64_t band = 0;
  band_rows(k, s, &bi, nb, v, u1, u2, b2, t, &band);
  char rown[64] = "", ban[70] = "", bin[70] = ""; /* the band loop; the rows in it ("": none) */
  if (band > 0) {
    snprintf(rown, sizeof rown, "%s", r.name[v - 2]);
    snprintf(ban, sizeof ban, "%s", rown);
    if (band < s->axes[v - 2].extent) {
      snprintf(ban, sizeof ban, "%so", rown);
      snprintf(bin, sizeof bin, "%si", rown);
    }
  }
  AICC_TRY(split(&r, find(&r, vn), nvec * L));
  if (u1 >= 0 && b1 > 1) AICC_TRY(split(&r, find(&r, u1n), b1));
  if (u2 >= 0 && b2 > 1) AICC_TRY(split(&r, find(&r, u2n), b2));
  if (bin[0]) AICC_TRY(split(&r, find(&r, rown), band));
  /* Order: the pure loops that are not inner parts of the block, the
   * reductions, then the block (u2i, u1i, vi). With u2i outside, the
   * compiler keeps the b1 values loaded along u1 (broadcast inputs) live
   * across the u2 iterations: b1*b2 accumulators + b1 + 1 registers. When
   * that is more than the vector registers (a first conv's 2 x 12 block: 37
   * of 32, accumulators spilled on every FMA) and u1i outside needs fewer
   * (each value along u1 serves its b2 FMAs at once and dies: b1*b2 + b2 +
   * 1), u1i goes outside. */
  char inner[3][70];
  int n_inner = 0;
  int64_t nregs = t->vector_bits >= 512 ? 32 : 16;
  bool u1_out = u1 >= 0 && u2 >= 0 && b1 > b2 && b1 * b2 + b1 + 1 > nregs;
  if (u1_out && b1 > 1) snprintf(inner[n_inner++], 70, "%si", u1n);
  if (u2 >= 0 && b2 > 1) snprintf(inner[n_inner++], 70, "%si", u2n);
  if (!u1_out && u1 >= 0 && b1 > 1) snprintf(inner[n_inner++], 70, "%si", u1n);
  snprintf(inner[n_inner++], 70, "%si", vn);
  /* Outer pure loops of extent 1 go last among them: they cost nothing
   * anywhere, and in front they would hide the loop worth running in
   * parallel (a batch of 1 before a partitioned output-channel loop left
   * the whole conv on one thread). */
  int perm[MAX_LOOPS], np = 0, n_band = 0; /* n_band: loops up to the band's */
  bool placed[MAX_LOOPS] = {false};
  if (band == 0 && u2 >= 0 && b2 < s->axes[u2].extent && u2_first(s, &bi, nb, u2, t)) {
    char u2o[70];
    snprintf(u2o, sizeof u2o, "%so", u2n);
    int i = find(&r, u2o);
    if (i >= 0) perm[np++] = i, placed[i] = true;
  }
  if (band > 0) {
    /* The loops the copy depends on (extent > 1), the band, its rows. */
    int bi_ = find(&r, ban); /* the loops before it come from axes before the rows */
    for (int i = 0; i < bi_; i++) {
      bool in = false;
      for (int j = 0; j < n_inner; j++) in = in || !strcmp(r.name[i], inner[j]);
      if (!r.red[i] && !in && r.ext[i] > 1) perm[np++] = i, placed[i] = true;
    }
    /* A band of all the rows: the copy goes at the loops before them (the
     * rows' loop is then not fused into the parallel one). */
    if (!bin[0]) n_band = np;
    perm[np++] = bi_, placed[bi_] = true;
    if (!n_band) n_band = np;
    if (bin[0]) bi_ = find(&r, bin), perm[np++] = bi_, placed[bi_] = true;
  }
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < r.n; i++) {
      bool in = false;
      for (int j = 0; j < n_inner; j++) in = in || !strcmp(r.name[i], inner[j]);
      if (!r.red[i] && !in && !placed[i] && (r.ext[i] == 1) == (pass == 1)) perm[np++] = i;
    }
  int n_outer = np;
  for (int i = 0; i < r.n; i++)
    if (r.red[i]) perm[np++] = i;
  for (int j = 0; j < n_inner; j++) perm[np++] = find(&r, inner[j]);
  AICC_TRY(reorder(&r, perm));
  for (int j = 0; j + 1 < n_inner; j++) AICC_TRY(mark(&r, AICC_SCHED_UNROLL, inner[j]));
  AICC_TRY(mark(&r, AICC_SCHED_VECTORIZE, inner[n_inner - 1]));
  int64_t work = 1;
  for (int i = 0; i < P; i++) work *= s->axes[i].extent;
  for (int i = 0; i < R; i++) work *= s->raxes[i].extent;
  bool do_par = par && n_outer >= 1 && work >= PAR_MIN;
  if (n_band > 0) {
    /* The loops up to the band's become one, where the copy is computed
     * (the `outer` loop) and the parallel one. */
    AICC_TRY(fuse_leading(&r, n_band));
  } else if (do_par) {
    /* Each thread runs one contiguous chunk of the parallel loop, so the
     * imbalance is up to one iteration: fuse loops until every thread has
     * 8 or more. A loop split with a tail is never fused (it is
     * partitioned); on its own it may still run in parallel. */
    int64_t nt = t->threads > 0 ? t->threads : 1, want = 8 * nt, prod = r.ext[0];
    int nf = 1;
    while (prod < want && nf < n_outer && !r.tail[0] && !r.tail[nf] &&
           prod * r.ext[nf] <= INT32_MAX)
      prod *= r.ext[nf++];
    AICC_TRY(fuse_leading(&r, nf));
  }
  char acc[96];
  acc_name(k, s->name, acc, sizeof acc);
  const char *accp = acc;
  AICC_TRY(add(&r, AICC_SCHED_CACHE_WRITE, 1, &accp, 0, NULL));
  if (do_par && r.ext[0] >= 2) AICC_TRY(mark(&r, AICC_SCHED_PARALLEL, r.name[0]));
  if (!r.red[0]) snprintf(outer, 64, "%s", r.name[0]);
  *handled = true;
  return NULL;
}
