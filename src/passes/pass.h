/* The pass manager's contract. A pass is a name plus run(model, ctx); it
 * rewrites the graph IR in place (ir/graph.h rewriting API), reports how many
 * rewrites it made in ctx->changes (fixpoint groups iterate on it), and never
 * emits code. One pass per file: src/passes/<name>.c defines
 * `const aicc_pass aicc_pass_<name>` and is listed once in pass_manager.c. */
#ifndef AICC_PASSES_PASS_H
#define AICC_PASSES_PASS_H

#include "ir/graph.h"

#include <stdio.h>

/* Statistics of one pass run (printed by --stats, also as JSON). */
typedef struct aicc_pass_stats {
  const char *pass;
  int64_t nodes_before, nodes_after; /* main graph + subgraphs */
  int64_t changes;                   /* rewrites the pass reported */
  int64_t const_bytes_folded;        /* bytes of constants produced by folding */
  double ms;
  char notes[192];                   /* a pass's own one-line summary (memplan's sizes) */
} aicc_pass_stats;

typedef struct aicc_pass_ctx {
  int opt_level;        /* 0..3 of the pipeline that runs (informational) */
  bool verify;          /* run aicc_model_verify after every pass (tests, debug) */
  bool print_after_all; /* print the IR after every pass to `print_to` */
  const char *print_after; /* ... or only after passes of this name */
  FILE *print_to;       /* default stderr */
  int64_t fold_max_bytes; /* folding never makes a constant larger than this */
  /* Set by the running pass: */
  int64_t changes;
  int64_t const_bytes_folded;
  char notes[192]; /* copied into the pass's stats entry */
  /* Filled by the manager: */
  AICC_VEC(aicc_pass_stats) stats;
} aicc_pass_ctx;

typedef struct aicc_pass {
  const char *name;
  const char *summary; /* one line for `aicc opt --list-passes` */
  aicc_status (*run)(aicc_model *m, aicc_pass_ctx *ctx);
} aicc_pass;

void aicc_pass_ctx_init(aicc_pass_ctx *c);
void aicc_pass_ctx_fini(aicc_pass_ctx *c);

/* All passes, for listing; and lookup by name (NULL when unknown). */
const aicc_pass *const *aicc_passes(size_t *count);
const aicc_pass *aicc_pass_find(const char *name);

#endif
