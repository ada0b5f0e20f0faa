/* Loop IR printer: canonical text that parse.c reads back to the same tree
 * (minimal parentheses from C precedence; literals carry non-default types). */
#include "loop/text.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char *s;
  size_t len, cap;
  bool oom;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *b, const char *fmt, ...) {
  if (b->oom) return;
  va_list ap;
  va_start(ap, fmt);
  char tmp[256];
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (b->len + (size_t)n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 256;
    while (cap < b->len + (size_t)n + 1) cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
      b->oom = true;
      return;
    }
    b->s = s;
    b->cap = cap;
  }
  if ((size_t)n < sizeof tmp) {
    memcpy(b->s + b->len, tmp, (size_t)n + 1);
  } else {
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
  }
  b->len += (size_t)n;
}

static char *finish(sbuf *b) {
  if (b->oom) {
    free(b->s);
    return NULL;
  }
  if (!b->s) return calloc(1, 1);
  return b->s;
}

/* Binding strength; higher binds tighter. Primaries are 8. */
static int prec(aicc_loop_op op) {
  switch (op) {
  case AICC_LOOP_OR: return 1;
  case AICC_LOOP_AND: return 2;
  case AICC_LOOP_EQ: case AICC_LOOP_NE: return 3;
  case AICC_LOOP_LT: case AICC_LOOP_LE: case AICC_LOOP_GT: case AICC_LOOP_GE: return 4;
  case AICC_LOOP_ADD: case AICC_LOOP_SUB: return 5;
  case AICC_LOOP_MUL: case AICC_LOOP_DIV: case AICC_LOOP_MOD: return 6;
  case AICC_LOOP_NOT: return 7;
  default: return 8;
  }
}

static void print_float(sbuf *b, double v, aicc_dtype t) {
  const char *suffix = t == AICC_DTYPE_F32 ? "" : aicc_dtype_text(t);
  if (isnan(v)) {
    put(b, "nan%s", suffix);
    return;
  }
  if (isinf(v)) {
    put(b, "%sinf%s", v < 0 ? "-" : "", suffix);
    return;
  }
  /* Shortest digits that read back to the same value. */
  char tmp[64];
  for (int p = 1; p <= 17; p++) {
    snprintf(tmp, sizeof tmp, "%.*g", p, v);
    double back = strtod(tmp, NULL);
    if (t == AICC_DTYPE_F64 ? back == v : (float)back == (float)v) break;
  }
  if (!strpbrk(tmp, ".en")) strcat(tmp, ".0");
  put(b, "%s%s", tmp, suffix);
}

static void print_expr(sbuf *b, const aicc_loop_expr *e, int parent, bool right);

static void print_args(sbuf *b, const aicc_loop_expr *e, uint32_t from) {
  for (uint32_t k = from; k < e->nargs; k++) {
    if (k > from) put(b, ", ");
    print_expr(b, e->args[k], 0, false);
  }
}

static void print_expr(sbuf *b, const aicc_loop_expr *e, int parent, bool right) {
  if (!e) {
    put(b, "<null>");
    return;
  }
  int p = prec(e->op);
  bool paren = p < parent || (p == parent && right);
  if (paren) put(b, "(");
  switch (e->op) {
  case AICC_LOOP_INT:
    if (e->type == AICC_DTYPE_BOOL) put(b, "%s", e->v.i ? "true" : "false");
    else if (e->type == AICC_DTYPE_U64) put(b, "%" PRIu64 "u64", (uint64_t)e->v.i);
    else put(b, "%" PRId64 "%s", e->v.i, e->type == AICC_DTYPE_I32 ? "" : aicc_dtype_text(e->type));
    break;
  case AICC_LOOP_FLOAT: print_float(b, e->v.f, e->type); break;
  case AICC_LOOP_VAR: put(b, "%s", e->v.name); break;
  case AICC_LOOP_NOT:
    put(b, "!");
    print_expr(b, e->args[0], 7, false);
    break;
  case AICC_LOOP_MIN: case AICC_LOOP_MAX: case AICC_LOOP_SELECT:
    put(b, "%s(", aicc_loop_op_name(e->op));
    print_args(b, e, 0);
    put(b, ")");
    break;
  case AICC_LOOP_CAST:
    put(b, "%s(", aicc_dtype_text(e->type));
    print_expr(b, e->args[0], 0, false);
    put(b, ")");
    break;
  case AICC_LOOP_CALL:
    put(b, "%s(", e->v.name);
    print_args(b, e, 0);
    put(b, ")");
    break;
  case AICC_LOOP_LOAD:
    put(b, "%s[", e->buf->name);
    print_args(b, e, 0);
    put(b, "]");
    break;
  default: { /* binary operators */
    print_expr(b, e->args[0], p, false);
    bool tight = p == 6; /* x*4 reads better than x * 4 */
    put(b, tight ? "%s" : " %s ", aicc_loop_op_name(e->op));
    print_expr(b, e->args[1], p, true);
    break;
  }
  }
  if (paren) put(b, ")");
}

char *aicc_loop_expr_print(const aicc_loop_expr *e) {
  sbuf b = {0};
  print_expr(&b, e, 0, false);
  return finish(&b);
}

static void indent_to(sbuf *b, int n) { put(b, "%*s", n, ""); }

static void print_type_shape(sbuf *b, aicc_dtype t, int rank, const aicc_loop_expr *const *shape) {
  put(b, "%s[", aicc_dtype_text(t));
  for (int d = 0; d < rank; d++) {
    if (d) put(b, ", ");
    print_expr(b, shape[d], 0, false);
  }
  put(b, "]");
}

static void print_stmt(sbuf *b, const aicc_loop_stmt *s, int ind) {
  if (!s) {
    indent_to(b, ind);
    put(b, "<null>\n");
    return;
  }
  switch (s->kind) {
  case AICC_LOOP_SEQ:
    for (size_t i = 0; i < s->n; i++) print_stmt(b, s->stmts[i], ind);
    return;
  case AICC_LOOP_FOR:
    indent_to(b, ind);
    if (s->for_kind != AICC_LOOP_SERIAL) put(b, "%s ", aicc_loop_for_kind_name(s->for_kind));
    put(b, "for (%s, ", s->var->v.name);
    print_expr(b, s->min, 0, false);
    put(b, ", ");
    print_expr(b, s->extent, 0, false);
    put(b, ") {\n");
    break;
  case AICC_LOOP_LET:
    indent_to(b, ind);
    put(b, "let %s = ", s->var->v.name);
    print_expr(b, s->value, 0, false);
    put(b, " {\n");
    break;
  case AICC_LOOP_IF:
    indent_to(b, ind);
    put(b, "if (");
    print_expr(b, s->value, 0, false);
    put(b, ") {\n");
    print_stmt(b, s->body, ind + 2);
    if (s->otherwise) {
      indent_to(b, ind);
      put(b, "} else {\n");
      print_stmt(b, s->otherwise, ind + 2);
    }
    indent_to(b, ind);
    put(b, "}\n");
    return;
  case AICC_LOOP_ALLOCATE:
    indent_to(b, ind);
    put(b, "allocate %s: ", s->buf->name);
    print_type_shape(b, s->buf->type, s->buf->rank, s->buf->shape);
    put(b, " {\n");
    break;
  case AICC_LOOP_STORE:
    indent_to(b, ind);
    put(b, "%s[", s->buf->name);
    for (int d = 0; d < s->buf->rank; d++) {
      if (d) put(b, ", ");
      print_expr(b, s->index[d], 0, false);
    }
    put(b, "] = ");
    print_expr(b, s->value, 0, false);
    put(b, "\n");
    return;
  case AICC_LOOP_EVALUATE:
    indent_to(b, ind);
    put(b, "evaluate ");
    print_expr(b, s->value, 0, false);
    put(b, "\n");
    return;
  }
  /* FOR, LET, ALLOCATE: a braced body. */
  print_stmt(b, s->body, ind + 2);
  indent_to(b, ind);
  put(b, "}\n");
}

char *aicc_loop_stmt_print(const aicc_loop_stmt *s, int indent) {
  sbuf b = {0};
  print_stmt(&b, s, indent);
  return finish(&b);
}

static void print_func(sbuf *b, const aicc_loop_func *f) {
  put(b, "func %s(", f->name);
  for (size_t i = 0; i < f->nparams; i++) {
    if (i) put(b, ", ");
    const aicc_loop_param *p = &f->params[i];
    if (p->buf) {
      put(b, "%s: ", p->buf->name);
      print_type_shape(b, p->buf->type, p->buf->rank, p->buf->shape);
      for (int d = 0; p->buf->strides && d < p->buf->rank; d++)
        put(b, "%s%" PRId64 "%s", d ? ", " : " strides [", p->buf->strides[d],
            d + 1 == p->buf->rank ? "]" : "");
    } else {
      put(b, "%s: %s", p->var->v.name, aicc_dtype_text(p->var->type));
    }
  }
  put(b, ") {\n");
  print_stmt(b, f->body, 2);
  put(b, "}\n");
}

char *aicc_loop_func_print(const aicc_loop_func *f) {
  sbuf b = {0};
  print_func(&b, f);
  return finish(&b);
}

char *aicc_loop_module_print(const aicc_loop_module *m) {
  sbuf b = {0};
  for (size_t i = 0; i < m->nfuncs; i++) {
    if (i) put(&b, "\n");
    print_func(&b, m->funcs[i]);
  }
  return finish(&b);
}
