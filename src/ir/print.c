/* Printer of the graph IR text form (grammar in parse.c). Output is
 * canonical: every choice (quoting, number format, data encoding) is a
 * function of the model alone, so parse(print(m)) prints the same text.
 * It never fails on a strange model; only I/O and allocation can fail. */
#include "ir/text.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Tensors up to this many elements print as a readable list (when the dtype
 * has an exact decimal form), larger ones as hex bytes. */
enum { LIST_MAX = 64 };

typedef struct writer {
  FILE *f;          /* stream target, or NULL for the buffer */
  char *buf;
  size_t len, cap;
  bool failed;
  size_t elide;     /* aicc_text_options.elide_bytes */
} writer;

static void w_raw(writer *w, const char *s, size_t n) {
  if (w->failed || n == 0) return;
  if (w->f) {
    if (fwrite(s, 1, n, w->f) != n) w->failed = true;
    return;
  }
  if (w->len + n + 1 > w->cap) {
    size_t c = w->cap ? w->cap : 256;
    while (c < w->len + n + 1) c *= 2;
    char *b = realloc(w->buf, c);
    if (!b) {
      w->failed = true;
      return;
    }
    w->buf = b;
    w->cap = c;
  }
  memcpy(w->buf + w->len, s, n);
  w->len += n;
  w->buf[w->len] = 0;
}

static void w_str(writer *w, const char *s) { w_raw(w, s, strlen(s)); }

static void w_fmt(writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void w_fmt(writer *w, const char *fmt, ...) {
  char small[128];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    w->failed = true;
    return;
  }
  if ((size_t)n < sizeof small) {
    w_raw(w, small, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (!big) {
    w->failed = true;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  w_raw(w, big, (size_t)n);
  free(big);
}

static void w_indent(writer *w, int n) {
  for (int i = 0; i < n; i++) w_raw(w, " ", 1);
}

/* ---- lexical pieces: must agree with the parser's lexer ---- */

static bool ident_start(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool ident_char(unsigned char c) {
  return ident_start(c) || (c >= '0' && c <= '9') || c == '.';
}

static bool is_ident(const char *s) {
  if (!s || !ident_start((unsigned char)s[0])) return false;
  for (const char *p = s + 1; *p; p++)
    if (!ident_char((unsigned char)*p)) return false;
  return true;
}

/* Quoted string with escapes: printable ASCII stays, everything else
 * (controls, bytes >= 0x80, NUL) is \xNN, so any byte string survives. */
static void w_quoted(writer *w, const char *s, size_t n) {
  static const char hexd[] = "0123456789abcdef";
  w_raw(w, "\"", 1);
  size_t run = 0; /* start of the pending run of plain characters */
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *esc = NULL;
    char x[4];
    if (c == '"') esc = "\\\"";
    else if (c == '\\') esc = "\\\\";
    else if (c == '\n') esc = "\\n";
    else if (c == '\t') esc = "\\t";
    else if (c < 0x20 || c >= 0x7f) {
      x[0] = '\\', x[1] = 'x', x[2] = hexd[c >> 4], x[3] = hexd[c & 15];
    } else {
      continue;
    }
    w_raw(w, s + run, i - run);
    if (esc) w_str(w, esc);
    else w_raw(w, x, 4);
    run = i + 1;
  }
  w_raw(w, s + run, n - run);
  w_raw(w, "\"", 1);
}

static void w_name(writer *w, const char *s) {
  if (!s) s = "";
  if (is_ident(s)) w_str(w, s);
  else w_quoted(w, s, strlen(s));
}

static bool value_name_simple(const char *s) {
  if (!*s) return false;
  for (; *s; s++)
    if (!ident_char((unsigned char)*s)) return false;
  return true;
}

static void w_value(writer *w, const aicc_value *v) {
  if (!v) {
    w_raw(w, "_", 1);
    return;
  }
  const char *s = v->name ? v->name : "";
  w_raw(w, "%", 1);
  if (value_name_simple(s)) w_str(w, s);
  else w_quoted(w, s, strlen(s));
}

/* Shortest "%.Ng" that reads back to the same value, always with a '.' or an
 * exponent so the parser knows it is a float. */
static void fmt_real(char *b, size_t n, double d, bool is_f32) {
  if (isnan(d)) {
    snprintf(b, n, "nan");
    return;
  }
  if (isinf(d)) {
    snprintf(b, n, d < 0 ? "-inf" : "inf");
    return;
  }
  for (int p = is_f32 ? 6 : 15; p <= 17; p++) {
    snprintf(b, n, "%.*g", p, d);
    if (is_f32 ? strtof(b, NULL) == (float)d : strtod(b, NULL) == d) break;
  }
  if (!strpbrk(b, ".e")) {
    size_t k = strlen(b);
    if (k + 3 <= n) memcpy(b + k, ".0", 3);
  }
}

static void w_f32(writer *w, float f) {
  char b[48];
  fmt_real(b, sizeof b, (double)f, true);
  w_str(w, b);
}

/* ---- types ---- */

static void w_dims(writer *w, const aicc_type *t) {
  if (t->rank < 0) {
    w_str(w, "[*]");
    return;
  }
  w_raw(w, "[", 1);
  int rank = t->rank > AICC_MAX_RANK ? AICC_MAX_RANK : t->rank;
  for (int i = 0; i < rank; i++) {
    if (i) w_raw(w, ",", 1);
    aicc_dim d = t->dims[i];
    if (d.sym) w_name(w, d.sym);
    else if (d.size >= 0) w_fmt(w, "%" PRId64, d.size);
    else w_raw(w, "?", 1);
  }
  w_raw(w, "]", 1);
}

static void w_dtype(writer *w, aicc_dtype dt) {
  w_str(w, aicc_dtype_valid(dt) ? aicc_dtype_text(dt) : "?");
}

/* The element part of seq<...> / opt<...>: a tensor type, or "?" when
 * nothing is known about it. */
static void w_elem_tensor(writer *w, const aicc_type *t) {
  if (!aicc_dtype_valid(t->dtype) && t->rank < 0) {
    w_raw(w, "?", 1);
    return;
  }
  w_dtype(w, t->dtype);
  w_dims(w, t);
}

static void w_type(writer *w, const aicc_type *t) {
  switch (t->kind) {
  case AICC_KIND_TENSOR:
    w_dtype(w, t->dtype);
    w_dims(w, t);
    return;
  case AICC_KIND_SEQUENCE:
    w_str(w, "seq<");
    w_elem_tensor(w, t);
    w_raw(w, ">", 1);
    return;
  case AICC_KIND_OPTIONAL:
    w_str(w, "opt<");
    if (t->elem_kind == AICC_KIND_TENSOR) {
      w_dtype(w, t->dtype);
      w_dims(w, t);
    } else if (t->elem_kind == AICC_KIND_SEQUENCE) {
      w_str(w, "seq<");
      w_elem_tensor(w, t);
      w_raw(w, ">", 1);
    } else {
      w_raw(w, "?", 1);
    }
    w_raw(w, ">", 1);
    return;
  default:
    w_raw(w, "?", 1);
  }
}

const char *aicc_text_type_print(const aicc_type *t, char *buf, size_t n) {
  if (!buf || n == 0) return buf;
  writer w = {0};
  w_type(&w, t);
  if (w.failed || !w.buf) {
    snprintf(buf, n, "?");
  } else if (w.len < n) {
    memcpy(buf, w.buf, w.len + 1);
  } else {
    memcpy(buf, w.buf, n - 1);
    buf[n - 1] = 0;
    if (n >= 4) memcpy(buf + n - 4, "...", 3);
  }
  free(w.buf);
  return buf;
}

/* ---- tensors ---- */

static bool list_dtype(aicc_dtype dt) {
  switch (dt) {
  case AICC_DTYPE_F32: case AICC_DTYPE_F64: case AICC_DTYPE_BOOL:
  case AICC_DTYPE_I8: case AICC_DTYPE_I16: case AICC_DTYPE_I32: case AICC_DTYPE_I64:
  case AICC_DTYPE_U8: case AICC_DTYPE_U16: case AICC_DTYPE_U32: case AICC_DTYPE_U64:
    return true;
  default:
    return false;
  }
}

static void w_tensor_elem(writer *w, const aicc_tensor *t, int64_t i) {
  const void *d = t->data;
  char b[48];
  switch (t->dtype) {
  case AICC_DTYPE_F32: fmt_real(b, sizeof b, ((const float *)d)[i], true); w_str(w, b); break;
  case AICC_DTYPE_F64: fmt_real(b, sizeof b, ((const double *)d)[i], false); w_str(w, b); break;
  case AICC_DTYPE_BOOL: w_fmt(w, "%u", ((const uint8_t *)d)[i]); break;
  case AICC_DTYPE_U8: w_fmt(w, "%u", ((const uint8_t *)d)[i]); break;
  case AICC_DTYPE_I8: w_fmt(w, "%d", ((const int8_t *)d)[i]); break;
  case AICC_DTYPE_U16: w_fmt(w, "%u", ((const uint16_t *)d)[i]); break;
  case AICC_DTYPE_I16: w_fmt(w, "%d", ((const int16_t *)d)[i]); break;
  case AICC_DTYPE_U32: w_fmt(w, "%" PRIu32, ((const uint32_t *)d)[i]); break;
  case AICC_DTYPE_I32: w_fmt(w, "%" PRId32, ((const int32_t *)d)[i]); break;
  case AICC_DTYPE_U64: w_fmt(w, "%" PRIu64, ((const uint64_t *)d)[i]); break;
  case AICC_DTYPE_I64: w_fmt(w, "%" PRId64, ((const int64_t *)d)[i]); break;
  default: w_raw(w, "?", 1);
  }
}

/* A list is only exact for floats without NaN (NaN payloads would be lost)
 * and bools that hold 0/1. */
static bool list_exact(const aicc_tensor *t, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    if (t->dtype == AICC_DTYPE_F32 && isnan(((const float *)t->data)[i])) return false;
    if (t->dtype == AICC_DTYPE_F64 && isnan(((const double *)t->data)[i])) return false;
    if (t->dtype == AICC_DTYPE_BOOL && ((const uint8_t *)t->data)[i] > 1) return false;
  }
  return true;
}

static void w_tensor(writer *w, const aicc_tensor *t) {
  if (!t || t->kind != AICC_KIND_TENSOR || t->rank < 0 || t->rank > AICC_MAX_RANK) {
    w_str(w, "<bad tensor>");
    return;
  }
  w_str(w, "dense<");
  w_dtype(w, t->dtype);
  aicc_type ty = aicc_type_tensor(t->dtype, t->rank, t->dims);
  w_dims(w, &ty);
  w_str(w, "> ");
  int64_t n = aicc_tensor_numel(t);
  if (n < 0 || (n > 0 && !t->data)) {
    w_str(w, "<bad data>");
    return;
  }
  if (w->elide && t->nbytes > w->elide) {
    w_str(w, "elided");
  } else if (t->dtype == AICC_DTYPE_STRING) {
    char *const *s = t->data;
    w_raw(w, "[", 1);
    for (int64_t i = 0; i < n; i++) {
      if (i) w_str(w, ", ");
      const char *e = s[i] ? s[i] : "";
      w_quoted(w, e, t->strlens ? t->strlens[i] : strlen(e));
    }
    w_raw(w, "]", 1);
  } else if (list_dtype(t->dtype) && n <= LIST_MAX && list_exact(t, n)) {
    w_raw(w, "[", 1);
    for (int64_t i = 0; i < n; i++) {
      if (i) w_str(w, ", ");
      w_tensor_elem(w, t, i);
    }
    w_raw(w, "]", 1);
  } else {
    static const char hexd[] = "0123456789abcdef";
    const unsigned char *p = t->data;
    char chunk[256];
    size_t k = 0;
    w_str(w, "hex\"");
    for (size_t i = 0; i < t->nbytes; i++) {
      chunk[k++] = hexd[p[i] >> 4];
      chunk[k++] = hexd[p[i] & 15];
      if (k == sizeof chunk) {
        w_raw(w, chunk, k);
        k = 0;
      }
    }
    w_raw(w, chunk, k);
    w_raw(w, "\"", 1);
  }
}

/* ---- graphs ---- */

static void w_graph(writer *w, const aicc_graph *g, int ind);

static void w_list_open(writer *w, int64_t n, const char *empty_kind) {
  if (n == 0) w_str(w, empty_kind);
  w_raw(w, "[", 1);
}

static void w_attr_value(writer *w, const aicc_attr *a, int ind) {
  switch (a->kind) {
  case AICC_ATTR_FLOAT: w_f32(w, a->f); return;
  case AICC_ATTR_INT: w_fmt(w, "%" PRId64, a->i); return;
  case AICC_ATTR_STRING: w_quoted(w, a->s.s ? a->s.s : "", a->s.s ? a->s.len : 0); return;
  case AICC_ATTR_TENSOR: w_tensor(w, a->t); return;
  case AICC_ATTR_GRAPH:
    if (a->g) w_graph(w, a->g, ind);
    else w_str(w, "<null graph>");
    return;
  case AICC_ATTR_TYPE_PROTO:
    w_str(w, "type<");
    w_type(w, &a->tp);
    w_raw(w, ">", 1);
    return;
  default: break;
  }
  int64_t n = a->n > 0 ? a->n : 0;
  switch (a->kind) {
  case AICC_ATTR_FLOATS:
    w_list_open(w, n, "floats");
    for (int64_t i = 0; i < n; i++) {
      if (i) w_str(w, ", ");
      w_f32(w, a->fs[i]);
    }
    break;
  case AICC_ATTR_INTS:
    w_list_open(w, n, "ints");
    for (int64_t i = 0; i < n; i++) w_fmt(w, i ? ", %" PRId64 : "%" PRId64, a->is[i]);
    break;
  case AICC_ATTR_STRINGS:
    w_list_open(w, n, "strings");
    for (int64_t i = 0; i < n; i++) {
      if (i) w_str(w, ", ");
      w_quoted(w, a->ss[i].s ? a->ss[i].s : "", a->ss[i].s ? a->ss[i].len : 0);
    }
    break;
  case AICC_ATTR_TENSORS:
    w_list_open(w, n, "tensors");
    for (int64_t i = 0; i < n; i++) {
      if (i) w_str(w, ", ");
      w_tensor(w, a->ts[i]);
    }
    break;
  case AICC_ATTR_GRAPHS:
    w_list_open(w, n, "graphs");
    for (int64_t i = 0; i < n; i++) {
      if (i) w_str(w, ", ");
      if (a->gs[i]) w_graph(w, a->gs[i], ind);
      else w_str(w, "<null graph>");
    }
    break;
  case AICC_ATTR_TYPE_PROTOS:
    w_list_open(w, n, "types");
    for (int64_t i = 0; i < n; i++) {
      if (i) w_str(w, ", ");
      w_str(w, "type<");
      w_type(w, &a->tps[i]);
      w_raw(w, ">", 1);
    }
    break;
  default:
    /* Sparse tensors and undefined attributes have no text form. */
    w_fmt(w, "<unsupported %s>", aicc_attr_kind_name(a->kind));
    return;
  }
  w_raw(w, "]", 1);
}

/* Op names that would read as statement keywords are quoted. */
static void w_op_name(writer *w, const char *s) {
  if (s && (!strcmp(s, "init") || !strcmp(s, "return") || !strcmp(s, "_") ||
            !strcmp(s, "graph")))
    w_quoted(w, s, strlen(s));
  else
    w_name(w, s);
}

/* One node, without indentation or newline; `ind` is the indentation of its
 * line (subgraph bodies nest from it). */
static void w_node(writer *w, const aicc_node *n, int ind) {
  for (int i = 0; i < n->n_outputs; i++) {
    if (i) w_str(w, ", ");
    w_value(w, n->outputs[i]);
  }
  if (n->n_outputs > 0) w_str(w, " = ");
  if (n->domain && *n->domain) {
    w_name(w, n->domain);
    w_str(w, "::");
  }
  w_op_name(w, n->op_type ? n->op_type : "");
  w_raw(w, "(", 1);
  for (int i = 0; i < n->n_inputs; i++) {
    if (i) w_str(w, ", ");
    w_value(w, n->inputs[i]);
  }
  w_raw(w, ")", 1);
  if (n->n_attrs > 0) {
    w_str(w, " {");
    for (int i = 0; i < n->n_attrs; i++) {
      if (i) w_str(w, ", ");
      w_name(w, n->attrs[i].name);
      w_raw(w, "=", 1);
      w_attr_value(w, &n->attrs[i], ind);
    }
    w_raw(w, "}", 1);
  }
  bool any_type = false;
  for (int i = 0; i < n->n_outputs; i++)
    if (n->outputs[i] && n->outputs[i]->type.kind != AICC_KIND_NONE) any_type = true;
  if (any_type) {
    w_str(w, " : ");
    for (int i = 0; i < n->n_outputs; i++) {
      if (i) w_str(w, ", ");
      if (n->outputs[i]) w_type(w, &n->outputs[i]->type);
      else w_raw(w, "?", 1);
    }
  }
  if (n->name && *n->name) {
    w_str(w, " name=");
    w_quoted(w, n->name, strlen(n->name));
  }
  /* Fusion group (passes/fuse.c), after the name: ` fusion=N` (not
   * "group", which is also Conv's attribute). */
  if (n->group) w_fmt(w, " fusion=%d", (int)n->group);
}

static void w_graph(writer *w, const aicc_graph *g, int ind) {
  w_str(w, "graph ");
  w_name(w, g->name);
  w_raw(w, "(", 1);
  for (size_t i = 0; i < g->inputs.len; i++) {
    if (i) w_str(w, ", ");
    const aicc_value *v = g->inputs.data[i];
    w_value(w, v);
    w_str(w, ": ");
    if (v) w_type(w, &v->type);
    else w_raw(w, "?", 1);
  }
  w_str(w, ") {\n");
  for (size_t i = 0; i < g->inits.len; i++) {
    const aicc_value *v = g->inits.data[i];
    w_indent(w, ind + 2);
    w_str(w, "init ");
    w_value(w, v);
    w_str(w, " = ");
    w_tensor(w, v ? v->init : NULL);
    w_raw(w, "\n", 1);
  }
  for (size_t i = 0; i < g->nodes.len; i++) {
    w_indent(w, ind + 2);
    w_node(w, g->nodes.data[i], ind + 2);
    w_raw(w, "\n", 1);
  }
  w_indent(w, ind + 2);
  w_str(w, "return");
  for (size_t i = 0; i < g->outputs.len; i++) {
    w_str(w, i ? ", " : " ");
    w_value(w, g->outputs.data[i]);
  }
  w_raw(w, "\n", 1);
  w_indent(w, ind);
  w_raw(w, "}", 1);
}

static void w_model(writer *w, const aicc_model *m) {
  w_fmt(w, "aicc.model ir_version=%" PRId64 " opsets={", m->ir_version);
  for (int i = 0; i < m->n_opsets; i++) {
    if (i) w_str(w, ", ");
    const char *d = m->opsets[i].domain ? m->opsets[i].domain : "";
    w_quoted(w, d, strlen(d));
    w_fmt(w, ":%" PRId64, m->opsets[i].version);
  }
  w_raw(w, "}", 1);
  struct {
    const char *key, *val;
  } strs[] = {{"producer", m->producer_name},
              {"producer_version", m->producer_version},
              {"domain", m->domain}};
  for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
    if (strs[i].val && *strs[i].val) {
      w_fmt(w, " %s=", strs[i].key);
      w_quoted(w, strs[i].val, strlen(strs[i].val));
    }
  if (m->model_version) w_fmt(w, " model_version=%" PRId64, m->model_version);
  if (m->doc && *m->doc) {
    w_str(w, " doc=");
    w_quoted(w, m->doc, strlen(m->doc));
  }
  w_raw(w, "\n", 1);
  if (m->graph) w_graph(w, m->graph, 0);
  w_raw(w, "\n", 1);
}

static aicc_status finish_stream(writer *w) {
  if (w->failed) return aicc_errorf(AICC_ERR_IO, "failed to write the IR text");
  return NULL;
}

aicc_status aicc_model_print(const aicc_model *m, const aicc_text_options *opt, FILE *f) {
  writer w = {.f = f, .elide = opt ? opt->elide_bytes : 0};
  w_model(&w, m);
  return finish_stream(&w);
}

aicc_status aicc_graph_print(const aicc_graph *g, const aicc_text_options *opt, FILE *f) {
  writer w = {.f = f, .elide = opt ? opt->elide_bytes : 0};
  w_graph(&w, g, 0);
  w_raw(&w, "\n", 1);
  return finish_stream(&w);
}

static aicc_status finish_string(writer *w, char **out, size_t *len) {
  if (w->failed) {
    free(w->buf);
    return aicc_errorf(AICC_ERR_NOMEM, "out of memory printing the IR");
  }
  if (!w->buf) {
    w->buf = calloc(1, 1);
    if (!w->buf) return aicc_errorf(AICC_ERR_NOMEM, "out of memory printing the IR");
  }
  *out = w->buf;
  if (len) *len = w->len;
  return NULL;
}

aicc_status aicc_model_print_string(const aicc_model *m, const aicc_text_options *opt,
                                    char **out, size_t *len) {
  writer w = {.elide = opt ? opt->elide_bytes : 0};
  *out = NULL;
  w_model(&w, m);
  return finish_string(&w, out, len);
}

aicc_status aicc_node_print_string(const aicc_node *n, const aicc_text_options *opt,
                                   char **out) {
  writer w = {.elide = opt ? opt->elide_bytes : 0};
  *out = NULL;
  w_node(&w, n, 0);
  return finish_string(&w, out, NULL);
}
