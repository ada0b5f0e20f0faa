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
 * earlier records create (tile names its loops i0o, i0i, ...). Every record
 * is checked when applied; an illegal one is an error naming the record and
 * the reason, e.g.
 *   "parallel(S, r0): r0 is a reduction loop (a race on its accumulator)"
 *   "reorder(S, o, i0): o is a loop of stage T, not of S (loops never move across stages)"
 *   "vectorize(S, i): the vectorized loop would hold the tail guard of ..."
 * Semantics worth knowing (schedule_apply.c, schedule_lower.c):
 *  - A split whose factor does not divide the extent is partitioned where
 *    its outer loop runs outside its inner one: a main loop of full tiles
 *    with no guard and one tail iteration with constant inner extents (a
 *    vectorized inner loop never holds a guard); a parallel outer loop
 *    branches inside instead. Otherwise (inner loop outside, outer loop
 *    split or fused again) the remainder is guarded by an `if`.
 *  - reorder puts the named loops, in the given order, into the positions
 *    they hold. Reduction loops may move across each other and across pure
 *    loops (every reduction kind is associative and commutative; float sums
 *    then round differently): init goes just outside the outermost
 *    reduction loop, over the pure loops inside it, the final value after.
 *  - parallel and vectorize refuse reduction loops. The result obeys the
 *    codegen's rule (codegen.h): at most one parallel loop, enclosed only by
 *    allocate/let, nothing beside it; a parallel record that breaks it is an
 *    error.
 *  - compute_inline substitutes all axes at once; compute_at places the
 *    producer at the start of the consumer's loop over the box the loop
 *    body reads (bounds.h), stored locally; every use must be inside.
 *  - cache_read adds a copy stage named by the record (place it with
 *    compute_at); pack adds a copy stage "<B>_pack" of shape
 *    [ceil(E/f), other dims, f], zero-padded.
 *  - tensorize only knows gemm_<M>x<N>: it checks that the nest under the
 *    loop is the rank-1 update of a GEMM micro-kernel and maps it onto the
 *    register-block form (M loop unrolled, N loop vectorized); the loop IR
 *    has no call statement, so no intrinsic is emitted.
 * Every legal schedule computes what the unscheduled kernel
 * (aicc_loop_kernel_lower) computes; aicc_schedule_check tests that. */
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

/* Like aicc_schedule_parse on text[*pos, len), lines counted from text:
 * stops at the end or at a '}' (for files that hold kernels and schedule
 * blocks) and sets *pos there. */
AICC_MUST_USE aicc_status aicc_schedule_parse_at(const char *file, const char *text, size_t len,
                                                 size_t *pos, aicc_schedule *s);
/* One record as text into buf (n bytes, NUL-terminated when n > 0); returns
 * the length it needs (snprintf style). */
size_t aicc_sched_step_format(const aicc_sched_step *st, char *buf, size_t n);

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

/* Runs the unscheduled kernel (aicc_loop_kernel_lower) and f, a schedule of
 * it, through the loop interpreter on the same seeded random inputs and
 * compares every output parameter: integers exactly, floats within
 * 1e-4 + 1e-4*|ref| (a schedule may reorder a reduction). Outputs start as
 * NaN (floats) or a sentinel, so an element one side leaves unwritten
 * differs. NULL when they agree; else AICC_ERR_INVALID naming the output and
 * element, or the interpreter's error prefixed "reference:"/"scheduled:". */
AICC_MUST_USE aicc_status aicc_schedule_check(aicc_loop_ctx *ctx, const aicc_loop_kernel *k,
                                              const aicc_loop_func *f, uint64_t seed);

/* The default schedule of k, from rules per stage class (op_class):
 * elementwise, reduction, GEMM-like, convolution, pooling, data movement.
 * Appends to out (initialized by the caller). */
AICC_MUST_USE aicc_status aicc_schedule_default(const aicc_loop_kernel *k,
                                                const aicc_sched_target *t,
                                                aicc_schedule *out);

#endif
