/* Loop IR verifier (see verify.h): one walk with a scope of bound variables
 * and buffers. Errors name the func and what is wrong, never abort. */
#include "loop/verify.h"

#include "core/status.h"
#include "core/vec.h"

typedef struct {
  const aicc_loop_func *f;
  AICC_VEC(const aicc_loop_expr *) vars;
  AICC_VEC(const aicc_loop_buffer *) bufs;
  aicc_status err;
} verifier;

static bool var_bound(const verifier *v, const aicc_loop_expr *var) {
  for (size_t i = 0; i < v->vars.len; i++)
    if (v->vars.data[i] == var) return true;
  return false;
}

static bool buf_bound(const verifier *v, const aicc_loop_buffer *b) {
  for (size_t i = 0; i < v->bufs.len; i++)
    if (v->bufs.data[i] == b) return true;
  return false;
}

static void check_expr(verifier *v, const aicc_loop_expr *e, const char *where) {
  if (v->err) return;
  if (!e) {
    v->err = aicc_errorf(AICC_ERR_INTERNAL, "func '%s': missing expression in %s", v->f->name, where);
    return;
  }
  if (e->op == AICC_LOOP_VAR && !var_bound(v, e)) {
    v->err = aicc_errorf(AICC_ERR_INTERNAL, "func '%s': variable '%s' used in %s is not bound there",
                         v->f->name, e->v.name, where);
    return;
  }
  if (e->op == AICC_LOOP_LOAD && !buf_bound(v, e->buf)) {
    v->err = aicc_errorf(AICC_ERR_INTERNAL, "func '%s': buffer '%s' loaded in %s is not declared there",
                         v->f->name, e->buf->name, where);
    return;
  }
  for (uint32_t k = 0; k < e->nargs; k++) check_expr(v, e->args[k], where);
}

static void push_var(verifier *v, const aicc_loop_expr *var) {
  if (!v->err && !aicc_vec_push(&v->vars, var))
    v->err = aicc_errorf(AICC_ERR_NOMEM, "loop verifier: out of memory");
}

static void push_buf(verifier *v, const aicc_loop_buffer *b) {
  for (int d = 0; d < b->rank; d++) check_expr(v, b->shape[d], "a buffer extent");
  if (!v->err && !aicc_vec_push(&v->bufs, b))
    v->err = aicc_errorf(AICC_ERR_NOMEM, "loop verifier: out of memory");
}

static void check_stmt(verifier *v, const aicc_loop_stmt *s) {
  if (v->err) return;
  if (!s) {
    v->err = aicc_errorf(AICC_ERR_INTERNAL, "func '%s': missing statement", v->f->name);
    return;
  }
  size_t nv = v->vars.len, nb = v->bufs.len;
  switch (s->kind) {
  case AICC_LOOP_FOR:
    check_expr(v, s->min, "a loop minimum");
    check_expr(v, s->extent, "a loop extent");
    push_var(v, s->var);
    check_stmt(v, s->body);
    break;
  case AICC_LOOP_LET:
    check_expr(v, s->value, "a let value");
    push_var(v, s->var);
    check_stmt(v, s->body);
    break;
  case AICC_LOOP_IF:
    check_expr(v, s->value, "an if condition");
    check_stmt(v, s->body);
    if (s->otherwise) check_stmt(v, s->otherwise);
    break;
  case AICC_LOOP_ALLOCATE:
    push_buf(v, s->buf);
    check_stmt(v, s->body);
    break;
  case AICC_LOOP_STORE:
    if (!buf_bound(v, s->buf)) {
      v->err = aicc_errorf(AICC_ERR_INTERNAL, "func '%s': buffer '%s' stored to is not declared there",
                           v->f->name, s->buf->name);
      break;
    }
    for (int d = 0; d < s->buf->rank; d++) check_expr(v, s->index[d], "a store index");
    check_expr(v, s->value, "a stored value");
    break;
  case AICC_LOOP_SEQ:
    for (size_t i = 0; i < s->n; i++) check_stmt(v, s->stmts[i]);
    break;
  case AICC_LOOP_EVALUATE: check_expr(v, s->value, "an evaluate"); break;
  }
  v->vars.len = nv;
  v->bufs.len = nb;
}

aicc_status aicc_loop_func_verify(const aicc_loop_func *f) {
  verifier v = {.f = f};
  /* Parameters are in scope for each other's extents, in any order. */
  for (size_t i = 0; i < f->nparams; i++)
    if (f->params[i].var) push_var(&v, f->params[i].var);
  for (size_t i = 0; i < f->nparams && !v.err; i++)
    if (f->params[i].buf) push_buf(&v, f->params[i].buf);
  check_stmt(&v, f->body);
  aicc_vec_free(&v.vars);
  aicc_vec_free(&v.bufs);
  return v.err;
}
