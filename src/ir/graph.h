/* The graph IR: a model owns an arena and one main graph; graphs hold SSA
 * values and nodes in topological order; control-flow nodes hold subgraphs
 * as attributes. No op-specific code lives here (that is src/ops/). */
#ifndef AICC_IR_GRAPH_H
#define AICC_IR_GRAPH_H

#include "core/arena.h"
#include "core/hashmap.h"
#include "core/vec.h"
#include "ir/tensor.h"

typedef struct aicc_graph aicc_graph;
typedef struct aicc_node aicc_node;
typedef struct aicc_value aicc_value;
typedef struct aicc_model aicc_model;
typedef struct aicc_op aicc_op;

/* A dimension: a known size (sym == NULL, size >= 0), a named symbol
 * (sym != NULL, size == -1), or unknown (sym == NULL, size == -1). */
typedef struct aicc_dim {
  int64_t size;
  const char *sym;
} aicc_dim;

static inline aicc_dim aicc_dim_known(int64_t n) { return (aicc_dim){n, NULL}; }
static inline aicc_dim aicc_dim_unknown(void) { return (aicc_dim){-1, NULL}; }
static inline int aicc_dim_is_known(aicc_dim d) { return d.sym == NULL && d.size >= 0; }

/* The static type of a value. For sequences, dtype/rank/dims describe the
 * elements; for optionals, elem_kind says what the optional holds. rank -1:
 * unknown rank. kind NONE: nothing known (or an omitted optional input). */
typedef struct aicc_type {
  aicc_value_kind kind;
  aicc_value_kind elem_kind;
  aicc_dtype dtype;
  int rank;
  aicc_dim dims[AICC_MAX_RANK];
} aicc_type;

/* Type of a dense tensor with known dims. */
aicc_type aicc_type_tensor(aicc_dtype dt, int rank, const int64_t *dims);
/* Type of a runtime value (all dims known). */
aicc_type aicc_type_of(const aicc_tensor *t);
/* True when kind, dtype, rank and every dim are known. */
bool aicc_type_is_static(const aicc_type *t);
bool aicc_type_equal(const aicc_type *a, const aicc_type *b);
/* Same size, or the same symbol. */
bool aicc_dim_equal(aicc_dim a, aicc_dim b);
/* Sets r's rank and dims to the least shape that describes both a and b:
 * dims that differ become unknown, differing (or unknown) ranks make the
 * rank unknown. Leaves r's kind and dtype alone (r may alias a). */
void aicc_type_join_shape(aicc_type *r, const aicc_type *a, const aicc_type *b);
/* Formats "f32[N,3,224,224]" (or "seq<f32[?]>", "opt<...>"). Returns buf. */
const char *aicc_type_describe(const aicc_type *t, char *buf, size_t n);

/* Attribute kinds, numbered as onnx AttributeProto.AttributeType. */
typedef enum aicc_attr_kind {
  AICC_ATTR_UNDEFINED = 0,
  AICC_ATTR_FLOAT = 1,
  AICC_ATTR_INT = 2,
  AICC_ATTR_STRING = 3,
  AICC_ATTR_TENSOR = 4,
  AICC_ATTR_GRAPH = 5,
  AICC_ATTR_FLOATS = 6,
  AICC_ATTR_INTS = 7,
  AICC_ATTR_STRINGS = 8,
  AICC_ATTR_TENSORS = 9,
  AICC_ATTR_GRAPHS = 10,
  AICC_ATTR_SPARSE_TENSOR = 11,
  AICC_ATTR_SPARSE_TENSORS = 12,
  AICC_ATTR_TYPE_PROTO = 13,
  AICC_ATTR_TYPE_PROTOS = 14,
} aicc_attr_kind;

const char *aicc_attr_kind_name(aicc_attr_kind k);

/* Bytes that may contain NULs (ONNX strings are bytes); s is NUL-terminated. */
typedef struct aicc_bytes {
  const char *s;
  size_t len;
} aicc_bytes;

typedef struct aicc_attr {
  const char *name;
  aicc_attr_kind kind;
  int64_t n; /* element count of list kinds */
  union {
    float f;
    int64_t i;
    aicc_bytes s;
    aicc_tensor *t;  /* owned by the model */
    aicc_graph *g;
    aicc_type tp;    /* TYPE_PROTO */
    float *fs;
    int64_t *is;
    aicc_bytes *ss;
    aicc_tensor **ts;
    aicc_graph **gs;
    aicc_type *tps;
  };
} aicc_attr;

struct aicc_value {
  uint32_t id; /* unique in the model: the interpreter's slot index */
  const char *name;
  aicc_type type;
  aicc_node *producer; /* NULL for graph inputs and initializers */
  int producer_index;
  aicc_tensor *init; /* constant data of an initializer (owned by the model) */
  aicc_graph *graph; /* graph that defines the value */
};

struct aicc_node {
  uint32_t id;
  const char *name; /* may be "" */
  const char *op_type;
  const char *domain; /* "" for the default ONNX domain */
  const aicc_op *op;  /* registry row; set by import or parse */
  int opset;          /* version of `domain` imported by the model */
  int n_inputs, n_outputs, n_attrs;
  aicc_value **inputs; /* NULL entries: omitted optional inputs */
  aicc_value **outputs;
  aicc_attr *attrs;
  aicc_graph *graph;
  int32_t group; /* fusion group (passes/fuse.c); 0: none. Printed as group=N */
  bool dead;     /* removed by a pass; dropped by aicc_graph_compact */
};

typedef AICC_VEC(aicc_value *) aicc_value_vec;
typedef AICC_VEC(aicc_node *) aicc_node_vec;

struct aicc_graph {
  aicc_model *model;
  aicc_graph *parent; /* enclosing graph for subgraphs, else NULL */
  const char *name;
  aicc_node_vec nodes; /* topological order once aicc_graph_toposort ran */
  aicc_value_vec inputs, outputs, inits;
  aicc_hashmap names; /* name -> value defined in this graph */
};

typedef struct aicc_opset {
  const char *domain;
  int64_t version;
} aicc_opset;

struct aicc_model {
  aicc_arena arena;
  aicc_graph *graph; /* main graph */
  const char *path;  /* file it came from, for messages ("" if none) */
  int64_t ir_version;
  const char *producer_name, *producer_version, *domain, *doc;
  int64_t model_version;
  aicc_opset *opsets;
  int n_opsets;
  uint32_t n_values, n_nodes; /* id counters */
  AICC_VEC(aicc_graph *) graphs;   /* every graph, for teardown */
  AICC_VEC(aicc_tensor *) tensors; /* owned tensors (inits, attrs) */
};

/* --- construction (all memory from the model's arena) --- */
AICC_MUST_USE aicc_status aicc_model_create(const char *path, aicc_model **out);
void aicc_model_destroy(aicc_model *m);
/* Version of `domain` ("" = ai.onnx) imported by the model, 0 if none. */
int aicc_model_opset(const aicc_model *m, const char *domain);
AICC_MUST_USE aicc_status aicc_model_opset_set(aicc_model *m, const char *domain,
                                               int64_t version);

AICC_MUST_USE aicc_status aicc_graph_create(aicc_model *m, aicc_graph *parent,
                                            const char *name, aicc_graph **out);
/* New value defined in g (name must be new in g; "" gets a fresh name). */
AICC_MUST_USE aicc_status aicc_graph_value_add(aicc_graph *g, const char *name,
                                               const aicc_type *type,
                                               aicc_value **out);
/* v's initializer when it is a constant: NULL when v has none or is also a
 * graph input of its graph (then the initializer is only a default that a
 * caller may override at run time, as ONNX IR >= 4 allows). */
const aicc_tensor *aicc_value_const_init(const aicc_value *v);
/* Finds a value by name in g or its enclosing graphs, else NULL. */
aicc_value *aicc_graph_value_find(const aicc_graph *g, const char *name);
AICC_MUST_USE aicc_status aicc_graph_input_add(aicc_graph *g, aicc_value *v);
AICC_MUST_USE aicc_status aicc_graph_output_add(aicc_graph *g, aicc_value *v);
/* New initializer value holding t (takes the reference); type from t. */
AICC_MUST_USE aicc_status aicc_graph_init_add(aicc_graph *g, const char *name,
                                              aicc_tensor *t, aicc_value **out);
/* New node appended to g. Inputs may hold NULL (omitted optional); outputs
 * are existing values of g without a producer. Resolves the registry row
 * for (domain, op_type, model opset); an unknown op is an error naming it.
 * Attributes are set afterwards with aicc_node_attrs_alloc. */
AICC_MUST_USE aicc_status aicc_graph_node_add(aicc_graph *g, const char *name,
                                              const char *op_type,
                                              const char *domain,
                                              aicc_value *const *inputs, int n_in,
                                              aicc_value *const *outputs, int n_out,
                                              aicc_node **out);
/* Allocates n zeroed attributes on the node (replacing any). */
AICC_MUST_USE aicc_status aicc_node_attrs_alloc(aicc_node *n, int count);
/* Records a tensor as owned by the model (released at destroy). */
AICC_MUST_USE aicc_status aicc_model_own_tensor(aicc_model *m, aicc_tensor *t);

/* --- rewriting (for passes) ---
 * Passes edit in place: mark nodes dead, redirect uses, append new nodes,
 * then compact (and toposort if they appended out of order). Values are
 * never freed individually (they live in the arena). */
/* Redirects every use of `from` in g and its subgraphs (node inputs, graph
 * outputs) to `to`. Returns the number of uses changed. */
int aicc_graph_value_replace_uses(aicc_graph *g, const aicc_value *from, aicc_value *to);
/* Number of uses of v in g and its subgraphs (node inputs + graph outputs). */
int aicc_graph_value_use_count(const aicc_graph *g, const aicc_value *v);
/* Marks a node dead; its outputs lose their producer. */
void aicc_graph_node_remove(aicc_graph *g, aicc_node *n);
/* Drops dead nodes from g->nodes and initializers no node or output uses
 * (initializers that are graph inputs are kept). Recurses into subgraphs. */
void aicc_graph_compact(aicc_graph *g);
/* Adds or replaces an attribute on n (copies name and list payloads into
 * the model arena). */
AICC_MUST_USE aicc_status aicc_node_attr_set_int(aicc_node *n, const char *name, int64_t v);
AICC_MUST_USE aicc_status aicc_node_attr_set_float(aicc_node *n, const char *name, float v);
AICC_MUST_USE aicc_status aicc_node_attr_set_ints(aicc_node *n, const char *name,
                                                  const int64_t *v, int64_t len);
AICC_MUST_USE aicc_status aicc_node_attr_set_string(aicc_node *n, const char *name,
                                                    const char *v);
/* Copies every attribute of src onto dst (subgraphs and tensors shared). */
AICC_MUST_USE aicc_status aicc_node_attrs_copy(aicc_node *dst, const aicc_node *src);

/* Sorts g->nodes topologically (stable: keeps the given order where it is
 * already valid). A cycle is an error naming a node on it. Recurses into
 * subgraphs. */
AICC_MUST_USE aicc_status aicc_graph_toposort(aicc_graph *g);

/* --- attribute lookup (NULL / default when absent) --- */
const aicc_attr *aicc_node_attr(const aicc_node *n, const char *name);
int64_t aicc_node_attr_int(const aicc_node *n, const char *name, int64_t dflt);
float aicc_node_attr_float(const aicc_node *n, const char *name, float dflt);
/* Returns the list and its length in *len, or NULL (len 0) when absent. */
const int64_t *aicc_node_attr_ints(const aicc_node *n, const char *name, int64_t *len);
const float *aicc_node_attr_floats(const aicc_node *n, const char *name, int64_t *len);
/* NUL-terminated string value, or dflt. */
const char *aicc_node_attr_string(const aicc_node *n, const char *name, const char *dflt);
aicc_graph *aicc_node_attr_graph(const aicc_node *n, const char *name);
const aicc_tensor *aicc_node_attr_tensor(const aicc_node *n, const char *name);

/* "model.onnx: node 'conv_3' (Conv)" for error messages. */
const char *aicc_node_describe(const aicc_node *n, char *buf, size_t len);

/* --- checks and inference --- */
/* Verifies SSA (each value defined once, every use defined before it or in an
 * enclosing scope), node arity and attribute kinds against the registry,
 * and that recorded types agree with inference. */
AICC_MUST_USE aicc_status aicc_model_verify(const aicc_model *m);
/* Runs each op's shape/type inference over g (and subgraphs) in order,
 * filling value types (symbolic where inputs are). Values whose types were
 * declared keep them when inference knows less. */
AICC_MUST_USE aicc_status aicc_model_infer(aicc_model *m);

#endif
