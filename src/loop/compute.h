/* Compute definitions: *what* each element of a buffer is, apart from *how*
 * the loops that compute it are ordered (Halide's Func, TVM's te.compute).
 *
 * A stage defines every element of one buffer over its axes:
 *
 *   reduce NONE:  buf[a0..an] = body                (where cond holds, if set)
 *   reduce SUM..: buf[a0..an] = init
 *                 for each point r of the reduction axes (where cond holds):
 *                   buf[a0..an] = combine(buf[a0..an], body)
 *                 then, if post is set: buf[a0..an] = post
 *
 * body, init, cond and post are loop-IR expressions over the axis variables
 * (and, for body and cond, the reduction variables) and loads of the kernel's
 * buffers; post may load buf itself at exactly [a0..an] (the reduced value).
 * A kernel is the ordered stages of one fused group: a stage may read the
 * buffers of earlier stages. Buffers that no parameter names are the
 * kernel's temporaries (allocated inside it).
 *
 * Index variables and extents are i32 (Halide's convention; codegen computes
 * flat offsets in 64 bits); extents are constants (shapes are static once a
 * model's inputs are bound). Everything lives in the loop ctx's arena. */
#ifndef AICC_LOOP_COMPUTE_H
#define AICC_LOOP_COMPUTE_H

#include "core/status.h"
#include "loop/ir.h"

enum { AICC_MAX_LOOP_RANK = 16 };

typedef enum aicc_loop_reduce {
  AICC_LOOP_REDUCE_NONE = 0,
  AICC_LOOP_REDUCE_SUM,
  AICC_LOOP_REDUCE_PROD,
  AICC_LOOP_REDUCE_MAX, /* max(acc, x); NaN handling is the codegen's fmax/fmin */
  AICC_LOOP_REDUCE_MIN,
} aicc_loop_reduce;

typedef struct aicc_loop_axis {
  const aicc_loop_expr *var; /* an i32 VAR */
  int64_t extent;            /* >= 0; the axis runs over [0, extent) */
} aicc_loop_axis;

typedef struct aicc_loop_stage {
  const char *name; /* unique within the kernel (interned); the buffer's name */
  const aicc_loop_buffer *buf; /* the buffer this stage defines; rank == n_axes */
  int n_axes;
  aicc_loop_axis *axes;  /* one per dim of buf, outermost first */
  int n_raxes;
  aicc_loop_axis *raxes; /* reduction axes (reduce != NONE), outermost first */
  aicc_loop_reduce reduce;
  const aicc_loop_expr *init; /* reduce != NONE: the start value; NULL: the identity */
  const aicc_loop_expr *body; /* the element, or the term reduced */
  const aicc_loop_expr *cond; /* NULL, or a bool guard (see above) */
  const aicc_loop_expr *post; /* NULL, or the final value after a reduction */
  /* Set by the lowering: the stage is a pure function of its axes with no
   * reduction or guard, so a consumer in the same kernel may recompute it at
   * each use instead of storing it (compute_inline). */
  bool inlinable;
  /* A hint for default schedules, set by the lowering. */
  enum {
    AICC_LOOP_CLASS_ELEMENTWISE = 0,
    AICC_LOOP_CLASS_REDUCTION,
    AICC_LOOP_CLASS_GEMM,      /* a reduction of products: MatMul, Gemm */
    AICC_LOOP_CLASS_CONV,
    AICC_LOOP_CLASS_POOL,
    AICC_LOOP_CLASS_MOVEMENT,  /* data movement: transpose, gather, concat */
  } op_class;
} aicc_loop_stage;

typedef struct aicc_loop_kernel {
  const char *name;        /* a C identifier */
  aicc_loop_stage **stages; /* in order of computation */
  size_t n_stages, cap_stages;
  /* The parameters, in order: the buffers the caller passes (inputs, then
   * outputs). Every other buffer a stage defines is a temporary. */
  const aicc_loop_buffer **params;
  size_t n_params, cap_params;
} aicc_loop_kernel;

/* A new empty kernel in ctx's arena (NULL when out of memory). */
aicc_loop_kernel *aicc_loop_kernel_create(aicc_loop_ctx *ctx, const char *name);
/* Appends a parameter buffer / a stage (the kernel keeps the pointer). */
AICC_MUST_USE aicc_status aicc_loop_kernel_param_add(aicc_loop_ctx *ctx, aicc_loop_kernel *k,
                                                     const aicc_loop_buffer *buf);
AICC_MUST_USE aicc_status aicc_loop_kernel_stage_add(aicc_loop_ctx *ctx, aicc_loop_kernel *k,
                                                     aicc_loop_stage *s);
/* The stage that defines buf in k, or NULL (buf is an input parameter). */
aicc_loop_stage *aicc_loop_kernel_stage_of(const aicc_loop_kernel *k, const aicc_loop_buffer *buf);
bool aicc_loop_kernel_is_param(const aicc_loop_kernel *k, const aicc_loop_buffer *buf);

/* A new stage in ctx's arena with n_axes axes named <prefix>0.. over dims
 * (i32 vars) and no reduction; the caller sets body (and the rest). */
aicc_loop_stage *aicc_loop_stage_create(aicc_loop_ctx *ctx, const aicc_loop_buffer *buf,
                                        const char *prefix);
/* Adds n reduction axes named <prefix>0.. with the given extents. */
AICC_MUST_USE aicc_status aicc_loop_stage_reduce(aicc_loop_ctx *ctx, aicc_loop_stage *s,
                                                 aicc_loop_reduce kind, int n,
                                                 const int64_t *extents, const char *prefix);
/* The identity of a reduction in type t (0, 1, -inf/lowest, +inf/highest). */
const aicc_loop_expr *aicc_loop_reduce_identity(aicc_loop_ctx *ctx, aicc_loop_reduce kind,
                                                aicc_dtype t);
/* combine(acc, x) for a reduction kind. */
const aicc_loop_expr *aicc_loop_reduce_combine(aicc_loop_ctx *ctx, aicc_loop_reduce kind,
                                               const aicc_loop_expr *acc,
                                               const aicc_loop_expr *x);
const char *aicc_loop_reduce_name(aicc_loop_reduce kind);

/* The unscheduled loop nest of one stage: serial loops over the axes in
 * order (then the reduction axes), exactly as the comment at the top says.
 * This is the semantics every schedule must preserve. */
const aicc_loop_stmt *aicc_loop_stage_lower(aicc_loop_ctx *ctx, const aicc_loop_stage *s);
/* The unscheduled kernel: its stages' nests in order, temporaries allocated
 * around them, as a func whose params are k's params. NULL when out of
 * memory. */
aicc_loop_func *aicc_loop_kernel_lower(aicc_loop_ctx *ctx, const aicc_loop_kernel *k);
/* Prints k in its text form (malloc'd; caller frees), for --dump-loops and
 * tests; aicc_loop_kernel_parse reads it back:
 *
 *   kernel mm(A: f32[4, 16], B: f32[16, 8], C: f32[4, 8]) {
 *     temp T: f32[4, 16]                           // a temporary, before its stage
 *     T[i0, i1] = A[i0, i1]*2.0 @inlinable
 *     C[i0, i1] = sum(r0: 16) T[i0, r0]*B[r0, i1] @gemm
 *   }
 *
 * A stage is one line: the buffer indexed by its axis names (extents are the
 * buffer's), `=`, an optional reduction `sum|prod|max|min(r0: 16, ...)` with
 * `; init EXPR` inside the parentheses when init is set, the body, then
 * `where COND` and `then POST` when set, then the op class (omitted for
 * elementwise) and `@inlinable`. Expressions are loop-IR text (text.h). */
char *aicc_loop_kernel_print(const aicc_loop_kernel *k);
/* Parses one kernel from text[*pos, len) (leading blanks and // comments are
 * skipped) into a new kernel in ctx and sets *pos just past its closing `}`.
 * Parameters need constant extents; every stage writes a parameter or a
 * declared temp, once. Errors are one line "file:line:col: reason", lines
 * counted from text. */
AICC_MUST_USE aicc_status aicc_loop_kernel_parse(aicc_loop_ctx *ctx, const char *file,
                                                 const char *text, size_t len, size_t *pos,
                                                 aicc_loop_kernel **out);
/* The spelling of an op class in that text ("elementwise", "gemm", ...). */
const char *aicc_loop_class_name(int op_class);

#endif
