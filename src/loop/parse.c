/* Loop IR parser: the syntax in text.h, recursive descent with precedence
 * climbing for expressions. Names resolve against lexical scopes (params,
 * for/let vars, allocations); every error is one line "file:line:col: reason"
 * at the offending token. Never aborts on bad text. */
#include "loop/text.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "core/vec.h"

typedef enum { T_EOF, T_IDENT, T_INT, T_FLOAT, T_PUNCT } tok_kind;

typedef struct {
  tok_kind kind;
  const char *s;
  size_t n;
  int line, col;
  uint64_t ival;   /* T_INT magnitude */
  double fval;     /* T_FLOAT */
  aicc_dtype type; /* literal type (suffix or default) */
} token;

typedef AICC_VEC(const aicc_loop_expr *) var_vec;
typedef AICC_VEC(const aicc_loop_buffer *) buf_vec;
typedef AICC_VEC(const aicc_loop_stmt *) stmt_vec;
typedef AICC_VEC(const aicc_loop_expr *) expr_vec;

typedef struct {
  aicc_loop_ctx *ctx;
  const char *file, *p, *end;
  int line, col;
  token tok; /* current (peeked) token */
  aicc_status err;
  var_vec vars; /* scope stack */
  buf_vec bufs;
} parser;

/* ---- errors ---- */

static void fail_at(parser *ps, const token *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail_at(parser *ps, const token *t, const char *fmt, ...) {
  if (ps->err) return;
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  ps->err = aicc_errorf(AICC_ERR_INVALID, "%s:%d:%d: %s", ps->file, t->line, t->col, msg);
}

static void oom(parser *ps) {
  if (!ps->err) ps->err = aicc_errorf(AICC_ERR_NOMEM, "%s: out of memory", ps->file);
}

/* ---- lexer ---- */

static void advance_char(parser *ps) {
  if (*ps->p == '\n') {
    ps->line++;
    ps->col = 1;
  } else {
    ps->col++;
  }
  ps->p++;
}

static void skip_space(parser *ps) {
  while (ps->p < ps->end) {
    if (isspace((unsigned char)*ps->p)) {
      advance_char(ps);
    } else if (ps->p + 1 < ps->end && ps->p[0] == '/' && ps->p[1] == '/') {
      while (ps->p < ps->end && *ps->p != '\n') advance_char(ps);
    } else {
      break;
    }
  }
}

static bool is_ident_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* A type suffix on a literal: "i64" etc.; returns UNDEFINED when not a type. */
static aicc_dtype suffix_type(const char *s, size_t n) {
  if (n == 0) return AICC_DTYPE_UNDEFINED;
  aicc_dtype t = aicc_dtype_from_text(s, n);
  return aicc_loop_type_valid(t) ? t : AICC_DTYPE_UNDEFINED;
}

static void lex(parser *ps) {
  skip_space(ps);
  token *t = &ps->tok;
  memset(t, 0, sizeof *t);
  t->s = ps->p;
  t->line = ps->line;
  t->col = ps->col;
  if (ps->p >= ps->end) {
    t->kind = T_EOF;
    return;
  }
  char c = *ps->p;
  if (isdigit((unsigned char)c)) {
    const char *q = ps->p;
    bool is_float = false, overflow = false;
    uint64_t v = 0;
    while (q < ps->end && isdigit((unsigned char)*q)) {
      uint64_t d = (uint64_t)(*q - '0');
      if (v > (UINT64_MAX - d) / 10) overflow = true;
      v = v * 10 + d;
      q++;
    }
    if (q < ps->end && *q == '.') {
      is_float = true;
      q++;
      while (q < ps->end && isdigit((unsigned char)*q)) q++;
    }
    if (q < ps->end && *q == 'e') {
      const char *r = q + 1;
      if (r < ps->end && (*r == '+' || *r == '-')) r++;
      if (r < ps->end && isdigit((unsigned char)*r)) {
        is_float = true;
        q = r;
        while (q < ps->end && isdigit((unsigned char)*q)) q++;
      }
    }
    const char *num_end = q;
    while (q < ps->end && is_ident_char(*q)) q++;
    t->n = (size_t)(q - ps->p);
    aicc_dtype st = suffix_type(num_end, (size_t)(q - num_end));
    if (q != num_end && st == AICC_DTYPE_UNDEFINED) {
      fail_at(ps, t, "bad literal suffix '%.*s'", (int)(q - num_end), num_end);
    } else if (is_float || (st != AICC_DTYPE_UNDEFINED && !aicc_loop_type_is_int(st))) {
      if (st != AICC_DTYPE_UNDEFINED && aicc_loop_type_is_int(st))
        fail_at(ps, t, "a float literal cannot have integer type %s", aicc_dtype_text(st));
      char tmp[128];
      size_t len = (size_t)(num_end - ps->p);
      if (len >= sizeof tmp) len = sizeof tmp - 1;
      memcpy(tmp, ps->p, len);
      tmp[len] = 0;
      t->kind = T_FLOAT;
      t->fval = strtod(tmp, NULL);
      t->type = st == AICC_DTYPE_UNDEFINED ? AICC_DTYPE_F32 : st;
    } else {
      if (overflow) fail_at(ps, t, "integer literal out of range");
      t->kind = T_INT;
      t->ival = v;
      t->type = st == AICC_DTYPE_UNDEFINED ? AICC_DTYPE_I32 : st;
    }
    while (ps->p < q) advance_char(ps);
    return;
  }
  if (isalpha((unsigned char)c) || c == '_') {
    const char *q = ps->p;
    while (q < ps->end && is_ident_char(*q)) q++;
    t->kind = T_IDENT;
    t->n = (size_t)(q - ps->p);
    /* inf / nan with an optional type suffix are float literals. */
    for (int k = 0; k < 2; k++) {
      const char *w = k ? "nan" : "inf";
      if (t->n >= 3 && memcmp(t->s, w, 3) == 0) {
        aicc_dtype st = t->n == 3 ? AICC_DTYPE_F32 : suffix_type(t->s + 3, t->n - 3);
        if (st != AICC_DTYPE_UNDEFINED && !aicc_loop_type_is_int(st)) {
          t->kind = T_FLOAT;
          t->fval = k ? NAN : INFINITY;
          t->type = st;
        }
      }
    }
    while (ps->p < q) advance_char(ps);
    return;
  }
  static const char *const two[] = {"==", "!=", "<=", ">=", "&&", "||"};
  t->kind = T_PUNCT;
  t->n = 1;
  if (ps->p + 1 < ps->end)
    for (size_t k = 0; k < sizeof two / sizeof two[0]; k++)
      if (ps->p[0] == two[k][0] && ps->p[1] == two[k][1]) t->n = 2;
  if (t->n == 1 && !strchr("()[]{},:=<>+-*/%!", c)) {
    fail_at(ps, t, "unexpected character '%c'", c);
    t->kind = T_EOF;
  }
  for (size_t k = 0; k < t->n; k++) advance_char(ps);
}

static bool is_punct(const parser *ps, const char *s) {
  return ps->tok.kind == T_PUNCT && ps->tok.n == strlen(s) && memcmp(ps->tok.s, s, ps->tok.n) == 0;
}

static bool is_word(const parser *ps, const char *s) {
  return ps->tok.kind == T_IDENT && ps->tok.n == strlen(s) && memcmp(ps->tok.s, s, ps->tok.n) == 0;
}

static const char *describe(const token *t) {
  static _Thread_local char buf[64];
  if (t->kind == T_EOF) return "end of input";
  snprintf(buf, sizeof buf, "'%.*s'", (int)(t->n > 40 ? 40 : t->n), t->s);
  return buf;
}

static bool expect(parser *ps, const char *s, const char *what) {
  if (ps->err) return false;
  if (!is_punct(ps, s)) {
    fail_at(ps, &ps->tok, "expected '%s' %s, got %s", s, what, describe(&ps->tok));
    return false;
  }
  lex(ps);
  return true;
}

static const char *expect_ident(parser *ps, const char *what) {
  if (ps->err) return NULL;
  if (ps->tok.kind != T_IDENT) {
    fail_at(ps, &ps->tok, "expected %s, got %s", what, describe(&ps->tok));
    return NULL;
  }
  const char *name = aicc_loop_name(ps->ctx, ps->tok.s, ps->tok.n);
  if (!name) oom(ps);
  lex(ps);
  return name;
}

static aicc_dtype parse_type(parser *ps) {
  if (ps->err) return AICC_DTYPE_UNDEFINED;
  aicc_dtype t = ps->tok.kind == T_IDENT ? suffix_type(ps->tok.s, ps->tok.n) : AICC_DTYPE_UNDEFINED;
  if (t == AICC_DTYPE_UNDEFINED) {
    fail_at(ps, &ps->tok, "expected a type (i32, f32, ...), got %s", describe(&ps->tok));
    return t;
  }
  lex(ps);
  return t;
}

/* ---- scopes ---- */

static const aicc_loop_expr *find_var(parser *ps, const char *name) {
  for (size_t i = ps->vars.len; i-- > 0;)
    if (ps->vars.data[i]->v.name == name) return ps->vars.data[i];
  return NULL;
}

static const aicc_loop_buffer *find_buf(parser *ps, const char *name) {
  for (size_t i = ps->bufs.len; i-- > 0;)
    if (ps->bufs.data[i]->name == name) return ps->bufs.data[i];
  return NULL;
}

static void push_var(parser *ps, const aicc_loop_expr *v) {
  if (!v || !aicc_vec_push(&ps->vars, v)) oom(ps);
}

static void push_buf(parser *ps, const aicc_loop_buffer *b) {
  if (!b || !aicc_vec_push(&ps->bufs, b)) oom(ps);
}

/* ---- expressions ---- */

static const aicc_loop_expr *parse_expr(parser *ps, int min_prec);

static const aicc_loop_expr *checked(parser *ps, const aicc_loop_expr *e) {
  if (!e) oom(ps);
  return e;
}

/* Range check for an integer literal of magnitude mag, negated when neg. */
static bool int_fits(aicc_dtype t, bool neg, uint64_t mag, int64_t *out) {
  if (t == AICC_DTYPE_BOOL) return false;
  const aicc_dtype_info *info = aicc_dtype_get(t);
  int bits = info->bits;
  if (aicc_dtype_is_signed_int(t)) {
    uint64_t lim = (uint64_t)1 << (bits - 1); /* |min| */
    if (neg ? mag > lim : mag >= lim) return false;
    *out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    return true;
  }
  if (neg && mag != 0) return false;
  if (bits < 64 && mag >> bits) return false;
  *out = (int64_t)mag;
  return true;
}

static const aicc_loop_expr *parse_literal(parser *ps, bool neg) {
  token t = ps->tok;
  lex(ps);
  if (t.kind == T_FLOAT) return checked(ps, aicc_loop_float(ps->ctx, t.type, neg ? -t.fval : t.fval));
  int64_t v;
  if (!int_fits(t.type, neg, t.ival, &v)) {
    fail_at(ps, &t, "integer literal out of range for %s", aicc_dtype_text(t.type));
    return NULL;
  }
  return checked(ps, aicc_loop_int(ps->ctx, t.type, v));
}

/* Parses "(e, e, ...)" or "[e, ...]" after the opener was seen. */
static bool parse_list(parser *ps, const char *close, expr_vec *out) {
  if (!is_punct(ps, close)) {
    for (;;) {
      const aicc_loop_expr *e = parse_expr(ps, 1);
      if (!e) return false;
      if (!aicc_vec_push(out, e)) {
        oom(ps);
        return false;
      }
      if (!is_punct(ps, ",")) break;
      lex(ps);
    }
  }
  return expect(ps, close, "to close the list");
}

static const aicc_loop_expr *type_error(parser *ps, const token *at, const char *what,
                                        const aicc_loop_expr *a, const aicc_loop_expr *b) {
  fail_at(ps, at, "type mismatch in %s: %s vs %s", what, aicc_dtype_text(a->type),
          b ? aicc_dtype_text(b->type) : "bool");
  return NULL;
}

static const aicc_loop_expr *parse_call(parser *ps, const token *name_tok, const char *name) {
  expr_vec args = {0};
  lex(ps); /* ( */
  const aicc_loop_expr *r = NULL;
  if (!parse_list(ps, ")", &args)) goto done;
  size_t n = args.len;
  const aicc_loop_expr **a = args.data;
  aicc_dtype cast_t = suffix_type(name, strlen(name));
  if (cast_t != AICC_DTYPE_UNDEFINED) {
    if (n != 1) fail_at(ps, name_tok, "a cast takes one operand, got %zu", n);
    else r = checked(ps, aicc_loop_cast(ps->ctx, cast_t, a[0]));
  } else if (!strcmp(name, "min") || !strcmp(name, "max")) {
    if (n != 2) fail_at(ps, name_tok, "%s takes two operands, got %zu", name, n);
    else if (a[0]->type != a[1]->type) type_error(ps, name_tok, name, a[0], a[1]);
    else r = checked(ps, aicc_loop_binary(ps->ctx, name[1] == 'i' ? AICC_LOOP_MIN : AICC_LOOP_MAX, a[0], a[1]));
  } else if (!strcmp(name, "select")) {
    if (n != 3) fail_at(ps, name_tok, "select takes three operands, got %zu", n);
    else if (a[0]->type != AICC_DTYPE_BOOL) fail_at(ps, name_tok, "select condition must be bool, got %s", aicc_dtype_text(a[0]->type));
    else if (a[1]->type != a[2]->type) type_error(ps, name_tok, "select", a[1], a[2]);
    else r = checked(ps, aicc_loop_select(ps->ctx, a[0], a[1], a[2]));
  } else {
    int arity = aicc_loop_intrinsic_arity(name, strlen(name));
    if (arity < 0) fail_at(ps, name_tok, "unknown function '%s'", name);
    else if ((size_t)arity != n) fail_at(ps, name_tok, "%s takes %d operands, got %zu", name, arity, n);
    else {
      for (size_t i = 0; i < n; i++)
        if (a[i]->type != a[0]->type) {
          type_error(ps, name_tok, name, a[0], a[i]);
          goto done;
        }
      if (aicc_loop_type_is_int(a[0]->type)) fail_at(ps, name_tok, "%s needs float operands", name);
      else r = checked(ps, aicc_loop_call(ps->ctx, name, n, a));
    }
  }
done:
  aicc_vec_free(&args);
  return ps->err ? NULL : r;
}

static bool check_indices(parser *ps, const token *at, const aicc_loop_buffer *b, expr_vec *idx) {
  if (idx->len != (size_t)b->rank) {
    fail_at(ps, at, "buffer '%s' has %d dimensions, got %zu indices", b->name, b->rank, idx->len);
    return false;
  }
  for (size_t i = 0; i < idx->len; i++)
    if (!aicc_loop_type_is_int(idx->data[i]->type) || idx->data[i]->type == AICC_DTYPE_BOOL) {
      fail_at(ps, at, "index %zu of '%s' must be an integer, got %s", i, b->name,
              aicc_dtype_text(idx->data[i]->type));
      return false;
    }
  return true;
}

static const aicc_loop_expr *parse_primary(parser *ps) {
  if (ps->err) return NULL;
  token t = ps->tok;
  if (t.kind == T_INT || t.kind == T_FLOAT) return parse_literal(ps, false);
  if (is_punct(ps, "(")) {
    lex(ps);
    const aicc_loop_expr *e = parse_expr(ps, 1);
    expect(ps, ")", "to close the parenthesis");
    return ps->err ? NULL : e;
  }
  if (is_punct(ps, "-")) {
    lex(ps);
    if (ps->tok.kind == T_INT || ps->tok.kind == T_FLOAT) return parse_literal(ps, true);
    const aicc_loop_expr *e = parse_primary(ps);
    if (!e) return NULL;
    const aicc_loop_expr *zero = aicc_loop_type_is_int(e->type) ? aicc_loop_int(ps->ctx, e->type, 0)
                                                                : aicc_loop_float(ps->ctx, e->type, 0);
    return checked(ps, aicc_loop_sub(ps->ctx, zero, e));
  }
  if (is_punct(ps, "!")) {
    lex(ps);
    const aicc_loop_expr *e = parse_primary(ps);
    if (!e) return NULL;
    if (e->type != AICC_DTYPE_BOOL) {
      fail_at(ps, &t, "'!' needs a bool operand, got %s", aicc_dtype_text(e->type));
      return NULL;
    }
    return checked(ps, aicc_loop_not(ps->ctx, e));
  }
  if (t.kind != T_IDENT) {
    fail_at(ps, &t, "expected an expression, got %s", describe(&t));
    return NULL;
  }
  if (is_word(ps, "true") || is_word(ps, "false")) {
    lex(ps);
    return checked(ps, aicc_loop_bool(ps->ctx, t.s[0] == 't'));
  }
  const char *name = expect_ident(ps, "a name");
  if (!name) return NULL;
  if (is_punct(ps, "(")) return parse_call(ps, &t, name);
  if (is_punct(ps, "[")) {
    const aicc_loop_buffer *b = find_buf(ps, name);
    if (!b) {
      fail_at(ps, &t, "undefined buffer '%s'", name);
      return NULL;
    }
    lex(ps);
    expr_vec idx = {0};
    const aicc_loop_expr *r = NULL;
    if (parse_list(ps, "]", &idx) && check_indices(ps, &t, b, &idx))
      r = checked(ps, aicc_loop_load(ps->ctx, b, idx.data));
    aicc_vec_free(&idx);
    return r;
  }
  const aicc_loop_expr *v = find_var(ps, name);
  if (!v) fail_at(ps, &t, "undefined variable '%s'", name);
  return v;
}

static int binop_prec(const parser *ps, aicc_loop_op *op) {
  static const struct {
    const char *s;
    aicc_loop_op op;
    int prec;
  } ops[] = {
      {"||", AICC_LOOP_OR, 1}, {"&&", AICC_LOOP_AND, 2}, {"==", AICC_LOOP_EQ, 3},
      {"!=", AICC_LOOP_NE, 3}, {"<", AICC_LOOP_LT, 4},   {"<=", AICC_LOOP_LE, 4},
      {">", AICC_LOOP_GT, 4},  {">=", AICC_LOOP_GE, 4},  {"+", AICC_LOOP_ADD, 5},
      {"-", AICC_LOOP_SUB, 5}, {"*", AICC_LOOP_MUL, 6},  {"/", AICC_LOOP_DIV, 6},
      {"%", AICC_LOOP_MOD, 6},
  };
  if (ps->tok.kind != T_PUNCT) return 0;
  for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
    if (is_punct(ps, ops[k].s)) {
      *op = ops[k].op;
      return ops[k].prec;
    }
  return 0;
}

static const aicc_loop_expr *parse_expr(parser *ps, int min_prec) {
  const aicc_loop_expr *lhs = parse_primary(ps);
  for (;;) {
    if (!lhs || ps->err) return NULL;
    aicc_loop_op op;
    int p = binop_prec(ps, &op);
    if (p == 0 || p < min_prec) return lhs;
    token at = ps->tok;
    lex(ps);
    const aicc_loop_expr *rhs = parse_expr(ps, p + 1); /* left-associative */
    if (!rhs) return NULL;
    if (lhs->type != rhs->type) return type_error(ps, &at, aicc_loop_op_name(op), lhs, rhs);
    if ((op == AICC_LOOP_AND || op == AICC_LOOP_OR) && lhs->type != AICC_DTYPE_BOOL) {
      fail_at(ps, &at, "'%s' needs bool operands, got %s", aicc_loop_op_name(op),
              aicc_dtype_text(lhs->type));
      return NULL;
    }
    lhs = checked(ps, aicc_loop_binary(ps->ctx, op, lhs, rhs));
  }
}

static const aicc_loop_expr *parse_int_expr(parser *ps, const char *what) {
  token at = ps->tok;
  const aicc_loop_expr *e = parse_expr(ps, 1);
  if (e && (!aicc_loop_type_is_int(e->type) || e->type == AICC_DTYPE_BOOL)) {
    fail_at(ps, &at, "%s must be an integer, got %s", what, aicc_dtype_text(e->type));
    return NULL;
  }
  return e;
}

/* ---- statements ---- */

static const aicc_loop_stmt *parse_block(parser *ps);

/* "[e, e]" shape after a type: the extents of a buffer. */
static const aicc_loop_buffer *parse_buffer_decl(parser *ps, const char *name, aicc_dtype t) {
  expr_vec shape = {0};
  const aicc_loop_buffer *b = NULL;
  token at = ps->tok;
  if (expect(ps, "[", "before the buffer shape") && parse_list(ps, "]", &shape)) {
    for (size_t i = 0; i < shape.len; i++)
      if (!aicc_loop_type_is_int(shape.data[i]->type) || shape.data[i]->type == AICC_DTYPE_BOOL) {
        fail_at(ps, &at, "extent %zu of '%s' must be an integer", i, name);
        break;
      }
    if (!ps->err) {
      b = aicc_loop_buffer_create(ps->ctx, name, t, (int)shape.len, shape.data);
      if (!b) oom(ps);
    }
  }
  aicc_vec_free(&shape);
  return b;
}

static const aicc_loop_stmt *parse_stmt(parser *ps) {
  token t = ps->tok;
  aicc_loop_for_kind kind = AICC_LOOP_SERIAL;
  static const char *const kinds[] = {"serial", "parallel", "vectorized", "unrolled"};
  for (int k = 0; k < 4; k++)
    if (is_word(ps, kinds[k])) {
      kind = (aicc_loop_for_kind)k;
      lex(ps);
      if (!is_word(ps, "for")) {
        fail_at(ps, &ps->tok, "expected 'for' after '%s'", kinds[k]);
        return NULL;
      }
    }
  if (is_word(ps, "for")) {
    lex(ps);
    expect(ps, "(", "after 'for'");
    token vt = ps->tok;
    const char *name = expect_ident(ps, "a loop variable");
    expect(ps, ",", "after the loop variable");
    const aicc_loop_expr *min = parse_int_expr(ps, "the loop minimum");
    expect(ps, ",", "after the loop minimum");
    const aicc_loop_expr *extent = parse_int_expr(ps, "the loop extent");
    expect(ps, ")", "after the loop extent");
    if (ps->err) return NULL;
    if (min->type != extent->type) return type_error(ps, &vt, "loop bounds", min, extent), NULL;
    const aicc_loop_expr *var = aicc_loop_var(ps->ctx, name, min->type);
    size_t mark = ps->vars.len;
    push_var(ps, var);
    const aicc_loop_stmt *body = parse_block(ps);
    ps->vars.len = mark;
    if (!body) return NULL;
    const aicc_loop_stmt *s = aicc_loop_for(ps->ctx, var, min, extent, kind, body);
    if (!s) oom(ps);
    return s;
  }
  if (is_word(ps, "let")) {
    lex(ps);
    const char *name = expect_ident(ps, "a variable name");
    expect(ps, "=", "after the let variable");
    const aicc_loop_expr *value = ps->err ? NULL : parse_expr(ps, 1);
    if (!value) return NULL;
    const aicc_loop_expr *var = aicc_loop_var(ps->ctx, name, value->type);
    size_t mark = ps->vars.len;
    push_var(ps, var);
    const aicc_loop_stmt *body = parse_block(ps);
    ps->vars.len = mark;
    if (!body) return NULL;
    const aicc_loop_stmt *s = aicc_loop_let(ps->ctx, var, value, body);
    if (!s) oom(ps);
    return s;
  }
  if (is_word(ps, "if")) {
    lex(ps);
    expect(ps, "(", "after 'if'");
    token ct = ps->tok;
    const aicc_loop_expr *cond = ps->err ? NULL : parse_expr(ps, 1);
    expect(ps, ")", "after the condition");
    if (ps->err) return NULL;
    if (cond->type != AICC_DTYPE_BOOL) {
      fail_at(ps, &ct, "an if condition must be bool, got %s", aicc_dtype_text(cond->type));
      return NULL;
    }
    const aicc_loop_stmt *then_s = parse_block(ps), *else_s = NULL;
    if (then_s && is_word(ps, "else")) {
      lex(ps);
      else_s = parse_block(ps);
      if (!else_s) return NULL;
    }
    if (!then_s) return NULL;
    const aicc_loop_stmt *s = aicc_loop_if(ps->ctx, cond, then_s, else_s);
    if (!s) oom(ps);
    return s;
  }
  if (is_word(ps, "allocate")) {
    lex(ps);
    const char *name = expect_ident(ps, "a buffer name");
    expect(ps, ":", "after the buffer name");
    aicc_dtype ty = parse_type(ps);
    const aicc_loop_buffer *b = ps->err ? NULL : parse_buffer_decl(ps, name, ty);
    if (!b) return NULL;
    size_t mark = ps->bufs.len;
    push_buf(ps, b);
    const aicc_loop_stmt *body = parse_block(ps);
    ps->bufs.len = mark;
    if (!body) return NULL;
    const aicc_loop_stmt *s = aicc_loop_allocate(ps->ctx, b, body);
    if (!s) oom(ps);
    return s;
  }
  if (is_word(ps, "evaluate")) {
    lex(ps);
    const aicc_loop_expr *e = parse_expr(ps, 1);
    if (!e) return NULL;
    const aicc_loop_stmt *s = aicc_loop_evaluate(ps->ctx, e);
    if (!s) oom(ps);
    return s;
  }
  if (t.kind == T_IDENT) { /* a store: B[i, j] = value */
    const char *name = expect_ident(ps, "a statement");
    const aicc_loop_buffer *b = name ? find_buf(ps, name) : NULL;
    if (!ps->err && !b) {
      fail_at(ps, &t, "undefined buffer '%s'", name);
      return NULL;
    }
    if (!expect(ps, "[", "after the buffer name of a store")) return NULL;
    expr_vec idx = {0};
    const aicc_loop_stmt *s = NULL;
    if (parse_list(ps, "]", &idx) && check_indices(ps, &t, b, &idx) &&
        expect(ps, "=", "after the store target")) {
      token vt = ps->tok;
      const aicc_loop_expr *value = parse_expr(ps, 1);
      if (value && value->type != b->type)
        fail_at(ps, &vt, "stored value has type %s, buffer '%s' holds %s",
                aicc_dtype_text(value->type), b->name, aicc_dtype_text(b->type));
      else if (value && !(s = aicc_loop_store(ps->ctx, b, idx.data, value)))
        oom(ps);
    }
    aicc_vec_free(&idx);
    return ps->err ? NULL : s;
  }
  fail_at(ps, &t, "expected a statement, got %s", describe(&t));
  return NULL;
}

/* "{ stmt* }" */
static const aicc_loop_stmt *parse_block(parser *ps) {
  if (!expect(ps, "{", "to open a block")) return NULL;
  stmt_vec stmts = {0};
  const aicc_loop_stmt *r = NULL;
  while (!ps->err && !is_punct(ps, "}")) {
    if (ps->tok.kind == T_EOF) {
      fail_at(ps, &ps->tok, "expected '}' to close a block, got end of input");
      break;
    }
    const aicc_loop_stmt *s = parse_stmt(ps);
    if (!s) break;
    if (!aicc_vec_push(&stmts, s)) oom(ps);
  }
  if (!ps->err) {
    lex(ps);
    r = aicc_loop_seq(ps->ctx, stmts.len, stmts.data);
    if (!r) oom(ps);
  }
  aicc_vec_free(&stmts);
  return r;
}

static aicc_loop_func *parse_func(parser *ps) {
  if (!is_word(ps, "func")) {
    fail_at(ps, &ps->tok, "expected 'func', got %s", describe(&ps->tok));
    return NULL;
  }
  lex(ps);
  aicc_arena *a = aicc_loop_ctx_arena(ps->ctx);
  aicc_loop_func *f = AICC_ARENA_NEW(a, aicc_loop_func);
  if (!f) {
    oom(ps);
    return NULL;
  }
  f->name = expect_ident(ps, "a function name");
  expect(ps, "(", "after the function name");
  AICC_VEC(aicc_loop_param) params = {0};
  ps->vars.len = ps->bufs.len = 0;
  while (!ps->err && !is_punct(ps, ")")) {
    if (params.len && !expect(ps, ",", "between parameters")) break;
    token nt = ps->tok;
    const char *name = expect_ident(ps, "a parameter name");
    expect(ps, ":", "after the parameter name");
    aicc_dtype t = parse_type(ps);
    if (ps->err) break;
    aicc_loop_param p = {0};
    if (find_var(ps, name) || find_buf(ps, name)) {
      fail_at(ps, &nt, "parameter '%s' defined twice", name);
      break;
    }
    if (is_punct(ps, "[")) {
      p.buf = parse_buffer_decl(ps, name, t);
      push_buf(ps, p.buf);
    } else {
      p.var = aicc_loop_var(ps->ctx, name, t);
      push_var(ps, p.var);
    }
    if (!ps->err && !aicc_vec_push(&params, p)) oom(ps);
  }
  expect(ps, ")", "after the parameters");
  if (!ps->err) {
    f->body = parse_block(ps);
    f->nparams = params.len;
    f->params = params.len ? aicc_arena_memdup(a, params.data, params.len * sizeof *params.data) : NULL;
    if (params.len && !f->params) oom(ps);
  }
  aicc_vec_free(&params);
  return ps->err ? NULL : f;
}

aicc_status aicc_loop_module_parse(aicc_loop_ctx *ctx, const char *file, const char *text,
                                   size_t len, aicc_loop_module *out) {
  parser ps = {.ctx = ctx, .file = file ? file : "<input>", .p = text, .end = text + len,
               .line = 1, .col = 1};
  out->nfuncs = 0;
  out->funcs = NULL;
  AICC_VEC(aicc_loop_func *) funcs = {0};
  lex(&ps);
  while (!ps.err && ps.tok.kind != T_EOF) {
    aicc_loop_func *f = parse_func(&ps);
    if (f && !aicc_vec_push(&funcs, f)) oom(&ps);
  }
  if (!ps.err && funcs.len) {
    out->funcs = aicc_arena_memdup(aicc_loop_ctx_arena(ctx), funcs.data, funcs.len * sizeof *funcs.data);
    if (!out->funcs) oom(&ps);
    out->nfuncs = funcs.len;
  }
  aicc_vec_free(&funcs);
  aicc_vec_free(&ps.vars);
  aicc_vec_free(&ps.bufs);
  if (ps.err) {
    out->nfuncs = 0;
    out->funcs = NULL;
  }
  return ps.err;
}
