/* Gradient rules of MatMul (1-D, 2-D and batched with broadcasting) and
 * Gemm (transA/transB/alpha/beta). Written with MatMul/Gemm/Transpose so the
 * backward pass reuses the forward kernels. Defines no op family. */
#include "ops/grad_util.h"

#define X(i) (c->node->inputs[i])
#define TRY AICC_TRY

/* Y = A @ B. 1-D operands are promoted as numpy does (A [K] -> [1,K],
 * B [K] -> [K,1]) and dy gets the dropped dims back, so dA = dy @ B^T and
 * dB = A^T @ dy hold in every case; batch broadcasting is summed away by
 * the unbroadcast to each operand's shape. */
aicc_status aicc_grad_MatMul(aicc_grad_ctx *c) {
  aicc_value *a = X(0), *b = X(1), *g = c->dy[0];
  int ra = a->type.rank, rb = b->type.rank;
  if (ra < 1 || rb < 1 || g->type.rank < 0)
    return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "MatMul gradient needs known ranks");
  aicc_value *a1 = a, *b1 = b;
  if (ra == 1) {
    int64_t ax = 0;
    TRY(aicc_grad_unsqueeze(c, a, &ax, 1, &a1));
  }
  if (rb == 1) {
    int64_t ax = 1;
    TRY(aicc_grad_unsqueeze(c, b, &ax, 1, &b1));
    ax = g->type.rank;
    TRY(aicc_grad_unsqueeze(c, g, &ax, 1, &g));
  }
  if (ra == 1) {
    int64_t ax = g->type.rank - 1;
    TRY(aicc_grad_unsqueeze(c, g, &ax, 1, &g));
  }
  if (c->need[0]) {
    aicc_value *bt, *p;
    TRY(aicc_grad_transpose_last2(c, b1, &bt));
    TRY(aicc_grad_binary(c, "MatMul", g, bt, &p));
    TRY(aicc_grad_unbroadcast(c, p, a, &c->dx[0]));
  }
  if (c->need[1]) {
    aicc_value *at, *p, *r;
    TRY(aicc_grad_transpose_last2(c, a1, &at));
    TRY(aicc_grad_binary(c, "MatMul", at, g, &p));
    TRY(aicc_grad_unbroadcast(c, p, b1, &r));
    TRY(aicc_grad_reshape_like(c, r, b, &c->dx[1]));
  }
  return NULL;
}

/* Y = alpha * op(A) @ op(B) + beta * C, with op(M) = M or M^T:
 *   dA = alpha * dy @ op(B)^T        (transA 0)   alpha * op(B) @ dy^T (transA 1)
 *   dB = alpha * op(A)^T @ dy        (transB 0)   alpha * dy^T @ op(A) (transB 1)
 *   dC = unbroadcast(beta * dy)
 * each expressed as one Gemm with the right transpose flags. */
aicc_status aicc_grad_Gemm(aicc_grad_ctx *c) {
  int64_t ta = aicc_node_attr_int(c->node, "transA", 0) != 0;
  int64_t tb = aicc_node_attr_int(c->node, "transB", 0) != 0;
  float alpha = aicc_node_attr_float(c->node, "alpha", 1.0f);
  float beta = aicc_node_attr_float(c->node, "beta", 1.0f);
  aicc_value *g = c->dy[0];
  if (aicc_model_opset(c->graph->model, "") < 11)
    return aicc_grad_error(c, AICC_ERR_UNSUPPORTED, "Gemm gradient needs opset >= 11 (optional C)");
  if (c->need[0]) {
    aicc_value *in[2];
    aicc_grad_attr at[4] = {AICC_GA_FLOAT("alpha", alpha)};
    if (!ta) {
      in[0] = g, in[1] = X(1);
      at[1] = (aicc_grad_attr)AICC_GA_INT("transB", !tb);
    } else {
      in[0] = X(1), in[1] = g;
      at[1] = (aicc_grad_attr)AICC_GA_INT("transA", tb);
      at[2] = (aicc_grad_attr)AICC_GA_INT("transB", 1);
    }
    TRY(aicc_grad_emit(c, "Gemm", in, 2, at, &c->dx[0], 1));
  }
  if (c->need[1]) {
    aicc_value *in[2];
    aicc_grad_attr at[4] = {AICC_GA_FLOAT("alpha", alpha)};
    if (!tb) {
      in[0] = X(0), in[1] = g;
      at[1] = (aicc_grad_attr)AICC_GA_INT("transA", !ta);
    } else {
      in[0] = g, in[1] = X(0);
      at[1] = (aicc_grad_attr)AICC_GA_INT("transA", 1);
      at[2] = (aicc_grad_attr)AICC_GA_INT("transB", ta);
    }
    TRY(aicc_grad_emit(c, "Gemm", in, 2, at, &c->dx[1], 1));
  }
  if (c->node->n_inputs > 2 && X(2) && c->need[2]) {
    aicc_value *s = g;
    if (beta != 1.0f) {
      aicc_value *k;
      TRY(aicc_grad_scalar(c, g->type.dtype, beta, &k));
      TRY(aicc_grad_binary(c, "Mul", g, k, &s));
    }
    TRY(aicc_grad_unbroadcast(c, s, X(2), &c->dx[2]));
  }
  return NULL;
}
