/* The activation lists of the recurrent ops (RNN, GRU, LSTM): one reader
 * for the reference kernel (ops/rnn.c) and the compiled engine's unrolling
 * (passes/rnn_unroll.c), so both see the same functions and parameters. */
#ifndef AICC_OPS_RNN_ACT_H
#define AICC_OPS_RNN_ACT_H

#include "ir/graph.h"

/* The cell kinds, in the order of their activation defaults. */
typedef enum aicc_rnn_cell { AICC_RNN_SIMPLE, AICC_RNN_GRU, AICC_RNN_LSTM } aicc_rnn_cell;

typedef enum aicc_rnn_act_fn {
  AICC_ACT_RELU, AICC_ACT_TANH, AICC_ACT_SIGMOID, AICC_ACT_AFFINE, AICC_ACT_LEAKY_RELU,
  AICC_ACT_THRESHOLDED_RELU, AICC_ACT_SCALED_TANH, AICC_ACT_HARD_SIGMOID, AICC_ACT_ELU,
  AICC_ACT_SOFTSIGN, AICC_ACT_SOFTPLUS,
} aicc_rnn_act_fn;

typedef struct aicc_rnn_act {
  aicc_rnn_act_fn fn;
  float alpha, beta;
} aicc_rnn_act;

/* Activations per direction: 1 (RNN), 2 (GRU), 3 (LSTM). */
static inline int aicc_rnn_nact(aicc_rnn_cell k) {
  return k == AICC_RNN_SIMPLE ? 1 : k == AICC_RNN_GRU ? 2 : 3;
}

/* Reads node n's activations for ndir directions into out[nact * ndir]
 * (names case-insensitive, defaults per cell kind). The alpha/beta lists
 * are consumed in order by the functions that take them (as onnxruntime
 * does); missing entries use the function's default. INVALID for a list
 * of the wrong length, UNSUPPORTED for an unknown name. */
AICC_MUST_USE aicc_status aicc_rnn_read_acts(const aicc_node *n, aicc_rnn_cell kind, int ndir,
                                             aicc_rnn_act *out);

#endif
