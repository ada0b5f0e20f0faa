/* Schedules: *how* a kernel's stages (loop/compute.h) become loops. A
 * schedule is data (Halide, TVM): a list of primitive records that prints as
 * text, parses back, can be saved as a tuning record, diffed and replayed.
 *
 *   split(S, i0, i0o, i0i, 8)       loop i0 of stage S -> i0o (outer), i0i (inner, extent 8)
 *   tile(S, i0, i1, 32, 32)         split both and reorder to i0o, i1o, i0i, i1i
 *   reorder(S, i1, i0, r0)          new order of (some of) S's loops, outermost first
 *   fuse(S, i0, i1, f)              two adjacent loops -> one loop f
 *   unroll(S, i1i)  vectorize(S, i1i)  parallel(S, i0o)
 *   compute_inline(S)               S's element recomputed at each use
 *   compute_at(S, C, i0)            S computed inside loop i0 of consumer C
 *   cache_read(S, A, A_l)           S reads A through a local copy A_l
 *   cache_write(S, S_l)             S accumulates in a local buffer, then stores
 *   pack(S, B, i1, 16)              B re-laid out as [.., i1/16, .., 16] before S
 *   tensorize(S, i0i, microkernel)  the nest under i0i maps onto an intrinsic
 *
 * Loops are named by the stage's axis vars (i0, r0, ...) and the names that
 * earlier records create. Every record is checked when applied; an illegal
 * one is an error naming the record and the reason, e.g.
 *   "parallel(S, r0): r0 is a reduction loop (a race on S)"
 *   "vectorize(S, i0): extent 7 is not a constant multiple of the lanes"
 *   "reorder(S, ...): moves a reduction loop out of its ordered position"
 * Split tails are guarded (a split by a factor that does not divide the
 * extent adds the bound check), so every legal schedule computes what the
 * unscheduled kernel (aicc_loop_kernel_lower) computes. */
#ifndef AICC_LOOP_SCHEDULE_H
#define AICC_LOOP_SCHEDULE_H

#include "core/status.h"
#include "loop/compute.h"

typedef enum aicc_sched_kind {
  AICC_SCHED_SPLIT,
  AICC_SCHED_TILE,
  AICC_SCHED_REORDER,
  AICC_SCHED_FUSE,
  AICC_SCHED_UNROLL,
  AICC_SCHED_VECTORIZE,
  AICC_SCHED_PARALLEL,
  AICC_SCHED_COMPUTE_AT,
  AICC_SCHED_COMPUTE_INLINE,
  AICC_SCHED_CACHE_READ,
  AICC_SCHED_CACHE_WRITE,
  AICC_SCHED_PACK,
  AICC_SCHED_TENSORIZE,
  AICC_SCHED_KIND_COUNT
} aicc_sched_kind;

enum { AICC_SCHED_MAX_NAMES = 16, AICC_SCHED_MAX_INTS = 4 };

/* One primitive: kind, the stage it applies to, then its name and integer
 * arguments in the order the text form shows them. Strings are owned by the
 * schedule. */
typedef struct aicc_sched_step {
  aicc_sched_kind kind;
  const char *stage;
  int n_names;
  const char *names[AICC_SCHED_MAX_NAMES];
  int n_ints;
  int64_t ints[AICC_SCHED_MAX_INTS];
} aicc_sched_step;

typedef struct aicc_schedule {
  aicc_sched_step *steps; /* malloc'ed */
  size_t n, cap;
  aicc_arena strings;     /* the names */
} aicc_schedule;

void aicc_schedule_init(aicc_schedule *s);
void aicc_schedule_fini(aicc_schedule *s);
/* Appends a step (copies the strings). */
AICC_MUST_USE aicc_status aicc_schedule_add(aicc_schedule *s, const aicc_sched_step *step);
const char *aicc_sched_kind_name(aicc_sched_kind k);

/* One record per line, in the syntax above (malloc'd; caller frees). */
char *aicc_schedule_print(const aicc_schedule *s);
/* Parses text (len bytes) into s (initialized by the caller; steps append).
 * Errors are "file:line:col: reason". */
AICC_MUST_USE aicc_status aicc_schedule_parse(const char *file, const char *text, size_t len,
                                              aicc_schedule *s);

/* What default schedules may assume about the machine. */
typedef struct aicc_sched_target {
  int vector_bits;  /* widest float vector (512, 256, 128, 0: scalar) */
  int threads;      /* threads the runtime runs parallel loops on */
  int64_t l1_bytes, l2_bytes; /* per-core data caches */
} aicc_sched_target;

/* The target of this machine (ISA from the JIT's detection is the caller's
 * business: pass vector_bits in); cache sizes from sysconf, else 32K/1M. */
aicc_sched_target aicc_sched_target_default(int vector_bits, int threads);

/* Applies s to kernel k and returns the scheduled func (params are k's
 * params, in order; temporaries allocated inside). An illegal step is an
 * AICC_ERR_INVALID naming the step. The result is verified
 * (aicc_loop_func_verify) and simplified. */
AICC_MUST_USE aicc_status aicc_schedule_apply(aicc_loop_ctx *ctx, const aicc_loop_kernel *k,
                                              const aicc_schedule *s, aicc_loop_func **out);

/* The default schedule of k, from rules per stage class (op_class):
 * elementwise, reduction, GEMM-like, convolution, pooling, data movement.
 * Appends to out (initialized by the caller). */
AICC_MUST_USE aicc_status aicc_schedule_default(const aicc_loop_kernel *k,
                                                const aicc_sched_target *t,
                                                aicc_schedule *out);

#endif
