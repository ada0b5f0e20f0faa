/* The plan of a partitioned specialization: C for every kernel in one
 * translation unit (a kernel codegen refuses runs as extern steps), one JIT
 * compile, then the steps and where each value lives. Kernel results that
 * later steps read get offsets in one arena, planned over lifetimes counted
 * in steps (a fused kernel reads all its inputs at its one step), with the
 * greedy-by-size assignment of passes/memplan.h. Extern results and graph
 * outputs are tensors each run holds. A Concat whose inputs are consecutive
 * ranges of its output (channels at batch 1) is planned in place: its
 * inputs live inside its output's memory and it has no step. */
#include "compile/compile.h"

#include "codegen/codegen.h"
#include "passes/memplan.h"

#include <stdlib.h>
#include <string.h>

#define NOMEM() aicc_errorf(AICC_ERR_NOMEM, "out of memory")

/* ---- Concats in place ---- */

/* Input i of Concat nd is bytes [off[i], off[i] + its size) of the output
 * when every dim before the axis is 1 (channels at batch 1, in NCHW or
 * NCHW16c). False when it is not so, or a range is empty or not 64-byte
 * aligned (kernels get aligned buffers), or a type is not static whole-byte
 * numbers. */
static bool concat_ranges(const aicc_node *nd, int64_t *off) {
  const aicc_value *out = nd->n_outputs == 1 ? nd->outputs[0] : NULL;
  if (!out || (nd->domain && *nd->domain) || strcmp(nd->op_type, "Concat") != 0) return false;
  const aicc_type *t = &out->type;
  if (t->kind != AICC_KIND_TENSOR || !aicc_type_is_static(t) || t->dtype == AICC_DTYPE_STRING)
    return false;
  size_t elem = aicc_dtype_storage_bytes(t->dtype, 1);
  if (elem == 0 || elem * 2 != aicc_dtype_storage_bytes(t->dtype, 2)) return false; /* sub-byte */
  int64_t axis = aicc_node_attr_int(nd, "axis", INT64_MIN);
  if (axis < 0 && axis != INT64_MIN) axis += t->rank;
  if (axis < 0 || axis >= t->rank) return false;
  int64_t inner = (int64_t)elem;
  for (int d = 0; d < t->rank; d++) {
    if (d < axis && t->dims[d].size != 1) return false;
    if (d > axis) inner *= t->dims[d].size;
  }
  int64_t at = 0;
  for (int i = 0; i < nd->n_inputs; i++) {
    const aicc_type *vt = nd->inputs[i] ? &nd->inputs[i]->type : NULL;
    if (!vt || vt->kind != AICC_KIND_TENSOR || !aicc_type_is_static(vt) ||
        vt->dtype != t->dtype || vt->rank != t->rank || vt->dims[axis].size <= 0 || inner <= 0)
      return false;
    off[i] = at * inner;
    if (off[i] % AICC_MEMPLAN_ALIGN != 0) return false;
    at += vt->dims[axis].size;
  }
  return at == t->dims[axis].size;
}

/* Marks single-Concat kernel units in place when each input is the result
 * of a kernel unit (or of such a Concat), is no graph output, appears once
 * and is claimed by no other Concat. This runs before code, so their
 * kernels are never generated; make_slots confirms each (a producer that
 * codegen turns extern afterwards leaves its result outside the arena). */
static aicc_status mark_views(aicc_cbuild *b) {
  int max_in = 1;
  for (int i = 0; i < b->n_nodes; i++)
    if (b->g->nodes.data[i]->n_inputs > max_in) max_in = b->g->nodes.data[i]->n_inputs;
  bool *claimed = calloc(b->n_values ? b->n_values : 1, sizeof *claimed);
  int64_t *off = malloc(sizeof *off * (size_t)max_in);
  if (!claimed || !off) {
    free(claimed);
    free(off);
    return NOMEM();
  }
  for (size_t u = 0; u < b->units.len; u++) {
    aicc_cunit *cu = &b->units.data[u];
    if (!cu->is_kernel || cu->n_nodes != 1) continue;
    const aicc_node *nd = b->g->nodes.data[cu->nodes[0]];
    if (!concat_ranges(nd, off) || b->graph_out[nd->outputs[0]->id]) continue;
    bool ok = true;
    for (int i = 0; i < nd->n_inputs && ok; i++) {
      uint32_t v = nd->inputs[i]->id;
      int32_t p = b->producer[v];
      const aicc_cunit *pu =
          p >= 0 && !b->skip[p] && b->unit_of[p] >= 0 ? &b->units.data[b->unit_of[p]] : NULL;
      ok = pu && (pu->is_kernel || pu->is_view) && !b->graph_out[v] && !claimed[v];
      for (int j = 0; j < i && ok; j++) ok = nd->inputs[j]->id != v;
    }
    if (!ok) continue;
    for (int i = 0; i < nd->n_inputs; i++) claimed[nd->inputs[i]->id] = true;
    cu->is_kernel = false;
    cu->is_view = true;
  }
  free(off);
  free(claimed);
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

/* Confirms in-place Concat cu now that its inputs have their places: when
 * every input is in the arena, each lives inside the output (view_of,
 * view_off), which is in the arena; else (a producer became extern) the
 * Concat runs as an extern step. */
static aicc_status place_view(aicc_cbuild *b, aicc_cunit *cu) {
  const aicc_node *nd = b->g->nodes.data[cu->nodes[0]];
  int64_t *off = malloc(sizeof *off * ((size_t)nd->n_inputs + 1));
  if (!off) return NOMEM();
  bool ok = concat_ranges(nd, off);
  for (int i = 0; i < nd->n_inputs && ok; i++) {
    uint32_t v = nd->inputs[i]->id;
    ok = b->plan->slots[v].loc == AICC_RT_LOC_ARENA && b->view_of[v] < 0;
  }
  uint32_t out = nd->outputs[0]->id;
  if (ok) {
    for (int i = 0; i < nd->n_inputs; i++) {
      b->view_of[nd->inputs[i]->id] = out;
      b->view_off[nd->inputs[i]->id] = off[i];
    }
    b->plan->slots[out].loc = AICC_RT_LOC_ARENA;
    b->plan->slots[out].in_place = true;
    b->plan->views++;
  } else {
    cu->is_view = false;
    cu->reason = "a Concat planned in place whose inputs are not all kernel results";
  }
  free(off);
  return NULL;
}

static aicc_status make_slots(aicc_cbuild *b) {
  aicc_rt_plan *plan = b->plan;
  const aicc_graph *g = b->g;
  plan->n_slots = b->n_values;
  plan->slots = AICC_ARENA_ARRAY(&plan->mem, aicc_rt_slot, b->n_values ? b->n_values : 1);
  b->view_of = AICC_ARENA_ARRAY(&b->mem, int64_t, b->n_values ? b->n_values : 1);
  b->view_off = AICC_ARENA_ARRAY(&b->mem, int64_t, b->n_values ? b->n_values : 1);
  if (!plan->slots || !b->view_of || !b->view_off) return NOMEM();
  for (uint32_t v = 0; v < b->n_values; v++) b->view_of[v] = -1;
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
      if (cu->is_view) AICC_TRY(place_view(b, cu));
      if (cu->is_view) continue;
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
    int64_t r = v;
    while (b->view_of[r] >= 0) r = b->view_of[r];
    aicc_memplan_buf *root = &bufs[buf_of[r]];
    int32_t first = b->unit_of[b->producer[v]], last = last_use(b, v, first);
    if (first < root->first) root->first = first;
    if (last > root->last) root->last = last;
  }
  aicc_status st = aicc_memplan_assign(bufs, n, &plan->arena_bytes);
  for (uint32_t v = 0; v < b->n_values && !st; v++) {
    if (plan->slots[v].loc != AICC_RT_LOC_ARENA) continue;
    int64_t r = v, at = 0;
    for (; b->view_of[r] >= 0; r = b->view_of[r]) at += b->view_off[r];
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
  AICC_TRY(emit_code(b, &src, &len));
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
