/* Compute definitions of data-movement ops. */
#include "ops/lower.h"

static aicc_status lower_identity(aicc_lower_ctx *c) {
  if (!c->out[0]) return NULL;
  aicc_loop_stage *s = aicc_lower_stage(c, c->out[0]);
  if (!s) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK];
  aicc_lower_axis_index(s, idx);
  s->body = aicc_loop_load(c->lc, c->in[0], idx);
  s->inlinable = true;
  s->op_class = AICC_LOOP_CLASS_MOVEMENT;
  return aicc_lower_emit(c, s);
}

static const aicc_lower_row rows[] = {
    {"", "Identity", lower_identity},
};

const aicc_lower_table aicc_lower_movement = {"movement", rows, sizeof rows / sizeof rows[0]};
