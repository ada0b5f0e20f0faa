/* libFuzzer target for the graph IR text parser: any bytes either parse or
 * fail with a "fuzz.ir:L:C: reason" message; whatever parses must print to
 * text that parses again and prints identically (a mismatch is a real bug,
 * so it aborts). With AICC_FUZZ_VERIFY=1 in the environment the parsed
 * model also goes through the verifier and inference (which call every op's
 * infer function on hostile types). */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/text.h"

static int verify_too = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (verify_too < 0) {
    const char *e = getenv("AICC_FUZZ_VERIFY");
    verify_too = e && *e == '1';
  }
  /* `elided` data is zero-filled at any declared size: it would only make
   * the fuzzer allocate gigabytes. */
  if (size > (1 << 16) || memmem(data, size, "elided", 6)) return 0;
  aicc_model *m = NULL;
  aicc_status s = aicc_model_parse((const char *)data, size, "fuzz.ir", &m);
  if (s) {
    const char *msg = aicc_status_message(s);
    if (strncmp(msg, "fuzz.ir:", 8) != 0 && aicc_status_code(s) != AICC_ERR_NOMEM) {
      fprintf(stderr, "parse error without a position: %s\n", msg);
      abort();
    }
    aicc_status_free(s);
    return 0;
  }
  char *a = NULL, *b = NULL;
  size_t na = 0, nb = 0;
  if ((s = aicc_model_print_string(m, NULL, &a, &na))) abort();
  aicc_model *m2 = NULL;
  if ((s = aicc_model_parse(a, na, "printed.ir", &m2))) {
    fprintf(stderr, "printed text does not parse: %s\n--- text\n%s\n", aicc_status_message(s), a);
    abort();
  }
  if ((s = aicc_model_print_string(m2, NULL, &b, &nb))) abort();
  if (na != nb || memcmp(a, b, na) != 0) {
    fprintf(stderr, "re-print differs\n--- first\n%s\n--- second\n%s\n", a, b);
    abort();
  }
  if (verify_too) {
    aicc_status_free(aicc_model_verify(m));
    aicc_status_free(aicc_model_infer(m));
    aicc_status_free(aicc_model_verify(m));
  }
  free(a);
  free(b);
  aicc_model_destroy(m2);
  aicc_model_destroy(m);
  return 0;
}
