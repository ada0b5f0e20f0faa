/* The loop-IR reference interpreter (see eval.h). Written from the semantics
 * stated in ir.h, not from the simplifier's folding code, so the randomized
 * checks compare two independent readings of the IR. */
#include "loop/eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "core/vec.h"

typedef struct {
  int64_t i;
  double f;
} value;

typedef struct {
  const aicc_loop_expr *var;
  value v;
} vbind;

typedef AICC_VEC(vbind) vbind_vec;
typedef AICC_VEC(aicc_loop_buffer_data) bdata_vec;

typedef struct {
  vbind_vec vars;  /* innermost last */
  bdata_vec bufs;  /* innermost last */
  aicc_status err;
} machine;

static bool is_float(aicc_dtype t) { return !aicc_loop_type_is_int(t); }
static bool unsigned_type(aicc_dtype t) { return aicc_dtype_is_int(t) && !aicc_dtype_is_signed_int(t); }

static double round_to(aicc_dtype t, double v) { return t == AICC_DTYPE_F32 ? (double)(float)v : v; }

static void fail(machine *m, aicc_code code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(machine *m, aicc_code code, const char *fmt, ...) {
  if (m->err) return;
  va_list ap;
  va_start(ap, fmt);
  m->err = aicc_verrorf(code, fmt, ap);
  va_end(ap);
}

static bool eval(machine *m, const aicc_loop_expr *e, value *out);

/* Row-major offset of an access, or -1 (and an error) when out of range. */
static int64_t offset(machine *m, const aicc_loop_buffer *b, const aicc_loop_expr *const *index,
                      const aicc_loop_buffer_data **where) {
  const aicc_loop_buffer_data *d = NULL;
  for (size_t i = m->bufs.len; i-- > 0;)
    if (m->bufs.data[i].buf == b) {
      d = &m->bufs.data[i];
      break;
    }
  if (!d) {
    fail(m, AICC_ERR_INVALID, "loop interpreter: buffer '%s' is not bound", b->name);
    return -1;
  }
  int64_t off = 0;
  for (int k = 0; k < b->rank; k++) {
    value ix, ext;
    if (!eval(m, index[k], &ix) || !eval(m, b->shape[k], &ext)) return -1;
    if (ix.i < 0 || ix.i >= ext.i) {
      fail(m, AICC_ERR_INVALID, "loop interpreter: %s index %d is %lld, outside [0, %lld)",
           b->name, k, (long long)ix.i, (long long)ext.i);
      return -1;
    }
    off = off * ext.i + ix.i;
  }
  if ((size_t)off >= d->len) {
    fail(m, AICC_ERR_INVALID, "loop interpreter: %s has %zu elements, access at %lld", b->name,
         d->len, (long long)off);
    return -1;
  }
  *where = d;
  return off;
}

static bool eval(machine *m, const aicc_loop_expr *e, value *out) {
  if (m->err) return false;
  value a = {0}, b = {0}, c = {0};
  aicc_dtype t = e->type;
  switch (e->op) {
  case AICC_LOOP_INT: out->i = e->v.i; return true;
  case AICC_LOOP_FLOAT: out->f = e->v.f; return true;
  case AICC_LOOP_VAR:
    for (size_t i = m->vars.len; i-- > 0;)
      if (m->vars.data[i].var == e) {
        *out = m->vars.data[i].v;
        return true;
      }
    fail(m, AICC_ERR_INVALID, "loop interpreter: variable '%s' is not bound", e->v.name);
    return false;
  case AICC_LOOP_LOAD: {
    const aicc_loop_buffer_data *d;
    int64_t off = offset(m, e->buf, e->args, &d);
    if (off < 0) return false;
    if (is_float(t)) out->f = ((const double *)d->data)[off];
    else out->i = ((const int64_t *)d->data)[off];
    return true;
  }
  case AICC_LOOP_CALL: {
    double args[3] = {0};
    for (uint32_t k = 0; k < e->nargs && k < 3; k++) {
      if (!eval(m, e->args[k], &a)) return false;
      args[k] = a.f;
    }
    out->f = round_to(t, aicc_loop_intrinsic_apply(e->v.name, args));
    return true;
  }
  default: break;
  }
  if (e->nargs >= 1 && !eval(m, e->args[0], &a)) return false;
  if (e->nargs >= 2 && !eval(m, e->args[1], &b)) return false;
  if (e->op == AICC_LOOP_SELECT) { /* both arms are evaluated (ir.h) */
    if (!eval(m, e->args[2], &c)) return false;
    *out = a.i ? b : c;
    return true;
  }
  aicc_dtype ot = e->args[0]->type;
  if (e->op == AICC_LOOP_CAST) {
    if (is_float(ot) && is_float(t)) out->f = round_to(t, a.f);
    else if (is_float(ot)) {
      /* Float to int truncates toward zero (C); NaN and out-of-range give 0. */
      if (t == AICC_DTYPE_BOOL) out->i = a.f != 0;
      else out->i = isfinite(a.f) && fabs(a.f) < 9.2e18 ? aicc_loop_int_wrap(t, (int64_t)a.f) : 0;
    } else if (is_float(t)) {
      out->f = round_to(t, ot == AICC_DTYPE_U64 ? (double)(uint64_t)a.i : (double)a.i);
    } else {
      out->i = aicc_loop_int_wrap(t, a.i);
    }
    return true;
  }
  if (is_float(ot)) {
    double x = a.f, y = b.f, r;
    switch (e->op) {
    case AICC_LOOP_ADD: r = x + y; break;
    case AICC_LOOP_SUB: r = x - y; break;
    case AICC_LOOP_MUL: r = x * y; break;
    case AICC_LOOP_DIV: r = x / y; break;
    case AICC_LOOP_MOD: r = y != 0 ? x - y * floor(x / y) : x; break;
    case AICC_LOOP_MIN: r = fmin(x, y); break;
    case AICC_LOOP_MAX: r = fmax(x, y); break;
    case AICC_LOOP_EQ: out->i = x == y; return true;
    case AICC_LOOP_NE: out->i = x != y; return true;
    case AICC_LOOP_LT: out->i = x < y; return true;
    case AICC_LOOP_LE: out->i = x <= y; return true;
    case AICC_LOOP_GT: out->i = x > y; return true;
    case AICC_LOOP_GE: out->i = x >= y; return true;
    default: fail(m, AICC_ERR_INTERNAL, "loop interpreter: bad float op %d", (int)e->op); return false;
    }
    out->f = round_to(t, r);
    return true;
  }
  bool u = unsigned_type(ot);
  int64_t x = a.i, y = b.i, r;
  uint64_t ux = (uint64_t)x, uy = (uint64_t)y;
  switch (e->op) {
  case AICC_LOOP_ADD: r = (int64_t)(ux + uy); break;
  case AICC_LOOP_SUB: r = (int64_t)(ux - uy); break;
  case AICC_LOOP_MUL: r = (int64_t)(ux * uy); break;
  case AICC_LOOP_DIV: r = y == 0 ? 0 : u ? (int64_t)(ux / uy) : aicc_loop_floordiv(x, y); break;
  case AICC_LOOP_MOD: r = y == 0 ? 0 : u ? (int64_t)(ux % uy) : aicc_loop_floormod(x, y); break;
  case AICC_LOOP_MIN: r = (u ? ux < uy : x < y) ? x : y; break;
  case AICC_LOOP_MAX: r = (u ? ux > uy : x > y) ? x : y; break;
  case AICC_LOOP_EQ: r = x == y; break;
  case AICC_LOOP_NE: r = x != y; break;
  case AICC_LOOP_LT: r = u ? ux < uy : x < y; break;
  case AICC_LOOP_LE: r = u ? ux <= uy : x <= y; break;
  case AICC_LOOP_GT: r = u ? ux > uy : x > y; break;
  case AICC_LOOP_GE: r = u ? ux >= uy : x >= y; break;
  case AICC_LOOP_AND: r = x && y; break;
  case AICC_LOOP_OR: r = x || y; break;
  case AICC_LOOP_NOT: r = !x; break;
  default: fail(m, AICC_ERR_INTERNAL, "loop interpreter: bad op %d", (int)e->op); return false;
  }
  out->i = aicc_loop_int_wrap(t, r);
  return true;
}

bool aicc_loop_eval_int(const aicc_loop_expr *e, const aicc_loop_binding *env, size_t n,
                        int64_t *out) {
  if (!e || !aicc_loop_type_is_int(e->type)) return false;
  machine m = {0};
  for (size_t i = 0; i < n; i++) {
    vbind vb = {env[i].var, {aicc_loop_int_wrap(env[i].var->type, env[i].value), 0}};
    if (!aicc_vec_push(&m.vars, vb)) {
      aicc_vec_free(&m.vars);
      return false;
    }
  }
  value v = {0};
  bool ok = eval(&m, e, &v);
  aicc_vec_free(&m.vars);
  if (m.err) {
    aicc_status_free(m.err);
    return false;
  }
  *out = v.i;
  return ok;
}

static void run(machine *m, const aicc_loop_stmt *s);

static void run_bound(machine *m, const aicc_loop_expr *var, value v, const aicc_loop_stmt *body) {
  if (!aicc_vec_push(&m->vars, ((vbind){var, v}))) {
    fail(m, AICC_ERR_NOMEM, "loop interpreter: out of memory");
    return;
  }
  size_t slot = m->vars.len - 1;
  run(m, body);
  m->vars.len = slot;
}

static void run(machine *m, const aicc_loop_stmt *s) {
  if (m->err) return;
  value a, b;
  switch (s->kind) {
  case AICC_LOOP_FOR:
    if (!eval(m, s->min, &a) || !eval(m, s->extent, &b)) return;
    for (int64_t i = 0; i < b.i && !m->err; i++) run_bound(m, s->var, (value){a.i + i, 0}, s->body);
    return;
  case AICC_LOOP_LET:
    if (eval(m, s->value, &a)) run_bound(m, s->var, a, s->body);
    return;
  case AICC_LOOP_IF:
    if (!eval(m, s->value, &a)) return;
    if (a.i) run(m, s->body);
    else if (s->otherwise) run(m, s->otherwise);
    return;
  case AICC_LOOP_ALLOCATE: {
    size_t n = 1;
    for (int k = 0; k < s->buf->rank; k++) {
      if (!eval(m, s->buf->shape[k], &a)) return;
      if (a.i < 0 || a.i > (1 << 26)) {
        fail(m, AICC_ERR_INVALID, "loop interpreter: allocation %s has extent %lld", s->buf->name, (long long)a.i);
        return;
      }
      n *= (size_t)a.i;
      if (n > (1u << 26)) {
        fail(m, AICC_ERR_INVALID, "loop interpreter: allocation %s is too large", s->buf->name);
        return;
      }
    }
    aicc_loop_buffer_data d = {s->buf, calloc(n ? n : 1, 8), n};
    if (!d.data || !aicc_vec_push(&m->bufs, d)) {
      free(d.data);
      fail(m, AICC_ERR_NOMEM, "loop interpreter: out of memory");
      return;
    }
    size_t slot = m->bufs.len - 1;
    run(m, s->body);
    m->bufs.len = slot;
    free(d.data);
    return;
  }
  case AICC_LOOP_STORE: {
    const aicc_loop_buffer_data *d;
    if (!eval(m, s->value, &a)) return;
    int64_t off = offset(m, s->buf, s->index, &d);
    if (off < 0) return;
    if (is_float(s->buf->type)) ((double *)d->data)[off] = a.f;
    else ((int64_t *)d->data)[off] = a.i;
    return;
  }
  case AICC_LOOP_SEQ:
    for (size_t i = 0; i < s->n && !m->err; i++) run(m, s->stmts[i]);
    return;
  case AICC_LOOP_EVALUATE: eval(m, s->value, &a); return;
  }
}

aicc_status aicc_loop_stmt_run(const aicc_loop_stmt *s, const aicc_loop_binding *env, size_t nenv,
                               const aicc_loop_buffer_data *bufs, size_t nbufs) {
  machine m = {0};
  for (size_t i = 0; i < nenv && !m.err; i++)
    if (!aicc_vec_push(&m.vars, ((vbind){env[i].var, {aicc_loop_int_wrap(env[i].var->type, env[i].value), 0}})))
      fail(&m, AICC_ERR_NOMEM, "loop interpreter: out of memory");
  for (size_t i = 0; i < nbufs && !m.err; i++)
    if (!aicc_vec_push(&m.bufs, bufs[i])) fail(&m, AICC_ERR_NOMEM, "loop interpreter: out of memory");
  if (!m.err) run(&m, s);
  aicc_vec_free(&m.vars);
  aicc_vec_free(&m.bufs);
  return m.err;
}
