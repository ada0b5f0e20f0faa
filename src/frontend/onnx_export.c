/* ONNX export: graph IR -> ModelProto, every tensor inline as raw_data
 * (strings as string_data). The proto is built in a scratch arena that
 * borrows the model's data, packed once and written atomically. */
#include "frontend/onnx.h"
#include "frontend/onnx_internal.h"

#include "core/hashmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct export_ctx {
  aicc_arena a; /* every proto struct; freed at the end */
  const aicc_model *m;
  int depth;
} export_ctx;

#define NEW_MSG(c, T, var, init)                                               \
  T *var = AICC_ARENA_NEW(&(c)->a, T);                                         \
  if (!var) return nomem();                                                    \
  init(var)

static aicc_status nomem(void) { return aicc_errorf(AICC_ERR_NOMEM, "out of memory"); }

/* Protobuf-c wants char*; the strings live in the model and are only read. */
static char *cstr(const char *s) { return (char *)(s ? s : ""); }

static aicc_status graph_encode(export_ctx *c, const aicc_graph *g, Onnx__GraphProto **out);

static aicc_status tensor_msg(export_ctx *c, const aicc_tensor *t, const char *name,
                              Onnx__TensorProto **out) {
  NEW_MSG(c, Onnx__TensorProto, tp, onnx__tensor_proto__init);
  AICC_TRY(aicc_onnx_tensor_encode(t, name, &c->a, tp));
  *out = tp;
  return NULL;
}

static aicc_status sparse_msg(export_ctx *c, const aicc_tensor *t, const char *name,
                              Onnx__SparseTensorProto **out) {
  NEW_MSG(c, Onnx__SparseTensorProto, sp, onnx__sparse_tensor_proto__init);
  AICC_TRY(aicc_onnx_sparse_encode(t, name, &c->a, sp));
  *out = sp;
  return NULL;
}

static aicc_status attr_encode(export_ctx *c, const aicc_attr *a, Onnx__AttributeProto **out) {
  NEW_MSG(c, Onnx__AttributeProto, ap, onnx__attribute_proto__init);
  ap->name = cstr(a->name);
  ap->has_type = 1;
  ap->type = (Onnx__AttributeProto__AttributeType)a->kind;
  size_t n = (size_t)a->n;
  switch (a->kind) {
  case AICC_ATTR_FLOAT: ap->has_f = 1, ap->f = a->f; break;
  case AICC_ATTR_INT: ap->has_i = 1, ap->i = a->i; break;
  case AICC_ATTR_STRING:
    ap->has_s = 1;
    ap->s.data = (uint8_t *)a->s.s;
    ap->s.len = a->s.len;
    break;
  case AICC_ATTR_TENSOR: AICC_TRY(tensor_msg(c, a->t, NULL, &ap->t)); break;
  case AICC_ATTR_SPARSE_TENSOR: AICC_TRY(sparse_msg(c, a->t, NULL, &ap->sparse_tensor)); break;
  case AICC_ATTR_GRAPH: AICC_TRY(graph_encode(c, a->g, &ap->g)); break;
  case AICC_ATTR_TYPE_PROTO:
    AICC_TRY(aicc_onnx_type_encode(&a->tp, &c->a, &ap->tp));
    if (!ap->tp) { /* an unknown type is still a TypeProto */
      NEW_MSG(c, Onnx__TypeProto, e, onnx__type_proto__init);
      ap->tp = e;
    }
    break;
  case AICC_ATTR_FLOATS: ap->n_floats = n, ap->floats = a->fs; break;
  case AICC_ATTR_INTS: ap->n_ints = n, ap->ints = a->is; break;
  case AICC_ATTR_STRINGS:
    ap->n_strings = n;
    ap->strings = AICC_ARENA_ARRAY(&c->a, ProtobufCBinaryData, n ? n : 1);
    if (!ap->strings) return nomem();
    for (size_t i = 0; i < n; i++)
      ap->strings[i] = (ProtobufCBinaryData){a->ss[i].len, (uint8_t *)a->ss[i].s};
    break;
  case AICC_ATTR_TENSORS:
    ap->n_tensors = n;
    ap->tensors = AICC_ARENA_ARRAY(&c->a, Onnx__TensorProto *, n ? n : 1);
    if (!ap->tensors) return nomem();
    for (size_t i = 0; i < n; i++) AICC_TRY(tensor_msg(c, a->ts[i], NULL, &ap->tensors[i]));
    break;
  case AICC_ATTR_SPARSE_TENSORS:
    ap->n_sparse_tensors = n;
    ap->sparse_tensors = AICC_ARENA_ARRAY(&c->a, Onnx__SparseTensorProto *, n ? n : 1);
    if (!ap->sparse_tensors) return nomem();
    for (size_t i = 0; i < n; i++) AICC_TRY(sparse_msg(c, a->ts[i], NULL, &ap->sparse_tensors[i]));
    break;
  case AICC_ATTR_GRAPHS:
    ap->n_graphs = n;
    ap->graphs = AICC_ARENA_ARRAY(&c->a, Onnx__GraphProto *, n ? n : 1);
    if (!ap->graphs) return nomem();
    for (size_t i = 0; i < n; i++) AICC_TRY(graph_encode(c, a->gs[i], &ap->graphs[i]));
    break;
  case AICC_ATTR_TYPE_PROTOS:
    ap->n_type_protos = n;
    ap->type_protos = AICC_ARENA_ARRAY(&c->a, Onnx__TypeProto *, n ? n : 1);
    if (!ap->type_protos) return nomem();
    for (size_t i = 0; i < n; i++) {
      AICC_TRY(aicc_onnx_type_encode(&a->tps[i], &c->a, &ap->type_protos[i]));
      if (!ap->type_protos[i]) { /* an unknown type is still a TypeProto */
        NEW_MSG(c, Onnx__TypeProto, e, onnx__type_proto__init);
        ap->type_protos[i] = e;
      }
    }
    break;
  default:
    return aicc_errorf(AICC_ERR_INTERNAL, "attribute '%s' has kind %d", a->name, (int)a->kind);
  }
  *out = ap;
  return NULL;
}

static aicc_status node_encode(export_ctx *c, const aicc_node *n, Onnx__NodeProto **out) {
  NEW_MSG(c, Onnx__NodeProto, np, onnx__node_proto__init);
  np->name = cstr(n->name);
  np->op_type = cstr(n->op_type);
  if (n->domain && *n->domain) np->domain = cstr(n->domain);
  np->n_input = (size_t)n->n_inputs;
  np->n_output = (size_t)n->n_outputs;
  np->n_attribute = (size_t)n->n_attrs;
  np->input = AICC_ARENA_ARRAY(&c->a, char *, n->n_inputs ? n->n_inputs : 1);
  np->output = AICC_ARENA_ARRAY(&c->a, char *, n->n_outputs ? n->n_outputs : 1);
  np->attribute = AICC_ARENA_ARRAY(&c->a, Onnx__AttributeProto *, n->n_attrs ? n->n_attrs : 1);
  if (!np->input || !np->output || !np->attribute) return nomem();
  for (int i = 0; i < n->n_inputs; i++)
    np->input[i] = n->inputs[i] ? cstr(n->inputs[i]->name) : cstr("");
  for (int i = 0; i < n->n_outputs; i++) np->output[i] = cstr(n->outputs[i]->name);
  for (int i = 0; i < n->n_attrs; i++) AICC_TRY(attr_encode(c, &n->attrs[i], &np->attribute[i]));
  *out = np;
  return NULL;
}

static aicc_status value_info(export_ctx *c, const aicc_value *v, Onnx__ValueInfoProto **out) {
  NEW_MSG(c, Onnx__ValueInfoProto, vi, onnx__value_info_proto__init);
  vi->name = cstr(v->name);
  AICC_TRY(aicc_onnx_type_encode(&v->type, &c->a, &vi->type));
  *out = vi;
  return NULL;
}

static aicc_status value_infos(export_ctx *c, const aicc_value_vec *vs, size_t *n,
                               Onnx__ValueInfoProto ***out) {
  *n = vs->len;
  *out = AICC_ARENA_ARRAY(&c->a, Onnx__ValueInfoProto *, vs->len ? vs->len : 1);
  if (!*out) return nomem();
  for (size_t i = 0; i < vs->len; i++) AICC_TRY(value_info(c, vs->data[i], &(*out)[i]));
  return NULL;
}

static bool is_output(const aicc_graph *g, const aicc_value *v) {
  for (size_t i = 0; i < g->outputs.len; i++)
    if (g->outputs.data[i] == v) return true;
  return false;
}

/* ONNX wants node names unique within a graph; passes and autodiff may
 * repeat one (backward nodes are named after their forward node), so a
 * repeated name gets the first free suffix _2, _3, ... */
static aicc_status unique_node_names(export_ctx *c, Onnx__GraphProto *gp) {
  aicc_hashmap seen;
  aicc_hashmap_init(&seen);
  aicc_status st = NULL;
  for (size_t i = 0; i < gp->n_node && !st; i++) {
    Onnx__NodeProto *np = gp->node[i];
    if (!*np->name) continue;
    if (aicc_hashmap_has(&seen, np->name)) {
      size_t len = strlen(np->name) + 24;
      char *nm = AICC_ARENA_ARRAY(&c->a, char, len);
      if (!nm) {
        st = nomem();
        break;
      }
      for (int k = 2;; k++) {
        snprintf(nm, len, "%s_%d", np->name, k);
        if (!aicc_hashmap_has(&seen, nm)) break;
      }
      np->name = nm;
    }
    if (!aicc_hashmap_put(&seen, np->name, np)) st = nomem();
  }
  aicc_hashmap_fini(&seen);
  return st;
}

static aicc_status graph_encode(export_ctx *c, const aicc_graph *g, Onnx__GraphProto **out) {
  if (++c->depth > 256) return aicc_errorf(AICC_ERR_UNSUPPORTED, "subgraphs nest too deep");
  NEW_MSG(c, Onnx__GraphProto, gp, onnx__graph_proto__init);
  gp->name = cstr(g->name);
  gp->n_node = g->nodes.len;
  gp->node = AICC_ARENA_ARRAY(&c->a, Onnx__NodeProto *, g->nodes.len ? g->nodes.len : 1);
  gp->n_initializer = g->inits.len;
  gp->initializer = AICC_ARENA_ARRAY(&c->a, Onnx__TensorProto *, g->inits.len ? g->inits.len : 1);
  if (!gp->node || !gp->initializer) return nomem();
  size_t n_vi = 0;
  for (size_t i = 0; i < g->nodes.len; i++) {
    const aicc_node *n = g->nodes.data[i];
    AICC_TRY(node_encode(c, n, &gp->node[i]));
    n_vi += (size_t)n->n_outputs;
  }
  AICC_TRY(unique_node_names(c, gp));
  for (size_t i = 0; i < g->inits.len; i++) {
    const aicc_value *v = g->inits.data[i];
    AICC_TRY(tensor_msg(c, v->init, v->name, &gp->initializer[i]));
  }
  AICC_TRY(value_infos(c, &g->inputs, &gp->n_input, &gp->input));
  AICC_TRY(value_infos(c, &g->outputs, &gp->n_output, &gp->output));
  /* Types of intermediate values, so readers need not re-infer them. */
  gp->value_info = AICC_ARENA_ARRAY(&c->a, Onnx__ValueInfoProto *, n_vi ? n_vi : 1);
  if (!gp->value_info) return nomem();
  for (size_t i = 0; i < g->nodes.len; i++) {
    const aicc_node *n = g->nodes.data[i];
    for (int k = 0; k < n->n_outputs; k++) {
      const aicc_value *v = n->outputs[k];
      if (v->type.kind == AICC_KIND_NONE || v->type.dtype == AICC_DTYPE_UNDEFINED ||
          is_output(g, v))
        continue;
      AICC_TRY(value_info(c, v, &gp->value_info[gp->n_value_info++]));
    }
  }
  c->depth--;
  *out = gp;
  return NULL;
}

static aicc_status model_encode(export_ctx *c, Onnx__ModelProto *mp) {
  const aicc_model *m = c->m;
  mp->has_ir_version = 1;
  mp->ir_version = m->ir_version > 0 ? m->ir_version : 8;
  if (m->producer_name && *m->producer_name) mp->producer_name = cstr(m->producer_name);
  if (m->producer_version && *m->producer_version)
    mp->producer_version = cstr(m->producer_version);
  if (m->domain && *m->domain) mp->domain = cstr(m->domain);
  if (m->doc && *m->doc) mp->doc_string = cstr(m->doc);
  if (m->model_version) mp->has_model_version = 1, mp->model_version = m->model_version;
  mp->n_opset_import = (size_t)m->n_opsets;
  mp->opset_import =
      AICC_ARENA_ARRAY(&c->a, Onnx__OperatorSetIdProto *, m->n_opsets ? m->n_opsets : 1);
  if (!mp->opset_import) return nomem();
  for (int i = 0; i < m->n_opsets; i++) {
    NEW_MSG(c, Onnx__OperatorSetIdProto, o, onnx__operator_set_id_proto__init);
    o->domain = cstr(m->opsets[i].domain);
    o->has_version = 1;
    o->version = m->opsets[i].version;
    mp->opset_import[i] = o;
  }
  return graph_encode(c, m->graph, &mp->graph);
}

aicc_status aicc_onnx_save(const aicc_model *m, const char *path) {
  export_ctx c = {.m = m};
  aicc_arena_init(&c.a);
  Onnx__ModelProto mp;
  onnx__model_proto__init(&mp);
  uint8_t *buf = NULL;
  aicc_status s = model_encode(&c, &mp);
  if (!s) {
    size_t n = protobuf_c_message_get_packed_size(&mp.base);
    if (n > AICC_ONNX_MAX_FILE) {
      s = aicc_errorf(AICC_ERR_UNSUPPORTED,
                      "model of %zu bytes is over the 2 GiB protobuf limit (external data "
                      "export is not implemented)",
                      n);
    } else if (!(buf = malloc(n ? n : 1))) {
      s = nomem();
    } else {
      size_t w = protobuf_c_message_pack(&mp.base, buf);
      aicc_arena_fini(&c.a);
      s = aicc_file_write_atomic(path, buf, w); /* its messages name the path */
      free(buf);
      return s;
    }
  }
  free(buf);
  aicc_arena_fini(&c.a);
  return aicc_status_wrap(s, "%s", path);
}
