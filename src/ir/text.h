/* Text form of the graph IR: printer and parser. The text round-trips
 * exactly: print(parse(text)) == text for printed text, and a parsed model
 * prints identically to the model it came from. The grammar is written out
 * at the top of src/ir/parse.c; a short example:
 *
 *   aicc.model ir_version=8 opsets={"":17}
 *   graph main(%x: f32[N,3], %w: f32[3,4]) {
 *     init %w = dense<f32[3,4]> hex"0000803f..."
 *     %y = MatMul(%x, %w) : f32[N,4]
 *     %a, %b = Split(%y) {axis=1, num_outputs=2} : f32[N,2], f32[N,2] name="s"
 *     %c = Clip(%a, _, %b) : f32[N,2]
 *     return %c
 *   }
 *
 * Also declares the helpers that verify.c and infer.c share (constant input
 * values and type merging); those are internal to src/ir. */
#ifndef AICC_IR_TEXT_H
#define AICC_IR_TEXT_H

#include "ir/graph.h"

#include <stdio.h>

typedef struct aicc_text_options {
  /* 0: print all tensor data. Otherwise tensors whose data is larger than
   * this many bytes print as `dense<f32[64,3,7,7]> elided` (the parser reads
   * that back as zeros, so such text does not round-trip exactly). */
  size_t elide_bytes;
} aicc_text_options;

/* Prints m (its header and main graph). opt may be NULL (print everything).
 * Fails only on an I/O or allocation error. */
AICC_MUST_USE aicc_status aicc_model_print(const aicc_model *m,
                                           const aicc_text_options *opt, FILE *f);
/* Same into a new malloc'ed, NUL-terminated string (*len excludes the NUL);
 * the caller frees *out. */
AICC_MUST_USE aicc_status aicc_model_print_string(const aicc_model *m,
                                                  const aicc_text_options *opt,
                                                  char **out, size_t *len);
/* Prints one graph (and its subgraphs), as it appears in a model. */
AICC_MUST_USE aicc_status aicc_graph_print(const aicc_graph *g,
                                           const aicc_text_options *opt, FILE *f);
/* One node as a line of text (no newline; subgraphs included), into a new
 * malloc'ed string that the caller frees. For messages and debugging. */
AICC_MUST_USE aicc_status aicc_node_print_string(const aicc_node *n,
                                                 const aicc_text_options *opt,
                                                 char **out);

/* Formats a type as the text IR writes it ("f32[N,3,224,224]", "f32[*]",
 * "seq<i64[?]>", "opt<f32[2]>", "?" for unknown). Always NUL-terminates
 * (truncating with "..." when n is too small). Returns buf. */
const char *aicc_text_type_print(const aicc_type *t, char *buf, size_t n);

/* Parses the text form. `source` names the text in messages
 * ("model.ir:12:7: expected ')' after input list") and becomes m->path.
 * text need not be NUL-terminated; any byte sequence is handled without a
 * crash. The model is returned unverified (see aicc_model_verify). */
AICC_MUST_USE aicc_status aicc_model_parse(const char *text, size_t len,
                                           const char *source, aicc_model **out);

/* ---- shared by verify.c and infer.c (internal to src/ir) ---- */

/* Constant values of graph values, for inference: initializers, and the
 * outputs of Constant nodes (value, value_float(s), value_int(s),
 * value_string(s)). Tensors built from scalar attributes are cached here and
 * released at fini. */
typedef struct aicc_ir_consts {
  const aicc_model *m;
  aicc_tensor **made; /* indexed by value id; tensors this table created */
  uint32_t n;
} aicc_ir_consts;

void aicc_ir_consts_init(aicc_ir_consts *c, const aicc_model *m);
void aicc_ir_consts_fini(aicc_ir_consts *c);
/* The constant value of v, or NULL when it is not known to be constant. */
const aicc_tensor *aicc_ir_const_of(aicc_ir_consts *c, const aicc_value *v);

/* Runs n's inference (n->op->infer; no-op when NULL) with inputs typed from
 * the values and constant inputs from `consts`. out has n->n_outputs entries
 * and is cleared to kind NONE first. */
AICC_MUST_USE aicc_status aicc_ir_node_infer(const aicc_node *n, aicc_ir_consts *consts,
                                             aicc_type *out);

/* Merges a declared type with an inferred one into *out: whatever either
 * knows (a known dim beats a symbol, a symbol beats unknown; the declared
 * symbol stays when both are symbols). Returns false (with a reason in *why)
 * when the two contradict: different kinds, dtypes, ranks or known dims. */
bool aicc_ir_type_merge(const aicc_type *declared, const aicc_type *inferred,
                        aicc_type *out, const char **why);

#endif
