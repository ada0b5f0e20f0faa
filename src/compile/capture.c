/* Extern steps whose node holds subgraphs that read values of the main
 * graph (captures): the reference interpreter evaluates one node only on its
 * own inputs, so such a node becomes a model of its own -- one graph whose
 * inputs are every value the node reads and whose only node is a copy of it
 * -- built through the text form (ir/text.h) and run with aicc_interp_run. */
#include "compile/compile.h"

#include "ir/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct text_buf {
  char *s;
  size_t len, cap;
  bool oom;
} text_buf;

static void put(text_buf *t, const char *s, size_t n) {
  if (t->oom) return;
  if (t->len + n + 1 > t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 4096;
    while (cap < t->len + n + 1) cap *= 2;
    char *d = realloc(t->s, cap);
    if (!d) {
      t->oom = true;
      return;
    }
    t->s = d;
    t->cap = cap;
  }
  memcpy(t->s + t->len, s, n);
  t->len += n;
  t->s[t->len] = 0;
}

static void puts_(text_buf *t, const char *s) { put(t, s, strlen(s)); }

/* A string as the text form quotes it (printable ASCII, \" \\ \n \t, else \xNN). */
static void put_quoted(text_buf *t, const char *s) {
  static const char hex[] = "0123456789abcdef";
  put(t, "\"", 1);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    char x[4] = {'\\', 0, 0, 0};
    if (c == '"' || c == '\\') x[1] = (char)c, put(t, x, 2);
    else if (c == '\n') put(t, "\\n", 2);
    else if (c == '\t') put(t, "\\t", 2);
    else if (c < 0x20 || c >= 0x7f) x[1] = 'x', x[2] = hex[c >> 4], x[3] = hex[c & 15], put(t, x, 4);
    else put(t, (const char *)&c, 1);
  }
  put(t, "\"", 1);
}

static void put_value(text_buf *t, const aicc_value *v) {
  const char *s = v->name ? v->name : "";
  bool simple = *s != 0;
  for (const char *p = s; *p && simple; p++) {
    char c = *p;
    simple = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '.';
  }
  put(t, "%", 1);
  if (simple) puts_(t, s);
  else put_quoted(t, s);
}

aicc_status aicc_compile_capture_model(const aicc_model *m, const aicc_node *n,
                                       const aicc_value *const *reads, int n_reads,
                                       aicc_model **out) {
  *out = NULL;
  text_buf t = {0};
  char buf[512];
  snprintf(buf, sizeof buf, "aicc.model ir_version=%lld opsets={", (long long)m->ir_version);
  puts_(&t, buf);
  for (int i = 0; i < m->n_opsets; i++) {
    if (i) puts_(&t, ", ");
    put_quoted(&t, m->opsets[i].domain ? m->opsets[i].domain : "");
    snprintf(buf, sizeof buf, ":%lld", (long long)m->opsets[i].version);
    puts_(&t, buf);
  }
  puts_(&t, "}\ngraph extern_step(");
  for (int i = 0; i < n_reads; i++) {
    if (i) puts_(&t, ", ");
    put_value(&t, reads[i]);
    puts_(&t, ": ");
    puts_(&t, aicc_text_type_print(&reads[i]->type, buf, sizeof buf));
  }
  puts_(&t, ") {\n  ");
  char *line = NULL;
  aicc_status st = aicc_node_print_string(n, NULL, &line);
  if (st) {
    free(t.s);
    return st;
  }
  puts_(&t, line);
  free(line);
  puts_(&t, "\n  return ");
  bool first = true;
  for (int k = 0; k < n->n_outputs; k++) {
    if (!n->outputs[k]) continue;
    if (!first) puts_(&t, ", ");
    first = false;
    put_value(&t, n->outputs[k]);
  }
  puts_(&t, "\n}\n");
  if (t.oom) {
    free(t.s);
    return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  }
  char desc[256];
  st = aicc_model_parse(t.s, t.len, m->path, out);
  free(t.s);
  return aicc_status_wrap(st, "%s: making its extern step",
                          aicc_node_describe(n, desc, sizeof desc));
}
