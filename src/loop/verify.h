/* Loop IR verifier: the invariants constructors cannot check locally, run
 * after every loop-IR transformation in tests (DESIGN.md: a verifier after
 * every pass). Every variable used is bound by a parameter or an enclosing
 * for/let; every buffer accessed is a parameter or an enclosing allocation;
 * buffer extents use only variables bound where the buffer is declared. */
#ifndef AICC_LOOP_VERIFY_H
#define AICC_LOOP_VERIFY_H

#include "aicc/aicc.h"
#include "loop/ir.h"

/* Returns NULL when f is well formed, else an error naming f and the reason. */
AICC_MUST_USE aicc_status aicc_loop_func_verify(const aicc_loop_func *f);

#endif
