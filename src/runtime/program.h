/* The program behind runtime.h's aicc_rt_program: the model after the graph
 * passes, the options, the JIT context and the shape specializations
 * compiled so far (each an immutable plan, added under `lock`). Shared by
 * the driver (src/compile/) and the executor (session.c). */
#ifndef AICC_RUNTIME_PROGRAM_H
#define AICC_RUNTIME_PROGRAM_H

#include "runtime/plan.h"
#include "runtime/runtime.h"

#include <pthread.h>

/* A binding of a symbolic dim from options.input_shapes. */
typedef struct aicc_rt_binding {
  char *sym;
  int64_t size;
} aicc_rt_binding;

struct aicc_rt_program {
  aicc_model *base;     /* after -O<level>; what aicc_rt_program_model shows */
  aicc_rt_options opt;  /* strings point into the copies below */
  char *cc, *cache_dir, *isa, *input_shapes, *cflags;
  aicc_rt_binding *bindings;
  int n_bindings;
  aicc_jit_ctx *jit;    /* created with the first kernel to compile */
  /* lock guards specs, latest, the totals and the JIT context's creation;
   * extern_lock serializes the extern steps that hold subgraphs. */
  pthread_mutex_t lock, extern_lock;
  AICC_VEC(aicc_rt_plan *) specs;
  aicc_rt_plan *latest;
  bool base_used;       /* a plan runs on base itself (at most one may) */
  double compile_ms, cc_ms;
};

/* The plan for the given run inputs (one per graph input, NULL for an
 * initializer's default), compiling a new specialization when none
 * matches. Inputs are checked against the model's declared types first
 * (errors name the input). Thread-safe. */
AICC_MUST_USE aicc_status aicc_rt_program_plan(aicc_rt_program *p, aicc_tensor *const *inputs,
                                               int n_inputs, aicc_rt_plan **out);

#endif
