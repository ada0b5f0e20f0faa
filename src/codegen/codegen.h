/* Code generation: loop IR funcs -> one C99 translation unit. Knows nothing
 * of graphs or compilers (the JIT compiles what it prints).
 *
 * The kernel ABI: each func f becomes
 *
 *   int f(void *const *bufs, int task, int ntasks);
 *
 * bufs[i] is the data of f's i-th buffer parameter (row-major, dense, at
 * least 64-byte aligned, of the parameter's dtype), so a func's params must
 * all be buffers with constant extents. Threads: a func holds at most one
 * `parallel` loop, and only allocate/let statements may enclose it (nothing
 * else may run beside it); codegen refuses other shapes. The runtime calls
 * such a func once per task (0 <= task < ntasks), concurrently, and each call
 * runs the loop's iterations of chunk `task` of ntasks static contiguous
 * chunks (allocations are then per task). A func without a parallel loop is
 * called once with task 0 of 1 and ignores both.
 *
 * Temporaries: an allocate of at most 16 KB (64 KB live in total) lives on
 * the stack; larger ones ("heap temporaries") live in caller-given scratch.
 * A func whose heap temporaries need S = aicc_codegen_func_scratch(f) > 0
 * bytes a call reads one more entry, bufs[nparams]: the base of a 64-byte
 * aligned block of at least S * ntasks bytes, of which the call uses
 * [task * S, (task + 1) * S) (so concurrent tasks never share bytes; steps
 * run one after another may reuse the block; its contents are undefined on
 * entry and after return). When bufs[nparams] is NULL, each heap temporary
 * is malloc'ed and freed by the call instead, so a caller that knows
 * nothing of scratch passes NULL there. A func with S == 0 never reads
 * bufs[nparams]. Returns 0, or 1 when a malloc'ed temporary could not be
 * allocated (never with scratch given).
 *
 * Vectorized loops of constant extent over f32/f64 lanes become AVX-512 or
 * AVX2 intrinsics when the options allow them and the body's operations all
 * have a vector form; otherwise the loop is emitted scalar under
 * `#pragma GCC ivdep` (the reason is recorded in the report). Pointers are
 * `restrict` when no two params alias (the runtime never passes aliases). */
#ifndef AICC_CODEGEN_CODEGEN_H
#define AICC_CODEGEN_CODEGEN_H

#include "core/status.h"
#include "loop/ir.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum aicc_codegen_isa {
  AICC_CODEGEN_SCALAR = 0,
  AICC_CODEGEN_AVX2,   /* AVX2 + FMA */
  AICC_CODEGEN_AVX512, /* AVX-512F (+DQ/BW/VL) */
} aicc_codegen_isa;

typedef struct aicc_codegen_options {
  aicc_codegen_isa isa;
  bool comments; /* write the loop IR of each func as a comment above it */
} aicc_codegen_options;

/* Emits funcs[0..n) into one C99 source (malloc'd, NUL-terminated; caller
 * frees *src) that compiles without warnings under -std=c99 -Wall -Wextra.
 * Errors: AICC_ERR_UNSUPPORTED naming the func and construct that has no C
 * form (a scalar parameter, a non-constant extent, an unknown intrinsic). */
AICC_MUST_USE aicc_status aicc_codegen_c(const aicc_loop_func *const *funcs, size_t n,
                                         const aicc_codegen_options *opt, char **src,
                                         size_t *len);

/* True when f's body holds a parallel loop (the runtime then calls it on
 * every task; otherwise once with task 0 of 1). */
bool aicc_codegen_func_parallel(const aicc_loop_func *f);

/* S of the kernel ABI: the scratch bytes (a multiple of 64) one call of f's
 * C function uses at bufs[nparams]; 0 when f has no heap temporaries. */
int64_t aicc_codegen_func_scratch(const aicc_loop_func *f);

/* A valid C identifier for name (letters, digits and '_'; other characters
 * become '_', a leading digit gets a '_' in front), in caller storage of n
 * bytes. Codegen mangles buffer names this way. */
const char *aicc_codegen_ident(const char *name, char *buf, size_t n);

#endif
