/* Loop IR statements and buffers: immutable nodes in the ctx arena (not
 * interned: statements are compared by structure only in tests). A rewrite
 * builds a new tree and shares unchanged subtrees (Halide's IRMutator). */
#include "loop/ir.h"

#include <string.h>

const aicc_loop_buffer *aicc_loop_buffer_create(aicc_loop_ctx *ctx, const char *name,
                                                aicc_dtype t, int rank,
                                                const aicc_loop_expr *const *shape) {
  if (!name || rank < 0 || !aicc_loop_type_valid(t)) return NULL;
  aicc_arena *a = aicc_loop_ctx_arena(ctx);
  aicc_loop_buffer *b = AICC_ARENA_NEW(a, aicc_loop_buffer);
  if (!b) return NULL;
  b->name = aicc_loop_name(ctx, name, strlen(name));
  b->type = t;
  b->rank = rank;
  b->shape = AICC_ARENA_ARRAY(a, const aicc_loop_expr *, rank ? rank : 1);
  if (!b->name || !b->shape) return NULL;
  for (int d = 0; d < rank; d++) {
    if (!shape[d] || !aicc_loop_type_is_int(shape[d]->type)) return NULL;
    b->shape[d] = shape[d];
  }
  return b;
}

bool aicc_loop_buffer_set_strides(aicc_loop_ctx *ctx, const aicc_loop_buffer *buf,
                                  const int64_t *strides) {
  aicc_loop_buffer *b = (aicc_loop_buffer *)buf; /* buffers live in ctx's arena, mutable */
  if (!strides) {
    b->strides = NULL;
    return true;
  }
  int64_t *s = AICC_ARENA_ARRAY(aicc_loop_ctx_arena(ctx), int64_t, b->rank ? b->rank : 1);
  if (!s) return false;
  memcpy(s, strides, sizeof *s * (size_t)b->rank);
  b->strides = s;
  return true;
}

int64_t aicc_loop_buffer_numel(const aicc_loop_buffer *buf) {
  int64_t n = 1, e;
  for (int d = 0; d < buf->rank; d++) {
    if (!aicc_loop_expr_is_int_const(buf->shape[d], &e) || e < 0) return 0;
    if (e && n > (INT64_C(1) << 62) / e) return 0;
    n *= e;
  }
  return n;
}

static aicc_loop_stmt *stmt_new(aicc_loop_ctx *ctx, aicc_loop_stmt_kind kind) {
  aicc_loop_stmt *s = AICC_ARENA_NEW(aicc_loop_ctx_arena(ctx), aicc_loop_stmt);
  if (s) s->kind = kind;
  return s;
}

const aicc_loop_stmt *aicc_loop_for(aicc_loop_ctx *ctx, const aicc_loop_expr *var,
                                    const aicc_loop_expr *min, const aicc_loop_expr *extent,
                                    aicc_loop_for_kind kind, const aicc_loop_stmt *body) {
  if (!var || !min || !extent || !body || var->op != AICC_LOOP_VAR) return NULL;
  if (!aicc_loop_type_is_int(var->type) || min->type != var->type || extent->type != var->type)
    return NULL;
  aicc_loop_stmt *s = stmt_new(ctx, AICC_LOOP_FOR);
  if (!s) return NULL;
  s->var = var;
  s->min = min;
  s->extent = extent;
  s->for_kind = kind;
  s->body = body;
  return s;
}

const aicc_loop_stmt *aicc_loop_let(aicc_loop_ctx *ctx, const aicc_loop_expr *var,
                                    const aicc_loop_expr *value, const aicc_loop_stmt *body) {
  if (!var || !value || !body || var->op != AICC_LOOP_VAR || var->type != value->type)
    return NULL;
  aicc_loop_stmt *s = stmt_new(ctx, AICC_LOOP_LET);
  if (!s) return NULL;
  s->var = var;
  s->value = value;
  s->body = body;
  return s;
}

const aicc_loop_stmt *aicc_loop_if(aicc_loop_ctx *ctx, const aicc_loop_expr *cond,
                                   const aicc_loop_stmt *then_s, const aicc_loop_stmt *else_s) {
  if (!cond || !then_s || cond->type != AICC_DTYPE_BOOL) return NULL;
  aicc_loop_stmt *s = stmt_new(ctx, AICC_LOOP_IF);
  if (!s) return NULL;
  s->value = cond;
  s->body = then_s;
  s->otherwise = else_s;
  return s;
}

const aicc_loop_stmt *aicc_loop_allocate(aicc_loop_ctx *ctx, const aicc_loop_buffer *buf,
                                         const aicc_loop_stmt *body) {
  if (!buf || !body) return NULL;
  aicc_loop_stmt *s = stmt_new(ctx, AICC_LOOP_ALLOCATE);
  if (!s) return NULL;
  s->buf = buf;
  s->body = body;
  return s;
}

const aicc_loop_stmt *aicc_loop_store(aicc_loop_ctx *ctx, const aicc_loop_buffer *buf,
                                      const aicc_loop_expr *const *index,
                                      const aicc_loop_expr *value) {
  if (!buf || !value || value->type != buf->type) return NULL;
  aicc_loop_stmt *s = stmt_new(ctx, AICC_LOOP_STORE);
  if (!s) return NULL;
  s->index = AICC_ARENA_ARRAY(aicc_loop_ctx_arena(ctx), const aicc_loop_expr *,
                              buf->rank ? buf->rank : 1);
  if (!s->index) return NULL;
  for (int d = 0; d < buf->rank; d++) {
    if (!index[d] || !aicc_loop_type_is_int(index[d]->type)) return NULL;
    s->index[d] = index[d];
  }
  s->buf = buf;
  s->value = value;
  return s;
}

const aicc_loop_stmt *aicc_loop_seq(aicc_loop_ctx *ctx, size_t n,
                                    const aicc_loop_stmt *const *stmts) {
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    if (!stmts[i]) return NULL;
    total += stmts[i]->kind == AICC_LOOP_SEQ ? stmts[i]->n : 1;
  }
  if (total == 1) {
    for (size_t i = 0; i < n; i++)
      if (stmts[i]->kind != AICC_LOOP_SEQ) return stmts[i];
      else if (stmts[i]->n == 1) return stmts[i]->stmts[0];
  }
  aicc_loop_stmt *s = stmt_new(ctx, AICC_LOOP_SEQ);
  if (!s) return NULL;
  s->stmts = AICC_ARENA_ARRAY(aicc_loop_ctx_arena(ctx), const aicc_loop_stmt *,
                              total ? total : 1);
  if (!s->stmts) return NULL;
  for (size_t i = 0; i < n; i++) {
    if (stmts[i]->kind == AICC_LOOP_SEQ)
      for (size_t j = 0; j < stmts[i]->n; j++) s->stmts[s->n++] = stmts[i]->stmts[j];
    else
      s->stmts[s->n++] = stmts[i];
  }
  return s;
}

const aicc_loop_stmt *aicc_loop_evaluate(aicc_loop_ctx *ctx, const aicc_loop_expr *value) {
  if (!value) return NULL;
  aicc_loop_stmt *s = stmt_new(ctx, AICC_LOOP_EVALUATE);
  if (s) s->value = value;
  return s;
}

const char *aicc_loop_for_kind_name(aicc_loop_for_kind k) {
  switch (k) {
  case AICC_LOOP_SERIAL: return "serial";
  case AICC_LOOP_PARALLEL: return "parallel";
  case AICC_LOOP_VECTORIZED: return "vectorized";
  case AICC_LOOP_UNROLLED: return "unrolled";
  }
  return "?";
}

/* Substitution through statements: rebuilds only what changes, and stops
 * where a for or let rebinds var (the inner binding shadows). */
const aicc_loop_stmt *aicc_loop_stmt_substitute(aicc_loop_ctx *ctx, const aicc_loop_stmt *s,
                                                const aicc_loop_expr *var,
                                                const aicc_loop_expr *value) {
  if (!s) return NULL;
#define SUB(e) aicc_loop_expr_substitute(ctx, (e), var, value)
  switch (s->kind) {
  case AICC_LOOP_FOR: {
    const aicc_loop_expr *min = SUB(s->min), *ext = SUB(s->extent);
    const aicc_loop_stmt *body = s->var == var ? s->body : aicc_loop_stmt_substitute(ctx, s->body, var, value);
    if (min == s->min && ext == s->extent && body == s->body) return s;
    return aicc_loop_for(ctx, s->var, min, ext, s->for_kind, body);
  }
  case AICC_LOOP_LET: {
    const aicc_loop_expr *v = SUB(s->value);
    const aicc_loop_stmt *body = s->var == var ? s->body : aicc_loop_stmt_substitute(ctx, s->body, var, value);
    if (v == s->value && body == s->body) return s;
    return aicc_loop_let(ctx, s->var, v, body);
  }
  case AICC_LOOP_IF: {
    const aicc_loop_expr *c = SUB(s->value);
    const aicc_loop_stmt *t = aicc_loop_stmt_substitute(ctx, s->body, var, value);
    const aicc_loop_stmt *e = s->otherwise ? aicc_loop_stmt_substitute(ctx, s->otherwise, var, value) : NULL;
    if (!c || !t || (s->otherwise && !e)) return NULL;
    if (c == s->value && t == s->body && e == s->otherwise) return s;
    return aicc_loop_if(ctx, c, t, e);
  }
  case AICC_LOOP_ALLOCATE: {
    const aicc_loop_stmt *body = aicc_loop_stmt_substitute(ctx, s->body, var, value);
    return body == s->body ? s : aicc_loop_allocate(ctx, s->buf, body);
  }
  case AICC_LOOP_STORE: {
    const aicc_loop_expr *stack[8];
    const aicc_loop_expr **idx = s->buf->rank <= 8 ? stack : AICC_ARENA_ARRAY(aicc_loop_ctx_arena(ctx), const aicc_loop_expr *, s->buf->rank);
    if (!idx) return NULL;
    bool same = true;
    for (int d = 0; d < s->buf->rank; d++) {
      idx[d] = SUB(s->index[d]);
      same = same && idx[d] == s->index[d];
    }
    const aicc_loop_expr *v = SUB(s->value);
    if (same && v == s->value) return s;
    return aicc_loop_store(ctx, s->buf, idx, v);
  }
  case AICC_LOOP_SEQ: {
    const aicc_loop_stmt **v = AICC_ARENA_ARRAY(aicc_loop_ctx_arena(ctx), const aicc_loop_stmt *, s->n ? s->n : 1);
    if (!v) return NULL;
    bool same = true;
    for (size_t i = 0; i < s->n; i++) {
      v[i] = aicc_loop_stmt_substitute(ctx, s->stmts[i], var, value);
      if (!v[i]) return NULL;
      same = same && v[i] == s->stmts[i];
    }
    return same ? s : aicc_loop_seq(ctx, s->n, v);
  }
  case AICC_LOOP_EVALUATE: {
    const aicc_loop_expr *v = SUB(s->value);
    return v == s->value ? s : aicc_loop_evaluate(ctx, v);
  }
  }
#undef SUB
  return NULL;
}
