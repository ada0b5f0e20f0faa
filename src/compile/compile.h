/* The compile driver's internals: graph passes and specialization
 * (driver.c), partition of a specialized graph into kernel and extern units
 * with their lowering and schedule (partition.c), and the plan: steps,
 * memory, generated code (plan_build.c). Everything here runs under the
 * program's lock; nothing here runs kernels. */
#ifndef AICC_COMPILE_COMPILE_H
#define AICC_COMPILE_COMPILE_H

#include "loop/compute.h"
#include "loop/schedule.h"
#include "runtime/program.h"

/* One unit of the partition: the nodes of one kernel, or one extern node. */
typedef struct aicc_cunit {
  int *nodes; /* indices into g->nodes, ascending */
  int n_nodes;
  int pos;    /* the last node's index: units run in order of pos */
  bool is_kernel;
  /* A Concat whose output holds its inputs in place (plan_build.c): no
   * code and no step; is_kernel is false. */
  bool is_view;
  const char *reason; /* extern: why it does not lower (in the build's arena) */
  /* Kernel units. */
  aicc_loop_kernel *k;
  uint32_t *params; /* value ids of k->params, in order */
  int n_params, n_in_params;
  aicc_loop_func *f;     /* scheduled */
  char *sched_text;      /* printed schedule (malloc'ed) */
  char *sched_note;      /* why the default schedule was dropped (malloc'ed) */
} aicc_cunit;

typedef struct aicc_cbuild {
  aicc_rt_program *prog;
  aicc_model *m;
  aicc_graph *g;
  aicc_rt_plan *plan; /* being built */
  aicc_loop_ctx *lc;
  aicc_arena mem;     /* the build's scratch (freed with it) */
  uint32_t n_values;
  int n_nodes;
  /* By value id: its constant (initializer, folded Constant), producing
   * node index (-1: none), main-graph consumer node indices (inputs and
   * captures in subgraphs), graph-output flag. */
  const aicc_tensor **cval;
  int32_t *producer;
  int32_t **consumers;
  int32_t *n_consumers;
  bool *graph_out;
  /* By node index: skipped (a folded Constant), the unit it belongs to,
   * the main-graph values it reads (inputs and subgraph captures). */
  bool *skip;
  int32_t *unit_of;
  uint32_t **uses;
  int32_t *n_uses;
  /* Scratch of the lowering: buffer of each value in the unit being built
   * (valid where vstamp == stamp) and unit membership of nodes. */
  const aicc_loop_buffer **vbuf;
  int32_t *vstamp, *nstamp;
  int32_t stamp;
  AICC_VEC(aicc_cunit) units;
  /* By value id, set by the plan (plan_build.c): the Concat output whose
   * memory holds this value (-1: none), the byte offset in it, and the
   * strides of its elements when they are not dense (else NULL). */
  int64_t *view_of, *view_off;
  int64_t **view_strides;
  aicc_sched_target target;
  int codegen_isa; /* aicc_codegen_isa */
} aicc_cbuild;

/* ---- driver.c ---- */
/* -O<level>, then fuse. */
AICC_MUST_USE aicc_status aicc_compile_passes(aicc_model *m, int opt_level);
/* A deep copy of m (through the text form). */
AICC_MUST_USE aicc_status aicc_compile_model_copy(const aicc_model *m, aicc_model **out);
/* Builds the plan of base specialized to key (under p->lock). */
AICC_MUST_USE aicc_status aicc_compile_plan(aicc_rt_program *p, const aicc_rt_key *key,
                                            aicc_rt_plan **out);

/* ---- partition.c ---- */
/* Fills b->units (ordered, every non-skipped node in exactly one unit) with
 * lowered kernels and extern nodes. */
AICC_MUST_USE aicc_status aicc_compile_partition(aicc_cbuild *b);
/* Schedules every kernel unit (names k0, k1, ... in order). */
AICC_MUST_USE aicc_status aicc_compile_schedule(aicc_cbuild *b);
/* Turns kernel unit u into extern units (one per node, reason given) and
 * re-establishes a valid order. */
AICC_MUST_USE aicc_status aicc_compile_unit_to_extern(aicc_cbuild *b, int u, const char *reason);
/* --dump-loops. */
void aicc_compile_dump(const aicc_cbuild *b, FILE *f);
void aicc_cunit_fini(aicc_cunit *u);

/* ---- capture.c ---- */
/* A model of node n alone whose graph inputs are `reads` (every main-graph
 * value n reads, its subgraphs' captures included) and whose outputs are
 * n's outputs (the non-NULL ones, in order). */
AICC_MUST_USE aicc_status aicc_compile_capture_model(const aicc_model *m, const aicc_node *n,
                                                     const aicc_value *const *reads,
                                                     int n_reads, aicc_model **out);

/* ---- plan_build.c ---- */
/* Codegen, JIT, steps, slots and the arena plan of b->plan. */
AICC_MUST_USE aicc_status aicc_compile_build_plan(aicc_cbuild *b);

#endif
