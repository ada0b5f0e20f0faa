/* TypeProto <-> aicc_type, and value files (input_N.pb / output_N.pb):
 * TensorProto, SequenceProto of tensors and OptionalProto, as the ONNX
 * node tests store them (numpy_helper.from_list / from_optional layout). */
#include "frontend/onnx.h"
#include "frontend/onnx_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- types --- */

static aicc_status tensor_type_decode(const Onnx__TypeProto__Tensor *tt, aicc_model *m,
                                      aicc_hashmap *syms, aicc_type *out) {
  int dt = tt && tt->has_elem_type ? tt->elem_type : 0;
  if (!aicc_dtype_valid(dt))
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "unknown tensor element type %d", dt);
  out->dtype = (aicc_dtype)dt;
  out->rank = -1;
  if (!tt || !tt->shape) return NULL;
  const Onnx__TensorShapeProto *sh = tt->shape;
  if (sh->n_dim > AICC_MAX_RANK)
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "rank %zu is above the maximum %d", sh->n_dim,
                       AICC_MAX_RANK);
  out->rank = (int)sh->n_dim;
  for (size_t i = 0; i < sh->n_dim; i++) {
    const Onnx__TensorShapeProto__Dimension *d = sh->dim[i];
    out->dims[i] = aicc_dim_unknown();
    if (!d) continue;
    if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
      if (d->dim_value >= 0) out->dims[i] = aicc_dim_known(d->dim_value);
    } else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
               d->dim_param && *d->dim_param) {
      /* Intern: one arena string per symbol name, shared by every use. */
      const char *sym = aicc_hashmap_get(syms, d->dim_param);
      if (!sym) {
        char *s = aicc_arena_strdup(&m->arena, d->dim_param);
        if (!s || !aicc_hashmap_put(syms, s, s))
          return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
        sym = s;
      }
      out->dims[i] = (aicc_dim){-1, sym};
    }
  }
  return NULL;
}

aicc_status aicc_onnx_type_decode(const Onnx__TypeProto *tp, aicc_model *m, aicc_hashmap *syms,
                                  aicc_type *out) {
  memset(out, 0, sizeof *out);
  out->rank = -1;
  if (!tp) return NULL;
  switch (tp->value_case) {
  case ONNX__TYPE_PROTO__VALUE__NOT_SET:
    return NULL;
  case ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE:
    out->kind = AICC_KIND_TENSOR;
    return tensor_type_decode(tp->tensor_type, m, syms, out);
  case ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE: {
    const Onnx__TypeProto *e = tp->sequence_type ? tp->sequence_type->elem_type : NULL;
    out->kind = AICC_KIND_SEQUENCE;
    if (!e || e->value_case == ONNX__TYPE_PROTO__VALUE__NOT_SET) return NULL;
    if (e->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
      return aicc_errorf(AICC_ERR_UNSUPPORTED,
                         "sequences of non-tensor values are not supported");
    return tensor_type_decode(e->tensor_type, m, syms, out);
  }
  case ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE: {
    const Onnx__TypeProto *e = tp->optional_type ? tp->optional_type->elem_type : NULL;
    out->kind = AICC_KIND_OPTIONAL;
    if (!e || e->value_case == ONNX__TYPE_PROTO__VALUE__NOT_SET) return NULL;
    if (e->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) {
      out->elem_kind = AICC_KIND_TENSOR;
      return tensor_type_decode(e->tensor_type, m, syms, out);
    }
    if (e->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE) {
      const Onnx__TypeProto *se = e->sequence_type ? e->sequence_type->elem_type : NULL;
      out->elem_kind = AICC_KIND_SEQUENCE;
      if (!se || se->value_case == ONNX__TYPE_PROTO__VALUE__NOT_SET) return NULL;
      if (se->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
        return tensor_type_decode(se->tensor_type, m, syms, out);
    }
    return aicc_errorf(AICC_ERR_UNSUPPORTED,
                       "optionals of values other than tensors and sequences of tensors "
                       "are not supported");
  }
  case ONNX__TYPE_PROTO__VALUE_MAP_TYPE:
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "map types are not supported");
  case ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE:
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "sparse tensor types are not supported");
  default:
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "opaque or unknown types are not supported");
  }
}

#define NEW(a, T, var, init)                                                   \
  T *var = AICC_ARENA_NEW(a, T);                                               \
  if (!var) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");               \
  init(var)

static aicc_status tensor_type_encode(const aicc_type *t, aicc_arena *a,
                                      Onnx__TypeProto **out) {
  NEW(a, Onnx__TypeProto, tp, onnx__type_proto__init);
  NEW(a, Onnx__TypeProto__Tensor, tt, onnx__type_proto__tensor__init);
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  if (t->dtype != AICC_DTYPE_UNDEFINED) {
    tt->has_elem_type = 1;
    tt->elem_type = (int32_t)t->dtype;
  }
  if (t->rank >= 0) {
    NEW(a, Onnx__TensorShapeProto, sh, onnx__tensor_shape_proto__init);
    sh->n_dim = (size_t)t->rank;
    sh->dim = AICC_ARENA_ARRAY(a, Onnx__TensorShapeProto__Dimension *, t->rank ? t->rank : 1);
    if (!sh->dim) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
    for (int i = 0; i < t->rank; i++) {
      NEW(a, Onnx__TensorShapeProto__Dimension, d, onnx__tensor_shape_proto__dimension__init);
      if (t->dims[i].sym) {
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
        d->dim_param = (char *)t->dims[i].sym;
      } else if (t->dims[i].size >= 0) {
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        d->dim_value = t->dims[i].size;
      }
      sh->dim[i] = d;
    }
    tt->shape = sh;
  }
  *out = tp;
  return NULL;
}

static aicc_status sequence_type_encode(const aicc_type *t, aicc_arena *a,
                                        Onnx__TypeProto **out) {
  NEW(a, Onnx__TypeProto, tp, onnx__type_proto__init);
  NEW(a, Onnx__TypeProto__Sequence, st, onnx__type_proto__sequence__init);
  tp->value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
  tp->sequence_type = st;
  AICC_TRY(tensor_type_encode(t, a, &st->elem_type));
  *out = tp;
  return NULL;
}

aicc_status aicc_onnx_type_encode(const aicc_type *t, aicc_arena *a, Onnx__TypeProto **out) {
  *out = NULL;
  /* ONNX has no "tensor of unknown element type": readers reject elem_type
   * 0, so a type without a dtype is left out entirely. */
  if (t->dtype == AICC_DTYPE_UNDEFINED) return NULL;
  switch (t->kind) {
  case AICC_KIND_TENSOR:
    return tensor_type_encode(t, a, out);
  case AICC_KIND_SEQUENCE:
    return sequence_type_encode(t, a, out);
  case AICC_KIND_OPTIONAL: {
    NEW(a, Onnx__TypeProto, tp, onnx__type_proto__init);
    NEW(a, Onnx__TypeProto__Optional, ot, onnx__type_proto__optional__init);
    tp->value_case = ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE;
    tp->optional_type = ot;
    if (t->elem_kind == AICC_KIND_SEQUENCE) AICC_TRY(sequence_type_encode(t, a, &ot->elem_type));
    else AICC_TRY(tensor_type_encode(t, a, &ot->elem_type));
    *out = tp;
    return NULL;
  }
  default:
    return NULL;
  }
}

/* --- value files --- */

/* OptionalProto / SequenceProto DataType numbering. */
enum { ELEM_UNDEFINED = 0, ELEM_TENSOR = 1, ELEM_SPARSE = 2, ELEM_SEQUENCE = 3 };

static aicc_status sequence_decode(const Onnx__SequenceProto *sp, aicc_tensor **out) {
  *out = NULL;
  if (sp->n_sparse_tensor_values || sp->n_sequence_values || sp->n_map_values ||
      sp->n_optional_values)
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "sequences of non-tensor values are not supported");
  aicc_dtype dt = AICC_DTYPE_UNDEFINED;
  if (sp->n_tensor_values && sp->tensor_values[0] && sp->tensor_values[0]->has_data_type &&
      aicc_dtype_valid(sp->tensor_values[0]->data_type))
    dt = (aicc_dtype)sp->tensor_values[0]->data_type;
  aicc_tensor *seq;
  AICC_TRY(aicc_tensor_sequence_create(dt, &seq));
  for (size_t i = 0; i < sp->n_tensor_values; i++) {
    char what[48];
    snprintf(what, sizeof what, "sequence element %zu", i);
    aicc_tensor *e;
    aicc_status s = aicc_onnx_tensor_decode(sp->tensor_values[i], NULL, what, &e);
    if (!s && e->dtype != seq->dtype)
      s = aicc_errorf(AICC_ERR_INVALID, "%s has dtype %s, the sequence holds %s", what,
                      aicc_dtype_text(e->dtype), aicc_dtype_text(seq->dtype));
    if (s) aicc_tensor_release(e);
    else s = aicc_tensor_sequence_push(seq, e);
    if (s) {
      aicc_tensor_release(seq);
      return s;
    }
  }
  *out = seq;
  return NULL;
}

static aicc_status optional_decode(const Onnx__OptionalProto *op, aicc_tensor **out) {
  *out = NULL;
  aicc_tensor *e = NULL;
  aicc_value_kind ek = AICC_KIND_TENSOR;
  aicc_dtype dt = AICC_DTYPE_UNDEFINED;
  if (op->sparse_tensor_value || op->map_value || op->optional_value)
    return aicc_errorf(AICC_ERR_UNSUPPORTED,
                       "optionals of values other than tensors and sequences are not supported");
  if (op->tensor_value) {
    AICC_TRY(aicc_onnx_tensor_decode(op->tensor_value, NULL, "optional element", &e));
  } else if (op->sequence_value) {
    ek = AICC_KIND_SEQUENCE;
    AICC_TRY(sequence_decode(op->sequence_value, &e));
  } else if (op->has_elem_type && op->elem_type == ELEM_SEQUENCE) {
    ek = AICC_KIND_SEQUENCE;
  }
  if (e) dt = e->dtype;
  return aicc_tensor_optional_create(ek, dt, e, out);
}

aicc_status aicc_onnx_value_load(const char *path, aicc_value_kind kind, aicc_tensor **out) {
  *out = NULL;
  uint8_t *buf;
  size_t len;
  AICC_TRY(aicc_status_wrap(aicc_onnx_file_read(path, &buf, &len), "%s", path));
  aicc_status s = NULL;
  const char *what = "TensorProto";
  if (kind == AICC_KIND_SEQUENCE) {
    what = "SequenceProto";
    Onnx__SequenceProto *sp = onnx__sequence_proto__unpack(NULL, len, buf);
    if (sp) {
      s = sequence_decode(sp, out);
      onnx__sequence_proto__free_unpacked(sp, NULL);
    } else {
      s = aicc_errorf(AICC_ERR_INVALID, "not a valid %s", what);
    }
  } else if (kind == AICC_KIND_OPTIONAL) {
    what = "OptionalProto";
    Onnx__OptionalProto *op = onnx__optional_proto__unpack(NULL, len, buf);
    if (op) {
      s = optional_decode(op, out);
      onnx__optional_proto__free_unpacked(op, NULL);
    } else {
      s = aicc_errorf(AICC_ERR_INVALID, "not a valid %s", what);
    }
  } else {
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, buf);
    if (tp) {
      s = aicc_onnx_tensor_decode(tp, NULL, "tensor", out);
      onnx__tensor_proto__free_unpacked(tp, NULL);
    } else {
      s = aicc_errorf(AICC_ERR_INVALID, "not a valid %s", what);
    }
  }
  free(buf);
  return aicc_status_wrap(s, "%s", path);
}

static aicc_status sequence_encode(const aicc_tensor *t, const char *name, aicc_arena *a,
                                   Onnx__SequenceProto *sp) {
  if (name && *name) sp->name = aicc_arena_strdup(a, name);
  sp->has_elem_type = 1;
  sp->elem_type = ELEM_TENSOR;
  sp->n_tensor_values = t->n_elems;
  sp->tensor_values = AICC_ARENA_ARRAY(a, Onnx__TensorProto *, t->n_elems ? t->n_elems : 1);
  if (!sp->tensor_values) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < t->n_elems; i++) {
    NEW(a, Onnx__TensorProto, tp, onnx__tensor_proto__init);
    AICC_TRY(aicc_onnx_tensor_encode(t->elems[i], NULL, a, tp));
    sp->tensor_values[i] = tp;
  }
  return NULL;
}

static aicc_status value_pack(const aicc_tensor *t, const char *name, aicc_arena *a,
                              uint8_t **buf, size_t *len) {
  const ProtobufCMessage *msg;
  if (t->kind == AICC_KIND_SEQUENCE) {
    NEW(a, Onnx__SequenceProto, sp, onnx__sequence_proto__init);
    AICC_TRY(sequence_encode(t, name, a, sp));
    msg = &sp->base;
  } else if (t->kind == AICC_KIND_OPTIONAL) {
    NEW(a, Onnx__OptionalProto, op, onnx__optional_proto__init);
    if (name && *name) op->name = aicc_arena_strdup(a, name);
    /* None is written as numpy_helper.from_optional(None) does: UNDEFINED. */
    op->has_elem_type = 1;
    op->elem_type = !t->n_elems ? ELEM_UNDEFINED
                    : t->elem_kind == AICC_KIND_SEQUENCE ? ELEM_SEQUENCE
                                                         : ELEM_TENSOR;
    if (t->n_elems && t->elems[0]->kind == AICC_KIND_SEQUENCE) {
      NEW(a, Onnx__SequenceProto, sp, onnx__sequence_proto__init);
      AICC_TRY(sequence_encode(t->elems[0], NULL, a, sp));
      op->sequence_value = sp;
    } else if (t->n_elems) {
      NEW(a, Onnx__TensorProto, tp, onnx__tensor_proto__init);
      AICC_TRY(aicc_onnx_tensor_encode(t->elems[0], NULL, a, tp));
      op->tensor_value = tp;
    }
    msg = &op->base;
  } else {
    NEW(a, Onnx__TensorProto, tp, onnx__tensor_proto__init);
    AICC_TRY(aicc_onnx_tensor_encode(t, name, a, tp));
    msg = &tp->base;
  }
  size_t n = protobuf_c_message_get_packed_size(msg);
  if (n > AICC_ONNX_MAX_FILE)
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "value of %zu bytes is over the 2 GiB limit", n);
  *buf = malloc(n ? n : 1);
  if (!*buf) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  *len = protobuf_c_message_pack(msg, *buf);
  return NULL;
}

aicc_status aicc_onnx_value_save(const char *path, const char *name, const aicc_tensor *t) {
  aicc_arena a;
  aicc_arena_init(&a);
  uint8_t *buf = NULL;
  size_t len = 0;
  aicc_status s = aicc_status_wrap(value_pack(t, name, &a, &buf, &len), "%s", path);
  if (!s) s = aicc_file_write_atomic(path, buf, len); /* its messages name the path */
  free(buf);
  aicc_arena_fini(&a);
  return s;
}
