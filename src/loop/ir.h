/* Loop IR: immutable, hash-consed expressions and immutable statements, owned
 * by an aicc_loop_ctx (one arena + one intern table; no globals). Modelled on
 * Halide's IR (IR.h: Add, Min, Select, Load, For, Allocate, ...) and TVM TIR.
 * Knows nothing about ONNX or the graph IR (DESIGN.md, src/loop row).
 *
 * Semantics worth knowing:
 *  - Integer `/` is floor division and `%` floor modulo (TVM floordiv/floormod):
 *    -7 / 2 == -4, -7 % 2 == 1, 7 % -2 == -1. x / 0 == 0 and x % 0 == 0 for
 *    ints (as Halide defines them), so every integer expression has a value.
 *  - Signed integer arithmetic wraps to the type's width when folded; the
 *    simplifier's bounds reasoning assumes index arithmetic does not overflow
 *    (Halide makes the same assumption for Int(32)).
 *  - Loads are multi-dimensional: `A[i, j]` has one index per dimension of A
 *    (Halide Call-to-Func / TVM BufferLoad style); codegen flattens with strides.
 *    Keeping dimensions lets bounds inference report a box per buffer.
 *  - &&, || and select evaluate all their operands (no short-circuit, as in
 *    vector code), so every load in an expression must be in bounds whatever
 *    the conditions: guard a load with an if statement, or clamp its index
 *    with min/max (as Halide's boundary conditions do).
 *  - Variables are identified by (name, type): two vars with the same name and
 *    type are the same pointer. Loops bind names; an inner loop may shadow.
 *
 * Ownership: everything returned lives in the ctx arena and dies with
 * aicc_loop_ctx_destroy. Constructors return NULL only when memory runs out,
 * and every constructor given a NULL operand returns NULL, so a whole tree can
 * be built and checked once at the end. */
#ifndef AICC_LOOP_IR_H
#define AICC_LOOP_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/dtype.h"

typedef struct aicc_loop_ctx aicc_loop_ctx;
typedef struct aicc_loop_expr aicc_loop_expr;
typedef struct aicc_loop_stmt aicc_loop_stmt;
typedef struct aicc_loop_buffer aicc_loop_buffer;

/* Expression kinds; text spelling and arity are in the table in expr.c. */
typedef enum aicc_loop_op {
  AICC_LOOP_INT,   /* v.i; any integer type or bool */
  AICC_LOOP_FLOAT, /* v.f */
  AICC_LOOP_VAR,   /* v.name */
  AICC_LOOP_ADD, AICC_LOOP_SUB, AICC_LOOP_MUL,
  AICC_LOOP_DIV, /* floor division for ints, IEEE for floats */
  AICC_LOOP_MOD, /* floor modulo: ints, and floats as x - y*floor(x/y) (x % 0.0 == x);
                    C's truncating fmod is the intrinsic fmod */
  AICC_LOOP_MIN, AICC_LOOP_MAX,
  AICC_LOOP_EQ, AICC_LOOP_NE, AICC_LOOP_LT, AICC_LOOP_LE, AICC_LOOP_GT, AICC_LOOP_GE,
  AICC_LOOP_AND, AICC_LOOP_OR, AICC_LOOP_NOT,
  AICC_LOOP_SELECT, /* select(cond, true_value, false_value) */
  AICC_LOOP_CAST,   /* type is the target type; args[0] the value */
  AICC_LOOP_LOAD,   /* buf[args...] */
  AICC_LOOP_CALL,   /* v.name(args...): an intrinsic from the table in intrinsics.c */
  AICC_LOOP_OP_COUNT
} aicc_loop_op;

struct aicc_loop_expr {
  aicc_loop_op op;
  aicc_dtype type;
  uint32_t hash;
  uint32_t nargs;
  union {
    int64_t i;        /* INT (already wrapped to the type's width) */
    double f;         /* FLOAT (already rounded to f32 when type is f32) */
    const char *name; /* VAR, CALL: interned in the ctx */
  } v;
  const aicc_loop_buffer *buf; /* LOAD */
  const aicc_loop_expr *args[];
};

/* A named, typed multi-dimensional buffer handle. Shape entries are
 * expressions (constants or variables such as N). Not interned: each
 * aicc_loop_buffer_create gives a distinct buffer. strides: NULL for the
 * dense row-major layout; else, for a parameter that lies inside a larger
 * tensor (a part of a Concat planned in place), the elements between
 * neighbours along each dim. Only code generation reads them: the IR
 * indexes buffers by dims and never depends on the layout. */
struct aicc_loop_buffer {
  const char *name;
  aicc_dtype type;
  int rank;
  const aicc_loop_expr **shape;
  const int64_t *strides;
};

typedef enum aicc_loop_for_kind {
  AICC_LOOP_SERIAL,
  AICC_LOOP_PARALLEL,
  AICC_LOOP_VECTORIZED,
  AICC_LOOP_UNROLLED,
} aicc_loop_for_kind;

typedef enum aicc_loop_stmt_kind {
  AICC_LOOP_FOR,      /* for (var, min, extent) kind { body } */
  AICC_LOOP_LET,      /* let var = value { body } */
  AICC_LOOP_IF,       /* if (cond) { then } else { otherwise } (else may be NULL) */
  AICC_LOOP_ALLOCATE, /* allocate buf { body }: buf's shape gives the extents */
  AICC_LOOP_STORE,    /* buf[index...] = value */
  AICC_LOOP_SEQ,      /* a block; never nested in another SEQ, never of length 1 */
  AICC_LOOP_EVALUATE, /* evaluate value (for its effects; used by tests) */
} aicc_loop_stmt_kind;

struct aicc_loop_stmt {
  aicc_loop_stmt_kind kind;
  aicc_loop_for_kind for_kind;    /* FOR */
  const aicc_loop_expr *var;      /* FOR, LET */
  const aicc_loop_expr *min, *extent; /* FOR */
  const aicc_loop_expr *value;    /* LET, STORE, EVALUATE; IF: the condition */
  const aicc_loop_buffer *buf;    /* STORE, ALLOCATE */
  const aicc_loop_expr **index;   /* STORE: buf->rank entries */
  const aicc_loop_stmt *body;     /* FOR, LET, ALLOCATE; IF: then branch */
  const aicc_loop_stmt *otherwise; /* IF: else branch or NULL */
  size_t n;                        /* SEQ */
  const aicc_loop_stmt **stmts;    /* SEQ */
};

/* A unit of loop IR: a named kernel with scalar and buffer parameters. */
typedef struct aicc_loop_param {
  const aicc_loop_expr *var;    /* scalar parameter, or NULL */
  const aicc_loop_buffer *buf;  /* buffer parameter, or NULL */
} aicc_loop_param;

typedef struct aicc_loop_func {
  const char *name;
  size_t nparams;
  aicc_loop_param *params;
  const aicc_loop_stmt *body;
} aicc_loop_func;

/* ---- context ---- */

/* Returns a new context; caller destroys. NULL when out of memory. */
aicc_loop_ctx *aicc_loop_ctx_create(void);
void aicc_loop_ctx_destroy(aicc_loop_ctx *ctx);
aicc_arena *aicc_loop_ctx_arena(aicc_loop_ctx *ctx);
/* Number of distinct expressions interned so far (statistics, tests). */
size_t aicc_loop_ctx_expr_count(const aicc_loop_ctx *ctx);
/* Interns a string (a name) in the ctx; equal strings give one pointer. */
const char *aicc_loop_name(aicc_loop_ctx *ctx, const char *s, size_t n);

/* ---- types ---- */

/* True for the dtypes the loop IR accepts as scalars: bool, ints, floats. */
bool aicc_loop_type_valid(aicc_dtype t);
bool aicc_loop_type_is_int(aicc_dtype t); /* integer or bool: folds as integers */
/* Wraps v to the width and signedness of integer type t (bool: v != 0). */
int64_t aicc_loop_int_wrap(aicc_dtype t, int64_t v);
/* Floor division and modulo with x/0 == x%0 == 0 (the IR's semantics). */
int64_t aicc_loop_floordiv(int64_t a, int64_t b);
int64_t aicc_loop_floormod(int64_t a, int64_t b);

/* ---- expressions (all interned) ---- */

const aicc_loop_expr *aicc_loop_int(aicc_loop_ctx *ctx, aicc_dtype t, int64_t v);
const aicc_loop_expr *aicc_loop_i32(aicc_loop_ctx *ctx, int64_t v);
const aicc_loop_expr *aicc_loop_bool(aicc_loop_ctx *ctx, bool v);
const aicc_loop_expr *aicc_loop_float(aicc_loop_ctx *ctx, aicc_dtype t, double v);
const aicc_loop_expr *aicc_loop_var(aicc_loop_ctx *ctx, const char *name, aicc_dtype t);
/* Binary arithmetic, min/max, comparisons, and/or. Operands must have equal
 * types (and bool for and/or); returns NULL on a type mismatch. */
const aicc_loop_expr *aicc_loop_binary(aicc_loop_ctx *ctx, aicc_loop_op op,
                                       const aicc_loop_expr *a, const aicc_loop_expr *b);
const aicc_loop_expr *aicc_loop_not(aicc_loop_ctx *ctx, const aicc_loop_expr *a);
const aicc_loop_expr *aicc_loop_select(aicc_loop_ctx *ctx, const aicc_loop_expr *c,
                                       const aicc_loop_expr *a, const aicc_loop_expr *b);
const aicc_loop_expr *aicc_loop_cast(aicc_loop_ctx *ctx, aicc_dtype t, const aicc_loop_expr *a);
/* One index per dimension of buf; indices must be integers. */
const aicc_loop_expr *aicc_loop_load(aicc_loop_ctx *ctx, const aicc_loop_buffer *buf,
                                     const aicc_loop_expr *const *index);
/* An intrinsic call by name (see aicc_loop_intrinsic_arity). */
const aicc_loop_expr *aicc_loop_call(aicc_loop_ctx *ctx, const char *name, size_t nargs,
                                     const aicc_loop_expr *const *args);
/* Rebuilds e with new operands (same op, type, name, buffer). */
const aicc_loop_expr *aicc_loop_expr_with_args(aicc_loop_ctx *ctx, const aicc_loop_expr *e,
                                               const aicc_loop_expr *const *args);

/* Shorthands for building index arithmetic in C. */
#define aicc_loop_add(c, a, b) aicc_loop_binary((c), AICC_LOOP_ADD, (a), (b))
#define aicc_loop_sub(c, a, b) aicc_loop_binary((c), AICC_LOOP_SUB, (a), (b))
#define aicc_loop_mul(c, a, b) aicc_loop_binary((c), AICC_LOOP_MUL, (a), (b))
#define aicc_loop_div(c, a, b) aicc_loop_binary((c), AICC_LOOP_DIV, (a), (b))
#define aicc_loop_mod(c, a, b) aicc_loop_binary((c), AICC_LOOP_MOD, (a), (b))
#define aicc_loop_min(c, a, b) aicc_loop_binary((c), AICC_LOOP_MIN, (a), (b))
#define aicc_loop_max(c, a, b) aicc_loop_binary((c), AICC_LOOP_MAX, (a), (b))

/* Intrinsic arity (-1 when name is not an intrinsic). Intrinsics take and
 * return one float type; their reference semantics are the C99 <math.h>
 * functions of the same name in double (intrinsics.c). */
int aicc_loop_intrinsic_arity(const char *name, size_t n);
/* The reference value of intrinsic name at args (NaN for unknown names). */
double aicc_loop_intrinsic_apply(const char *name, const double *args);
/* Text spelling of a binary/unary operator ("+", "min", "&&"). */
const char *aicc_loop_op_name(aicc_loop_op op);
bool aicc_loop_expr_is_const(const aicc_loop_expr *e);
bool aicc_loop_expr_is_int_const(const aicc_loop_expr *e, int64_t *v);
/* A deterministic total order on expressions (structure, then names), used
 * for canonical operand order; 0 iff a == b. */
int aicc_loop_expr_compare(const aicc_loop_expr *a, const aicc_loop_expr *b);
/* Replaces each occurrence of var by value (var must be a VAR). */
const aicc_loop_expr *aicc_loop_expr_substitute(aicc_loop_ctx *ctx, const aicc_loop_expr *e,
                                                const aicc_loop_expr *var,
                                                const aicc_loop_expr *value);
bool aicc_loop_expr_uses_var(const aicc_loop_expr *e, const aicc_loop_expr *var);

/* ---- buffers, statements, funcs ---- */

const aicc_loop_buffer *aicc_loop_buffer_create(aicc_loop_ctx *ctx, const char *name,
                                                aicc_dtype t, int rank,
                                                const aicc_loop_expr *const *shape);
/* The elements of buf: the product of its dims, 0 when a dim is not a
 * non-negative constant or the product passes 2^62. */
int64_t aicc_loop_buffer_numel(const aicc_loop_buffer *buf);
/* Sets buf's strides (a copy of buf->rank entries in ctx's arena; NULL:
 * dense again). buf must be a parameter whose every user agrees. False
 * when out of memory. */
bool aicc_loop_buffer_set_strides(aicc_loop_ctx *ctx, const aicc_loop_buffer *buf,
                                  const int64_t *strides);

const aicc_loop_stmt *aicc_loop_for(aicc_loop_ctx *ctx, const aicc_loop_expr *var,
                                    const aicc_loop_expr *min, const aicc_loop_expr *extent,
                                    aicc_loop_for_kind kind, const aicc_loop_stmt *body);
const aicc_loop_stmt *aicc_loop_let(aicc_loop_ctx *ctx, const aicc_loop_expr *var,
                                    const aicc_loop_expr *value, const aicc_loop_stmt *body);
const aicc_loop_stmt *aicc_loop_if(aicc_loop_ctx *ctx, const aicc_loop_expr *cond,
                                   const aicc_loop_stmt *then_s, const aicc_loop_stmt *else_s);
const aicc_loop_stmt *aicc_loop_allocate(aicc_loop_ctx *ctx, const aicc_loop_buffer *buf,
                                         const aicc_loop_stmt *body);
const aicc_loop_stmt *aicc_loop_store(aicc_loop_ctx *ctx, const aicc_loop_buffer *buf,
                                      const aicc_loop_expr *const *index,
                                      const aicc_loop_expr *value);
/* Flattens nested blocks; a block of one statement is that statement. */
const aicc_loop_stmt *aicc_loop_seq(aicc_loop_ctx *ctx, size_t n,
                                    const aicc_loop_stmt *const *stmts);
const aicc_loop_stmt *aicc_loop_evaluate(aicc_loop_ctx *ctx, const aicc_loop_expr *value);
const char *aicc_loop_for_kind_name(aicc_loop_for_kind k);
/* Replaces var by value in every expression of s (not under a for/let that
 * rebinds var); shares unchanged subtrees. The basis of split/fuse. */
const aicc_loop_stmt *aicc_loop_stmt_substitute(aicc_loop_ctx *ctx, const aicc_loop_stmt *s,
                                                const aicc_loop_expr *var,
                                                const aicc_loop_expr *value);

#endif
