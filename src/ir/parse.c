/* Parser of the graph IR text form. Builds the model with the graph.h
 * construction API; never trusts the input (every byte sequence gives a
 * model or one "file:line:col: reason" error, never a crash). It does not
 * verify: aicc_model_verify does that on the result.
 *
 * Grammar (whitespace and // comments between tokens are free):
 *   model   := 'aicc.model' (key '=' hval)* graph
 *              keys: ir_version=INT opsets={STR:INT, ...} producer=STR
 *                    producer_version=STR domain=STR model_version=INT doc=STR
 *   graph   := 'graph' name '(' [param (',' param)*] ')' '{' init* node* ret '}'
 *   param   := value ':' type          (a param named like an init is that init)
 *   init    := 'init' value '=' tensor
 *   node    := [value (',' value)* '='] [name '::'] name
 *              '(' [input (',' input)*] ')' ['{' attr (',' attr)* '}']
 *              [':' type (',' type)*] ['name' '=' STR] ['group' '=' INT]
 *   input   := value | '_'                      ('_': omitted optional input)
 *   ret     := 'return' [value (',' value)*]
 *   value   := '%' (IDCHARS | STR)
 *   name    := IDENT | STR
 *   type    := '?' | dtype dims | '?' dims | 'seq' '<' elem '>' | 'opt' '<' ('?' | 'seq' '<' elem '>' | dtype dims) '>'
 *   elem    := '?' | dtype dims | '?' dims
 *   dims    := '[' ('*' | [dim (',' dim)*]) ']'     dim := INT | '?' | name
 *   attr    := name '=' aval
 *   aval    := INT | FLOAT | STR | tensor | graph | 'type' '<' type '>' | list
 *   list    := [kind] '[' [aval (',' aval)*] ']'    kind: ints floats strings tensors graphs types
 *   tensor  := 'dense' '<' dtype dims '>' ('[' [elt (',' elt)*] ']' | 'hex' STR | 'elided')
 * FLOAT has a '.' or an exponent, or is inf / -inf / nan. */
#include "ir/text.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Deepest nesting of subgraphs we accept (bounds recursion on hostile text). */
enum { MAX_DEPTH = 48 };

typedef struct parser {
  const char *s;
  size_t n, pos;
  size_t tok; /* start of the current token, for messages */
  const char *src;
  aicc_model *m;
  aicc_status err;
  int depth;
} parser;

/* ---- errors ---- */

static void where(const parser *p, size_t at, int *line, int *col) {
  int l = 1, c = 1;
  for (size_t i = 0; i < at && i < p->n; i++) {
    if (p->s[i] == '\n') {
      l++;
      c = 1;
    } else {
      c++;
    }
  }
  *line = l;
  *col = c;
}

static bool fail_at(parser *p, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail_at(parser *p, size_t at, const char *fmt, ...) {
  if (p->err) return false;
  int line, col;
  where(p, at, &line, &col);
  va_list ap;
  va_start(ap, fmt);
  p->err = aicc_verrorf(AICC_ERR_INVALID, fmt, ap);
  va_end(ap);
  p->err = aicc_status_wrap(p->err, "%s:%d:%d", p->src, line, col);
  return false;
}
#define fail(p, ...) fail_at((p), (p)->tok, __VA_ARGS__)

/* Takes a status from the graph API and places it at `at`. */
static bool status_at(parser *p, size_t at, aicc_status s) {
  if (!s) return true;
  if (p->err) {
    aicc_status_free(s);
    return false;
  }
  int line, col;
  where(p, at, &line, &col);
  p->err = aicc_status_wrap(s, "%s:%d:%d", p->src, line, col);
  return false;
}

static bool nomem(parser *p) {
  return status_at(p, p->tok, aicc_errorf(AICC_ERR_NOMEM, "out of memory"));
}

/* ---- lexer ---- */

static bool ident_start(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool ident_char(int c) {
  return ident_start(c) || (c >= '0' && c <= '9') || c == '.';
}
static bool is_digit(int c) { return c >= '0' && c <= '9'; }

static int at(const parser *p, size_t i) {
  return i < p->n ? (unsigned char)p->s[i] : -1;
}

static void skip_ws(parser *p) {
  for (;;) {
    int c = at(p, p->pos);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      p->pos++;
    } else if (c == '/' && at(p, p->pos + 1) == '/') {
      while (p->pos < p->n && p->s[p->pos] != '\n') p->pos++;
    } else {
      break;
    }
  }
  p->tok = p->pos;
}

static int peek(parser *p) {
  skip_ws(p);
  return at(p, p->pos);
}

static bool accept(parser *p, char c) {
  if (peek(p) != (unsigned char)c) return false;
  p->pos++;
  return true;
}

static bool expect(parser *p, char c, const char *ctx) {
  if (accept(p, c)) return true;
  return fail(p, "expected '%c' %s", c, ctx);
}

/* Length of the identifier at the current token (0 if none). */
static size_t ident_len(parser *p) {
  skip_ws(p);
  if (!ident_start(at(p, p->pos))) return 0;
  size_t k = 1;
  while (ident_char(at(p, p->pos + k))) k++;
  return k;
}

static bool peek_kw(parser *p, const char *kw) {
  size_t k = ident_len(p);
  return k == strlen(kw) && memcmp(p->s + p->pos, kw, k) == 0;
}

static bool accept_kw(parser *p, const char *kw) {
  if (!peek_kw(p, kw)) return false;
  p->pos += strlen(kw);
  return true;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* A quoted string at the current token, decoded into the arena
 * (NUL-terminated; *len is the decoded length, which may include NULs). */
static bool lex_string(parser *p, char **out, size_t *len) {
  if (peek(p) != '"') return fail(p, "expected a string");
  size_t start = ++p->pos;
  size_t end = start;
  while (end < p->n && p->s[end] != '"') {
    if (p->s[end] == '\n' || p->s[end] == '\r') return fail_at(p, end, "newline in string (write \\n)");
    if (p->s[end] == '\\') end++;
    end++;
  }
  if (end >= p->n) return fail(p, "unterminated string");
  char *d = aicc_arena_alloc(&p->m->arena, end - start + 1, 1);
  if (!d) return nomem(p);
  size_t k = 0;
  for (size_t i = start; i < end; i++) {
    unsigned char c = (unsigned char)p->s[i];
    if (c != '\\') {
      d[k++] = (char)c;
      continue;
    }
    unsigned char e = (unsigned char)p->s[++i];
    switch (e) {
    case '"': d[k++] = '"'; break;
    case '\\': d[k++] = '\\'; break;
    case 'n': d[k++] = '\n'; break;
    case 't': d[k++] = '\t'; break;
    case 'r': d[k++] = '\r'; break;
    case 'x': {
      int h = hexval(at(p, i + 1)), l = hexval(at(p, i + 2));
      if (h < 0 || l < 0 || i + 2 >= end)
        return fail_at(p, i - 1, "\\x needs two hex digits");
      d[k++] = (char)(h * 16 + l);
      i += 2;
      break;
    }
    default: return fail_at(p, i - 1, "unknown escape '\\%c'", e >= 0x20 && e < 0x7f ? e : '?');
    }
  }
  d[k] = 0;
  p->pos = end + 1;
  *out = d;
  if (len) *len = k;
  return true;
}

/* A name: identifier or quoted string without NULs. */
static bool lex_name(parser *p, const char **out, const char *what) {
  size_t k = ident_len(p);
  if (k) {
    *out = aicc_arena_strndup(&p->m->arena, p->s + p->pos, k);
    if (!*out) return nomem(p);
    p->pos += k;
    return true;
  }
  if (peek(p) != '"') return fail(p, "expected %s", what);
  size_t tok = p->tok, len;
  char *s;
  if (!lex_string(p, &s, &len)) return false;
  if (strlen(s) != len) return fail_at(p, tok, "%s contains a NUL byte", what);
  *out = s;
  return true;
}

/* '%' followed (without space) by IDCHARS or a quoted string. */
static bool lex_value_name(parser *p, const char **out) {
  if (peek(p) != '%') return fail(p, "expected a value (%%name)");
  size_t tok = p->tok;
  p->pos++;
  int c = at(p, p->pos);
  if (c == '"') {
    size_t len;
    char *s;
    if (!lex_string(p, &s, &len)) return false;
    if (strlen(s) != len) return fail_at(p, tok, "value name contains a NUL byte");
    *out = s;
  } else {
    size_t k = 0;
    while (ident_char(at(p, p->pos + k))) k++;
    if (!k) return fail_at(p, tok, "expected a value name after '%%'");
    *out = aicc_arena_strndup(&p->m->arena, p->s + p->pos, k);
    if (!*out) return nomem(p);
    p->pos += k;
  }
  p->tok = tok;
  return true;
}

typedef struct num {
  bool is_float, neg, overflow;
  uint64_t mag; /* integers: magnitude */
  double d;     /* floats */
  float f;      /* floats, rounded once from the text */
} num;

static bool starts_number(parser *p) {
  int c = peek(p);
  if (is_digit(c)) return true;
  if (c != '-') return false;
  int d = at(p, p->pos + 1);
  return is_digit(d) || d == 'i' || d == 'n';
}

static bool lex_number(parser *p, num *x) {
  memset(x, 0, sizeof *x);
  skip_ws(p);
  size_t start = p->pos;
  if (at(p, p->pos) == '-') {
    x->neg = true;
    p->pos++;
  }
  if (!is_digit(at(p, p->pos))) {
    /* inf / nan */
    bool inf = p->pos + 3 <= p->n && memcmp(p->s + p->pos, "inf", 3) == 0;
    bool nan = p->pos + 3 <= p->n && memcmp(p->s + p->pos, "nan", 3) == 0;
    if ((inf || nan) && !ident_char(at(p, p->pos + 3))) {
      x->is_float = true;
      x->d = inf ? (x->neg ? -INFINITY : INFINITY) : NAN;
      x->f = (float)x->d;
      p->pos += 3;
      p->tok = start;
      return true;
    }
    return fail_at(p, start, "expected a number");
  }
  while (is_digit(at(p, p->pos))) {
    unsigned dgt = (unsigned)(p->s[p->pos] - '0');
    if (x->mag > (UINT64_MAX - dgt) / 10) x->overflow = true;
    else x->mag = x->mag * 10 + dgt;
    p->pos++;
  }
  if (at(p, p->pos) == '.') {
    x->is_float = true;
    p->pos++;
    while (is_digit(at(p, p->pos))) p->pos++;
  }
  int c = at(p, p->pos);
  if (c == 'e' || c == 'E') {
    x->is_float = true;
    p->pos++;
    if (at(p, p->pos) == '-' || at(p, p->pos) == '+') p->pos++;
    if (!is_digit(at(p, p->pos))) return fail_at(p, start, "malformed number");
    while (is_digit(at(p, p->pos))) p->pos++;
  }
  if (ident_char(at(p, p->pos))) return fail_at(p, start, "malformed number");
  if (x->is_float) {
    char buf[128];
    size_t len = p->pos - start;
    if (len >= sizeof buf) return fail_at(p, start, "number too long");
    memcpy(buf, p->s + start, len);
    buf[len] = 0;
    x->d = strtod(buf, NULL);
    x->f = strtof(buf, NULL);
  }
  p->tok = start;
  return true;
}

/* Integer within [lo, hi] (hi as unsigned so u64 fits). */
static bool num_to_int(parser *p, const num *x, int64_t lo, uint64_t hi, int64_t *out,
                       uint64_t *uout) {
  if (x->is_float) return fail(p, "expected an integer");
  if (x->overflow) return fail(p, "integer out of range");
  if (x->neg) {
    if (x->mag > (uint64_t)INT64_MAX + 1 || (x->mag && -(int64_t)(x->mag - 1) - 1 < lo))
      return fail(p, "integer out of range");
    *out = x->mag ? -(int64_t)(x->mag - 1) - 1 : 0;
    if (uout) *uout = (uint64_t)*out;
    return true;
  }
  if (x->mag > hi) return fail(p, "integer out of range");
  if (uout) *uout = x->mag;
  *out = (int64_t)x->mag;
  return true;
}

static bool lex_int64(parser *p, int64_t *out) {
  num x;
  if (!lex_number(p, &x)) return false;
  return num_to_int(p, &x, INT64_MIN, INT64_MAX, out, NULL);
}

/* ---- arena vectors (no frees on error paths: the model owns them) ---- */

static void *grow(parser *p, void *data, size_t *cap, size_t len, size_t elem) {
  if (len < *cap) return data;
  size_t c = *cap ? *cap * 2 : 4;
  void *d = aicc_arena_alloc(&p->m->arena, c * elem, 16);
  if (!d) {
    nomem(p);
    return NULL;
  }
  if (len) memcpy(d, data, len * elem);
  *cap = c;
  return d;
}
#define PUSH(p, arr, len, cap, x)                                              \
  (((arr) = grow((p), (arr), &(cap), (len), sizeof *(arr))) != NULL &&         \
   ((arr)[(len)++] = (x), true))

/* ---- types ---- */

static bool parse_dims(parser *p, aicc_type *t) {
  if (!expect(p, '[', "to open the dimensions")) return false;
  if (accept(p, '*')) {
    t->rank = -1;
    return expect(p, ']', "after '*'");
  }
  t->rank = 0;
  if (accept(p, ']')) return true;
  do {
    if (t->rank >= AICC_MAX_RANK) return fail(p, "rank exceeds %d", AICC_MAX_RANK);
    aicc_dim *d = &t->dims[t->rank++];
    int c = peek(p);
    if (c == '?') {
      p->pos++;
      *d = aicc_dim_unknown();
    } else if (is_digit(c) || c == '-') {
      int64_t v;
      if (!lex_int64(p, &v)) return false;
      if (v < 0) return fail(p, "negative dimension");
      *d = aicc_dim_known(v);
    } else {
      const char *sym;
      if (!lex_name(p, &sym, "a dimension")) return false;
      d->size = -1;
      d->sym = sym;
    }
  } while (accept(p, ','));
  return expect(p, ']', "after the dimensions");
}

/* dtype dims, or '?' dims (undefined dtype). */
static bool parse_tensor_type(parser *p, aicc_type *t) {
  t->kind = AICC_KIND_TENSOR;
  if (accept(p, '?')) {
    t->dtype = AICC_DTYPE_UNDEFINED;
    return parse_dims(p, t);
  }
  size_t k = ident_len(p);
  aicc_dtype dt = k ? aicc_dtype_from_text(p->s + p->pos, k) : AICC_DTYPE_UNDEFINED;
  if (dt == AICC_DTYPE_UNDEFINED) return fail(p, "expected a type");
  p->pos += k;
  t->dtype = dt;
  return parse_dims(p, t);
}

/* Element of seq<...>: '?' alone means nothing is known. */
static bool parse_elem(parser *p, aicc_type *t) {
  if (peek(p) == '?') {
    size_t save = p->pos;
    p->pos++;
    if (peek(p) != '[') {
      t->dtype = AICC_DTYPE_UNDEFINED;
      t->rank = -1;
      return true;
    }
    p->pos = save;
  }
  return parse_tensor_type(p, t);
}

static bool parse_type(parser *p, aicc_type *t) {
  memset(t, 0, sizeof *t);
  if (peek(p) == '?') {
    size_t save = p->pos;
    p->pos++;
    if (peek(p) != '[') {
      t->kind = AICC_KIND_NONE;
      t->rank = -1;
      return true;
    }
    p->pos = save;
    return parse_tensor_type(p, t);
  }
  if (accept_kw(p, "seq")) {
    if (!expect(p, '<', "after 'seq'") || !parse_elem(p, t)) return false;
    t->kind = AICC_KIND_SEQUENCE;
    return expect(p, '>', "to close 'seq<'");
  }
  if (accept_kw(p, "opt")) {
    if (!expect(p, '<', "after 'opt'")) return false;
    if (accept_kw(p, "seq")) {
      if (!expect(p, '<', "after 'seq'") || !parse_elem(p, t)) return false;
      if (!expect(p, '>', "to close 'seq<'")) return false;
      t->elem_kind = AICC_KIND_SEQUENCE;
    } else {
      size_t save = (skip_ws(p), p->pos);
      if (accept(p, '?') && peek(p) != '[') {
        t->elem_kind = AICC_KIND_NONE;
        t->dtype = AICC_DTYPE_UNDEFINED;
        t->rank = -1;
      } else {
        p->pos = save;
        if (!parse_tensor_type(p, t)) return false;
        t->elem_kind = AICC_KIND_TENSOR;
      }
    }
    t->kind = AICC_KIND_OPTIONAL;
    return expect(p, '>', "to close 'opt<'");
  }
  return parse_tensor_type(p, t);
}

/* ---- tensors ---- */

static bool set_elem(parser *p, aicc_tensor *t, int64_t i, const num *x) {
  int64_t v;
  uint64_t u;
  void *d = t->data;
  switch (t->dtype) {
  case AICC_DTYPE_F32: ((float *)d)[i] = x->is_float ? x->f : (x->neg ? -(float)x->mag : (float)x->mag); return true;
  case AICC_DTYPE_F64: ((double *)d)[i] = x->is_float ? x->d : (x->neg ? -(double)x->mag : (double)x->mag); return true;
  case AICC_DTYPE_BOOL:
    if (!num_to_int(p, x, 0, 1, &v, NULL)) return false;
    ((uint8_t *)d)[i] = (uint8_t)v;
    return true;
  case AICC_DTYPE_U8: if (!num_to_int(p, x, 0, UINT8_MAX, &v, NULL)) return false; ((uint8_t *)d)[i] = (uint8_t)v; return true;
  case AICC_DTYPE_I8: if (!num_to_int(p, x, INT8_MIN, INT8_MAX, &v, NULL)) return false; ((int8_t *)d)[i] = (int8_t)v; return true;
  case AICC_DTYPE_U16: if (!num_to_int(p, x, 0, UINT16_MAX, &v, NULL)) return false; ((uint16_t *)d)[i] = (uint16_t)v; return true;
  case AICC_DTYPE_I16: if (!num_to_int(p, x, INT16_MIN, INT16_MAX, &v, NULL)) return false; ((int16_t *)d)[i] = (int16_t)v; return true;
  case AICC_DTYPE_U32: if (!num_to_int(p, x, 0, UINT32_MAX, &v, NULL)) return false; ((uint32_t *)d)[i] = (uint32_t)v; return true;
  case AICC_DTYPE_I32: if (!num_to_int(p, x, INT32_MIN, INT32_MAX, &v, NULL)) return false; ((int32_t *)d)[i] = (int32_t)v; return true;
  case AICC_DTYPE_U64: if (!num_to_int(p, x, 0, UINT64_MAX, &v, &u)) return false; ((uint64_t *)d)[i] = u; return true;
  case AICC_DTYPE_I64: if (!num_to_int(p, x, INT64_MIN, INT64_MAX, &v, NULL)) return false; ((int64_t *)d)[i] = v; return true;
  case AICC_DTYPE_U4: if (!num_to_int(p, x, 0, 15, &v, NULL)) return false; aicc_tensor_set_i64(t, i, v); return true;
  case AICC_DTYPE_I4: if (!num_to_int(p, x, -8, 7, &v, NULL)) return false; aicc_tensor_set_i64(t, i, v); return true;
  case AICC_DTYPE_U2: if (!num_to_int(p, x, 0, 3, &v, NULL)) return false; aicc_tensor_set_i64(t, i, v); return true;
  case AICC_DTYPE_I2: if (!num_to_int(p, x, -2, 1, &v, NULL)) return false; aicc_tensor_set_i64(t, i, v); return true;
  default:
    if (aicc_dtype_is_float(t->dtype)) {
      aicc_tensor_set_f64(t, i, x->is_float ? x->d : (x->neg ? -(double)x->mag : (double)x->mag));
      return true;
    }
    return fail(p, "%s data must be written as hex", aicc_dtype_text(t->dtype));
  }
}

/* 'dense' already consumed. Returns a new tensor reference in *out. */
static bool parse_tensor(parser *p, aicc_tensor **out) {
  *out = NULL;
  aicc_type ty;
  memset(&ty, 0, sizeof ty);
  if (!expect(p, '<', "after 'dense'")) return false;
  size_t ty_at = (skip_ws(p), p->tok);
  if (!parse_tensor_type(p, &ty)) return false;
  if (ty.dtype == AICC_DTYPE_UNDEFINED) return fail_at(p, ty_at, "tensor data needs a dtype");
  int64_t dims[AICC_MAX_RANK];
  if (ty.rank < 0) return fail_at(p, ty_at, "tensor data needs a known rank");
  for (int i = 0; i < ty.rank; i++) {
    if (!aicc_dim_is_known(ty.dims[i])) return fail_at(p, ty_at, "tensor data needs known dimensions");
    dims[i] = ty.dims[i].size;
  }
  if (!expect(p, '>', "after the tensor type")) return false;
  int64_t numel = aicc_dims_numel(dims, ty.rank);
  if (numel < 0) return fail_at(p, ty_at, "tensor shape overflows");
  int c = peek(p);
  size_t left = p->n - p->pos;
  bool elided = peek_kw(p, "elided");
  bool hex = peek_kw(p, "hex");
  if (!elided && !hex && c != '[') return fail(p, "expected '[', 'hex' or 'elided' after the tensor type");
  if (hex && ty.dtype == AICC_DTYPE_STRING) return fail(p, "string tensors are written as a list");
  /* Refuse sizes the text cannot possibly fill before allocating. */
  if (!elided) {
    if ((uint64_t)numel > (uint64_t)left * 4) return fail(p, "tensor data is shorter than its shape");
    size_t need = hex ? 2 * aicc_dtype_storage_bytes(ty.dtype, (size_t)numel) : (size_t)numel;
    if (need > left) return fail(p, "tensor data is shorter than its shape");
  }
  aicc_tensor *t;
  if (!status_at(p, ty_at, aicc_tensor_create(ty.dtype, ty.rank, dims, &t))) return false;
  if (elided) {
    p->pos += 6;
  } else if (hex) {
    p->pos += 3;
    if (peek(p) != '"') {
      aicc_tensor_release(t);
      return fail(p, "expected '\"' after 'hex'");
    }
    size_t start = ++p->pos, end = start;
    while (end < p->n && hexval((unsigned char)p->s[end]) >= 0) end++;
    if (end >= p->n || p->s[end] != '"') {
      aicc_tensor_release(t);
      return fail_at(p, end, "expected hex digits and a closing '\"'");
    }
    if ((end - start) != 2 * t->nbytes) {
      size_t need = t->nbytes;
      aicc_tensor_release(t);
      return fail_at(p, start, "hex data has %zu digits, the type needs %zu bytes (%zu digits)",
                     end - start, need, 2 * need);
    }
    unsigned char *d = t->data;
    for (size_t i = 0; i < t->nbytes; i++)
      d[i] = (unsigned char)(hexval(p->s[start + 2 * i]) * 16 + hexval(p->s[start + 2 * i + 1]));
    p->pos = end + 1;
  } else {
    p->pos++; /* '[' */
    int64_t i = 0;
    if (peek(p) != ']') {
      do {
        if (i >= numel) {
          aicc_tensor_release(t);
          return fail(p, "more elements than the shape holds (%lld)", (long long)numel);
        }
        bool ok;
        if (ty.dtype == AICC_DTYPE_STRING) {
          char *s;
          size_t len;
          ok = lex_string(p, &s, &len) &&
               status_at(p, p->tok, aicc_tensor_set_string(t, i, s, len));
        } else {
          num x;
          ok = lex_number(p, &x) && set_elem(p, t, i, &x);
        }
        if (!ok) {
          aicc_tensor_release(t);
          return false;
        }
        i++;
      } while (accept(p, ','));
    }
    if (!accept(p, ']')) {
      aicc_tensor_release(t);
      return fail(p, "expected ']' after the tensor elements");
    }
    if (i != numel) {
      aicc_tensor_release(t);
      return fail(p, "tensor has %lld elements, the shape needs %lld", (long long)i,
                  (long long)numel);
    }
  }
  *out = t;
  return true;
}

/* ---- graphs, nodes, attributes ---- */

static bool parse_graph(parser *p, aicc_graph *g);

static bool parse_subgraph(parser *p, aicc_graph *parent, aicc_graph **out) {
  if (!accept_kw(p, "graph")) return fail(p, "expected 'graph'");
  if (p->depth >= MAX_DEPTH) return fail(p, "subgraphs nest deeper than %d", MAX_DEPTH);
  if (!status_at(p, p->tok, aicc_graph_create(p->m, parent, "", out))) return false;
  p->depth++;
  bool ok = parse_graph(p, *out);
  p->depth--;
  return ok;
}

/* One list element or scalar attribute value. `kind` receives the scalar
 * kind (INT, FLOAT, STRING, TENSOR, GRAPH, TYPE_PROTO). */
typedef struct aval {
  aicc_attr_kind kind;
  num x;
  aicc_bytes s;
  aicc_tensor *t;
  aicc_graph *g;
  aicc_type tp;
} aval;

static bool own(parser *p, aicc_tensor *t) {
  return status_at(p, p->tok, aicc_model_own_tensor(p->m, t));
}

static bool parse_scalar(parser *p, aicc_graph *g, aval *v) {
  memset(v, 0, sizeof *v);
  int c = peek(p);
  if (c == '"') {
    char *s;
    size_t len;
    if (!lex_string(p, &s, &len)) return false;
    v->kind = AICC_ATTR_STRING;
    v->s = (aicc_bytes){s, len};
    return true;
  }
  if (starts_number(p) || peek_kw(p, "inf") || peek_kw(p, "nan")) {
    if (!lex_number(p, &v->x)) return false;
    v->kind = v->x.is_float ? AICC_ATTR_FLOAT : AICC_ATTR_INT;
    return true;
  }
  if (accept_kw(p, "dense")) {
    if (!parse_tensor(p, &v->t) || !own(p, v->t)) return false;
    v->kind = AICC_ATTR_TENSOR;
    return true;
  }
  if (peek_kw(p, "graph")) {
    v->kind = AICC_ATTR_GRAPH;
    return parse_subgraph(p, g, &v->g);
  }
  if (accept_kw(p, "type")) {
    v->kind = AICC_ATTR_TYPE_PROTO;
    return expect(p, '<', "after 'type'") && parse_type(p, &v->tp) &&
           expect(p, '>', "to close 'type<'");
  }
  return fail(p, "expected an attribute value");
}

static aicc_attr_kind list_kind_of(aicc_attr_kind scalar) {
  switch (scalar) {
  case AICC_ATTR_INT: return AICC_ATTR_INTS;
  case AICC_ATTR_FLOAT: return AICC_ATTR_FLOATS;
  case AICC_ATTR_STRING: return AICC_ATTR_STRINGS;
  case AICC_ATTR_TENSOR: return AICC_ATTR_TENSORS;
  case AICC_ATTR_GRAPH: return AICC_ATTR_GRAPHS;
  case AICC_ATTR_TYPE_PROTO: return AICC_ATTR_TYPE_PROTOS;
  default: return AICC_ATTR_UNDEFINED;
  }
}

static const struct {
  const char *kw;
  aicc_attr_kind kind;
} list_kws[] = {{"ints", AICC_ATTR_INTS},       {"floats", AICC_ATTR_FLOATS},
                {"strings", AICC_ATTR_STRINGS}, {"tensors", AICC_ATTR_TENSORS},
                {"graphs", AICC_ATTR_GRAPHS},   {"types", AICC_ATTR_TYPE_PROTOS}};

/* '[' ... ']' with an optional kind keyword before it (required when empty).
 * Integers in a float list are promoted; any other mix is an error. */
static bool parse_list(parser *p, aicc_graph *g, aicc_attr_kind kind, aicc_attr *a) {
  size_t open = p->tok;
  if (!expect(p, '[', "to open the list")) return false;
  aval *vs = NULL;
  size_t len = 0, cap = 0;
  bool any_float = false, given = kind != AICC_ATTR_UNDEFINED;
  size_t first_float = 0;
  if (peek(p) != ']') {
    do {
      aval v;
      size_t el = (skip_ws(p), p->tok);
      if (!parse_scalar(p, g, &v)) return false;
      aicc_attr_kind lk = list_kind_of(v.kind);
      if (lk == AICC_ATTR_FLOATS && !any_float) any_float = true, first_float = el;
      bool numeric = lk == AICC_ATTR_INTS || lk == AICC_ATTR_FLOATS;
      if (kind == AICC_ATTR_UNDEFINED && len == 0) kind = lk;
      bool numeric_list = kind == AICC_ATTR_INTS || kind == AICC_ATTR_FLOATS;
      if (lk != kind && !(numeric && numeric_list))
        return fail_at(p, el, "list mixes %s with %s", aicc_attr_kind_name(kind),
                       aicc_attr_kind_name(v.kind));
      if (!PUSH(p, vs, len, cap, v)) return false;
    } while (accept(p, ','));
  }
  if (!expect(p, ']', "to close the list")) return false;
  if (kind == AICC_ATTR_UNDEFINED)
    return fail_at(p, open, "an empty list needs a kind: ints[], floats[], strings[], tensors[], graphs[] or types[]");
  if (kind == AICC_ATTR_INTS && any_float) {
    if (given) return fail_at(p, first_float, "expected an integer in ints[...]");
    kind = AICC_ATTR_FLOATS;
  }
  a->kind = kind;
  a->n = (int64_t)len;
  aicc_arena *ar = &p->m->arena;
  size_t nn = len ? len : 1;
  switch (kind) {
  case AICC_ATTR_INTS:
    if (!(a->is = AICC_ARENA_ARRAY(ar, int64_t, nn))) return nomem(p);
    for (size_t i = 0; i < len; i++)
      if (!num_to_int(p, &vs[i].x, INT64_MIN, INT64_MAX, &a->is[i], NULL)) return false;
    break;
  case AICC_ATTR_FLOATS:
    if (!(a->fs = AICC_ARENA_ARRAY(ar, float, nn))) return nomem(p);
    for (size_t i = 0; i < len; i++) {
      const num *x = &vs[i].x;
      a->fs[i] = x->is_float ? x->f : (x->neg ? -(float)x->mag : (float)x->mag);
    }
    break;
  case AICC_ATTR_STRINGS:
    if (!(a->ss = AICC_ARENA_ARRAY(ar, aicc_bytes, nn))) return nomem(p);
    for (size_t i = 0; i < len; i++) a->ss[i] = vs[i].s;
    break;
  case AICC_ATTR_TENSORS:
    if (!(a->ts = AICC_ARENA_ARRAY(ar, aicc_tensor *, nn))) return nomem(p);
    for (size_t i = 0; i < len; i++) a->ts[i] = vs[i].t;
    break;
  case AICC_ATTR_GRAPHS:
    if (!(a->gs = AICC_ARENA_ARRAY(ar, aicc_graph *, nn))) return nomem(p);
    for (size_t i = 0; i < len; i++) a->gs[i] = vs[i].g;
    break;
  case AICC_ATTR_TYPE_PROTOS:
    if (!(a->tps = AICC_ARENA_ARRAY(ar, aicc_type, nn))) return nomem(p);
    for (size_t i = 0; i < len; i++) a->tps[i] = vs[i].tp;
    break;
  default: return fail_at(p, open, "unsupported list");
  }
  return true;
}

static bool parse_attr_value(parser *p, aicc_graph *g, aicc_attr *a) {
  for (size_t i = 0; i < sizeof list_kws / sizeof list_kws[0]; i++)
    if (accept_kw(p, list_kws[i].kw)) return parse_list(p, g, list_kws[i].kind, a);
  if (peek(p) == '[') return parse_list(p, g, AICC_ATTR_UNDEFINED, a);
  aval v;
  if (!parse_scalar(p, g, &v)) return false;
  a->kind = v.kind;
  switch (v.kind) {
  case AICC_ATTR_INT: return num_to_int(p, &v.x, INT64_MIN, INT64_MAX, &a->i, NULL);
  case AICC_ATTR_FLOAT: a->f = v.x.f; return true;
  case AICC_ATTR_STRING: a->s = v.s; return true;
  case AICC_ATTR_TENSOR: a->t = v.t; return true;
  case AICC_ATTR_GRAPH: a->g = v.g; return true;
  case AICC_ATTR_TYPE_PROTO: a->tp = v.tp; return true;
  default: return fail(p, "unsupported attribute value");
  }
}

static bool parse_node(parser *p, aicc_graph *g) {
  const char **onames = NULL;
  size_t n_out = 0, ocap = 0;
  size_t first = p->tok;
  if (peek(p) == '%') {
    do {
      const char *nm;
      if (!lex_value_name(p, &nm) || !PUSH(p, onames, n_out, ocap, nm)) return false;
    } while (accept(p, ','));
    if (!expect(p, '=', "after the node's outputs")) return false;
  }
  size_t op_at = (skip_ws(p), p->tok);
  const char *op, *domain = "";
  if (!lex_name(p, &op, "an operator name")) return false;
  if (peek(p) == ':' && at(p, p->pos + 1) == ':') {
    p->pos += 2;
    domain = op;
    if (!lex_name(p, &op, "an operator name after '::'")) return false;
  }
  if (!expect(p, '(', "after the operator name")) return false;
  aicc_value **ins = NULL;
  size_t n_in = 0, icap = 0;
  if (!accept(p, ')')) {
    do {
      aicc_value *v = NULL;
      if (accept_kw(p, "_")) {
        v = NULL;
      } else {
        const char *nm;
        if (!lex_value_name(p, &nm)) return false;
        v = aicc_graph_value_find(g, nm);
        if (!v) return fail(p, "use of undefined value %%%s", nm);
      }
      if (!PUSH(p, ins, n_in, icap, v)) return false;
    } while (accept(p, ','));
    if (!expect(p, ')', "after the input list")) return false;
  }
  aicc_attr *attrs = NULL;
  size_t n_attr = 0, acap = 0;
  if (accept(p, '{')) {
    do {
      aicc_attr a;
      memset(&a, 0, sizeof a);
      if (!lex_name(p, &a.name, "an attribute name") ||
          !expect(p, '=', "after the attribute name") || !parse_attr_value(p, g, &a) ||
          !PUSH(p, attrs, n_attr, acap, a))
        return false;
    } while (accept(p, ','));
    if (!expect(p, '}', "after the attributes")) return false;
  }
  aicc_type *types = NULL;
  if (peek(p) == ':' && at(p, p->pos + 1) != ':') {
    p->pos++;
    if (n_out == 0) return fail(p, "a node without outputs has no types");
    types = AICC_ARENA_ARRAY(&p->m->arena, aicc_type, n_out);
    if (!types) return nomem(p);
    for (size_t i = 0; i < n_out; i++) {
      if (i && !expect(p, ',', "between output types (one per output)")) return false;
      if (!parse_type(p, &types[i])) return false;
    }
    if (peek(p) == ',') return fail(p, "more types than the node has outputs (%zu)", n_out);
  }
  const char *name = "";
  if (accept_kw(p, "name")) {
    size_t len;
    char *s;
    if (!expect(p, '=', "after 'name'") || !lex_string(p, &s, &len)) return false;
    if (strlen(s) != len) return fail(p, "node name contains a NUL byte");
    name = s;
  }
  /* Fusion group id (passes/fuse.c); only when followed by '=', so that a
   * next node's operator could never be taken for it. */
  int64_t group = 0;
  size_t before_group = p->pos;
  bool has_group = accept_kw(p, "fusion");
  if (has_group && peek(p) != '=') {
    has_group = false;
    p->pos = before_group;
  }
  if (has_group) {
    if (!expect(p, '=', "after 'fusion'") || !lex_int64(p, &group)) return false;
    if (group < 0 || group > INT32_MAX) return fail(p, "fusion group id %lld is out of range", (long long)group);
  }
  aicc_value **outs = AICC_ARENA_ARRAY(&p->m->arena, aicc_value *, n_out ? n_out : 1);
  if (!outs) return nomem(p);
  for (size_t i = 0; i < n_out; i++) {
    aicc_type none;
    memset(&none, 0, sizeof none);
    none.rank = -1;
    if (!status_at(p, first, aicc_graph_value_add(g, onames[i], types ? &types[i] : &none,
                                                  &outs[i])))
      return false;
  }
  aicc_node *nd;
  if (!status_at(p, op_at, aicc_graph_node_add(g, name, op, domain, ins, (int)n_in, outs,
                                               (int)n_out, &nd)))
    return false;
  nd->group = (int32_t)group;
  if (n_attr) {
    if (!status_at(p, op_at, aicc_node_attrs_alloc(nd, (int)n_attr))) return false;
    memcpy(nd->attrs, attrs, sizeof *attrs * n_attr);
  }
  return true;
}

typedef struct param {
  const char *name;
  aicc_type type;
  size_t at;
} param;

/* 'graph' consumed; fills g. */
static bool parse_graph(parser *p, aicc_graph *g) {
  const char *gname;
  if (!lex_name(p, &gname, "a graph name")) return false;
  g->name = gname;
  if (!expect(p, '(', "after the graph name")) return false;
  param *ps = NULL;
  size_t np = 0, pcap = 0;
  if (!accept(p, ')')) {
    do {
      param q;
      q.at = (skip_ws(p), p->tok);
      if (!lex_value_name(p, &q.name) || !expect(p, ':', "after the input name") ||
          !parse_type(p, &q.type) || !PUSH(p, ps, np, pcap, q))
        return false;
    } while (accept(p, ','));
    if (!expect(p, ')', "after the graph inputs")) return false;
  }
  if (!expect(p, '{', "to open the graph body")) return false;
  while (accept_kw(p, "init")) {
    size_t at0 = p->tok;
    const char *nm;
    aicc_tensor *t;
    aicc_value *v;
    if (!lex_value_name(p, &nm) || !expect(p, '=', "after the initializer name")) return false;
    if (!accept_kw(p, "dense")) return fail(p, "expected 'dense<...>' initializer data");
    if (!parse_tensor(p, &t)) return false;
    if (!status_at(p, at0, aicc_graph_init_add(g, nm, t, &v))) return false;
  }
  /* Inputs after the initializers: an input named like one is that value. */
  for (size_t i = 0; i < np; i++) {
    aicc_value *v = aicc_hashmap_get(&g->names, ps[i].name);
    if (v && v->init) {
      for (size_t k = 0; k < g->inputs.len; k++)
        if (g->inputs.data[k] == v)
          return fail_at(p, ps[i].at, "input %%%s is listed twice", ps[i].name);
      v->type = ps[i].type;
    } else if (!status_at(p, ps[i].at, aicc_graph_value_add(g, ps[i].name, &ps[i].type, &v))) {
      return false;
    }
    if (!status_at(p, ps[i].at, aicc_graph_input_add(g, v))) return false;
  }
  for (;;) {
    if (peek_kw(p, "return")) break;
    if (peek_kw(p, "init")) return fail(p, "initializers must come before the nodes");
    int c = peek(p);
    if (c == '}' || c < 0) return fail(p, "expected 'return' before the end of the graph");
    if (c != '%' && c != '"' && !ident_start(c)) return fail(p, "expected a node or 'return'");
    if (!parse_node(p, g)) return false;
  }
  p->pos += 6;
  if (peek(p) == '%') {
    do {
      const char *nm;
      if (!lex_value_name(p, &nm)) return false;
      aicc_value *v = aicc_graph_value_find(g, nm);
      if (!v) return fail(p, "return of undefined value %%%s", nm);
      if (!status_at(p, p->tok, aicc_graph_output_add(g, v))) return false;
    } while (accept(p, ','));
  }
  return expect(p, '}', "to close the graph");
}

static bool parse_header(parser *p) {
  if (!accept_kw(p, "aicc.model")) return fail(p, "expected 'aicc.model' at the start");
  unsigned seen = 0;
  static const char *const keys[] = {"ir_version", "opsets", "producer", "producer_version",
                                     "domain", "model_version", "doc"};
  while (!peek_kw(p, "graph")) {
    size_t key_at = p->tok;
    size_t k = ident_len(p);
    int which = -1;
    for (int i = 0; i < 7; i++)
      if (k == strlen(keys[i]) && memcmp(p->s + p->pos, keys[i], k) == 0) which = i;
    if (which < 0) return fail(p, "expected a model field or 'graph'");
    if (seen & (1u << which)) return fail(p, "model field '%s' given twice", keys[which]);
    seen |= 1u << which;
    p->pos += k;
    if (!expect(p, '=', "after the model field")) return false;
    aicc_model *m = p->m;
    char *s = NULL;
    size_t len = 0;
    switch (which) {
    case 0:
      if (!lex_int64(p, &m->ir_version)) return false;
      break;
    case 5:
      if (!lex_int64(p, &m->model_version)) return false;
      break;
    case 1:
      if (!expect(p, '{', "to open the opsets")) return false;
      if (!accept(p, '}')) {
        do {
          size_t d_at = (skip_ws(p), p->tok);
          int64_t ver;
          if (!lex_string(p, &s, &len)) return false;
          if (strlen(s) != len) return fail_at(p, d_at, "domain contains a NUL byte");
          if (!expect(p, ':', "after the opset domain") || !lex_int64(p, &ver)) return false;
          const char *norm = strcmp(s, "ai.onnx") == 0 ? "" : s;
          for (int i = 0; i < m->n_opsets; i++)
            if (strcmp(m->opsets[i].domain, norm) == 0)
              return fail_at(p, d_at, "opset domain \"%s\" given twice", s);
          if (!status_at(p, d_at, aicc_model_opset_set(m, s, ver))) return false;
        } while (accept(p, ','));
        if (!expect(p, '}', "to close the opsets")) return false;
      }
      break;
    default:
      if (!lex_string(p, &s, &len)) return false;
      if (strlen(s) != len) return fail_at(p, key_at, "model field contains a NUL byte");
      if (which == 2) m->producer_name = s;
      else if (which == 3) m->producer_version = s;
      else if (which == 4) m->domain = s;
      else m->doc = s;
    }
  }
  return true;
}

aicc_status aicc_model_parse(const char *text, size_t len, const char *source,
                             aicc_model **out) {
  *out = NULL;
  parser p = {.s = text ? text : "", .n = text ? len : 0, .src = source ? source : "<text>"};
  AICC_TRY(aicc_model_create(p.src, &p.m));
  if (parse_header(&p) && accept_kw(&p, "graph") && parse_graph(&p, p.m->graph)) {
    if (peek(&p) >= 0) fail(&p, "expected the end of the input after the main graph");
  }
  if (p.err) {
    aicc_model_destroy(p.m);
    return p.err;
  }
  *out = p.m;
  return NULL;
}
