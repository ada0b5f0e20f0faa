/* Test driver for the codegen golden tests (tests/lit/codegen):
 *   codegen_tool [--isa=scalar|avx2|avx512] [--comments] FILE
 * parses the loop funcs of FILE and prints the C that codegen writes for
 * them. Errors go to stderr as one line; the exit status is 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"
#include "core/file.h"
#include "loop/ir.h"
#include "loop/text.h"

/* The whole file, NUL-terminated (caller frees), or NULL after printing
 * the reason. */
static char *read_file(const char *path, size_t *len) {
  char *text;
  aicc_status st = aicc_file_read(path, &text, len);
  if (!st) return text;
  fprintf(stderr, "%s\n", aicc_status_message(st));
  aicc_status_free(st);
  return NULL;
}

int main(int argc, char **argv) {
  aicc_codegen_options opt = {AICC_CODEGEN_SCALAR, false};
  const char *path = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--isa=scalar") == 0) opt.isa = AICC_CODEGEN_SCALAR;
    else if (strcmp(argv[i], "--isa=avx2") == 0) opt.isa = AICC_CODEGEN_AVX2;
    else if (strcmp(argv[i], "--isa=avx512") == 0) opt.isa = AICC_CODEGEN_AVX512;
    else if (strcmp(argv[i], "--comments") == 0) opt.comments = true;
    else if (!path && argv[i][0] != '-') path = argv[i];
    else {
      fprintf(stderr, "usage: codegen_tool [--isa=scalar|avx2|avx512] [--comments] FILE\n");
      return 2;
    }
  }
  if (!path) {
    fprintf(stderr, "usage: codegen_tool [--isa=scalar|avx2|avx512] [--comments] FILE\n");
    return 2;
  }
  size_t len;
  char *text = read_file(path, &len);
  if (!text) return 1;
  aicc_loop_ctx *ctx = aicc_loop_ctx_create();
  aicc_loop_module m;
  char *src = NULL;
  aicc_status s = ctx ? aicc_loop_module_parse(ctx, path, text, len, &m)
                      : aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  if (!s) s = aicc_codegen_c((const aicc_loop_func *const *)m.funcs, m.nfuncs, &opt, &src, &len);
  int rc = 0;
  if (s) {
    fprintf(stderr, "%s\n", aicc_status_message(s));
    aicc_status_free(s);
    rc = 1;
  } else {
    fwrite(src, 1, len, stdout);
  }
  free(src);
  free(text);
  aicc_loop_ctx_destroy(ctx);
  return rc;
}
