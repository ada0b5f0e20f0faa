/* Scheduled stages to loop nests (the second half of schedule.h's apply).
 *
 * Each stage's leaves become loops in order; the values of its axes come
 * back through the split/fuse relations (x = xo*f + xi; f / ext, f % ext).
 * A split whose factor does not divide the extent is partitioned where its
 * outer loop is emitted before anything under its inner one (TVM/Halide loop
 * partitioning): a main loop of full tiles with no guard, then one tail
 * iteration whose inner loops have the remainder as constant extent, so a
 * vectorized inner loop always has a constant extent and no guard. A
 * parallel outer loop keeps one loop and branches inside (the codegen allows
 * nothing beside it). Other splits (the inner loop placed outside the outer
 * one, an outer loop split or fused again) get an `if` guard, placed right
 * inside the innermost of their loops.
 *
 * Reductions: init is stored just outside the outermost reduction loop (over
 * the pure loops inside it), the update runs the rest of the nest, and the
 * final value is written after it; cache_write keeps the accumulator in a
 * local buffer indexed by those inner pure loops, or, when pure loops lie
 * between the reduction loops, by the pure loops inside the last run of
 * reduction loops, reloaded at each visit (split reductions, below).
 *
 * compute_at (Halide's bounds-driven realization): consumers are lowered
 * first; a producer goes at the start of each copy of its target loop, over
 * the box of its buffer that the loop body reads (bounds.h), stored in a
 * local buffer of constant extents (the box's constant upper bound, shifted
 * inwards to stay inside the full buffer). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/vec.h"
#include "loop/bounds.h"
#include "loop/schedule_impl.h"
#include "loop/simplify.h"
#include "loop/text.h"
#include "loop/verify.h"

typedef aicc_loop_expr expr;
typedef aicc_loop_stmt stmt;

enum { M_UNDECIDED, M_EXACT, M_GUARD, M_MAIN, M_TAIL };

typedef struct genv {
  int64_t ext[SCHED_MAX_DIMS];
  int8_t mode[SCHED_MAX_DIMS];   /* per relation */
  bool emitted[SCHED_MAX_DIMS];  /* per dim */
  bool placed[SCHED_MAX_DIMS];   /* per relation: its guard is in place */
  int vec_dim;                   /* an enclosing vectorized loop of this stage, or -1 */
} genv;

typedef struct lowerer {
  sched_state *st;
  sched_stage *ss;
  int64_t root_ext[SCHED_MAX_DIMS];
  const expr *base[AICC_MAX_LOOP_RANK]; /* pure axis offsets (compute_at), NULL: 0 */
  aicc_status err;
  bool oom;
} lowerer;

typedef const stmt *(*cont_fn)(lowerer *lw, genv *env, void *arg);

static aicc_loop_ctx *CTX(lowerer *lw) { return lw->st->ctx; }
static const expr *I32(lowerer *lw, int64_t v) { return aicc_loop_i32(CTX(lw), v); }

static const stmt *nomem(lowerer *lw) {
  lw->oom = true;
  return NULL;
}

static void recompute(const lowerer *lw, genv *env) {
  const sched_stage *ss = lw->ss;
  for (int d = 0; d < ss->n_dims; d++)
    if (ss->dims[d].root >= 0) env->ext[d] = lw->root_ext[ss->dims[d].root];
  for (int r = 0; r < ss->n_rels; r++) {
    const sched_rel *rel = &ss->rels[r];
    if (!rel->split) {
      env->ext[rel->c] = env->ext[rel->a] * env->ext[rel->b];
      continue;
    }
    int64_t e = env->ext[rel->a], f = rel->factor;
    switch (env->mode[r]) {
    case M_MAIN: env->ext[rel->b] = e / f, env->ext[rel->c] = f; break;
    case M_TAIL: env->ext[rel->b] = 1, env->ext[rel->c] = e % f; break;
    default: env->ext[rel->b] = (e + f - 1) / f, env->ext[rel->c] = f; break;
    }
  }
}

/* Whether dim d descends from relation r's inputs (r is an ancestor of d). */
static bool has_ancestor(const sched_stage *ss, int d, int r) {
  int m = ss->dims[d].made_by;
  if (m < 0) return false;
  if (m == r) return true;
  const sched_rel *rel = &ss->rels[m];
  if (rel->split) return has_ancestor(ss, rel->a, r);
  return has_ancestor(ss, rel->a, r) || has_ancestor(ss, rel->b, r);
}

/* Whether every leaf under dim d is emitted. */
static bool leaves_emitted(const sched_stage *ss, const genv *env, int d) {
  int u = ss->dims[d].used_by;
  if (u < 0) return env->emitted[d];
  const sched_rel *rel = &ss->rels[u];
  if (rel->split) return leaves_emitted(ss, env, rel->b) && leaves_emitted(ss, env, rel->c);
  return leaves_emitted(ss, env, rel->c);
}

/* Decides the tail handling of every split above leaf L; returns the split
 * to partition at L (L is its outer loop), or -1. */
static int decide(const lowerer *lw, genv *env, int L) {
  const sched_stage *ss = lw->ss;
  int part = -1;
  for (int r = 0; r < ss->n_rels; r++) {
    if (env->mode[r] != M_UNDECIDED || !has_ancestor(ss, L, r)) continue;
    const sched_rel *rel = &ss->rels[r];
    recompute(lw, env);
    if (!rel->split || env->ext[rel->a] % rel->factor == 0) env->mode[r] = M_EXACT;
    else if (rel->b == L) part = r;
    else env->mode[r] = M_GUARD;
  }
  recompute(lw, env);
  return part;
}

/* The value of dim d in terms of the emitted loop variables. */
static const expr *value(lowerer *lw, const genv *env, int d) {
  const sched_stage *ss = lw->ss;
  int u = ss->dims[d].used_by;
  if (u < 0) return env->emitted[d] ? ss->dims[d].var : NULL;
  const sched_rel *rel = &ss->rels[u];
  aicc_loop_ctx *ctx = CTX(lw);
  if (rel->split)
    return aicc_loop_add(ctx, aicc_loop_mul(ctx, value(lw, env, rel->b), I32(lw, rel->factor)),
                         value(lw, env, rel->c));
  const expr *f = value(lw, env, rel->c), *e = I32(lw, env->ext[rel->b]);
  return rel->a == d ? aicc_loop_div(ctx, f, e) : aicc_loop_mod(ctx, f, e);
}

/* e with the stage's axes replaced by their values (reduction axes too when
 * red is set). Values mention only loop variables, so one at a time is safe. */
static const expr *subst_axes(lowerer *lw, const genv *env, const expr *e, bool red) {
  const aicc_loop_stage *def = &lw->ss->def;
  for (int i = 0; i < def->n_axes && e; i++) {
    const expr *v = value(lw, env, i);
    if (lw->base[i]) v = aicc_loop_add(CTX(lw), lw->base[i], v);
    e = aicc_loop_expr_substitute(CTX(lw), e, def->axes[i].var, v);
  }
  for (int i = 0; red && i < def->n_raxes && e; i++)
    e = aicc_loop_expr_substitute(CTX(lw), e, def->raxes[i].var, value(lw, env, def->n_axes + i));
  return e;
}

static bool axis_index(lowerer *lw, const genv *env, const expr **idx) {
  for (int i = 0; i < lw->ss->def.n_axes; i++) {
    idx[i] = subst_axes(lw, env, lw->ss->def.axes[i].var, false);
    if (!idx[i]) return false;
  }
  return true;
}

static const stmt *gen(lowerer *lw, const genv *env, const int *leaves, int n, int pos,
                       cont_fn cont, void *arg);

/* The body of leaf L's loop: guards that became placeable, then the rest. */
static const stmt *inside(lowerer *lw, genv env, int L, const int *leaves, int n, int pos,
                          cont_fn cont, void *arg) {
  sched_stage *ss = lw->ss;
  env.emitted[L] = true;
  if (ss->dims[L].kind == AICC_LOOP_VECTORIZED) env.vec_dim = L;
  const expr *cond = NULL;
  for (int r = 0; r < ss->n_rels; r++) {
    const sched_rel *rel = &ss->rels[r];
    if (!rel->split || env.mode[r] != M_GUARD || env.placed[r]) continue;
    if (env.ext[rel->a] % rel->factor == 0 || !leaves_emitted(ss, &env, rel->a)) continue;
    if (env.vec_dim >= 0 && !lw->err)
      lw->err = aicc_sched_fail(lw->st, ss->dims[env.vec_dim].kind_step,
                                "the vectorized loop would hold the tail guard of %s's split of %s by "
                                "%lld (put the outer loop outside the inner one, or split by a divisor of %lld)",
                                ss->def.name, ss->dims[rel->a].name, (long long)rel->factor,
                                (long long)env.ext[rel->a]);
    env.placed[r] = true;
    const expr *c = aicc_loop_binary(CTX(lw), AICC_LOOP_LT, value(lw, &env, rel->a),
                                     I32(lw, env.ext[rel->a]));
    cond = cond ? aicc_loop_binary(CTX(lw), AICC_LOOP_AND, cond, c) : c;
    if (!cond) return nomem(lw);
  }
  const stmt *body = gen(lw, &env, leaves, n, pos + 1, cont, arg);
  if (body && cond) body = aicc_loop_if(CTX(lw), cond, body, NULL);
  return body;
}

static const stmt *gen(lowerer *lw, const genv *env_in, const int *leaves, int n, int pos,
                       cont_fn cont, void *arg) {
  if (lw->err || lw->oom) return NULL;
  genv env = *env_in;
  if (pos == n) return cont(lw, &env, arg);
  const sched_stage *ss = lw->ss;
  int L = leaves[pos];
  const expr *v = ss->dims[L].var;
  aicc_loop_for_kind kind = ss->dims[L].kind;
  aicc_loop_ctx *ctx = CTX(lw);
  int pr = decide(lw, &env, L);
  if (pr < 0) {
    const stmt *body = inside(lw, env, L, leaves, n, pos, cont, arg);
    return body ? aicc_loop_for(ctx, v, I32(lw, 0), I32(lw, env.ext[L]), kind, body) : NULL;
  }
  const sched_rel *rel = &ss->rels[pr];
  int64_t e = env.ext[rel->a], f = rel->factor;
  genv em = env, et = env;
  em.mode[pr] = M_MAIN;
  et.mode[pr] = M_TAIL;
  recompute(lw, &em);
  recompute(lw, &et);
  const stmt *main_b = inside(lw, em, L, leaves, n, pos, cont, arg);
  const stmt *tail_b = main_b ? inside(lw, et, L, leaves, n, pos, cont, arg) : NULL;
  if (!tail_b) return NULL;
  if (kind == AICC_LOOP_PARALLEL) {
    const expr *c = aicc_loop_binary(ctx, AICC_LOOP_LT, v, I32(lw, e / f));
    return aicc_loop_for(ctx, v, I32(lw, 0), I32(lw, (e + f - 1) / f), kind,
                         aicc_loop_if(ctx, c, main_b, tail_b));
  }
  const stmt *parts[2] = {aicc_loop_for(ctx, v, I32(lw, 0), I32(lw, e / f), kind, main_b),
                          aicc_loop_for(ctx, v, I32(lw, e / f), I32(lw, 1), kind, tail_b)};
  return aicc_loop_seq(ctx, 2, parts);
}

/* ---- stage bodies ---- */

static const stmt *store_body(lowerer *lw, genv *env, void *arg) {
  (void)arg;
  const aicc_loop_stage *def = &lw->ss->def;
  const expr *idx[AICC_MAX_LOOP_RANK];
  if (!axis_index(lw, env, idx)) return nomem(lw);
  const stmt *s = aicc_loop_store(CTX(lw), def->buf, idx, subst_axes(lw, env, def->body, false));
  if (s && def->cond) s = aicc_loop_if(CTX(lw), subst_axes(lw, env, def->cond, false), s, NULL);
  return s ? s : nomem(lw);
}

/* The accumulator of a reduction inside the nest at the reduction point. */
typedef struct acc_info {
  const aicc_loop_buffer *local; /* cache_write buffer, or NULL: the stage's own */
  int n_rest;
  const int *rest;               /* the pure leaves inside the outermost reduction loop */
  int part;                      /* 0 init, 1 update, 2 final, 3 reload (local = stored) */
  bool raw;                      /* final: store the partial value (no post) */
} acc_info;

static const expr *acc_load(lowerer *lw, const genv *env, const acc_info *a, const expr **idx,
                            const aicc_loop_buffer **buf) {
  if (!a->local) {
    *buf = lw->ss->def.buf;
    if (!axis_index(lw, env, idx)) return NULL;
  } else {
    *buf = a->local;
    for (int i = 0; i < a->n_rest; i++) idx[i] = lw->ss->dims[a->rest[i]].var;
    if (a->n_rest == 0) idx[0] = I32(lw, 0);
  }
  return aicc_loop_load(CTX(lw), *buf, idx);
}

static const expr *local_to_acc(const expr *e, const aicc_loop_buffer *b, const expr *acc,
                                aicc_loop_ctx *ctx) {
  if (!e || (e->nargs == 0 && e->op != AICC_LOOP_LOAD)) return e;
  if (e->op == AICC_LOOP_LOAD && e->buf == b) return acc;
  const expr *args[64];
  if (e->nargs > 64) return NULL;
  bool same = true;
  for (uint32_t i = 0; i < e->nargs; i++) {
    args[i] = local_to_acc(e->args[i], b, acc, ctx);
    if (!args[i]) return NULL;
    same = same && args[i] == e->args[i];
  }
  return same ? e : aicc_loop_expr_with_args(ctx, e, args);
}

static const stmt *reduce_body(lowerer *lw, genv *env, void *arg) {
  const acc_info *a = arg;
  const aicc_loop_stage *def = &lw->ss->def;
  aicc_loop_ctx *ctx = CTX(lw);
  const expr *idx[AICC_MAX_LOOP_RANK + 1], *out_idx[AICC_MAX_LOOP_RANK];
  const aicc_loop_buffer *buf;
  const expr *acc = acc_load(lw, env, a, idx, &buf);
  if (!acc) return nomem(lw);
  const stmt *s = NULL;
  if (a->part == 0) {
    const expr *init = def->init ? subst_axes(lw, env, def->init, false)
                                 : aicc_loop_reduce_identity(ctx, def->reduce, def->buf->type);
    s = aicc_loop_store(ctx, buf, idx, init);
  } else if (a->part == 1) {
    const expr *x = subst_axes(lw, env, def->body, true);
    s = aicc_loop_store(ctx, buf, idx, aicc_loop_reduce_combine(ctx, def->reduce, acc, x));
    if (s && def->cond) s = aicc_loop_if(ctx, subst_axes(lw, env, def->cond, true), s, NULL);
  } else if (a->part == 2) {
    if (!axis_index(lw, env, out_idx)) return nomem(lw);
    const expr *v = acc;
    if (def->post && !a->raw) v = local_to_acc(subst_axes(lw, env, def->post, false), def->buf, acc, ctx);
    s = aicc_loop_store(ctx, def->buf, out_idx, v);
  } else {
    if (!axis_index(lw, env, out_idx)) return nomem(lw);
    s = aicc_loop_store(ctx, buf, idx, aicc_loop_load(ctx, def->buf, out_idx));
  }
  return s ? s : nomem(lw);
}

/* At the outermost reduction loop: init, update and final nests. */
static const stmt *reduction_point(lowerer *lw, genv *env, void *arg) {
  const int *all = arg;
  sched_stage *ss = lw->ss;
  aicc_loop_ctx *ctx = CTX(lw);
  int rest[SCHED_MAX_DIMS], n_rest = 0, n_all = 0;
  for (const int *p = all; *p >= 0; p++, n_all++)
    if (!ss->dims[*p].reduction) rest[n_rest++] = *p;
  acc_info a = {NULL, n_rest, rest, 0};
  if (ss->cache_write) {
    const expr *shape[SCHED_MAX_DIMS];
    for (int i = 0; i < n_rest; i++) shape[i] = I32(lw, env->ext[rest[i]] > 0 ? env->ext[rest[i]] : 1);
    if (n_rest == 0) shape[0] = I32(lw, 1);
    a.local = aicc_loop_buffer_create(ctx, ss->cache_write, ss->def.buf->type, n_rest ? n_rest : 1, shape);
    if (!a.local) return nomem(lw);
  }
  const stmt *parts[3];
  int np = 0;
  acc_info ai = a, au = a, af = a;
  au.part = 1;
  af.part = 2;
  parts[np++] = gen(lw, env, rest, n_rest, 0, reduce_body, &ai);
  parts[np++] = gen(lw, env, all, n_all, 0, reduce_body, &au);
  if (a.local || ss->def.post) parts[np++] = gen(lw, env, rest, n_rest, 0, reduce_body, &af);
  for (int i = 0; i < np; i++)
    if (!parts[i]) return NULL;
  const stmt *s = aicc_loop_seq(ctx, (size_t)np, parts);
  if (s && a.local) s = aicc_loop_allocate(ctx, a.local, s);
  return s ? s : nomem(lw);
}

/* ---- split reductions: a local accumulator inside outer reduction loops ----
 *
 * With cache_write and pure loops between the reduction loops (the K loop of
 * a GEMM blocked outside its register tile: [kc, ir, jr, kk, ii, ji]), an
 * accumulator over every pure loop inside the outermost reduction loop would
 * be as large as the output block, so the local buffer lives at the last run
 * of reduction loops instead (kk), over the pure loops inside it (ii, ji),
 * and each visit of it reloads the partial value the previous visit stored:
 *
 *   acc = (every outer reduction loop at 0) ? init : S[..]
 *   update over the inner nest
 *   S[..] = (every outer reduction loop at its last iteration) ? post(acc) : acc
 *
 * Loops run upwards from 0 (a partitioned tail comes after its main loop), so
 * the first visit is the one with every outer reduction variable 0. The last
 * is the one with each at its last value, unless a tail guard can skip it;
 * then post runs as its own pass over the output block after the outermost
 * reduction loop ends. */
typedef struct split_red {
  const int *inner;  /* leaves from the last run of reduction loops on, -1 ended */
  const int *outer;  /* reduction leaves before that run */
  int n_outer;
  const int *mid;    /* leaves from the outermost reduction loop to the run */
  int n_mid;
  bool defer_post;   /* post runs after the outermost reduction loop */
  bool unreliable;   /* set when some visit cannot tell that it is the last */
} split_red;

static const expr *and_cond(lowerer *lw, const expr *a, const expr *b) {
  return a ? aicc_loop_binary(CTX(lw), AICC_LOOP_AND, a, b) : b;
}

/* Whether this visit is the last one for its accumulator elements: NULL
 * means always; *never is set when it cannot be (a partitioned main loop). */
static const expr *last_visit(lowerer *lw, const genv *env, split_red *sr, bool *never) {
  const sched_stage *ss = lw->ss;
  const expr *c = NULL;
  *never = false;
  for (int i = 0; i < sr->n_outer; i++) {
    int d = sr->outer[i], part = -1;
    for (int r = 0; r < ss->n_rels; r++) {
      if (has_ancestor(ss, d, r) && env->mode[r] == M_GUARD) sr->unreliable = true;
      if (ss->rels[r].split && ss->rels[r].b == d && (env->mode[r] == M_MAIN || env->mode[r] == M_TAIL))
        part = r;
    }
    if (part >= 0) {
      if (env->mode[part] == M_MAIN) *never = true;
      continue; /* the tail iteration is the last */
    }
    c = and_cond(lw, c, aicc_loop_binary(CTX(lw), AICC_LOOP_EQ, ss->dims[d].var, I32(lw, env->ext[d] - 1)));
  }
  return c;
}

static const stmt *acc_point(lowerer *lw, genv *env, void *arg) {
  split_red *sr = arg;
  sched_stage *ss = lw->ss;
  aicc_loop_ctx *ctx = CTX(lw);
  int rest[SCHED_MAX_DIMS], n_rest = 0, n_inner = 0;
  for (const int *p = sr->inner; *p >= 0; p++, n_inner++)
    if (!ss->dims[*p].reduction) rest[n_rest++] = *p;
  const expr *shape[SCHED_MAX_DIMS];
  for (int i = 0; i < n_rest; i++) shape[i] = I32(lw, env->ext[rest[i]] > 0 ? env->ext[rest[i]] : 1);
  if (n_rest == 0) shape[0] = I32(lw, 1);
  acc_info a = {aicc_loop_buffer_create(ctx, ss->cache_write, ss->def.buf->type, n_rest ? n_rest : 1, shape),
                n_rest, rest, 0, false};
  if (!a.local) return nomem(lw);
  const expr *first = NULL;
  for (int i = 0; i < sr->n_outer; i++)
    first = and_cond(lw, first, aicc_loop_binary(ctx, AICC_LOOP_EQ, ss->dims[sr->outer[i]].var, I32(lw, 0)));
  acc_info ai = a, ar = a, au = a, af = a, araw = a;
  ar.part = 3;
  au.part = 1;
  af.part = araw.part = 2;
  araw.raw = true;
  const stmt *init = gen(lw, env, rest, n_rest, 0, reduce_body, &ai);
  const stmt *reload = gen(lw, env, rest, n_rest, 0, reduce_body, &ar);
  const stmt *parts[3];
  parts[0] = init && reload && first ? aicc_loop_if(ctx, first, init, reload) : NULL;
  parts[1] = gen(lw, env, sr->inner, n_inner, 0, reduce_body, &au);
  parts[2] = NULL;
  if (!ss->def.post || sr->defer_post) {
    parts[2] = gen(lw, env, rest, n_rest, 0, reduce_body, &araw);
  } else {
    bool never;
    const expr *last = last_visit(lw, env, sr, &never);
    const stmt *fin = never ? NULL : gen(lw, env, rest, n_rest, 0, reduce_body, &af);
    const stmt *raw = last || never ? gen(lw, env, rest, n_rest, 0, reduce_body, &araw) : NULL;
    parts[2] = never ? raw : last ? (fin && raw ? aicc_loop_if(ctx, last, fin, raw) : NULL) : fin;
  }
  for (int i = 0; i < 3; i++)
    if (!parts[i]) return lw->err ? NULL : nomem(lw);
  const stmt *s = aicc_loop_allocate(ctx, a.local, aicc_loop_seq(ctx, 3, parts));
  return s ? s : nomem(lw);
}

/* At the outermost reduction loop of a split reduction: the loops down to
 * the accumulator, then (deferred) post over the output block. */
static const stmt *split_point(lowerer *lw, genv *env, void *arg) {
  split_red *sr = arg;
  sched_stage *ss = lw->ss;
  const stmt *s = gen(lw, env, sr->mid, sr->n_mid, 0, acc_point, sr);
  if (!s || !sr->defer_post) return s;
  int rest[SCHED_MAX_DIMS], n_rest = 0;
  for (int i = 0; i < sr->n_mid; i++)
    if (!ss->dims[sr->mid[i]].reduction) rest[n_rest++] = sr->mid[i];
  for (const int *p = sr->inner; *p >= 0; p++)
    if (!ss->dims[*p].reduction) rest[n_rest++] = *p;
  acc_info af = {NULL, n_rest, rest, 2, false};
  const stmt *post = gen(lw, env, rest, n_rest, 0, reduce_body, &af);
  const stmt *parts[2] = {s, post};
  return post ? aicc_loop_seq(CTX(lw), 2, parts) : NULL;
}

/* The nest of stage ss over root extents (pure axes from ext, or the
 * stage's own when ext is NULL) with pure axis offsets base. */
static const stmt *lower_stage(sched_state *st, sched_stage *ss, const int64_t *ext,
                               const expr *const *base, aicc_status *err) {
  lowerer lw = {.st = st, .ss = ss};
  const aicc_loop_stage *def = &ss->def;
  for (int i = 0; i < def->n_axes; i++) {
    lw.root_ext[i] = ext ? ext[i] : def->axes[i].extent;
    lw.base[i] = base ? base[i] : NULL;
  }
  for (int i = 0; i < def->n_raxes; i++) lw.root_ext[def->n_axes + i] = def->raxes[i].extent;
  genv env;
  memset(&env, 0, sizeof env);
  env.vec_dim = -1;
  recompute(&lw, &env);
  const stmt *s;
  if (def->reduce == AICC_LOOP_REDUCE_NONE) {
    s = gen(&lw, &env, ss->order, ss->n_order, 0, store_body, NULL);
  } else {
    int p = 0;
    while (p < ss->n_order && !ss->dims[ss->order[p]].reduction) p++;
    int all[SCHED_MAX_DIMS + 1];
    memcpy(all, ss->order + p, (size_t)(ss->n_order - p) * sizeof(int));
    all[ss->n_order - p] = -1;
    /* q: the start of the last run of reduction loops. */
    int q = ss->n_order;
    while (q > p && !ss->dims[ss->order[q - 1]].reduction) q--;
    while (q > p && ss->dims[ss->order[q - 1]].reduction) q--;
    if (!ss->cache_write || q == p) {
      s = gen(&lw, &env, ss->order, p, 0, reduction_point, all);
    } else {
      int outer[SCHED_MAX_DIMS], n_outer = 0;
      for (int i = p; i < q; i++)
        if (ss->dims[ss->order[i]].reduction) outer[n_outer++] = ss->order[i];
      split_red sr = {all + (q - p), outer, n_outer, ss->order + p, q - p, false, false};
      s = gen(&lw, &env, ss->order, p, 0, split_point, &sr);
      if (s && sr.unreliable && def->post) { /* again, post in a pass of its own */
        sr.defer_post = true;
        s = gen(&lw, &env, ss->order, p, 0, split_point, &sr);
      }
    }
  }
  if (lw.err) *err = lw.err;
  else if (!s || lw.oom) *err = aicc_errorf(AICC_ERR_NOMEM, "out of memory lowering stage %s", def->name);
  return *err ? NULL : s;
}

/* ---- compute_at ---- */

typedef struct retarget {
  aicc_loop_ctx *ctx;
  const aicc_loop_buffer *from, *to;
  const expr *off[AICC_MAX_LOOP_RANK];
} retarget;

static bool shift_index(const retarget *rt, const expr *const *in, const expr **out) {
  for (int d = 0; d < rt->from->rank; d++)
    if (!(out[d] = aicc_loop_sub(rt->ctx, in[d], rt->off[d]))) return false;
  return true;
}

static const expr *rt_expr(const retarget *rt, const expr *e) {
  if (!e || (e->nargs == 0 && e->op != AICC_LOOP_LOAD)) return e;
  const expr *args[64];
  if (e->nargs > 64) return NULL;
  bool same = true;
  for (uint32_t i = 0; i < e->nargs; i++) {
    args[i] = rt_expr(rt, e->args[i]);
    if (!args[i]) return NULL;
    same = same && args[i] == e->args[i];
  }
  if (e->op == AICC_LOOP_LOAD && e->buf == rt->from) {
    const expr *idx[AICC_MAX_LOOP_RANK];
    return shift_index(rt, args, idx) ? aicc_loop_load(rt->ctx, rt->to, idx) : NULL;
  }
  return same ? e : aicc_loop_expr_with_args(rt->ctx, e, args);
}

static const stmt *rt_stmt(const retarget *rt, const stmt *s) {
  aicc_loop_ctx *ctx = rt->ctx;
  switch (s->kind) {
  case AICC_LOOP_FOR: {
    const stmt *b = rt_stmt(rt, s->body);
    return b ? aicc_loop_for(ctx, s->var, rt_expr(rt, s->min), rt_expr(rt, s->extent), s->for_kind, b) : NULL;
  }
  case AICC_LOOP_LET: {
    const stmt *b = rt_stmt(rt, s->body);
    return b ? aicc_loop_let(ctx, s->var, rt_expr(rt, s->value), b) : NULL;
  }
  case AICC_LOOP_IF: {
    const stmt *t = rt_stmt(rt, s->body), *e = s->otherwise ? rt_stmt(rt, s->otherwise) : NULL;
    if (!t || (s->otherwise && !e)) return NULL;
    return aicc_loop_if(ctx, rt_expr(rt, s->value), t, e);
  }
  case AICC_LOOP_ALLOCATE: {
    const stmt *b = rt_stmt(rt, s->body);
    return b ? aicc_loop_allocate(ctx, s->buf, b) : NULL;
  }
  case AICC_LOOP_STORE: {
    const expr *idx[AICC_MAX_LOOP_RANK * 2], *ix[AICC_MAX_LOOP_RANK * 2];
    if (s->buf->rank > AICC_MAX_LOOP_RANK * 2) return NULL;
    for (int d = 0; d < s->buf->rank; d++)
      if (!(idx[d] = rt_expr(rt, s->index[d]))) return NULL;
    const aicc_loop_buffer *b = s->buf;
    if (b == rt->from) {
      if (!shift_index(rt, idx, ix)) return NULL;
      memcpy(idx, ix, (size_t)b->rank * sizeof *idx);
      b = rt->to;
    }
    return aicc_loop_store(ctx, b, idx, rt_expr(rt, s->value));
  }
  case AICC_LOOP_SEQ: {
    const stmt **v = AICC_ARENA_ARRAY(aicc_loop_ctx_arena(ctx), const stmt *, s->n ? s->n : 1);
    if (!v) return NULL;
    for (size_t i = 0; i < s->n; i++)
      if (!(v[i] = rt_stmt(rt, s->stmts[i]))) return NULL;
    return aicc_loop_seq(ctx, s->n, v);
  }
  case AICC_LOOP_EVALUATE: return aicc_loop_evaluate(ctx, rt_expr(rt, s->value));
  }
  return NULL;
}

static bool expr_uses_buf(const expr *e, const aicc_loop_buffer *b) {
  if (!e) return false;
  if (e->op == AICC_LOOP_LOAD && e->buf == b) return true;
  for (uint32_t i = 0; i < e->nargs; i++)
    if (expr_uses_buf(e->args[i], b)) return true;
  return false;
}

static bool stmt_uses_buf(const stmt *s, const aicc_loop_buffer *b) {
  switch (s->kind) {
  case AICC_LOOP_FOR: return expr_uses_buf(s->min, b) || expr_uses_buf(s->extent, b) || stmt_uses_buf(s->body, b);
  case AICC_LOOP_LET: return expr_uses_buf(s->value, b) || stmt_uses_buf(s->body, b);
  case AICC_LOOP_IF:
    return expr_uses_buf(s->value, b) || stmt_uses_buf(s->body, b) ||
           (s->otherwise && stmt_uses_buf(s->otherwise, b));
  case AICC_LOOP_ALLOCATE: return stmt_uses_buf(s->body, b);
  case AICC_LOOP_STORE:
    if (s->buf == b || expr_uses_buf(s->value, b)) return true;
    for (int d = 0; d < s->buf->rank; d++)
      if (expr_uses_buf(s->index[d], b)) return true;
    return false;
  case AICC_LOOP_SEQ:
    for (size_t i = 0; i < s->n; i++)
      if (stmt_uses_buf(s->stmts[i], b)) return true;
    return false;
  case AICC_LOOP_EVALUATE: return expr_uses_buf(s->value, b);
  }
  return false;
}

typedef struct injector {
  sched_state *st;
  sched_stage *ss;        /* the producer */
  const expr *target;     /* the consumer loop's variable */
  int count;
  aicc_status err;
} injector;

static aicc_loop_scope range_of(aicc_loop_ctx *ctx, const expr *var, const expr *min,
                                const expr *ext, const aicc_loop_scope *facts) {
  aicc_loop_scope f = {.var = var, .next = facts};
  const expr *last = aicc_loop_sub(ctx, aicc_loop_add(ctx, min, ext), aicc_loop_i32(ctx, 1));
  f.range.lo = aicc_loop_const_bounds(min, facts).lo;
  f.range.hi = last ? aicc_loop_const_bounds(last, facts).hi : INT64_MAX;
  return f;
}

/* The producer's nest at the start of body (inside the target loop). */
static const stmt *realize_in(injector *in, const stmt *body, const aicc_loop_scope *facts) {
  sched_state *st = in->st;
  aicc_loop_ctx *ctx = st->ctx;
  const aicc_loop_stage *def = &in->ss->def;
  aicc_loop_region *regs;
  size_t nregs;
  if ((in->err = aicc_loop_regions_touched(ctx, body, NULL, facts, &regs, &nregs))) return NULL;
  const aicc_loop_region *reg = NULL;
  for (size_t i = 0; i < nregs; i++)
    if (regs[i].buf == def->buf) reg = &regs[i];
  if (!reg) return body; /* this copy of the loop does not read it */
  int64_t ext[AICC_MAX_LOOP_RANK];
  const expr *base[AICC_MAX_LOOP_RANK], *shape[AICC_MAX_LOOP_RANK], *lets[AICC_MAX_LOOP_RANK];
  retarget rt = {.ctx = ctx, .from = def->buf};
  for (int d = 0; d < def->n_axes; d++) {
    int64_t full = def->axes[d].extent, hi = INT64_MAX;
    const aicc_loop_range *r = &reg->dims[d];
    if (r->min && r->max) {
      const expr *n = aicc_loop_add(ctx, aicc_loop_sub(ctx, r->max, r->min), aicc_loop_i32(ctx, 1));
      n = n ? aicc_loop_simplify(ctx, n, facts) : NULL;
      if (!n) goto oom;
      hi = aicc_loop_const_bounds(n, facts).hi;
    }
    lets[d] = NULL;
    if (hi >= full) {
      ext[d] = full;
      base[d] = rt.off[d] = aicc_loop_i32(ctx, 0);
      continue;
    }
    ext[d] = hi > 1 ? hi : 1;
    /* Shifted inwards so the box stays inside [0, full). */
    const expr *m = aicc_loop_max(ctx, aicc_loop_min(ctx, r->min, aicc_loop_i32(ctx, full - ext[d])),
                                  aicc_loop_i32(ctx, 0));
    char name[300];
    snprintf(name, sizeof name, "\x01%s\x01%s_m%d", def->name, def->name, d);
    base[d] = rt.off[d] = aicc_loop_var(ctx, name, AICC_DTYPE_I32);
    lets[d] = m ? aicc_loop_simplify(ctx, m, facts) : NULL;
    if (!lets[d] || !base[d]) goto oom;
  }
  for (int d = 0; d < def->n_axes; d++) shape[d] = aicc_loop_i32(ctx, ext[d]);
  rt.to = aicc_loop_buffer_create(ctx, def->buf->name, def->buf->type, def->n_axes, shape);
  if (!rt.to) goto oom;
  const stmt *nest = lower_stage(st, in->ss, ext, base, &in->err);
  if (!nest) return NULL;
  const stmt *parts[2] = {nest, body};
  const stmt *s = rt_stmt(&rt, aicc_loop_seq(ctx, 2, parts));
  s = s ? aicc_loop_allocate(ctx, rt.to, s) : NULL;
  for (int d = def->n_axes; d-- > 0 && s;)
    if (lets[d]) s = aicc_loop_let(ctx, base[d], lets[d], s);
  if (!s) goto oom;
  in->count++;
  return s;
oom:
  in->err = aicc_errorf(AICC_ERR_NOMEM, "out of memory in compute_at of %s", def->name);
  return NULL;
}

static const stmt *inject(injector *in, const stmt *s, const aicc_loop_scope *facts) {
  if (in->err) return NULL;
  aicc_loop_ctx *ctx = in->st->ctx;
  switch (s->kind) {
  case AICC_LOOP_FOR: {
    aicc_loop_scope f = range_of(ctx, s->var, s->min, s->extent, facts);
    const stmt *b = s->var == in->target ? realize_in(in, s->body, &f) : inject(in, s->body, &f);
    if (!b) return NULL;
    return b == s->body ? s : aicc_loop_for(ctx, s->var, s->min, s->extent, s->for_kind, b);
  }
  case AICC_LOOP_LET: {
    aicc_loop_scope f = {.var = s->var, .range = aicc_loop_const_bounds(s->value, facts), .next = facts};
    const stmt *b = inject(in, s->body, &f);
    if (!b) return NULL;
    return b == s->body ? s : aicc_loop_let(ctx, s->var, s->value, b);
  }
  case AICC_LOOP_IF: {
    const stmt *t = inject(in, s->body, facts), *e = s->otherwise ? inject(in, s->otherwise, facts) : NULL;
    if (!t || (s->otherwise && !e)) return NULL;
    return t == s->body && e == s->otherwise ? s : aicc_loop_if(ctx, s->value, t, e);
  }
  case AICC_LOOP_ALLOCATE: {
    const stmt *b = inject(in, s->body, facts);
    if (!b) return NULL;
    return b == s->body ? s : aicc_loop_allocate(ctx, s->buf, b);
  }
  case AICC_LOOP_SEQ: {
    const stmt **v = AICC_ARENA_ARRAY(aicc_loop_ctx_arena(ctx), const stmt *, s->n ? s->n : 1);
    if (!v) return NULL;
    bool same = true;
    for (size_t i = 0; i < s->n; i++) {
      if (!(v[i] = inject(in, s->stmts[i], facts))) return NULL;
      same = same && v[i] == s->stmts[i];
    }
    return same ? s : aicc_loop_seq(ctx, s->n, v);
  }
  default: return s;
  }
}

static aicc_status compute_at(sched_state *st, sched_stage *ss, const stmt **body) {
  sched_stage *c = ss->at;
  const sched_dim *td = &c->dims[ss->at_dim];
  int step = ss->at_step;
  if (td->used_by >= 0)
    return aicc_sched_fail(st, step, "loop %s of %s was %s by a later record", td->name, c->def.name,
                           c->rels[td->used_by].split ? "split" : "fused");
  if (c->at == NULL && c->inlined)
    return aicc_sched_fail(st, step, "stage %s was inlined", c->def.name);
  injector in = {.st = st, .ss = ss, .target = td->var};
  const stmt *s = inject(&in, *body, NULL);
  if (in.err) return in.err;
  if (!s) return aicc_errorf(AICC_ERR_NOMEM, "out of memory in compute_at");
  if (in.count == 0)
    return aicc_sched_fail(st, step, "%s does not read %s inside loop %s", c->def.name, ss->def.name, td->name);
  if (stmt_uses_buf(s, ss->def.buf))
    return aicc_sched_fail(st, step, "%s is also used outside loop %s of %s", ss->def.name, td->name,
                           c->def.name);
  *body = s;
  return NULL;
}

/* ---- the codegen's parallel rule ---- */

static const sched_dim *dim_of_var(const sched_state *st, const expr *v, const sched_stage **ss) {
  for (int i = 0; i < st->n_stages; i++)
    for (int d = 0; d < st->stages[i]->n_dims; d++)
      if (st->stages[i]->dims[d].var == v) {
        *ss = st->stages[i];
        return &st->stages[i]->dims[d];
      }
  return NULL;
}

typedef struct pcheck {
  const sched_state *st;
  const stmt *first;
  aicc_status err;
} pcheck;

static void check_parallel(pcheck *pc, const stmt *s, const char *why) {
  if (pc->err) return;
  switch (s->kind) {
  case AICC_LOOP_FOR:
    if (s->for_kind == AICC_LOOP_PARALLEL) {
      const sched_stage *ss = NULL;
      const sched_dim *d = dim_of_var(pc->st, s->var, &ss);
      int step = d ? d->kind_step : -1;
      if (pc->first) {
        const sched_stage *fs = NULL;
        const sched_dim *fd = dim_of_var(pc->st, pc->first->var, &fs);
        pc->err = aicc_sched_fail(pc->st, step, "a func may hold only one parallel loop (loop %s of %s is another)",
                                  fd ? fd->name : "?", fs ? fs->def.name : "?");
        return;
      }
      pc->first = s;
      if (why) {
        pc->err = aicc_sched_fail(pc->st, step, "%s; only allocate and let may enclose a parallel loop", why);
        return;
      }
    }
    check_parallel(pc, s->body, "it is inside another loop");
    return;
  case AICC_LOOP_LET: case AICC_LOOP_ALLOCATE: check_parallel(pc, s->body, why); return;
  case AICC_LOOP_IF:
    check_parallel(pc, s->body, why ? why : "it is inside a condition");
    if (s->otherwise) check_parallel(pc, s->otherwise, why ? why : "it is inside a condition");
    return;
  case AICC_LOOP_SEQ:
    for (size_t i = 0; i < s->n; i++)
      check_parallel(pc, s->stmts[i], why ? why : "other statements run beside it (a stage at the root, or a split tail)");
    return;
  default: return;
  }
}

/* ---- readable names ---- */

typedef struct vmap {
  const expr *from, *to;
} vmap;

typedef struct renamer {
  aicc_loop_ctx *ctx;
  AICC_VEC(vmap) map;
  AICC_VEC(const char *) bound;
  bool oom;
} renamer;

static const expr *rn_expr(renamer *rn, const expr *e) {
  if (!e) return NULL;
  if (e->op == AICC_LOOP_VAR) {
    for (size_t i = rn->map.len; i-- > 0;)
      if (rn->map.data[i].from == e) return rn->map.data[i].to;
    return e;
  }
  if (e->nargs == 0) return e;
  const expr *args[64];
  if (e->nargs > 64) return NULL;
  bool same = true;
  for (uint32_t i = 0; i < e->nargs; i++) {
    if (!(args[i] = rn_expr(rn, e->args[i]))) return NULL;
    same = same && args[i] == e->args[i];
  }
  return same ? e : aicc_loop_expr_with_args(rn->ctx, e, args);
}

static bool is_bound(const renamer *rn, const char *name) {
  for (size_t i = 0; i < rn->bound.len; i++)
    if (!strcmp(rn->bound.data[i], name)) return true;
  return false;
}

/* Internal loop variables are "\1stage\1name": they become name, or
 * stage_name, or name_1, ... whichever no enclosing binding uses. */
static const expr *pick(renamer *rn, const expr *v) {
  const char *n = v->v.name;
  char cand[300];
  if (n[0] != '\x01') {
    snprintf(cand, sizeof cand, "%s", n);
  } else {
    const char *sep = strchr(n + 1, '\x01');
    const char *disp = sep ? sep + 1 : n + 1;
    snprintf(cand, sizeof cand, "%s", disp);
    if (is_bound(rn, cand) && sep) snprintf(cand, sizeof cand, "%.*s_%s", (int)(sep - n - 1), n + 1, disp);
    for (int k = 1; is_bound(rn, cand); k++) snprintf(cand, sizeof cand, "%s_%d", disp, k);
  }
  return aicc_loop_var(rn->ctx, cand, v->type);
}

static const stmt *rn_stmt(renamer *rn, const stmt *s) {
  aicc_loop_ctx *ctx = rn->ctx;
  switch (s->kind) {
  case AICC_LOOP_FOR:
  case AICC_LOOP_LET: {
    const expr *nv = pick(rn, s->var);
    if (!nv || !aicc_vec_push(&rn->map, ((vmap){s->var, nv})) || !aicc_vec_push(&rn->bound, nv->v.name)) {
      rn->oom = true;
      return NULL;
    }
    const stmt *b = rn_stmt(rn, s->body);
    rn->map.len--;
    rn->bound.len--;
    if (!b) return NULL;
    if (s->kind == AICC_LOOP_LET) return aicc_loop_let(ctx, nv, rn_expr(rn, s->value), b);
    return aicc_loop_for(ctx, nv, rn_expr(rn, s->min), rn_expr(rn, s->extent), s->for_kind, b);
  }
  case AICC_LOOP_IF: {
    const stmt *t = rn_stmt(rn, s->body), *e = s->otherwise ? rn_stmt(rn, s->otherwise) : NULL;
    if (!t || (s->otherwise && !e)) return NULL;
    return aicc_loop_if(ctx, rn_expr(rn, s->value), t, e);
  }
  case AICC_LOOP_ALLOCATE: {
    const stmt *b = rn_stmt(rn, s->body);
    return b ? aicc_loop_allocate(ctx, s->buf, b) : NULL;
  }
  case AICC_LOOP_STORE: {
    const expr *idx[AICC_MAX_LOOP_RANK * 2];
    if (s->buf->rank > AICC_MAX_LOOP_RANK * 2) return NULL;
    for (int d = 0; d < s->buf->rank; d++)
      if (!(idx[d] = rn_expr(rn, s->index[d]))) return NULL;
    return aicc_loop_store(ctx, s->buf, idx, rn_expr(rn, s->value));
  }
  case AICC_LOOP_SEQ: {
    const stmt **v = AICC_ARENA_ARRAY(aicc_loop_ctx_arena(ctx), const stmt *, s->n ? s->n : 1);
    if (!v) return NULL;
    for (size_t i = 0; i < s->n; i++)
      if (!(v[i] = rn_stmt(rn, s->stmts[i]))) return NULL;
    return aicc_loop_seq(ctx, s->n, v);
  }
  case AICC_LOOP_EVALUATE: return aicc_loop_evaluate(ctx, rn_expr(rn, s->value));
  }
  return NULL;
}

/* ---- the whole kernel ---- */

aicc_status aicc_sched_lower(sched_state *st, aicc_loop_func **out) {
  aicc_loop_ctx *ctx = st->ctx;
  aicc_arena *a = aicc_loop_ctx_arena(ctx);
  const stmt **parts = AICC_ARENA_ARRAY(a, const stmt *, st->n_stages ? st->n_stages : 1);
  if (!parts) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  size_t np = 0;
  aicc_status err = NULL;
  for (int i = 0; i < st->n_stages; i++) {
    sched_stage *ss = st->stages[i];
    if (ss->inlined || ss->at) continue;
    if (!(parts[np++] = lower_stage(st, ss, NULL, NULL, &err))) return err;
  }
  const stmt *body = aicc_loop_seq(ctx, np, parts);
  for (int i = st->n_stages; i-- > 0 && body;) {
    sched_stage *ss = st->stages[i];
    if (!ss->inlined && ss->at) AICC_TRY(compute_at(st, ss, &body));
  }
  for (int i = st->n_stages; i-- > 0 && body;) {
    sched_stage *ss = st->stages[i];
    if (!ss->inlined && !ss->at && !ss->is_param) body = aicc_loop_allocate(ctx, ss->def.buf, body);
  }
  if (body) body = aicc_loop_stmt_simplify(ctx, body, NULL);
  if (!body) return aicc_errorf(AICC_ERR_NOMEM, "out of memory scheduling kernel %s", st->k->name);
  pcheck pc = {.st = st};
  check_parallel(&pc, body, NULL);
  if (pc.err) return pc.err;
  renamer rn = {.ctx = ctx};
  body = rn_stmt(&rn, body);
  aicc_vec_free(&rn.map);
  aicc_vec_free(&rn.bound);
  if (!body) return aicc_errorf(AICC_ERR_NOMEM, "out of memory scheduling kernel %s", st->k->name);
  aicc_loop_func *f = AICC_ARENA_NEW(a, aicc_loop_func);
  if (!f) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  f->name = st->k->name;
  f->nparams = st->k->n_params;
  f->params = AICC_ARENA_ARRAY(a, aicc_loop_param, f->nparams ? f->nparams : 1);
  if (!f->params) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < f->nparams; i++) f->params[i] = (aicc_loop_param){NULL, st->k->params[i]};
  f->body = body;
  aicc_status v = aicc_loop_func_verify(f);
  if (v) return aicc_status_wrap(v, "scheduled kernel %s", st->k->name);
  *out = f;
  return NULL;
}
