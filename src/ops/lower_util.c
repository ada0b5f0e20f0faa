/* Helpers for lowering functions and the lookup of lowerings (ops/lower.h). */
#include "ops/lower.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define AICC_LOWER(n) extern const aicc_lower_table aicc_lower_##n;
#include "lowerings.inc"
#undef AICC_LOWER

static const aicc_lower_table *const tables[] = {
#define AICC_LOWER(n) &aicc_lower_##n,
#include "lowerings.inc"
#undef AICC_LOWER
    NULL, /* keeps the array non-empty while no table exists */
};

const aicc_lower_table *const *aicc_lower_tables(size_t *count) {
  *count = sizeof tables / sizeof tables[0] - 1;
  return tables;
}

aicc_lower_fn aicc_lower_find(const aicc_op *op, const char *domain, const char *name) {
  if (op && op->lower) return op->lower;
  if (!domain || strcmp(domain, "ai.onnx") == 0) domain = "";
  size_t n;
  const aicc_lower_table *const *t = aicc_lower_tables(&n);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < t[i]->count; j++) {
      const aicc_lower_row *r = &t[i]->rows[j];
      if (strcmp(r->name, name) == 0 && strcmp(r->domain, domain) == 0) return r->fn;
    }
  return NULL;
}

aicc_status aicc_lower_unsupported(const aicc_lower_ctx *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  aicc_status s = aicc_verrorf(AICC_ERR_UNSUPPORTED, fmt, ap);
  va_end(ap);
  char buf[256];
  return aicc_status_wrap(s, "%s", aicc_node_describe(c->node, buf, sizeof buf));
}

aicc_loop_stage *aicc_lower_stage(aicc_lower_ctx *c, const aicc_loop_buffer *buf) {
  return aicc_loop_stage_create(c->lc, buf, "i");
}

aicc_status aicc_lower_emit(aicc_lower_ctx *c, aicc_loop_stage *s) {
  if (!s || !s->body) return aicc_errorf(AICC_ERR_NOMEM, "out of memory building a stage");
  return aicc_loop_kernel_stage_add(c->lc, c->kernel, s);
}

const aicc_loop_buffer *aicc_lower_temp(aicc_lower_ctx *c, aicc_dtype t, int rank,
                                        const int64_t *dims) {
  char name[160];
  const char *base = c->node->name && *c->node->name ? c->node->name : c->node->op_type;
  /* Buffer names become C identifiers after codegen's mangling; keep them short. */
  snprintf(name, sizeof name, "%.100s_t%d", base, c->tmp_counter++);
  const aicc_loop_expr *shape[AICC_MAX_LOOP_RANK];
  if (rank > AICC_MAX_LOOP_RANK) return NULL;
  for (int i = 0; i < rank; i++) shape[i] = aicc_loop_i32(c->lc, dims[i]);
  return aicc_loop_buffer_create(c->lc, name, t, rank, shape);
}

bool aicc_lower_dims(const aicc_loop_buffer *b, int64_t *dims) {
  for (int i = 0; i < b->rank; i++)
    if (!aicc_loop_expr_is_int_const(b->shape[i], &dims[i])) return false;
  return true;
}

int64_t aicc_lower_dim(const aicc_loop_buffer *b, int i) {
  int64_t v = -1;
  if (i >= 0 && i < b->rank) (void)aicc_loop_expr_is_int_const(b->shape[i], &v);
  return v;
}

const aicc_loop_expr *aicc_lower_load_bcast(aicc_lower_ctx *c, const aicc_loop_buffer *in,
                                            int out_rank, const aicc_loop_expr *const *idx) {
  const aicc_loop_expr *ix[AICC_MAX_LOOP_RANK];
  int off = out_rank - in->rank;
  if (off < 0 || in->rank > AICC_MAX_LOOP_RANK) return NULL;
  for (int i = 0; i < in->rank; i++)
    ix[i] = aicc_lower_dim(in, i) == 1 ? aicc_loop_i32(c->lc, 0) : idx[off + i];
  return aicc_loop_load(c->lc, in, ix);
}

void aicc_lower_axis_index(const aicc_loop_stage *s, const aicc_loop_expr **idx) {
  for (int i = 0; i < s->n_axes; i++) idx[i] = s->axes[i].var;
}

const aicc_loop_expr *aicc_lower_i32(aicc_lower_ctx *c, int64_t v) {
  return aicc_loop_i32(c->lc, v);
}

const aicc_loop_expr *aicc_lower_const(aicc_lower_ctx *c, aicc_dtype t, double v) {
  if (aicc_loop_type_is_int(t)) return aicc_loop_int(c->lc, t, (int64_t)v);
  return aicc_loop_float(c->lc, t, v);
}

int64_t aicc_lower_const_ints(const aicc_lower_ctx *c, int i, int64_t *vals, int64_t max) {
  if (i >= c->n_in || !c->cin[i]) return -1;
  const aicc_tensor *t = c->cin[i];
  int64_t n = aicc_tensor_numel(t);
  if (n < 0 || n > max) return -1;
  for (int64_t k = 0; k < n; k++) vals[k] = aicc_tensor_get_i64(t, k);
  return n;
}

bool aicc_lower_dtype_ok(aicc_dtype t) {
  return t == AICC_DTYPE_BOOL || t == AICC_DTYPE_F32 || t == AICC_DTYPE_F64 ||
         t == AICC_DTYPE_I8 || t == AICC_DTYPE_U8 || t == AICC_DTYPE_I16 ||
         t == AICC_DTYPE_U16 || t == AICC_DTYPE_I32 || t == AICC_DTYPE_U32 ||
         t == AICC_DTYPE_I64 || t == AICC_DTYPE_U64;
}

int64_t aicc_lower_numel(const aicc_loop_buffer *b) {
  int64_t n = 1;
  for (int i = 0; i < b->rank; i++) n *= aicc_lower_dim(b, i);
  return n;
}

aicc_status aicc_lower_need_buf(aicc_lower_ctx *c, const aicc_loop_buffer *b, const char *what) {
  int64_t dims[AICC_MAX_LOOP_RANK];
  if (!b) return aicc_lower_unsupported(c, "%s is missing", what);
  if (b->rank > AICC_MAX_LOOP_RANK || !aicc_lower_dims(b, dims))
    return aicc_lower_unsupported(c, "%s has no static shape", what);
  if (!aicc_lower_dtype_ok(b->type))
    return aicc_lower_unsupported(c, "%s dtype %s", what, aicc_dtype_text(b->type));
  return NULL;
}

const aicc_loop_expr *aicc_lower_clamp(aicc_lower_ctx *c, const aicc_loop_expr *e, int64_t lo,
                                       int64_t hi) {
  if (!e) return NULL;
  const aicc_loop_expr *r = aicc_loop_max(c->lc, e, aicc_loop_int(c->lc, e->type, lo));
  return aicc_loop_min(c->lc, r, aicc_loop_int(c->lc, e->type, hi));
}

const aicc_loop_expr *aicc_lower_mul_k(aicc_lower_ctx *c, const aicc_loop_expr *v, int64_t k) {
  return k == 1 ? v : aicc_loop_mul(c->lc, v, aicc_lower_i32(c, k));
}

const aicc_loop_expr *aicc_lower_add_k(aicc_lower_ctx *c, const aicc_loop_expr *v, int64_t k) {
  return k == 0 ? v : aicc_loop_add(c->lc, v, aicc_lower_i32(c, k));
}

const aicc_loop_expr *aicc_lower_and(aicc_lower_ctx *c, const aicc_loop_expr *a,
                                     const aicc_loop_expr *b) {
  const aicc_loop_expr *t = aicc_loop_bool(c->lc, true);
  if (!a || !b) return NULL;
  if (a == t) return b;
  if (b == t) return a;
  return aicc_loop_binary(c->lc, AICC_LOOP_AND, a, b);
}

aicc_status aicc_lower_load_per(aicc_lower_ctx *c, int in, int64_t n, const aicc_loop_expr *ix,
                                const aicc_loop_expr **e) {
  *e = NULL;
  const aicc_loop_buffer *b = in < c->n_in ? c->in[in] : NULL;
  if (!b) return NULL;
  int64_t dims[AICC_MAX_LOOP_RANK], cnt = 1;
  if (b->rank > AICC_MAX_LOOP_RANK || !aicc_lower_dims(b, dims))
    return aicc_lower_unsupported(c, "input %d has no static shape", in);
  for (int i = 0; i < b->rank; i++) cnt *= dims[i];
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK];
  if (cnt == 1) {
    for (int i = 0; i < b->rank; i++) idx[i] = aicc_lower_i32(c, 0);
  } else if (b->rank == 1 && cnt == n && ix) {
    idx[0] = ix;
  } else {
    return aicc_lower_unsupported(c, "input %d has %lld values, expected 1 or %lld", in,
                                  (long long)cnt, (long long)n);
  }
  *e = aicc_loop_load(c->lc, b, idx);
  return *e ? NULL : aicc_errorf(AICC_ERR_NOMEM, "out of memory");
}

/* ---- a reduction along the contiguous innermost axis, split by lanes ----
 * The classic rfactor (Suriana et al., "Parallel associative reductions in
 * Halide", CGO 2017): with W lanes, the innermost reduction axis r of extent
 * K = K0 + T (K0 = floor(K/W)*W) becomes
 *   P[a.., l] = reduce_{r.., ko < K0/W} body[r := ko*W + l]   (l an output axis)
 *   buf[a..]  = fold_l P[a.., l], then reduce_{rr < T} body[r := K0 + rr], then post.
 * l walks the loads' innermost dim with stride 1, so the default schedule's
 * "lanes of independent outputs" rule vectorizes P; the last stage folds the
 * W lanes as a tree (its init) and the T tail terms. The result differs from
 * the serial order by float rounding only. Both stages read rows of the
 * stage's own axes, so the default schedule still computes them inside the
 * consumer's row loop (softmax's and layernorm's epilogues stay fused). */

/* Whether var r occurs in e only as the whole last index of loads (depth
 * bounds the walk over the DAG; deeper is "no"). */
static bool only_last_index(const aicc_loop_expr *e, const aicc_loop_expr *r, int depth) {
  if (!e) return true;
  if (e == r || depth > 32) return false;
  for (uint32_t i = 0; i < e->nargs; i++) {
    bool last_index = e->op == AICC_LOOP_LOAD && i + 1 == e->nargs;
    if (!(last_index && e->args[i] == r) && !only_last_index(e->args[i], r, depth + 1))
      return false;
  }
  return true;
}

/* The lanes w of a stage: one 64-byte line of its type (16 f32: one
 * AVX-512 vector, two AVX2 ones), or 0 when the split does not apply or does
 * not pay; *chains: how many lines P has (W = w * chains). */
static int64_t rfactor_width(const aicc_loop_stage *s, int64_t *chains) {
  int64_t w;
  switch (s->buf->type) {
  case AICC_DTYPE_F32:
  case AICC_DTYPE_I32: w = 16; break;
  case AICC_DTYPE_F64:
  case AICC_DTYPE_I64: w = 8; break;
  default: return 0;
  }
  if (s->reduce == AICC_LOOP_REDUCE_NONE || s->cond || s->n_raxes < 1 ||
      s->n_axes + 1 > AICC_MAX_LOOP_RANK)
    return 0;
  const aicc_loop_expr *r = s->raxes[s->n_raxes - 1].var;
  int64_t K = s->raxes[s->n_raxes - 1].extent;
  /* One vector per row gains nothing (measured: Softmax rows of 16 slower,
   * of 32 and 48 2.3x and 3.4x faster than the serial fold). */
  if (K < 2 * w || K > INT32_MAX) return 0;
  /* The tail re-reads body at r alone: the other reduction axes would need
   * their own loops there. */
  if (K % w && s->n_raxes > 1) return 0;
  /* Long rows: 4 lines of lanes, 4 independent accumulator chains (one
   * max or add chain of K/w steps is latency-bound: ReduceMax of rows of 768
   * 2x faster), folded to one line by a vector stage before the tree. */
  *chains = K >= 32 * w && K % (4 * w) == 0 ? 4 : 1;
  if (!only_last_index(s->body, r, 0) || (s->init && aicc_loop_expr_uses_var(s->init, r)) ||
      (s->post && aicc_loop_expr_uses_var(s->post, r)))
    return 0;
  return w;
}

/* combine(P[a.., lo], .., P[a.., lo + n - 1]) as a balanced tree, a.. the
 * axes of stage f. */
static const aicc_loop_expr *lanes_tree(aicc_lower_ctx *c, aicc_loop_reduce kind,
                                        const aicc_loop_stage *f, const aicc_loop_buffer *P,
                                        int64_t lo, int64_t n) {
  if (n > 1)
    return aicc_loop_reduce_combine(c->lc, kind, lanes_tree(c, kind, f, P, lo, n / 2),
                                    lanes_tree(c, kind, f, P, lo + n / 2, n - n / 2));
  const aicc_loop_expr *pi[AICC_MAX_LOOP_RANK];
  aicc_lower_axis_index(f, pi);
  pi[f->n_axes] = aicc_lower_i32(c, lo);
  return aicc_loop_load(c->lc, P, pi);
}

aicc_status aicc_lower_emit_reduce(aicc_lower_ctx *c, aicc_loop_stage *s) {
  int64_t U = 1, w = s ? rfactor_width(s, &U) : 0, W = w * U, dims[AICC_MAX_LOOP_RANK];
  if (!W || !aicc_lower_dims(s->buf, dims)) return aicc_lower_emit(c, s);
  int n = s->n_axes, nr = s->n_raxes;
  const aicc_loop_expr *r = s->raxes[nr - 1].var;
  int64_t K = s->raxes[nr - 1].extent, K0 = K / W * W, T = K - K0, rext[AICC_MAX_LOOP_RANK];
  dims[n] = W;
  for (int i = 0; i < nr; i++) rext[i] = s->raxes[i].extent;
  rext[nr - 1] = K0 / W;
  const aicc_loop_buffer *P = aicc_lower_temp(c, s->buf->type, n + 1, dims);
  aicc_loop_stage *p = P ? aicc_lower_stage(c, P) : NULL;
  aicc_loop_stage *f = aicc_lower_stage(c, s->buf);
  int64_t fext = T ? T : 1;
  if (!p || !f || aicc_loop_stage_reduce(c->lc, p, s->reduce, nr, rext, "r") ||
      aicc_loop_stage_reduce(c->lc, f, s->reduce, 1, &fext, "r"))
    return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  /* The new stages reuse the stage's variables (same names), so body, init
   * and post carry over unchanged but for r; else keep the serial form. */
  bool same = !aicc_loop_expr_uses_var(s->body, p->axes[n].var);
  for (int d = 0; d < n; d++)
    same = same && p->axes[d].var == s->axes[d].var && f->axes[d].var == s->axes[d].var;
  for (int i = 0; i < nr; i++) same = same && p->raxes[i].var == s->raxes[i].var;
  if (!same) return aicc_lower_emit(c, s);

  const aicc_loop_expr *l = p->axes[n].var, *ko = p->raxes[nr - 1].var, *rr = f->raxes[0].var;
  p->body = aicc_loop_expr_substitute(
      c->lc, s->body, r, aicc_loop_add(c->lc, aicc_lower_mul_k(c, ko, W), l));
  p->op_class = AICC_LOOP_CLASS_REDUCTION;
  AICC_TRY(aicc_lower_emit(c, p));

  /* The lanes fold as a balanced tree (depth log2 W, not a chain of W);
   * with a tail it is the start value of the fold over the tail. */
  if (U > 1) {
    /* Q[a.., m] = reduce_{u < U} P[a.., u*w + m]: the chains to one line. */
    dims[n] = w;
    const aicc_loop_buffer *Q = aicc_lower_temp(c, s->buf->type, n + 1, dims);
    aicc_loop_stage *q = Q ? aicc_lower_stage(c, Q) : NULL;
    if (!q || aicc_loop_stage_reduce(c->lc, q, s->reduce, 1, &U, "r"))
      return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
    const aicc_loop_expr *qi[AICC_MAX_LOOP_RANK];
    aicc_lower_axis_index(q, qi);
    qi[n] = aicc_loop_add(c->lc, aicc_lower_mul_k(c, q->raxes[0].var, w), q->axes[n].var);
    q->body = aicc_loop_load(c->lc, P, qi);
    q->op_class = AICC_LOOP_CLASS_REDUCTION;
    AICC_TRY(aicc_lower_emit(c, q));
    P = Q;
  }
  const aicc_loop_expr *lanes = lanes_tree(c, s->reduce, f, P, 0, w);
  if (T) {
    f->init = s->init ? aicc_loop_reduce_combine(c->lc, s->reduce, s->init, lanes) : lanes;
    f->body = aicc_loop_expr_substitute(c->lc, s->body, r, aicc_lower_add_k(c, rr, K0));
  } else {
    f->init = s->init;
    f->body = lanes;
  }
  f->post = s->post;
  f->op_class = s->op_class;
  return aicc_lower_emit(c, f);
}
