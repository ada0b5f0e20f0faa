/* Symbolic bounds inference for the loop IR (Halide's Bounds.cpp:
 * bounds_of_expr_in_scope and boxes_touched). Variables bound in a relax
 * scope range over [min, max]; every other variable stays symbolic, so the
 * region of a producer needed inside one iteration of an outer loop comes out
 * in terms of that loop's variable -- the basis of compute_at and of the tail
 * checks of split. Results are simplified with the constant facts given. */
#ifndef AICC_LOOP_BOUNDS_H
#define AICC_LOOP_BOUNDS_H

#include "aicc/aicc.h"
#include "loop/ir.h"
#include "loop/simplify.h"

/* An inclusive range [min, max] of expressions; NULL ends are unbounded. */
typedef struct aicc_loop_range {
  const aicc_loop_expr *min, *max;
} aicc_loop_range;

/* Variables to relax over a range, as a stack through caller storage. */
typedef struct aicc_loop_relax {
  const aicc_loop_expr *var;
  aicc_loop_range range;
  const struct aicc_loop_relax *next;
} aicc_loop_relax;

/* The range of integer expression e when each relaxed variable takes any
 * value of its range. facts (may be NULL) are constant ranges of the other
 * variables, used to simplify. Sets *out; returns false only when out of
 * memory. */
bool aicc_loop_bounds_of(aicc_loop_ctx *ctx, const aicc_loop_expr *e,
                         const aicc_loop_relax *relax, const aicc_loop_scope *facts,
                         aicc_loop_range *out);

/* The box of one buffer touched by a statement: a range per dimension. */
typedef struct aicc_loop_region {
  const aicc_loop_buffer *buf;
  aicc_loop_range *dims; /* buf->rank entries, in the ctx arena */
  bool read, written;
} aicc_loop_region;

/* Every buffer the statement loads or stores, in first-touch order, with the
 * union of the boxes accessed while the statement's own loop and let
 * variables range over their values (outer variables stay symbolic; relax
 * and facts describe them as above). Arrays live in the ctx arena. */
AICC_MUST_USE aicc_status aicc_loop_regions_touched(aicc_loop_ctx *ctx, const aicc_loop_stmt *s,
                                                    const aicc_loop_relax *relax,
                                                    const aicc_loop_scope *facts,
                                                    aicc_loop_region **out, size_t *nout);

#endif
