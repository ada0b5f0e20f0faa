/* Internal to the simplifier (simplify.c, simplify_stmt.c): its state and
 * the few entry points the statement half uses. Not for other modules. */
#ifndef AICC_LOOP_SIMPLIFY_IMPL_H
#define AICC_LOOP_SIMPLIFY_IMPL_H

#include "loop/simplify.h"

typedef aicc_loop_expr expr;

typedef struct simp_state {
  aicc_loop_ctx *ctx;
  const aicc_loop_scope *scope;
  bool oom;
  int logic_depth; /* bounds the mutual simplification of && / || operands */
} simp_state;

/* Simplifies e in s->scope; NULL (and s->oom) when out of memory. */
const expr *aicc_loop_simp_expr_(simp_state *s, const expr *e);
/* Facts (variable ranges) implied by c holding (or not): appended to f. */
void aicc_loop_simp_learn_(simp_state *s, const expr *c, bool holds, aicc_loop_scope *f, size_t *nf);
bool aicc_loop_simp_has_load_(const expr *e);
/* Whether a let of v is worth substituting (constants, variables, v*c + k). */
bool aicc_loop_simp_inline_let_(simp_state *s, const expr *v);

static inline const expr *mk_int(simp_state *s, aicc_dtype t, int64_t v) {
  return aicc_loop_int(s->ctx, t, v);
}
static inline bool int_const(const expr *e, int64_t *v) { return aicc_loop_expr_is_int_const(e, v); }
static inline aicc_loop_interval bounds(simp_state *s, const expr *e) {
  return aicc_loop_const_bounds(e, s->scope);
}

#endif
