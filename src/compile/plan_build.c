/* The plan of a partitioned specialization: C for every kernel in one
 * translation unit (a kernel codegen refuses runs as extern steps), one JIT
 * compile, then the steps and where each value lives. Kernel results that
 * later steps read get offsets in one arena, planned over lifetimes counted
 * in steps (a fused kernel reads all its inputs at its one step), with the
 * greedy-by-size assignment of passes/memplan.h. Extern results and graph
 * outputs are tensors each run holds. A Concat of kernel results is planned
 * in place: its inputs live inside its output's memory (at its strides
 * when they are not consecutive ranges of it) and it has no step. */
#include "compile/compile.h"

#include "codegen/codegen.h"
#include "ops/util.h"
#include "passes/memplan.h"

#include <stdlib.h>
#include <string.h>

#define NOMEM() aicc_errorf(AICC_ERR_NOMEM, "out of memory")

/* ---- Concats in place ---- */

/* The axis of Concat nd when its output and inputs are static tensors of
 * one whole-byte number type and rank whose sizes add up along it; -1
 * when nd is no such Concat. */
static int concat_axis(const aicc_node *nd) {
  const aicc_value *out = nd->n_outputs == 1 ? nd->outputs[0] : NULL;
  if (!out || (nd->domain && *nd->domain) || strcmp(nd->op_type, "Concat") != 0) return -1;
  const aicc_type *t = &out->type;
  if (t->kind != AICC_KIND_TENSOR || !aicc_type_is_static(t) || t->dtype == AICC_DTYPE_STRING)
    return -1;
  size_t elem = aicc_dtype_storage_bytes(t->dtype, 1);
  if (elem == 0 || elem * 2 != aicc_dtype_storage_bytes(t->dtype, 2)) return -1; /* sub-byte */
  int64_t axis = aicc_node_attr_int(nd, "axis", INT64_MIN);
  if (axis < 0 && axis != INT64_MIN) axis += t->rank;
  if (axis < 0 || axis >= t->rank) return -1;
  int64_t at = 0;
  for (int i = 0; i < nd->n_inputs; i++) {
    const aicc_type *vt = nd->inputs[i] ? &nd->inputs[i]->type : NULL;
    if (!vt || vt->kind != AICC_KIND_TENSOR || !aicc_type_is_static(vt) ||
        vt->dtype != t->dtype || vt->rank != t->rank || vt->dims[axis].size <= 0)
      return -1;
    for (int d = 0; d < t->rank; d++)
      if (d != axis && vt->dims[d].size != t->dims[d].size) return -1;
    at += vt->dims[axis].size;
  }
  return at == t->dims[axis].size ? (int)axis : -1;
}

static const aicc_cunit *unit_of_node(const aicc_cbuild *b, int32_t node) {
  return node >= 0 && !b->skip[node] && b->unit_of[node] >= 0 ? &b->units.data[b->unit_of[node]]
                                                               : NULL;
}

static bool runs_code_or_view(const aicc_cunit *u) { return u && (u->is_kernel || u->is_view); }

/* Marks single-Concat kernel units in place when each input is the result
 * of a kernel unit (or of such a Concat), is no graph output, appears once
 * and is claimed by no other Concat. This runs before code, so their
 * kernels are never generated; layout_views then places the parts. */
static aicc_status mark_views(aicc_cbuild *b) {
  size_t nv = b->n_values ? b->n_values : 1;
  b->view_of = AICC_ARENA_ARRAY(&b->mem, int64_t, nv);
  b->view_off = AICC_ARENA_ARRAY(&b->mem, int64_t, nv);
  b->view_strides = AICC_ARENA_ARRAY(&b->mem, int64_t *, nv);
  bool *claimed = calloc(nv, sizeof *claimed);
  if (!b->view_of || !b->view_off || !b->view_strides || !claimed) {
    free(claimed);
    return NOMEM();
  }
  for (uint32_t v = 0; v < b->n_values; v++) b->view_of[v] = -1;
  for (size_t u = 0; u < b->units.len; u++) {
    aicc_cunit *cu = &b->units.data[u];
    if (!cu->is_kernel || cu->n_nodes != 1) continue;
    const aicc_node *nd = b->g->nodes.data[cu->nodes[0]];
    if (concat_axis(nd) < 0 || b->graph_out[nd->outputs[0]->id]) continue;
    bool ok = true;
    for (int i = 0; i < nd->n_inputs && ok; i++) {
      uint32_t v = nd->inputs[i]->id;
      ok = runs_code_or_view(unit_of_node(b, b->producer[v])) && !b->graph_out[v] && !claimed[v];
      for (int j = 0; j < i && ok; j++) ok = nd->inputs[j]->id != v;
    }
    if (!ok) continue;
    for (int i = 0; i < nd->n_inputs; i++) claimed[nd->inputs[i]->id] = true;
    cu->is_kernel = false;
    cu->is_view = true;
  }
  free(claimed);
  return NULL;
}

/* Whether every unit that reads or writes part v runs code or is a view,
 * and every parameter buffer for v has v's rank and dims (so strides can
 * say where its elements are). */
static bool part_can_stride(const aicc_cbuild *b, uint32_t v, const aicc_type *t) {
  if (!runs_code_or_view(unit_of_node(b, b->producer[v]))) return false;
  for (int c = 0; c < b->n_consumers[v]; c++)
    if (!runs_code_or_view(unit_of_node(b, b->consumers[v][c]))) return false;
  for (size_t u = 0; u < b->units.len; u++) {
    const aicc_cunit *cu = &b->units.data[u];
    for (int p = 0; cu->k && p < cu->n_params; p++) {
      if (cu->params[p] != v) continue;
      const aicc_loop_buffer *buf = cu->k->params[p];
      if (buf->rank != t->rank) return false;
      for (int d = 0; d < t->rank; d++) {
        int64_t e;
        if (!aicc_loop_expr_is_int_const(buf->shape[d], &e) || e != t->dims[d].size) return false;
      }
    }
  }
  return true;
}

/* Gives every parameter buffer for v the strides st (NULL: dense). */
static aicc_status stride_part(aicc_cbuild *b, uint32_t v, const int64_t *st) {
  for (size_t u = 0; u < b->units.len; u++) {
    const aicc_cunit *cu = &b->units.data[u];
    for (int p = 0; cu->k && p < cu->n_params; p++)
      if (cu->params[p] == v && !aicc_loop_buffer_set_strides(b->lc, cu->k->params[p], st))
        return NOMEM();
  }
  return NULL;
}

/* Places the parts of each marked Concat, outermost first: part i starts
 * at the output's element [0.., at_i, 0..] (at_i: the sizes before it
 * along the axis) and has the output's strides. When a dim before the axis
 * is over 1 (or the output is itself strided) the parts are not
 * contiguous: then every kernel that reads or writes a part indexes it
 * with those strides, and a part that an extern step reads keeps its
 * Concat a kernel. So does a part not 64-byte aligned. */
static aicc_status layout_views(aicc_cbuild *b) {
  for (size_t u = b->units.len; u-- > 0;) {
    aicc_cunit *cu = &b->units.data[u];
    if (!cu->is_view) continue;
    const aicc_node *nd = b->g->nodes.data[cu->nodes[0]];
    uint32_t out = nd->outputs[0]->id;
    const aicc_type *t = &nd->outputs[0]->type;
    int axis = concat_axis(nd);
    int64_t elem = (int64_t)aicc_dtype_storage_bytes(t->dtype, 1), outer = 1;
    int64_t *st = b->view_strides[out];
    if (!st) {
      st = AICC_ARENA_ARRAY(&b->mem, int64_t, t->rank);
      if (!st) return NOMEM();
      int64_t dims[AICC_MAX_RANK];
      for (int d = 0; d < t->rank; d++) dims[d] = t->dims[d].size;
      aicc_strides(dims, t->rank, st);
    }
    for (int d = 0; d < axis; d++) outer *= t->dims[d].size;
    bool strided = b->view_strides[out] || outer > 1;
    bool ok = true;
    int64_t at = 0;
    for (int i = 0; i < nd->n_inputs && ok; i++) {
      const aicc_value *v = nd->inputs[i];
      ok = (at * st[axis] * elem) % AICC_MEMPLAN_ALIGN == 0 &&
           (!strided || part_can_stride(b, v->id, &v->type));
      at += v->type.dims[axis].size;
    }
    if (!ok) {
      cu->is_view = false;
      cu->is_kernel = true;
      continue;
    }
    at = 0;
    for (int i = 0; i < nd->n_inputs; i++) {
      uint32_t v = nd->inputs[i]->id;
      b->view_of[v] = out;
      b->view_off[v] = at * st[axis] * elem;
      at += nd->inputs[i]->type.dims[axis].size;
      if (!strided) continue;
      b->view_strides[v] = st;
      AICC_TRY(stride_part(b, v, st));
    }
  }
  return NULL;
}

/* After code: codegen may have turned units extern since. When a part is
 * then no kernel result, or an extern step reads a strided part, every
 * Concat becomes a kernel again and every part dense (true: the code must
 * be generated again). */
static aicc_status views_hold(aicc_cbuild *b, bool *hold) {
  *hold = true;
  for (size_t u = 0; u < b->units.len && *hold; u++) {
    const aicc_cunit *cu = &b->units.data[u];
    if (!cu->is_view) continue;
    const aicc_node *nd = b->g->nodes.data[cu->nodes[0]];
    for (int i = 0; i < nd->n_inputs && *hold; i++) {
      uint32_t v = nd->inputs[i]->id;
      *hold = runs_code_or_view(unit_of_node(b, b->producer[v])) &&
              (!b->view_strides[v] || part_can_stride(b, v, &nd->inputs[i]->type));
    }
  }
  if (*hold) return NULL;
  for (size_t u = 0; u < b->units.len; u++)
    if (b->units.data[u].is_view) {
      b->units.data[u].is_view = false;
      b->units.data[u].is_kernel = true;
    }
  for (uint32_t v = 0; v < b->n_values; v++) {
    if (b->view_strides[v]) AICC_TRY(stride_part(b, v, NULL));
    b->view_strides[v] = NULL;
    b->view_of[v] = -1;
  }
  return NULL;
}

/* ---- code ---- */

static aicc_status emit_code(aicc_cbuild *b, char **src, size_t *len) {
  *src = NULL;
  *len = 0;
  for (;;) {
    AICC_TRY(aicc_compile_schedule(b)); /* names k0, k1, ... in order */
    const aicc_loop_func **funcs = malloc(sizeof *funcs * (b->units.len + 1));
    if (!funcs) return NOMEM();
    size_t n = 0;
    for (size_t i = 0; i < b->units.len; i++)
      if (b->units.data[i].is_kernel) funcs[n++] = b->units.data[i].f;
    if (n == 0) {
      free(funcs);
      return NULL;
    }
    aicc_codegen_options opt = {(aicc_codegen_isa)b->codegen_isa, true};
    aicc_status st = aicc_codegen_c(funcs, n, &opt, src, len);
    free(funcs);
    if (!st) return NULL;
    if (aicc_status_code(st) != AICC_ERR_UNSUPPORTED) return st;
    aicc_status_free(st);
    /* Find the kernels codegen refuses; they run as extern steps. */
    int bad = -1;
    char reason[512] = "";
    for (size_t i = 0; i < b->units.len && bad < 0; i++) {
      if (!b->units.data[i].is_kernel) continue;
      const aicc_loop_func *one = b->units.data[i].f;
      char *s1 = NULL;
      size_t l1;
      st = aicc_codegen_c(&one, 1, &opt, &s1, &l1);
      free(s1);
      if (st && aicc_status_code(st) == AICC_ERR_UNSUPPORTED) {
        bad = (int)i;
        snprintf(reason, sizeof reason, "codegen: %s", aicc_status_message(st));
      } else if (st) {
        return st;
      }
      aicc_status_free(st);
    }
    if (bad < 0)
      return aicc_errorf(AICC_ERR_INTERNAL, "codegen refuses the kernels together but none alone");
    const char *r = aicc_arena_strdup(&b->mem, reason);
    if (!r) return NOMEM();
    AICC_TRY(aicc_compile_unit_to_extern(b, bad, r));
  }
}

static aicc_status jit_compile(aicc_cbuild *b, const char *src, size_t len) {
  aicc_rt_program *p = b->prog;
  aicc_rt_plan *plan = b->plan;
  if (!p->jit) {
    char *flags = NULL;
    if (p->opt.cflags && *p->opt.cflags) {
      size_t n = strlen(AICC_JIT_DEFAULT_FLAGS) + strlen(p->opt.cflags) + 2;
      flags = malloc(n);
      if (!flags) return NOMEM();
      snprintf(flags, n, "%s %s", AICC_JIT_DEFAULT_FLAGS, p->opt.cflags);
    }
    aicc_jit_options jo = {p->opt.cc, flags, NULL, p->opt.cache_dir, 0};
    aicc_status st = aicc_jit_ctx_create(&jo, &p->jit);
    free(flags);
    AICC_TRY(st);
  }
  aicc_jit_stats before, after;
  aicc_jit_ctx_stats(p->jit, &before);
  bool hit = false;
  aicc_status st = aicc_jit_compile(p->jit, src, len, &plan->module, &hit);
  aicc_jit_ctx_stats(p->jit, &after);
  plan->cc_ms = after.compile_ms - before.compile_ms;
  plan->cache_hit = hit;
  if (st) return aicc_status_wrap(st, "%s: compiling the generated kernels", b->m->path);
  return NULL;
}

/* ---- steps and memory ---- */

static uint32_t *ids_dup(aicc_rt_plan *plan, const uint32_t *ids, int n) {
  return aicc_arena_memdup(&plan->mem, ids, sizeof *ids * (size_t)(n ? n : 1));
}

static void set_type(aicc_rt_slot *sl, const aicc_value *v) {
  sl->is_static = v->type.kind == AICC_KIND_TENSOR && aicc_type_is_static(&v->type);
  if (!sl->is_static) return;
  sl->dtype = v->type.dtype;
  sl->rank = v->type.rank;
  for (int d = 0; d < sl->rank; d++) sl->dims[d] = v->type.dims[d].size;
}

static void add_extern_op(aicc_rt_plan *plan, const char *op) {
  size_t n = strlen(op), len = strlen(plan->extern_ops);
  /* Each op once. */
  for (const char *s = plan->extern_ops; *s;) {
    const char *e = strchr(s, ',');
    size_t l = e ? (size_t)(e - s) : strlen(s);
    if (l == n && strncmp(s, op, n) == 0) return;
    s = e ? e + 1 : s + l;
  }
  if (len + n + 2 >= sizeof plan->extern_ops) return; /* full: the count still says it */
  if (len) plan->extern_ops[len++] = ',';
  memcpy(plan->extern_ops + len, op, n + 1);
}

/* The output of in-place Concat cu lives in the arena, its parts inside it
 * (layout_views); they are kernel results there (views_hold). */
static aicc_status place_view(aicc_cbuild *b, const aicc_cunit *cu) {
  const aicc_node *nd = b->g->nodes.data[cu->nodes[0]];
  for (int i = 0; i < nd->n_inputs; i++)
    if (b->plan->slots[nd->inputs[i]->id].loc != AICC_RT_LOC_ARENA)
      return aicc_errorf(AICC_ERR_INTERNAL, "Concat '%s' in place: part '%s' is not in the arena",
                         nd->name, nd->inputs[i]->name);
  aicc_rt_slot *sl = &b->plan->slots[nd->outputs[0]->id];
  sl->loc = AICC_RT_LOC_ARENA;
  sl->in_place = true;
  b->plan->concats_in_place++;
  return NULL;
}

static aicc_status make_slots(aicc_cbuild *b) {
  aicc_rt_plan *plan = b->plan;
  const aicc_graph *g = b->g;
  plan->n_slots = b->n_values;
  plan->slots = AICC_ARENA_ARRAY(&plan->mem, aicc_rt_slot, b->n_values ? b->n_values : 1);
  if (!plan->slots) return NOMEM();
  for (size_t i = 0; i < g->inputs.len; i++) {
    const aicc_value *v = g->inputs.data[i];
    aicc_rt_slot *sl = &plan->slots[v->id];
    set_type(sl, v);
    if (plan->key[i].given) {
      sl->loc = AICC_RT_LOC_INPUT;
      sl->input = (int)i;
    } else {
      sl->loc = AICC_RT_LOC_CONST;
      sl->tensor = v->init;
    }
  }
  for (size_t i = 0; i < g->inits.len; i++) {
    const aicc_value *v = g->inits.data[i];
    aicc_rt_slot *sl = &plan->slots[v->id];
    if (sl->loc == AICC_RT_LOC_INPUT) continue;
    set_type(sl, v);
    sl->loc = AICC_RT_LOC_CONST;
    sl->tensor = v->init;
  }
  for (int i = 0; i < b->n_nodes; i++) {
    const aicc_node *nd = g->nodes.data[i];
    for (int k = 0; k < nd->n_outputs; k++) {
      const aicc_value *v = nd->outputs[k];
      if (!v) continue;
      aicc_rt_slot *sl = &plan->slots[v->id];
      set_type(sl, v);
      if (b->skip[i]) {
        if (b->cval[v->id]) {
          sl->loc = AICC_RT_LOC_CONST;
          sl->tensor = b->cval[v->id];
        }
        continue;
      }
      int32_t u = b->unit_of[i];
      if (u < 0) continue;
      aicc_cunit *cu = &b->units.data[u];
      if (cu->is_view) {
        AICC_TRY(place_view(b, cu));
        continue;
      }
      if (!cu->is_kernel) {
        bool used = b->graph_out[v->id] || b->n_consumers[v->id] > 0;
        sl->loc = used ? AICC_RT_LOC_HEAP : AICC_RT_LOC_NONE;
        continue;
      }
      for (int p = cu->n_in_params; p < cu->n_params; p++)
        if (cu->params[p] == v->id)
          sl->loc = b->graph_out[v->id] ? AICC_RT_LOC_HEAP : AICC_RT_LOC_ARENA;
    }
  }
  for (size_t o = 0; o < g->outputs.len; o++) plan->slots[g->outputs.data[o]->id].graph_output = true;
  /* Kernels read with the planned type; constants they read must be aligned. */
  for (size_t u = 0; u < b->units.len; u++) {
    const aicc_cunit *cu = &b->units.data[u];
    for (int p = 0; cu->is_kernel && p < cu->n_in_params; p++) {
      aicc_rt_slot *sl = &plan->slots[cu->params[p]];
      sl->to_kernel = true;
      if (sl->loc == AICC_RT_LOC_CONST && (uintptr_t)sl->tensor->data % 64 != 0) {
        aicc_tensor *c = NULL;
        AICC_TRY(aicc_tensor_clone(sl->tensor, &c));
        if (!aicc_vec_push(&plan->consts, c)) {
          aicc_tensor_release(c);
          return NOMEM();
        }
        sl->tensor = c;
      }
    }
  }
  return NULL;
}

/* The step after which value v is no longer read (its producer's step when
 * nothing reads it). */
static int32_t last_use(const aicc_cbuild *b, uint32_t v, int32_t first) {
  int32_t last = first;
  for (int c = 0; c < b->n_consumers[v]; c++) {
    int32_t u = b->unit_of[b->consumers[v][c]];
    if (u > last) last = u;
  }
  return last;
}

/* The outermost Concat output holding v (v itself when none); *at: v's
 * byte offset in it. */
static uint32_t view_root(const aicc_cbuild *b, uint32_t v, int64_t *at) {
  *at = 0;
  for (; b->view_of[v] >= 0; v = (uint32_t)b->view_of[v]) *at += b->view_off[v];
  return v;
}

/* Arena values get offsets: each one not inside a Concat's output is a
 * buffer, live from its producer's step to its last use; one inside is at
 * its offset in the outermost such output, whose buffer is live from the
 * first producer of any part to the last use of any. */
static aicc_status plan_arena(aicc_cbuild *b) {
  aicc_rt_plan *plan = b->plan;
  aicc_memplan_buf *bufs = calloc(b->n_values ? b->n_values : 1, sizeof *bufs);
  int32_t *buf_of = malloc(sizeof *buf_of * (b->n_values ? b->n_values : 1));
  if (!bufs || !buf_of) {
    free(bufs);
    free(buf_of);
    return NOMEM();
  }
  int32_t n = 0;
  for (uint32_t v = 0; v < b->n_values; v++) {
    aicc_rt_slot *sl = &plan->slots[v];
    buf_of[v] = -1;
    if (sl->loc != AICC_RT_LOC_ARENA || b->view_of[v] >= 0) continue;
    int32_t first = b->unit_of[b->producer[v]];
    int64_t numel = aicc_dims_numel(sl->dims, sl->rank);
    int64_t bytes = (int64_t)aicc_dtype_storage_bytes(sl->dtype, (size_t)numel);
    bytes = (bytes + AICC_MEMPLAN_ALIGN - 1) / AICC_MEMPLAN_ALIGN * AICC_MEMPLAN_ALIGN;
    if (bytes == 0) bytes = AICC_MEMPLAN_ALIGN;
    buf_of[v] = n;
    bufs[n++] = (aicc_memplan_buf){v, first, last_use(b, v, first), bytes, 0, -1};
  }
  for (uint32_t v = 0; v < b->n_values; v++) {
    if (b->view_of[v] < 0) continue;
    int64_t at;
    aicc_memplan_buf *root = &bufs[buf_of[view_root(b, v, &at)]];
    int32_t first = b->unit_of[b->producer[v]], last = last_use(b, v, first);
    if (first < root->first) root->first = first;
    if (last > root->last) root->last = last;
  }
  aicc_status st = aicc_memplan_assign(bufs, n, &plan->arena_bytes);
  for (uint32_t v = 0; v < b->n_values && !st; v++) {
    if (plan->slots[v].loc != AICC_RT_LOC_ARENA) continue;
    int64_t at;
    uint32_t r = view_root(b, v, &at);
    plan->slots[v].offset = bufs[buf_of[r]].offset + at;
  }
  free(bufs);
  free(buf_of);
  return st;
}

/* The value of each id in the main graph (NULL where none). */
static const aicc_value **values_by_id(const aicc_cbuild *b) {
  const aicc_value **vals = calloc(b->n_values ? b->n_values : 1, sizeof *vals);
  if (!vals) return NULL;
  const aicc_graph *g = b->g;
  for (size_t i = 0; i < g->inputs.len; i++) vals[g->inputs.data[i]->id] = g->inputs.data[i];
  for (size_t i = 0; i < g->inits.len; i++) vals[g->inits.data[i]->id] = g->inits.data[i];
  for (size_t i = 0; i < g->nodes.len; i++) {
    const aicc_node *nd = g->nodes.data[i];
    for (int k = 0; k < nd->n_outputs; k++)
      if (nd->outputs[k]) vals[nd->outputs[k]->id] = nd->outputs[k];
  }
  return vals;
}

/* An extern node whose subgraphs read main-graph values runs as a model of
 * its own (capture.c). */
static aicc_status capture_step(aicc_cbuild *b, int node, aicc_rt_step *s) {
  const aicc_node *nd = s->node;
  int n = b->n_uses[node];
  bool captures = false;
  for (int k = 0; k < n && !captures; k++) {
    bool is_input = false;
    for (int i = 0; i < nd->n_inputs && !is_input; i++)
      is_input = nd->inputs[i] && nd->inputs[i]->id == b->uses[node][k];
    captures = !is_input;
  }
  if (!captures) return NULL;
  const aicc_value **vals = values_by_id(b);
  const aicc_value **reads = malloc(sizeof *reads * (size_t)(n ? n : 1));
  aicc_status st = vals && reads ? NULL : NOMEM();
  for (int k = 0; k < n && !st; k++) reads[k] = vals[b->uses[node][k]];
  aicc_model *sub = NULL;
  if (!st) st = aicc_compile_capture_model(b->m, nd, reads, n, &sub);
  free(vals);
  free(reads);
  if (st) return st;
  if (!aicc_vec_push(&b->plan->sub_models, sub)) {
    aicc_model_destroy(sub);
    return NOMEM();
  }
  s->sub_model = sub;
  s->n_sub_in = n;
  s->sub_in = ids_dup(b->plan, b->uses[node], n);
  return s->sub_in ? NULL : NOMEM();
}

static aicc_status make_steps(aicc_cbuild *b) {
  aicc_rt_plan *plan = b->plan;
  int n = (int)b->units.len;
  plan->n_steps = 0;
  plan->steps = AICC_ARENA_ARRAY(&plan->mem, aicc_rt_step, n ? n : 1);
  uint32_t *tmp = malloc(sizeof *tmp * (b->n_values + 1));
  /* Heap values (not returned) die at their last use. */
  int32_t *dies = malloc(sizeof *dies * (b->n_values + 1));
  if (!plan->steps || !tmp || !dies) {
    free(tmp);
    free(dies);
    return NOMEM();
  }
  for (uint32_t v = 0; v < b->n_values; v++) {
    const aicc_rt_slot *sl = &plan->slots[v];
    dies[v] = -1;
    if (sl->loc == AICC_RT_LOC_HEAP && !sl->graph_output && b->producer[v] >= 0)
      dies[v] = last_use(b, v, b->unit_of[b->producer[v]]);
  }
  aicc_status st = NULL;
  /* One step per unit but the Concats in place; a value whose last use is
   * such a Concat dies at the next step. */
  for (int u = 0, prev = -1; u < n && !st; u++) {
    const aicc_cunit *cu = &b->units.data[u];
    if (cu->is_view) continue;
    aicc_rt_step *s = &plan->steps[plan->n_steps++];
    s->is_kernel = cu->is_kernel;
    if (cu->is_kernel) {
      s->name = aicc_arena_strdup(&plan->mem, cu->k->name);
      s->n_args = cu->n_params;
      s->args = ids_dup(plan, cu->params, cu->n_params);
      int na = 0;
      bool *full = AICC_ARENA_ARRAY(&plan->mem, bool, cu->n_params ? cu->n_params : 1);
      for (int p = cu->n_in_params; p < cu->n_params && full; p++) {
        if (plan->slots[cu->params[p]].loc != AICC_RT_LOC_HEAP) continue;
        const aicc_loop_stage *def = aicc_loop_kernel_stage_of(cu->k, cu->k->params[p]);
        full[na] = def && (def->reduce != AICC_LOOP_REDUCE_NONE || !def->cond);
        tmp[na++] = cu->params[p];
      }
      s->n_allocs = na;
      s->allocs = ids_dup(plan, tmp, na);
      s->alloc_full = full;
      s->parallel = aicc_codegen_func_parallel(cu->f);
      s->scratch = aicc_codegen_func_scratch(cu->f);
      int64_t *need = s->parallel ? &plan->scratch_task : &plan->scratch_serial;
      if (s->scratch > *need) *need = s->scratch;
      void *fn = NULL;
      st = aicc_jit_module_symbol(plan->module, s->name, &fn);
      memcpy(&s->fn, &fn, sizeof fn);
      if (!s->name || !s->args || !s->allocs || !s->alloc_full) st = st ? st : NOMEM();
      if (cu->n_params > plan->max_args) plan->max_args = cu->n_params;
      plan->kernels++;
    } else {
      s->node = b->g->nodes.data[cu->nodes[0]];
      for (int a = 0; a < s->node->n_attrs; a++)
        if (s->node->attrs[a].kind == AICC_ATTR_GRAPH ||
            s->node->attrs[a].kind == AICC_ATTR_GRAPHS)
          s->serialize = true;
      if (s->serialize) st = capture_step(b, cu->nodes[0], s);
      plan->extern_steps++;
      add_extern_op(plan, s->node->op_type);
    }
    int nd = 0;
    for (uint32_t v = 0; v < b->n_values; v++)
      if (dies[v] > prev && dies[v] <= u) tmp[nd++] = v;
    prev = u;
    s->n_dying = nd;
    s->dying = ids_dup(plan, tmp, nd);
    if (!s->dying && !st) st = NOMEM();
  }
  free(tmp);
  free(dies);
  return st;
}

aicc_status aicc_compile_build_plan(aicc_cbuild *b) {
  aicc_rt_plan *plan = b->plan;
  char *src = NULL;
  size_t len = 0;
  AICC_TRY(mark_views(b));
  AICC_TRY(layout_views(b));
  AICC_TRY(emit_code(b, &src, &len));
  bool hold;
  AICC_TRY(views_hold(b, &hold));
  if (!hold) {
    free(src);
    AICC_TRY(emit_code(b, &src, &len));
  }
  plan->source = src;
  plan->source_len = len;
  if (b->prog->opt.dump_loops) aicc_compile_dump(b, b->prog->opt.dump_loops);
  if (b->prog->opt.strict)
    for (size_t i = 0; i < b->units.len; i++)
      if (!b->units.data[i].is_kernel && !b->units.data[i].is_view) {
        char desc[256];
        return aicc_errorf(AICC_ERR_UNSUPPORTED, "%s does not lower (strict): %s",
                           aicc_node_describe(b->g->nodes.data[b->units.data[i].nodes[0]],
                                              desc, sizeof desc),
                           b->units.data[i].reason ? b->units.data[i].reason : "");
      }
  if (src) AICC_TRY(jit_compile(b, src, len));
  AICC_TRY(make_slots(b));
  AICC_TRY(plan_arena(b));
  return make_steps(b);
}
