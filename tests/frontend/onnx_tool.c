/* Test driver for the ONNX frontend, independent of the CLI:
 *   onnx_tool load MODEL               import; exit 1 with one stderr line on error
 *   onnx_tool roundtrip IN OUT         import IN, export to OUT
 *   onnx_tool value KIND IN OUT        value file round trip (KIND: tensor|seq|opt)
 *   onnx_tool scan DIR...              import DIR/model.onnx for each case, report */
#include "frontend/onnx.h"

#include <stdio.h>
#include <string.h>

static int fail(aicc_status s) {
  fprintf(stderr, "%s\n", aicc_status_message(s));
  aicc_status_free(s);
  return 1;
}

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "load") == 0) {
    aicc_model *m;
    aicc_status s = aicc_onnx_load(argv[2], &m);
    if (s) return fail(s);
    printf("ok: %zu nodes, %zu inputs, %zu outputs, %zu initializers\n", m->graph->nodes.len,
           m->graph->inputs.len, m->graph->outputs.len, m->graph->inits.len);
    aicc_model_destroy(m);
    return 0;
  }
  if (argc >= 4 && strcmp(argv[1], "roundtrip") == 0) {
    aicc_model *m;
    aicc_status s = aicc_onnx_load(argv[2], &m);
    if (s) return fail(s);
    s = aicc_onnx_save(m, argv[3]);
    aicc_model_destroy(m);
    return s ? fail(s) : 0;
  }
  if (argc >= 5 && strcmp(argv[1], "value") == 0) {
    aicc_value_kind k = strcmp(argv[2], "seq") == 0   ? AICC_KIND_SEQUENCE
                        : strcmp(argv[2], "opt") == 0 ? AICC_KIND_OPTIONAL
                                                      : AICC_KIND_TENSOR;
    aicc_tensor *t;
    aicc_status s = aicc_onnx_value_load(argv[3], k, &t);
    if (s) return fail(s);
    s = aicc_onnx_value_save(argv[4], "value", t);
    aicc_tensor_release(t);
    return s ? fail(s) : 0;
  }
  if (argc >= 3 && strcmp(argv[1], "scan") == 0) {
    int ok = 0, bad = 0;
    for (int i = 2; i < argc; i++) {
      char p[4096];
      snprintf(p, sizeof p, "%s/model.onnx", argv[i]);
      aicc_model *m;
      aicc_status s = aicc_onnx_load(p, &m);
      if (s) {
        printf("FAIL %s\n", aicc_status_message(s));
        aicc_status_free(s);
        bad++;
      } else {
        aicc_model_destroy(m);
        ok++;
      }
    }
    printf("loaded %d of %d\n", ok, ok + bad);
    return bad != 0;
  }
  fprintf(stderr, "usage: onnx_tool load|roundtrip|value|scan ...\n");
  return 2;
}
