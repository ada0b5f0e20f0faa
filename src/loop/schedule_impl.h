/* Internal state of schedule application, shared by schedule_apply.c (the
 * records change per-stage loop structure: Halide's Function schedule: dims,
 * splits, compute level) and schedule_lower.c (that structure becomes loop
 * nests: Halide's ScheduleFunctions + bounds-driven compute_at). Not for use
 * outside src/loop/schedule_*.c. */
#ifndef AICC_LOOP_SCHEDULE_IMPL_H
#define AICC_LOOP_SCHEDULE_IMPL_H

#include "loop/schedule.h"

enum { SCHED_MAX_DIMS = 96 };

/* One loop dimension of a stage: a root axis, or made by a split or fuse.
 * Leaves (dims not split or fused away) are the stage's loops. */
typedef struct sched_dim {
  const char *name;   /* the loop name records use (interned) */
  const aicc_loop_expr *var; /* the loop variable while lowering: unique per stage and name */
  bool reduction;
  int root;           /* >= 0: axis (pure: index; reduction: n_axes + index); -1: derived */
  int made_by;        /* index of the relation that made it, or -1 */
  int used_by;        /* index of the relation that split/fused it away, or -1 (a leaf) */
  int64_t extent;     /* nominal extent (a split's outer rounds up) */
  aicc_loop_for_kind kind;
  int kind_step;      /* the record that set kind, or -1 */
} sched_dim;

/* split: a -> b (outer) * factor + c (inner); fuse: a (outer), b (inner) -> c. */
typedef struct sched_rel {
  bool split;
  int a, b, c;
  int64_t factor;
  int step;
} sched_rel;

typedef struct sched_stage {
  aicc_loop_stage def;  /* a copy; body & co. rewritten by inline/cache_read/pack */
  bool is_param;
  bool inlined;
  struct sched_stage *at;        /* compute_at: the consumer, or NULL (root) */
  int at_dim, at_step;           /* its dim, and the record */
  const char *cache_write;       /* accumulator buffer name, or NULL */
  int cache_write_step;
  int n_dims;
  sched_dim dims[SCHED_MAX_DIMS];
  int n_rels;
  sched_rel rels[SCHED_MAX_DIMS];
  int n_order;
  int order[SCHED_MAX_DIMS]; /* leaves, outermost first */
} sched_stage;

typedef struct sched_state {
  aicc_loop_ctx *ctx;
  const aicc_loop_kernel *k;
  const aicc_schedule *s;
  int n_stages;
  sched_stage **stages; /* in order of computation (cache_read/pack insert) */
} sched_state;

/* "record: reason" as AICC_ERR_INVALID, for the record with index step. */
aicc_status aicc_sched_fail(const sched_state *st, int step, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The loop nests of every stage, compute_at placement, simplification and
 * the codegen's parallel-loop rule; sets *out (schedule_lower.c). */
AICC_MUST_USE aicc_status aicc_sched_lower(sched_state *st, aicc_loop_func **out);

/* The default rules of one CONV or POOL stage s of kernel k (schedule_conv.c):
 * appends its records to out and sets *handled, and outer to its outermost
 * loop (64 bytes, "" when none); leaves *handled false, adding nothing, for
 * a stage its rules do not fit (the generic rules then apply). par: the
 * stage may take the func's parallel loop. */
AICC_MUST_USE aicc_status aicc_sched_conv_rules(const aicc_loop_kernel *k,
                                                const aicc_loop_stage *s,
                                                const aicc_sched_target *t, bool par,
                                                aicc_schedule *out, char *outer,
                                                bool *handled);

/* The default rule of a GEMM-like stage s of kernel k (schedule_gemm.c):
 * cache blocking of K and N from the target's caches, B packed into panels,
 * a register-blocked micro-kernel accumulating in a local buffer, the outer
 * blocks parallel when par. inlined[i] says that stage i of k is inlined.
 * Appends s's records to out and sets *done, with outer (64 bytes) its
 * outermost loop; leaves both alone and *done false when s is not a shape
 * it handles. s may also be a pure elementwise root whose one expensive
 * producer is a GEMM stage read at the root's index (a fused epilogue):
 * the root is tiled by column blocks and the GEMM computed at each block.
 * A GEMM of few rows whose operands are contiguous along j (GEMV-like)
 * packs nothing: all its rows by a few vectors, over all of K. */
AICC_MUST_USE aicc_status aicc_sched_gemm_rule(const aicc_loop_kernel *k, const bool *inlined,
                                               const aicc_loop_stage *s, const aicc_sched_target *t,
                                               bool par, aicc_schedule *out, bool *done, char *outer);

#endif
