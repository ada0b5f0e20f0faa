/* Kernel text parser (compute.h: the form aicc_loop_kernel_print writes).
 * The kernel structure (parameters, temps, stage lines, reductions) is read
 * here; every expression is handed to the loop-IR parser (parse.c) inside a
 * synthetic func that declares the buffers and binds the axis variables, so
 * expressions have exactly the loop-IR syntax and its error messages, at the
 * right line and column. Never aborts on bad text. */
#include "loop/compute.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/vec.h"
#include "loop/text.h"

typedef AICC_VEC(const aicc_loop_buffer *) buf_vec;
typedef AICC_VEC(char) char_vec;

typedef struct {
  const char *name;
  int64_t extent;
} axis_decl;

typedef struct {
  aicc_loop_ctx *ctx;
  const char *file, *text;
  size_t len, p;
  aicc_status err;
  aicc_loop_kernel *k;
  buf_vec bufs;     /* params, then temps as declared */
  buf_vec defined;  /* buffers that have a stage */
} kparser;

static void line_col(const kparser *kp, size_t at, int *line, int *col) {
  *line = 1;
  *col = 1;
  for (size_t i = 0; i < at && i < kp->len; i++) {
    if (kp->text[i] == '\n') {
      ++*line;
      *col = 1;
    } else {
      ++*col;
    }
  }
}

static void fail_at(kparser *kp, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail_at(kparser *kp, size_t at, const char *fmt, ...) {
  if (kp->err) return;
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  int line, col;
  line_col(kp, at, &line, &col);
  kp->err = aicc_errorf(AICC_ERR_INVALID, "%s:%d:%d: %s", kp->file, line, col, msg);
}

static void oom(kparser *kp) {
  if (!kp->err) kp->err = aicc_errorf(AICC_ERR_NOMEM, "%s: out of memory", kp->file);
}

/* ---- lexing ---- */

static bool at_comment(const kparser *kp, size_t i) {
  return i + 1 < kp->len && kp->text[i] == '/' && kp->text[i + 1] == '/';
}

/* Skips blanks; newlines too when lines is set; and // comments. */
static void skip(kparser *kp, bool lines) {
  while (kp->p < kp->len) {
    char c = kp->text[kp->p];
    if (c == ' ' || c == '\t' || c == '\r' || (lines && c == '\n')) {
      kp->p++;
    } else if (at_comment(kp, kp->p)) {
      while (kp->p < kp->len && kp->text[kp->p] != '\n') kp->p++;
    } else {
      break;
    }
  }
}

static bool ident_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* Length of the identifier at i (0 when none). */
static size_t ident_len(const kparser *kp, size_t i) {
  if (i >= kp->len || !(isalpha((unsigned char)kp->text[i]) || kp->text[i] == '_')) return 0;
  size_t n = 0;
  while (i + n < kp->len && ident_char(kp->text[i + n])) n++;
  return n;
}

static bool word_at(const kparser *kp, size_t i, const char *w) {
  size_t n = strlen(w);
  return ident_len(kp, i) == n && memcmp(kp->text + i, w, n) == 0;
}

static bool peek(kparser *kp, char c, bool lines) {
  skip(kp, lines);
  return kp->p < kp->len && kp->text[kp->p] == c;
}

static const char *describe(const kparser *kp) {
  static _Thread_local char buf[48];
  if (kp->p >= kp->len) return "end of input";
  size_t n = ident_len(kp, kp->p);
  if (n == 0) n = 1;
  if (n > 32) n = 32;
  if (kp->text[kp->p] == '\n') return "end of line";
  snprintf(buf, sizeof buf, "'%.*s'", (int)n, kp->text + kp->p);
  return buf;
}

static bool expect(kparser *kp, char c, bool lines, const char *what) {
  if (kp->err) return false;
  if (!peek(kp, c, lines)) {
    fail_at(kp, kp->p, "expected '%c' %s, got %s", c, what, describe(kp));
    return false;
  }
  kp->p++;
  return true;
}

static const char *expect_ident(kparser *kp, bool lines, const char *what) {
  if (kp->err) return NULL;
  skip(kp, lines);
  size_t n = ident_len(kp, kp->p);
  if (!n) {
    fail_at(kp, kp->p, "expected %s, got %s", what, describe(kp));
    return NULL;
  }
  const char *s = aicc_loop_name(kp->ctx, kp->text + kp->p, n);
  if (!s) oom(kp);
  kp->p += n;
  return s;
}

static bool expect_int(kparser *kp, const char *what, int64_t *out) {
  if (kp->err) return false;
  skip(kp, false);
  size_t i = kp->p;
  int64_t v = 0;
  while (i < kp->len && isdigit((unsigned char)kp->text[i])) {
    if (v > (INT32_MAX - 9) / 10) {
      fail_at(kp, kp->p, "%s is too large", what);
      return false;
    }
    v = v * 10 + (kp->text[i++] - '0');
  }
  if (i == kp->p || (i < kp->len && ident_char(kp->text[i]))) {
    fail_at(kp, kp->p, "expected %s (an integer), got %s", what, describe(kp));
    return false;
  }
  kp->p = i;
  *out = v;
  return true;
}

static aicc_dtype expect_type(kparser *kp) {
  skip(kp, false);
  size_t at = kp->p, n = ident_len(kp, at);
  aicc_dtype t = n ? aicc_dtype_from_text(kp->text + at, n) : AICC_DTYPE_UNDEFINED;
  if (t == AICC_DTYPE_UNDEFINED || !aicc_loop_type_valid(t)) {
    fail_at(kp, at, "expected a type (f32, i64, ...), got %s", describe(kp));
    return AICC_DTYPE_UNDEFINED;
  }
  kp->p += n;
  return t;
}

/* ---- buffers ---- */

static const aicc_loop_buffer *find_buf(const kparser *kp, const char *name) {
  for (size_t i = 0; i < kp->bufs.len; i++)
    if (kp->bufs.data[i]->name == name) return kp->bufs.data[i];
  return NULL;
}

static bool is_defined(const kparser *kp, const aicc_loop_buffer *b) {
  for (size_t i = 0; i < kp->defined.len; i++)
    if (kp->defined.data[i] == b) return true;
  return false;
}

/* "NAME: TYPE[d, ...]" with constant extents. */
static const aicc_loop_buffer *parse_decl(kparser *kp, bool lines) {
  skip(kp, lines);
  size_t at = kp->p;
  const char *name = expect_ident(kp, lines, "a buffer name");
  expect(kp, ':', false, "after the buffer name");
  aicc_dtype t = kp->err ? AICC_DTYPE_UNDEFINED : expect_type(kp);
  const aicc_loop_expr *shape[AICC_MAX_LOOP_RANK];
  int rank = 0;
  if (!expect(kp, '[', false, "before the buffer shape")) return NULL;
  if (!peek(kp, ']', false)) {
    for (;;) {
      int64_t e;
      if (!expect_int(kp, "an extent", &e)) return NULL;
      if (rank == AICC_MAX_LOOP_RANK) {
        fail_at(kp, kp->p, "more than %d dimensions", AICC_MAX_LOOP_RANK);
        return NULL;
      }
      shape[rank++] = aicc_loop_i32(kp->ctx, e);
      if (!peek(kp, ',', false)) break;
      kp->p++;
    }
  }
  if (!expect(kp, ']', false, "to close the shape")) return NULL;
  if (find_buf(kp, name)) {
    fail_at(kp, at, "buffer '%s' declared twice", name);
    return NULL;
  }
  const aicc_loop_buffer *b = aicc_loop_buffer_create(kp->ctx, name, t, rank, shape);
  if (!b || !aicc_vec_push(&kp->bufs, b)) {
    oom(kp);
    return NULL;
  }
  return b;
}

/* ---- expressions, through the loop-IR parser ---- */

static void put(char_vec *v, const char *s, size_t n, bool *ok) {
  for (size_t i = 0; i < n && *ok; i++) *ok = aicc_vec_push(v, s[i]);
}

static void puts_(char_vec *v, const char *s, bool *ok) { put(v, s, strlen(s), ok); }

/* e with every load retargeted to the kernel buffer of the same name. */
static const aicc_loop_expr *remap(kparser *kp, const aicc_loop_expr *e) {
  if (!e || (e->nargs == 0 && e->op != AICC_LOOP_LOAD)) return e;
  const aicc_loop_expr *args[64];
  if (e->nargs > 64) return NULL;
  bool same = true;
  for (uint32_t i = 0; i < e->nargs; i++) {
    args[i] = remap(kp, e->args[i]);
    if (!args[i]) return NULL;
    same = same && args[i] == e->args[i];
  }
  if (e->op == AICC_LOOP_LOAD) {
    const aicc_loop_buffer *b = find_buf(kp, e->buf->name);
    return b ? aicc_loop_load(kp->ctx, b, args) : NULL;
  }
  return same ? e : aicc_loop_expr_with_args(kp->ctx, e, args);
}

/* Where the expression starting at kp->p ends: the end of the line, a //
 * comment, an '@', or at bracket depth 0 one of the words `where`/`then`,
 * or (close_paren) the ')' that closes an enclosing parenthesis. */
static size_t expr_end(const kparser *kp, bool close_paren) {
  int depth = 0;
  size_t i = kp->p;
  while (i < kp->len) {
    char c = kp->text[i];
    if (c == '\n' || c == '@' || at_comment(kp, i)) break;
    if (c == '(' || c == '[') depth++;
    if (c == ')' || c == ']') {
      if (depth == 0 && close_paren) break;
      depth--;
    }
    size_t n = ident_len(kp, i);
    if (n && (i == 0 || !ident_char(kp->text[i - 1]))) {
      if (depth == 0 && (word_at(kp, i, "where") || word_at(kp, i, "then"))) break;
      i += n;
      continue;
    }
    i++;
  }
  while (i > kp->p && (kp->text[i - 1] == ' ' || kp->text[i - 1] == '\t' || kp->text[i - 1] == '\r')) i--;
  return i;
}

/* Parses the expression at kp->p with axes in scope; kp->p moves past it. */
static const aicc_loop_expr *parse_expr(kparser *kp, const axis_decl *axes, int naxes,
                                        bool close_paren, const char *what) {
  if (kp->err) return NULL;
  skip(kp, false);
  size_t start = kp->p, end = expr_end(kp, close_paren);
  if (end == start) {
    fail_at(kp, start, "expected %s, got %s", what, describe(kp));
    return NULL;
  }
  char_vec src = {0};
  bool ok = true;
  char tmp[64];
  puts_(&src, "func _(", &ok);
  for (size_t i = 0; i < kp->bufs.len; i++) {
    const aicc_loop_buffer *b = kp->bufs.data[i];
    if (i) puts_(&src, ", ", &ok);
    puts_(&src, b->name, &ok);
    puts_(&src, ": ", &ok);
    puts_(&src, aicc_dtype_text(b->type), &ok);
    puts_(&src, "[", &ok);
    for (int d = 0; d < b->rank; d++) {
      int64_t e = 0;
      aicc_loop_expr_is_int_const(b->shape[d], &e);
      snprintf(tmp, sizeof tmp, "%s%lld", d ? ", " : "", (long long)e);
      puts_(&src, tmp, &ok);
    }
    puts_(&src, "]", &ok);
  }
  puts_(&src, ") {", &ok);
  for (int i = 0; i < naxes; i++) {
    snprintf(tmp, sizeof tmp, " for (%s, 0, %lld) {", axes[i].name, (long long)axes[i].extent);
    puts_(&src, tmp, &ok);
  }
  puts_(&src, " evaluate", &ok);
  /* The expression lands at its own line and column. */
  int line, col;
  line_col(kp, start, &line, &col);
  for (int l = 1; l < line; l++) puts_(&src, "\n", &ok);
  if (line == 1) puts_(&src, " ", &ok);
  for (int c = 1; c < col && line > 1; c++) puts_(&src, " ", &ok);
  put(&src, kp->text + start, end - start, &ok);
  puts_(&src, "\n", &ok);
  for (int i = 0; i <= naxes; i++) puts_(&src, "}", &ok);
  if (!ok) {
    aicc_vec_free(&src);
    oom(kp);
    return NULL;
  }
  aicc_loop_module m;
  aicc_status st = aicc_loop_module_parse(kp->ctx, kp->file, src.data, src.len, &m);
  aicc_vec_free(&src);
  if (st) {
    kp->err = st;
    return NULL;
  }
  const aicc_loop_stmt *s = m.nfuncs == 1 ? m.funcs[0]->body : NULL;
  for (int i = 0; i < naxes && s && s->kind == AICC_LOOP_FOR; i++) s = s->body;
  if (!s || s->kind != AICC_LOOP_EVALUATE) {
    fail_at(kp, start, "expected one expression as %s", what);
    return NULL;
  }
  const aicc_loop_expr *e = remap(kp, s->value);
  if (!e) oom(kp);
  kp->p = end;
  return e;
}

/* ---- stages ---- */

static bool name_clash(kparser *kp, size_t at, const char *name, const axis_decl *axes, int n) {
  if (find_buf(kp, name)) {
    fail_at(kp, at, "axis '%s' has the name of a buffer", name);
    return true;
  }
  for (int i = 0; i < n; i++)
    if (axes[i].name == name) {
      fail_at(kp, at, "axis '%s' named twice", name);
      return true;
    }
  return false;
}

static aicc_loop_axis *make_axes(kparser *kp, const axis_decl *d, int n) {
  aicc_loop_axis *a = AICC_ARENA_ARRAY(aicc_loop_ctx_arena(kp->ctx), aicc_loop_axis, n ? n : 1);
  if (!a) {
    oom(kp);
    return NULL;
  }
  for (int i = 0; i < n; i++) {
    a[i].var = aicc_loop_var(kp->ctx, d[i].name, AICC_DTYPE_I32);
    a[i].extent = d[i].extent;
    if (!a[i].var) oom(kp);
  }
  return a;
}

static void parse_stage(kparser *kp) {
  size_t at = kp->p;
  const char *name = expect_ident(kp, false, "a stage");
  if (!name) return;
  const aicc_loop_buffer *b = find_buf(kp, name);
  if (!b) {
    fail_at(kp, at, "undefined buffer '%s' (declare a temp first)", name);
    return;
  }
  if (is_defined(kp, b)) {
    fail_at(kp, at, "buffer '%s' has two stages", name);
    return;
  }
  axis_decl axes[2 * AICC_MAX_LOOP_RANK];
  int na = 0, nr = 0;
  if (!expect(kp, '[', false, "after the stage's buffer")) return;
  if (!peek(kp, ']', false)) {
    for (;;) {
      skip(kp, false);
      size_t vat = kp->p;
      const char *v = expect_ident(kp, false, "an axis name");
      if (!v || name_clash(kp, vat, v, axes, na)) return;
      if (na == b->rank) {
        fail_at(kp, vat, "buffer '%s' has %d dimensions", name, b->rank);
        return;
      }
      int64_t e = 0;
      aicc_loop_expr_is_int_const(b->shape[na], &e);
      axes[na++] = (axis_decl){v, e};
      if (!peek(kp, ',', false)) break;
      kp->p++;
    }
  }
  if (!expect(kp, ']', false, "to close the axes")) return;
  if (na != b->rank) {
    fail_at(kp, at, "buffer '%s' has %d dimensions, got %d axes", name, b->rank, na);
    return;
  }
  if (!expect(kp, '=', false, "after the stage's axes")) return;
  aicc_loop_stage *s = AICC_ARENA_NEW(aicc_loop_ctx_arena(kp->ctx), aicc_loop_stage);
  if (!s) {
    oom(kp);
    return;
  }
  memset(s, 0, sizeof *s);
  s->name = b->name;
  s->buf = b;
  s->n_axes = na;
  s->axes = make_axes(kp, axes, na);
  skip(kp, false);
  static const char *const kinds[] = {"sum", "prod", "max", "min"};
  for (int kind = 0; kind < 4; kind++) {
    size_t i = kp->p + strlen(kinds[kind]);
    if (!word_at(kp, kp->p, kinds[kind])) continue;
    while (i < kp->len && (kp->text[i] == ' ' || kp->text[i] == '\t')) i++;
    if (i >= kp->len || kp->text[i] != '(') continue;
    size_t open = i++;
    while (i < kp->len && (kp->text[i] == ' ' || kp->text[i] == '\t')) i++;
    size_t n = ident_len(kp, i);
    i += n;
    while (i < kp->len && (kp->text[i] == ' ' || kp->text[i] == '\t')) i++;
    if (!n || i >= kp->len || kp->text[i] != ':') continue; /* max(a, b): an expression */
    /* A reduction: sum(r0: 16, ...; init EXPR) */
    s->reduce = (aicc_loop_reduce)(kind + 1);
    kp->p = open + 1;
    for (;;) {
      skip(kp, false);
      size_t vat = kp->p;
      const char *v = expect_ident(kp, false, "a reduction axis");
      if (!v || name_clash(kp, vat, v, axes, na + nr)) return;
      if (nr == AICC_MAX_LOOP_RANK) {
        fail_at(kp, vat, "more than %d reduction axes", AICC_MAX_LOOP_RANK);
        return;
      }
      int64_t e;
      if (!expect(kp, ':', false, "after the reduction axis") ||
          !expect_int(kp, "a reduction extent", &e))
        return;
      axes[na + nr++] = (axis_decl){v, e};
      if (!peek(kp, ',', false)) break;
      kp->p++;
    }
    if (peek(kp, ';', false)) {
      kp->p++;
      skip(kp, false);
      if (!word_at(kp, kp->p, "init")) {
        fail_at(kp, kp->p, "expected 'init' after ';', got %s", describe(kp));
        return;
      }
      kp->p += 4;
      s->init = parse_expr(kp, axes, na, true, "the initial value");
    }
    if (!expect(kp, ')', false, "to close the reduction")) return;
    s->n_raxes = nr;
    s->raxes = make_axes(kp, axes + na, nr);
    break;
  }
  s->body = parse_expr(kp, axes, na + nr, false, "the stage's value");
  skip(kp, false);
  if (!kp->err && word_at(kp, kp->p, "where")) {
    kp->p += 5;
    s->cond = parse_expr(kp, axes, na + nr, false, "a condition");
    skip(kp, false);
  }
  if (!kp->err && word_at(kp, kp->p, "then")) {
    size_t tat = kp->p;
    kp->p += 4;
    if (s->reduce == AICC_LOOP_REDUCE_NONE) {
      fail_at(kp, tat, "'then' needs a reduction");
      return;
    }
    s->post = parse_expr(kp, axes, na, false, "the final value");
    skip(kp, false);
  }
  if (kp->err) return;
  const aicc_loop_expr *init = s->init ? s->init : s->body;
  if (s->reduce && init->type != b->type) {
    fail_at(kp, at, "initial value of '%s' has type %s, the buffer holds %s", name,
            aicc_dtype_text(init->type), aicc_dtype_text(b->type));
    return;
  }
  if (s->body->type != b->type || (s->post && s->post->type != b->type)) {
    fail_at(kp, at, "stage '%s' computes %s, the buffer holds %s", name,
            aicc_dtype_text(s->post && s->post->type != b->type ? s->post->type : s->body->type),
            aicc_dtype_text(b->type));
    return;
  }
  if (s->cond && s->cond->type != AICC_DTYPE_BOOL) {
    fail_at(kp, at, "the condition of '%s' must be bool", name);
    return;
  }
  while (!kp->err && peek(kp, '@', false)) {
    kp->p++;
    size_t wat = kp->p, n = ident_len(kp, wat);
    bool found = false;
    if (word_at(kp, wat, "inlinable")) {
      s->inlinable = true;
      found = true;
    }
    for (int c = 0; c < 6 && !found; c++)
      if (word_at(kp, wat, aicc_loop_class_name(c))) {
        s->op_class = c;
        found = true;
      }
    if (!found) {
      fail_at(kp, wat, "unknown annotation '@%.*s'", (int)(n ? n : 1), kp->text + wat);
      return;
    }
    kp->p += n;
  }
  skip(kp, false);
  if (kp->p < kp->len && kp->text[kp->p] != '\n' && kp->text[kp->p] != '}')
    fail_at(kp, kp->p, "expected the end of the stage, got %s", describe(kp));
  if (kp->err) return;
  if (!aicc_vec_push(&kp->defined, b)) oom(kp);
  aicc_status st = aicc_loop_kernel_stage_add(kp->ctx, kp->k, s);
  if (st && !kp->err) kp->err = st;
}

aicc_status aicc_loop_kernel_parse(aicc_loop_ctx *ctx, const char *file, const char *text,
                                   size_t len, size_t *pos, aicc_loop_kernel **out) {
  kparser kp = {.ctx = ctx, .file = file ? file : "<input>", .text = text, .len = len, .p = *pos};
  *out = NULL;
  skip(&kp, true);
  if (!word_at(&kp, kp.p, "kernel")) {
    fail_at(&kp, kp.p, "expected 'kernel', got %s", describe(&kp));
    return kp.err;
  }
  kp.p += 6;
  const char *name = expect_ident(&kp, true, "a kernel name");
  if (name && !(kp.k = aicc_loop_kernel_create(ctx, name))) oom(&kp);
  expect(&kp, '(', true, "after the kernel name");
  while (!kp.err && !peek(&kp, ')', true)) {
    if (kp.bufs.len && !expect(&kp, ',', true, "between parameters")) break;
    const aicc_loop_buffer *b = parse_decl(&kp, true);
    if (b) {
      aicc_status st = aicc_loop_kernel_param_add(ctx, kp.k, b);
      if (st && !kp.err) kp.err = st;
    }
  }
  expect(&kp, ')', true, "after the parameters");
  expect(&kp, '{', true, "to open the kernel");
  while (!kp.err) {
    skip(&kp, true);
    if (kp.p >= kp.len) {
      fail_at(&kp, kp.p, "expected '}' to close the kernel, got end of input");
      break;
    }
    if (kp.text[kp.p] == '}') {
      kp.p++;
      break;
    }
    if (word_at(&kp, kp.p, "temp")) {
      kp.p += 4;
      parse_decl(&kp, false);
    } else {
      parse_stage(&kp);
    }
  }
  for (size_t i = kp.k ? kp.k->n_params : 0; !kp.err && i < kp.bufs.len; i++)
    if (!is_defined(&kp, kp.bufs.data[i]))
      fail_at(&kp, kp.p - 1, "temp '%s' has no stage", kp.bufs.data[i]->name);
  aicc_vec_free(&kp.bufs);
  aicc_vec_free(&kp.defined);
  if (kp.err) return kp.err;
  *pos = kp.p;
  *out = kp.k;
  return NULL;
}
