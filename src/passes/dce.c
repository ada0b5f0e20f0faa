/* Dead code elimination: removes nodes none of whose outputs is used (by a
 * node, a subgraph or a graph output). Use counts are taken once for the
 * whole model (by value id) and decremented as nodes die, sweeping each
 * graph backwards so whole dead chains go in one run, subgraphs included.
 * Graph inputs stay (they are the model's interface); unused initializers
 * go at compaction. ONNX inference graphs have no side-effecting nodes. */
#include "passes/pass.h"

#include <stdlib.h>

static void count_uses(const aicc_graph *g, int32_t *uses) {
  for (size_t i = 0; i < g->nodes.len; i++) {
    const aicc_node *n = g->nodes.data[i];
    if (n->dead) continue;
    for (int k = 0; k < n->n_inputs; k++)
      if (n->inputs[k]) uses[n->inputs[k]->id]++;
    for (int a = 0; a < n->n_attrs; a++) {
      if (n->attrs[a].kind == AICC_ATTR_GRAPH) count_uses(n->attrs[a].g, uses);
      if (n->attrs[a].kind == AICC_ATTR_GRAPHS)
        for (int64_t j = 0; j < n->attrs[a].n; j++) count_uses(n->attrs[a].gs[j], uses);
    }
  }
  for (size_t o = 0; o < g->outputs.len; o++) uses[g->outputs.data[o]->id]++;
}

static int64_t sweep(aicc_graph *g, int32_t *uses);

/* Forgets the uses a dead node (and everything inside its subgraphs) made. */
static void drop_uses(aicc_node *n, int32_t *uses) {
  for (int k = 0; k < n->n_inputs; k++)
    if (n->inputs[k]) uses[n->inputs[k]->id]--;
  for (int a = 0; a < n->n_attrs; a++) {
    aicc_graph *subs[1];
    aicc_graph **gs = n->attrs[a].kind == AICC_ATTR_GRAPHS ? n->attrs[a].gs : subs;
    int64_t ng = n->attrs[a].kind == AICC_ATTR_GRAPHS ? n->attrs[a].n
                 : n->attrs[a].kind == AICC_ATTR_GRAPH ? 1 : 0;
    subs[0] = n->attrs[a].g;
    for (int64_t j = 0; j < ng; j++) {
      aicc_graph *sg = gs[j];
      for (size_t i = 0; i < sg->nodes.len; i++)
        if (!sg->nodes.data[i]->dead) drop_uses(sg->nodes.data[i], uses);
      for (size_t o = 0; o < sg->outputs.len; o++) uses[sg->outputs.data[o]->id]--;
    }
  }
}

static int64_t sweep(aicc_graph *g, int32_t *uses) {
  int64_t removed = 0;
  for (size_t i = g->nodes.len; i-- > 0;) {
    aicc_node *n = g->nodes.data[i];
    if (n->dead) continue;
    bool used = false;
    for (int k = 0; k < n->n_outputs && !used; k++) used = uses[n->outputs[k]->id] > 0;
    if (!used) {
      drop_uses(n, uses);
      aicc_graph_node_remove(g, n);
      removed++;
      continue;
    }
    for (int a = 0; a < n->n_attrs; a++) {
      if (n->attrs[a].kind == AICC_ATTR_GRAPH) removed += sweep(n->attrs[a].g, uses);
      if (n->attrs[a].kind == AICC_ATTR_GRAPHS)
        for (int64_t j = 0; j < n->attrs[a].n; j++) removed += sweep(n->attrs[a].gs[j], uses);
    }
  }
  return removed;
}

static aicc_status dce_run(aicc_model *m, aicc_pass_ctx *ctx) {
  int32_t *uses = calloc(m->n_values ? m->n_values : 1, sizeof *uses);
  if (!uses) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  count_uses(m->graph, uses);
  ctx->changes += sweep(m->graph, uses);
  free(uses);
  return NULL;
}

const aicc_pass aicc_pass_dce = {"dce", "remove nodes whose results are unused", dce_run};
