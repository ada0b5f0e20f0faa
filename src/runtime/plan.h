/* The plan of one shape specialization: what the compile driver
 * (src/compile/) builds and the executor (session.c) runs. Plain data,
 * immutable once built, shared by every session of the program.
 *
 * Where each value of the specialized model lives during a run is one
 * aicc_rt_slot per value id: a graph input, a shared constant, an offset
 * in the session's arena (kernel results read by later steps), or a tensor
 * the run holds (extern results, graph outputs). */
#ifndef AICC_RUNTIME_PLAN_H
#define AICC_RUNTIME_PLAN_H

#include "core/arena.h"
#include "ir/graph.h"
#include "jit/jit.h"

#include <stdbool.h>
#include <stdint.h>

/* The kernel ABI of codegen/codegen.h. */
typedef int (*aicc_rt_kernel_fn)(void *const *bufs, int task, int ntasks);

typedef enum aicc_rt_loc {
  AICC_RT_LOC_NONE = 0, /* never read by the plan */
  AICC_RT_LOC_INPUT,    /* graph input `input` (its initializer when not given) */
  AICC_RT_LOC_CONST,    /* `tensor`: an initializer or a folded Constant (shared) */
  AICC_RT_LOC_ARENA,    /* `offset` in the session's arena */
  AICC_RT_LOC_HEAP,     /* a tensor the run holds (extern results, graph outputs) */
} aicc_rt_loc;

typedef struct aicc_rt_slot {
  aicc_rt_loc loc;
  int input;                  /* INPUT: index among the graph inputs */
  const aicc_tensor *tensor;  /* CONST (owned by the model or the plan) */
  int64_t offset;             /* ARENA */
  /* The planned type (static when is_static). Kernels read the value with
   * this shape, so a HEAP value read by a kernel is checked against it. */
  bool is_static;
  aicc_dtype dtype;
  int rank;
  int64_t dims[AICC_MAX_RANK];
  bool to_kernel;    /* some kernel step reads it */
  bool graph_output; /* the run returns it */
  bool in_place;     /* ARENA: a Concat's output whose parts their producers
                        wrote there (no step computes it) */
} aicc_rt_slot;

typedef struct aicc_rt_step {
  bool is_kernel;
  /* Kernel steps: fn(bufs, task, ntasks) with bufs[i] the data of value
   * args[i] (inputs, then outputs: the loop kernel's params) and
   * bufs[n_args] the session's scratch block, of which each task uses
   * `scratch` bytes (codegen.h: aicc_codegen_func_scratch). `allocs` are
   * HEAP values the kernel writes (graph outputs): the run creates their
   * tensors just before the step. alloc_full[i]: the kernel writes every
   * element of allocs[i] (its stage has no guard, or reduces), so the
   * tensor need not be zeroed and may be a buffer reused from an earlier
   * run (session.c). */
  const char *name;
  aicc_rt_kernel_fn fn;
  bool parallel;
  int64_t scratch;
  int n_args;
  uint32_t *args;
  int n_allocs;
  uint32_t *allocs;
  bool *alloc_full;
  /* Extern steps: node runs with its reference kernel. `serialize`: it
   * holds subgraphs, whose interpreter retains shared constants (plain
   * reference counts), so such steps run under the program's lock. */
  const aicc_node *node;
  bool serialize;
  /* When the node's subgraphs read main-graph values: a model of the node
   * alone (owned by the plan) run with aicc_interp_run on the values
   * sub_in (every value the node reads); its outputs are the node's
   * non-NULL outputs in order. */
  aicc_model *sub_model;
  int n_sub_in;
  uint32_t *sub_in;
  /* HEAP values whose last use is this step (released after it). */
  int n_dying;
  uint32_t *dying;
} aicc_rt_step;

/* What a specialization is compiled for, per graph input: whether the run
 * gives it (false: an initializer's default, then a constant), its kind and,
 * for tensors, dtype and dims. */
typedef struct aicc_rt_key {
  bool given;
  aicc_value_kind kind;
  aicc_dtype dtype;
  int rank;
  int64_t dims[AICC_MAX_RANK];
} aicc_rt_key;

typedef struct aicc_rt_plan {
  aicc_arena mem;       /* the arrays below */
  aicc_model *model;    /* the specialized model */
  bool own_model;       /* destroyed with the plan (else the program's) */
  /* The key: one entry per graph input. */
  int n_inputs;
  aicc_rt_key *key;
  uint32_t n_slots;
  aicc_rt_slot *slots;   /* by value id */
  int n_steps;
  aicc_rt_step *steps;
  int max_args;      /* n_args of the widest kernel step (bufs also holds scratch) */
  int64_t arena_bytes;
  /* Scratch a session holds for the kernel steps: the most that a step
   * without a parallel loop uses (its one call), and the most per task of
   * one with (times the session's threads). */
  int64_t scratch_serial, scratch_task;
  aicc_jit_module *module; /* NULL when every step is extern */
  char *source;            /* generated C (malloc'ed) or NULL */
  size_t source_len;
  AICC_VEC(aicc_tensor *) consts; /* folded Constant values (owned) */
  AICC_VEC(aicc_model *) sub_models; /* of extern steps (owned) */
  /* Statistics. */
  int kernels, extern_steps;
  int concats_in_place; /* Concats planned in place (no step) */
  char extern_ops[256];
  double compile_ms, cc_ms;
  bool cache_hit;
} aicc_rt_plan;

void aicc_rt_plan_destroy(aicc_rt_plan *p);

/* ---- tensor views (view.c) ----
 * A view is a tensor struct whose data belongs to someone else (the arena,
 * a shared constant, a caller's buffer): reference kernels get views so
 * they never touch the reference counts of shared tensors. Dense tensors
 * only. aicc_rt_view_free frees the struct, never the data. */
AICC_MUST_USE aicc_status aicc_rt_view_create(aicc_dtype dtype, int rank, const int64_t *dims,
                                              void *data, aicc_tensor **out);
void aicc_rt_view_free(aicc_tensor *v);
/* A private stand-in for a shared value: a view for dense non-string
 * tensors, else a deep copy. Released with aicc_rt_view_free when *is_view. */
AICC_MUST_USE aicc_status aicc_rt_private_ref(const aicc_tensor *t, aicc_tensor **out,
                                              bool *is_view);
/* Replaces *t (one reference) by a deep copy when it is, or holds as a
 * sequence/optional element, one of the `n` tensors in `views` (whose data
 * the caller is about to reuse or give back). */
AICC_MUST_USE aicc_status aicc_rt_detach(aicc_tensor **t, aicc_tensor *const *views, int n);

#endif
