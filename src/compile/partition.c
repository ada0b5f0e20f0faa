/* Partition of a specialized graph into units: each fusion group (and each
 * ungrouped node) becomes one loop-IR kernel through the ops' lowerings
 * (ops/lower.h); a node that cannot lower (no lowering, a refused
 * configuration, a non-static or non-loop dtype, a subgraph) becomes an
 * extern unit and splits its group into the connected pieces that remain.
 * Units run in order of their last node; a unit whose place would run a
 * consumer before it is split into single nodes. Then each kernel gets its
 * default schedule (the unscheduled nest when that fails). No code here. */
#include "compile/compile.h"

#include "loop/text.h"
#include "loop/verify.h"
#include "ops/lower.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define NOMEM() aicc_errorf(AICC_ERR_NOMEM, "out of memory")

static const char *bprintf(aicc_cbuild *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const char *bprintf(aicc_cbuild *b, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return aicc_arena_strdup(&b->mem, buf);
}

void aicc_cunit_fini(aicc_cunit *u) {
  free(u->nodes);
  free(u->params);
  free(u->sched_text);
  free(u->sched_note);
  memset(u, 0, sizeof *u);
}

/* ---- what may lower ---- */

static const char *value_reason(aicc_cbuild *b, const char *what, int i, const aicc_value *v) {
  const aicc_type *t = &v->type;
  char ty[160];
  if (t->kind != AICC_KIND_TENSOR || !aicc_type_is_static(t))
    return bprintf(b, "%s %d '%s' is %s (not a tensor of static shape)", what, i, v->name,
                   aicc_type_describe(t, ty, sizeof ty));
  if (!aicc_lower_dtype_ok(t->dtype))
    return bprintf(b, "%s %d '%s' has dtype %s, which does not lower", what, i, v->name,
                   aicc_dtype_text(t->dtype));
  if (t->rank > AICC_MAX_LOOP_RANK)
    return bprintf(b, "%s %d '%s' has rank %d", what, i, v->name, t->rank);
  return NULL;
}

static bool value_used(const aicc_cbuild *b, const aicc_value *v) {
  return v && (b->graph_out[v->id] || b->n_consumers[v->id] > 0);
}

/* NULL when node i may be tried with its lowering, else why not. */
static const char *precheck(aicc_cbuild *b, int i) {
  const aicc_node *n = b->g->nodes.data[i];
  if (!aicc_lower_find(n->op, n->domain, n->op_type)) return "no lowering for this op";
  for (int a = 0; a < n->n_attrs; a++)
    if (n->attrs[a].kind == AICC_ATTR_GRAPH || n->attrs[a].kind == AICC_ATTR_GRAPHS)
      return "holds a subgraph";
  if (n->n_inputs > 64 || n->n_outputs > 64) return "more than 64 operands";
  for (int k = 0; k < n->n_inputs; k++)
    if (n->inputs[k]) {
      const char *r = value_reason(b, "input", k, n->inputs[k]);
      if (r) return r;
    }
  bool any = false;
  for (int k = 0; k < n->n_outputs; k++) {
    if (!value_used(b, n->outputs[k])) continue;
    any = true;
    const char *r = value_reason(b, "output", k, n->outputs[k]);
    if (r) return r;
  }
  return any ? NULL : "no output is used";
}

/* ---- lowering one unit ---- */

static const aicc_loop_buffer *value_buffer(aicc_cbuild *b, const aicc_value *v) {
  const aicc_loop_expr *shape[AICC_MAX_LOOP_RANK];
  for (int d = 0; d < v->type.rank; d++) shape[d] = aicc_loop_i32(b->lc, v->type.dims[d].size);
  /* "v_" keeps buffer names apart from loop variables (i0, r0) and C
   * keywords; codegen makes the rest unique. */
  char name[80];
  int n = snprintf(name, sizeof name, "v_%.60s", v->name);
  for (int k = 2; k < n && k < (int)sizeof name; k++) {
    char c = name[k];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
      name[k] = '_';
  }
  return aicc_loop_buffer_create(b->lc, name, v->type.dtype, v->type.rank, shape);
}

/* A small set of pointers (open addressing) for walking shared expressions. */
typedef struct ptr_set {
  const void **slots;
  size_t cap, len;
} ptr_set;

static bool ptr_set_add(ptr_set *s, const void *p) { /* true when newly added */
  if ((s->len + 1) * 2 > s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 64;
    const void **n = calloc(cap, sizeof *n);
    if (!n) return false;
    for (size_t i = 0; i < s->cap; i++)
      if (s->slots[i]) {
        size_t h = ((uintptr_t)s->slots[i] >> 4) & (cap - 1);
        while (n[h]) h = (h + 1) & (cap - 1);
        n[h] = s->slots[i];
      }
    free(s->slots);
    s->slots = n;
    s->cap = cap;
  }
  size_t h = ((uintptr_t)p >> 4) & (s->cap - 1);
  while (s->slots[h]) {
    if (s->slots[h] == p) return false;
    h = (h + 1) & (s->cap - 1);
  }
  s->slots[h] = p;
  s->len++;
  return true;
}

static void mark_loads(const aicc_loop_expr *e, ptr_set *seen, ptr_set *bufs) {
  if (!e || !ptr_set_add(seen, e)) return;
  if (e->op == AICC_LOOP_LOAD) ptr_set_add(bufs, e->buf);
  for (uint32_t i = 0; i < e->nargs; i++) mark_loads(e->args[i], seen, bufs);
}

static bool ptr_set_has(const ptr_set *s, const void *p) {
  if (!s->cap) return false;
  size_t h = ((uintptr_t)p >> 4) & (s->cap - 1);
  while (s->slots[h]) {
    if (s->slots[h] == p) return true;
    h = (h + 1) & (s->cap - 1);
  }
  return false;
}

/* Drops input parameters that no stage loads (inputs a lowering read only
 * as constants, such as Reshape's shape). */
static void prune_inputs(aicc_cunit *u) {
  ptr_set seen = {0}, bufs = {0};
  aicc_loop_kernel *k = u->k;
  for (size_t i = 0; i < k->n_stages; i++) {
    const aicc_loop_stage *s = k->stages[i];
    mark_loads(s->body, &seen, &bufs);
    mark_loads(s->init, &seen, &bufs);
    mark_loads(s->cond, &seen, &bufs);
    mark_loads(s->post, &seen, &bufs);
  }
  int w = 0;
  for (int i = 0; i < u->n_params; i++) {
    bool keep = i >= u->n_in_params || ptr_set_has(&bufs, k->params[i]);
    if (!keep) continue;
    k->params[w] = k->params[i];
    u->params[w] = u->params[i];
    w++;
  }
  u->n_in_params -= u->n_params - w;
  u->n_params = w;
  k->n_params = (size_t)w;
  free(seen.slots);
  free(bufs.slots);
}

static aicc_status add_param(aicc_cbuild *b, aicc_cunit *u, const aicc_value *v,
                             const aicc_loop_buffer *buf) {
  AICC_TRY(aicc_loop_kernel_param_add(b->lc, u->k, buf));
  uint32_t *p = realloc(u->params, sizeof *p * ((size_t)u->n_params + 1));
  if (!p) return NOMEM();
  u->params = p;
  p[u->n_params++] = v->id;
  return NULL;
}

/* ---- conv epilogues ---- */

/* Whether every load of buf in e reads it at the point [axes] (a constant 0
 * standing for an axis of extent 1, as broadcasting lowerings write it). */
static bool loads_at_point(const aicc_loop_expr *e, const aicc_loop_buffer *buf,
                           const aicc_loop_stage *at, int depth) {
  if (!e) return true;
  if (depth > 200) return false;
  if (e->op == AICC_LOOP_LOAD && e->buf == buf) {
    for (int d = 0; d < buf->rank; d++) {
      int64_t v;
      bool unit = at->axes[d].extent == 1 && aicc_loop_expr_is_int_const(e->args[d], &v) && v == 0;
      if (e->args[d] != at->axes[d].var && !unit) return false;
    }
    return true;
  }
  for (uint32_t i = 0; i < e->nargs; i++)
    if (!loads_at_point(e->args[i], buf, at, depth + 1)) return false;
  return true;
}

static bool reads_buffer(const aicc_loop_expr *e, const aicc_loop_buffer *buf, int depth) {
  if (!e || depth > 200) return e != NULL;
  if (e->op == AICC_LOOP_LOAD && e->buf == buf) return true;
  for (uint32_t i = 0; i < e->nargs; i++)
    if (reads_buffer(e->args[i], buf, depth + 1)) return true;
  return false;
}

/* e with every load of buf replaced by value. */
static const aicc_loop_expr *replace_loads(aicc_loop_ctx *lc, const aicc_loop_expr *e,
                                           const aicc_loop_buffer *buf,
                                           const aicc_loop_expr *value) {
  if (!e) return NULL;
  if (e->op == AICC_LOOP_LOAD && e->buf == buf) return value;
  if (!e->nargs) return e;
  const aicc_loop_expr *args[64];
  if (e->nargs > 64) return NULL;
  bool changed = false;
  for (uint32_t i = 0; i < e->nargs; i++) {
    args[i] = replace_loads(lc, e->args[i], buf, value);
    if (!args[i]) return NULL;
    changed = changed || args[i] != e->args[i];
  }
  return changed ? aicc_loop_expr_with_args(lc, e, args) : e;
}

/* Folds the elementwise stages that follow a convolution's reduction into
 * its post expression, so the epilogue (bias, activation, residual Add) is
 * computed on the accumulators of the conv's register block before the one
 * store (schedule_conv.c's cache_write), instead of as a pass over memory:
 * conv S writes temp T, the only reader E (same axes, no reduction or
 * guard) reads T at its own point; E becomes the reduction with
 * post = E's body with T replaced by S's post (or the reduced value), and S
 * goes away. Repeats for chains (Add then Relu). Values are unchanged: the
 * epilogue sees exactly the values it saw in memory. */
static aicc_status fold_conv_epilogues(aicc_loop_ctx *lc, aicc_loop_kernel *k) {
  for (size_t i = 0; i + 1 < k->n_stages; i++) {
    aicc_loop_stage *S = k->stages[i];
    if (S->op_class != AICC_LOOP_CLASS_CONV || S->reduce != AICC_LOOP_REDUCE_SUM ||
        aicc_loop_kernel_is_param(k, S->buf))
      continue;
    size_t reader = 0;
    int n_readers = 0;
    for (size_t j = 0; j < k->n_stages; j++) {
      const aicc_loop_stage *E = k->stages[j];
      if (j == i) continue;
      if (reads_buffer(E->body, S->buf, 0) || reads_buffer(E->init, S->buf, 0) ||
          reads_buffer(E->cond, S->buf, 0) || reads_buffer(E->post, S->buf, 0)) {
        reader = j;
        n_readers++;
      }
    }
    if (n_readers != 1 || reader < i) continue;
    aicc_loop_stage *E = k->stages[reader];
    bool ok = E->reduce == AICC_LOOP_REDUCE_NONE && !E->cond && !E->post &&
              E->op_class == AICC_LOOP_CLASS_ELEMENTWISE && E->n_axes == S->n_axes &&
              E->buf->type == S->buf->type && loads_at_point(E->body, S->buf, E, 0);
    for (int d = 0; ok && d < S->n_axes; d++)
      ok = E->axes[d].extent == S->axes[d].extent && E->axes[d].var == S->axes[d].var;
    /* Stages between S and E must not write what S reads (they cannot
     * read S's result: E is its only reader). */
    for (size_t j = i + 1; ok && j < reader; j++) {
      const aicc_loop_buffer *w = k->stages[j]->buf;
      ok = !reads_buffer(S->body, w, 0) && !reads_buffer(S->post, w, 0) &&
           !reads_buffer(S->init, w, 0) && !reads_buffer(S->cond, w, 0);
    }
    if (!ok) continue;
    const aicc_loop_expr *ax[AICC_MAX_LOOP_RANK];
    for (int d = 0; d < E->n_axes; d++) ax[d] = E->axes[d].var;
    const aicc_loop_expr *self = aicc_loop_load(lc, E->buf, ax);
    const aicc_loop_expr *reduced = S->post ? replace_loads(lc, S->post, S->buf, self) : self;
    const aicc_loop_expr *post = reduced ? replace_loads(lc, E->body, S->buf, reduced) : NULL;
    const aicc_loop_expr *body = replace_loads(lc, S->body, S->buf, self);
    if (!self || !post || !body) return NOMEM();
    E->n_raxes = S->n_raxes;
    E->raxes = S->raxes;
    E->reduce = S->reduce;
    E->init = S->init;
    E->cond = S->cond;
    E->body = body;
    E->post = post;
    E->inlinable = false;
    E->op_class = S->op_class;
    memmove(&k->stages[i], &k->stages[i + 1], sizeof *k->stages * (k->n_stages - i - 1));
    k->n_stages--;
    i--; /* E (now at reader - 1) may take the next link of a chain */
  }
  return NULL;
}

/* Lowers the nodes of u into one kernel. A node whose lowering refuses
 * (AICC_ERR_UNSUPPORTED) is reported in *bad / *why and u is left without a
 * kernel; other errors are returned. */
static aicc_status lower_unit(aicc_cbuild *b, aicc_cunit *u, int *bad, const char **why) {
  *bad = -1;
  int32_t stamp = ++b->stamp;
  for (int j = 0; j < u->n_nodes; j++) b->nstamp[u->nodes[j]] = stamp;
  u->k = aicc_loop_kernel_create(b->lc, "k");
  if (!u->k) return NOMEM();
  u->n_params = u->n_in_params = 0;
  /* External inputs (params first), then the outputs: escaping ones are
   * params, the rest temporaries, unused ones NULL. */
  for (int j = 0; j < u->n_nodes; j++) {
    const aicc_node *n = b->g->nodes.data[u->nodes[j]];
    for (int i = 0; i < n->n_inputs; i++) {
      const aicc_value *v = n->inputs[i];
      if (!v || b->vstamp[v->id] == stamp) continue;
      int32_t p = b->producer[v->id];
      if (p >= 0 && b->nstamp[p] == stamp) continue;
      const aicc_loop_buffer *buf = value_buffer(b, v);
      if (!buf) return NOMEM();
      b->vbuf[v->id] = buf;
      b->vstamp[v->id] = stamp;
      AICC_TRY(add_param(b, u, v, buf));
    }
  }
  u->n_in_params = u->n_params;
  for (int j = 0; j < u->n_nodes; j++) {
    const aicc_node *n = b->g->nodes.data[u->nodes[j]];
    for (int k = 0; k < n->n_outputs; k++) {
      const aicc_value *v = n->outputs[k];
      if (!v) continue;
      b->vstamp[v->id] = stamp;
      b->vbuf[v->id] = NULL;
      if (!value_used(b, v)) continue;
      const aicc_loop_buffer *buf = value_buffer(b, v);
      if (!buf) return NOMEM();
      b->vbuf[v->id] = buf;
      bool escapes = b->graph_out[v->id];
      for (int c = 0; c < b->n_consumers[v->id] && !escapes; c++)
        escapes = b->nstamp[b->consumers[v->id][c]] != stamp;
      if (escapes) AICC_TRY(add_param(b, u, v, buf));
    }
  }
  for (int j = 0; j < u->n_nodes; j++) {
    const aicc_node *n = b->g->nodes.data[u->nodes[j]];
    const aicc_loop_buffer *in[64] = {0}, *out[64] = {0};
    const aicc_tensor *cin[64] = {0};
    for (int i = 0; i < n->n_inputs; i++)
      if (n->inputs[i]) {
        in[i] = b->vbuf[n->inputs[i]->id];
        cin[i] = b->cval[n->inputs[i]->id];
      }
    for (int k = 0; k < n->n_outputs; k++)
      if (n->outputs[k]) out[k] = b->vbuf[n->outputs[k]->id];
    aicc_lower_fn fn = aicc_lower_find(n->op, n->domain, n->op_type);
    aicc_lower_ctx c = {b->lc, u->k, n, n->opset, n->n_inputs, n->n_outputs, in, cin, out, 0};
    aicc_status st = fn(&c);
    if (st && aicc_status_code(st) == AICC_ERR_UNSUPPORTED) {
      const char *msg = aicc_status_message(st);
      /* The message starts with the node's description; keep the reason. */
      const char *colon = strstr(msg, "): ");
      *why = aicc_arena_strdup(&b->mem, colon ? colon + 3 : msg);
      *bad = u->nodes[j];
      aicc_status_free(st);
      u->k = NULL;
      return NULL;
    }
    char desc[256];
    if (st) return aicc_status_wrap(st, "lowering %s", aicc_node_describe(n, desc, sizeof desc));
    for (int k = 0; k < n->n_outputs; k++)
      if (out[k] && !aicc_loop_kernel_stage_of(u->k, out[k]))
        return aicc_errorf(AICC_ERR_INTERNAL, "%s: the lowering defined no stage for output %d",
                           aicc_node_describe(n, desc, sizeof desc), k);
  }
  AICC_TRY(fold_conv_epilogues(b->lc, u->k));
  prune_inputs(u);
  return NULL;
}

/* ---- units ---- */

static aicc_status push_unit(aicc_cbuild *b, aicc_cunit *u) {
  if (!aicc_vec_push(&b->units, *u)) {
    aicc_cunit_fini(u);
    return NOMEM();
  }
  memset(u, 0, sizeof *u);
  return NULL;
}

static aicc_status extern_unit(aicc_cbuild *b, int node, const char *reason) {
  aicc_cunit u = {0};
  u.nodes = malloc(sizeof *u.nodes);
  if (!u.nodes) return NOMEM();
  u.nodes[0] = node;
  u.n_nodes = 1;
  u.pos = node;
  u.reason = reason;
  return push_unit(b, &u);
}

/* Union-find root. */
static int find_root(int *parent, int x) {
  while (parent[x] != x) x = parent[x] = parent[parent[x]];
  return x;
}

/* Lowers the members of one group: the nodes that may lower form connected
 * pieces (through values produced inside the group), each one kernel; a
 * node whose lowering refuses becomes extern and the pieces are formed
 * again. `reason[j]` is NULL for members still meant to lower. */
static aicc_status lower_group(aicc_cbuild *b, const int *members, int n, const char **reason) {
  int *parent = malloc(sizeof *parent * (size_t)n);
  int *nodes = malloc(sizeof *nodes * (size_t)n);
  if (!parent || !nodes) {
    free(parent);
    free(nodes);
    return NOMEM();
  }
  size_t first_unit = b->units.len;
  aicc_status st = NULL;
  for (;;) {
    for (int j = 0; j < n; j++) parent[j] = j;
    for (int j = 0; j < n; j++) {
      if (reason[j]) continue;
      const aicc_node *nd = b->g->nodes.data[members[j]];
      for (int i = 0; i < nd->n_inputs; i++) {
        const aicc_value *v = nd->inputs[i];
        int32_t p = v ? b->producer[v->id] : -1;
        for (int q = 0; q < n && p >= 0; q++)
          if (members[q] == p && !reason[q]) parent[find_root(parent, q)] = find_root(parent, j);
      }
    }
    bool retry = false;
    for (int r = 0; r < n && !st && !retry; r++) {
      if (reason[r] || find_root(parent, r) != r) continue;
      aicc_cunit u = {0};
      int cnt = 0;
      for (int j = 0; j < n; j++)
        if (!reason[j] && find_root(parent, j) == r) nodes[cnt++] = members[j];
      u.nodes = malloc(sizeof *u.nodes * (size_t)cnt);
      if (!u.nodes) {
        st = NOMEM();
        break;
      }
      memcpy(u.nodes, nodes, sizeof *u.nodes * (size_t)cnt);
      u.n_nodes = cnt;
      u.pos = nodes[cnt - 1];
      u.is_kernel = true;
      int bad;
      const char *why;
      st = lower_unit(b, &u, &bad, &why);
      if (!st && bad >= 0) {
        for (int j = 0; j < n; j++)
          if (members[j] == bad) reason[j] = why;
        retry = true;
        aicc_cunit_fini(&u);
        break;
      }
      if (!st && u.k->n_stages == 0) { /* nothing used: no step at all */
        for (int j = 0; j < cnt; j++) b->skip[u.nodes[j]] = true;
        aicc_cunit_fini(&u);
        continue;
      }
      if (!st) st = push_unit(b, &u);
      else aicc_cunit_fini(&u);
    }
    if (st || !retry) break;
    while (b->units.len > first_unit) aicc_cunit_fini(&b->units.data[--b->units.len]);
  }
  for (int j = 0; j < n && !st; j++)
    if (reason[j]) st = extern_unit(b, members[j], reason[j]);
  free(parent);
  free(nodes);
  return st;
}

static int unit_cmp(const void *x, const void *y) {
  const aicc_cunit *a = x, *b = y;
  return (a->pos > b->pos) - (a->pos < b->pos);
}

/* Sorts the units by position and checks that every unit runs after the
 * producers of what it reads; a producer unit placed too late (a fused
 * piece whose last node comes after a consumer of an earlier member) is
 * split into single nodes. Repeats until valid: single nodes always are. */
static aicc_status order_units(aicc_cbuild *b) {
  for (;;) {
    if (b->units.len > 1) qsort(b->units.data, b->units.len, sizeof *b->units.data, unit_cmp);
    for (int i = 0; i < b->n_nodes; i++) b->unit_of[i] = -1;
    for (size_t u = 0; u < b->units.len; u++)
      for (int j = 0; j < b->units.data[u].n_nodes; j++)
        b->unit_of[b->units.data[u].nodes[j]] = (int32_t)u;
    int late = -1;
    for (size_t u = 0; u < b->units.len && late < 0; u++) {
      const aicc_cunit *cu = &b->units.data[u];
      for (int j = 0; j < cu->n_nodes && late < 0; j++) {
        int node = cu->nodes[j];
        for (int k = 0; k < b->n_uses[node] && late < 0; k++) {
          int32_t p = b->producer[b->uses[node][k]];
          if (p < 0 || b->skip[p]) continue;
          if (b->unit_of[p] > (int32_t)u) late = b->unit_of[p];
        }
      }
    }
    if (late < 0) return NULL;
    aicc_cunit victim = b->units.data[late];
    b->units.data[late] = b->units.data[--b->units.len];
    aicc_status st = NULL;
    for (int j = 0; j < victim.n_nodes && !st; j++) {
      int node = victim.nodes[j];
      if (!victim.is_kernel) {
        st = extern_unit(b, node, victim.reason);
        continue;
      }
      const char *reason[1] = {precheck(b, node)};
      st = lower_group(b, &node, 1, reason);
    }
    aicc_cunit_fini(&victim);
    if (st) return st;
  }
}

aicc_status aicc_compile_partition(aicc_cbuild *b) {
  int n = b->n_nodes;
  /* Members of each group, in node order; ungrouped nodes alone. */
  int32_t max_group = 0;
  for (int i = 0; i < n; i++)
    if (b->g->nodes.data[i]->group > max_group) max_group = b->g->nodes.data[i]->group;
  int *first = malloc(sizeof *first * ((size_t)max_group + 1));
  int *next = malloc(sizeof *next * ((size_t)n + 1));
  int *members = malloc(sizeof *members * ((size_t)n + 1));
  const char **reason = malloc(sizeof *reason * ((size_t)n + 1));
  aicc_status st = first && next && members && reason ? NULL : NOMEM();
  for (int32_t q = 0; q <= max_group && !st; q++) first[q] = -1;
  /* Chain members backwards so each list comes out in node order. */
  for (int i = n - 1; i >= 0 && !st; i--) {
    int32_t q = b->g->nodes.data[i]->group;
    next[i] = -1;
    if (q > 0 && !b->skip[i]) {
      next[i] = first[q];
      first[q] = i;
    }
  }
  for (int i = 0; i < n && !st; i++) {
    if (b->skip[i]) continue;
    int32_t q = b->g->nodes.data[i]->group;
    int cnt = 0;
    if (q > 0) {
      if (first[q] != i) continue; /* handled at the group's first member */
      for (int j = first[q]; j >= 0; j = next[j]) members[cnt++] = j;
    } else {
      members[cnt++] = i;
    }
    for (int j = 0; j < cnt; j++) reason[j] = precheck(b, members[j]);
    st = lower_group(b, members, cnt, reason);
  }
  free(first);
  free(next);
  free(members);
  free(reason);
  if (!st) st = order_units(b);
  return st;
}

aicc_status aicc_compile_unit_to_extern(aicc_cbuild *b, int u, const char *reason) {
  aicc_cunit victim = b->units.data[u];
  b->units.data[u] = b->units.data[--b->units.len];
  aicc_status st = NULL;
  for (int j = 0; j < victim.n_nodes && !st; j++) st = extern_unit(b, victim.nodes[j], reason);
  aicc_cunit_fini(&victim);
  if (!st) st = order_units(b);
  return st;
}

/* ---- schedules ---- */

static aicc_status schedule_unit(aicc_cbuild *b, aicc_cunit *u) {
  aicc_schedule s;
  aicc_schedule_init(&s);
  aicc_status st = aicc_schedule_default(u->k, &b->target, &s);
  if (!st) st = aicc_schedule_apply(b->lc, u->k, &s, &u->f);
  if (!st) u->sched_text = aicc_schedule_print(&s);
  aicc_schedule_fini(&s);
  if (!st) return NULL;
  if (aicc_status_code(st) == AICC_ERR_NOMEM) return st;
  /* A default schedule that does not apply is a bug in the rules; the
   * unscheduled nest computes the same values. */
  const char *msg = aicc_status_message(st);
  u->sched_note = malloc(strlen(msg) + 1);
  if (u->sched_note) strcpy(u->sched_note, msg);
  aicc_status_free(st);
  aicc_schedule_init(&s);
  st = aicc_schedule_apply(b->lc, u->k, &s, &u->f);
  aicc_schedule_fini(&s);
  return st;
}

aicc_status aicc_compile_schedule(aicc_cbuild *b) {
  int next = 0;
  for (size_t i = 0; i < b->units.len; i++) {
    aicc_cunit *u = &b->units.data[i];
    if (!u->is_kernel) continue;
    u->k->name = bprintf(b, "k%d", next++);
    if (!u->k->name) return NOMEM();
    if (!u->f) {
      char desc[256];
      aicc_status st = schedule_unit(b, u);
      if (st)
        return aicc_status_wrap(st, "kernel %s (%s)", u->k->name,
                                aicc_node_describe(b->g->nodes.data[u->nodes[0]], desc,
                                                   sizeof desc));
    }
    u->f->name = u->k->name;
  }
  return NULL;
}

/* ---- --dump-loops ---- */

static void dump_node(const aicc_node *n, FILE *f) {
  fprintf(f, "'%s' (%s)", n->name && *n->name ? n->name : "", n->op_type);
}

void aicc_compile_dump(const aicc_cbuild *b, FILE *f) {
  for (size_t i = 0; i < b->units.len; i++) {
    const aicc_cunit *u = &b->units.data[i];
    if (u->is_view) {
      fprintf(f, "in place: node ");
      dump_node(b->g->nodes.data[u->nodes[0]], f);
      fprintf(f, ": its inputs are written into its output's memory (no step)\n\n");
      continue;
    }
    if (!u->is_kernel) {
      fprintf(f, "extern step: node ");
      dump_node(b->g->nodes.data[u->nodes[0]], f);
      fprintf(f, ": %s\n\n", u->reason ? u->reason : "");
      continue;
    }
    fprintf(f, "kernel %s: nodes ", u->k->name);
    for (int j = 0; j < u->n_nodes; j++) {
      if (j) fprintf(f, ", ");
      dump_node(b->g->nodes.data[u->nodes[j]], f);
    }
    fprintf(f, "\n");
    char *s = aicc_loop_kernel_print(u->k);
    fprintf(f, "stages:\n%s", s ? s : "(out of memory)\n");
    free(s);
    if (u->sched_note) fprintf(f, "schedule: none (default refused: %s)\n", u->sched_note);
    else fprintf(f, "schedule:\n%s", u->sched_text && *u->sched_text ? u->sched_text : "(empty)\n");
    s = u->f ? aicc_loop_func_print(u->f) : NULL;
    fprintf(f, "scheduled:\n%s\n", s ? s : "(none)\n");
    free(s);
  }
  fflush(f);
}
