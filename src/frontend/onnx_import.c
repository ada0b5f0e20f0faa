/* ONNX import: ModelProto -> graph IR. Opsets, typed graph inputs/outputs,
 * initializers, nodes with typed attributes checked against the registry,
 * subgraphs (If/Loop/Scan) that see enclosing values, and model-local
 * functions inlined at their call sites. Builds only; never optimizes. */
#include "frontend/onnx.h"
#include "frontend/onnx_internal.h"
#include "ops/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nesting of subgraphs and function calls we follow before calling a model
 * hostile; it also bounds our recursion on the C stack. */
#define MAX_DEPTH 64
/* Nodes a model may have once functions are inlined: a call tree of
 * functions that each call the next twice grows exponentially, and we would
 * rather refuse than exhaust memory. */
#ifdef AICC_FUZZ_LIMITS
#define MAX_NODES (1u << 16)
#else
#define MAX_NODES (1u << 20)
#endif
/* Highest ai.onnx opset whose semantics the registry knows. */
#define MAX_DEFAULT_OPSET 28

typedef struct import_ctx {
  aicc_model *m;
  const Onnx__ModelProto *mp;
  aicc_onnx_ext ext;
  aicc_hashmap syms; /* dim_param interning */
  aicc_arena tmp;    /* scratch for the import only */
  int depth;
  const Onnx__FunctionProto *calls[MAX_DEPTH]; /* active function calls */
  int n_calls;
} import_ctx;

/* An attribute a function call passes in: the call-site name and the
 * attribute that holds the value (references already followed). */
typedef struct call_attr {
  const char *name;
  const Onnx__AttributeProto *src;
} call_attr;

/* Name resolution scope: a graph, or an inlined function instance. A
 * function instance resolves names only through `map` (function bodies
 * cannot see the caller's values) and adds its nodes to the caller's graph. */
typedef struct scope {
  struct scope *parent;
  aicc_graph *g;
  aicc_hashmap vinfo; /* plain graphs: value_info name -> TypeProto */
  /* function instances only: */
  aicc_hashmap *map;     /* formal name -> value (or &omitted) */
  aicc_hashmap *defined; /* names defined so far in the body */
  const Onnx__FunctionProto *fn;
  const call_attr *cattrs;
  size_t n_cattrs;
  const char *prefix; /* for names of instance nodes and values */
} scope;

/* Stands for an omitted optional input passed to a function. */
static aicc_value omitted;

static aicc_status nomem(void) { return aicc_errorf(AICC_ERR_NOMEM, "out of memory"); }

static bool is_default_domain(const char *d) {
  return !d || !*d || strcmp(d, "ai.onnx") == 0;
}

static bool is_known_domain(const char *d) {
  return is_default_domain(d) || strcmp(d, "ai.onnx.ml") == 0 ||
         strcmp(d, "ai.onnx.preview.training") == 0 || strcmp(d, "ai.onnx.preview") == 0 ||
         strcmp(d, "ai.aicc") == 0; /* aicc-internal ops (ops/aicc_layout.c) */
}

static const char *node_desc(const char *name, const char *op, char *buf, size_t n) {
  snprintf(buf, n, "node '%s' (%s)", aicc_onnx_str(name), aicc_onnx_str(op));
  return buf;
}

/* --- name resolution --- */

/* Finds a value visible from s. *found distinguishes an omitted optional
 * (found, NULL) from an undefined name (not found). */
static aicc_value *resolve(const scope *s, const char *name, bool *found) {
  *found = false;
  for (; s; s = s->parent) {
    if (s->map) {
      aicc_value *v = aicc_hashmap_get(s->map, name);
      if (!v) return NULL; /* function bodies see nothing outside */
      *found = true;
      return v == &omitted ? NULL : v;
    }
    aicc_value *v = aicc_hashmap_get(&s->g->names, name);
    if (v) {
      *found = true;
      return v;
    }
  }
  return NULL;
}

static const Onnx__FunctionProto *find_function(const import_ctx *c, const Onnx__NodeProto *np) {
  const char *dom = aicc_onnx_str(np->domain), *ov = aicc_onnx_str(np->overload);
  for (size_t i = 0; i < c->mp->n_functions; i++) {
    const Onnx__FunctionProto *f = c->mp->functions[i];
    if (f && strcmp(aicc_onnx_str(f->name), aicc_onnx_str(np->op_type)) == 0 &&
        strcmp(aicc_onnx_str(f->domain), dom) == 0 &&
        strcmp(aicc_onnx_str(f->overload), ov) == 0)
      return f;
  }
  return NULL;
}

static bool is_function_domain(const import_ctx *c, const char *dom) {
  for (size_t i = 0; i < c->mp->n_functions; i++)
    if (c->mp->functions[i] &&
        strcmp(aicc_onnx_str(c->mp->functions[i]->domain), aicc_onnx_str(dom)) == 0)
      return true;
  return false;
}

/* --- attributes --- */

static aicc_attr_kind attr_kind(const Onnx__AttributeProto *ap) {
  if (ap->has_type) return (aicc_attr_kind)ap->type;
  /* IR version 1 had no type field: infer it from the field in use. */
  if (ap->has_f) return AICC_ATTR_FLOAT;
  if (ap->has_i) return AICC_ATTR_INT;
  if (ap->has_s) return AICC_ATTR_STRING;
  if (ap->t) return AICC_ATTR_TENSOR;
  if (ap->g) return AICC_ATTR_GRAPH;
  if (ap->sparse_tensor) return AICC_ATTR_SPARSE_TENSOR;
  if (ap->tp) return AICC_ATTR_TYPE_PROTO;
  if (ap->n_floats) return AICC_ATTR_FLOATS;
  if (ap->n_ints) return AICC_ATTR_INTS;
  if (ap->n_strings) return AICC_ATTR_STRINGS;
  if (ap->n_tensors) return AICC_ATTR_TENSORS;
  if (ap->n_graphs) return AICC_ATTR_GRAPHS;
  if (ap->n_sparse_tensors) return AICC_ATTR_SPARSE_TENSORS;
  if (ap->n_type_protos) return AICC_ATTR_TYPE_PROTOS;
  return AICC_ATTR_UNDEFINED;
}

/* Follows a ref_attr_name to the attribute of the innermost function call
 * (or that function's default). *src NULL: not given, the attribute is absent. */
static aicc_status attr_ref(const scope *s, const Onnx__AttributeProto *ap,
                            const Onnx__AttributeProto **src) {
  *src = NULL;
  const char *ref = ap->ref_attr_name;
  while (s && !s->fn) s = s->parent;
  if (!s)
    return aicc_errorf(AICC_ERR_INVALID,
                       "attribute '%s' refers to '%s', but references are only allowed "
                       "inside functions",
                       aicc_onnx_str(ap->name), ref);
  for (size_t i = 0; i < s->n_cattrs; i++)
    if (strcmp(s->cattrs[i].name, ref) == 0) {
      *src = s->cattrs[i].src;
      return NULL;
    }
  for (size_t i = 0; i < s->fn->n_attribute_proto; i++) {
    const Onnx__AttributeProto *d = s->fn->attribute_proto[i];
    if (d && strcmp(aicc_onnx_str(d->name), ref) == 0) {
      *src = d;
      return NULL;
    }
  }
  return NULL;
}

static aicc_status build_graph(import_ctx *c, scope *parent, aicc_graph *g,
                               const Onnx__GraphProto *gp);

static aicc_status subgraph(import_ctx *c, scope *s, const Onnx__GraphProto *gp,
                            aicc_graph **out) {
  if (!gp) return aicc_errorf(AICC_ERR_INVALID, "graph attribute holds no graph");
  AICC_TRY(aicc_graph_create(c->m, s->g, aicc_onnx_str(gp->name), out));
  return build_graph(c, s, *out, gp);
}

static aicc_status own_tensor(import_ctx *c, const Onnx__TensorProto *tp,
                              const Onnx__SparseTensorProto *sp, const char *what,
                              aicc_tensor **out) {
  if (!tp && !sp) return aicc_errorf(AICC_ERR_INVALID, "%s holds no tensor", what);
  AICC_TRY(sp ? aicc_onnx_sparse_decode(sp, &c->ext, what, out)
              : aicc_onnx_tensor_decode(tp, &c->ext, what, out));
  return aicc_model_own_tensor(c->m, *out);
}

/* Converts ap (the value) into a, named `name` (the node's name for it). */
static aicc_status attr_convert(import_ctx *c, scope *s, const char *name,
                                const Onnx__AttributeProto *ap, aicc_attr *a) {
  aicc_arena *ar = &c->m->arena;
  char what[160];
  snprintf(what, sizeof what, "attribute '%s'", name);
  a->name = aicc_arena_strdup(ar, name);
  a->kind = attr_kind(ap);
  if (!a->name) return nomem();
  switch (a->kind) {
  case AICC_ATTR_FLOAT: a->f = ap->f; return NULL;
  case AICC_ATTR_INT: a->i = ap->i; return NULL;
  case AICC_ATTR_STRING:
    a->s.s = aicc_arena_strndup(ar, ap->s.data ? (const char *)ap->s.data : "", ap->s.len);
    a->s.len = ap->s.len;
    return a->s.s ? NULL : nomem();
  case AICC_ATTR_TENSOR: return own_tensor(c, ap->t, NULL, what, &a->t);
  case AICC_ATTR_SPARSE_TENSOR: return own_tensor(c, NULL, ap->sparse_tensor, what, &a->t);
  case AICC_ATTR_GRAPH: return subgraph(c, s, ap->g, &a->g);
  case AICC_ATTR_TYPE_PROTO:
    return aicc_status_wrap(aicc_onnx_type_decode(ap->tp, c->m, &c->syms, &a->tp), "%s", what);
  case AICC_ATTR_FLOATS:
    a->n = (int64_t)ap->n_floats;
    a->fs = AICC_ARENA_ARRAY(ar, float, a->n ? a->n : 1);
    if (!a->fs) return nomem();
    if (a->n) memcpy(a->fs, ap->floats, sizeof(float) * ap->n_floats);
    return NULL;
  case AICC_ATTR_INTS:
    a->n = (int64_t)ap->n_ints;
    a->is = AICC_ARENA_ARRAY(ar, int64_t, a->n ? a->n : 1);
    if (!a->is) return nomem();
    if (a->n) memcpy(a->is, ap->ints, sizeof(int64_t) * ap->n_ints);
    return NULL;
  case AICC_ATTR_STRINGS:
    a->n = (int64_t)ap->n_strings;
    a->ss = AICC_ARENA_ARRAY(ar, aicc_bytes, a->n ? a->n : 1);
    if (!a->ss) return nomem();
    for (size_t i = 0; i < ap->n_strings; i++) {
      const ProtobufCBinaryData *b = &ap->strings[i];
      a->ss[i].s = aicc_arena_strndup(ar, b->data ? (const char *)b->data : "", b->len);
      a->ss[i].len = b->len;
      if (!a->ss[i].s) return nomem();
    }
    return NULL;
  case AICC_ATTR_TENSORS:
  case AICC_ATTR_SPARSE_TENSORS: {
    bool sparse = a->kind == AICC_ATTR_SPARSE_TENSORS;
    a->n = (int64_t)(sparse ? ap->n_sparse_tensors : ap->n_tensors);
    a->ts = AICC_ARENA_ARRAY(ar, aicc_tensor *, a->n ? a->n : 1);
    if (!a->ts) return nomem();
    for (int64_t i = 0; i < a->n; i++)
      AICC_TRY(own_tensor(c, sparse ? NULL : ap->tensors[i], sparse ? ap->sparse_tensors[i] : NULL,
                          what, &a->ts[i]));
    return NULL;
  }
  case AICC_ATTR_GRAPHS:
    a->n = (int64_t)ap->n_graphs;
    a->gs = AICC_ARENA_ARRAY(ar, aicc_graph *, a->n ? a->n : 1);
    if (!a->gs) return nomem();
    for (int64_t i = 0; i < a->n; i++) AICC_TRY(subgraph(c, s, ap->graphs[i], &a->gs[i]));
    return NULL;
  case AICC_ATTR_TYPE_PROTOS:
    a->n = (int64_t)ap->n_type_protos;
    a->tps = AICC_ARENA_ARRAY(ar, aicc_type, a->n ? a->n : 1);
    if (!a->tps) return nomem();
    for (int64_t i = 0; i < a->n; i++)
      AICC_TRY(aicc_status_wrap(aicc_onnx_type_decode(ap->type_protos[i], c->m, &c->syms,
                                                      &a->tps[i]),
                                "%s", what));
    return NULL;
  default:
    return aicc_errorf(AICC_ERR_INVALID, "%s has unknown type %d", what, (int)a->kind);
  }
}

/* Converts the node's attributes (following function references) into a
 * scratch array; *n gets the count actually present. */
static aicc_status attrs_convert(import_ctx *c, scope *s, const Onnx__NodeProto *np,
                                 aicc_attr **out, int *n) {
  *n = 0;
  *out = AICC_ARENA_ARRAY(&c->tmp, aicc_attr, np->n_attribute ? np->n_attribute : 1);
  if (!*out) return nomem();
  for (size_t i = 0; i < np->n_attribute; i++) {
    const Onnx__AttributeProto *ap = np->attribute[i];
    if (!ap) continue;
    const char *name = aicc_onnx_str(ap->name);
    if (!*name) return aicc_errorf(AICC_ERR_INVALID, "attribute #%zu has no name", i);
    for (int k = 0; k < *n; k++)
      if (strcmp((*out)[k].name, name) == 0)
        return aicc_errorf(AICC_ERR_INVALID, "attribute '%s' is given twice", name);
    const Onnx__AttributeProto *src = ap;
    if (ap->ref_attr_name && *ap->ref_attr_name) {
      AICC_TRY(attr_ref(s, ap, &src));
      if (!src) continue; /* the caller did not set it: absent */
    }
    memset(&(*out)[*n], 0, sizeof **out);
    AICC_TRY(attr_convert(c, s, name, src, &(*out)[*n]));
    (*n)++;
  }
  return NULL;
}

/* Checks attribute names and kinds against the op's schema. */
static aicc_status attrs_check(const aicc_node *n) {
  const aicc_attr_spec *spec = n->op->attrs;
  for (int i = 0; i < n->n_attrs; i++) {
    const aicc_attr *a = &n->attrs[i];
    const aicc_attr_spec *sp = NULL;
    for (const aicc_attr_spec *p = spec; p && p->name; p++)
      if (strcmp(p->name, a->name) == 0) sp = p;
    if (!sp)
      return aicc_errorf(AICC_ERR_INVALID, "unknown attribute '%s' (of type %s)", a->name,
                         aicc_attr_kind_name(a->kind));
    if (sp->kind != a->kind)
      return aicc_errorf(AICC_ERR_INVALID, "attribute '%s' has type %s, expected %s", a->name,
                         aicc_attr_kind_name(a->kind), aicc_attr_kind_name(sp->kind));
  }
  for (const aicc_attr_spec *p = spec; p && p->name; p++)
    if (p->required && !aicc_node_attr(n, p->name))
      return aicc_errorf(AICC_ERR_INVALID, "missing required attribute '%s' (%s)", p->name,
                         aicc_attr_kind_name(p->kind));
  return NULL;
}

static aicc_status arity_check(const aicc_node *n) {
  const aicc_op *op = n->op;
  if (n->n_inputs < op->min_in || (op->max_in != AICC_VARIADIC && n->n_inputs > op->max_in)) {
    if (op->max_in == AICC_VARIADIC)
      return aicc_errorf(AICC_ERR_INVALID, "has %d inputs, expected at least %d", n->n_inputs,
                         op->min_in);
    return aicc_errorf(AICC_ERR_INVALID, "has %d inputs, expected %d to %d", n->n_inputs,
                       op->min_in, op->max_in);
  }
  if (n->n_outputs < op->min_out ||
      (op->max_out != AICC_VARIADIC && n->n_outputs > op->max_out)) {
    if (op->max_out == AICC_VARIADIC)
      return aicc_errorf(AICC_ERR_INVALID, "has %d outputs, expected at least %d",
                         n->n_outputs, op->min_out);
    return aicc_errorf(AICC_ERR_INVALID, "has %d outputs, expected %d to %d", n->n_outputs,
                       op->min_out, op->max_out);
  }
  return NULL;
}

/* --- nodes --- */

/* Phase 1: creates the output values of every node in `nodes`, so that
 * inputs can refer to values defined later in the list (toposort orders
 * them afterwards). outs[i] gets node i's output values. */
static aicc_status declare_outputs(import_ctx *c, scope *s, Onnx__NodeProto *const *nodes,
                                   size_t n_nodes, aicc_value ***outs) {
  for (size_t i = 0; i < n_nodes; i++) {
    const Onnx__NodeProto *np = nodes[i];
    char d[160];
    if (!np) return aicc_errorf(AICC_ERR_INVALID, "node #%zu is empty", i);
    node_desc(np->name, np->op_type, d, sizeof d);
    outs[i] = AICC_ARENA_ARRAY(&c->tmp, aicc_value *, np->n_output ? np->n_output : 1);
    if (!outs[i]) return nomem();
    for (size_t k = 0; k < np->n_output; k++) {
      const char *o = aicc_onnx_str(np->output[k]);
      aicc_value *v = NULL;
      aicc_type ty = {.rank = -1};
      if (!*o) {
        AICC_TRY(aicc_graph_value_add(s->g, "", NULL, &v));
      } else if (s->map) {
        if (aicc_hashmap_has(s->defined, o))
          return aicc_errorf(AICC_ERR_INVALID, "%s: value '%s' is defined more than once", d, o);
        if (!aicc_hashmap_put(s->defined, o, (void *)o)) return nomem();
        v = aicc_hashmap_get(s->map, o); /* a formal output, created by the caller */
        if (!v) {
          char *nm = AICC_ARENA_ARRAY(&c->tmp, char, strlen(s->prefix) + strlen(o) + 2);
          if (!nm) return nomem();
          sprintf(nm, "%s/%s", s->prefix, o);
          AICC_TRY(aicc_graph_value_add(s->g, aicc_graph_value_find(s->g, nm) ? "" : nm, NULL, &v));
          if (!aicc_hashmap_put(s->map, o, v)) return nomem();
        }
      } else {
        const Onnx__TypeProto *tp = aicc_hashmap_get(&s->vinfo, o);
        if (tp)
          AICC_TRY(aicc_status_wrap(aicc_onnx_type_decode(tp, c->m, &c->syms, &ty),
                                    "value_info '%s'", o));
        aicc_status st = aicc_graph_value_add(s->g, o, tp ? &ty : NULL, &v);
        if (st) return aicc_status_wrap(st, "%s", d);
      }
      outs[i][k] = v;
    }
  }
  return NULL;
}

static aicc_status build_nodes(import_ctx *c, scope *s, Onnx__NodeProto *const *nodes,
                               size_t n_nodes, aicc_value ***outs);

/* Inlines one call of a model-local function: the body's nodes join s->g with
 * fresh value names; formal inputs/outputs map to the call's values. */
static aicc_status inline_call(import_ctx *c, scope *s, const Onnx__NodeProto *np,
                               const Onnx__FunctionProto *fn, aicc_value **outs,
                               const char *d) {
  for (int i = 0; i < c->n_calls; i++)
    if (c->calls[i] == fn)
      return aicc_errorf(AICC_ERR_INVALID, "%s: function '%s' calls itself (recursion)", d,
                         aicc_onnx_str(fn->name));
  if (c->n_calls >= MAX_DEPTH || c->depth >= MAX_DEPTH)
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "%s: functions nest more than %d deep", d,
                       MAX_DEPTH);
  if (np->n_input > fn->n_input || np->n_output > fn->n_output)
    return aicc_errorf(AICC_ERR_INVALID,
                       "%s: passes %zu inputs and %zu outputs; function '%s' takes %zu and %zu",
                       d, np->n_input, np->n_output, aicc_onnx_str(fn->name), fn->n_input,
                       fn->n_output);
  /* Attributes the call passes, references followed in the caller's scope. */
  call_attr *ca = AICC_ARENA_ARRAY(&c->tmp, call_attr, np->n_attribute ? np->n_attribute : 1);
  if (!ca) return nomem();
  size_t nca = 0;
  for (size_t i = 0; i < np->n_attribute; i++) {
    const Onnx__AttributeProto *ap = np->attribute[i], *src = ap;
    if (!ap) continue;
    if (ap->ref_attr_name && *ap->ref_attr_name) {
      AICC_TRY(aicc_status_wrap(attr_ref(s, ap, &src), "%s", d));
      if (!src) continue;
    }
    ca[nca++] = (call_attr){aicc_onnx_str(ap->name), src};
  }
  aicc_hashmap map, defined;
  aicc_hashmap_init(&map);
  aicc_hashmap_init(&defined);
  char *prefix = AICC_ARENA_ARRAY(&c->tmp, char, strlen(aicc_onnx_str(np->name)) +
                                                     strlen(aicc_onnx_str(fn->name)) + 2);
  scope fs = {.g = s->g, .map = &map, .defined = &defined, .fn = fn, .cattrs = ca,
              .n_cattrs = nca, .prefix = prefix};
  aicc_hashmap_init(&fs.vinfo);
  aicc_status st = NULL;
  if (!prefix) {
    st = nomem();
    goto done;
  }
  sprintf(prefix, "%s", *aicc_onnx_str(np->name) ? np->name : aicc_onnx_str(fn->name));
  /* Formal outputs first, so a formal input of the same name wins (the body
   * then passes the input through; an Identity below connects it). */
  for (size_t i = 0; i < fn->n_output && !st; i++) {
    const char *f = aicc_onnx_str(fn->output[i]);
    aicc_value *v = NULL;
    if (i < np->n_output) v = outs[i];
    else st = aicc_graph_value_add(s->g, "", NULL, &v);
    if (!st && !aicc_hashmap_put(&map, f, v)) st = nomem();
  }
  for (size_t i = 0; i < fn->n_input && !st; i++) {
    const char *f = aicc_onnx_str(fn->input[i]);
    const char *a = i < np->n_input ? aicc_onnx_str(np->input[i]) : "";
    aicc_value *v = &omitted;
    if (*a) {
      bool found;
      v = resolve(s, a, &found);
      if (!found) {
        st = aicc_errorf(AICC_ERR_INVALID, "%s: input '%s' is not defined", d, a);
        break;
      }
      if (!v) v = &omitted;
    }
    if (!aicc_hashmap_put(&map, f, v) || !aicc_hashmap_put(&defined, f, (void *)f)) st = nomem();
  }
  if (st) goto done;
  c->calls[c->n_calls++] = fn;
  aicc_value ***bouts = AICC_ARENA_ARRAY(&c->tmp, aicc_value **, fn->n_node ? fn->n_node : 1);
  st = bouts ? declare_outputs(c, &fs, fn->node, fn->n_node, bouts) : nomem();
  if (!st) st = build_nodes(c, &fs, fn->node, fn->n_node, bouts);
  c->n_calls--;
  if (st) goto done;
  /* Connect formal outputs the body did not produce directly. */
  for (size_t i = 0; i < fn->n_output && i < np->n_output && !st; i++) {
    const char *f = aicc_onnx_str(fn->output[i]);
    aicc_value *src = aicc_hashmap_get(&map, f);
    if (src == outs[i] && outs[i]->producer) continue;
    if (src == outs[i] || src == &omitted || !src) {
      st = aicc_errorf(AICC_ERR_INVALID, "%s: function '%s' does not define its output '%s'",
                       d, aicc_onnx_str(fn->name), f);
      break;
    }
    aicc_node *idn;
    st = aicc_graph_node_add(s->g, prefix, "Identity", "", &src, 1, &outs[i], 1, &idn);
  }
done:
  aicc_hashmap_fini(&map);
  aicc_hashmap_fini(&defined);
  return st;
}

/* Phase 2: creates the nodes (or inlines function calls) of `nodes`;
 * outs[i] are node i's output values from phase 1. */
static aicc_status build_nodes(import_ctx *c, scope *s, Onnx__NodeProto *const *nodes,
                               size_t n_nodes, aicc_value ***outs) {
  for (size_t i = 0; i < n_nodes; i++) {
    const Onnx__NodeProto *np = nodes[i];
    const char *op = aicc_onnx_str(np->op_type);
    if (c->m->n_nodes >= MAX_NODES)
      return aicc_errorf(AICC_ERR_UNSUPPORTED,
                         "the model has more than %u nodes once functions are inlined",
                         MAX_NODES);
    const char *dom = aicc_onnx_str(np->domain);
    char name_buf[256];
    const char *name = aicc_onnx_str(np->name);
    if (s->map) {
      snprintf(name_buf, sizeof name_buf, "%s/%s", s->prefix, *name ? name : op);
      name = name_buf;
    }
    char d[320];
    node_desc(name, op, d, sizeof d);
    if (!*op) return aicc_errorf(AICC_ERR_INVALID, "%s: node has no op_type", d);
    aicc_value **ov = outs[i];
    const Onnx__FunctionProto *fn = find_function(c, np);
    if (fn) {
      AICC_TRY(inline_call(c, s, np, fn, ov, d));
      continue;
    }
    if (!is_known_domain(dom))
      return aicc_errorf(AICC_ERR_UNSUPPORTED, "%s: operator domain '%s' is not supported", d,
                         dom);
    aicc_value **iv = AICC_ARENA_ARRAY(&c->tmp, aicc_value *, np->n_input ? np->n_input : 1);
    if (!iv) return nomem();
    for (size_t k = 0; k < np->n_input; k++) {
      const char *in = aicc_onnx_str(np->input[k]);
      bool found = true;
      iv[k] = *in ? resolve(s, in, &found) : NULL;
      if (!found)
        return aicc_errorf(AICC_ERR_INVALID, "%s: input '%s' is not defined", d, in);
    }
    if (np->n_input > 65535 || np->n_output > 65535)
      return aicc_errorf(AICC_ERR_UNSUPPORTED, "%s: too many inputs or outputs", d);
    aicc_node *n;
    AICC_TRY(aicc_graph_node_add(s->g, name, op, dom, iv, (int)np->n_input, ov,
                                 (int)np->n_output, &n));
    AICC_TRY(aicc_status_wrap(arity_check(n), "%s", d));
    aicc_attr *attrs;
    int na;
    AICC_TRY(aicc_status_wrap(attrs_convert(c, s, np, &attrs, &na), "%s", d));
    AICC_TRY(aicc_node_attrs_alloc(n, na));
    if (na) memcpy(n->attrs, attrs, sizeof *attrs * (size_t)na);
    AICC_TRY(aicc_status_wrap(attrs_check(n), "%s", d));
  }
  return NULL;
}

/* --- graphs --- */

static aicc_status add_output(import_ctx *c, scope *s, const Onnx__ValueInfoProto *vi) {
  const char *name = aicc_onnx_str(vi->name);
  bool found;
  aicc_value *v = *name ? resolve(s, name, &found) : NULL;
  if (!v)
    return aicc_errorf(AICC_ERR_INVALID, "graph output '%s' is not defined by any node or input",
                       name);
  aicc_type ty;
  AICC_TRY(aicc_status_wrap(aicc_onnx_type_decode(vi->type, c->m, &c->syms, &ty),
                            "graph output '%s'", name));
  if (v->graph != s->g) {
    /* A subgraph returning an enclosing value: give it a value of its own. */
    aicc_value *nv;
    aicc_node *n;
    AICC_TRY(aicc_graph_value_add(s->g, "", &v->type, &nv));
    AICC_TRY(aicc_graph_node_add(s->g, "", "Identity", "", &v, 1, &nv, 1, &n));
    v = nv;
  }
  /* The declared type is kept where it says more than the value knows. */
  if (ty.kind != AICC_KIND_NONE && !v->init && (v->type.kind == AICC_KIND_NONE || v->producer))
    v->type = ty;
  return aicc_graph_output_add(s->g, v);
}

static aicc_status build_graph_body(import_ctx *c, scope *s, const Onnx__GraphProto *gp) {
  aicc_graph *g = s->g;
  for (size_t i = 0; i < gp->n_value_info; i++) {
    const Onnx__ValueInfoProto *vi = gp->value_info[i];
    if (vi && vi->name && vi->type && !aicc_hashmap_put(&s->vinfo, vi->name, vi->type))
      return nomem();
  }
  for (size_t i = 0; i < gp->n_initializer + gp->n_sparse_initializer; i++) {
    bool sparse = i >= gp->n_initializer;
    const Onnx__TensorProto *tp = sparse ? NULL : gp->initializer[i];
    const Onnx__SparseTensorProto *sp = sparse ? gp->sparse_initializer[i - gp->n_initializer] : NULL;
    const char *name = aicc_onnx_str(sparse ? (sp && sp->values ? sp->values->name : NULL)
                                            : (tp ? tp->name : NULL));
    char what[200];
    snprintf(what, sizeof what, "initializer '%s'", name);
    if (!*name) return aicc_errorf(AICC_ERR_INVALID, "initializer #%zu has no name", i);
    if (aicc_hashmap_has(&g->names, name))
      return aicc_errorf(AICC_ERR_INVALID, "initializer '%s' is defined more than once", name);
    aicc_tensor *t;
    if (sparse) AICC_TRY(aicc_onnx_sparse_decode(sp, &c->ext, what, &t));
    else AICC_TRY(aicc_onnx_tensor_decode(tp, &c->ext, what, &t));
    aicc_value *v;
    AICC_TRY(aicc_graph_init_add(g, name, t, &v));
  }
  for (size_t i = 0; i < gp->n_input; i++) {
    const Onnx__ValueInfoProto *vi = gp->input[i];
    const char *name = aicc_onnx_str(vi ? vi->name : NULL);
    if (!*name) return aicc_errorf(AICC_ERR_INVALID, "graph input #%zu has no name", i);
    aicc_value *v = aicc_hashmap_get(&g->names, name);
    /* An initializer listed as an input: from IR 4 on, a default the caller
     * may override (aicc_value_const_init is then NULL); IR < 4 lists every
     * initializer among the inputs, and those stay constants. */
    if (v && v->init) {
      if (c->m->ir_version >= 4) AICC_TRY(aicc_graph_input_add(g, v));
      continue;
    }
    if (v) return aicc_errorf(AICC_ERR_INVALID, "graph input '%s' is listed twice", name);
    aicc_type ty;
    AICC_TRY(aicc_status_wrap(aicc_onnx_type_decode(vi->type, c->m, &c->syms, &ty),
                              "graph input '%s'", name));
    AICC_TRY(aicc_graph_value_add(g, name, &ty, &v));
    AICC_TRY(aicc_graph_input_add(g, v));
  }
  aicc_value ***outs = AICC_ARENA_ARRAY(&c->tmp, aicc_value **, gp->n_node ? gp->n_node : 1);
  if (!outs) return nomem();
  AICC_TRY(declare_outputs(c, s, gp->node, gp->n_node, outs));
  AICC_TRY(build_nodes(c, s, gp->node, gp->n_node, outs));
  for (size_t i = 0; i < gp->n_output; i++) {
    if (!gp->output[i]) return aicc_errorf(AICC_ERR_INVALID, "graph output #%zu is empty", i);
    AICC_TRY(add_output(c, s, gp->output[i]));
  }
  return NULL;
}

static aicc_status build_graph(import_ctx *c, scope *parent, aicc_graph *g,
                               const Onnx__GraphProto *gp) {
  if (c->depth >= MAX_DEPTH)
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "subgraphs nest more than %d deep", MAX_DEPTH);
  c->depth++;
  scope s = {.parent = parent, .g = g};
  aicc_hashmap_init(&s.vinfo);
  aicc_status st = build_graph_body(c, &s, gp);
  aicc_hashmap_fini(&s.vinfo);
  c->depth--;
  if (st && parent && *g->name) st = aicc_status_wrap(st, "in subgraph '%s'", g->name);
  return st;
}

/* --- model --- */

static aicc_status set_opsets(import_ctx *c, Onnx__OperatorSetIdProto *const *ops, size_t n,
                              bool from_function) {
  for (size_t i = 0; i < n; i++) {
    const Onnx__OperatorSetIdProto *o = ops[i];
    if (!o) continue;
    const char *dom = aicc_onnx_str(o->domain);
    int64_t ver = o->has_version ? o->version : 0;
    if (!is_known_domain(dom)) continue; /* checked where a node uses it */
    if (is_default_domain(dom) && ver > MAX_DEFAULT_OPSET)
      return aicc_errorf(AICC_ERR_UNSUPPORTED,
                         "unsupported opset %lld for domain ai.onnx (aicc supports up to %d)",
                         (long long)ver, MAX_DEFAULT_OPSET);
    if (ver < 1 || ver > 10000)
      return aicc_errorf(AICC_ERR_INVALID, "opset import of domain '%s' has version %lld", dom,
                         (long long)ver);
    if (from_function && aicc_model_opset(c->m, dom)) continue;
    AICC_TRY(aicc_model_opset_set(c->m, dom, ver));
  }
  return NULL;
}

/* Rejects nodes of domains we do not know and that no local function
 * defines, naming the domain (before anything else fails less clearly). */
static aicc_status check_domains(const import_ctx *c, const Onnx__GraphProto *gp, int depth) {
  if (!gp || depth > MAX_DEPTH) return NULL;
  for (size_t i = 0; i < gp->n_node; i++) {
    const Onnx__NodeProto *np = gp->node[i];
    if (!np) continue;
    const char *dom = aicc_onnx_str(np->domain);
    if (!is_known_domain(dom) && !is_function_domain(c, dom)) {
      char d[160];
      return aicc_errorf(AICC_ERR_UNSUPPORTED, "%s: operator domain '%s' is not supported",
                         node_desc(np->name, np->op_type, d, sizeof d), dom);
    }
    for (size_t k = 0; k < np->n_attribute; k++) {
      const Onnx__AttributeProto *ap = np->attribute[k];
      if (!ap) continue;
      AICC_TRY(check_domains(c, ap->g, depth + 1));
      for (size_t j = 0; j < ap->n_graphs; j++) AICC_TRY(check_domains(c, ap->graphs[j], depth + 1));
    }
  }
  return NULL;
}

static aicc_status import_model(import_ctx *c) {
  const Onnx__ModelProto *mp = c->mp;
  aicc_model *m = c->m;
  aicc_arena *a = &m->arena;
  if (mp->has_ir_version) m->ir_version = mp->ir_version;
  if (mp->has_model_version) m->model_version = mp->model_version;
  m->producer_name = aicc_arena_strdup(a, aicc_onnx_str(mp->producer_name));
  m->producer_version = aicc_arena_strdup(a, aicc_onnx_str(mp->producer_version));
  m->domain = aicc_arena_strdup(a, aicc_onnx_str(mp->domain));
  m->doc = aicc_arena_strdup(a, aicc_onnx_str(mp->doc_string));
  if (!m->producer_name || !m->producer_version || !m->domain || !m->doc) return nomem();
  AICC_TRY(set_opsets(c, mp->opset_import, mp->n_opset_import, false));
  for (size_t i = 0; i < mp->n_functions; i++)
    if (mp->functions[i])
      AICC_TRY(set_opsets(c, mp->functions[i]->opset_import, mp->functions[i]->n_opset_import,
                          true));
  AICC_TRY(check_domains(c, mp->graph, 0));
  const char *gname = aicc_onnx_str(mp->graph->name);
  if (*gname && !(m->graph->name = aicc_arena_strdup(a, gname))) return nomem();
  AICC_TRY(build_graph(c, NULL, m->graph, mp->graph));
  AICC_TRY(aicc_graph_toposort(m->graph));
  return aicc_model_infer(m);
}

aicc_status aicc_onnx_load_buffer(const void *data, size_t len, const char *name,
                                  const char *base_dir, aicc_model **out) {
  *out = NULL;
  if (!name) name = "<memory>";
  if (len > AICC_ONNX_MAX_FILE)
    return aicc_errorf(AICC_ERR_INVALID, "%s: model of %zu bytes is over the 2 GiB protobuf limit",
                       name, len);
  Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, data);
  if (!mp)
    return aicc_errorf(AICC_ERR_INVALID, "%s: not a valid ONNX model (protobuf parse failed)",
                       name);
  if (!mp->graph) {
    onnx__model_proto__free_unpacked(mp, NULL);
    return aicc_errorf(AICC_ERR_INVALID, "%s: not a valid ONNX model (it has no graph)", name);
  }
  import_ctx c = {.mp = mp, .ext = {.base_dir = base_dir}};
  aicc_hashmap_init(&c.syms);
  aicc_arena_init(&c.tmp);
  aicc_status st = aicc_model_create(name, &c.m);
  if (!st) st = import_model(&c);
  aicc_hashmap_fini(&c.syms);
  aicc_arena_fini(&c.tmp);
  aicc_onnx_ext_fini(&c.ext);
  onnx__model_proto__free_unpacked(mp, NULL);
  if (st) {
    aicc_model_destroy(c.m);
    return aicc_status_wrap(st, "%s", name);
  }
  *out = c.m;
  return NULL;
}

aicc_status aicc_onnx_load(const char *path, aicc_model **out) {
  *out = NULL;
  uint8_t *buf;
  size_t len;
  AICC_TRY(aicc_status_wrap(aicc_onnx_file_read(path, &buf, &len), "%s", path));
  /* External data lives next to the model file. */
  const char *slash = strrchr(path, '/');
  char *dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
  if (!dir) {
    free(buf);
    return nomem();
  }
  aicc_status st = aicc_onnx_load_buffer(buf, len, path, dir, out);
  free(dir);
  free(buf);
  return st;
}
