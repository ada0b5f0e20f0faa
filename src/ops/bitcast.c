/* BitCast (opset 26): reinterprets each element's bits as another dtype of
 * the same width. Strings and sub-byte types are refused. */
#include "ops/util.h"

#include <string.h>

static aicc_status bitcast_check(aicc_dtype from, aicc_dtype to) {
  const aicc_dtype_info *a = aicc_dtype_get(from), *b = aicc_dtype_get(to);
  if (!a || !b) return aicc_errorf(AICC_ERR_INVALID, "invalid dtype");
  if (from == AICC_DTYPE_STRING || to == AICC_DTYPE_STRING)
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "BitCast to or from STRING is not defined");
  if (a->bits != b->bits || a->bits < 8)
    return aicc_errorf(AICC_ERR_SHAPE, "BitCast needs dtypes of the same width (%s is %d bits, %s is %d)",
                       a->text, a->bits, b->text, b->bits);
  return NULL;
}

static aicc_status bitcast_infer(aicc_infer_ctx *c) {
  aicc_dtype to = (aicc_dtype)aicc_node_attr_int(c->node, "to", 0);
  if (!c->in[0]) return NULL;
  aicc_status s = bitcast_check(c->in[0]->dtype, to);
  if (s) return aicc_status_wrap(s, "node '%s' (BitCast)", c->node->name);
  c->out[0] = *c->in[0];
  c->out[0].dtype = to;
  return NULL;
}

static aicc_status bitcast_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *x = c->in[0];
  aicc_dtype to = (aicc_dtype)aicc_node_attr_int(c->node, "to", 0);
  aicc_status s = bitcast_check(x->dtype, to);
  if (s) return aicc_kernel_error(c, aicc_status_code(s), "%s", aicc_status_message(s));
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, to, x->rank, x->dims, &y));
  if (x->nbytes) memcpy(y->data, x->data, x->nbytes);
  if (to == AICC_DTYPE_BOOL) /* keep bools canonical (0/1) */
    for (size_t i = 0; i < y->nbytes; i++) ((uint8_t *)y->data)[i] = ((uint8_t *)y->data)[i] != 0;
  return NULL;
}

static const aicc_attr_spec bitcast_attrs[] = {{"to", AICC_ATTR_INT, true}, AICC_A_END};

static const aicc_op ops[] = {
    {"BitCast", "", 26, 0, 1, 1, 1, 1, bitcast_attrs, bitcast_infer, bitcast_kernel},
};

const aicc_op_family aicc_family_bitcast = {"bitcast", ops, sizeof ops / sizeof ops[0]};
