/* Common subexpression elimination: a live node with the same op, domain,
 * opset, inputs (same values, same order: commutativity is not assumed) and
 * attributes as an earlier one in the same graph is dropped and its outputs
 * are replaced by the earlier node's; identical initializers (dtype, shape,
 * bytes) are merged likewise. Per graph scope, one pass in topological order
 * with a hash table on a node signature (value numbering, Click 1995 "Global
 * code motion / global value numbering", §2, restricted to one block): O(n)
 * in nodes plus the bytes of the tensors it hashes. Never merges random ops,
 * nodes carrying subgraphs (their bodies are optimised in their own scope),
 * ops the registry does not know, or nodes whose results name the model's
 * outputs (merging would rename the model's interface). */
#include "passes/pass.h"

#include <stdlib.h>
#include <string.h>

/* --- hashing (64-bit multiply-xorshift mixing; not cryptographic) --- */

static uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  h *= 0xff51afd7ed558ccdull;
  return h ^ (h >> 33);
}

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, b + i, 8);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  for (; i < n; i++) tail = (tail << 8) | b[i];
  return mix(h, tail ^ n);
}

static uint64_t hash_str(uint64_t h, const char *s) { return hash_bytes(h, s, s ? strlen(s) : 0); }

/* --- tensors, attributes --- */

/* Dense tensors only: sequences and optionals never compare equal (they do
 * not occur as initializers or attribute payloads in practice). */
static bool tensor_comparable(const aicc_tensor *t) { return t && t->kind == AICC_KIND_TENSOR; }

static uint64_t tensor_hash(const aicc_tensor *t) {
  uint64_t h = mix((uint64_t)t->dtype, (uint64_t)t->rank);
  for (int d = 0; d < t->rank; d++) h = mix(h, (uint64_t)t->dims[d]);
  if (t->dtype == AICC_DTYPE_STRING) {
    int64_t n = aicc_tensor_numel(t);
    const char *const *s = t->data;
    for (int64_t i = 0; i < n; i++) h = hash_bytes(h, s[i], t->strlens[i]);
    return h;
  }
  return t->nbytes ? hash_bytes(h, t->data, t->nbytes) : h;
}

static bool tensor_equal(const aicc_tensor *a, const aicc_tensor *b) {
  if (a == b) return true;
  if (!tensor_comparable(a) || !tensor_comparable(b)) return false;
  if (a->dtype != b->dtype || a->rank != b->rank || a->nbytes != b->nbytes) return false;
  for (int d = 0; d < a->rank; d++)
    if (a->dims[d] != b->dims[d]) return false;
  if (a->dtype == AICC_DTYPE_STRING) {
    int64_t n = aicc_tensor_numel(a);
    const char *const *sa = a->data, *const *sb = b->data;
    for (int64_t i = 0; i < n; i++)
      if (a->strlens[i] != b->strlens[i] || memcmp(sa[i], sb[i], a->strlens[i]) != 0) return false;
    return true;
  }
  return a->nbytes == 0 || memcmp(a->data, b->data, a->nbytes) == 0;
}

static bool bytes_equal(aicc_bytes a, aicc_bytes b) {
  return a.len == b.len && (a.len == 0 || memcmp(a.s, b.s, a.len) == 0);
}

/* Attribute kinds whose payloads this pass compares. Graphs are left out on
 * purpose (nodes with subgraphs are never merged); sparse tensors and
 * undefined attributes are not compared, so their nodes stay too. */
static bool attr_comparable(const aicc_attr *a) {
  switch (a->kind) {
  case AICC_ATTR_FLOAT: case AICC_ATTR_INT: case AICC_ATTR_STRING: case AICC_ATTR_FLOATS:
  case AICC_ATTR_INTS: case AICC_ATTR_STRINGS: case AICC_ATTR_TYPE_PROTO:
  case AICC_ATTR_TYPE_PROTOS:
    return true;
  case AICC_ATTR_TENSOR: return tensor_comparable(a->t);
  case AICC_ATTR_TENSORS:
    for (int64_t i = 0; i < a->n; i++)
      if (!tensor_comparable(a->ts[i])) return false;
    return true;
  default: return false;
  }
}

static uint64_t attr_hash(const aicc_attr *a) {
  uint64_t h = mix(hash_str(0, a->name), (uint64_t)a->kind);
  switch (a->kind) {
  case AICC_ATTR_FLOAT: return hash_bytes(h, &a->f, sizeof a->f); /* bits: NaN == NaN, -0 != 0 */
  case AICC_ATTR_INT: return mix(h, (uint64_t)a->i);
  case AICC_ATTR_STRING: return hash_bytes(h, a->s.s, a->s.len);
  case AICC_ATTR_TENSOR: return mix(h, tensor_hash(a->t));
  case AICC_ATTR_FLOATS: return hash_bytes(h, a->fs, (size_t)a->n * sizeof *a->fs);
  case AICC_ATTR_INTS: return hash_bytes(h, a->is, (size_t)a->n * sizeof *a->is);
  case AICC_ATTR_STRINGS:
    for (int64_t i = 0; i < a->n; i++) h = hash_bytes(h, a->ss[i].s, a->ss[i].len);
    return h;
  case AICC_ATTR_TENSORS:
    for (int64_t i = 0; i < a->n; i++) h = mix(h, tensor_hash(a->ts[i]));
    return h;
  default: return mix(h, (uint64_t)a->n); /* type protos: equality decides */
  }
}

static bool attr_equal(const aicc_attr *a, const aicc_attr *b) {
  if (a->kind != b->kind || strcmp(a->name, b->name) != 0) return false;
  switch (a->kind) {
  case AICC_ATTR_FLOAT: return memcmp(&a->f, &b->f, sizeof a->f) == 0;
  case AICC_ATTR_INT: return a->i == b->i;
  case AICC_ATTR_STRING: return bytes_equal(a->s, b->s);
  case AICC_ATTR_TENSOR: return tensor_equal(a->t, b->t);
  case AICC_ATTR_TYPE_PROTO: return aicc_type_equal(&a->tp, &b->tp);
  default: break;
  }
  if (a->n != b->n) return false;
  for (int64_t i = 0; i < a->n; i++) {
    bool eq = true;
    switch (a->kind) {
    case AICC_ATTR_FLOATS: eq = memcmp(&a->fs[i], &b->fs[i], sizeof *a->fs) == 0; break;
    case AICC_ATTR_INTS: eq = a->is[i] == b->is[i]; break;
    case AICC_ATTR_STRINGS: eq = bytes_equal(a->ss[i], b->ss[i]); break;
    case AICC_ATTR_TENSORS: eq = tensor_equal(a->ts[i], b->ts[i]); break;
    case AICC_ATTR_TYPE_PROTOS: eq = aicc_type_equal(&a->tps[i], &b->tps[i]); break;
    default: eq = false;
    }
    if (!eq) return false;
  }
  return true;
}

/* --- which nodes may merge --- */

/* Ops whose every run draws new random numbers: two calls are two samples. */
static const char *const random_ops[] = {"RandomNormal", "RandomUniform", "RandomNormalLike",
                                         "RandomUniformLike", "Bernoulli", "Multinomial"};

/* Dropout is deterministic in inference mode only: when training_mode (input
 * 2; before opset 7, is_test=0) is given and not a constant false, it samples
 * a mask. */
static bool dropout_random(const aicc_node *n) {
  if (n->opset < 7) return aicc_node_attr_int(n, "is_test", 0) == 0; /* old form: is_test */
  if (n->n_inputs < 3 || !n->inputs[2]) return false;
  const aicc_tensor *t = n->inputs[2]->init;
  if (!t || t->kind != AICC_KIND_TENSOR || aicc_tensor_numel(t) != 1) return true;
  return aicc_tensor_get_i64(t, 0) != 0;
}

static bool node_mergeable(const aicc_node *n, const bool *is_main_output) {
  if (n->dead || !n->op || n->n_outputs == 0) return false;
  if (!n->domain[0] || strcmp(n->domain, "ai.onnx") == 0) {
    for (size_t i = 0; i < sizeof random_ops / sizeof random_ops[0]; i++)
      if (strcmp(n->op_type, random_ops[i]) == 0) return false;
    if (strcmp(n->op_type, "Dropout") == 0 && dropout_random(n)) return false;
  }
  for (int a = 0; a < n->n_attrs; a++)
    if (!attr_comparable(&n->attrs[a])) return false;
  for (int k = 0; k < n->n_outputs; k++)
    if (is_main_output[n->outputs[k]->id]) return false;
  return true;
}

static uint64_t node_hash(const aicc_node *n) {
  uint64_t h = hash_str(hash_str(0, n->op_type), n->domain);
  h = mix(h, (uint64_t)n->opset);
  h = mix(h, ((uint64_t)n->n_inputs << 32) | (uint32_t)n->n_outputs);
  for (int k = 0; k < n->n_inputs; k++) h = mix(h, n->inputs[k] ? n->inputs[k]->id + 1ull : 0);
  uint64_t ah = 0; /* attribute order does not matter: combine commutatively */
  for (int a = 0; a < n->n_attrs; a++) ah += attr_hash(&n->attrs[a]);
  return mix(h, ah);
}

static const aicc_attr *attr_named(const aicc_node *n, const char *name) {
  for (int a = 0; a < n->n_attrs; a++)
    if (strcmp(n->attrs[a].name, name) == 0) return &n->attrs[a];
  return NULL;
}

static bool node_equal(const aicc_node *a, const aicc_node *b) {
  if (strcmp(a->op_type, b->op_type) != 0 || strcmp(a->domain, b->domain) != 0 ||
      a->opset != b->opset || a->n_inputs != b->n_inputs || a->n_outputs != b->n_outputs ||
      a->n_attrs != b->n_attrs)
    return false;
  for (int k = 0; k < a->n_inputs; k++)
    if (a->inputs[k] != b->inputs[k]) return false;
  for (int i = 0; i < a->n_attrs; i++) {
    const aicc_attr *o = attr_named(b, a->attrs[i].name);
    if (!o || !attr_equal(&a->attrs[i], o)) return false;
  }
  /* Recorded result types must agree, so no use sees its value's type change. */
  for (int k = 0; k < a->n_outputs; k++)
    if (!aicc_type_equal(&a->outputs[k]->type, &b->outputs[k]->type)) return false;
  return true;
}

/* --- the table: open addressing on the signature hash --- */

typedef struct slot {
  uint64_t hash;
  const void *item; /* aicc_node* or aicc_value* (initializer) */
} slot;

typedef struct table {
  slot *slots;
  size_t cap;
} table;

static aicc_status table_init(table *t, size_t items) {
  t->cap = 16;
  while (t->cap < items * 2) t->cap *= 2;
  t->slots = calloc(t->cap, sizeof *t->slots);
  return t->slots ? NULL : aicc_errorf(AICC_ERR_NOMEM, "out of memory");
}

/* Returns the first item equal to `item`, or inserts it and returns NULL. The
 * table is sized for every item, so it never fills. */
static const void *table_find_or_add(table *t, uint64_t hash, const void *item,
                                     bool (*eq)(const void *, const void *)) {
  for (size_t i = (size_t)hash & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
    slot *s = &t->slots[i];
    if (!s->item) {
      *s = (slot){hash, item};
      return NULL;
    }
    if (s->hash == hash && eq(s->item, item)) return s->item;
  }
}

static bool node_eq_cb(const void *a, const void *b) { return node_equal(a, b); }

static bool init_eq_cb(const void *a, const void *b) {
  const aicc_value *va = a, *vb = b;
  return tensor_equal(va->init, vb->init) && aicc_type_equal(&va->type, &vb->type);
}

/* --- the walk --- */

typedef struct cse {
  aicc_value **repl;    /* by value id: the value that replaces it, or NULL */
  bool *is_main_output; /* by value id */
  bool *is_input;       /* by value id: inputs of any graph (never replaced) */
  int64_t changes;
} cse;

static aicc_value *resolve(const cse *c, aicc_value *v) {
  while (v && c->repl[v->id]) v = c->repl[v->id];
  return v;
}

/* Initializers that are also graph inputs can be overridden by the caller,
 * so their contents are not fixed: those stay. */
static aicc_status merge_inits(cse *c, aicc_graph *g) {
  if (g->inits.len < 2) return NULL;
  table t;
  AICC_TRY(table_init(&t, g->inits.len));
  for (size_t i = 0; i < g->inits.len; i++) {
    aicc_value *v = g->inits.data[i];
    if (!tensor_comparable(v->init) || c->is_input[v->id] || c->is_main_output[v->id]) continue;
    const aicc_value *first = table_find_or_add(&t, tensor_hash(v->init), v, init_eq_cb);
    if (first) {
      c->repl[v->id] = (aicc_value *)first;
      c->changes++;
    }
  }
  free(t.slots);
  return NULL;
}

static aicc_status cse_graph(cse *c, aicc_graph *g);

static aicc_status cse_subgraphs(cse *c, aicc_node *n) {
  for (int a = 0; a < n->n_attrs; a++) {
    if (n->attrs[a].kind == AICC_ATTR_GRAPH) AICC_TRY(cse_graph(c, n->attrs[a].g));
    if (n->attrs[a].kind == AICC_ATTR_GRAPHS)
      for (int64_t j = 0; j < n->attrs[a].n; j++) AICC_TRY(cse_graph(c, n->attrs[a].gs[j]));
  }
  return NULL;
}

static aicc_status cse_graph(cse *c, aicc_graph *g) {
  for (size_t i = 0; i < g->inputs.len; i++) c->is_input[g->inputs.data[i]->id] = true;
  AICC_TRY(merge_inits(c, g));
  table t;
  AICC_TRY(table_init(&t, g->nodes.len));
  aicc_status s = NULL;
  for (size_t i = 0; i < g->nodes.len && !s; i++) {
    aicc_node *n = g->nodes.data[i];
    if (n->dead) continue;
    /* Inputs first (earlier merges, here or in enclosing graphs), then the
     * bodies, which may use values of this graph that merged. */
    for (int k = 0; k < n->n_inputs; k++) n->inputs[k] = resolve(c, n->inputs[k]);
    if ((s = cse_subgraphs(c, n))) break;
    if (!node_mergeable(n, c->is_main_output)) continue;
    const aicc_node *first = table_find_or_add(&t, node_hash(n), n, node_eq_cb);
    if (!first) continue;
    for (int k = 0; k < n->n_outputs; k++) c->repl[n->outputs[k]->id] = first->outputs[k];
    aicc_graph_node_remove(g, n);
    c->changes++;
  }
  free(t.slots);
  if (s) return s;
  for (size_t o = 0; o < g->outputs.len; o++) g->outputs.data[o] = resolve(c, g->outputs.data[o]);
  return NULL;
}

static aicc_status cse_run(aicc_model *m, aicc_pass_ctx *ctx) {
  size_t nv = m->n_values ? m->n_values : 1;
  cse c = {calloc(nv, sizeof *c.repl), calloc(nv, sizeof *c.is_main_output),
           calloc(nv, sizeof *c.is_input), 0};
  aicc_status s = NULL;
  if (!c.repl || !c.is_main_output || !c.is_input) s = aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  for (size_t o = 0; !s && o < m->graph->outputs.len; o++)
    c.is_main_output[m->graph->outputs.data[o]->id] = true;
  if (!s) s = cse_graph(&c, m->graph);
  ctx->changes += c.changes;
  free(c.repl);
  free(c.is_main_output);
  free(c.is_input);
  return s;
}

const aicc_pass aicc_pass_cse = {"cse", "merge identical nodes and identical initializers",
                                 cse_run};
