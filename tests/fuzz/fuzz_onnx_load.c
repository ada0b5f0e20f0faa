/* libFuzzer target: ONNX import from arbitrary bytes must fail cleanly or
 * build a model that verifies; never crash, leak or hang. No external data
 * (base_dir NULL), so the input alone decides what happens. */
#include "frontend/onnx.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  aicc_model *m = NULL;
  aicc_status s = aicc_onnx_load_buffer(data, size, "fuzz.onnx", NULL, &m);
  if (s) {
    aicc_status_free(s);
    return 0;
  }
  aicc_status_free(aicc_model_verify(m));
  aicc_model_destroy(m);
  return 0;
}
