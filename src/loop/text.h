/* Text form of the loop IR: a printer (print.c) and a parser (parse.c) that
 * round-trip exactly: print(parse(t)) == t for printed text t. Syntax:
 *
 *   // a comment
 *   func add(N: i32, A: f32[N, 16], C: f32[N, 16]) {
 *     parallel for (i, 0, N) {              // (var, min, extent); kind prefix
 *       vectorized for (j, 0, 16) {         // optional: serial is bare `for`
 *         C[i, j] = A[i, j]*2.0 + 1.0
 *       }
 *     }
 *     allocate T: i64[4] {                  // a local buffer and its extents
 *       let k = 3i64 {                      // let var = value { body }
 *         T[k - 3i64] = select(N < 4, 0i64, i64(N) / k)
 *       }
 *     }
 *     if (0 < N) {
 *       evaluate exp(A[0, 0])
 *     } else {
 *       evaluate min(N, 3) % 2
 *     }
 *   }
 *
 * Literals: 5 is i32, 5i64 / 5u8 / true carry their type; 1.5 is f32, 1.5f64
 * (also inf, nan, inff64). Casts are spelled as the target type: f32(i).
 * Intrinsics (intrinsics.c): exp log sqrt tanh erf pow fma fmod ... .
 * `/` and `%` on ints are floor division and modulo.
 * Operators bind as in C: || < && < == != < < <= > >= < + - < * / % < ! -. */
#ifndef AICC_LOOP_TEXT_H
#define AICC_LOOP_TEXT_H

#include <stddef.h>

#include "aicc/aicc.h"
#include "loop/ir.h"

typedef struct aicc_loop_module {
  size_t nfuncs;
  aicc_loop_func **funcs; /* in the ctx arena */
} aicc_loop_module;

/* Each returns a new malloc'd string (caller frees) or NULL when out of memory. */
char *aicc_loop_expr_print(const aicc_loop_expr *e);
char *aicc_loop_stmt_print(const aicc_loop_stmt *s, int indent);
char *aicc_loop_func_print(const aicc_loop_func *f);
/* Funcs separated by one blank line. */
char *aicc_loop_module_print(const aicc_loop_module *m);

/* Parses text (len bytes; need not be NUL-terminated) into funcs in ctx.
 * Errors are one line: "file:line:col: reason". */
AICC_MUST_USE aicc_status aicc_loop_module_parse(aicc_loop_ctx *ctx, const char *file,
                                                 const char *text, size_t len,
                                                 aicc_loop_module *out);

#endif
