/* The compiled engine: a model compiled to a plan of kernel calls, and
 * sessions that run it. (Internal API; include/aicc/aicc.h wraps it for
 * users.)
 *
 * Compiling (src/compile/): the graph passes (-O<opt_level>, then fuse), the
 * lowering of every fusion group to one loop-IR kernel through the ops'
 * compute definitions (ops/lower.h), its default schedule (loop/schedule.h),
 * C code for all kernels in one translation unit (codegen/codegen.h), one
 * JIT compile (jit/jit.h: cached by content), and the plan: one step per
 * kernel, with every intermediate at an offset of one arena planned over the
 * steps' lifetimes. A node whose op has no lowering, or whose lowering
 * refuses its configuration, runs as a reference-kernel step instead (an
 * "extern" step; `strict` makes that an error) -- the program's stats count
 * them and --dump-loops names each one with the reason.
 *
 * Shapes: a program is specialized to static shapes. When the model's
 * inputs have symbolic dims, compiling binds them from `input_shapes` if
 * given, else the first run specializes to the shapes it is given (and a
 * run with other shapes compiles another specialization; each is kept).
 * Values whose shape depends on data (NonZero, ...) make the nodes that
 * need them extern steps.
 *
 * Threads and state: a program is immutable once built (specializations are
 * added under a lock) and may be shared by any number of sessions and
 * threads. A session owns its arena, its thread pool (threads - 1 workers)
 * and its output buffers; one session runs on one thread at a time. There
 * is no global mutable state. */
#ifndef AICC_RUNTIME_RUNTIME_H
#define AICC_RUNTIME_RUNTIME_H

#include "ir/graph.h"
#include "ir/tensor.h"

#include <stdbool.h>
#include <stdio.h>

typedef struct aicc_rt_options {
  int threads;          /* >= 1; 0: 1 */
  int opt_level;        /* graph passes before lowering; default (-1): 3 */
  const char *cc;       /* JIT compiler; NULL: $AICC_CC, else cc */
  const char *cache_dir;/* JIT cache; NULL: the JIT's default */
  const char *isa;      /* NULL: the host's; "scalar", "avx2", "avx512" cap it */
  bool strict;          /* an op that does not lower is an error, not an extern step */
  FILE *dump_loops;     /* if set: each kernel's stages, schedule and scheduled
                           loop IR, and each extern step with its reason */
  /* Bindings of symbolic dims ("N=1,seq=128"), or NULL. */
  const char *input_shapes;
  /* Extra JIT compiler flags after the defaults (tests pass "-Werror"), or
   * NULL. */
  const char *cflags;
} aicc_rt_options;

typedef struct aicc_rt_stats {
  int kernels;          /* compiled kernel steps */
  int extern_steps;     /* nodes run by reference kernels */
  char extern_ops[256]; /* their op types, comma-separated, each once */
  int concats_in_place; /* Concats whose inputs are written into their output
                           (no step, no copy) */
  int specializations;  /* shape specializations compiled so far */
  double compile_ms;    /* total wall time of aicc_rt_compile and specializations */
  double cc_ms;         /* of which in the C compiler */
  bool cache_hit;       /* the latest specialization's code came from the cache */
  int64_t arena_bytes;  /* the latest specialization's arena */
} aicc_rt_stats;

typedef struct aicc_rt_program aicc_rt_program;
typedef struct aicc_rt_session aicc_rt_session;

/* Compiles m, which the program takes over (destroyed with it; the caller
 * must not use m afterwards, even on error). opt may be NULL. */
AICC_MUST_USE aicc_status aicc_rt_compile(aicc_model *m, const aicc_rt_options *opt,
                                          aicc_rt_program **out);
void aicc_rt_program_destroy(aicc_rt_program *p);
void aicc_rt_program_stats(aicc_rt_program *p, aicc_rt_stats *out);
/* The generated C of the latest specialization (NULL before the first, or
 * when every step is extern); valid until the program is destroyed. */
const char *aicc_rt_program_source(aicc_rt_program *p, size_t *len);
/* The main graph after the passes (for inputs/outputs: names, types). */
const aicc_model *aicc_rt_program_model(const aicc_rt_program *p);

/* A session of p (p must outlive it). */
AICC_MUST_USE aicc_status aicc_rt_session_create(aicc_rt_program *p, aicc_rt_session **out);
void aicc_rt_session_destroy(aicc_rt_session *s);
/* Runs with the contract of aicc_interp_run: one input per graph input (in
 * order; NULL for an initializer input means its initializer), outputs get
 * new references (owned by the caller, independent of the session: the
 * caller may write them). An output the caller has released may be reused,
 * memory and all, by the session's next run; one it still holds never is. */
AICC_MUST_USE aicc_status aicc_rt_session_run(aicc_rt_session *s, aicc_tensor *const *inputs,
                                              int n_inputs, aicc_tensor **outputs,
                                              int n_outputs);

/* ---- profiling (per session; off by default, then it costs one NULL
 * check per step) ----
 * While on, each run records one event per plan step (task -1: the step's
 * wall time on the calling thread, argument setup included), and a kernel
 * step that ran on the pool with more than one task also one event per task
 * with the pool thread that ran it (0: the calling thread; the threads
 * claim tasks, so a task a worker did not take in time runs on 0). */
typedef struct aicc_rt_event {
  int run;              /* runs counted from the first profiled one (0, 1, ..) */
  int step;             /* index of the step in its plan */
  bool is_kernel;       /* false: an extern step (a reference kernel) */
  const char *name;     /* kernel name (k0, ..); extern: the node's name, or
                           its op type when it has none */
  const char *ops;      /* op types of the nodes the step covers, in graph
                           order, joined by '+' */
  int task;             /* -1: the whole step; else the task */
  int thread;           /* the pool thread it ran on (0: the calling thread) */
  int ntasks;           /* tasks the step ran on (1: the calling thread only) */
  int64_t start_ns, end_ns; /* CLOCK_MONOTONIC */
} aicc_rt_event;

/* Turns recording on or off (events recorded so far are kept). */
AICC_MUST_USE aicc_status aicc_rt_session_profile_enable(aicc_rt_session *s, bool on);
/* The events recorded since the session began or the last clear, in the
 * order recorded (a step's task events come right after its step event).
 * Valid until the session's next run, clear or destroy; NULL, 0 when none. */
const aicc_rt_event *aicc_rt_session_profile_events(const aicc_rt_session *s, size_t *n);
/* Drops the recorded events (and restarts the run count). */
void aicc_rt_session_profile_clear(aicc_rt_session *s);
/* The threads of the session's pool (the most tasks a step runs on). */
int aicc_rt_session_threads(const aicc_rt_session *s);

#endif
