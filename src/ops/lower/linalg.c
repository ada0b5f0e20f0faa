/* Compute definitions of the linear-algebra ops: MatMul (numpy batching and
 * 1-D promotion), Gemm (transposes, alpha, beta, broadcast C), MatMulInteger
 * and QLinearMatMul. Each product is one SUM reduction over K marked GEMM;
 * the reference kernels are in ops/linalg.c and ops/quant.c. */
#include "ops/lower.h"

static aicc_status oom(void) { return aicc_errorf(AICC_ERR_NOMEM, "out of memory"); }

static bool is_8bit(aicc_dtype t) { return t == AICC_DTYPE_I8 || t == AICC_DTYPE_U8; }

/* ---- numpy matmul indexing ---- */

/* The geometry of a numpy matmul of A and B as seen from its output:
 * output axes [batch..., i (A rank >= 2), j (B rank >= 2)]. */
typedef struct mm_geom {
  int ra, rb, nbatch, rank;
  int64_t M, N, K;
} mm_geom;

static aicc_status mm_geom_make(const aicc_lower_ctx *c, const aicc_loop_buffer *A,
                                const aicc_loop_buffer *B, const aicc_loop_buffer *Y,
                                mm_geom *g) {
  g->ra = A->rank;
  g->rb = B->rank;
  if (g->ra < 1 || g->rb < 1) return aicc_lower_unsupported(c, "operand of rank 0");
  g->K = aicc_lower_dim(A, g->ra - 1);
  g->M = g->ra >= 2 ? aicc_lower_dim(A, g->ra - 2) : 1;
  g->N = g->rb >= 2 ? aicc_lower_dim(B, g->rb - 1) : 1;
  int64_t kb = aicc_lower_dim(B, g->rb >= 2 ? g->rb - 2 : 0);
  if (g->K < 0 || kb != g->K) return aicc_lower_unsupported(c, "inner dims differ");
  int na = g->ra > 2 ? g->ra - 2 : 0, nb = g->rb > 2 ? g->rb - 2 : 0;
  g->nbatch = na > nb ? na : nb;
  g->rank = g->nbatch + (g->ra >= 2) + (g->rb >= 2);
  if (!Y || Y->rank != g->rank) return aicc_lower_unsupported(c, "unexpected output rank");
  /* Batch dims must broadcast to the output's. */
  for (int d = 0; d < g->nbatch; d++) {
    int64_t yd = aicc_lower_dim(Y, d);
    int da = d - (g->nbatch - na), db = d - (g->nbatch - nb);
    int64_t xa = da >= 0 ? aicc_lower_dim(A, da) : 1, xb = db >= 0 ? aicc_lower_dim(B, db) : 1;
    if ((xa != 1 && xa != yd) || (xb != 1 && xb != yd))
      return aicc_lower_unsupported(c, "batch dims do not broadcast");
  }
  return NULL;
}

/* Load indices of A and B at output index ax and reduction index k. */
static void mm_index(aicc_lower_ctx *c, const mm_geom *g, const aicc_loop_buffer *A,
                     const aicc_loop_buffer *B, const aicc_loop_expr *const *ax,
                     const aicc_loop_expr *k, const aicc_loop_expr **ia,
                     const aicc_loop_expr **ib) {
  const aicc_loop_expr *zero = aicc_lower_i32(c, 0);
  int na = g->ra > 2 ? g->ra - 2 : 0, nb = g->rb > 2 ? g->rb - 2 : 0;
  for (int d = 0; d < na; d++)
    ia[d] = aicc_lower_dim(A, d) == 1 ? zero : ax[g->nbatch - na + d];
  for (int d = 0; d < nb; d++)
    ib[d] = aicc_lower_dim(B, d) == 1 ? zero : ax[g->nbatch - nb + d];
  if (g->ra >= 2) {
    ia[na] = ax[g->nbatch];
    ia[na + 1] = k;
  } else {
    ia[0] = k;
  }
  if (g->rb >= 2) {
    ib[nb] = k;
    ib[nb + 1] = ax[g->rank - 1];
  } else {
    ib[0] = k;
  }
}

/* ---- MatMul ---- */

static aicc_status lower_matmul(aicc_lower_ctx *c) {
  const aicc_loop_buffer *A = c->in[0], *B = c->in[1], *Y = c->out[0];
  if (!Y) return NULL;
  if (A->type != B->type || !aicc_lower_dtype_ok(A->type) || A->type == AICC_DTYPE_BOOL)
    return aicc_lower_unsupported(c, "MatMul of %s and %s", aicc_dtype_text(A->type),
                                  aicc_dtype_text(B->type));
  mm_geom g;
  AICC_TRY(mm_geom_make(c, A, B, Y, &g));
  aicc_loop_stage *s = aicc_lower_stage(c, Y);
  if (!s) return oom();
  AICC_TRY(aicc_loop_stage_reduce(c->lc, s, AICC_LOOP_REDUCE_SUM, 1, &g.K, "k"));
  const aicc_loop_expr *ax[AICC_MAX_LOOP_RANK], *ia[AICC_MAX_LOOP_RANK], *ib[AICC_MAX_LOOP_RANK];
  aicc_lower_axis_index(s, ax);
  mm_index(c, &g, A, B, ax, s->raxes[0].var, ia, ib);
  s->body = aicc_loop_mul(c->lc, aicc_loop_load(c->lc, A, ia), aicc_loop_load(c->lc, B, ib));
  s->op_class = AICC_LOOP_CLASS_GEMM;
  return aicc_lower_emit(c, s);
}

/* ---- MatMulInteger / QLinearMatMul: (a - za) * (b - zb) summed in i32 ---- */

/* Defines acc (an i32 buffer shaped like the output) from A (input ai) with
 * zero point input ai+za_off and B (input bi) with zero point bi+zb_off. */
static aicc_status int_matmul_stage(aicc_lower_ctx *c, int ai, int azi, int bi, int bzi,
                                    const aicc_loop_buffer *acc) {
  const aicc_loop_buffer *A = c->in[ai], *B = c->in[bi];
  if (!is_8bit(A->type) || !is_8bit(B->type))
    return aicc_lower_unsupported(c, "operands %s and %s", aicc_dtype_text(A->type),
                                  aicc_dtype_text(B->type));
  mm_geom g;
  AICC_TRY(mm_geom_make(c, A, B, acc, &g));
  aicc_loop_stage *s = aicc_lower_stage(c, acc);
  if (!s) return oom();
  AICC_TRY(aicc_loop_stage_reduce(c->lc, s, AICC_LOOP_REDUCE_SUM, 1, &g.K, "k"));
  const aicc_loop_expr *ax[AICC_MAX_LOOP_RANK], *ia[AICC_MAX_LOOP_RANK], *ib[AICC_MAX_LOOP_RANK];
  aicc_lower_axis_index(s, ax);
  mm_index(c, &g, A, B, ax, s->raxes[0].var, ia, ib);
  const aicc_loop_expr *za, *zb;
  AICC_TRY(aicc_lower_load_per(c, azi, g.M, g.ra >= 2 ? ax[g.nbatch] : NULL, &za));
  AICC_TRY(aicc_lower_load_per(c, bzi, g.N, g.rb >= 2 ? ax[g.rank - 1] : NULL, &zb));
  aicc_loop_ctx *lc = c->lc;
  const aicc_loop_expr *a = aicc_loop_cast(lc, AICC_DTYPE_I32, aicc_loop_load(lc, A, ia));
  const aicc_loop_expr *b = aicc_loop_cast(lc, AICC_DTYPE_I32, aicc_loop_load(lc, B, ib));
  if (za) a = aicc_loop_sub(lc, a, aicc_loop_cast(lc, AICC_DTYPE_I32, za));
  if (zb) b = aicc_loop_sub(lc, b, aicc_loop_cast(lc, AICC_DTYPE_I32, zb));
  s->body = aicc_loop_mul(lc, a, b);
  s->op_class = AICC_LOOP_CLASS_GEMM;
  return aicc_lower_emit(c, s);
}

static aicc_status lower_matmul_integer(aicc_lower_ctx *c) {
  if (!c->out[0]) return NULL;
  if (c->out[0]->type != AICC_DTYPE_I32) return aicc_lower_unsupported(c, "output is not int32");
  for (int i = 2; i < c->n_in && i < 4; i++)
    if (c->in[i] && !is_8bit(c->in[i]->type))
      return aicc_lower_unsupported(c, "zero point of %s", aicc_dtype_text(c->in[i]->type));
  return int_matmul_stage(c, 0, 2, 1, 3, c->out[0]);
}

/* QLinearMatMul (a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp): the
 * int32 product, then y = saturate(round(acc * (sa*sb/sy)) + zy), the
 * multiplier computed in the scales' precision as the reference does. */
static aicc_status lower_qlinear_matmul(aicc_lower_ctx *c) {
  const aicc_loop_buffer *Y = c->out[0];
  if (!Y) return NULL;
  if (c->n_in < 8 || !c->in[1] || !c->in[4] || !c->in[6])
    return aicc_lower_unsupported(c, "missing scale");
  aicc_dtype st = c->in[1]->type;
  if ((st != AICC_DTYPE_F32 && st != AICC_DTYPE_F64) || c->in[4]->type != st ||
      c->in[6]->type != st)
    return aicc_lower_unsupported(c, "scales must all be f32 or all f64");
  if (!is_8bit(Y->type)) return aicc_lower_unsupported(c, "output %s", aicc_dtype_text(Y->type));
  for (int i = 2; i < 8; i += 3)
    if (c->in[i] && !is_8bit(c->in[i]->type))
      return aicc_lower_unsupported(c, "zero point of %s", aicc_dtype_text(c->in[i]->type));
  int64_t dims[AICC_MAX_LOOP_RANK];
  if (Y->rank > AICC_MAX_LOOP_RANK || !aicc_lower_dims(Y, dims))
    return aicc_lower_unsupported(c, "output has no static shape");
  const aicc_loop_buffer *acc = aicc_lower_temp(c, AICC_DTYPE_I32, Y->rank, dims);
  if (!acc) return oom();
  AICC_TRY(int_matmul_stage(c, 0, 2, 3, 5, acc));
  mm_geom g;
  AICC_TRY(mm_geom_make(c, c->in[0], c->in[3], Y, &g));
  aicc_loop_ctx *lc = c->lc;
  aicc_loop_stage *s = aicc_lower_stage(c, Y);
  if (!s) return oom();
  const aicc_loop_expr *ax[AICC_MAX_LOOP_RANK];
  aicc_lower_axis_index(s, ax);
  const aicc_loop_expr *sa, *sb, *sy, *zy;
  AICC_TRY(aicc_lower_load_per(c, 1, g.M, g.ra >= 2 ? ax[g.nbatch] : NULL, &sa));
  AICC_TRY(aicc_lower_load_per(c, 4, g.N, g.rb >= 2 ? ax[g.rank - 1] : NULL, &sb));
  AICC_TRY(aicc_lower_load_per(c, 6, 1, NULL, &sy));
  AICC_TRY(aicc_lower_load_per(c, 7, 1, NULL, &zy));
  const aicc_loop_expr *mult = aicc_loop_div(lc, aicc_loop_mul(lc, sa, sb), sy);
  if (st != AICC_DTYPE_F64) mult = aicc_loop_cast(lc, AICC_DTYPE_F64, mult);
  const aicc_loop_expr *v =
      aicc_loop_mul(lc, aicc_loop_cast(lc, AICC_DTYPE_F64, aicc_loop_load(lc, acc, ax)), mult);
  if (zy) v = aicc_loop_add(lc, v, aicc_loop_cast(lc, AICC_DTYPE_F64, zy));
  const aicc_loop_expr *args[1] = {v};
  v = aicc_loop_call(lc, "round", 1, args);
  double lo = Y->type == AICC_DTYPE_I8 ? -128 : 0, hi = Y->type == AICC_DTYPE_I8 ? 127 : 255;
  v = aicc_loop_max(lc, aicc_loop_min(lc, v, aicc_loop_float(lc, AICC_DTYPE_F64, hi)),
                    aicc_loop_float(lc, AICC_DTYPE_F64, lo));
  s->body = aicc_loop_cast(lc, Y->type, v);
  s->inlinable = true;
  return aicc_lower_emit(c, s);
}

/* ---- Gemm ---- */

/* Y = alpha * op(A) op(B) + beta * C, C broadcast to [M, N]. Integer Gemm
 * applies alpha and beta as truncated integers, as the reference does. */
static aicc_status lower_gemm(aicc_lower_ctx *c) {
  const aicc_loop_buffer *A = c->in[0], *B = c->in[1], *Y = c->out[0];
  const aicc_loop_buffer *C = c->n_in > 2 ? c->in[2] : NULL;
  if (!Y) return NULL;
  aicc_dtype t = A->type;
  if (B->type != t || (C && C->type != t) || Y->type != t || !aicc_lower_dtype_ok(t) ||
      t == AICC_DTYPE_BOOL)
    return aicc_lower_unsupported(c, "Gemm of %s and %s", aicc_dtype_text(A->type),
                                  aicc_dtype_text(B->type));
  if (A->rank != 2 || B->rank != 2 || Y->rank != 2)
    return aicc_lower_unsupported(c, "Gemm needs 2-D operands");
  bool ta = aicc_node_attr_int(c->node, "transA", 0) != 0;
  bool tb = aicc_node_attr_int(c->node, "transB", 0) != 0;
  double alpha = aicc_node_attr_float(c->node, "alpha", 1.0f);
  double beta = aicc_node_attr_float(c->node, "beta", 1.0f);
  int64_t K = aicc_lower_dim(A, ta ? 0 : 1);
  if (K < 0 || aicc_lower_dim(B, tb ? 1 : 0) != K)
    return aicc_lower_unsupported(c, "inner dims differ");
  if (C && C->rank > 2) return aicc_lower_unsupported(c, "C has rank %d", C->rank);
  for (int d = 0; C && d < C->rank; d++) {
    int64_t cd = aicc_lower_dim(C, d), want = aicc_lower_dim(Y, d + 2 - C->rank);
    if (cd != 1 && cd != want) return aicc_lower_unsupported(c, "C does not broadcast");
  }
  aicc_loop_ctx *lc = c->lc;
  aicc_loop_stage *s = aicc_lower_stage(c, Y);
  if (!s) return oom();
  AICC_TRY(aicc_loop_stage_reduce(lc, s, AICC_LOOP_REDUCE_SUM, 1, &K, "k"));
  const aicc_loop_expr *i = s->axes[0].var, *j = s->axes[1].var, *k = s->raxes[0].var;
  const aicc_loop_expr *ia[2] = {ta ? k : i, ta ? i : k}, *ib[2] = {tb ? j : k, tb ? k : j};
  s->body = aicc_loop_mul(lc, aicc_loop_load(lc, A, ia), aicc_loop_load(lc, B, ib));
  bool is_int = aicc_loop_type_is_int(t);
  if (is_int) {
    alpha = (double)(int64_t)alpha;
    beta = (double)(int64_t)beta;
  }
  bool use_c = C && beta != 0.0;
  if (alpha != 1.0 || use_c) {
    const aicc_loop_expr *ax[2] = {i, j};
    const aicc_loop_expr *v = aicc_loop_load(lc, Y, ax);
    if (alpha != 1.0) v = aicc_loop_mul(lc, aicc_lower_const(c, t, alpha), v);
    if (use_c) {
      const aicc_loop_expr *cv = aicc_lower_load_bcast(c, C, 2, ax);
      if (beta != 1.0) cv = aicc_loop_mul(lc, aicc_lower_const(c, t, beta), cv);
      v = aicc_loop_add(lc, v, cv);
    }
    s->post = v;
    if (!v) return oom();
  }
  s->op_class = AICC_LOOP_CLASS_GEMM;
  return aicc_lower_emit(c, s);
}

static const aicc_lower_row rows[] = {
    {"", "MatMul", lower_matmul},
    {"", "MatMulInteger", lower_matmul_integer},
    {"", "QLinearMatMul", lower_qlinear_matmul},
    {"", "Gemm", lower_gemm},
};

const aicc_lower_table aicc_lower_linalg = {"linalg", rows, sizeof rows / sizeof rows[0]};
