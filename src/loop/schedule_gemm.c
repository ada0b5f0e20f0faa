/* The default schedule of a GEMM-like stage (C[.., i, j] = sum_k a*b over
 * float lanes): the loop structure of GotoBLAS/BLIS (Goto & van de Geijn,
 * "Anatomy of High-Performance Matrix Multiplication", TOMS 2008; Van Zee &
 * van de Geijn, "BLIS", TOMS 2015) written as schedule records:
 *
 *   [par] jc (N blocks of NC)               -- the parallel loop (or batch/ic)
 *     kc (K blocks of KC)                   -- B's KC x NC panel packed here
 *       ir (rows by MR)                     -- A's MR x KC sliver stays in L1
 *         jr (columns by NR)                -- B's KC x NR sliver streams from L2
 *           acc[MR][NR]: load (or zero), then
 *           kk (by KU, unrolled): ii (unrolled) x ji (vectorized): acc += a[ii] * b[ji]
 *           store acc
 *
 * The accumulator is the cache_write buffer at the last run of reduction
 * loops (schedule_lower.c: split reductions), MR x NR small enough that the C
 * compiler keeps it in vector registers; B (the operand indexed by j) is
 * packed by `pack` into NR-wide panels contiguous along k and computed at the
 * kc loop, so every load of the inner loop is contiguous or a broadcast.
 * Block sizes come from the target's registers and cache sizes.
 *
 * A is read in place, not packed: MR x KC slivers of A packed at the ir loop
 * (to keep K = 1024's rows, 4 KiB apart, out of one L1 set) measured no
 * faster at 1024^3 and 3-8% slower at 128^3..256^3, where the copy is not
 * amortized; MR from 6 to 14 and KC 256..512 measured the same at 1024^3.
 *
 * With few rows (M <= SMALL_M) and B contiguous along j, nothing is packed
 * and K is not blocked: a GEMV-like product streams B once (choose_small).
 *
 * A GEMM under an elementwise epilogue (MatMul + bias + Gelu in one kernel)
 * is not the root; the epilogue's columns are then blocked by NC (parallel)
 * and the GEMM computed at that block loop over [.., M, NC], with the same
 * rule over the block.
 *
 * Reads the kernel only; builds no expressions. Declines (the caller's
 * generic rule applies) when the stage is not this shape. */
#include <stdio.h>
#include <string.h>

#include "loop/schedule_impl.h"

enum { MAX_VARS = 2 * AICC_MAX_LOOP_RANK, MAX_BUFS = 8, MAX_ENV = 64, PAR_MIN_WORK = 1 << 15,
       EPILOGUE_MIN_WORK = 1 << 20,
       SMALL_M = 8, SMALL_MAX_NV = 4, KU = 4 };

/* ---- what the stage reads (through inlined stages) ---- */

/* What an index expression is in terms of the stage's variables: the set
 * it depends on, and whether it is exactly one of them (the loop var itself,
 * as `pack` requires). */
typedef struct idx_info {
  uint32_t dep;
  int exact; /* variable index, or -1 */
} idx_info;

typedef struct env {
  const aicc_loop_expr *var[MAX_ENV];
  idx_info val[MAX_ENV];
  int n;
} env;

/* One buffer the stage reads, with the indices of each of its loads. */
typedef struct buf_use {
  const aicc_loop_buffer *buf;
  int n_loads;
  bool in_body;     /* some load is in the body (not only post/init/cond) */
  bool j_dim_ok;    /* every load has dim j_dim exactly j, no other dim on j */
  int j_dim;
  bool on_j, on_i;  /* some index depends on j / on i */
  bool contiguous;  /* every load: last dim exactly j, no other dim on j */
  bool identity;    /* every load is at [a0, .., an] of the stage's own axes */
} buf_use;

typedef struct scan {
  const aicc_loop_kernel *k;
  const bool *inlined;
  const aicc_loop_stage *s;
  int var_i, var_j; /* indices of the row and column axes */
  buf_use use[MAX_BUFS];
  int n_use;
  bool in_body;
  bool bad; /* something this rule does not model */
} scan;

static const aicc_loop_stage *inlined_stage(const scan *c, const aicc_loop_buffer *b) {
  for (size_t i = 0; i < c->k->n_stages; i++)
    if (c->k->stages[i]->buf == b && c->inlined[i]) return c->k->stages[i];
  return NULL;
}

static idx_info walk(scan *c, const aicc_loop_expr *e, const env *en, int depth);

static void record_load(scan *c, const aicc_loop_buffer *b, const idx_info *idx, int rank) {
  if (b == c->s->buf) return; /* post's read of the reduced value */
  buf_use *u = NULL;
  for (int i = 0; i < c->n_use; i++)
    if (c->use[i].buf == b) u = &c->use[i];
  if (!u) {
    if (c->n_use == MAX_BUFS) {
      c->bad = true;
      return;
    }
    u = &c->use[c->n_use++];
    memset(u, 0, sizeof *u);
    u->buf = b;
    u->j_dim = -1;
    u->j_dim_ok = u->contiguous = u->identity = true;
  }
  if (rank != c->s->n_axes) u->identity = false;
  for (int d = 0; d < rank && u->identity; d++) /* a dim of extent 1 may read [0] */
    if (idx[d].exact != d && !(c->s->axes[d].extent == 1 && idx[d].dep == 0)) u->identity = false;
  u->n_loads++;
  u->in_body = u->in_body || c->in_body;
  uint32_t jb = 1u << c->var_j, ib = 1u << c->var_i;
  int jd = -1;
  for (int d = 0; d < rank; d++) {
    if (idx[d].dep & jb) u->on_j = true;
    if (idx[d].dep & ib) u->on_i = true;
    if (idx[d].exact == c->var_j && jd < 0) jd = d;
  }
  for (int d = 0; d < rank; d++)
    if (d != jd && (idx[d].dep & jb)) jd = -2; /* j also elsewhere */
  if (jd < 0 || (u->j_dim >= 0 && u->j_dim != jd)) u->j_dim_ok = false;
  else u->j_dim = jd;
  if (jd != rank - 1) u->contiguous = false;
}

static idx_info walk(scan *c, const aicc_loop_expr *e, const env *en, int depth) {
  idx_info r = {0, -1};
  if (!e || depth > 64) {
    c->bad = true;
    return r;
  }
  if (e->op == AICC_LOOP_VAR) {
    for (int i = en->n; i-- > 0;)
      if (en->var[i] == e) return en->val[i];
    return r;
  }
  if (e->op == AICC_LOOP_LOAD) {
    idx_info idx[AICC_MAX_LOOP_RANK];
    int rank = e->buf->rank;
    if (rank > AICC_MAX_LOOP_RANK) {
      c->bad = true;
      return r;
    }
    uint32_t dep = 0;
    for (int d = 0; d < rank; d++) {
      idx[d] = walk(c, e->args[d], en, depth + 1);
      dep |= idx[d].dep;
    }
    const aicc_loop_stage *s = inlined_stage(c, e->buf);
    if (!s) {
      record_load(c, e->buf, idx, rank);
      r.dep = dep;
      return r;
    }
    /* The inlined body with its axes standing for this load's indices. */
    env sub = {.n = 0};
    for (int d = 0; d < s->n_axes && d < MAX_ENV; d++) {
      sub.var[sub.n] = s->axes[d].var;
      sub.val[sub.n++] = idx[d];
    }
    return walk(c, s->body, &sub, depth + 1);
  }
  for (uint32_t i = 0; i < e->nargs; i++) r.dep |= walk(c, e->args[i], en, depth + 1).dep;
  return r;
}

static void scan_stage(scan *c) {
  const aicc_loop_stage *s = c->s;
  env en = {.n = 0};
  for (int i = 0; i < s->n_axes + s->n_raxes && en.n < MAX_VARS; i++) {
    const aicc_loop_axis *ax = i < s->n_axes ? &s->axes[i] : &s->raxes[i - s->n_axes];
    en.var[en.n] = ax->var;
    en.val[en.n++] = (idx_info){1u << i, i};
  }
  c->in_body = true;
  walk(c, s->body, &en, 0);
  c->in_body = false;
  const aicc_loop_expr *rest[3] = {s->init, s->cond, s->post};
  for (int i = 0; i < 3; i++)
    if (rest[i]) walk(c, rest[i], &en, 0);
}

/* ---- records ---- */

typedef struct names {
  char used[48][64];
  int n;
} names;

static bool name_used(const names *n, const char *s) {
  for (int i = 0; i < n->n; i++)
    if (!strcmp(n->used[i], s)) return true;
  return false;
}

/* A loop name not yet used by the stage: base, else base1, base2, .. */
static const char *fresh(names *n, const char *base) {
  static const char *const overflow = "loop";
  if (n->n == 48) return overflow;
  char *out = n->used[n->n];
  snprintf(out, 64, "%.56s", base);
  for (int k = 1; name_used(n, out) && k < 100; k++) snprintf(out, 64, "%.56s%d", base, k % 100);
  n->n++;
  return out;
}

static aicc_status add(aicc_schedule *out, aicc_sched_kind kind, const char *stage, int nn,
                       const char *const *nm, int ni, const int64_t *ints) {
  aicc_sched_step st = {.kind = kind, .stage = stage, .n_names = nn, .n_ints = ni};
  for (int i = 0; i < nn; i++) st.names[i] = nm[i];
  for (int i = 0; i < ni; i++) st.ints[i] = ints[i];
  return aicc_schedule_add(out, &st);
}

static aicc_status split(aicc_schedule *out, const char *stage, const char *x, const char *o,
                         const char *i, int64_t f) {
  const char *nm[3] = {x, o, i};
  return add(out, AICC_SCHED_SPLIT, stage, 3, nm, 1, &f);
}

static aicc_status mark(aicc_schedule *out, aicc_sched_kind kind, const char *stage, const char *loop) {
  return add(out, kind, stage, 1, &loop, 0, NULL);
}

/* Whether a buffer or stage of the kernel (or a name chosen here) is name. */
static bool buffer_named(const aicc_loop_kernel *k, const char *name, const char *const *mine, int n_mine) {
  for (size_t i = 0; i < k->n_params; i++)
    if (!strcmp(k->params[i]->name, name)) return true;
  for (size_t i = 0; i < k->n_stages; i++)
    if (!strcmp(k->stages[i]->buf->name, name)) return true;
  for (int i = 0; i < n_mine; i++)
    if (!strcmp(mine[i], name)) return true;
  return false;
}

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

/* ---- the rule ---- */

typedef struct plan {
  int L, nv;          /* lanes, vectors per row of the tile */
  int64_t M, N, K, batch;
  int64_t MR, NR, KC, NC, MC;
  bool small;         /* few rows, nothing packed: the GEMV-like plan below */
  bool split_k, split_ic, par_batch, par_jc, par_ic;
} plan;

/* Few rows of A (GEMV-like: decode steps, a classifier's last layer) and B
 * read in place, contiguous along j: the product is bound by streaming B
 * once, not by FMAs, and a packed copy of B would cost as much as the
 * product itself. The tile is all M rows by nv vectors over all of K (no K
 * blocks: the accumulators go to C once). Wider tiles (8 or 16 vectors, a
 * longer run of each row of B per k) measured slower at M = 1 (1x1280x1000:
 * 0.24 ms at 16 vectors, 0.17 at 2 to 4, as the blocked plan); at M = 2..8
 * this plan beats the blocked one's 2-vector tile by 8-20% (8x768x768:
 * 0.096 vs 0.116 ms). The column tiles are split into one block per thread,
 * nv lowered where that evens the blocks (equal shares of B). */
static void choose_small(const aicc_sched_target *t, plan *p, bool par) {
  int regs = t->vector_bits >= 512 ? 32 : 16;
  int64_t nv = regs / p->M, vecs = ceil_div(p->N, p->L);
  if (nv > SMALL_MAX_NV) nv = SMALL_MAX_NV;
  if (nv > vecs) nv = vecs;
  if (nv < 1) nv = 1;
  int th = par && t->threads > 1 ? t->threads : 1;
  int64_t best = nv, share = ceil_div(ceil_div(vecs, nv), th) * nv; /* vectors of the busiest thread */
  for (int64_t q = nv - 1; th > 1 && q * 2 > nv; q--) {
    int64_t sq = ceil_div(ceil_div(vecs, q), th) * q;
    if (sq < share) {
      best = q;
      share = sq;
    }
  }
  nv = best;
  p->nv = (int)nv;
  p->NR = nv * p->L;
  p->MR = p->M;
  p->KC = p->K;
  p->split_k = p->split_ic = p->par_ic = false;
  int64_t tiles = ceil_div(p->N, p->NR), n_jc = 1;
  p->par_batch = par && p->batch > 1 &&
                 (th == 1 || (p->batch >= th && (p->batch % th == 0 || p->batch >= 4 * th)));
  if (par && !p->par_batch && tiles >= 2) n_jc = tiles < th ? tiles : th;
  p->par_jc = par && !p->par_batch;
  p->NC = ceil_div(tiles, n_jc) * p->NR;
}

static void choose(const aicc_sched_target *t, int bytes, plan *p, bool par) {
  if (p->small) {
    choose_small(t, p, par);
    return;
  }
  int regs = t->vector_bits >= 512 ? 32 : 16;
  p->NR = p->N >= 2 * p->L ? 2 * p->L : p->L;
  p->nv = (int)(p->NR / p->L);
  /* Accumulators MR*nv, nv loads of B and one broadcast of A in registers. */
  int64_t mr = (regs - p->nv - 1) / p->nv;
  if (mr > 8) mr = 8;
  p->MR = p->M < mr ? p->M : mr;
  /* KC: A's MR x KC sliver in half of L1 beside B's streaming sliver. */
  int64_t l1 = t->l1_bytes > 0 ? t->l1_bytes : 32 << 10, l2 = t->l2_bytes > 0 ? t->l2_bytes : 1 << 20;
  int64_t kc_max = l1 / 2 / (p->MR * bytes);
  if (kc_max > 256) kc_max = 256;
  if (kc_max < 16) kc_max = 16;
  int64_t nk = ceil_div(p->K, kc_max);
  p->KC = ceil_div(p->K, nk);
  p->split_k = nk > 1;
  /* NC: B's KC x NC panel in half of L2. */
  int64_t nc_max = l2 / 2 / (p->KC * bytes);
  nc_max = nc_max / p->NR * p->NR;
  if (nc_max < p->NR) nc_max = p->NR;
  int64_t n_jc = ceil_div(p->N, nc_max), tiles = ceil_div(p->N, p->NR);
  int th = t->threads > 0 ? t->threads : 1;
  p->par_batch = p->par_jc = p->par_ic = p->split_ic = false;
  if (par && th > 1) {
    if (p->batch >= th && (p->batch % th == 0 || p->batch >= 4 * th)) {
      p->par_batch = true;
    } else if (tiles >= th) {
      n_jc = round_up(n_jc, th);
      if (n_jc > tiles) n_jc = tiles;
      p->par_jc = true;
    } else if (ceil_div(p->M, p->MR) >= 2 * th) {
      p->split_ic = p->par_ic = true;
      p->MC = round_up(ceil_div(p->M, th), p->MR);
    }
  } else if (par) {
    p->par_batch = p->batch > 1;
    p->par_jc = !p->par_batch;
  }
  p->NC = round_up(ceil_div(p->N, n_jc), p->NR);
}

/* The rule for GEMM stage s. n_box > 0: s is computed at a consumer's loop
 * over column blocks of n_box (the epilogue case below), so its loops run
 * over that box: N is n_box and nothing of s is parallel. Otherwise s must
 * be the kernel's root: a stage computed inside a consumer's row loop
 * covers too little to block or pack. */
static aicc_status gemm_rule(const aicc_loop_kernel *k, const bool *inlined, const aicc_loop_stage *s,
                             const aicc_sched_target *t, bool par, int64_t n_box, aicc_schedule *out,
                             bool *done, char *outer) {
  *done = false;
  int P = s->n_axes;
  int last = -1;
  for (size_t i = 0; i < k->n_stages; i++)
    if (!inlined[i]) last = (int)i;
  if (last < 0 || (n_box <= 0 && k->stages[last] != s)) return NULL;
  if (s->op_class != AICC_LOOP_CLASS_GEMM || s->reduce != AICC_LOOP_REDUCE_SUM || s->n_raxes != 1 ||
      P < 2 || s->cond || (s->buf->type != AICC_DTYPE_F32 && s->buf->type != AICC_DTYPE_F64) ||
      t->vector_bits < 256 || P + 8 > AICC_SCHED_MAX_NAMES)
    return NULL;
  int bytes = s->buf->type == AICC_DTYPE_F32 ? 4 : 8;
  plan p = {.L = t->vector_bits / (8 * bytes)};
  p.M = s->axes[P - 2].extent;
  p.N = n_box > 0 ? n_box : s->axes[P - 1].extent;
  p.K = s->raxes[0].extent;
  p.batch = 1;
  for (int i = 0; i < P - 2; i++) p.batch *= s->axes[i].extent;
  if (p.N < p.L || p.M < 1 || p.K < 1) return NULL;

  scan sc = {.k = k, .inlined = inlined, .s = s, .var_i = P - 2, .var_j = P - 1};
  scan_stage(&sc);
  if (sc.bad) return NULL;
  /* Each operand the inner loop reads along j must be contiguous in j or
   * packable into j panels (then it is packed: contiguous along k too). */
  const buf_use *packs[MAX_BUFS];
  int n_packs = 0;
  for (int i = 0; i < sc.n_use; i++) {
    const buf_use *u = &sc.use[i];
    if (!u->on_j || !u->in_body) continue;
    if (!u->j_dim_ok || u->on_i || u->buf->type != s->buf->type || u->buf->rank + 1 > AICC_MAX_LOOP_RANK ||
        u->n_loads > 256) {
      if (!u->contiguous) return NULL;
      continue;
    }
    if (!u->contiguous || p.M >= 16) packs[n_packs++] = u;
  }
  p.small = n_packs == 0 && p.M <= SMALL_M;
  choose(t, bytes, &p, n_box <= 0 && par && (p.batch * p.M * p.N * p.K >= PAR_MIN_WORK));

  /* Loop names. */
  names nm = {.n = 0};
  for (int i = 0; i < P + 1; i++) {
    const aicc_loop_axis *ax = i < P ? &s->axes[i] : &s->raxes[0];
    snprintf(nm.used[nm.n++], 64, "%s", ax->var->v.name);
  }
  const char *sn = s->name, *iv = s->axes[P - 2].var->v.name, *jv = s->axes[P - 1].var->v.name;
  const char *kv = s->raxes[0].var->v.name;
  char b[80];
  snprintf(b, sizeof b, "%sc", jv);
  const char *jc = fresh(&nm, b);
  snprintf(b, sizeof b, "%sb", jv);
  const char *jb = fresh(&nm, b);
  snprintf(b, sizeof b, "%sr", jv);
  const char *jr = fresh(&nm, b);
  snprintf(b, sizeof b, "%si", jv);
  const char *ji = fresh(&nm, b);
  AICC_TRY(split(out, sn, jv, jc, jb, p.NC));
  AICC_TRY(split(out, sn, jb, jr, ji, p.NR));
  const char *jt = NULL, *jl = ji; /* small: the tile's vectors, unrolled, and lanes */
  if (p.small && p.nv > 1) {
    snprintf(b, sizeof b, "%sv", jv);
    jt = fresh(&nm, b);
    snprintf(b, sizeof b, "%sl", jv);
    jl = fresh(&nm, b);
    AICC_TRY(split(out, sn, ji, jt, jl, p.L));
  }
  const char *ic = NULL, *ib = iv;
  if (p.split_ic) {
    snprintf(b, sizeof b, "%sc", iv);
    ic = fresh(&nm, b);
    snprintf(b, sizeof b, "%sb", iv);
    ib = fresh(&nm, b);
    AICC_TRY(split(out, sn, iv, ic, ib, p.MC));
  }
  snprintf(b, sizeof b, "%sr", iv);
  const char *ir = fresh(&nm, b);
  snprintf(b, sizeof b, "%si", iv);
  const char *ii = fresh(&nm, b);
  AICC_TRY(split(out, sn, ib, ir, ii, p.MR));
  const char *kc = NULL, *kk = kv;
  if (p.split_k) {
    snprintf(b, sizeof b, "%sc", kv);
    kc = fresh(&nm, b);
    snprintf(b, sizeof b, "%si", kv);
    kk = fresh(&nm, b);
    AICC_TRY(split(out, sn, kv, kc, kk, p.KC));
  }
  /* kk split by KU, the inner part unrolled: one counter update and branch
   * per KU rank-1 updates of the tile. Only where KU divides every K block
   * (no guarded tail). */
  const char *ku = NULL;
  if (!p.small && p.KC % KU == 0 && p.K % KU == 0 && p.KC >= 2 * KU) {
    snprintf(b, sizeof b, "%so", kk);
    const char *ko = fresh(&nm, b);
    snprintf(b, sizeof b, "%su", kk);
    ku = fresh(&nm, b);
    AICC_TRY(split(out, sn, kk, ko, ku, KU));
    kk = ko;
  }
  /* [ic] [batch.. jc | jc batch..] [kc] ir jr kk ii ji (small: ii jt jl) */
  const char *order[AICC_SCHED_MAX_NAMES];
  int n = 0;
  if (ic) order[n++] = ic;
  if (p.par_batch) {
    for (int i = 0; i < P - 2; i++) order[n++] = s->axes[i].var->v.name;
    order[n++] = jc;
  } else {
    order[n++] = jc;
    for (int i = 0; i < P - 2; i++) order[n++] = s->axes[i].var->v.name;
  }
  if (kc) order[n++] = kc;
  const char *at = order[n - 1]; /* where B's panel is packed: just outside ir */
  order[n++] = ir;
  order[n++] = jr;
  order[n++] = kk;
  if (ku) order[n++] = ku;
  order[n++] = ii;
  if (jt) order[n++] = jt;
  order[n++] = jl;
  AICC_TRY(add(out, AICC_SCHED_REORDER, sn, n, order, 0, NULL));

  const char *mine[MAX_BUFS];
  int n_mine = 0;
  char pack_names[MAX_BUFS][96];
  for (int i = 0; i < n_packs; i++) {
    const buf_use *u = packs[i];
    char *pn = pack_names[i];
    snprintf(pn, sizeof pack_names[i], "%.80s_pack", u->buf->name);
    for (int q = 1; buffer_named(k, pn, mine, n_mine); q++)
      snprintf(pn, sizeof pack_names[i], "%.80s_pack%d", u->buf->name, q);
    mine[n_mine++] = pn;
    const char *pk[2] = {u->buf->name, jv};
    AICC_TRY(add(out, AICC_SCHED_PACK, sn, 2, pk, 1, &p.NR));
    const char *ca[2] = {sn, at};
    AICC_TRY(add(out, AICC_SCHED_COMPUTE_AT, pn, 2, ca, 0, NULL));
    /* The packed stage's axes are i0.. (schedule_apply.c): the last is the
     * NR lanes of a panel row, a contiguous read of B when j is B's last dim. */
    snprintf(b, sizeof b, "i%d", u->buf->rank);
    if (p.NR % p.L == 0) AICC_TRY(mark(out, AICC_SCHED_VECTORIZE, pn, b));
  }
  if (ku) AICC_TRY(mark(out, AICC_SCHED_UNROLL, sn, ku));
  AICC_TRY(mark(out, AICC_SCHED_UNROLL, sn, ii));
  if (jt) AICC_TRY(mark(out, AICC_SCHED_UNROLL, sn, jt));
  AICC_TRY(mark(out, AICC_SCHED_VECTORIZE, sn, jl));
  char acc[96];
  snprintf(acc, sizeof acc, "%.80s_acc", sn);
  for (int q = 1; buffer_named(k, acc, mine, n_mine); q++) snprintf(acc, sizeof acc, "%.80s_acc%d", sn, q);
  const char *accp = acc;
  AICC_TRY(add(out, AICC_SCHED_CACHE_WRITE, sn, 1, &accp, 0, NULL));
  const char *first = order[0];
  if (p.par_batch && P > 2) {
    /* Fuse the batch loops into one parallel loop. */
    const char *f = s->axes[0].var->v.name;
    for (int i = 1; i < P - 2; i++) {
      snprintf(b, sizeof b, "%s_%s", f, s->axes[i].var->v.name);
      const char *g = fresh(&nm, b), *fu[3] = {f, s->axes[i].var->v.name, g};
      AICC_TRY(add(out, AICC_SCHED_FUSE, sn, 3, fu, 0, NULL));
      f = g;
    }
    first = f;
  }
  bool par_ok = (p.par_batch && P > 2) || (p.par_jc && ceil_div(p.N, p.NC) >= 2) ||
                (p.par_ic && ceil_div(p.M, p.MC) >= 2);
  if (par_ok) AICC_TRY(mark(out, AICC_SCHED_PARALLEL, sn, first));
  snprintf(outer, 64, "%s", first);
  *done = true;
  return NULL;
}

/* ---- the epilogue case: an elementwise root over a GEMM ---- */

/* The GEMM stage that elementwise root e reads at its own index, when the
 * kernel is that GEMM, e, and inlined stages only (BERT's MatMul + Add +
 * Gelu); else NULL. */
static const aicc_loop_stage *epilogue_gemm(const aicc_loop_kernel *k, const bool *inlined,
                                            const aicc_loop_stage *e) {
  if (e->reduce != AICC_LOOP_REDUCE_NONE || e->cond || e->n_axes < 2 ||
      e->op_class != AICC_LOOP_CLASS_ELEMENTWISE)
    return NULL;
  const aicc_loop_stage *g = NULL;
  for (size_t i = 0; i < k->n_stages; i++) {
    const aicc_loop_stage *s = k->stages[i];
    if (inlined[i] || s == e) continue;
    if (g || s->op_class != AICC_LOOP_CLASS_GEMM || aicc_loop_kernel_is_param(k, s->buf)) return NULL;
    g = s;
  }
  if (!g || g->n_axes != e->n_axes || g->buf->type != e->buf->type) return NULL;
  for (int d = 0; d < e->n_axes; d++)
    if (g->axes[d].extent != e->axes[d].extent) return NULL;
  scan sc = {.k = k, .inlined = inlined, .s = e, .var_i = e->n_axes - 2, .var_j = e->n_axes - 1};
  scan_stage(&sc);
  if (sc.bad) return NULL;
  for (int i = 0; i < sc.n_use; i++)
    if (sc.use[i].buf == g->buf) return sc.use[i].identity ? g : NULL;
  return NULL;
}

/* e[.., i, j] = f(G[.., i, j], ..): e's columns in blocks of NC (the GEMM
 * plan's jc, parallel), G computed at that block loop over [.., M, NC] with
 * the GEMM rule, e's rows and vectorized columns inside. The epilogue reads
 * G's block while it is still in L2, and G gets the fast rule although it is
 * not the root. */
static aicc_status epilogue_rule(const aicc_loop_kernel *k, const bool *inlined,
                                 const aicc_loop_stage *e, const aicc_sched_target *t, bool par,
                                 aicc_schedule *out, bool *done, char *outer) {
  const aicc_loop_stage *g = epilogue_gemm(k, inlined, e);
  if (!g || g->n_raxes != 1 || t->vector_bits < 256) return NULL;
  int P = e->n_axes, bytes = g->buf->type == AICC_DTYPE_F32 ? 4 : 8;
  if (P + 4 > AICC_SCHED_MAX_NAMES) return NULL;
  plan p = {.L = t->vector_bits / (8 * bytes)};
  p.M = g->axes[P - 2].extent;
  p.N = g->axes[P - 1].extent;
  p.K = g->raxes[0].extent;
  p.batch = 1; /* the blocks are over N only: batch rows stay inside */
  int64_t work = p.N * p.K;
  for (int i = 0; i < P - 1; i++) work *= g->axes[i].extent;
  /* Tiny GEMMs (BERT-tiny's 16 x 64 x 64): packing and blocking cost more
   * than they save (measured ~20% slower), the generic rules stay. */
  if (p.N < p.L || p.M < 1 || p.K < 1 || work < EPILOGUE_MIN_WORK) return NULL;
  choose(t, bytes, &p, par && work >= PAR_MIN_WORK);
  /* Blocks of whole NR panels that tile N exactly: the last block's box is
   * then not shifted inwards off the panel grid (schedule_lower.c), so each
   * block packs only its own panels. Else one block. */
  int64_t tiles = ceil_div(p.N, p.NR), n_jc = 1;
  if (p.N % p.NR == 0) {
    int th = t->threads > 0 ? t->threads : 1;
    for (n_jc = ceil_div(p.N, p.NC); tiles % n_jc; n_jc++) {}
    for (int64_t q = n_jc; p.par_jc && th > 1 && q <= tiles; q++)
      if (tiles % q == 0 && q % th == 0) {
        n_jc = q;
        break;
      }
  }
  p.NC = n_jc == 1 ? round_up(p.N, p.NR) : tiles / n_jc * p.NR;
  /* No parallel column blocks where threads want them (few, ragged N): the
   * generic rules' parallel rows are worth more. */
  bool par_blocks = p.par_jc && n_jc >= 2;
  if (par && t->threads > 1 && work >= PAR_MIN_WORK && !par_blocks) return NULL;
  /* G over one block, into a scratch schedule: it may still decline. */
  aicc_schedule gs;
  aicc_schedule_init(&gs);
  bool gdone = false;
  char gouter[64];
  aicc_status st = gemm_rule(k, inlined, g, t, false, p.NC, &gs, &gdone, gouter);
  if (st || !gdone) {
    aicc_schedule_fini(&gs);
    return st;
  }
  names nm = {.n = 0};
  for (int i = 0; i < P; i++) snprintf(nm.used[nm.n++], 64, "%s", e->axes[i].var->v.name);
  const char *en = e->name, *jv = e->axes[P - 1].var->v.name;
  char b[80];
  snprintf(b, sizeof b, "%sc", jv);
  const char *jc = fresh(&nm, b);
  snprintf(b, sizeof b, "%sb", jv);
  const char *jb = fresh(&nm, b);
  const char *order[AICC_SCHED_MAX_NAMES];
  int n = 0;
  order[n++] = jc;
  for (int i = 0; i < P - 1; i++) order[n++] = e->axes[i].var->v.name;
  order[n++] = jb;
  if (!(st = split(out, en, jv, jc, jb, p.NC))) st = add(out, AICC_SCHED_REORDER, en, n, order, 0, NULL);
  if (!st && p.NC >= p.L) {
    snprintf(b, sizeof b, "%so", jb);
    const char *jo = fresh(&nm, b);
    snprintf(b, sizeof b, "%si", jb);
    const char *ji = fresh(&nm, b);
    st = split(out, en, jb, jo, ji, p.L);
    if (!st) st = mark(out, AICC_SCHED_VECTORIZE, en, ji);
  }
  if (!st && par_blocks) st = mark(out, AICC_SCHED_PARALLEL, en, jc);
  if (!st) {
    const char *ca[2] = {en, jc};
    st = add(out, AICC_SCHED_COMPUTE_AT, g->name, 2, ca, 0, NULL);
  }
  for (size_t i = 0; i < gs.n && !st; i++) {
    aicc_sched_step step = gs.steps[i];
    const char *ca[2] = {en, jc};
    if (step.kind == AICC_SCHED_COMPUTE_AT && step.n_names == 2 && !strcmp(step.names[0], g->name)) {
      /* A panel of B at the block loop of e, where its box is known. */
      step.names[0] = ca[0];
      step.names[1] = ca[1];
    }
    st = aicc_schedule_add(out, &step);
  }
  aicc_schedule_fini(&gs);
  if (st) return st;
  snprintf(outer, 64, "%s", jc);
  *done = true;
  return NULL;
}

aicc_status aicc_sched_gemm_rule(const aicc_loop_kernel *k, const bool *inlined,
                                 const aicc_loop_stage *s, const aicc_sched_target *t, bool par,
                                 aicc_schedule *out, bool *done, char *outer) {
  *done = false;
  if (s->op_class == AICC_LOOP_CLASS_ELEMENTWISE) return epilogue_rule(k, inlined, s, t, par, out, done, outer);
  return gemm_rule(k, inlined, s, t, par, 0, out, done, outer);
}
