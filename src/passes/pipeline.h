/* Pipelines of passes: parsed from `--passes=fold,[simplify,cse],dce` (a
 * bracketed group repeats to a fixpoint) or chosen by -O level, and run with
 * verification, printing and statistics (pass_manager.c). */
#ifndef AICC_PASSES_PIPELINE_H
#define AICC_PASSES_PIPELINE_H

#include "passes/pass.h"

enum { AICC_FIXPOINT_MAX = 16 };

typedef struct aicc_pipeline_step {
  const aicc_pass *pass;
  int group; /* 0: run once; otherwise steps with equal group repeat together */
} aicc_pipeline_step;

typedef struct aicc_pipeline {
  aicc_pipeline_step *steps;
  int n;
} aicc_pipeline;

/* Parses a pass list; unknown names and malformed lists are errors that say
 * where. An empty spec is the empty pipeline. */
AICC_MUST_USE aicc_status aicc_pipeline_parse(const char *spec, aicc_pipeline *out);
/* The pipeline of -O0..-O3 (levels name passes; ones not built are left out). */
AICC_MUST_USE aicc_status aicc_pipeline_for_level(int level, aicc_pipeline *out);
void aicc_pipeline_fini(aicc_pipeline *p);

/* Runs one pass (then compacts the graph, records stats, verifies and prints
 * as ctx asks). */
AICC_MUST_USE aicc_status aicc_pass_run(aicc_model *m, const aicc_pass *pass, aicc_pass_ctx *ctx);
AICC_MUST_USE aicc_status aicc_pipeline_run(aicc_model *m, const aicc_pipeline *p,
                                            aicc_pass_ctx *ctx);

/* Live nodes in the main graph and all subgraphs. */
int64_t aicc_model_node_count(const aicc_model *m);
/* Per-pass statistics as a table or as JSON. */
void aicc_pass_stats_print(const aicc_pass_ctx *ctx, FILE *f, bool json);

#endif
