/* Internals shared by the C emitter (c.c, scalar statements and
 * expressions), the SIMD emitter (simd.c, vectorized loops) and the helper
 * library (helpers.c, the static inline functions a translation unit uses).
 * Not part of the codegen contract (codegen.h). */
#ifndef AICC_CODEGEN_CODEGEN_IMPL_H
#define AICC_CODEGEN_CODEGEN_IMPL_H

#include "codegen/codegen.h"

#include <stdarg.h>
#include <stdint.h>

/* A growable text buffer; `oom` is sticky and checked once at the end. */
typedef struct cg_text {
  char *data;
  size_t len, cap;
  bool oom;
} cg_text;

void cg_put(cg_text *t, const char *s);
void cg_putn(cg_text *t, const char *s, size_t n);
void cg_printf(cg_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cg_text_free(cg_text *t);

/* How a bound variable reads inside the statement being emitted. */
typedef struct cg_bind {
  const aicc_loop_expr *var;
  const char *cname;
  bool nonneg;   /* an integer known to be >= 0 (loop from a non-negative min) */
  bool vector;   /* a float holding one value per lane (a vector let) */
  bool affine;   /* an integer whose C variable holds lane 0's value and */
  int64_t coef;  /* lane l's value is that + coef*l (the vector var: coef 1) */
} cg_bind;

/* A C name given to an IR object (variable or buffer) within one func. */
typedef struct cg_name {
  const void *key;
  char *cname;
} cg_name;

/* One live malloc'd temporary (freed on every exit from its scope). */
typedef struct cg_heap {
  const char *raw;
} cg_heap;

typedef struct cg_buffer_info {
  const aicc_loop_buffer *buf;
  const char *cname;
  int64_t *strides; /* row-major element strides (buffer's constant shape) */
  bool written;
} cg_buffer_info;

/* The vector shape of one vectorized loop (simd.c owns the table). */
typedef struct cg_visa cg_visa;

typedef struct cg {
  const aicc_codegen_options *opt;
  const aicc_loop_func *func;
  cg_text *out;       /* the function body being written */
  cg_text helpers;    /* definitions of used helpers, in order of first use */
  char **helper_names;
  size_t nhelpers, helpers_cap;
  bool uses_simd;     /* <immintrin.h> is needed */
  bool func_simd;     /* the func being written holds intrinsics */
  cg_bind *scope;     /* innermost last */
  size_t nscope, scope_cap;
  cg_name *names;
  size_t nnames, names_cap;
  cg_buffer_info *bufs;
  size_t nbufs, bufs_cap;
  cg_heap *heap;
  size_t nheap, heap_cap;
  int64_t stack_bytes; /* live stack temporaries */
  const char *scratch; /* C name of this call's scratch base (NULL: no heap temporaries) */
  int64_t scratch_live; /* bytes of the scratch in use by live heap temporaries */
  int64_t scratch_max;  /* the func's scratch bytes per call (codegen.h) */
  int indent;
  int tmp_counter;
  const cg_visa *vec; /* non-NULL while emitting a vector loop body */
  char why[192];      /* why a vectorized loop stays scalar */
  aicc_status err;    /* sticky */
} cg;

/* Sets the sticky error (the first one wins). */
void cg_fail(cg *g, aicc_code code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void cg_line(cg *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Declares a helper (its definition text) once; returns name. */
const char *cg_helper(cg *g, const char *name, const char *definition);

/* Scope and names. */
const cg_bind *cg_lookup(const cg *g, const aicc_loop_expr *var);
bool cg_push(cg *g, cg_bind b);
void cg_pop(cg *g, size_t to);
const char *cg_cname(cg *g, const void *key, const char *base);
const char *cg_fresh(cg *g, const char *base);
const cg_buffer_info *cg_buffer(const cg *g, const aicc_loop_buffer *b);

/* Types. */
const char *cg_ctype(aicc_dtype t);       /* value type: "float", "int32_t", bool: "int" */
const char *cg_storage_type(aicc_dtype t); /* element type in memory: bool is uint8_t */
bool cg_is_float(aicc_dtype t);

/* Scalar emission (c.c). index: i32/i64 +,-,* need not wrap (addressing and
 * control; the IR assumes index arithmetic does not overflow). */
void cg_expr(cg *g, const aicc_loop_expr *e, bool index);
void cg_offset(cg *g, const aicc_loop_buffer *b, const aicc_loop_expr *const *index);
void cg_stmt(cg *g, const aicc_loop_stmt *s);
bool cg_nonneg(const cg *g, const aicc_loop_expr *e);
/* The C function of a float intrinsic of type t (a math.h name or a helper). */
const char *cg_intrinsic_fn(cg *g, const char *name, aicc_dtype t);
void cg_float_literal(cg_text *t, aicc_dtype type, double v);
/* The scalar helper of float `%` (x - y*floor(x/y); x when y == 0). */
const char *cg_modfloor_fn(cg *g, aicc_dtype t);

/* Vectorized loops (simd.c): emits s (a VECTORIZED for) with intrinsics and
 * returns true, or returns false with *why set (nothing written) when its
 * body has no vector form under the options. */
bool cg_simd_loop(cg *g, const aicc_loop_stmt *s, const char **why);
/* Statements inside a vector loop's body (cg_stmt dispatches here). */
void cg_simd_store(cg *g, const aicc_loop_stmt *s);
void cg_simd_let(cg *g, const aicc_loop_stmt *s);
/* Whether e differs across the lanes of the vector loop being written. */
bool cg_simd_depends(const cg *g, const aicc_loop_expr *e);
bool cg_stmt_uses(const aicc_loop_stmt *s, const aicc_loop_expr *var);

/* Math helpers in vector form (vmath.c); each returns the helper's name:
 * "exp", "sigmoid", "tanh", "erf", "log" (f32 lanes only), "sign", "fmin",
 * "fmax". */
const char *cg_vmath(cg *g, const cg_visa *v, const char *fn);
/* The scalar IR min/max of float type t (C's fmin/fmax) as an inline helper. */
const char *cg_fminmax_fn(cg *g, aicc_dtype t, bool is_max);
/* A helper applying scalar C function fn (arity 1 or 2) lane by lane. */
const char *cg_vlanes(cg *g, const cg_visa *v, const char *fn, int arity);

struct cg_visa {
  const char *tag;    /* "512f": part of helper names */
  aicc_dtype lane;    /* F32 or F64 */
  int lanes;
  const char *vt;     /* vector type: __m512 */
  const char *p;      /* prefix: _mm512_ */
  const char *s;      /* suffix: ps */
  const char *mt;     /* mask type, or NULL when masks are vectors (AVX2) */
  const char *target; /* the function attribute macro */
  const char *it;     /* i32 vector of `lanes` elements: __m512i / __m256i / __m128i */
  const char *ip;     /* its prefix */
  const char *cvt_i32;/* i32 vector -> lane vector */
};

#endif
