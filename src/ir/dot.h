/* Graphviz DOT and HTML views of a model's graph IR, for people: nodes,
 * edges labelled with value types, fusion groups (node->group) as clusters
 * and subgraph bodies as nested clusters. Output only; nothing parses it. */
#ifndef AICC_IR_DOT_H
#define AICC_IR_DOT_H

#include "ir/text.h"

#include <stdio.h>

typedef struct aicc_dot_options {
  bool show_inits; /* draw initializers as nodes (off: leave them out) */
} aicc_dot_options;

/* Writes m as a DOT digraph to f. opt may be NULL (defaults). Fails only on
 * an I/O or allocation error. */
AICC_MUST_USE aicc_status aicc_model_print_dot(const aicc_model *m, const aicc_dot_options *opt,
                                               FILE *f);
/* Writes a self-contained HTML page holding the DOT text and the IR text
 * (printed with `text`, which may be NULL). */
AICC_MUST_USE aicc_status aicc_model_print_html(const aicc_model *m, const aicc_dot_options *opt,
                                                const aicc_text_options *text, FILE *f);

#endif
