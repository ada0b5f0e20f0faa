/* A reference interpreter for the loop IR: expressions of every type and
 * whole statements over caller buffers, with the IR's exact semantics (floor
 * div/mod, x/0 == x%0 == 0, wrap to the type's width, f32 rounding after each
 * operation). Slow and simple on purpose: it is the oracle of the
 * simplifier's randomized tests and, later, of every schedule primitive
 * (a scheduled nest must compute what the unscheduled one does). */
#ifndef AICC_LOOP_EVAL_H
#define AICC_LOOP_EVAL_H

#include "aicc/aicc.h"
#include "loop/ir.h"

typedef struct aicc_loop_binding {
  const aicc_loop_expr *var;
  int64_t value; /* integer and bool variables */
} aicc_loop_binding;

/* Evaluates integer/bool e with the given variable values. Returns false
 * when e holds something this entry point does not model (floats, loads,
 * calls, unbound variables). */
bool aicc_loop_eval_int(const aicc_loop_expr *e, const aicc_loop_binding *env, size_t n,
                        int64_t *out);

/* Storage the interpreter reads and writes: row-major, one element per index
 * point, int64_t for integer/bool buffers and double for float buffers
 * (floats of type f32 hold f32-rounded values). */
typedef struct aicc_loop_buffer_data {
  const aicc_loop_buffer *buf;
  void *data;
  size_t len; /* elements available at data */
} aicc_loop_buffer_data;

/* Runs s with scalar parameters env and buffers bufs. An access outside a
 * buffer's shape, an unbound variable or buffer, or a buffer too small for
 * its shape is an error naming the buffer and the index. */
AICC_MUST_USE aicc_status aicc_loop_stmt_run(const aicc_loop_stmt *s, const aicc_loop_binding *env,
                                             size_t nenv, const aicc_loop_buffer_data *bufs,
                                             size_t nbufs);

#endif
