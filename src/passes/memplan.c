/* Memory planning: lifetimes of the main graph's intermediate tensors over
 * its node order, in-place reuse where an op allows it, and offsets in one
 * arena by greedy by size (Pisarchyk & Lee 2020, "Efficient Memory
 * Management for Deep Neural Net Inference", §4.3). The plan is data
 * (memplan.h); the pass only computes and checks it, never rewrites. */
#include "passes/memplan.h"

#include <stdio.h>

#include "ir/text.h"
#include "passes/pass.h"

#include <stdlib.h>
#include <string.h>

/* Ops whose output may be written over one of their inputs when that input
 * dies at the node: each output element depends only on the input element
 * at the same index (elementwise), or the bytes are the input's own
 * (reshapes). `inputs` is a bit mask of the inputs that may be reused; a
 * candidate must also have the output's shape and at least its byte size. */
typedef struct inplace_row {
  const char *op;
  unsigned inputs;
} inplace_row;

static const inplace_row inplace_ops[] = {
    /* unary elementwise and activations */
    {"Abs", 1}, {"Neg", 1}, {"Exp", 1}, {"Log", 1}, {"Sqrt", 1}, {"Reciprocal", 1},
    {"Sigmoid", 1}, {"Tanh", 1}, {"Relu", 1}, {"LeakyRelu", 1}, {"Elu", 1}, {"Selu", 1},
    {"Celu", 1}, {"Gelu", 1}, {"Erf", 1}, {"Softplus", 1}, {"Softsign", 1},
    {"HardSigmoid", 1}, {"HardSwish", 1}, {"Mish", 1}, {"ThresholdedRelu", 1},
    {"Floor", 1}, {"Ceil", 1}, {"Round", 1}, {"Sign", 1}, {"Sin", 1}, {"Cos", 1},
    {"Tan", 1}, {"Not", 1}, {"Clip", 1}, {"Cast", 1}, {"Identity", 1},
    {"BatchNormalization", 1},
    /* same-shape binary elementwise (either side) */
    {"Add", 3}, {"Sub", 3}, {"Mul", 3}, {"Div", 3}, {"Pow", 1}, {"Max", 3}, {"Min", 3},
    {"Sum", 3}, {"Mean", 3}, {"PRelu", 1}, {"And", 3}, {"Or", 3}, {"Xor", 3},
    {"Where", 6},
    /* the output is the input's bytes under another shape */
    {"Reshape", 1}, {"Flatten", 1}, {"Squeeze", 1}, {"Unsqueeze", 1},
};

static unsigned inplace_inputs(const aicc_node *n) {
  if (n->domain && *n->domain) return 0;
  if (n->n_outputs != 1) return 0;
  for (size_t i = 0; i < sizeof inplace_ops / sizeof inplace_ops[0]; i++)
    if (strcmp(inplace_ops[i].op, n->op_type) == 0) return inplace_ops[i].inputs;
  return 0;
}

static bool is_reshape_like(const char *op) {
  return !strcmp(op, "Reshape") || !strcmp(op, "Flatten") || !strcmp(op, "Squeeze") ||
         !strcmp(op, "Unsqueeze");
}

static int64_t align_up(int64_t x) {
  return (x + AICC_MEMPLAN_ALIGN - 1) / AICC_MEMPLAN_ALIGN * AICC_MEMPLAN_ALIGN;
}

/* Bytes of a statically typed dense tensor, or -1 when unknown (dynamic
 * dims, sequences, optionals, strings: those need their own buffers). */
static int64_t static_bytes(const aicc_type *t) {
  if (t->kind != AICC_KIND_TENSOR || !aicc_type_is_static(t)) return -1;
  if (t->dtype == AICC_DTYPE_STRING) return -1;
  int64_t n = 1;
  for (int i = 0; i < t->rank; i++) {
    if (t->dims[i].size > 0 && n > INT64_MAX / 8 / t->dims[i].size) return -1;
    n *= t->dims[i].size;
  }
  return (int64_t)aicc_dtype_storage_bytes(t->dtype, (size_t)n);
}

static bool same_dims(const aicc_type *a, const aicc_type *b) {
  if (a->rank != b->rank) return false;
  for (int i = 0; i < a->rank; i++)
    if (!aicc_dim_equal(a->dims[i], b->dims[i])) return false;
  return true;
}

/* Raises last[] of every value n (and its subgraphs, at any depth) uses to
 * step s: a value read inside a body must live until the holding node ends. */
static void mark_uses(const aicc_node *n, int32_t s, int32_t *last) {
  for (int k = 0; k < n->n_inputs; k++)
    if (n->inputs[k] && last[n->inputs[k]->id] < s) last[n->inputs[k]->id] = s;
  for (int a = 0; a < n->n_attrs; a++) {
    const aicc_attr *at = &n->attrs[a];
    int64_t ng = at->kind == AICC_ATTR_GRAPH ? 1 : at->kind == AICC_ATTR_GRAPHS ? at->n : 0;
    for (int64_t j = 0; j < ng; j++) {
      const aicc_graph *sg = at->kind == AICC_ATTR_GRAPH ? at->g : at->gs[j];
      if (!sg) continue;
      for (size_t i = 0; i < sg->nodes.len; i++)
        if (!sg->nodes.data[i]->dead) mark_uses(sg->nodes.data[i], s, last);
      for (size_t o = 0; o < sg->outputs.len; o++)
        if (sg->outputs.data[o] && last[sg->outputs.data[o]->id] < s)
          last[sg->outputs.data[o]->id] = s;
    }
  }
}

void aicc_memplan_fini(aicc_memplan *p) {
  free(p->bufs);
  free(p->unplanned);
  memset(p, 0, sizeof *p);
}

/* --- greedy by size --- */

/* Sort keys carry what they compare, so the comparators need no context
 * (qsort has no argument for it, and the plan must be reentrant). */
typedef struct size_key {
  int64_t size;
  int32_t first, idx;
} size_key;

typedef struct off_key {
  int64_t offset, end;
  int32_t idx;
} off_key;

/* Larger first; ties by earlier start, then by index (deterministic). */
static int by_size_desc(const void *a, const void *b) {
  const size_key *x = a, *y = b;
  if (x->size != y->size) return x->size > y->size ? -1 : 1;
  if (x->first != y->first) return x->first < y->first ? -1 : 1;
  return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int by_offset(const void *a, const void *b) {
  const off_key *x = a, *y = b;
  if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
  return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static bool lifetimes_overlap(const aicc_memplan_buf *a, const aicc_memplan_buf *b) {
  return a->first <= b->last && b->first <= a->last;
}

aicc_status aicc_memplan_assign(aicc_memplan_buf *bufs, int32_t n, int64_t *arena_bytes) {
  *arena_bytes = 0;
  if (n <= 0) return NULL;
  size_key *order = malloc(sizeof *order * (size_t)n);
  int32_t *placed = malloc(sizeof *placed * (size_t)n);
  off_key *near = malloc(sizeof *near * (size_t)n);
  if (!order || !placed || !near) {
    free(order);
    free(placed);
    free(near);
    return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  }
  for (int32_t i = 0; i < n; i++) order[i] = (size_key){bufs[i].size, bufs[i].first, i};
  qsort(order, (size_t)n, sizeof *order, by_size_desc);
  int32_t n_placed = 0;
  int64_t arena = 0;
  for (int32_t k = 0; k < n; k++) {
    aicc_memplan_buf *b = &bufs[order[k].idx];
    int32_t n_near = 0;
    for (int32_t j = 0; j < n_placed; j++) {
      const aicc_memplan_buf *x = &bufs[placed[j]];
      if (lifetimes_overlap(b, x)) near[n_near++] = (off_key){x->offset, x->offset + x->size,
                                                              placed[j]};
    }
    qsort(near, (size_t)n_near, sizeof *near, by_offset);
    /* Best fit among the gaps between the overlapping buffers (by offset);
     * above all of them when none fits. */
    int64_t prev_end = 0, best = -1, best_gap = INT64_MAX;
    for (int32_t j = 0; j < n_near; j++) {
      int64_t gap = near[j].offset - prev_end;
      if (gap >= b->size && gap < best_gap) {
        best_gap = gap;
        best = prev_end;
      }
      if (near[j].end > prev_end) prev_end = near[j].end;
    }
    b->offset = best >= 0 ? best : prev_end;
    if (b->offset + b->size > arena) arena = b->offset + b->size;
    placed[n_placed++] = order[k].idx;
  }
  free(order);
  free(placed);
  free(near);
  *arena_bytes = arena;
  return NULL;
}

/* Max over steps of the bytes live at the step (difference array). */
static int64_t peak_live(const aicc_memplan_buf *b, int32_t n, int32_t steps, int64_t *delta) {
  memset(delta, 0, sizeof *delta * (size_t)(steps + 1));
  for (int32_t i = 0; i < n; i++) {
    delta[b[i].first] += b[i].size;
    delta[b[i].last + 1] -= b[i].size;
  }
  int64_t live = 0, peak = 0;
  for (int32_t s = 0; s < steps; s++) {
    live += delta[s];
    if (live > peak) peak = live;
  }
  return peak;
}

static int32_t root_of(const aicc_memplan_buf *b, int32_t i) {
  while (b[i].inplace_of >= 0) i = b[i].inplace_of;
  return i;
}

typedef struct plan_tmp {
  int32_t *first, *last; /* by value id */
  int32_t *buf_of;       /* value id -> buffer index, -1 */
  bool *is_out;          /* value id -> is a main-graph output */
  aicc_memplan_buf *groups;
  int32_t *group_of; /* buffer -> group */
  int64_t *delta;
} plan_tmp;

static void plan_tmp_free(plan_tmp *t) {
  free(t->first);
  free(t->last);
  free(t->buf_of);
  free(t->is_out);
  free(t->groups);
  free(t->group_of);
  free(t->delta);
}

static aicc_status plan(const aicc_model *m, aicc_memplan *p, plan_tmp *t) {
  const aicc_graph *g = m->graph;
  size_t nv = m->n_values ? m->n_values : 1;
  t->first = malloc(sizeof *t->first * nv);
  t->last = malloc(sizeof *t->last * nv);
  t->buf_of = malloc(sizeof *t->buf_of * nv);
  t->is_out = calloc(nv, sizeof *t->is_out);
  if (!t->first || !t->last || !t->buf_of || !t->is_out)
    return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < nv; i++) t->first[i] = t->last[i] = t->buf_of[i] = -1;
  for (size_t o = 0; o < g->outputs.len; o++)
    if (g->outputs.data[o]) t->is_out[g->outputs.data[o]->id] = true;

  /* Steps: live nodes in order. Lifetimes start at the producer's step. */
  int32_t steps = 0;
  size_t n_outs = 0;
  for (size_t i = 0; i < g->nodes.len; i++) {
    const aicc_node *n = g->nodes.data[i];
    if (n->dead) continue;
    for (int k = 0; k < n->n_inputs; k++) {
      const aicc_value *v = n->inputs[k];
      if (v && v->producer && v->graph == g && t->first[v->id] < 0) {
        char buf[160];
        return aicc_errorf(AICC_ERR_INVALID,
                           "memplan: %s uses %%%s before it is defined (run toposort)",
                           aicc_node_describe(n, buf, sizeof buf), v->name);
      }
    }
    for (int k = 0; k < n->n_outputs; k++)
      if (n->outputs[k]) t->first[n->outputs[k]->id] = steps;
    n_outs += (size_t)n->n_outputs;
    mark_uses(n, steps, t->last);
    steps++;
  }
  p->n_steps = steps;
  p->bufs = calloc(n_outs ? n_outs : 1, sizeof *p->bufs);
  p->unplanned = calloc(n_outs ? n_outs : 1, sizeof *p->unplanned);
  if (!p->bufs || !p->unplanned) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");

  /* Buffers in order of definition; in-place reuse decided as we go. */
  int32_t step = 0;
  for (size_t i = 0; i < g->nodes.len; i++) {
    const aicc_node *n = g->nodes.data[i];
    if (n->dead) continue;
    unsigned ip = inplace_inputs(n);
    for (int k = 0; k < n->n_outputs; k++) {
      const aicc_value *v = n->outputs[k];
      if (!v || t->is_out[v->id]) continue;
      int64_t bytes = static_bytes(&v->type);
      if (bytes < 0) {
        p->unplanned[p->n_unplanned++] = v->id;
        continue;
      }
      aicc_memplan_buf *b = &p->bufs[p->n_bufs];
      b->value_id = v->id;
      b->first = step;
      b->last = t->last[v->id] > step ? t->last[v->id] : step;
      b->size = align_up(bytes);
      b->inplace_of = -1;
      p->naive_bytes += b->size;
      for (int j = 0; j < n->n_inputs && ip && b->inplace_of < 0; j++) {
        const aicc_value *in = n->inputs[j];
        if (!(ip & (1u << j)) || !in || t->buf_of[in->id] < 0) continue;
        int32_t src = t->buf_of[in->id];
        if (p->bufs[src].last != step) continue; /* still needed later */
        /* Not reused already by another output of this node (only buffers
         * defined at this step can reuse one whose life ends here). */
        bool taken = false;
        for (int32_t q = p->n_bufs - 1; q >= 0 && p->bufs[q].first == step; q--)
          if (p->bufs[q].inplace_of == src) taken = true;
        if (taken) continue;
        if (!is_reshape_like(n->op_type) && !same_dims(&in->type, &v->type)) continue;
        if (bytes > p->bufs[root_of(p->bufs, src)].size) continue;
        b->inplace_of = src;
      }
      if (b->inplace_of >= 0) p->n_inplace++;
      t->buf_of[v->id] = p->n_bufs++;
    }
    step++;
  }

  /* One group per in-place chain: the union of the lifetimes, the largest
   * size; groups are what the arena holds. */
  t->groups = calloc((size_t)p->n_bufs + 1, sizeof *t->groups);
  t->group_of = malloc(sizeof *t->group_of * ((size_t)p->n_bufs + 1));
  t->delta = malloc(sizeof *t->delta * ((size_t)steps + 2));
  if (!t->groups || !t->group_of || !t->delta) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  int32_t n_groups = 0;
  for (int32_t i = 0; i < p->n_bufs; i++) {
    const aicc_memplan_buf *b = &p->bufs[i];
    if (b->inplace_of < 0) {
      t->group_of[i] = n_groups;
      t->groups[n_groups++] = (aicc_memplan_buf){b->value_id, b->first, b->last, b->size, 0, -1};
      continue;
    }
    aicc_memplan_buf *gr = &t->groups[t->group_of[i] = t->group_of[b->inplace_of]];
    if (b->last > gr->last) gr->last = b->last;
    if (b->size > gr->size) gr->size = b->size;
  }
  AICC_TRY(aicc_memplan_assign(t->groups, n_groups, &p->arena_bytes));
  for (int32_t i = 0; i < p->n_bufs; i++) p->bufs[i].offset = t->groups[t->group_of[i]].offset;
  p->lower_bound = peak_live(t->groups, n_groups, steps, t->delta);
  p->lower_bound_no_inplace = peak_live(p->bufs, p->n_bufs, steps, t->delta);
  return aicc_memplan_check(p);
}

aicc_status aicc_memplan_compute(const aicc_model *m, aicc_memplan *out) {
  memset(out, 0, sizeof *out);
  plan_tmp t;
  memset(&t, 0, sizeof t);
  aicc_status s = plan(m, out, &t);
  plan_tmp_free(&t);
  if (s) aicc_memplan_fini(out);
  return s;
}

aicc_status aicc_memplan_check(const aicc_memplan *p) {
  for (int32_t i = 0; i < p->n_bufs; i++) {
    const aicc_memplan_buf *a = &p->bufs[i];
    if (a->offset < 0 || a->offset % AICC_MEMPLAN_ALIGN || a->offset + a->size > p->arena_bytes)
      return aicc_errorf(AICC_ERR_INTERNAL, "memplan: buffer of value %u at %lld+%lld is outside "
                         "the %lld-byte arena or unaligned", a->value_id, (long long)a->offset,
                         (long long)a->size, (long long)p->arena_bytes);
    for (int32_t j = i + 1; j < p->n_bufs; j++) {
      const aicc_memplan_buf *b = &p->bufs[j];
      if (!lifetimes_overlap(a, b)) continue;
      if (a->offset >= b->offset + b->size || b->offset >= a->offset + a->size) continue;
      if (root_of(p->bufs, i) == root_of(p->bufs, j)) continue; /* in-place chain */
      return aicc_errorf(AICC_ERR_INTERNAL,
                         "memplan: values %u [%d,%d] and %u [%d,%d] are live together but "
                         "share memory (%lld+%lld, %lld+%lld)",
                         a->value_id, a->first, a->last, b->value_id, b->first, b->last,
                         (long long)a->offset, (long long)a->size, (long long)b->offset,
                         (long long)b->size);
    }
  }
  return NULL;
}

static const aicc_value *value_by_id(const aicc_graph *g, uint32_t id) {
  for (size_t i = 0; i < g->nodes.len; i++) {
    const aicc_node *n = g->nodes.data[i];
    for (int k = 0; k < n->n_outputs; k++)
      if (n->outputs[k] && n->outputs[k]->id == id) return n->outputs[k];
  }
  return NULL;
}

void aicc_memplan_print(const aicc_memplan *p, const aicc_model *m, FILE *f) {
  fprintf(f, "%-32s %10s %12s %10s %s\n", "value", "offset", "bytes", "lifetime", "in place of");
  for (int32_t i = 0; i < p->n_bufs; i++) {
    const aicc_memplan_buf *b = &p->bufs[i];
    const aicc_value *v = m ? value_by_id(m->graph, b->value_id) : NULL;
    char life[32];
    snprintf(life, sizeof life, "[%d,%d]", b->first, b->last);
    fprintf(f, "%%%-31s %10lld %12lld %10s", v ? v->name : "?", (long long)b->offset,
            (long long)b->size, life);
    if (b->inplace_of >= 0) {
      const aicc_value *w = m ? value_by_id(m->graph, p->bufs[b->inplace_of].value_id) : NULL;
      fprintf(f, " %%%s", w ? w->name : "?");
    }
    fputc('\n', f);
  }
  for (int32_t i = 0; i < p->n_unplanned; i++) {
    const aicc_value *v = m ? value_by_id(m->graph, p->unplanned[i]) : NULL;
    fprintf(f, "%%%-31s %10s (size unknown: own buffer)\n", v ? v->name : "?", "-");
  }
  fprintf(f, "arena %lld bytes (naive %lld, lower bound %lld, %lld without in-place); "
             "%d buffers, %d in place, %d unplanned, %d steps\n",
          (long long)p->arena_bytes, (long long)p->naive_bytes, (long long)p->lower_bound,
          (long long)p->lower_bound_no_inplace, p->n_bufs, p->n_inplace, p->n_unplanned,
          p->n_steps);
}

/* The pass: plans and checks; the model is unchanged (changes stays 0). The
 * plan itself is recomputed by whoever needs it (aicc_memplan_compute);
 * the pass manager has no place to keep it yet. */
static aicc_status memplan_run(aicc_model *m, aicc_pass_ctx *ctx) {
  aicc_memplan p;
  AICC_TRY(aicc_memplan_compute(m, &p));
  snprintf(ctx->notes, sizeof ctx->notes,
           "arena %lld B (naive %lld, lower bound %lld; %lld without in-place), %d in place, "
           "%d unplanned",
           (long long)p.arena_bytes, (long long)p.naive_bytes, (long long)p.lower_bound,
           (long long)p.lower_bound_no_inplace, (int)p.n_inplace, (int)p.n_unplanned);
  aicc_memplan_fini(&p);
  return NULL;
}

const aicc_pass aicc_pass_memplan = {"memplan", "plan intermediate tensors into one arena "
                                     "(greedy by size; changes nothing)", memplan_run};
