/* Lowering: an op's compute definition. A lowering function appends stages
 * (loop/compute.h) that define each wanted output of one node from its input
 * buffers: it says *what* is computed, never how (no loop order, no
 * vectorization). The lowering of a fused group (src/lower/) calls one
 * lowering per node into one kernel, so a node's outputs may be read by the
 * next node's stages.
 *
 * Where lowerings live: the rows of the family tables leave `lower` NULL
 * (like `grad`), and each file src/ops/lower/<name>.c defines
 *   const aicc_lower_table aicc_lower_<name> = {"<name>", rows, count};
 * found by CMake like the families. aicc_lower_find looks a node's op up:
 * a registry row's own `lower` field wins, then the tables by (domain, name).
 *
 * A lowering that does not support a node's configuration (a dtype, an
 * attribute value, a data-dependent shape) returns AICC_ERR_UNSUPPORTED with
 * a short reason ("mode 'reflect'"), and the compiler runs that node with its
 * reference kernel instead, saying so in --dump-loops and the stats. */
#ifndef AICC_OPS_LOWER_H
#define AICC_OPS_LOWER_H

#include "loop/compute.h"
#include "ops/registry.h"

typedef struct aicc_lower_ctx {
  aicc_loop_ctx *lc;
  aicc_loop_kernel *kernel;  /* stages are appended here */
  const aicc_node *node;
  int opset;
  int n_in, n_out;
  /* One per input: a buffer of static shape (i32 extents) whose dtype is the
   * value's; NULL for an omitted optional input. */
  const aicc_loop_buffer *const *in;
  /* The constant value of input i (an initializer or folded value), else
   * NULL. Lowerings read shape-like inputs (Reshape's shape, Slice's starts,
   * Pad's pads, ...) here; a needed one that is NULL is UNSUPPORTED. */
  const aicc_tensor *const *cin;
  /* One per output, already created with the inferred static shape; NULL
   * when the output is unused. The lowering defines each non-NULL one with
   * exactly one stage whose buf is out[i] (it may add temp stages first). */
  const aicc_loop_buffer *const *out;
  int tmp_counter; /* for aicc_lower_temp names */
} aicc_lower_ctx;

typedef aicc_status (*aicc_lower_fn)(aicc_lower_ctx *c);

typedef struct aicc_lower_row {
  const char *domain; /* "" for ai.onnx, "ai.aicc", ... */
  const char *name;
  aicc_lower_fn fn;   /* covers every opset version of the op */
} aicc_lower_row;

typedef struct aicc_lower_table {
  const char *name;
  const aicc_lower_row *rows;
  size_t count;
} aicc_lower_table;

/* The lowering of op (domain, name), or NULL when none exists. */
aicc_lower_fn aicc_lower_find(const aicc_op *op, const char *domain, const char *name);
/* All tables, for listing (`aicc ops` shows which ops lower). */
const aicc_lower_table *const *aicc_lower_tables(size_t *count);

/* ---- helpers for lowering functions (lower_util.c) ---- */

/* "node 'x' (Op): <reason>" with code AICC_ERR_UNSUPPORTED. */
aicc_status aicc_lower_unsupported(const aicc_lower_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A new stage defining c->out[i] (or any buffer) with axes named i0, i1, ...
 * (see aicc_loop_stage_create); NULL when out of memory. Add it with
 * aicc_lower_emit once body (and the rest) are set. */
aicc_loop_stage *aicc_lower_stage(aicc_lower_ctx *c, const aicc_loop_buffer *buf);
/* Appends s to the kernel. */
AICC_MUST_USE aicc_status aicc_lower_emit(aicc_lower_ctx *c, aicc_loop_stage *s);
/* Appends reduction stage s like aicc_lower_emit; when its innermost
 * reduction axis is the innermost index of its loads (a row reduction) and
 * long enough, as two stages instead (rfactor, lower_util.c): a partial
 * reduction into W lanes (an output axis the default schedule vectorizes),
 * then the fold of the lanes and of the tail, with s's init and post. The
 * partial is a new temporary; s->buf is still defined by the last stage. */
AICC_MUST_USE aicc_status aicc_lower_emit_reduce(aicc_lower_ctx *c, aicc_loop_stage *s);
/* A new temporary buffer "<node>_t<k>" of dtype t and static dims. */
const aicc_loop_buffer *aicc_lower_temp(aicc_lower_ctx *c, aicc_dtype t, int rank,
                                        const int64_t *dims);
/* dims of a static buffer (false if some extent is not a constant). */
bool aicc_lower_dims(const aicc_loop_buffer *b, int64_t *dims);
int64_t aicc_lower_dim(const aicc_loop_buffer *b, int i);

/* Load of in at the multidirectional (numpy) broadcast of index idx, an
 * index of rank out_rank: in's dims align to the right and its dims of size
 * 1 read index 0. */
const aicc_loop_expr *aicc_lower_load_bcast(aicc_lower_ctx *c, const aicc_loop_buffer *in,
                                            int out_rank, const aicc_loop_expr *const *idx);
/* The stage's axis variables as an index array (into caller storage). */
void aicc_lower_axis_index(const aicc_loop_stage *s, const aicc_loop_expr **idx);
/* Elements of a static buffer. */
int64_t aicc_lower_numel(const aicc_loop_buffer *b);
/* UNSUPPORTED (naming `what`) unless b is present, with static dims and a
 * loop-IR dtype. */
AICC_MUST_USE aicc_status aicc_lower_need_buf(aicc_lower_ctx *c, const aicc_loop_buffer *b,
                                              const char *what);
/* min(max(e, lo), hi) in e's type. */
const aicc_loop_expr *aicc_lower_clamp(aicc_lower_ctx *c, const aicc_loop_expr *e, int64_t lo,
                                       int64_t hi);
/* v*k and v+k with an i32 constant k, without the no-op forms (NULL in,
 * NULL out); a && b where the constant true stands for "no condition". */
const aicc_loop_expr *aicc_lower_mul_k(aicc_lower_ctx *c, const aicc_loop_expr *v, int64_t k);
const aicc_loop_expr *aicc_lower_add_k(aicc_lower_ctx *c, const aicc_loop_expr *v, int64_t k);
const aicc_loop_expr *aicc_lower_and(aicc_lower_ctx *c, const aicc_loop_expr *a,
                                     const aicc_loop_expr *b);
/* A parameter given per position along one axis (a bias, zero point or
 * scale): input `in` is a scalar (any rank, one value) or a 1-D tensor of
 * n values read at index ix. *e is NULL when the input is omitted;
 * UNSUPPORTED for other shapes. */
AICC_MUST_USE aicc_status aicc_lower_load_per(aicc_lower_ctx *c, int in, int64_t n,
                                              const aicc_loop_expr *ix,
                                              const aicc_loop_expr **e);
/* Integer / float constants of the loop IR, i32 index constants. */
const aicc_loop_expr *aicc_lower_i32(aicc_lower_ctx *c, int64_t v);
const aicc_loop_expr *aicc_lower_const(aicc_lower_ctx *c, aicc_dtype t, double v);

/* Reads integer constant input i into vals (at most max); returns the count,
 * or -1 when the input is missing or not constant. */
int64_t aicc_lower_const_ints(const aicc_lower_ctx *c, int i, int64_t *vals, int64_t max);

/* True when the loop IR (and so codegen) handles dtype t: bool, the 8..64-bit
 * integers, f32 and f64. (f16/bf16/f8 and sub-byte types are left to the
 * reference kernels for now.) */
bool aicc_lower_dtype_ok(aicc_dtype t);

#endif
