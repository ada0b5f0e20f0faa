/* The reference interpreter: runs a graph node by node with the registry's
 * kernels. It is the oracle for every later engine: correctness first. */
#ifndef AICC_INTERP_INTERP_H
#define AICC_INTERP_INTERP_H

#include "ops/registry.h"

/* Runs m's main graph. inputs: one per graph input (in order; initializers
 * that are also listed as inputs may be overridden or, when NULL, default to
 * their initializer). Symbolic dims bind to the given inputs' sizes; a
 * mismatch with a declared dim or dtype is an error naming the input.
 * On success outputs[i] holds a new reference for each graph output. */
AICC_MUST_USE aicc_status aicc_interp_run(const aicc_model *m,
                                          aicc_tensor *const *inputs, int n_inputs,
                                          aicc_tensor **outputs, int n_outputs);

/* For control-flow kernels: runs subgraph g inside the current run (outer
 * values visible), binding g's inputs to `inputs`; outputs get new refs. */
AICC_MUST_USE aicc_status aicc_interp_run_subgraph(aicc_interp *ip,
                                                   const aicc_graph *g,
                                                   aicc_tensor *const *inputs,
                                                   int n_inputs,
                                                   aicc_tensor **outputs,
                                                   int n_outputs);

/* Evaluates one node of m on the given input values (one per node input,
 * NULL for omitted ones) and returns new references in outputs (one per node
 * output). For constant folding. Subgraphs may only use their own values
 * and the node's inputs' producers are not consulted. */
AICC_MUST_USE aicc_status aicc_interp_eval_node(const aicc_model *m, const aicc_node *n,
                                                aicc_tensor *const *inputs,
                                                aicc_tensor **outputs);

#endif
