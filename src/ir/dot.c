/* DOT (Graphviz) and HTML printers of the graph IR. Node ids are stable:
 * "n<node id>" for nodes, "v<value id>" for graph inputs and initializers,
 * "r" for the main graph's return and "r<node id>_<attr>_<k>" for a body's.
 * Fusion groups are clusters `cluster_<group>`; a subgraph body is
 * `cluster_sg<node id>_<attr>_<k>`. */
#include "ir/dot.h"

#include <stdlib.h>
#include <string.h>

/* A DOT string body: quotes and backslashes escaped, line breaks as \n,
 * other control bytes dropped. */
static void dot_escaped(FILE *f, const char *s) {
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      fputc('\\', f);
      fputc(c, f);
    } else if (c == '\n') {
      fputs("\\n", f);
    } else if (c >= 0x20) {
      fputc(c, f);
    }
  }
}

/* The DOT node a value comes from, or false when it is not drawn (an
 * initializer with show_inits off, a value of no graph). */
static bool value_source(const aicc_value *v, const aicc_dot_options *o, char *buf, size_t n) {
  if (v->producer) {
    snprintf(buf, n, "n%u", v->producer->id);
    return true;
  }
  if (v->init) {
    bool is_input = false;
    for (size_t i = 0; v->graph && i < v->graph->inputs.len; i++)
      if (v->graph->inputs.data[i] == v) is_input = true;
    if (!is_input && !o->show_inits) return false;
  }
  snprintf(buf, n, "v%u", v->id);
  return true;
}

static void dot_edge(FILE *f, int ind, const aicc_value *v, const char *to,
                     const aicc_dot_options *o) {
  char from[32], ty[128];
  if (!v || !value_source(v, o, from, sizeof from)) return;
  aicc_text_type_print(&v->type, ty, sizeof ty);
  fprintf(f, "%*s%s -> %s [label=\"", ind, "", from, to);
  dot_escaped(f, ty);
  fputs("\"];\n", f);
}

static void dot_node_decl(FILE *f, int ind, const aicc_node *n) {
  fprintf(f, "%*sn%u [label=\"", ind, "", n->id);
  if (n->domain && *n->domain) {
    dot_escaped(f, n->domain);
    fputs("::", f);
  }
  dot_escaped(f, n->op_type);
  if (n->name && *n->name) {
    fputs("\\n", f);
    dot_escaped(f, n->name);
  }
  fputs("\"", f);
  if (n->group) fputs(", style=filled, fillcolor=\"#fdf1d6\"", f);
  fputs("];\n", f);
}

typedef struct dot_ctx {
  FILE *f;
  const aicc_dot_options *o;
} dot_ctx;

static void dot_value_decl(dot_ctx *c, int ind, const aicc_value *v, const char *color) {
  char ty[128];
  aicc_text_type_print(&v->type, ty, sizeof ty);
  fprintf(c->f, "%*sv%u [shape=ellipse, style=filled, fillcolor=\"%s\", label=\"%%", ind, "",
          v->id, color);
  dot_escaped(c->f, v->name);
  fputs("\\n", c->f);
  dot_escaped(c->f, ty);
  fputs("\"];\n", c->f);
}

/* Calls fn on every subgraph of n with a key naming it in the output. */
#define FOR_SUBGRAPHS(n, a, j, sg)                                                  \
  for (int a = 0; a < (n)->n_attrs; a++)                                            \
    for (int64_t j = 0,                                                             \
                 j##_n = (n)->attrs[a].kind == AICC_ATTR_GRAPH    ? 1               \
                         : (n)->attrs[a].kind == AICC_ATTR_GRAPHS ? (n)->attrs[a].n \
                                                                  : 0;              \
         j < j##_n; j++)                                                            \
      for (const aicc_graph *sg = (n)->attrs[a].kind == AICC_ATTR_GRAPH             \
                                      ? (n)->attrs[a].g                             \
                                      : (n)->attrs[a].gs[j];                        \
           sg; sg = NULL)

/* Declarations of one graph: inputs, initializers, nodes (grouped ones
 * inside their cluster), subgraph bodies as nested clusters, and its return
 * node `rname`. Edges come separately, at the top level (dot_edges): an
 * edge written inside a cluster would pull its outer end into it. */
static void dot_decls(dot_ctx *c, const aicc_graph *g, const char *rname, int ind) {
  FILE *f = c->f;
  for (size_t i = 0; i < g->inputs.len; i++)
    if (g->inputs.data[i]) dot_value_decl(c, ind, g->inputs.data[i], "#dff0d8");
  if (c->o->show_inits)
    for (size_t i = 0; i < g->inits.len; i++) {
      const aicc_value *v = g->inits.data[i];
      bool is_input = false;
      for (size_t k = 0; k < g->inputs.len; k++) is_input |= g->inputs.data[k] == v;
      if (v && !is_input) dot_value_decl(c, ind, v, "#eeeeee");
    }
  /* Groups in order of first appearance; each cluster holds its members. */
  for (size_t i = 0; i < g->nodes.len; i++) {
    const aicc_node *n = g->nodes.data[i];
    if (n->dead || !n->group) continue;
    bool first = true;
    for (size_t k = 0; k < i && first; k++)
      if (!g->nodes.data[k]->dead && g->nodes.data[k]->group == n->group) first = false;
    if (!first) continue;
    fprintf(f, "%*ssubgraph cluster_%d {\n", ind, "", (int)n->group);
    fprintf(f, "%*slabel=\"group %d\"; style=dashed; color=\"#c07000\";\n", ind + 2, "",
            (int)n->group);
    for (size_t k = i; k < g->nodes.len; k++)
      if (!g->nodes.data[k]->dead && g->nodes.data[k]->group == n->group)
        dot_node_decl(f, ind + 2, g->nodes.data[k]);
    fprintf(f, "%*s}\n", ind, "");
  }
  for (size_t i = 0; i < g->nodes.len; i++) {
    const aicc_node *n = g->nodes.data[i];
    if (!n->dead && !n->group) dot_node_decl(f, ind, n);
  }
  for (size_t i = 0; i < g->nodes.len; i++) {
    const aicc_node *n = g->nodes.data[i];
    if (n->dead) continue;
    FOR_SUBGRAPHS(n, a, j, sg) {
      char key[64];
      snprintf(key, sizeof key, "%u_%d_%lld", n->id, a, (long long)j);
      fprintf(f, "%*ssubgraph cluster_sg%s {\n", ind, "", key);
      fprintf(f, "%*slabel=\"", ind + 2, "");
      dot_escaped(f, n->attrs[a].name);
      fputs(": ", f);
      dot_escaped(f, sg->name);
      fputs("\"; style=rounded; color=\"#607080\";\n", f);
      char r[72];
      snprintf(r, sizeof r, "r%s", key);
      dot_decls(c, sg, r, ind + 2);
      fprintf(f, "%*s}\n", ind, "");
    }
  }
  fprintf(f, "%*s%s [shape=house, label=\"return\"];\n", ind, "", rname);
}

/* Edges of g and its subgraphs: inputs to nodes (labelled with the type),
 * results to the return node, and each body's return to its holder. */
static void dot_edges(dot_ctx *c, const aicc_graph *g, const char *rname, int ind) {
  FILE *f = c->f;
  for (size_t i = 0; i < g->nodes.len; i++) {
    const aicc_node *n = g->nodes.data[i];
    if (n->dead) continue;
    char to[32];
    snprintf(to, sizeof to, "n%u", n->id);
    for (int k = 0; k < n->n_inputs; k++) dot_edge(f, ind, n->inputs[k], to, c->o);
    FOR_SUBGRAPHS(n, a, j, sg) {
      char r[72];
      snprintf(r, sizeof r, "r%u_%d_%lld", n->id, a, (long long)j);
      dot_edges(c, sg, r, ind);
      fprintf(f, "%*s%s -> n%u [style=dashed, label=\"", ind, "", r, n->id);
      dot_escaped(f, n->attrs[a].name);
      fputs("\"];\n", f);
    }
  }
  for (size_t o = 0; o < g->outputs.len; o++) dot_edge(f, ind, g->outputs.data[o], rname, c->o);
}

static void dot_graph(dot_ctx *c, const aicc_graph *g, int ind) {
  fprintf(c->f, "%*sdigraph \"", ind, "");
  dot_escaped(c->f, g->name);
  fputs("\" {\n", c->f);
  fprintf(c->f, "%*snode [shape=box, fontname=\"Helvetica\", fontsize=10];\n", ind + 2, "");
  fprintf(c->f, "%*sedge [fontname=\"Helvetica\", fontsize=8];\n", ind + 2, "");
  dot_decls(c, g, "r", ind + 2);
  dot_edges(c, g, "r", ind + 2);
  fprintf(c->f, "%*s}\n", ind, "");
}

aicc_status aicc_model_print_dot(const aicc_model *m, const aicc_dot_options *opt, FILE *f) {
  aicc_dot_options dflt = {0};
  dot_ctx c = {f, opt ? opt : &dflt};
  dot_graph(&c, m->graph, 0);
  if (ferror(f)) return aicc_errorf(AICC_ERR_IO, "writing the DOT text failed");
  return NULL;
}

static void html_escaped(FILE *f, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    if (ch == '<') fputs("&lt;", f);
    else if (ch == '>') fputs("&gt;", f);
    else if (ch == '&') fputs("&amp;", f);
    else fputc(ch, f);
  }
}

aicc_status aicc_model_print_html(const aicc_model *m, const aicc_dot_options *opt,
                                  const aicc_text_options *text, FILE *f) {
  char *dot = NULL, *ir = NULL;
  size_t dot_len = 0, ir_len = 0;
  FILE *mf = open_memstream(&dot, &dot_len);
  if (!mf) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  aicc_status s = aicc_model_print_dot(m, opt, mf);
  fclose(mf);
  if (!s) s = aicc_model_print_string(m, text, &ir, &ir_len);
  if (!s) {
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>", f);
    html_escaped(f, m->graph->name, strlen(m->graph->name));
    fputs("</title>\n<style>body{font-family:sans-serif;margin:1em}"
          "pre{background:#f6f6f6;padding:.5em;overflow:auto;font-size:12px}</style>\n"
          "</head><body>\n<h1>", f);
    html_escaped(f, m->path ? m->path : "", m->path ? strlen(m->path) : 0);
    fputs("</h1>\n<h2>Graph IR</h2>\n<pre id=\"ir\">", f);
    html_escaped(f, ir, ir_len);
    fputs("</pre>\n<h2>Graphviz DOT</h2>\n<p>Render with <code>dot -Tsvg</code>.</p>\n"
          "<pre id=\"dot\">", f);
    html_escaped(f, dot, dot_len);
    fputs("</pre>\n</body></html>\n", f);
    if (ferror(f)) s = aicc_errorf(AICC_ERR_IO, "writing the HTML page failed");
  }
  free(dot);
  free(ir);
  return s;
}
