/* Default schedules (schedule.h: aicc_schedule_default): records from rules
 * per stage class, correct first, then the common wins:
 *  - inline every inlinable temporary (its value is recomputed at each use);
 *  - a kernel left with several stages computes each producer inside the
 *    last stage's outermost loop when the producer's rows are the
 *    consumer's (softmax's max and sum per row): that keeps one stage at the
 *    root, the shape codegen's single parallel loop needs;
 *  - elementwise and movement stages: the leading axes fused into one
 *    parallel loop, the innermost axis split by the vector lanes and
 *    vectorized (the tail partitioned, so the vector loop has no guard);
 *    a movement stage whose loads are strided along that axis (a transpose)
 *    runs in L x L tiles instead, the vector loop reading by gathers;
 *  - reductions: the accumulator in a local buffer (cache_write); when the
 *    innermost output axis is contiguous in every load, it is split by the
 *    lanes and its vector loop moved inside the reduction loops;
 *  - GEMM-like stages: the root float GEMM is blocked, packed and register-
 *    tiled by schedule_gemm.c, and so is one under an elementwise root that
 *    reads it at its own index (bias + activation: computed at the root's
 *    column blocks); others get a 4 x 2*lanes register block (rows
 *    unrolled, columns vectorized) inside the reduction loop, the row blocks
 *    parallel;
 *  - convolution and pooling stages: schedule_conv.c's register block of
 *    output vectors inside the reduction loops.
 * The rules read the stages only; they never build expressions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop/schedule.h"
#include "loop/schedule_impl.h"

enum { PAR_MIN_WORK = 1 << 15, MAX_VARS = 2 * AICC_MAX_LOOP_RANK };

/* ---- what a stage's accesses look like (through inlined stages) ---- */

/* An integer expression as sum(coef[v]*var_v) + cst over a stage's axes,
 * or not affine; dep says which axes it depends on either way. */
typedef struct aff {
  bool affine;
  int64_t coef[MAX_VARS];
  int64_t cst;
  uint32_t dep;
} aff;

typedef struct aff_env {
  const aicc_loop_expr *vars[MAX_VARS]; /* a stage's axis variables */
  aff val[MAX_VARS];                    /* and what each stands for */
  int n;
} aff_env;

typedef struct dctx {
  const aicc_loop_kernel *k;
  const aicc_sched_target *t;
  aicc_schedule *out;
  bool *inlined;
} dctx;

static const aicc_loop_stage *inlined_stage(const dctx *c, const aicc_loop_buffer *b) {
  for (size_t i = 0; i < c->k->n_stages; i++)
    if (c->k->stages[i]->buf == b && c->inlined[i]) return c->k->stages[i];
  return NULL;
}

static aff opaque(uint32_t dep) {
  aff a;
  memset(&a, 0, sizeof a);
  a.dep = dep;
  return a;
}

typedef void (*load_cb)(const aicc_loop_buffer *b, const aff *idx, int rank, void *arg);

static aff analyze(const dctx *c, const aicc_loop_expr *e, const aff_env *env, load_cb cb, void *arg,
                   int depth);

/* A load of an inlined stage: its body with the axes standing for the
 * load's indices. */
static aff inlined_load(const dctx *c, const aicc_loop_stage *s, const aff *idx, load_cb cb,
                        void *arg, int depth) {
  aff_env sub = {.n = s->n_axes};
  for (int i = 0; i < s->n_axes && i < MAX_VARS; i++) {
    sub.vars[i] = s->axes[i].var;
    sub.val[i] = idx[i];
  }
  return analyze(c, s->body, &sub, cb, arg, depth + 1);
}

static aff analyze(const dctx *c, const aicc_loop_expr *e, const aff_env *env, load_cb cb, void *arg,
                   int depth) {
  aff r = opaque(0);
  if (!e || depth > 64) return opaque(~0u);
  switch (e->op) {
  case AICC_LOOP_INT:
    r.affine = true;
    r.cst = e->v.i;
    return r;
  case AICC_LOOP_VAR:
    for (int i = 0; i < env->n; i++)
      if (env->vars[i] == e) return env->val[i];
    return r;
  case AICC_LOOP_LOAD: {
    aff idx[AICC_MAX_LOOP_RANK];
    uint32_t dep = 0;
    int rank = e->buf->rank < AICC_MAX_LOOP_RANK ? e->buf->rank : AICC_MAX_LOOP_RANK;
    for (int d = 0; d < rank; d++) {
      idx[d] = analyze(c, e->args[d], env, cb, arg, depth + 1);
      dep |= idx[d].dep;
    }
    const aicc_loop_stage *s = inlined_stage(c, e->buf);
    if (s) return inlined_load(c, s, idx, cb, arg, depth);
    if (cb) cb(e->buf, idx, rank, arg);
    return opaque(dep);
  }
  default: break;
  }
  aff a[3];
  uint32_t dep = 0;
  for (uint32_t i = 0; i < e->nargs; i++) {
    aff x = analyze(c, e->args[i], env, cb, arg, depth + 1);
    if (i < 3) a[i] = x;
    dep |= x.dep;
  }
  r.dep = dep;
  bool lin = aicc_loop_type_is_int(e->type) && e->nargs == 2 && a[0].affine && a[1].affine;
  if (lin && (e->op == AICC_LOOP_ADD || e->op == AICC_LOOP_SUB)) {
    int64_t s = e->op == AICC_LOOP_ADD ? 1 : -1;
    r.affine = true;
    r.cst = a[0].cst + s * a[1].cst;
    for (int i = 0; i < MAX_VARS; i++) r.coef[i] = a[0].coef[i] + s * a[1].coef[i];
  } else if (lin && e->op == AICC_LOOP_MUL && (a[0].dep == 0 || a[1].dep == 0)) {
    const aff *k = a[0].dep == 0 ? &a[0] : &a[1], *v = a[0].dep == 0 ? &a[1] : &a[0];
    r.affine = true;
    r.cst = k->cst * v->cst;
    for (int i = 0; i < MAX_VARS; i++) r.coef[i] = k->cst * v->coef[i];
  }
  return r;
}

/* Each stage variable stands for itself. */
static void self_env(const aicc_loop_stage *s, aff_env *env) {
  env->n = 0;
  for (int i = 0; i < s->n_axes + s->n_raxes && env->n < MAX_VARS; i++) {
    const aicc_loop_axis *ax = i < s->n_axes ? &s->axes[i] : &s->raxes[i - s->n_axes];
    aff a = opaque(1u << env->n);
    a.affine = true;
    a.coef[env->n] = 1;
    env->vars[env->n] = ax->var;
    env->val[env->n++] = a;
  }
}

static void analyze_stage(const dctx *c, const aicc_loop_stage *s, load_cb cb, void *arg) {
  aff_env env;
  self_env(s, &env);
  const aicc_loop_expr *parts[4] = {s->body, s->init, s->cond, s->post};
  for (int i = 0; i < 4; i++)
    if (parts[i]) analyze(c, parts[i], &env, cb, arg, 0);
}

typedef struct contig_arg {
  int var;
  bool ok;
  const aicc_loop_buffer *self;
} contig_arg;

static void contig_cb(const aicc_loop_buffer *b, const aff *idx, int rank, void *argp) {
  contig_arg *a = argp;
  if (b == a->self) return; /* post's read of the reduced value */
  uint32_t bit = 1u << a->var;
  for (int d = 0; d < rank; d++) {
    if (!(idx[d].dep & bit)) continue;
    if (d != rank - 1 || !idx[d].affine || idx[d].coef[a->var] != 1) a->ok = false;
  }
}

/* Whether consecutive values of axis var of s touch consecutive elements of
 * every buffer s reads (or none of them depend on it). */
static bool contiguous(const dctx *c, const aicc_loop_stage *s, int var) {
  contig_arg a = {var, true, s->buf};
  analyze_stage(c, s, contig_cb, &a);
  return a.ok;
}

typedef struct last_dim_arg {
  uint32_t dep;
  const aicc_loop_buffer *self;
} last_dim_arg;

static void last_dim_cb(const aicc_loop_buffer *b, const aff *idx, int rank, void *argp) {
  last_dim_arg *a = argp;
  if (b != a->self && rank >= 1) a->dep |= idx[rank - 1].dep;
}

/* The one pure axis other than j that the innermost dim of s's loads
 * depends on (the axis along which the source is contiguous), or -1. */
static int source_axis(const dctx *c, const aicc_loop_stage *s, int j) {
  last_dim_arg a = {0, s->buf};
  analyze_stage(c, s, last_dim_cb, &a);
  uint32_t pure = s->n_axes >= 32 ? ~0u : (1u << s->n_axes) - 1;
  uint32_t d = a.dep & pure & ~(1u << j);
  if (!d || (d & (d - 1))) return -1;
  return __builtin_ctz(d);
}

typedef struct rows_arg {
  const aicc_loop_buffer *buf;
  bool ok, found;
} rows_arg;

static void rows_cb(const aicc_loop_buffer *b, const aff *idx, int rank, void *argp) {
  rows_arg *a = argp;
  if (b != a->buf) return;
  a->found = true;
  bool unit = rank >= 1 && idx[0].affine && idx[0].cst == 0 && idx[0].dep == 1u && idx[0].coef[0] == 1;
  if (!unit) a->ok = false;
}

/* Whether s reads buf (through inlined stages too), each time at row
 * [axis 0 of s, ...]. Sets *found. */
static bool reads_rows(const dctx *c, const aicc_loop_stage *s, const aicc_loop_buffer *buf,
                       bool *found) {
  rows_arg a = {buf, true, false};
  analyze_stage(c, s, rows_cb, &a);
  *found = a.found;
  return a.ok;
}

/* ---- records ---- */

static aicc_status add(dctx *c, aicc_sched_kind kind, const char *stage, int nn,
                       const char *const *names, int ni, const int64_t *ints) {
  aicc_sched_step st = {.kind = kind, .stage = stage, .n_names = nn, .n_ints = ni};
  for (int i = 0; i < nn; i++) st.names[i] = names[i];
  for (int i = 0; i < ni; i++) st.ints[i] = ints[i];
  return aicc_schedule_add(c->out, &st);
}

/* Loop names of one stage while its rules run: the leaves in order. */
typedef struct loops {
  int n;
  char name[AICC_SCHED_MAX_NAMES * 2][64];
  int64_t ext[AICC_SCHED_MAX_NAMES * 2];
  bool red[AICC_SCHED_MAX_NAMES * 2];
  char used[64][64]; /* every name made so far */
  int n_used;
} loops;

static bool used(const loops *l, const char *n) {
  for (int i = 0; i < l->n_used; i++)
    if (!strcmp(l->used[i], n)) return true;
  return false;
}

static void fresh(loops *l, char *out, const char *base) {
  snprintf(out, 64, "%s", base);
  for (int k = 1; used(l, out); k++) snprintf(out, 64, "%s%d", base, k);
  if (l->n_used < 64) snprintf(l->used[l->n_used++], 64, "%s", out);
}

static aicc_status split(dctx *c, const char *s, loops *l, int at, int64_t f) {
  char o[64], in[64], b[80];
  snprintf(b, sizeof b, "%so", l->name[at]);
  fresh(l, o, b);
  snprintf(b, sizeof b, "%si", l->name[at]);
  fresh(l, in, b);
  const char *names[3] = {l->name[at], o, in};
  AICC_TRY(add(c, AICC_SCHED_SPLIT, s, 3, names, 1, &f));
  memmove(&l->name[at + 2], &l->name[at + 1], (size_t)(l->n - at - 1) * sizeof l->name[0]);
  memmove(&l->ext[at + 2], &l->ext[at + 1], (size_t)(l->n - at - 1) * sizeof l->ext[0]);
  memmove(&l->red[at + 2], &l->red[at + 1], (size_t)(l->n - at - 1) * sizeof l->red[0]);
  int64_t e = l->ext[at];
  snprintf(l->name[at], 64, "%s", o);
  snprintf(l->name[at + 1], 64, "%s", in);
  l->ext[at] = (e + f - 1) / f;
  l->ext[at + 1] = f;
  l->red[at + 1] = l->red[at];
  l->n++;
  return NULL;
}

/* Fuses the leading loops 0..n-1 into one. */
static aicc_status fuse_leading(dctx *c, const char *s, loops *l, int n) {
  for (int i = 1; i < n; i++) {
    char f[64], b[140];
    snprintf(b, sizeof b, "%s_%s", l->name[0], l->name[1]);
    fresh(l, f, strlen(b) < 60 ? b : "fused");
    const char *names[3] = {l->name[0], l->name[1], f};
    AICC_TRY(add(c, AICC_SCHED_FUSE, s, 3, names, 0, NULL));
    snprintf(l->name[0], 64, "%s", f);
    l->ext[0] *= l->ext[1];
    memmove(&l->name[1], &l->name[2], (size_t)(l->n - 2) * sizeof l->name[0]);
    memmove(&l->ext[1], &l->ext[2], (size_t)(l->n - 2) * sizeof l->ext[0]);
    memmove(&l->red[1], &l->red[2], (size_t)(l->n - 2) * sizeof l->red[0]);
    l->n--;
  }
  return NULL;
}

/* Puts the loops in the order given by perm (indices into the current). */
static aicc_status reorder(dctx *c, const char *s, loops *l, const int *perm) {
  loops old = *l;
  const char *names[AICC_SCHED_MAX_NAMES];
  if (l->n > AICC_SCHED_MAX_NAMES) return NULL; /* leave the order */
  for (int i = 0; i < l->n; i++) {
    snprintf(l->name[i], 64, "%s", old.name[perm[i]]);
    l->ext[i] = old.ext[perm[i]];
    l->red[i] = old.red[perm[i]];
    names[i] = l->name[i];
  }
  return add(c, AICC_SCHED_REORDER, s, l->n, names, 0, NULL);
}

static aicc_status mark(dctx *c, aicc_sched_kind kind, const char *s, const char *loop) {
  return add(c, kind, s, 1, &loop, 0, NULL);
}

static int lanes_of(const dctx *c, aicc_dtype t) {
  const aicc_dtype_info *info = aicc_dtype_get(t);
  if (!info || info->bits < 8 || c->t->vector_bits <= 0) return 0;
  int l = c->t->vector_bits / info->bits;
  return l >= 2 ? l : 0;
}

static int64_t stage_work(const aicc_loop_stage *s) {
  int64_t w = 1;
  for (int i = 0; i < s->n_axes; i++) w *= s->axes[i].extent;
  for (int i = 0; i < s->n_raxes; i++) w *= s->raxes[i].extent;
  return w;
}

/* How many leading loops (of the first n) to fuse so the parallel loop has
 * some iterations per thread. */
static int par_fuse_count(const dctx *c, const loops *l, int n) {
  int64_t want = 4 * (int64_t)(c->t->threads > 0 ? c->t->threads : 1), prod = l->ext[0];
  int k = 1;
  while (prod < want && k < n && prod * l->ext[k] <= INT32_MAX) prod *= l->ext[k++];
  return k;
}

/* Rules for one stage; par: it may take the func's parallel loop. Sets
 * outer to its outermost loop afterwards (or "" when it has none). */
static aicc_status rules(dctx *c, const aicc_loop_stage *s, bool par, char *outer) {
  if (s->op_class == AICC_LOOP_CLASS_CONV || s->op_class == AICC_LOOP_CLASS_POOL) {
    bool done = false;
    AICC_TRY(aicc_sched_conv_rules(c->k, s, c->t, par, c->out, outer, &done));
    if (done) return NULL;
  }
  if (s->op_class == AICC_LOOP_CLASS_GEMM) { /* schedule_gemm.c; else the register block below */
    bool done = false;
    AICC_TRY(aicc_sched_gemm_rule(c->k, c->inlined, s, c->t, par, c->out, &done, outer));
    if (done) return NULL;
  }
  loops l;
  memset(&l, 0, sizeof l);
  const char *sn = s->name;
  int P = s->n_axes, R = s->n_raxes;
  outer[0] = 0;
  if (P + R + 2 > AICC_SCHED_MAX_NAMES) return NULL; /* too many loops to reorder: leave it */
  for (int i = 0; i < P + R; i++) {
    const aicc_loop_axis *ax = i < P ? &s->axes[i] : &s->raxes[i - P];
    snprintf(l.name[i], 64, "%s", ax->var->v.name);
    snprintf(l.used[l.n_used++], 64, "%s", ax->var->v.name);
    l.ext[i] = ax->extent;
    l.red[i] = i >= P;
  }
  l.n = P + R;
  int L = lanes_of(c, s->buf->type);
  /* A row reduction split by lanes (ops/lower_util.c) leaves a root of one
   * fold per row: as the one root (par), its producers' work counts too. */
  int64_t work = stage_work(s);
  for (size_t i = 0; par && s->reduce != AICC_LOOP_REDUCE_NONE && i < c->k->n_stages; i++)
    if (!c->inlined[i] && c->k->stages[i] != s) work += stage_work(c->k->stages[i]);
  bool do_par = par && P >= 1 && work >= PAR_MIN_WORK;
  int j = P - 1; /* the innermost pure axis */
  int k = -1; /* a transpose: the source's contiguous axis (a movement stage) */
  if (s->reduce == AICC_LOOP_REDUCE_NONE && s->op_class == AICC_LOOP_CLASS_MOVEMENT && L &&
      P >= 2 && P + 4 <= AICC_SCHED_MAX_NAMES && l.ext[j] >= L && !contiguous(c, s, j))
    k = source_axis(c, s, j);
  if (k >= 0 && l.ext[k] >= 2) {
    /* Tiles of L x L: [others.., ko, jo, ki, ji (vector)], so the strided
     * loads (gathers) of one tile touch L source rows that the next ji
     * steps reuse, and the stores stream (the NCHW <-> NCHW16c copies
     * around a blocked conv). */
    bool sk = l.ext[k] > L;
    AICC_TRY(split(c, sn, &l, j, L)); /* .., j -> jo, ji (k < j keeps its place) */
    if (sk) AICC_TRY(split(c, sn, &l, k, L));
    int kk = k, ki = sk ? k + 1 : -1, jo = sk ? j + 1 : j, ji = jo + 1;
    int perm[AICC_SCHED_MAX_NAMES], n = 0;
    for (int i = 0; i < l.n; i++)
      if (i != kk && i != ki && i != jo && i != ji) perm[n++] = i;
    int lead = n;
    perm[n++] = kk;
    perm[n++] = jo;
    if (ki >= 0) perm[n++] = ki;
    perm[n++] = ji;
    AICC_TRY(reorder(c, sn, &l, perm));
    AICC_TRY(mark(c, AICC_SCHED_VECTORIZE, sn, l.name[l.n - 1]));
    if (do_par) AICC_TRY(fuse_leading(c, sn, &l, par_fuse_count(c, &l, lead > 0 ? lead : 1)));
  } else if (s->reduce == AICC_LOOP_REDUCE_NONE) {
    bool vec = L && P >= 1 && l.ext[j] >= L;
    if (do_par) AICC_TRY(fuse_leading(c, sn, &l, par_fuse_count(c, &l, vec ? P - 1 : P)));
    if (vec) {
      AICC_TRY(split(c, sn, &l, l.n - 1, L));
      AICC_TRY(mark(c, AICC_SCHED_VECTORIZE, sn, l.name[l.n - 1]));
    }
  } else if (s->op_class == AICC_LOOP_CLASS_GEMM && s->reduce == AICC_LOOP_REDUCE_SUM && P >= 2 &&
             L && l.ext[j] >= L && contiguous(c, s, j)) {
    /* Register block: [batch.., io, jo, r.., ii (unrolled), ji (vector)]. */
    int64_t mr = l.ext[j - 1] < 4 ? l.ext[j - 1] : 4, nr = l.ext[j] >= 2 * L ? 2 * L : L;
    AICC_TRY(split(c, sn, &l, j, nr));     /* .., i, jo, ji, r.. */
    AICC_TRY(split(c, sn, &l, j - 1, mr)); /* .., io, ii, jo, ji, r.. */
    int perm[AICC_SCHED_MAX_NAMES], n = 0, b = P - 2;
    for (int i = 0; i < b; i++) perm[n++] = i;
    perm[n++] = b;          /* io */
    perm[n++] = b + 2;      /* jo */
    for (int i = 0; i < R; i++) perm[n++] = b + 4 + i;
    perm[n++] = b + 1;      /* ii */
    perm[n++] = b + 3;      /* ji */
    AICC_TRY(reorder(c, sn, &l, perm));
    AICC_TRY(mark(c, AICC_SCHED_UNROLL, sn, l.name[l.n - 2]));
    AICC_TRY(mark(c, AICC_SCHED_VECTORIZE, sn, l.name[l.n - 1]));
    if (do_par) AICC_TRY(fuse_leading(c, sn, &l, par_fuse_count(c, &l, b + 1)));
  } else {
    bool vec = L && P >= 1 && l.ext[j] >= L && contiguous(c, s, j);
    int lead = P;
    if (vec) {
      /* [pure.., jo, r.., ji]: lanes of independent outputs per step. */
      AICC_TRY(split(c, sn, &l, j, L));
      int perm[AICC_SCHED_MAX_NAMES], n = 0;
      for (int i = 0; i <= j; i++) perm[n++] = i; /* .., jo */
      for (int i = 0; i < R; i++) perm[n++] = j + 2 + i;
      perm[n++] = j + 1;
      if (R) AICC_TRY(reorder(c, sn, &l, perm));
      AICC_TRY(mark(c, AICC_SCHED_VECTORIZE, sn, l.name[l.n - 1]));
    }
    if (do_par) AICC_TRY(fuse_leading(c, sn, &l, par_fuse_count(c, &l, lead)));
  }
  if (s->reduce != AICC_LOOP_REDUCE_NONE) {
    char acc[96], b[80];
    snprintf(b, sizeof b, "%s_acc", sn);
    snprintf(acc, sizeof acc, "%s", b);
    for (int k = 1;; k++) {
      bool taken = false;
      for (size_t i = 0; i < c->k->n_params; i++) taken = taken || !strcmp(c->k->params[i]->name, acc);
      for (size_t i = 0; i < c->k->n_stages; i++) taken = taken || !strcmp(c->k->stages[i]->name, acc);
      if (!taken) break;
      snprintf(acc, sizeof acc, "%s%d", b, k);
    }
    const char *name = acc;
    AICC_TRY(add(c, AICC_SCHED_CACHE_WRITE, sn, 1, &name, 0, NULL));
  }
  if (do_par && l.n && !l.red[0] && l.ext[0] >= 2) AICC_TRY(mark(c, AICC_SCHED_PARALLEL, sn, l.name[0]));
  if (l.n && !l.red[0]) snprintf(outer, 64, "%s", l.name[0]);
  return NULL;
}

aicc_status aicc_schedule_default(const aicc_loop_kernel *k, const aicc_sched_target *t,
                                  aicc_schedule *out) {
  size_t n = k->n_stages;
  bool *inl = calloc(n ? n : 1, sizeof *inl), *at = calloc(n ? n : 1, sizeof *at);
  aicc_status st = NULL;
  dctx c = {k, t, out, inl};
  if (!inl || !at) {
    st = aicc_errorf(AICC_ERR_NOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < n && !st; i++) {
    const aicc_loop_stage *s = k->stages[i];
    if (s->inlinable && !aicc_loop_kernel_is_param(k, s->buf) && s->reduce == AICC_LOOP_REDUCE_NONE &&
        !s->cond) {
      inl[i] = true;
      st = add(&c, AICC_SCHED_COMPUTE_INLINE, s->name, 0, NULL, 0, NULL);
    }
  }
  /* The last stage left is the root; earlier ones go inside its outermost
   * loop when every reader reads them by rows of its own axis 0. */
  int last = -1;
  for (size_t i = 0; i < n; i++)
    if (!inl[i]) last = (int)i;
  if (st || last < 0) goto done;
  const aicc_loop_stage *C = k->stages[last];
  if (C->op_class == AICC_LOOP_CLASS_ELEMENTWISE) { /* an epilogue over a GEMM: schedule_gemm.c */
    bool epi = false;
    char o[64];
    st = aicc_sched_gemm_rule(k, inl, C, t, true, out, &epi, o);
    if (st || epi) goto done;
  }
  int roots = 1;
  for (int i = last - 1; i >= 0; i--) {
    const aicc_loop_stage *s = k->stages[i];
    if (inl[i]) continue;
    bool ok = !aicc_loop_kernel_is_param(k, s->buf) && s->n_axes >= 1 && C->n_axes >= 1 &&
              s->axes[0].extent == C->axes[0].extent;
    for (int r = i + 1; r <= last && ok; r++) {
      if (inl[r]) continue;
      bool found;
      bool rows = reads_rows(&c, k->stages[r], s->buf, &found);
      if (found && (!rows || (r != last && !at[r]) || k->stages[r]->n_axes < 1)) ok = false;
    }
    at[i] = ok;
    if (!ok) roots++;
  }
  char outer[64];
  st = rules(&c, C, roots == 1, outer);
  for (int i = 0; i < last && !st; i++) {
    if (inl[i]) continue;
    char o2[64];
    if (at[i] && outer[0]) {
      const char *names[2] = {C->name, outer};
      st = add(&c, AICC_SCHED_COMPUTE_AT, k->stages[i]->name, 2, names, 0, NULL);
    }
    if (!st) st = rules(&c, k->stages[i], false, o2);
  }
done:
  free(inl);
  free(at);
  return st;
}
