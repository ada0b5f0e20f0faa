/* Statement simplification (simplify.h): expressions simplified with the
 * ranges of enclosing loops and lets and the facts of enclosing ifs; dead and
 * single-iteration loops, constant ifs, empty bodies and simple lets removed.
 * Substitution avoids capture: see can_substitute. */
#include "loop/simplify_impl.h"

#include <stdlib.h>

/* Short local names for the internal entry points (simplify_impl.h). */
#define simp aicc_loop_simp_expr_
#define learn aicc_loop_simp_learn_
#define has_load aicc_loop_simp_has_load_
#define inline_let aicc_loop_simp_inline_let_

typedef aicc_loop_stmt stmt;

static const stmt *simp_stmt(simp_state *s, const stmt *st);

static const stmt *empty(simp_state *s) { return aicc_loop_seq(s->ctx, 0, NULL); }

static bool is_empty(const stmt *st) { return st->kind == AICC_LOOP_SEQ && st->n == 0; }

static const stmt *with_scope(simp_state *s, aicc_loop_scope *entry, const stmt *body) {
  const aicc_loop_scope *outer = s->scope;
  entry->next = outer;
  s->scope = entry;
  const stmt *r = simp_stmt(s, body);
  s->scope = outer;
  return r;
}

/* Whether s rebinds (for/let) a variable that e uses: substituting e into s
 * would then capture the inner binding. */
static bool rebinds_var_of(const stmt *s, const expr *e) {
  switch (s->kind) {
  case AICC_LOOP_FOR: case AICC_LOOP_LET:
    return aicc_loop_expr_uses_var(e, s->var) || rebinds_var_of(s->body, e);
  case AICC_LOOP_ALLOCATE: return rebinds_var_of(s->body, e);
  case AICC_LOOP_IF:
    return rebinds_var_of(s->body, e) || (s->otherwise && rebinds_var_of(s->otherwise, e));
  case AICC_LOOP_SEQ:
    for (size_t i = 0; i < s->n; i++)
      if (rebinds_var_of(s->stmts[i], e)) return true;
    return false;
  default: return false;
  }
}

/* Substituting value for the variable bound by st (a let or an extent-1
 * loop) is safe when no binding captures: value must not use that variable
 * itself (let x = x*5: the simplified body would mix the two x's) nor any
 * variable the body rebinds. */
static bool can_substitute(const stmt *st, const expr *value) {
  return !aicc_loop_expr_uses_var(value, st->var) && !rebinds_var_of(st->body, value);
}

static const stmt *with_facts(simp_state *s, aicc_loop_scope *f, size_t nf, const stmt *body) {
  const aicc_loop_scope *outer = s->scope;
  for (size_t i = 0; i < nf; i++) f[i].next = i ? &f[i - 1] : outer;
  s->scope = &f[nf - 1];
  const stmt *r = simp_stmt(s, body);
  s->scope = outer;
  return r;
}

static const stmt *simp_stmt(simp_state *s, const stmt *st) {
  if (!st || s->oom) return NULL;
  aicc_loop_ctx *ctx = s->ctx;
  const stmt *r = NULL;
  switch (st->kind) {
  case AICC_LOOP_FOR: {
    const expr *min = simp(s, st->min), *ext = simp(s, st->extent);
    if (!min || !ext) return NULL;
    int64_t n = 0;
    bool const_ext = int_const(ext, &n);
    if (const_ext && n <= 0) return empty(s);
    aicc_loop_scope entry = {.var = st->var};
    /* The loop variable ranges over [min, min + extent - 1]. */
    const expr *last = simp(s, aicc_loop_sub(ctx, aicc_loop_add(ctx, min, ext),
                                             mk_int(s, min->type, 1)));
    if (!last) return NULL;
    entry.range.lo = bounds(s, min).lo;
    entry.range.hi = bounds(s, last).hi;
    if (!has_load(min) && !has_load(last)) { /* a load may change in the body */
      entry.min_expr = min;
      entry.max_expr = last;
    }
    if (const_ext && n == 1) {
      /* A single iteration: var = min. Substitute a pure min; one that loads
       * may see the body's own stores, so it becomes a let instead. */
      if (!has_load(min) && can_substitute(st, min)) {
        entry.replace = min;
        return with_scope(s, &entry, st->body);
      }
      const stmt *body = with_scope(s, &entry, st->body);
      return body ? aicc_loop_let(ctx, st->var, min, body) : NULL;
    }
    const stmt *body = with_scope(s, &entry, st->body);
    if (!body) return NULL;
    if (is_empty(body)) return body;
    if (min == st->min && ext == st->extent && body == st->body) return st;
    r = aicc_loop_for(ctx, st->var, min, ext, st->for_kind, body);
    break;
  }
  case AICC_LOOP_LET: {
    const expr *v = simp(s, st->value);
    if (!v) return NULL;
    aicc_loop_scope entry = {.var = st->var, .range = bounds(s, v)};
    if (!has_load(v) && !aicc_loop_expr_uses_var(v, st->var)) /* t is exactly v in the body */
      entry.min_expr = entry.max_expr = v;
    if (inline_let(s, v) && can_substitute(st, v)) {
      entry.replace = v;
      return with_scope(s, &entry, st->body);
    }
    const stmt *body = with_scope(s, &entry, st->body);
    if (!body) return NULL;
    if (is_empty(body)) return body; /* values have no effects */
    if (v == st->value && body == st->body) return st;
    r = aicc_loop_let(ctx, st->var, v, body);
    break;
  }
  case AICC_LOOP_IF: {
    const expr *c = simp(s, st->value);
    if (!c) return NULL;
    int64_t v;
    if (int_const(c, &v)) {
      if (v) return simp_stmt(s, st->body);
      return st->otherwise ? simp_stmt(s, st->otherwise) : empty(s);
    }
    aicc_loop_scope facts[8];
    size_t nf = 0;
    learn(s, c, true, facts, &nf);
    const stmt *t = nf ? with_facts(s, facts, nf, st->body) : simp_stmt(s, st->body);
    nf = 0;
    if (st->otherwise) learn(s, c, false, facts, &nf);
    const stmt *e = !st->otherwise ? NULL
                    : nf ? with_facts(s, facts, nf, st->otherwise) : simp_stmt(s, st->otherwise);
    if (!t || (st->otherwise && !e)) return NULL;
    if (e && is_empty(e)) e = NULL;
    if (is_empty(t) && !e) return t;
    if (c == st->value && t == st->body && e == st->otherwise) return st;
    r = aicc_loop_if(ctx, c, t, e);
    break;
  }
  case AICC_LOOP_ALLOCATE: {
    const stmt *body = simp_stmt(s, st->body);
    if (!body) return NULL;
    if (is_empty(body)) return body;
    if (body == st->body) return st;
    r = aicc_loop_allocate(ctx, st->buf, body);
    break;
  }
  case AICC_LOOP_STORE: {
    const expr *idx[16], **ix = st->buf->rank <= 16 ? idx : malloc((size_t)st->buf->rank * sizeof *ix);
    if (!ix) return NULL;
    bool same = true;
    for (int d = 0; d < st->buf->rank; d++) {
      ix[d] = simp(s, st->index[d]);
      same = same && ix[d] == st->index[d];
    }
    const expr *v = simp(s, st->value);
    if (v && !s->oom) r = same && v == st->value ? st : aicc_loop_store(ctx, st->buf, ix, v);
    if (ix != idx) free(ix);
    break;
  }
  case AICC_LOOP_SEQ: {
    const stmt **v = malloc((st->n ? st->n : 1) * sizeof *v);
    if (!v) return NULL;
    bool same = true;
    for (size_t i = 0; i < st->n; i++) {
      v[i] = simp_stmt(s, st->stmts[i]);
      if (!v[i]) {
        free(v);
        return NULL;
      }
      same = same && v[i] == st->stmts[i];
    }
    r = same ? st : aicc_loop_seq(ctx, st->n, v);
    free(v);
    break;
  }
  case AICC_LOOP_EVALUATE: {
    const expr *v = simp(s, st->value);
    if (!v) return NULL;
    r = v == st->value ? st : aicc_loop_evaluate(ctx, v);
    break;
  }
  }
  if (!r) s->oom = true;
  return r;
}

const aicc_loop_stmt *aicc_loop_stmt_simplify(aicc_loop_ctx *ctx, const aicc_loop_stmt *st,
                                              const aicc_loop_scope *scope) {
  simp_state s = {.ctx = ctx, .scope = scope};
  const stmt *r = simp_stmt(&s, st);
  return s.oom ? NULL : r;
}
