/* Internal to the "rewrite" pass (src/passes/rewrite*.c): the rule signature,
 * the pattern fusions defined in rewrite_fuse_patterns.c, and the small
 * matching/building helpers both files share. Not a public interface. */
#ifndef AICC_PASSES_REWRITE_RULES_H
#define AICC_PASSES_REWRITE_RULES_H

#include "passes/pass.h"

/* A rule looks at one live node (the root of its pattern) and either leaves
 * the graph alone (*fired stays false) or rewrites it: the root's outputs
 * keep their values (and so their types), re-defined by the replacement. */
typedef aicc_status (*aicc_rewrite_fn)(aicc_graph *g, aicc_node *root, bool *fired);

/* --- pattern fusions (rewrite_fuse_patterns.c) --- */
aicc_status aicc_rewrite_layernorm_core(aicc_graph *g, aicc_node *root, bool *fired);
aicc_status aicc_rewrite_layernorm_scale(aicc_graph *g, aicc_node *root, bool *fired);
aicc_status aicc_rewrite_layernorm_bias(aicc_graph *g, aicc_node *root, bool *fired);
aicc_status aicc_rewrite_gelu_erf(aicc_graph *g, aicc_node *root, bool *fired);
aicc_status aicc_rewrite_gelu_tanh(aicc_graph *g, aicc_node *root, bool *fired);
aicc_status aicc_rewrite_attention(aicc_graph *g, aicc_node *root, bool *fired);

/* --- helpers (rewrite.c) --- */
/* The constant value of v: an initializer that is not also a graph input
 * (those can be overridden at run time), or the output of a live Constant
 * node. NULL otherwise. */
const aicc_tensor *aicc_rewrite_const(const aicc_value *v);
/* The scalar value of a constant with exactly one element of a float or
 * integer dtype; false when v is not such a constant. */
bool aicc_rewrite_const_scalar(const aicc_value *v, double *out);
/* The live default-domain producer of v when its op is op_type, else NULL. */
aicc_node *aicc_rewrite_producer(const aicc_value *v, const char *op_type);
/* Uses of v (nodes, subgraphs, graph outputs) in the graph defining it. */
int aicc_rewrite_uses(const aicc_value *v);
/* True for the float dtypes the fused ops accept (f16, bf16, f32, f64). */
bool aicc_rewrite_is_float(aicc_dtype dt);
/* New initializer in g holding t (takes the reference). */
AICC_MUST_USE aicc_status aicc_rewrite_const_new(aicc_graph *g, aicc_tensor *t,
                                                 aicc_value **out);
/* New 1-D constant of n elements of dtype dt, all equal to x. */
AICC_MUST_USE aicc_status aicc_rewrite_const_fill(aicc_graph *g, aicc_dtype dt, int64_t n,
                                                  double x, aicc_value **out);
/* New value of g with type t (a fresh name). */
AICC_MUST_USE aicc_status aicc_rewrite_value_new(aicc_graph *g, const aicc_type *t,
                                                 aicc_value **out);
/* Appends a default-domain node defining `out` (an existing value of g with
 * no producer, e.g. the output of a removed root). */
AICC_MUST_USE aicc_status aicc_rewrite_emit(aicc_graph *g, const char *name, const char *op,
                                            aicc_value *const *in, int n_in, aicc_value *out,
                                            aicc_node **node);
/* Removes the listed nodes (in order) whose outputs are no longer used, so
 * use counts are right for the next match. */
void aicc_rewrite_drop_unused(aicc_graph *g, aicc_node *const *nodes, int n);

#endif
