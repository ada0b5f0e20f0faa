/* Codegen bookkeeping: the text buffer, C names for IR objects (unique per
 * func, never a C keyword or a library name the generated code calls), the
 * scope of bound variables, and the helper registry (each helper's
 * definition is written once, before the first function that uses it). */
#include "codegen/codegen_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cg_putn(cg_text *t, const char *s, size_t n) {
  if (t->oom) return;
  if (t->len + n + 1 > t->cap) {
    size_t cap = t->cap ? t->cap : 1024;
    while (cap < t->len + n + 1) cap *= 2;
    char *d = realloc(t->data, cap);
    if (!d) {
      t->oom = true;
      return;
    }
    t->data = d;
    t->cap = cap;
  }
  memcpy(t->data + t->len, s, n);
  t->len += n;
  t->data[t->len] = 0;
}

void cg_put(cg_text *t, const char *s) { cg_putn(t, s, strlen(s)); }

static void cg_vprintf(cg_text *t, const char *fmt, va_list ap) {
  char small[512];
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  if (n < 0) {
    t->oom = true;
  } else if ((size_t)n < sizeof small) {
    cg_putn(t, small, (size_t)n);
  } else {
    char *big = malloc((size_t)n + 1);
    if (!big) t->oom = true;
    else {
      vsnprintf(big, (size_t)n + 1, fmt, ap2);
      cg_putn(t, big, (size_t)n);
      free(big);
    }
  }
  va_end(ap2);
}

void cg_printf(cg_text *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cg_vprintf(t, fmt, ap);
  va_end(ap);
}

void cg_text_free(cg_text *t) {
  free(t->data);
  *t = (cg_text){0};
}

void cg_fail(cg *g, aicc_code code, const char *fmt, ...) {
  if (g->err) return;
  va_list ap;
  va_start(ap, fmt);
  aicc_status s = aicc_verrorf(code, fmt, ap);
  va_end(ap);
  g->err = aicc_status_wrap(s, "codegen: func '%s'", g->func ? g->func->name : "?");
}

void cg_line(cg *g, const char *fmt, ...) {
  for (int i = 0; i < g->indent; i++) cg_put(g->out, "  ");
  va_list ap;
  va_start(ap, fmt);
  cg_vprintf(g->out, fmt, ap);
  va_end(ap);
  cg_put(g->out, "\n");
}

const char *cg_helper(cg *g, const char *name, const char *definition) {
  for (size_t i = 0; i < g->nhelpers; i++)
    if (strcmp(g->helper_names[i], name) == 0) return g->helper_names[i];
  if (g->nhelpers == g->helpers_cap) {
    size_t cap = g->helpers_cap ? 2 * g->helpers_cap : 16;
    char **n = realloc(g->helper_names, cap * sizeof *n);
    if (!n) {
      cg_fail(g, AICC_ERR_NOMEM, "out of memory");
      return name;
    }
    g->helper_names = n;
    g->helpers_cap = cap;
  }
  char *copy = malloc(strlen(name) + 1);
  if (!copy) {
    cg_fail(g, AICC_ERR_NOMEM, "out of memory");
    return name;
  }
  strcpy(copy, name);
  g->helper_names[g->nhelpers++] = copy;
  cg_put(&g->helpers, definition);
  cg_put(&g->helpers, "\n");
  return copy;
}

/* ---- names ---- */

const char *aicc_codegen_ident(const char *name, char *buf, size_t n) {
  if (n == 0) return buf;
  size_t o = 0;
  if (!name || !*name) name = "_";
  if (*name >= '0' && *name <= '9' && o + 1 < n) buf[o++] = '_';
  for (const char *p = name; *p && o + 1 < n; p++) {
    char c = *p;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    buf[o++] = ok ? c : '_';
  }
  buf[o] = 0;
  return buf;
}

/* Names a generated identifier may not take: C keywords, what the generated
 * code itself declares or calls (the kernel parameters, <math.h>, <stdlib.h>,
 * <stdint.h> names), so an IR variable named `exp` cannot hide expf. */
static const char *const reserved[] = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch",
    "typedef", "union", "unsigned", "void", "volatile", "while", "bufs", "task", "ntasks",
    "malloc", "free", "memset", "memcpy", "abs", "NULL", "INFINITY", "NAN", "errno",
    "int8_t", "int16_t", "int32_t", "int64_t", "uint8_t", "uint16_t", "uint32_t",
    "uint64_t", "uintptr_t", "size_t", "main", "exp", "expm1", "log", "log1p", "sqrt",
    "tanh", "erf", "fabs", "floor", "ceil", "trunc", "nearbyint", "sin", "cos", "tan",
    "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "pow", "atan2",
    "fmod", "fma", "fmin", "fmax", "expf", "expm1f", "logf", "log1pf", "sqrtf", "tanhf",
    "erff", "fabsf", "floorf", "ceilf", "truncf", "nearbyintf", "sinf", "cosf", "tanf",
    "asinf", "acosf", "atanf", "sinhf", "coshf", "asinhf", "acoshf", "atanhf", "powf",
    "atan2f", "fmodf", "fmaf", "fminf", "fmaxf", "isnan", "isinf", "isfinite", "signbit",
    "copysign", "copysignf", "_Bool", "_Pragma", "bool", "true", "false",
};

static bool taken(const cg *g, const char *s) {
  if (strncmp(s, "aicc_", 5) == 0 || strncmp(s, "AICC_", 5) == 0 || strncmp(s, "__", 2) == 0 ||
      strncmp(s, "_mm", 3) == 0)
    return true;
  for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
    if (strcmp(reserved[i], s) == 0) return true;
  for (size_t i = 0; i < g->nnames; i++)
    if (strcmp(g->names[i].cname, s) == 0) return true;
  return false;
}

static const char *add_name(cg *g, const void *key, const char *base) {
  char id[96], cand[128];
  aicc_codegen_ident(base, id, sizeof id);
  snprintf(cand, sizeof cand, "%s", id);
  for (int k = 1; taken(g, cand); k++) snprintf(cand, sizeof cand, "%s_%d", id, k);
  if (g->nnames == g->names_cap) {
    size_t cap = g->names_cap ? 2 * g->names_cap : 32;
    cg_name *n = realloc(g->names, cap * sizeof *n);
    if (!n) {
      cg_fail(g, AICC_ERR_NOMEM, "out of memory");
      return "oom_";
    }
    g->names = n;
    g->names_cap = cap;
  }
  char *c = malloc(strlen(cand) + 1);
  if (!c) {
    cg_fail(g, AICC_ERR_NOMEM, "out of memory");
    return "oom_";
  }
  strcpy(c, cand);
  g->names[g->nnames++] = (cg_name){key, c};
  return c;
}

const char *cg_cname(cg *g, const void *key, const char *base) {
  for (size_t i = 0; i < g->nnames; i++)
    if (g->names[i].key == key) return g->names[i].cname;
  return add_name(g, key, base);
}

const char *cg_fresh(cg *g, const char *base) { return add_name(g, NULL, base); }

/* ---- scope ---- */

const cg_bind *cg_lookup(const cg *g, const aicc_loop_expr *var) {
  for (size_t i = g->nscope; i-- > 0;)
    if (g->scope[i].var == var) return &g->scope[i];
  return NULL;
}

bool cg_push(cg *g, cg_bind b) {
  if (g->nscope == g->scope_cap) {
    size_t cap = g->scope_cap ? 2 * g->scope_cap : 16;
    cg_bind *n = realloc(g->scope, cap * sizeof *n);
    if (!n) {
      cg_fail(g, AICC_ERR_NOMEM, "out of memory");
      return false;
    }
    g->scope = n;
    g->scope_cap = cap;
  }
  g->scope[g->nscope++] = b;
  return true;
}

void cg_pop(cg *g, size_t to) { g->nscope = to; }

const cg_buffer_info *cg_buffer(const cg *g, const aicc_loop_buffer *b) {
  for (size_t i = g->nbufs; i-- > 0;)
    if (g->bufs[i].buf == b) return &g->bufs[i];
  return NULL;
}

/* ---- types ---- */

bool cg_is_float(aicc_dtype t) { return t == AICC_DTYPE_F32 || t == AICC_DTYPE_F64; }

const char *cg_ctype(aicc_dtype t) {
  switch (t) {
  case AICC_DTYPE_F32: return "float";
  case AICC_DTYPE_F64: return "double";
  case AICC_DTYPE_BOOL: return "int";
  case AICC_DTYPE_I8: return "int8_t";
  case AICC_DTYPE_U8: return "uint8_t";
  case AICC_DTYPE_I16: return "int16_t";
  case AICC_DTYPE_U16: return "uint16_t";
  case AICC_DTYPE_I32: return "int32_t";
  case AICC_DTYPE_U32: return "uint32_t";
  case AICC_DTYPE_I64: return "int64_t";
  case AICC_DTYPE_U64: return "uint64_t";
  default: return NULL;
  }
}

const char *cg_storage_type(aicc_dtype t) {
  return t == AICC_DTYPE_BOOL ? "uint8_t" : cg_ctype(t);
}
