/* Model files for engines (load.h). */
#include "compile/load.h"

#include "core/file.h"
#include "frontend/onnx.h"
#include "ir/text.h"
#include "passes/pipeline.h"

#include <stdlib.h>
#include <string.h>

static bool has_gradient(const aicc_graph *g) {
  for (size_t i = 0; i < g->nodes.len; i++)
    if (strcmp(g->nodes.data[i]->op_type, "Gradient") == 0 &&
        strcmp(g->nodes.data[i]->domain, "ai.onnx.preview.training") == 0)
      return true;
  return false;
}

static aicc_status legalize(aicc_model *m) {
  if (!has_gradient(m->graph)) return NULL;
  const aicc_pass *p = aicc_pass_find("gradient");
  if (!p) return aicc_errorf(AICC_ERR_INTERNAL, "the gradient pass is not in this build");
  aicc_pass_ctx ctx;
  aicc_pass_ctx_init(&ctx);
  ctx.verify = true;
  aicc_status s = aicc_pass_run(m, p, &ctx);
  aicc_pass_ctx_fini(&ctx);
  return s;
}

aicc_status aicc_model_load_file(const char *path, aicc_model **out) {
  *out = NULL;
  aicc_model *m = NULL;
  size_t pl = strlen(path);
  if (pl > 3 && strcmp(path + pl - 3, ".ir") == 0) {
    char *text = NULL;
    size_t len = 0;
    AICC_TRY(aicc_file_read(path, &text, &len));
    aicc_status s = aicc_model_parse(text, len, path, &m);
    free(text);
    AICC_TRY(s);
  } else {
    AICC_TRY(aicc_onnx_load(path, &m));
  }
  aicc_status s = aicc_model_verify(m);
  if (!s) s = legalize(m);
  if (s) {
    aicc_model_destroy(m);
    return s;
  }
  *out = m;
  return NULL;
}
