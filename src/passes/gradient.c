/* Expands ONNX Gradient nodes (ai.onnx.preview.training): each becomes the
 * backward graph of its y with respect to its xs (src/autodiff/vjp.c),
 * whose results feed the node's outputs through Identity nodes, so every
 * engine runs plain ops. The expansion is a legalization: engines and the
 * CLI run it on every model that holds a Gradient node. y must hold one
 * element (vjp says so otherwise). */
#include "passes/pass.h"

#include "autodiff/autodiff.h"

#include <stdlib.h>
#include <string.h>

static aicc_status expand(aicc_model *m, aicc_node *n) {
  aicc_graph *g = m->graph;
  const aicc_attr *xs = aicc_node_attr(n, "xs");
  const char *y = aicc_node_attr_string(n, "y", NULL);
  char d[256];
  if (!xs || xs->kind != AICC_ATTR_STRINGS || !y)
    return aicc_errorf(AICC_ERR_INVALID, "%s: Gradient needs attributes xs and y",
                       aicc_node_describe(n, d, sizeof d));
  if (xs->n != n->n_outputs)
    return aicc_errorf(AICC_ERR_INVALID, "%s: Gradient has %d outputs for %lld xs",
                       aicc_node_describe(n, d, sizeof d), n->n_outputs, (long long)xs->n);
  const char **wrt = calloc((size_t)xs->n + 1, sizeof *wrt);
  if (!wrt) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  for (int64_t k = 0; k < xs->n; k++) wrt[k] = xs->ss[k].s;
  size_t n_out = g->outputs.len;
  aicc_vjp_spec spec = {y, false, wrt, (int)xs->n};
  aicc_status s = aicc_autodiff_vjp(m, &spec);
  free(wrt);
  if (s) return aicc_status_wrap(s, "%s", aicc_node_describe(n, d, sizeof d));
  /* vjp appended one output per x: route them to the node's outputs. */
  for (int k = 0; k < n->n_outputs && !s; k++) {
    aicc_value *gv = g->outputs.data[n_out + (size_t)k];
    aicc_node *id;
    if (n->outputs[k]) {
      aicc_value *o = n->outputs[k];
      o->producer = NULL;
      s = aicc_graph_node_add(g, n->name, "Identity", "", &gv, 1, &o, 1, &id);
    }
  }
  g->outputs.len = n_out;
  n->dead = true;
  return s;
}

static aicc_status gradient_run(aicc_model *m, aicc_pass_ctx *ctx) {
  aicc_graph *g = m->graph;
  for (size_t i = 0; i < g->nodes.len; i++) {
    aicc_node *n = g->nodes.data[i];
    if (n->dead || strcmp(n->op_type, "Gradient") != 0 ||
        strcmp(n->domain, "ai.onnx.preview.training") != 0)
      continue;
    AICC_TRY(expand(m, n));
    ctx->changes++;
  }
  if (ctx->changes) {
    aicc_graph_compact(g);
    AICC_TRY(aicc_graph_toposort(g));
  }
  return NULL;
}

const aicc_pass aicc_pass_gradient = {
    "gradient", "expand ONNX Gradient nodes into backward graphs (autodiff)", gradient_run};
