/* Arithmetic simplifier for the loop IR (simplify.c) and the constant
 * interval analysis it reasons with. In the spirit of Halide's Simplify
 * (Simplify_Add.cpp & co, with its ConstBounds) and TVM's arith::Analyzer
 * (RewriteSimplifier + ConstIntBoundAnalyzer), much smaller:
 *  - constant folding with the IR's semantics (floor div/mod, x/0 == 0);
 *  - canonical sums: integer +, -, * by constants become a sorted sum of
 *    terms with combined coefficients, constant last (x*2 + x*3 -> x*5);
 *    products of non-constants are sorted; min/max/&&/|| operands ordered;
 *  - identities (x*1, x*0 for ints, min(x, x), select(true, a, b), !!x, ...);
 *  - bounds-aware rules for signed ints, using intervals of the variables of
 *    enclosing loops/lets: i/16 -> 0, i%16 -> i, min(i, 20) -> i,
 *    (i*4 + j)/4 -> i when 0 <= j < 4, comparisons decided by bounds;
 *    symbolic loop ranges too (i < n is true in for (i, 0, n)), and facts
 *    from if conditions and from the other operand of && / ||.
 * Float arithmetic is only folded when both sides are constant and rewritten
 * by exact identities (x*1.0, x - 0.0); never reassociated. */
#ifndef AICC_LOOP_SIMPLIFY_H
#define AICC_LOOP_SIMPLIFY_H

#include "loop/ir.h"

/* A closed integer interval; lo == INT64_MIN means unbounded below and
 * hi == INT64_MAX unbounded above. */
typedef struct aicc_loop_interval {
  int64_t lo, hi;
} aicc_loop_interval;

#define AICC_LOOP_UNBOUNDED ((aicc_loop_interval){INT64_MIN, INT64_MAX})

/* Facts about variables, as a stack linked through the caller's storage
 * (push = declare a local entry pointing at the outer scope). When replace is
 * set, the variable is replaced by that expression (a let or extent-1 loop). */
typedef struct aicc_loop_scope {
  const aicc_loop_expr *var;
  aicc_loop_interval range;
  const aicc_loop_expr *replace;
  /* Optional symbolic range [min_expr, max_expr] (a loop's min and
   * min + extent - 1, in terms of outer variables): lets the simplifier prove
   * i < n inside for (i, 0, n). */
  const aicc_loop_expr *min_expr, *max_expr;
  const struct aicc_loop_scope *next;
} aicc_loop_scope;

/* Constant bounds of an integer expression given the scope (vars not in scope
 * get their type's range). Floats and unknowns give AICC_LOOP_UNBOUNDED. */
aicc_loop_interval aicc_loop_const_bounds(const aicc_loop_expr *e, const aicc_loop_scope *scope);

/* Simplified e; NULL only when out of memory. scope may be NULL. */
const aicc_loop_expr *aicc_loop_simplify(aicc_loop_ctx *ctx, const aicc_loop_expr *e,
                                         const aicc_loop_scope *scope);
/* Simplifies every expression of s, using loop ranges for the bodies; also
 * drops loops of extent <= 0, inlines loops of extent 1 and lets bound to a
 * constant or variable, and folds ifs with constant conditions. */
const aicc_loop_stmt *aicc_loop_stmt_simplify(aicc_loop_ctx *ctx, const aicc_loop_stmt *s,
                                              const aicc_loop_scope *scope);

#endif
