/* Operator fusion as data: assigns node->group ids (printed `group=N`) to
 * chains that a later lowering emits as one kernel; it never rewrites the
 * graph and the interpreter ignores groups. Groups form inside one graph
 * (main or a subgraph body), never across a subgraph boundary, and never
 * include control flow or multi-output nodes.
 *
 * A group is grown producer to consumer in node order: a node joins the
 * group of the producer of one of its inputs when that producer's output is
 * read by this node only (not by another node, a subgraph or a graph
 * output). Then every member but the last has its one result consumed
 * inside the group, so a group is a tree with one result and can never be
 * part of a cycle through outside nodes. What may join:
 *   - elementwise ops (unary, binary with broadcast, activations, Cast,
 *     Clip, Where) join any group;
 *   - a reduction (ReduceX, Softmax, LayerNormalization, ...) or an anchor
 *     (Conv, MatMul, Gemm, and ai.aicc ConvBlocked / DepthwiseBlocked)
 *     starts a group and takes an elementwise epilogue of its own output
 *     shape (bias Add, activation, residual Add). */
#include "passes/pass.h"

#include <stdlib.h>
#include <string.h>

typedef enum fuse_kind { K_OTHER, K_ELEMWISE, K_REDUCE, K_ANCHOR } fuse_kind;

typedef struct fuse_row {
  const char *op;
  fuse_kind kind;
} fuse_row;

/* The layout pass's blocked convolutions (passes/layout.c): anchors like
 * Conv. fuse runs again after layout (compile/driver.c), so the blocked
 * conv, not the Conv it replaced, must take the epilogue. */
static const fuse_row fuse_aicc_ops[] = {
    {"ConvBlocked", K_ANCHOR},
    {"DepthwiseBlocked", K_ANCHOR},
};

static const fuse_row fuse_ops[] = {
    /* unary elementwise and activations */
    {"Abs", K_ELEMWISE}, {"Neg", K_ELEMWISE}, {"Exp", K_ELEMWISE}, {"Log", K_ELEMWISE},
    {"Sqrt", K_ELEMWISE}, {"Reciprocal", K_ELEMWISE}, {"Sigmoid", K_ELEMWISE},
    {"Tanh", K_ELEMWISE}, {"Relu", K_ELEMWISE}, {"LeakyRelu", K_ELEMWISE}, {"Elu", K_ELEMWISE},
    {"Selu", K_ELEMWISE}, {"Celu", K_ELEMWISE}, {"Gelu", K_ELEMWISE}, {"Erf", K_ELEMWISE},
    {"Softplus", K_ELEMWISE}, {"Softsign", K_ELEMWISE}, {"HardSigmoid", K_ELEMWISE},
    {"HardSwish", K_ELEMWISE}, {"Mish", K_ELEMWISE}, {"ThresholdedRelu", K_ELEMWISE},
    {"Floor", K_ELEMWISE}, {"Ceil", K_ELEMWISE}, {"Round", K_ELEMWISE}, {"Sign", K_ELEMWISE},
    {"Sin", K_ELEMWISE}, {"Cos", K_ELEMWISE}, {"Tan", K_ELEMWISE}, {"Not", K_ELEMWISE},
    {"IsNaN", K_ELEMWISE}, {"IsInf", K_ELEMWISE}, {"Cast", K_ELEMWISE}, {"Clip", K_ELEMWISE},
    {"BatchNormalization", K_ELEMWISE},
    /* binary / variadic elementwise (numpy broadcasting) */
    {"Add", K_ELEMWISE}, {"Sub", K_ELEMWISE}, {"Mul", K_ELEMWISE}, {"Div", K_ELEMWISE},
    {"Pow", K_ELEMWISE}, {"Mod", K_ELEMWISE}, {"Max", K_ELEMWISE}, {"Min", K_ELEMWISE},
    {"Sum", K_ELEMWISE}, {"Mean", K_ELEMWISE}, {"PRelu", K_ELEMWISE}, {"And", K_ELEMWISE},
    {"Or", K_ELEMWISE}, {"Xor", K_ELEMWISE}, {"Equal", K_ELEMWISE}, {"Less", K_ELEMWISE},
    {"Greater", K_ELEMWISE}, {"LessOrEqual", K_ELEMWISE}, {"GreaterOrEqual", K_ELEMWISE},
    {"BitShift", K_ELEMWISE}, {"Where", K_ELEMWISE},
    /* reductions (and normalizations built on one) */
    {"ReduceSum", K_REDUCE}, {"ReduceMean", K_REDUCE}, {"ReduceMax", K_REDUCE},
    {"ReduceMin", K_REDUCE}, {"ReduceProd", K_REDUCE}, {"ReduceL1", K_REDUCE},
    {"ReduceL2", K_REDUCE}, {"ReduceLogSum", K_REDUCE}, {"ReduceLogSumExp", K_REDUCE},
    {"ReduceSumSquare", K_REDUCE}, {"Softmax", K_REDUCE}, {"LogSoftmax", K_REDUCE},
    {"LayerNormalization", K_REDUCE}, {"GlobalAveragePool", K_REDUCE},
    {"GlobalMaxPool", K_REDUCE},
    /* contractions with an epilogue */
    {"Conv", K_ANCHOR}, {"MatMul", K_ANCHOR}, {"Gemm", K_ANCHOR},
};

static fuse_kind kind_of(const aicc_node *n) {
  const fuse_row *rows = fuse_ops;
  size_t n_rows = sizeof fuse_ops / sizeof fuse_ops[0];
  if (n->domain && *n->domain) {
    if (strcmp(n->domain, "ai.aicc") != 0) return K_OTHER;
    rows = fuse_aicc_ops;
    n_rows = sizeof fuse_aicc_ops / sizeof fuse_aicc_ops[0];
  }
  /* Multi-output nodes (LayerNormalization's mean, BN in training) and
   * nodes holding subgraphs stay out of groups. */
  int outs = 0;
  for (int k = 0; k < n->n_outputs; k++) outs += n->outputs[k] != NULL;
  if (outs != 1 || n->n_outputs != 1) return K_OTHER;
  for (int a = 0; a < n->n_attrs; a++)
    if (n->attrs[a].kind == AICC_ATTR_GRAPH || n->attrs[a].kind == AICC_ATTR_GRAPHS)
      return K_OTHER;
  for (size_t i = 0; i < n_rows; i++)
    if (strcmp(rows[i].op, n->op_type) == 0) return rows[i].kind;
  return K_OTHER;
}

static bool same_shape(const aicc_type *a, const aicc_type *b) {
  if (a->rank < 0 || a->rank != b->rank) return false;
  for (int i = 0; i < a->rank; i++)
    if (!aicc_dim_equal(a->dims[i], b->dims[i])) return false;
  return true;
}

/* Per graph: group of each node (by index in g->nodes), the kind that
 * started each group, and member counts. */
typedef struct fuse_state {
  int32_t *group;   /* by node index; -1: none */
  fuse_kind *head;  /* by group */
  int32_t *members; /* by group */
  int32_t n_groups;
} fuse_state;

/* Index of node n in g (nodes carry no index; a map by node id keeps this
 * linear: ids are unique in the model). */
static aicc_status fuse_graph(aicc_graph *g, int32_t *next_id, int32_t *index_of_id,
                              int64_t *changes);

static aicc_status fuse_subgraphs(aicc_node *n, int32_t *next_id, int32_t *index_of_id,
                                  int64_t *changes) {
  for (int a = 0; a < n->n_attrs; a++) {
    aicc_attr *at = &n->attrs[a];
    if (at->kind == AICC_ATTR_GRAPH && at->g)
      AICC_TRY(fuse_graph(at->g, next_id, index_of_id, changes));
    if (at->kind == AICC_ATTR_GRAPHS)
      for (int64_t j = 0; j < at->n; j++)
        if (at->gs[j]) AICC_TRY(fuse_graph(at->gs[j], next_id, index_of_id, changes));
  }
  return NULL;
}

static aicc_status fuse_graph(aicc_graph *g, int32_t *next_id, int32_t *index_of_id,
                              int64_t *changes) {
  size_t nn = g->nodes.len;
  fuse_state st = {0};
  st.group = malloc(sizeof *st.group * (nn ? nn : 1));
  st.head = malloc(sizeof *st.head * (nn ? nn : 1));
  st.members = calloc(nn ? nn : 1, sizeof *st.members);
  if (!st.group || !st.head || !st.members) {
    free(st.group);
    free(st.head);
    free(st.members);
    return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  }
  for (size_t i = 0; i < nn; i++) {
    st.group[i] = -1;
    index_of_id[g->nodes.data[i]->id] = (int32_t)i;
  }
  for (size_t i = 0; i < nn; i++) {
    aicc_node *n = g->nodes.data[i];
    if (n->dead) continue;
    fuse_kind k = kind_of(n);
    if (k == K_OTHER) continue;
    int32_t join = -1;
    if (k == K_ELEMWISE) {
      for (int j = 0; j < n->n_inputs && join < 0; j++) {
        const aicc_value *v = n->inputs[j];
        /* Producers in this graph only: an outer value is a subgraph
         * boundary. */
        if (!v || !v->producer || v->graph != g || v->producer->dead) continue;
        int32_t pi = index_of_id[v->producer->id];
        if (pi < 0 || (size_t)pi >= i || g->nodes.data[pi] != v->producer) continue;
        if (kind_of(v->producer) == K_OTHER) continue;
        /* Read by this node only (however many of its inputs). */
        int here = 0;
        for (int q = 0; q < n->n_inputs; q++) here += n->inputs[q] == v;
        if (aicc_graph_value_use_count(g, v) != here) continue;
        int32_t pg = st.group[pi];
        fuse_kind head = pg >= 0 ? st.head[pg] : kind_of(v->producer);
        /* An epilogue of a reduction or contraction keeps its shape (no
         * broadcast that would redo the reduction per output element). */
        if (head != K_ELEMWISE && !same_shape(&v->type, &n->outputs[0]->type)) continue;
        if (pg < 0) {
          pg = st.n_groups++;
          st.head[pg] = head;
          st.members[pg] = 1;
          st.group[pi] = pg;
        }
        join = pg;
      }
    }
    if (join >= 0) {
      st.group[i] = join;
      st.members[join]++;
    }
  }
  /* Ids in node order of each group's first member; singletons get none. */
  int32_t *id_of = malloc(sizeof *id_of * (st.n_groups ? (size_t)st.n_groups : 1));
  if (!id_of) {
    free(st.group);
    free(st.head);
    free(st.members);
    return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  }
  for (int32_t q = 0; q < st.n_groups; q++) id_of[q] = 0;
  aicc_status s = NULL;
  for (size_t i = 0; i < nn && !s; i++) {
    aicc_node *n = g->nodes.data[i];
    int32_t want = 0;
    int32_t q = st.group[i];
    if (q >= 0 && st.members[q] > 1) {
      if (!id_of[q]) id_of[q] = (*next_id)++;
      want = id_of[q];
    }
    if (n->dead) want = 0;
    if (n->group != want) {
      n->group = want;
      (*changes)++;
    }
    if (!n->dead) s = fuse_subgraphs(n, next_id, index_of_id, changes);
  }
  free(id_of);
  free(st.group);
  free(st.head);
  free(st.members);
  return s;
}

static aicc_status fuse_run(aicc_model *m, aicc_pass_ctx *ctx) {
  int32_t *index_of_id = malloc(sizeof *index_of_id * (m->n_nodes ? m->n_nodes : 1));
  if (!index_of_id) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  for (uint32_t i = 0; i < m->n_nodes; i++) index_of_id[i] = -1;
  int32_t next_id = 1;
  int64_t changes = 0;
  aicc_status s = fuse_graph(m->graph, &next_id, index_of_id, &changes);
  free(index_of_id);
  ctx->changes += changes;
  return s;
}

const aicc_pass aicc_pass_fuse = {"fuse", "group elementwise chains, reductions and "
                                  "Conv/MatMul/Gemm with their epilogues (node->group)",
                                  fuse_run};
