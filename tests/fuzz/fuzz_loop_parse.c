/* libFuzzer target for the loop IR text parser (src/loop/text.h): any bytes
 * either parse or fail with a "fuzz.loop:L:C: reason" message. Whatever
 * parses must verify, print to text that parses again and prints
 * identically, and survive the simplifier, whose output must verify and
 * round-trip the same way (any mismatch is a real bug, so it aborts). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop/ir.h"
#include "loop/simplify.h"
#include "loop/text.h"
#include "loop/verify.h"

/* Parse errors must carry a position; out of memory is the one exception. */
static void check_parse_error(aicc_status s, const char *file) {
  const char *msg = aicc_status_message(s);
  size_t n = strlen(file);
  if (aicc_status_code(s) != AICC_ERR_NOMEM && (strncmp(msg, file, n) != 0 || msg[n] != ':')) {
    fprintf(stderr, "parse error without a position: %s\n", msg);
    abort();
  }
}

static void verify_all(const aicc_loop_module *m, const char *what, const char *text) {
  for (size_t i = 0; i < m->nfuncs; i++) {
    aicc_status s = aicc_loop_func_verify(m->funcs[i]);
    if (s) {
      fprintf(stderr, "%s: verifier rejects: %s\n--- text\n%s\n", what, aicc_status_message(s),
              text ? text : "(not printed yet)");
      abort();
    }
  }
}

/* Prints m, parses the text into a fresh ctx, checks that it verifies and
 * prints identically. Returns the first print (caller frees) or NULL on
 * out of memory. */
static char *roundtrip(const aicc_loop_module *m, const char *what) {
  char *a = aicc_loop_module_print(m);
  if (!a) return NULL;
  aicc_loop_ctx *ctx2 = aicc_loop_ctx_create();
  if (!ctx2) return a;
  aicc_loop_module m2;
  aicc_status s = aicc_loop_module_parse(ctx2, "printed.loop", a, strlen(a), &m2);
  if (s) {
    if (aicc_status_code(s) != AICC_ERR_NOMEM) {
      fprintf(stderr, "%s: printed text does not parse: %s\n--- text\n%s\n", what,
              aicc_status_message(s), a);
      abort();
    }
    aicc_status_free(s);
    aicc_loop_ctx_destroy(ctx2);
    return a;
  }
  verify_all(&m2, what, a);
  char *b = aicc_loop_module_print(&m2);
  if (b && strcmp(a, b) != 0) {
    fprintf(stderr, "%s: re-print differs\n--- first\n%s\n--- second\n%s\n", what, a, b);
    abort();
  }
  free(b);
  aicc_loop_ctx_destroy(ctx2);
  return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* Bigger inputs add nothing the fuzzer can't reach with small ones, and
   * the parser recurses on nesting depth. */
  if (size > (1 << 14)) return 0;
  aicc_loop_ctx *ctx = aicc_loop_ctx_create();
  if (!ctx) return 0;
  aicc_loop_module m;
  aicc_status s = aicc_loop_module_parse(ctx, "fuzz.loop", (const char *)data, size, &m);
  if (s) {
    check_parse_error(s, "fuzz.loop");
    aicc_status_free(s);
    aicc_loop_ctx_destroy(ctx);
    return 0;
  }
  verify_all(&m, "parsed", NULL);
  free(roundtrip(&m, "parsed"));

  /* Simplify copies of the funcs (the parsed ones stay as they were). */
  aicc_loop_func *sf = calloc(m.nfuncs ? m.nfuncs : 1, sizeof *sf);
  aicc_loop_func **sp = calloc(m.nfuncs ? m.nfuncs : 1, sizeof *sp);
  if (sf && sp) {
    int ok = 1;
    for (size_t i = 0; i < m.nfuncs && ok; i++) {
      sf[i] = *m.funcs[i];
      sf[i].body = aicc_loop_stmt_simplify(ctx, m.funcs[i]->body, NULL);
      sp[i] = &sf[i];
      ok = sf[i].body != NULL; /* NULL only when out of memory */
    }
    if (ok) {
      aicc_loop_module sm = {.nfuncs = m.nfuncs, .funcs = sp};
      verify_all(&sm, "simplified", NULL);
      free(roundtrip(&sm, "simplified"));
    }
  }
  free(sf);
  free(sp);
  aicc_loop_ctx_destroy(ctx);
  return 0;
}
